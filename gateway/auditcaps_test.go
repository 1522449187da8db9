package gateway_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// TestAuditCapsRefusedAdminRequests: a caller who sends request-body-sized
// strings to an administration API gets them refused, and the audit
// record of the refusal holds a capped copy, not ten megabytes.
func TestAuditCapsRefusedAdminRequests(t *testing.T) {
	s := testserver.Start(t, func(c *config.Config) { c.Auth.Passwords.BcryptCost = 4 })
	huge := strings.Repeat("n", 10<<20)
	cases := []struct {
		name    string
		token   string
		body    any
		status  int
		filter  audit.Filter
		capped  func(audit.Record) string
		outcome string
	}{
		{"invalid name by a superadmin", testserver.Token(t, "admin"), map[string]any{"username": huge, "password": "Correct-Horse-9"},
			400, audit.Filter{Actor: "admin", Action: "user.create"}, func(r audit.Record) string { return r.Target }, audit.OutcomeFailure},
		{"name by a member without the permission", testserver.Token(t, "alice", "analyst"), map[string]any{"username": huge},
			403, audit.Filter{Actor: "alice", Action: "user.create"}, func(r audit.Record) string { return r.Target }, audit.OutcomeDenied},
		{"unknown field refused before the admin rules", testserver.Token(t, "admin"), map[string]any{huge: "x"},
			400, audit.Filter{Actor: "admin", Action: audit.ActionAdminRefused}, func(r audit.Record) string { return r.Reason }, audit.OutcomeFailure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, "POST", "/api/v1/users", tc.token, "", tc.body)
			mustStatus(t, r, tc.status)
			if err := s.Inst.Trail.Flush(); err != nil {
				t.Fatal(err)
			}
			page, err := s.Inst.Trail.Query(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != 1 {
				t.Fatalf("%d records for %+v, want 1", page.Total, tc.filter)
			}
			rec := page.Results[0]
			if rec.Outcome != tc.outcome || rec.Status != tc.status {
				t.Errorf("outcome %q status %d, want %q %d", rec.Outcome, rec.Status, tc.outcome, tc.status)
			}
			v := tc.capped(rec)
			if len(v) > audit.MaxFieldBytes || !strings.HasSuffix(v, audit.TruncatedSuffix) || !utf8.ValidString(v) {
				t.Errorf("audited value is %d bytes, want at most %d ending %q", len(v), audit.MaxFieldBytes, audit.TruncatedSuffix)
			}
			raw, err := json.Marshal(rec)
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > 16<<10 {
				t.Errorf("the record is %d bytes of JSON", len(raw))
			}
		})
	}
}
