package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestShippedSecurityFiles loads config/security/roles.yml and
// roles_mapping.yml as shipped and checks the decisions the README
// promises.
func TestShippedSecurityFiles(t *testing.T) {
	dir := filepath.Join("..", "config", "security")
	rolesYAML, err := os.ReadFile(filepath.Join(dir, "roles.yml"))
	if err != nil {
		t.Fatal(err)
	}
	mappingYAML, err := os.ReadFile(filepath.Join(dir, "roles_mapping.yml"))
	if err != nil {
		t.Fatal(err)
	}
	roles, err := ParseRoles(rolesYAML)
	if err != nil {
		t.Fatalf("roles.yml: %v", err)
	}
	mappings, err := ParseRoleMappings(mappingYAML)
	if err != nil {
		t.Fatalf("roles_mapping.yml: %v", err)
	}
	if !roles[AllAccess].Reserved {
		t.Error("all_access is not reserved")
	}
	e, err := New(roles, mappings)
	if err != nil {
		t.Fatal(err)
	}
	tenants := []string{"analysts", "executive", "human_resources", GlobalTenant, PrivateTenant}
	tests := []struct {
		name    string
		user    string
		backend []string
		want    map[string]bool // Tenants() result
	}{
		{"admin by name", "admin", nil, map[string]bool{"analysts": true, "executive": true, "human_resources": true, GlobalTenant: true, PrivateTenant: true}},
		{"admin by backend role", "root", []string{"admin"}, map[string]bool{"analysts": true, "executive": true, "human_resources": true, GlobalTenant: true, PrivateTenant: true}},
		{"analyst", "alice", []string{"analyst"}, map[string]bool{"analysts": true, "executive": false, GlobalTenant: true, PrivateTenant: true}},
		{"reader", "rita", []string{"reader"}, map[string]bool{"analysts": false, "executive": false, GlobalTenant: false, PrivateTenant: true}},
		{"bob", "bob", nil, map[string]bool{"analysts": false, "executive": false, GlobalTenant: false, PrivateTenant: true}},
		{"hr", "hr_jane", nil, map[string]bool{"human_resources": true, GlobalTenant: false, PrivateTenant: true}},
		{"nobody", "eve", []string{"guest"}, map[string]bool{GlobalTenant: false, PrivateTenant: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.Tenants(e.RolesFor(tt.user, tt.backend), tenants)
			if len(got) != len(tt.want) {
				t.Fatalf("Tenants = %v, want %v", got, tt.want)
			}
			for k, w := range tt.want {
				if g, ok := got[k]; !ok || g != w {
					t.Errorf("Tenants = %v, want %v", got, tt.want)
					break
				}
			}
		})
	}
}
