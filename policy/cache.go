package policy

import (
	"hash/maphash"
	"sync"
)

// decisionKey identifies one tenant decision (Engine.Allowed).
type decisionKey struct {
	roles  string // Roles.key
	user   string // set only when the decision depends on the user name
	tenant string
	act    Action
}

func (k *decisionKey) hash(seed maphash.Seed) uint64 {
	return maphash.String(seed, k.tenant) ^ maphash.String(seed, k.roles)
}

const cacheShards = 64

// defaultCacheSize is the default bound on cached decisions.
const defaultCacheSize = 1 << 18

// decisionCache is a sharded map of decisions keyed by K, a comparable
// struct rather than a concatenated string so a lookup does not allocate.
// The caller hashes the key's most selective fields with the cache's seed
// to pick the shard (a method call through a type parameter costs more
// than a concrete one on the cached path). A shard that reaches its bound
// is dropped wholesale: simple, bounded, and cheap to refill since the
// engine recomputes a decision in microseconds.
type decisionCache[K comparable] struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard[K]
}

type cacheShard[K comparable] struct {
	mu sync.RWMutex
	m  map[K]bool
	_  [32]byte // keep hot shards on separate cache lines
}

func newDecisionCache[K comparable](size int) *decisionCache[K] {
	per := max(size/cacheShards, 1)
	c := &decisionCache[K]{seed: maphash.MakeSeed(), perShard: per}
	for i := range c.shards {
		c.shards[i].m = make(map[K]bool)
	}
	return c
}

// get returns the decision cached under k, whose hash is h.
func (c *decisionCache[K]) get(k K, h uint64) (allowed, ok bool) {
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	allowed, ok = s.m[k]
	s.mu.RUnlock()
	return allowed, ok
}

// put caches a decision under k, whose hash is h.
func (c *decisionCache[K]) put(k K, h uint64, allowed bool) {
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	if len(s.m) >= c.perShard {
		clear(s.m)
	}
	s.m[k] = allowed
	s.mu.Unlock()
}

// len returns the number of cached decisions (for tests).
func (c *decisionCache[K]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}
