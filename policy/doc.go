// Package policy decides what a caller may do: which tenants it may read,
// write or administer, which admin APIs it may use (cluster permissions)
// and which indices it may additionally write or manage (index
// permissions).
//
// It reads the two OpenSearch Security files that govern multi-tenancy:
// roles.yml (security roles and their permissions) and roles_mapping.yml
// (which users, backend roles and groups get which role), both in
// config_version 2 format with a _meta section. The control plane keeps
// the same Role and RoleMapping values and hands them to Replace after
// every change:
//
//	roles, err := policy.ParseRoles(rolesYAML)
//	mappings, err := policy.ParseRoleMappings(mappingYAML)
//	eng, err := policy.New(roles, mappings)
//	err = eng.Replace(roles, mappings) // at run time; validates the same way
//
// Per request the gateway maps the authenticated principal to its roles
// once and then asks for decisions, naming the tenant as OpenSearch does:
// a custom tenant by its name, the global tenant as GlobalTenant
// ("global_tenant") and the caller's own private tenant as PrivateTenant
// ("__user__"):
//
//	r := eng.RolesForGroups(principal.Name, principal.BackendRoles, user.Groups)
//	if !eng.Allowed(r, "analysts", policy.Write) { ... 403 ... }
//	tenants := eng.Tenants(r, names) // name → writable, for authinfo
//	if !eng.ClusterAllowed(r, policy.ClusterTenants) { ... 403 ... }
//
// # Tenant permissions
//
// Tenant permissions grant kibana_all_read (Read), kibana_all_write (Write)
// or tenant_admin (Admin) on tenant patterns, which match whole tenant
// names with the wildcards "*" and "?". Admin implies Write, which implies
// Read; the casbin matcher holds this hierarchy. Admin is administering
// the tenant (its tenant-scoped roles and their mappings, its service
// accounts' tokens, its audit view). A pattern may contain "${user.name}",
// replaced by the user name given to RolesFor (a user name containing a
// wildcard never matches such a pattern). The reserved role all_access is
// Admin of every tenant, whether or not roles.yml defines it.
//
// Two implicit rules hold in every policy, whatever roles.yml says; they
// are Casbin policy lines with the subject AnySubject ("*", every caller,
// with or without roles, so no role may be named "*"):
//
//	p, *, __user__, write       every caller reads and writes their own private tenant
//	p, *, global_tenant, read   every caller reads the global tenant
//
// Neither makes anybody an Admin. Writing (or administering) the global
// tenant needs a grant on "global_tenant" (or a pattern matching it).
// Another user's private tenant cannot be named here at all:
// PrivateTenant always means the caller's own, so the gateway passes it
// only for the private tenant of the authenticated user. Whether the global
// and private tenants are enabled is configuration the gateway checks
// before asking. Everything not granted is denied.
//
// # Tenant-scoped roles
//
// A role with Tenant set belongs to that tenant, as Kestra's tenant roles
// do: it is named "<name>@<tenant>" (creating tenant T creates "admin@T"
// with tenant_admin on T), its tenant permissions may name only T exactly,
// it has no cluster permissions, and its index permissions apply only in
// T. Any role whose name contains '@' must be scoped to the tenant after
// the last '@'. Violations are refused with ErrInvalid naming the role.
//
// # Role mappings
//
// A user gets a role when its name matches one of the mapping's users,
// one of its backend roles one of backend_roles, one of its groups one of
// groups (RolesForGroups; RolesFor passes no groups), or when it has all
// of and_backend_roles. All accept "*" and "?".
//
// # Cluster permissions
//
// ClusterAllowed checks the admin-API permissions, named as in OpenSearch
// (ClusterTenants "restapi:admin/tenants", which implies
// ClusterTenantsCreate, ClusterRoles, ClusterRolesMapping,
// ClusterInternalUsers, ClusterAudit). A role's cluster_permissions may
// list them, "*", "cluster_all", or patterns such as "restapi:admin/*".
// all_access holds them all; Superadmin reports a caller mapped to it.
//
// # Index permissions
//
// IndexAllowed checks index_permissions: index patterns ("*", "?",
// "${user.name}") and action groups (read, write, delete, crud, manage,
// indices_all, "*"; any other name is refused with ErrInvalid). A
// tenant-scoped role's index permissions apply in its tenant; any other
// role's in every tenant the caller may read. Index permissions are
// additive: a caller who may write a tenant may do everything to its
// indices; index permissions let a caller who may only read a tenant
// write, delete or manage specific indices there. HasIndexPermissions
// tells cheaply whether a caller has any, so the gateway asks IndexAllowed
// only for those callers.
//
// Restrictions that tenantgate cannot honour are refused at load with
// ErrInvalid naming the role and the key, so an administrator never
// believes documents are restricted when they are not: dls, fls and
// masked_fields in index_permissions, and hosts in a role mapping.
//
// # Decisions
//
// Casbin is the decision point: every uncached decision is a casbin
// Enforce. Tenant decisions use a model with r = sub, ten, act; cluster
// decisions r = sub, perm; index decisions r = sub, ten, idx, act. To keep
// decisions flat in the number of tenants, rules on exact tenant names
// (and the index rules of tenant-scoped roles) are indexed by that name:
// casbin is given the rules on the tenant asked about followed by the
// rules with wildcards or variables (or, when those are many, asked about
// them in a second Enforce), never a rule on another exact name, which
// could not match; a small pool of enforcers over the model evaluates
// them. Decisions are cached in bounded, sharded maps keyed by comparable
// structs, so a cached decision does not allocate. Replace swaps roles and
// mappings at run time and drops the caches.
package policy
