package auth

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// DefaultLimiterKeys is how many user names, and how many client
// addresses, a Limiter remembers when LimiterOptions.MaxKeys is 0.
const DefaultLimiterKeys = 10_000

// evictScan is how many of the least recently failed entries eviction
// looks through for one that is not blocked, so a flood of new names
// does not lift the block of the one under attack.
const evictScan = 16

// LimiterOptions configures a Limiter.
type LimiterOptions struct {
	// UserLimit is the number of failed password attempts for one user
	// name within Window that blocks that name; 0 disables the limit.
	UserLimit int
	// IPLimit is the number of failed password attempts from one client
	// address within Window that blocks that address; 0 disables it.
	IPLimit int
	// Window is how long failures count toward a limit.
	Window time.Duration
	// Block is how long a user name or address stays blocked.
	Block time.Duration
	// MaxKeys bounds the user names, and the addresses, remembered (each;
	// 0 means DefaultLimiterKeys). A full table forgets the least
	// recently failed entry, preferring one that is not blocked.
	MaxKeys int
	// Clock replaces time.Now.
	Clock func() time.Time
}

// Limiter counts failed password sign-ins by user name and by client
// address, the way OpenSearch Security's auth_failure_listeners do, and
// says when a name or address must be refused before its password is
// checked. It keeps names, addresses, counts and times, never a
// password. It is safe for concurrent use; a nil *Limiter limits
// nothing.
type Limiter struct {
	o     LimiterOptions
	mu    sync.Mutex
	users *failures
	ips   *failures
}

// NewLimiter returns a Limiter with options o.
func NewLimiter(o LimiterOptions) *Limiter {
	if o.MaxKeys <= 0 {
		o.MaxKeys = DefaultLimiterKeys
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return &Limiter{o: o, users: newFailures(o.UserLimit, o.MaxKeys), ips: newFailures(o.IPLimit, o.MaxKeys)}
}

// Blocked reports whether a password attempt by user from ip must be
// refused without checking the password. retry is how long until the
// attempt may be made again; first is true for the first refusal of a
// block (of the name or the address), the one worth an audit record.
func (l *Limiter) Blocked(user, ip string) (retry time.Duration, first, blocked bool) {
	if l == nil {
		return 0, false, false
	}
	now := l.o.Clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range []struct {
		f   *failures
		key string
	}{{l.users, user}, {l.ips, ip}} {
		e := b.f.get(b.key)
		if e == nil || !now.Before(e.until) {
			continue
		}
		blocked = true
		retry = max(retry, e.until.Sub(now))
		if !e.told {
			e.told, first = true, true
		}
	}
	return retry, first, blocked
}

// Failed counts a failed password attempt by user from ip. The failure
// that reaches a limit within the window blocks the name or address.
func (l *Limiter) Failed(user, ip string) {
	if l == nil {
		return
	}
	now := l.o.Clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users.fail(user, now, l.o.Window, l.o.Block)
	l.ips.fail(ip, now, l.o.Window, l.o.Block)
}

// Succeeded forgets the failures of user after a successful sign-in.
// Those of the address stay: one right password does not excuse an
// address that tried many names.
func (l *Limiter) Succeeded(user string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.users.forget(user)
}

// failures is one table of a Limiter (names or addresses): a map with a
// list in order of last failure, most recent first.
type failures struct {
	limit, max int
	order      *list.List // of *failure
	byKey      map[string]*list.Element
}

// failure is what a table remembers of one name or address.
type failure struct {
	key   string
	count int       // failures since since
	since time.Time // start of the current window
	until time.Time // blocked before this time
	told  bool      // a refusal of the current block was reported
}

func newFailures(limit, size int) *failures {
	return &failures{limit: limit, max: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (f *failures) get(key string) *failure {
	if el, ok := f.byKey[key]; ok {
		return el.Value.(*failure)
	}
	return nil
}

func (f *failures) fail(key string, now time.Time, window, block time.Duration) {
	if f.limit <= 0 || key == "" {
		return
	}
	el, ok := f.byKey[key]
	if ok {
		f.order.MoveToFront(el)
	} else {
		if f.order.Len() >= f.max {
			f.evict(now)
		}
		key = strings.Clone(key) // the caller's string may be a reused buffer
		el = f.order.PushFront(&failure{key: key})
		f.byKey[key] = el
	}
	e := el.Value.(*failure)
	if now.Before(e.until) {
		return // already blocked
	}
	if e.count == 0 || now.Sub(e.since) >= window {
		e.count, e.since = 0, now
	}
	e.count++
	if e.count >= f.limit {
		e.count, e.until, e.told = 0, now.Add(block), false
	}
}

// evict forgets the least recently failed entry that is not blocked
// among the evictScan oldest, or the oldest if all of them are.
func (f *failures) evict(now time.Time) {
	victim := f.order.Back()
	for el, i := victim, 0; el != nil && i < evictScan; el, i = el.Prev(), i+1 {
		if !now.Before(el.Value.(*failure).until) {
			victim = el
			break
		}
	}
	if victim != nil {
		delete(f.byKey, victim.Value.(*failure).key)
		f.order.Remove(victim)
	}
}

func (f *failures) forget(key string) {
	if el, ok := f.byKey[key]; ok {
		delete(f.byKey, key)
		f.order.Remove(el)
	}
}

// len returns how many entries the table holds.
func (f *failures) len() int { return f.order.Len() }
