package gateway_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/dashboards"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// osdClient calls the OpenSearch Dashboards API as one user in one
// tenant, with the osd-xsrf header.
type osdClient struct {
	s      *testserver.Server
	token  string
	tenant string
}

func newOSD(t *testing.T, s *testserver.Server, u user, tenant string) osdClient {
	t.Helper()
	return osdClient{s: s, token: testserver.Token(t, u.name, u.roles...), tenant: tenant}
}

func (o osdClient) in(tenant string) osdClient { o.tenant = tenant; return o }

func (o osdClient) do(t *testing.T, method, path string, body any) *testserver.Response {
	t.Helper()
	return o.s.Do(t, method, path, o.token, o.tenant, body, "osd-xsrf", "true")
}

// want fails unless r has status, and returns the decoded body.
func want(t *testing.T, r *testserver.Response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if len(bytes.TrimSpace(r.Body)) == 0 {
		return nil
	}
	return r.JSON(t)
}

// wantOSDError checks OpenSearch Dashboards' error shape.
func wantOSDError(t *testing.T, r *testserver.Response, status int, message string) {
	t.Helper()
	m := want(t, r, status)
	if m["statusCode"] != float64(status) || m["error"] != http.StatusText(status) {
		t.Errorf("error body %s, want statusCode %d and error %q", r.Body, status, http.StatusText(status))
	}
	if msg, _ := m["message"].(string); !strings.Contains(msg, message) {
		t.Errorf("message %q, want it to contain %q", msg, message)
	}
}

// upload sends an NDJSON file as the multipart field "file", with extra
// form fields.
func (o osdClient) upload(t *testing.T, path string, ndjson []byte, fields ...string) *testserver.Response {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := w.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	f, err := w.CreateFormFile("file", "export.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(ndjson)
	w.Close()
	return o.s.Do(t, "POST", path, o.token, o.tenant, b.Bytes(), "osd-xsrf", "true", "Content-Type", w.FormDataContentType())
}

const (
	indexPatternBody = `{"attributes":{"title":"logs-*","timeFieldName":"@timestamp"}}`
	visBody          = `{"attributes":{"title":"Requests per minute","visState":"{\"type\":\"line\"}","kibanaSavedObjectMeta":{"searchSourceJSON":"{\"indexRefName\":\"kibanaSavedObjectMeta.searchSourceJSON.index\"}"}},"references":[{"name":"kibanaSavedObjectMeta.searchSourceJSON.index","type":"index-pattern","id":"ip1"}]}`
	dashBody         = `{"attributes":{"title":"Web overview","description":"traffic","panelsJSON":"[{\"panelIndex\":\"1\",\"panelRefName\":\"panel_0\"}]"},"references":[{"name":"panel_0","type":"visualization","id":"vis1"}]}`
)

// seedObjects creates ip1 ← vis1 ← dash1 in o's tenant.
func seedObjects(t *testing.T, o osdClient) {
	t.Helper()
	want(t, o.do(t, "POST", "/api/saved_objects/index-pattern/ip1", indexPatternBody), 200)
	want(t, o.do(t, "POST", "/api/saved_objects/visualization/vis1", visBody), 200)
	want(t, o.do(t, "POST", "/api/saved_objects/dashboard/dash1", dashBody), 200)
}

func TestSavedObjectsCRUD(t *testing.T) {
	s := testserver.Start(t)
	o := newOSD(t, s, alice, "analysts")

	seedObjects(t, o)
	got := want(t, o.do(t, "GET", "/api/saved_objects/dashboard/dash1", nil), 200)
	if got["type"] != "dashboard" || got["id"] != "dash1" || got["version"] == "" || got["updated_at"] == "" {
		t.Fatalf("GET dashboard: %v", got)
	}
	if attrs := got["attributes"].(map[string]any); attrs["title"] != "Web overview" {
		t.Errorf("attributes %v", attrs)
	}
	refs := got["references"].([]any)
	if len(refs) != 1 || refs[0].(map[string]any)["id"] != "vis1" {
		t.Errorf("references %v", refs)
	}

	// Stored in OpenSearch Dashboards' own format in the tenant's .kibana.
	doc, err := s.Inst.Index.SystemView(tenants.CustomRef("analysts")).Get(t.Context(), ".kibana", "dashboard:dash1")
	if err != nil {
		t.Fatalf("raw document: %v", err)
	}
	var raw map[string]json.RawMessage
	json.Unmarshal(doc.Source, &raw)
	for _, k := range []string{"type", "dashboard", "references", "updated_at"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("stored document lacks %q: %s", k, doc.Source)
		}
	}
	if v := got["version"]; v != dashboards.EncodeVersion(doc.SeqNo, 1) {
		t.Errorf("version %v, want base64 of [seq_no, primary_term] = %s", v, dashboards.EncodeVersion(doc.SeqNo, 1))
	}

	// Update with the current version, then with the stale one.
	v1 := got["version"].(string)
	upd := want(t, o.do(t, "PUT", "/api/saved_objects/dashboard/dash1", map[string]any{"attributes": map[string]any{"title": "Renamed"}, "version": v1}), 200)
	if upd["version"] == v1 || upd["attributes"].(map[string]any)["title"] != "Renamed" {
		t.Errorf("update answered %v", upd)
	}
	wantOSDError(t, o.do(t, "PUT", "/api/saved_objects/dashboard/dash1", map[string]any{"attributes": map[string]any{"title": "Lost"}, "version": v1}), 409,
		"Saved object [dashboard/dash1] conflict")
	after := want(t, o.do(t, "GET", "/api/saved_objects/dashboard/dash1", nil), 200)
	attrs := after["attributes"].(map[string]any)
	if attrs["title"] != "Renamed" || attrs["description"] != "traffic" {
		t.Errorf("after update: %v (partial update must keep description)", attrs)
	}
	wantOSDError(t, o.do(t, "PUT", "/api/saved_objects/dashboard/dash1", map[string]any{"attributes": map[string]any{}, "version": "garbage"}), 400, "Invalid version [garbage]")

	// Create over an existing id: conflict, unless overwrite.
	wantOSDError(t, o.do(t, "POST", "/api/saved_objects/dashboard/dash1", dashBody), 409, "Saved object [dashboard/dash1] conflict")
	want(t, o.do(t, "POST", "/api/saved_objects/dashboard/dash1?overwrite=true", dashBody), 200)

	// Generated id.
	gen := want(t, o.do(t, "POST", "/api/saved_objects/index-pattern", indexPatternBody), 200)
	if id, _ := gen["id"].(string); len(id) != 36 {
		t.Errorf("generated id %q, want a UUID", id)
	}

	// Validation.
	wantOSDError(t, o.do(t, "POST", "/api/saved_objects/widget/w1", `{"attributes":{}}`), 400, "Unsupported saved object type: 'widget'")
	wantOSDError(t, o.do(t, "GET", "/api/saved_objects/widget/w1", nil), 400, "Unsupported saved object type")
	wantOSDError(t, o.do(t, "POST", "/api/saved_objects/dashboard/broken",
		`{"attributes":{"title":"x","panelsJSON":"[{\"panelRefName\":\"panel_7\"}]"},"references":[]}`), 400, "names reference [panel_7], which is not in references")
	wantOSDError(t, o.do(t, "POST", "/api/saved_objects/dashboard/typo", `{"attributes":{"title":"x"},"refs":[]}`), 400, "[request body.refs]: definition for this key is missing")
	// A reference to a missing object is accepted and reported.
	dangling := want(t, o.do(t, "POST", "/api/saved_objects/dashboard/dangling",
		`{"attributes":{"title":"x","panelsJSON":"[{\"panelRefName\":\"panel_0\"}]"},"references":[{"name":"panel_0","type":"visualization","id":"nope"}]}`), 200)
	if mr, _ := dangling["missingReferences"].([]any); len(mr) != 1 || mr[0].(map[string]any)["id"] != "nope" {
		t.Errorf("missingReferences %v", dangling["missingReferences"])
	}

	// Delete.
	if m := want(t, o.do(t, "DELETE", "/api/saved_objects/dashboard/dash1", nil), 200); len(m) != 0 {
		t.Errorf("DELETE answered %v, want {}", m)
	}
	wantOSDError(t, o.do(t, "GET", "/api/saved_objects/dashboard/dash1", nil), 404, "Saved object [dashboard/dash1] not found")
	wantOSDError(t, o.do(t, "DELETE", "/api/saved_objects/dashboard/dash1", nil), 404, "Saved object [dashboard/dash1] not found")
	// A tenant without any saved object yet.
	wantOSDError(t, o.in("executive").do(t, "GET", "/api/saved_objects/dashboard/dash1", nil), 404, "Saved object [dashboard/dash1] not found")
}

func ids(t *testing.T, m map[string]any) []string {
	t.Helper()
	var out []string
	for _, o := range m["saved_objects"].([]any) {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

func TestSavedObjectsFind(t *testing.T) {
	s := testserver.Start(t)
	o := newOSD(t, s, alice, "analysts")
	seedObjects(t, o)
	for _, title := range []string{"Alpha errors", "Beta latency", "Gamma errors", "Delta traffic"} {
		body := strings.Replace(visBody, "Requests per minute", title, 1)
		want(t, o.do(t, "POST", "/api/saved_objects/visualization/"+strings.ToLower(strings.Fields(title)[0]), body), 200)
	}
	// An object of another type that mentions "errors" must not show up.
	want(t, o.do(t, "POST", "/api/saved_objects/search/s1", `{"attributes":{"title":"errors search"}}`), 200)

	t.Run("type and paging", func(t *testing.T) {
		m := want(t, o.do(t, "GET", "/api/saved_objects/_find?type=visualization&per_page=2&page=2&sort_field=title", nil), 200)
		if m["total"] != float64(5) || m["page"] != float64(2) || m["per_page"] != float64(2) {
			t.Errorf("find: %v", m)
		}
		if got := ids(t, m); !slices.Equal(got, []string{"delta", "gamma"}) {
			t.Errorf("page 2 sorted by title = %v, want [delta gamma]", got)
		}
		m = want(t, o.do(t, "GET", "/api/saved_objects/_find?type=visualization&sort_field=title&sort_order=desc&per_page=1", nil), 200)
		if got := ids(t, m); !slices.Equal(got, []string{"vis1"}) {
			t.Errorf("first by title desc = %v, want [vis1] (Requests per minute)", got)
		}
	})
	t.Run("search", func(t *testing.T) {
		m := want(t, o.do(t, "GET", "/api/saved_objects/_find?type=visualization&search=errors&search_fields=title&sort_field=title", nil), 200)
		if got := ids(t, m); !slices.Equal(got, []string{"alpha", "gamma"}) {
			t.Errorf("search errors = %v", got)
		}
		m = want(t, o.do(t, "GET", "/api/saved_objects/_find?type=visualization&type=search&search=err*", nil), 200)
		if got := ids(t, m); len(got) != 3 || !slices.Contains(got, "s1") {
			t.Errorf("search err* over two types = %v", got)
		}
		m = want(t, o.do(t, "GET", "/api/saved_objects/_find?type=visualization&search=alpha%20errors&default_search_operator=AND", nil), 200)
		if got := ids(t, m); !slices.Equal(got, []string{"alpha"}) {
			t.Errorf("AND search = %v", got)
		}
	})
	t.Run("has_reference and fields", func(t *testing.T) {
		m := want(t, o.do(t, "GET", `/api/saved_objects/_find?type=dashboard&has_reference=`+`%7B%22type%22%3A%22visualization%22%2C%22id%22%3A%22vis1%22%7D`, nil), 200)
		if got := ids(t, m); !slices.Equal(got, []string{"dash1"}) {
			t.Errorf("has_reference vis1 = %v", got)
		}
		m = want(t, o.do(t, "GET", `/api/saved_objects/_find?type=dashboard&has_reference=`+`%7B%22type%22%3A%22index-pattern%22%2C%22id%22%3A%22vis1%22%7D`, nil), 200)
		if m["total"] != float64(0) {
			t.Errorf("has_reference with the wrong type matched: %v", m)
		}
		m = want(t, o.do(t, "GET", "/api/saved_objects/_find?type=dashboard&fields=title", nil), 200)
		attrs := m["saved_objects"].([]any)[0].(map[string]any)["attributes"].(map[string]any)
		if len(attrs) != 1 || attrs["title"] != "Web overview" {
			t.Errorf("fields=title gave attributes %v", attrs)
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		wantOSDError(t, o.do(t, "GET", "/api/saved_objects/_find", nil), 400, "[request query.type]")
		wantOSDError(t, o.do(t, "GET", "/api/saved_objects/_find?type=dashboard&bogus=1", nil), 400, "bogus")
		wantOSDError(t, o.do(t, "GET", "/api/saved_objects/_find?type=dashboard&type=visualization&sort_field=title", nil), 400, "not a root property")
		m := want(t, o.do(t, "GET", "/api/saved_objects/_find?type=widget", nil), 200)
		if m["total"] != float64(0) {
			t.Errorf("unknown type found %v", m)
		}
	})
}

func TestSavedObjectsBulk(t *testing.T) {
	s := testserver.Start(t)
	o := newOSD(t, s, alice, "analysts")
	seedObjects(t, o)

	m := want(t, o.do(t, "POST", "/api/saved_objects/_bulk_create", `[
		{"type":"index-pattern","id":"ip2","attributes":{"title":"metrics-*"}},
		{"type":"index-pattern","id":"ip1","attributes":{"title":"dup"}},
		{"type":"widget","id":"w","attributes":{}}]`), 200)
	items := m["saved_objects"].([]any)
	if items[0].(map[string]any)["version"] == nil {
		t.Errorf("created item: %v", items[0])
	}
	if e := items[1].(map[string]any)["error"].(map[string]any); e["statusCode"] != float64(409) || e["message"] != "Saved object [index-pattern/ip1] conflict" {
		t.Errorf("conflict item: %v", items[1])
	}
	if e := items[2].(map[string]any)["error"].(map[string]any); e["statusCode"] != float64(400) {
		t.Errorf("unsupported item: %v", items[2])
	}
	want(t, o.do(t, "POST", "/api/saved_objects/_bulk_create?overwrite=true", `[{"type":"index-pattern","id":"ip1","attributes":{"title":"logs-*"}}]`), 200)

	m = want(t, o.do(t, "POST", "/api/saved_objects/_bulk_get", `[{"type":"dashboard","id":"dash1"},{"type":"visualization","id":"missing"}]`), 200)
	items = m["saved_objects"].([]any)
	if items[0].(map[string]any)["id"] != "dash1" || items[0].(map[string]any)["attributes"] == nil {
		t.Errorf("bulk_get found: %v", items[0])
	}
	if e := items[1].(map[string]any)["error"].(map[string]any); e["statusCode"] != float64(404) || e["message"] != "Saved object [visualization/missing] not found" {
		t.Errorf("bulk_get missing: %v", items[1])
	}

	stale := items[0].(map[string]any)["version"].(string)
	want(t, o.do(t, "PUT", "/api/saved_objects/dashboard/dash1", `{"attributes":{"title":"v2"}}`), 200)
	m = want(t, o.do(t, "POST", "/api/saved_objects/_bulk_update", `[
		{"type":"index-pattern","id":"ip2","attributes":{"title":"metrics-2-*"}},
		{"type":"dashboard","id":"dash1","attributes":{"title":"lost"},"version":"`+stale+`"},
		{"type":"search","id":"nope","attributes":{"title":"x"}}]`), 200)
	items = m["saved_objects"].([]any)
	if items[0].(map[string]any)["attributes"].(map[string]any)["title"] != "metrics-2-*" {
		t.Errorf("bulk_update ok item: %v", items[0])
	}
	if e := items[1].(map[string]any)["error"].(map[string]any); e["statusCode"] != float64(409) {
		t.Errorf("bulk_update stale item: %v", items[1])
	}
	if e := items[2].(map[string]any)["error"].(map[string]any); e["statusCode"] != float64(404) {
		t.Errorf("bulk_update missing item: %v", items[2])
	}
}

func TestSavedObjectsXSRF(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, alice.name, alice.roles...)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/saved_objects/index-pattern/ip1", indexPatternBody},
		{"PUT", "/api/saved_objects/index-pattern/ip1", `{"attributes":{}}`},
		{"DELETE", "/api/saved_objects/index-pattern/ip1", ""},
		{"POST", "/api/saved_objects/_bulk_get", `[]`},
		{"POST", "/api/shorten_url", `{"url":"/app/x"}`},
	} {
		var body any
		if c.body != "" {
			body = c.body
		}
		wantOSDError(t, s.Do(t, c.method, c.path, tok, "analysts", body), 400, "Request must contain a osd-xsrf header.")
	}
	// Any value will do, as in OpenSearch Dashboards; GET needs none.
	want(t, s.Do(t, "POST", "/api/saved_objects/index-pattern/ip1", tok, "analysts", indexPatternBody, "osd-xsrf", "anything"), 200)
	want(t, s.Do(t, "GET", "/api/saved_objects/index-pattern/ip1", tok, "analysts", nil), 200)
	// Errors of the API are in OpenSearch Dashboards' shape, 401 included.
	wantOSDError(t, s.Do(t, "GET", "/api/saved_objects/index-pattern/ip1", "", "analysts", nil), 401, "authentication required")
}

func TestSavedObjectsTenantIsolation(t *testing.T) {
	s := testserver.Start(t)
	a := newOSD(t, s, alice, "analysts")
	b := newOSD(t, s, bob, "analysts")
	c := newOSD(t, s, carol, "analysts")
	ad := newOSD(t, s, admin, "executive")
	titles := map[string]osdClient{
		"analysts": a, "executive": ad, "alice-private": a.in("private"), "bob-private": b.in("private"),
		"global": a.in("global"), "carol-private": c.in("private"),
	}
	for title, o := range titles {
		want(t, o.do(t, "POST", "/api/saved_objects/index-pattern/same", `{"attributes":{"title":"`+title+`"}}`), 200)
	}
	for title, o := range titles {
		got := want(t, o.do(t, "GET", "/api/saved_objects/index-pattern/same", nil), 200)
		if got["attributes"].(map[string]any)["title"] != title {
			t.Errorf("%s reads %v", title, got["attributes"])
		}
		m := want(t, o.do(t, "GET", "/api/saved_objects/_find?type=index-pattern", nil), 200)
		if m["total"] != float64(1) {
			t.Errorf("%s finds %v", title, m)
		}
	}

	// bob reads analysts but may not write there, in any way.
	want(t, b.do(t, "GET", "/api/saved_objects/index-pattern/same", nil), 200)
	want(t, b.do(t, "POST", "/api/saved_objects/_bulk_get", `[{"type":"index-pattern","id":"same"}]`), 200)
	if r := b.do(t, "POST", "/api/saved_objects/_export", `{"type":"index-pattern"}`); r.Status != 200 {
		t.Errorf("bob's export: %d %s", r.Status, r.Body)
	}
	denied := "no permissions for [write] and User [name=bob] on tenant [analysts]"
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/api/saved_objects/index-pattern/new", indexPatternBody},
		{"POST", "/api/saved_objects/url/u1", `{"attributes":{"url":"/app/x"}}`},
		{"POST", "/api/saved_objects/index-pattern/same?overwrite=true", indexPatternBody},
		{"PUT", "/api/saved_objects/index-pattern/same", `{"attributes":{"title":"bob"}}`},
		{"DELETE", "/api/saved_objects/index-pattern/same", ""},
		{"POST", "/api/saved_objects/_bulk_create", `[{"type":"config","id":"2.0.0","attributes":{}}]`},
		{"POST", "/api/saved_objects/_bulk_update", `[{"type":"index-pattern","id":"same","attributes":{}}]`},
	} {
		var body any
		if w.body != "" {
			body = w.body
		}
		wantOSDError(t, b.do(t, w.method, w.path, body), 403, denied)
	}
	wantOSDError(t, b.upload(t, "/api/saved_objects/_import", []byte(`{"type":"config","id":"x","attributes":{}}`)), 403, denied)
	wantOSDError(t, b.upload(t, "/api/saved_objects/_resolve_import_errors", []byte(`{"type":"config","id":"x","attributes":{}}`), "retries", "[]"), 403, denied)
	if got := want(t, a.do(t, "GET", "/api/saved_objects/index-pattern/same", nil), 200); got["attributes"].(map[string]any)["title"] != "analysts" {
		t.Errorf("analysts changed: %v", got)
	}

	// carol has no access to analysts; an unknown tenant gives the same 403.
	wantOSDError(t, c.do(t, "GET", "/api/saved_objects/index-pattern/same", nil), 403, "no permissions for [read] and User [name=carol] on tenant [analysts]")
	wantOSDError(t, c.in("no_such_tenant").do(t, "GET", "/api/saved_objects/index-pattern/same", nil), 403, "no permissions for [read] and User [name=carol] on tenant [no_such_tenant]")
}

// ndjsonLines decodes an export.
func ndjsonLines(t *testing.T, body []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("export line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func importErrors(t *testing.T, m map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		e := e.(map[string]any)
		out[e["type"].(string)+":"+e["id"].(string)] = e["error"].(map[string]any)
	}
	return out
}

func TestSavedObjectsExportImport(t *testing.T) {
	s := testserver.Start(t)
	src := newOSD(t, s, alice, "private")
	seedObjects(t, src)

	r := src.do(t, "POST", "/api/saved_objects/_export", `{"objects":[{"type":"dashboard","id":"dash1"}],"includeReferencesDeep":true}`)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/ndjson" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v %s", r.Status, r.Header, r.Body)
	}
	lines := ndjsonLines(t, r.Body)
	var order []string
	for _, l := range lines[:len(lines)-1] {
		order = append(order, l["type"].(string)+"/"+l["id"].(string))
	}
	if !slices.Equal(order, []string{"index-pattern/ip1", "visualization/vis1", "dashboard/dash1"}) {
		t.Errorf("export order %v, want referenced objects first", order)
	}
	if d := lines[len(lines)-1]; d["exportedCount"] != float64(3) || d["missingRefCount"] != float64(0) {
		t.Errorf("export details %v", d)
	}
	r = src.do(t, "POST", "/api/saved_objects/_export", `{"type":["dashboard"],"excludeExportDetails":true}`)
	if got := ndjsonLines(t, r.Body); len(got) != 1 || got[0]["id"] != "dash1" {
		t.Errorf("export by type without details: %s", r.Body)
	}
	// search picks the objects of the types to export.
	r = src.do(t, "POST", "/api/saved_objects/_export", `{"type":["dashboard","visualization"],"search":"web*","excludeExportDetails":true}`)
	if got := ndjsonLines(t, r.Body); len(got) != 1 || got[0]["id"] != "dash1" {
		t.Errorf("export by search: %s", r.Body)
	}
	r = src.do(t, "POST", "/api/saved_objects/_export", `{"type":"dashboard","search":"nomatchatall"}`)
	if got := ndjsonLines(t, r.Body); len(got) != 1 || got[0]["exportedCount"] != float64(0) {
		t.Errorf("export by search matching nothing: %s", r.Body)
	}
	wantOSDError(t, src.do(t, "POST", "/api/saved_objects/_export", `{"objects":[{"type":"dashboard","id":"dash1"}],"search":"x"}`), 400, "search")
	// Titles are text; ids "." and ".." are not ids.
	wantOSDError(t, src.do(t, "POST", "/api/saved_objects/visualization/v9", `{"attributes":{"title":123}}`), 400, "[title] must be a string")
	wantOSDError(t, src.do(t, "POST", "/api/saved_objects/config/..", `{"attributes":{}}`), 400, "not allowed")
	wantOSDError(t, src.do(t, "GET", "/api/saved_objects/_find?type=dashboard&page=3037000500&per_page=3037000500", nil), 400, "page")
	wantOSDError(t, src.do(t, "POST", "/api/saved_objects/_export", `{"objects":[{"type":"dashboard","id":"nope"}]}`), 400, "dashboard/nope")
	wantOSDError(t, src.do(t, "POST", "/api/saved_objects/_export", `{}`), 400, `Either "type" or "objects" are required.`)
	export := src.do(t, "POST", "/api/saved_objects/_export", `{"objects":[{"type":"dashboard","id":"dash1"}],"includeReferencesDeep":true}`).Body

	dst := src.in("analysts")
	m := want(t, dst.upload(t, "/api/saved_objects/_import", export), 200)
	if m["success"] != true || m["successCount"] != float64(3) {
		t.Fatalf("import: %v", m)
	}
	res := m["successResults"].([]any)[2].(map[string]any)
	if res["type"] != "dashboard" || res["meta"].(map[string]any)["title"] != "Web overview" || res["meta"].(map[string]any)["icon"] != "dashboardApp" {
		t.Errorf("success result %v", res)
	}
	// Round trip: the target exports the same objects.
	again := ndjsonLines(t, dst.do(t, "POST", "/api/saved_objects/_export", `{"objects":[{"type":"dashboard","id":"dash1"}],"includeReferencesDeep":true}`).Body)
	orig := ndjsonLines(t, export)
	for i := range orig[:len(orig)-1] {
		for _, k := range []string{"type", "id", "attributes", "references"} {
			a, _ := json.Marshal(orig[i][k])
			b, _ := json.Marshal(again[i][k])
			if !bytes.Equal(a, b) {
				t.Errorf("object %d %s: exported %s, after import %s", i, k, a, b)
			}
		}
	}

	// Again: conflicts; with overwrite: overwritten; with new copies:
	// new ids and rewritten references; both flags: 400.
	errs := importErrors(t, want(t, dst.upload(t, "/api/saved_objects/_import", export), 200))
	if len(errs) != 3 || errs["dashboard:dash1"]["type"] != "conflict" {
		t.Errorf("second import errors %v", errs)
	}
	m = want(t, dst.upload(t, "/api/saved_objects/_import?overwrite=true", export), 200)
	if m["success"] != true || m["successResults"].([]any)[0].(map[string]any)["overwrite"] != true {
		t.Errorf("overwrite import %v", m)
	}
	m = want(t, dst.upload(t, "/api/saved_objects/_import?createNewCopies=true", export), 200)
	newIDs := map[string]string{}
	for _, x := range m["successResults"].([]any) {
		x := x.(map[string]any)
		newIDs[x["id"].(string)], _ = x["destinationId"].(string)
	}
	if m["success"] != true || len(newIDs["dash1"]) != 36 || len(newIDs["vis1"]) != 36 {
		t.Fatalf("createNewCopies import %v", m)
	}
	dash := want(t, dst.do(t, "GET", "/api/saved_objects/dashboard/"+newIDs["dash1"], nil), 200)
	if ref := dash["references"].([]any)[0].(map[string]any); ref["id"] != newIDs["vis1"] {
		t.Errorf("copied dashboard references %v, want the new visualization %s", ref, newIDs["vis1"])
	}
	if dash["originId"] != "dash1" {
		t.Errorf("copied dashboard originId %v", dash["originId"])
	}
	wantOSDError(t, dst.upload(t, "/api/saved_objects/_import?overwrite=true&createNewCopies=true", export), 400, "cannot use [overwrite] with [createNewCopies]")
}

// osdExports are the real OpenSearch Dashboards exports in
// ../shared/fixtures/osd-exports (present in CI).
func osdExports(t *testing.T) map[string][]byte {
	t.Helper()
	dir := testserver.OSDFixtures(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if err != nil || len(files) != 3 {
		t.Fatalf("want 3 exports in %s, got %v (%v)", dir, files, err)
	}
	out := map[string][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = raw
	}
	return out
}

func TestImportOSDExports(t *testing.T) {
	s := testserver.Start(t)
	for name, raw := range osdExports(t) {
		t.Run(name, func(t *testing.T) {
			// Each into its own tenant: nginx and haproxy share ids.
			tenant := map[string]string{"nginx-1.0.0.ndjson": "analysts", "apache-1.0.0.ndjson": "global", "haproxy-1.0.0.ndjson": "private"}[name]
			o := newOSD(t, s, alice, tenant)
			lines := ndjsonLines(t, raw)
			objects := lines[:len(lines)-1]
			m := want(t, o.upload(t, "/api/saved_objects/_import", raw), 200)
			if m["success"] != true || m["successCount"] != float64(len(objects)) {
				t.Fatalf("import: %s", mustJSON(m))
			}
			for _, obj := range objects {
				got := want(t, o.do(t, "GET", "/api/saved_objects/"+obj["type"].(string)+"/"+obj["id"].(string), nil), 200)
				for _, k := range []string{"attributes", "references", "migrationVersion"} {
					if a, b := mustJSON(obj[k]), mustJSON(got[k]); a != b {
						t.Errorf("%s/%s %s changed:\nfile %.300s\ngot  %.300s", obj["type"], obj["id"], k, a, b)
					}
				}
			}
			// The dashboards find their panels.
			f := want(t, o.do(t, "GET", "/api/saved_objects/_find?type=dashboard&per_page=100", nil), 200)
			if f["total"] == float64(0) {
				t.Errorf("no dashboard after import")
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSavedObjectsImportErrors(t *testing.T) {
	s := testserver.Start(t)
	o := newOSD(t, s, alice, "analysts")
	want(t, o.do(t, "POST", "/api/saved_objects/index-pattern/ip1", indexPatternBody), 200)
	file := []byte(strings.Join([]string{
		`{"type":"index-pattern","id":"ip1","attributes":{"title":"logs-*"},"references":[]}`,
		`{"type":"visualization-visbuilder","id":"vb1","attributes":{"title":"builder"},"references":[]}`,
		`{"type":"visualization","id":"v-missing","attributes":{"title":"orphan"},"references":[{"name":"search_0","type":"search","id":"gone"}]}`,
		`{"type":"visualization","id":"v-ok","attributes":{"title":"fine"},"references":[{"name":"kibanaSavedObjectMeta.searchSourceJSON.index","type":"index-pattern","id":"ip1"}]}`,
		`{"exportedCount":4,"missingRefCount":0,"missingReferences":[]}`,
	}, "\n"))
	m := want(t, o.upload(t, "/api/saved_objects/_import", file), 200)
	errs := importErrors(t, m)
	if m["success"] != false || m["successCount"] != float64(1) {
		t.Errorf("import %s", mustJSON(m))
	}
	if errs["index-pattern:ip1"]["type"] != "conflict" || errs["visualization-visbuilder:vb1"]["type"] != "unsupported_type" {
		t.Errorf("errors %s", mustJSON(errs))
	}
	if e := errs["visualization:v-missing"]; e["type"] != "missing_references" || mustJSON(e["references"]) != `[{"id":"gone","type":"search"}]` {
		t.Errorf("missing_references error %s", mustJSON(e))
	}

	// Resolve: overwrite ip1, point the orphan at an existing search.
	want(t, o.do(t, "POST", "/api/saved_objects/search/s-new", `{"attributes":{"title":"replacement"}}`), 200)
	retries := `[{"type":"index-pattern","id":"ip1","overwrite":true,"replaceReferences":[]},
		{"type":"visualization","id":"v-missing","overwrite":false,"replaceReferences":[{"type":"search","from":"gone","to":"s-new"}]}]`
	m = want(t, o.upload(t, "/api/saved_objects/_resolve_import_errors", file, "retries", retries), 200)
	if m["success"] != true || m["successCount"] != float64(2) {
		t.Errorf("resolve %s", mustJSON(m))
	}
	v := want(t, o.do(t, "GET", "/api/saved_objects/visualization/v-missing", nil), 200)
	if mustJSON(v["references"]) != `[{"id":"s-new","name":"search_0","type":"search"}]` {
		t.Errorf("resolved references %s", mustJSON(v["references"]))
	}

	// Ambiguous conflict: two copies made from v-ok exist in another
	// tenant, and the original arrives there without flags.
	other := o.in("private")
	want(t, other.do(t, "POST", "/api/saved_objects/index-pattern/ip1", indexPatternBody), 200)
	one := []byte(`{"type":"visualization","id":"v-ok","attributes":{"title":"fine"},"references":[{"name":"kibanaSavedObjectMeta.searchSourceJSON.index","type":"index-pattern","id":"ip1"}]}`)
	want(t, other.upload(t, "/api/saved_objects/_import?createNewCopies=true", one), 200)
	errs = importErrors(t, want(t, other.upload(t, "/api/saved_objects/_import", one), 200))
	if e := errs["visualization:v-ok"]; e["type"] != "conflict" || len(e["destinationId"].(string)) != 36 {
		t.Errorf("one copy: %s, want a conflict with its destinationId", mustJSON(errs))
	}
	want(t, other.upload(t, "/api/saved_objects/_import?createNewCopies=true", one), 200)
	errs = importErrors(t, want(t, other.upload(t, "/api/saved_objects/_import", one), 200))
	if e := errs["visualization:v-ok"]; e["type"] != "ambiguous_conflict" || len(e["destinations"].([]any)) != 2 {
		t.Errorf("two copies: %s, want ambiguous_conflict with 2 destinations", mustJSON(errs))
	}

	// Bad uploads.
	wantOSDError(t, o.upload(t, "/api/saved_objects/_import", []byte("not json\n")), 400, "line 1")
	wantOSDError(t, o.do(t, "POST", "/api/saved_objects/_import", `{}`), 400, "[request body.file]")
}

func TestSavedObjectsCopy(t *testing.T) {
	s := testserver.Start(t)
	priv := newOSD(t, s, alice, "private")
	seedObjects(t, priv)
	publish := `{"objects":[{"type":"dashboard","id":"dash1"}],"target_tenant":"analysts","includeReferences":true,"createNewCopies":true}`

	m := want(t, priv.do(t, "POST", "/api/saved_objects/_copy", publish), 200)
	if m["success"] != true || m["successCount"] != float64(3) {
		t.Fatalf("copy %s", mustJSON(m))
	}
	dest := map[string]string{}
	for _, x := range m["successResults"].([]any) {
		x := x.(map[string]any)
		dest[x["id"].(string)] = x["destinationId"].(string)
	}
	shared := priv.in("analysts")
	dash := want(t, shared.do(t, "GET", "/api/saved_objects/dashboard/"+dest["dash1"], nil), 200)
	if mustJSON(dash["references"]) != `[{"id":"`+dest["vis1"]+`","name":"panel_0","type":"visualization"}]` {
		t.Errorf("copied dashboard references %s, want the copied visualization %s", mustJSON(dash["references"]), dest["vis1"])
	}
	vis := want(t, shared.do(t, "GET", "/api/saved_objects/visualization/"+dest["vis1"], nil), 200)
	if vis["references"].([]any)[0].(map[string]any)["id"] != dest["ip1"] {
		t.Errorf("copied visualization references %s", mustJSON(vis["references"]))
	}
	// bob reads analysts; alice's private tenant stays hers.
	want(t, newOSD(t, s, bob, "analysts").do(t, "GET", "/api/saved_objects/dashboard/"+dest["dash1"], nil), 200)

	// Keeping ids: first copy creates, second conflicts per object,
	// overwrite replaces.
	keep := `{"objects":[{"type":"dashboard","id":"dash1"}],"target_tenant":"global","includeReferences":true}`
	want(t, priv.do(t, "POST", "/api/saved_objects/_copy", keep), 200)
	errs := importErrors(t, want(t, priv.do(t, "POST", "/api/saved_objects/_copy", keep), 200))
	if len(errs) != 3 || errs["dashboard:dash1"]["type"] != "conflict" {
		t.Errorf("second copy errors %s", mustJSON(errs))
	}
	m = want(t, priv.do(t, "POST", "/api/saved_objects/_copy", strings.Replace(keep, `"includeReferences":true`, `"includeReferences":true,"overwrite":true`, 1)), 200)
	if m["success"] != true {
		t.Errorf("overwrite copy %s", mustJSON(m))
	}
	// Without references, into a tenant that lacks them (analysts has
	// only the copies with new ids).
	errs = importErrors(t, want(t, priv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"dashboard","id":"dash1"}],"target_tenant":"analysts"}`), 200))
	if e := errs["dashboard:dash1"]; e["type"] != "missing_references" || mustJSON(e["references"]) != `[{"id":"vis1","type":"visualization"}]` {
		t.Errorf("copy without references: %s", mustJSON(errs))
	}
	// A tenant the caller may only read is no target.
	wantOSDError(t, priv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"dashboard","id":"dash1"}],"target_tenant":"executive"}`), 403,
		"no permissions for [write] and User [name=alice] on tenant [executive]")

	// Target checks: read-only target, unknown target, same 403 shape.
	want(t, newOSD(t, s, bob, "private").do(t, "POST", "/api/saved_objects/index-pattern/ip1", indexPatternBody), 200)
	bobPriv := newOSD(t, s, bob, "private")
	wantOSDError(t, bobPriv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"index-pattern","id":"ip1"}],"target_tenant":"analysts"}`), 403,
		"no permissions for [write] and User [name=bob] on tenant [analysts]")
	wantOSDError(t, bobPriv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"index-pattern","id":"ip1"}],"target_tenant":"no_such_tenant"}`), 403,
		"no permissions for [write] and User [name=bob] on tenant [no_such_tenant]")
	// No read access to the source: the route's own 403.
	wantOSDError(t, newOSD(t, s, carol, "analysts").do(t, "POST", "/api/saved_objects/_copy", publish), 403, "no permissions for [read] and User [name=carol] on tenant [analysts]")
	wantOSDError(t, priv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"dashboard","id":"nope"}],"target_tenant":"analysts"}`), 404, "Saved object [dashboard/nope] not found")
	wantOSDError(t, priv.do(t, "POST", "/api/saved_objects/_copy", `{"objects":[{"type":"dashboard","id":"dash1"}],"target_tenant":"analysts","overwrite":true,"createNewCopies":true}`), 400, "cannot use [overwrite] with [createNewCopies]")
}

func TestShortURLs(t *testing.T) {
	s := testserver.Start(t)
	a := newOSD(t, s, alice, "analysts")
	target := "/app/dashboards?_a=(x)#/view/dash1?_g=(time:(from:now-15m))"

	for _, bad := range []string{"https://evil.example/app/x", "//evil.example/app/x", "/goto/x", "app/dashboards", `/app/x\y`, "javascript:alert(1)", `/\evil.example/app/`} {
		wantOSDError(t, a.do(t, "POST", "/api/shorten_url", map[string]string{"url": bad}), 400, "must be a relative URL starting with /app/")
	}
	m := want(t, a.do(t, "POST", "/api/shorten_url", map[string]string{"url": target}), 200)
	id := m["urlId"].(string)
	if len(id) != 32 {
		t.Errorf("urlId %q, want OSD's md5 hex", id)
	}

	// bob, read-only in analysts, may shorten; and still writes nothing else.
	b := newOSD(t, s, bob, "analysts")
	bm := want(t, b.do(t, "POST", "/api/shorten_url", map[string]string{"url": "/app/discover#/"}), 200)
	if bm["urlId"] == "" {
		t.Errorf("bob's short URL: %v", bm)
	}
	wantOSDError(t, b.do(t, "POST", "/api/saved_objects/url/"+id+"?overwrite=true", `{"attributes":{"url":"/app/evil"}}`), 403, "no permissions for [write]")
	wantOSDError(t, b.do(t, "DELETE", "/api/saved_objects/url/"+id, nil), 403, "no permissions for [write]")

	// goto redirects with the tenant merged into the query (before the #).
	noRedirect := *s.Client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(tok, path string) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get(b.token, "/goto/"+id+"?security_tenant=analysts")
	wantLoc := "/app/dashboards?_a=(x)&security_tenant=analysts#/view/dash1?_g=(time:(from:now-15m))"
	if resp.StatusCode != 302 || resp.Header.Get("Location") != wantLoc {
		t.Errorf("goto: %d Location %q, want 302 %q", resp.StatusCode, resp.Header.Get("Location"), wantLoc)
	}
	sm := want(t, b.do(t, "GET", "/api/short_url/"+id, nil), 200)
	if sm["url"] != wantLoc {
		t.Errorf("short_url %v", sm)
	}
	// The access was counted (through the url-only path).
	obj := want(t, a.do(t, "GET", "/api/saved_objects/url/"+id, nil), 200)
	if obj["attributes"].(map[string]any)["accessCount"] != float64(2) {
		t.Errorf("url object after two reads: %v", obj["attributes"])
	}

	// Without access to the link's tenant: the same 403 as anywhere; in
	// another tenant the link does not exist.
	carolTok := testserver.Token(t, carol.name, carol.roles...)
	if resp := get(carolTok, "/goto/"+id+"?security_tenant=analysts"); resp.StatusCode != 403 {
		t.Errorf("carol's goto: %d, want 403", resp.StatusCode)
	}
	wantOSDError(t, s.Do(t, "GET", "/goto/"+id+"?security_tenant=analysts", carolTok, "", nil), 403, "no permissions for [read] and User [name=carol] on tenant [analysts]")
	wantOSDError(t, a.in("executive").do(t, "GET", "/api/short_url/"+id, nil), 404, "not found")

	// Private and global tenants are named as the tenant parameter says.
	p := a.in("private")
	pid := want(t, p.do(t, "POST", "/api/shorten_url", map[string]string{"url": "/app/home?security_tenant=analysts"}), 200)["urlId"].(string)
	if resp := get(a.token, "/goto/"+pid+"?security_tenant=private"); resp.Header.Get("Location") != "/app/home?security_tenant=private" {
		t.Errorf("private goto Location %q", resp.Header.Get("Location"))
	}
}

// TestGotoInABrowser: a short link opened without a bearer token (a
// browser following a shared link) is handed to the UI with its tenant.
func TestGotoInABrowser(t *testing.T) {
	s := testserver.Start(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.URL + "/goto/abc%2Fdef?security_tenant=analysts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/app/goto/abc%2Fdef?security_tenant=analysts" {
		t.Fatalf("signed-out goto: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestIndexNamesStartingWithAPI: the osd-xsrf rule is for the /api/
// folder only; ordinary OpenSearch writes to indices named api… need no
// header.
func TestIndexNamesStartingWithAPI(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	for _, path := range []string{"/apilogs/_doc/1", "/api-gateway/_doc/1"} {
		if r := s.Do(t, "PUT", path, tok, "analysts", `{"a":1}`); r.Status != 201 {
			t.Errorf("PUT %s without osd-xsrf: %d %s", path, r.Status, r.Body)
		}
	}
	if r := s.Do(t, "POST", "/_bulk", tok, "analysts", "{\"index\":{\"_index\":\"api\"}}\n{\"a\":1}\n"); r.Status != 200 || strings.Contains(string(r.Body), `"errors":true`) {
		t.Errorf("bulk into api: %d %s", r.Status, r.Body)
	}
	// The API folder itself still needs it.
	if r := s.Do(t, "POST", "/api/saved_objects/config/x", tok, "analysts", `{"attributes":{}}`); r.Status != 400 {
		t.Errorf("saved object without osd-xsrf: %d %s", r.Status, r.Body)
	}
	// A multipart body is not parsed for a caller without a token.
	r := s.Do(t, "POST", "/api/saved_objects/_import", "", "analysts", "--x\r\ngarbage", "Content-Type", "multipart/form-data; boundary=x", "osd-xsrf", "true")
	if r.Status != 401 {
		t.Errorf("unauthenticated multipart: %d %s", r.Status, r.Body)
	}
}
