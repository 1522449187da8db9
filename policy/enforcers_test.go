package policy

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// TestEvaluatorPoolLendsAndClears checks that the enforcers a decision
// borrows go back to the pool with no policy lines left in them, and that
// decisions still work when every pooled enforcer is in use (a new one is
// built) or when the pool is full (the extra one is dropped).
func TestEvaluatorPoolLendsAndClears(t *testing.T) {
	roles, mappings := syntheticPolicy(100)
	e, err := newEngine(roles, mappings, withoutCache())
	if err != nil {
		t.Fatal(err)
	}
	d := e.st.Load().decider
	procs := runtime.GOMAXPROCS(0)
	if got := len(d.pool.free); got != procs {
		t.Fatalf("%d enforcers pooled at start, want %d", got, procs)
	}
	r := e.RolesFor("user_7", []string{"staff"})
	check := func() {
		t.Helper()
		if !e.Allowed(r, "tenant_7", Write) || e.Allowed(r, "tenant_8", Read) || !e.Allowed(r, "shared_1", Read) || !e.Allowed(r, "home_user_7", Write) || e.Allowed(r, "home_user_8", Read) {
			t.Error("wrong decisions")
		}
	}
	check()
	pooled := drain(d.pool.free)
	for _, ev := range pooled {
		if ev.p.Policy != nil {
			t.Errorf("pooled enforcer still holds %d lines", len(ev.p.Policy))
		}
	}
	check() // the pool is empty: decisions build an enforcer and give it back
	if got := len(d.pool.free); got != 1 {
		t.Errorf("%d enforcers pooled after decisions on an empty pool, want 1", got)
	}
	drain(d.pool.free)
	for len(d.pool.free) < cap(d.pool.free) {
		d.pool.free <- pooled[0]
	}
	check() // the pool is full: the enforcer built is dropped
	if got := len(d.pool.free); got != cap(d.pool.free) {
		t.Errorf("%d enforcers pooled, want %d", got, cap(d.pool.free))
	}
}

func drain(ch chan *evaluator) []*evaluator {
	var out []*evaluator
	for {
		select {
		case ev := <-ch:
			out = append(out, ev)
		default:
			return out
		}
	}
}

// TestConcurrentUncachedDecisions runs uncached tenant and index decisions
// (an index decision asks a tenant decision from inside casbin) from many
// more goroutines than there are pooled enforcers, under the race
// detector, and checks every answer.
func TestConcurrentUncachedDecisions(t *testing.T) {
	const n = 200
	roles, mappings := syntheticPolicy(n)
	roles["logs"] = Role{IndexPermissions: []IndexPermission{{IndexPatterns: []string{"logs-*"}, AllowedActions: []string{"write"}}}}
	mappings["logs"] = RoleMapping{Users: []string{"*"}}
	e, err := newEngine(roles, mappings, withoutCache())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			for i := range 50 {
				u := (g*50 + i) % n
				r := e.RolesFor(fmt.Sprint("user_", u), []string{"staff"})
				own, next := fmt.Sprint("tenant_", u), fmt.Sprint("tenant_", (u+1)%n)
				if !e.Allowed(r, own, Write) || e.Allowed(r, next, Read) || !e.Allowed(r, "shared_x", Read) {
					t.Errorf("user_%d: wrong tenant decisions", u)
					return
				}
				if !e.IndexAllowed(r, own, "logs-1", IndexWrite) || e.IndexAllowed(r, next, "logs-1", IndexWrite) || e.IndexAllowed(r, own, "ops-1", IndexWrite) {
					t.Errorf("user_%d: wrong index decisions", u)
					return
				}
			}
		})
	}
	wg.Wait()
}
