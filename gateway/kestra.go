package gateway

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// Kestra-style APIs (flows, executions, logs, namespaces, the worker) name
// the tenant in the path: /api/v1/{tenant}/…. kestra registers them and
// authorizeKestra is their choke point, as authorize is for the
// OpenSearch routes: it resolves the path's tenant once, decides, and
// hands handlers a kestraScope whose system view is the only way to the
// tenant's indices.
//
// The decision has two steps because the namespace a request acts on is
// often known only to its handler (it is in a flow's YAML, or in the
// stored execution). The middleware lets a caller in when they may do the
// route's verb on its resource in some namespace of the tenant; the
// handler then asks kestraScope.Allow for the namespace itself, and
// filters listings with kestraScope.Can. Tenant read-write
// (kibana_all_write) allows every verb, tenant read (kibana_all_read)
// every read, and roles' namespace_permissions add verbs on some
// namespaces and their children (policy.Engine.NamespaceAllowed).

// keyKestra is the request local holding the *kestraScope.
const keyKestra localKey = 101

// kestraScope is the tenant a Kestra-style request runs in and what the
// caller may do there.
type kestraScope struct {
	s      *Server
	caller *caller
	tenant tenants.Ref
	// view is the tenant's system view (".flows", ".executions", …).
	view *index.View
	// read and write are the caller's tenant permissions; nsPerms is set
	// when their roles have namespace permissions.
	read, write, nsPerms bool
}

// kestraOf returns the request's kestraScope (set by authorizeKestra).
func kestraOf(c *fiber.Ctx) *kestraScope {
	k, _ := c.Locals(keyKestra).(*kestraScope)
	return k
}

// Can reports whether the caller may do verb on res in namespace ns ("" for
// some namespace of the tenant).
func (k *kestraScope) Can(res policy.Resource, verb policy.Verb, ns string) bool {
	if k.write || (k.read && verb.Reads()) {
		return true
	}
	return k.nsPerms && k.s.policy.NamespaceAllowed(k.caller.roles, k.tenant.Name(), ns, res, verb)
}

// Allow is nil when the caller may do verb on res in namespace ns, and
// otherwise the 403 of a refused request. It does not say whether
// anything exists in ns.
func (k *kestraScope) Allow(res policy.Resource, verb policy.Verb, ns string) error {
	if k.Can(res, verb, ns) {
		return nil
	}
	return &Error{Status: fiber.StatusForbidden, Type: "security_exception",
		Reason: "no permissions for [" + string(verb) + " " + string(res) + "] and User [name=" + k.caller.principal.Name +
			"] on namespace [" + ns + "] of tenant [" + k.tenant.String() + "]"}
}

// kestra registers a Kestra-style route: path is below
// /api/v1/{tenant}, and the route needs verb on res in some namespace of
// the tenant (authorizeKestra).
func (s *Server) kestra(method, path string, res policy.Resource, verb policy.Verb, h fiber.Handler) {
	s.app.Add(method, "/api/v1/:tenant"+path, s.authorizeKestra(res, verb), h)
}

// authorizeKestra resolves the tenant named in the path and lets the
// caller in when they may do verb on res in some namespace of it. A
// securitytenant header or security_tenant parameter naming another
// tenant is a 400. A tenant that does not exist and one the caller may
// not use give the same 403; a locked tenant is a 423, and so is any verb
// but read in a frozen one.
func (s *Server) authorizeKestra(res policy.Resource, verb policy.Verb) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := callerOf(c)
		named, err := param(c, "tenant")
		if err != nil {
			return err
		}
		header, err := requestedTenant(c)
		if err != nil {
			return err
		}
		if header != "" && canonicalTenant(header) != canonicalTenant(named) {
			return badRequest("illegal_argument_exception",
				"the tenant in the path [%s] and the securitytenant header or security_tenant parameter [%s] disagree", named, header)
		}
		action := "read"
		if !verb.Reads() {
			action = "write"
		}
		refuse := forbidden(action, cl.principal.Name, named)
		ref, err := s.resolver.Resolve(named, cl.principal.Name)
		if err != nil {
			if errors.Is(err, tenants.ErrForbidden) {
				return refuse
			}
			return err
		}
		k := &kestraScope{s: s, caller: cl, tenant: ref}
		if !(ref.Kind == tenants.KindPrivate && (ref.ID != cl.principal.Name || cl.serviceAccount)) {
			k.write = s.policy.Allowed(cl.roles, ref.Name(), policy.Write)
			k.read = k.write || s.policy.Allowed(cl.roles, ref.Name(), policy.Read)
			k.nsPerms = s.policy.HasNamespacePermissions(cl.roles)
		}
		if !k.Can(res, verb, "") {
			return refuse
		}
		if ref.Kind == tenants.KindCustom {
			if t, ok := s.resolver.Registry().Get(ref.ID); ok {
				switch {
				case t.Locked && !cl.superadmin:
					return tenantLocked("tenant [%s] is locked by an administrator: every request to it is refused until it is unlocked", ref.ID)
				case t.Frozen && !verb.Reads():
					return tenantLocked("tenant [%s] is frozen: it serves reads but refuses writes until it is unfrozen", ref.ID)
				}
			}
		}
		k.view = s.index.SystemView(ref)
		c.Locals(keyKestra, k)
		c.Locals(keyScope, &scope{caller: cl, tenant: ref, view: k.view})
		return c.Next()
	}
}

// flowStore is the flow store of the request's tenant.
func (s *Server) flowStore(k *kestraScope) *flows.Store {
	return flows.NewStore(k.view, s.now)
}

// namespaceStore is the namespace store of the request's tenant, with the
// configured secrets key.
func (s *Server) namespaceStore(k *kestraScope) *namespaces.Store {
	return namespaces.NewStore(k.view, k.tenant.Owner(), s.secretsKey, s.now)
}

// now is the server's clock (Deps.Clock).
func (s *Server) now() time.Time { return s.clock() }
