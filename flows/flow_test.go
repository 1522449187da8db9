package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFixtures(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", dir, "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no fixtures in testdata/%s", dir)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func TestValidFixtures(t *testing.T) {
	for name, src := range readFixtures(t, "valid") {
		t.Run(name, func(t *testing.T) {
			f, err := Parse(src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !bytes.Equal(f.Source, src) {
				t.Fatal("Source differs from the input bytes")
			}
			if f.ID == "" || f.Namespace == "" || len(f.Tasks) == 0 {
				t.Fatalf("missing id, namespace or tasks: %+v", f)
			}
		})
	}
}

func TestInvalidFixtures(t *testing.T) {
	for name, src := range readFixtures(t, "invalid") {
		t.Run(name, func(t *testing.T) {
			first, _, _ := strings.Cut(string(src), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok || want == "" {
				t.Fatalf("fixture lacks a first line '# want: <error>'")
			}
			_, err := Parse(src)
			if err == nil {
				t.Fatal("Parse accepted an invalid flow")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Violations) == 0 {
				t.Fatalf("error is not a *ValidationError with violations: %v", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

func TestHelloWorld(t *testing.T) {
	src := readFixtures(t, "valid")["hello_world.yml"]
	f, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if f.ID != "hello_world" || f.Namespace != "company.marketing" {
		t.Fatalf("id/namespace = %q/%q", f.ID, f.Namespace)
	}
	if len(f.Tasks) != 1 || f.Tasks[0].ID != "log_task" || f.Tasks[0].Type != "io.kestra.plugin.core.log.Log" {
		t.Fatalf("tasks = %+v", f.Tasks)
	}
	if got := f.Tasks[0].Properties["message"]; got != "hi from {{ flow.namespace }}" {
		t.Fatalf("message = %q", got)
	}
}

func TestFullModel(t *testing.T) {
	f, err := Parse(readFixtures(t, "valid")["full.yml"])
	if err != nil {
		t.Fatal(err)
	}
	if f.Revision != 0 {
		t.Errorf("revision read from the YAML: %d", f.Revision)
	}
	wantLabels := []Label{{"env", "prod"}, {"team", "data"}}
	if len(f.Labels) != 2 || f.Labels[0] != wantLabels[0] || f.Labels[1] != wantLabels[1] {
		t.Errorf("labels = %+v", f.Labels)
	}
	if len(f.Inputs) != 2 || f.Inputs[1].ID != "run.count" || f.Inputs[1].Type != "INT" {
		t.Errorf("inputs = %+v", f.Inputs)
	}
	if nested, _ := f.Variables["nested"].(map[string]any); nested["deep"] != "value" {
		t.Errorf("variables = %+v", f.Variables)
	}
	if len(f.Errors) != 1 || len(f.Finally) != 1 || len(f.AfterExecution) != 1 || len(f.Triggers) != 1 {
		t.Errorf("errors/finally/afterExecution/triggers = %d/%d/%d/%d", len(f.Errors), len(f.Finally), len(f.AfterExecution), len(f.Triggers))
	}
	if len(f.PluginDefaults) != 1 || !f.PluginDefaults[0].Forced || f.PluginDefaults[0].Values["level"] != "INFO" {
		t.Errorf("pluginDefaults = %+v", f.PluginDefaults)
	}
	for _, k := range []string{"concurrency", "outputs", "retry", "sla", "checks", "workerGroup"} {
		if _, ok := f.Extra[k]; !ok {
			t.Errorf("Extra lacks %s", k)
		}
	}
	if f.Description != "A flow with all the trimmings.\n" || f.Disabled {
		t.Errorf("description/disabled = %q/%v", f.Description, f.Disabled)
	}
}

func TestLabelsList(t *testing.T) {
	f, err := Parse(readFixtures(t, "valid")["labels_list.yml"])
	if err != nil {
		t.Fatal(err)
	}
	want := []Label{{"env", "dev"}, {"owner", "alice"}}
	if len(f.Labels) != 2 || f.Labels[0] != want[0] || f.Labels[1] != want[1] {
		t.Fatalf("labels = %+v", f.Labels)
	}
}

// flowWith builds a minimal valid flow with one field replaced.
func flowWith(id, ns, taskID string) []byte {
	return []byte("id: " + id + "\nnamespace: " + ns + "\ntasks:\n  - id: " + taskID + "\n    type: io.kestra.plugin.core.log.Log\n")
}

func TestIdentifiers(t *testing.T) {
	long := func(n int) string { return strings.Repeat("a", n) }
	cases := []struct {
		name, id, ns, task string
		want               string // "" = valid, else the substring of the error
	}{
		{"simple", "hello", "company", "t1", ""},
		{"flow id with dot, dash, underscore", "a.b-c_d", "company", "t1", ""},
		{"flow id starting with digit", "1flow", "company", "t1", ""},
		{"flow id upper case", "MyFlow", "company", "t1", ""},
		{"flow id at the limit", long(100), "company", "t1", ""},
		{"flow id too long", long(101), "company", "t1", "id: must be at most 100 characters"},
		{"flow id starting with dot", ".flow", "company", "t1", "id: must match"},
		{"flow id with space", `"my flow"`, "company", "t1", "id: must match"},
		{"flow id with slash", "a/b", "company", "t1", "id: must match"},
		{"flow id missing", `""`, "company", "t1", "id: is required"},
		{"namespace nested", "f", "company.team-a.x_1", "t1", ""},
		{"namespace at the limit", "f", long(150), "t1", ""},
		{"namespace too long", "f", long(151), "t1", "namespace: must be at most 150 characters"},
		{"namespace upper case", "f", "Company", "t1", "namespace: must match"},
		{"namespace starting with dot", "f", ".company", "t1", "namespace: must match"},
		{"namespace starting with dash", "f", `"-company"`, "t1", "namespace: must match"},
		{"namespace missing", "f", `""`, "t1", "namespace: is required"},
		{"task id with dash and underscore", "f", "company", "a-b_C9", ""},
		{"task id numeric", "f", "company", "123", ""},
		{"task id with dot", "f", "company", "a.b", "tasks[0].id: must match"},
		{"task id starting with dash", "f", "company", `"-a"`, "tasks[0].id: must match"},
		{"task id missing", "f", "company", `""`, "tasks[0].id: is required"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(flowWith(c.id, c.ns, c.task))
			if c.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestDuplicateTaskIDs(t *testing.T) {
	head := "id: f\nnamespace: company\n"
	cases := []struct {
		name, body, want string
	}{
		{"top level", `tasks:
  - {id: a, type: x.Log}
  - {id: a, type: x.Log}
`, `tasks[1].id: duplicate task id "a" (first at tasks[0].id)`},
		{"parallel nested twice", `tasks:
  - id: p
    type: x.Parallel
    tasks:
      - id: seq
        type: x.Sequential
        tasks:
          - {id: deep, type: x.Log}
  - {id: deep, type: x.Log}
`, `tasks[1].id: duplicate task id "deep" (first at tasks[0].tasks[0].tasks[0].id)`},
		{"if else against then", `tasks:
  - id: if
    type: x.If
    then: [{id: same, type: x.Log}]
    else: [{id: same, type: x.Log}]
`, `tasks[0].else[0].id: duplicate task id "same" (first at tasks[0].then[0].id)`},
		{"flowable id against its child", `tasks:
  - id: p
    type: x.Parallel
    tasks: [{id: p, type: x.Log}]
`, `tasks[0].tasks[0].id: duplicate task id "p"`},
		{"finally against tasks", `tasks: [{id: a, type: x.Log}]
finally: [{id: a, type: x.Log}]
`, `finally[0].id: duplicate task id "a"`},
		{"afterExecution against errors", `tasks: [{id: a, type: x.Log}]
errors: [{id: b, type: x.Log}]
afterExecution: [{id: b, type: x.Log}]
`, `afterExecution[0].id: duplicate task id "b" (first at errors[0].id)`},
		{"task-level errors and finally", `tasks:
  - id: w
    type: x.WorkingDirectory
    tasks: [{id: a, type: x.Log}]
    errors: [{id: e, type: x.Log}]
    finally: [{id: e, type: x.Log}]
`, `tasks[0].finally[0].id: duplicate task id "e" (first at tasks[0].errors[0].id)`},
		{"switch defaults against case", `tasks:
  - id: s
    type: x.Switch
    cases: {A: [{id: c, type: x.Log}]}
    defaults: [{id: c, type: x.Log}]
`, `tasks[0].defaults[0].id: duplicate task id "c"`},
		{"nested task with a bad id", `tasks:
  - id: if
    type: x.If
    then: [{id: bad.id, type: x.Log}]
`, `tasks[0].then[0].id: must match`},
		{"nested task without type", `tasks:
  - id: if
    type: x.If
    then: [{id: t}]
`, `tasks[0].then[0].type: is required`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(head + c.body))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want error containing %q, got %v", c.want, err)
			}
		})
	}
	t.Run("same id in a trigger and a task is fine", func(t *testing.T) {
		_, err := Parse([]byte(head + "tasks: [{id: a, type: x.Log}]\ntriggers: [{id: a, type: x.Schedule}]\n"))
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Run("duplicate trigger ids", func(t *testing.T) {
		_, err := Parse([]byte(head + "tasks: [{id: a, type: x.Log}]\ntriggers: [{id: t, type: x.S}, {id: t, type: x.S}]\n"))
		if err == nil || !strings.Contains(err.Error(), `triggers[1].id: duplicate trigger id "t"`) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestAllViolationsReported(t *testing.T) {
	_, err := Parse([]byte("id: bad id\nnamespace: Bad\nfoo: 1\ntasks:\n  - id: a.b\n  - {id: c, type: x}\n  - {id: c, type: x}\n"))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	var paths []string
	for _, v := range ve.Violations {
		paths = append(paths, v.Path)
	}
	want := []string{"foo", "id", "namespace", "tasks[0].id", "tasks[0].type", "tasks[2].id"}
	if strings.Join(paths, " ") != strings.Join(want, " ") {
		t.Fatalf("paths = %v, want %v\n%v", paths, want, err)
	}
}

func TestAcceptedTopLevelKeys(t *testing.T) {
	for _, k := range []string{"pluginDefaults", "taskDefaults", "concurrency", "outputs", "retry", "errors", "finally", "afterExecution", "sla", "checks", "workerGroup", "revision", "tenantId", "deleted", "listeners"} {
		t.Run(k, func(t *testing.T) {
			src := "id: f\nnamespace: company\ntasks: [{id: a, type: x.Log}]\n" + k + ": null\n"
			if _, err := Parse([]byte(src)); err != nil {
				t.Fatalf("refused %s: %v", k, err)
			}
		})
	}
	for _, k := range []string{"task", "Tasks", "namespaces", "schedule"} {
		t.Run("unknown "+k, func(t *testing.T) {
			src := "id: f\nnamespace: company\ntasks: [{id: a, type: x.Log}]\n" + k + ": 1\n"
			_, err := Parse([]byte(src))
			if err == nil || !strings.Contains(err.Error(), k+`: unrecognized field "`+k+`"`) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestSourceByteForByte(t *testing.T) {
	cases := map[string]string{
		"comments and odd spacing": "# leading comment\nid:   f   # trailing\nnamespace: company\n\n\ntasks:\n    -   id: a\n        type: x.Log\n",
		"CRLF line endings":        "id: f\r\nnamespace: company\r\ntasks:\r\n  - id: a\r\n    type: x.Log\r\n",
		"no final newline":         "id: f\nnamespace: company\ntasks: [{id: a, type: x.Log}]",
		"leading separator":        "---\nid: f\nnamespace: company\ntasks: [{id: a, type: x.Log}]\n",
		"flow-style and quotes":    "{id: 'f', namespace: \"company\", tasks: [{id: a, type: x.Log, message: \"h\\u00e9\"}]}\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if string(f.Source) != src {
				t.Fatalf("Source = %q, want %q", f.Source, src)
			}
		})
	}
}

func TestSameSource(t *testing.T) {
	a, _ := Parse(flowWith("f", "company", "a"))
	b, _ := Parse(flowWith("f", "company", "a"))
	c, _ := Parse(append(flowWith("f", "company", "a"), "# a comment\n"...))
	if !a.SameSource(b) {
		t.Error("identical sources reported different")
	}
	if a.SameSource(c) {
		t.Error("a source with an added comment reported identical")
	}
}

func TestNamespaceCovers(t *testing.T) {
	cases := []struct {
		parent, ns string
		want       bool
	}{
		{"company", "company", true},
		{"company", "company.marketing", true},
		{"company", "company.marketing.emea", true},
		{"company.marketing", "company", false},
		{"company", "companyx", false},
		{"company", "companyx.marketing", false},
		{"company.", "company.marketing", false},
		{"company.mark", "company.marketing", false},
		{"", "anything", true},
	}
	for _, c := range cases {
		t.Run(c.parent+"|"+c.ns, func(t *testing.T) {
			if got := NamespaceCovers(c.parent, c.ns); got != c.want {
				t.Fatalf("NamespaceCovers(%q, %q) = %v", c.parent, c.ns, got)
			}
		})
	}
}

func TestValidateAll(t *testing.T) {
	good := "id: one\nnamespace: company\ntasks: [{id: a, type: x.Log}]\n"
	bad := "id: two\nnamespace: Company\ntasks: [{id: a, type: x.Log}, {id: a, type: x.Log}]\n"
	deprecatedDoc := "# third\nid: three\nnamespace: company.x\ntaskDefaults: [{type: x, values: {a: 1}}]\ntasks: [{id: a, type: x.Log}]\n"
	src := "---\n" + good + "---\n" + bad + "--- # comment\n\n# only a comment\n---\n" + deprecatedDoc + "---\r\n" + "- not a flow\n"

	rs := ValidateAll([]byte(src))
	if len(rs) != 4 {
		t.Fatalf("got %d results, want 4: %+v", len(rs), rs)
	}
	for i, r := range rs {
		if r.Index != i {
			t.Errorf("result %d has index %d", i, r.Index)
		}
	}
	if !rs[0].Valid() || rs[0].Flow != "one" || rs[0].Namespace != "company" || rs[0].Constraints != "" {
		t.Errorf("doc 0 = %+v", rs[0])
	}
	if string(rs[0].Parsed.Source) != good {
		t.Errorf("doc 0 source = %q", rs[0].Parsed.Source)
	}
	if rs[1].Valid() || rs[1].Flow != "two" {
		t.Errorf("doc 1 = %+v", rs[1])
	}
	wantBad := "namespace: must match \"^[a-z0-9][a-z0-9._-]*$\"\ntasks[1].id: duplicate task id \"a\" (first at tasks[0].id)"
	if rs[1].Constraints != wantBad {
		t.Errorf("doc 1 constraints = %q, want %q", rs[1].Constraints, wantBad)
	}
	if !rs[2].Valid() || rs[2].Flow != "three" || len(rs[2].DeprecationPaths) != 1 || rs[2].DeprecationPaths[0] != "taskDefaults" {
		t.Errorf("doc 2 = %+v", rs[2])
	}
	if rs[3].Valid() || !strings.Contains(rs[3].Constraints, "a flow must be a YAML mapping") {
		t.Errorf("doc 3 = %+v", rs[3])
	}

	// The JSON shape of Kestra's answer.
	b, err := json.Marshal(rs[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"index", "flow", "namespace", "constraints", "outdated", "deleted", "deprecationPaths", "warnings", "infos"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if _, ok := m["Parsed"]; ok {
		t.Errorf("JSON carries the parsed flow: %s", b)
	}

	t.Run("Parse refuses several documents", func(t *testing.T) {
		_, err := Parse([]byte(good + "---\n" + good))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "expected one flow, found 2 YAML documents") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("empty stream", func(t *testing.T) {
		if rs := ValidateAll([]byte("\n# nothing\n---\n")); len(rs) != 0 {
			t.Fatalf("got %+v", rs)
		}
	})
}
