package gateway_test

import (
	"testing"

	"github.com/tenantgate/tenantgate/audit"
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
