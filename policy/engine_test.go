package policy

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// newTestEngine parses the role and mapping YAML bodies (without _meta)
// and builds an engine.
func newTestEngine(t testing.TB, rolesYAML, mappingYAML string, opts ...option) *Engine {
	t.Helper()
	roles, err := ParseRoles([]byte(rolesHeader + rolesYAML))
	if err != nil {
		t.Fatalf("ParseRoles: %v", err)
	}
	mappings, err := ParseRoleMappings([]byte(mappingHeader + mappingYAML))
	if err != nil {
		t.Fatalf("ParseRoleMappings: %v", err)
	}
	e, err := newEngine(roles, mappings, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

const testRoles = `
analyst:
  tenant_permissions:
  - tenant_patterns: [analysts]
    allowed_actions: [kibana_all_write]
  - tenant_patterns: [executive]
    allowed_actions: [kibana_all_read]
reader:
  tenant_permissions:
  - tenant_patterns: ["team-*", "proj_??"]
    allowed_actions: [kibana_all_read]
both:
  tenant_permissions:
  - tenant_patterns: [shared]
    allowed_actions: [kibana_all_read, kibana_all_write]
private_like:
  tenant_permissions:
  - tenant_patterns: ["home_${user.name}", "legacy_${user_name}"]
    allowed_actions: [kibana_all_write]
global_writer:
  tenant_permissions:
  - tenant_patterns: [global_tenant]
    allowed_actions: [kibana_all_write]
nothing:
  cluster_permissions: ["*"]
`

const testMappings = `
all_access:
  users: [admin]
analyst:
  backend_roles: [analyst, "data-*"]
reader:
  users: ["bob", "r?ader*"]
both:
  and_backend_roles: [ops, "on-call-*"]
private_like:
  users: ["*"]
global_writer:
  backend_roles: [gw]
nothing:
  users: [nobody]
ghost:
  users: [casper]
`

func TestRolesFor(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	tests := []struct {
		user    string
		backend []string
		want    []string
	}{
		{"admin", nil, []string{"all_access", "private_like"}},
		{"alice", []string{"analyst"}, []string{"analyst", "private_like"}},
		{"alice", []string{"data-science"}, []string{"analyst", "private_like"}},
		{"alice", []string{"data"}, []string{"private_like"}},
		{"bob", nil, []string{"private_like", "reader"}},
		{"reader1", nil, []string{"private_like", "reader"}},
		{"rxader", nil, []string{"private_like", "reader"}},
		{"rxxader", nil, []string{"private_like"}},
		{"carol", []string{"ops"}, []string{"private_like"}},
		{"carol", []string{"on-call-eu"}, []string{"private_like"}},
		{"carol", []string{"on-call-eu", "ops", "analyst"}, []string{"analyst", "both", "private_like"}},
		{"casper", nil, []string{"ghost", "private_like"}},
		{"dave", []string{"analyst", "analyst", "data-x"}, []string{"analyst", "private_like"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.user, tt.backend), func(t *testing.T) {
			r := e.RolesFor(tt.user, tt.backend)
			if got := r.Names(); !slices.Equal(got, tt.want) {
				t.Errorf("RolesFor = %v, want %v", got, tt.want)
			}
			if r.User() != tt.user || r.Len() != len(tt.want) || !r.Has(tt.want[0]) || r.Has("nope") {
				t.Errorf("accessors wrong: %v", r)
			}
		})
	}
	// Equal sets are interned: the values compare equal.
	if a, b := e.RolesFor("alice", []string{"analyst"}), e.RolesFor("alice", []string{"data-1"}); a != b {
		t.Errorf("equal role sets differ: %#v vs %#v", a, b)
	}
}

func TestAllowed(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	type check struct {
		tenant string
		a      Action
		want   bool
	}
	tests := []struct {
		name    string
		user    string
		backend []string
		checks  []check
	}{
		{"all_access", "admin", nil, []check{
			{"analysts", Write, true}, {"anything", Write, true}, {GlobalTenant, Write, true}, {"x", Read, true},
		}},
		{"read-write and read-only", "alice", []string{"analyst"}, []check{
			{"analysts", Write, true}, {"analysts", Read, true}, // write implies read
			{"executive", Read, true}, {"executive", Write, false},
			{"human_resources", Read, false},
			{GlobalTenant, Read, true}, {GlobalTenant, Write, false}, // implicit global read
			{PrivateTenant, Write, true}, {PrivateTenant, Read, true}, // implicit private read-write
		}},
		{"wildcard tenant patterns", "bob", nil, []check{
			{"team-red", Read, true}, {"team-", Read, true}, {"team-red", Write, false},
			{"team", Read, false}, {"xteam-red", Read, false},
			{"proj_ab", Read, true}, {"proj_a", Read, false}, {"proj_abc", Read, false},
		}},
		{"read and write on one pattern", "carol", []string{"ops", "on-call-1"}, []check{
			{"shared", Write, true}, {"shared", Read, true}, {"sharedx", Read, false},
		}},
		{"user name substitution", "carol", nil, []check{
			{"home_carol", Write, true}, {"legacy_carol", Write, true},
			{"home_bob", Read, false}, {"home_", Read, false},
		}},
		{"wildcard user cannot widen a pattern", "c*", nil, []check{
			{"home_c*", Read, false}, {"home_carol", Read, false},
		}},
		{"global tenant", "g", []string{"gw"}, []check{
			{GlobalTenant, Write, true}, {"analysts", Read, false},
		}},
		{"role without tenant permissions", "nobody", nil, []check{
			{"analysts", Read, false}, {"home_nobody", Read, true},
		}},
		{"mapped role missing from roles.yml", "casper", nil, []check{
			{"analysts", Read, false},
		}},
		{"unknown tenant", "alice", []string{"analyst"}, []check{
			{"does-not-exist", Read, false}, {"", Read, false},
		}},
		{"invalid action", "admin", nil, []check{
			{"analysts", 0, false}, {"analysts", 7, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.RolesFor(tt.user, tt.backend)
			for pass := range 2 { // uncached, then cached
				for _, c := range tt.checks {
					if got := e.Allowed(r, c.tenant, c.a); got != c.want {
						t.Errorf("pass %d: Allowed(%v, %q, %v) = %v, want %v", pass, r, c.tenant, c.a, got, c.want)
					}
				}
			}
		})
	}
	t.Run("no roles", func(t *testing.T) {
		e := newTestEngine(t, testRoles, "analyst:\n  users: [alice]\n")
		r := e.RolesFor("eve", []string{"admin"})
		if r.Len() != 0 || e.Allowed(r, "analysts", Read) || e.Allowed(r, GlobalTenant, Write) {
			t.Error("caller without roles was allowed")
		}
	})
	t.Run("zero Roles", func(t *testing.T) {
		for _, tenant := range []string{"analysts", GlobalTenant, PrivateTenant} {
			for _, a := range []Action{Read, Write} {
				if e.Allowed(Roles{}, tenant, a) {
					t.Errorf("zero Roles allowed %v on %q", a, tenant)
				}
			}
		}
	})
}

// TestImplicitRules checks the two rules every caller gets whatever
// roles.yml says: read-write on their own private tenant (PrivateTenant)
// and read on the global tenant.
func TestImplicitRules(t *testing.T) {
	for _, tc := range []struct {
		name, roles, mappings string
		user                  string
		backend               []string
	}{
		{"unmapped caller", testRoles, testMappings, "eve", []string{"guest"}},
		{"empty policy", "", "", "eve", nil},
		{"mapped caller", testRoles, testMappings, "alice", []string{"analyst"}},
		{"role without tenant permissions", testRoles, testMappings, "nobody", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cached := range []bool{true, false} {
				var opts []option
				if !cached {
					opts = append(opts, withoutCache())
				}
				e := newTestEngine(t, tc.roles, tc.mappings, opts...)
				r := e.RolesFor(tc.user, tc.backend)
				for pass := range 2 {
					for _, c := range []struct {
						tenant string
						a      Action
						want   bool
					}{
						{PrivateTenant, Read, true}, {PrivateTenant, Write, true},
						{GlobalTenant, Read, true}, {GlobalTenant, Write, false},
						{"human_resources", Read, false},
					} {
						if got := e.Allowed(r, c.tenant, c.a); got != c.want {
							t.Errorf("cached=%v pass %d: Allowed(%q, %q, %v) = %v, want %v", cached, pass, r.User(), c.tenant, c.a, got, c.want)
						}
					}
				}
			}
		})
	}
}

// TestImplicitRulesAreCasbinPolicy checks that the implicit rules are
// policy lines Casbin evaluates, not checks made before it.
func TestImplicitRulesAreCasbinPolicy(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	d := e.st.Load().decider
	want := [][]string{{AnySubject, PrivateTenant, "write"}, {AnySubject, GlobalTenant, "read"}}
	for _, w := range want {
		// The lines casbin is given for a decision about the tenant.
		if !slices.ContainsFunc(d.linesFor(w[1]), func(l []string) bool { return slices.Equal(l, w) }) {
			t.Errorf("no casbin policy line %v", w)
		}
	}
}

func TestRoleNamedAnySubjectRefused(t *testing.T) {
	_, err := ParseRoles([]byte(rolesHeader + "'*':\n  tenant_permissions:\n  - tenant_patterns: [analysts]\n    allowed_actions: [kibana_all_write]\n"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("ParseRoles = %v, want ErrInvalid naming the reserved name", err)
	}
	_, err = New(map[string]Role{AnySubject: {}}, nil)
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("New = %v, want ErrInvalid", err)
	}
}

func TestUserNameIsPartOfCacheKey(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	a, b := e.RolesFor("ann", nil), e.RolesFor("ben", nil)
	if !e.Allowed(a, "home_ann", Write) || e.Allowed(b, "home_ann", Write) {
		t.Error("decision on a ${user.name} pattern leaked between users")
	}
}

func TestImplicitAllAccess(t *testing.T) {
	// roles.yml without all_access, and one whose all_access is narrower:
	// all_access still grants everything.
	for _, roles := range []string{"", "all_access:\n  tenant_permissions:\n  - tenant_patterns: [x]\n    allowed_actions: [kibana_all_read]\n"} {
		e := newTestEngine(t, roles, "all_access:\n  backend_roles: [admin]\n")
		r := e.RolesFor("root", []string{"admin"})
		if !e.Allowed(r, "anything", Write) || !e.Allowed(r, GlobalTenant, Write) {
			t.Errorf("all_access denied with roles %q", roles)
		}
	}
}

func TestTenants(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	r := e.RolesFor("alice", []string{"analyst"})
	got := e.Tenants(r, []string{"analysts", "executive", "human_resources", GlobalTenant, PrivateTenant, "home_alice"})
	want := map[string]bool{"analysts": true, "executive": false, "home_alice": true, GlobalTenant: false, PrivateTenant: true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Tenants = %v, want %v", got, want)
	}
	eve := e.RolesFor("eve", nil)
	if got, want := e.Tenants(eve, []string{"analysts", GlobalTenant, PrivateTenant}), map[string]bool{GlobalTenant: false, PrivateTenant: true}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Tenants without roles = %v, want %v", got, want)
	}
	if got := e.Tenants(Roles{}, []string{"analysts", GlobalTenant, PrivateTenant}); len(got) != 0 {
		t.Errorf("Tenants of the zero Roles = %v", got)
	}
}

func TestReplaceInvalidatesCache(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	r := e.RolesFor("alice", []string{"analyst"})
	if !e.Allowed(r, "analysts", Write) {
		t.Fatal("analyst cannot write analysts")
	}
	gen := e.Generation()
	roles, _ := ParseRoles([]byte(rolesHeader + `
analyst:
  tenant_permissions:
  - tenant_patterns: [analysts]
    allowed_actions: [kibana_all_read]
`))
	mappings, _ := ParseRoleMappings([]byte(mappingHeader + "analyst:\n  backend_roles: [analyst]\n"))
	if err := e.Replace(roles, mappings); err != nil {
		t.Fatal(err)
	}
	if e.Generation() != gen+1 {
		t.Errorf("generation %d, want %d", e.Generation(), gen+1)
	}
	// Old Roles value, new policy: the cached write grant must be gone.
	if e.Allowed(r, "analysts", Write) || !e.Allowed(r, "analysts", Read) {
		t.Error("stale decision after Replace (old Roles)")
	}
	r = e.RolesFor("alice", []string{"analyst"})
	if e.Allowed(r, "analysts", Write) || !e.Allowed(r, "analysts", Read) {
		t.Error("stale decision after Replace")
	}
	// A failing Replace keeps the current policy.
	bad := map[string]Role{"x": {TenantPermissions: []TenantPermission{{TenantPatterns: []string{"a"}, AllowedActions: []string{"admin"}}}}}
	if err := e.Replace(bad, mappings); err == nil {
		t.Fatal("Replace accepted an unknown action")
	}
	if !e.Allowed(r, "analysts", Read) || e.Generation() != gen+1 {
		t.Error("failed Replace changed the policy")
	}
}

func TestNewRejectsInvalidRoles(t *testing.T) {
	tests := map[string]map[string]Role{
		"unknown action": {"r": {TenantPermissions: []TenantPermission{{TenantPatterns: []string{"a"}, AllowedActions: []string{"write"}}}}},
		"empty pattern":  {"r": {TenantPermissions: []TenantPermission{{TenantPatterns: []string{""}, AllowedActions: []string{TenantRead}}}}},
		"bad variable":   {"r": {TenantPermissions: []TenantPermission{{TenantPatterns: []string{"${x}"}, AllowedActions: []string{TenantRead}}}}},
	}
	for name, roles := range tests {
		if _, err := New(roles, nil); err == nil {
			t.Errorf("%s: New accepted invalid roles", name)
		}
	}
}

// TestNewRejectsUnsupportedRestrictions checks that roles and mappings
// built in code, not only parsed ones, cannot carry restrictions that
// tenantgate would silently ignore.
func TestNewRejectsUnsupportedRestrictions(t *testing.T) {
	tests := []struct {
		name     string
		roles    map[string]Role
		mappings map[string]RoleMapping
		want     string
	}{
		{"dls", map[string]Role{"x": {IndexPermissions: []IndexPermission{{Dls: `{"match_all":{}}`}}}}, nil, "role [x]: dls is not supported"},
		{"fls", map[string]Role{"x": {IndexPermissions: []IndexPermission{{}, {Fls: []string{"a"}}}}}, nil, "role [x]: fls is not supported by tenantgate (index_permissions[1])"},
		{"masked_fields", map[string]Role{"x": {IndexPermissions: []IndexPermission{{MaskedFields: []string{"a"}}}}}, nil, "role [x]: masked_fields is not supported"},
		{"hosts", nil, map[string]RoleMapping{"m": {Users: []string{"a"}, Hosts: []string{"*"}}}, "role mapping [m]: hosts is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.roles, tt.mappings)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an ErrInvalid containing %q", err, tt.want)
			}
			e, err := New(nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Replace(tt.roles, tt.mappings); !errors.Is(err, ErrInvalid) {
				t.Errorf("Replace = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCacheBounded(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings, withCacheSize(cacheShards*4))
	r := e.RolesFor("alice", []string{"analyst"})
	for i := range 10000 {
		e.Allowed(r, fmt.Sprint("t", i), Read)
	}
	if n := e.st.Load().cache.len(); n > cacheShards*4 {
		t.Errorf("cache holds %d decisions, bound %d", n, cacheShards*4)
	}
	if !e.Allowed(r, "analysts", Write) {
		t.Error("decision wrong after cache churn")
	}
}

func TestCachedDecisionDoesNotAllocate(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings)
	r := e.RolesFor("alice", []string{"analyst"})
	tenant := string([]byte("analysts")) // not a constant
	e.Allowed(r, tenant, Write)
	u := e.RolesFor("ann", nil) // ${user.name} role: user in the key
	e.Allowed(u, "home_ann", Write)
	none := newTestEngine(t, testRoles, "").RolesFor("eve", nil) // no roles
	for _, rr := range []Roles{r, u, none} {
		e.Allowed(rr, PrivateTenant, Write)
		e.Allowed(rr, GlobalTenant, Read)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if !e.Allowed(r, tenant, Write) || !e.Allowed(u, "home_ann", Write) || e.Allowed(r, "human_resources", Read) {
			panic("wrong decision")
		}
		for _, rr := range []Roles{r, u, none} {
			if !e.Allowed(rr, PrivateTenant, Write) || !e.Allowed(rr, GlobalTenant, Read) {
				panic("wrong implicit decision")
			}
		}
	}); n != 0 {
		t.Errorf("cached Allowed allocates %v times", n)
	}
}

func TestConcurrentAllowed(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings, withCacheSize(256))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := e.RolesFor("alice", []string{"analyst"})
			for i := range 2000 {
				tenant := fmt.Sprint("t", (i*7+g)%300)
				if e.Allowed(r, tenant, Read) {
					t.Errorf("allowed on %s", tenant)
					return
				}
				if !e.Allowed(r, "analysts", Write) {
					t.Error("denied on analysts")
					return
				}
				if g == 0 && i%500 == 0 {
					roles, _ := ParseRoles([]byte(rolesHeader + testRoles))
					mappings, _ := ParseRoleMappings([]byte(mappingHeader + testMappings))
					if err := e.Replace(roles, mappings); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestManyTenantsIndexedByTenant checks that casbin is given only the
// rules of the tenant asked about, and the shared ones, whatever the
// number of tenants.
func TestManyTenantsIndexedByTenant(t *testing.T) {
	roles, mappings := syntheticPolicy(5000)
	e, err := New(roles, mappings)
	if err != nil {
		t.Fatal(err)
	}
	d := e.st.Load().decider
	if len(d.byKey) < 5000 || len(d.inline) == 0 || d.wild != nil {
		t.Errorf("%d tenants indexed, %d shared lines inlined, wild %v", len(d.byKey), len(d.inline), d.wild != nil)
	}
	for _, i := range []int{0, 1, 2500, 4999} {
		tenant := fmt.Sprint("tenant_", i)
		lines := d.linesFor(tenant)
		want := append([][]string{{tenant + "_rw", tenant, "write"}}, d.inline...)
		if !slices.EqualFunc(lines, want, slices.Equal) {
			t.Errorf("lines for %s = %v, want %v", tenant, lines, want)
		}
	}
	if lines := d.linesFor("no_such_tenant"); !slices.EqualFunc(lines, d.inline, slices.Equal) {
		t.Errorf("lines for an unknown tenant = %v, want the shared lines %v", lines, d.inline)
	}
	for _, i := range []int{0, 1, 2500, 4999} {
		r := e.RolesFor(fmt.Sprint("user_", i), nil)
		if !e.Allowed(r, fmt.Sprint("tenant_", i), Write) || e.Allowed(r, fmt.Sprint("tenant_", i+1), Read) {
			t.Errorf("wrong decisions for user_%d", i)
		}
		if !e.Allowed(r, "shared_x", Read) || e.Allowed(r, "shared_x", Write) {
			t.Errorf("wrong wildcard decision for user_%d", i)
		}
	}
}

func TestManyWildcardRules(t *testing.T) {
	// More wildcard rules than maxInlineWild: casbin is asked about them in
	// a second Enforce.
	roles := map[string]Role{}
	mappings := map[string]RoleMapping{}
	for i := range maxInlineWild + 4 {
		name := fmt.Sprint("team_", i)
		roles[name] = Role{TenantPermissions: []TenantPermission{
			{TenantPatterns: []string{fmt.Sprint("team", i, "-*")}, AllowedActions: []string{TenantRead}},
			{TenantPatterns: []string{fmt.Sprint("exact", i)}, AllowedActions: []string{TenantWrite}},
		}}
		mappings[name] = RoleMapping{BackendRoles: []string{name}}
	}
	e, err := New(roles, mappings)
	if err != nil {
		t.Fatal(err)
	}
	if e.st.Load().decider.wild == nil {
		t.Fatal("wildcard rules were inlined")
	}
	r := e.RolesFor("u", []string{"team_3", "team_19"})
	for _, c := range []struct {
		tenant string
		a      Action
		want   bool
	}{
		{"team3-x", Read, true}, {"team19-y", Read, true}, {"team3-x", Write, false},
		{"team4-x", Read, false}, {"exact3", Write, true}, {"exact4", Read, false},
		{"anything", Read, false},
	} {
		if got := e.Allowed(r, c.tenant, c.a); got != c.want {
			t.Errorf("Allowed(%q, %v) = %v, want %v", c.tenant, c.a, got, c.want)
		}
	}
}
