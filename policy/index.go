package policy

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// IndexAction is what a caller wants to do to an index, for index
// permissions (Engine.IndexAllowed).
type IndexAction uint8

// Index actions. They are independent: none implies another; action
// groups in a role's allowed_actions grant several at once. The zero
// IndexAction is invalid and always denied.
const (
	// IndexRead is searching and getting documents.
	IndexRead IndexAction = iota + 1
	// IndexWrite is indexing and updating documents.
	IndexWrite
	// IndexDelete is deleting documents.
	IndexDelete
	// IndexManage is creating and deleting the index and changing its
	// mappings and settings.
	IndexManage
)

// String returns "read", "write", "delete" or "manage" (the action names
// used in casbin rules).
func (a IndexAction) String() string {
	switch a {
	case IndexRead:
		return "read"
	case IndexWrite:
		return "write"
	case IndexDelete:
		return "delete"
	case IndexManage:
		return "manage"
	}
	return "invalid"
}

func (a IndexAction) valid() bool { return a >= IndexRead && a <= IndexManage }

// indexActionGroups are the names accepted in index_permissions
// allowed_actions and the actions each grants. Any other name is refused
// with ErrInvalid.
var indexActionGroups = map[string][]IndexAction{
	"read":        {IndexRead},
	"write":       {IndexWrite, IndexDelete},
	"delete":      {IndexDelete},
	"crud":        {IndexRead, IndexWrite, IndexDelete},
	"manage":      {IndexManage},
	"indices_all": {IndexRead, IndexWrite, IndexDelete, IndexManage},
	"*":           {IndexRead, IndexWrite, IndexDelete, IndexManage},
}

// indexActionNames lists the accepted action groups, for errors.
const indexActionNames = "read, write, delete, crud, manage, indices_all or *"

// anyTenant is the tenant of the index rules of roles that are not
// tenant-scoped: they apply in every tenant the caller may read.
const anyTenant = "*"

// indexModel is the access model of index permissions. A rule (role,
// tenant, index pattern, action) applies when the caller has the role, the
// action is the one asked for, the pattern matches the index, and either
// the rule's tenant is anyTenant and the caller may read the tenant asked
// about, or the rule belongs to a tenant-scoped role of exactly that
// tenant.
const indexModel = `
[request_definition]
r = sub, ten, idx, act

[policy_definition]
p = sub, ten, idx, act

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = hasRole(r.sub, p.sub) && p.act == r.act && indexMatch(r.idx, p.idx, r.sub) && ((p.ten == "*" && canRead(r.sub, r.ten)) || (p.ten != "*" && p.ten == r.ten))
`

// indexKey identifies one index decision.
type indexKey struct {
	roles  string // Roles.key
	user   string // set only when the decision may depend on the user name
	tenant string
	index  string
	act    IndexAction
}

func (k *indexKey) hash(seed maphash.Seed) uint64 {
	return maphash.String(seed, k.index) ^ maphash.String(seed, k.tenant) ^ maphash.String(seed, k.roles)
}

// maxIndexCache bounds the index decision cache.
const maxIndexCache = 1 << 16

// indexDecider holds the casbin policy and enforcers of index
// permissions: rules of tenant-scoped roles are keyed by their tenant, the
// others are shared (see enforcerSet).
type indexDecider struct {
	enforcerSet
	patterns map[string]pattern // compiled index patterns with wildcards or ${user.name}
	roles    map[string]bool    // roles that have index rules
}

func newIndexDecider(roles map[string]Role) (*indexDecider, error) {
	base, err := model.NewModelFromString(indexModel)
	if err != nil {
		return nil, fmt.Errorf("policy: casbin index model: %w", err)
	}
	d := &indexDecider{patterns: map[string]pattern{}, roles: map[string]bool{}}
	var keyed []keyedLine
	var shared [][]string
	seen := map[[4]string]bool{}
	add := func(role, tenant string, pat pattern, act IndexAction) {
		l := [4]string{role, tenant, pat.raw, act.String()}
		if seen[l] {
			return
		}
		seen[l] = true
		d.roles[role] = true
		if !pat.exact() {
			d.patterns[pat.raw] = pat
		}
		if tenant == anyTenant {
			shared = append(shared, l[:])
		} else {
			keyed = append(keyed, keyedLine{key: tenant, line: l[:]})
		}
	}
	for _, a := range indexActionGroups["*"] {
		add(AllAccess, anyTenant, pattern{raw: "*", wild: true}, a)
	}
	names := make([]string, 0, len(roles))
	for name := range roles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		role := roles[name]
		tenant := role.Tenant
		if tenant == "" {
			tenant = anyTenant
		}
		for i, ip := range role.IndexPermissions {
			for _, raw := range ip.IndexPatterns {
				pat, err := compilePattern("index", raw)
				if err != nil {
					return nil, invalidf("role %q: index_permissions[%d]: %v", name, i, err)
				}
				for _, group := range ip.AllowedActions {
					for _, a := range indexActionGroups[group] {
						add(name, tenant, pat, a)
					}
				}
			}
		}
	}
	fns := map[string]func(...any) (any, error){"hasRole": hasRole, "indexMatch": d.indexMatch, "canRead": canRead}
	d.enforcerSet, err = newEnforcerSet(keyed, shared, func() (*casbin.Enforcer, error) {
		return newEnforcer(base, fns, nil, &request{}, "", "", IndexRead.String())
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// indexMatch is the casbin function indexMatch(r.idx, p.idx, r.sub).
func (d *indexDecider) indexMatch(args ...any) (any, error) {
	if len(args) != 3 {
		return false, fmt.Errorf("indexMatch: want 3 arguments, got %d", len(args))
	}
	name, ok1 := args[0].(string)
	raw, ok2 := args[1].(string)
	req, ok3 := args[2].(*request)
	if !ok1 || !ok2 || !ok3 {
		return false, fmt.Errorf("indexMatch: bad argument types")
	}
	if p, ok := d.patterns[raw]; ok {
		return p.matches(name, req.user), nil
	}
	return name == raw, nil
}

// canRead is the casbin function canRead(r.sub, r.ten): may the caller
// read the tenant? It asks the tenant decider (through the request's
// readable, which remembers the answer for the rest of the request).
func canRead(args ...any) (any, error) {
	if len(args) != 2 {
		return false, fmt.Errorf("canRead: want 2 arguments, got %d", len(args))
	}
	req, ok1 := args[0].(*request)
	tenant, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("canRead: bad argument types")
	}
	return req.readable != nil && req.readable(tenant), nil
}

// HasIndexPermissions reports whether any of the caller's roles has an
// index permission, so that a gateway can skip IndexAllowed for the many
// callers without one. It is cheap (a lookup per role) and does not
// allocate. all_access has index permissions. The zero Roles has none.
func (e *Engine) HasIndexPermissions(r Roles) bool {
	return r.gen != 0 && e.st.Load().hasIndexRules(r)
}

func (st *state) hasIndexRules(r Roles) bool {
	for _, n := range r.names() {
		if st.index.roles[n] {
			return true
		}
	}
	return false
}

// IndexAllowed reports whether an index permission lets a caller with
// roles r perform a on the index named index (the logical name, as the
// client sends it) in tenant (named as for Allowed). It is true when one
// of the caller's roles has an index_permissions entry whose index_patterns
// match the index ("*" and "?" wildcards, ${user.name}) and whose
// allowed_actions cover a, and the role applies in the tenant: a
// tenant-scoped role (Role.Tenant) only in its own tenant, any other role
// in every tenant the caller may read (Allowed(r, tenant, Read)). Action
// groups: read (IndexRead), write (IndexWrite and IndexDelete), delete
// (IndexDelete), crud (IndexRead, IndexWrite, IndexDelete), manage
// (IndexManage), and "*" or indices_all (everything). all_access has every
// index permission. The zero Roles, an invalid action and an empty index
// name are denied.
//
// Index permissions are additive: they only widen what the tenant
// permissions allow. A caller who may write a tenant may do everything to
// its indices whatever index permissions say; index permissions let a
// caller who may only read a tenant write or manage specific indices
// there. A gateway therefore asks, for an index request in a tenant the
// caller may read:
//
//	eng.Allowed(r, tenant, policy.Write) ||
//		(eng.HasIndexPermissions(r) && eng.IndexAllowed(r, tenant, index, act))
//
// Decisions are cached in a bounded cache; a cached decision does not
// allocate.
func (e *Engine) IndexAllowed(r Roles, tenant, index string, a IndexAction) bool {
	if r.gen == 0 || !a.valid() || index == "" {
		return false
	}
	st := e.st.Load()
	if !st.hasIndexRules(r) {
		return false
	}
	k := indexKey{roles: r.key, user: st.userKey(r), tenant: tenant, index: index, act: a}
	var h uint64
	if st.indexCache != nil {
		h = k.hash(st.indexCache.seed)
		if ok, hit := st.indexCache.get(k, h); hit {
			return ok
		}
	}
	var known, readable bool
	req := &request{roles: r.names(), user: r.user, readable: func(t string) bool {
		if !known {
			readable, known = st.allowed(r, t, Read), true
		}
		return readable
	}}
	ok := st.index.enforce(tenant, req, tenant, index, a.String())
	if st.indexCache != nil {
		k.tenant, k.index = strings.Clone(tenant), strings.Clone(index)
		st.indexCache.put(k, h, ok)
	}
	return ok
}
