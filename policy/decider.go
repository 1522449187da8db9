package policy

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// tenantModel is the access model of tenant decisions. The request subject
// is a *request (the caller's role set and user name), not a string, so one
// Enforce call answers for all of the caller's roles. A policy line whose
// subject is AnySubject ("*") applies to every caller, roles or none; no
// role may be called "*". The matcher holds the action hierarchy: a rule
// granting admin covers every action, one granting write covers write and
// read, one granting read covers read.
const tenantModel = `
[request_definition]
r = sub, ten, act

[policy_definition]
p = sub, ten, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = tenantMatch(r.ten, p.ten, r.sub) && (p.sub == "*" || hasRole(r.sub, p.sub)) && (p.act == r.act || p.act == "admin" || (p.act == "write" && r.act == "read"))
`

// implicitRules are the policy lines every policy holds whatever roles.yml
// says: every caller may read and write their own private tenant, and read
// the global tenant. They are ordinary rules on exact tenant names, so
// Casbin decides them like any other.
var implicitRules = []rule{
	{role: AnySubject, pat: pattern{raw: PrivateTenant}, act: Write},
	{role: AnySubject, pat: pattern{raw: GlobalTenant}, act: Read},
}

// request is the subject of a casbin request.
type request struct {
	roles []string // sorted
	user  string
	// readable reports whether the caller may read a tenant; set for
	// index decisions only (see canRead).
	readable func(tenant string) bool
}

// rule is one casbin policy line: role may act on tenants matching pat.
type rule struct {
	role string
	pat  pattern
	act  Action
}

// decider holds the casbin policy and enforcers of the tenant decisions
// of one policy generation: rules on an exact tenant name are keyed by it,
// rules with wildcards or ${user.name} are shared (see enforcerSet).
type decider struct {
	enforcerSet
	patterns map[string]pattern // compiled wildcard patterns by raw text
}

func newDecider(roles map[string]Role) (*decider, error) {
	base, err := model.NewModelFromString(tenantModel)
	if err != nil {
		return nil, fmt.Errorf("policy: casbin model: %w", err)
	}
	exact, wild, err := collectRules(roles)
	if err != nil {
		return nil, err
	}
	d := &decider{patterns: map[string]pattern{}}
	keyed := make([]keyedLine, 0, len(exact))
	for _, r := range exact {
		keyed = append(keyed, keyedLine{key: r.pat.raw, line: r.line()})
	}
	var shared [][]string
	for _, r := range wild {
		d.patterns[r.pat.raw] = r.pat
		shared = append(shared, r.line())
	}
	fns := map[string]func(...any) (any, error){"tenantMatch": d.tenantMatch, "hasRole": hasRole}
	d.enforcerSet, err = newEnforcerSet(keyed, shared, func() (*casbin.Enforcer, error) {
		return newEnforcer(base, fns, nil, &request{}, "", Read.String())
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

func (r rule) line() []string { return []string{r.role, r.pat.raw, r.act.String()} }

// collectRules turns tenant permissions into rules, split into rules on
// exact tenant names and rules with wildcards or variables. A stronger
// grant makes a weaker one on the same pattern redundant, so only the
// strongest is kept. The reserved all_access role always gets admin on "*",
// and the implicitRules are always there.
func collectRules(roles map[string]Role) (exact, wild []rule, err error) {
	type rp struct{ role, pat string }
	grants := map[rp]Action{{AllAccess, "*"}: Admin}
	for _, r := range implicitRules {
		grants[rp{r.role, r.pat.raw}] = r.act
	}
	for name, role := range roles {
		role.Name = name
		if err := validateRole(role); err != nil {
			return nil, nil, err
		}
		for _, tp := range role.TenantPermissions {
			var act Action
			for _, a := range tp.AllowedActions {
				act = max(act, tenantAction(a))
			}
			if act == 0 {
				continue
			}
			for _, p := range tp.TenantPatterns {
				k := rp{name, p}
				grants[k] = max(grants[k], act)
			}
		}
	}
	for k, act := range grants {
		pat, err := compilePattern("tenant", k.pat)
		if err != nil {
			return nil, nil, invalidf("role %q: %v", k.role, err)
		}
		r := rule{role: k.role, pat: pat, act: act}
		if pat.exact() {
			exact = append(exact, r)
		} else {
			wild = append(wild, r)
		}
	}
	// Deterministic order: stronger rules first so allows stop the scan
	// early.
	order := func(a, b rule) int {
		if a.act != b.act {
			return int(b.act) - int(a.act)
		}
		if c := cmp.Compare(a.pat.raw, b.pat.raw); c != 0 {
			return c
		}
		return cmp.Compare(a.role, b.role)
	}
	slices.SortFunc(exact, order)
	slices.SortFunc(wild, order)
	return exact, wild, nil
}

// decide asks casbin whether req may act on tenant.
func (d *decider) decide(req *request, tenant string, a Action) bool {
	return d.enforce(tenant, req, tenant, a.String())
}

// tenantMatch is the casbin function tenantMatch(r.ten, p.ten, r.sub).
func (d *decider) tenantMatch(args ...any) (any, error) {
	if len(args) != 3 {
		return false, fmt.Errorf("tenantMatch: want 3 arguments, got %d", len(args))
	}
	name, ok1 := args[0].(string)
	raw, ok2 := args[1].(string)
	req, ok3 := args[2].(*request)
	if !ok1 || !ok2 || !ok3 {
		return false, fmt.Errorf("tenantMatch: bad argument types")
	}
	if p, ok := d.patterns[raw]; ok {
		return p.matches(name, req.user), nil
	}
	return name == raw, nil // rules in buckets are exact names
}

// hasRole is the casbin function hasRole(r.sub, p.sub).
func hasRole(args ...any) (any, error) {
	if len(args) != 2 {
		return false, fmt.Errorf("hasRole: want 2 arguments, got %d", len(args))
	}
	req, ok1 := args[0].(*request)
	role, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("hasRole: bad argument types")
	}
	_, ok := slices.BinarySearch(req.roles, role)
	return ok, nil
}
