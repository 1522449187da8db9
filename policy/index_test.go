package policy

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// indexRoles: readers of tenant "stage" with index grants, a tenant-scoped
// role of stage, and a writer without index grants.
const indexRoles = `
stage_reader:
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [kibana_all_read]
logs_writer:
  index_permissions:
  - index_patterns: ["logs-*"]
    allowed_actions: [write]
  - index_patterns: ["metrics"]
    allowed_actions: [read, manage]
crud_role:
  index_permissions:
  - index_patterns: ["orders", "inv?"]
    allowed_actions: [crud]
deleter:
  index_permissions:
  - index_patterns: ["tmp*"]
    allowed_actions: [delete]
everything:
  index_permissions:
  - index_patterns: ["*"]
    allowed_actions: [indices_all]
star:
  index_permissions:
  - index_patterns: ["all-*"]
    allowed_actions: ["*"]
personal:
  index_permissions:
  - index_patterns: ["home-${user.name}"]
    allowed_actions: [crud]
ops@stage:
  tenant: stage
  index_permissions:
  - index_patterns: ["ops-*"]
    allowed_actions: [crud, manage]
ops@prod:
  tenant: prod
  tenant_permissions:
  - tenant_patterns: [prod]
    allowed_actions: [kibana_all_read]
  index_permissions:
  - index_patterns: ["ops-*"]
    allowed_actions: [read]
writer:
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [kibana_all_write]
`

const indexMappings = `
stage_reader:
  backend_roles: [staff]
logs_writer:
  users: [lou]
crud_role:
  users: [cam]
deleter:
  users: [del]
everything:
  users: [eve]
star:
  users: [sta]
personal:
  users: [pat, "p*"]
ops@stage:
  users: [oscar]
ops@prod:
  users: [oscar]
writer:
  users: [wil]
all_access:
  users: [root]
`

func TestIndexAllowed(t *testing.T) {
	type check struct {
		tenant, index string
		a             IndexAction
		want          bool
	}
	all := []IndexAction{IndexRead, IndexWrite, IndexDelete, IndexManage}
	// grants returns checks of every action on one index, allowing want.
	grants := func(tenant, index string, want ...IndexAction) []check {
		var out []check
		for _, a := range all {
			ok := false
			for _, w := range want {
				ok = ok || w == a
			}
			out = append(out, check{tenant, index, a, ok})
		}
		return out
	}
	join := func(cs ...[]check) []check {
		var out []check
		for _, c := range cs {
			out = append(out, c...)
		}
		return out
	}
	tests := []struct {
		name    string
		user    string
		backend []string
		checks  []check
	}{
		{"write group is write and delete", "lou", []string{"staff"}, join(
			grants("stage", "logs-2024", IndexWrite, IndexDelete),
			grants("stage", "logs-", IndexWrite, IndexDelete),
			grants("stage", "logs"), // no match
			grants("stage", "metrics", IndexRead, IndexManage),
			grants("stage", "metrics-1"),
		)},
		{"only in tenants the caller may read", "lou", []string{"staff"}, join(
			grants("prod", "logs-2024"),
			grants("", "logs-2024"),
			grants("*", "logs-2024"),
			// Every caller reads the global and its private tenant.
			grants(GlobalTenant, "logs-1", IndexWrite, IndexDelete),
			grants(PrivateTenant, "logs-1", IndexWrite, IndexDelete),
		)},
		{"crud", "cam", []string{"staff"}, join(
			grants("stage", "orders", IndexRead, IndexWrite, IndexDelete),
			grants("stage", "inv1", IndexRead, IndexWrite, IndexDelete),
			grants("stage", "inv12"),
			grants("stage", "orders2"),
		)},
		{"delete", "del", []string{"staff"}, grants("stage", "tmp-x", IndexDelete)},
		{"indices_all", "eve", []string{"staff"}, join(
			grants("stage", "anything", all...),
			grants("prod", "anything"),
		)},
		{"star action", "sta", []string{"staff"}, join(
			grants("stage", "all-1", all...),
			grants("stage", "x"),
		)},
		{"user name in pattern", "pat", []string{"staff"}, join(
			grants("stage", "home-pat", IndexRead, IndexWrite, IndexDelete),
			grants("stage", "home-pia"),
		)},
		{"same roles, other user", "pia", []string{"staff"}, join(
			grants("stage", "home-pia", IndexRead, IndexWrite, IndexDelete),
			grants("stage", "home-pat"),
		)},
		{"wildcard user cannot widen a pattern", "p*", []string{"staff"}, grants("stage", "home-p*")},
		{"tenant-scoped role in its own tenant", "oscar", nil, join(
			// The role applies in stage though oscar cannot read stage
			// through tenant permissions: the role belongs to stage.
			grants("stage", "ops-1", all...),
			grants("prod", "ops-1", IndexRead),
		)},
		{"tenant-scoped role in another tenant", "oscar", nil, join(
			grants("dev", "ops-1"),
			grants(GlobalTenant, "ops-1"),
			grants(PrivateTenant, "ops-1"),
			grants("*", "ops-1"),
			grants("stag?", "ops-1"),
		)},
		{"tenant writer has no index permissions", "wil", nil, grants("stage", "logs-1")},
		{"reader without index permissions", "rita", []string{"staff"}, grants("stage", "logs-1")},
		{"all_access", "root", nil, join(
			grants("stage", "x", all...),
			grants("anything", "y", all...),
		)},
		{"invalid action and empty index", "eve", []string{"staff"}, []check{
			{"stage", "x", 0, false}, {"stage", "x", 9, false}, {"stage", "", IndexRead, false},
		}},
	}
	for _, cached := range []bool{true, false} {
		var opts []option
		if !cached {
			opts = append(opts, withoutCache())
		}
		e := newTestEngine(t, indexRoles, indexMappings, opts...)
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.name, "/cached=", cached), func(t *testing.T) {
				r := e.RolesFor(tt.user, tt.backend)
				for pass := range 2 {
					for _, c := range tt.checks {
						if got := e.IndexAllowed(r, c.tenant, c.index, c.a); got != c.want {
							t.Errorf("pass %d: IndexAllowed(%s %v, %q, %q, %v) = %v, want %v", pass, tt.user, r, c.tenant, c.index, c.a, got, c.want)
						}
					}
				}
			})
		}
		t.Run(fmt.Sprint("zero Roles/cached=", cached), func(t *testing.T) {
			for _, a := range all {
				if e.IndexAllowed(Roles{}, "stage", "x", a) || e.IndexAllowed(Roles{}, GlobalTenant, "logs-1", a) {
					t.Errorf("zero Roles allowed %v", a)
				}
			}
			if e.HasIndexPermissions(Roles{}) {
				t.Error("zero Roles has index permissions")
			}
		})
	}
}

func TestHasIndexPermissions(t *testing.T) {
	e := newTestEngine(t, indexRoles, indexMappings)
	for _, c := range []struct {
		user    string
		backend []string
		want    bool
	}{
		{"lou", nil, true}, {"oscar", nil, true}, {"root", nil, true},
		{"wil", nil, false}, {"rita", []string{"staff"}, false}, {"nobody", nil, false},
	} {
		if got := e.HasIndexPermissions(e.RolesFor(c.user, c.backend)); got != c.want {
			t.Errorf("HasIndexPermissions(%s) = %v, want %v", c.user, got, c.want)
		}
	}
	r := e.RolesFor("rita", []string{"staff"})
	if n := testing.AllocsPerRun(100, func() { e.HasIndexPermissions(r) }); n != 0 {
		t.Errorf("HasIndexPermissions allocates %v times", n)
	}
}

func TestIndexPermissionValidation(t *testing.T) {
	tests := []struct {
		name string
		ip   IndexPermission
		want string // "" = valid
	}{
		{"every group", IndexPermission{IndexPatterns: []string{"a"}, AllowedActions: []string{"read", "write", "delete", "crud", "manage", "indices_all", "*"}}, ""},
		{"user variable", IndexPermission{IndexPatterns: []string{"home-${user_name}"}, AllowedActions: []string{"read"}}, ""},
		{"no actions", IndexPermission{IndexPatterns: []string{"a"}}, ""},
		{"unknown group", IndexPermission{IndexPatterns: []string{"a"}, AllowedActions: []string{"read", "search"}}, `role "r": index_permissions[0]: unknown action "search"`},
		{"raw action", IndexPermission{IndexPatterns: []string{"a"}, AllowedActions: []string{"indices:data/read/*"}}, `unknown action "indices:data/read/*"`},
		{"upper case", IndexPermission{IndexPatterns: []string{"a"}, AllowedActions: []string{"READ"}}, `unknown action "READ"`},
		{"empty pattern", IndexPermission{IndexPatterns: []string{""}, AllowedActions: []string{"read"}}, "empty index pattern"},
		{"bad variable", IndexPermission{IndexPatterns: []string{"${attr.x}"}, AllowedActions: []string{"read"}}, `index pattern "${attr.x}": unsupported variable`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles := map[string]Role{"r": {IndexPermissions: []IndexPermission{tt.ip}}}
			_, err := New(roles, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New = %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an ErrInvalid containing %q", err, tt.want)
			}
			e, _ := New(nil, nil)
			if err := e.Replace(roles, nil); !errors.Is(err, ErrInvalid) {
				t.Errorf("Replace = %v, want ErrInvalid", err)
			}
		})
	}
	_, err := ParseRoles([]byte(rolesHeader + "x:\n  index_permissions:\n  - index_patterns: [a]\n    allowed_actions: [indices:data/read/search]\n"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `role "x"`) {
		t.Errorf("ParseRoles = %v, want ErrInvalid naming the role", err)
	}
}

func TestIndexAllowedAfterReplace(t *testing.T) {
	e := newTestEngine(t, indexRoles, indexMappings)
	r := e.RolesFor("lou", []string{"staff"})
	if !e.IndexAllowed(r, "stage", "logs-1", IndexWrite) {
		t.Fatal("denied before Replace")
	}
	roles, err := ParseRoles([]byte(rolesHeader + indexRoles))
	if err != nil {
		t.Fatal(err)
	}
	lw := roles["logs_writer"]
	lw.IndexPermissions = []IndexPermission{{IndexPatterns: []string{"logs-*"}, AllowedActions: []string{"read"}}}
	roles["logs_writer"] = lw
	mappings, _ := ParseRoleMappings([]byte(mappingHeader + indexMappings))
	if err := e.Replace(roles, mappings); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Roles{r, e.RolesFor("lou", []string{"staff"})} {
		if e.IndexAllowed(r, "stage", "logs-1", IndexWrite) || !e.IndexAllowed(r, "stage", "logs-1", IndexRead) {
			t.Error("stale index decision after Replace")
		}
	}
	// Losing read on the tenant takes the index grants with it.
	delete(mappings, "stage_reader")
	if err := e.Replace(roles, mappings); err != nil {
		t.Fatal(err)
	}
	if r := e.RolesFor("lou", []string{"staff"}); e.IndexAllowed(r, "stage", "logs-1", IndexRead) {
		t.Error("index grant outlived read on the tenant")
	}
}

func TestCachedIndexDecisionDoesNotAllocate(t *testing.T) {
	e := newTestEngine(t, indexRoles, indexMappings)
	r := e.RolesFor("lou", []string{"staff"})
	p := e.RolesFor("pat", []string{"staff"})
	tenant, index := string([]byte("stage")), string([]byte("logs-1"))
	e.IndexAllowed(r, tenant, index, IndexWrite)
	e.IndexAllowed(r, tenant, "metrics", IndexWrite)
	e.IndexAllowed(p, tenant, "home-pat", IndexRead)
	if n := testing.AllocsPerRun(1000, func() {
		if !e.IndexAllowed(r, tenant, index, IndexWrite) || e.IndexAllowed(r, tenant, "metrics", IndexWrite) || !e.IndexAllowed(p, tenant, "home-pat", IndexRead) {
			panic("wrong decision")
		}
	}); n != 0 {
		t.Errorf("cached IndexAllowed allocates %v times", n)
	}
}

func TestIndexCacheBounded(t *testing.T) {
	e := newTestEngine(t, indexRoles, indexMappings, withCacheSize(cacheShards*4))
	r := e.RolesFor("eve", []string{"staff"})
	for i := range 5000 {
		e.IndexAllowed(r, "stage", fmt.Sprint("i", i), IndexRead)
	}
	if n := e.st.Load().indexCache.len(); n > cacheShards*4 {
		t.Errorf("index cache holds %d decisions, bound %d", n, cacheShards*4)
	}
}

// TestManyTenantScopedRoles checks index rules of many tenant-scoped roles
// are indexed by their tenant and stay in it.
func TestManyTenantScopedRoles(t *testing.T) {
	roles := map[string]Role{}
	mappings := map[string]RoleMapping{}
	for i := range 500 {
		tenant := fmt.Sprint("t", i)
		name := "ops@" + tenant
		roles[name] = Role{Tenant: tenant, IndexPermissions: []IndexPermission{{IndexPatterns: []string{"ops-*"}, AllowedActions: []string{"crud"}}}}
		mappings[name] = RoleMapping{Users: []string{fmt.Sprint("u", i)}}
	}
	for i := range maxInlineWild + 2 { // more shared rules than are inlined
		name := fmt.Sprint("shared", i)
		roles[name] = Role{IndexPermissions: []IndexPermission{{IndexPatterns: []string{fmt.Sprint("s", i, "-*")}, AllowedActions: []string{"read"}}}}
		mappings[name] = RoleMapping{Users: []string{"*"}}
	}
	e, err := New(roles, mappings)
	if err != nil {
		t.Fatal(err)
	}
	d := e.st.Load().index
	if len(d.byKey) != 500 || d.wild == nil {
		t.Errorf("%d tenants indexed, wild %v", len(d.byKey), d.wild != nil)
	}
	if lines := d.linesFor("t7"); len(lines) != 3 { // crud: read, write, delete
		t.Errorf("lines for tenant t7: %v", lines)
	}
	for _, l := range d.linesFor("t7") {
		if l[1] != "t7" {
			t.Errorf("line %v handed to casbin for tenant t7", l)
		}
	}
	for _, i := range []int{0, 7, 499} {
		r := e.RolesFor(fmt.Sprint("u", i), nil)
		own, other := fmt.Sprint("t", i), fmt.Sprint("t", i+1)
		if !e.IndexAllowed(r, own, "ops-1", IndexWrite) || e.IndexAllowed(r, other, "ops-1", IndexRead) {
			t.Errorf("u%d: wrong tenant-scoped decisions", i)
		}
		if !e.IndexAllowed(r, GlobalTenant, "s17-x", IndexRead) || e.IndexAllowed(r, own, "s17-x", IndexRead) {
			t.Errorf("u%d: wrong shared decisions", i)
		}
	}
}

func TestConcurrentIndexAndClusterDecisions(t *testing.T) {
	e := newTestEngine(t, indexRoles+clusterRoles[strings.Index(clusterRoles, "tenant_manager:"):strings.Index(clusterRoles, "everything:")], indexMappings+"auditor:\n  users: [lou]\n", withCacheSize(256))
	roles, err := ParseRoles([]byte(rolesHeader + indexRoles))
	if err != nil {
		t.Fatal(err)
	}
	mappings, _ := ParseRoleMappings([]byte(mappingHeader + indexMappings))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				r := e.RolesFor("lou", []string{"staff"})
				if !e.IndexAllowed(r, "stage", fmt.Sprint("logs-", (i*7+g)%300), IndexWrite) {
					t.Error("index write denied")
					return
				}
				if e.IndexAllowed(r, "prod", "logs-1", IndexWrite) || e.ClusterAllowed(r, ClusterRoles) {
					t.Error("allowed")
					return
				}
				if g == 0 && i%250 == 0 {
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
