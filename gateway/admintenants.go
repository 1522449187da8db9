package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/tenants"
)

// Tenant administration: Kestra's /api/v1/tenants and OpenSearch
// Security's /_plugins/_security/api/tenants and tenancy/config, both on
// the same records. Handlers only translate; the rules are admin's.

// tenantView is a tenant in Kestra's API shape.
type tenantView struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Description     string     `json:"description,omitempty"`
	Deleted         bool       `json:"deleted"`
	DeletedAt       *time.Time `json:"deletedAt,omitempty"`
	RestorableUntil *time.Time `json:"restorableUntil,omitempty"`
	Locked          bool       `json:"locked"`
	Frozen          bool       `json:"frozen"`
	Reserved        bool       `json:"reserved"`
	Hidden          bool       `json:"hidden"`
	Created         time.Time  `json:"created"`
	Updated         time.Time  `json:"updated"`
}

func (s *Server) tenantView(t control.Tenant) tenantView {
	v := tenantView{ID: t.ID, Name: t.Name, Description: t.Description, Locked: t.Locked, Frozen: t.Frozen,
		Reserved: t.Reserved, Hidden: t.Hidden, Created: t.Created, Updated: t.Updated}
	if t.DeletedAt != nil {
		at := *t.DeletedAt
		until := at.Add(s.cfg.Tenants.Retention)
		v.Deleted, v.DeletedAt, v.RestorableUntil = true, &at, &until
	}
	return v
}

// actor is the caller as admin sees them.
func (s *Server) actor(c *fiber.Ctx) admin.Actor {
	cl := callerOf(c)
	return admin.Actor{Name: cl.principal.Name, Roles: cl.roles, Superadmin: cl.superadmin,
		ClientIP: c.IP(), RequestID: requestID(c)}
}

// decodeStrict decodes a JSON object body into v, refusing unknown
// fields, trailing data and an empty body with a 400 that names the
// problem.
func decodeStrict(c *fiber.Ctx, v any, what string) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("parse_exception", "%s: a JSON request body is required", what)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("parse_exception", "%s: %s", what, index.JSONErrorText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return badRequest("parse_exception", "%s: unexpected data after the JSON object", what)
	}
	return nil
}

// handleCreateTenant answers POST /api/v1/tenants
// {"id": "stage", "name": "Staging", "adminUsername": "john@doe.com"}.
func (s *Server) handleCreateTenant(c *fiber.Ctx) error {
	var in struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		Description    string `json:"description"`
		Deleted        bool   `json:"deleted"`
		AdminUsername  string `json:"adminUsername"`
		AdminUsername2 string `json:"admin_username"`
	}
	if err := decodeStrict(c, &in, "tenant"); err != nil {
		return err
	}
	if in.Deleted {
		return badRequest("illegal_argument_exception", "a new tenant cannot be deleted")
	}
	t, err := s.admin.CreateTenant(s.actor(c), admin.TenantInput{ID: in.ID, Name: in.Name, Description: in.Description,
		AdminUsername: cmpOr(in.AdminUsername, in.AdminUsername2)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(s.tenantView(t))
}

// handleListTenants answers GET /api/v1/tenants[?deleted=true].
func (s *Server) handleListTenants(c *fiber.Ctx) error {
	if err := checkParams(c, "deleted"); err != nil {
		return err
	}
	list, err := s.admin.Tenants(s.actor(c), c.QueryBool("deleted"))
	if err != nil {
		return err
	}
	out := make([]tenantView, 0, len(list))
	for _, t := range list {
		out = append(out, s.tenantView(t))
	}
	return c.JSON(out)
}

// handleGetTenant answers GET /api/v1/tenants/{id}.
func (s *Server) handleGetTenant(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	t, err := s.admin.Tenant(s.actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(s.tenantView(t))
}

// handleUpdateTenant answers PUT /api/v1/tenants/{id} {"name", "description"}.
func (s *Server) handleUpdateTenant(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	var in struct {
		ID          *string `json:"id"`
		Name        *string `json:"name"`
		Description *string `json:"description"`
		Deleted     *bool   `json:"deleted"`
	}
	if err := decodeStrict(c, &in, "tenant"); err != nil {
		return err
	}
	if in.ID != nil && *in.ID != id {
		return badRequest("illegal_argument_exception", "the id in the body [%s] differs from the id in the path [%s]: a tenant id cannot change", *in.ID, id)
	}
	if in.Deleted != nil && *in.Deleted {
		return badRequest("illegal_argument_exception", "delete a tenant with DELETE /api/v1/tenants/%s", id)
	}
	t, err := s.admin.UpdateTenant(s.actor(c), id, in.Name, in.Description)
	if err != nil {
		return err
	}
	return c.JSON(s.tenantView(t))
}

// handleDeleteTenant answers DELETE /api/v1/tenants/{id}: a soft delete,
// restorable until the retention window ends.
func (s *Server) handleDeleteTenant(c *fiber.Ctx) error {
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	t, err := s.admin.DeleteTenant(s.actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(s.tenantView(t))
}

// handleTenantOp answers POST /api/v1/tenants/{id}/{restore|lock|unlock|freeze|unfreeze|purge}.
func (s *Server) handleTenantOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		a := s.actor(c)
		var t control.Tenant
		switch op {
		case "restore":
			t, err = s.admin.RestoreTenant(a, id)
		case "purge":
			if err := s.admin.PurgeTenant(c.UserContext(), a, id); err != nil {
				return err
			}
			return c.JSON(fiber.Map{"id": id, "purged": true})
		default:
			t, err = s.admin.SetTenantState(a, id, op)
		}
		if err != nil {
			return err
		}
		return c.JSON(s.tenantView(t))
	}
}

// handleSecurityTenants answers GET /_plugins/_security/api/tenants[/{name}]
// in OpenSearch Security's shape.
func (s *Server) handleSecurityTenants(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	a := s.actor(c)
	out := map[string]admin.SecurityTenant{}
	if name != "" {
		t, err := s.admin.Tenant(a, name)
		if err != nil {
			return securityNotFound(err, name)
		}
		out[t.ID] = admin.SecurityTenantOf(t)
		return c.JSON(out)
	}
	list, err := s.admin.Tenants(a, false)
	if err != nil {
		return err
	}
	for _, t := range list {
		out[t.ID] = admin.SecurityTenantOf(t)
	}
	return c.JSON(out)
}

// handlePutSecurityTenant answers PUT /_plugins/_security/api/tenants/{name}
// {"description": …}.
func (s *Server) handlePutSecurityTenant(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var in struct {
		Description string `json:"description"`
	}
	if err := decodeStrict(c, &in, "tenant"); err != nil {
		return err
	}
	created, err := s.admin.PutSecurityTenant(s.actor(c), name, in.Description)
	if err != nil {
		return securityNotFound(err, name)
	}
	if created {
		return c.Status(fiber.StatusCreated).JSON(securityStatus{"CREATED", "'" + name + "' created."})
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' updated."})
}

// handleDeleteSecurityTenant answers DELETE /_plugins/_security/api/tenants/{name}.
func (s *Server) handleDeleteSecurityTenant(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if _, err := s.admin.DeleteTenant(s.actor(c), name); err != nil {
		return securityNotFound(err, name)
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' deleted."})
}

// securityNotFound gives the 404 of a missing (or hidden) tenant
// OpenSearch Security's message, "Resource 'x' not found.", as the roles
// API has; other errors pass unchanged.
func securityNotFound(err error, name string) error {
	var ae *admin.Error
	if errors.As(err, &ae) && errors.Is(ae.Kind, admin.ErrNotFound) {
		return &admin.Error{Kind: admin.ErrNotFound, Message: "Resource '" + name + "' not found."}
	}
	return err
}

// handlePatchSecurityTenants answers PATCH /_plugins/_security/api/tenants
// (a JSON Patch over every tenant) and PATCH …/tenants/{name} (paths
// relative to that tenant).
func (s *Server) handlePatchSecurityTenants(c *fiber.Ctx) error {
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
	if err := s.admin.PatchTenants(s.actor(c), patch); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "Resource updated."})
}

// prefixPatch rewrites the paths of a JSON Patch aimed at one resource
// (PATCH …/{name}) to paths in the whole collection.
func prefixPatch(patch []byte, name string) ([]byte, error) {
	var ops []map[string]any
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, badRequest("parse_exception", "a JSON Patch must be an array of operations: %s", index.JSONErrorText(err))
	}
	esc := strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
	for _, op := range ops {
		for _, k := range []string{"path", "from"} {
			if p, ok := op[k].(string); ok {
				op[k] = "/" + esc + strings.TrimSuffix(p, "/")
				if p == "" || p == "/" {
					op[k] = "/" + esc
				}
			}
		}
	}
	return json.Marshal(ops)
}

// securityStatus is OpenSearch Security's answer to a change.
type securityStatus struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// tenancyView is tenancy/config in OpenSearch Security's shape, plus
// global_tenant_enabled and preferred_tenants.
type tenancyView struct {
	MultitenancyEnabled  *bool    `json:"multitenancy_enabled"`
	PrivateTenantEnabled *bool    `json:"private_tenant_enabled"`
	GlobalTenantEnabled  *bool    `json:"global_tenant_enabled"`
	DefaultTenant        *string  `json:"default_tenant"`
	PreferredTenants     []string `json:"preferred_tenants"`
}

func viewOfTenancy(t control.Tenancy) tenancyView {
	pref := t.PreferredTenants
	if pref == nil {
		pref = []string{}
	}
	return tenancyView{&t.MultitenancyEnabled, &t.PrivateTenantEnabled, &t.GlobalTenantEnabled, &t.DefaultTenant, pref}
}

// handleTenancyConfig answers GET /_plugins/_security/api/tenancy/config.
// Every caller may read it, so preferred_tenants leaves out tenants that
// are deleted (or purged), and hidden ones for all but superadmins: they
// stay invisible here as everywhere else. A restored tenant comes back.
func (s *Server) handleTenancyConfig(c *fiber.Ctx) error {
	t := s.admin.Tenancy()
	super := callerOf(c).superadmin
	t.PreferredTenants = slices.DeleteFunc(t.PreferredTenants, func(p string) bool {
		switch strings.ToLower(p) {
		case tenants.Global, tenants.GlobalAlias, tenants.Private, tenants.PrivateAlias:
			return false
		}
		ten, live := s.resolver.Registry().Get(p)
		return !live || (ten.Hidden && !super)
	})
	return c.JSON(viewOfTenancy(t))
}

// handlePutTenancyConfig answers PUT /_plugins/_security/api/tenancy/config;
// keys left out keep their value.
func (s *Server) handlePutTenancyConfig(c *fiber.Ctx) error {
	var in tenancyView
	if err := decodeStrict(c, &in, "tenancy config"); err != nil {
		return err
	}
	t := s.admin.Tenancy()
	if in.MultitenancyEnabled != nil {
		t.MultitenancyEnabled = *in.MultitenancyEnabled
	}
	if in.PrivateTenantEnabled != nil {
		t.PrivateTenantEnabled = *in.PrivateTenantEnabled
	}
	if in.GlobalTenantEnabled != nil {
		t.GlobalTenantEnabled = *in.GlobalTenantEnabled
	}
	if in.DefaultTenant != nil {
		t.DefaultTenant = *in.DefaultTenant
	}
	if in.PreferredTenants != nil {
		t.PreferredTenants = in.PreferredTenants
	}
	t, err := s.admin.PutTenancy(s.actor(c), t)
	if err != nil {
		return err
	}
	return c.JSON(viewOfTenancy(t))
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// tenantRoutes registers tenant administration: Kestra's /api/v1/tenants
// and OpenSearch Security's tenants and tenancy/config.
func (s *Server) tenantRoutes(app *fiber.App) {
	app.Post("/api/v1/tenants", s.handleCreateTenant)
	app.Get("/api/v1/tenants", s.handleListTenants)
	app.Get("/api/v1/tenants/:id", s.handleGetTenant)
	app.Put("/api/v1/tenants/:id", s.handleUpdateTenant)
	app.Delete("/api/v1/tenants/:id", s.handleDeleteTenant)
	for _, op := range []string{"restore", "lock", "unlock", "freeze", "unfreeze", "purge"} {
		app.Post("/api/v1/tenants/:id/"+op, s.handleTenantOp(op))
	}
	for _, prefix := range []string{"/_plugins/_security/api", "/_opendistro/_security/api"} {
		app.Get(prefix+"/tenants/:name?", s.handleSecurityTenants)
		app.Put(prefix+"/tenants/:name", s.handlePutSecurityTenant)
		app.Delete(prefix+"/tenants/:name", s.handleDeleteSecurityTenant)
		app.Patch(prefix+"/tenants/:name?", s.handlePatchSecurityTenants)
		app.Get(prefix+"/tenancy/config", s.handleTenancyConfig)
		app.Put(prefix+"/tenancy/config", s.handlePutTenancyConfig)
	}
}
