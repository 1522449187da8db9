package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits, in bytes.
const (
	// MinPasswordBytes is the shortest password HashPassword accepts.
	MinPasswordBytes = 8
	// MaxPasswordBytes is the longest password HashPassword and
	// CheckPassword accept: bcrypt ignores everything after the 72nd byte,
	// so a longer password would be accepted with any ending.
	MaxPasswordBytes = 72
)

// DefaultPasswordCost is the bcrypt cost HashPassword uses when given 0,
// the same as OpenSearch Security's hash tool (about a quarter of a second
// per hash on current hardware).
const DefaultPasswordCost = 12

// dummyHash is a bcrypt hash, at DefaultPasswordCost, of a password no one
// is given. DummyCheck compares against it.
const dummyHash = "$2a$12$LKJ72DscCawNFo7G1k3u5uYnkNzVeSkquZyNl17aXNW.ogvhd2yae"

// HashPassword returns the bcrypt hash of pw at the given cost (0 means
// DefaultPasswordCost; otherwise bcrypt.MinCost to bcrypt.MaxCost). A
// password shorter than MinPasswordBytes or longer than MaxPasswordBytes is
// refused with an error wrapping ErrInvalidPassword; a cost out of range
// with one wrapping ErrConfig.
func HashPassword(pw string, cost int) (string, error) {
	switch {
	case len(pw) < MinPasswordBytes:
		return "", fmt.Errorf("%w: shorter than %d bytes", ErrInvalidPassword, MinPasswordBytes)
	case len(pw) > MaxPasswordBytes:
		return "", fmt.Errorf("%w: longer than %d bytes, the most bcrypt uses", ErrInvalidPassword, MaxPasswordBytes)
	}
	if cost == 0 {
		cost = DefaultPasswordCost
	}
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return "", fmt.Errorf("%w: bcrypt cost %d is outside %d to %d", ErrConfig, cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hashing password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether pw is the password whose bcrypt hash is
// hash. Hashes made by other tools ($2a$, $2b$, $2y$) are accepted, and so
// are passwords shorter than MinPasswordBytes that such tools hashed. An
// empty password, one longer than MaxPasswordBytes or a malformed hash
// never matches. When there is no hash to check against (unknown user,
// account without a password), call DummyCheck instead so that the
// answer takes as long.
func CheckPassword(hash, pw string) bool {
	if pw == "" || len(pw) > MaxPasswordBytes {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// DummyCheck spends the time of a CheckPassword against a hash of
// DefaultPasswordCost and discards the result. Sign-in calls it for an
// unknown user name (or an account that has no password), so that the
// time a failure takes does not tell whether the user exists.
//
// It matches CheckPassword only for stored hashes of DefaultPasswordCost
// (HashPassword's default, and OpenSearch's): hashes of another cost take
// a different time. Like CheckPassword it returns at once for a password
// that is empty or longer than MaxPasswordBytes, which says nothing about
// the user.
func DummyCheck(pw string) {
	if pw == "" || len(pw) > MaxPasswordBytes {
		return
	}
	_ = bcrypt.CompareHashAndPassword([]byte(dummyHash), []byte(pw))
}

// BasicCredentials returns the user name and password of an Authorization
// header of the form "Basic base64(user:password)" (RFC 7617; scheme
// case-insensitive). The user name ends at the first colon, so the
// password may contain colons. It returns false for another scheme,
// invalid base64, no colon, or a user name that Verify would refuse as a
// subject (empty, control characters, leading or trailing whitespace, see
// MaxSubjectBytes): names are never normalised.
func BasicCredentials(header string) (user, pass string, ok bool) {
	if len(header) > maxTokenSize {
		return "", "", false
	}
	scheme, enc, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	user, pass, found = strings.Cut(string(raw), ":")
	if !found || subjectProblem(user) != "" {
		return "", "", false
	}
	return user, pass, true
}

// Password cache defaults.
const (
	// DefaultPasswordCacheSize is the number of users a PasswordCache
	// remembers when PasswordCacheOptions.Size is 0.
	DefaultPasswordCacheSize = 10_000
	// DefaultPasswordCacheTTL is how long a PasswordCache remembers a
	// verified password when PasswordCacheOptions.TTL is 0.
	DefaultPasswordCacheTTL = 5 * time.Minute
)

// PasswordCacheOptions configures a PasswordCache.
type PasswordCacheOptions struct {
	// Size bounds the number of users remembered; 0 or less means
	// DefaultPasswordCacheSize.
	Size int
	// TTL is how long a verified password is remembered; 0 or less means
	// DefaultPasswordCacheTTL.
	TTL time.Duration
}

// PasswordCache remembers passwords that passed CheckPassword, so that
// HTTP Basic on every request costs a bcrypt only once per TTL. It is safe
// for concurrent use; a nil *PasswordCache checks every time.
//
// For each user it keeps one HMAC-SHA256, under a random key made for
// this cache, of the user name, the password and the stored hash, and
// when it stops being valid. It never keeps the password. Because the
// stored hash is part of the HMAC, a changed password (or any other change
// of the hash) misses at once; the remembered value is compared in
// constant time. Only successful checks are remembered, so wrong
// passwords neither fill the cache nor evict a user's entry.
//
// There is no way to forget a user early, and none is needed: the caller
// reads the user record on every request, refuses a missing or disabled
// user before checking the password and passes the current hash, so a
// deleted, disabled or re-passworded user is never answered from the
// cache.
type PasswordCache struct {
	size  int
	ttl   time.Duration
	key   [32]byte
	now   func() time.Time              // time.Now; tests replace it
	check func(hash, pw string) bool    // CheckPassword; tests count calls
	pool  sync.Pool                     // of hash.Hash (HMAC under key)
	mu    sync.Mutex                    // guards m
	m     map[string]passwordCacheEntry // by user name
}

type passwordCacheEntry struct {
	sum     [sha256.Size]byte
	expires time.Time
}

// NewPasswordCache returns an empty PasswordCache.
func NewPasswordCache(opts PasswordCacheOptions) *PasswordCache {
	c := &PasswordCache{
		size:  opts.Size,
		ttl:   opts.TTL,
		now:   time.Now,
		check: CheckPassword,
		m:     map[string]passwordCacheEntry{},
	}
	if c.size <= 0 {
		c.size = DefaultPasswordCacheSize
	}
	if c.ttl <= 0 {
		c.ttl = DefaultPasswordCacheTTL
	}
	rand.Read(c.key[:]) // never fails (crypto/rand, Go 1.24+)
	c.pool.New = func() any { return hmac.New(sha256.New, c.key[:]) }
	return c
}

// Check reports whether pw is user's password, given the bcrypt hash
// stored for user: from the cache when this user, password and hash were
// verified less than the TTL ago, with CheckPassword otherwise (and then
// remembered if it matched).
func (c *PasswordCache) Check(user, pw, storedHash string) bool {
	if c == nil {
		return CheckPassword(storedHash, pw)
	}
	sum := c.sum(user, pw, storedHash)
	now := c.now()
	c.mu.Lock()
	e, found := c.m[user]
	c.mu.Unlock()
	if found && now.Before(e.expires) && subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1 {
		return true
	}
	if !c.check(storedHash, pw) {
		return false
	}
	c.put(user, passwordCacheEntry{sum: sum, expires: now.Add(c.ttl)})
	return true
}

// sum returns the HMAC of user, pw and storedHash. The lengths of user
// and pw are written first, so no two triples give the same input.
func (c *PasswordCache) sum(user, pw, storedHash string) [sha256.Size]byte {
	h := c.pool.Get().(hash.Hash)
	h.Reset()
	var n [binary.MaxVarintLen64]byte
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(user)))])
	h.Write([]byte(user))
	h.Write(n[:binary.PutUvarint(n[:], uint64(len(pw)))])
	h.Write([]byte(pw))
	h.Write([]byte(storedHash))
	var out [sha256.Size]byte
	h.Sum(out[:0])
	h.Reset() // drop the password-derived state before pooling
	c.pool.Put(h)
	return out
}

// put remembers e for user. A full cache first drops its expired entries
// and, if that frees nothing, one arbitrary entry (Go randomises map
// iteration).
func (c *PasswordCache) put(user string, e passwordCacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, found := c.m[user]; !found && len(c.m) >= c.size {
		now := c.now()
		for u, old := range c.m {
			if !now.Before(old.expires) {
				delete(c.m, u)
			}
		}
		for u := range c.m {
			if len(c.m) < c.size {
				break
			}
			delete(c.m, u)
		}
	}
	c.m[strings.Clone(user)] = e
}

// len returns the number of remembered users (for tests).
func (c *PasswordCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
