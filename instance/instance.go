package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/gateway"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
	"github.com/tenantgate/tenantgate/worker"
)

// Instance is a configured tenantgate, ready to serve.
type Instance struct {
	Config  config.Config
	Gateway *gateway.Server
	Index   *index.Service
	Policy  *policy.Engine
	// Admin applies administrative changes to the control-plane store.
	Admin *admin.Service
	// Store is the control-plane store (control.db under data_dir).
	Store *control.Store
	// Trail is the audit trail, in the control-plane store.
	Trail *audit.Trail
	// Runner runs executions (started by Run, closed by Run and Close).
	Runner *worker.Runner

	backend *bleve.Backend
	catalog *index.Catalog
	log     *slog.Logger
	opts    Options
	wg      sync.WaitGroup
}

// Options are test and embedding hooks; the zero Options is what the
// tenantgate binary runs with.
type Options struct {
	// Clock replaces time.Now for tenant retention, token expiry and audit
	// times.
	Clock func() time.Time
	// WrapAppender, when set, wraps the audit appender every change writes
	// its record through, to stand for an audit store that refuses writes.
	WrapAppender func(audit.Appender) audit.Appender
}

// Security holds the parsed security files.
type Security = control.Security

// LoadSecurity reads tenants.yml, roles.yml and roles_mapping.yml from
// dir, and internal_users.yml when it exists.
func LoadSecurity(dir string) (Security, error) {
	var s Security
	read := func(name string) ([]byte, error) {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("security_dir: %w", err)
		}
		return raw, nil
	}
	raw, err := read("tenants.yml")
	if err != nil {
		return s, err
	}
	if s.Tenants, err = tenants.ParseFile(raw); err != nil {
		return s, err
	}
	if raw, err = read("roles.yml"); err != nil {
		return s, err
	}
	if s.Roles, err = policy.ParseRoles(raw); err != nil {
		return s, fmt.Errorf("roles.yml: %w", err)
	}
	if raw, err = read("roles_mapping.yml"); err != nil {
		return s, err
	}
	if s.Mappings, err = policy.ParseRoleMappings(raw); err != nil {
		return s, fmt.Errorf("roles_mapping.yml: %w", err)
	}
	raw, err = os.ReadFile(filepath.Join(dir, "internal_users.yml"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return s, fmt.Errorf("security_dir: %w", err)
	}
	if s.Users, err = control.ParseInternalUsers(raw); err != nil {
		return s, fmt.Errorf("internal_users.yml: %w", err)
	}
	return s, nil
}

// checkDefaultTenant refuses a default tenant that is not declared, so a
// typo does not turn every request without a tenant into a 403.
func checkDefaultTenant(mt tenants.Settings, reg *tenants.Registry) error {
	switch d := strings.ToLower(mt.Default); d {
	case "", tenants.Global, tenants.GlobalAlias, tenants.Private, tenants.PrivateAlias:
		if !mt.Enabled && d != "" && d != tenants.Global && d != tenants.GlobalAlias {
			return fmt.Errorf("multitenancy.default_tenant: [%s] needs multitenancy.enabled", mt.Default)
		}
		return nil
	}
	if !mt.Enabled {
		return fmt.Errorf("multitenancy.default_tenant: [%s] needs multitenancy.enabled", mt.Default)
	}
	if _, ok := reg.Get(mt.Default); !ok {
		return fmt.Errorf("multitenancy.default_tenant: tenant [%s] does not exist (declare it in tenants.yml or create it)", mt.Default)
	}
	return nil
}

// Open builds an instance from a validated configuration. Close releases
// it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Instance, error) {
	return OpenWith(ctx, cfg, log, Options{})
}

// OpenWith is Open with hooks (Options).
func OpenWith(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (inst *Instance, err error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sec, err := LoadSecurity(cfg.SecurityDir)
	if err != nil {
		return nil, err
	}
	// The files are checked here, before anything is opened; the engine
	// itself is loaded from the control-plane store below.
	if _, err := policy.New(sec.Roles, sec.Mappings); err != nil {
		return nil, err
	}
	engine, err := policy.New(nil, nil)
	if err != nil {
		return nil, err
	}
	keys, err := config.ResolveKeys(cfg.Auth.JWT.SigningKeys)
	if err != nil {
		return nil, err
	}
	verifier, err := auth.NewVerifier(auth.Options{
		SigningKeys:      keys,
		SubjectKey:       cfg.Auth.JWT.SubjectKey,
		RolesKey:         cfg.Auth.JWT.RolesKey,
		RequiredIssuer:   cfg.Auth.JWT.RequiredIssuer,
		RequiredAudience: cfg.Auth.JWT.RequiredAudience,
		ClockSkew:        cfg.Auth.JWT.ClockSkew,
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "indices"), 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	inst = &Instance{Config: cfg, Policy: engine, log: log, opts: opts}
	opened := inst
	defer func() {
		if err != nil {
			opened.Close()
		}
	}()
	if inst.Store, err = control.Open(filepath.Join(cfg.DataDir, "control.db")); err != nil {
		return nil, err
	}
	if inst.Trail, err = audit.NewTrail(inst.Store.DB(), audit.Options{Logger: log, Clock: opts.Clock}); err != nil {
		return nil, err
	}
	if err := inst.applySecurity(sec); err != nil {
		return nil, err
	}
	inst.backend, err = bleve.New(filepath.Join(cfg.DataDir, "indices"), bleve.Options{
		MaxOpen: cfg.Index.MaxOpen, IdleClose: cfg.Index.IdleClose, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	if n, err := index.MoveCatalog(inst.Store.DB(), filepath.Join(cfg.DataDir, "catalog.db")); err != nil {
		return nil, err
	} else if n > 0 {
		log.Info("moved the index catalog into control.db", "records", n)
	}
	if inst.catalog, err = index.NewCatalog(inst.Store.DB()); err != nil {
		return nil, err
	}
	inst.Index, err = index.NewService(ctx, inst.backend, inst.catalog, log)
	if err != nil {
		return nil, err
	}
	mt := cfg.Multitenancy
	resolver := tenants.NewResolver(tenants.Settings{
		Enabled: mt.Enabled, EnableGlobal: mt.EnableGlobal, EnablePrivate: mt.EnablePrivate,
		Default: mt.DefaultTenant, Preferred: mt.Preferred,
	}, tenants.NewRegistry(nil))
	var appender audit.Appender = inst.Trail
	if opts.WrapAppender != nil {
		appender = opts.WrapAppender(appender)
	}
	inst.Admin, err = admin.New(admin.Options{
		Store: inst.Store, Trail: inst.Trail, Appender: appender, Policy: engine, Resolver: resolver,
		Index: inst.Index, Clock: opts.Clock, Retention: cfg.Tenants.Retention,
		FailClosed: cfg.Audit.FailClosed, BcryptCost: cfg.Auth.Passwords.BcryptCost, Logger: log,
		DefaultTokenAge: cfg.Auth.APITokens.DefaultMaxAge, MaxTokenAge: cfg.Auth.APITokens.MaxAge,
		SessionTokenAge: cfg.Auth.APITokens.SessionMaxAge,
		Defaults: control.Tenancy{
			MultitenancyEnabled: mt.Enabled, PrivateTenantEnabled: mt.EnablePrivate, GlobalTenantEnabled: mt.EnableGlobal,
			DefaultTenant: mt.DefaultTenant, PreferredTenants: mt.Preferred,
		},
	})
	if err != nil {
		return nil, err
	}
	if err := checkDefaultTenant(resolver.Settings(), resolver.Registry()); err != nil {
		return nil, err
	}
	var secretsKey secrets.Key
	if cfg.Secrets.EncryptionKey != "" {
		if secretsKey, err = secrets.ParseKey(cfg.Secrets.EncryptionKey); err != nil {
			return nil, fmt.Errorf("secrets.encryption_key: %w", err)
		}
	}
	// Refuse to start with a missing or different key while secrets are
	// stored: they could not be read, and new ones would be sealed under
	// another key.
	if err := namespaces.CheckKey(ctx, inst.Index, secretsKey); err != nil {
		return nil, err
	}
	inst.Runner = worker.New(worker.Options{Index: inst.Index, Key: secretsKey, Now: opts.Clock, Log: log,
		Live: func(ref tenants.Ref) bool {
			if ref.Kind != tenants.KindCustom {
				return true
			}
			_, ok := resolver.Registry().Get(ref.ID)
			return ok
		}})
	inst.Gateway, err = gateway.New(gateway.Deps{
		Config: cfg, Auth: verifier, Policy: engine, Resolver: resolver, Index: inst.Index, Logger: log,
		Admin: inst.Admin, Trail: inst.Trail, SecretsKey: secretsKey, Clock: opts.Clock, Runner: inst.Runner,
		Snapshots: &snapshot.Instance{Index: inst.Index, Store: inst.Store, Admin: inst.Admin, Key: secretsKey},
		SignIns: auth.NewLimiter(auth.LimiterOptions{
			UserLimit: cfg.Auth.Passwords.FailureLimit, IPLimit: cfg.Auth.Passwords.IPFailureLimit,
			Window: cfg.Auth.Passwords.FailureWindow, Block: cfg.Auth.Passwords.BlockDuration, Clock: opts.Clock,
		}),
	})
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// applySecurity applies the security files to the control-plane store,
// with an audit record when anything changed.
func (i *Instance) applySecurity(sec Security) error {
	now := i.opts.Clock()
	return i.Store.Update(func(tx *control.Tx) error {
		n, err := tx.ApplyFiles(sec, now)
		if err != nil || n == 0 {
			return err
		}
		i.log.Info("applied the security files", "changes", n, "dir", i.Config.SecurityDir)
		return i.Trail.AppendTx(tx.Bolt(), &audit.Record{Time: now, Actor: "tenantgate", Action: "security.apply",
			Target: i.Config.SecurityDir, Outcome: audit.OutcomeSuccess, Reason: fmt.Sprintf("%d changes from the security files", n)})
	})
}

// Run serves until ctx is done, then drains in-flight requests. ready, if
// set, is called with the listening address. Meanwhile it runs
// executions (resuming those a stop interrupted), purges deleted tenants
// past their retention and stores API tokens' last use.
func (i *Instance) Run(ctx context.Context, ready func(net.Addr)) error {
	if err := i.Runner.Start(ctx); err != nil {
		i.log.Error("resuming executions", "err", err)
	}
	bg, stop := context.WithCancel(ctx)
	i.wg.Add(2)
	go func() {
		defer i.wg.Done()
		i.Admin.RunPurger(bg, i.Config.Tenants.PurgeInterval)
	}()
	go func() {
		defer i.wg.Done()
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := i.Admin.FlushLastUsed(); err != nil {
					i.log.Error("storing API token use", "err", err)
				}
			}
		}
	}()
	err := i.Gateway.Run(ctx, ready)
	stop()
	i.wg.Wait()
	i.Runner.Close()
	if ferr := i.Admin.FlushLastUsed(); ferr != nil {
		i.log.Error("storing API token use", "err", ferr)
	}
	return err
}

// Close closes the indices, the audit trail and the control-plane store.
func (i *Instance) Close() error {
	var errs []error
	if i.Runner != nil {
		errs = append(errs, i.Runner.Close())
	}
	if i.backend != nil {
		errs = append(errs, i.backend.Close())
	}
	if i.catalog != nil {
		errs = append(errs, i.catalog.Close())
	}
	if i.Trail != nil {
		errs = append(errs, i.Trail.Close())
	}
	if i.Store != nil {
		errs = append(errs, i.Store.Close())
	}
	return errors.Join(errs...)
}
