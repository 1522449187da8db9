package policy

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// Cluster permissions checked by the admin APIs, named as in OpenSearch
// Security. A role grants them in cluster_permissions, by name or by a
// pattern (see Engine.ClusterAllowed).
const (
	// ClusterTenants is creating, changing and deleting tenants and the
	// tenancy settings. It implies ClusterTenantsCreate.
	ClusterTenants = "restapi:admin/tenants"
	// ClusterTenantsCreate is creating tenants (and so becoming the new
	// tenant's admin) without the right to change or delete others.
	ClusterTenantsCreate = "restapi:admin/tenants/create"
	// ClusterRoles is managing every role.
	ClusterRoles = "restapi:admin/roles"
	// ClusterRolesMapping is managing every role mapping.
	ClusterRolesMapping = "restapi:admin/rolesmapping"
	// ClusterInternalUsers is managing users, service accounts, groups
	// and their tokens.
	ClusterInternalUsers = "restapi:admin/internalusers"
	// ClusterAudit is reading the audit trail of every tenant.
	ClusterAudit = "restapi:admin/audit"
	// ClusterAll is the action group that grants every cluster
	// permission, like "*".
	ClusterAll = "cluster_all"
)

// clusterImplies lists the permissions a cluster permission implies.
var clusterImplies = map[string][]string{
	ClusterTenants: {ClusterTenantsCreate},
}

// clusterModel is the access model of cluster permissions: one of the
// caller's roles has a cluster_permissions entry matching the permission.
const clusterModel = `
[request_definition]
r = sub, perm

[policy_definition]
p = sub, perm

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = hasRole(r.sub, p.sub) && permMatch(r.perm, p.perm)
`

// clusterKey identifies one cluster decision.
type clusterKey struct {
	roles string // Roles.key
	perm  string
}

func (k *clusterKey) hash(seed maphash.Seed) uint64 {
	return maphash.String(seed, k.perm) ^ maphash.String(seed, k.roles)
}

// maxClusterCache bounds the cluster decision cache: the permissions are
// a handful, so this is room for many role sets.
const maxClusterCache = 1 << 12

// newClusterEnforcer builds the enforcer of cluster permissions. Each
// role's cluster_permissions become lines (role, permission or pattern),
// with the permissions they imply; all_access always has "*". Empty
// entries are skipped.
func newClusterEnforcer(roles map[string]Role) (*casbin.Enforcer, error) {
	base, err := model.NewModelFromString(clusterModel)
	if err != nil {
		return nil, fmt.Errorf("policy: casbin cluster model: %w", err)
	}
	type line struct{ role, perm string }
	seen := map[line]bool{{AllAccess, "*"}: true}
	lines := [][]string{{AllAccess, "*"}}
	add := func(role, perm string) {
		if perm == "" || seen[line{role, perm}] {
			return
		}
		seen[line{role, perm}] = true
		lines = append(lines, []string{role, perm})
	}
	names := make([]string, 0, len(roles))
	for name := range roles {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, perm := range roles[name].ClusterPermissions {
			add(name, perm)
			for _, implied := range clusterImplies[perm] {
				add(name, implied)
			}
		}
	}
	fns := map[string]func(...any) (any, error){"hasRole": hasRole, "permMatch": permMatch}
	return newEnforcer(base, fns, lines, &request{}, ClusterRoles)
}

// permMatch is the casbin function permMatch(r.perm, p.perm): the
// permission asked for matches a cluster_permissions entry when the entry
// is ClusterAll, names it exactly, or is a pattern matching it ("*" any run
// of characters, "?" one; "restapi:admin/*" is a prefix pattern).
func permMatch(args ...any) (any, error) {
	if len(args) != 2 {
		return false, fmt.Errorf("permMatch: want 2 arguments, got %d", len(args))
	}
	perm, ok1 := args[0].(string)
	pat, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return false, fmt.Errorf("permMatch: bad argument types")
	}
	switch {
	case perm == "":
		return false, nil
	case pat == ClusterAll:
		return true, nil
	case strings.ContainsAny(pat, "*?"):
		return globMatch(perm, pat), nil
	}
	return perm == pat, nil
}

// ClusterAllowed reports whether a caller with roles r holds the cluster
// permission perm (one of the Cluster constants, or any other permission
// name). One of the caller's roles must list, in cluster_permissions, perm
// itself, "*" or ClusterAll ("cluster_all"), a pattern matching it ("*" and
// "?" wildcards, so "restapi:admin/*" covers every admin API), or a
// permission implying it (ClusterTenants implies ClusterTenantsCreate).
// all_access holds every permission whatever roles.yml says. The zero
// Roles and an empty perm are denied.
//
// Decisions are cached per role set and permission in a bounded cache.
func (e *Engine) ClusterAllowed(r Roles, perm string) bool {
	if r.gen == 0 || perm == "" {
		return false
	}
	st := e.st.Load()
	k := clusterKey{roles: r.key, perm: perm}
	var h uint64
	if st.clusterCache != nil {
		h = k.hash(st.clusterCache.seed)
		if ok, hit := st.clusterCache.get(k, h); hit {
			return ok
		}
	}
	ok, err := st.cluster.Enforce(&request{roles: r.names(), user: r.user}, perm)
	ok = ok && err == nil
	if st.clusterCache != nil {
		k.perm = strings.Clone(perm)
		st.clusterCache.put(k, h, ok)
	}
	return ok
}

// Superadmin reports whether a caller with roles r is mapped to the
// reserved role all_access, which may do anything in every tenant and
// holds every cluster permission. It is a fact about the role set, not a
// policy rule, so it does not consult casbin. The zero Roles is not a
// superadmin. (A user flagged superadmin in the control plane is one too;
// that flag lives outside this package.)
func (e *Engine) Superadmin(r Roles) bool {
	return r.gen != 0 && r.Has(AllAccess)
}
