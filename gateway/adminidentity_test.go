package gateway_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// Passwords of the reserved users of idSecurity's internal_users.yml.
const (
	idRootPassword  = "root-password-1"
	idFiledPassword = "filed-password-1"
	idGhostPassword = "ghost-password-1"
)

// idSecurity copies config/security into a temporary directory and adds
// an internal_users.yml with reserved users (root: superadmin; filed:
// analyst; ghost: hidden) and a role "user_admin" holding
// restapi:admin/internalusers, mapped to the backend role "useradmin".
func idSecurity(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(testserver.RepoRoot(), "config", "security")
	for _, name := range []string{"tenants.yml", "roles.yml", "roles_mapping.yml"} {
		raw, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		switch name {
		case "roles.yml":
			raw = append(raw, "\nuser_admin:\n  cluster_permissions:\n    - \"restapi:admin/internalusers\"\n"...)
		case "roles_mapping.yml":
			raw = append(raw, "\nuser_admin:\n  backend_roles:\n    - \"useradmin\"\n"...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hash := func(pw string) string {
		h, err := auth.HashPassword(pw, 4)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	users := fmt.Sprintf(`_meta:
  type: internalusers
  config_version: 2
root:
  hash: %q
  superadmin: true
  description: "the file's superadmin"
filed:
  hash: %q
  backend_roles: [analyst]
  groups: [filegroup]
ghost:
  hash: %q
  hidden: true
`, hash(idRootPassword), hash(idFiledPassword), hash(idGhostPassword))
	if err := os.WriteFile(filepath.Join(dir, "internal_users.yml"), []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// idConfig is a test configuration with idSecurity and cheap bcrypt.
func idConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testserver.Config(t.TempDir())
	cfg.SecurityDir = idSecurity(t)
	cfg.Auth.Passwords.BcryptCost = 4
	return cfg
}

// idEnv is a server with the callers of the permission matrix:
// super (JWT admin → all_access), useradmin (restapi:admin/internalusers
// only), tadmin (tina, Admin of tenant acme), member (alice, analyst),
// outsider (olga, no roles).
type idEnv struct {
	s      *testserver.Server
	clock  *testserver.Clock
	tokens map[string]string
}

func startIdentity(t *testing.T) *idEnv {
	t.Helper()
	return startIdentityWith(t, idConfig(t))
}

func startIdentityWith(t *testing.T, cfg config.Config) *idEnv {
	t.Helper()
	clock := testserver.NewClock(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	s := testserver.StartWith(t, cfg, instance.Options{Clock: clock.Now})
	e := &idEnv{s: s, clock: clock, tokens: map[string]string{}}
	e.tokens["super"] = testserver.Token(t, "admin")
	e.tokens["useradmin"] = testserver.Token(t, "ursula", "useradmin")
	e.tokens["tadmin"] = testserver.Token(t, "tina")
	e.tokens["member"] = testserver.Token(t, "alice", "analyst")
	e.tokens["outsider"] = testserver.Token(t, "olga")
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants", map[string]any{"id": "acme", "name": "Acme", "adminUsername": "tina"}), 201)
	return e
}

// do sends a request as one of the env's callers.
func (e *idEnv) do(t *testing.T, who, method, path string, body any) *testserver.Response {
	t.Helper()
	return e.s.Do(t, method, path, e.tokens[who], "", body)
}

// basic sends a request with HTTP Basic credentials.
func (e *idEnv) basic(t *testing.T, user, pw, method, path string, body any) *testserver.Response {
	t.Helper()
	return e.s.Do(t, method, path, "", "", body, testserver.Basic(user, pw)...)
}

// bearer sends a request with an API token.
func (e *idEnv) bearer(t *testing.T, token, method, path string, body any) *testserver.Response {
	t.Helper()
	return e.s.Do(t, method, path, token, "", body)
}

// idList decodes a JSON array of objects.
func idList(t *testing.T, r *testserver.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("not a JSON array of objects: %v\n%s", err, r.Body)
	}
	return out
}

func idNames(list []map[string]any) []string {
	var out []string
	for _, m := range list {
		out = append(out, fmt.Sprint(m["id"]))
	}
	return out
}

// idFixtures creates group ops, user carol (password), service account
// acme-bot of tenant acme (by its admin) and instance-level global-bot.
func (e *idEnv) idFixtures(t *testing.T) {
	t.Helper()
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "ops", "description": "Operations"}), 201)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/users", map[string]any{
		"username": "carol", "firstName": "Carol", "lastName": "Danvers", "email": "carol@example.com",
		"groups": []string{"ops"}, "password": "carol-password-1"}), 201)
	mustStatus(t, e.do(t, "tadmin", "POST", "/api/v1/service-accounts", map[string]any{"name": "acme-bot", "tenant": "acme"}), 201)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/service-accounts", map[string]any{"name": "global-bot"}), 201)
}

// TestIdentityPermissionMatrix sends every identity route as each kind of
// caller and checks who is let in. "{who}" in a path or body is the
// caller's key, so that each caller's creations do not collide.
func TestIdentityPermissionMatrix(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	type want map[string]int
	rows := []struct {
		method, path string
		body         string
		want         want
	}{
		{"GET", "/api/v1/users", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/users", `{"username":"u-{who}","password":"password-{who}"}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/users/carol", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/users/nobody", "", want{"super": 404, "useradmin": 404, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/users/carol", `{"username":"carol","firstName":"C","groups":["ops"]}`, want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/users/carol/password", `{"password":"carol-password-2"}`, want{"super": 204, "useradmin": 204, "tadmin": 403, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/users/carol/tokens", `{"name":"t-{who}","max_age":"1h"}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/users/carol/tokens", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/users/carol/tokens/aaaaaaaaaaaa", "", want{"super": 404, "useradmin": 404, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/service-accounts", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/service-accounts", `{"name":"sa-{who}","tenant":"acme"}`, want{"super": 201, "useradmin": 201, "tadmin": 201, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/service-accounts", `{"name":"sa2-{who}","tenant":"analysts"}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/service-accounts", `{"name":"sa3-{who}"}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/service-accounts/acme-bot", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/service-accounts/global-bot", "", want{"super": 200, "useradmin": 200, "tadmin": 404, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/service-accounts/acme-bot", `{"name":"acme-bot","tenant":"acme","description":"by {who}"}`, want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/service-accounts/global-bot", `{"description":"by {who}"}`, want{"super": 200, "useradmin": 200, "tadmin": 404, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/service-accounts/acme-bot/tokens", `{"name":"t-{who}"}`, want{"super": 201, "useradmin": 201, "tadmin": 201, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/service-accounts/acme-bot/api-tokens", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/service-accounts/acme-bot/tokens/aaaaaaaaaaaa", "", want{"super": 404, "useradmin": 404, "tadmin": 404, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/service-accounts/global-bot/tokens", `{"name":"t-{who}"}`, want{"super": 201, "useradmin": 201, "tadmin": 404, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/groups", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"POST", "/api/v1/groups", `{"name":"g-{who}"}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/groups/ops", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/groups/ops", `{"description":"by {who}"}`, want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/api/v1/groups/ops/members", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PUT", "/api/v1/groups/ops/members/global-bot", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/groups/ops/members/global-bot", "", want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/_plugins/_security/api/internalusers", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"GET", "/_opendistro/_security/api/internalusers/carol", "", want{"super": 200, "useradmin": 200, "tadmin": 404, "member": 403, "outsider": 403}},
		{"PUT", "/_plugins/_security/api/internalusers/os-{who}", `{"password":"password-{who}","backend_roles":["x"]}`, want{"super": 201, "useradmin": 201, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PUT", "/_plugins/_security/api/internalusers/ossa-{who}", `{"kind":"service_account","tenant":"acme"}`, want{"super": 201, "useradmin": 201, "tadmin": 201, "member": 403, "outsider": 403}},
		{"PATCH", "/_plugins/_security/api/internalusers", `[{"op":"replace","path":"/carol/description","value":"by {who}"}]`, want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"PATCH", "/_plugins/_security/api/internalusers/carol", `[{"op":"replace","path":"/email","value":"{who}@example.com"}]`, want{"super": 200, "useradmin": 200, "tadmin": 403, "member": 403, "outsider": 403}},
		{"GET", "/_plugins/_security/api/account", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 200, "outsider": 200}},
		{"DELETE", "/_plugins/_security/api/internalusers/os-{who}", "", want{"super": 200, "useradmin": 200, "tadmin": 404, "member": 403, "outsider": 403}},
		{"DELETE", "/_plugins/_security/api/internalusers/ossa-{who}", "", want{"super": 200, "useradmin": 200, "tadmin": 200, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/service-accounts/sa-{who}", "", want{"super": 204, "useradmin": 204, "tadmin": 204, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/service-accounts/sa2-{who}", "", want{"super": 204, "useradmin": 204, "tadmin": 404, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/users/u-{who}", "", want{"super": 204, "useradmin": 204, "tadmin": 403, "member": 403, "outsider": 403}},
		{"DELETE", "/api/v1/groups/g-{who}", "", want{"super": 204, "useradmin": 204, "tadmin": 403, "member": 403, "outsider": 403}},
	}
	// Refusals first, so that the allowed calls find the fixtures as set up.
	callers := []string{"outsider", "member", "tadmin", "useradmin", "super"}
	for _, row := range rows {
		t.Run(row.method+" "+row.path, func(t *testing.T) {
			for _, who := range callers {
				path := strings.ReplaceAll(row.path, "{who}", who)
				var body any
				if row.body != "" {
					body = strings.ReplaceAll(row.body, "{who}", who)
				}
				r := e.do(t, who, row.method, path, body)
				if r.Status != row.want[who] {
					t.Errorf("%s: %s %s = %d, want %d: %s", who, row.method, path, r.Status, row.want[who], r.Body)
				}
			}
		})
	}

	t.Run("tenant admin sees the service accounts of their tenant only", func(t *testing.T) {
		r := e.do(t, "tadmin", "GET", "/api/v1/service-accounts", nil)
		mustStatus(t, r, 200)
		if got := idNames(idList(t, r)); !slices.Equal(got, []string{"acme-bot"}) {
			t.Errorf("tina lists %v, want [acme-bot]", got)
		}
		r = e.do(t, "tadmin", "GET", "/_plugins/_security/api/internalusers", nil)
		mustStatus(t, r, 200)
		m := r.JSON(t)
		if len(m) != 1 || m["acme-bot"] == nil {
			t.Errorf("tina's internalusers: %s", r.Body)
		}
	})
	t.Run("a denied change is in the audit trail", func(t *testing.T) {
		if err := e.s.Inst.Trail.Flush(); err != nil {
			t.Fatal(err)
		}
		page, err := e.s.Inst.Trail.Query(audit.Filter{Actor: "olga", Outcome: audit.OutcomeDenied, Action: "user.create"})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total == 0 {
			t.Error("no denied user.create record for olga")
		}
		page, err = e.s.Inst.Trail.Query(audit.Filter{Actor: "tina", Action: "service_account.create", Outcome: audit.OutcomeSuccess})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total == 0 || page.Results[0].Tenant != "acme" {
			t.Errorf("tina's service_account.create records: %+v", page)
		}
	})
}

// TestIdentityViews checks the Kestra and OpenSearch shapes and that no
// password or hash ever comes out.
func TestIdentityViews(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	r := e.do(t, "super", "GET", "/api/v1/users/carol", nil)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	for k, v := range map[string]any{"id": "carol", "username": "carol", "firstName": "Carol", "lastName": "Danvers",
		"email": "carol@example.com", "superAdmin": false, "hasPassword": true, "reserved": false, "type": "user"} {
		if m[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, m[k], v, r.Body)
		}
	}
	if fmt.Sprint(m["groups"]) != "[ops]" {
		t.Errorf("groups = %v", m["groups"])
	}
	r = e.do(t, "super", "GET", "/_plugins/_security/api/internalusers/carol", nil)
	mustStatus(t, r, 200)
	cu := r.JSON(t)["carol"].(map[string]any)
	if cu["hash"] != "" || cu["password"] != nil || cu["kind"] != "user" || cu["email"] != "carol@example.com" {
		t.Errorf("internalusers/carol: %s", r.Body)
	}
	r = e.do(t, "super", "GET", "/api/v1/service-accounts/acme-bot", nil)
	mustStatus(t, r, 200)
	if m := r.JSON(t); m["name"] != "acme-bot" || m["tenant"] != "acme" || m["type"] != "service_account" {
		t.Errorf("service account: %s", r.Body)
	}
	// A user is not a service account, and the other way round.
	mustStatus(t, e.do(t, "super", "GET", "/api/v1/service-accounts/carol", nil), 404)
	mustStatus(t, e.do(t, "super", "GET", "/api/v1/users/acme-bot", nil), 404)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/service-accounts", map[string]any{"name": "carol"}), 409)
	// A GET can be PUT back as it is.
	r = e.do(t, "super", "GET", "/api/v1/users/carol", nil)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol", r.Body), 200)
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/authinfo", nil), 200)

	for _, path := range []string{"/api/v1/users", "/api/v1/service-accounts", "/_plugins/_security/api/internalusers", "/api/v1/groups/ops/members"} {
		r := e.do(t, "super", "GET", path, nil)
		mustStatus(t, r, 200)
		if strings.Contains(string(r.Body), "$2a$") || strings.Contains(string(r.Body), "password_hash") ||
			strings.Contains(string(r.Body), "carol-password") {
			t.Errorf("%s shows a password or hash: %s", path, r.Body)
		}
	}

	t.Run("bad input", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/users", map[string]any{"username": "x1", "groups": []string{"nope"}}},
			{"POST", "/api/v1/users", map[string]any{"username": "x2", "password": "short"}},
			{"POST", "/api/v1/users", map[string]any{"username": "a/b"}},
			{"POST", "/api/v1/users", map[string]any{"firstName": "no name"}},
			{"POST", "/api/v1/users", map[string]any{"username": "x3", "unknown": 1}},
			{"POST", "/api/v1/service-accounts", map[string]any{"name": "x4", "tenant": "nope"}},
			{"PUT", "/api/v1/users/carol", map[string]any{"username": "other"}},
			{"PUT", "/_plugins/_security/api/internalusers/x5", map[string]any{"kind": "service_account", "password": "password-123"}},
			{"PUT", "/_plugins/_security/api/internalusers/x6", map[string]any{"hash": "not-a-hash"}},
			{"PUT", "/_plugins/_security/api/internalusers/x7", map[string]any{"reserved": true}},
			{"PUT", "/_plugins/_security/api/internalusers/x8", map[string]any{"opendistro_security_roles": []string{"all_access"}}},
		} {
			r := e.do(t, "super", c.method, c.path, c.body)
			if r.Status != 400 {
				t.Errorf("%s %s %v = %d, want 400: %s", c.method, c.path, c.body, r.Status, r.Body)
			}
		}
		mustStatus(t, e.do(t, "super", "GET", "/api/v1/users/x1", nil), 404)
	})
}

// TestIdentityReservedHidden checks internal_users.yml's records:
// reserved ones cannot change, hidden ones are 404 to non-superadmins.
func TestIdentityReservedHidden(t *testing.T) {
	e := startIdentity(t)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "ops"}), 201)
	r := e.do(t, "super", "GET", "/api/v1/users/filed", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["reserved"] != true {
		t.Errorf("filed is not reserved: %s", r.Body)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"PUT", "/api/v1/users/filed", map[string]any{"firstName": "F"}},
		{"PUT", "/api/v1/users/filed/password", map[string]any{"password": "new-password-1"}},
		{"DELETE", "/api/v1/users/filed", nil},
		{"PUT", "/_plugins/_security/api/internalusers/filed", map[string]any{"description": "x"}},
		{"DELETE", "/_plugins/_security/api/internalusers/filed", nil},
		{"PATCH", "/_plugins/_security/api/internalusers/filed", `[{"op":"replace","path":"/description","value":"x"}]`},
	} {
		r := e.do(t, "super", c.method, c.path, c.body)
		mustStatus(t, r, 403)
		if !strings.Contains(string(r.Body), "Resource 'filed' is reserved.") {
			t.Errorf("%s %s: %s", c.method, c.path, r.Body)
		}
	}
	r = e.do(t, "super", "PUT", "/_plugins/_security/api/internalusers/filed", map[string]any{"description": "x"})
	if m := r.JSON(t); m["status"] != "FORBIDDEN" || m["message"] != "Resource 'filed' is reserved." {
		t.Errorf("OpenSearch shape: %s", r.Body)
	}
	// A reserved user signs in with the file's password but cannot change it.
	mustStatus(t, e.basic(t, "filed", idFiledPassword, "GET", "/_plugins/_security/authinfo", nil), 200)
	mustStatus(t, e.basic(t, "filed", idFiledPassword, "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": idFiledPassword, "password": "other-password-1"}), 403)

	// ghost is hidden: superadmins see it, the users admin does not.
	mustStatus(t, e.do(t, "super", "GET", "/api/v1/users/ghost", nil), 200)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users/ghost"}, {"PUT", "/api/v1/users/ghost"}, {"DELETE", "/api/v1/users/ghost"},
		{"GET", "/_plugins/_security/api/internalusers/ghost"}, {"GET", "/api/v1/users/ghost/tokens"},
		{"POST", "/api/v1/users/ghost/tokens"}, {"PUT", "/api/v1/groups/ops/members/ghost"},
	} {
		var body any
		switch c.method {
		case "PUT":
			body = map[string]any{}
		case "POST":
			body = map[string]any{"name": "t"}
		}
		if r := e.do(t, "useradmin", c.method, c.path, body); r.Status != 404 {
			t.Errorf("useradmin %s %s = %d, want 404: %s", c.method, c.path, r.Status, r.Body)
		}
	}
	list := func(who string) []string {
		r := e.do(t, who, "GET", "/api/v1/users", nil)
		mustStatus(t, r, 200)
		return idNames(idList(t, r))
	}
	if got := list("super"); !slices.Contains(got, "ghost") || !slices.Contains(got, "root") {
		t.Errorf("super lists %v", got)
	}
	if got := list("useradmin"); slices.Contains(got, "ghost") || !slices.Contains(got, "filed") {
		t.Errorf("useradmin lists %v", got)
	}
	r = e.do(t, "useradmin", "GET", "/_plugins/_security/api/internalusers", nil)
	if _, ok := r.JSON(t)["ghost"]; ok {
		t.Errorf("useradmin's internalusers shows ghost: %s", r.Body)
	}
	// A hidden name cannot be taken over by one who cannot see it.
	mustStatus(t, e.do(t, "useradmin", "PUT", "/_plugins/_security/api/internalusers/ghost", map[string]any{"description": "mine"}), 404)
}

// TestIdentitySuperadminRules checks that only a superadmin creates,
// changes or deletes a superadmin, however the user would become one, and
// that a tenant admin cannot hand a service account more than their
// tenant.
func TestIdentitySuperadminRules(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/users", map[string]any{"username": "boss", "superAdmin": true, "password": "boss-password-1"}), 201)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "admins"}), 201)
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"create a superadmin", "POST", "/api/v1/users", map[string]any{"username": "x1", "superAdmin": true}},
		{"make one a superadmin", "PUT", "/api/v1/users/carol", map[string]any{"superAdmin": true}},
		{"backend role mapped to all_access", "POST", "/api/v1/users", map[string]any{"username": "x2", "backendRoles": []string{"admin"}}},
		{"name mapped to all_access", "POST", "/api/v1/users", map[string]any{"username": "admin"}},
		{"change a superadmin", "PUT", "/api/v1/users/boss", map[string]any{"firstName": "B"}},
		{"reset a superadmin's password", "PUT", "/api/v1/users/boss/password", map[string]any{"password": "taken-over-1"}},
		{"mint a superadmin's token", "POST", "/api/v1/users/boss/tokens", map[string]any{"name": "mine"}},
		{"delete a superadmin", "DELETE", "/api/v1/users/boss", nil},
		{"OpenSearch: set superadmin", "PUT", "/_plugins/_security/api/internalusers/x3", map[string]any{"superadmin": true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mustStatus(t, e.do(t, "useradmin", c.method, c.path, c.body), 403)
		})
	}
	mustStatus(t, e.basic(t, "boss", "boss-password-1", "GET", "/_plugins/_security/authinfo", nil), 200)
	// A superadmin may.
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol", map[string]any{"superAdmin": true, "groups": []string{"ops"}}), 200)
	mustStatus(t, e.do(t, "useradmin", "PUT", "/api/v1/users/carol", map[string]any{"superAdmin": false}), 403)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol", map[string]any{"superAdmin": false}), 200)

	t.Run("tenant admin", func(t *testing.T) {
		for _, c := range []struct {
			name string
			body map[string]any
		}{
			{"groups", map[string]any{"name": "bot1", "tenant": "acme", "groups": []string{"ops"}}},
			{"backend roles", map[string]any{"name": "bot2", "tenant": "acme", "backendRoles": []string{"admin"}}},
			{"a name mapped outside the tenant", map[string]any{"name": "hr_bot", "tenant": "acme"}},
			{"superadmin", map[string]any{"name": "bot3", "tenant": "acme", "superAdmin": true}},
			{"instance level", map[string]any{"name": "bot4"}},
			{"another tenant", map[string]any{"name": "bot5", "tenant": "analysts"}},
		} {
			if r := e.do(t, "tadmin", "POST", "/api/v1/service-accounts", c.body); r.Status != 403 {
				t.Errorf("%s: %d, want 403: %s", c.name, r.Status, r.Body)
			}
		}
		// Nor move one out of the tenant, nor touch a user.
		mustStatus(t, e.do(t, "tadmin", "PUT", "/api/v1/service-accounts/acme-bot", map[string]any{"tenant": "analysts"}), 403)
		mustStatus(t, e.do(t, "tadmin", "PUT", "/_plugins/_security/api/internalusers/carol", map[string]any{}), 403)
	})

	t.Run("self", func(t *testing.T) {
		// Everyone reads their own record, and nobody deletes or disables it.
		mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/api/v1/users/carol", nil), 200)
		mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/api/internalusers/carol", nil), 200)
		mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/api/v1/users/boss", nil), 403)
		mustStatus(t, e.basic(t, "carol", "carol-password-1", "PUT", "/api/v1/users/carol", map[string]any{"superAdmin": true}), 403)
		mustStatus(t, e.basic(t, "boss", "boss-password-1", "DELETE", "/api/v1/users/boss", nil), 400)
		mustStatus(t, e.basic(t, "boss", "boss-password-1", "PUT", "/api/v1/users/boss", map[string]any{"superAdmin": true, "disabled": true}), 400)
	})
}

// TestIdentityBasicAuth checks HTTP Basic on the API.
func TestIdentityBasicAuth(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	r := e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/authinfo", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["user_name"] != "carol" {
		t.Errorf("authinfo: %s", r.Body)
	}
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/users", map[string]any{"username": "dora", "password": "dora-password-1", "disabled": true}), 201)
	wrong := e.basic(t, "carol", "carol-password-X", "GET", "/_plugins/_security/authinfo", nil)
	mustStatus(t, wrong, 401)
	// Every refusal looks the same. An unknown name costs a bcrypt at the
	// default cost (slow under -race), so the cases run in parallel.
	t.Run("refused", func(t *testing.T) {
		for _, c := range []struct{ name, user, pw string }{
			{"unknown user", "nobody", "carol-password-1"},
			{"service account", "acme-bot", "anything-at-all"},
			{"disabled user", "dora", "dora-password-1"},
		} {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				r := e.basic(t, c.user, c.pw, "GET", "/_plugins/_security/authinfo", nil)
				mustStatus(t, r, 401)
				if string(r.Body) != string(wrong.Body) {
					t.Errorf("told apart from a wrong password: %s / %s", r.Body, wrong.Body)
				}
			})
		}
	})
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := e.s.Inst.Trail.Query(audit.Filter{Action: audit.ActionSignIn, Actor: "nobody", Outcome: audit.OutcomeFailure})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == 0 {
		t.Error("no failed sign-in record for nobody")
	}
}

// TestTokenLifecycle creates, lists, uses, revokes and outlives API
// tokens, and checks that no secret shows in answers or the audit trail.
func TestTokenLifecycle(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	const pw = "carol-password-1"
	var bodies []string
	call := func(method, path string, body any, want int) map[string]any {
		t.Helper()
		r := e.basic(t, "carol", pw, method, path, body)
		mustStatus(t, r, want)
		bodies = append(bodies, string(r.Body))
		if len(r.Body) == 0 || r.Body[0] != '{' {
			return nil
		}
		return r.JSON(t)
	}
	start := e.clock.Now()
	a := call("POST", "/api/v1/users/carol/tokens", map[string]any{"name": "ci", "description": "for CI", "max_age": "1h"}, 201)
	b := call("POST", "/api/v1/users/carol/tokens", map[string]any{"name": "cli", "maxAge": "PT2H"}, 201)
	c := call("POST", "/api/v1/users/carol/tokens", map[string]any{"name": "default"}, 201)
	tokA, tokB := a["token"].(string), b["token"].(string)
	if !strings.HasPrefix(tokA, "tgat_") || !strings.HasPrefix(tokA, a["prefix"].(string)) {
		t.Fatalf("created token: %v", a)
	}
	for _, x := range []struct {
		tok  map[string]any
		want time.Duration
	}{{a, time.Hour}, {b, 2 * time.Hour}, {c, 30 * 24 * time.Hour}} {
		exp, err := time.Parse(time.RFC3339, x.tok["expires"].(string))
		if err != nil || !exp.Equal(start.Add(x.want)) {
			t.Errorf("token %v expires %v, want %v", x.tok["name"], x.tok["expires"], start.Add(x.want))
		}
	}
	for _, bad := range []string{"P1Y", "0s", "-1h", "9000h", "soon", "P1M"} {
		r := e.basic(t, "carol", pw, "POST", "/api/v1/users/carol/tokens", map[string]any{"name": "bad", "max_age": bad})
		if r.Status != 400 {
			t.Errorf("max_age %q: %d, want 400: %s", bad, r.Status, r.Body)
		}
	}
	mustStatus(t, e.basic(t, "carol", pw, "POST", "/api/v1/users/carol/tokens", map[string]any{"max_age": "1h"}), 400)

	// Both work as Bearer, and the token says who.
	for _, tok := range []string{tokA, tokB} {
		r := e.bearer(t, tok, "GET", "/_plugins/_security/authinfo", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["user_name"] != "carol" {
			t.Errorf("authinfo by token: %s", r.Body)
		}
	}
	e.clock.Advance(time.Minute)
	used := e.clock.Now()
	mustStatus(t, e.bearer(t, tokA, "GET", "/_plugins/_security/authinfo", nil), 200)

	// The listing shows prefixes and last use, never tokens.
	r := e.basic(t, "carol", pw, "GET", "/api/v1/users/carol/tokens", nil)
	mustStatus(t, r, 200)
	bodies = append(bodies, string(r.Body))
	list := idList(t, r)
	if len(list) != 3 {
		t.Fatalf("listing: %s", r.Body)
	}
	for _, m := range list {
		if _, ok := m["token"]; ok {
			t.Errorf("the listing shows a token: %s", r.Body)
		}
		if m["id"] == a["id"] {
			if lu, _ := time.Parse(time.RFC3339, fmt.Sprint(m["lastUsed"])); !lu.Equal(used) {
				t.Errorf("lastUsed = %v, want %v", m["lastUsed"], used)
			}
			if m["prefix"] != a["prefix"] || m["description"] != "for CI" {
				t.Errorf("listed token: %v", m)
			}
		}
	}

	// Revoking one leaves the others working.
	call("DELETE", "/api/v1/users/carol/tokens/"+a["id"].(string), nil, 204)
	mustStatus(t, e.bearer(t, tokA, "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.bearer(t, tokB, "GET", "/_plugins/_security/authinfo", nil), 200)
	call("DELETE", "/api/v1/users/carol/tokens/"+a["id"].(string), nil, 404)
	// Another's token cannot be revoked through one's own path.
	other := e.do(t, "super", "POST", "/api/v1/service-accounts/global-bot/tokens", map[string]any{"name": "x"})
	mustStatus(t, other, 201)
	call("DELETE", "/api/v1/users/carol/tokens/"+other.JSON(t)["id"].(string), nil, 404)
	mustStatus(t, e.bearer(t, other.JSON(t)["token"].(string), "GET", "/_plugins/_security/authinfo", nil), 200)

	// Expiry is a 401 at once.
	e.clock.Advance(2 * time.Hour)
	r = e.bearer(t, tokB, "GET", "/_plugins/_security/authinfo", nil)
	mustStatus(t, r, 401)
	if !strings.Contains(string(r.Body), "expired") {
		t.Errorf("expired token: %s", r.Body)
	}

	// A service account uses its tokens the same way; its tenant admin
	// manages them.
	sa := e.do(t, "tadmin", "POST", "/api/v1/service-accounts/acme-bot/tokens", map[string]any{"name": "deploy", "max_age": "PT1H"})
	mustStatus(t, sa, 201)
	saTok := sa.JSON(t)["token"].(string)
	r = e.bearer(t, saTok, "GET", "/_plugins/_security/authinfo", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["user_name"] != "acme-bot" {
		t.Errorf("service account token: %s", r.Body)
	}
	// A service account does not manage its own tokens.
	mustStatus(t, e.bearer(t, saTok, "POST", "/api/v1/service-accounts/acme-bot/tokens", map[string]any{"name": "more"}), 403)

	// Deleting a user revokes their tokens, for good.
	c2 := call("POST", "/api/v1/users/carol/tokens", map[string]any{"name": "last"}, 201)
	mustStatus(t, e.do(t, "super", "DELETE", "/api/v1/users/carol", nil), 204)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/users", map[string]any{"username": "carol", "password": pw}), 201)
	mustStatus(t, e.bearer(t, c2["token"].(string), "GET", "/_plugins/_security/authinfo", nil), 401)

	// No secret anywhere: answers other than the creating one, the trail.
	tokens := []string{tokA, tokB, c["token"].(string), saTok, c2["token"].(string)}
	for _, body := range bodies {
		for _, tok := range tokens {
			if strings.Contains(body, tok) && !strings.Contains(body, `"token":"`+tok+`"`) {
				t.Errorf("an answer shows a token: %s", body)
			}
		}
	}
	idNoSecrets(t, e.s, append(tokens, pw), "user.create", "user.delete", "token.create", "token.revoke", "service_account.create")
}

// idNoSecrets fails when an audit record holds a bcrypt hash, a token
// hash or one of the secrets, or when no record has one of the actions
// in want (so that there was something to look at).
func idNoSecrets(t *testing.T, s *testserver.Server, secrets []string, want ...string) {
	t.Helper()
	if err := s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := s.Inst.Trail.Query(audit.Filter{Size: audit.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total == 0 {
		t.Fatal("the trail is empty")
	}
	saw := map[string]bool{}
	for _, rec := range page.Results {
		raw, _ := json.Marshal(rec)
		text := string(raw)
		saw[rec.Action] = true
		if strings.Contains(text, "$2a$") || strings.Contains(text, "$2b$") {
			t.Errorf("audit record %s holds a bcrypt hash: %s", rec.Action, text)
		}
		for _, sec := range secrets {
			if strings.Contains(text, sec) {
				t.Errorf("audit record %s holds a secret: %s", rec.Action, text)
			}
		}
		var after map[string]any
		if json.Unmarshal(rec.After, &after) == nil {
			if h, ok := after["hash"]; ok && h != audit.Redacted {
				t.Errorf("audit record %s holds a token hash: %s", rec.Action, text)
			}
		}
	}
	for _, action := range want {
		if !saw[action] {
			t.Errorf("the trail has no %s record (%d records)", action, page.Total)
		}
	}
}

// TestPatchInternalUsers applies JSON Patches: all of one or none of it.
func TestPatchInternalUsers(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	before := e.do(t, "super", "GET", "/_plugins/_security/api/internalusers", nil)
	mustStatus(t, before, 200)
	for _, c := range []struct{ name, patch string }{
		{"a failing test op", `[{"op":"add","path":"/dave","value":{"password":"dave-password-1"}},
			{"op":"replace","path":"/carol/description","value":"changed"},
			{"op":"test","path":"/carol/email","value":"wrong@example.com"}]`},
		{"a missing path", `[{"op":"add","path":"/dave","value":{"password":"dave-password-1"}},
			{"op":"remove","path":"/nobody"}]`},
		{"an unknown group", `[{"op":"replace","path":"/carol/description","value":"changed"},
			{"op":"add","path":"/dave","value":{"groups":["nope"]}}]`},
		{"a reserved user", `[{"op":"add","path":"/dave","value":{}},{"op":"replace","path":"/filed/description","value":"x"}]`},
		{"a short password", `[{"op":"add","path":"/dave","value":{"password":"short"}}]`},
		{"an unknown field", `[{"op":"add","path":"/dave","value":{"colour":"blue"}}]`},
		{"a kind change", `[{"op":"replace","path":"/carol/kind","value":"service_account"}]`},
		{"not a patch", `{"op":"add"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(t, "super", "PATCH", "/_plugins/_security/api/internalusers", c.patch)
			if r.Status != 400 && r.Status != 403 {
				t.Fatalf("status %d, want 400 or 403: %s", r.Status, r.Body)
			}
			after := e.do(t, "super", "GET", "/_plugins/_security/api/internalusers", nil)
			if string(after.Body) != string(before.Body) {
				t.Errorf("a refused patch changed users:\nbefore %s\nafter  %s", before.Body, after.Body)
			}
		})
	}
	r := e.do(t, "super", "PATCH", "/_plugins/_security/api/internalusers", `[
		{"op":"add","path":"/dave","value":{"password":"dave-password-1","backend_roles":["analyst"],"groups":["ops"]}},
		{"op":"replace","path":"/carol/backend_roles","value":["reader"]},
		{"op":"remove","path":"/global-bot"}]`)
	mustStatus(t, r, 200)
	mustStatus(t, e.basic(t, "dave", "dave-password-1", "GET", "/_plugins/_security/authinfo", nil), 200)
	mustStatus(t, e.do(t, "super", "GET", "/api/v1/service-accounts/global-bot", nil), 404)
	r = e.do(t, "super", "GET", "/api/v1/users/carol", nil)
	if fmt.Sprint(r.JSON(t)["backendRoles"]) != "[reader]" {
		t.Errorf("carol after the patch: %s", r.Body)
	}
	// carol keeps her password through a patch that does not name it.
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/authinfo", nil), 200)
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := e.s.Inst.Trail.Query(audit.Filter{Action: "user.patch", Outcome: audit.OutcomeSuccess})
	if err != nil || page.Total != 1 {
		t.Fatalf("user.patch records: %+v, %v", page, err)
	}
	if d := string(page.Results[0].Diff); !strings.Contains(d, "/dave") || !strings.Contains(d, "/global-bot") {
		t.Errorf("patch diff: %s", d)
	}
	idNoSecrets(t, e.s, []string{"dave-password-1", "carol-password-1"}, "user.patch", "user.create")
}

// TestGroups covers membership and what deleting a group does.
func TestGroups(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "ops"}), 409)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/groups/ops/members/global-bot", nil), 200)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/groups/ops/members/nobody", nil), 404)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/groups/nogroup/members/carol", nil), 404)
	r := e.do(t, "super", "GET", "/api/v1/groups/ops/members", nil)
	mustStatus(t, r, 200)
	if got := idNames(idList(t, r)); !slices.Equal(got, []string{"carol", "global-bot"}) {
		t.Errorf("members = %v", got)
	}
	mustStatus(t, e.do(t, "super", "DELETE", "/api/v1/groups/ops/members/carol", nil), 200)
	r = e.do(t, "super", "GET", "/api/v1/groups/ops/members", nil)
	if got := idNames(idList(t, r)); !slices.Equal(got, []string{"global-bot"}) {
		t.Errorf("members after removing carol = %v", got)
	}
	// A group a reserved user names cannot go.
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/groups", map[string]any{"name": "filegroup"}), 201)
	mustStatus(t, e.do(t, "super", "DELETE", "/api/v1/groups/filegroup", nil), 409)
	// Deleting a group takes it off its members at once.
	mustStatus(t, e.do(t, "super", "DELETE", "/api/v1/groups/ops", nil), 204)
	r = e.do(t, "super", "GET", "/api/v1/service-accounts/global-bot", nil)
	if fmt.Sprint(r.JSON(t)["groups"]) != "[]" {
		t.Errorf("global-bot keeps a deleted group: %s", r.Body)
	}
	mustStatus(t, e.do(t, "super", "GET", "/api/v1/groups/ops", nil), 404)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/users", map[string]any{"username": "erin", "groups": []string{"ops"}}), 400)
}

// TestLoginLogout checks the UI's password sign-in.
func TestLoginLogout(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	r := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "carol", "password": "carol-password-1"})
	mustStatus(t, r, 200)
	m := r.JSON(t)
	tok, _ := m["token"].(string)
	exp, err := time.Parse(time.RFC3339, fmt.Sprint(m["expires"]))
	if !strings.HasPrefix(tok, "tgat_") || m["user"] != "carol" || err != nil || !exp.Equal(e.clock.Now().Add(8*time.Hour)) {
		t.Fatalf("login: %s", r.Body)
	}
	mustStatus(t, e.bearer(t, tok, "GET", "/_plugins/_security/authinfo", nil), 200)
	r = e.basic(t, "carol", "carol-password-1", "GET", "/api/v1/users/carol/tokens", nil)
	if list := idList(t, r); len(list) != 1 || list[0]["name"] != "web session" {
		t.Errorf("session token listing: %s", r.Body)
	}

	wrong := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "carol", "password": "carol-password-X"})
	mustStatus(t, wrong, 401)
	t.Run("refused", func(t *testing.T) {
		for _, user := range []string{"nobody", "acme-bot"} {
			t.Run(user, func(t *testing.T) {
				t.Parallel()
				r := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": user, "password": "carol-password-1"})
				mustStatus(t, r, 401)
				if string(r.Body) != string(wrong.Body) {
					t.Errorf("sign-in failures differ: %s / %s", r.Body, wrong.Body)
				}
			})
		}
	})
	mustStatus(t, e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "carol"}), 400)

	// Sign-out revokes the presented token only.
	other := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "carol", "password": "carol-password-1"})
	mustStatus(t, other, 200)
	mustStatus(t, e.bearer(t, tok, "POST", "/auth/logout", nil), 204)
	mustStatus(t, e.bearer(t, tok, "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.bearer(t, other.JSON(t)["token"].(string), "GET", "/_plugins/_security/authinfo", nil), 200)
	mustStatus(t, e.do(t, "member", "POST", "/auth/logout", nil), 400)
	mustStatus(t, e.s.Do(t, "POST", "/auth/logout", "", "", nil), 401)

	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		actor, outcome string
	}{{"carol", audit.OutcomeSuccess}, {"carol", audit.OutcomeFailure}, {"nobody", audit.OutcomeFailure}} {
		page, err := e.s.Inst.Trail.Query(audit.Filter{Action: audit.ActionSignIn, Actor: c.actor, Outcome: c.outcome})
		if err != nil || page.Total == 0 {
			t.Errorf("no %s sign-in record for %s (%v)", c.outcome, c.actor, err)
		}
	}
	idNoSecrets(t, e.s, []string{tok, other.JSON(t)["token"].(string), "carol-password-1", "carol-password-X"},
		audit.ActionSignIn, "token.create", "token.revoke")

	t.Run("passwords disabled", func(t *testing.T) {
		cfg := idConfig(t)
		cfg.Auth.Passwords.Enabled = false
		e := startIdentityWith(t, cfg)
		r := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "root", "password": idRootPassword})
		mustStatus(t, r, 404)
		if !strings.Contains(string(r.Body), "auth.passwords.enabled") {
			t.Errorf("disabled sign-in: %s", r.Body)
		}
		mustStatus(t, e.basic(t, "root", idRootPassword, "GET", "/_plugins/_security/authinfo", nil), 401)
	})
}

// TestAccountAPI checks who-am-I and changing one's own password.
func TestAccountAPI(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol", map[string]any{"backendRoles": []string{"analyst"}, "attributes": map[string]string{"team": "blue"}}), 200)
	r := e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/api/account", nil)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if m["user_name"] != "carol" || m["is_internal_user"] != true || m["is_reserved"] != false ||
		fmt.Sprint(m["custom_attribute_names"]) != "[attr.internal.team]" || fmt.Sprint(m["backend_roles"]) != "[analyst]" {
		t.Errorf("account: %s", r.Body)
	}
	tenants := m["tenants"].(map[string]any)
	if tenants["analysts"] != true || tenants["executive"] != false || tenants["carol"] != true {
		t.Errorf("account tenants: %v", tenants)
	}
	if !strings.Contains(fmt.Sprint(m["roles"]), "analyst") {
		t.Errorf("account roles: %v", m["roles"])
	}
	r = e.do(t, "member", "GET", "/_opendistro/_security/api/account", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["is_internal_user"] != false {
		t.Errorf("JWT user's account: %s", r.Body)
	}

	mustStatus(t, e.basic(t, "carol", "carol-password-1", "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": "wrong-password", "password": "carol-password-2"}), 400)
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": "carol-password-1", "password": "short"}), 400)
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": "carol-password-1", "password": "carol-password-2"}), 200)
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.basic(t, "carol", "carol-password-2", "GET", "/_plugins/_security/authinfo", nil), 200)
	// The Kestra form, with the current password.
	mustStatus(t, e.basic(t, "carol", "carol-password-2", "PUT", "/api/v1/users/carol/password",
		map[string]any{"currentPassword": "carol-password-2", "password": "carol-password-3"}), 204)
	mustStatus(t, e.basic(t, "carol", "carol-password-3", "GET", "/_plugins/_security/authinfo", nil), 200)
	// Without it, carol is not an administrator.
	mustStatus(t, e.basic(t, "carol", "carol-password-3", "PUT", "/api/v1/users/carol/password",
		map[string]any{"password": "carol-password-4"}), 403)
	// JWT-only users have no password here.
	mustStatus(t, e.do(t, "member", "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": "x", "password": "alice-password-1"}), 404)
	idNoSecrets(t, e.s, []string{"carol-password-1", "carol-password-2", "carol-password-3", "carol-password-4"}, "user.update")
}

// TestIdentitySurvivesRestart stops the server and starts it again on the
// same data: users, groups, memberships, passwords and tokens remain.
func TestIdentitySurvivesRestart(t *testing.T) {
	cfg := idConfig(t)
	e := startIdentityWith(t, cfg)
	e.idFixtures(t)
	r := e.basic(t, "carol", "carol-password-1", "POST", "/api/v1/users/carol/tokens", map[string]any{"name": "keep", "max_age": "P7D"})
	mustStatus(t, r, 201)
	keep := r.JSON(t)["token"].(string)
	r = e.basic(t, "carol", "carol-password-1", "POST", "/api/v1/users/carol/tokens", map[string]any{"name": "drop"})
	mustStatus(t, r, 201)
	drop := r.JSON(t)
	mustStatus(t, e.basic(t, "carol", "carol-password-1", "DELETE", "/api/v1/users/carol/tokens/"+drop["id"].(string), nil), 204)
	mustStatus(t, e.bearer(t, keep, "GET", "/_plugins/_security/authinfo", nil), 200)
	e.s.Stop()

	s2 := testserver.StartWith(t, cfg, instance.Options{Clock: e.clock.Now})
	e2 := &idEnv{s: s2, clock: e.clock, tokens: e.tokens}
	mustStatus(t, e2.bearer(t, keep, "GET", "/_plugins/_security/authinfo", nil), 200)
	mustStatus(t, e2.bearer(t, drop["token"].(string), "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e2.basic(t, "carol", "carol-password-1", "GET", "/_plugins/_security/authinfo", nil), 200)
	mustStatus(t, e2.basic(t, "root", idRootPassword, "GET", "/api/v1/users", nil), 200)
	r = e2.do(t, "super", "GET", "/api/v1/groups/ops/members", nil)
	mustStatus(t, r, 200)
	if got := idNames(idList(t, r)); !slices.Equal(got, []string{"carol"}) {
		t.Errorf("ops members after restart = %v", got)
	}
	r = e2.basic(t, "carol", "carol-password-1", "GET", "/api/v1/users/carol/tokens", nil)
	if list := idList(t, r); len(list) != 1 || list[0]["name"] != "keep" || list[0]["lastUsed"] == nil {
		t.Errorf("tokens after restart: %s", r.Body)
	}
	mustStatus(t, e2.do(t, "tadmin", "GET", "/api/v1/service-accounts/acme-bot", nil), 200)
}

// TestPasswordChangeEndsWebSessions: a new password (an administrator's
// reset or the user's own change) revokes the sessions signed in with the
// old one; the user's other API tokens stay.
func TestPasswordChangeEndsWebSessions(t *testing.T) {
	e := startIdentity(t)
	e.idFixtures(t)
	login := func(pw string) string {
		t.Helper()
		r := e.s.Do(t, "POST", "/auth/login", "", "", map[string]any{"username": "carol", "password": pw})
		mustStatus(t, r, 200)
		return r.JSON(t)["token"].(string)
	}
	session := login("carol-password-1")
	r := e.basic(t, "carol", "carol-password-1", "POST", "/api/v1/users/carol/tokens", map[string]any{"name": "ci", "max_age": "1h"})
	mustStatus(t, r, 201)
	apiTok := r.JSON(t)["token"].(string)

	// The user's own change, through the account API.
	mustStatus(t, e.bearer(t, session, "PUT", "/_plugins/_security/api/account",
		map[string]any{"current_password": "carol-password-1", "password": "carol-password-2"}), 200)
	mustStatus(t, e.bearer(t, session, "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.bearer(t, apiTok, "GET", "/_plugins/_security/authinfo", nil), 200)

	// An administrator's reset.
	session = login("carol-password-2")
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol/password", map[string]any{"password": "carol-password-3"}), 204)
	mustStatus(t, e.bearer(t, session, "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.bearer(t, apiTok, "GET", "/_plugins/_security/authinfo", nil), 200)

	// A new password in a full update (PUT /api/v1/users/{id}).
	session = login("carol-password-3")
	r = e.do(t, "super", "GET", "/api/v1/users/carol", nil)
	mustStatus(t, r, 200)
	u := r.JSON(t)
	u["password"] = "carol-password-4"
	mustStatus(t, e.do(t, "super", "PUT", "/api/v1/users/carol", u), 200)
	mustStatus(t, e.bearer(t, session, "GET", "/_plugins/_security/authinfo", nil), 401)
	mustStatus(t, e.bearer(t, apiTok, "GET", "/_plugins/_security/authinfo", nil), 200)
}

// TestDeletedTenantServiceAccountsWait: while a tenant is soft-deleted,
// its admins (who still administer another, live tenant) cannot read,
// change, delete or mint tokens for its service accounts, so a restore
// brings them back as they were.
func TestDeletedTenantServiceAccountsWait(t *testing.T) {
	s := testserver.Start(t, func(c *config.Config) { c.Auth.Passwords.BcryptCost = 4 })
	su, dave := testserver.Token(t, "admin"), testserver.Token(t, "dave")
	for _, id := range []string{"t-live", "t-gone"} {
		mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", map[string]any{"id": id, "adminUsername": "dave"}), 201)
	}
	mustStatus(t, s.Do(t, "POST", "/api/v1/service-accounts", dave, "", map[string]any{"name": "gone-bot", "tenant": "t-gone"}), 201)
	r := s.Do(t, "POST", "/api/v1/service-accounts/gone-bot/tokens", dave, "", map[string]any{"name": "ci", "max_age": "1h"})
	mustStatus(t, r, 201)
	tokID := r.JSON(t)["id"].(string)
	mustStatus(t, s.Do(t, "DELETE", "/api/v1/tenants/t-gone", su, "", nil), 200)

	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/service-accounts/gone-bot"},
		{"DELETE", "/api/v1/service-accounts/gone-bot"},
		{"GET", "/api/v1/service-accounts/gone-bot/tokens"},
		{"POST", "/api/v1/service-accounts/gone-bot/tokens"},
		{"DELETE", "/api/v1/service-accounts/gone-bot/tokens/" + tokID},
	} {
		var body any
		if c.method == "POST" {
			body = map[string]any{"name": "x", "max_age": "1h"}
		}
		if r := s.Do(t, c.method, c.path, dave, "", body); r.Status < 400 {
			t.Errorf("%s %s by the deleted tenant's admin: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/t-gone/restore", su, "", nil), 200)
	r = s.Do(t, "GET", "/api/v1/service-accounts/gone-bot/tokens", dave, "", nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), tokID) {
		t.Errorf("the service account's token after the restore: %s", r.Body)
	}
}
