package auth

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeClock is a settable clock for Verifier.now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.set(t)
	return c
}

func (c *fakeClock) now() time.Time  { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) set(t time.Time) { c.ns.Store(t.UnixNano()) }

// clockVerifier returns an HMAC verifier with the given skew whose clock
// is c.
func clockVerifier(t *testing.T, skew time.Duration, c *fakeClock) *Verifier {
	t.Helper()
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(keys(t).secret)}, ClockSkew: skew})
	v.now = c.now
	return v
}

// t0 is long past, so only the fake clock can make these tokens valid.
var t0 = time.Unix(1_700_000_000, 0)

func TestVerifyCachesVerifiedTokens(t *testing.T) {
	k := keys(t)
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(k.secret)}})
	tok := sign(t, jwt.SigningMethodHS256, k.secret, claims())
	p1, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if n := v.cache.len(); n != 1 {
		t.Fatalf("cache holds %d entries after one verified token, want 1", n)
	}
	p1.BackendRoles[0] = "admin" // the caller's copy; must not reach the cache
	p2, err := v.Verify(tok)
	if err != nil || p2.Name != "alice" || !slices.Equal(p2.BackendRoles, []string{"analyst", "reader"}) {
		t.Fatalf("cached Verify = %+v, %v", p2, err)
	}
	// Failures are not cached: a flood of bad tokens cannot fill it.
	for _, bad := range []string{
		sign(t, jwt.SigningMethodHS256, k.otherSecret, claims()),
		sign(t, jwt.SigningMethodHS256, k.secret, claims(set("exp", in(-time.Hour)))),
		sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", " alice"))),
	} {
		if _, err := v.Verify(bad); err == nil {
			t.Fatal("bad token accepted")
		}
	}
	if n := v.cache.len(); n != 1 {
		t.Errorf("cache holds %d entries after failures, want 1", n)
	}
}

// TestCachedTokenExpires checks that a cache hit re-checks exp against the
// clock, with the configured skew, exactly as a full verification does.
func TestCachedTokenExpires(t *testing.T) {
	k := keys(t)
	const skew = 30 * time.Second
	clock := newFakeClock(t0)
	v := clockVerifier(t, skew, clock)
	tok := sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{"sub": "alice", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()})
	steps := []struct {
		at      time.Time
		wantErr string
	}{
		{t0, ""},
		{t0.Add(time.Hour), ""}, // cached, at exp
		{t0.Add(time.Hour + skew - time.Second), ""}, // cached, within skew
		{t0.Add(time.Hour + skew), "token expired"},  // cached entry expired
		{t0.Add(time.Hour + skew + time.Hour), "token expired"},
		{t0.Add(time.Minute), ""}, // clock set back: valid again
	}
	for i, s := range steps {
		clock.set(s.at)
		_, err := v.Verify(tok)
		if s.wantErr == "" && err != nil {
			t.Fatalf("step %d: Verify: %v", i, err)
		}
		if s.wantErr != "" && (err == nil || !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), s.wantErr)) {
			t.Fatalf("step %d: Verify = %v, want %q", i, err, s.wantErr)
		}
		if i == 0 && v.cache.len() != 1 {
			t.Fatalf("token not cached")
		}
		if s.wantErr != "" && v.cache.len() != 0 {
			t.Errorf("step %d: expired token still cached", i)
		}
	}
}

// TestCachedTokenNotYetValid checks that a cache hit re-checks nbf and iat
// when the clock goes back.
func TestCachedTokenNotYetValid(t *testing.T) {
	k := keys(t)
	const skew = 30 * time.Second
	for _, claim := range []struct{ name, want string }{{"nbf", "token is not valid yet"}, {"iat", "token is issued in the future"}} {
		t.Run(claim.name, func(t *testing.T) {
			clock := newFakeClock(t0.Add(10 * time.Minute))
			v := clockVerifier(t, skew, clock)
			tok := sign(t, jwt.SigningMethodHS256, k.secret, jwt.MapClaims{
				"sub": "alice", claim.name: t0.Add(10 * time.Minute).Unix(), "exp": t0.Add(time.Hour).Unix(),
			})
			if _, err := v.Verify(tok); err != nil || v.cache.len() != 1 {
				t.Fatalf("Verify: %v (cached %d)", err, v.cache.len())
			}
			clock.set(t0.Add(10*time.Minute - skew)) // still within skew
			if _, err := v.Verify(tok); err != nil {
				t.Fatalf("within skew: %v", err)
			}
			clock.set(t0)
			if _, err := v.Verify(tok); err == nil || !strings.Contains(err.Error(), claim.want) {
				t.Fatalf("before %s: Verify = %v, want %q", claim.name, err, claim.want)
			}
		})
	}
}

func TestTokenCacheBounded(t *testing.T) {
	k := keys(t)
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(k.secret)}})
	if v.cache.size() != verifiedCacheSize {
		t.Errorf("default bound = %d, want %d", v.cache.size(), verifiedCacheSize)
	}
	v.cache = newTokenCache(32)
	for i := range 500 {
		tok := sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "u"+strconv.Itoa(i))))
		p, err := v.Verify(tok)
		if err != nil || p.Name != "u"+strconv.Itoa(i) {
			t.Fatalf("Verify %d = %+v, %v", i, p, err)
		}
		if n := v.cache.len(); n > 32 {
			t.Fatalf("cache holds %d entries, bound 32", n)
		}
	}
}

// TestConcurrentVerifyWithEviction runs more tokens than the cache holds
// through one Verifier from several goroutines (run with -race).
func TestConcurrentVerifyWithEviction(t *testing.T) {
	k := keys(t)
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(k.secret)}})
	v.cache = newTokenCache(16)
	toks := make([]string, 64)
	for i := range toks {
		toks[i] = sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "u"+strconv.Itoa(i))))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for r := range 200 {
				i := (g*17 + r*7) % len(toks)
				p, err := v.Verify(toks[i])
				if err != nil || p.Name != "u"+strconv.Itoa(i) {
					t.Errorf("Verify = %+v, %v", p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
