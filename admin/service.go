package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// Options are what a Service is built from.
type Options struct {
	// Store is the control-plane store.
	Store *control.Store
	// Trail is the audit trail (in the same store).
	Trail *audit.Trail
	// Appender writes the audit record of a change inside the change's
	// transaction; nil means Trail. Tests wrap it to stand for a disk that
	// refuses writes.
	Appender audit.Appender
	// Policy is reloaded from the store after every change.
	Policy *policy.Engine
	// Resolver's registry and settings are reloaded after every change.
	Resolver *tenants.Resolver
	// Index is used to drop a purged tenant's indices.
	Index *index.Service
	// Defaults are the multitenancy settings of the configuration file,
	// used until a PUT of tenancy/config stores others.
	Defaults control.Tenancy
	// Clock returns the current time; nil means time.Now.
	Clock func() time.Time
	// Retention is how long a deleted tenant can be restored.
	Retention time.Duration
	// FailClosed refuses a change whose audit record cannot be written.
	FailClosed bool
	// BcryptCost is the cost of new password hashes.
	BcryptCost int
	// DefaultTokenAge is the lifetime of an API token created without
	// max_age (auth.api_tokens.default_max_age); 0 means 30 days.
	DefaultTokenAge time.Duration
	// MaxTokenAge is the longest lifetime an API token may be given
	// (auth.api_tokens.max_age); 0 means 365 days.
	MaxTokenAge time.Duration
	// SessionTokenAge is the lifetime of the token a password sign-in
	// creates (auth.api_tokens.session_max_age); 0 means 8 hours.
	SessionTokenAge time.Duration
	// Logger receives audit failures and purges.
	Logger *slog.Logger
}

// Actor is who asks for a change, as the gateway authenticated them.
type Actor struct {
	// Name is the user or service account name.
	Name string
	// Roles are the security roles mapped to the actor.
	Roles policy.Roles
	// Superadmin is set for users flagged superadmin and for those mapped
	// to all_access.
	Superadmin bool
	// ClientIP and RequestID go into audit records.
	ClientIP  string
	RequestID string
}

// Service applies administrative changes. It is safe for concurrent use.
type Service struct {
	o        Options
	appender audit.Appender
	log      *slog.Logger

	reloadMu sync.Mutex
	dir      atomic.Pointer[Directory]
	// purgeMu runs one purge at a time; purging holds the ids being
	// purged, which RestoreTenant refuses.
	purgeMu       sync.Mutex
	purging       sync.Map
	auditFailures atomic.Uint64
	passwords     *auth.PasswordCache
	dummy         dummyHash
	used          lastUse
}

// New builds a Service and loads the policy, registry and directory from
// the store.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Trail == nil || o.Policy == nil || o.Resolver == nil {
		return nil, errors.New("admin: Store, Trail, Policy and Resolver are required")
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Service{o: o, appender: o.Appender, log: o.Logger,
		passwords: auth.NewPasswordCache(auth.PasswordCacheOptions{}),
		used:      lastUse{at: map[string]time.Time{}}}
	if s.appender == nil {
		s.appender = o.Trail
	}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// AuditFailures returns how many audit records could not be written.
func (s *Service) AuditFailures() uint64 { return s.auditFailures.Load() }

// Now returns the Service's clock reading.
func (s *Service) Now() time.Time { return s.o.Clock() }

// Directory returns the current snapshot of users, service accounts and
// API tokens, for authentication on the request path.
func (s *Service) Directory() *Directory { return s.dir.Load() }

// Reload reads roles, role mappings, tenants, tenancy settings, users and
// tokens from the store and swaps them into the policy engine, the tenant
// registry and the directory. Every change calls it after its commit;
// since bbolt lets one process open the store, no change can come from
// elsewhere while the gateway runs.
func (s *Service) Reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	var (
		roles    = map[string]policy.Role{}
		mappings = map[string]policy.RoleMapping{}
		live     = map[string]tenants.Tenant{}
		tenancy  control.Tenancy
		stored   bool
	)
	err := s.o.Store.View(func(tx *control.Tx) error {
		rs, err := tx.Roles()
		if err != nil {
			return err
		}
		for _, r := range rs {
			pr := r.Role
			pr.Name = r.Name
			roles[r.Name] = pr
		}
		ms, err := tx.Mappings()
		if err != nil {
			return err
		}
		for _, m := range ms {
			mappings[m.Name] = m.RoleMapping
		}
		ts, err := tx.Tenants()
		if err != nil {
			return err
		}
		for _, t := range ts {
			if t.DeletedAt != nil {
				continue
			}
			live[t.ID] = tenants.Tenant{Name: t.ID, Description: t.Description, Reserved: t.Reserved,
				Hidden: t.Hidden, Static: t.Static, Locked: t.Locked, Frozen: t.Frozen}
		}
		tenancy, stored, err = tx.StoredTenancy()
		return err
	})
	if err != nil {
		return fmt.Errorf("loading the control plane: %w", err)
	}
	if !stored {
		tenancy = s.o.Defaults
	}
	if err := s.o.Policy.Replace(roles, mappings); err != nil {
		return fmt.Errorf("loading roles from the control plane: %w", err)
	}
	s.o.Resolver.Registry().Replace(live)
	s.o.Resolver.SetSettings(settingsOf(tenancy))
	return s.loadDirectory()
}

// reloadDirectory reloads users and tokens only (the policy's decision
// cache survives).
func (s *Service) reloadDirectory() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	return s.loadDirectory()
}

func (s *Service) loadDirectory() error {
	dir := &Directory{users: map[string]control.User{}, tokens: map[string]control.Token{}}
	err := s.o.Store.View(func(tx *control.Tx) error {
		us, err := tx.Users()
		if err != nil {
			return err
		}
		for _, u := range us {
			dir.users[u.Name] = u
		}
		toks, err := tx.AllTokens()
		if err != nil {
			return err
		}
		for _, t := range toks {
			dir.tokens[t.ID] = t
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading users and tokens: %w", err)
	}
	s.dir.Store(dir)
	return nil
}

func settingsOf(t control.Tenancy) tenants.Settings {
	return tenants.Settings{
		Enabled:       t.MultitenancyEnabled,
		EnableGlobal:  t.GlobalTenantEnabled,
		EnablePrivate: t.PrivateTenantEnabled,
		Default:       t.DefaultTenant,
		Preferred:     slices.Clone(t.PreferredTenants),
	}
}

// can reports whether the actor holds a cluster permission.
func (s *Service) can(a Actor, perm string) bool {
	return a.Superadmin || s.o.Policy.ClusterAllowed(a.Roles, perm)
}

// tenantAdmin reports whether the actor administers tenant id (its Admin
// role, or any role granting tenant_admin there).
func (s *Service) tenantAdmin(a Actor, id string) bool {
	return a.Superadmin || s.o.Policy.Allowed(a.Roles, id, policy.Admin)
}

// change describes one audited change.
type change struct {
	action string // audit action, e.g. "tenant.create"
	tenant string // tenant the change concerns ("" for instance level)
	target string // resource name
	// usersOnly marks a change of users, service accounts, groups or
	// tokens only: the policy engine and the tenant registry do not
	// depend on them, so only the directory is reloaded and the
	// policy's decision cache survives.
	usersOnly bool
}

// mutate runs fn in one store transaction together with the audit record
// of the change, then reloads. fn returns the resource before and after
// (nil when it did not exist or no longer does) for the record's diff.
// A failed change is recorded too, with its outcome.
func (s *Service) mutate(a Actor, ch change, fn func(tx *control.Tx) (before, after any, err error)) error {
	rec := s.record(a, ch)
	err := s.o.Store.Update(func(tx *control.Tx) error {
		before, after, err := fn(tx)
		if err != nil {
			return err
		}
		done := rec
		if err := s.appendChange(tx, &done, before, after); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		s.fail(rec, err)
		return err
	}
	if ch.usersOnly {
		return s.reloadDirectory()
	}
	if err := s.Reload(); err != nil {
		return err
	}
	return nil
}

// appendChange completes rec as the record of a successful change from
// before to after and writes it in tx. When the trail refuses it,
// audit.fail_closed aborts the transaction with ErrAuditUnavailable;
// otherwise the failure is counted and logged and the change goes on.
// A change that touches several resources (a JSON Patch of tenants)
// calls it once per resource, so each tenant's audit view shows its own.
func (s *Service) appendChange(tx *control.Tx, rec *audit.Record, before, after any) error {
	var err error
	rec.Before, rec.After, rec.Diff, err = audit.Diff(before, after)
	if err != nil {
		return fmt.Errorf("audit diff: %w", err)
	}
	rec.Outcome, rec.Status = audit.OutcomeSuccess, 200
	if err := s.appender.AppendTx(tx.Bolt(), rec); err != nil {
		s.auditFailures.Add(1)
		s.log.Error("audit record not written", "action", rec.Action, "target", rec.Target, "err", err)
		if s.o.FailClosed {
			return &Error{Kind: ErrAuditUnavailable, Cause: err,
				Message: "the audit record of this change could not be written, so the change was not made (audit.fail_closed)"}
		}
	}
	return nil
}

// record starts an audit record for a change by a.
func (s *Service) record(a Actor, ch change) audit.Record {
	return audit.Record{
		Time: s.o.Clock(), Actor: a.Name, ActorRoles: a.Roles.Names(), Tenant: ch.tenant,
		Action: ch.action, Target: ch.target, ClientIP: a.ClientIP, RequestID: a.RequestID,
	}
}

// fail records a change that did not happen.
func (s *Service) fail(rec audit.Record, err error) {
	rec.Before, rec.After, rec.Diff = nil, nil, nil
	rec.Outcome, rec.Status = "failure", 500
	var ae *Error
	if errors.As(err, &ae) {
		rec.Reason = ae.Message
		rec.Status = StatusOf(ae.Kind)
		if errors.Is(ae.Kind, ErrForbidden) || errors.Is(ae.Kind, ErrReserved) {
			rec.Outcome = "denied"
		}
	}
	s.o.Trail.Record(rec)
}

// deny records and returns a refusal that happens before any transaction.
func (s *Service) deny(a Actor, ch change, err *Error) error {
	s.fail(s.record(a, ch), err)
	return err
}

// StatusOf returns the HTTP status for one of the sentinel errors.
func StatusOf(kind error) int {
	switch {
	case errors.Is(kind, ErrNotFound):
		return 404
	case errors.Is(kind, ErrConflict):
		return 409
	case errors.Is(kind, ErrInvalid):
		return 400
	case errors.Is(kind, ErrForbidden), errors.Is(kind, ErrReserved):
		return 403
	case errors.Is(kind, ErrLocked):
		return 423
	case errors.Is(kind, ErrAuditUnavailable):
		return 503
	}
	return 500
}

// RunPurger purges expired soft-deleted tenants every interval until ctx
// is done.
func (s *Service) RunPurger(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("purging deleted tenants", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
