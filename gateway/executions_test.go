package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// The executions and logs API through the real server: executions run
// on the built-in worker (Log tasks), a task of another type waits for
// an external worker (so the execution stays RUNNING until killed).

const (
	greetFlow = `id: greet
namespace: company.marketing
labels:
  team: growth
inputs:
  - id: name
    type: STRING
  - id: times
    type: INT
    required: false
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hello {{ inputs.name }}
  - id: careful
    type: io.kestra.plugin.core.log.Log
    level: WARN
    message: careful {{ inputs.name }}
`
	helloWorldFlow = `id: hello_world
namespace: company.marketing
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: hi from {{ flow.namespace }}
`
	slowFlow = `id: slow
namespace: company.team
tasks:
  - id: external
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["sleep 1000"]
`
	offFlow = `id: off
namespace: company.team
disabled: true
tasks:
  - id: hello
    type: io.kestra.plugin.core.log.Log
    message: never
`
)

// execEnv is a server with tenants t-a and t-b (dave administers both).
type execEnv struct {
	*adminEnv
	dave string
}

func startExecutions(t *testing.T) *execEnv {
	t.Helper()
	e := &execEnv{adminEnv: startAdmin(t), dave: daveTok(t)}
	e.setup(t)
	return e
}

// setup creates the tenants and their flows.
func (e *execEnv) setup(t *testing.T) {
	t.Helper()
	e.createTenant(t, "t-a")
	e.createTenant(t, "t-b")
	for _, tenant := range []string{"t-a", "t-b"} {
		for _, f := range []string{greetFlow, helloWorldFlow, slowFlow, offFlow} {
			mustStatus(t, e.s.Do(t, "POST", "/api/v1/"+tenant+"/flows", e.dave, "", f, "Content-Type", "application/x-yaml"), 200)
		}
	}
}

// execution decodes an execution response.
func execution(t *testing.T, r *testserver.Response) executions.Execution {
	t.Helper()
	var x executions.Execution
	if err := json.Unmarshal(r.Body, &x); err != nil || x.ID == "" {
		t.Fatalf("not an execution (%v): %s", err, r.Body)
	}
	return x
}

// run creates an execution and waits for its end.
func (e *execEnv) run(t *testing.T, tenant, ns, flow, query string, inputs any) executions.Execution {
	t.Helper()
	r := e.s.Do(t, "POST", "/api/v1/"+tenant+"/executions/"+ns+"/"+flow+"?wait=true"+query, e.dave, "", inputs)
	mustStatus(t, r, 200)
	x := execution(t, r)
	if !x.State.Current.Terminal() {
		t.Fatalf("wait=true returned a %s execution", x.State.Current)
	}
	return x
}

// waitFor polls the execution until it is in state.
func (e *execEnv) waitFor(t *testing.T, tenant, id string, state executions.State) executions.Execution {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := e.s.Do(t, "GET", "/api/v1/"+tenant+"/executions/"+id, e.dave, "", nil)
		mustStatus(t, r, 200)
		x := execution(t, r)
		if x.State.Current == state {
			return x
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s is %s, still not %s", id, x.State.Current, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// page decodes {"results": [...], "total": N}.
func page(t *testing.T, r *testserver.Response) ([]map[string]any, int) {
	t.Helper()
	var p struct {
		Results []map[string]any `json:"results"`
		Total   int              `json:"total"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Results == nil {
		t.Fatalf("not a page (%v): %s", err, r.Body)
	}
	return p.Results, p.Total
}

func field(rows []map[string]any, name string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r[name])
	}
	return out
}

func multipartForm(t *testing.T, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

func TestExecutionsCreateGetKill(t *testing.T) {
	e := startExecutions(t)
	base := "/api/v1/t-a/executions/"

	t.Run("hello_world runs and its log is there", func(t *testing.T) {
		x := e.run(t, "t-a", "company.marketing", "hello_world", "", nil)
		if x.State.Current != executions.StateSuccess || x.FlowID != "hello_world" || x.Namespace != "company.marketing" || x.FlowRevision != 1 {
			t.Fatalf("execution %+v", x)
		}
		r := e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, e.dave, "", nil)
		mustStatus(t, r, 200)
		if got := field(jsonList(t, r), "message"); strings.Join(got, "|") != "hi from company.marketing" {
			t.Fatalf("logs %q", got)
		}
	})
	t.Run("JSON inputs and labels", func(t *testing.T) {
		x := e.run(t, "t-a", "company.marketing", "greet", "&labels=env:prod&labels=owner:ann", map[string]any{"name": "Ann", "times": 3})
		raw, _ := json.Marshal(x)
		if x.Inputs["name"] != "Ann" || fmt.Sprint(x.Inputs["times"]) != "3" || len(x.TaskRunList) != 2 || x.State.Current != executions.StateSuccess {
			t.Fatalf("execution %s", raw)
		}
		labels := map[string]string{}
		for _, l := range x.Labels {
			labels[l.Key] = l.Value
		}
		if labels["env"] != "prod" || labels["owner"] != "ann" || labels["team"] != "growth" {
			t.Fatalf("labels %v", x.Labels)
		}
		var shape map[string]any
		json.Unmarshal(raw, &shape)
		for _, k := range []string{"id", "namespace", "flowId", "flowRevision", "state", "taskRunList", "inputs", "labels"} {
			if _, ok := shape[k]; !ok {
				t.Errorf("no %q in %s", k, raw)
			}
		}
		r := e.s.Do(t, "GET", base+x.ID, e.dave, "", nil)
		mustStatus(t, r, 200)
		got := r.JSON(t)
		st := got["state"].(map[string]any)
		if got["id"] != x.ID || st["current"] != "SUCCESS" || len(st["histories"].([]any)) < 3 || st["endDate"] == nil || st["startDate"] == nil {
			t.Fatalf("GET %s", r.Body)
		}
	})
	t.Run("multipart inputs", func(t *testing.T) {
		body, ct := multipartForm(t, map[string]string{"name": "Bob", "times": "2"})
		r := e.s.Do(t, "POST", base+"company.marketing/greet?wait=true", e.dave, "", body, "Content-Type", ct)
		mustStatus(t, r, 200)
		x := execution(t, r)
		if x.Inputs["name"] != "Bob" || fmt.Sprint(x.Inputs["times"]) != "2" {
			t.Fatalf("inputs %v", x.Inputs)
		}
		logs := e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, e.dave, "", nil)
		if got := field(jsonList(t, logs), "message"); strings.Join(got, "|") != "hello Bob|careful Bob" {
			t.Fatalf("logs %q", got)
		}
	})
	t.Run("namespaces with dashes and underscores", func(t *testing.T) {
		flow := strings.ReplaceAll(helloWorldFlow, "namespace: company.marketing", "namespace: data-eng.etl_jobs")
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", e.dave, "", flow, "Content-Type", "application/x-yaml"), 200)
		x := e.run(t, "t-a", "data-eng.etl_jobs", "hello_world", "", nil)
		if x.Namespace != "data-eng.etl_jobs" || x.State.Current != executions.StateSuccess {
			t.Fatalf("execution %+v", x)
		}
	})
	refused := []struct {
		name, path string
		body       any
		want       int
	}{
		{"missing required input", "company.marketing/greet", map[string]any{}, 400},
		{"unknown input", "company.marketing/greet", map[string]any{"name": "x", "nope": 1}, 400},
		{"wrong input type", "company.marketing/greet", map[string]any{"name": "x", "times": "many"}, 400},
		{"inputs not an object", "company.marketing/greet", `["x"]`, 400},
		{"bad label", "company.marketing/greet?labels=nocolon", map[string]any{"name": "x"}, 400},
		{"missing flow", "company.marketing/nope", nil, 404},
		{"missing namespace", "company.nowhere/greet", nil, 404},
		{"disabled flow", "company.team/off", nil, 409},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			mustStatus(t, e.s.Do(t, "POST", base+c.path, e.dave, "", c.body), c.want)
		})
	}
	t.Run("unknown execution", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "GET", base+"Xnope", e.dave, "", nil), 404)
		mustStatus(t, e.s.Do(t, "POST", base+"Xnope/kill", e.dave, "", nil), 404)
		mustStatus(t, e.s.Do(t, "DELETE", base+"Xnope", e.dave, "", nil), 404)
	})
	t.Run("kill a running execution, then 409", func(t *testing.T) {
		r := e.s.Do(t, "POST", base+"company.team/slow", e.dave, "", nil)
		mustStatus(t, r, 200)
		x := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)
		r = e.s.Do(t, "POST", base+x.ID+"/kill", e.dave, "", nil)
		mustStatus(t, r, 202)
		killed := e.waitFor(t, "t-a", x.ID, executions.StateKilled)
		var states []string
		for _, h := range killed.State.Histories {
			states = append(states, string(h.State))
		}
		if strings.Join(states, ",") != "CREATED,RUNNING,KILLING,KILLED" {
			t.Fatalf("histories %v", states)
		}
		r = e.s.Do(t, "POST", base+x.ID+"/kill", e.dave, "", nil)
		mustStatus(t, r, 409)
		if m := r.JSON(t); m["statusCode"] != 409.0 {
			t.Fatalf("error shape %s", r.Body)
		}
	})
	t.Run("kill a finished execution is 409", func(t *testing.T) {
		x := e.run(t, "t-a", "company.marketing", "hello_world", "", nil)
		mustStatus(t, e.s.Do(t, "POST", base+x.ID+"/kill", e.dave, "", nil), 409)
	})
	t.Run("delete removes the execution and its logs", func(t *testing.T) {
		x := e.run(t, "t-a", "company.marketing", "hello_world", "", nil)
		mustStatus(t, e.s.Do(t, "DELETE", base+x.ID, e.dave, "", nil), 204)
		mustStatus(t, e.s.Do(t, "GET", base+x.ID, e.dave, "", nil), 404)
		r := e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, e.dave, "", nil)
		mustStatus(t, r, 200)
		if l := jsonList(t, r); len(l) != 0 {
			t.Fatalf("logs left: %s", r.Body)
		}
		mustStatus(t, e.s.Do(t, "DELETE", base+x.ID, e.dave, "", nil), 404)
	})
	t.Run("delete a running execution kills it first", func(t *testing.T) {
		r := e.s.Do(t, "POST", base+"company.team/slow", e.dave, "", nil)
		mustStatus(t, r, 200)
		x := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)
		mustStatus(t, e.s.Do(t, "DELETE", base+x.ID, e.dave, "", nil), 204)
		mustStatus(t, e.s.Do(t, "GET", base+x.ID, e.dave, "", nil), 404)
	})
}

func TestExecutionsSearchAndLogs(t *testing.T) {
	e := startExecutions(t)
	ann := e.run(t, "t-a", "company.marketing", "greet", "&labels=env:prod", map[string]any{"name": "Ann"})
	e.clk.Advance(time.Hour)
	bob := e.run(t, "t-a", "company.marketing", "greet", "&labels=env:dev", map[string]any{"name": "Bob"})
	e.clk.Advance(time.Hour)
	hw := e.run(t, "t-a", "company.marketing", "hello_world", "", nil)
	e.clk.Advance(time.Hour)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.team/slow", e.dave, "", nil)
	mustStatus(t, r, 200)
	slow := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)
	mid := url.QueryEscape(ann.State.StartDate.Add(90 * time.Minute).Format(time.RFC3339Nano))

	search := []struct {
		name, query string
		want        []string
		total       int
	}{
		{"all, newest first", "", []string{slow.ID, hw.ID, bob.ID, ann.ID}, 4},
		{"namespace", "namespace=company.marketing", []string{hw.ID, bob.ID, ann.ID}, 3},
		{"parent namespace covers children", "namespace=company", []string{slow.ID, hw.ID, bob.ID, ann.ID}, 4},
		{"dot boundary", "namespace=company.market", []string{}, 0},
		{"flow", "flowId=greet&sort=state.startDate:asc", []string{ann.ID, bob.ID}, 2},
		{"state", "state=RUNNING", []string{slow.ID}, 1},
		{"states", "state=RUNNING&state=SUCCESS&size=2", []string{slow.ID, hw.ID}, 4},
		{"start date", "startDate=" + mid, []string{slow.ID, hw.ID}, 2},
		{"end date", "endDate=" + mid, []string{bob.ID, ann.ID}, 2},
		{"labels", "labels=env:prod", []string{ann.ID}, 1},
		{"q", "q=hello_world", []string{hw.ID}, 1},
		{"page 2", "page=2&size=3", []string{ann.ID}, 4},
	}
	for _, c := range search {
		t.Run("search "+c.name, func(t *testing.T) {
			r := e.s.Do(t, "GET", "/api/v1/t-a/executions/search?"+c.query, e.dave, "", nil)
			mustStatus(t, r, 200)
			rows, total := page(t, r)
			if got := field(rows, "id"); strings.Join(got, ",") != strings.Join(c.want, ",") || total != c.total {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, total, c.want, c.total)
			}
		})
	}
	for _, q := range []string{"q=" + url.QueryEscape(`a[b(c*?\"`), "q=" + url.QueryEscape(strings.Repeat("x", 500))} {
		t.Run("odd text is just text", func(t *testing.T) {
			for _, path := range []string{"/api/v1/t-a/executions/search?", "/api/v1/t-a/logs/search?"} {
				r := e.s.Do(t, "GET", path+q, e.dave, "", nil)
				mustStatus(t, r, 200)
				if rows, total := page(t, r); total != 0 || len(rows) != 0 {
					t.Fatalf("%s%s: %s", path, q, r.Body)
				}
			}
		})
	}
	for _, q := range []string{"state=DONE", "startDate=yesterday", "sort=inputs:asc", "size=0", "page=x", "labels=nocolon", "bogus=1"} {
		t.Run("search refuses "+q, func(t *testing.T) {
			mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/search?"+q, e.dave, "", nil), 400)
		})
	}

	logs := []struct {
		name, query string
		want        []string
		total       int
	}{
		{"all", "size=50", []string{"hello Ann", "careful Ann", "hello Bob", "careful Bob", "hi from company.marketing"}, 5},
		{"min level", "minLevel=WARN", []string{"careful Ann", "careful Bob"}, 2},
		{"level", "level=warn&q=bob", []string{"careful Bob"}, 1},
		{"q", "q=hi", []string{"hi from company.marketing"}, 1},
		{"execution", "executionId=" + bob.ID, []string{"hello Bob", "careful Bob"}, 2},
		{"flow and namespace", "flowId=hello_world&namespace=company", []string{"hi from company.marketing"}, 1},
		{"newest first", "sort=timestamp:desc&size=1", []string{"hi from company.marketing"}, 5},
	}
	for _, c := range logs {
		t.Run("logs "+c.name, func(t *testing.T) {
			r := e.s.Do(t, "GET", "/api/v1/t-a/logs/search?"+c.query, e.dave, "", nil)
			mustStatus(t, r, 200)
			rows, total := page(t, r)
			if got := field(rows, "message"); strings.Join(got, "|") != strings.Join(c.want, "|") || total != c.total {
				t.Fatalf("got %q (total %d), want %q (total %d)", got, total, c.want, c.total)
			}
			if rows[0]["level"] == nil || rows[0]["timestamp"] == nil || rows[0]["executionId"] == nil {
				t.Fatalf("row %v", rows[0])
			}
		})
	}
	t.Run("logs of one execution by level", func(t *testing.T) {
		r := e.s.Do(t, "GET", "/api/v1/t-a/logs/"+ann.ID+"?minLevel=WARN", e.dave, "", nil)
		mustStatus(t, r, 200)
		if got := field(jsonList(t, r), "message"); strings.Join(got, "|") != "careful Ann" {
			t.Fatalf("logs %q", got)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/logs/"+ann.ID+"?minLevel=LOUD", e.dave, "", nil), 400)
	})
}

func TestExecutionsPurge(t *testing.T) {
	e := startExecutions(t)
	old := []executions.Execution{
		e.run(t, "t-a", "company.marketing", "greet", "", map[string]any{"name": "Ann"}),
		e.run(t, "t-a", "company.marketing", "hello_world", "", nil),
	}
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.team/slow", e.dave, "", nil)
	mustStatus(t, r, 200)
	running := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)
	e.clk.Advance(48 * time.Hour)
	recent := e.run(t, "t-a", "company.marketing", "greet", "", map[string]any{"name": "Cy"})
	cut := old[0].State.StartDate.Add(24 * time.Hour).Format(time.RFC3339)
	later := recent.State.StartDate.Add(24 * time.Hour).Format(time.RFC3339)

	t.Run("endDate is required", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/executions/purge", e.dave, "", nil), 400)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/logs/purge", e.dave, "", nil), 400)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/executions/purge?endDate=soon", e.dave, "", nil), 400)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/executions/purge?endDate="+cut+"&state=RUNNING", e.dave, "", nil), 400)
	})
	t.Run("purge WARN logs before the cut", func(t *testing.T) {
		r := e.s.Do(t, "POST", "/api/v1/t-a/logs/purge", e.dave, "", map[string]any{"endDate": cut, "levels": []string{"WARN"}})
		mustStatus(t, r, 200)
		if r.JSON(t)["count"] != 1.0 {
			t.Fatalf("purge %s", r.Body)
		}
		r = e.s.Do(t, "GET", "/api/v1/t-a/logs/search?minLevel=WARN", e.dave, "", nil)
		if got, _ := page(t, r); strings.Join(field(got, "message"), "|") != "careful Cy" {
			t.Fatalf("left %s", r.Body)
		}
	})
	t.Run("purge executions before the cut, with their logs", func(t *testing.T) {
		r := e.s.Do(t, "POST", "/api/v1/t-a/executions/purge?endDate="+cut, e.dave, "", nil)
		mustStatus(t, r, 200)
		if m := r.JSON(t); m["count"] != 2.0 || m["logsCount"] != 2.0 {
			t.Fatalf("purge %s", r.Body)
		}
		for _, x := range old {
			mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/"+x.ID, e.dave, "", nil), 404)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/"+running.ID, e.dave, "", nil), 200)
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/"+recent.ID, e.dave, "", nil), 200)
	})
	t.Run("a running execution is never purged", func(t *testing.T) {
		r := e.s.Do(t, "POST", "/api/v1/t-a/executions/purge?endDate="+later+"&namespace=company.team", e.dave, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["count"] != 0.0 {
			t.Fatalf("purge %s", r.Body)
		}
	})
	t.Run("purge logs only", func(t *testing.T) {
		r := e.s.Do(t, "POST", "/api/v1/t-a/logs/purge?endDate="+later+"&namespace=company.marketing", e.dave, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["count"] != 2.0 {
			t.Fatalf("purge %s", r.Body)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/"+recent.ID, e.dave, "", nil), 200)
	})
	t.Run("the purge is audited", func(t *testing.T) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := e.s.Do(t, "GET", "/api/v1/audit?action=executions.purge", superTok(t), "", nil)
			mustStatus(t, r, 200)
			rows, total := page(t, r)
			if total == 1 {
				if rows[0]["tenant"] != "t-a" || rows[0]["actor"] != "dave" || !strings.Contains(fmt.Sprint(rows[0]["after"]), "count") {
					t.Fatalf("audit %s", r.Body)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("audit %s", r.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func TestExecutionsIsolationAndRestart(t *testing.T) {
	e := startExecutions(t)
	a := e.run(t, "t-a", "company.marketing", "greet", "", map[string]any{"name": "Ann"})
	b := e.run(t, "t-b", "company.marketing", "greet", "", map[string]any{"name": "Bea"})

	check := func(t *testing.T) {
		t.Helper()
		for _, c := range []struct{ tenant, own, other, msg string }{{"t-a", a.ID, b.ID, "hello Ann"}, {"t-b", b.ID, a.ID, "hello Bea"}} {
			mustStatus(t, e.s.Do(t, "GET", "/api/v1/"+c.tenant+"/executions/"+c.own, e.dave, "", nil), 200)
			mustStatus(t, e.s.Do(t, "GET", "/api/v1/"+c.tenant+"/executions/"+c.other, e.dave, "", nil), 404)
			mustStatus(t, e.s.Do(t, "POST", "/api/v1/"+c.tenant+"/executions/"+c.other+"/kill", e.dave, "", nil), 404)
			r := e.s.Do(t, "GET", "/api/v1/"+c.tenant+"/executions/search?flowId=greet", e.dave, "", nil)
			rows, total := page(t, r)
			if total != 1 || rows[0]["id"] != c.own {
				t.Fatalf("%s search %s", c.tenant, r.Body)
			}
			r = e.s.Do(t, "GET", "/api/v1/"+c.tenant+"/logs/search?q=hello", e.dave, "", nil)
			if rows, _ := page(t, r); strings.Join(field(rows, "message"), "|") != c.msg {
				t.Fatalf("%s logs %s", c.tenant, r.Body)
			}
			if l := jsonList(t, e.s.Do(t, "GET", "/api/v1/"+c.tenant+"/logs/"+c.other, e.dave, "", nil)); len(l) != 0 {
				t.Fatalf("%s reads the other tenant's logs", c.tenant)
			}
		}
	}
	t.Run("two tenants, same flow", check)
	t.Run("the tenants' indices are their own", func(t *testing.T) {
		var names []string
		for _, ref := range []tenants.Ref{tenants.CustomRef("t-a"), tenants.CustomRef("t-b")} {
			infos, err := e.s.Inst.Index.SystemView(ref).List(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, i := range infos {
				if strings.HasPrefix(i.Name, ".executions") || strings.HasPrefix(i.Name, ".logs") {
					names = append(names, i.Physical)
				}
			}
		}
		sort.Strings(names)
		if len(names) != 4 || names[0] == names[1] || !strings.HasPrefix(names[0], ".executions_") || !strings.HasPrefix(names[3], ".logs_") {
			t.Fatalf("physical indices %v", names)
		}
	})
	top := t
	t.Run("a restart keeps executions and logs", func(t *testing.T) {
		e.s.Stop()
		e.s = testserver.StartConfig(top, e.cfg)
		check(t)
		r := e.s.Do(t, "GET", "/api/v1/t-a/executions/"+a.ID, e.dave, "", nil)
		if x := execution(t, r); x.State.Current != executions.StateSuccess || x.Inputs["name"] != "Ann" {
			t.Fatalf("after restart %s", r.Body)
		}
	})
	t.Run("delete and purge stay in their tenant", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/t-a/executions/"+b.ID, e.dave, "", nil), 404)
		r := e.s.Do(t, "POST", "/api/v1/t-a/logs/purge?endDate=2999-01-01T00:00:00Z", e.dave, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["count"] != 2.0 {
			t.Fatalf("purge %s", r.Body)
		}
		if l := jsonList(t, e.s.Do(t, "GET", "/api/v1/t-b/logs/"+b.ID, e.dave, "", nil)); len(l) != 2 {
			t.Fatalf("t-b's logs: %v", l)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-b/executions/"+b.ID, e.dave, "", nil), 200)
	})
}

// execRoles grant namespace permissions in t-a: exec_mia runs and reads
// company.marketing, exec_ned reads, kills and deletes in company.team.
const (
	execRoles = `
exec_mkt_runner:
  namespace_permissions:
    - tenant_patterns: ["t-a"]
      namespaces: ["company.marketing"]
      permissions: {EXECUTION: [read, create], LOG: [read]}
exec_team_killer:
  namespace_permissions:
    - tenant_patterns: ["t-a"]
      namespaces: ["company.team"]
      permissions: {EXECUTION: [read, kill, delete], LOG: [read, delete]}
`
	execMappings = `
exec_mkt_runner:
  users: ["exec_mia"]
exec_team_killer:
  users: ["exec_ned"]
`
)

func TestExecutionsNamespacePermissions(t *testing.T) {
	e := &execEnv{adminEnv: startAdmin(t, func(c *config.Config) {
		for file, extra := range map[string]string{"roles.yml": execRoles, "roles_mapping.yml": execMappings} {
			path := filepath.Join(c.SecurityDir, file)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(raw, extra...), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}), dave: daveTok(t)}
	e.setup(t)
	mia, ned := testserver.Token(t, "exec_mia"), testserver.Token(t, "exec_ned")
	mkt := e.run(t, "t-a", "company.marketing", "hello_world", "", nil)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.team/slow", e.dave, "", nil)
	mustStatus(t, r, 200)
	team := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)

	tests := []struct {
		name, tok, method, path string
		want                    int
	}{
		{"mia creates in her namespace", mia, "POST", "/api/v1/t-a/executions/company.marketing/hello_world", 200},
		{"mia cannot create elsewhere", mia, "POST", "/api/v1/t-a/executions/company.team/slow", 403},
		{"mia reads hers", mia, "GET", "/api/v1/t-a/executions/" + mkt.ID, 200},
		{"mia does not see the team's", mia, "GET", "/api/v1/t-a/executions/" + team.ID, 404},
		{"mia cannot kill at all", mia, "POST", "/api/v1/t-a/executions/" + team.ID + "/kill", 403},
		{"mia cannot delete", mia, "DELETE", "/api/v1/t-a/executions/" + mkt.ID, 403},
		{"mia cannot purge", mia, "POST", "/api/v1/t-a/executions/purge?endDate=2999-01-01T00:00:00Z", 403},
		{"ned cannot kill marketing's", ned, "POST", "/api/v1/t-a/executions/" + mkt.ID + "/kill", 404},
		{"ned cannot purge marketing", ned, "POST", "/api/v1/t-a/logs/purge?endDate=2999-01-01T00:00:00Z&namespace=company.marketing", 403},
		{"ned cannot create", ned, "POST", "/api/v1/t-a/executions/company.team/slow", 403},
		{"ned kills the team's", ned, "POST", "/api/v1/t-a/executions/" + team.ID + "/kill", 202},
		{"nothing in t-b", mia, "GET", "/api/v1/t-b/executions/search", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustStatus(t, e.s.Do(t, tt.method, tt.path, tt.tok, "", nil), tt.want)
		})
	}
	t.Run("searches show only granted namespaces", func(t *testing.T) {
		for _, c := range []struct{ tok, ns string }{{mia, "company.marketing"}, {ned, "company.team"}} {
			r := e.s.Do(t, "GET", "/api/v1/t-a/executions/search?size=50", c.tok, "", nil)
			mustStatus(t, r, 200)
			rows, total := page(t, r)
			if total != len(rows) || total == 0 {
				t.Fatalf("total %d for %d rows", total, len(rows))
			}
			for _, ns := range field(rows, "namespace") {
				if ns != c.ns {
					t.Fatalf("sees %s: %s", ns, r.Body)
				}
			}
			r = e.s.Do(t, "GET", "/api/v1/t-a/logs/search?size=50", c.tok, "", nil)
			rows, _ = page(t, r)
			for _, ns := range field(rows, "namespace") {
				if ns != c.ns {
					t.Fatalf("sees logs of %s: %s", ns, r.Body)
				}
			}
		}
		if l := jsonList(t, e.s.Do(t, "GET", "/api/v1/t-a/logs/"+mkt.ID, ned, "", nil)); len(l) != 0 {
			t.Fatal("ned reads marketing's logs by id")
		}
	})
	t.Run("ned's purge stays in his namespace", func(t *testing.T) {
		e.waitFor(t, "t-a", team.ID, executions.StateKilled)
		r := e.s.Do(t, "POST", "/api/v1/t-a/executions/purge?endDate=2999-01-01T00:00:00Z", ned, "", nil)
		mustStatus(t, r, 200)
		if r.JSON(t)["count"] != 1.0 {
			t.Fatalf("purge %s", r.Body)
		}
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/executions/"+mkt.ID, e.dave, "", nil), 200)
	})
}
