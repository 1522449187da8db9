package gateway_test

import (
	"testing"
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
