package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// hashPassword hashes pw at bcrypt.MinCost, so tests stay fast.
func hashPassword(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw, bcrypt.MinCost)
	if err != nil {
		t.Fatalf("HashPassword: %v", err)
	}
	return h
}

func TestHashPassword(t *testing.T) {
	tests := []struct {
		name    string
		pw      string
		cost    int
		wantErr error
		want    string // part of the error message
	}{
		{"eight bytes", "12345678", bcrypt.MinCost, nil, ""},
		{"72 bytes", strings.Repeat("x", 72), bcrypt.MinCost, nil, ""},
		{"multi-byte characters", "pässwörd✓", bcrypt.MinCost, nil, ""},
		{"with colon and NUL", "a:b\x00c:d-long", bcrypt.MinCost, nil, ""},
		{"empty", "", bcrypt.MinCost, ErrInvalidPassword, "shorter than 8 bytes"},
		{"seven bytes", "1234567", bcrypt.MinCost, ErrInvalidPassword, "shorter than 8 bytes"},
		{"73 bytes", strings.Repeat("x", 73), bcrypt.MinCost, ErrInvalidPassword, "longer than 72 bytes"},
		{"cost too low", "12345678", bcrypt.MinCost - 1, ErrConfig, "bcrypt cost 3"},
		{"cost too high", "12345678", bcrypt.MaxCost + 1, ErrConfig, "bcrypt cost 32"},
		{"negative cost", "12345678", -1, ErrConfig, "bcrypt cost -1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := HashPassword(tt.pw, tt.cost)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("HashPassword error = %v, want one wrapping %v", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not say %q", err, tt.want)
				}
				if tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
					t.Errorf("error %q contains the password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("HashPassword: %v", err)
			}
			if cost, err := bcrypt.Cost([]byte(h)); err != nil || cost != tt.cost {
				t.Errorf("hash cost = %d, %v; want %d", cost, err, tt.cost)
			}
			if !CheckPassword(h, tt.pw) {
				t.Errorf("CheckPassword refuses the password just hashed")
			}
			if h2 := hashPassword(t, tt.pw); h2 == h {
				t.Errorf("two hashes of one password are equal: no salt")
			}
		})
	}
}

func TestHashPasswordDefaultCost(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes at the default bcrypt cost")
	}
	h, err := HashPassword("12345678", 0)
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != DefaultPasswordCost {
		t.Errorf("cost 0 hashed at %d, want %d", cost, DefaultPasswordCost)
	}
}

func TestCheckPassword(t *testing.T) {
	const pw = "correct horse battery"
	h := hashPassword(t, pw)
	long := strings.Repeat("y", 72)
	hLong := hashPassword(t, long)
	// Hashes of other tools: $2b$ and $2y$ are the same algorithm, and
	// those tools may have hashed passwords shorter than MinPasswordBytes
	// (OpenSearch's demo admin:admin).
	short, err := bcrypt.GenerateFromPassword([]byte("admin"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	h2y := "$2y$" + h[4:]
	h2b := "$2b$" + h[4:]
	tests := []struct {
		name, hash, pw string
		want           bool
	}{
		{"right", h, pw, true},
		{"wrong", h, "correct horse battery!", false},
		{"case differs", h, strings.ToUpper(pw), false},
		{"prefix", h, pw[:8], false},
		{"empty password", h, "", false},
		{"$2y$ hash", h2y, pw, true},
		{"$2b$ hash", h2b, pw, true},
		{"short password of another tool", string(short), "admin", true},
		{"72 bytes", hLong, long, true},
		{"73 bytes that bcrypt would truncate to the right 72", hLong, long + "z", false},
		{"empty hash", "", pw, false},
		{"malformed hash", "$2a$04$notahash", pw, false},
		{"plain text stored", pw, pw, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDummyCheck(t *testing.T) {
	// The dummy hash must cost what a default hash costs, or the time of
	// a failure would tell whether the user exists.
	if cost, err := bcrypt.Cost([]byte(dummyHash)); err != nil || cost != DefaultPasswordCost {
		t.Fatalf("dummy hash cost = %d, %v; want %d", cost, err, DefaultPasswordCost)
	}
	if testing.Short() {
		return
	}
	for _, pw := range []string{"", "password", strings.Repeat("z", 100)} {
		DummyCheck(pw) // must not panic
	}
}

func TestBasicCredentials(t *testing.T) {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	tests := []struct {
		name, header string
		user, pass   string
		ok           bool
	}{
		{"plain", "Basic " + enc("alice:secret"), "alice", "secret", true},
		{"lower-case scheme", "basic " + enc("alice:secret"), "alice", "secret", true},
		{"upper-case scheme", "BASIC " + enc("alice:secret"), "alice", "secret", true},
		{"colons in password", "Basic " + enc("alice:a:b:c"), "alice", "a:b:c", true},
		{"empty password", "Basic " + enc("alice:"), "alice", "", true},
		{"e-mail user", "Basic " + enc("john@doe.com:pw"), "john@doe.com", "pw", true},
		{"UTF-8", "Basic " + enc("jürgen:pässwörd"), "jürgen", "pässwörd", true},
		{"extra spaces", "  Basic   " + enc("alice:secret") + "  ", "alice", "secret", true},
		{"spaces in password kept", "Basic " + enc("alice: secret "), "alice", " secret ", true},
		{"empty", "", "", "", false},
		{"scheme only", "Basic", "", "", false},
		{"scheme and space", "Basic ", "", "", false},
		{"bearer", "Bearer " + enc("alice:secret"), "", "", false},
		{"scheme glued", "Basic" + enc("alice:secret"), "", "", false},
		{"no colon", "Basic " + enc("alice"), "", "", false},
		{"empty user", "Basic " + enc(":secret"), "", "", false},
		{"user with leading space", "Basic " + enc(" alice:secret"), "", "", false},
		{"user with trailing space", "Basic " + enc("alice :secret"), "", "", false},
		{"user with NUL", "Basic " + enc("alice\x00:secret"), "", "", false},
		{"user with newline", "Basic " + enc("ali\nce:secret"), "", "", false},
		{"user too long", "Basic " + enc(strings.Repeat("a", MaxSubjectBytes+1)+":secret"), "", "", false},
		{"not base64", "Basic alice:secret", "", "", false},
		{"URL base64", "Basic " + base64.URLEncoding.EncodeToString([]byte("a?>:~~~?")), "", "", false},
		{"unpadded base64", "Basic " + strings.TrimRight(enc("alice:secre"), "="), "", "", false},
		{"two encodings", "Basic " + enc("alice:secret") + " " + enc("bob:x"), "", "", false},
		{"header too large", "Basic " + enc("alice:"+strings.Repeat("p", maxTokenSize)), "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user, pass, ok := BasicCredentials(tt.header)
			if user != tt.user || pass != tt.pass || ok != tt.ok {
				t.Errorf("BasicCredentials(%q) = %q, %q, %v; want %q, %q, %v", tt.header, user, pass, ok, tt.user, tt.pass, tt.ok)
			}
		})
	}
}

// countingCache returns a PasswordCache on clock whose bcrypt checks are
// counted.
func countingCache(t *testing.T, opts PasswordCacheOptions, clock *fakeClock) (*PasswordCache, *atomic.Int64) {
	t.Helper()
	c := NewPasswordCache(opts)
	var n atomic.Int64
	c.now = clock.now
	c.check = func(hash, pw string) bool {
		n.Add(1)
		return CheckPassword(hash, pw)
	}
	return c, &n
}

func TestPasswordCache(t *testing.T) {
	const ttl = time.Minute
	aliceHash := hashPassword(t, "alice-password")
	aliceNew := hashPassword(t, "alice-new-password")
	aliceSame := hashPassword(t, "alice-password") // same password, new salt
	bobHash := hashPassword(t, "bob-password")
	type step struct {
		name       string
		after      time.Duration // clock advance before the step
		user, pw   string
		hash       string
		want       bool
		wantBcrypt bool // whether the step costs a bcrypt
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"hit after a miss", []step{
			{"miss", 0, "alice", "alice-password", aliceHash, true, true},
			{"hit", time.Second, "alice", "alice-password", aliceHash, true, false},
			{"hit again", 58 * time.Second, "alice", "alice-password", aliceHash, true, false},
		}},
		{"wrong password is checked and not cached", []step{
			{"wrong", 0, "alice", "guess", aliceHash, false, true},
			{"wrong again", 0, "alice", "guess", aliceHash, false, true},
			{"right", 0, "alice", "alice-password", aliceHash, true, true},
			{"wrong after right", 0, "alice", "guess", aliceHash, false, true},
			{"right still cached", 0, "alice", "alice-password", aliceHash, true, false},
		}},
		{"changed hash invalidates", []step{
			{"old password", 0, "alice", "alice-password", aliceHash, true, true},
			{"old password against new hash", 0, "alice", "alice-password", aliceNew, false, true},
			{"new password", 0, "alice", "alice-new-password", aliceNew, true, true},
			{"new password cached", 0, "alice", "alice-new-password", aliceNew, true, false},
			{"old hash no longer cached", 0, "alice", "alice-password", aliceHash, true, true},
		}},
		{"same password rehashed", []step{
			{"first hash", 0, "alice", "alice-password", aliceHash, true, true},
			{"new salt misses", 0, "alice", "alice-password", aliceSame, true, true},
		}},
		{"expiry", []step{
			{"miss", 0, "alice", "alice-password", aliceHash, true, true},
			{"just before expiry", ttl - time.Nanosecond, "alice", "alice-password", aliceHash, true, false},
			{"at expiry", time.Nanosecond, "alice", "alice-password", aliceHash, true, true},
			{"renewed", ttl - time.Nanosecond, "alice", "alice-password", aliceHash, true, false},
		}},
		{"users are separate", []step{
			{"alice", 0, "alice", "alice-password", aliceHash, true, true},
			{"bob", 0, "bob", "bob-password", bobHash, true, true},
			{"alice's password for bob", 0, "bob", "alice-password", bobHash, false, true},
			{"alice's hash and password under bob's name", 0, "bob", "alice-password", aliceHash, true, true},
			{"bob cached", 0, "bob", "alice-password", aliceHash, true, false},
			{"alice cached", 0, "alice", "alice-password", aliceHash, true, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(t0)
			c, bcrypts := countingCache(t, PasswordCacheOptions{TTL: ttl}, clock)
			for _, s := range tt.steps {
				clock.set(clock.now().Add(s.after))
				before := bcrypts.Load()
				if got := c.Check(s.user, s.pw, s.hash); got != s.want {
					t.Errorf("%s: Check = %v, want %v", s.name, got, s.want)
				}
				if spent := bcrypts.Load() != before; spent != s.wantBcrypt {
					t.Errorf("%s: bcrypt spent = %v, want %v", s.name, spent, s.wantBcrypt)
				}
			}
		})
	}
}

func TestPasswordCacheDefaultsAndNil(t *testing.T) {
	c := NewPasswordCache(PasswordCacheOptions{Size: -1, TTL: -time.Second})
	if c.size != DefaultPasswordCacheSize || c.ttl != DefaultPasswordCacheTTL {
		t.Errorf("size, ttl = %d, %v; want the defaults", c.size, c.ttl)
	}
	h := hashPassword(t, "password")
	var none *PasswordCache
	if !none.Check("alice", "password", h) || none.Check("alice", "wrong-password", h) {
		t.Error("a nil PasswordCache does not check passwords")
	}
}

func TestPasswordCacheBounded(t *testing.T) {
	const size = 4
	clock := newFakeClock(t0)
	c, bcrypts := countingCache(t, PasswordCacheOptions{Size: size, TTL: time.Minute}, clock)
	h := hashPassword(t, "password")
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}
	for _, u := range users {
		if !c.Check(u, "password", h) {
			t.Fatalf("Check(%s) = false", u)
		}
		if n := c.len(); n > size {
			t.Fatalf("cache holds %d users, bound %d", n, size)
		}
	}
	// The latest user is remembered.
	before := bcrypts.Load()
	c.Check(users[len(users)-1], "password", h)
	if bcrypts.Load() != before {
		t.Error("the latest user was evicted on insertion")
	}
	// Expired entries go first: after the TTL, the next insertion frees
	// all of them.
	clock.set(clock.now().Add(time.Minute))
	c.Check("fresh", "password", h)
	if n := c.len(); n != 1 {
		t.Errorf("cache holds %d users after inserting into a cache of expired entries, want 1", n)
	}
}

func TestPasswordCacheKeepsNoPassword(t *testing.T) {
	const pw = "plain-text-password"
	c := NewPasswordCache(PasswordCacheOptions{})
	c.check = func(string, string) bool { return true }
	c.Check("alice", pw, "stored-hash")
	for user, e := range c.m {
		if user != "alice" || strings.Contains(string(e.sum[:]), pw) {
			t.Errorf("cache entry %q: %x", user, e.sum)
		}
	}
	// Another cache uses another HMAC key: entries cannot be compared
	// across processes or precomputed.
	other := NewPasswordCache(PasswordCacheOptions{})
	if c.sum("alice", pw, "h") == other.sum("alice", pw, "h") {
		t.Error("two caches share an HMAC key")
	}
	// Length prefixes: moving bytes between user and password changes
	// the sum.
	if c.sum("ab", "c", "h") == c.sum("a", "bc", "h") || c.sum("a\x00b", "c", "h") == c.sum("a", "b\x00c", "h") {
		t.Error("sum is ambiguous about where the user name ends")
	}
}

func TestPasswordCacheConcurrent(t *testing.T) {
	c := NewPasswordCache(PasswordCacheOptions{Size: 8})
	h := hashPassword(t, "password")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				user := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}[(g+i)%10]
				pw := "password"
				if i%7 == 0 {
					pw = "wrong-password"
				}
				if got := c.Check(user, pw, h); got != (pw == "password") {
					t.Errorf("Check(%s, %s) = %v", user, pw, got)
				}
			}
		})
	}
	wg.Wait()
}
