package gateway

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/audit"
)

// The audit view: GET /api/v1/audit (every tenant, restapi:admin/audit)
// and GET /api/v1/{tenant}/audit (that tenant's records, for its admins),
// in Kestra's paged shape {"results": […], "total": N}. The rules are
// admin's (auditview.go).

// auditParams are the query parameters of the audit view.
var auditParams = []string{"actor", "action", "target", "outcome", "from", "to", "page", "size"}

// handleAudit answers GET /api/v1/audit and GET /api/v1/{tenant}/audit
// with the filters actor, action (exact, or a prefix ending in "*"),
// target, outcome, from and to (RFC 3339; from <= time < to), page
// (1-based) and size.
func (s *Server) handleAudit(c *fiber.Ctx) error {
	if err := checkParams(c, auditParams...); err != nil {
		return err
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	var tenant *string
	if c.Params("tenant") != "" {
		t, err := param(c, "tenant")
		if err != nil {
			return err
		}
		tenant = &t
	}
	page, err := s.admin.Audit(s.actor(c), tenant, f)
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// auditFilter reads the audit view's filters from the query string.
func auditFilter(c *fiber.Ctx) (audit.Filter, error) {
	f := audit.Filter{
		Actor:   strings.Clone(c.Query("actor")),
		Action:  strings.Clone(c.Query("action")),
		Target:  strings.Clone(c.Query("target")),
		Outcome: strings.Clone(c.Query("outcome")),
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		raw := c.Query(p.name)
		if raw == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, raw)
		if err != nil {
			return f, badRequest("illegal_argument_exception", "failed to parse [%s] value [%s]: use an RFC 3339 time such as 2025-01-31T08:00:00Z", p.name, strings.Clone(raw))
		}
		*p.dst = t
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &f.Page}, {"size", &f.Size}} {
		raw := c.Query(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return f, badRequest("illegal_argument_exception", "failed to parse [%s] value [%s]: use a whole number of 1 or more", p.name, strings.Clone(raw))
		}
		*p.dst = n
	}
	return f, nil
}

// auditRoutes registers the audit view. /api/v1/audit comes first, so
// that "audit" is not taken for a tenant.
func (s *Server) auditRoutes(app *fiber.App) {
	app.Get("/api/v1/audit", s.handleAudit)
	app.Get("/api/v1/:tenant/audit", s.handleAudit)
}
