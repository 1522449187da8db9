package admin

import (
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// superActor is a superadmin caller of the Service tests.
var superActor = Actor{Name: "root", Superadmin: true}

// tenantTestService is a Service over a real control-plane store in a
// temporary directory, without indices; opts may set FailClosed,
// Appender and Retention. It closes when the test ends.
func tenantTestService(t testing.TB, opts Options) *Service {
	t.Helper()
	store, err := control.Open(filepath.Join(t.TempDir(), "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	trail, err := audit.NewTrail(store.DB(), audit.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := trail.Close(); err != nil {
			t.Error(err)
		}
		if err := store.Close(); err != nil {
			t.Error(err)
		}
	})
	engine, err := policy.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defaults := control.Tenancy{MultitenancyEnabled: true, PrivateTenantEnabled: true, GlobalTenantEnabled: true, DefaultTenant: "global"}
	opts.Store, opts.Trail, opts.Policy, opts.Logger = store, trail, engine, log
	opts.Resolver = tenants.NewResolver(settingsOf(defaults), tenants.NewRegistry(nil))
	opts.Defaults = defaults
	if opts.Retention == 0 {
		opts.Retention = 24 * time.Hour
	}
	opts.BcryptCost = 4
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// refusing is an audit.Appender that stands for an audit store refusing
// writes: every AppendTx fails.
type refusing struct{}

func (refusing) AppendTx(*bbolt.Tx, *audit.Record) error {
	return errors.New("audit store refuses writes")
}

// TestMutateFailClosed checks the one transaction of a change: with
// fail_closed an audit record that cannot be written rolls the change
// back (ErrAuditUnavailable) and nothing is reloaded; without it the
// change commits and the failure is counted.
func TestMutateFailClosed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failClosed bool
		wantErr    error
	}{
		{"fail closed", true, ErrAuditUnavailable},
		{"fail open", false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tenantTestService(t, Options{FailClosed: tc.failClosed, Appender: refusing{}})
			_, err := s.CreateTenant(superActor, TenantInput{ID: "stage", AdminUsername: "dave"})
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("CreateTenant: %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr != nil && StatusOf(ErrAuditUnavailable) != 503 {
				t.Fatal("ErrAuditUnavailable is not a 503")
			}
			var tenantErr, roleErr, mappingErr error
			if err := s.o.Store.View(func(tx *control.Tx) error {
				_, tenantErr = tx.Tenant("stage")
				_, roleErr = tx.Role(AdminRoleName("stage"))
				_, mappingErr = tx.Mapping(AdminRoleName("stage"))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			_, live := s.o.Resolver.Registry().Get("stage")
			daveAdmin := s.o.Policy.Allowed(s.o.Policy.RolesFor("dave", nil), "stage", policy.Admin)
			committed := tc.wantErr == nil
			for what, got := range map[string]bool{
				"tenant":        tenantErr == nil,
				"role":          roleErr == nil,
				"mapping":       mappingErr == nil,
				"registry":      live,
				"policy (dave)": daveAdmin,
			} {
				if got != committed {
					t.Errorf("%s present: %v, want %v", what, got, committed)
				}
			}
			if s.AuditFailures() != 1 {
				t.Errorf("audit failures: %d, want 1", s.AuditFailures())
			}
		})
	}
}

// TestMutateRecordsFailures checks that a change refused inside its
// transaction leaves no trace but its audit record, with the outcome and
// status of the refusal.
func TestMutateRecordsFailures(t *testing.T) {
	s := tenantTestService(t, Options{})
	if _, err := s.CreateTenant(superActor, TenantInput{ID: "stage"}); err != nil {
		t.Fatal(err)
	}
	outsider := Actor{Name: "carol", RequestID: "r-1"}
	for _, tc := range []struct {
		name    string
		do      func() error
		action  string
		outcome string
		status  int
	}{
		{"conflict", func() error { _, err := s.CreateTenant(superActor, TenantInput{ID: "stage"}); return err }, "tenant.create", audit.OutcomeFailure, 409},
		{"not found", func() error { _, err := s.DeleteTenant(superActor, "nope"); return err }, "tenant.delete", audit.OutcomeFailure, 404},
		{"no permission", func() error { _, err := s.DeleteTenant(outsider, "stage"); return err }, "tenant.delete", audit.OutcomeDenied, 403},
		{"no tenant", func() error { _, err := s.UpdateTenant(outsider, "stage", nil, nil); return err }, "tenant.update", audit.OutcomeDenied, 403},
		{"invalid", func() error { _, err := s.CreateTenant(superActor, TenantInput{ID: "Bad"}); return err }, "tenant.create", audit.OutcomeFailure, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var ae *Error
			if !errors.As(err, &ae) || StatusOf(ae.Kind) != tc.status {
				t.Fatalf("error %v, want a %d", err, tc.status)
			}
			if err := s.o.Trail.Flush(); err != nil {
				t.Fatal(err)
			}
			p, err := s.o.Trail.Query(audit.Filter{Action: tc.action, Outcome: tc.outcome})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range p.Results {
				if r.Status == tc.status && r.Reason == ae.Message && len(r.Diff) == 0 {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %s %s record with status %d and reason %q: %+v", tc.action, tc.outcome, tc.status, ae.Message, p.Results)
			}
		})
	}
}
