package control

import (
	"time"

	"github.com/tenantgate/tenantgate/policy"
)

// Sources of a record: where it was last written from.
const (
	// SourceFile marks records applied from the YAML security files by
	// ApplyFiles. They are reserved; ApplyFiles deletes them when they
	// leave the files.
	SourceFile = "file"
	// SourceAPI marks records created through the API, the CLI or
	// `tenantgate apply`. ApplyFiles leaves them alone unless a file entry
	// of the same name takes them over.
	SourceAPI = "api"
)

// Kinds of User. Users and service accounts share one name space.
const (
	// KindUser is a person: password sign-in, JWT and API tokens.
	KindUser = "user"
	// KindServiceAccount is a machine identity: API tokens only, never a
	// password.
	KindServiceAccount = "service_account"
)

// Meta is the bookkeeping every record carries, embedded so its fields
// are inline in the JSON.
type Meta struct {
	// Source is SourceFile or SourceAPI. The store treats anything but
	// SourceFile as an API record.
	Source string `json:"source"`
	// Created is when the record was first written; Updated when its
	// content last changed. The store does not set them (Put writes what
	// it is given); ApplyFiles and the admin layer do.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// Flags are OpenSearch's flags for records that may not be changed
// through the API (Reserved), are not shown to non-superadmins (Hidden),
// or ship with the product (Static). Tenant, User and Group embed them;
// Role and RoleMapping have them in policy.Role and policy.RoleMapping.
type Flags struct {
	// Reserved records cannot be changed or deleted through the API.
	Reserved bool `json:"reserved"`
	// Hidden records are 404 to callers who are not superadmins.
	Hidden bool `json:"hidden"`
	// Static records ship with the product.
	Static bool `json:"static"`
}

// Tenant is a custom tenant. The global and private tenants are not
// records.
type Tenant struct {
	// ID is the tenant id (tenants.ValidateID), the record's key.
	ID string `json:"id"`
	// Name is the display name ("Staging"). Tenants from tenants.yml,
	// which has no display name, get their id.
	Name string `json:"name"`
	// Description is free text.
	Description string `json:"description"`
	Flags
	Meta
	// DeletedAt is set when the tenant is soft-deleted: it is invisible
	// everywhere and restorable until DeletedAt plus the retention
	// window, after which it is purged (DeleteTenant). The store lists
	// soft-deleted tenants like any other; callers filter.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
	// DeletedBy is the user who soft-deleted the tenant.
	DeletedBy string `json:"deleted_by,omitempty"`
	// Locked tenants refuse every request (423), superadmins excepted.
	Locked bool `json:"locked"`
	// Frozen tenants serve reads and refuse writes (423).
	Frozen bool `json:"frozen"`
}

// User is a user or a service account (Kind). Both share one name space
// and one bucket, so a name is either a user or a service account; callers
// that must not turn one into the other check Kind before PutUser.
type User struct {
	// Name is the user name, the record's key.
	Name string `json:"name"`
	// Kind is KindUser or KindServiceAccount. PutUser stores an empty
	// Kind as KindUser.
	Kind string `json:"kind"`
	// FirstName, LastName, Email and Description describe the user.
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Email       string `json:"email"`
	Description string `json:"description"`
	// Groups are the names of the groups the user belongs to.
	Groups []string `json:"groups"`
	// BackendRoles are matched by role mappings' backend_roles, as JWT
	// roles are.
	BackendRoles []string `json:"backend_roles"`
	// Attributes are custom name-value pairs (OpenSearch's attributes).
	Attributes map[string]string `json:"attributes"`
	// Superadmin users may do everything, in every tenant.
	Superadmin bool `json:"superadmin"`
	// Tenant is the home tenant of a service account created by a tenant
	// admin; "" means instance level.
	Tenant string `json:"tenant,omitempty"`
	// PasswordHash is the bcrypt hash of the password ("" = no password
	// sign-in). Service accounts never have one. It is stored here but
	// must never appear in API output or audit records.
	PasswordHash string `json:"password_hash,omitempty"`
	// Disabled users cannot sign in or use their tokens.
	Disabled bool `json:"disabled"`
	Flags
	Meta
}

// Group is a named set of users; role mappings may name groups.
// Membership is kept on the user (User.Groups).
type Group struct {
	// Name is the group name, the record's key.
	Name string `json:"name"`
	// Description is free text.
	Description string `json:"description"`
	Flags
	Meta
}

// Role is a security role: policy.Role (tenant_permissions,
// index_permissions, cluster_permissions, Tenant for tenant-scoped roles,
// and the Reserved/Hidden/Static flags) plus its name and Meta. Accessors
// return it with Role.Name (the policy.Role field) equal to Name, so
// r.Role can be handed to the policy engine as it is.
type Role struct {
	policy.Role
	// Name is the role name, the record's key. Tenant-scoped roles are
	// named "<role>@<tenant>".
	Name string `json:"name"`
	Meta
}

// RoleMapping maps users, backend roles and groups to the role of the
// same Name.
type RoleMapping struct {
	policy.RoleMapping
	// Name is the name of the mapped role, the record's key.
	Name string `json:"name"`
	Meta
}

// Token is an API token. Only the SHA-256 of its secret is stored; the
// token itself is shown once, when it is created.
type Token struct {
	// ID is the token id (the part of the token between the prefix and
	// the secret), the record's key.
	ID string `json:"id"`
	// Owner is the name of the user or service account the token
	// authenticates as. It must exist when the token is stored, and
	// DeleteUser deletes the owner's tokens.
	Owner string `json:"owner"`
	// Name and Description are the owner's labels for the token.
	Name        string `json:"name"`
	Description string `json:"description"`
	// Prefix is the start of the token, shown in listings so the owner
	// can tell tokens apart.
	Prefix string `json:"prefix"`
	// Hash is the SHA-256 of the token's secret.
	Hash []byte `json:"hash"`
	// Created is when the token was issued; Expires when it stops working
	// (zero: never); LastUsed when it last authenticated a request (zero:
	// never).
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires,omitzero"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// Tenancy is the multitenancy configuration of
// /_plugins/_security/api/tenancy/config. Tx.Tenancy returns
// DefaultTenancy until one is stored.
type Tenancy struct {
	// MultitenancyEnabled turns tenants on.
	MultitenancyEnabled bool `json:"multitenancy_enabled"`
	// PrivateTenantEnabled gives every user a private tenant.
	PrivateTenantEnabled bool `json:"private_tenant_enabled"`
	// GlobalTenantEnabled offers the shared global tenant.
	GlobalTenantEnabled bool `json:"global_tenant_enabled"`
	// DefaultTenant is the tenant a caller lands in when the request
	// names none.
	DefaultTenant string `json:"default_tenant"`
	// PreferredTenants come first in tenant lists. Never nil from
	// Tx.Tenancy.
	PreferredTenants []string `json:"preferred_tenants"`
}

// DefaultTenancy is the configuration used while none is stored:
// multitenancy, private and global tenants enabled, the global tenant as default,
// no preferred tenants.
func DefaultTenancy() Tenancy {
	return Tenancy{
		MultitenancyEnabled:  true,
		PrivateTenantEnabled: true,
		GlobalTenantEnabled:  true,
		DefaultTenant:        "global",
		PreferredTenants:     []string{},
	}
}
