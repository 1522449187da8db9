package gateway_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
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
