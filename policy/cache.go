package policy

import (
	"hash/maphash"
	"sync"
)

// decisionKey identifies one decision. It is a comparable struct rather
// than a concatenated string so a lookup does not allocate.
type decisionKey struct {
	roles  string // Roles.key
	user   string // set only when the decision depends on the user name
	tenant string
	act    Action
}

const cacheShards = 64

// defaultCacheSize is the default bound on cached decisions.
const defaultCacheSize = 1 << 18

// decisionCache is a sharded map of decisions. A shard that reaches its
// bound is dropped wholesale: simple, bounded, and cheap to refill since
// the engine recomputes a decision in microseconds.
type decisionCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[decisionKey]bool
	_  [32]byte // keep hot shards on separate cache lines
}

func newDecisionCache(size int) *decisionCache {
	per := max(size/cacheShards, 1)
	c := &decisionCache{seed: maphash.MakeSeed(), perShard: per}
	for i := range c.shards {
		c.shards[i].m = make(map[decisionKey]bool)
	}
	return c
}

func (c *decisionCache) shard(k *decisionKey) *cacheShard {
	h := maphash.String(c.seed, k.tenant) ^ maphash.String(c.seed, k.roles)
	return &c.shards[h%cacheShards]
}

func (c *decisionCache) get(k decisionKey) (allowed, ok bool) {
	s := c.shard(&k)
	s.mu.RLock()
	allowed, ok = s.m[k]
	s.mu.RUnlock()
	return allowed, ok
}

func (c *decisionCache) put(k decisionKey, allowed bool) {
	s := c.shard(&k)
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[k] = allowed
	s.mu.Unlock()
}

// len returns the number of cached decisions (for tests).
func (c *decisionCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
