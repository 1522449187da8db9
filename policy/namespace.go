package policy

import (
	"slices"
	"strings"
)

// Resource is a kind of Kestra object that namespace permissions grant
// verbs on (Engine.NamespaceAllowed).
type Resource string

// Resources, named as Kestra names them in its roles.
const (
	// ResFlow is flows: their sources, revisions and validation.
	ResFlow Resource = "FLOW"
	// ResExecution is executions of flows and the worker's reports on them.
	ResExecution Resource = "EXECUTION"
	// ResNamespace is namespaces, their variables and plugin defaults.
	ResNamespace Resource = "NAMESPACE"
	// ResSecret is namespace secrets (their keys; values are never read
	// back through the API).
	ResSecret Resource = "SECRET"
	// ResLog is execution logs.
	ResLog Resource = "LOG"
)

// resources lists every Resource, for validation and "*".
var resources = []Resource{ResFlow, ResExecution, ResNamespace, ResSecret, ResLog}

// Verb is what a caller does to a Resource.
type Verb string

// Verbs, as Kestra names its permission actions (lower-case here, as in
// roles.yml; upper-case is accepted too).
const (
	VerbCreate  Verb = "create"
	VerbRead    Verb = "read"
	VerbUpdate  Verb = "update"
	VerbDelete  Verb = "delete"
	VerbExecute Verb = "execute"
	VerbKill    Verb = "kill"
)

// verbs lists every Verb, for validation and "*".
var verbs = []Verb{VerbCreate, VerbRead, VerbUpdate, VerbDelete, VerbExecute, VerbKill}

// Reads reports whether v only reads: tenant read (kibana_all_read)
// allows it on every resource.
func (v Verb) Reads() bool { return v == VerbRead }

// NamespacePermission is one entry of a role's namespace_permissions: it
// grants Permissions (resource → verbs) on the namespaces listed in
// Namespaces and their children, in the tenants TenantPatterns match.
//
//	namespace_permissions:
//	  - tenant_patterns: [marketing]
//	    namespaces: [company.marketing]
//	    permissions:
//	      FLOW: [read, execute]
//	      EXECUTION: [create, read, kill]
//
// A namespace covers itself and the namespaces below it on the dot
// boundary: "company" covers "company.marketing", not "companyx". An empty
// Namespaces list, or "*", covers every namespace. A tenant-scoped role
// (Role.Tenant) may leave TenantPatterns empty (its own tenant) or name
// only its tenant. Resources are FLOW, EXECUTION, NAMESPACE, SECRET and
// LOG, or "*" for all; verbs are create, read, update, delete, execute and
// kill, or "*" for all.
type NamespacePermission struct {
	// TenantPatterns are the tenants where the grant applies, with the
	// wildcards and variable of tenant_permissions.
	TenantPatterns []string `yaml:"tenant_patterns" json:"tenant_patterns"`
	// Namespaces are the namespaces covered, each with its children.
	Namespaces []string `yaml:"namespaces" json:"namespaces"`
	// Permissions maps a resource to the verbs granted on it.
	Permissions map[string][]string `yaml:"permissions" json:"permissions"`
}

// nsRule is one compiled namespace permission.
type nsRule struct {
	tenants    []pattern // empty: the role's own tenant (scoped roles only)
	scoped     string    // the tenant of a tenant-scoped role
	namespaces []string  // empty: every namespace
	grants     map[Resource][]Verb
}

// applies reports whether the rule holds in tenant for user.
func (n nsRule) applies(tenant, user string) bool {
	if n.scoped != "" {
		return tenant == n.scoped
	}
	for _, p := range n.tenants {
		if p.matches(tenant, user) {
			return true
		}
	}
	return false
}

// covers reports whether the rule covers namespace ns ("" asks whether it
// covers any namespace).
func (n nsRule) covers(ns string) bool {
	if len(n.namespaces) == 0 || ns == "" {
		return true
	}
	for _, p := range n.namespaces {
		if ns == p || strings.HasPrefix(ns, p) && ns[len(p)] == '.' {
			return true
		}
	}
	return false
}

// compileNamespacePermissions validates and compiles a role's
// namespace_permissions.
func compileNamespacePermissions(r Role) ([]nsRule, error) {
	var out []nsRule
	for i, np := range r.NamespacePermissions {
		rule := nsRule{grants: map[Resource][]Verb{}}
		if r.Tenant != "" {
			for _, p := range np.TenantPatterns {
				if p != r.Tenant {
					return nil, invalidf("role %q: namespace_permissions[%d]: tenant pattern %q: a role scoped to tenant %q may only name %q",
						r.Name, i, p, r.Tenant, r.Tenant)
				}
			}
			rule.scoped = r.Tenant
		} else {
			if len(np.TenantPatterns) == 0 {
				return nil, invalidf("role %q: namespace_permissions[%d]: tenant_patterns must name at least one tenant", r.Name, i)
			}
			for _, p := range np.TenantPatterns {
				cp, err := compilePattern("tenant", p)
				if err != nil {
					return nil, invalidf("role %q: namespace_permissions[%d]: %v", r.Name, i, err)
				}
				rule.tenants = append(rule.tenants, cp)
			}
		}
		for _, ns := range np.Namespaces {
			if ns == "*" {
				rule.namespaces = nil
				break
			}
			if !validNamespace(ns) {
				return nil, invalidf("role %q: namespace_permissions[%d]: invalid namespace %q (lower-case letters, digits, '.', '_' and '-', starting with a letter or digit)", r.Name, i, ns)
			}
			rule.namespaces = append(rule.namespaces, ns)
		}
		if len(np.Permissions) == 0 {
			return nil, invalidf("role %q: namespace_permissions[%d]: permissions must grant at least one verb", r.Name, i)
		}
		for res, vs := range np.Permissions {
			var targets []Resource
			if res == "*" {
				targets = resources
			} else if rr := Resource(strings.ToUpper(res)); slices.Contains(resources, rr) {
				targets = []Resource{rr}
			} else {
				return nil, invalidf("role %q: namespace_permissions[%d]: unknown resource %q (want FLOW, EXECUTION, NAMESPACE, SECRET, LOG or *)", r.Name, i, res)
			}
			var granted []Verb
			for _, v := range vs {
				if v == "*" {
					granted = verbs
					break
				}
				vv := Verb(strings.ToLower(v))
				if !slices.Contains(verbs, vv) {
					return nil, invalidf("role %q: namespace_permissions[%d]: %s: unknown verb %q (want create, read, update, delete, execute, kill or *)", r.Name, i, res, v)
				}
				granted = append(granted, vv)
			}
			for _, t := range targets {
				rule.grants[t] = append(rule.grants[t], granted...)
			}
		}
		out = append(out, rule)
	}
	return out, nil
}

// validNamespace reports whether ns is a valid Kestra namespace
// (^[a-z0-9][a-z0-9._-]*$, at most 150 characters).
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 150 {
		return false
	}
	for i := 0; i < len(ns); i++ {
		c := ns[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// HasNamespacePermissions reports whether any of the caller's roles has a
// namespace permission, so that a gateway can skip NamespaceAllowed for
// callers without one.
func (e *Engine) HasNamespacePermissions(r Roles) bool {
	if r.gen == 0 {
		return false
	}
	st := e.st.Load()
	for _, n := range r.names() {
		if len(st.ns[n]) > 0 {
			return true
		}
	}
	return false
}

// NamespaceAllowed reports whether one of the caller's roles grants verb
// v on resource res in namespace ns of tenant (named as for Allowed), by
// its namespace_permissions. An empty ns asks whether some namespace of
// the tenant is granted: a gateway asks that before it knows the
// namespace, and asks again with it. Namespace permissions are additive:
// a caller who may write a tenant may do everything there, and one who
// may read it may read everything; a gateway asks NamespaceAllowed only
// when those refuse. The zero Roles is denied.
func (e *Engine) NamespaceAllowed(r Roles, tenant, ns string, res Resource, v Verb) bool {
	if r.gen == 0 || tenant == "" {
		return false
	}
	st := e.st.Load()
	for _, n := range r.names() {
		for _, rule := range st.ns[n] {
			if slices.Contains(rule.grants[res], v) && rule.applies(tenant, r.user) && rule.covers(ns) {
				return true
			}
		}
	}
	return false
}
