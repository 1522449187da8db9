package gateway

import (
	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/admin"
)

// Roles and role mappings, OpenSearch Security's
// /_plugins/_security/api/roles and …/rolesmapping. Handlers only
// translate; the rules are admin's (roles.go).

// handleGetRoles answers GET …/api/roles[/{name}]:
// {"name": {role…, "reserved", "hidden", "static"}}.
func (s *Server) handleGetRoles(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	a := s.actor(c)
	out := map[string]admin.SecurityRole{}
	if name != "" {
		r, err := s.admin.Role(a, name)
		if err != nil {
			return err
		}
		out[r.Name] = admin.SecurityRoleOf(r)
		return c.JSON(out)
	}
	list, err := s.admin.Roles(a)
	if err != nil {
		return err
	}
	for _, r := range list {
		out[r.Name] = admin.SecurityRoleOf(r)
	}
	return c.JSON(out)
}

// handlePutRole answers PUT …/api/roles/{name}.
func (s *Server) handlePutRole(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var in admin.SecurityRole
	if err := decodeStrict(c, &in, "role"); err != nil {
		return err
	}
	created, err := s.admin.PutRole(s.actor(c), name, in)
	if err != nil {
		return err
	}
	return putStatus(c, name, created)
}

// handleDeleteRole answers DELETE …/api/roles/{name}; the role's mapping
// goes with it.
func (s *Server) handleDeleteRole(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := s.admin.DeleteRole(s.actor(c), name); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' deleted."})
}

// handlePatchRoles answers PATCH …/api/roles (a JSON Patch over every
// role) and PATCH …/api/roles/{name} (paths relative to that role).
func (s *Server) handlePatchRoles(c *fiber.Ctx) error {
	patch, err := patchBody(c)
	if err != nil {
		return err
	}
	if err := s.admin.PatchRoles(s.actor(c), patch); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "Resource updated."})
}

// handleGetRoleMappings answers GET …/api/rolesmapping[/{name}].
func (s *Server) handleGetRoleMappings(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	a := s.actor(c)
	out := map[string]admin.SecurityRoleMapping{}
	if name != "" {
		m, err := s.admin.RoleMapping(a, name)
		if err != nil {
			return err
		}
		out[m.Name] = admin.SecurityRoleMappingOf(m)
		return c.JSON(out)
	}
	list, err := s.admin.RoleMappings(a)
	if err != nil {
		return err
	}
	for _, m := range list {
		out[m.Name] = admin.SecurityRoleMappingOf(m)
	}
	return c.JSON(out)
}

// handlePutRoleMapping answers PUT …/api/rolesmapping/{name}.
func (s *Server) handlePutRoleMapping(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var in admin.SecurityRoleMapping
	if err := decodeStrict(c, &in, "role mapping"); err != nil {
		return err
	}
	created, err := s.admin.PutRoleMapping(s.actor(c), name, in)
	if err != nil {
		return err
	}
	return putStatus(c, name, created)
}

// handleDeleteRoleMapping answers DELETE …/api/rolesmapping/{name}.
func (s *Server) handleDeleteRoleMapping(c *fiber.Ctx) error {
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := s.admin.DeleteRoleMapping(s.actor(c), name); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' deleted."})
}

// handlePatchRoleMappings answers PATCH …/api/rolesmapping[/{name}].
func (s *Server) handlePatchRoleMappings(c *fiber.Ctx) error {
	patch, err := patchBody(c)
	if err != nil {
		return err
	}
	if err := s.admin.PatchRoleMappings(s.actor(c), patch); err != nil {
		return err
	}
	return c.JSON(securityStatus{"OK", "Resource updated."})
}

// patchBody is the request's JSON Patch, its paths made relative to the
// collection when the route names one resource.
func patchBody(c *fiber.Ctx) ([]byte, error) {
	name, err := param(c, "name")
	if err != nil {
		return nil, err
	}
	patch := c.Body()
	if name != "" {
		return prefixPatch(patch, name)
	}
	return patch, nil
}

// putStatus is OpenSearch Security's answer to a PUT: 201 CREATED or 200
// OK.
func putStatus(c *fiber.Ctx, name string, created bool) error {
	if created {
		return c.Status(fiber.StatusCreated).JSON(securityStatus{"CREATED", "'" + name + "' created."})
	}
	return c.JSON(securityStatus{"OK", "'" + name + "' updated."})
}

// roleRoutes registers roles, role mappings and the audit view.
func (s *Server) roleRoutes(app *fiber.App) {
	for _, prefix := range []string{"/_plugins/_security/api", "/_opendistro/_security/api"} {
		app.Get(prefix+"/roles/:name?", s.handleGetRoles)
		app.Put(prefix+"/roles/:name", s.handlePutRole)
		app.Delete(prefix+"/roles/:name", s.handleDeleteRole)
		app.Patch(prefix+"/roles/:name?", s.handlePatchRoles)
		app.Get(prefix+"/rolesmapping/:name?", s.handleGetRoleMappings)
		app.Put(prefix+"/rolesmapping/:name", s.handlePutRoleMapping)
		app.Delete(prefix+"/rolesmapping/:name", s.handleDeleteRoleMapping)
		app.Patch(prefix+"/rolesmapping/:name?", s.handlePatchRoleMappings)
	}
	s.auditRoutes(app)
}
