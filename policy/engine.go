package policy

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
)

// Action is what a caller wants to do in a tenant.
type Action uint8

// Actions. Admin implies Write, which implies Read. The zero Action is
// invalid and always denied.
const (
	// Read is viewing saved objects (kibana_all_read, kibana_all_write or
	// tenant_admin).
	Read Action = iota + 1
	// Write is creating, changing or deleting saved objects
	// (kibana_all_write or tenant_admin).
	Write
	// Admin is administering the tenant: its tenant-scoped roles and
	// their mappings, its service accounts' tokens and its audit view
	// (tenant_admin).
	Admin
)

// String returns "read", "write" or "admin" (the action names used in
// casbin rules).
func (a Action) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case Admin:
		return "admin"
	}
	return "invalid"
}

// valid reports whether a is one of Read, Write and Admin.
func (a Action) valid() bool { return a >= Read && a <= Admin }

// Engine decides what a caller may do: which tenants it may read, write
// or administer (Allowed, Tenants), which cluster permissions it holds
// (ClusterAllowed) and which indices index permissions let it use
// (IndexAllowed). It maps users to security roles (roles_mapping.yml,
// RolesFor and RolesForGroups) and asks casbin whether one of those roles
// has a permission (roles.yml) covering the request; decisions are cached.
// An Engine is safe for concurrent use; Replace swaps the whole policy
// atomically.
type Engine struct {
	mu   sync.Mutex // serializes Replace
	st   atomic.Pointer[state]
	opts options
}

// state is one immutable policy generation with its own decision cache, so
// replacing the state invalidates the cache.
type state struct {
	gen       uint64
	mappings  mappingIndex
	templated map[string]bool // roles with a ${user.name} tenant or index pattern
	decider   *decider
	cache     *decisionCache[decisionKey] // nil when caching is disabled
	intern    internTable

	cluster      *casbin.Enforcer
	clusterCache *decisionCache[clusterKey] // nil when caching is disabled
	index        *indexDecider
	indexCache   *decisionCache[indexKey] // nil when caching is disabled

	ns map[string][]nsRule // namespace permissions by role name
}

type options struct {
	noCache   bool
	cacheSize int
}

// option configures an Engine; unexported, for tests and benchmarks.
type option func(*options)

// withoutCache disables the decision cache.
func withoutCache() option { return func(o *options) { o.noCache = true } }

// withCacheSize bounds the decision cache to about n entries.
func withCacheSize(n int) option { return func(o *options) { o.cacheSize = n } }

// New builds an Engine from parsed roles and role mappings (see ParseRoles
// and ParseRoleMappings). The reserved role all_access is admin of every
// tenant and holds every cluster and index permission even when roles
// does not define it. Invalid roles and mappings (including those
// ParseRoles and ParseRoleMappings refuse) are errors wrapping ErrInvalid.
func New(roles map[string]Role, mappings map[string]RoleMapping) (*Engine, error) {
	return newEngine(roles, mappings)
}

func newEngine(roles map[string]Role, mappings map[string]RoleMapping, opts ...option) (*Engine, error) {
	e := &Engine{opts: options{cacheSize: defaultCacheSize}}
	for _, o := range opts {
		o(&e.opts)
	}
	st, err := e.build(roles, mappings, 1)
	if err != nil {
		return nil, err
	}
	e.st.Store(st)
	return e, nil
}

func (e *Engine) build(roles map[string]Role, mappings map[string]RoleMapping, gen uint64) (*state, error) {
	for name, m := range mappings {
		if err := validateMapping(name, m); err != nil {
			return nil, err
		}
	}
	d, err := newDecider(roles)
	if err != nil {
		return nil, err
	}
	cluster, err := newClusterEnforcer(roles)
	if err != nil {
		return nil, err
	}
	index, err := newIndexDecider(roles)
	if err != nil {
		return nil, err
	}
	st := &state{
		gen:       gen,
		mappings:  buildMappingIndex(mappings),
		templated: map[string]bool{},
		decider:   d,
		cluster:   cluster,
		index:     index,
	}
	st.ns = map[string][]nsRule{}
	for name, r := range roles {
		r.Name = name
		rules, err := compileNamespacePermissions(r)
		if err != nil {
			return nil, err
		}
		if len(rules) > 0 {
			st.ns[name] = rules
		}
	}
	templated := func(p string) bool {
		return strings.Contains(p, userVar) || strings.Contains(p, userVarAlt)
	}
	for name, r := range roles {
		for _, tp := range r.TenantPermissions {
			if slices.ContainsFunc(tp.TenantPatterns, templated) {
				st.templated[name] = true
			}
		}
		for _, ip := range r.IndexPermissions {
			if slices.ContainsFunc(ip.IndexPatterns, templated) {
				st.templated[name] = true
			}
		}
	}
	if !e.opts.noCache {
		st.cache = newDecisionCache[decisionKey](e.opts.cacheSize)
		st.clusterCache = newDecisionCache[clusterKey](min(e.opts.cacheSize, maxClusterCache))
		st.indexCache = newDecisionCache[indexKey](min(e.opts.cacheSize, maxIndexCache))
	}
	return st, nil
}

// Replace swaps in a new policy atomically; the control plane calls it
// after every change to roles or mappings. It validates like New (tenant,
// cluster and index permissions, tenant-scoped roles, mappings). Decisions
// already cached are dropped; Roles computed before should be recomputed
// with RolesFor or RolesForGroups (see Generation). On error the current
// policy stays in force.
func (e *Engine) Replace(roles map[string]Role, mappings map[string]RoleMapping) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, err := e.build(roles, mappings, e.st.Load().gen+1)
	if err != nil {
		return err
	}
	e.st.Store(st)
	return nil
}

// Generation returns a counter that Replace increments. Callers caching
// Roles can key them by it.
func (e *Engine) Generation() uint64 { return e.st.Load().gen }

// RolesFor returns the security roles mapped to a user with the given
// backend roles. A user is mapped to a role when its name matches one of
// the mapping's users, when one of its backend roles matches one of the
// mapping's backend_roles, or when it has all of the mapping's
// and_backend_roles (patterns may use "*" and "?"). It is
// RolesForGroups(user, backendRoles, nil).
func (e *Engine) RolesFor(user string, backendRoles []string) Roles {
	return e.RolesForGroups(user, backendRoles, nil)
}

// RolesForGroups is RolesFor for a user who also belongs to groups (the
// internal user groups of the control plane): the user is also mapped to
// a role when one of its groups matches one of the mapping's groups, by
// name or by a pattern with "*" and "?".
func (e *Engine) RolesForGroups(user string, backendRoles, groups []string) Roles {
	st := e.st.Load()
	names := st.mappings.lookup(user, backendRoles, groups)
	if len(names) == 0 {
		return Roles{user: user, gen: st.gen}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	set := st.intern.get(slices.Clip(names))
	r := Roles{key: set.key, user: strings.Clone(user), set: set, gen: st.gen}
	for _, n := range set.names {
		if st.templated[n] {
			r.needsUser = true
			break
		}
	}
	return r
}

// Allowed reports whether a caller with roles r may perform a (Read, Write
// or Admin; Admin implies Write implies Read) in tenant, which is a custom
// tenant's name, GlobalTenant ("global_tenant") or PrivateTenant
// ("__user__", the caller's own private tenant). Besides what roles.yml
// grants, two implicit rules hold for every caller: write (and so read) on
// PrivateTenant and read on GlobalTenant; neither makes anybody an Admin
// of those tenants. all_access is Admin of every tenant. Tenant patterns
// containing ${user.name} are expanded with r.User(). Anything not granted
// is denied, and so is everything for the zero Roles (one not returned by
// RolesFor).
//
// A decision cached for the same roles, tenant and action is returned
// without allocating.
func (e *Engine) Allowed(r Roles, tenant string, a Action) bool {
	return e.st.Load().allowed(r, tenant, a)
}

func (st *state) allowed(r Roles, tenant string, a Action) bool {
	if r.gen == 0 || !a.valid() {
		return false // not from RolesFor, or not an action
	}
	k := decisionKey{roles: r.key, user: st.userKey(r), tenant: tenant, act: a}
	var h uint64
	if st.cache != nil {
		h = k.hash(st.cache.seed)
		if ok, hit := st.cache.get(k, h); hit {
			return ok
		}
	}
	ok := st.decider.decide(&request{roles: r.names(), user: r.user}, tenant, a)
	if st.cache != nil {
		k.tenant = strings.Clone(tenant) // the caller may reuse its memory
		st.cache.put(k, h, ok)
	}
	return ok
}

// userKey returns the user part of a cache key for r: the user name when
// decisions about r may depend on it (some role of r uses ${user.name}, or
// r comes from another generation, whose roles may differ), else "".
func (st *state) userKey(r Roles) string {
	if r.needsUser || r.gen != st.gen {
		return r.user
	}
	return ""
}

// Tenants returns, for each of the given tenant names the caller may read,
// whether it may also write (true) or only read (false). Tenants it may not
// read are absent. This is the shape of the "tenants" field of OpenSearch's
// authinfo. Include GlobalTenant and PrivateTenant in tenants to have them
// answered: by the implicit rules the first is always present (true when a
// role grants write on it) and the second is always true. The result names
// the private tenant PrivateTenant; authinfo shows it under the user name.
func (e *Engine) Tenants(r Roles, tenants []string) map[string]bool {
	out := make(map[string]bool)
	for _, t := range tenants {
		if e.Allowed(r, t, Write) {
			out[t] = true
		} else if e.Allowed(r, t, Read) {
			out[t] = false
		}
	}
	return out
}
