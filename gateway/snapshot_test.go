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
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// startSnapshotServer starts a server with the repository "local" (a
// directory not created yet) and the tenant "stage" administered by
// alice, holding docs documents in its index "logs".
func startSnapshotServer(t *testing.T, docs int) (*testserver.Server, string) {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo", "local")
	s := testserver.Start(t, func(c *config.Config) {
		c.Auth.Passwords.BcryptCost = 4
		c.Snapshot.Repositories = map[string]string{"local": repo}
	})
	admin := testserver.Token(t, "admin")
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", admin, "", map[string]string{"id": "stage", "adminUsername": "alice"}), 201)
	indexDocs(t, s, testserver.Token(t, "alice", "analyst"), "stage", "logs", 0, docs)
	return s, repo
}

// indexDocs writes documents from..to-1 into tenant's index.
func indexDocs(t *testing.T, s *testserver.Server, token, tenant, idx string, from, to int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "{\"index\":{\"_id\":\"d%d\"}}\n{\"n\":%d,\"msg\":\"hello %d\"}\n", i, i, i)
	}
	r := s.Do(t, "POST", "/"+idx+"/_bulk?refresh=true", token, tenant, b.String())
	mustStatus(t, r, 200)
	if r.JSON(t)["errors"] != false {
		t.Fatalf("bulk errors: %s", r.Body)
	}
}

// countDocs counts a tenant's index through the API.
func countDocs(t *testing.T, s *testserver.Server, token, tenant, idx string) int {
	t.Helper()
	r := s.Do(t, "GET", "/"+idx+"/_count", token, tenant, nil)
	mustStatus(t, r, 200)
	return int(r.JSON(t)["count"].(float64))
}

// waitSnapshot polls _status until the snapshot (or its restore, when
// restore is set) ends, and returns the last _status entry.
func waitSnapshot(t *testing.T, s *testserver.Server, token, path string, restore bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := s.Do(t, "GET", path+"/_status", token, "", nil)
		mustStatus(t, r, 200)
		snaps := r.JSON(t)["snapshots"].([]any)
		if len(snaps) != 1 {
			t.Fatalf("_status: %s", r.Body)
		}
		st := snaps[0].(map[string]any)
		state := st["state"]
		if restore {
			rs, _ := st["restore"].(map[string]any)
			if rs == nil {
				t.Fatalf("_status has no restore: %s", r.Body)
			}
			state = rs["state"]
		}
		if state != "STARTED" && state != "IN_PROGRESS" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("still running: %s", r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// auditActions returns the actions, outcomes and targets of the audit
// records of action.
func auditRecords(t *testing.T, s *testserver.Server, action string) []audit.Record {
	t.Helper()
	if err := s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := s.Inst.Trail.Query(audit.Filter{Action: action, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	return page.Results
}

func TestSnapshotAPILifecycle(t *testing.T) {
	s, repo := startSnapshotServer(t, 30)
	admin := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")

	// The repository directory is created by the first snapshot.
	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Fatalf("the repository exists before the first snapshot: %v", err)
	}
	r := s.Do(t, "GET", "/_snapshot/local/_all", admin, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any); len(got) != 0 {
		t.Fatalf("_all of a new repository: %s", r.Body)
	}

	r = s.Do(t, "PUT", "/_snapshot/local/stage-1?wait_for_completion=true", admin, "", map[string]any{"tenant": "stage"})
	mustStatus(t, r, 200)
	snap := r.JSON(t)["snapshot"].(map[string]any)
	if snap["snapshot"] != "stage-1" || snap["state"] != "SUCCESS" || snap["uuid"] == "_na_" {
		t.Fatalf("created: %s", r.Body)
	}
	indices := snap["indices"].([]any)
	if len(indices) == 0 {
		t.Fatalf("no indices: %s", r.Body)
	}
	if sh := snap["shards"].(map[string]any); sh["failed"] != 0.0 || sh["total"] != sh["successful"] {
		t.Fatalf("shards: %v", sh)
	}
	meta := snap["metadata"].(map[string]any)
	if meta["tenant"] != "stage" {
		t.Fatalf("metadata: %v", meta)
	}
	var logsDocs float64 = -1
	for _, ix := range meta["indices"].([]any) {
		m := ix.(map[string]any)
		if m["tenant"] != "stage" {
			t.Fatalf("an index of another tenant in a tenant snapshot: %v", m)
		}
		if m["logical"] == "logs" {
			logsDocs = m["doc_count"].(float64)
		}
	}
	if logsDocs != 30 {
		t.Fatalf("logs has %v documents in the manifest, want 30: %v", logsDocs, meta)
	}

	// Same name again: OpenSearch's 400.
	r = s.Do(t, "PUT", "/_snapshot/local/stage-1", admin, "", map[string]any{"tenant": "stage"})
	mustStatus(t, r, 400)
	if !strings.Contains(string(r.Body), "invalid_snapshot_name_exception") || !strings.Contains(string(r.Body), "already exists") {
		t.Fatalf("same name: %s", r.Body)
	}

	// A pattern, not waited for: accepted, then _status follows it.
	r = s.Do(t, "PUT", "/_snapshot/local/all-1", admin, "", map[string]any{"indices": []string{"*"}})
	mustStatus(t, r, 200)
	if r.JSON(t)["accepted"] != true {
		t.Fatalf("not waited for: %s", r.Body)
	}
	st := waitSnapshot(t, s, admin, "/_snapshot/local/all-1", false)
	if st["state"] != "SUCCESS" || st["repository"] != "local" {
		t.Fatalf("_status: %v", st)
	}
	ss := st["shards_stats"].(map[string]any)
	if ss["done"] != ss["total"] || ss["total"].(float64) < float64(len(indices)) || ss["failed"] != 0.0 {
		t.Fatalf("shards_stats: %v", ss)
	}
	if tot := st["stats"].(map[string]any)["total"].(map[string]any); tot["size_in_bytes"].(float64) <= 0 || tot["file_count"].(float64) <= 0 {
		t.Fatalf("stats: %v", st["stats"])
	}

	r = s.Do(t, "GET", "/_snapshot/local/_all", admin, "", nil)
	mustStatus(t, r, 200)
	var names []string
	for _, x := range r.JSON(t)["snapshots"].([]any) {
		names = append(names, x.(map[string]any)["snapshot"].(string))
	}
	if !slices.Equal(names, []string{"all-1", "stage-1"}) {
		t.Fatalf("_all: %v", names)
	}
	r = s.Do(t, "GET", "/_snapshot/local/stage-1", admin, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any); len(got) != 1 || got[0].(map[string]any)["state"] != "SUCCESS" {
		t.Fatalf("get: %s", r.Body)
	}

	// Writes after the snapshot; a restore without overwrite is refused
	// and changes nothing, with overwrite it brings back the 30.
	indexDocs(t, s, alice, "stage", "logs", 30, 45)
	r = s.Do(t, "POST", "/_snapshot/local/stage-1/_restore?wait_for_completion=true", admin, "", map[string]any{})
	if r.Status < 400 || r.Status >= 500 {
		t.Fatalf("restore over existing indices without overwrite: %d %s", r.Status, r.Body)
	}
	if n := countDocs(t, s, alice, "stage", "logs"); n != 45 {
		t.Fatalf("a refused restore changed the index: %d documents", n)
	}
	r = s.Do(t, "POST", "/_snapshot/local/stage-1/_restore?wait_for_completion=true", admin, "", map[string]any{"overwrite": true})
	mustStatus(t, r, 200)
	res := r.JSON(t)["snapshot"].(map[string]any)
	if res["verified"] != true || len(res["indices"].([]any)) == 0 {
		t.Fatalf("restore: %s", r.Body)
	}
	if n := countDocs(t, s, alice, "stage", "logs"); n != 30 {
		t.Fatalf("after the restore: %d documents, want 30", n)
	}
	st = waitSnapshot(t, s, admin, "/_snapshot/local/stage-1", true)
	if rs := st["restore"].(map[string]any); rs["state"] != "SUCCESS" || rs["verified"] != true {
		t.Fatalf("_status after the restore: %v", rs)
	}

	// Clone into a new tenant, not waited for: the restoring admin
	// administers it, it holds the documents, and the source is intact.
	r = s.Do(t, "POST", "/_snapshot/local/stage-1/_restore", admin, "", map[string]any{"rename_tenant": "stage_copy"})
	mustStatus(t, r, 200)
	st = waitSnapshot(t, s, admin, "/_snapshot/local/stage-1", true)
	if rs := st["restore"].(map[string]any); rs["state"] != "SUCCESS" || rs["tenant"] != "stage_copy" {
		t.Fatalf("clone: %v", rs)
	}
	if n := countDocs(t, s, admin, "stage_copy", "logs"); n != 30 {
		t.Fatalf("the clone has %d documents, want 30", n)
	}
	if n := countDocs(t, s, alice, "stage", "logs"); n != 30 {
		t.Fatalf("the source has %d documents after the clone", n)
	}
	// Alice administers stage, not its clone: roles are not widened.
	if r := s.Do(t, "GET", "/logs/_count", alice, "stage_copy", nil); r.Status != 403 {
		t.Fatalf("alice reads the clone: %d %s", r.Status, r.Body)
	}

	r = s.Do(t, "DELETE", "/_snapshot/local/all-1", admin, "", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["acknowledged"] != true {
		t.Fatalf("delete: %s", r.Body)
	}
	r = s.Do(t, "GET", "/_snapshot/local/all-1", admin, "", nil)
	mustStatus(t, r, 404)
	if !strings.Contains(string(r.Body), "snapshot_missing_exception") || !strings.Contains(string(r.Body), "[local:all-1] is missing") {
		t.Fatalf("deleted: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "DELETE", "/_snapshot/local/all-1", admin, "", nil), 404)

	// Audited: who, which snapshot, the outcome.
	for action, want := range map[string][]string{
		"snapshot.create":  {"local:stage-1", "local:all-1"},
		"snapshot.restore": {"local:stage-1"},
		"snapshot.delete":  {"local:all-1"},
	} {
		recs := auditRecords(t, s, action)
		for _, target := range want {
			if !slices.ContainsFunc(recs, func(r audit.Record) bool {
				return r.Target == target && r.Actor == "admin" && r.Outcome == audit.OutcomeSuccess
			}) {
				t.Fatalf("no successful %s record of %s by admin: %+v", action, target, recs)
			}
		}
	}
	if recs := auditRecords(t, s, "snapshot.restore"); !slices.ContainsFunc(recs, func(r audit.Record) bool {
		return r.Outcome == audit.OutcomeFailure && r.Target == "local:stage-1"
	}) {
		t.Fatalf("the refused restore is not audited: %+v", recs)
	}
	if recs := auditRecords(t, s, "snapshot.create"); !slices.ContainsFunc(recs, func(r audit.Record) bool {
		return r.Tenant == "stage" && strings.Contains(string(r.After), `"tenant":"stage"`)
	}) {
		t.Fatalf("the tenant snapshot's record does not name the tenant: %+v", recs)
	}
}

func TestSnapshotPermissions(t *testing.T) {
	s, _ := startSnapshotServer(t, 5)
	admin := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst") // stage's admin
	bob := testserver.Token(t, "bob", "reader")      // administers nothing
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/everything?wait_for_completion=true", admin, "", nil), 200)

	// reason returns the 403's reason, failing unless it is a 403.
	reason := func(r *testserver.Response) string {
		t.Helper()
		mustStatus(t, r, 403)
		return r.JSON(t)["error"].(map[string]any)["reason"].(string)
	}

	// Alice snapshots, reads, restores and deletes her tenant's snapshots.
	r := s.Do(t, "PUT", "/_snapshot/local/mine?wait_for_completion=true", alice, "", map[string]any{"tenant": "stage"})
	mustStatus(t, r, 200)
	mustStatus(t, s.Do(t, "GET", "/_snapshot/local/mine", alice, "", nil), 200)
	mustStatus(t, s.Do(t, "GET", "/_snapshot/local/mine/_status", alice, "", nil), 200)
	r = s.Do(t, "GET", "/_snapshot/local/_all", alice, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any); len(got) != 1 || got[0].(map[string]any)["snapshot"] != "mine" {
		t.Fatalf("alice's _all shows more than her tenant's: %s", r.Body)
	}
	r = s.Do(t, "POST", "/_snapshot/local/mine/_restore?wait_for_completion=true", alice, "", map[string]any{"overwrite": true})
	mustStatus(t, r, 200)

	// Everything else is one 403, whether it exists or not.
	create := reason(s.Do(t, "PUT", "/_snapshot/local/x", alice, "", map[string]any{"tenant": "analysts"}))
	for name, r := range map[string]*testserver.Response{
		"a tenant that does not exist": s.Do(t, "PUT", "/_snapshot/local/x", alice, "", map[string]any{"tenant": "nope"}),
		"a pattern":                    s.Do(t, "PUT", "/_snapshot/local/x", alice, "", map[string]any{"indices": ".kibana*"}),
		"everything":                   s.Do(t, "PUT", "/_snapshot/local/x", alice, "", nil),
		"the global tenant":            s.Do(t, "PUT", "/_snapshot/local/x", alice, "", map[string]any{"tenant": "global"}),
	} {
		if got := reason(r); got != create {
			t.Fatalf("%s: %q, want the same 403 as another tenant's: %q", name, got, create)
		}
	}
	for _, op := range []struct{ method, suffix, action string }{
		{"GET", "", "get"}, {"GET", "/_status", "status"}, {"DELETE", "", "delete"}, {"POST", "/_restore", "restore"},
	} {
		theirs := reason(s.Do(t, op.method, "/_snapshot/local/everything"+op.suffix, alice, "", nil))
		missing := reason(s.Do(t, op.method, "/_snapshot/local/nothing-here"+op.suffix, alice, "", nil))
		if theirs != missing || !strings.Contains(theirs, "cluster:admin/snapshot/"+op.action) {
			t.Fatalf("%s %s: another's snapshot %q, a missing one %q: want one 403", op.method, op.suffix, theirs, missing)
		}
	}
	// Taking a name another tenant's snapshot has is the same 403 (a
	// name must not tell what others keep); her own name is a 400.
	if got := reason(s.Do(t, "PUT", "/_snapshot/local/everything", alice, "", map[string]any{"tenant": "stage"})); got != create {
		t.Fatalf("another's snapshot name: %q, want the same 403 as another tenant's: %q", got, create)
	}
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/mine", alice, "", map[string]any{"tenant": "stage"}), 400)
	// Restoring her snapshot into another tenant's selection is refused.
	reason(s.Do(t, "POST", "/_snapshot/local/mine/_restore", alice, "", map[string]any{"tenant": "analysts"}))
	// The repositories' directories are the server's.
	reason(s.Do(t, "GET", "/_snapshot", alice, "", nil))

	// Bob administers no tenant: nothing at all, not even _all.
	for _, p := range []string{"/_snapshot/local/_all", "/_snapshot/local/mine", "/_snapshot/local/mine/_status", "/_snapshot/nope/_all"} {
		reason(s.Do(t, "GET", p, bob, "", nil))
	}
	reason(s.Do(t, "PUT", "/_snapshot/local/b", bob, "", map[string]any{"tenant": "stage"}))

	// The refusals changed nothing and are audited.
	r = s.Do(t, "GET", "/_snapshot/local/_all", admin, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any); len(got) != 2 {
		t.Fatalf("after the refusals: %s", r.Body)
	}
	recs := auditRecords(t, s, audit.ActionAccessDenied)
	if !slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Actor == "alice" && strings.Contains(r.Reason, "snapshot/delete") }) ||
		!slices.ContainsFunc(recs, func(r audit.Record) bool { return r.Actor == "bob" }) {
		t.Fatalf("the 403s are not audited: %+v", recs)
	}
	// Alice's own snapshot and restore are audited under her name.
	if !slices.ContainsFunc(auditRecords(t, s, "snapshot.restore"), func(r audit.Record) bool {
		return r.Actor == "alice" && r.Tenant == "stage" && r.Outcome == audit.OutcomeSuccess
	}) {
		t.Fatal("alice's restore is not audited")
	}
}

func TestSnapshotBadRequests(t *testing.T) {
	s, _ := startSnapshotServer(t, 1)
	admin := testserver.Token(t, "admin")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		typ                string
	}{
		{"unknown repository", "PUT", "/_snapshot/nope/s", nil, 404, "repository_missing_exception"},
		{"unknown repository _all", "GET", "/_snapshot/nope/_all", nil, 404, "repository_missing_exception"},
		{"unknown repository restore", "POST", "/_snapshot/nope/s/_restore", nil, 404, "repository_missing_exception"},
		{"missing snapshot", "GET", "/_snapshot/local/none", nil, 404, "snapshot_missing_exception"},
		{"missing snapshot status", "GET", "/_snapshot/local/none/_status", nil, 404, "snapshot_missing_exception"},
		{"missing snapshot restore", "POST", "/_snapshot/local/none/_restore", nil, 404, "snapshot_missing_exception"},
		{"not JSON", "PUT", "/_snapshot/local/s", `{"tenant":`, 400, "parse_exception"},
		{"unknown field", "PUT", "/_snapshot/local/s", `{"tenants":"stage"}`, 400, "parse_exception"},
		{"indices not strings", "PUT", "/_snapshot/local/s", `{"indices":5}`, 400, "parse_exception"},
		{"trailing data", "PUT", "/_snapshot/local/s", `{"tenant":"stage"} {}`, 400, "parse_exception"},
		{"upper case name", "PUT", "/_snapshot/local/Snap", `{"tenant":"stage"}`, 400, "invalid_snapshot_name_exception"},
		{"name with underscore", "PUT", "/_snapshot/local/_snap", `{"tenant":"stage"}`, 400, "invalid_snapshot_name_exception"},
		{"name like a temp file", "PUT", "/_snapshot/local/a.tmp-1", `{"tenant":"stage"}`, 400, "invalid_snapshot_name_exception"},
		{"unknown parameter", "PUT", "/_snapshot/local/s?wait=true", `{"tenant":"stage"}`, 400, "illegal_argument_exception"},
		{"restore unknown field", "POST", "/_snapshot/local/s/_restore", `{"rename":"x"}`, 400, "parse_exception"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(t, c.method, c.path, admin, "", c.body)
			mustStatus(t, r, c.status)
			if got := r.JSON(t)["error"].(map[string]any)["type"]; got != c.typ {
				t.Fatalf("type %v, want %s: %s", got, c.typ, r.Body)
			}
		})
	}
	// Nothing was written by the refused requests.
	r := s.Do(t, "GET", "/_snapshot/local/_all", admin, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any); len(got) != 0 {
		t.Fatalf("refused requests left snapshots: %s", r.Body)
	}
	// A snapshot of a tenant that does not exist fails: waited for, with
	// the error; not waited for, as a FAILED snapshot that cannot be
	// restored, and whose name can be taken again.
	r = s.Do(t, "PUT", "/_snapshot/local/ghost?wait_for_completion=true", admin, "", map[string]any{"tenant": "nope"})
	mustStatus(t, r, 404)
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/ghost2", admin, "", map[string]any{"tenant": "nope"}), 200)
	st := waitSnapshot(t, s, admin, "/_snapshot/local/ghost2", false)
	if st["state"] != "FAILED" || st["reason"] == nil || st["reason"] == "" {
		t.Fatalf("_status of a failed snapshot: %v", st)
	}
	r = s.Do(t, "GET", "/_snapshot/local/ghost2", admin, "", nil)
	mustStatus(t, r, 200)
	if got := r.JSON(t)["snapshots"].([]any)[0].(map[string]any); got["state"] != "FAILED" {
		t.Fatalf("get of a failed snapshot: %v", got)
	}
	mustStatus(t, s.Do(t, "POST", "/_snapshot/local/ghost2/_restore", admin, "", nil), 409)
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/ghost2?wait_for_completion=true", admin, "", map[string]any{"tenant": "stage"}), 200)

	// The repositories, OpenSearch's shape, for superadmins.
	r = s.Do(t, "GET", "/_snapshot", admin, "", nil)
	mustStatus(t, r, 200)
	var repos map[string]struct {
		Type     string            `json:"type"`
		Settings map[string]string `json:"settings"`
	}
	if err := json.Unmarshal(r.Body, &repos); err != nil || repos["local"].Type != "fs" || repos["local"].Settings["location"] == "" {
		t.Fatalf("GET /_snapshot: %v %s", err, r.Body)
	}
	mustStatus(t, s.Do(t, "GET", "/_snapshot/nope", admin, "", nil), 404)
}

// TestSnapshotTenantAdminRestoreKeepsRoles checks that a tenant admin's
// restore of their tenant's snapshot brings back the indices but not the
// roles and mappings the snapshot holds (an instance-level role naming
// the tenant grants more than a tenant admin may grant), while a
// superadmin's restore writes them back.
func TestSnapshotTenantAdminRestoreKeepsRoles(t *testing.T) {
	s, _ := startSnapshotServer(t, 5)
	su := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst") // stage's admin
	eve := testserver.Token(t, "eve")
	mustStatus(t, s.Do(t, "PUT", securityAPI+"/roles/stage_reader", su, "",
		`{"tenant_permissions":[{"tenant_patterns":["stage"],"allowed_actions":["kibana_all_read"]}]}`), 201)
	mustStatus(t, s.Do(t, "PUT", securityAPI+"/rolesmapping/stage_reader", su, "", `{"users":["eve"]}`), 201)
	mustStatus(t, s.Do(t, "GET", "/logs/_count", eve, "stage", nil), 200)
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/mine?wait_for_completion=true", alice, "", map[string]any{"tenant": "stage"}), 200)

	// A superadmin takes eve's access away; alice restores her snapshot.
	mustStatus(t, s.Do(t, "DELETE", securityAPI+"/rolesmapping/stage_reader", su, "", nil), 200)
	indexDocs(t, s, alice, "stage", "logs", 5, 8)
	r := s.Do(t, "POST", "/_snapshot/local/mine/_restore?wait_for_completion=true", alice, "", map[string]any{"overwrite": true})
	mustStatus(t, r, 200)
	if got := countDocs(t, s, alice, "stage", "logs"); got != 5 {
		t.Fatalf("after alice's restore: %d documents, want the snapshot's 5", got)
	}
	mustStatus(t, s.Do(t, "GET", "/logs/_count", eve, "stage", nil), 403)

	// A superadmin's restore brings the mapping back.
	mustStatus(t, s.Do(t, "POST", "/_snapshot/local/mine/_restore?wait_for_completion=true", su, "", map[string]any{"overwrite": true}), 200)
	mustStatus(t, s.Do(t, "GET", "/logs/_count", eve, "stage", nil), 200)
}

// TestSnapshotCloneNeedsTenantCreate checks that a tenant admin without
// the right to create tenants is refused a clone at once (not after the
// restore has staged everything), and that nothing of the clone appears.
func TestSnapshotCloneNeedsTenantCreate(t *testing.T) {
	s, _ := startSnapshotServer(t, 3)
	alice := testserver.Token(t, "alice", "analyst") // stage's admin, no tenants/create
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/mine?wait_for_completion=true", alice, "", map[string]any{"tenant": "stage"}), 200)
	r := s.Do(t, "POST", "/_snapshot/local/mine/_restore", alice, "", map[string]any{"rename_tenant": "stage2"})
	mustStatus(t, r, 403)
	if left := s.Inst.Index.Catalog().List("custom:stage2"); len(left) != 0 {
		t.Fatalf("indices of the refused clone: %+v", left)
	}
	mustStatus(t, s.Do(t, "POST", "/_snapshot/local/mine/_restore?wait_for_completion=true", testserver.Token(t, "admin"), "",
		map[string]any{"rename_tenant": "stage2"}), 200)
}
