package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestTenantScopedRoleValidation(t *testing.T) {
	grant := func(pats ...string) []TenantPermission {
		return []TenantPermission{{TenantPatterns: pats, AllowedActions: []string{TenantAdmin}}}
	}
	tests := []struct {
		name string
		role Role
		want string // "" = valid; else a substring of the error
	}{
		{"scoped admin role", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: grant("stage")}, ""},
		{"scoped role, several grants", Role{Name: "viewer@stage", Tenant: "stage",
			TenantPermissions: []TenantPermission{{TenantPatterns: []string{"stage"}, AllowedActions: []string{TenantRead}}, {TenantPatterns: []string{"stage", "stage"}, AllowedActions: []string{TenantWrite}}},
			IndexPermissions:  []IndexPermission{{IndexPatterns: []string{"logs-*"}, AllowedActions: []string{"read"}}}}, ""},
		{"scoped role without grants", Role{Name: "empty@stage", Tenant: "stage"}, ""},
		{"name with several @", Role{Name: "john@doe.com@stage", Tenant: "stage", TenantPermissions: grant("stage")}, ""},
		{"scoped to the global tenant", Role{Name: "admin@global_tenant", Tenant: GlobalTenant, TenantPermissions: grant(GlobalTenant)}, ""},
		{"plain role", Role{Name: "plain", TenantPermissions: grant("stage", "team-*")}, ""},

		{"@ name without tenant", Role{Name: "admin@stage", TenantPermissions: grant("stage")}, `role "admin@stage": a role named <name>@<tenant> is tenant-scoped: tenant must be "stage"`},
		{"@ name, other tenant", Role{Name: "admin@stage", Tenant: "prod", TenantPermissions: grant("prod")}, `role "admin@stage": a role scoped to tenant "prod" must be named <name>@prod`},
		{"tenant without @ name", Role{Name: "admin", Tenant: "stage", TenantPermissions: grant("stage")}, `role "admin": a role scoped to tenant "stage" must be named <name>@stage`},
		{"empty name part", Role{Name: "@stage", Tenant: "stage"}, `role "@stage": a role scoped to tenant "stage" must be named`},
		{"name suffix is not the tenant", Role{Name: "admin@xstage", Tenant: "stage"}, "must be named <name>@stage"},
		{"wildcard pattern", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: grant("stage*")}, `role "admin@stage": tenant_permissions[0]: pattern "stage*": a role scoped to tenant "stage" may only name "stage"`},
		{"other tenant", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: grant("stage", "prod")}, `pattern "prod"`},
		{"user variable", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: grant("${user.name}")}, `pattern "${user.name}"`},
		{"global tenant from a scoped role", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: grant(GlobalTenant)}, `pattern "global_tenant"`},
		{"second grant", Role{Name: "admin@stage", Tenant: "stage", TenantPermissions: []TenantPermission{{TenantPatterns: []string{"stage"}}, {TenantPatterns: []string{"*"}}}}, "tenant_permissions[1]"},
		{"cluster permissions", Role{Name: "admin@stage", Tenant: "stage", ClusterPermissions: []string{"restapi:admin/roles"}}, `role "admin@stage": a tenant-scoped role cannot have cluster_permissions`},
		{"wildcard tenant", Role{Name: "admin@*", Tenant: "*", TenantPermissions: grant("*")}, `role "admin@*": tenant "*": a tenant-scoped role names one tenant`},
		{"question mark tenant", Role{Name: "admin@st?ge", Tenant: "st?ge"}, "names one tenant"},
		{"variable tenant", Role{Name: "admin@${user.name}", Tenant: "${user.name}"}, "names one tenant"},
		{"tenant with @", Role{Name: "a@b@c", Tenant: "b@c"}, "names one tenant"},
		{"private tenant", Role{Name: "admin@__user__", Tenant: PrivateTenant, TenantPermissions: grant(PrivateTenant)}, "cannot be scoped to the private tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			roles := map[string]Role{tt.role.Name: tt.role}
			_, err := New(roles, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New = %v, want success", err)
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
}

func TestParseTenantScopedRole(t *testing.T) {
	roles, err := ParseRoles([]byte(rolesHeader + `
admin@stage:
  tenant: stage
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [tenant_admin]
`))
	if err != nil {
		t.Fatal(err)
	}
	if r := roles["admin@stage"]; r.Tenant != "stage" || r.Name != "admin@stage" {
		t.Errorf("role = %+v", r)
	}
	_, err = ParseRoles([]byte(rolesHeader + "admin@stage:\n  tenant_permissions:\n  - tenant_patterns: [stage]\n    allowed_actions: [tenant_admin]\n"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `role "admin@stage"`) {
		t.Errorf("ParseRoles = %v, want ErrInvalid naming the role", err)
	}
}
