package policy

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
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

func BenchmarkAllowed(b *testing.B) {
	for _, n := range []int{10, 1000, 10000, 100000} {
		roles, mappings := syntheticPolicy(n)
		for _, mode := range []string{"cached", "uncached"} {
			b.Run(fmt.Sprintf("tenants=%d/%s", n, mode), func(b *testing.B) {
				var opts []option
				if mode == "uncached" {
					opts = append(opts, withoutCache())
				}
				start := time.Now()
				e, err := newEngine(roles, mappings, opts...)
				if err != nil {
					b.Fatal(err)
				}
				build := time.Since(start)
				ds := sampleDecisions(e, n, 3000)
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
				b.ReportMetric(p99(e, ds, 20000), "p99-ns")
				b.ReportMetric(float64(build.Milliseconds()), "build-ms")
			})
		}
	}
}

// p99 times count decisions one by one and returns the 99th percentile
// latency in nanoseconds.
func p99(e *Engine, ds []decision, count int) float64 {
	lat := make([]time.Duration, count)
	for i := range lat {
		d := &ds[i%len(ds)]
		t0 := time.Now()
		e.Allowed(d.roles, d.tenant, d.act)
		lat[i] = time.Since(t0)
	}
	slices.Sort(lat)
	return float64(lat[count*99/100].Nanoseconds())
}

func BenchmarkRolesFor(b *testing.B) {
	for _, n := range []int{10, 100000} {
		roles, mappings := syntheticPolicy(n)
		e, err := New(roles, mappings)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("tenants=%d", n), func(b *testing.B) {
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
	t.Logf("100000 tenants: build %v, %d enforcers, heap %d MiB", build, len(e.st.Load().decider.buckets), (after.HeapAlloc-before.HeapAlloc)>>20)
	runtime.KeepAlive(e)
}
