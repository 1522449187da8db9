package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
	"github.com/tenantgate/tenantgate/worker"
)

// Version is the gateway's version, shown by GET /.
var Version = "0.1.0-dev"

// Authenticator verifies bearer credentials.
type Authenticator interface {
	Verify(token string) (auth.Principal, error)
}

// Authorizer decides whether mapped roles may read or write in a tenant,
// and what their index permissions add there.
type Authorizer interface {
	RolesForGroups(user string, backendRoles, groups []string) policy.Roles
	Allowed(r policy.Roles, tenant string, a policy.Action) bool
	Tenants(r policy.Roles, tenants []string) map[string]bool
	Superadmin(r policy.Roles) bool
	HasIndexPermissions(r policy.Roles) bool
	IndexAllowed(r policy.Roles, tenant, index string, a policy.IndexAction) bool
	HasNamespacePermissions(r policy.Roles) bool
	NamespaceAllowed(r policy.Roles, tenant, ns string, res policy.Resource, v policy.Verb) bool
}

// Deps are what the gateway is built from.
type Deps struct {
	Config   config.Config
	Auth     Authenticator
	Policy   Authorizer
	Resolver *tenants.Resolver
	Index    *index.Service
	// Admin applies administrative changes and authenticates passwords
	// and API tokens.
	Admin *admin.Service
	// Trail receives audit records of sign-ins, 401s and 403s.
	Trail *audit.Trail
	// SignIns limits failed password sign-ins (HTTP Basic and
	// /auth/login); nil limits nothing.
	SignIns *auth.Limiter
	Logger  *slog.Logger
	// Metrics is where the gateway registers its metrics; nil means a new
	// registry of its own.
	Metrics *prometheus.Registry
	// SecretsKey encrypts namespace secrets (secrets.encryption_key); the
	// zero Key disables secrets.
	SecretsKey secrets.Key
	// Clock replaces time.Now for the times flows, namespaces and
	// executions record; nil means time.Now.
	Clock func() time.Time
	// Runner creates, runs and kills executions and serves the worker
	// API; nil makes those routes answer 503.
	Runner *worker.Runner
	// Snapshots is what the snapshot API (/_snapshot) reads and restores
	// into; nil makes those routes answer 503.
	Snapshots *snapshot.Instance
}

// Server is the HTTP gateway.
type Server struct {
	app      *fiber.App
	cfg      config.Config
	auth     Authenticator
	policy   Authorizer
	resolver *tenants.Resolver
	index    *index.Service
	admin    *admin.Service
	trail    *audit.Trail
	signIns  *auth.Limiter
	log      *slog.Logger
	metrics  *metrics
	// secretsKey seals namespace secrets; clock is Deps.Clock.
	secretsKey secrets.Key
	clock      func() time.Time
	// runner is Deps.Runner.
	runner *worker.Runner
	// snapshots is Deps.Snapshots.
	snapshots *snapshot.Instance
}

// New builds the gateway and its routes.
func New(d Deps) (*Server, error) {
	if d.Auth == nil || d.Policy == nil || d.Resolver == nil || d.Index == nil || d.Admin == nil || d.Trail == nil {
		return nil, errors.New("gateway: Auth, Policy, Resolver, Index, Admin and Trail are required")
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	reg := d.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{cfg: d.Config, auth: d.Auth, policy: d.Policy, resolver: d.Resolver, index: d.Index, admin: d.Admin, trail: d.Trail, signIns: d.SignIns, log: log, metrics: newMetrics(reg),
		secretsKey: d.SecretsKey, clock: d.Clock, runner: d.Runner, snapshots: d.Snapshots}
	if s.clock == nil {
		s.clock = time.Now
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "tenantgate",
		BodyLimit:             d.Config.Limits.BodyBytes,
		ReadTimeout:           d.Config.Server.ReadTimeout,
		WriteTimeout:          d.Config.Server.WriteTimeout,
		IdleTimeout:           d.Config.Server.IdleTimeout,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		CaseSensitive:         true,
		StrictRouting:         false,
		UnescapePath:          false,
		// Multipart bodies are parsed by the import handlers alone, after
		// the caller is authenticated and authorized.
		DisablePreParseMultipartForm: true,
	})
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tenantgate_audit_records_dropped_total",
			Help: "Audit records of sign-ins, 401s and 403s dropped because the audit queue was full.",
		}, func() float64 { return float64(d.Trail.Dropped() + d.Trail.Failures()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tenantgate_audit_change_failures_total",
			Help: "Administrative changes whose audit record could not be written (refused when audit.fail_closed).",
		}, func() float64 { return float64(d.Admin.AuditFailures()) }),
	)
	s.routes(reg)
	return s, nil
}

// App returns the Fiber application (for tests that use app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves HTTP on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.app.Listener(ln) }

// Shutdown stops accepting connections and waits up to timeout for
// in-flight requests to finish.
func (s *Server) Shutdown(timeout time.Duration) error {
	return s.app.ShutdownWithTimeout(timeout)
}

// Run listens on the configured address and serves until ctx is done,
// then drains in-flight requests. It does not close the index service.
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.Server.ShutdownTimeout.String())
		if err := s.Shutdown(s.cfg.Server.ShutdownTimeout); err != nil {
			return err
		}
		// fasthttp's Shutdown does not stop a Serve that had not yet
		// started (it would then serve forever): close the listener too.
		_ = ln.Close()
		return <-errc
	}
}
