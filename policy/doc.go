// Package policy decides which tenants a caller may read or write.
//
// It reads the two OpenSearch Security files that govern multi-tenancy:
// roles.yml (security roles and their tenant_permissions) and
// roles_mapping.yml (which users and backend roles get which role), both in
// config_version 2 format with a _meta section:
//
//	roles, err := policy.ParseRoles(rolesYAML)
//	mappings, err := policy.ParseRoleMappings(mappingYAML)
//	eng, err := policy.New(roles, mappings)
//
// Per request the gateway maps the authenticated principal to its roles
// once and then asks for decisions, naming the tenant as OpenSearch does:
// a custom tenant by its name, the global tenant as GlobalTenant
// ("global_tenant") and the caller's own private tenant as PrivateTenant
// ("__user__"):
//
//	r := eng.RolesFor(principal.Name, principal.BackendRoles)
//	if !eng.Allowed(r, "analysts", policy.Write) { ... 403 ... }
//	tenants := eng.Tenants(r, names) // name → writable, for authinfo
//
// Tenant permissions grant kibana_all_read (read) or kibana_all_write
// (read and write) on tenant patterns, which match whole tenant names with
// the wildcards "*" and "?". A pattern may contain "${user.name}", replaced
// by the user name given to RolesFor (a user name containing a wildcard
// never matches such a pattern). The reserved role all_access grants every
// tenant read-write, whether or not roles.yml defines it.
//
// Two implicit rules hold in every policy, whatever roles.yml says; they
// are Casbin policy lines with the subject AnySubject ("*", every caller,
// with or without roles, so no role may be named "*"):
//
//	p, *, __user__, write       every caller reads and writes their own private tenant
//	p, *, global_tenant, read   every caller reads the global tenant
//
// Writing the global tenant needs a grant on "global_tenant" (or a pattern
// matching it). Another user's private tenant cannot be named here at all:
// PrivateTenant always means the caller's own, so the gateway passes it
// only for the private tenant of the authenticated user. Whether the global
// and private tenants are enabled is configuration the gateway checks
// before asking. Everything not granted is denied.
//
// Only tenant permissions are enforced. A role's cluster_permissions and
// index_permissions (index_patterns, allowed_actions) are parsed and kept
// but not enforced yet; a later issue enforces them. Restrictions that
// tenantgate cannot honour are refused at load with ErrInvalid naming the
// role and the key, so an administrator never believes documents are
// restricted when they are not: dls, fls and masked_fields in
// index_permissions, and hosts in a role mapping.
//
// Casbin is the decision point: every uncached decision is a casbin
// Enforce over a model with r = sub, ten, act. To keep decisions flat in
// the number of tenants, rules on exact tenant names are split by a hash
// of the name among many small enforcers, and wildcard rules live in one
// more; a decision consults at most two. Decisions are cached in a bounded,
// sharded map keyed by a comparable struct, so a cached decision does not
// allocate. Replace swaps roles and mappings at run time and drops the
// cache.
package policy
