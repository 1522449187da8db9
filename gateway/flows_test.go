package gateway_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"slices"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// The flows API through the real server, with the shipped security
// files: admin writes every tenant, alice (backend role analyst) writes
// "analysts" and reads "executive", hr_ann writes "human_resources".

func flowYAML(ns, id, msg string) string {
	return "id: " + id + "\nnamespace: " + ns + "\ndescription: says " + msg + "\nlabels:\n  team: data\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: " + msg + "\n"
}

// yamlCT is the Content-Type header of a YAML body.
var yamlCT = []string{"Content-Type", "application/x-yaml"}

// flowsEnv is a test server and its callers' tokens.
type flowsEnv struct {
	s                *testserver.Server
	cfg              config.Config
	admin, alice, hr string
}

func startFlows(t *testing.T) *flowsEnv {
	t.Helper()
	cfg := testserver.Config(t.TempDir())
	cfg.Auth.Passwords.BcryptCost = 4
	return &flowsEnv{s: testserver.StartConfig(t, cfg), cfg: cfg,
		admin: testserver.Token(t, "admin"), alice: testserver.Token(t, "alice", "analyst"), hr: testserver.Token(t, "hr_ann")}
}

// restart stops the server and starts another on the same data.
func (e *flowsEnv) restart(t *testing.T) {
	t.Helper()
	e.s.Stop()
	e.s = testserver.StartConfig(t, e.cfg)
}

func (e *flowsEnv) yaml(t *testing.T, tok, method, path, body string) *testserver.Response {
	t.Helper()
	return e.s.Do(t, method, path, tok, "", body, yamlCT...)
}

func jsonList(t *testing.T, r *testserver.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, r.Body)
	}
	return out
}

func TestFlowsCRUDAndRevisions(t *testing.T) {
	e := startFlows(t)
	base := "/api/v1/analysts/flows"
	v1 := flowYAML("company.team", "hello", "one")
	v2 := flowYAML("company.team", "hello", "two")

	r := e.yaml(t, e.alice, "POST", base, v1)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	for k, want := range map[string]any{"id": "hello", "namespace": "company.team", "revision": 1.0, "source": v1,
		"description": "says one", "disabled": false, "deleted": false} {
		if m[k] != want {
			t.Errorf("created flow: %s = %#v, want %#v", k, m[k], want)
		}
	}
	if tasks, _ := m["tasks"].([]any); len(tasks) != 1 || tasks[0].(map[string]any)["message"] != "one" {
		t.Errorf("tasks = %#v", m["tasks"])
	}
	if labels, _ := m["labels"].([]any); len(labels) != 1 || labels[0].(map[string]any)["key"] != "team" {
		t.Errorf("labels = %#v", m["labels"])
	}
	if m["updated"] == nil {
		t.Error("no updated")
	}

	steps := []struct {
		name, method, path, body string
		want                     int
		rev                      float64 // revision answered, 0 when none
		in                       string  // expected in the body
	}{
		{"create again is a conflict", "POST", base, v1, 409, 0, "already exists"},
		{"invalid flow is Kestra's 422", "POST", base, "id: bad id\nnamespace: company.team\ntasks: []\n", 422, 0, "Invalid entity"},
		{"get without source", "GET", base + "/company.team/hello", "", 200, 1, `"namespace":"company.team"`},
		{"update makes revision 2", "PUT", base + "/company.team/hello", v2, 200, 2, `"source":"id: hello`},
		{"identical update makes none", "PUT", base + "/company.team/hello", v2, 200, 2, ""},
		{"get an older revision", "GET", base + "/company.team/hello?revision=1&source=true", "", 200, 1, "message: one"},
		{"revision that does not exist", "GET", base + "/company.team/hello?revision=7", "", 404, 0, "no revision 7"},
		{"id cannot change", "PUT", base + "/company.team/hello", flowYAML("company.team", "other", "x"), 422, 0, "flow id cannot be changed"},
		{"namespace cannot change", "PUT", base + "/company.team/hello", flowYAML("company.other", "hello", "x"), 422, 0, "namespace cannot be changed"},
		{"update of a missing flow", "PUT", base + "/company.team/nope", flowYAML("company.team", "nope", "x"), 404, 0, "flow not found"},
		{"bad revision parameter", "GET", base + "/company.team/hello?revision=x", "", 400, 0, "revision"},
		{"unknown parameter", "GET", base + "/company.team/hello?revsion=1", "", 400, 0, "revsion"},
		{"delete", "DELETE", base + "/company.team/hello", "", 204, 0, ""},
		{"get after delete", "GET", base + "/company.team/hello", "", 404, 0, ""},
		{"get deleted when allowed", "GET", base + "/company.team/hello?allowDeleted=true", "", 200, 3, `"deleted":true`},
		{"delete again", "DELETE", base + "/company.team/hello", "", 404, 0, ""},
		{"update after delete", "PUT", base + "/company.team/hello", v2, 404, 0, ""},
		{"create again after delete", "POST", base, v1, 200, 4, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			var body any
			if st.body != "" {
				body = st.body
			}
			r := e.s.Do(t, st.method, st.path, e.alice, "", body, yamlCT...)
			mustStatus(t, r, st.want)
			if st.rev != 0 {
				if got := r.JSON(t)["revision"]; got != st.rev {
					t.Fatalf("revision %v, want %v: %s", got, st.rev, r.Body)
				}
			}
			if st.in != "" && !strings.Contains(string(r.Body), st.in) {
				t.Fatalf("body lacks %q: %s", st.in, r.Body)
			}
			if st.name == "get without source" && strings.Contains(string(r.Body), `"source"`) {
				t.Fatalf("source without source=true: %s", r.Body)
			}
		})
	}

	t.Run("changes are audited, without sources", func(t *testing.T) {
		if err := e.s.Inst.Trail.Flush(); err != nil {
			t.Fatal(err)
		}
		page, err := e.s.Inst.Trail.Query(audit.Filter{Action: "flow.*", Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := len(page.Results) - 1; i >= 0; i-- {
			rec := page.Results[i]
			got = append(got, rec.Action+" "+rec.Target+" "+rec.Tenant+" "+rec.Actor)
			if strings.Contains(string(rec.After)+string(rec.Before), "message") {
				t.Fatalf("a source in the audit trail: %+v", rec)
			}
		}
		want := []string{"flow.create company.team/hello analysts alice", "flow.update company.team/hello analysts alice",
			"flow.delete company.team/hello analysts alice", "flow.create company.team/hello analysts alice"}
		if !slices.Equal(got, want) {
			t.Fatalf("audit trail %q, want %q", got, want)
		}
	})

	t.Run("415 for JSON", func(t *testing.T) {
		r := e.s.Do(t, "POST", base, e.alice, "", `{"id":"x"}`)
		mustStatus(t, r, 415)
		if !strings.Contains(string(r.Body), "application/x-yaml") {
			t.Fatalf("message does not say what to send: %s", r.Body)
		}
	})

	t.Run("revisions", func(t *testing.T) {
		revs := func(q string) (out []string) {
			r := e.s.Do(t, "GET", base+"/company.team/hello/revisions"+q, e.alice, "", nil)
			mustStatus(t, r, 200)
			for _, x := range jsonList(t, r) {
				out = append(out, strings.TrimSpace(strings.Split(x["source"].(string), "message: ")[1])+
					map[bool]string{true: "(deleted)"}[x["deleted"] == true])
			}
			return out
		}
		if got, want := revs("?allowDelete=true"), []string{"one", "two", "two(deleted)", "one"}; !slices.Equal(got, want) {
			t.Fatalf("revisions %v, want %v", got, want)
		}
		if got, want := revs(""), []string{"one", "two", "one"}; !slices.Equal(got, want) {
			t.Fatalf("revisions without deleted %v, want %v", got, want)
		}
		mustStatus(t, e.s.Do(t, "GET", base+"/company.team/never/revisions", e.alice, "", nil), 404)
	})

	t.Run("list on the dot boundary", func(t *testing.T) {
		for _, ns := range []string{"company", "company.marketing", "companyx"} {
			mustStatus(t, e.yaml(t, e.alice, "POST", base, flowYAML(ns, "f", ns)), 200)
		}
		r := e.s.Do(t, "GET", base+"/company", e.alice, "", nil)
		mustStatus(t, r, 200)
		var got []string
		for _, x := range jsonList(t, r) {
			got = append(got, x["namespace"].(string)+"/"+x["id"].(string))
			if _, ok := x["source"]; ok {
				t.Fatal("list shows sources")
			}
		}
		if want := []string{"company/f", "company.marketing/f", "company.team/hello"}; !slices.Equal(got, want) {
			t.Fatalf("list %v, want %v", got, want)
		}
	})
}

func TestFlowsValidate(t *testing.T) {
	e := startFlows(t)
	mustStatus(t, e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows", flowYAML("company", "stored", "x")), 200)
	mustStatus(t, e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows", flowYAML("company", "gone", "x")), 200)
	mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/analysts/flows/company/gone", e.alice, "", nil), 204)
	tests := []struct {
		name, body  string
		constraints []string // per document, "" when valid
		outdated    []bool
		deleted     []bool
	}{
		{"one good", flowYAML("company", "a", "x"), []string{""}, []bool{false}, []bool{false}},
		{"good and bad", flowYAML("company", "a", "x") + "---\nid: a\nnamespace: Company\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n",
			[]string{"", "namespace"}, []bool{false, false}, []bool{false, false}},
		{"duplicate task ids anywhere", "id: d\nnamespace: company\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.flow.Sequential\n    tasks:\n      - id: t\n        type: io.kestra.plugin.core.log.Log\n",
			[]string{"t"}, []bool{false}, []bool{false}},
		{"no tasks", "id: e\nnamespace: company\n", []string{"tasks"}, []bool{false}, []bool{false}},
		{"not YAML", "id: [\n", []string{"YAML"}, []bool{false}, []bool{false}},
		{"outdated and deleted", "revision: 1\n" + flowYAML("company", "stored", "y") + "---\nrevision: 2\n" + flowYAML("company", "stored", "z") + "---\n" + flowYAML("company", "gone", "y"),
			[]string{"", "", ""}, []bool{true, false, false}, []bool{false, false, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows/validate", tc.body)
			mustStatus(t, r, 200)
			res := jsonList(t, r)
			if len(res) != len(tc.constraints) {
				t.Fatalf("%d results, want %d: %s", len(res), len(tc.constraints), r.Body)
			}
			for i, x := range res {
				c, _ := x["constraints"].(string)
				if (tc.constraints[i] == "") != (c == "") || !strings.Contains(c, tc.constraints[i]) {
					t.Errorf("document %d: constraints %q, want %q", i, c, tc.constraints[i])
				}
				if x["index"] != float64(i) || x["outdated"] != tc.outdated[i] || x["deleted"] != tc.deleted[i] {
					t.Errorf("document %d: %v", i, x)
				}
			}
		})
	}
	t.Run("multipart flows files", func(t *testing.T) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for i, src := range []string{flowYAML("company", "a", "x"), "id: b\nnamespace: company\n"} {
			fw, _ := w.CreateFormFile("flows", "f"+string(rune('0'+i))+".yml")
			fw.Write([]byte(src))
		}
		w.Close()
		r := e.s.Do(t, "POST", "/api/v1/analysts/flows/validate", e.alice, "", b.Bytes(), "Content-Type", w.FormDataContentType())
		mustStatus(t, r, 200)
		res := jsonList(t, r)
		if len(res) != 2 || res[0]["constraints"] != nil || !strings.Contains(res[1]["constraints"].(string), "tasks") || res[1]["index"] != 1.0 {
			t.Fatalf("multipart validation: %s", r.Body)
		}
	})
	t.Run("saves nothing", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/analysts/flows/company/a", e.alice, "", nil), 404)
	})
	t.Run("says nothing of another tenant", func(t *testing.T) {
		r := e.yaml(t, e.admin, "POST", "/api/v1/human_resources/flows/validate", flowYAML("company", "gone", "y"))
		mustStatus(t, r, 200)
		if jsonList(t, r)[0]["deleted"] != false {
			t.Fatalf("another tenant's flow shows: %s", r.Body)
		}
	})
}

func TestFlowsSearch(t *testing.T) {
	e := startFlows(t)
	base := "/api/v1/analysts/flows"
	for _, f := range []string{
		flowYAML("company", "hello_world", "greetings"),
		flowYAML("company.marketing", "campaign", "spring sale"),
		flowYAML("companyx", "other", "greetings"),
		strings.Replace(flowYAML("finance", "ledger", "totals"), "team: data", "team: money", 1),
	} {
		mustStatus(t, e.yaml(t, e.alice, "POST", base, f), 200)
	}
	// the same flows in another tenant never show
	mustStatus(t, e.yaml(t, e.hr, "POST", "/api/v1/human_resources/flows", flowYAML("company", "hello_world", "greetings")), 200)
	tests := []struct {
		name, query string
		want        []string
		total       float64
	}{
		{"everything", "", []string{"company/hello_world", "company.marketing/campaign", "companyx/other", "finance/ledger"}, 4},
		{"namespace on the dot boundary", "namespace=company&sort=id:asc", []string{"company.marketing/campaign", "company/hello_world"}, 2},
		{"q", "q=greetings&sort=namespace:desc", []string{"companyx/other", "company/hello_world"}, 2},
		{"q and namespace", "q=greetings&namespace=company", []string{"company/hello_world"}, 1},
		{"q within an id", "q=WORLD", []string{"company/hello_world"}, 1},
		{"q within the source", "q=sale", []string{"company.marketing/campaign"}, 1},
		{"labels", "labels=team:money", []string{"finance/ledger"}, 1},
		{"Kestra filter q", "filters[q][EQUALS]=greetings&sort=id:asc", []string{"company/hello_world", "companyx/other"}, 2},
		{"Kestra filter namespace prefix", "filters[namespace][PREFIX]=company&sort=id:asc", []string{"company.marketing/campaign", "company/hello_world"}, 2},
		{"Kestra filter namespace equals", "filters[namespace][EQUALS]=company", []string{"company/hello_world"}, 1},
		{"Kestra filter labels", "filters[labels][EQUALS][team]=money&filters[scope][EQUALS]=USER", []string{"finance/ledger"}, 1},
		{"Kestra filter flowId", "filters[flowId][EQUALS]=campaign", []string{"company.marketing/campaign"}, 1},
		{"page and size", "sort=id:desc&size=2&page=2", []string{"company/hello_world", "company.marketing/campaign"}, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.s.Do(t, "GET", base+"/search?"+tc.query, e.alice, "", nil)
			mustStatus(t, r, 200)
			var page struct {
				Results []map[string]any `json:"results"`
				Total   float64          `json:"total"`
			}
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, x := range page.Results {
				got = append(got, x["namespace"].(string)+"/"+x["id"].(string))
			}
			if !slices.Equal(got, tc.want) || page.Total != tc.total {
				t.Fatalf("got %v (total %v), want %v (total %v)", got, page.Total, tc.want, tc.total)
			}
		})
	}
	for _, bad := range []string{"sort=source:asc", "size=0", "page=-1", "labels=nocolon", "size=5000", "filters[state][EQUALS]=x", "filters[namespace]=x", "nsp=x"} {
		t.Run("400 "+bad, func(t *testing.T) {
			mustStatus(t, e.s.Do(t, "GET", base+"/search?"+bad, e.alice, "", nil), 400)
		})
	}
	t.Run("search is not a namespace", func(t *testing.T) {
		r := e.s.Do(t, "GET", base+"/search", e.alice, "", nil)
		mustStatus(t, r, 200)
		if _, ok := r.JSON(t)["total"]; !ok {
			t.Fatalf("not a search answer: %s", r.Body)
		}
	})
}

// multipartFile is a multipart body with one file in field.
func multipartFile(t *testing.T, field, name string, data []byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	fw, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), w.FormDataContentType()
}

func zipFiles(t *testing.T, body []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		out[f.Name] = b.String()
	}
	return out
}

func TestFlowsImportExport(t *testing.T) {
	e := startFlows(t)
	// Sources with comments, odd spacing and quoting: kept byte for byte.
	sources := []string{
		"# the first flow\nid: one\nnamespace: company.team\n\ntasks:   # spaced\n  - id: log\n    type: \"io.kestra.plugin.core.log.Log\"\n    message: 'hi'\n",
		"id: two\nnamespace: company.team.sub\ntasks:\n- id: ret\n  type: io.kestra.plugin.core.debug.Return\n  format: \"{{ flow.id }}\"\n",
		"id: three\nnamespace: other\ntasks:\n  - {id: log, type: io.kestra.plugin.core.log.Log, message: x}\n",
	}
	stream := strings.Join(sources, "---\n")

	t.Run("import YAML reports the invalid documents", func(t *testing.T) {
		body := stream + "---\nid: broken\nnamespace: company.team\n"
		r := e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows/import", body)
		mustStatus(t, r, 200)
		if string(r.Body) != `["3"]` {
			t.Fatalf("import report %s, want [\"3\"]", r.Body)
		}
	})
	t.Run("a second import makes no revision", func(t *testing.T) {
		mustStatus(t, e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows/import", stream), 200)
		r := e.s.Do(t, "GET", "/api/v1/analysts/flows/company.team/one", e.alice, "", nil)
		if r.JSON(t)["revision"] != 1.0 {
			t.Fatalf("re-import made a revision: %s", r.Body)
		}
	})
	t.Run("failOnError imports nothing", func(t *testing.T) {
		body := flowYAML("company", "fresh", "x") + "---\nid: broken\n"
		r := e.yaml(t, e.alice, "POST", "/api/v1/analysts/flows/import?failOnError=true", body)
		mustStatus(t, r, 422)
		if !strings.Contains(string(r.Body), "1") {
			t.Fatalf("does not name the document: %s", r.Body)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/analysts/flows/company/fresh", e.alice, "", nil), 404)
	})

	var exported []byte
	t.Run("export YAML byte for byte", func(t *testing.T) {
		r := e.s.Do(t, "GET", "/api/v1/analysts/flows/export?namespace=company.team", e.alice, "", nil, "Accept", "application/x-yaml")
		mustStatus(t, r, 200)
		if want := sources[0] + "---\n" + sources[1]; string(r.Body) != want {
			t.Fatalf("export:\n%s\nwant:\n%s", r.Body, want)
		}
		all := e.s.Do(t, "GET", "/api/v1/analysts/flows/export", e.alice, "", nil)
		mustStatus(t, all, 200)
		exported = all.Body
		if string(exported) != stream {
			t.Fatalf("export of everything:\n%s\nwant:\n%s", exported, stream)
		}
	})
	t.Run("round trip into another tenant", func(t *testing.T) {
		r := e.yaml(t, e.admin, "POST", "/api/v1/human_resources/flows/import", string(exported))
		mustStatus(t, r, 200)
		again := e.s.Do(t, "GET", "/api/v1/human_resources/flows/export", e.admin, "", nil)
		if string(again.Body) != stream {
			t.Fatalf("round trip:\n%s\nwant:\n%s", again.Body, stream)
		}
	})

	var zipped []byte
	t.Run("export zip", func(t *testing.T) {
		for _, q := range []string{"?format=zip", ""} {
			r := e.s.Do(t, "GET", "/api/v1/analysts/flows/export"+q, e.alice, "", nil, "Accept", "application/zip")
			mustStatus(t, r, 200)
			files := zipFiles(t, r.Body)
			want := map[string]string{"company.team.one.yml": sources[0], "company.team.sub.two.yml": sources[1], "other.three.yml": sources[2]}
			if len(files) != len(want) {
				t.Fatalf("zip holds %v", files)
			}
			for n, src := range want {
				if files[n] != src {
					t.Fatalf("%s = %q, want %q", n, files[n], src)
				}
			}
			zipped = r.Body
		}
		r := e.s.Do(t, "GET", "/api/v1/analysts/flows/export?ids=other:three", e.alice, "", nil, "Accept", "application/zip")
		if files := zipFiles(t, r.Body); len(files) != 1 || files["other.three.yml"] != sources[2] {
			t.Fatalf("export by id: %v", files)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/analysts/flows/export?ids=other:nope", e.alice, "", nil), 404)
	})
	t.Run("import zip, multipart and raw", func(t *testing.T) {
		body, ct := multipartFile(t, "fileUpload", "flows.zip", zipped)
		r := e.s.Do(t, "POST", "/api/v1/executive/flows/import", e.admin, "", body, "Content-Type", ct)
		mustStatus(t, r, 200)
		if string(r.Body) != "[]" {
			t.Fatalf("zip import report %s", r.Body)
		}
		got := e.s.Do(t, "GET", "/api/v1/executive/flows/export", e.admin, "", nil)
		if string(got.Body) != stream {
			t.Fatalf("zip round trip:\n%s", got.Body)
		}
		mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/executive/flows/other/three", e.admin, "", nil), 204)
		r = e.s.Do(t, "POST", "/api/v1/executive/flows/import", e.admin, "", zipped, "Content-Type", "application/zip")
		mustStatus(t, r, 200)
		st := e.s.Do(t, "GET", "/api/v1/executive/flows/other/three?source=true", e.admin, "", nil)
		if m := st.JSON(t); m["source"] != sources[2] || m["revision"] != 3.0 {
			t.Fatalf("re-imported deleted flow: %s", st.Body)
		}
	})
	t.Run("import multipart YAML names documents by index", func(t *testing.T) {
		body, ct := multipartFile(t, "fileUpload", "flows.yaml", []byte("id: x\n---\n"+sources[0]))
		r := e.s.Do(t, "POST", "/api/v1/executive/flows/import", e.admin, "", body, "Content-Type", ct)
		mustStatus(t, r, 200)
		if string(r.Body) != `["0"]` {
			t.Fatalf("report %s", r.Body)
		}
	})
	t.Run("import refuses what the caller may not write", func(t *testing.T) {
		// alice only reads executive
		r := e.yaml(t, e.alice, "POST", "/api/v1/executive/flows/import", stream)
		mustStatus(t, r, 403)
		body, ct := multipartFile(t, "fileUpload", "flows.txt", []byte(stream))
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/analysts/flows/import", e.alice, "", body, "Content-Type", ct), 400)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/analysts/flows/import", e.alice, "", []byte("not a zip"), "Content-Type", "application/zip"), 400)
	})
}

// TestFlowsTenantIsolation: two tenants hold the same flow id and
// namespace as two separate flows; a caller of one tenant gets 403 on
// the other, the same 403 as for a tenant that does not exist; a path
// tenant that disagrees with the securitytenant header is a 400.
func TestFlowsTenantIsolation(t *testing.T) {
	e := startFlows(t)
	a, b := "/api/v1/analysts/flows", "/api/v1/human_resources/flows"
	mustStatus(t, e.yaml(t, e.alice, "POST", a, flowYAML("company", "same", "analysts")), 200)
	mustStatus(t, e.yaml(t, e.hr, "POST", b, flowYAML("company", "same", "hr")), 200)
	mustStatus(t, e.yaml(t, e.alice, "PUT", a+"/company/same", flowYAML("company", "same", "analysts v2")), 200)

	check := func(tok, base string, rev float64, msg string) {
		t.Helper()
		r := e.s.Do(t, "GET", base+"/company/same?source=true", tok, "", nil)
		mustStatus(t, r, 200)
		m := r.JSON(t)
		if m["revision"] != rev || !strings.Contains(m["source"].(string), "message: "+msg+"\n") {
			t.Fatalf("%s: %s", base, r.Body)
		}
	}
	check(e.alice, a, 2, "analysts v2")
	check(e.hr, b, 1, "hr")
	check(e.admin, b, 1, "hr")

	t.Run("delete in one leaves the other", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "DELETE", b+"/company/same", e.hr, "", nil), 204)
		check(e.alice, a, 2, "analysts v2")
	})

	t.Run("a caller of one tenant is refused the other", func(t *testing.T) {
		for _, req := range []struct{ method, path, body string }{
			{"GET", "/company/same", ""},
			{"GET", "/search", ""},
			{"GET", "/company", ""},
			{"GET", "/company/same/revisions", ""},
			{"GET", "/export", ""},
			{"POST", "", flowYAML("company", "intruder", "x")},
			{"PUT", "/company/same", flowYAML("company", "same", "x")},
			{"DELETE", "/company/same", ""},
			{"POST", "/validate", flowYAML("company", "same", "x")},
			{"POST", "/import", flowYAML("company", "same", "x")},
		} {
			t.Run(req.method+req.path, func(t *testing.T) {
				var body any
				if req.body != "" {
					body = req.body
				}
				other := e.s.Do(t, req.method, b+req.path, e.alice, "", body, yamlCT...)
				none := e.s.Do(t, req.method, "/api/v1/no_such_tenant/flows"+req.path, e.alice, "", body, yamlCT...)
				mustStatus(t, other, 403)
				mustStatus(t, none, 403)
				if strings.ReplaceAll(string(none.Body), "no_such_tenant", "human_resources") != string(other.Body) {
					t.Fatalf("the 403s differ:\n%s\n%s", other.Body, none.Body)
				}
			})
		}
	})

	t.Run("path and header disagree", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "GET", a+"/company/same", e.alice, "human_resources", nil), 400)
		mustStatus(t, e.s.Do(t, "GET", a+"/company/same", e.alice, "analysts", nil), 200)
	})
	t.Run("a restart keeps both tenants' flows and revisions", func(t *testing.T) {
		e.restart(t)
		check(e.alice, a, 2, "analysts v2")
		mustStatus(t, e.s.Do(t, "GET", b+"/company/same", e.hr, "", nil), 404)
		r := e.s.Do(t, "GET", b+"/company/same/revisions?allowDelete=true", e.hr, "", nil)
		mustStatus(t, r, 200)
		if revs := jsonList(t, r); len(revs) != 2 || revs[1]["deleted"] != true {
			t.Fatalf("revisions after restart: %s", r.Body)
		}
	})
}
