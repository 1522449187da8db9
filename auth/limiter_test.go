package auth

import (
	"strconv"
	"sync"
	"testing"
	"time"
)

func newTestLimiter(c *fakeClock, user, ip, keys int) *Limiter {
	return NewLimiter(LimiterOptions{UserLimit: user, IPLimit: ip, Window: time.Minute, Block: 5 * time.Minute, MaxKeys: keys, Clock: c.now})
}

func TestLimiterBlocksAndExpires(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name        string
		user, ip    int
		fail        func(l *Limiter, i int)
		check       [2]string // user, ip asked about after the failures
		wantBlocked bool
	}{
		{"user limit", 3, 0, func(l *Limiter, i int) { l.Failed("bob", "10.0.0."+strconv.Itoa(i)) }, [2]string{"bob", "10.0.0.99"}, true},
		{"user limit leaves others", 3, 0, func(l *Limiter, i int) { l.Failed("bob", "10.0.0.1") }, [2]string{"carol", "10.0.0.1"}, false},
		{"ip limit", 0, 3, func(l *Limiter, i int) { l.Failed("u"+strconv.Itoa(i), "10.0.0.1") }, [2]string{"carol", "10.0.0.1"}, true},
		{"ip limit leaves others", 0, 3, func(l *Limiter, i int) { l.Failed("u"+strconv.Itoa(i), "10.0.0.1") }, [2]string{"carol", "10.0.0.2"}, false},
		{"limits 0 disable", 0, 0, func(l *Limiter, i int) { l.Failed("bob", "10.0.0.1") }, [2]string{"bob", "10.0.0.1"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newFakeClock(start)
			l := newTestLimiter(c, tt.user, tt.ip, 0)
			for i := range 2 {
				tt.fail(l, i)
			}
			if _, _, b := l.Blocked(tt.check[0], tt.check[1]); b {
				t.Fatal("blocked before the limit")
			}
			tt.fail(l, 2)
			retry, first, b := l.Blocked(tt.check[0], tt.check[1])
			if b != tt.wantBlocked {
				t.Fatalf("blocked = %v, want %v", b, tt.wantBlocked)
			}
			if !b {
				return
			}
			if !first || retry != 5*time.Minute {
				t.Fatalf("first refusal: first=%v retry=%v, want true 5m", first, retry)
			}
			c.set(start.Add(time.Minute))
			if retry, first, b := l.Blocked(tt.check[0], tt.check[1]); !b || first || retry != 4*time.Minute {
				t.Fatalf("second refusal: blocked=%v first=%v retry=%v, want true false 4m", b, first, retry)
			}
			c.set(start.Add(5 * time.Minute))
			if _, _, b := l.Blocked(tt.check[0], tt.check[1]); b {
				t.Fatal("still blocked after the block expired")
			}
		})
	}
}

func TestLimiterWindow(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newFakeClock(start)
	l := newTestLimiter(c, 3, 0, 0)
	l.Failed("bob", "ip")
	l.Failed("bob", "ip")
	c.set(start.Add(time.Minute)) // the window has passed: counting starts again
	l.Failed("bob", "ip")
	l.Failed("bob", "ip")
	if _, _, b := l.Blocked("bob", "ip"); b {
		t.Fatal("failures of an earlier window counted")
	}
	l.Failed("bob", "ip")
	if _, _, b := l.Blocked("bob", "ip"); !b {
		t.Fatal("three failures within the window did not block")
	}
}

func TestLimiterSucceededClearsUser(t *testing.T) {
	c := newFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	l := newTestLimiter(c, 3, 3, 0)
	l.Failed("bob", "ip")
	l.Failed("bob", "ip")
	l.Succeeded("bob")
	l.Failed("bob", "ip2")
	l.Failed("bob", "ip2")
	if _, _, b := l.Blocked("bob", "ip2"); b {
		t.Fatal("failures before a success counted")
	}
	l.Failed("bob", "ip")
	if _, _, b := l.Blocked("carol", "ip"); !b {
		t.Fatal("a success cleared the address's failures too")
	}
}

func TestLimiterNilLimitsNothing(t *testing.T) {
	var l *Limiter
	l.Failed("bob", "ip")
	l.Succeeded("bob")
	if _, _, b := l.Blocked("bob", "ip"); b {
		t.Fatal("nil limiter blocked")
	}
}

func TestLimiterEvictionBound(t *testing.T) {
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newFakeClock(start)
	const keys = 100
	l := newTestLimiter(c, 2, 1_000_000, keys)
	l.Failed("victim", "ip0")
	l.Failed("victim", "ip0") // blocked
	for i := range 10 * keys {
		l.Failed("name"+strconv.Itoa(i), "ip"+strconv.Itoa(i%3))
		if n := l.users.len(); n > keys {
			t.Fatalf("%d user names remembered, bound %d", n, keys)
		}
		if n := len(l.users.byKey); n != l.users.len() {
			t.Fatalf("map holds %d, list %d", n, l.users.len())
		}
	}
	if n := l.ips.len(); n != 3 {
		t.Fatalf("%d addresses remembered, want 3", n)
	}
	if _, _, b := l.Blocked("victim", "ip9"); !b {
		t.Fatal("a flood of new names evicted the blocked one")
	}
	// The oldest unblocked names went first: the newest are remembered.
	if l.users.get("name"+strconv.Itoa(10*keys-1)) == nil || l.users.get("name0") != nil {
		t.Fatal("eviction did not forget the least recently failed")
	}
	// With every entry blocked, the oldest goes.
	l2 := newTestLimiter(c, 1, 0, 3)
	for _, n := range []string{"a", "b", "c", "d"} {
		l2.Failed(n, "ip")
	}
	if l2.users.len() != 3 || l2.users.get("a") != nil || l2.users.get("d") == nil {
		t.Fatalf("full table of blocked names: len %d, a kept %v", l2.users.len(), l2.users.get("a") != nil)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	c := newFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	l := newTestLimiter(c, 5, 50, 64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				u := "u" + strconv.Itoa((g*200+i)%100)
				l.Blocked(u, "ip")
				l.Failed(u, "ip")
				if i%7 == 0 {
					l.Succeeded(u)
				}
			}
		})
	}
	wg.Wait()
	if l.users.len() > 64 {
		t.Fatalf("%d names remembered, bound 64", l.users.len())
	}
}
