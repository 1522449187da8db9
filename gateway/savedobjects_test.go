package gateway_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
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
