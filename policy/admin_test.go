package policy

import (
	"errors"
	"testing"
)

const adminRoles = `
admin@stage:
  tenant: stage
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [tenant_admin]
team_admin:
  tenant_permissions:
  - tenant_patterns: ["team-*"]
    allowed_actions: [kibana_all_read, tenant_admin]
writer:
  tenant_permissions:
  - tenant_patterns: [stage, "team-*"]
    allowed_actions: [kibana_all_write]
reader:
  tenant_permissions:
  - tenant_patterns: [stage]
    allowed_actions: [kibana_all_read]
`

const adminMappings = `
all_access:
  users: [root]
admin@stage:
  users: [sam]
team_admin:
  users: [tia]
writer:
  users: [wes]
reader:
  users: [rae]
`

// TestActionHierarchy checks Admin ⊃ Write ⊃ Read: tenant_admin grants all
// three, kibana_all_write never grants Admin, and the implicit rules make
// nobody an admin.
func TestActionHierarchy(t *testing.T) {
	type check struct {
		tenant string
		a      Action
		want   bool
	}
	tests := []struct {
		user   string
		checks []check
	}{
		{"sam", []check{
			{"stage", Admin, true}, {"stage", Write, true}, {"stage", Read, true},
			{"prod", Read, false}, {"team-a", Admin, false},
		}},
		{"tia", []check{
			{"team-a", Admin, true}, {"team-a", Write, true}, {"team-a", Read, true},
			{"stage", Read, false},
		}},
		{"wes", []check{
			{"stage", Write, true}, {"stage", Read, true}, {"stage", Admin, false},
			{"team-x", Write, true}, {"team-x", Admin, false},
		}},
		{"rae", []check{
			{"stage", Read, true}, {"stage", Write, false}, {"stage", Admin, false},
		}},
		{"root", []check{
			{"stage", Admin, true}, {"anything", Admin, true}, {GlobalTenant, Admin, true}, {PrivateTenant, Admin, true},
		}},
	}
	for _, cached := range []bool{true, false} {
		var opts []option
		if !cached {
			opts = append(opts, withoutCache())
		}
		e := newTestEngine(t, adminRoles, adminMappings, opts...)
		for _, tt := range tests {
			t.Run(tt.user, func(t *testing.T) {
				r := e.RolesFor(tt.user, nil)
				for pass := range 2 {
					for _, c := range tt.checks {
						if got := e.Allowed(r, c.tenant, c.a); got != c.want {
							t.Errorf("cached=%v pass %d: Allowed(%s, %q, %v) = %v, want %v", cached, pass, tt.user, c.tenant, c.a, got, c.want)
						}
					}
				}
			})
		}
		t.Run("implicit rules grant no admin", func(t *testing.T) {
			for _, user := range []string{"sam", "wes", "rae", "eve"} {
				r := e.RolesFor(user, nil)
				if e.Allowed(r, PrivateTenant, Admin) || e.Allowed(r, GlobalTenant, Admin) {
					t.Errorf("%s is admin of the private or global tenant", user)
				}
				if !e.Allowed(r, PrivateTenant, Write) || !e.Allowed(r, GlobalTenant, Read) {
					t.Errorf("%s lost an implicit rule", user)
				}
			}
		})
		t.Run("zero Roles", func(t *testing.T) {
			if e.Allowed(Roles{}, "stage", Admin) || e.Allowed(Roles{}, PrivateTenant, Admin) {
				t.Error("zero Roles is an admin")
			}
		})
	}
}

func TestTenantAdminGlobalTenant(t *testing.T) {
	e := newTestEngine(t, "g:\n  tenant_permissions:\n  - tenant_patterns: [global_tenant]\n    allowed_actions: [tenant_admin]\n", "g:\n  users: [gus]\n")
	r := e.RolesFor("gus", nil)
	if !e.Allowed(r, GlobalTenant, Admin) || !e.Allowed(r, GlobalTenant, Write) {
		t.Error("tenant_admin on global_tenant does not grant admin and write")
	}
}

func TestAdminActionString(t *testing.T) {
	for a, want := range map[Action]string{Read: "read", Write: "write", Admin: "admin", 0: "invalid", 9: "invalid"} {
		if got := a.String(); got != want {
			t.Errorf("Action(%d).String() = %q, want %q", a, got, want)
		}
	}
	if _, err := ParseRoles([]byte(rolesHeader + "r:\n  tenant_permissions:\n  - tenant_patterns: [a]\n    allowed_actions: [tenant_admin]\n")); err != nil {
		t.Errorf("tenant_admin refused: %v", err)
	}
	if _, err := ParseRoles([]byte(rolesHeader + "r:\n  tenant_permissions:\n  - tenant_patterns: [a]\n    allowed_actions: [admin]\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown tenant action accepted: %v", err)
	}
}
