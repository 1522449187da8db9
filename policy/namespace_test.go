package policy

import (
	"errors"
	"testing"
)

const nsRoles = `
mkt_operator:
  namespace_permissions:
  - tenant_patterns: [marketing]
    namespaces: [company.marketing]
    permissions:
      FLOW: [read, execute]
      execution: [CREATE, read, kill]
everything_in_ops:
  namespace_permissions:
  - tenant_patterns: ["ops*"]
    permissions:
      "*": ["*"]
mine:
  namespace_permissions:
  - tenant_patterns: ["${user.name}"]
    namespaces: ["*"]
    permissions:
      LOG: [read]
viewer@marketing:
  tenant: marketing
  namespace_permissions:
  - namespaces: [company]
    permissions:
      SECRET: [read]
`

const nsMappings = `
mkt_operator:
  users: [mo]
everything_in_ops:
  users: [eo]
mine:
  users: [pat]
viewer@marketing:
  users: [vi]
`

func TestNamespaceAllowed(t *testing.T) {
	e := newTestEngine(t, nsRoles, nsMappings)
	tests := []struct {
		user, tenant, ns string
		res              Resource
		verb             Verb
		want             bool
	}{
		{"mo", "marketing", "company.marketing", ResFlow, VerbRead, true},
		{"mo", "marketing", "company.marketing.emea", ResFlow, VerbExecute, true},
		{"mo", "marketing", "company.marketingx", ResFlow, VerbRead, false},
		{"mo", "marketing", "company", ResFlow, VerbRead, false},
		{"mo", "marketing", "company.marketing", ResFlow, VerbUpdate, false},
		{"mo", "marketing", "company.marketing", ResExecution, VerbCreate, true},
		{"mo", "marketing", "company.marketing", ResExecution, VerbDelete, false},
		{"mo", "marketing", "", ResExecution, VerbKill, true}, // some namespace
		{"mo", "marketing", "", ResSecret, VerbRead, false},
		{"mo", "sales", "company.marketing", ResFlow, VerbRead, false},
		{"eo", "ops", "anything.at.all", ResSecret, VerbDelete, true},
		{"eo", "ops2", "x", ResLog, VerbKill, true},
		{"eo", "dev", "x", ResLog, VerbRead, false},
		{"pat", "pat", "x", ResLog, VerbRead, true},
		{"pat", "pam", "x", ResLog, VerbRead, false},
		{"vi", "marketing", "company.hr", ResSecret, VerbRead, true},
		{"vi", "marketing", "companyx", ResSecret, VerbRead, false},
		{"vi", "sales", "company", ResSecret, VerbRead, false},
		{"vi", "marketing", "company", ResSecret, VerbCreate, false},
		{"nobody", "marketing", "company.marketing", ResFlow, VerbRead, false},
	}
	for _, tt := range tests {
		t.Run(tt.user+"/"+tt.tenant+"/"+tt.ns+"/"+string(tt.res)+"/"+string(tt.verb), func(t *testing.T) {
			r := e.RolesFor(tt.user, nil)
			if got := e.NamespaceAllowed(r, tt.tenant, tt.ns, tt.res, tt.verb); got != tt.want {
				t.Fatalf("NamespaceAllowed = %v, want %v", got, tt.want)
			}
		})
	}
	if !e.HasNamespacePermissions(e.RolesFor("mo", nil)) || e.HasNamespacePermissions(e.RolesFor("nobody", nil)) {
		t.Fatal("HasNamespacePermissions wrong")
	}
	if e.NamespaceAllowed(Roles{}, "marketing", "company.marketing", ResFlow, VerbRead) {
		t.Fatal("zero Roles allowed")
	}
}

func TestNamespacePermissionsInvalid(t *testing.T) {
	tests := map[string]string{
		"unknown resource": "r:\n  namespace_permissions:\n  - tenant_patterns: [t]\n    permissions: {WIDGET: [read]}\n",
		"unknown verb":     "r:\n  namespace_permissions:\n  - tenant_patterns: [t]\n    permissions: {FLOW: [fly]}\n",
		"no tenants":       "r:\n  namespace_permissions:\n  - permissions: {FLOW: [read]}\n",
		"no permissions":   "r:\n  namespace_permissions:\n  - tenant_patterns: [t]\n    namespaces: [a]\n",
		"bad namespace":    "r:\n  namespace_permissions:\n  - tenant_patterns: [t]\n    namespaces: [Company]\n    permissions: {FLOW: [read]}\n",
		"scoped elsewhere": "r@a:\n  tenant: a\n  namespace_permissions:\n  - tenant_patterns: [b]\n    permissions: {FLOW: [read]}\n",
		"bad variable":     "r:\n  namespace_permissions:\n  - tenant_patterns: [\"${user.email}\"]\n    permissions: {FLOW: [read]}\n",
	}
	for name, y := range tests {
		t.Run(name, func(t *testing.T) {
			roles, err := ParseRoles([]byte(rolesHeader + y))
			if err == nil {
				_, err = New(roles, nil)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}
