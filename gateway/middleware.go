package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

type localKey int

const (
	keyRequestID localKey = iota
	keyCaller
	keySignIn // user name of a failed password sign-in
	// keySignInLimited marks a sign-in the limiter refused: it records
	// its own audit record, once per block.
	keySignInLimited
)

// caller is who is asking, after authentication.
type caller struct {
	principal auth.Principal
	roles     policy.Roles
	// superadmin: the user's superadmin flag, or mapped to all_access.
	superadmin bool
	// serviceAccount is set for a service account's API token. A service
	// account has no private tenant: private tenants belong to names, and
	// a service account's name may be a person's the directory does not
	// know (a JWT user), so its token must not open that person's.
	serviceAccount bool
}

// scope is the tenant a request runs in, after authorization, with the
// view of the indices that tenant may reach.
type scope struct {
	caller *caller
	tenant tenants.Ref
	view   *index.View
	// only is set when the caller may not write the tenant and index
	// permissions let the write in; the zero value means no such limit.
	only indexOnly
}

// indexOnly is how index permissions limit a write whose caller may not
// write the tenant.
type indexOnly struct {
	// index is the one index the request may act on (authorizeIndex).
	index string
	// perItem is set on a bulk request: each item is checked against the
	// index permissions for its own index and action (handleBulk).
	perItem bool
}

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(keyRequestID).(string); ok {
		return id
	}
	return ""
}

// observe is the outermost middleware: request id, panic recovery,
// metrics and one structured log line per request.
func (s *Server) observe(c *fiber.Ctx) (err error) {
	start := time.Now()
	id := sanitizeRequestID(c.Get("X-Request-Id"))
	if id == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Locals(keyRequestID, id)
	c.Set("X-Request-Id", id)
	timeout, terr := s.requestTimeout(c)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c.SetUserContext(ctx)
	s.metrics.inflight.Inc()
	defer s.metrics.inflight.Dec()

	if terr != nil {
		err = terr
	} else {
		func() {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			err = c.Next()
		}()
		if err == nil {
			err = applyFilterPath(c)
		}
	}
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	took := time.Since(start)
	s.metrics.observe(c, status, took)
	attrs := []slog.Attr{
		slog.String("request_id", id), slog.String("method", c.Method()),
		slog.String("route", routePath(c)), slog.Int("status", status),
		slog.Duration("took", took),
	}
	if cl, ok := c.Locals(keyCaller).(*caller); ok {
		attrs = append(attrs, slog.String("user", cl.principal.Name))
	}
	if sc, ok := c.Locals(keyScope).(*scope); ok {
		attrs = append(attrs, slog.String("tenant", sc.tenant.String()))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.UserContext(), level, "request", attrs...)
	return nil
}

// requestTimeout is server.request_timeout, shortened by the request's
// own "timeout" parameter (OpenSearch's time units: 500ms, 10s, 1m, 1h).
// When it expires the request fails with a 504; tenantgate does not
// return partial results.
func (s *Server) requestTimeout(c *fiber.Ctx) (time.Duration, error) {
	limit := s.cfg.Server.RequestTimeout
	raw := c.Query("timeout")
	if raw == "" {
		return limit, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return limit, badRequest("illegal_argument_exception", "failed to parse [timeout] value [%s]: use a positive time such as 500ms, 30s or 1m", strings.Clone(raw))
	}
	return min(d, limit), nil
}

// sanitizeRequestID keeps a client's request id only when it is short
// and plain, so it cannot inject anything into logs.
func sanitizeRequestID(id string) string {
	if len(id) == 0 || len(id) > 64 {
		return ""
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return ""
		}
	}
	return strings.Clone(id)
}

// authenticate requires valid credentials and records the caller: a JWT
// or an API token as "Authorization: Bearer …", or a user's password as
// HTTP Basic (auth.passwords.enabled). Every failure is a 401 and an
// audit record.
func (s *Server) authenticate(c *fiber.Ctx) error {
	p, err := s.principal(c)
	if err != nil {
		return err
	}
	roles := s.policy.RolesForGroups(p.Name, p.BackendRoles, p.Groups)
	cl := &caller{principal: p, roles: roles, superadmin: p.Superadmin || s.policy.Superadmin(roles)}
	if p.Method == auth.MethodAPIToken {
		u, ok := s.admin.Directory().User(p.Name)
		cl.serviceAccount = ok && u.Kind == control.KindServiceAccount
	}
	c.Locals(keyCaller, cl)
	return c.Next()
}

// principal verifies the request's credentials.
func (s *Server) principal(c *fiber.Ctx) (auth.Principal, error) {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return auth.Principal{}, unauthorized("authentication required: send Authorization: Bearer <token> or Basic credentials")
	}
	var (
		p   auth.Principal
		err error
	)
	if tok, ok := auth.BearerToken(h); ok {
		if _, api := auth.ParseAPIToken(tok); api {
			p, err = s.admin.Token(tok)
		} else if p, err = s.auth.Verify(tok); err == nil {
			p.Method = auth.MethodJWT
			p, err = s.admin.Enrich(p)
		}
	} else if user, pass, ok := auth.BasicCredentials(h); ok && s.cfg.Auth.Passwords.Enabled {
		p, err = s.password(c, user, pass)
	} else {
		return p, unauthorized("unsupported authorization scheme: send Authorization: Bearer <token> or Basic credentials")
	}
	if err != nil {
		if errors.Is(err, auth.ErrUnauthenticated) {
			return p, unauthorized(err.Error())
		}
		return p, err
	}
	return p, nil
}

// password checks a password sign-in (HTTP Basic or /auth/login) under
// auth.passwords' failure limits: a user name or client address blocked
// for too many failures is refused with a 429 before any bcrypt, and
// only the first refusal of a block is an audit record, so a client
// cannot flood the trail. A wrong password counts against both; a right
// one clears the user name's failures. A failed sign-in is marked for
// auditRefusal.
func (s *Server) password(c *fiber.Ctx, user, pass string) (auth.Principal, error) {
	ip := c.IP()
	if retry, first, blocked := s.signIns.Blocked(user, ip); blocked {
		c.Locals(keySignInLimited, true)
		if first {
			s.trail.Record(s.authRecord(c, user, audit.ActionSignIn, audit.OutcomeDenied,
				fiber.StatusTooManyRequests, "too many failed sign-ins"))
		}
		return auth.Principal{}, tooManySignIns(retry)
	}
	p, err := s.admin.Password(user, pass)
	if err != nil {
		if errors.Is(err, auth.ErrUnauthenticated) {
			s.signIns.Failed(user, ip)
		}
		c.Locals(keySignIn, user) // auditRefusal records the failed sign-in
		return p, err
	}
	s.signIns.Succeeded(user)
	return p, nil
}

// authRecord is the audit record of an authentication or authorization
// event of the request.
func (s *Server) authRecord(c *fiber.Ctx, actor, action, outcome string, status int, reason string) audit.Record {
	tenant, _ := requestedTenant(c)
	if tenant == "" {
		tenant = strings.Clone(c.Params("tenant")) // /api/v1/{tenant}/…
	}
	return audit.Record{
		Actor: actor, Tenant: tenant, Action: action, Target: c.Method() + " " + c.Path(), Outcome: outcome,
		Status: status, ClientIP: c.IP(), RequestID: requestID(c), Reason: reason,
	}
}

func callerOf(c *fiber.Ctx) *caller {
	cl, _ := c.Locals(keyCaller).(*caller)
	return cl
}

const keyScope localKey = 100

func scopeOf(c *fiber.Ctx) *scope {
	sc, _ := c.Locals(keyScope).(*scope)
	return sc
}

// requestedTenant returns the tenant the request names through the
// securitytenant (or security_tenant) header or the security_tenant
// parameter. Two that disagree are a 400.
func requestedTenant(c *fiber.Ctx) (string, error) {
	var named []string
	for _, v := range []string{c.Get("securitytenant"), c.Get("security_tenant"), c.Query("security_tenant")} {
		if v = strings.TrimSpace(v); v != "" {
			named = append(named, v)
		}
	}
	if len(named) == 0 {
		return "", nil
	}
	first := canonicalTenant(named[0])
	for _, n := range named[1:] {
		if canonicalTenant(n) != first {
			return "", badRequest("illegal_argument_exception",
				"the tenant in the securitytenant header [%s] and the security_tenant parameter [%s] disagree", named[0], n)
		}
	}
	return strings.Clone(named[0]), nil
}

func canonicalTenant(name string) string {
	switch strings.ToLower(name) {
	case "", tenants.Global, tenants.GlobalAlias:
		return tenants.Global
	case tenants.Private, tenants.PrivateAlias:
		return tenants.Private
	}
	return name
}

// authorize returns the middleware that resolves the request's tenant
// and asks the policy whether the caller may perform action there. It is
// the one choke point for tenant scoping: handlers only see the View it
// puts in the request.
func (s *Server) authorize(action policy.Action) fiber.Handler {
	return s.authorizeWith(action, nil)
}

// authorizeIndex is authorize(policy.Write) for a route whose {index}
// index permissions may also open, acts being what the route does to it.
// Index permissions are additive: a caller who may write the tenant
// passes as with authorize. One who may not passes when {index} names one
// concrete index (a valid name: no wildcard, no comma list, no _all) and
// IndexAllowed grants every one of acts on it in the tenant (IndexRead is
// also granted by reading the tenant). A document write into an index
// that does not exist yet would create it, so without IndexManage it
// needs the index to exist, as OpenSearch Security asks for
// indices:admin/create. The scope records that the request is limited to
// that index. A route without {index} (templates, POST /_refresh) never
// passes this way. Anything else is authorize's 403, and lock and freeze
// apply as to any write.
func (s *Server) authorizeIndex(acts ...policy.IndexAction) fiber.Handler {
	return s.authorizeWith(policy.Write, func(c *fiber.Ctx, cl *caller, ref tenants.Ref) (indexOnly, bool) {
		name, err := param(c, "index")
		if err != nil || index.ValidateName(name, false) != nil {
			return indexOnly{}, false
		}
		for _, a := range acts {
			if !s.indexGranted(cl, ref, name, a) {
				return indexOnly{}, false
			}
		}
		if slices.Contains(acts, policy.IndexWrite) && !s.indexGranted(cl, ref, name, policy.IndexManage) {
			if ok, err := s.index.View(ref).Exists(c.UserContext(), name); err != nil || !ok {
				return indexOnly{}, false
			}
		}
		return indexOnly{index: name}, true
	})
}

// authorizeBulk is authorize(policy.Write) for _bulk. A caller who may
// not write the tenant but has index permissions passes when they may
// read the tenant or hold one of its tenant-scoped roles ("name@tenant"),
// and handleBulk then checks each item (indexOnly.perItem); a caller with
// neither gets authorize's 403, so that a tenant the caller has nothing
// to do with looks the same whether or not it exists.
func (s *Server) authorizeBulk() fiber.Handler {
	return s.authorizeWith(policy.Write, func(_ *fiber.Ctx, cl *caller, ref tenants.Ref) (indexOnly, bool) {
		if !s.policy.HasIndexPermissions(cl.roles) {
			return indexOnly{}, false
		}
		if s.allowed(cl, ref, policy.Read) || holdsTenantRole(cl.roles, ref) {
			return indexOnly{perItem: true}, true
		}
		return indexOnly{}, false
	})
}

// indexFallback decides, for a caller refused action in the resolved
// tenant, whether index permissions let the request in, and how they
// limit it.
type indexFallback func(c *fiber.Ctx, cl *caller, ref tenants.Ref) (indexOnly, bool)

// authorizeWith is authorize with an optional fallback for callers the
// tenant permissions refuse.
func (s *Server) authorizeWith(action policy.Action, fallback indexFallback) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl := callerOf(c)
		requested, err := requestedTenant(c)
		if err != nil {
			return err
		}
		ref, only, err := s.decideWith(c, cl, requested, action, fallback)
		if err != nil {
			return err
		}
		c.Locals(keyScope, &scope{caller: cl, tenant: ref, view: s.index.View(ref), only: only})
		return c.Next()
	}
}

// decide resolves the tenant a caller names ("" for the default) and asks
// the policy whether they may perform action there. It is authorize's
// decision, also used by handlers that act in a second tenant (the copy
// of saved objects); a tenant that does not exist and one the caller may
// not use give the same 403.
func (s *Server) decide(cl *caller, requested string, action policy.Action) (tenants.Ref, error) {
	ref, _, err := s.decideWith(nil, cl, requested, action, nil)
	return ref, err
}

// decideWith is decide where fallback, when not nil, may let in a caller
// the tenant permissions refuse (index permissions), limiting the
// request as it says. Lock and freeze apply either way.
func (s *Server) decideWith(c *fiber.Ctx, cl *caller, requested string, action policy.Action, fallback indexFallback) (tenants.Ref, indexOnly, error) {
	var only indexOnly
	name := "read"
	if action == policy.Write {
		name = "write"
	}
	ref, err := s.resolver.Resolve(requested, cl.principal.Name)
	if err != nil {
		if errors.Is(err, tenants.ErrForbidden) {
			return ref, only, forbidden(name, cl.principal.Name, displayTenant(requested, s.resolver.Settings().Default))
		}
		return ref, only, err
	}
	if !s.allowed(cl, ref, action) {
		ok := false
		if fallback != nil {
			only, ok = fallback(c, cl, ref)
		}
		if !ok {
			return ref, indexOnly{}, forbidden(name, cl.principal.Name, displayTenant(requested, s.resolver.Settings().Default))
		}
	}
	if ref.Kind == tenants.KindCustom {
		if t, ok := s.resolver.Registry().Get(ref.ID); ok {
			switch {
			case t.Locked && !cl.superadmin:
				return ref, only, tenantLocked("tenant [%s] is locked by an administrator: every request to it is refused until it is unlocked", ref.ID)
			case t.Frozen && action != policy.Read:
				return ref, only, tenantLocked("tenant [%s] is frozen: it serves reads but refuses writes until it is unfrozen", ref.ID)
			}
		}
	}
	return ref, only, nil
}

// indexGranted reports whether the caller may perform a on the index
// named name in the resolved tenant through index permissions:
// IndexAllowed, asked only of callers that have index permissions, or
// for IndexRead, reading the tenant. It never narrows what the tenant
// permissions allow; callers ask it only when those refuse.
func (s *Server) indexGranted(cl *caller, ref tenants.Ref, name string, a policy.IndexAction) bool {
	if ref.Kind == tenants.KindPrivate && (ref.ID != cl.principal.Name || cl.serviceAccount) {
		return false
	}
	if a == policy.IndexRead && s.allowed(cl, ref, policy.Read) {
		return true
	}
	return s.policy.HasIndexPermissions(cl.roles) && s.policy.IndexAllowed(cl.roles, ref.Name(), name, a)
}

// holdsTenantRole reports whether one of the roles is a tenant-scoped
// role of the resolved tenant: policy requires a role named "x@T" to be
// scoped to T.
func holdsTenantRole(r policy.Roles, ref tenants.Ref) bool {
	if ref.Kind != tenants.KindCustom {
		return false
	}
	for _, n := range r.Names() {
		if i := strings.LastIndexByte(n, '@'); i >= 0 && n[i+1:] == ref.ID {
			return true
		}
	}
	return false
}

// allowed asks the policy, the one decision point, whether the caller
// may act in the resolved tenant. Its implicit rules give every caller
// read-write on their own private tenant ("__user__") and read on the
// global tenant ("global_tenant"); roles grant the rest.
func (s *Server) allowed(cl *caller, ref tenants.Ref, action policy.Action) bool {
	// The resolver only ever builds the caller's own private tenant;
	// should that ever break, refuse rather than let "__user__" through.
	// Service accounts have no private tenant (caller.serviceAccount).
	if ref.Kind == tenants.KindPrivate && (ref.ID != cl.principal.Name || cl.serviceAccount) {
		return false
	}
	return s.policy.Allowed(cl.roles, ref.Name(), action)
}

func displayTenant(requested, def string) string {
	if requested == "" {
		requested = def
	}
	return requested
}
