package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	adminsvc "github.com/tenantgate/tenantgate/admin"
	tgadmin "github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// Extra security entries of the tenant administration tests, added to a
// copy of config/security:
//   - erin, and JWT users with the backend role "creator", may create
//     tenants (restapi:admin/tenants/create) and nothing else;
//   - oscar administers every tenant (restapi:admin/tenants) but is no
//     superadmin;
//   - alice (backend role analyst) writes in every "t-*" tenant, so she is a
//     plain member of the tenants the tests create;
//   - "vault" is a hidden tenant of tenants.yml that vic may read.
const (
	extraRoles = `
tenant_creator:
  description: "Creates tenants"
  cluster_permissions: ["restapi:admin/tenants/create"]
tenant_operator:
  description: "Administers every tenant"
  cluster_permissions: ["restapi:admin/tenants"]
team_writer:
  description: "Writes in the t-* tenants"
  tenant_permissions:
    - tenant_patterns: ["t-*"]
      allowed_actions: ["kibana_all_write"]
vault_reader:
  description: "Reads the hidden vault tenant"
  tenant_permissions:
    - tenant_patterns: ["vault"]
      allowed_actions: ["kibana_all_read"]
`
	extraMappings = `
tenant_creator:
  users: ["erin"]
  backend_roles: ["creator"]
tenant_operator:
  users: ["oscar"]
team_writer:
  backend_roles: ["analyst"]
vault_reader:
  users: ["vic"]
`
	extraTenants = `
vault:
  hidden: true
  description: "Hidden from everyone but superadmins"
`
)

// securityCopy copies config/security into a temporary directory and
// appends the extra roles, mappings and tenants.
func securityCopy(t *testing.T) string {
	t.Helper()
	src := filepath.Join(testserver.RepoRoot(), "config", "security")
	dst := t.TempDir()
	extra := map[string]string{"roles.yml": extraRoles, "roles_mapping.yml": extraMappings, "tenants.yml": extraTenants}
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

// adminEnv is a server over the extended security files with a settable
// clock, and a token per caller.
type adminEnv struct {
	s   *testserver.Server
	clk *testserver.Clock
	cfg config.Config
}

func adminConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testserver.Config(t.TempDir())
	cfg.SecurityDir = securityCopy(t)
	cfg.Auth.Passwords.BcryptCost = 4
	return cfg
}

func startAdmin(t *testing.T, mutate ...func(*config.Config)) *adminEnv {
	t.Helper()
	cfg := adminConfig(t)
	for _, m := range mutate {
		m(&cfg)
	}
	clk := testserver.NewClock(time.Now())
	return &adminEnv{s: testserver.StartWith(t, cfg, instance.Options{Clock: clk.Now}), clk: clk, cfg: cfg}
}

// Callers of the tenant administration tests.
var (
	superTok    = func(t *testing.T) string { return testserver.Token(t, "admin") }
	daveTok     = func(t *testing.T) string { return testserver.Token(t, "dave") }
	aliceTok    = func(t *testing.T) string { return testserver.Token(t, "alice", "analyst") }
	carolTok    = func(t *testing.T) string { return testserver.Token(t, "carol") }
	erinTok     = func(t *testing.T) string { return testserver.Token(t, "erin") }
	oscarTok    = func(t *testing.T) string { return testserver.Token(t, "oscar") }
	vicTok      = func(t *testing.T) string { return testserver.Token(t, "vic") }
	xsrf        = []string{"osd-xsrf", "true"}
	securityAPI = "/_plugins/_security/api"
)

// createTenant creates tenant id as the superadmin with dave as its
// administrator.
func (e *adminEnv) createTenant(t *testing.T, id string) {
	t.Helper()
	r := e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", map[string]any{"id": id, "name": "Tenant " + id, "adminUsername": "dave"})
	mustStatus(t, r, 201)
}

// mapping returns a role mapping from the control-plane store.
func (e *adminEnv) mapping(t *testing.T, name string) (control.RoleMapping, error) {
	t.Helper()
	var m control.RoleMapping
	err := e.s.Inst.Store.View(func(tx *control.Tx) (err error) {
		m, err = tx.Mapping(name)
		return err
	})
	return m, err
}

// role returns a role from the control-plane store.
func (e *adminEnv) role(t *testing.T, name string) (control.Role, error) {
	t.Helper()
	var r control.Role
	err := e.s.Inst.Store.View(func(tx *control.Tx) (err error) {
		r, err = tx.Role(name)
		return err
	})
	return r, err
}

// records returns the audit records matching f, after flushing the
// asynchronous ones (refusals).
func (e *adminEnv) records(t *testing.T, f audit.Filter) []audit.Record {
	t.Helper()
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Size = audit.MaxPageSize
	p, err := e.s.Inst.Trail.Query(f)
	if err != nil {
		t.Fatal(err)
	}
	return p.Results
}

// tenantIDs returns the ids of a GET /api/v1/tenants answer.
func tenantIDs(t *testing.T, r *testserver.Response) []string {
	t.Helper()
	mustStatus(t, r, 200)
	var list []map[string]any
	if err := json.Unmarshal(r.Body, &list); err != nil {
		t.Fatalf("tenant list: %v: %s", err, r.Body)
	}
	var ids []string
	for _, v := range list {
		ids = append(ids, v["id"].(string))
	}
	return ids
}

// authinfoTenants returns the tenants of the caller's authinfo.
func authinfoTenants(t *testing.T, s *testserver.Server, tok string) map[string]any {
	t.Helper()
	r := s.Do(t, "GET", "/_plugins/_security/authinfo", tok, "", nil)
	mustStatus(t, r, 200)
	return r.JSON(t)["tenants"].(map[string]any)
}

// mustMessage fails unless the answer has status want and its body holds
// every one of parts.
func mustMessage(t *testing.T, r *testserver.Response, want int, parts ...string) {
	t.Helper()
	mustStatus(t, r, want)
	for _, p := range parts {
		if !strings.Contains(string(r.Body), p) {
			t.Fatalf("status %d body lacks %q: %s", r.Status, p, r.Body)
		}
	}
}

// callers of the permission matrix, in the order of its columns.
var matrixCallers = []struct {
	name  string
	token func(*testing.T) string
}{
	{"superadmin", superTok},
	{"tenant admin", daveTok},
	{"member", aliceTok},
	{"outsider", carolTok},
}

// TestTenantPermissionMatrix calls every tenant route as a superadmin, the
// tenant's administrator (dave, mapped to admin@T), a plain member
// (alice, who writes in t-* tenants) and an outsider (carol), on a
// tenant prepared for the route and on one that does not exist.
// Outsiders must get the same answer for both.
func TestTenantPermissionMatrix(t *testing.T) {
	e := startAdmin(t)
	// dave administers t-base, so he is a tenant admin even on routes
	// without a tenant id.
	e.createTenant(t, "t-base")
	type state int
	const (
		none state = iota // the route needs no tenant, or a new id
		live
		deleted
		locked
		frozen
	)
	cases := []struct {
		name         string
		method, path string
		body         string // "{id}" is replaced by the tenant id
		state        state
		want         [4]int // superadmin, tenant admin, member, outsider
		missing      [4]int // the same on a tenant that does not exist; zero: no tenant in the route
	}{
		{"create", "POST", "/api/v1/tenants", `{"id":"{id}","name":"New"}`, none, [4]int{201, 403, 403, 403}, [4]int{}},
		{"list", "GET", "/api/v1/tenants", "", none, [4]int{200, 200, 200, 200}, [4]int{}},
		{"get", "GET", "/api/v1/tenants/{id}", "", live, [4]int{200, 200, 200, 403}, [4]int{404, 403, 403, 403}},
		{"update", "PUT", "/api/v1/tenants/{id}", `{"description":"changed"}`, live, [4]int{200, 200, 403, 403}, [4]int{404, 403, 403, 403}},
		{"delete", "DELETE", "/api/v1/tenants/{id}", "", live, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"restore", "POST", "/api/v1/tenants/{id}/restore", "", deleted, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"lock", "POST", "/api/v1/tenants/{id}/lock", "", live, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"unlock", "POST", "/api/v1/tenants/{id}/unlock", "", locked, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"freeze", "POST", "/api/v1/tenants/{id}/freeze", "", live, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"unfreeze", "POST", "/api/v1/tenants/{id}/unfreeze", "", frozen, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"purge", "POST", "/api/v1/tenants/{id}/purge", "", deleted, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"security list", "GET", securityAPI + "/tenants", "", none, [4]int{200, 200, 200, 200}, [4]int{}},
		{"security get", "GET", securityAPI + "/tenants/{id}", "", live, [4]int{200, 200, 200, 403}, [4]int{404, 403, 403, 403}},
		{"security put", "PUT", securityAPI + "/tenants/{id}", `{"description":"changed"}`, live, [4]int{200, 200, 403, 403}, [4]int{201, 403, 403, 403}},
		{"security delete", "DELETE", securityAPI + "/tenants/{id}", "", live, [4]int{200, 403, 403, 403}, [4]int{404, 403, 403, 403}},
		{"security patch", "PATCH", securityAPI + "/tenants", `[{"op":"replace","path":"/{id}/description","value":"patched"}]`, live, [4]int{200, 403, 403, 403}, [4]int{400, 403, 403, 403}},
		{"security patch one", "PATCH", securityAPI + "/tenants/{id}", `[{"op":"replace","path":"/description","value":"patched"}]`, live, [4]int{200, 403, 403, 403}, [4]int{400, 403, 403, 403}},
		{"tenancy get", "GET", securityAPI + "/tenancy/config", "", none, [4]int{200, 200, 200, 200}, [4]int{}},
		{"tenancy put", "PUT", securityAPI + "/tenancy/config", `{"preferred_tenants":["t-base"]}`, none, [4]int{200, 403, 403, 403}, [4]int{}},
	}
	su := superTok(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for j, c := range matrixCallers {
				id := fmt.Sprintf("t-%d-%d", i, j)
				if tc.state != none {
					e.createTenant(t, id)
				}
				switch tc.state {
				case deleted:
					mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/"+id, su, "", nil), 200)
				case locked:
					mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/"+id+"/lock", su, "", nil), 200)
				case frozen:
					mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/"+id+"/freeze", su, "", nil), 200)
				}
				call := func(id string) *testserver.Response {
					var body any
					if tc.body != "" {
						body = strings.ReplaceAll(tc.body, "{id}", id)
					}
					return e.s.Do(t, tc.method, strings.ReplaceAll(tc.path, "{id}", id), c.token(t), "", body)
				}
				r := call(id)
				if r.Status != tc.want[j] {
					t.Errorf("%s: status %d, want %d: %s", c.name, r.Status, tc.want[j], r.Body)
				}
				if tc.missing[j] == 0 {
					continue
				}
				gone := fmt.Sprintf("t-missing-%d-%d", i, j)
				m := call(gone)
				if m.Status != tc.missing[j] {
					t.Errorf("%s on a missing tenant: status %d, want %d: %s", c.name, m.Status, tc.missing[j], m.Body)
				}
				if c.name == "outsider" && strings.ReplaceAll(string(m.Body), gone, id) != string(r.Body) {
					t.Errorf("an outsider tells an existing tenant from a missing one:\n%s\n%s", r.Body, m.Body)
				}
			}
		})
	}
}

// TestCreatorBecomesTenantAdmin checks Kestra's rule: a creator who is not
// a superadmin is mapped to the new tenant's Admin role in the same
// transaction; a superadmin creator is not, and assigns it explicitly.
// The policy sees the mapping at once: the very next request writes.
func TestCreatorBecomesTenantAdmin(t *testing.T) {
	e := startAdmin(t)
	erin, dave := erinTok(t), daveTok(t)

	// erin holds restapi:admin/tenants/create only: she cannot write in
	// a tenant that does not exist yet, creates it, and writes there
	// with her very next request (no restart, no sleep).
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", erin, "", `{"id":"erins","name":"Erin's"}`), 201)
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", erin, "erins", `{"by":"erin"}`), 201)
	m, err := e.mapping(t, tgadmin.AdminRoleName("erins"))
	if err != nil || !slices.Equal(m.Users, []string{"erin"}) {
		t.Fatalf("admin@erins mapping: %+v %v", m.Users, err)
	}
	// A tenant admin updates her tenant but does not delete it
	// (restapi:admin/tenants), nor create another as someone else.
	mustStatus(t, e.s.Do(t, "PUT", "/api/v1/tenants/erins", erin, "", `{"description":"mine"}`), 200)
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/erins", erin, "", nil), 403)
	// adminUsername beside a non-superadmin creator: both are mapped.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", erin, "", `{"id":"shared","adminUsername":"dave"}`), 201)
	if m, err := e.mapping(t, tgadmin.AdminRoleName("shared")); err != nil || !slices.Equal(m.Users, []string{"erin", "dave"}) {
		t.Fatalf("admin@shared mapping: %+v %v", m.Users, err)
	}

	// The superadmin creator is not mapped: admin@stage lists only
	// adminUsername, and dave writes there with his very next request.
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", dave, "stage", `{"by":"dave"}`), 403)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", `{"id":"stage","name":"Staging","adminUsername":"dave"}`), 201)
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", dave, "stage", `{"by":"dave"}`), 201)
	if m, err := e.mapping(t, tgadmin.AdminRoleName("stage")); err != nil || !slices.Equal(m.Users, []string{"dave"}) {
		t.Fatalf("admin@stage mapping: %+v %v", m.Users, err)
	}
	if got := authinfoTenants(t, e.s, dave); got["stage"] != true {
		t.Fatalf("dave's authinfo lacks stage: %v", got)
	}
	// Without adminUsername nobody is mapped.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", `{"id":"orphan"}`), 201)
	if m, err := e.mapping(t, tgadmin.AdminRoleName("orphan")); err != nil || len(m.Users) != 0 {
		t.Fatalf("admin@orphan mapping: %+v %v", m.Users, err)
	}
	// The Admin role is scoped to its tenant.
	r, err := e.role(t, tgadmin.AdminRoleName("stage"))
	if err != nil || r.Tenant != "stage" {
		t.Fatalf("admin@stage role: %+v %v", r, err)
	}
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", dave, "erins", `{"by":"dave"}`), 403)

	// Bad input is a 400 and creates nothing.
	for _, body := range []string{`{"id":"Bad Id"}`, `{"id":""}`, `{"id":"tenants"}`, `{"id":"ok","unknown":1}`, `{"id":"ok2","adminUsername":"a/b"}`} {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", body), 400)
	}
	mustStatus(t, e.s.Do(t, "GET", "/api/v1/tenants/ok", superTok(t), "", nil), 404)
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", `{"id":"stage"}`), 409, "already exists")
}

// TestReservedAndHiddenTenants checks that tenants of tenants.yml are
// reserved and that a hidden one is invisible to all but superadmins.
func TestReservedAndHiddenTenants(t *testing.T) {
	e := startAdmin(t)
	su := superTok(t)
	for _, tc := range []struct{ method, path, body string }{
		{"PUT", "/api/v1/tenants/analysts", `{"description":"x"}`},
		{"DELETE", "/api/v1/tenants/analysts", ""},
		{"PUT", securityAPI + "/tenants/analysts", `{"description":"x"}`},
		{"DELETE", securityAPI + "/tenants/analysts", ""},
		{"PATCH", securityAPI + "/tenants", `[{"op":"replace","path":"/analysts/description","value":"x"}]`},
		{"PATCH", securityAPI + "/tenants", `[{"op":"remove","path":"/analysts"}]`},
		{"PUT", "/api/v1/tenants/vault", `{"description":"x"}`},
		{"DELETE", "/api/v1/tenants/vault", ""},
	} {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			name := "analysts"
			if strings.Contains(tc.path, "vault") {
				name = "vault"
			}
			mustMessage(t, e.s.Do(t, tc.method, tc.path, su, "", body), 403, "Resource '"+name+"' is reserved.")
		})
	}
	r := e.s.Do(t, "GET", "/api/v1/tenants/analysts", su, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t); got["reserved"] != true || got["description"] != "Analysts who build detailed visualizations together" || got["locked"] != false {
		t.Fatalf("analysts after refused changes: %s", r.Body)
	}

	// The hidden tenant: a superadmin sees it everywhere.
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants", su, "", nil)); !slices.Contains(ids, "vault") {
		t.Fatalf("superadmin's list lacks vault: %v", ids)
	}
	r = e.s.Do(t, "GET", securityAPI+"/tenants/vault", su, "", nil)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "vault.hidden") != true {
		t.Fatalf("vault: %s", r.Body)
	}
	// Others: absent from lists; 404 to a tenant operator
	// (restapi:admin/tenants, as for a missing tenant); the no-tenant 403
	// to others, as for a missing tenant.
	for _, tok := range []string{oscarTok(t), vicTok(t), aliceTok(t)} {
		if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants", tok, "", nil)); slices.Contains(ids, "vault") {
			t.Errorf("vault listed: %v", ids)
		}
		r := e.s.Do(t, "GET", securityAPI+"/tenants", tok, "", nil)
		mustStatus(t, r, 200)
		if _, ok := r.JSON(t)["vault"]; ok {
			t.Errorf("vault listed: %s", r.Body)
		}
	}
	for _, path := range []string{"/api/v1/tenants/vault", securityAPI + "/tenants/vault", "/api/v1/tenants/vault/lock", "/api/v1/tenants/vault/restore"} {
		method := "GET"
		if strings.HasSuffix(path, "lock") || strings.HasSuffix(path, "restore") {
			method = "POST"
		}
		mustStatus(t, e.s.Do(t, method, path, oscarTok(t), "", nil), 404)
		hidden := e.s.Do(t, method, path, vicTok(t), "", nil)
		missing := e.s.Do(t, method, strings.Replace(path, "vault", "vaulx", 1), vicTok(t), "", nil)
		if hidden.Status != 403 || strings.ReplaceAll(string(missing.Body), "vaulx", "vault") != string(hidden.Body) {
			t.Errorf("%s %s: hidden %d %s, missing %d %s", method, path, hidden.Status, hidden.Body, missing.Status, missing.Body)
		}
	}
	// Hidden from the API, not from its members: vic reads in it.
	mustStatus(t, e.s.Do(t, "GET", "/_cat/indices", vicTok(t), "vault", nil), 200)
}

// TestSoftDeleteRestorePurge follows a tenant through soft delete (gone
// at once from lists, authinfo and requests), restore (everything
// intact), the end of the retention window (no restore) and the purge
// (indices and roles gone, audit records kept).
func TestSoftDeleteRestorePurge(t *testing.T) {
	e := startAdmin(t)
	su, dave := superTok(t), daveTok(t)
	e.createTenant(t, "t-gone")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1?refresh=true", dave, "t-gone", `{"k":"kept"}`), 201)
	mustStatus(t, e.s.Do(t, "POST", "/api/saved_objects/dashboard/d1", dave, "t-gone", `{"attributes":{"title":"Kept"}}`, xsrf...), 200)
	physical := e.s.Inst.Index.Catalog().List("custom:t-gone")
	if len(physical) < 2 {
		t.Fatalf("t-gone's indices: %+v", physical)
	}
	for _, p := range physical {
		if _, err := os.Stat(filepath.Join(e.cfg.DataDir, "indices", p.Physical)); err != nil {
			t.Fatalf("index %s not on disk: %v", p.Physical, err)
		}
	}
	// A request in a tenant that never existed: what a deleted one must
	// look like.
	noSuch := func(method, path, body string) {
		t.Helper()
		var b any
		if body != "" {
			b = body
		}
		never := e.s.Do(t, method, path, dave, "t-never", b)
		r := e.s.Do(t, method, path, dave, "t-gone", b)
		if r.Status != 403 || strings.ReplaceAll(string(r.Body), "t-gone", "t-never") != string(never.Body) {
			t.Fatalf("%s %s in a deleted tenant: %d %s, want %s", method, path, r.Status, r.Body, never.Body)
		}
	}

	r := e.s.Do(t, "DELETE", "/api/v1/tenants/t-gone", su, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t); got["deleted"] != true || got["restorableUntil"] == nil {
		t.Fatalf("delete answer: %s", r.Body)
	}
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants", su, "", nil)); slices.Contains(ids, "t-gone") {
		t.Fatalf("deleted tenant listed: %v", ids)
	}
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants?deleted=true", su, "", nil)); !slices.Contains(ids, "t-gone") {
		t.Fatalf("deleted tenant not listed with deleted=true: %v", ids)
	}
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants?deleted=true", dave, "", nil)); slices.Contains(ids, "t-gone") {
		t.Fatalf("deleted tenant listed to its former admin: %v", ids)
	}
	if _, ok := e.s.Do(t, "GET", securityAPI+"/tenants", su, "", nil).JSON(t)["t-gone"]; ok {
		t.Fatal("deleted tenant in the security tenants list")
	}
	for _, tok := range []string{dave, su} {
		if got := authinfoTenants(t, e.s, tok); got["t-gone"] != nil {
			t.Fatalf("deleted tenant in authinfo: %v", got)
		}
	}
	noSuch("GET", "/data/_doc/1", "")
	noSuch("PUT", "/data/_doc/2", `{"k":"new"}`)
	noSuch("GET", "/api/saved_objects/dashboard/d1", "")
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/1", su, "t-gone", nil), 403)
	mustStatus(t, e.s.Do(t, "GET", "/api/v1/tenants/t-gone", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-gone", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-gone/lock", su, "", nil), 404)
	// Its id stays taken: a create names restore.
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-gone"}`), 409, "restore")
	mustMessage(t, e.s.Do(t, "PUT", securityAPI+"/tenants/t-gone", su, "", `{"description":"again"}`), 409, "restore")

	// Restore: everything is back, dave included.
	r = e.s.Do(t, "POST", "/api/v1/tenants/t-gone/restore", su, "", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["deleted"] != false {
		t.Fatalf("restore answer: %s", r.Body)
	}
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants/t-gone/restore", su, "", nil), 409, "not deleted")
	r = e.s.Do(t, "GET", "/data/_source/1", dave, "t-gone", nil)
	if r.Status != 200 || string(r.Body) != `{"k":"kept"}` {
		t.Fatalf("document after restore: %d %s", r.Status, r.Body)
	}
	r = e.s.Do(t, "GET", "/api/saved_objects/dashboard/d1", dave, "t-gone", nil)
	if r.Status != 200 || get(t, r.JSON(t), "attributes.title") != "Kept" {
		t.Fatalf("saved object after restore: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/2", dave, "t-gone", `{"k":"new"}`), 201)
	if got := authinfoTenants(t, e.s, dave); got["t-gone"] != true {
		t.Fatalf("restored tenant not in authinfo: %v", got)
	}

	// Deleted again and past the window: no restore; the purge drops
	// indices, roles and mappings and keeps the audit records.
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-gone", su, "", nil), 200)
	e.clk.Advance(e.cfg.Tenants.Retention - time.Minute)
	if n, err := e.s.Inst.Admin.PurgeExpired(context.Background()); err != nil || n != 0 {
		t.Fatalf("purge within the window: %d %v", n, err)
	}
	e.clk.Advance(2 * time.Minute)
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants/t-gone/restore", su, "", nil), 409, "restore window")
	if n, err := e.s.Inst.Admin.PurgeExpired(context.Background()); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	if n, err := e.s.Inst.Admin.PurgeExpired(context.Background()); err != nil || n != 0 {
		t.Fatalf("second purge: %d %v", n, err)
	}
	if left := e.s.Inst.Index.Catalog().List("custom:t-gone"); len(left) != 0 {
		t.Fatalf("indices left after the purge: %+v", left)
	}
	for _, p := range physical {
		if _, err := os.Stat(filepath.Join(e.cfg.DataDir, "indices", p.Physical)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("index %s still on disk: %v", p.Physical, err)
		}
	}
	if _, err := e.role(t, tgadmin.AdminRoleName("t-gone")); !errors.Is(err, control.ErrNotFound) {
		t.Fatalf("admin@t-gone role after the purge: %v", err)
	}
	if _, err := e.mapping(t, tgadmin.AdminRoleName("t-gone")); !errors.Is(err, control.ErrNotFound) {
		t.Fatalf("admin@t-gone mapping after the purge: %v", err)
	}
	mustStatus(t, e.s.Do(t, "GET", "/api/v1/tenants/t-gone", su, "", nil), 404)
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants?deleted=true", su, "", nil)); slices.Contains(ids, "t-gone") {
		t.Fatalf("purged tenant listed: %v", ids)
	}
	tenant := "t-gone"
	var actions []string
	for _, rec := range e.records(t, audit.Filter{Tenant: &tenant}) {
		actions = append(actions, rec.Action+":"+rec.Outcome)
	}
	for _, want := range []string{"tenant.create:success", "tenant.delete:success", "tenant.restore:success", "tenant.purge:success"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit of t-gone after the purge lacks %s: %v", want, actions)
		}
	}

	// The id is free again, and the new tenant starts empty, without the
	// old admin.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-gone"}`), 201)
	r = e.s.Do(t, "GET", "/_cat/indices?format=json", su, "t-gone", nil)
	if r.Status != 200 || strings.TrimSpace(string(r.Body)) != "[]" {
		t.Fatalf("_cat/indices of the re-created tenant: %d %s", r.Status, r.Body)
	}
	r = e.s.Do(t, "GET", "/api/saved_objects/_find?type=dashboard", su, "t-gone", nil)
	if r.Status != 200 || r.JSON(t)["total"] != float64(0) {
		t.Fatalf("saved objects of the re-created tenant: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/1", dave, "t-gone", nil), 403)
}

// TestExplicitPurge purges a deleted tenant before its window ends.
func TestExplicitPurge(t *testing.T) {
	e := startAdmin(t)
	su := superTok(t)
	e.createTenant(t, "t-p")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", daveTok(t), "t-p", `{"k":1}`), 201)
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants/t-p/purge", su, "", nil), 409, "delete it first")
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-p", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-p/purge", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-p/purge", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-p/restore", su, "", nil), 404)
	if left := e.s.Inst.Index.Catalog().List("custom:t-p"); len(left) != 0 {
		t.Fatalf("indices left after the purge: %+v", left)
	}
}

// TestLockAndFreeze checks that a locked tenant refuses every request of
// its members with 423 but serves superadmins, that outsiders still get
// the 403 of a tenant that does not exist, and that a frozen tenant
// serves reads and refuses writes.
func TestLockAndFreeze(t *testing.T) {
	e := startAdmin(t)
	su, dave, alice, carol := superTok(t), daveTok(t), aliceTok(t), carolTok(t)
	e.createTenant(t, "t-lock")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1?refresh=true", alice, "t-lock", `{"k":1}`), 201)
	mustStatus(t, e.s.Do(t, "POST", "/api/saved_objects/dashboard/d1", alice, "t-lock", `{"attributes":{"title":"A"}}`, xsrf...), 200)

	type req struct {
		method, path, body string
		write              bool
	}
	reqs := []req{
		{"GET", "/data/_doc/1", "", false},
		{"POST", "/data/_search", `{"query":{"match_all":{}}}`, false},
		{"GET", "/_cat/indices", "", false},
		{"GET", "/api/saved_objects/dashboard/d1", "", false},
		{"PUT", "/data/_doc/2", `{"k":2}`, true},
		{"POST", "/api/saved_objects/dashboard/d2?overwrite=true", `{"attributes":{"title":"B"}}`, true},
		{"POST", "/_bulk", "{\"index\":{\"_index\":\"data\",\"_id\":\"3\"}}\n{\"k\":3}\n", true},
		{"DELETE", "/data/_doc/1", "", true},
	}
	do := func(tok, tenant string, q req) *testserver.Response {
		var body any
		if q.body != "" {
			body = q.body
		}
		return e.s.Do(t, q.method, q.path, tok, tenant, body, xsrf...)
	}
	outsiderSeesNothing := func(t *testing.T) {
		t.Helper()
		for _, q := range reqs {
			r, m := do(carol, "t-lock", q), do(carol, "t-nope", q)
			if r.Status != 403 || strings.ReplaceAll(string(m.Body), "t-nope", "t-lock") != string(r.Body) {
				t.Errorf("outsider %s %s: %d %s, missing tenant %d %s", q.method, q.path, r.Status, r.Body, m.Status, m.Body)
			}
		}
	}

	t.Run("lock", func(t *testing.T) {
		r := e.s.Do(t, "POST", "/api/v1/tenants/t-lock/lock", su, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["locked"] != true {
			t.Fatalf("lock answer: %s", r.Body)
		}
		for _, tok := range []string{alice, dave} {
			for _, q := range reqs {
				mustMessage(t, do(tok, "t-lock", q), 423, "tenant [t-lock] is locked")
			}
		}
		// Its administrator cannot change it either while it is locked.
		mustMessage(t, e.s.Do(t, "PUT", "/api/v1/tenants/t-lock", dave, "", `{"description":"x"}`), 423, "locked")
		mustMessage(t, e.s.Do(t, "PUT", securityAPI+"/tenants/t-lock", dave, "", `{"description":"x"}`), 423, "locked")
		outsiderSeesNothing(t)
		// The superadmin is not locked out; reads first, writes last.
		for _, q := range reqs {
			if r := do(su, "t-lock", q); r.Status >= 300 {
				t.Errorf("superadmin %s %s in a locked tenant: %d %s", q.method, q.path, r.Status, r.Body)
			}
		}
		// Locking twice changes nothing and still answers.
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-lock/lock", su, "", nil), 200)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-lock/unlock", su, "", nil), 200)
		if r := do(alice, "t-lock", reqs[4]); r.Status >= 300 {
			t.Fatalf("write after unlock: %d %s", r.Status, r.Body)
		}
		mustStatus(t, e.s.Do(t, "PUT", "/api/v1/tenants/t-lock", dave, "", `{"description":"open"}`), 200)
	})

	t.Run("freeze", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1?refresh=true", alice, "t-lock", `{"k":1}`), 201)
		mustStatus(t, e.s.Do(t, "POST", "/api/saved_objects/dashboard/d1?overwrite=true", alice, "t-lock", `{"attributes":{"title":"A"}}`, xsrf...), 200)
		r := e.s.Do(t, "POST", "/api/v1/tenants/t-lock/freeze", su, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["frozen"] != true {
			t.Fatalf("freeze answer: %s", r.Body)
		}
		for _, q := range reqs {
			r := do(alice, "t-lock", q)
			switch {
			case q.write:
				mustMessage(t, r, 423, "tenant [t-lock] is frozen")
			case r.Status != 200:
				t.Errorf("read %s %s in a frozen tenant: %d %s", q.method, q.path, r.Status, r.Body)
			}
		}
		mustMessage(t, e.s.Do(t, "PUT", "/api/v1/tenants/t-lock", dave, "", `{"description":"x"}`), 423, "frozen")
		outsiderSeesNothing(t)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-lock/unfreeze", su, "", nil), 200)
		for _, q := range reqs[4:] {
			if r := do(alice, "t-lock", q); r.Status >= 300 {
				t.Errorf("write %s %s after unfreeze: %d %s", q.method, q.path, r.Status, r.Body)
			}
		}
	})
}

// TestTenantAudit checks that every tenant change, failed and denied
// attempts included, leaves an audit record with who, what, where, the
// outcome, the request id and for changes the before, after and diff.
func TestTenantAudit(t *testing.T) {
	e := startAdmin(t)
	su, carol := superTok(t), carolTok(t)
	type step struct {
		tok, method, path, body string
		status                  int
		// the record expected
		actor, action, tenant, outcome string
		diff                           bool // a change: before or after, and a non-empty diff
	}
	steps := []step{
		{su, "POST", "/api/v1/tenants", `{"id":"t-a","name":"A","adminUsername":"dave"}`, 201, "admin", "tenant.create", "t-a", "success", true},
		{su, "PUT", "/api/v1/tenants/t-a", `{"description":"about a"}`, 200, "admin", "tenant.update", "t-a", "success", true},
		{daveTok(t), "PUT", "/api/v1/tenants/t-a", `{"name":"A2"}`, 200, "dave", "tenant.update", "t-a", "success", true},
		{su, "POST", "/api/v1/tenants/t-a/lock", "", 200, "admin", "tenant.lock", "t-a", "success", true},
		{su, "POST", "/api/v1/tenants/t-a/unlock", "", 200, "admin", "tenant.unlock", "t-a", "success", true},
		{su, "POST", "/api/v1/tenants/t-a/freeze", "", 200, "admin", "tenant.freeze", "t-a", "success", true},
		{su, "POST", "/api/v1/tenants/t-a/unfreeze", "", 200, "admin", "tenant.unfreeze", "t-a", "success", true},
		{su, "PUT", securityAPI + "/tenants/t-b", `{"description":"b"}`, 201, "admin", "tenant.create", "t-b", "success", true},
		{su, "PATCH", securityAPI + "/tenants", `[{"op":"replace","path":"/t-b/description","value":"bb"}]`, 200, "admin", "tenant.patch", "", "success", true},
		{su, "PUT", securityAPI + "/tenancy/config", `{"default_tenant":"t-a"}`, 200, "admin", "tenancy.update", "", "success", true},
		{su, "PUT", securityAPI + "/tenancy/config", `{"default_tenant":"global"}`, 200, "admin", "tenancy.update", "", "success", true},
		{su, "DELETE", "/api/v1/tenants/t-a", "", 200, "admin", "tenant.delete", "t-a", "success", true},
		{su, "POST", "/api/v1/tenants/t-a/restore", "", 200, "admin", "tenant.restore", "t-a", "success", true},
		{su, "DELETE", "/api/v1/tenants/t-b", "", 200, "admin", "tenant.delete", "t-b", "success", true},
		{su, "POST", "/api/v1/tenants/t-b/purge", "", 200, "admin", "tenant.purge", "t-b", "success", true},
		// Failures: a conflict, a missing tenant, a reserved one.
		{su, "POST", "/api/v1/tenants", `{"id":"t-a"}`, 409, "admin", "tenant.create", "t-a", "failure", false},
		{su, "POST", "/api/v1/tenants/t-a/restore", "", 409, "admin", "tenant.restore", "t-a", "failure", false},
		{su, "DELETE", "/api/v1/tenants/t-zz", "", 404, "admin", "tenant.delete", "t-zz", "failure", false},
		{su, "PUT", securityAPI + "/tenancy/config", `{"default_tenant":"t-zz"}`, 400, "admin", "tenancy.update", "", "failure", false},
		{su, "DELETE", "/api/v1/tenants/analysts", "", 403, "admin", "tenant.delete", "analysts", "denied", false},
		// Denials.
		{carol, "POST", "/api/v1/tenants", `{"id":"t-c"}`, 403, "carol", "tenant.create", "t-c", "denied", false},
		{carol, "DELETE", "/api/v1/tenants/t-a", "", 403, "carol", "tenant.delete", "t-a", "denied", false},
		{carol, "PUT", "/api/v1/tenants/t-a", `{"name":"mine"}`, 403, "carol", "tenant.update", "t-a", "denied", false},
		{carol, "PUT", securityAPI + "/tenants/t-d", `{"description":"d"}`, 403, "carol", "tenant.create", "t-d", "denied", false},
		{aliceTok(t), "POST", "/api/v1/tenants/t-a/lock", "", 403, "alice", "tenant.lock", "t-a", "denied", false},
		{carol, "PATCH", securityAPI + "/tenants", `[{"op":"remove","path":"/t-a"}]`, 403, "carol", "tenant.patch", "", "denied", false},
		{carol, "PUT", securityAPI + "/tenancy/config", `{"default_tenant":"t-a"}`, 403, "carol", "tenancy.update", "", "denied", false},
	}
	for _, st := range steps {
		var body any
		if st.body != "" {
			body = st.body
		}
		r := e.s.Do(t, st.method, st.path, st.tok, "", body)
		mustStatus(t, r, st.status)
		rid := r.Header.Get("X-Request-Id")
		var found []audit.Record
		for _, rec := range e.records(t, audit.Filter{Action: st.action}) {
			if rec.RequestID == rid {
				found = append(found, rec)
			}
		}
		name := st.method + " " + st.path + " " + st.body
		if len(found) != 1 {
			t.Errorf("%s: %d records with request id %s: %+v", name, len(found), rid, found)
			continue
		}
		rec := found[0]
		if rec.Actor != st.actor || rec.Tenant != st.tenant || rec.Outcome != st.outcome || rec.ClientIP == "" || rec.Time.IsZero() {
			t.Errorf("%s: record %+v, want actor %s tenant %q outcome %s", name, rec, st.actor, st.tenant, st.outcome)
		}
		if st.status != 200 && st.status != 201 && (rec.Status != st.status || rec.Reason == "") {
			t.Errorf("%s: record status %d reason %q, want %d and a reason", name, rec.Status, rec.Reason, st.status)
		}
		if st.actor == "admin" && !slices.Contains(rec.ActorRoles, "all_access") {
			t.Errorf("%s: actor roles %v", name, rec.ActorRoles)
		}
		empty := func(raw json.RawMessage) bool {
			s := strings.TrimSpace(string(raw))
			return s == "" || s == "null" || s == "[]" || s == "{}"
		}
		switch {
		case st.diff && (empty(rec.Diff) || empty(rec.Before) && empty(rec.After)):
			t.Errorf("%s: change without before/after/diff: before %s after %s diff %s", name, rec.Before, rec.After, rec.Diff)
		case st.diff && st.action == "tenant.update" && (empty(rec.Before) || empty(rec.After)):
			t.Errorf("%s: update without before and after: %s %s", name, rec.Before, rec.After)
		case !st.diff && !(empty(rec.Before) && empty(rec.After) && empty(rec.Diff)):
			t.Errorf("%s: a change that did not happen has a diff: %s", name, rec.Diff)
		}
	}
	// Records stay in their tenant's view.
	b := "t-b"
	for _, rec := range e.records(t, audit.Filter{Tenant: &b}) {
		if rec.Tenant != "t-b" {
			t.Errorf("t-b's audit view holds %+v", rec)
		}
	}
}

// TestTenancyConfigChanges checks the validation of PUT tenancy/config
// and that its settings take effect at once.
func TestTenancyConfigChanges(t *testing.T) {
	e := startAdmin(t)
	su, alice := superTok(t), aliceTok(t)
	e.createTenant(t, "t-def")
	path := securityAPI + "/tenancy/config"
	before := e.s.Do(t, "GET", path, su, "", nil)
	mustStatus(t, before, 200)
	for _, tc := range []struct{ name, body, want string }{
		{"missing default", `{"default_tenant":"t-nope"}`, "default_tenant [t-nope] does not exist"},
		{"deleted default", `{"default_tenant":"t-del"}`, "default_tenant [t-del] does not exist"},
		{"private default disabled", `{"default_tenant":"__user__","private_tenant_enabled":false}`, "private_tenant_enabled cannot be false"},
		{"global default disabled", `{"default_tenant":"global_tenant","global_tenant_enabled":false}`, "global_tenant_enabled=false"},
		{"custom default without multitenancy", `{"multitenancy_enabled":false,"default_tenant":"t-def"}`, "needs multitenancy_enabled"},
		{"unknown key", `{"default_tenant":"t-def","colour":"blue"}`, "colour"},
		{"wrong type", `{"multitenancy_enabled":"yes"}`, "multitenancy_enabled"},
		{"empty body", ``, "body"},
		{"empty preferred", `{"preferred_tenants":[""]}`, "preferred_tenants"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "deleted default" {
				e.createTenant(t, "t-del")
				mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-del", su, "", nil), 200)
			}
			var body any
			if tc.body != "" {
				body = tc.body
			}
			mustMessage(t, e.s.Do(t, "PUT", path, su, "", body), 400, tc.want)
			if after := e.s.Do(t, "GET", path, su, "", nil); string(after.Body) != string(before.Body) {
				t.Fatalf("a refused PUT changed the settings: %s", after.Body)
			}
		})
	}

	// The default tenant serves requests without a tenant header.
	r := e.s.Do(t, "PUT", path, su, "", `{"default_tenant":"t-def","preferred_tenants":["t-def","analysts"]}`)
	mustStatus(t, r, 200)
	if got := r.JSON(t); got["default_tenant"] != "t-def" || got["multitenancy_enabled"] != true {
		t.Fatalf("PUT answer: %s", r.Body)
	}
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", alice, "", `{"where":"default"}`), 201)
	r = e.s.Do(t, "GET", "/data/_source/1", alice, "t-def", nil)
	if r.Status != 200 || string(r.Body) != `{"where":"default"}` {
		t.Fatalf("a request without a header did not land in the default tenant: %d %s", r.Status, r.Body)
	}
	mustStatus(t, e.s.Do(t, "GET", "/data/_source/1", alice, "global", nil), 404)
	// carol may not use the default tenant: the no-tenant 403 naming it.
	mustMessage(t, e.s.Do(t, "GET", "/_cat/indices", carolTok(t), "", nil), 403, "on tenant [t-def]")
	// The default tenant cannot be deleted.
	mustMessage(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-def", su, "", nil), 409, "default_tenant")
	mustMessage(t, e.s.Do(t, "PATCH", securityAPI+"/tenants", su, "", `[{"op":"remove","path":"/t-def"}]`), 409, "default_tenant")
	// Keys left out keep their value.
	r = e.s.Do(t, "PUT", path, su, "", `{"private_tenant_enabled":true}`)
	mustStatus(t, r, 200)
	if got := r.JSON(t); got["default_tenant"] != "t-def" || len(got["preferred_tenants"].([]any)) != 2 {
		t.Fatalf("PUT of one key: %s", r.Body)
	}
	// The private tenant as default: it cannot be disabled then.
	mustStatus(t, e.s.Do(t, "PUT", path, su, "", `{"default_tenant":"__user__"}`), 200)
	mustMessage(t, e.s.Do(t, "PUT", path, su, "", `{"private_tenant_enabled":false}`), 400, "private_tenant_enabled cannot be false")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/p", alice, "", `{"where":"private"}`), 201)
	mustStatus(t, e.s.Do(t, "GET", "/data/_doc/p", alice, "private", nil), 200)
	// Multitenancy off: everything goes to the global tenant.
	mustStatus(t, e.s.Do(t, "PUT", path, su, "", `{"multitenancy_enabled":false,"default_tenant":"global"}`), 200)
	mustStatus(t, e.s.Do(t, "GET", "/_cat/indices", alice, "t-def", nil), 403)
	mustStatus(t, e.s.Do(t, "GET", "/_cat/indices", alice, "", nil), 200)
}

// TestPatchTenants checks PATCH /_plugins/_security/api/tenants: add,
// replace and remove in one transaction, all or nothing.
func TestPatchTenants(t *testing.T) {
	e := startAdmin(t)
	su := superTok(t)
	tenantsOf := func() map[string]any {
		t.Helper()
		r := e.s.Do(t, "GET", securityAPI+"/tenants", su, "", nil)
		mustStatus(t, r, 200)
		return r.JSON(t)
	}
	patch := func(path, body string) *testserver.Response {
		return e.s.Do(t, "PATCH", securityAPI+path, su, "", body)
	}
	mustMessage(t, patch("/tenants", `[{"op":"add","path":"/t-p1","value":{"description":"one"}},{"op":"add","path":"/t-p2","value":{"description":"two"}}]`), 200, "OK")
	if got := tenantsOf(); get(t, got, "t-p1.description") != "one" || get(t, got, "t-p2.description") != "two" {
		t.Fatalf("after add: %v", got)
	}
	// A tenant added by PATCH has its Admin role, like any other.
	if _, err := e.role(t, tgadmin.AdminRoleName("t-p1")); err != nil {
		t.Fatalf("admin@t-p1: %v", err)
	}
	r := patch("/tenants", `[{"op":"replace","path":"/t-p1/description","value":"uno"},{"op":"remove","path":"/t-p2"}]`)
	mustStatus(t, r, 200)
	got := tenantsOf()
	if get(t, got, "t-p1.description") != "uno" || got["t-p2"] != nil {
		t.Fatalf("after replace and remove: %v", got)
	}
	// Each tenant's audit view shows what the patch did to it.
	for tenant, action := range map[string]string{"t-p1": "tenant.update", "t-p2": "tenant.delete"} {
		recs := e.records(t, audit.Filter{Tenant: &tenant, Action: action})
		if len(recs) != 1 || recs[0].RequestID != r.Header.Get("X-Request-Id") || recs[0].Actor != "admin" || len(recs[0].Diff) < 3 {
			t.Fatalf("%s's %s records: %+v", tenant, action, recs)
		}
	}
	tenant := "t-p1"
	if recs := e.records(t, audit.Filter{Tenant: &tenant, Action: "tenant.create"}); len(recs) != 1 {
		t.Fatalf("t-p1's creation by PATCH: %+v", recs)
	}
	// The removal is a soft delete: t-p2 can be restored.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-p2/restore", su, "", nil), 200)
	mustStatus(t, patch("/tenants/t-p2", `[{"op":"replace","path":"/description","value":"deux"}]`), 200)
	if got := tenantsOf(); get(t, got, "t-p2.description") != "deux" {
		t.Fatalf("after a patch of one tenant: %v", got)
	}

	// One failing operation changes nothing.
	snapshot := tenantsOf()
	for _, tc := range []struct {
		name, body string
		status     int
		message    string
	}{
		{"missing path", `[{"op":"add","path":"/t-p3","value":{"description":"x"}},{"op":"replace","path":"/t-nope/description","value":"x"}]`, 400, "does not apply"},
		{"failed test", `[{"op":"remove","path":"/t-p1"},{"op":"test","path":"/t-p2/description","value":"other"}]`, 400, "does not apply"},
		{"reserved removed", `[{"op":"add","path":"/t-p3","value":{"description":"x"}},{"op":"remove","path":"/analysts"}]`, 403, "Resource 'analysts' is reserved."},
		{"reserved replaced", `[{"op":"replace","path":"/t-p1/description","value":"x"},{"op":"replace","path":"/executive/description","value":"x"}]`, 403, "Resource 'executive' is reserved."},
		{"bad id", `[{"op":"replace","path":"/t-p1/description","value":"x"},{"op":"add","path":"/Bad Id","value":{"description":"x"}}]`, 400, "must match"},
		{"unknown field", `[{"op":"add","path":"/t-p3","value":{"description":"x","colour":"blue"}}]`, 400, "colour"},
		{"flags", `[{"op":"add","path":"/t-p3","value":{"description":"x","reserved":true}}]`, 400, "reserved, hidden and static"},
		{"flag changed", `[{"op":"replace","path":"/t-p1/hidden","value":true}]`, 400, "reserved, hidden and static"},
		{"not a patch", `{"op":"add"}`, 400, "JSON Patch"},
		{"unknown op", `[{"op":"frobnicate","path":"/t-p1"}]`, 400, ""},
		{"whole document", `[{"op":"replace","path":"","value":{}}]`, 403, "reserved"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mustMessage(t, patch("/tenants", tc.body), tc.status, tc.message)
			if got := tenantsOf(); !reflect.DeepEqual(got, snapshot) {
				t.Fatalf("a failed patch changed the tenants:\n%v\n%v", got, snapshot)
			}
			if _, err := e.role(t, tgadmin.AdminRoleName("t-p3")); !errors.Is(err, control.ErrNotFound) {
				t.Fatalf("a failed patch left admin@t-p3: %v", err)
			}
		})
	}
}

// TestTenantRemovedFromTheFiles checks that a tenant of tenants.yml
// removed from the file is soft-deleted at the next start and comes back
// by putting it back in the file, not through the API (the next start
// would delete it again).
func TestTenantRemovedFromTheFiles(t *testing.T) {
	cfg := adminConfig(t)
	file := filepath.Join(cfg.SecurityDir, "tenants.yml")
	withFiled, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	withFiled = append(withFiled, "filed:\n  description: \"From the file\"\n"...)
	if err := os.WriteFile(file, withFiled, 0o600); err != nil {
		t.Fatal(err)
	}
	su := superTok(t)
	s := testserver.StartConfig(t, cfg)
	mustStatus(t, s.Do(t, "PUT", "/data/_doc/1", su, "filed", `{"k":1}`), 201)
	s.Stop()

	without := strings.Replace(string(withFiled), "filed:\n  description: \"From the file\"\n", "", 1)
	if err := os.WriteFile(file, []byte(without), 0o600); err != nil {
		t.Fatal(err)
	}
	s = testserver.StartConfig(t, cfg)
	mustStatus(t, s.Do(t, "GET", "/data/_doc/1", su, "filed", nil), 403)
	if ids := tenantIDs(t, s.Do(t, "GET", "/api/v1/tenants?deleted=true", su, "", nil)); !slices.Contains(ids, "filed") {
		t.Fatalf("a tenant removed from the file is not listed as deleted: %v", ids)
	}
	mustMessage(t, s.Do(t, "POST", "/api/v1/tenants/filed/restore", su, "", nil), 403, "tenants.yml")
	s.Stop()

	if err := os.WriteFile(file, withFiled, 0o600); err != nil {
		t.Fatal(err)
	}
	s = testserver.StartConfig(t, cfg)
	r := s.Do(t, "GET", "/data/_source/1", su, "filed", nil)
	if r.Status != 200 || string(r.Body) != `{"k":1}` {
		t.Fatalf("a tenant put back in the file: %d %s", r.Status, r.Body)
	}
}

// TestConcurrentCreators creates tenants from many creators at once:
// each creator writes in their new tenant with the very next request.
func TestConcurrentCreators(t *testing.T) {
	e := startAdmin(t)
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan string, n)
	for i := range n {
		tok := testserver.Token(t, fmt.Sprintf("creator%d", i), "creator")
		id := fmt.Sprintf("t-c%d", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := e.s.Do(t, "POST", "/api/v1/tenants", tok, "", map[string]string{"id": id}); r.Status != 201 {
				errs <- fmt.Sprintf("create %s: %d %s", id, r.Status, r.Body)
				return
			}
			if r := e.s.Do(t, "PUT", "/data/_doc/1", tok, id, `{"k":1}`); r.Status != 201 {
				errs <- fmt.Sprintf("write in %s: %d %s", id, r.Status, r.Body)
			}
			// Only in their own tenant (the next one may not exist yet:
			// 403 either way).
			other := fmt.Sprintf("t-c%d", (i+1)%n)
			if r := e.s.Do(t, "GET", "/api/v1/tenants/"+other, tok, "", nil); r.Status != 403 {
				errs <- fmt.Sprintf("%s reads %s: %d", id, other, r.Status)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if ids := tenantIDs(t, e.s.Do(t, "GET", "/api/v1/tenants", superTok(t), "", nil)); len(ids) < n {
		t.Fatalf("tenants: %v", ids)
	}
}

// TestUpdateTenantBadInput checks the 400s of PUT /api/v1/tenants/{id}.
func TestUpdateTenantBadInput(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-u")
	for _, body := range []string{`{"id":"t-other"}`, `{"deleted":true}`, `{"name":""}`, `{"colour":"blue"}`, ``, `{"name":"a"} {}`, `[]`} {
		var b any
		if body != "" {
			b = body
		}
		mustStatus(t, e.s.Do(t, "PUT", "/api/v1/tenants/t-u", superTok(t), "", b), 400)
	}
	r := e.s.Do(t, "PUT", "/api/v1/tenants/t-u", superTok(t), "", `{"id":"t-u","name":"Renamed","deleted":false}`)
	mustStatus(t, r, 200)
	if r.JSON(t)["name"] != "Renamed" {
		t.Fatalf("update: %s", r.Body)
	}
}

// Locking is operational state, not a change of the declaration: a
// reserved tenant can be locked and frozen, and stays so across a restart,
// which applies tenants.yml again.
func TestReservedTenantLockSurvivesRestart(t *testing.T) {
	e := startAdmin(t)
	su := superTok(t)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/analysts/lock", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/analysts/freeze", su, "", nil), 200)
	e.s.Stop()
	s2 := testserver.StartConfig(t, e.s.Config)
	r := s2.Do(t, "GET", "/api/v1/tenants/analysts", su, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t); got["locked"] != true || got["frozen"] != true || got["reserved"] != true {
		t.Fatalf("analysts after lock, freeze and a restart: %s", r.Body)
	}
	mustStatus(t, s2.Do(t, "GET", "/_search", aliceTok(t), "analysts", nil), 423)
	mustStatus(t, s2.Do(t, "POST", "/api/v1/tenants/analysts/unlock", su, "", nil), 200)
	mustStatus(t, s2.Do(t, "GET", "/_search", aliceTok(t), "analysts", nil), 200)
}

// TestPurgeKeepsExecutionsAndLogs checks that purging a tenant keeps its
// executions and logs (admin.KeptIndices) while the rest goes, that the
// id cannot be taken again while they are kept (so a new tenant never
// sees them), and that a second purge drops them.
func TestPurgeKeepsExecutionsAndLogs(t *testing.T) {
	e := startAdmin(t)
	su, dave := superTok(t), daveTok(t)
	ctx := context.Background()
	e.createTenant(t, "t-k")
	mustStatus(t, e.s.Do(t, "PUT", "/data/_doc/1", dave, "t-k", `{"k":1}`), 201)
	v := e.s.Inst.Index.SystemView(tenants.CustomRef("t-k"))
	for _, name := range adminsvc.KeptIndices {
		if err := v.CreateIndex(ctx, name, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Apply(ctx, name, []index.Op{{Type: index.OpIndex, ID: "e1", Source: json.RawMessage(`{"k":1}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	logicals := func() []string {
		var out []string
		for _, en := range e.s.Inst.Index.Catalog().List("custom:t-k") {
			out = append(out, en.Logical)
		}
		slices.Sort(out)
		return out
	}
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/tenants/t-k", su, "", nil), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-k/purge", su, "", nil), 200)
	if got := logicals(); !slices.Equal(got, []string{".executions", ".logs"}) {
		t.Fatalf("indices after the purge: %v, want only .executions and .logs", got)
	}
	if d, err := v.Get(ctx, ".executions", "e1"); err != nil || d == nil {
		t.Fatalf("kept execution: %v %v", d, err)
	}
	mustMessage(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-k","adminUsername":"dave"}`), 409, "executions and logs")
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-k/purge", daveTok(t), "", nil), 403)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-k/purge", su, "", nil), 200)
	if got := logicals(); len(got) != 0 {
		t.Fatalf("indices after the second purge: %v", got)
	}
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-k/purge", su, "", nil), 404)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", su, "", `{"id":"t-k","adminUsername":"dave"}`), 201)
	r := e.s.Do(t, "GET", "/api/v1/audit?action=tenant.purge.executions", su, "", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["total"] != float64(1) {
		t.Fatalf("audit of the second purge: %s", r.Body)
	}
}
