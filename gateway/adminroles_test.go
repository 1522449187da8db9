package gateway_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// Extra security entries of the roles and audit tests, added to a copy of
// config/security:
//   - rita manages roles and role mappings (restapi:admin/roles,
//     restapi:admin/rolesmapping) but is no superadmin;
//   - audrey reads the whole audit trail (restapi:admin/audit);
//   - secret_ops is a hidden role (and mapping) only superadmins see.
//
// The tests add, through the API: tenant "stage" administered by dave, in
// which mia is a plain member (role member@stage), and tenant "other"
// administered by owen. olga has no role at all.
const (
	rmExtraRoles = `
roles_admin:
  description: "Manages roles and role mappings"
  cluster_permissions: ["restapi:admin/roles", "restapi:admin/rolesmapping"]
auditor:
  description: "Reads the audit trail of every tenant"
  cluster_permissions: ["restapi:admin/audit"]
secret_ops:
  hidden: true
  description: "Hidden from everyone but superadmins"
  tenant_permissions:
    - tenant_patterns: ["analysts"]
      allowed_actions: ["kibana_all_read"]
`
	rmExtraMappings = `
roles_admin:
  users: ["rita"]
auditor:
  users: ["audrey"]
secret_ops:
  hidden: true
  users: ["sam"]
`
	rmAPI = "/_plugins/_security/api"
)

// rmEnv is a server over the extended security files with a settable
// clock and the two tenants of the roles tests.
type rmEnv struct {
	s   *testserver.Server
	cfg config.Config
	clk *testserver.Clock
	tok map[string]string
}

// rmCallers are the callers of the roles tests by name, each with their
// JWT backend roles.
var rmCallers = map[string][]string{
	"super": nil, "rita": nil, "audrey": nil, "dave": nil, "owen": nil, "mia": nil, "olga": nil,
	"alice": {"analyst"},
}

func rmSecurityCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testserver.RepoRoot(), "config", "security")
	dst := t.TempDir()
	extra := map[string]string{"roles.yml": rmExtraRoles, "roles_mapping.yml": rmExtraMappings}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, extra[e.Name()]...)
		if err := os.WriteFile(filepath.Join(dst, e.Name()), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// startRoles starts the server and creates the tenants stage (dave) and
// other (owen), with member@stage mapping mia and member@other. hooks
// may change the configuration and the instance options.
func startRoles(t *testing.T, hooks ...func(*config.Config, *instance.Options)) *rmEnv {
	t.Helper()
	cfg := testserver.Config(t.TempDir())
	cfg.SecurityDir = rmSecurityCopy(t)
	cfg.Auth.Passwords.BcryptCost = 4
	clk := testserver.NewClock(time.Now())
	opts := instance.Options{Clock: clk.Now}
	for _, h := range hooks {
		h(&cfg, &opts)
	}
	e := &rmEnv{s: testserver.StartWith(t, cfg, opts), cfg: cfg, clk: clk, tok: map[string]string{}}
	for name, roles := range rmCallers {
		sub := name
		if name == "super" {
			sub = "admin"
		}
		e.tok[name] = testserver.Token(t, sub, roles...)
	}
	for id, adm := range map[string]string{"stage": "dave", "other": "owen"} {
		mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants", map[string]any{"id": id, "adminUsername": adm}), 201)
	}
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/member@stage", rmRole("stage", "kibana_all_write", "members")), 201)
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/rolesmapping/member@stage", rmUsers("mia")), 201)
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/member@other", rmRole("other", "kibana_all_write", "members")), 201)
	return e
}

// restart stops the server and starts another on the same data.
func (e *rmEnv) restart(t *testing.T) {
	t.Helper()
	e.s.Stop()
	e.s = testserver.StartWith(t, e.cfg, instance.Options{Clock: e.clk.Now})
}

// do sends a request as caller who ("" for none).
func (e *rmEnv) do(t *testing.T, who, method, path string, body any) *testserver.Response {
	t.Helper()
	return e.s.Do(t, method, path, e.tok[who], "", body)
}

// rmRole is a role granting action on tenant.
func rmRole(tenant, action, desc string) map[string]any {
	return map[string]any{"description": desc, "tenant_permissions": []any{
		map[string]any{"tenant_patterns": []string{tenant}, "allowed_actions": []string{action}}}}
}

// rmUsers is a role mapping of users.
func rmUsers(users ...string) map[string]any { return map[string]any{"users": users} }

// rmKeys returns the sorted keys of a GET answer.
func rmKeys(t *testing.T, r *testserver.Response) []string {
	t.Helper()
	mustStatus(t, r, 200)
	return rmSortedKeys(r.JSON(t))
}

func rmSortedKeys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestRolesPermissionMatrix runs every roles and rolesmapping route as a
// superadmin, a roles admin, a tenant admin, a plain member and an
// outsider.
func TestRolesPermissionMatrix(t *testing.T) {
	e := startRoles(t)
	callers := []string{"super", "rita", "dave", "mia", "olga"}
	for _, c := range callers {
		for _, n := range []string{"d-" + c + "@stage", "md-" + c + "@stage", "pm-" + c + "@stage", "pd-" + c + "@stage"} {
			mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/"+n, rmRole("stage", "kibana_all_read", "to delete")), 201)
		}
		mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/rolesmapping/md-"+c+"@stage", rmUsers("mia")), 201)
	}
	type want map[string]int
	all := func(ok int) want { return want{"super": ok, "rita": ok, "dave": ok, "mia": 403, "olga": 403} }
	cluster := func(ok int) want { return want{"super": ok, "rita": ok, "dave": 403, "mia": 403, "olga": 403} }
	cases := []struct {
		name, method, path string
		body               any
		want               want
	}{
		{"list roles", "GET", "/roles", nil, all(200)},
		{"list roles (opendistro)", "GET", "/_opendistro/_security/api/roles", nil, all(200)},
		{"get tenant role", "GET", "/roles/member@stage", nil, all(200)},
		{"get tenant admin role", "GET", "/roles/admin@stage", nil, all(200)},
		{"get instance role", "GET", "/roles/analyst", nil, cluster(200)},
		{"get other tenant's role", "GET", "/roles/member@other", nil, cluster(200)},
		{"create tenant role", "PUT", "/roles/c-{c}@stage", rmRole("stage", "kibana_all_read", "new"), all(201)},
		{"update tenant role", "PUT", "/roles/member@stage", rmRole("stage", "kibana_all_write", "by {c}"), all(200)},
		{"create tenant role (opendistro)", "PUT", "/_opendistro/_security/api/roles/o-{c}@stage", rmRole("stage", "kibana_all_read", "new"), all(201)},
		{"create instance role", "PUT", "/roles/c-{c}", rmRole("analysts", "kibana_all_read", "new"), cluster(201)},
		{"create other tenant's role", "PUT", "/roles/c-{c}@other", rmRole("other", "kibana_all_read", "new"), cluster(201)},
		{"delete tenant role", "DELETE", "/roles/d-{c}@stage", nil, all(200)},
		{"patch roles", "PATCH", "/roles", []any{map[string]any{"op": "add", "path": "/p-{c}@stage", "value": rmRole("stage", "kibana_all_read", "patched")}}, all(200)},
		{"patch one role", "PATCH", "/roles/member@stage", []any{map[string]any{"op": "replace", "path": "/description", "value": "patched by {c}"}}, all(200)},
		{"patch removes a role", "PATCH", "/roles", []any{map[string]any{"op": "remove", "path": "/pd-{c}@stage"}}, want{"super": 200, "rita": 200, "dave": 200, "mia": 403, "olga": 403}},
		{"list mappings", "GET", "/rolesmapping", nil, all(200)},
		{"get tenant mapping", "GET", "/rolesmapping/member@stage", nil, all(200)},
		{"get tenant admin mapping", "GET", "/rolesmapping/admin@stage", nil, all(200)},
		{"get instance mapping", "GET", "/rolesmapping/analyst", nil, cluster(200)},
		{"update tenant mapping", "PUT", "/rolesmapping/member@stage", rmUsers("mia", "{c}-friend"), all(200)},
		{"create tenant mapping", "PUT", "/rolesmapping/c-{c}@stage", rmUsers("mia"), all(201)},
		{"create instance mapping", "PUT", "/rolesmapping/c-{c}", rmUsers("mia"), cluster(201)},
		{"delete tenant mapping", "DELETE", "/rolesmapping/md-{c}@stage", nil, all(200)},
		{"patch mappings", "PATCH", "/rolesmapping", []any{map[string]any{"op": "add", "path": "/pm-{c}@stage", "value": rmUsers("mia")}}, all(200)},
		{"patch one mapping", "PATCH", "/rolesmapping/member@stage", []any{map[string]any{"op": "add", "path": "/backend_roles/-", "value": "{c}-team"}}, all(200)},
	}
	for _, tc := range cases {
		for _, c := range callers {
			t.Run(tc.name+"/"+c, func(t *testing.T) {
				path := tc.path
				if !strings.HasPrefix(path, "/_") {
					path = rmAPI + path
				}
				path = strings.ReplaceAll(path, "{c}", c)
				var body any
				if tc.body != nil {
					raw, err := json.Marshal(tc.body)
					if err != nil {
						t.Fatal(err)
					}
					body = strings.ReplaceAll(string(raw), "{c}", c)
				}
				r := e.do(t, c, tc.method, path, body)
				mustStatus(t, r, tc.want[c])
				if r.Status == 403 {
					if st := r.JSON(t)["status"]; st != "FORBIDDEN" {
						t.Fatalf("403 not in OpenSearch Security's shape: %s", r.Body)
					}
				}
			})
		}
	}
	t.Run("tenant admin lists only their tenant", func(t *testing.T) {
		for _, kind := range []string{"roles", "rolesmapping"} {
			keys := rmKeys(t, e.do(t, "dave", "GET", rmAPI+"/"+kind, nil))
			if !slices.Contains(keys, "admin@stage") || !slices.Contains(keys, "member@stage") {
				t.Fatalf("dave's %s lack stage's: %v", kind, keys)
			}
			for _, k := range keys {
				if !strings.HasSuffix(k, "@stage") {
					t.Fatalf("dave's %s show %q, not stage's: %v", kind, k, keys)
				}
			}
		}
	})
	t.Run("deletions happened", func(t *testing.T) {
		for _, c := range []string{"super", "rita", "dave"} {
			mustStatus(t, e.do(t, "super", "GET", rmAPI+"/roles/d-"+c+"@stage", nil), 404)
			mustStatus(t, e.do(t, "super", "GET", rmAPI+"/roles/pd-"+c+"@stage", nil), 404)
			mustStatus(t, e.do(t, "super", "GET", rmAPI+"/rolesmapping/md-"+c+"@stage", nil), 404)
		}
		for _, c := range []string{"mia", "olga"} {
			mustStatus(t, e.do(t, "super", "GET", rmAPI+"/roles/d-"+c+"@stage", nil), 200)
			mustStatus(t, e.do(t, "super", "GET", rmAPI+"/rolesmapping/md-"+c+"@stage", nil), 200)
		}
	})
}

// TestRolesShapesReservedHidden checks OpenSearch Security's answers, the
// reserved and hidden rules and strict input.
func TestRolesShapesReservedHidden(t *testing.T) {
	e := startRoles(t)
	for _, prefix := range []string{rmAPI, "/_opendistro/_security/api"} {
		r := e.do(t, "super", "PUT", prefix+"/roles/shape@stage", rmRole("stage", "kibana_all_read", "d"))
		mustStatus(t, r, 201)
		if got := string(r.Body); got != `{"status":"CREATED","message":"'shape@stage' created."}` {
			t.Fatalf("PUT create: %s", got)
		}
		r = e.do(t, "super", "PUT", prefix+"/roles/shape@stage", rmRole("stage", "kibana_all_read", "d2"))
		mustStatus(t, r, 200)
		if got := string(r.Body); got != `{"status":"OK","message":"'shape@stage' updated."}` {
			t.Fatalf("PUT update: %s", got)
		}
		r = e.do(t, "super", "PATCH", prefix+"/roles/shape@stage", `[{"op":"replace","path":"/description","value":"d3"}]`)
		if got := string(r.Body); r.Status != 200 || got != `{"status":"OK","message":"Resource updated."}` {
			t.Fatalf("PATCH: %d %s", r.Status, got)
		}
		r = e.do(t, "super", "GET", prefix+"/roles/shape@stage", nil)
		mustStatus(t, r, 200)
		var got map[string]map[string]any
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		role := got["shape@stage"]
		for k, v := range map[string]any{"description": "d3", "tenant": "stage", "reserved": false, "hidden": false, "static": false} {
			if role[k] != v {
				t.Fatalf("GET role %s = %v, want %v: %s", k, role[k], v, r.Body)
			}
		}
		for _, k := range []string{"cluster_permissions", "index_permissions", "tenant_permissions"} {
			if _, ok := role[k].([]any); !ok {
				t.Fatalf("GET role %s is not a list: %s", k, r.Body)
			}
		}
		r = e.do(t, "super", "DELETE", prefix+"/roles/shape@stage", nil)
		if got := string(r.Body); r.Status != 200 || got != `{"status":"OK","message":"'shape@stage' deleted."}` {
			t.Fatalf("DELETE: %d %s", r.Status, got)
		}
		for _, path := range []string{"/roles/shape@stage", "/rolesmapping/shape@stage"} {
			r = e.do(t, "super", "GET", prefix+path, nil)
			if got := string(r.Body); r.Status != 404 || got != `{"status":"NOT_FOUND","message":"Resource 'shape@stage' not found."}` {
				t.Fatalf("GET %s after delete: %d %s", path, r.Status, got)
			}
		}
		mustMessage(t, e.do(t, "super", "DELETE", prefix+"/roles/shape@stage", nil), 404, `"NOT_FOUND"`, "Resource 'shape@stage' not found.")
	}

	t.Run("mapping shape", func(t *testing.T) {
		r := e.do(t, "super", "GET", rmAPI+"/rolesmapping/all_access", nil)
		mustStatus(t, r, 200)
		m := r.JSON(t)["all_access"].(map[string]any)
		if m["reserved"] != true || !slices.Contains(m["users"].([]any), any("admin")) {
			t.Fatalf("all_access mapping: %s", r.Body)
		}
		for _, k := range []string{"users", "backend_roles", "and_backend_roles", "hosts", "groups"} {
			if _, ok := m[k].([]any); !ok {
				t.Fatalf("mapping %s is not a list: %s", k, r.Body)
			}
		}
		r = e.do(t, "super", "GET", rmAPI+"/roles/all_access", nil)
		mustStatus(t, r, 200)
		role := r.JSON(t)["all_access"].(map[string]any)
		if role["reserved"] != true || role["static"] != true {
			t.Fatalf("all_access role: %s", r.Body)
		}
	})

	reservedCases := []struct {
		name, who, method, path string
		body                    any
	}{
		{"put all_access", "super", "PUT", "/roles/all_access", rmRole("stage", "kibana_all_read", "mine")},
		{"delete all_access", "super", "DELETE", "/roles/all_access", nil},
		{"put file role", "super", "PUT", "/roles/analyst", rmRole("analysts", "kibana_all_read", "mine")},
		{"delete file role", "rita", "DELETE", "/roles/exec_reader", nil},
		{"patch file role", "super", "PATCH", "/roles/analyst", `[{"op":"replace","path":"/description","value":"x"}]`},
		{"put file mapping", "super", "PUT", "/rolesmapping/analyst", rmUsers("olga")},
		{"put all_access mapping", "super", "PUT", "/rolesmapping/all_access", rmUsers("olga")},
		{"delete file mapping", "rita", "DELETE", "/rolesmapping/exec_reader", nil},
	}
	for _, tc := range reservedCases {
		t.Run("reserved/"+tc.name, func(t *testing.T) {
			name := tc.path[strings.LastIndexByte(tc.path, '/')+1:]
			r := e.do(t, tc.who, tc.method, rmAPI+tc.path, tc.body)
			if got := string(r.Body); r.Status != 403 || got != `{"status":"FORBIDDEN","message":"Resource '`+name+`' is reserved."}` {
				t.Fatalf("%d %s", r.Status, got)
			}
		})
	}
	t.Run("reserved unchanged", func(t *testing.T) {
		r := e.do(t, "super", "GET", rmAPI+"/rolesmapping/analyst", nil)
		mustStatus(t, r, 200)
		if strings.Contains(string(r.Body), "olga") {
			t.Fatalf("reserved mapping changed: %s", r.Body)
		}
		r = e.do(t, "super", "GET", rmAPI+"/roles/analyst", nil)
		if strings.Contains(string(r.Body), `"mine"`) || strings.Contains(string(r.Body), `"x"`) {
			t.Fatalf("reserved role changed: %s", r.Body)
		}
	})

	t.Run("hidden", func(t *testing.T) {
		for _, kind := range []string{"roles", "rolesmapping"} {
			r := e.do(t, "super", "GET", rmAPI+"/"+kind+"/secret_ops", nil)
			mustStatus(t, r, 200)
			if get(t, r.JSON(t), "secret_ops.hidden") != true {
				t.Fatalf("superadmin's secret_ops: %s", r.Body)
			}
			if !slices.Contains(rmKeys(t, e.do(t, "super", "GET", rmAPI+"/"+kind, nil)), "secret_ops") {
				t.Fatalf("superadmin's %s list lacks secret_ops", kind)
			}
			r = e.do(t, "rita", "GET", rmAPI+"/"+kind+"/secret_ops", nil)
			if got := string(r.Body); r.Status != 404 || got != `{"status":"NOT_FOUND","message":"Resource 'secret_ops' not found."}` {
				t.Fatalf("rita's GET %s/secret_ops: %d %s", kind, r.Status, got)
			}
			if slices.Contains(rmKeys(t, e.do(t, "rita", "GET", rmAPI+"/"+kind, nil)), "secret_ops") {
				t.Fatalf("rita's %s list shows secret_ops", kind)
			}
			mustStatus(t, e.do(t, "rita", "DELETE", rmAPI+"/"+kind+"/secret_ops", nil), 404)
		}
		mustStatus(t, e.do(t, "rita", "PUT", rmAPI+"/roles/secret_ops", rmRole("analysts", "kibana_all_read", "x")), 404)
		mustStatus(t, e.do(t, "rita", "PATCH", rmAPI+"/roles", `[{"op":"add","path":"/secret_ops","value":{}}]`), 404)
		// A hidden role is not there to be mapped, for those who cannot see it.
		mustMessage(t, e.do(t, "rita", "PUT", rmAPI+"/rolesmapping/secret_ops", rmUsers("rita")), 404, "secret_ops")
	})

	badCases := []struct {
		name, path string
		body       any
		parts      []string
	}{
		{"unknown field", "/roles/bad@stage", `{"description":"x","cluster_permission":[]}`, []string{`"BAD_REQUEST"`, "cluster_permission"}},
		{"no body", "/roles/bad@stage", nil, []string{"body"}},
		{"trailing data", "/roles/bad@stage", `{"description":"x"} {}`, []string{"after the JSON"}},
		{"set reserved", "/roles/bad@stage", `{"reserved":true}`, []string{"reserved"}},
		{"set hidden", "/rolesmapping/member@stage", `{"hidden":true,"users":["x"]}`, []string{"hidden"}},
		{"unknown tenant action", "/roles/bad@stage", rmRole("stage", "kibana_all_everything", "x"), []string{"kibana_all_everything"}},
		{"unknown index action", "/roles/bad@stage", map[string]any{"index_permissions": []any{map[string]any{"index_patterns": []string{"logs"}, "allowed_actions": []string{"fly"}}}}, []string{"fly"}},
		{"dls", "/roles/bad@stage", map[string]any{"index_permissions": []any{map[string]any{"index_patterns": []string{"logs"}, "allowed_actions": []string{"read"}, "dls": `{"match_all":{}}`}}}, []string{"dls"}},
		{"tenant role naming another tenant", "/roles/bad@stage", rmRole("other", "kibana_all_read", "x"), []string{"other"}},
		{"tenant differs from name", "/roles/bad@stage", map[string]any{"tenant": "other"}, []string{"bad@stage"}},
		{"tenant that does not exist", "/roles/bad@nowhere", rmRole("nowhere", "kibana_all_read", "x"), []string{"nowhere", "does not exist"}},
		{"name with a wildcard", "/roles/bad*", rmRole("stage", "kibana_all_read", "x"), []string{"must not contain"}},
		{"hosts", "/rolesmapping/member@stage", map[string]any{"users": []string{"x"}, "hosts": []string{"10.0.0.1"}}, []string{"hosts is not supported"}},
		{"bad JSON Patch", "/roles", `{"op":"add"}`, []string{"JSON Patch"}},
	}
	for _, tc := range badCases {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			method := "PUT"
			if tc.path == "/roles" {
				method = "PATCH"
			}
			mustMessage(t, e.do(t, "super", method, rmAPI+tc.path, tc.body), 400, tc.parts...)
		})
	}
	mustStatus(t, e.do(t, "super", "GET", rmAPI+"/roles/bad@stage", nil), 404)
	r := e.do(t, "super", "GET", rmAPI+"/rolesmapping/member@stage", nil)
	if strings.Contains(string(r.Body), "10.0.0.1") || get(t, r.JSON(t), "member@stage.hidden") != false {
		t.Fatalf("a refused mapping change was stored: %s", r.Body)
	}
	mustMessage(t, e.do(t, "super", "PUT", rmAPI+"/rolesmapping/ghost", rmUsers("x")), 404, "Role 'ghost' is not available for role-mapping.")
}

// TestRolesEscalation checks that nobody grants themselves more than they
// have: tenant admins stay in their tenant, and only superadmins touch
// roles with cluster permissions or their mappings.
func TestRolesEscalation(t *testing.T) {
	e := startRoles(t)
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/ops", map[string]any{"cluster_permissions": []string{"restapi:admin/audit"}}), 201)
	cases := []struct {
		name, who, method, path string
		body                    any
		want                    int
		parts                   []string
	}{
		{"tenant admin creates a role for another tenant", "dave", "PUT", "/roles/x@other", rmRole("other", "kibana_all_write", "x"), 403, nil},
		{"tenant admin creates an instance role", "dave", "PUT", "/roles/mine", rmRole("stage", "kibana_all_write", "x"), 403, nil},
		{"tenant admin adds cluster permissions", "dave", "PUT", "/roles/x@stage", map[string]any{"cluster_permissions": []string{"restapi:admin/roles"}}, 403, []string{"superadmin"}},
		{"tenant admin grants another tenant", "dave", "PUT", "/roles/x@stage", rmRole("*", "kibana_all_write", "x"), 400, []string{"may only name"}},
		{"tenant admin maps users to all_access", "dave", "PUT", "/rolesmapping/all_access", rmUsers("dave"), 403, nil},
		{"tenant admin maps users to an instance role", "dave", "PUT", "/rolesmapping/analyst", rmUsers("dave"), 403, nil},
		{"tenant admin maps users to another tenant's role", "dave", "PUT", "/rolesmapping/member@other", rmUsers("dave"), 403, nil},
		{"tenant admin patches in all_access", "dave", "PATCH", "/rolesmapping", `[{"op":"add","path":"/all_access","value":{"users":["dave"]}}]`, 403, nil},
		{"tenant admin changes the Admin role", "dave", "PUT", "/roles/admin@stage", rmRole("stage", "tenant_admin", "x"), 403, []string{"superadmin"}},
		{"tenant admin deletes the Admin role", "dave", "DELETE", "/roles/admin@stage", nil, 403, []string{"superadmin"}},
		{"roles admin creates a cluster role", "rita", "PUT", "/roles/ops2", map[string]any{"cluster_permissions": []string{"*"}}, 403, []string{"superadmin"}},
		{"roles admin changes a cluster role", "rita", "PUT", "/roles/ops", map[string]any{"cluster_permissions": []string{"*"}}, 403, []string{"superadmin"}},
		{"roles admin drops cluster permissions", "rita", "PUT", "/roles/ops", map[string]any{"description": "harmless now"}, 403, []string{"superadmin"}},
		{"roles admin deletes a cluster role", "rita", "DELETE", "/roles/ops", nil, 403, []string{"superadmin"}},
		{"roles admin maps a cluster role", "rita", "PUT", "/rolesmapping/ops", rmUsers("rita"), 403, []string{"superadmin"}},
		{"roles admin patches a cluster role's mapping", "rita", "PATCH", "/rolesmapping", `[{"op":"add","path":"/ops","value":{"users":["rita"]}}]`, 403, []string{"superadmin"}},
		{"roles admin maps all_access", "rita", "PATCH", "/rolesmapping/all_access", `[{"op":"add","path":"/users/-","value":"rita"}]`, 403, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustMessage(t, e.do(t, tc.who, tc.method, rmAPI+tc.path, tc.body), tc.want, tc.parts...)
		})
	}
	t.Run("nothing was granted", func(t *testing.T) {
		for _, who := range []string{"dave", "rita"} {
			mustStatus(t, e.do(t, who, "GET", "/api/v1/audit", nil), 403)
			mustStatus(t, e.do(t, who, "GET", "/api/v1/other/audit", nil), 403)
		}
		for _, name := range []string{"ops", "all_access"} {
			r := e.do(t, "super", "GET", rmAPI+"/rolesmapping/"+name, nil)
			if strings.Contains(string(r.Body), "rita") || strings.Contains(string(r.Body), "dave") {
				t.Fatalf("mapping %s changed: %s", name, r.Body)
			}
		}
	})
	t.Run("superadmin maps a cluster role", func(t *testing.T) {
		mustStatus(t, e.do(t, "olga", "GET", "/api/v1/audit", nil), 403)
		mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/rolesmapping/ops", rmUsers("olga")), 201)
		mustStatus(t, e.do(t, "olga", "GET", "/api/v1/audit", nil), 200)
	})
	t.Run("tenant admin grants admin through the mapping", func(t *testing.T) {
		mustStatus(t, e.do(t, "mia", "PUT", rmAPI+"/roles/y@stage", rmRole("stage", "kibana_all_read", "y")), 403)
		r := e.do(t, "dave", "PATCH", rmAPI+"/rolesmapping/admin@stage", `[{"op":"add","path":"/users/-","value":"mia"}]`)
		mustStatus(t, r, 200)
		mustStatus(t, e.do(t, "mia", "PUT", rmAPI+"/roles/y@stage", rmRole("stage", "kibana_all_read", "y")), 201)
		mustStatus(t, e.do(t, "mia", "GET", "/api/v1/stage/audit", nil), 200)
		mustStatus(t, e.do(t, "mia", "PUT", rmAPI+"/roles/y@other", rmRole("other", "kibana_all_read", "y")), 403)
	})
	t.Run("superadmin changes the Admin role", func(t *testing.T) {
		r := e.do(t, "super", "GET", rmAPI+"/roles/admin@stage", nil)
		mustStatus(t, r, 200)
		role := r.JSON(t)["admin@stage"].(map[string]any)
		role["description"] = "Stage administrators"
		mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/admin@stage", role), 200)
	})
}

// TestRoleChangeTakesEffect checks that the next request sees a role
// change, without a restart.
func TestRoleChangeTakesEffect(t *testing.T) {
	e := startRoles(t)
	write := func() int {
		return e.s.Do(t, "PUT", "/notes/_doc/1", e.tok["alice"], "stage", map[string]any{"text": "hello"}).Status
	}
	if got := write(); got != 403 {
		t.Fatalf("alice writes in stage before any grant: %d", got)
	}
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/roles/writer@stage", rmRole("stage", "kibana_all_write", "writers")), 201)
	if got := write(); got != 403 {
		t.Fatalf("alice writes in stage with an unmapped role: %d", got)
	}
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/rolesmapping/writer@stage", map[string]any{"backend_roles": []string{"analyst"}}), 201)
	if got := write(); got/100 != 2 {
		t.Fatalf("alice's write in stage after the grant: %d", got)
	}
	mustStatus(t, e.do(t, "dave", "DELETE", rmAPI+"/roles/writer@stage", nil), 200)
	mustStatus(t, e.do(t, "dave", "GET", rmAPI+"/rolesmapping/writer@stage", nil), 404)
	if got := write(); got != 403 {
		t.Fatalf("alice writes in stage after the role was deleted: %d", got)
	}
	// The role and its mapping in one PATCH each, then a PATCH removing
	// the role takes the grant away again.
	mustStatus(t, e.do(t, "dave", "PATCH", rmAPI+"/roles", []any{map[string]any{"op": "add", "path": "/writer@stage", "value": rmRole("stage", "kibana_all_write", "writers")}}), 200)
	mustStatus(t, e.do(t, "dave", "PATCH", rmAPI+"/rolesmapping", []any{map[string]any{"op": "add", "path": "/writer@stage", "value": rmUsers("alice")}}), 200)
	if got := write(); got/100 != 2 {
		t.Fatalf("alice's write in stage after the patched grant: %d", got)
	}
	mustStatus(t, e.do(t, "dave", "PATCH", rmAPI+"/roles", `[{"op":"remove","path":"/writer@stage"}]`), 200)
	if got := write(); got != 403 {
		t.Fatalf("alice writes in stage after the patched removal: %d", got)
	}
}

// TestRolesPatchAtomic checks that a PATCH with one bad operation changes
// nothing.
func TestRolesPatchAtomic(t *testing.T) {
	e := startRoles(t)
	snapshot := func() string {
		r := e.do(t, "super", "GET", rmAPI+"/roles", nil)
		mustStatus(t, r, 200)
		m := e.do(t, "super", "GET", rmAPI+"/rolesmapping", nil)
		mustStatus(t, m, 200)
		return string(r.Body) + string(m.Body)
	}
	before := snapshot()
	good := `{"op":"add","path":"/new@stage","value":{"tenant_permissions":[{"tenant_patterns":["stage"],"allowed_actions":["kibana_all_read"]}]}}`
	change := `{"op":"replace","path":"/member@stage/description","value":"changed"}`
	drop := `{"op":"remove","path":"/member@other"}`
	cases := []struct {
		name, who, path, patch string
		want                   int
	}{
		{"missing path", "super", "/roles", "[" + good + "," + change + `,{"op":"remove","path":"/nope"}]`, 400},
		{"failed test op", "super", "/roles", "[" + good + "," + change + `,{"op":"test","path":"/member@stage/description","value":"wrong"}]`, 400},
		{"reserved role", "super", "/roles", "[" + good + "," + drop + `,{"op":"replace","path":"/analyst/description","value":"x"}]`, 403},
		{"invalid role", "super", "/roles", "[" + good + "," + change + `,{"op":"add","path":"/bad@stage","value":{"tenant_permissions":[{"tenant_patterns":["stage"],"allowed_actions":["nope"]}]}}]`, 400},
		{"unknown field", "super", "/roles", "[" + good + "," + change + `,{"op":"add","path":"/member@stage/colour","value":"red"}]`, 400},
		{"change a flag", "super", "/roles", "[" + good + "," + change + `,{"op":"replace","path":"/member@stage/hidden","value":true}]`, 400},
		{"another tenant's role", "dave", "/roles", "[" + good + "," + change + `,{"op":"add","path":"/x@other","value":{}}]`, 403},
		{"mapping of a missing role", "super", "/rolesmapping", `[{"op":"add","path":"/member@other","value":{"users":["x"]}},{"op":"add","path":"/ghost","value":{"users":["x"]}}]`, 404},
		{"mapping with hosts", "super", "/rolesmapping", `[{"op":"add","path":"/member@other","value":{"users":["x"]}},{"op":"add","path":"/member@stage/hosts/-","value":"h"}]`, 400},
		{"not an object", "super", "/roles", `[{"op":"replace","path":"","value":[]}]`, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mustStatus(t, e.do(t, tc.who, "PATCH", rmAPI+tc.path, tc.patch), tc.want)
			if after := snapshot(); after != before {
				t.Fatalf("a refused PATCH changed roles or mappings:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	t.Run("good patch applies whole", func(t *testing.T) {
		mustStatus(t, e.do(t, "super", "PATCH", rmAPI+"/roles", "["+good+","+change+","+drop+"]"), 200)
		keys := rmKeys(t, e.do(t, "super", "GET", rmAPI+"/roles", nil))
		if !slices.Contains(keys, "new@stage") || slices.Contains(keys, "member@other") {
			t.Fatalf("roles after the patch: %v", keys)
		}
		r := e.do(t, "super", "GET", rmAPI+"/roles/member@stage", nil)
		if get(t, r.JSON(t), "member@stage.description") != "changed" {
			t.Fatalf("member@stage after the patch: %s", r.Body)
		}
		r = e.do(t, "super", "GET", rmAPI+"/roles/new@stage", nil)
		if get(t, r.JSON(t), "new@stage.tenant") != "stage" {
			t.Fatalf("new@stage after the patch: %s", r.Body)
		}
	})
	t.Run("removing a role removes its mapping", func(t *testing.T) {
		mustStatus(t, e.do(t, "super", "GET", rmAPI+"/rolesmapping/member@stage", nil), 200)
		mustStatus(t, e.do(t, "dave", "PATCH", rmAPI+"/roles/member@stage", `[{"op":"remove","path":""}]`), 200)
		mustStatus(t, e.do(t, "super", "GET", rmAPI+"/rolesmapping/member@stage", nil), 404)
	})
}

// TestRolesSurviveRestart checks that roles, mappings and audit records
// are in the store, not in memory.
func TestRolesSurviveRestart(t *testing.T) {
	e := startRoles(t)
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/roles/writer@stage", rmRole("stage", "kibana_all_write", "writers")), 201)
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/rolesmapping/writer@stage", map[string]any{"backend_roles": []string{"analyst"}}), 201)
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/roles/ops", map[string]any{"cluster_permissions": []string{"restapi:admin/audit"}}), 201)
	mustStatus(t, e.do(t, "olga", "GET", rmAPI+"/roles", nil), 403)
	auditBefore := e.do(t, "super", "GET", "/api/v1/audit?size=1000", nil)
	mustStatus(t, auditBefore, 200)

	e.restart(t)

	r := e.do(t, "super", "GET", rmAPI+"/roles/writer@stage", nil)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "writer@stage.description") != "writers" {
		t.Fatalf("writer@stage after restart: %s", r.Body)
	}
	r = e.do(t, "dave", "GET", rmAPI+"/rolesmapping/writer@stage", nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"analyst"`) {
		t.Fatalf("writer@stage mapping after restart: %s", r.Body)
	}
	mustStatus(t, e.do(t, "super", "GET", rmAPI+"/roles/ops", nil), 200)
	if got := e.s.Do(t, "PUT", "/notes/_doc/1", e.tok["alice"], "stage", map[string]any{"text": "hi"}).Status; got/100 != 2 {
		t.Fatalf("alice's grant after restart: %d", got)
	}
	var before, after struct {
		Results []map[string]any `json:"results"`
		Total   int              `json:"total"`
	}
	if err := json.Unmarshal(auditBefore.Body, &before); err != nil {
		t.Fatal(err)
	}
	r = e.do(t, "super", "GET", "/api/v1/audit?size=1000", nil)
	mustStatus(t, r, 200)
	if err := json.Unmarshal(r.Body, &after); err != nil {
		t.Fatal(err)
	}
	ids := map[any]bool{}
	for _, rec := range after.Results {
		ids[rec["id"]] = true
	}
	for _, rec := range before.Results {
		if !ids[rec["id"]] {
			t.Fatalf("audit record %v (%v %v) lost in the restart", rec["id"], rec["action"], rec["target"])
		}
	}
	if before.Total < 6 {
		t.Fatalf("too few audit records before the restart to prove anything: %d", before.Total)
	}
}

// TestRolesLockedTenant checks that a locked tenant's admins can do
// nothing with its roles, and a frozen tenant's admins only read them;
// superadmins are not held back.
func TestRolesLockedTenant(t *testing.T) {
	e := startRoles(t)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants/stage/lock", nil), 200)
	mustMessage(t, e.do(t, "dave", "GET", rmAPI+"/roles/member@stage", nil), 423, "locked")
	mustMessage(t, e.do(t, "dave", "PUT", rmAPI+"/rolesmapping/member@stage", rmUsers("x")), 423, "locked")
	mustMessage(t, e.do(t, "dave", "GET", "/api/v1/stage/audit", nil), 423, "locked")
	if keys := rmKeys(t, e.do(t, "dave", "GET", rmAPI+"/roles", nil)); len(keys) != 0 {
		t.Fatalf("a locked tenant's roles are listed: %v", keys)
	}
	mustStatus(t, e.do(t, "super", "PUT", rmAPI+"/rolesmapping/member@stage", rmUsers("mia", "x")), 200)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants/stage/unlock", nil), 200)
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants/stage/freeze", nil), 200)
	mustStatus(t, e.do(t, "dave", "GET", rmAPI+"/roles/member@stage", nil), 200)
	mustStatus(t, e.do(t, "dave", "GET", "/api/v1/stage/audit", nil), 200)
	mustMessage(t, e.do(t, "dave", "PUT", rmAPI+"/roles/member@stage", rmRole("stage", "kibana_all_read", "x")), 423, "frozen")
	mustMessage(t, e.do(t, "dave", "DELETE", rmAPI+"/rolesmapping/member@stage", nil), 423, "frozen")
	mustStatus(t, e.do(t, "super", "POST", "/api/v1/tenants/stage/unfreeze", nil), 200)
	mustStatus(t, e.do(t, "dave", "DELETE", rmAPI+"/rolesmapping/member@stage", nil), 200)
}

// rmFailingAppender refuses the audit records for which fail is true.
type rmFailingAppender struct {
	next audit.Appender
	fail func(*audit.Record) bool
}

func (f rmFailingAppender) AppendTx(tx *bbolt.Tx, r *audit.Record) error {
	if f.fail(r) {
		return errors.New("audit disk refuses writes")
	}
	return f.next.AppendTx(tx, r)
}

// TestRolesAuditFailClosed checks that with audit.fail_closed a role
// change whose audit record (or one of a patch's per-tenant records)
// cannot be written fails with 503 and changes nothing.
func TestRolesAuditFailClosed(t *testing.T) {
	var failing atomic.Pointer[func(*audit.Record) bool]
	never := func(*audit.Record) bool { return false }
	failing.Store(&never)
	e := startRoles(t, func(cfg *config.Config, o *instance.Options) {
		cfg.Audit.FailClosed = true
		o.WrapAppender = func(next audit.Appender) audit.Appender {
			return rmFailingAppender{next: next, fail: func(r *audit.Record) bool { return (*failing.Load())(r) }}
		}
	})
	snapshot := func() string {
		r := e.do(t, "super", "GET", rmAPI+"/roles", nil)
		m := e.do(t, "super", "GET", rmAPI+"/rolesmapping", nil)
		mustStatus(t, r, 200)
		mustStatus(t, m, 200)
		return string(r.Body) + string(m.Body)
	}
	before := snapshot()
	cases := []struct {
		name         string
		fail         func(*audit.Record) bool
		method, path string
		body         any
	}{
		{"put role", func(r *audit.Record) bool { return strings.HasPrefix(r.Action, "role.") }, "PUT", "/roles/x@stage", rmRole("stage", "kibana_all_read", "x")},
		{"delete role", func(r *audit.Record) bool { return r.Action == "role.delete" }, "DELETE", "/roles/member@stage", nil},
		{"put mapping", func(r *audit.Record) bool { return strings.HasPrefix(r.Action, "rolesmapping.") }, "PUT", "/rolesmapping/member@other", rmUsers("x")},
		{"patch, one tenant's record", func(r *audit.Record) bool { return r.Action == "role.patch" && r.Tenant == "other" }, "PATCH", "/roles",
			`[{"op":"add","path":"/x@stage","value":{}},{"op":"add","path":"/x@other","value":{}}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			failing.Store(&tc.fail)
			defer failing.Store(&never)
			mustMessage(t, e.do(t, "super", tc.method, rmAPI+tc.path, tc.body), 503, "fail_closed")
			if after := snapshot(); after != before {
				t.Fatalf("an unaudited change was made:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
	mustStatus(t, e.do(t, "super", "PATCH", rmAPI+"/roles", `[{"op":"add","path":"/x@stage","value":{}},{"op":"add","path":"/x@other","value":{}}]`), 200)
}
