package gateway_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// The worker API through the real server: an external worker claims the
// task the built-in worker does not run, reports on it, and the
// execution goes on; secrets it is handed come back masked; permissions
// are EXECUTION update per namespace; a restart keeps the task waiting.

const workerFlow = `id: ext
namespace: company.team
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    commands: ["echo {{ secret('TOKEN') }}"]
  - id: after
    type: io.kestra.plugin.core.log.Log
    message: "exit {{ outputs.shell.exitCode }}"
`

const workerSecret = "tok-9f8e7d6c5b"

const (
	workerRole = `
ns_runner:
  reserved: false
  namespace_permissions:
    - tenant_patterns: ["t-a"]
      namespaces: ["company.other"]
      permissions:
        EXECUTION: ["update"]
`
	workerMapping = `
ns_runner:
  reserved: false
  users: ["mia"]
`
)

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func startWorkerEnv(t *testing.T) *adminEnv {
	t.Helper()
	e := startAdmin(t, func(c *config.Config) {
		c.Secrets.EncryptionKey = "base64:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
		// mia may update executions of company.other only.
		appendFile(t, filepath.Join(c.SecurityDir, "roles.yml"), workerRole)
		appendFile(t, filepath.Join(c.SecurityDir, "roles_mapping.yml"), workerMapping)
	})
	e.createTenant(t, "t-a")
	dave := daveTok(t)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", workerFlow, yamlBody...), 200)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/namespaces", dave, "", map[string]any{"id": "company"}), 200)
	mustStatus(t, e.s.Do(t, "PUT", "/api/v1/t-a/namespaces/company/secrets/TOKEN", dave, "", map[string]any{"value": workerSecret}), 200)
	return e
}

// startExt creates an execution of the flow and waits until its
// external task waits for a worker.
func startExt(t *testing.T, s *testserver.Server) (string, string) {
	t.Helper()
	ctx := context.Background()
	ref := tenants.CustomRef("t-a")
	x, err := s.Inst.Runner.Create(ctx, ref, "company.team", "ext", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	store := executions.NewStore(s.Inst.Index.SystemView(ref), nil)
	deadline := time.Now().Add(10 * time.Second)
	for {
		cur, err := store.Get(ctx, x.ID)
		if err == nil && len(cur.TaskRunList) == 1 {
			return x.ID, cur.TaskRunList[0].ID
		}
		if time.Now().After(deadline) {
			t.Fatalf("the external task never waited: %+v %v", cur, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobsOf(t *testing.T, r *testserver.Response) []map[string]any {
	t.Helper()
	raw, ok := r.JSON(t)["jobs"].([]any)
	if !ok {
		t.Fatalf("no jobs list: %s", r.Body)
	}
	out := make([]map[string]any, len(raw))
	for i, j := range raw {
		out[i] = j.(map[string]any)
	}
	return out
}

func TestWorkerAPI(t *testing.T) {
	e := startWorkerEnv(t)
	dave, carol, mia := daveTok(t), carolTok(t), testserver.Token(t, "mia")
	id, trID := startExt(t, e.s)
	claim, report := "/api/v1/t-a/worker/claim", "/api/v1/t-a/worker/executions/"+id+"/taskruns/"+trID

	refusals := []struct {
		name, tok, path string
		body            any
		want            int
	}{
		{"claim by an outsider", carol, claim, map[string]any{"workerId": "w1"}, 403},
		{"claim in a tenant that does not exist", dave, "/api/v1/t-zz/worker/claim", map[string]any{"workerId": "w1"}, 403},
		{"claim without a worker id", dave, claim, map[string]any{"types": []string{"x"}}, 400},
		{"claim with an unknown field", dave, claim, map[string]any{"workerId": "w1", "tenant": "t-b"}, 400},
		{"claim of too many", dave, claim, map[string]any{"workerId": "w1", "max": 1000}, 400},
		{"report before the claim", dave, report, map[string]any{"state": "SUCCESS"}, 409},
		{"report by an outsider", carol, report, map[string]any{"state": "SUCCESS"}, 403},
		{"report outside the caller's namespaces", mia, report, map[string]any{"state": "SUCCESS"}, 403},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) { mustStatus(t, e.s.Do(t, "POST", c.path, c.tok, "", c.body), c.want) })
	}

	t.Run("claims filter by type and namespace", func(t *testing.T) {
		r := e.s.Do(t, "POST", claim, dave, "", map[string]any{"workerId": "w1", "types": []string{"io.kestra.plugin.aws"}})
		mustStatus(t, r, 200)
		if jobs := jobsOf(t, r); len(jobs) != 0 {
			t.Fatalf("jobs of another type: %v", jobs)
		}
		r = e.s.Do(t, "POST", claim, mia, "", map[string]any{"workerId": "w1"})
		mustStatus(t, r, 200)
		if jobs := jobsOf(t, r); len(jobs) != 0 {
			t.Fatalf("jobs outside mia's namespaces: %v", jobs)
		}
	})

	r := e.s.Do(t, "POST", claim, dave, "", map[string]any{"workerId": "w1", "types": []string{"io.kestra.plugin.scripts"}, "max": 5})
	mustStatus(t, r, 200)
	jobs := jobsOf(t, r)
	if len(jobs) != 1 {
		t.Fatalf("claimed %d jobs, want 1: %s", len(jobs), r.Body)
	}
	job := jobs[0]
	if job["executionId"] != id || job["taskRunId"] != trID || job["taskId"] != "shell" || job["namespace"] != "company.team" ||
		job["flowId"] != "ext" || job["type"] != "io.kestra.plugin.scripts.shell.Commands" {
		t.Fatalf("job %v", job)
	}
	// The worker needs the secret to run the command: it gets it.
	if cmds := job["properties"].(map[string]any)["commands"].([]any); cmds[0] != "echo "+workerSecret {
		t.Fatalf("properties %v", job["properties"])
	}
	r = e.s.Do(t, "POST", claim, dave, "", map[string]any{"workerId": "w2"})
	mustStatus(t, r, 200)
	if jobs := jobsOf(t, r); len(jobs) != 0 {
		t.Fatalf("a claimed task run was handed out again: %v", jobs)
	}

	steps := []struct {
		name string
		path string
		body any
		want int
	}{
		{"bad state", report, map[string]any{"workerId": "w1", "state": "DONE"}, 400},
		{"bad log level", report, map[string]any{"workerId": "w1", "state": "RUNNING", "logs": []any{map[string]any{"level": "LOUD", "message": "x"}}}, 400},
		{"unknown task run", "/api/v1/t-a/worker/executions/" + id + "/taskruns/nope", map[string]any{"workerId": "w1", "state": "RUNNING"}, 404},
		{"unknown execution", "/api/v1/t-a/worker/executions/Nope/taskruns/" + trID, map[string]any{"workerId": "w1", "state": "RUNNING"}, 404},
		{"another worker", report, map[string]any{"workerId": "w2", "state": "RUNNING"}, 409},
		{"running, with a log line", report, map[string]any{"workerId": "w1", "state": "RUNNING",
			"logs": []any{map[string]any{"level": "INFO", "message": "echo " + workerSecret}}}, 204},
		{"success", report, map[string]any{"workerId": "w1", "state": "SUCCESS",
			"outputs": map[string]any{"exitCode": 0, "stdout": workerSecret + "\n"}}, 204},
		{"after the end", report, map[string]any{"workerId": "w1", "state": "SUCCESS"}, 409},
	}
	for _, c := range steps {
		t.Run("report "+c.name, func(t *testing.T) { mustStatus(t, e.s.Do(t, "POST", c.path, dave, "", c.body), c.want) })
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := e.s.Inst.Runner.Wait(ctx, tenants.CustomRef("t-a"), id)
	if err != nil {
		t.Fatal(err)
	}
	if x.State.Current != executions.StateSuccess || len(x.TaskRunList) != 2 {
		t.Fatalf("execution %s with %d task runs", x.State.Current, len(x.TaskRunList))
	}
	if out := x.TaskRunList[0].Outputs; out["stdout"] != "******\n" {
		t.Fatalf("outputs %v", out)
	}
	logs, err := executions.NewStore(e.s.Inst.Index.SystemView(tenants.CustomRef("t-a")), nil).Logs(ctx, id, executions.LogQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range logs {
		msgs = append(msgs, l.Message)
	}
	if got := strings.Join(msgs, "|"); got != "echo ******|exit 0" {
		t.Fatalf("logs %q", got)
	}
}

// TestWorkerResumeAfterRestart stops the server while an execution
// waits for an external worker; the restarted server hands the task out
// and finishes the execution.
func TestWorkerResumeAfterRestart(t *testing.T) {
	e := startWorkerEnv(t)
	dave := daveTok(t)
	id, trID := startExt(t, e.s)
	e.s.Stop()
	s := testserver.StartWith(t, e.cfg, instance.Options{Clock: e.clk.Now})
	r := s.Do(t, "POST", "/api/v1/t-a/worker/claim", dave, "", map[string]any{"workerId": "w1"})
	mustStatus(t, r, 200)
	jobs := jobsOf(t, r)
	if len(jobs) != 1 || jobs[0]["taskRunId"] != trID {
		t.Fatalf("jobs after restart %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/api/v1/t-a/worker/executions/"+id+"/taskruns/"+trID, dave, "",
		map[string]any{"workerId": "w1", "state": "SUCCESS", "outputs": map[string]any{"exitCode": 3}}), 204)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	x, err := s.Inst.Runner.Wait(ctx, tenants.CustomRef("t-a"), id)
	if err != nil || x.State.Current != executions.StateSuccess {
		t.Fatalf("after restart: %+v, %v", x, err)
	}
}
