package policy

import (
	"fmt"
	"testing"
)

const clusterRoles = `
tenant_manager:
  cluster_permissions: ["restapi:admin/tenants"]
tenant_creator:
  cluster_permissions: ["restapi:admin/tenants/create"]
security_admin:
  cluster_permissions: ["restapi:admin/*"]
role_admin:
  cluster_permissions: ["restapi:admin/roles", "restapi:admin/rolesmapping"]
auditor:
  cluster_permissions: ["restapi:admin/audit", "cluster_composite_ops"]
everything:
  cluster_permissions: ["*"]
cluster_all_role:
  cluster_permissions: [cluster_all]
wildcard_middle:
  cluster_permissions: ["restapi:*/internalusers", "restapi:admin/r?les"]
monitor:
  cluster_permissions: ["cluster:monitor/*", ""]
admin@stage:
  tenant: stage
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [tenant_admin]
all_access:
  reserved: true
  tenant_permissions:
  - tenant_patterns: ["*"]
    allowed_actions: [kibana_all_read]
`

func clusterMappings() string {
	m := ""
	for _, r := range []string{"tenant_manager", "tenant_creator", "security_admin", "role_admin", "auditor", "everything", "cluster_all_role", "wildcard_middle", "monitor", "admin@stage", "all_access"} {
		m += fmt.Sprintf("%s:\n  users: [%q]\n", r, "u_"+r)
	}
	return m
}

var allClusterPerms = []string{ClusterTenants, ClusterTenantsCreate, ClusterRoles, ClusterRolesMapping, ClusterInternalUsers, ClusterAudit}

func TestClusterAllowed(t *testing.T) {
	tests := []struct {
		role  string
		allow []string // every other permission of allClusterPerms is denied
	}{
		{"tenant_manager", []string{ClusterTenants, ClusterTenantsCreate}},
		{"tenant_creator", []string{ClusterTenantsCreate}},
		{"security_admin", allClusterPerms},
		{"role_admin", []string{ClusterRoles, ClusterRolesMapping}},
		{"auditor", []string{ClusterAudit}},
		{"everything", allClusterPerms},
		{"cluster_all_role", allClusterPerms},
		{"wildcard_middle", []string{ClusterInternalUsers, ClusterRoles}},
		{"monitor", nil},
		{"admin@stage", nil},
		// all_access has every permission though roles.yml lists none.
		{"all_access", allClusterPerms},
		{"unmapped", nil},
	}
	for _, cached := range []bool{true, false} {
		var opts []option
		if !cached {
			opts = append(opts, withoutCache())
		}
		e := newTestEngine(t, clusterRoles, clusterMappings(), opts...)
		for _, tt := range tests {
			t.Run(fmt.Sprint(tt.role, "/cached=", cached), func(t *testing.T) {
				r := e.RolesFor("u_"+tt.role, nil)
				for pass := range 2 {
					for _, perm := range allClusterPerms {
						want := false
						for _, a := range tt.allow {
							want = want || a == perm
						}
						if got := e.ClusterAllowed(r, perm); got != want {
							t.Errorf("pass %d: ClusterAllowed(%s, %q) = %v, want %v", pass, tt.role, perm, got, want)
						}
					}
				}
			})
		}
		t.Run(fmt.Sprint("other permissions/cached=", cached), func(t *testing.T) {
			for _, c := range []struct {
				user, perm string
				want       bool
			}{
				{"u_auditor", "cluster_composite_ops", true},
				{"u_monitor", "cluster:monitor/health", true},
				{"u_monitor", "cluster:admin/x", false},
				{"u_everything", "cluster:admin/anything", true},
				{"u_security_admin", "restapi:admin/", true},
				{"u_security_admin", "restapi:other", false},
				{"u_tenant_manager", "restapi:admin/tenants/delete", false},
				{"u_all_access", "anything:at/all", true},
				{"u_everything", "", false},
				{"u_all_access", "", false},
			} {
				if got := e.ClusterAllowed(e.RolesFor(c.user, nil), c.perm); got != c.want {
					t.Errorf("ClusterAllowed(%s, %q) = %v, want %v", c.user, c.perm, got, c.want)
				}
			}
		})
		t.Run(fmt.Sprint("zero Roles/cached=", cached), func(t *testing.T) {
			for _, perm := range append(allClusterPerms, "*", ClusterAll) {
				if e.ClusterAllowed(Roles{}, perm) {
					t.Errorf("zero Roles holds %q", perm)
				}
			}
		})
	}
}

func TestSuperadmin(t *testing.T) {
	e := newTestEngine(t, clusterRoles, clusterMappings())
	for _, c := range []struct {
		user string
		want bool
	}{
		{"u_all_access", true}, {"u_everything", false}, {"u_security_admin", false}, {"nobody", false},
	} {
		if got := e.Superadmin(e.RolesFor(c.user, nil)); got != c.want {
			t.Errorf("Superadmin(%s) = %v, want %v", c.user, got, c.want)
		}
	}
	if e.Superadmin(Roles{}) {
		t.Error("zero Roles is a superadmin")
	}
}

func TestClusterAllowedAfterReplace(t *testing.T) {
	e := newTestEngine(t, clusterRoles, clusterMappings())
	r := e.RolesFor("u_auditor", nil)
	if !e.ClusterAllowed(r, ClusterAudit) || e.ClusterAllowed(r, ClusterRoles) {
		t.Fatal("wrong decisions before Replace")
	}
	roles, err := ParseRoles([]byte(rolesHeader + "auditor:\n  cluster_permissions: [\"restapi:admin/roles\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	mappings, _ := ParseRoleMappings([]byte(mappingHeader + clusterMappings()))
	if err := e.Replace(roles, mappings); err != nil {
		t.Fatal(err)
	}
	for _, r := range []Roles{r, e.RolesFor("u_auditor", nil)} { // old and new Roles
		if e.ClusterAllowed(r, ClusterAudit) || !e.ClusterAllowed(r, ClusterRoles) {
			t.Error("stale cluster decision after Replace")
		}
	}
}

func TestCachedClusterDecisionDoesNotAllocate(t *testing.T) {
	e := newTestEngine(t, clusterRoles, clusterMappings())
	r := e.RolesFor("u_role_admin", nil)
	perm := string([]byte(ClusterRoles))
	e.ClusterAllowed(r, perm)
	e.ClusterAllowed(r, ClusterAudit)
	if n := testing.AllocsPerRun(1000, func() {
		if !e.ClusterAllowed(r, perm) || e.ClusterAllowed(r, ClusterAudit) {
			panic("wrong decision")
		}
	}); n != 0 {
		t.Errorf("cached ClusterAllowed allocates %v times", n)
	}
}

func TestClusterCacheBounded(t *testing.T) {
	e := newTestEngine(t, clusterRoles, clusterMappings(), withCacheSize(cacheShards*4))
	r := e.RolesFor("u_everything", nil)
	for i := range 5000 {
		e.ClusterAllowed(r, fmt.Sprint("perm", i))
	}
	if n := e.st.Load().clusterCache.len(); n > cacheShards*4 {
		t.Errorf("cluster cache holds %d decisions, bound %d", n, cacheShards*4)
	}
}

// TestClusterPermissionsAreCasbinPolicy checks that all_access's implicit
// grant and implied permissions are casbin policy lines.
func TestClusterPermissionsAreCasbinPolicy(t *testing.T) {
	e := newTestEngine(t, clusterRoles, clusterMappings())
	lines, err := e.st.Load().cluster.GetPolicy()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{AllAccess, "*"}, {"tenant_manager", ClusterTenants}, {"tenant_manager", ClusterTenantsCreate}} {
		found := false
		for _, l := range lines {
			found = found || fmt.Sprint(l) == fmt.Sprint(want)
		}
		if !found {
			t.Errorf("no casbin policy line %v in %v", want, lines)
		}
	}
}
