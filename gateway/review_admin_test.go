package gateway_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// Tests of the review of tenant administration, roles and audit.

// TestReviewSecurityTenantNotFound checks that the OpenSearch Security
// tenants API answers a missing or hidden tenant as OpenSearch Security
// does, in the roles API's words: 404 {"status":"NOT_FOUND","message":
// "Resource 'x' not found."}.
func TestReviewSecurityTenantNotFound(t *testing.T) {
	e := startAdmin(t)
	for _, tc := range []struct {
		name, tok, method, path, body string
	}{
		{"get missing", "super", "GET", securityAPI + "/tenants/t-nope", ""},
		{"delete missing", "super", "DELETE", securityAPI + "/tenants/t-nope", ""},
		{"get hidden", "oscar", "GET", securityAPI + "/tenants/vault", ""},
		{"put hidden", "oscar", "PUT", securityAPI + "/tenants/vault", `{"description":"x"}`},
		{"delete hidden", "oscar", "DELETE", securityAPI + "/tenants/vault", ""},
		{"opendistro prefix", "super", "GET", "/_opendistro/_security/api/tenants/t-nope", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := superTok(t)
			if tc.tok == "oscar" {
				tok = oscarTok(t)
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.s.Do(t, tc.method, tc.path, tok, "", body)
			name := "t-nope"
			if tc.tok == "oscar" {
				name = "vault"
			}
			want := `{"status":"NOT_FOUND","message":"Resource '` + name + `' not found."}`
			if r.Status != 404 || string(r.Body) != want {
				t.Fatalf("%d %s, want 404 %s", r.Status, r.Body, want)
			}
		})
	}
	// The Kestra API keeps its own words.
	mustMessage(t, e.s.Do(t, "GET", "/api/v1/tenants/t-nope", superTok(t), "", nil), 404, "tenant [t-nope] not found")
}

// TestReviewTenantReadDenialAudited checks that a 403 on reading a
// tenant (Kestra's and OpenSearch Security's GET) is an audit record,
// like every other 403.
func TestReviewTenantReadDenialAudited(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-x")
	for _, path := range []string{"/api/v1/tenants/t-x", securityAPI + "/tenants/t-x", "/api/v1/tenants/t-never"} {
		t.Run(path, func(t *testing.T) {
			r := e.s.Do(t, "GET", path, carolTok(t), "", nil)
			mustStatus(t, r, 403)
			var found []audit.Record
			for _, rec := range e.records(t, audit.Filter{Actor: "carol"}) {
				if rec.RequestID == r.Header.Get("X-Request-Id") {
					found = append(found, rec)
				}
			}
			if len(found) != 1 || found[0].Outcome != audit.OutcomeDenied || found[0].Status != 403 || found[0].Target == "" {
				t.Fatalf("records of the refused read: %+v", found)
			}
		})
	}
}

// TestReviewPurgeLeavesNothing follows a tenant with everything a tenant
// can own (documents, a saved object, an index template, a tenant-scoped
// role and its mapping, a service account with a token, a place among
// the preferred tenants) through soft delete, restore and purge: while
// deleted none of it shows, restored all of it is back, purged none of it
// is left, and a tenant re-created under the same id inherits nothing.
func TestReviewPurgeLeavesNothing(t *testing.T) {
	e := startAdmin(t)
	su, dave, carol := superTok(t), daveTok(t), carolTok(t)
	e.createTenant(t, "t-x")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1?refresh=true", dave, "t-x", `{"k":1}`), 201)
	mustStatus(t, e.s.Do(t, "POST", "/api/saved_objects/dashboard/d1", dave, "t-x", `{"attributes":{"title":"D"}}`, xsrf...), 200)
	mustStatus(t, e.s.Do(t, "PUT", "/_index_template/tpl", dave, "t-x", `{"index_patterns":["logs-*"],"template":{"mappings":{"properties":{"a":{"type":"keyword"}}}}}`), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/service-accounts", dave, "", `{"name":"bot","tenant":"t-x"}`), 201)
	r := e.s.Do(t, "POST", "/api/v1/service-accounts/bot/tokens", dave, "", `{"name":"ci","max_age":"1h"}`)
	mustStatus(t, r, 201)
	botTok, _ := r.JSON(t)["token"].(string)
	mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/roles/reader@t-x", dave, "", `{"tenant_permissions":[{"tenant_patterns":["t-x"],"allowed_actions":["kibana_all_read"]}]}`), 201)
	mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/rolesmapping/reader@t-x", dave, "", `{"users":["bot"]}`), 201)
	mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/tenancy/config", su, "", `{"preferred_tenants":["t-x","analysts","global"]}`), 200)
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/1", botTok, "t-x", nil), 200)

	preferred := func(tok string) []any {
		t.Helper()
		r := e.s.Do(t, "GET", securityAPI+"/tenancy/config", tok, "", nil)
		mustStatus(t, r, 200)
		p, _ := r.JSON(t)["preferred_tenants"].([]any)
		return p
	}
	has := func(list []any, name string) bool {
		for _, v := range list {
			if v == name {
				return true
			}
		}
		return false
	}

	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-x", su, "", nil), 200)
	for _, tok := range []string{su, carol} {
		if p := preferred(tok); has(p, "t-x") || !has(p, "analysts") || !has(p, "global") {
			t.Fatalf("preferred_tenants while t-x is deleted: %v", p)
		}
	}
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/1", botTok, "t-x", nil), 403)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-x/restore", su, "", nil), 200)
	if p := preferred(carol); !has(p, "t-x") {
		t.Fatalf("preferred_tenants after the restore: %v", p)
	}
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/1", botTok, "t-x", nil), 200)

	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-x", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-x/purge", su, "", nil), 200)
	if left := e.s.Inst.Index.Catalog().List("custom:t-x"); len(left) != 0 {
		t.Errorf("indices left: %+v", left)
	}
	if left := e.s.Inst.Index.Catalog().Templates("custom:t-x"); len(left) != 0 {
		t.Errorf("templates left: %+v", left)
	}
	mustStatus(t, e.s.Do(t, "GET", securityAPI+"/roles/reader@t-x", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "GET", securityAPI+"/rolesmapping/reader@t-x", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "GET", "/api/v1/service-accounts/bot", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "GET", "/_cat/indices", botTok, "", nil), 401)
	var stored control.Tenancy
	if err := e.s.Inst.Store.View(func(tx *control.Tx) (err error) { stored, err = tx.Tenancy(); return err }); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(stored.PreferredTenants, "t-x") || !slices.Contains(stored.PreferredTenants, "analysts") {
		t.Fatalf("stored preferred_tenants after the purge: %v", stored.PreferredTenants)
	}

	// Re-created: empty, and not preferred.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-x","adminUsername":"carol"}`), 201)
	if p := preferred(su); has(p, "t-x") {
		t.Fatalf("the re-created tenant inherited its place among the preferred tenants: %v", p)
	}
	r = e.s.Do(t, "GET", "/_index_template", carol, "t-x", nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "tpl") {
		t.Fatalf("templates of the re-created tenant: %d %s", r.Status, r.Body)
	}
}

// TestReviewRecreatedTenantAuditView checks that the admins of a tenant
// created under the id of a purged one do not read the purged tenant's
// audit records (its admins, roles, service accounts), while holders of
// restapi:admin/audit still read them all.
func TestReviewRecreatedTenantAuditView(t *testing.T) {
	e := startAdmin(t)
	su, dave, carol := superTok(t), daveTok(t), carolTok(t)
	e.createTenant(t, "t-r") // dave administers the first t-r
	mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/roles/old@t-r", dave, "", `{"description":"secret plans"}`), 201)
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-r", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-r/purge", su, "", nil), 200)
	e.clk.Advance(time.Second)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-r","adminUsername":"carol"}`), 201)
	e.clk.Advance(time.Second)
	mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/roles/new@t-r", carol, "", `{"description":"carol's"}`), 201)

	actions := func(tok, query string) []string {
		t.Helper()
		r := e.s.Do(t, "GET", "/api/v1/t-r/audit?size=1000"+query, tok, "", nil)
		mustStatus(t, r, 200)
		var out []string
		for _, rec := range r.JSON(t)["results"].([]any) {
			m := rec.(map[string]any)
			out = append(out, m["actor"].(string)+":"+m["action"].(string))
		}
		return out
	}
	got := actions(carol, "")
	if want := []string{"carol:role.create", "admin:tenant.create"}; !slices.Equal(got, want) {
		t.Fatalf("the new t-r's admin reads %v, want %v", got, want)
	}
	if got := actions(carol, "&from=2000-01-01T00:00:00Z"); len(got) != 2 {
		t.Fatalf("an early from widens the view: %v", got)
	}
	if got := actions(carol, "&to="+e.clk.Now().Add(-time.Hour).UTC().Format(time.RFC3339)); len(got) != 0 {
		t.Fatalf("a to before the tenant began: %v", got)
	}
	all := actions(su, "")
	if !slices.Contains(all, "dave:role.create") || !slices.Contains(all, "admin:tenant.purge") || !slices.Contains(all, "carol:role.create") {
		t.Fatalf("the superadmin's view of t-r: %v", all)
	}
}

// TestReviewPurgeFailClosed checks that with audit.fail_closed a purge
// whose audit record cannot be written fails with 503 and drops nothing:
// the tenant can still be restored with its data.
func TestReviewPurgeFailClosed(t *testing.T) {
	var refuse atomic.Bool
	cfg := adminConfig(t)
	cfg.Audit.FailClosed = true
	clk := testserver.NewClock(time.Now())
	s := testserver.StartWith(t, cfg, instance.Options{Clock: clk.Now, WrapAppender: func(next audit.Appender) audit.Appender {
		return rmFailingAppender{next: next, fail: func(*audit.Record) bool { return refuse.Load() }}
	}})
	su, dave := superTok(t), daveTok(t)
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-p","adminUsername":"dave"}`), 201)
	mustStatus(t, s.Do(t, "PUT", "/data/_doc/1?refresh=true", dave, "t-p", `{"k":1}`), 201)
	mustStatus(t, s.Do(t, "DELETE", "/api/v1/tenants/t-p", su, "", nil), 200)
	refuse.Store(true)
	mustMessage(t, s.Do(t, "POST", "/api/v1/tenants/t-p/purge", su, "", nil), 503, "fail_closed")
	clk.Advance(cfg.Tenants.Retention + time.Minute)
	if _, err := s.Inst.Admin.PurgeExpired(context.Background()); err == nil {
		t.Fatal("the purger purged without an audit record")
	}
	if left := s.Inst.Index.Catalog().List("custom:t-p"); len(left) == 0 {
		t.Fatal("a purge refused for its audit record dropped the tenant's indices")
	}
	refuse.Store(false)
	clk.Advance(-cfg.Tenants.Retention)
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/t-p/restore", su, "", nil), 200)
	r := s.Do(t, "GET", "/data/_source/1", dave, "t-p", nil)
	if r.Status != 200 || string(r.Body) != `{"k":1}` {
		t.Fatalf("the document after the refused purge: %d %s", r.Status, r.Body)
	}
	// Trail working again: the purge goes through, recorded as started
	// and as done.
	mustStatus(t, s.Do(t, "DELETE", "/api/v1/tenants/t-p", su, "", nil), 200)
	r = s.Do(t, "POST", "/api/v1/tenants/t-p/purge", su, "", nil)
	mustStatus(t, r, 200)
	if err := s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	p, err := s.Inst.Trail.Query(audit.Filter{Action: "tenant.purge*", Outcome: audit.OutcomeSuccess})
	if err != nil || p.Total != 2 || p.Results[0].Action != "tenant.purge" || p.Results[1].Action != "tenant.purge.start" ||
		p.Results[0].RequestID != r.Header.Get("X-Request-Id") || p.Results[1].RequestID != r.Header.Get("X-Request-Id") {
		t.Fatalf("purge records: %+v %v", p, err)
	}
}

// TestReviewRefusedAdminWritesAudited checks that a write to an
// administration API refused by the gateway before the administration
// rules see it (a malformed body) is an audit record too, with the
// caller, the status and the reason, and that reads refused the same way
// are not.
func TestReviewRefusedAdminWritesAudited(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-w")
	for _, tc := range []struct {
		method, path, body string
		status             int
		recorded           bool
	}{
		{"POST", "/api/v1/tenants", `{"id":`, 400, true},
		{"PUT", "/api/v1/tenants/t-w", `{"colour":"blue"}`, 400, true},
		{"PUT", securityAPI + "/tenants/t-w", `[]`, 400, true},
		{"PATCH", securityAPI + "/tenants/t-w", `{"op":"add"}`, 400, true},
		{"PUT", securityAPI + "/roles/x@t-w", `{"cluster_permissions":"all"}`, 400, true},
		{"PUT", securityAPI + "/tenancy/config", `{"default_tenant":1}`, 400, true},
		{"GET", "/api/v1/tenants?colour=blue", "", 400, false},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			r := e.s.Do(t, tc.method, tc.path, superTok(t), "", body)
			mustStatus(t, r, tc.status)
			var found []audit.Record
			for _, rec := range e.records(t, audit.Filter{Actor: "admin"}) {
				if rec.RequestID == r.Header.Get("X-Request-Id") {
					found = append(found, rec)
				}
			}
			switch {
			case !tc.recorded && len(found) != 0:
				t.Fatalf("a refused read was recorded: %+v", found)
			case tc.recorded && (len(found) != 1 || found[0].Action != audit.ActionAdminRefused || found[0].Outcome != audit.OutcomeFailure ||
				found[0].Status != tc.status || found[0].Reason == "" || !strings.Contains(found[0].Target, tc.path) ||
				!slices.Contains(found[0].ActorRoles, "all_access")):
				t.Fatalf("records of the refused write: %+v", found)
			}
		})
	}
}
