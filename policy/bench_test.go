package policy

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// syntheticPolicy returns n tenants' worth of policy: role tenant_<i>_rw
// grants write on tenant_<i> and is mapped to user user_<i>, plus a few
// wildcard roles as a real deployment would have (all_access, a reader of
// every "shared_*" tenant mapped to everybody, a personal tenant per user,
// a global-tenant writer, and an ops role reading "tenant_1*").
func syntheticPolicy(n int) (map[string]Role, map[string]RoleMapping) {
	roles := make(map[string]Role, n+8)
	mappings := make(map[string]RoleMapping, n+8)
	for i := range n {
		id := strconv.Itoa(i)
		name := "tenant_" + id + "_rw"
		roles[name] = Role{TenantPermissions: []TenantPermission{{
			TenantPatterns: []string{"tenant_" + id},
			AllowedActions: []string{TenantWrite},
		}}}
		mappings[name] = RoleMapping{Users: []string{"user_" + id}}
	}
	roles["all_access"] = Role{Reserved: true}
	mappings["all_access"] = RoleMapping{Users: []string{"admin"}, BackendRoles: []string{"admin"}}
	roles["shared_reader"] = Role{TenantPermissions: []TenantPermission{{
		TenantPatterns: []string{"shared_*"}, AllowedActions: []string{TenantRead},
	}}}
	mappings["shared_reader"] = RoleMapping{Users: []string{"*"}}
	roles["personal"] = Role{TenantPermissions: []TenantPermission{{
		TenantPatterns: []string{"home_${user.name}"}, AllowedActions: []string{TenantWrite},
	}}}
	mappings["personal"] = RoleMapping{BackendRoles: []string{"staff"}}
	roles["global_writer"] = Role{TenantPermissions: []TenantPermission{{
		TenantPatterns: []string{GlobalTenant}, AllowedActions: []string{TenantWrite},
	}}}
	mappings["global_writer"] = RoleMapping{BackendRoles: []string{"editor"}}
	roles["ops"] = Role{TenantPermissions: []TenantPermission{{
		TenantPatterns: []string{"tenant_1*"}, AllowedActions: []string{TenantRead},
	}}}
	mappings["ops"] = RoleMapping{BackendRoles: []string{"ops"}}
	return roles, mappings
}

// decision is one benchmark request.
type decision struct {
	roles  Roles
	tenant string
	act    Action
}

// sampleDecisions returns k decisions over random users of an n-tenant
// synthetic policy: a write in the user's own tenant (allowed), a read in
// another tenant (denied) and a read in a shared tenant (allowed through a
// wildcard), in turn.
func sampleDecisions(e *Engine, n, k int) []decision {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	out := make([]decision, 0, k)
	for len(out) < k {
		i := rng.IntN(n)
		r := e.RolesFor("user_"+strconv.Itoa(i), []string{"staff"})
		out = append(out,
			decision{r, "tenant_" + strconv.Itoa(i), Write},
			decision{r, "tenant_" + strconv.Itoa((i+1)%n), Read},
			decision{r, "shared_" + strconv.Itoa(i%10), Read},
		)
	}
	return out[:k]
}

// benchEngine is an Engine over a synthetic policy, built once per process
// per (tenants, cache mode) and shared by every round of the benchmarks.
type benchEngine struct {
	once  sync.Once
	e     *Engine
	build time.Duration
	ds    []decision
	err   error
}

var benchEngines sync.Map // engineKey → *benchEngine

type engineKey struct {
	tenants int
	cached  bool
}

// engineFor returns the shared engine of an n-tenant synthetic policy with
// the decision cache on or off, 3,000 sample decisions over it, and the
// time the engine took to build. Building 100k tenants takes about 2 s,
// so it happens once, not once per benchmark round.
func engineFor(b *testing.B, n int, cached bool) (*Engine, []decision, time.Duration) {
	b.Helper()
	v, _ := benchEngines.LoadOrStore(engineKey{n, cached}, &benchEngine{})
	be := v.(*benchEngine)
	be.once.Do(func() {
		roles, mappings := syntheticPolicy(n)
		var opts []option
		if !cached {
			opts = append(opts, withoutCache())
		}
		start := time.Now()
		be.e, be.err = newEngine(roles, mappings, opts...)
		be.build = time.Since(start)
		if be.err == nil {
			be.ds = sampleDecisions(be.e, n, 3000)
		}
	})
	if be.err != nil {
		b.Fatal(be.err)
	}
	return be.e, be.ds, be.build
}

// benchTenantCounts are the policy sizes measured: tenants (and one role
// and one user per tenant, plus a few wildcard roles).
var benchTenantCounts = []int{10, 1000, 10000, 100000}

func tenantsName(n int) string {
	if n >= 1000 {
		return "tenants=" + strconv.Itoa(n/1000) + "k"
	}
	return "tenants=" + strconv.Itoa(n)
}

// BenchmarkAllowed measures one authorization decision (Engine.Allowed:
// may these roles read or write this tenant?) over a synthetic policy of
// 10, 1k, 10k and 100k tenants, with the decision cache (cached: what
// every request after the first pays) and without it (uncached: the
// Casbin evaluation a first request or a cache miss pays). Decisions cycle
// through 3,000 samples of random users: a write in the user's own tenant
// (allowed), a read in another tenant (denied), a read in a shared tenant
// through a wildcard role (allowed); the cache is warm before timing.
//
// One op is one decision. Metrics:
//
//	ns/op, B/op, allocs/op  mean time and allocations of one decision
//	p50-ns, p99-ns          median and 99th-percentile latency of one
//	                        decision, timed one by one over 20,000 calls
//	                        after the timed loop
//	build-ms                time to build the engine from the parsed
//	                        policy (once per process, not per round)
func BenchmarkAllowed(b *testing.B) {
	for _, n := range benchTenantCounts {
		for _, mode := range []string{"cached", "uncached"} {
			b.Run(tenantsName(n)+"/"+mode, func(b *testing.B) {
				e, ds, build := engineFor(b, n, mode == "cached")
				for _, d := range ds { // warm the cache (and check the answers)
					if want := d.act == Write || d.tenant[0] == 's'; e.Allowed(d.roles, d.tenant, d.act) != want {
						b.Fatalf("wrong decision for %+v", d)
					}
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					d := &ds[i%len(ds)]
					e.Allowed(d.roles, d.tenant, d.act)
					i++
				}
				p50, p99 := decisionLatency(e, ds, 20000)
				b.ReportMetric(float64(p50.Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(build.Microseconds())/1000, "build-ms")
			})
		}
	}
}

// decisionLatency times count decisions one by one and returns the median
// and 99th-percentile latency.
func decisionLatency(e *Engine, ds []decision, count int) (p50, p99 time.Duration) {
	lat := make([]time.Duration, count)
	for i := range lat {
		d := &ds[i%len(ds)]
		t0 := time.Now()
		e.Allowed(d.roles, d.tenant, d.act)
		lat[i] = time.Since(t0)
	}
	slices.Sort(lat)
	return lat[count/2], lat[count*99/100]
}

// BenchmarkRolesFor measures mapping one user with two backend roles to
// security roles (Engine.RolesFor, done once per request before the
// decision) over a policy of 10 and 100k tenants (one role mapping per
// tenant). One op is one RolesFor call.
func BenchmarkRolesFor(b *testing.B) {
	for _, n := range []int{10, 100000} {
		b.Run(tenantsName(n), func(b *testing.B) {
			e, _, _ := engineFor(b, n, true)
			b.ReportAllocs()
			user := "user_" + strconv.Itoa(n/2)
			for b.Loop() {
				e.RolesFor(user, []string{"staff", "editor"})
			}
		})
	}
}

func TestHeapPer100kTenants(t *testing.T) {
	if testing.Short() || !testing.Verbose() {
		t.Skip("measurement; run with -v")
	}
	roles, mappings := syntheticPolicy(100000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	e, err := New(roles, mappings)
	if err != nil {
		t.Fatal(err)
	}
	build := time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("100000 tenants: build %v, %d tenants indexed, heap %d MiB", build, len(e.st.Load().decider.byKey), (after.HeapAlloc-before.HeapAlloc)>>20)
	runtime.KeepAlive(e)
	runtime.KeepAlive(roles) // measured without them, not net of their release
	runtime.KeepAlive(mappings)
}

// BenchmarkIndexAllowed measures one index-permission decision
// (Engine.IndexAllowed) over 1,000 tenants, each with a reader role and a
// tenant-scoped role granting crud on "ops-*", plus a shared role granting
// write on "logs-*" wherever its holder may read. Decisions cycle through
// a write in the caller's own tenant through the tenant-scoped role
// (allowed), the same in the next tenant (denied) and a write on a logs
// index through the shared role (allowed). One op is one decision.
func BenchmarkIndexAllowed(b *testing.B) {
	const n = 1000
	roles := map[string]Role{}
	mappings := map[string]RoleMapping{}
	for i := range n {
		t := "tenant_" + strconv.Itoa(i)
		roles[t+"_r"] = Role{TenantPermissions: []TenantPermission{{TenantPatterns: []string{t}, AllowedActions: []string{TenantRead}}}}
		mappings[t+"_r"] = RoleMapping{Users: []string{"user_" + strconv.Itoa(i)}}
		roles["ops@"+t] = Role{Tenant: t, IndexPermissions: []IndexPermission{{IndexPatterns: []string{"ops-*"}, AllowedActions: []string{"crud"}}}}
		mappings["ops@"+t] = RoleMapping{Users: []string{"user_" + strconv.Itoa(i)}}
	}
	roles["logs"] = Role{IndexPermissions: []IndexPermission{{IndexPatterns: []string{"logs-*"}, AllowedActions: []string{"write"}}}}
	mappings["logs"] = RoleMapping{Users: []string{"*"}}
	type req struct {
		r             Roles
		tenant, index string
		want          bool
	}
	for _, mode := range []string{"cached", "uncached"} {
		b.Run(mode, func(b *testing.B) {
			var opts []option
			if mode == "uncached" {
				opts = append(opts, withoutCache())
			}
			e, err := newEngine(roles, mappings, opts...)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			var rs []req
			for len(rs) < 3000 {
				i := rng.IntN(n)
				r := e.RolesFor("user_"+strconv.Itoa(i), nil)
				own, next := "tenant_"+strconv.Itoa(i), "tenant_"+strconv.Itoa((i+1)%n)
				rs = append(rs, req{r, own, "ops-1", true}, req{r, next, "ops-1", false}, req{r, own, "logs-" + strconv.Itoa(i%10), true})
			}
			for _, q := range rs {
				if e.IndexAllowed(q.r, q.tenant, q.index, IndexWrite) != q.want {
					b.Fatalf("wrong decision for %+v", q)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				q := &rs[i%len(rs)]
				e.IndexAllowed(q.r, q.tenant, q.index, IndexWrite)
				i++
			}
		})
	}
}

// BenchmarkClusterAllowed measures one cluster-permission decision
// (Engine.ClusterAllowed) for a caller whose role grants
// "restapi:admin/*", cached and uncached. One op is one decision.
func BenchmarkClusterAllowed(b *testing.B) {
	roles := map[string]Role{"security": {ClusterPermissions: []string{"restapi:admin/*"}}}
	mappings := map[string]RoleMapping{"security": {Users: []string{"sec"}}}
	for _, mode := range []string{"cached", "uncached"} {
		b.Run(mode, func(b *testing.B) {
			var opts []option
			if mode == "uncached" {
				opts = append(opts, withoutCache())
			}
			e, err := newEngine(roles, mappings, opts...)
			if err != nil {
				b.Fatal(err)
			}
			r := e.RolesFor("sec", nil)
			b.ReportAllocs()
			for b.Loop() {
				if !e.ClusterAllowed(r, ClusterRoles) {
					b.Fatal("denied")
				}
			}
		})
	}
}
