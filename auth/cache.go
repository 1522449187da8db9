package auth

import (
	"crypto/sha256"
	"sync"
	"time"
	"unsafe"
)

// verifiedCacheSize bounds the number of verified tokens a Verifier
// remembers.
const verifiedCacheSize = 10_000

const tokenCacheShards = 16

// tokenKey is the SHA-256 of a token. The cache never holds the token
// itself, so a heap dump of the gateway does not yield usable bearer
// tokens, and the key is a fixed-size comparable array.
type tokenKey [sha256.Size]byte

// sumToken returns the cache key of token. It hashes the string's bytes
// in place: Sum256 only reads its input and keeps no reference to it, so
// the copy a []byte conversion would make (and allocate) is not needed.
func sumToken(token string) tokenKey {
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(token), len(token)))
}

// verified is what the cache remembers of a token that passed every check:
// the principal and the times a hit must check again.
type verified struct {
	principal Principal
	exp       time.Time
	nbf, iat  time.Time // zero when the token has none
}

// validAt applies the jwt library's time rules with leeway skew: the token
// is valid when now < exp+skew, now >= nbf-skew and now >= iat-skew.
func (e *verified) validAt(now time.Time, skew time.Duration) bool {
	return now.Before(e.exp.Add(skew)) &&
		(e.nbf.IsZero() || !now.Before(e.nbf.Add(-skew))) &&
		(e.iat.IsZero() || !now.Before(e.iat.Add(-skew)))
}

// tokenCache is a bounded, sharded map of verified tokens, safe for
// concurrent use. Only tokens that passed every check are added, so
// nobody without a valid token can fill it. A full shard evicts one
// arbitrary entry (Go randomises map iteration) per insertion.
type tokenCache struct {
	perShard int
	shards   [tokenCacheShards]tokenShard
}

type tokenShard struct {
	mu sync.RWMutex
	m  map[tokenKey]verified
	_  [32]byte // keep hot shards on separate cache lines
}

func newTokenCache(size int) *tokenCache {
	c := &tokenCache{perShard: max(size/tokenCacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[tokenKey]verified)
	}
	return c
}

func (c *tokenCache) shard(k *tokenKey) *tokenShard {
	return &c.shards[k[0]%tokenCacheShards] // SHA-256 bytes are uniform
}

func (c *tokenCache) get(k *tokenKey) (verified, bool) {
	s := c.shard(k)
	s.mu.RLock()
	e, ok := s.m[*k]
	s.mu.RUnlock()
	return e, ok
}

func (c *tokenCache) put(k *tokenKey, e verified) {
	s := c.shard(k)
	s.mu.Lock()
	if _, ok := s.m[*k]; !ok && len(s.m) >= c.perShard {
		for old := range s.m {
			delete(s.m, old)
			break
		}
	}
	s.m[*k] = e
	s.mu.Unlock()
}

func (c *tokenCache) remove(k *tokenKey) {
	s := c.shard(k)
	s.mu.Lock()
	delete(s.m, *k)
	s.mu.Unlock()
}

// len returns the number of cached tokens (for tests).
func (c *tokenCache) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// size returns the bound on cached tokens (for tests).
func (c *tokenCache) size() int { return c.perShard * tokenCacheShards }
