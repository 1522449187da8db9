package policy

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"math/bits"
	"slices"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// casbinModel is the access model every enforcer uses. The request subject
// is a *request (the caller's role set and user name), not a string, so one
// Enforce call answers for all of the caller's roles. A policy line whose
// subject is AnySubject ("*") applies to every caller, roles or none; no
// role may be called "*". The matcher holds the action hierarchy: a rule
// granting admin covers every action, one granting write covers write and
// read, one granting read covers read.
const casbinModel = `
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

// maxInlineWild is the largest number of wildcard rules copied into every
// bucket.
const maxInlineWild = 16

// rulesPerBucket is the average number of exact-tenant rules per enforcer.
// Casbin evaluates every rule of an enforcer in turn, so this (and the
// number of wildcard rules) bounds the cost of an uncached decision
// whatever the number of tenants.
const rulesPerBucket = 8

// request is the subject of a casbin request.
type request struct {
	roles []string // sorted
	user  string
}

// rule is one casbin policy line: role may act on tenants matching pat.
type rule struct {
	role string
	pat  pattern
	act  Action
}

// decider holds the casbin enforcers of one policy generation.
//
// Casbin scans every policy line on each Enforce, so one enforcer holding
// the rules of all tenants degrades linearly with their number. Rules on an
// exact tenant name are therefore partitioned by a hash of the name into
// buckets of about rulesPerBucket rules, each with its own enforcer. Rules
// with wildcards or ${user.name} are copied into every bucket when there
// are at most maxInlineWild of them, so a decision is one Enforce over a
// handful of rules; when there are more they live in one more enforcer,
// asked after the tenant's bucket.
type decider struct {
	seed     maphash.Seed
	mask     uint64
	buckets  []*casbin.Enforcer // nil where a bucket has no rules
	wild     *casbin.Enforcer   // nil when wildcard rules are inlined in the buckets
	patterns map[string]pattern // compiled wildcard patterns by raw text
}

func newDecider(roles map[string]Role) (*decider, error) {
	base, err := model.NewModelFromString(casbinModel)
	if err != nil {
		return nil, fmt.Errorf("policy: casbin model: %w", err)
	}
	exact, wild, err := collectRules(roles)
	if err != nil {
		return nil, err
	}
	d := &decider{seed: maphash.MakeSeed(), patterns: map[string]pattern{}}
	for _, r := range wild {
		d.patterns[r.pat.raw] = r.pat
	}
	n := 1
	if len(exact) > rulesPerBucket {
		n = 1 << bits.Len(uint((len(exact)-1)/rulesPerBucket))
	}
	d.mask = uint64(n - 1)
	perBucket := make([][][]string, n)
	for _, r := range exact {
		b := d.bucketOf(r.pat.raw)
		perBucket[b] = append(perBucket[b], r.line())
	}
	var wildLines [][]string
	for _, r := range wild {
		wildLines = append(wildLines, r.line())
	}
	// With few wildcard rules, copy them into every bucket so a decision
	// is a single Enforce; otherwise keep them in an enforcer of their own.
	inline := len(wildLines) <= maxInlineWild
	d.buckets = make([]*casbin.Enforcer, n)
	for i, lines := range perBucket {
		if inline {
			lines = append(lines, wildLines...)
		}
		if len(lines) == 0 {
			continue
		}
		if d.buckets[i], err = d.newEnforcer(base, lines); err != nil {
			return nil, err
		}
	}
	if !inline {
		if d.wild, err = d.newEnforcer(base, wildLines); err != nil {
			return nil, err
		}
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
		pat, err := compilePattern(k.pat)
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

func (d *decider) bucketOf(tenant string) uint64 {
	return maphash.String(d.seed, tenant) & d.mask
}

// newEnforcer builds an enforcer over lines and runs one request through
// it, so the matcher expression is compiled (and checked) now rather than
// on the first real decision.
func (d *decider) newEnforcer(base model.Model, lines [][]string) (*casbin.Enforcer, error) {
	e, err := casbin.NewEnforcer(base.Copy())
	if err != nil {
		return nil, fmt.Errorf("policy: casbin enforcer: %w", err)
	}
	e.AddFunction("tenantMatch", d.tenantMatch)
	e.AddFunction("hasRole", hasRole)
	if _, err := e.AddPolicies(lines); err != nil {
		return nil, fmt.Errorf("policy: casbin policies: %w", err)
	}
	if _, err := e.Enforce(&request{}, "", Read.String()); err != nil {
		return nil, fmt.Errorf("policy: casbin matcher: %w", err)
	}
	return e, nil
}

// decide asks casbin whether req may act on tenant. Errors (which a fixed
// model and validated policy should never produce) deny.
func (d *decider) decide(req *request, tenant string, a Action) bool {
	act := a.String()
	if e := d.buckets[d.bucketOf(tenant)]; e != nil {
		if ok, err := e.Enforce(req, tenant, act); err == nil && ok {
			return true
		}
	}
	if d.wild != nil {
		ok, err := d.wild.Enforce(req, tenant, act)
		return err == nil && ok
	}
	return false
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
