package gateway_test

import (
	"strings"
	"testing"
)

// Security review of tenant and identity administration: each test is a
// hole found in review, shown through the real server.

// createSAToken creates an API token for service account name as who and
// returns it.
func (e *idEnv) createSAToken(t *testing.T, who, name string) string {
	t.Helper()
	r := e.do(t, who, "POST", "/api/v1/service-accounts/"+name+"/tokens", map[string]any{"name": "t", "max_age": "1h"})
	mustStatus(t, r, 201)
	tok, _ := r.JSON(t)["token"].(string)
	if tok == "" {
		t.Fatalf("no token in %s", r.Body)
	}
	return tok
}

// TestReviewServiceAccountHasNoPrivateTenant: a private tenant belongs to
// a name, and a service account's name may be a person's that the
// directory does not know (a JWT user). A tenant admin who names a
// service account after that person must not reach their private tenant
// with its token.
func TestReviewServiceAccountHasNoPrivateTenant(t *testing.T) {
	e := startIdentity(t)
	olga := e.tokens["outsider"] // JWT user olga, no roles, not in the directory
	mustStatus(t, e.s.Do(t, "PUT", "/diary/_doc/1", olga, "private", map[string]any{"text": "olga's secret"}), 201)

	// tina, Admin of acme only, names a service account of acme "olga".
	mustStatus(t, e.do(t, "tadmin", "POST", "/api/v1/service-accounts", map[string]any{"name": "olga", "tenant": "acme"}), 201)
	tok := e.createSAToken(t, "tadmin", "olga")

	for _, c := range []struct{ method, path string }{
		{"GET", "/diary/_doc/1"},
		{"GET", "/diary/_search"},
		{"PUT", "/diary/_doc/2"},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			var body any
			if c.method == "PUT" {
				body = map[string]any{"text": "planted"}
			}
			r := e.s.Do(t, c.method, c.path, tok, "private", body)
			if r.Status != 403 || strings.Contains(string(r.Body), "secret") {
				t.Errorf("service account token in private tenant: %d %s", r.Status, r.Body)
			}
		})
	}
	// olga herself still has her private tenant, untouched.
	r := e.s.Do(t, "GET", "/diary/_source/1", olga, "private", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "olga's secret") {
		t.Errorf("olga's own private tenant: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.s.Do(t, "GET", "/diary/_doc/2", olga, "private", nil), 404)
	// The account API does not offer the service account a private tenant.
	r = e.s.Do(t, "GET", "/_plugins/_security/api/account", tok, "", nil)
	mustStatus(t, r, 200)
	if ts, _ := r.JSON(t)["tenants"].(map[string]any); ts["olga"] != nil {
		t.Errorf("account offers the service account a private tenant: %s", r.Body)
	}
}
