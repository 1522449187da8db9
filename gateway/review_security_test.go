package gateway_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/internal/testserver"
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

// TestReviewTenantAdminTokenForServiceAccountMappedOutside: a tenant admin
// may not change a service account of their tenant whose name a mapping
// ties to a role outside it; minting a token for it would hand them that
// role all the same.
func TestReviewTenantAdminTokenForServiceAccountMappedOutside(t *testing.T) {
	e := startIdentity(t)
	// A superadmin creates hr_bot in acme; roles_mapping.yml maps "hr_*" to
	// hr_manager (write on human_resources).
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/service-accounts", map[string]any{"name": "hr_bot", "tenant": "acme"}), 201)
	// tina cannot change it ...
	mustStatus(t, e.do(t, "tadmin", "PUT", "/api/v1/service-accounts/hr_bot", map[string]any{"tenant": "acme", "description": "x"}), 403)
	// ... nor mint a token that carries hr_manager.
	r := e.do(t, "tadmin", "POST", "/api/v1/service-accounts/hr_bot/tokens", map[string]any{"name": "t"})
	if r.Status == 201 {
		tok, _ := r.JSON(t)["token"].(string)
		w := e.s.Do(t, "PUT", "/payroll/_doc/1", tok, "human_resources", map[string]any{"salary": 1})
		t.Fatalf("tina minted a token for hr_bot (write in human_resources: %d)", w.Status)
	}
	mustStatus(t, r, 403)
	// The same through a group a users admin gives a service account of acme.
	mustStatus(t, e.do(t, "super", "PUT", "/_plugins/_security/api/roles/hr_api", map[string]any{
		"tenant_permissions": []map[string]any{{"tenant_patterns": []string{"human_resources"}, "allowed_actions": []string{"kibana_all_write"}}}}), 201)
	mustStatus(t, e.do(t, "super", "PUT", "/_plugins/_security/api/rolesmapping/hr_api", map[string]any{"groups": []string{"payroll"}}), 201)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "payroll"}), 201)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/service-accounts", map[string]any{"name": "pay-bot", "tenant": "acme", "groups": []string{"payroll"}}), 201)
	mustStatus(t, e.do(t, "tadmin", "POST", "/api/v1/service-accounts/pay-bot/tokens", map[string]any{"name": "t"}), 403)
	// A service account with nothing outside acme still gets its tokens,
	// and superadmins mint tokens for any.
	mustStatus(t, e.do(t, "tadmin", "POST", "/api/v1/service-accounts", map[string]any{"name": "acme-bot", "tenant": "acme"}), 201)
	e.createSAToken(t, "tadmin", "acme-bot")
	e.createSAToken(t, "super", "hr_bot")
	// tina still sees and revokes hr_bot's tokens: that grants nothing.
	r = e.do(t, "tadmin", "GET", "/api/v1/service-accounts/hr_bot/tokens", nil)
	mustStatus(t, r, 200)
	list := idList(t, r)
	if len(list) != 1 {
		t.Fatalf("hr_bot's tokens: %s", r.Body)
	}
	mustStatus(t, e.do(t, "tadmin", "DELETE", "/api/v1/service-accounts/hr_bot/tokens/"+list[0]["id"].(string), nil), 204)
}

// TestReviewPutInternalUserNoExistenceLeak: a caller who may manage no
// account learns nothing from PUT internalusers: an existing user and a
// missing one give the same 403.
func TestReviewPutInternalUserNoExistenceLeak(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	for _, who := range []string{"outsider", "member"} {
		for _, name := range []string{"carol", "nobody", "root", "acme-bot"} {
			for _, kind := range []string{"service_account", "user"} {
				r := e.do(t, who, "PUT", "/_plugins/_security/api/internalusers/"+name, map[string]any{"kind": kind})
				if r.Status != 403 {
					t.Errorf("%s: PUT internalusers/%s kind %s = %d, want 403: %s", who, name, kind, r.Status, r.Body)
				}
			}
		}
	}
}

// TestReviewLockedTenantRefusesItsAdminsIdentityChanges: a locked tenant
// refuses its admins every change and a frozen one its changes (423), as
// for its roles: no new service accounts, tokens or deletions by them
// while an operator has it closed. Holders of restapi:admin/internalusers
// are not refused.
func TestReviewLockedTenantRefusesItsAdminsIdentityChanges(t *testing.T) {
	for _, state := range []string{"lock", "freeze"} {
		t.Run(state, func(t *testing.T) {
			e := startIdentity(t)
			e.idFixtures(t) // acme-bot of acme, by tina
			r := e.do(t, "tadmin", "POST", "/api/v1/service-accounts/acme-bot/tokens", map[string]any{"name": "before"})
			mustStatus(t, r, 201)
			tokenID, _ := r.JSON(t)["id"].(string)
			mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants/acme/"+state, nil), 200)
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"POST", "/api/v1/service-accounts", map[string]any{"name": "new-bot", "tenant": "acme"}},
				{"PUT", "/api/v1/service-accounts/acme-bot", map[string]any{"tenant": "acme", "description": "changed"}},
				{"POST", "/api/v1/service-accounts/acme-bot/tokens", map[string]any{"name": "t"}},
				{"DELETE", "/api/v1/service-accounts/acme-bot/tokens/" + tokenID, nil},
				{"DELETE", "/api/v1/service-accounts/acme-bot", nil},
				{"DELETE", "/_plugins/_security/api/internalusers/acme-bot", nil},
			} {
				r := e.do(t, "tadmin", c.method, c.path, c.body)
				if r.Status != 423 {
					t.Errorf("tina %s %s in a tenant under %s = %d, want 423: %s", c.method, c.path, state, r.Status, r.Body)
				}
			}
			mustStatus(t, e.do(t, "useradmin", "POST", "/api/v1/service-accounts/acme-bot/tokens", map[string]any{"name": "t"}), 201)
		})
	}
}

// TestReviewSignInUserNameBounded: POST /auth/login needs no credentials,
// and every failed sign-in is kept in the append-only audit trail under
// the name tried. A name no user can have (longer than a JWT subject or
// a Basic user name may be) is a 400 that writes nothing, so that an
// anonymous client cannot fill the trail with megabytes per request.
func TestReviewSignInUserNameBounded(t *testing.T) {
	e := startIdentity(t)
	long := strings.Repeat("x", 1<<20)
	r := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": long, "password": "whatever-password"})
	mustStatus(t, r, 400)
	if len(r.Body) > 1024 {
		t.Errorf("the answer repeats the name: %d bytes", len(r.Body))
	}
	// A name at the limit is an ordinary failed sign-in, audited.
	edge := strings.Repeat("y", auth.MaxSubjectBytes)
	mustStatus(t, e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": edge, "password": "whatever-password"}), 401)
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := e.s.Inst.Trail.Query(audit.Filter{Action: audit.ActionSignIn, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := false
	for _, rec := range page.Results {
		if len(rec.Actor) > auth.MaxSubjectBytes {
			t.Errorf("a sign-in record holds a %d-byte actor", len(rec.Actor))
		}
		seen = seen || rec.Actor == edge
	}
	if !seen {
		t.Errorf("no sign-in record for the name at the limit: %d records", page.Total)
	}
}

// TestReviewRefusedTokenListingAudited: every 403 is an audit record;
// the users admin listing a superadmin's tokens is refused inside the
// admin service, which must record it since the gateway does not.
func TestReviewRefusedTokenListingAudited(t *testing.T) {
	e := startIdentity(t)
	r := e.do(t, "useradmin", "GET", "/api/v1/users/root/tokens", nil)
	mustStatus(t, r, 403)
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := e.s.Inst.Trail.Query(audit.Filter{Actor: "ursula", Outcome: audit.OutcomeDenied, Target: "root"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || page.Results[0].Action != "token.read" || page.Results[0].Status != 403 {
		t.Errorf("records of ursula's refused listing of root's tokens: %+v", page.Results)
	}
}

// TestReviewTemplatedRoleNotCountedAsHeld: a tenant admin may give a
// service account of their tenant a name that maps to a role they hold
// themselves, but a role whose tenants depend on the name
// ("team_${user.name}") grants the account other tenants than its
// holder's: naming the account "carl" would open carl's team tenant.
func TestReviewTemplatedRoleNotCountedAsHeld(t *testing.T) {
	cfg := idConfig(t)
	for name, extra := range map[string]string{
		"roles.yml":         "\nown_team:\n  tenant_permissions:\n    - tenant_patterns: [\"team_${user.name}\"]\n      allowed_actions: [kibana_all_write]\n",
		"roles_mapping.yml": "\nown_team:\n  users: [\"*\"]\n",
		"tenants.yml":       "\nteam_carl:\n  description: \"carl's team\"\nteam_tina:\n  description: \"tina's team\"\n",
	} {
		path := filepath.Join(cfg.SecurityDir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(raw, extra...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := startIdentityWith(t, cfg)
	carl, tina := testserver.Token(t, "carl"), e.tokens["tadmin"]
	mustStatus(t, e.s.Do(t, "PUT", "/plans/_doc/1", carl, "team_carl", map[string]any{"plan": "carl's"}), 201)
	mustStatus(t, e.s.Do(t, "PUT", "/plans/_doc/1", tina, "team_tina", map[string]any{"plan": "tina's"}), 201)
	mustStatus(t, e.s.Do(t, "GET", "/plans/_doc/1", tina, "team_carl", nil), 403)

	// tina cannot name a service account of acme "carl" ...
	r := e.do(t, "tadmin", "POST", "/api/v1/service-accounts", map[string]any{"name": "carl", "tenant": "acme"})
	if r.Status == 201 {
		tok := e.createSAToken(t, "tadmin", "carl")
		g := e.s.Do(t, "GET", "/plans/_doc/1", tok, "team_carl", nil)
		t.Fatalf("tina created service account carl (its token reads team_carl: %d %s)", g.Status, g.Body)
	}
	mustStatus(t, r, 403)
	// ... nor mint a token for one a superadmin named so.
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/service-accounts", map[string]any{"name": "carl", "tenant": "acme"}), 201)
	mustStatus(t, e.do(t, "tadmin", "POST", "/api/v1/service-accounts/carl/tokens", map[string]any{"name": "t"}), 403)
}
