package gateway_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// ipGroups are the index action groups tested, each granted on logs-* by
// a role ix_<group> that also reads (only reads) the analysts tenant,
// mapped to the backend role of the same name.
var ipGroups = []string{"read", "write", "delete", "crud", "manage"}

// ipRoles are the roles appended to the shipped roles.yml: one per
// group, write plus manage, and the tenant-scoped ingest@analysts, which
// grants no tenant permission at all.
func ipRoles() string {
	var b strings.Builder
	role := func(name, actions string) {
		fmt.Fprintf(&b, `
%s:
  tenant_permissions:
    - tenant_patterns: ["analysts"]
      allowed_actions: ["kibana_all_read"]
  index_permissions:
    - index_patterns: ["logs-*"]
      allowed_actions: [%s]
`, name, actions)
	}
	for _, g := range ipGroups {
		role("ix_"+g, fmt.Sprintf("%q", g))
	}
	role("ix_write_manage", `"write", "manage"`)
	// ix_stage is ix_write_manage in the tenant stage, which the frozen
	// and locked test creates through the API (tenants of tenants.yml
	// are reserved and cannot be frozen).
	b.WriteString(`
ix_stage:
  tenant_permissions:
    - tenant_patterns: ["stage"]
      allowed_actions: ["kibana_all_read"]
  index_permissions:
    - index_patterns: ["logs-*"]
      allowed_actions: ["write", "manage"]
`)
	b.WriteString(`
ix_exec_read:
  tenant_permissions:
    - tenant_patterns: ["executive"]
      allowed_actions: ["kibana_all_read"]

ingest@analysts:
  tenant: analysts
  index_permissions:
    - index_patterns: ["logs-*"]
      allowed_actions: ["write"]
`)
	return b.String()
}

// ipMappings maps each role above to the backend role of its name.
func ipMappings() string {
	var b strings.Builder
	names := []string{"ix_write_manage", "ix_stage", "ix_exec_read", "ingest@analysts"}
	for _, g := range ipGroups {
		names = append(names, "ix_"+g)
	}
	for _, n := range names {
		fmt.Fprintf(&b, "\n%s:\n  backend_roles: [%q]\n", n, n)
	}
	return b.String()
}

// startIndexPerms starts a server over a copy of config/security with
// the roles above, and creates logs-1, logs-d1, logs-d2 and other in
// analysts and logs-1 in executive, each with the documents ids (as
// admin).
func startIndexPerms(t *testing.T, ids ...string) *testserver.Server {
	t.Helper()
	src := filepath.Join(testserver.RepoRoot(), "config", "security")
	dir := t.TempDir()
	extra := map[string]string{"roles.yml": ipRoles(), "roles_mapping.yml": ipMappings()}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), append(raw, extra[e.Name()]...), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testserver.Config(t.TempDir())
	cfg.SecurityDir = dir
	cfg.Auth.Passwords.BcryptCost = 4
	s := testserver.StartConfig(t, cfg)
	adm := testserver.Token(t, "admin")
	seed := map[string][]string{"analysts": {"logs-1", "logs-d1", "logs-d2", "other"}, "executive": {"logs-1"}}
	for tenant, indices := range seed {
		for _, idx := range indices {
			mustStatus(t, s.Do(t, "PUT", "/"+idx, adm, tenant, nil), 200)
			for _, id := range ids {
				mustStatus(t, s.Do(t, "PUT", "/"+idx+"/_doc/"+id, adm, tenant, `{"seed":true}`), 201)
			}
		}
	}
	return s
}

// ipForbidden is the 403 of a write the caller may not do: the same
// whether or not the caller has index permissions.
func ipForbidden(user, tenant string) string {
	return fmt.Sprintf("no permissions for [write] and User [name=%s] on tenant [%s]", user, tenant)
}

// TestIndexPermissionRoutes checks, route by route, what each index
// action group adds to a caller who may only read the tenant, that a
// tenant-scoped role's index permissions apply in its tenant alone, and
// that callers without index permissions get the same 403 as before.
func TestIndexPermissionRoutes(t *testing.T) {
	s := startIndexPerms(t, "del-w", "del-r", "del-d", "del-c", "dbq")
	tokens := map[string]string{
		"admin": testserver.Token(t, "admin"),
		"alice": testserver.Token(t, "alice", "analyst"), // writes analysts
		"bob":   testserver.Token(t, "bob"),              // reads analysts and executive
		"carol": testserver.Token(t, "carol", "nobody"),  // nothing
		"ing":   testserver.Token(t, "ing", "ingest@analysts"),
		"inge":  testserver.Token(t, "inge", "ingest@analysts", "ix_exec_read"),
		"wm":    testserver.Token(t, "wm", "ix_write_manage"),
	}
	for _, g := range ipGroups {
		tokens[g] = testserver.Token(t, g, "ix_"+g)
	}
	const doc = `{"msg":"hello"}`
	dbq := `{"query":{"ids":{"values":["dbq"]}}}`
	cases := []struct {
		name, user, method, path, tenant string
		body                             any
		want                             int
	}{
		// write: index, create and update documents, and delete them.
		{"write indexes a doc", "write", "PUT", "/logs-1/_doc/w1", "analysts", doc, 201},
		{"write indexes without id", "write", "POST", "/logs-1/_doc", "analysts", doc, 201},
		{"write creates a doc", "write", "PUT", "/logs-1/_create/w2", "analysts", doc, 201},
		{"write updates a doc", "write", "POST", "/logs-1/_update/w1", "analysts", `{"doc":{"n":2}}`, 200},
		{"write deletes a doc", "write", "DELETE", "/logs-1/_doc/del-w", "analysts", nil, 200},
		{"write deletes by query", "write", "POST", "/logs-1/_delete_by_query", "analysts", dbq, 200},
		{"write not on other", "write", "PUT", "/other/_doc/w1", "analysts", doc, 403},
		{"other stays untouched", "admin", "GET", "/other/_doc/w1", "analysts", nil, 404},
		{"write cannot create an index", "write", "PUT", "/logs-c1", "analysts", nil, 403},
		{"write cannot auto-create an index", "write", "POST", "/logs-new/_doc", "analysts", doc, 403},
		{"no index was created", "admin", "HEAD", "/logs-new", "analysts", nil, 404},
		{"write cannot delete an index", "write", "DELETE", "/logs-d1", "analysts", nil, 403},
		{"write cannot refresh", "write", "POST", "/logs-1/_refresh", "analysts", nil, 403},
		{"no wildcard", "write", "PUT", "/logs-*/_doc/w3", "analysts", doc, 403},
		{"no comma list", "write", "PUT", "/logs-1,logs-d1/_doc/w3", "analysts", doc, 403},
		{"no saved objects", "write", "POST", "/api/saved_objects/index-pattern/ip1", "analysts", `{"attributes":{"title":"logs-*"}}`, 403},
		{"no templates", "write", "PUT", "/_index_template/logs", "analysts", `{"index_patterns":["logs-*"]}`, 403},
		{"not where it cannot read", "write", "PUT", "/logs-1/_doc/w4", "executive", doc, 403},
		{"not in an unknown tenant", "write", "PUT", "/logs-1/_doc/w5", "nosuch", doc, 403},
		// read adds nothing to a tenant reader, and takes nothing away.
		{"read reads", "read", "GET", "/logs-1/_doc/w1", "analysts", nil, 200},
		{"read reads other indices too", "read", "GET", "/other/_doc/del-r", "analysts", nil, 200},
		{"read cannot index", "read", "PUT", "/logs-1/_doc/r1", "analysts", doc, 403},
		{"read cannot delete", "read", "DELETE", "/logs-1/_doc/del-r", "analysts", nil, 403},
		{"read cannot manage", "read", "PUT", "/logs-c2", "analysts", nil, 403},
		// delete: documents only.
		{"delete deletes a doc", "delete", "DELETE", "/logs-1/_doc/del-d", "analysts", nil, 200},
		{"delete deletes by query", "delete", "POST", "/logs-d1/_delete_by_query", "analysts", dbq, 200},
		{"delete not on other", "delete", "DELETE", "/other/_doc/del-d", "analysts", nil, 403},
		{"delete not by query on other", "delete", "POST", "/other/_delete_by_query", "analysts", dbq, 403},
		{"delete cannot index", "delete", "PUT", "/logs-1/_doc/d1", "analysts", doc, 403},
		{"delete cannot update", "delete", "POST", "/logs-1/_update/w1", "analysts", `{"doc":{"n":3}}`, 403},
		{"delete cannot delete an index", "delete", "DELETE", "/logs-d1", "analysts", nil, 403},
		// crud: read, write and delete documents, not the index.
		{"crud indexes", "crud", "PUT", "/logs-1/_doc/c1", "analysts", doc, 201},
		{"crud deletes", "crud", "DELETE", "/logs-1/_doc/del-c", "analysts", nil, 200},
		{"crud cannot create an index", "crud", "PUT", "/logs-c3", "analysts", nil, 403},
		// manage: the index, not its documents.
		{"manage creates an index", "manage", "PUT", "/logs-c4", "analysts", `{"mappings":{"properties":{"n":{"type":"long"}}}}`, 200},
		{"the index is there", "admin", "HEAD", "/logs-c4", "analysts", nil, 200},
		{"manage deletes an index", "manage", "DELETE", "/logs-d2", "analysts", nil, 200},
		{"the index is gone", "admin", "HEAD", "/logs-d2", "analysts", nil, 404},
		{"manage refreshes", "manage", "POST", "/logs-1/_refresh", "analysts", nil, 200},
		{"manage not on other", "manage", "PUT", "/other-c", "analysts", nil, 403},
		{"manage deletes no pattern", "manage", "DELETE", "/logs-*", "analysts", nil, 403},
		{"manage refreshes not everything", "manage", "POST", "/_refresh", "analysts", nil, 403},
		{"manage writes no template", "manage", "PUT", "/_index_template/logs", "analysts", `{"index_patterns":["logs-*"]}`, 403},
		{"manage cannot index", "manage", "PUT", "/logs-1/_doc/m1", "analysts", doc, 403},
		// write and manage: writing into a new index creates it.
		{"write+manage auto-creates", "wm", "POST", "/logs-new2/_doc", "analysts", doc, 201},
		{"write+manage still not other", "wm", "PUT", "/other/_doc/wm1", "analysts", doc, 403},
		// A tenant-scoped role applies in its tenant only.
		{"ingest writes in analysts", "ing", "PUT", "/logs-1/_doc/i1", "analysts", doc, 201},
		{"ingest reads nothing", "ing", "GET", "/logs-1/_doc/i1", "analysts", nil, 403},
		{"ingest not on other", "ing", "PUT", "/other/_doc/i1", "analysts", doc, 403},
		{"ingest not in executive", "ing", "PUT", "/logs-1/_doc/i1", "executive", doc, 403},
		{"ingest not in executive it reads", "inge", "PUT", "/logs-1/_doc/i2", "executive", doc, 403},
		{"executive untouched", "admin", "GET", "/logs-1/_doc/i2", "executive", nil, 404},
		{"ingest+reader writes in analysts", "inge", "PUT", "/logs-1/_doc/i2", "analysts", doc, 201},
		// Without index permissions nothing changes.
		{"reader without index permissions", "bob", "PUT", "/logs-1/_doc/b1", "analysts", doc, 403},
		{"nobody", "carol", "PUT", "/logs-1/_doc/n1", "analysts", doc, 403},
		{"tenant writer writes anywhere", "alice", "PUT", "/other/_doc/a1", "analysts", doc, 201},
		{"tenant writer manages anywhere", "alice", "PUT", "/other-a", "analysts", nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, tc.method, tc.path, tokens[tc.user], tc.tenant, tc.body, "osd-xsrf", "true")
			mustStatus(t, r, tc.want)
			if tc.want == 403 && !strings.HasPrefix(tc.path, "/api/") {
				want := ipForbidden(tc.user, tc.tenant)
				if tc.method == "GET" {
					want = strings.Replace(want, "[write]", "[read]", 1)
				}
				if got := get(t, r.JSON(t), "error.reason"); got != want {
					t.Fatalf("reason %q, want the unchanged 403 %q", got, want)
				}
			}
		})
	}
}

// ipItem is one item of a bulk answer: its action, status and error.
type ipItem struct {
	action, index string
	status        int
	errType       string
	reason        string
}

func ipItems(t *testing.T, r *testserver.Response) (bool, []ipItem) {
	t.Helper()
	m := r.JSON(t)
	var out []ipItem
	for _, raw := range m["items"].([]any) {
		for action, v := range raw.(map[string]any) {
			it := v.(map[string]any)
			item := ipItem{action: action, index: it["_index"].(string), status: int(it["status"].(float64))}
			if e, ok := it["error"].(map[string]any); ok {
				item.errType, item.reason = e["type"].(string), e["reason"].(string)
			}
			out = append(out, item)
		}
	}
	return m["errors"].(bool), out
}

// TestIndexPermissionBulk checks that a bulk request of a caller who may
// only read the tenant applies the items its index permissions grant and
// refuses each other one with OpenSearch's 403 item error, and that a
// caller with neither tenant write nor index permissions is refused as a
// whole, as before.
func TestIndexPermissionBulk(t *testing.T) {
	s := startIndexPerms(t, "gone", "keep")
	adm := testserver.Token(t, "admin")
	type want struct {
		status int
		action string // OpenSearch action named in a refusal
	}
	cases := []struct {
		name, user, role, tenant, path, body string
		status                               int // of the request
		items                                []want
	}{
		{
			name: "write", user: "w", role: "ix_write", tenant: "analysts", path: "/_bulk", status: 200,
			body: `{"index":{"_index":"logs-1","_id":"b1"}}
{"n":1}
{"index":{"_index":"other","_id":"b2"}}
{"n":2}
{"delete":{"_index":"logs-1","_id":"gone"}}
{"create":{"_index":"logs-new","_id":"b3"}}
{"n":3}
{"update":{"_index":"other","_id":"keep"}}
{"doc":{"n":4}}
{"update":{"_index":"logs-1","_id":"b1"}}
{"doc":{"n":5}}
`,
			items: []want{{201, ""}, {403, "indices:data/write/index"}, {200, ""}, {403, "indices:admin/create"}, {403, "indices:data/write/update"}, {200, ""}},
		},
		{
			name: "delete with a default index", user: "d", role: "ix_delete", tenant: "analysts", path: "/logs-1/_bulk", status: 200,
			body: `{"delete":{"_id":"keep"}}
{"index":{"_id":"d1"}}
{"n":1}
{"delete":{"_index":"other","_id":"keep"}}
`,
			items: []want{{200, ""}, {403, "indices:data/write/index"}, {403, "indices:data/write/delete"}},
		},
		{
			name: "write and manage may create", user: "wm", role: "ix_write_manage", tenant: "analysts", path: "/_bulk", status: 200,
			body: `{"create":{"_index":"logs-new3","_id":"c1"}}
{"n":1}
{"index":{"_index":"other-new","_id":"c2"}}
{"n":2}
`,
			items: []want{{201, ""}, {403, "indices:data/write/index"}},
		},
		{
			name: "tenant-scoped role in its tenant", user: "ing", role: "ingest@analysts", tenant: "analysts", path: "/_bulk", status: 200,
			body: `{"index":{"_index":"logs-1","_id":"g1"}}
{"n":1}
{"index":{"_index":"other","_id":"g2"}}
{"n":2}
`,
			items: []want{{201, ""}, {403, "indices:data/write/index"}},
		},
		{
			name: "tenant-scoped role elsewhere", user: "ing2", role: "ingest@analysts", tenant: "executive", path: "/_bulk", status: 403,
			body: "{\"index\":{\"_index\":\"logs-1\",\"_id\":\"g3\"}}\n{\"n\":1}\n",
		},
		{
			name: "read gives no write", user: "r", role: "ix_read", tenant: "analysts", path: "/_bulk", status: 200,
			body:  "{\"index\":{\"_index\":\"logs-1\",\"_id\":\"r1\"}}\n{\"n\":1}\n",
			items: []want{{403, "indices:data/write/index"}},
		},
		{
			name: "not where it cannot read", user: "w2", role: "ix_write", tenant: "executive", path: "/_bulk", status: 403,
			body: "{\"index\":{\"_index\":\"logs-1\",\"_id\":\"x\"}}\n{\"n\":1}\n",
		},
		{
			name: "reader without index permissions", user: "bob", role: "reader", tenant: "analysts", path: "/_bulk", status: 403,
			body: "{\"index\":{\"_index\":\"logs-1\",\"_id\":\"x\"}}\n{\"n\":1}\n",
		},
		{
			name: "nobody", user: "carol", role: "nobody", tenant: "analysts", path: "/logs-1/_bulk", status: 403,
			body: "{\"index\":{\"_id\":\"x\"}}\n{\"n\":1}\n",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Do(t, "POST", tc.path, testserver.Token(t, tc.user, tc.role), tc.tenant, tc.body)
			mustStatus(t, r, tc.status)
			if tc.status != 200 {
				if got := get(t, r.JSON(t), "error.reason"); got != ipForbidden(tc.user, tc.tenant) {
					t.Fatalf("reason %q, want the unchanged 403", got)
				}
				return
			}
			errs, items := ipItems(t, r)
			if len(items) != len(tc.items) {
				t.Fatalf("%d items, want %d: %s", len(items), len(tc.items), r.Body)
			}
			refused := false
			for i, w := range tc.items {
				it := items[i]
				if it.status != w.status {
					t.Fatalf("item %d (%s %s): status %d, want %d: %s", i, it.action, it.index, it.status, w.status, r.Body)
				}
				if w.status != 403 {
					continue
				}
				refused = true
				want := fmt.Sprintf("no permissions for [%s] and User [name=%s] on index [%s] in tenant [%s]", w.action, tc.user, it.index, tc.tenant)
				if it.errType != "security_exception" || it.reason != want {
					t.Fatalf("item %d: error %s %q, want security_exception %q", i, it.errType, it.reason, want)
				}
			}
			if errs != refused {
				t.Fatalf("errors %v, want %v", errs, refused)
			}
		})
	}

	// What was refused is not there, what was granted is.
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/logs-1/_doc/b1", 200},
		{"GET", "/other/_doc/b2", 404},
		{"GET", "/logs-1/_doc/gone", 404},
		{"HEAD", "/logs-new", 404},
		{"HEAD", "/other-new", 404},
		{"HEAD", "/logs-new3", 200},
		{"GET", "/logs-1/_doc/d1", 404},
		{"GET", "/logs-1/_doc/r1", 404},
		{"GET", "/logs-1/_doc/g1", 200},
		{"GET", "/other/_doc/g2", 404},
		{"GET", "/other/_doc/keep", 200},
	} {
		mustStatus(t, s.Do(t, c.method, c.path, adm, "analysts", nil), c.want)
	}
	r := s.Do(t, "GET", "/other/_doc/keep", adm, "analysts", nil)
	if src := get(t, r.JSON(t), "_source"); fmt.Sprint(src) != "map[seed:true]" {
		t.Fatalf("other/keep changed by a refused update: %v", src)
	}
	mustStatus(t, s.Do(t, "GET", "/logs-1/_doc/x", adm, "executive", nil), 404)

	// The refusals are in the audit trail, with the items' indices.
	if err := s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := s.Inst.Trail.Query(audit.Filter{Actor: "w", Action: audit.ActionAccessDenied})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 1 || !strings.Contains(page.Results[0].Reason, "indices:data/write/index other") ||
		page.Results[0].Tenant != "analysts" || page.Results[0].Status != 403 {
		t.Fatalf("audit of refused bulk items: %+v", page.Results)
	}
}

// TestIndexPermissionFrozenAndLocked checks that index permissions do not
// get past a frozen or locked tenant.
func TestIndexPermissionFrozenAndLocked(t *testing.T) {
	s := startIndexPerms(t)
	adm := testserver.Token(t, "admin")
	wm := testserver.Token(t, "wm", "ix_stage")
	bob := testserver.Token(t, "bob")
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", adm, "", map[string]string{"id": "stage", "name": "Staging"}), 201)
	mustStatus(t, s.Do(t, "PUT", "/logs-1", adm, "stage", nil), 200)
	mustStatus(t, s.Do(t, "PUT", "/logs-d1", adm, "stage", nil), 200)
	bulk := "{\"index\":{\"_index\":\"logs-1\",\"_id\":\"f\"}}\n{\"n\":1}\n"
	for _, op := range []string{"freeze", "lock"} {
		t.Run(op, func(t *testing.T) {
			mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/stage/"+op, adm, "", nil), 200)
			for _, c := range []struct {
				tok, method, path string
				body              any
				want              int
			}{
				{wm, "PUT", "/logs-1/_doc/f", `{"n":1}`, 423},
				{wm, "POST", "/_bulk", bulk, 423},
				{wm, "PUT", "/logs-f", nil, 423},
				{wm, "DELETE", "/logs-d1", nil, 423},
				{bob, "PUT", "/logs-1/_doc/f", `{"n":1}`, 403},
			} {
				mustStatus(t, s.Do(t, c.method, c.path, c.tok, "stage", c.body), c.want)
			}
			mustStatus(t, s.Do(t, "POST", "/api/v1/tenants/stage/un"+op, adm, "", nil), 200)
		})
	}
	for _, c := range []struct {
		tok, method, path string
		want              int
	}{
		{adm, "GET", "/logs-1/_doc/f", 404},
		{adm, "HEAD", "/logs-f", 404},
		{adm, "HEAD", "/logs-d1", 200},
		{wm, "PUT", "/logs-1/_doc/f", 201},
		{wm, "PUT", "/logs-f", 200},
	} {
		mustStatus(t, s.Do(t, c.method, c.path, c.tok, "stage", `{}`), c.want)
	}
}
