package worker_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/tenants"
	"github.com/tenantgate/tenantgate/worker"
)

// helloWorld is the seed's flow (003_450cf41ddd8efd52.txt), byte for byte.
const helloWorld = `id: hello_world
namespace: company.marketing
tasks:
  - id: log_task
    type: io.kestra.plugin.core.log.Log
    message: hi from {{ flow.namespace }}
`

var tenantA = tenants.CustomRef("marketing")

func testKey(t *testing.T) secrets.Key {
	t.Helper()
	k, err := secrets.ParseKey("base64:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type env struct {
	t   *testing.T
	idx *index.Service
	key secrets.Key
	r   *worker.Runner
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, idx: testserver.OpenIndices(t, ""), key: testKey(t)}
	e.r = e.runner()
	return e
}

// runner starts a runner over the environment's indices; it closes when
// the test ends (before the indices).
func (e *env) runner() *worker.Runner {
	e.t.Helper()
	r := worker.New(worker.Options{Index: e.idx, Key: e.key, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), ClaimTimeout: time.Hour})
	if err := r.Start(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { r.Close() })
	return r
}

func (e *env) flow(ref tenants.Ref, src string) {
	e.t.Helper()
	if _, err := flows.NewStore(e.idx.SystemView(ref), nil).Create(context.Background(), []byte(src)); err != nil {
		e.t.Fatalf("creating flow: %v", err)
	}
}

func (e *env) namespaces(ref tenants.Ref) *namespaces.Store {
	return namespaces.NewStore(e.idx.SystemView(ref), ref.Owner(), e.key, nil)
}

func (e *env) executions(ref tenants.Ref) *executions.Store {
	return executions.NewStore(e.idx.SystemView(ref), nil)
}

// run creates an execution and waits for it to finish.
func (e *env) run(ref tenants.Ref, ns, id string, inputs map[string]any) *executions.Execution {
	e.t.Helper()
	x, err := e.r.Create(context.Background(), ref, ns, id, inputs, nil)
	if err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	return e.wait(ref, x.ID)
}

func (e *env) wait(ref tenants.Ref, id string) *executions.Execution {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	x, err := e.r.Wait(ctx, ref, id)
	if err != nil {
		e.t.Fatalf("Wait: %v (execution %+v)", err, x)
	}
	return x
}

// waitFor polls until cond holds on the stored execution.
func (e *env) waitFor(ref tenants.Ref, id string, what string, cond func(*executions.Execution) bool) *executions.Execution {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		x, err := e.executions(ref).Get(context.Background(), id)
		if err == nil && cond(x) {
			return x
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("execution %s never got %s: %+v, %v", id, what, x, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) logs(ref tenants.Ref, id string) []executions.LogEntry {
	e.t.Helper()
	var got []executions.LogEntry
	// Log lines become searchable shortly after they are written.
	for range 100 {
		l, err := e.executions(ref).Logs(context.Background(), id, executions.LogQuery{})
		if err != nil {
			e.t.Fatal(err)
		}
		got = l
		if len(got) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return got
}

func messages(ls []executions.LogEntry) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = string(l.Level) + " " + l.Message
	}
	return out
}

func states(x *executions.Execution) []string {
	var out []string
	for _, h := range x.State.Histories {
		out = append(out, string(h.State))
	}
	return out
}

func TestHelloWorld(t *testing.T) {
	e := newEnv(t)
	e.flow(tenantA, helloWorld)
	x := e.run(tenantA, "company.marketing", "hello_world", nil)
	if x.State.Current != executions.StateSuccess {
		t.Fatalf("state %s, want SUCCESS: %+v", x.State.Current, x)
	}
	if got := strings.Join(states(x), ","); got != "CREATED,RUNNING,SUCCESS" {
		t.Fatalf("histories %s", got)
	}
	if len(x.TaskRunList) != 1 || x.TaskRunList[0].TaskID != "log_task" || x.TaskRunList[0].State.Current != executions.StateSuccess {
		t.Fatalf("task runs %+v", x.TaskRunList)
	}
	logs := e.logs(tenantA, x.ID)
	if got := strings.Join(messages(logs), "|"); got != "INFO hi from company.marketing" {
		t.Fatalf("logs %q", got)
	}
	if logs[0].TaskRunID != x.TaskRunList[0].ID || logs[0].TaskID != "log_task" {
		t.Fatalf("log line %+v does not name its task run", logs[0])
	}
	// Another tenant has no such flow, and sees nothing of this one.
	other := tenants.CustomRef("finance")
	if _, err := e.r.Create(context.Background(), other, "company.marketing", "hello_world", nil, nil); !errors.Is(err, flows.ErrNotFound) {
		t.Fatalf("Create in another tenant: %v, want flows.ErrNotFound", err)
	}
	if _, err := e.executions(other).Get(context.Background(), x.ID); !errors.Is(err, executions.ErrNotFound) {
		t.Fatalf("Get in another tenant: %v", err)
	}
}

const richFlow = `id: rich
namespace: company.team
labels:
  team: growth
inputs:
  - id: name
    type: STRING
  - id: count
    type: INT
    defaults: 2
variables:
  greeting: "hello {{ inputs.name }}"
pluginDefaults:
  - type: io.kestra.plugin.core.log.Log
    values:
      level: WARN
tasks:
  - id: first
    type: io.kestra.plugin.core.debug.Return
    format: "{{ render(vars.greeting) }} x{{ inputs.count + 1 }}"
  - id: second
    type: io.kestra.plugin.core.log.Log
    message:
      - "{{ outputs.first.value }} in {{ flow.id }} of {{ labels.team }}"
      - "{{ namespace.region.name }} / {{ render(namespace.motto) }}"
  - id: third
    type: io.kestra.plugin.core.log.Log
    level: DEBUG
    message: "exec {{ execution.id }}"
`

func TestOutputsVariablesAndDefaults(t *testing.T) {
	e := newEnv(t)
	e.flow(tenantA, richFlow)
	ctx := context.Background()
	ns := e.namespaces(tenantA)
	if _, err := ns.Create(ctx, "company", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.PutVariables(ctx, "company", map[string]any{"region": map[string]any{"name": "emea"}, "motto": "from {{ flow.namespace }}"}); err != nil {
		t.Fatal(err)
	}
	// A forced namespace default beats the flow's and the task's own level.
	if _, err := ns.PutPluginDefaults(ctx, "company", []namespaces.PluginDefault{{Type: "io.kestra.plugin.core.log", Values: map[string]any{"level": "ERROR"}, Forced: true}}); err != nil {
		t.Fatal(err)
	}
	x := e.run(tenantA, "company.team", "rich", map[string]any{"name": "ada"})
	if x.State.Current != executions.StateSuccess {
		t.Fatalf("state %s: %+v", x.State.Current, x)
	}
	if x.Inputs["count"] != float64(2) && x.Inputs["count"] != int64(2) {
		t.Fatalf("inputs %#v: count should default to 2", x.Inputs)
	}
	if got := x.TaskRunList[0].Outputs["value"]; got != "hello ada x3" {
		t.Fatalf("Return output %q", got)
	}
	want := "ERROR hello ada x3 in rich of growth|ERROR emea / from company.team|ERROR exec " + x.ID
	if got := strings.Join(messages(e.logs(tenantA, x.ID)), "|"); got != want {
		t.Fatalf("logs\n got %q\nwant %q", got, want)
	}
	// Without the forced default, the flow's default (WARN) fills the
	// level a task leaves unset, and a task's own level wins.
	if _, err := ns.PutPluginDefaults(ctx, "company", nil); err != nil {
		t.Fatal(err)
	}
	x = e.run(tenantA, "company.team", "rich", map[string]any{"name": "bob", "count": "5"})
	want = "WARN hello bob x6 in rich of growth|WARN emea / from company.team|DEBUG exec " + x.ID
	if got := strings.Join(messages(e.logs(tenantA, x.ID)), "|"); got != want {
		t.Fatalf("logs\n got %q\nwant %q", got, want)
	}
}

func TestCreateRefusals(t *testing.T) {
	e := newEnv(t)
	e.flow(tenantA, richFlow)
	e.flow(tenantA, "id: off\nnamespace: company\ndisabled: true\ntasks:\n  - id: a\n    type: io.kestra.plugin.core.log.Log\n    message: x\n")
	cases := []struct {
		name     string
		ns, id   string
		inputs   map[string]any
		is       error
		contains string
	}{
		{"missing flow", "company", "nope", nil, flows.ErrNotFound, "nope"},
		{"disabled flow", "company", "off", nil, worker.ErrDisabled, "off"},
		{"missing required input", "company.team", "rich", nil, worker.ErrInvalid, `"name" is required`},
		{"unknown input", "company.team", "rich", map[string]any{"name": "a", "extra": 1}, worker.ErrInvalid, `unknown input "extra"`},
		{"wrong type", "company.team", "rich", map[string]any{"name": "a", "count": "many"}, worker.ErrInvalid, "integer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.r.Create(context.Background(), tenantA, c.ns, c.id, c.inputs, nil)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("Create: %v, want %v mentioning %q", err, c.is, c.contains)
			}
		})
	}
}

func TestFailureRunsErrorsTasks(t *testing.T) {
	e := newEnv(t)
	e.flow(tenantA, `id: failing
namespace: company
tasks:
  - id: ok
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: broken
    type: io.kestra.plugin.core.log.Log
    message: "{{ inputs.nope }}"
  - id: never
    type: io.kestra.plugin.core.log.Log
    message: never
errors:
  - id: on_error
    type: io.kestra.plugin.core.log.Log
    message: cleaning up
`)
	x := e.run(tenantA, "company", "failing", nil)
	if x.State.Current != executions.StateFailed {
		t.Fatalf("state %s", x.State.Current)
	}
	var ids []string
	for _, tr := range x.TaskRunList {
		ids = append(ids, tr.TaskID+"="+string(tr.State.Current))
	}
	if got := strings.Join(ids, ","); got != "ok=SUCCESS,broken=FAILED,on_error=SUCCESS" {
		t.Fatalf("task runs %s", got)
	}
	got := strings.Join(messages(e.logs(tenantA, x.ID)), "|")
	if !strings.HasPrefix(got, "INFO before|ERROR task broken failed: ") || !strings.Contains(got, "nope") || !strings.HasSuffix(got, "|INFO cleaning up") {
		t.Fatalf("logs %q", got)
	}
}

const secretFlow = `id: leaky
namespace: company.marketing
tasks:
  - id: log_secret
    type: io.kestra.plugin.core.log.Log
    message: "token is {{ secret('K') }}"
  - id: return_secret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ secret('K') }}-suffix"
  - id: external
    type: io.kestra.plugin.scripts.shell.Commands
    commands:
      - "echo {{ secret('K') }}"
`

const secretValue = "s3cr3t-value-42"

func TestSecretMasking(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	ns := e.namespaces(tenantA)
	if _, err := ns.Create(ctx, "company", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.PutSecret(ctx, "company", "K", secretValue, ""); err != nil {
		t.Fatal(err)
	}
	e.flow(tenantA, secretFlow)
	x, err := e.r.Create(ctx, tenantA, "company.marketing", "leaky", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(tenantA, x.ID, "the external task", func(x *executions.Execution) bool { return len(x.TaskRunList) == 3 })
	jobs, err := e.r.Claim(ctx, tenantA, "w1", []string{"io.kestra.plugin.scripts"}, 5, nil)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v, %+v", err, jobs)
	}
	// The worker gets the secret: it needs it to run the command.
	if got := jobs[0].Properties["commands"]; len(got.([]any)) != 1 || got.([]any)[0] != "echo "+secretValue {
		t.Fatalf("job properties %#v", jobs[0].Properties)
	}
	// What it reports back is masked, whatever the form.
	err = e.r.Report(ctx, tenantA, x.ID, jobs[0].TaskRunID, worker.Report{WorkerID: "w1", State: executions.StateSuccess,
		Outputs: map[string]any{"stdout": "got " + secretValue, secretValue: []any{secretValue}},
		Logs:    []worker.LogLine{{Level: "WARN", Message: `{"v":"` + secretValue + `"}`}}})
	if err != nil {
		t.Fatal(err)
	}
	x = e.wait(tenantA, x.ID)
	if x.State.Current != executions.StateSuccess {
		t.Fatalf("state %s", x.State.Current)
	}
	if got := x.TaskRunList[1].Outputs["value"]; got != secrets.Mask+"-suffix" {
		t.Fatalf("Return output %q", got)
	}
	out := x.TaskRunList[2].Outputs
	if out["stdout"] != "got "+secrets.Mask || out[secrets.Mask] == nil {
		t.Fatalf("reported outputs %#v", out)
	}
	logs := strings.Join(messages(e.logs(tenantA, x.ID)), "|")
	if logs != "INFO token is ******|WARN {\"v\":\"******\"}" {
		t.Fatalf("logs %q", logs)
	}
	// Nothing stored holds the value: read the raw documents.
	for _, name := range []string{executions.IndexName, executions.LogIndexName} {
		res, err := e.idx.SystemView(tenantA).Search(ctx, name, &index.SearchRequest{Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			if strings.Contains(string(h.Source), secretValue) || strings.Contains(string(h.Source), "s3cr3t") {
				t.Fatalf("%s document holds the secret: %s", name, h.Source)
			}
		}
	}
}

const externalFlow = `id: external
namespace: company
tasks:
  - id: before
    type: io.kestra.plugin.core.log.Log
    message: before
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo {{ flow.id }}"]
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "after {{ outputs.shell.exitCode }}"
`

func waiting(x *executions.Execution) bool {
	return len(x.TaskRunList) == 2 && x.TaskRunList[1].State.Current == executions.StateCreated
}

func TestExternalClaimAndReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.flow(tenantA, externalFlow)
	x, err := e.r.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	x = e.waitFor(tenantA, x.ID, "the external task", waiting)
	tr := x.TaskRunList[1]

	// A worker for other types gets nothing; another tenant neither.
	if jobs, err := e.r.Claim(ctx, tenantA, "w1", []string{"io.kestra.plugin.aws", "io.kestra.plugin.scripts.shell.Comm"}, 5, nil); err != nil || len(jobs) != 0 {
		t.Fatalf("Claim of other types: %v %+v", err, jobs)
	}
	if jobs, err := e.r.Claim(ctx, tenants.CustomRef("finance"), "w1", nil, 5, nil); err != nil || len(jobs) != 0 {
		t.Fatalf("Claim in another tenant: %v %+v", err, jobs)
	}
	// Nor does a worker whose caller may not update that namespace.
	if jobs, err := e.r.Claim(ctx, tenantA, "w1", nil, 5, func(ns string) bool { return ns != "company" }); err != nil || len(jobs) != 0 {
		t.Fatalf("Claim outside the allowed namespaces: %v %+v", err, jobs)
	}
	// A report before any claim is refused.
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{State: executions.StateSuccess}); !errors.Is(err, worker.ErrConflict) {
		t.Fatalf("report before claim: %v", err)
	}
	// Two workers race; exactly one gets the job.
	var mu sync.Mutex
	var got []worker.Job
	var wg sync.WaitGroup
	for _, w := range []string{"w1", "w2", "w3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobs, err := e.r.Claim(ctx, tenantA, w, []string{"io.kestra.plugin.scripts.shell.Commands"}, 5, nil)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			got = append(got, jobs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(got) != 1 {
		t.Fatalf("%d jobs handed out, want 1: %+v", len(got), got)
	}
	job := got[0]
	if job.TaskRunID != tr.ID || job.TaskID != "shell" || job.Type != "io.kestra.plugin.scripts.shell.Commands" || job.ExecutionID != x.ID ||
		job.Properties["commands"].([]any)[0] != "echo external" || job.Properties["id"] != nil {
		t.Fatalf("job %+v", job)
	}
	x, _ = e.executions(tenantA).Get(ctx, x.ID)
	holder := x.TaskRunList[1].Worker
	other := "w1"
	if holder == "w1" {
		other = "w2"
	}
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{WorkerID: other, State: executions.StateRunning}); !errors.Is(err, worker.ErrConflict) {
		t.Fatalf("report by another worker: %v", err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{WorkerID: holder, State: "DONE"}); !errors.Is(err, worker.ErrInvalid) {
		t.Fatalf("report with a bad state: %v", err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, "nope", worker.Report{State: executions.StateRunning}); !errors.Is(err, worker.ErrNotFound) {
		t.Fatalf("report on a missing task run: %v", err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{WorkerID: holder, State: executions.StateRunning,
		Logs: []worker.LogLine{{Message: "started"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{WorkerID: holder, State: executions.StateSuccess,
		Outputs: map[string]any{"exitCode": 0}}); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, tr.ID, worker.Report{WorkerID: holder, State: executions.StateSuccess}); !errors.Is(err, executions.ErrTerminal) {
		t.Fatalf("report after the end: %v", err)
	}
	x = e.wait(tenantA, x.ID)
	if x.State.Current != executions.StateSuccess {
		t.Fatalf("state %s", x.State.Current)
	}
	if got := strings.Join(states(&executions.Execution{State: x.TaskRunList[1].State}), ","); got != "CREATED,RUNNING,SUCCESS" {
		t.Fatalf("task run histories %s", got)
	}
	if got := strings.Join(messages(e.logs(tenantA, x.ID)), "|"); got != "INFO before|INFO started|INFO after 0" {
		t.Fatalf("logs %q", got)
	}
}

func TestExternalFailure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.flow(tenantA, externalFlow)
	x, err := e.r.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(tenantA, x.ID, "the external task", waiting)
	jobs, err := e.r.Claim(ctx, tenantA, "w1", nil, 1, nil)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v %+v", err, jobs)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, jobs[0].TaskRunID, worker.Report{State: executions.StateFailed}); err != nil {
		t.Fatal(err)
	}
	x = e.wait(tenantA, x.ID)
	if x.State.Current != executions.StateFailed || len(x.TaskRunList) != 2 {
		t.Fatalf("execution %s with %d task runs, want FAILED with 2", x.State.Current, len(x.TaskRunList))
	}
}

func TestKill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.flow(tenantA, externalFlow)
	x, err := e.r.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(tenantA, x.ID, "the external task", waiting)
	jobs, err := e.r.Claim(ctx, tenantA, "w1", nil, 1, nil)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Claim: %v %+v", err, jobs)
	}
	x, err = e.r.Kill(ctx, tenantA, x.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(states(x), ","); got != "CREATED,RUNNING,KILLING,KILLED" {
		t.Fatalf("histories %s", got)
	}
	if tr := x.TaskRunList[1]; tr.State.Current != executions.StateKilled || tr.TaskID != "shell" {
		t.Fatalf("task run %+v", tr)
	}
	if len(x.TaskRunList) != 2 {
		t.Fatalf("%d task runs after kill", len(x.TaskRunList))
	}
	if _, err := e.r.Kill(ctx, tenantA, x.ID); !errors.Is(err, executions.ErrTerminal) {
		t.Fatalf("second kill: %v", err)
	}
	if err := e.r.Report(ctx, tenantA, x.ID, jobs[0].TaskRunID, worker.Report{State: executions.StateSuccess}); !errors.Is(err, executions.ErrTerminal) {
		t.Fatalf("report after kill: %v", err)
	}
	if _, err := e.r.Kill(ctx, tenantA, "missing"); !errors.Is(err, executions.ErrNotFound) {
		t.Fatalf("kill of a missing execution: %v", err)
	}
	if x = e.wait(tenantA, x.ID); x.State.Current != executions.StateKilled {
		t.Fatalf("state %s", x.State.Current)
	}
}

func TestResumeAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.flow(tenantA, externalFlow)
	e.flow(tenants.GlobalRef, strings.Replace(externalFlow, "namespace: company", "namespace: other", 1))
	x, err := e.r.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.r.Create(ctx, tenants.GlobalRef, "other", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(tenantA, x.ID, "the external task", waiting)
	e.waitFor(tenants.GlobalRef, g.ID, "the external task", waiting)
	e.r.Close()

	// An execution created while no runner runs is stored CREATED; a new
	// runner picks it up too.
	stopped := worker.New(worker.Options{Index: e.idx, Key: e.key, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	y, err := stopped.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stopped.Close()
	if y.State.Current != executions.StateCreated {
		t.Fatalf("state %s", y.State.Current)
	}

	e.r = e.runner()
	e.waitFor(tenantA, y.ID, "the external task", waiting)
	for _, c := range []struct {
		ref tenants.Ref
		ids []string
	}{{tenantA, []string{x.ID, y.ID}}, {tenants.GlobalRef, []string{g.ID}}} {
		jobs, err := e.r.Claim(ctx, c.ref, "w", nil, 10, nil)
		if err != nil || len(jobs) != len(c.ids) {
			t.Fatalf("Claim in %s: %v %+v", c.ref, err, jobs)
		}
		for _, j := range jobs {
			if err := e.r.Report(ctx, c.ref, j.ExecutionID, j.TaskRunID, worker.Report{State: executions.StateSuccess, Outputs: map[string]any{"exitCode": 7}}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range c.ids {
			done := e.wait(c.ref, id)
			if done.State.Current != executions.StateSuccess || len(done.TaskRunList) != 3 {
				t.Fatalf("execution %s after restart: %s with %d task runs", id, done.State.Current, len(done.TaskRunList))
			}
		}
	}
	if got := strings.Join(messages(e.logs(tenantA, x.ID)), "|"); got != "INFO before|INFO after 7" {
		t.Fatalf("logs %q", got)
	}
}

func TestClaimTimeout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e.r.Close()
	e.r = worker.New(worker.Options{Index: e.idx, Key: e.key, Now: clock, ClaimTimeout: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := e.r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.r.Close() })
	e.flow(tenantA, externalFlow)
	x, err := e.r.Create(ctx, tenantA, "company", "external", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor(tenantA, x.ID, "the external task", waiting)
	if jobs, _ := e.r.Claim(ctx, tenantA, "w1", nil, 1, nil); len(jobs) != 1 {
		t.Fatal("first claim got nothing")
	}
	if jobs, _ := e.r.Claim(ctx, tenantA, "w2", nil, 1, nil); len(jobs) != 0 {
		t.Fatal("a held task run was claimed again before the timeout")
	}
	mu.Lock()
	now = now.Add(2 * time.Minute)
	mu.Unlock()
	jobs, _ := e.r.Claim(ctx, tenantA, "w2", nil, 1, nil)
	if len(jobs) != 1 {
		t.Fatal("a task run held past the timeout was not claimed again")
	}
	if err := e.r.Report(ctx, tenantA, x.ID, jobs[0].TaskRunID, worker.Report{WorkerID: "w1", State: executions.StateSuccess}); !errors.Is(err, worker.ErrConflict) {
		t.Fatalf("report by the worker that lost the claim: %v", err)
	}
}

// TestStartSkipsTenantsNotLive checks that Start resumes only the
// executions of live tenants (Options.Live): a deleted tenant's, or the
// executions a purged tenant left behind, stay as they are.
func TestStartSkipsTenantsNotLive(t *testing.T) {
	e := newEnv(t)
	e.r.Close()
	ctx := context.Background()
	gone := tenants.CustomRef("gone")
	e.flow(tenantA, helloWorld)
	e.flow(gone, helloWorld)
	stopped := worker.New(worker.Options{Index: e.idx, Key: e.key, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var ids [2]string
	for i, ref := range []tenants.Ref{gone, tenantA} {
		x, err := stopped.Create(ctx, ref, "company.marketing", "hello_world", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = x.ID
	}
	stopped.Close()

	r := worker.New(worker.Options{Index: e.idx, Key: e.key, Workers: 1, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Live: func(ref tenants.Ref) bool { return ref != gone }})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.r = r
	if done := e.wait(tenantA, ids[1]); done.State.Current != executions.StateSuccess {
		t.Fatalf("live tenant's execution: %s", done.State.Current)
	}
	r.Close() // waits for the worker: anything queued would have run
	x, err := e.executions(gone).Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if x.State.Current != executions.StateCreated {
		t.Fatalf("execution of a tenant that is not live: %s, want it left CREATED", x.State.Current)
	}
}
