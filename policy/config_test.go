package policy

import (
	"errors"
	"strings"
	"testing"
)

const rolesHeader = "_meta:\n  type: roles\n  config_version: 2\n"
const mappingHeader = "_meta:\n  type: rolesmapping\n  config_version: 2\n"

func TestParseRoles(t *testing.T) {
	roles, err := ParseRoles([]byte(`
test-role:
  reserved: false
  hidden: false
  cluster_permissions:
  - "cluster_composite_ops"
  - "indices_monitor"
  index_permissions:
  - index_patterns:
    - "movies*"
    dls: ""
    fls: []
    masked_fields: []
    allowed_actions:
    - "read"
  tenant_permissions:
  - tenant_patterns:
    - "human_resources"
    allowed_actions:
    - "kibana_all_read"
  static: false
empty-role:
_meta:
  type: "roles"
  config_version: 2
`))
	if err != nil {
		t.Fatal(err)
	}
	r, ok := roles["test-role"]
	if !ok || r.Name != "test-role" {
		t.Fatalf("test-role missing or unnamed: %+v", roles)
	}
	if got := r.IndexPermissions[0].IndexPatterns[0]; got != "movies*" {
		t.Errorf("index pattern = %q", got)
	}
	if tp := r.TenantPermissions[0]; tp.TenantPatterns[0] != "human_resources" || tp.AllowedActions[0] != TenantRead {
		t.Errorf("tenant permission = %+v", tp)
	}
	if len(r.ClusterPermissions) != 2 {
		t.Errorf("cluster permissions = %v", r.ClusterPermissions)
	}
	if e, ok := roles["empty-role"]; !ok || e.Name != "empty-role" {
		t.Errorf("empty-role = %+v, %v", e, ok)
	}
	if _, ok := roles["_meta"]; ok {
		t.Error("_meta parsed as a role")
	}
}

func TestParseRoleMappings(t *testing.T) {
	m, err := ParseRoleMappings([]byte(mappingHeader + `
analyst:
  backend_roles: ["analyst", "team-*"]
  and_backend_roles: ["a", "b"]
  users: ["alice"]
  hosts: []
  description: x
`))
	if err != nil {
		t.Fatal(err)
	}
	a := m["analyst"]
	if len(a.BackendRoles) != 2 || a.Users[0] != "alice" || len(a.AndBackendRoles) != 2 || len(a.Hosts) != 0 {
		t.Errorf("mapping = %+v", a)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		mapping bool
		yaml    string
		want    string // substring of the error
	}{
		{"roles missing meta", false, "r:\n  reserved: false\n", "missing _meta"},
		{"roles wrong type", false, mappingHeader, `_meta.type is "rolesmapping", want "roles"`},
		{"roles wrong version", false, "_meta:\n  type: roles\n  config_version: 1\n", "config_version is 1"},
		{"roles unknown meta key", false, "_meta:\n  type: roles\n  config_version: 2\n  extra: 1\n", "field extra not found"},
		{"roles unknown key", false, rolesHeader + "r:\n  tenant_permission: []\n", "field tenant_permission not found"},
		{"roles unknown nested key", false, rolesHeader + "r:\n  tenant_permissions:\n  - tenant_pattern: [a]\n", "field tenant_pattern not found"},
		{"roles unknown action", false, rolesHeader + "r:\n  tenant_permissions:\n  - tenant_patterns: [a]\n    allowed_actions: [kibana_all_admin]\n", `role "r": tenant_permissions[0]: unknown action "kibana_all_admin"`},
		{"roles bad variable", false, rolesHeader + "r:\n  tenant_permissions:\n  - tenant_patterns: ['${attr.jwt.dept}']\n    allowed_actions: [kibana_all_read]\n", "unsupported variable"},
		{"roles empty", false, "", "empty document"},
		{"roles not yaml", false, "r: [", "roles:"},
		{"mapping missing meta", true, "r:\n  users: [a]\n", "missing _meta"},
		{"mapping wrong type", true, rolesHeader, `_meta.type is "roles", want "rolesmapping"`},
		{"mapping unknown key", true, mappingHeader + "r:\n  user: [a]\n", "field user not found"},
		{"roles dls", false, rolesHeader + "x:\n  index_permissions:\n  - index_patterns: [a]\n    dls: '{\"term\": {\"owner\": \"x\"}}'\n", "roles.yml: role [x]: dls is not supported by tenantgate (index_permissions[0])"},
		{"roles blank dls", false, rolesHeader + "x:\n  index_permissions:\n  - index_patterns: [a]\n  - dls: ' '\n", "roles.yml: role [x]: dls is not supported by tenantgate (index_permissions[1])"},
		{"roles fls", false, rolesHeader + "x:\n  index_permissions:\n  - index_patterns: [a]\n    fls: ['~secret']\n", "roles.yml: role [x]: fls is not supported by tenantgate (index_permissions[0])"},
		{"roles masked_fields", false, rolesHeader + "x:\n  index_permissions:\n  - index_patterns: [a]\n    masked_fields: [ssn]\n", "roles.yml: role [x]: masked_fields is not supported by tenantgate (index_permissions[0])"},
		{"mapping hosts", true, mappingHeader + "m:\n  users: [a]\n  hosts: ['10.0.0.1']\n", "roles_mapping.yml: role mapping [m]: hosts is not supported by tenantgate"},
		{"mapping duplicate key", true, mappingHeader + "r:\n  users: [a]\nr:\n  users: [b]\n", "already defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.mapping {
				_, err = ParseRoleMappings([]byte(tt.yaml))
			} else {
				_, err = ParseRoles([]byte(tt.yaml))
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		name, pat string
		want      bool
	}{
		{"analysts", "analysts", true},
		{"analysts", "analyst", false},
		{"analyst", "analysts", false},
		{"analysts", "ana*", true},
		{"analysts", "*sts", true},
		{"analysts", "*", true},
		{"", "*", true},
		{"", "?", false},
		{"analysts", "a*a*s", true},
		{"analysts", "a*x*s", false},
		{"analysts", "analyst?", true},
		{"analysts", "?nalysts", true},
		{"analysts", "analysts?", false},
		{"tenant_1", "tenant_?", true},
		{"tenant_10", "tenant_?", false},
		{"über", "?ber", true},
		{"xmuenchen", "*m?enchen", true},
		{"aaaaaaaaaaaaaaaaaaaab", "a*a*a*a*a*a*a*a*b", true},
		{"aaaaaaaaaaaaaaaaaaaaa", "a*a*a*a*a*a*a*a*b", false},
		{"[a]", "[a]", true},
		{"a", "[a]", false},
	}
	for _, tt := range tests {
		if got := globMatch(tt.name, tt.pat); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.name, tt.pat, got, tt.want)
		}
	}
}
