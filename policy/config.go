package policy

import (
	"bytes"
	"errors"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Tenant actions accepted in tenant_permissions.allowed_actions, as in
// OpenSearch Security.
const (
	// TenantRead grants read-only access to the matching tenants.
	TenantRead = "kibana_all_read"
	// TenantWrite grants read-write access to the matching tenants.
	TenantWrite = "kibana_all_write"
	// TenantAdmin grants administration of the matching tenants (their
	// tenant-scoped roles, mappings, tokens and audit view) besides read
	// and write. It is tenantgate's, not OpenSearch's.
	TenantAdmin = "tenant_admin"
)

// GlobalTenant is the name tenant patterns use for the global tenant.
// Every caller may read it (an implicit rule); writing needs a grant.
const GlobalTenant = "global_tenant"

// PrivateTenant is the tenant name that stands for the caller's own
// private tenant in Engine.Allowed and Engine.Tenants. Every caller may
// read and write it (an implicit rule). Another user's private tenant has
// no name here: nobody but its owner may use it.
const PrivateTenant = "__user__"

// AnySubject is the subject of the implicit rules: it stands for every
// caller, whatever their roles. No role may be named so.
const AnySubject = "*"

// AllAccess is the reserved role that grants every tenant read, write and
// administration, every cluster permission and every index permission. It
// exists even when roles.yml does not define it; callers mapped to it are
// superadmins (Engine.Superadmin).
const AllAccess = "all_access"

// configVersion is the only config_version accepted in _meta.
const configVersion = 2

// Role is one entry of roles.yml (or of the control plane's roles).
// TenantPermissions decide which tenants a caller may read, write or
// administer (Engine.Allowed); ClusterPermissions which admin APIs it may
// use (Engine.ClusterAllowed); IndexPermissions which indices it may
// additionally write or manage in tenants where the role applies
// (Engine.IndexAllowed). Restrictions tenantgate cannot honour (dls, fls,
// masked_fields) are refused rather than ignored. A role with Tenant set
// is tenant-scoped: it belongs to that tenant and grants nothing outside
// it.
type Role struct {
	// Name is the key of the role in roles.yml.
	Name string `yaml:"-" json:"-"`
	// Reserved, Hidden and Static are OpenSearch's flags for roles that
	// may not be changed, are not listed, or ship with the product.
	Reserved bool `yaml:"reserved" json:"reserved"`
	Hidden   bool `yaml:"hidden" json:"hidden"`
	Static   bool `yaml:"static" json:"static"`
	// Description is free text.
	Description string `yaml:"description" json:"description"`
	// Tenant, when set, makes this a tenant-scoped role, which that
	// tenant's admins manage. Such a role must be named
	// "<something>@<Tenant>", its tenant_permissions may only name Tenant
	// exactly (no wildcards, no ${user.name}), it may not have
	// cluster_permissions, and its index_permissions apply only in Tenant.
	// Conversely a role whose name contains '@' must have Tenant set to
	// the part after the last '@'.
	Tenant string `yaml:"tenant,omitempty" json:"tenant,omitempty"`
	// ClusterPermissions are cluster permissions (the Cluster constants,
	// such as "restapi:admin/tenants"), patterns of them ("*",
	// "restapi:admin/*") or "cluster_all"; see Engine.ClusterAllowed.
	// Other names are kept and match only themselves.
	ClusterPermissions []string `yaml:"cluster_permissions" json:"cluster_permissions"`
	// IndexPermissions are per-index grants, additive to the tenant
	// permissions; see Engine.IndexAllowed.
	IndexPermissions []IndexPermission `yaml:"index_permissions" json:"index_permissions"`
	// TenantPermissions grant read, read-write or admin on tenants.
	TenantPermissions []TenantPermission `yaml:"tenant_permissions" json:"tenant_permissions"`
	// NamespacePermissions grant verbs on flows, executions, namespaces,
	// secrets and logs of some namespaces, additive to the tenant
	// permissions; see Engine.NamespaceAllowed.
	NamespacePermissions []NamespacePermission `yaml:"namespace_permissions,omitempty" json:"namespace_permissions,omitempty"`
}

// IndexPermission is one entry of a role's index_permissions: it grants
// AllowedActions on the indices matching IndexPatterns, in the tenants
// where its role applies (see Engine.IndexAllowed). Dls, Fls and
// MaskedFields must be empty: a role that sets one is refused with
// ErrInvalid, so nobody believes documents are restricted when they are
// not.
type IndexPermission struct {
	// IndexPatterns are the (logical) index names the grant covers, with
	// the wildcards "*" and "?" and the variable "${user.name}".
	IndexPatterns []string `yaml:"index_patterns" json:"index_patterns"`
	// AllowedActions are index action groups: "read" (IndexRead),
	// "write" (IndexWrite and IndexDelete), "delete" (IndexDelete),
	// "crud" (read, write and delete), "manage" (IndexManage), and "*"
	// or "indices_all" (everything). Other names are refused with
	// ErrInvalid.
	AllowedActions []string `yaml:"allowed_actions" json:"allowed_actions"`
	// Dls is a document-level security query. Not supported: must be
	// empty.
	Dls string `yaml:"dls" json:"dls"`
	// Fls lists field-level security includes/excludes. Not supported:
	// must be empty.
	Fls []string `yaml:"fls" json:"fls"`
	// MaskedFields lists fields whose values are masked. Not supported:
	// must be empty.
	MaskedFields []string `yaml:"masked_fields" json:"masked_fields"`
}

// TenantPermission grants AllowedActions (TenantRead, TenantWrite or
// TenantAdmin; the strongest one listed counts) on every tenant whose name
// matches one of TenantPatterns. Patterns match the
// whole name; "*" matches any run of characters, "?" exactly one, and
// "${user.name}" (or "${user_name}") is replaced by the caller's user name.
type TenantPermission struct {
	// TenantPatterns are tenant names or patterns.
	TenantPatterns []string `yaml:"tenant_patterns" json:"tenant_patterns"`
	// AllowedActions are TenantRead, TenantWrite and/or TenantAdmin.
	AllowedActions []string `yaml:"allowed_actions" json:"allowed_actions"`
}

// RoleMapping is one entry of roles_mapping.yml: it maps users to the
// security role named by its key. Users, BackendRoles, Groups and
// AndBackendRoles accept the wildcards "*" and "?". A user is mapped when
// its name matches one of Users, when one of its backend roles matches one
// of BackendRoles, when one of its groups matches one of Groups (see
// Engine.RolesForGroups), or when it has all of AndBackendRoles. Hosts must be empty: tenantgate has no
// trustworthy client host to match against, so a mapping that sets it is
// refused with ErrInvalid rather than applied to every host.
type RoleMapping struct {
	// Reserved and Hidden are OpenSearch's flags, kept as read.
	Reserved bool `yaml:"reserved" json:"reserved"`
	Hidden   bool `yaml:"hidden" json:"hidden"`
	// Description is free text.
	Description string `yaml:"description" json:"description"`
	// Users are user names or patterns.
	Users []string `yaml:"users" json:"users"`
	// BackendRoles are backend roles (JWT roles claim) or patterns; any
	// one suffices.
	BackendRoles []string `yaml:"backend_roles" json:"backend_roles"`
	// Groups are internal user groups or patterns; a member of any one is
	// mapped.
	Groups []string `yaml:"groups,omitempty" json:"groups,omitempty"`
	// AndBackendRoles are backend roles or patterns that must all match.
	AndBackendRoles []string `yaml:"and_backend_roles" json:"and_backend_roles"`
	// Hosts restricts the mapping to client hosts. Not supported: must be
	// empty.
	Hosts []string `yaml:"hosts" json:"hosts"`
}

type meta struct {
	Type          string `yaml:"type" json:"type"`
	ConfigVersion int    `yaml:"config_version" json:"config_version"`
}

type rolesFile struct {
	Meta  *meta            `yaml:"_meta" json:"_meta"`
	Roles map[string]*Role `yaml:",inline"`
}

type mappingsFile struct {
	Meta     *meta                   `yaml:"_meta" json:"_meta"`
	Mappings map[string]*RoleMapping `yaml:",inline"`
}

// ParseRoles parses a roles.yml in OpenSearch Security format (with
// "_meta: {type: roles, config_version: 2}"). Unknown keys, a missing or
// wrong _meta, unknown tenant actions and unsupported restrictions (dls,
// fls, masked_fields) are errors wrapping ErrInvalid.
func ParseRoles(data []byte) (map[string]Role, error) {
	var f rolesFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, invalidf("roles: %v", err)
	}
	if err := checkMeta(f.Meta, "roles"); err != nil {
		return nil, err
	}
	out := make(map[string]Role, len(f.Roles))
	for name, r := range f.Roles {
		var role Role
		if r != nil {
			role = *r
		}
		role.Name = name
		if err := validateRole(role); err != nil {
			return nil, err
		}
		out[name] = role
	}
	return out, nil
}

// ParseRoleMappings parses a roles_mapping.yml in OpenSearch Security format
// (with "_meta: {type: rolesmapping, config_version: 2}"). Unknown keys, a
// missing or wrong _meta and a non-empty hosts are errors wrapping
// ErrInvalid.
func ParseRoleMappings(data []byte) (map[string]RoleMapping, error) {
	var f mappingsFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, invalidf("rolesmapping: %v", err)
	}
	if err := checkMeta(f.Meta, "rolesmapping"); err != nil {
		return nil, err
	}
	out := make(map[string]RoleMapping, len(f.Mappings))
	for name, m := range f.Mappings {
		if m == nil {
			out[name] = RoleMapping{}
			continue
		}
		if err := validateMapping(name, *m); err != nil {
			return nil, err
		}
		out[name] = *m
	}
	return out, nil
}

func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		return err
	}
	return nil
}

func checkMeta(m *meta, want string) error {
	if m == nil {
		return invalidf("%s: missing _meta (want type %q, config_version %d)", want, want, configVersion)
	}
	if m.Type != want {
		return invalidf("%s: _meta.type is %q, want %q", want, m.Type, want)
	}
	if m.ConfigVersion != configVersion {
		return invalidf("%s: _meta.config_version is %d, want %d", want, m.ConfigVersion, configVersion)
	}
	return nil
}

// validateRole checks what the engine relies on: known tenant actions and
// supported pattern variables, and that the role asks for no restriction
// tenantgate would silently ignore.
func validateRole(r Role) error {
	if r.Name == AnySubject {
		return invalidf("roles.yml: role [%s]: the name is reserved (it stands for every caller)", r.Name)
	}
	if err := validateScope(r); err != nil {
		return err
	}
	for i, ip := range r.IndexPermissions {
		unsupported := ""
		switch {
		case ip.Dls != "":
			unsupported = "dls"
		case len(ip.Fls) > 0:
			unsupported = "fls"
		case len(ip.MaskedFields) > 0:
			unsupported = "masked_fields"
		}
		if unsupported != "" {
			return invalidf("roles.yml: role [%s]: %s is not supported by tenantgate (index_permissions[%d])",
				r.Name, unsupported, i)
		}
	}
	for i, ip := range r.IndexPermissions {
		for _, a := range ip.AllowedActions {
			if _, ok := indexActionGroups[a]; !ok {
				return invalidf("role %q: index_permissions[%d]: unknown action %q (want %s)",
					r.Name, i, a, indexActionNames)
			}
		}
		for _, p := range ip.IndexPatterns {
			if _, err := compilePattern("index", p); err != nil {
				return invalidf("role %q: index_permissions[%d]: %v", r.Name, i, err)
			}
		}
	}
	if _, err := compileNamespacePermissions(r); err != nil {
		return err
	}
	for i, tp := range r.TenantPermissions {
		for _, a := range tp.AllowedActions {
			if tenantAction(a) == 0 {
				return invalidf("role %q: tenant_permissions[%d]: unknown action %q (want %s, %s or %s)",
					r.Name, i, a, TenantRead, TenantWrite, TenantAdmin)
			}
		}
		for _, p := range tp.TenantPatterns {
			if _, err := compilePattern("tenant", p); err != nil {
				return invalidf("role %q: tenant_permissions[%d]: %v", r.Name, i, err)
			}
		}
	}
	return nil
}

// validateScope checks the rules of tenant-scoped roles: a role named
// "<name>@<tenant>" is scoped to that tenant and says so in Tenant, and a
// scoped role grants nothing outside its tenant: its tenant permissions
// name exactly its tenant and it has no cluster permissions.
func validateScope(r Role) error {
	at := strings.LastIndexByte(r.Name, '@')
	if r.Tenant == "" {
		if at >= 0 {
			return invalidf("role %q: a role named <name>@<tenant> is tenant-scoped: tenant must be %q", r.Name, r.Name[at+1:])
		}
		return nil
	}
	switch {
	case strings.ContainsAny(r.Tenant, "*?@") || strings.Contains(r.Tenant, "${"):
		return invalidf("role %q: tenant %q: a tenant-scoped role names one tenant (no wildcards, variables or '@')", r.Name, r.Tenant)
	case r.Tenant == PrivateTenant:
		return invalidf("role %q: tenant %q: a role cannot be scoped to the private tenant", r.Name, r.Tenant)
	case at <= 0 || r.Name[at+1:] != r.Tenant:
		return invalidf("role %q: a role scoped to tenant %q must be named <name>@%s", r.Name, r.Tenant, r.Tenant)
	case len(r.ClusterPermissions) > 0:
		return invalidf("role %q: a tenant-scoped role cannot have cluster_permissions", r.Name)
	}
	for i, tp := range r.TenantPermissions {
		for _, p := range tp.TenantPatterns {
			if p != r.Tenant {
				return invalidf("role %q: tenant_permissions[%d]: pattern %q: a role scoped to tenant %q may only name %q",
					r.Name, i, p, r.Tenant, r.Tenant)
			}
		}
	}
	return nil
}

// tenantAction returns the Action a tenant_permissions action name grants,
// or 0 for an unknown name.
func tenantAction(name string) Action {
	switch name {
	case TenantRead:
		return Read
	case TenantWrite:
		return Write
	case TenantAdmin:
		return Admin
	}
	return 0
}

// validateMapping refuses what tenantgate cannot evaluate: a role mapping
// restricted to client hosts would otherwise apply from every host.
func validateMapping(name string, m RoleMapping) error {
	if len(m.Hosts) > 0 {
		return invalidf("roles_mapping.yml: role mapping [%s]: hosts is not supported by tenantgate", name)
	}
	return nil
}
