package instance_test

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// refusingAppender stands for an audit store that refuses writes (a full
// disk, a read-only volume, a remote sink that is down): while refuse is
// set, every AppendTx fails and writes nothing; otherwise it passes the
// record on to the real trail.
type refusingAppender struct {
	next   audit.Appender
	refuse *atomic.Bool
}

func (r refusingAppender) AppendTx(tx *bbolt.Tx, rec *audit.Record) error {
	if r.refuse.Load() {
		return errors.New("audit store refuses writes")
	}
	return r.next.AppendTx(tx, rec)
}

func mustStatus(t *testing.T, r *testserver.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

// startRefusing starts a server whose audit appender refuses writes
// while the returned flag is set.
func startRefusing(t *testing.T, failClosed bool) (*testserver.Server, *atomic.Bool) {
	t.Helper()
	cfg := testserver.Config(t.TempDir())
	cfg.Audit.FailClosed = failClosed
	cfg.Auth.Passwords.BcryptCost = 4
	refuse := new(atomic.Bool)
	s := testserver.StartWith(t, cfg, instance.Options{WrapAppender: func(next audit.Appender) audit.Appender {
		return refusingAppender{next: next, refuse: refuse}
	}})
	return s, refuse
}

// mappingExists reports whether the control-plane store holds the role
// mapping name.
func mappingExists(t *testing.T, s *testserver.Server, name string) bool {
	t.Helper()
	err := s.Inst.Store.View(func(tx *control.Tx) error {
		_, err := tx.Mapping(name)
		return err
	})
	if err != nil && !errors.Is(err, control.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// TestAuditFailClosed checks audit.fail_closed: a change whose audit
// record cannot be written is refused with 503 and leaves nothing behind,
// in the store or in the policy; without fail_closed it goes through.
func TestAuditFailClosed(t *testing.T) {
	su, dave := testserver.Token(t, "admin"), testserver.Token(t, "dave")

	t.Run("fail closed", func(t *testing.T) {
		s, refuse := startRefusing(t, true)
		refuse.Store(true)
		r := s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"stage","adminUsername":"dave"}`)
		mustStatus(t, r, 503)
		if !strings.Contains(string(r.Body), "audit record") {
			t.Fatalf("503 without a word about the audit trail: %s", r.Body)
		}
		mustStatus(t, s.Do(t, "GET", "/api/v1/tenants/stage", su, "", nil), 404)
		if mappingExists(t, s, admin.AdminRoleName("stage")) {
			t.Fatal("admin@stage mapping stored")
		}
		if s.Inst.Policy.RolesFor("dave", nil).Has(admin.AdminRoleName("stage")) {
			t.Fatal("the policy maps dave to admin@stage")
		}
		mustStatus(t, s.Do(t, "PUT", "/data/_doc/1", dave, "stage", `{"k":1}`), 403)
		if s.Inst.Admin.AuditFailures() == 0 {
			t.Fatal("audit failure not counted")
		}

		// Every other change is refused the same way and changes nothing.
		refuse.Store(false)
		mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"stage","adminUsername":"dave"}`), 201)
		refuse.Store(true)
		before := s.Do(t, "GET", "/api/v1/tenants/stage", su, "", nil)
		tenancy := s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", su, "", nil)
		for _, c := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/tenants/stage", `{"description":"x"}`},
			{"POST", "/api/v1/tenants/stage/lock", ""},
			{"POST", "/api/v1/tenants/stage/freeze", ""},
			{"DELETE", "/api/v1/tenants/stage", ""},
			{"PUT", "/_plugins/_security/api/tenants/stage", `{"description":"x"}`},
			{"PUT", "/_plugins/_security/api/tenants/other", `{"description":"x"}`},
			{"PATCH", "/_plugins/_security/api/tenants", `[{"op":"remove","path":"/stage"}]`},
			{"PUT", "/_plugins/_security/api/tenancy/config", `{"default_tenant":"stage"}`},
		} {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := s.Do(t, c.method, c.path, su, "", body)
			if r.Status != 503 {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
		if after := s.Do(t, "GET", "/api/v1/tenants/stage", su, "", nil); string(after.Body) != string(before.Body) {
			t.Fatalf("refused changes changed the tenant:\n%s\n%s", before.Body, after.Body)
		}
		if after := s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", su, "", nil); string(after.Body) != string(tenancy.Body) {
			t.Fatalf("refused changes changed tenancy/config:\n%s\n%s", tenancy.Body, after.Body)
		}
		mustStatus(t, s.Do(t, "GET", "/api/v1/tenants/other", su, "", nil), 404)
		mustStatus(t, s.Do(t, "PUT", "/data/_doc/1", dave, "stage", `{"k":1}`), 201)

		// The refusals are on record once the store takes records again
		// (they are queued, not written in the refused transaction).
		refuse.Store(false)
		if err := s.Inst.Trail.Flush(); err != nil {
			t.Fatal(err)
		}
		p, err := s.Inst.Trail.Query(audit.Filter{Action: "tenant.create", Outcome: audit.OutcomeFailure})
		if err != nil || p.Total < 2 || p.Results[0].Status != 503 {
			t.Fatalf("failed creations on record: %+v %v", p, err)
		}
	})

	t.Run("fail open", func(t *testing.T) {
		s, refuse := startRefusing(t, false)
		refuse.Store(true)
		mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"stage","adminUsername":"dave"}`), 201)
		mustStatus(t, s.Do(t, "GET", "/api/v1/tenants/stage", su, "", nil), 200)
		mustStatus(t, s.Do(t, "PUT", "/data/_doc/1", dave, "stage", `{"k":1}`), 201)
		mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/stage/lock", su, "", nil), 200)
		mustStatus(t, s.Do(t, "GET", "/data/_doc/1", dave, "stage", nil), 423)
		if s.Inst.Admin.AuditFailures() != 2 {
			t.Fatalf("audit failures counted: %d", s.Inst.Admin.AuditFailures())
		}
	})
}

// TestRestartKeepsTenantAdministration stops the server in the middle of
// tenant administration and starts a new one on the same data directory:
// tenants, their Admin roles, locks, freezes, soft deletes, tenancy
// settings and the audit trail are all still there.
func TestRestartKeepsTenantAdministration(t *testing.T) {
	cfg := testserver.Config(t.TempDir())
	cfg.Auth.Passwords.BcryptCost = 4
	clk := testserver.NewClock(time.Now())
	su, dave, alice := testserver.Token(t, "admin"), testserver.Token(t, "dave"), testserver.Token(t, "alice", "analyst")
	create := func(s *testserver.Server, id string) {
		t.Helper()
		mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"`+id+`","name":"Tenant `+id+`","adminUsername":"dave"}`), 201)
		mustStatus(t, s.Do(t, "PUT", "/data/_doc/1?refresh=true", dave, id, `{"in":"`+id+`"}`), 201)
	}

	s := testserver.StartWith(t, cfg, instance.Options{Clock: clk.Now})
	for _, id := range []string{"t-open", "t-lock", "t-frozen", "t-del"} {
		create(s, id)
	}
	mustStatus(t, s.Do(t, "PUT", "/api/v1/tenants/t-open", dave, "", `{"description":"kept"}`), 200)
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/t-lock/lock", su, "", nil), 200)
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/t-frozen/freeze", su, "", nil), 200)
	mustStatus(t, s.Do(t, "DELETE", "/api/v1/tenants/t-del", su, "", nil), 200)
	mustStatus(t, s.Do(t, "PUT", "/_plugins/_security/api/tenancy/config", su, "",
		`{"default_tenant":"t-open","preferred_tenants":["t-open"]}`), 200)
	tenancy := s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", su, "", nil)
	list := s.Do(t, "GET", "/api/v1/tenants?deleted=true", su, "", nil)
	mustStatus(t, list, 200)
	s.Stop()

	clk.Advance(time.Hour)
	s = testserver.StartWith(t, cfg, instance.Options{Clock: clk.Now})
	if r := s.Do(t, "GET", "/api/v1/tenants?deleted=true", su, "", nil); string(r.Body) != string(list.Body) {
		t.Fatalf("tenants after restart:\n%s\nbefore:\n%s", r.Body, list.Body)
	}
	if r := s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", su, "", nil); string(r.Body) != string(tenancy.Body) {
		t.Fatalf("tenancy/config after restart:\n%s\nbefore:\n%s", r.Body, tenancy.Body)
	}
	// The default tenant still serves requests without a header, and dave
	// still administers it.
	r := s.Do(t, "GET", "/data/_source/1", dave, "", nil)
	if r.Status != 200 || string(r.Body) != `{"in":"t-open"}` {
		t.Fatalf("default tenant after restart: %d %s", r.Status, r.Body)
	}
	mustStatus(t, s.Do(t, "PUT", "/api/v1/tenants/t-open", dave, "", `{"description":"still mine"}`), 200)
	// Still locked, still frozen.
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", dave, "t-lock", nil), 423)
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", su, "t-lock", nil), 200)
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", dave, "t-frozen", nil), 200)
	mustStatus(t, s.Do(t, "PUT", "/data/_doc/2", dave, "t-frozen", `{"k":2}`), 423)
	// alice's roles give her nothing in these tenants: still the 403.
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", alice, "t-lock", nil), 403)
	// Still deleted, still restorable, intact.
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", dave, "t-del", nil), 403)
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/t-del/restore", su, "", nil), 200)
	r = s.Do(t, "GET", "/data/_source/1", dave, "t-del", nil)
	if r.Status != 200 || string(r.Body) != `{"in":"t-del"}` {
		t.Fatalf("restored tenant after restart: %d %s", r.Status, r.Body)
	}
	// The Admin roles came back from the store, not from the files.
	if !s.Inst.Policy.RolesFor("dave", nil).Has(admin.AdminRoleName("t-lock")) {
		t.Fatal("dave lost admin@t-lock")
	}
	// The audit trail spans both runs.
	p, err := s.Inst.Trail.Query(audit.Filter{Action: "tenant.*", Size: audit.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, rec := range p.Results {
		seen[rec.Action+" "+rec.Tenant] = true
	}
	for _, want := range []string{"tenant.create t-open", "tenant.lock t-lock", "tenant.freeze t-frozen", "tenant.delete t-del", "tenant.restore t-del", "tenant.update t-open"} {
		if !seen[want] {
			t.Errorf("audit trail lacks %s: %v", want, seen)
		}
	}
	// Applying the security files again on start changed nothing of it.
	if p, err := s.Inst.Trail.Query(audit.Filter{Action: "security.apply"}); err != nil || p.Total != 1 {
		t.Errorf("security files applied %d times: %v", p.Total, err)
	}
}

// TestStopRightAfterStart stops servers as soon as they listen: a
// shutdown that comes before the HTTP server has started serving must
// still stop it (fasthttp's Shutdown alone does not, and Run then never
// returned, hanging the test that stopped it).
func TestStopRightAfterStart(t *testing.T) {
	n := 100
	if testing.Short() {
		n = 10
	}
	cfg := testserver.Config(t.TempDir())
	for range n {
		done := make(chan struct{})
		go func() {
			defer close(done)
			testserver.StartConfig(t, cfg).Stop()
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("the server did not stop")
		}
	}
}

// TestPurgerRuns checks that the server purges tenants past their
// retention by itself, every tenants.purge_interval.
func TestPurgerRuns(t *testing.T) {
	cfg := testserver.Config(t.TempDir())
	cfg.Tenants.PurgeInterval = 20 * time.Millisecond
	clk := testserver.NewClock(time.Now())
	s := testserver.StartWith(t, cfg, instance.Options{Clock: clk.Now})
	su := testserver.Token(t, "admin")
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"stage"}`), 201)
	mustStatus(t, s.Do(t, "PUT", "/data/_doc/1", su, "stage", `{"k":1}`), 201)
	mustStatus(t, s.Do(t, "DELETE", "/api/v1/tenants/stage", su, "", nil), 200)
	exists := func() bool {
		err := s.Inst.Store.View(func(tx *control.Tx) error {
			_, err := tx.Tenant("stage")
			return err
		})
		if err != nil && !errors.Is(err, control.ErrNotFound) {
			t.Fatal(err)
		}
		return err == nil
	}
	// Within the window, the purger leaves it alone.
	time.Sleep(10 * cfg.Tenants.PurgeInterval)
	if !exists() {
		t.Fatal("purged within the retention window")
	}
	clk.Advance(cfg.Tenants.Retention)
	deadline := time.Now().Add(10 * time.Second)
	for exists() {
		if time.Now().After(deadline) {
			t.Fatal("not purged after the retention window")
		}
		time.Sleep(cfg.Tenants.PurgeInterval)
	}
	if left := s.Inst.Index.Catalog().List("custom:stage"); len(left) != 0 {
		t.Fatalf("indices left: %+v", left)
	}
	p, err := s.Inst.Trail.Query(audit.Filter{Action: "tenant.purge", Actor: "tenantgate"})
	if err != nil || p.Total != 1 {
		t.Fatalf("purge records: %+v %v", p, err)
	}
}
