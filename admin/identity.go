package admin

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// Users, service accounts and groups.
//
// Who may do what:
//   - restapi:admin/internalusers (or a superadmin) manages every user,
//     service account and group;
//   - the Admin of tenant T manages the service accounts whose Tenant is
//     T, and creates them only in tenants they administer; they cannot
//     give them groups or backend roles, nor a name that a role mapping
//     would tie to a role outside T that they do not hold themselves;
//   - everyone reads their own user record;
//   - only a superadmin creates, changes or deletes a superadmin (by the
//     flag, or by a mapping to all_access through the name, backend roles
//     or groups), or makes anyone one.
//
// Records from internal_users.yml are reserved (403); hidden records are
// 404 to everyone but superadmins.

// UserInput is a user or service account to create, or the whole new
// content of one to replace (fields left empty are cleared, except the
// password).
type UserInput struct {
	// Name is the user name, or the service account's name.
	Name string
	// Kind is control.KindUser or control.KindServiceAccount; "" means a
	// user for a new record and the record's kind for an existing one.
	Kind string
	// FirstName, LastName, Email and Description describe the user.
	FirstName, LastName, Email, Description string
	// Groups must exist; BackendRoles are matched by role mappings.
	Groups, BackendRoles []string
	// Attributes are custom name-value pairs.
	Attributes map[string]string
	// Superadmin may be set or cleared by a superadmin only.
	Superadmin bool
	// Disabled accounts cannot sign in or use their tokens.
	Disabled bool
	// Tenant is a service account's home tenant ("" for instance level).
	// Users have none.
	Tenant string
	// Password, when not nil, is the user's new password, stored as a
	// bcrypt hash. Nil keeps the current one (none for a new user).
	// Service accounts never have one.
	Password *string
	// Hash, when not empty, is a bcrypt hash to store as the password
	// (OpenSearch's "hash"), instead of Password.
	Hash string
}

// SecurityUser is a user or service account in OpenSearch Security's
// REST form (/_plugins/_security/api/internalusers) with tenantgate's
// extensions, the fields of internal_users.yml. Hash is always empty in
// output, as OpenSearch shows it; Password is input only.
type SecurityUser struct {
	Hash          string            `json:"hash"`
	Password      string            `json:"password,omitempty"`
	Reserved      bool              `json:"reserved"`
	Hidden        bool              `json:"hidden"`
	Static        bool              `json:"static"`
	BackendRoles  []string          `json:"backend_roles"`
	Attributes    map[string]string `json:"attributes"`
	Description   string            `json:"description"`
	SecurityRoles []string          `json:"opendistro_security_roles"`

	Kind       string   `json:"kind"`
	Superadmin bool     `json:"superadmin"`
	Groups     []string `json:"groups"`
	Email      string   `json:"email"`
	FirstName  string   `json:"first_name"`
	LastName   string   `json:"last_name"`
	Disabled   bool     `json:"disabled"`
	Tenant     string   `json:"tenant,omitempty"`
}

// SecurityUserOf returns u in OpenSearch Security's REST form, without
// its password hash.
func SecurityUserOf(u control.User) SecurityUser {
	return SecurityUser{
		Reserved: u.Reserved, Hidden: u.Hidden, Static: u.Static,
		BackendRoles: nonNil(u.BackendRoles), Attributes: nonNilMap(u.Attributes),
		Description: u.Description, SecurityRoles: []string{},
		Kind: cmpOr(u.Kind, control.KindUser), Superadmin: u.Superadmin, Groups: nonNil(u.Groups),
		Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Disabled: u.Disabled, Tenant: u.Tenant,
	}
}

// InputOf returns the UserInput of a SecurityUser named name (a PUT of
// internalusers). The flags and opendistro_security_roles cannot be set
// through the API: true flags and roles are refused.
func (su SecurityUser) InputOf(name string) (UserInput, error) {
	if su.Reserved || su.Hidden || su.Static {
		return UserInput{}, errorf(ErrInvalid, "user [%s]: reserved, hidden and static cannot be set through the API", name)
	}
	if len(su.SecurityRoles) > 0 {
		return UserInput{}, errorf(ErrInvalid, "user [%s]: opendistro_security_roles is not supported by tenantgate; map the user to its roles in the role mappings", name)
	}
	in := UserInput{
		Name: name, Kind: su.Kind, FirstName: su.FirstName, LastName: su.LastName, Email: su.Email,
		Description: su.Description, Groups: su.Groups, BackendRoles: su.BackendRoles, Attributes: su.Attributes,
		Superadmin: su.Superadmin, Disabled: su.Disabled, Tenant: su.Tenant, Hash: su.Hash,
	}
	if su.Password != "" {
		pw := su.Password
		in.Password = &pw
	}
	return in, nil
}

// writeMode says whether writeUserTx creates or replaces.
type writeMode int

const (
	modeCreate writeMode = iota
	modeReplace
)

// userWrite is a prepared UserInput: checked, with the password hashed.
type userWrite struct {
	u       control.User
	setHash bool // u.PasswordHash replaces the stored hash; otherwise it is kept
}

// kindName names a kind in messages.
func kindName(kind string) string {
	if kind == control.KindServiceAccount {
		return "service account"
	}
	return "user"
}

// actionOf is the audit action of op on an account of kind:
// "user.create", "service_account.delete".
func actionOf(kind, op string) string {
	if kind == control.KindServiceAccount {
		return "service_account." + op
	}
	return "user." + op
}

// managesUsers reports whether a holds restapi:admin/internalusers.
func (s *Service) managesUsers(a Actor) bool { return s.can(a, policy.ClusterInternalUsers) }

// managesAccount reports whether a may manage the account u (its record and
// its tokens): restapi:admin/internalusers, or the Admin role of the
// service account's tenant.
func (s *Service) managesAccount(a Actor, u control.User) bool {
	if s.managesUsers(a) {
		return true
	}
	if u.Kind != control.KindServiceAccount || u.Tenant == "" {
		return false
	}
	// A deleted tenant's accounts wait, untouched, for its restore.
	if _, live := s.o.Resolver.Registry().Get(u.Tenant); !live {
		return false
	}
	return s.tenantAdmin(a, u.Tenant)
}

// mayTry reports whether a may manage some account of kind ("" any), so
// that everyone else gets a 403 before anything is looked up.
func (s *Service) mayTry(a Actor, kind string) bool {
	return s.managesUsers(a) || (kind != control.KindUser && s.adminsAnyTenant(a))
}

// adminsAnyTenant reports whether a administers at least one tenant.
func (s *Service) adminsAnyTenant(a Actor) bool {
	for _, t := range s.o.Resolver.Registry().List(true) {
		if s.tenantAdmin(a, t.Name) {
			return true
		}
	}
	return false
}

// superUser reports whether u is a superadmin: flagged, or mapped to
// all_access through its name, backend roles or groups.
func (s *Service) superUser(u control.User) bool {
	return u.Superadmin || s.o.Policy.Superadmin(s.o.Policy.RolesForGroups(u.Name, u.BackendRoles, u.Groups))
}

// onlySuperadmin is the 403 for a change that touches a superadmin.
func onlySuperadmin(a Actor, name string) *Error {
	return errorf(ErrForbidden, "only a superadmin may create, change or delete a superadmin or make [%s] one; User [name=%s] is not a superadmin", name, a.Name)
}

// notFound is the 404 of an account.
func accountNotFound(kind, name string) *Error {
	return errorf(ErrNotFound, "%s [%s] not found", kindName(kind), name)
}

// loadAccount loads the account name of kind ("" any) for a: a 404 when it
// does not exist, is of another kind, is hidden from a, or is not one a
// may manage (their own record excepted when self is set).
func (s *Service) loadAccount(tx *control.Tx, a Actor, kind, name string, self bool) (control.User, error) {
	u, err := tx.User(name)
	switch {
	case errors.Is(err, control.ErrNotFound):
		return u, accountNotFound(kind, name)
	case err != nil:
		return u, err
	case kind != "" && u.Kind != kind:
		return u, accountNotFound(kind, name)
	case self && u.Name == a.Name:
		return u, nil
	case u.Hidden && !a.Superadmin:
		return u, accountNotFound(kind, name)
	case !s.managesAccount(a, u):
		return u, accountNotFound(kind, name)
	}
	return u, nil
}

// peekAccount reads the account name outside a change, to name the change's
// audit action and tenant before it starts. A missing account gives a
// zero User.
func (s *Service) peekAccount(name string) control.User {
	var u control.User
	_ = s.o.Store.View(func(tx *control.Tx) (err error) {
		u, err = tx.User(name)
		return err
	})
	return u
}

// Users lists the accounts of kind ("" both kinds) that a manages:
// every one with restapi:admin/internalusers (hidden ones for
// superadmins only), the service accounts of their tenants for tenant
// admins, a 403 for everyone else.
func (s *Service) Users(a Actor, kind string) ([]control.User, error) {
	if !s.mayTry(a, kind) {
		return nil, s.deny(a, change{action: actionOf(kind, "read")}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	out := []control.User{}
	err := s.o.Store.View(func(tx *control.Tx) error {
		all, err := tx.Users()
		for _, u := range all {
			if (kind == "" || u.Kind == kind) && (!u.Hidden || a.Superadmin) && s.managesAccount(a, u) {
				out = append(out, u)
			}
		}
		return err
	})
	return out, err
}

// User returns one account of kind ("" any kind). Everyone may read
// their own; others need to manage it (see Users).
func (s *Service) User(a Actor, kind, name string) (control.User, error) {
	if name != a.Name && !s.mayTry(a, kind) {
		return control.User{}, s.deny(a, change{action: actionOf(kind, "read"), target: name}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	var u control.User
	err := s.o.Store.View(func(tx *control.Tx) (err error) {
		u, err = s.loadAccount(tx, a, kind, name, true)
		return err
	})
	return u, err
}

// CreateUser creates a user or service account; 409 when the name is
// taken (by either kind).
func (s *Service) CreateUser(a Actor, in UserInput) (control.User, error) {
	in.Kind = cmpOr(in.Kind, control.KindUser)
	return s.writeUser(a, in, modeCreate)
}

// UpdateUser replaces the content of the account in.Name of kind in.Kind
// ("" any); a nil Password keeps the password.
func (s *Service) UpdateUser(a Actor, in UserInput) (control.User, error) {
	return s.writeUser(a, in, modeReplace)
}

// PutUser creates the account in.Name or replaces its content, as PUT
// /_plugins/_security/api/internalusers/{name} does, and reports whether
// it created it. A given Kind must match the existing account's.
func (s *Service) PutUser(a Actor, in UserInput) (created bool, u control.User, err error) {
	old := s.peekAccount(in.Name)
	// Callers who may manage no account get the same 403 whether or not
	// the name exists, before the kind is compared with anything.
	if !s.mayTry(a, in.Kind) {
		op := "create"
		if old.Name != "" {
			op = "update"
		}
		return false, u, s.deny(a, change{action: actionOf(cmpOr(in.Kind, old.Kind), op), tenant: old.Tenant, target: in.Name},
			noPermission(policy.ClusterInternalUsers, a.Name))
	}
	mode := modeCreate
	if old.Name != "" {
		// A hidden account stays out of reach of those who cannot see
		// it: replacing it is their 404.
		mode = modeReplace
		if in.Kind != "" && in.Kind != old.Kind && (!old.Hidden || a.Superadmin) {
			return false, u, s.deny(a, change{action: actionOf(old.Kind, "update"), tenant: old.Tenant, target: in.Name},
				errorf(ErrConflict, "[%s] is a %s; a user and a service account cannot share a name, and an account's kind cannot change", in.Name, kindName(old.Kind)))
		}
		in.Kind = cmpOr(in.Kind, old.Kind)
	}
	in.Kind = cmpOr(in.Kind, control.KindUser)
	u, err = s.writeUser(a, in, mode)
	return mode == modeCreate && err == nil, u, err
}

// writeUser prepares in and writes it in one change.
func (s *Service) writeUser(a Actor, in UserInput, mode writeMode) (control.User, error) {
	op := "create"
	if mode == modeReplace {
		op = "update"
	}
	kind := in.Kind
	tenant := in.Tenant
	if kind == "" {
		old := s.peekAccount(in.Name)
		kind, tenant = old.Kind, cmpOr(tenant, old.Tenant)
	}
	ch := change{action: actionOf(kind, op), tenant: tenant, target: in.Name, usersOnly: true}
	if !s.mayTry(a, kind) {
		return control.User{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	w, perr := s.prepareUser(in)
	if perr != nil {
		return control.User{}, s.deny(a, ch, perr)
	}
	var out control.User
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		before, after, err := s.writeUserTx(tx, a, w, mode)
		if err != nil {
			return nil, nil, err
		}
		out = after
		if before == nil {
			return nil, after, nil
		}
		return *before, after, nil
	})
	return out, err
}

// prepareUser checks what can be checked without the store and hashes
// the password (outside the store's write transaction: bcrypt is slow).
func (s *Service) prepareUser(in UserInput) (userWrite, *Error) {
	var w userWrite
	if err := control.ValidateName(kindName(in.Kind), in.Name); err != nil {
		return w, errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), control.ErrInvalid.Error()+": "))
	}
	switch in.Kind {
	case "", control.KindUser:
		if in.Tenant != "" {
			return w, errorf(ErrInvalid, "user [%s]: only service accounts have a tenant", in.Name)
		}
	case control.KindServiceAccount:
		if in.Password != nil || in.Hash != "" {
			return w, errorf(ErrInvalid, "service account [%s] cannot have a password: service accounts authenticate with API tokens only", in.Name)
		}
	default:
		return w, errorf(ErrInvalid, "kind [%s] is neither %s nor %s", in.Kind, control.KindUser, control.KindServiceAccount)
	}
	groups, err := cleanNames("group", in.Groups)
	if err != nil {
		return w, err
	}
	w.u = control.User{
		Name: in.Name, Kind: in.Kind, FirstName: in.FirstName, LastName: in.LastName, Email: in.Email,
		Description: in.Description, Groups: groups, BackendRoles: dedupe(in.BackendRoles),
		Attributes: in.Attributes, Superadmin: in.Superadmin, Disabled: in.Disabled, Tenant: in.Tenant,
	}
	if len(w.u.Attributes) == 0 {
		w.u.Attributes = nil
	}
	switch {
	case in.Password != nil && in.Hash != "":
		return w, errorf(ErrInvalid, "user [%s]: give either password or hash, not both", in.Name)
	case in.Password != nil:
		h, err := auth.HashPassword(*in.Password, s.o.BcryptCost)
		if err != nil {
			if errors.Is(err, auth.ErrInvalidPassword) {
				return w, errorf(ErrInvalid, "user [%s]: the password is %s", in.Name, strings.TrimPrefix(err.Error(), auth.ErrInvalidPassword.Error()+": "))
			}
			return w, &Error{Kind: ErrInvalid, Message: "the password could not be hashed", Cause: err}
		}
		w.u.PasswordHash, w.setHash = h, true
	case in.Hash != "":
		if _, err := bcrypt.Cost([]byte(in.Hash)); err != nil {
			return w, errorf(ErrInvalid, "user [%s]: hash is not a bcrypt hash", in.Name)
		}
		w.u.PasswordHash, w.setHash = in.Hash, true
	}
	return w, nil
}

// writeUserTx creates (modeCreate) or replaces (modeReplace) the account
// w.u.Name in tx under every rule of this file. It returns the account
// before (nil when new) and after.
func (s *Service) writeUserTx(tx *control.Tx, a Actor, w userWrite, mode writeMode) (*control.User, control.User, error) {
	u := w.u
	old, err := tx.User(u.Name)
	exists := err == nil
	if err != nil && !errors.Is(err, control.ErrNotFound) {
		return nil, u, err
	}
	switch {
	case mode == modeCreate && exists:
		return nil, u, errorf(ErrConflict, "[%s] already exists (a user and a service account cannot share a name)", u.Name)
	case mode == modeReplace && (!exists || (u.Kind != "" && u.Kind != old.Kind) || (old.Hidden && !a.Superadmin) || !s.managesAccount(a, old)):
		return nil, u, accountNotFound(cmpOr(u.Kind, old.Kind), u.Name)
	}
	var before *control.User
	if exists {
		before = &old
		if old.Reserved {
			return nil, u, reserved(u.Name)
		}
		u.Kind = old.Kind
	}
	u.Kind = cmpOr(u.Kind, control.KindUser)
	if !s.managesUsers(a) {
		if err := s.tenantAdminMayWrite(tx, a, before, u); err != nil {
			return nil, u, err
		}
		if err := s.closedToTenantAdmin(tx, a, u); err != nil {
			return nil, u, err
		}
		if before != nil {
			if err := s.closedToTenantAdmin(tx, a, old); err != nil {
				return nil, u, err
			}
		}
	}
	if u.Tenant != "" {
		if t, err := tx.Tenant(u.Tenant); err != nil || t.DeletedAt != nil || (t.Hidden && !a.Superadmin) {
			return nil, u, errorf(ErrInvalid, "service account [%s]: tenant [%s] does not exist", u.Name, u.Tenant)
		}
	}
	for _, g := range u.Groups {
		if grp, err := tx.Group(g); err != nil || (grp.Hidden && !a.Superadmin) {
			return nil, u, errorf(ErrInvalid, "%s [%s]: group [%s] does not exist; create it first", kindName(u.Kind), u.Name, g)
		}
	}
	if !a.Superadmin && (s.superUser(u) || (before != nil && (s.superUser(old) || old.Superadmin != u.Superadmin))) {
		return nil, u, onlySuperadmin(a, u.Name)
	}
	if u.Name == a.Name && u.Disabled {
		return nil, u, errorf(ErrInvalid, "you cannot disable your own account [%s]", u.Name)
	}
	now := s.o.Clock().UTC()
	u.Source = control.SourceAPI
	if before != nil {
		if !w.setHash {
			u.PasswordHash = old.PasswordHash
		} else if u.PasswordHash != old.PasswordHash {
			if err := revokeSessionsTx(tx, u.Name); err != nil {
				return nil, u, err
			}
		}
		u.Flags, u.Created, u.Updated = old.Flags, old.Created, old.Updated
		if sameUser(old, u) {
			return before, old, nil
		}
	} else {
		u.Created = now
	}
	u.Updated = now
	if err := tx.PutUser(u); err != nil {
		if errors.Is(err, control.ErrInvalid) {
			return nil, u, errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), control.ErrInvalid.Error()+": "))
		}
		return nil, u, err
	}
	return before, u, nil
}

// tenantAdminMayWrite checks a write by a tenant admin (who lacks
// restapi:admin/internalusers): a service account of a tenant they
// administer, before and after, whose groups and backend roles they do
// not change, and whose name no role mapping ties to a role outside that
// tenant that they do not hold themselves.
func (s *Service) tenantAdminMayWrite(tx *control.Tx, a Actor, before *control.User, u control.User) error {
	if u.Kind != control.KindServiceAccount {
		return noPermission(policy.ClusterInternalUsers, a.Name)
	}
	if u.Tenant == "" || !s.tenantAdmin(a, u.Tenant) || (before != nil && !s.managesAccount(a, *before)) {
		return errorf(ErrForbidden, "no permissions for [%s] and User [name=%s]: a tenant administrator manages service accounts of the tenants they administer, and must name one as the tenant",
			policy.ClusterInternalUsers, a.Name)
	}
	var groups, backend []string
	if before != nil {
		groups, backend = before.Groups, before.BackendRoles
	}
	if !slices.Equal(u.Groups, groups) || !slices.Equal(u.BackendRoles, backend) {
		return errorf(ErrForbidden, "only holders of [%s] may set the groups and backend roles of [%s]; map it to roles of tenant [%s] instead",
			policy.ClusterInternalUsers, u.Name, u.Tenant)
	}
	if name := s.roleOutside(tx, a, u); name != "" {
		return errorf(ErrForbidden, "the name [%s] is mapped to role [%s], which is not a role of tenant [%s]; choose another name",
			u.Name, name, u.Tenant)
	}
	return nil
}

// closedToTenantAdmin is closedTo of the tenant of the service account
// u for an actor who manages u only as an admin of that tenant: a locked
// or frozen tenant refuses them changes of its service accounts and their
// tokens (423), as it refuses them changes of its roles.
func (s *Service) closedToTenantAdmin(tx *control.Tx, a Actor, u control.User) error {
	if s.managesUsers(a) || u.Kind != control.KindServiceAccount || u.Tenant == "" {
		return nil
	}
	t, err := tx.Tenant(u.Tenant)
	switch {
	case errors.Is(err, control.ErrNotFound):
		return nil // refused elsewhere: writeUserTx wants a live tenant
	case err != nil:
		return err
	}
	return s.closedTo(a, t)
}

// roleOutside returns a role that the service account u is mapped to
// (by its name, backend roles or groups), that is not a role of u's
// tenant and that a does not hold, or "" when there is none: what a
// tenant admin of u's tenant would gain through u. A role whose patterns
// use ${user.name} grants u other tenants or indices than it grants a,
// so a holding it does not count.
func (s *Service) roleOutside(tx *control.Tx, a Actor, u control.User) string {
	for _, name := range s.o.Policy.RolesForGroups(u.Name, u.BackendRoles, u.Groups).Names() {
		r, err := tx.Role(name)
		if err == nil && r.Tenant == u.Tenant {
			continue
		}
		if a.Roles.Has(name) && (err != nil || !usesName(r.Role)) {
			continue
		}
		return name
	}
	return ""
}

// usesName reports whether one of r's tenant or index patterns holds the
// ${user.name} variable, so that what r grants depends on its holder.
func usesName(r policy.Role) bool {
	variable := func(p string) bool { return strings.Contains(p, "${") }
	for _, tp := range r.TenantPermissions {
		if slices.ContainsFunc(tp.TenantPatterns, variable) {
			return true
		}
	}
	for _, ip := range r.IndexPermissions {
		if slices.ContainsFunc(ip.IndexPatterns, variable) {
			return true
		}
	}
	return false
}

// sameUser reports whether a and b have the same content, Meta and all.
func sameUser(a, b control.User) bool {
	return a.Name == b.Name && a.Kind == b.Kind && a.FirstName == b.FirstName && a.LastName == b.LastName &&
		a.Email == b.Email && a.Description == b.Description && slices.Equal(a.Groups, b.Groups) &&
		slices.Equal(a.BackendRoles, b.BackendRoles) && maps.Equal(a.Attributes, b.Attributes) &&
		a.Superadmin == b.Superadmin && a.Tenant == b.Tenant && a.PasswordHash == b.PasswordHash &&
		a.Disabled == b.Disabled && a.Flags == b.Flags && a.Meta == b.Meta
}

// DeleteUser deletes an account of kind ("" any) and its API tokens.
// Reserved accounts cannot be deleted, nor the caller's own.
func (s *Service) DeleteUser(a Actor, kind, name string) error {
	old := s.peekAccount(name)
	ch := change{action: actionOf(cmpOr(kind, old.Kind), "delete"), tenant: old.Tenant, target: name, usersOnly: true}
	if !s.mayTry(a, kind) {
		return s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := s.loadAccount(tx, a, kind, name, false)
		switch {
		case err != nil:
			return nil, nil, err
		case u.Reserved:
			return nil, nil, reserved(name)
		case u.Name == a.Name:
			return nil, nil, errorf(ErrInvalid, "you cannot delete your own account [%s]", name)
		case s.superUser(u) && !a.Superadmin:
			return nil, nil, onlySuperadmin(a, name)
		}
		if err := s.closedToTenantAdmin(tx, a, u); err != nil {
			return nil, nil, err
		}
		return u, nil, tx.DeleteUser(name)
	})
}

// SetPassword sets a user's password (an administrator's reset, PUT
// /api/v1/users/{id}/password). It needs restapi:admin/internalusers; a
// superadmin's password only a superadmin sets.
func (s *Service) SetPassword(a Actor, name, password string) error {
	ch := change{action: "user.update", target: name, usersOnly: true}
	if !s.managesUsers(a) {
		return s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	w, perr := s.prepareUser(UserInput{Name: name, Password: &password})
	if perr != nil {
		return s.deny(a, ch, perr)
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := s.loadAccount(tx, a, control.KindUser, name, false)
		switch {
		case err != nil:
			return nil, nil, err
		case u.Reserved:
			return nil, nil, reserved(name)
		case s.superUser(u) && !a.Superadmin:
			return nil, nil, onlySuperadmin(a, name)
		}
		before := u
		u.PasswordHash, u.Updated = w.u.PasswordHash, s.o.Clock().UTC()
		if err := revokeSessionsTx(tx, name); err != nil {
			return nil, nil, err
		}
		return before, u, tx.PutUser(u)
	})
}

// revokeSessionsTx revokes the user's web sessions (the tokens the UI's
// password sign-in created): a new password ends every session signed in
// with the old one. Other API tokens stay.
func revokeSessionsTx(tx *control.Tx, name string) error {
	toks, err := tx.TokensOf(name)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if t.Name != SessionTokenName {
			continue
		}
		if err := tx.DeleteToken(t.ID); err != nil {
			return err
		}
	}
	return nil
}

// ChangeOwnPassword changes the caller's own password, given the current
// one (PUT /_plugins/_security/api/account). Only users whose password
// is kept here can: not service accounts, not reserved users (their hash
// is internal_users.yml's), not users known from JWTs only.
func (s *Service) ChangeOwnPassword(a Actor, current, password string) error {
	ch := change{action: "user.update", target: a.Name, usersOnly: true}
	u, ok := s.Directory().User(a.Name)
	switch {
	case !ok || u.Kind != control.KindUser:
		return s.deny(a, ch, errorf(ErrNotFound, "[%s] is not an internal user: its password is not kept by tenantgate", a.Name))
	case u.Reserved:
		return s.deny(a, ch, reserved(a.Name))
	case u.PasswordHash == "":
		return s.deny(a, ch, errorf(ErrInvalid, "[%s] has no password yet; ask an administrator to set one", a.Name))
	}
	if current == "" {
		return s.deny(a, ch, errorf(ErrInvalid, "current_password is required"))
	}
	if _, err := s.Password(a.Name, current); err != nil {
		return s.deny(a, ch, errorf(ErrInvalid, "Could not validate your current password."))
	}
	w, perr := s.prepareUser(UserInput{Name: a.Name, Password: &password})
	if perr != nil {
		return s.deny(a, ch, perr)
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		u, err := tx.User(a.Name)
		if err != nil {
			return nil, nil, accountNotFound(control.KindUser, a.Name)
		}
		before := u
		u.PasswordHash, u.Updated = w.u.PasswordHash, s.o.Clock().UTC()
		if err := revokeSessionsTx(tx, a.Name); err != nil {
			return nil, nil, err
		}
		return before, u, tx.PutUser(u)
	})
}

// GroupInput is a group to create, or the new content of one.
type GroupInput struct {
	Name        string
	Description string
}

// Groups lists the groups (hidden ones to superadmins only). It needs
// restapi:admin/internalusers, as every group operation does.
func (s *Service) Groups(a Actor) ([]control.Group, error) {
	if !s.managesUsers(a) {
		return nil, s.deny(a, change{action: "group.read"}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	out := []control.Group{}
	err := s.o.Store.View(func(tx *control.Tx) error {
		all, err := tx.Groups()
		for _, g := range all {
			if !g.Hidden || a.Superadmin {
				out = append(out, g)
			}
		}
		return err
	})
	return out, err
}

// visibleGroup loads a group a may see.
func (s *Service) visibleGroup(tx *control.Tx, a Actor, name string) (control.Group, error) {
	g, err := tx.Group(name)
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && g.Hidden && !a.Superadmin:
		return g, errorf(ErrNotFound, "group [%s] not found", name)
	}
	return g, err
}

// Group returns one group.
func (s *Service) Group(a Actor, name string) (control.Group, error) {
	if !s.managesUsers(a) {
		return control.Group{}, s.deny(a, change{action: "group.read", target: name}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	var g control.Group
	err := s.o.Store.View(func(tx *control.Tx) (err error) {
		g, err = s.visibleGroup(tx, a, name)
		return err
	})
	return g, err
}

// CreateGroup creates a group; 409 when it exists.
func (s *Service) CreateGroup(a Actor, in GroupInput) (control.Group, error) {
	ch := change{action: "group.create", target: in.Name, usersOnly: true}
	if !s.managesUsers(a) {
		return control.Group{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	if err := control.ValidateName("group", in.Name); err != nil {
		return control.Group{}, s.deny(a, ch, errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), control.ErrInvalid.Error()+": ")))
	}
	var out control.Group
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		if _, err := tx.Group(in.Name); err == nil {
			return nil, nil, errorf(ErrConflict, "group [%s] already exists", in.Name)
		}
		now := s.o.Clock().UTC()
		out = control.Group{Name: in.Name, Description: in.Description}
		out.Source, out.Created, out.Updated = control.SourceAPI, now, now
		return nil, out, tx.PutGroup(out)
	})
	return out, err
}

// UpdateGroup changes a group's description.
func (s *Service) UpdateGroup(a Actor, in GroupInput) (control.Group, error) {
	ch := change{action: "group.update", target: in.Name, usersOnly: true}
	if !s.managesUsers(a) {
		return control.Group{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	var out control.Group
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		g, err := s.visibleGroup(tx, a, in.Name)
		if err != nil {
			return nil, nil, err
		}
		if g.Reserved {
			return nil, nil, reserved(in.Name)
		}
		before := g
		out = g
		if g.Description == in.Description {
			return before, g, nil
		}
		g.Description, g.Updated = in.Description, s.o.Clock().UTC()
		out = g
		return before, g, tx.PutGroup(g)
	})
	return out, err
}

// DeleteGroup deletes a group and, in the same transaction, removes it
// from its members. A group that a reserved user (internal_users.yml)
// names cannot be deleted: the file would name it again.
func (s *Service) DeleteGroup(a Actor, name string) error {
	ch := change{action: "group.delete", target: name, usersOnly: true}
	if !s.managesUsers(a) {
		return s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		g, err := s.visibleGroup(tx, a, name)
		if err != nil {
			return nil, nil, err
		}
		if g.Reserved {
			return nil, nil, reserved(name)
		}
		users, err := tx.Users()
		if err != nil {
			return nil, nil, err
		}
		members := []string{}
		for _, u := range users {
			if !slices.Contains(u.Groups, name) {
				continue
			}
			if u.Reserved {
				return nil, nil, errorf(ErrConflict, "group [%s] is named by reserved user [%s] in internal_users.yml; remove it there first", name, u.Name)
			}
			if s.superUser(u) && !a.Superadmin {
				return nil, nil, onlySuperadmin(a, u.Name)
			}
			u.Groups = slices.DeleteFunc(u.Groups, func(n string) bool { return n == name })
			u.Updated = s.o.Clock().UTC()
			if err := tx.PutUser(u); err != nil {
				return nil, nil, err
			}
			members = append(members, u.Name)
		}
		return map[string]any{"group": g, "members": members}, nil, tx.DeleteGroup(name)
	})
}

// GroupMembers returns the users and service accounts of a group (the
// hidden ones to superadmins only).
func (s *Service) GroupMembers(a Actor, name string) ([]control.User, error) {
	if !s.managesUsers(a) {
		return nil, s.deny(a, change{action: "group.read", target: name}, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	out := []control.User{}
	err := s.o.Store.View(func(tx *control.Tx) error {
		if _, err := s.visibleGroup(tx, a, name); err != nil {
			return err
		}
		users, err := tx.Users()
		for _, u := range users {
			if slices.Contains(u.Groups, name) && (!u.Hidden || a.Superadmin) {
				out = append(out, u)
			}
		}
		return err
	})
	return out, err
}

// AddGroupMember adds the account user to a group (a change of the
// account, under the account rules: reserved accounts and superadmins
// are refused as in UpdateUser).
func (s *Service) AddGroupMember(a Actor, group, user string) (control.User, error) {
	return s.groupMember(a, "group.add_member", group, user, true)
}

// RemoveGroupMember removes the account user from a group.
func (s *Service) RemoveGroupMember(a Actor, group, user string) (control.User, error) {
	return s.groupMember(a, "group.remove_member", group, user, false)
}

func (s *Service) groupMember(a Actor, action, group, user string, add bool) (control.User, error) {
	ch := change{action: action, target: group, usersOnly: true}
	if !s.managesUsers(a) {
		return control.User{}, s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	var out control.User
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		if _, err := s.visibleGroup(tx, a, group); err != nil {
			return nil, nil, err
		}
		u, err := s.loadAccount(tx, a, "", user, false)
		if err != nil {
			return nil, nil, err
		}
		groups := slices.Clone(u.Groups)
		has := slices.Contains(groups, group)
		switch {
		case add && has, !add && !has:
			out = u
			return u, u, nil
		case add:
			groups = append(groups, group)
		default:
			groups = slices.DeleteFunc(groups, func(n string) bool { return n == group })
		}
		w := userWrite{u: u}
		w.u.Groups = groups
		before, after, err := s.writeUserTx(tx, a, w, modeReplace)
		if err != nil {
			return nil, nil, err
		}
		out = after
		return *before, after, nil
	})
	return out, err
}

// cleanNames validates names of kind and drops duplicates, keeping the
// order.
func cleanNames(kind string, names []string) ([]string, *Error) {
	for _, n := range names {
		if err := control.ValidateName(kind, n); err != nil {
			return nil, errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), control.ErrInvalid.Error()+": "))
		}
	}
	return dedupe(names), nil
}

// dedupe drops repeated strings, keeping the first of each; an empty
// list becomes nil.
func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func nonNil(list []string) []string {
	if list == nil {
		return []string{}
	}
	return slices.Clone(list)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

// PatchUsers applies an RFC 6902 JSON Patch to the accounts in
// OpenSearch Security's form ({"name": SecurityUser}), as PATCH
// /_plugins/_security/api/internalusers does: "add" of a new name
// creates an account, "remove" deletes one, other changes replace it
// under the rules of UpdateUser; a "password" (or "hash") in an entry
// sets the password. All of it happens in one transaction, or none of
// it. It needs restapi:admin/internalusers.
func (s *Service) PatchUsers(a Actor, patch []byte) error {
	ch := change{action: "user.patch", target: "internalusers", usersOnly: true}
	if !s.managesUsers(a) {
		return s.deny(a, ch, noPermission(policy.ClusterInternalUsers, a.Name))
	}
	ops, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return s.deny(a, ch, errorf(ErrInvalid, "invalid JSON Patch: %v", err))
	}
	hashes := s.prehash(a, ops)
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		current, doc, err := s.securityUsers(tx, a)
		if err != nil {
			return nil, nil, err
		}
		entries, err := patchEntries(ops, doc, "users")
		if err != nil {
			return nil, nil, err
		}
		next := map[string]SecurityUser{}
		for name, v := range entries {
			var su SecurityUser
			if err := decodeEntry(v, &su); err != nil {
				return nil, nil, errorf(ErrInvalid, "user [%s]: %v", name, err)
			}
			next[name] = su
		}
		for _, name := range slices.Sorted(maps.Keys(current)) {
			u := current[name]
			su, kept := next[name]
			switch {
			case !kept:
				switch {
				case u.Reserved:
					return nil, nil, reserved(name)
				case u.Name == a.Name:
					return nil, nil, errorf(ErrInvalid, "you cannot delete your own account [%s]", name)
				case s.superUser(u) && !a.Superadmin:
					return nil, nil, onlySuperadmin(a, name)
				}
				if err := tx.DeleteUser(name); err != nil {
					return nil, nil, err
				}
				continue
			case su.Password == "" && su.Hash == "" && sameSecurityUser(su, SecurityUserOf(u)):
				continue
			case u.Reserved:
				return nil, nil, reserved(name)
			case su.Reserved != u.Reserved || su.Hidden != u.Hidden || su.Static != u.Static:
				return nil, nil, errorf(ErrInvalid, "user [%s]: reserved, hidden and static cannot be changed through the API", name)
			case su.Kind != u.Kind:
				return nil, nil, errorf(ErrInvalid, "[%s] is a %s: an account's kind cannot change", name, kindName(u.Kind))
			}
			su.Reserved, su.Hidden, su.Static = false, false, false
			if err := s.patchUserTx(tx, a, name, su, modeReplace, hashes); err != nil {
				return nil, nil, err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(next)) {
			if _, ok := current[name]; ok {
				continue
			}
			if err := s.patchUserTx(tx, a, name, next[name], modeCreate, hashes); err != nil {
				return nil, nil, err
			}
		}
		_, after, err := s.securityUsers(tx, a)
		return doc, after, err
	})
}

// securityUsers returns the accounts a may see in tx, as records and in
// OpenSearch Security's form.
func (s *Service) securityUsers(tx *control.Tx, a Actor) (map[string]control.User, map[string]SecurityUser, error) {
	all, err := tx.Users()
	if err != nil {
		return nil, nil, err
	}
	current := map[string]control.User{}
	doc := map[string]SecurityUser{}
	for _, u := range all {
		if u.Hidden && !a.Superadmin {
			continue
		}
		current[u.Name] = u
		doc[u.Name] = SecurityUserOf(u)
	}
	return current, doc, nil
}

// prehash applies the patch to the accounts as they are now and hashes
// the passwords it sets, before the write transaction: bcrypt at the
// configured cost takes a quarter of a second, and the store's write lock
// must not wait for it. The result is keyed by name and password;
// patchUserTx hashes whatever it lacks (a concurrent change), and reports
// the errors.
func (s *Service) prehash(a Actor, ops jsonpatch.Patch) map[string]string {
	var plain [][2]string
	_ = s.o.Store.View(func(tx *control.Tx) error {
		_, doc, err := s.securityUsers(tx, a)
		if err != nil {
			return err
		}
		entries, err := patchEntries(ops, doc, "users")
		if err != nil {
			return err
		}
		for name, v := range entries {
			var su SecurityUser
			if decodeEntry(v, &su) == nil && su.Password != "" {
				plain = append(plain, [2]string{name, su.Password})
			}
		}
		return nil
	})
	out := map[string]string{}
	for _, p := range plain {
		if h, err := auth.HashPassword(p[1], s.o.BcryptCost); err == nil {
			out[p[0]+"\x00"+p[1]] = h
		}
	}
	return out
}

// patchUserTx writes one entry of a patch, with the passwords prehash
// hashed before the transaction.
func (s *Service) patchUserTx(tx *control.Tx, a Actor, name string, su SecurityUser, mode writeMode, hashes map[string]string) error {
	if h, ok := hashes[name+"\x00"+su.Password]; ok && su.Password != "" {
		su.Password, su.Hash = "", h
	}
	in, err := su.InputOf(name)
	if err != nil {
		return err
	}
	if mode == modeCreate {
		in.Kind = cmpOr(in.Kind, control.KindUser)
	}
	w, perr := s.prepareUser(in)
	if perr != nil {
		return perr
	}
	_, _, err = s.writeUserTx(tx, a, w, mode)
	return err
}

// sameSecurityUser reports whether a and b have the same content.
func sameSecurityUser(a, b SecurityUser) bool {
	return a.Hash == b.Hash && a.Password == b.Password && a.Reserved == b.Reserved && a.Hidden == b.Hidden &&
		a.Static == b.Static && slices.Equal(a.BackendRoles, b.BackendRoles) && maps.Equal(a.Attributes, b.Attributes) &&
		a.Description == b.Description && slices.Equal(a.SecurityRoles, b.SecurityRoles) && a.Kind == b.Kind &&
		a.Superadmin == b.Superadmin && slices.Equal(a.Groups, b.Groups) && a.Email == b.Email &&
		a.FirstName == b.FirstName && a.LastName == b.LastName && a.Disabled == b.Disabled && a.Tenant == b.Tenant
}

// dummyHash is a bcrypt hash, at Options.BcryptCost, of a random
// password nobody is told, made on first use.
type dummyHash struct {
	once sync.Once
	hash string
}

// dummyCheck spends the time of checking pw against a stored hash of
// Options.BcryptCost, for a sign-in whose user is unknown, disabled or
// has no password, so that the answer's timing does not tell them from a
// wrong password. auth.DummyCheck matches only hashes of the default
// cost, so it is the fallback alone.
func (s *Service) dummyCheck(pw string) {
	s.dummy.once.Do(func() {
		var b [16]byte
		_, _ = rand.Read(b[:])
		if h, err := auth.HashPassword(hex.EncodeToString(b[:]), s.o.BcryptCost); err == nil {
			s.dummy.hash = h
		}
	})
	if s.dummy.hash == "" {
		auth.DummyCheck(pw)
		return
	}
	_ = auth.CheckPassword(s.dummy.hash, pw)
}
