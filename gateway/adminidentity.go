package gateway

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// Identity administration: Kestra's /api/v1/users, /service-accounts,
// /groups and their API tokens; OpenSearch Security's internalusers and
// account; and the UI's password sign-in (/auth/login, /auth/logout).
// Handlers only translate; the rules are admin's.

// userView is a user in Kestra's API shape. It never holds the password
// or its hash; hasPassword says whether one is set.
type userView struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Username     string            `json:"username"`
	FirstName    string            `json:"firstName"`
	LastName     string            `json:"lastName"`
	Email        string            `json:"email"`
	Description  string            `json:"description"`
	Groups       []string          `json:"groups"`
	BackendRoles []string          `json:"backendRoles"`
	Attributes   map[string]string `json:"attributes"`
	SuperAdmin   bool              `json:"superAdmin"`
	Disabled     bool              `json:"disabled"`
	HasPassword  bool              `json:"hasPassword"`
	Reserved     bool              `json:"reserved"`
	Hidden       bool              `json:"hidden"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
}

// serviceAccountView is a service account in Kestra's API shape.
type serviceAccountView struct {
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Tenant       string            `json:"tenant,omitempty"`
	Groups       []string          `json:"groups"`
	BackendRoles []string          `json:"backendRoles"`
	Attributes   map[string]string `json:"attributes"`
	SuperAdmin   bool              `json:"superAdmin"`
	Disabled     bool              `json:"disabled"`
	Reserved     bool              `json:"reserved"`
	Hidden       bool              `json:"hidden"`
	Created      time.Time         `json:"created"`
	Updated      time.Time         `json:"updated"`
}

// accountView returns u in the Kestra shape of its kind.
func accountView(u control.User) any {
	if u.Kind == control.KindServiceAccount {
		return serviceAccountView{ID: u.Name, Type: u.Kind, Name: u.Name, Description: u.Description, Tenant: u.Tenant,
			Groups: strs(u.Groups), BackendRoles: strs(u.BackendRoles), Attributes: attrs(u.Attributes),
			SuperAdmin: u.Superadmin, Disabled: u.Disabled, Reserved: u.Reserved, Hidden: u.Hidden,
			Created: u.Created, Updated: u.Updated}
	}
	return userView{ID: u.Name, Type: control.KindUser, Username: u.Name, FirstName: u.FirstName, LastName: u.LastName,
		Email: u.Email, Description: u.Description, Groups: strs(u.Groups), BackendRoles: strs(u.BackendRoles),
		Attributes: attrs(u.Attributes), SuperAdmin: u.Superadmin, Disabled: u.Disabled, HasPassword: u.PasswordHash != "",
		Reserved: u.Reserved, Hidden: u.Hidden, Created: u.Created, Updated: u.Updated}
}

func strs(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func attrs(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// readOnlyFields are the fields of a view that a PUT may send back
// unchanged (GET, edit, PUT); they are ignored.
type readOnlyFields struct {
	Type        json.RawMessage `json:"type"`
	HasPassword json.RawMessage `json:"hasPassword"`
	Reserved    json.RawMessage `json:"reserved"`
	Hidden      json.RawMessage `json:"hidden"`
	Created     json.RawMessage `json:"created"`
	Updated     json.RawMessage `json:"updated"`
}

// userBody is a user in a POST or PUT of /api/v1/users. password, when
// present, sets the password (PUT /api/v1/users/{id}/password does too);
// left out of a PUT it keeps the current one.
type userBody struct {
	ID           string            `json:"id"`
	Username     string            `json:"username"`
	FirstName    string            `json:"firstName"`
	LastName     string            `json:"lastName"`
	Email        string            `json:"email"`
	Description  string            `json:"description"`
	Groups       []string          `json:"groups"`
	BackendRoles []string          `json:"backendRoles"`
	Attributes   map[string]string `json:"attributes"`
	SuperAdmin   bool              `json:"superAdmin"`
	Disabled     bool              `json:"disabled"`
	Password     *string           `json:"password"`
	readOnlyFields
}

// serviceAccountBody is a service account in a POST or PUT of
// /api/v1/service-accounts.
type serviceAccountBody struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	Tenant       string            `json:"tenant"`
	Groups       []string          `json:"groups"`
	BackendRoles []string          `json:"backendRoles"`
	Attributes   map[string]string `json:"attributes"`
	SuperAdmin   bool              `json:"superAdmin"`
	Disabled     bool              `json:"disabled"`
	readOnlyFields
}

// accountInput decodes the body of a POST (pathID "") or PUT of an
// account of kind into an admin.UserInput. The name comes from the
// path, or from the body's id, username or name, which must agree.
func accountInput(c *fiber.Ctx, kind, pathID string) (admin.UserInput, error) {
	var in admin.UserInput
	var names []string
	if kind == control.KindServiceAccount {
		var b serviceAccountBody
		if err := decodeStrict(c, &b, "service account"); err != nil {
			return in, err
		}
		names = []string{b.ID, b.Name}
		in = admin.UserInput{Kind: kind, Description: b.Description, Tenant: b.Tenant, Groups: b.Groups,
			BackendRoles: b.BackendRoles, Attributes: b.Attributes, Superadmin: b.SuperAdmin, Disabled: b.Disabled}
	} else {
		var b userBody
		if err := decodeStrict(c, &b, "user"); err != nil {
			return in, err
		}
		names = []string{b.ID, b.Username}
		in = admin.UserInput{Kind: kind, FirstName: b.FirstName, LastName: b.LastName, Email: b.Email,
			Description: b.Description, Groups: b.Groups, BackendRoles: b.BackendRoles, Attributes: b.Attributes,
			Superadmin: b.SuperAdmin, Disabled: b.Disabled, Password: b.Password}
	}
	in.Name = pathID
	for _, n := range names {
		switch {
		case n == "":
		case in.Name == "":
			in.Name = n
		case n != in.Name && pathID != "":
			return in, badRequest("illegal_argument_exception", "the name in the body [%s] differs from the one in the path [%s]: an account cannot be renamed", n, pathID)
		case n != in.Name:
			return in, badRequest("illegal_argument_exception", "the body names two different accounts: [%s] and [%s]", in.Name, n)
		}
	}
	if in.Name == "" {
		field := "username"
		if kind == control.KindServiceAccount {
			field = "name"
		}
		return in, badRequest("illegal_argument_exception", "%s is required", field)
	}
	return in, nil
}

// handleCreateAccount answers POST /api/v1/users and
// /api/v1/service-accounts.
func (s *Server) handleCreateAccount(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		in, err := accountInput(c, kind, "")
		if err != nil {
			return err
		}
		u, err := s.admin.CreateUser(s.actor(c), in)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(accountView(u))
	}
}

// handleListAccounts answers GET /api/v1/users and /api/v1/service-accounts.
func (s *Server) handleListAccounts(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := checkParams(c); err != nil {
			return err
		}
		list, err := s.admin.Users(s.actor(c), kind)
		if err != nil {
			return err
		}
		out := make([]any, 0, len(list))
		for _, u := range list {
			out = append(out, accountView(u))
		}
		return c.JSON(out)
	}
}

// handleGetAccount answers GET /api/v1/users/{id} and
// /api/v1/service-accounts/{id}.
func (s *Server) handleGetAccount(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		u, err := s.admin.User(s.actor(c), kind, id)
		if err != nil {
			return err
		}
		return c.JSON(accountView(u))
	}
}

// handleUpdateAccount answers PUT /api/v1/users/{id} and
// /api/v1/service-accounts/{id}: the body replaces the account's content.
func (s *Server) handleUpdateAccount(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		in, err := accountInput(c, kind, id)
		if err != nil {
			return err
		}
		u, err := s.admin.UpdateUser(s.actor(c), in)
		if err != nil {
			return err
		}
		return c.JSON(accountView(u))
	}
}

// handleDeleteAccount answers DELETE /api/v1/users/{id} and
// /api/v1/service-accounts/{id}.
func (s *Server) handleDeleteAccount(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		if err := s.admin.DeleteUser(s.actor(c), kind, id); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// handleSetPassword answers PUT /api/v1/users/{id}/password
// {"password": …}: an administrator sets a user's password. Users
// changing their own send {"password", "currentPassword"} (or use PUT
// /_plugins/_security/api/account).
func (s *Server) handleSetPassword(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		Password        string `json:"password"`
		CurrentPassword string `json:"currentPassword"`
	}
	if err := decodeStrict(c, &in, "password"); err != nil {
		return err
	}
	a := s.actor(c)
	if id == a.Name && in.CurrentPassword != "" {
		err = s.admin.ChangeOwnPassword(a, in.CurrentPassword, in.Password)
	} else {
		err = s.admin.SetPassword(a, id, in.Password)
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// tokenView is an API token in a listing; Token is set only in the
// answer that creates it.
type tokenView struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	Prefix      string     `json:"prefix"`
	Created     time.Time  `json:"created"`
	Expires     *time.Time `json:"expires,omitempty"`
	LastUsed    *time.Time `json:"lastUsed,omitempty"`
	Token       string     `json:"token,omitempty"`
}

func viewOfToken(t control.Token) tokenView {
	v := tokenView{ID: t.ID, Name: t.Name, Description: t.Description, Prefix: t.Prefix, Created: t.Created}
	if !t.Expires.IsZero() {
		at := t.Expires
		v.Expires = &at
	}
	if !t.LastUsed.IsZero() {
		at := t.LastUsed
		v.LastUsed = &at
	}
	return v
}

// handleCreateToken answers POST /api/v1/users/{id}/tokens (and the
// service-account form) {"name", "description", "max_age"}: the answer
// holds the token, shown this once.
func (s *Server) handleCreateToken(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		var in struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			MaxAge      string `json:"max_age"`
			MaxAge2     string `json:"maxAge"`
			Extended    bool   `json:"extended"`
		}
		if err := decodeStrict(c, &in, "token"); err != nil {
			return err
		}
		if in.Extended {
			return badRequest("illegal_argument_exception", "extended tokens (whose lifetime grows with use) are not supported; give max_age")
		}
		if in.MaxAge != "" && in.MaxAge2 != "" && in.MaxAge != in.MaxAge2 {
			return badRequest("illegal_argument_exception", "max_age and maxAge disagree")
		}
		tok, err := s.admin.CreateToken(s.actor(c), kind, id,
			admin.TokenInput{Name: in.Name, Description: in.Description, MaxAge: cmpOr(in.MaxAge, in.MaxAge2)})
		if err != nil {
			return err
		}
		v := viewOfToken(tok.Record)
		v.Token = tok.Token
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Status(fiber.StatusCreated).JSON(v)
	}
}

// handleListTokens answers GET /api/v1/users/{id}/tokens (and the
// service-account form).
func (s *Server) handleListTokens(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		list, err := s.admin.Tokens(s.actor(c), kind, id)
		if err != nil {
			return err
		}
		out := make([]tokenView, 0, len(list))
		for _, t := range list {
			out = append(out, viewOfToken(t))
		}
		return c.JSON(out)
	}
}

// handleRevokeToken answers DELETE /api/v1/users/{id}/tokens/{tokenId}
// (and the service-account form).
func (s *Server) handleRevokeToken(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		tokenID, err := param(c, "tokenId")
		if err != nil {
			return err
		}
		if _, err := s.admin.RevokeToken(s.actor(c), kind, id, tokenID); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

// groupView is a group in Kestra's API shape.
type groupView struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Reserved    bool      `json:"reserved"`
	Hidden      bool      `json:"hidden"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func viewOfGroup(g control.Group) groupView {
	return groupView{ID: g.Name, Name: g.Name, Description: g.Description, Reserved: g.Reserved, Hidden: g.Hidden,
		Created: g.Created, Updated: g.Updated}
}

// groupBody is a group in a POST or PUT of /api/v1/groups.
type groupBody struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	readOnlyFields
}

// handleCreateGroup answers POST /api/v1/groups {"name", "description"}.
func (s *Server) handleCreateGroup(c *fiber.Ctx) error {
	var in groupBody
	if err := decodeStrict(c, &in, "group"); err != nil {
		return err
	}
	if in.ID != "" && in.Name != "" && in.ID != in.Name {
		return badRequest("illegal_argument_exception", "id [%s] and name [%s] differ: a group's id is its name", in.ID, in.Name)
	}
	g, err := s.admin.CreateGroup(s.actor(c), admin.GroupInput{Name: cmpOr(in.Name, in.ID), Description: in.Description})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(viewOfGroup(g))
}

// handleListGroups answers GET /api/v1/groups.
func (s *Server) handleListGroups(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	list, err := s.admin.Groups(s.actor(c))
	if err != nil {
		return err
	}
	out := make([]groupView, 0, len(list))
	for _, g := range list {
		out = append(out, viewOfGroup(g))
	}
	return c.JSON(out)
}

// handleGetGroup answers GET /api/v1/groups/{id}.
func (s *Server) handleGetGroup(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	g, err := s.admin.Group(s.actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(viewOfGroup(g))
}

// handleUpdateGroup answers PUT /api/v1/groups/{id} {"description"}.
func (s *Server) handleUpdateGroup(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	var in groupBody
	if err := decodeStrict(c, &in, "group"); err != nil {
		return err
	}
	for _, n := range []string{in.ID, in.Name} {
		if n != "" && n != id {
			return badRequest("illegal_argument_exception", "the name in the body [%s] differs from the one in the path [%s]: a group cannot be renamed", n, id)
		}
	}
	g, err := s.admin.UpdateGroup(s.actor(c), admin.GroupInput{Name: id, Description: in.Description})
	if err != nil {
		return err
	}
	return c.JSON(viewOfGroup(g))
}

// handleDeleteGroup answers DELETE /api/v1/groups/{id}; the group's
// members lose it.
func (s *Server) handleDeleteGroup(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	if err := s.admin.DeleteGroup(s.actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// handleGroupMembers answers GET /api/v1/groups/{id}/members.
func (s *Server) handleGroupMembers(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	list, err := s.admin.GroupMembers(s.actor(c), id)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(list))
	for _, u := range list {
		out = append(out, accountView(u))
	}
	return c.JSON(out)
}

// handleGroupMember answers PUT (add) and DELETE (remove)
// /api/v1/groups/{id}/members/{username} with the member's account.
func (s *Server) handleGroupMember(add bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		user, err := param(c, "username")
		if err != nil {
			return err
		}
		var u control.User
		if add {
			u, err = s.admin.AddGroupMember(s.actor(c), id, user)
		} else {
			u, err = s.admin.RemoveGroupMember(s.actor(c), id, user)
		}
		if err != nil {
			return err
		}
		return c.JSON(accountView(u))
	}
}

// handleInternalUsers answers GET /_plugins/_security/api/internalusers[/{name}]
// in OpenSearch Security's shape ("hash" always empty).
func (s *Server) handleInternalUsers(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	a := s.actor(c)
	out := map[string]admin.SecurityUser{}
	if name != "" {
		u, err := s.admin.User(a, "", name)
		if err != nil {
			return err
		}
		out[u.Name] = admin.SecurityUserOf(u)
		return c.JSON(out)
	}
	list, err := s.admin.Users(a, "")
	if err != nil {
		return err
	}
	for _, u := range list {
		out[u.Name] = admin.SecurityUserOf(u)
	}
	return c.JSON(out)
}

// handlePutInternalUser answers PUT /_plugins/_security/api/internalusers/{name}
// {"password" or "hash", "backend_roles", "attributes", "description",
// and tenantgate's kind, superadmin, groups, email, first_name,
// last_name, disabled, tenant}: it creates the account or replaces it
// (keeping the password unless one is given).
func (s *Server) handlePutInternalUser(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var su admin.SecurityUser
	if err := decodeStrict(c, &su, "internal user"); err != nil {
		return err
	}
	in, err := su.InputOf(name)
	if err != nil {
		return err
	}
	created, _, err := s.admin.PutUser(s.actor(c), in)
	if err != nil {
		return err
	}
	if created {
		return c.Status(fiber.StatusCreated).JSON(securityStatus{"CREATED", "'" + name + "' created."})
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' updated."})
}

// handleDeleteInternalUser answers DELETE /_plugins/_security/api/internalusers/{name}.
func (s *Server) handleDeleteInternalUser(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := s.admin.DeleteUser(s.actor(c), "", name); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' deleted."})
}

// handlePatchInternalUsers answers PATCH /_plugins/_security/api/internalusers[/{name}]
// with an RFC 6902 JSON Patch, applied in one transaction or not at all.
func (s *Server) handlePatchInternalUsers(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	patch := c.Body()
	if name != "" {
		if patch, err = prefixPatch(patch, name); err != nil {
			return err
		}
	}
	if err := s.admin.PatchUsers(s.actor(c), patch); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "Resource updated."})
}

// handleAccount answers GET /_plugins/_security/api/account: who the
// caller is and which tenants they may use.
func (s *Server) handleAccount(c *fiber.Ctx) error {
	cl := callerOf(c)
	requested, err := requestedTenant(c)
	if err != nil {
		return err
	}
	var req any
	if requested != "" {
		req = requested
	}
	u, internal := s.admin.Directory().User(cl.principal.Name)
	attrNames := []string{}
	for _, k := range slices.Sorted(maps.Keys(u.Attributes)) {
		attrNames = append(attrNames, "attr.internal."+k)
	}
	return c.JSON(fiber.Map{
		"user_name":              cl.principal.Name,
		"is_reserved":            internal && u.Reserved,
		"is_hidden":              internal && u.Hidden,
		"is_internal_user":       internal,
		"user_requested_tenant":  req,
		"backend_roles":          strs(cl.principal.BackendRoles),
		"custom_attribute_names": attrNames,
		"tenants":                s.tenantsOf(cl),
		"roles":                  cl.roles.Names(),
	})
}

// tenantsOf is the tenants map of authinfo and account: the tenants the
// caller may use, true for read-write, the private tenant under the
// caller's name (service accounts have none).
func (s *Server) tenantsOf(cl *caller) map[string]bool {
	set := s.resolver.Settings()
	var names []string
	if set.Enabled {
		for _, t := range s.resolver.Registry().List(false) {
			names = append(names, t.Name)
		}
		if set.EnablePrivate && !cl.serviceAccount {
			names = append(names, policy.PrivateTenant)
		}
	}
	if !set.Enabled || set.EnableGlobal {
		names = append(names, policy.GlobalTenant)
	}
	out := map[string]bool{}
	for name, rw := range s.policy.Tenants(cl.roles, names) {
		if name == policy.PrivateTenant {
			name = cl.principal.Name
		}
		out[name] = rw
	}
	return out
}

// handlePutAccount answers PUT /_plugins/_security/api/account
// {"current_password", "password"}: an internal user changes their own
// password.
func (s *Server) handlePutAccount(c *fiber.Ctx) error {
	var in struct {
		CurrentPassword string `json:"current_password"`
		Password        string `json:"password"`
	}
	if err := decodeStrict(c, &in, "account"); err != nil {
		return err
	}
	a := s.actor(c)
	if err := s.admin.ChangeOwnPassword(a, in.CurrentPassword, in.Password); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "'" + a.Name + "' updated."})
}

// handleLogin answers POST /auth/login {"username", "password"}, the UI's
// password sign-in: a new API token named "web session", valid for
// auth.api_tokens.session_max_age. A wrong password and an unknown user
// get the same 401; both outcomes are audited. Too many failures for the
// name or the address get a 429 (auth.passwords.failure_limit).
func (s *Server) handleLogin(c *fiber.Ctx) error {
	if !s.cfg.Auth.Passwords.Enabled {
		return &Error{Status: fiber.StatusNotFound, Type: "illegal_argument_exception",
			Reason: "password sign-in is disabled (auth.passwords.enabled is false): sign in with a token"}
	}
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeStrict(c, &in, "sign-in"); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return badRequest("illegal_argument_exception", "username and password are required")
	}
	// No user has a longer name (JWT subjects and Basic user names are
	// held to it too); refusing it here keeps an anonymous client from
	// writing megabytes into the audit trail with each failed sign-in.
	if len(in.Username) > auth.MaxSubjectBytes {
		return badRequest("illegal_argument_exception", "username is longer than %d bytes", auth.MaxSubjectBytes)
	}
	p, err := s.password(c, in.Username, in.Password)
	if errors.Is(err, auth.ErrUnauthenticated) {
		return unauthorized(err.Error())
	} else if err != nil {
		return err
	}
	roles := s.policy.RolesForGroups(p.Name, p.BackendRoles, p.Groups)
	a := admin.Actor{Name: p.Name, Roles: roles, Superadmin: p.Superadmin || s.policy.Superadmin(roles),
		ClientIP: c.IP(), RequestID: requestID(c)}
	tok, err := s.admin.SessionToken(a)
	if err != nil {
		return err
	}
	rec := s.authRecord(c, p.Name, audit.ActionSignIn, audit.OutcomeSuccess, fiber.StatusOK, "")
	rec.ActorRoles = roles.Names()
	s.trail.Record(rec)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"token": tok.Token, "expires": tok.Record.Expires.Format(time.RFC3339), "user": p.Name})
}

// handleLogout answers POST /auth/logout: it revokes the API token the
// request is authenticated with (the sign-in's), and nothing else.
func (s *Server) handleLogout(c *fiber.Ctx) error {
	cl := callerOf(c)
	if cl.principal.Method != auth.MethodAPIToken || cl.principal.TokenID == "" {
		return badRequest("illegal_argument_exception", "sign-out revokes the API token the request is authenticated with; this request was authenticated by %s", cl.principal.Method)
	}
	if err := s.admin.SignOut(s.actor(c), cl.principal.TokenID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// identityRoutes registers identity administration: Kestra's users,
// service accounts, groups and API tokens, OpenSearch Security's
// internalusers and account, and the UI's sign-out.
func (s *Server) identityRoutes(app *fiber.App) {
	for _, k := range []struct{ path, kind string }{
		{"/api/v1/users", control.KindUser},
		{"/api/v1/service-accounts", control.KindServiceAccount},
	} {
		app.Post(k.path, s.handleCreateAccount(k.kind))
		app.Get(k.path, s.handleListAccounts(k.kind))
		app.Get(k.path+"/:id", s.handleGetAccount(k.kind))
		app.Put(k.path+"/:id", s.handleUpdateAccount(k.kind))
		app.Delete(k.path+"/:id", s.handleDeleteAccount(k.kind))
		// "tokens" as the issue names them, "api-tokens" as Kestra does.
		for _, t := range []string{"/tokens", "/api-tokens"} {
			app.Post(k.path+"/:id"+t, s.handleCreateToken(k.kind))
			app.Get(k.path+"/:id"+t, s.handleListTokens(k.kind))
			app.Delete(k.path+"/:id"+t+"/:tokenId", s.handleRevokeToken(k.kind))
		}
	}
	app.Put("/api/v1/users/:id/password", s.handleSetPassword)
	app.Post("/api/v1/groups", s.handleCreateGroup)
	app.Get("/api/v1/groups", s.handleListGroups)
	app.Get("/api/v1/groups/:id", s.handleGetGroup)
	app.Put("/api/v1/groups/:id", s.handleUpdateGroup)
	app.Delete("/api/v1/groups/:id", s.handleDeleteGroup)
	app.Get("/api/v1/groups/:id/members", s.handleGroupMembers)
	app.Put("/api/v1/groups/:id/members/:username", s.handleGroupMember(true))
	app.Delete("/api/v1/groups/:id/members/:username", s.handleGroupMember(false))
	for _, prefix := range []string{"/_plugins/_security/api", "/_opendistro/_security/api"} {
		app.Get(prefix+"/internalusers/:name?", s.handleInternalUsers)
		app.Put(prefix+"/internalusers/:name", s.handlePutInternalUser)
		app.Delete(prefix+"/internalusers/:name", s.handleDeleteInternalUser)
		app.Patch(prefix+"/internalusers/:name?", s.handlePatchInternalUsers)
		app.Get(prefix+"/account", s.handleAccount)
		app.Put(prefix+"/account", s.handlePutAccount)
	}
	app.Post("/auth/logout", s.handleLogout)
}

// publicRoutes registers the routes that need no authentication: the
// UI's password sign-in.
func (s *Server) publicRoutes(app *fiber.App) {
	app.Post("/auth/login", s.handleLogin)
}
