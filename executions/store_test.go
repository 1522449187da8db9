package executions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newStore(t *testing.T, svc *index.Service, ref tenants.Ref) (*executions.Store, *clock) {
	t.Helper()
	c := &clock{t: t0}
	return executions.NewStore(svc.SystemView(ref), c.now), c
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// run creates an execution of ns/flow started at start that ends in
// final (when terminal) a minute later.
func run(t *testing.T, s *executions.Store, ns, flow string, start time.Time, final executions.State, labels ...flows.Label) *executions.Execution {
	t.Helper()
	st := executions.NewStateInfo(executions.StateCreated, start)
	path := map[executions.State][]executions.State{
		executions.StateCreated: nil,
		executions.StateRunning: {executions.StateRunning},
		executions.StatePaused:  {executions.StateRunning, executions.StatePaused},
		executions.StateSuccess: {executions.StateRunning, executions.StateSuccess},
		executions.StateFailed:  {executions.StateRunning, executions.StateFailed},
		executions.StateWarning: {executions.StateRunning, executions.StateWarning},
		executions.StateKilled:  {executions.StateRunning, executions.StateKilling, executions.StateKilled},
	}[final]
	for i, to := range path {
		if err := st.To(to, start.Add(time.Duration(i+1)*20*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	e, err := s.Create(context.Background(), executions.Execution{Namespace: ns, FlowID: flow, FlowRevision: 1, State: st,
		Inputs: map[string]any{"name": "x"}, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ids(es []executions.Execution) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Namespace + "/" + e.FlowID + "/" + string(e.State.Current)
	}
	return out
}

func TestStoreCreateGetUpdate(t *testing.T) {
	ctx := context.Background()
	svc := testserver.OpenIndices(t, "")
	s, clk := newStore(t, svc, tenants.CustomRef("acme"))

	t.Run("get before any", func(t *testing.T) {
		_, err := s.Get(ctx, "nope")
		wantErr(t, err, executions.ErrNotFound)
		_, err = s.Update(ctx, "nope", func(*executions.Execution) error { return nil })
		wantErr(t, err, executions.ErrNotFound)
		wantErr(t, s.Delete(ctx, "nope"), executions.ErrNotFound)
		if l, n, err := s.Search(ctx, executions.Query{}); err != nil || len(l) != 0 || n != 0 {
			t.Fatalf("Search = %v %d %v", l, n, err)
		}
		if l, err := s.Active(ctx); err != nil || len(l) != 0 {
			t.Fatalf("Active = %v %v", l, err)
		}
	})
	var id string
	t.Run("create", func(t *testing.T) {
		e, err := s.Create(ctx, executions.Execution{Namespace: "company.team", FlowID: "hello", FlowRevision: 3,
			Inputs: map[string]any{"n": 1.0}, Labels: []flows.Label{{Key: "env", Value: "prod"}}})
		if err != nil {
			t.Fatal(err)
		}
		id = e.ID
		if len(id) != 22 || e.State.Current != executions.StateCreated || !e.State.StartDate.Equal(t0) || e.TaskRunList == nil {
			t.Fatalf("created %+v", e)
		}
		got, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(got)
		var shape map[string]any
		json.Unmarshal(raw, &shape)
		for _, k := range []string{"id", "namespace", "flowId", "flowRevision", "state", "taskRunList", "inputs", "labels"} {
			if _, ok := shape[k]; !ok {
				t.Errorf("key %q missing from %s", k, raw)
			}
		}
		if _, ok := shape["labelPairs"]; ok {
			t.Errorf("derived field leaks: %s", raw)
		}
		if got.FlowRevision != 3 || got.Inputs["n"] != 1.0 || got.Labels[0] != (flows.Label{Key: "env", Value: "prod"}) {
			t.Fatalf("got %s", raw)
		}
	})
	t.Run("create same id is a conflict", func(t *testing.T) {
		_, err := s.Create(ctx, executions.Execution{ID: id, Namespace: "company.team", FlowID: "hello"})
		wantErr(t, err, executions.ErrConflict)
	})
	t.Run("create invalid", func(t *testing.T) {
		for _, e := range []executions.Execution{{FlowID: "x"}, {Namespace: "a"}, {ID: "A/b", Namespace: "a", FlowID: "b"}, {ID: "looks.like.a.namespace", Namespace: "a", FlowID: "b"},
			{Namespace: "a", FlowID: "b", State: executions.StateInfo{Current: "DONE"}}} {
			_, err := s.Create(ctx, e)
			wantErr(t, err, executions.ErrInvalid)
		}
	})
	t.Run("update moves state", func(t *testing.T) {
		clk.advance(time.Second)
		e, err := s.Update(ctx, id, func(e *executions.Execution) error { return e.State.To(executions.StateRunning, clk.now()) })
		if err != nil || e.State.Current != executions.StateRunning {
			t.Fatalf("Update = %+v, %v", e, err)
		}
		got, _ := s.Get(ctx, id)
		if got.State.Current != executions.StateRunning || len(got.State.Histories) != 2 {
			t.Fatalf("stored %+v", got.State)
		}
	})
	t.Run("fn error writes nothing", func(t *testing.T) {
		_, err := s.Update(ctx, id, func(e *executions.Execution) error {
			e.Outputs = map[string]any{"x": 1}
			return e.State.To(executions.StateKilled, clk.now())
		})
		wantErr(t, err, executions.ErrTransition)
		got, _ := s.Get(ctx, id)
		if got.Outputs != nil || got.State.Current != executions.StateRunning {
			t.Fatalf("stored %+v", got)
		}
	})
	t.Run("id and namespace cannot change", func(t *testing.T) {
		_, err := s.Update(ctx, id, func(e *executions.Execution) error { e.Namespace = "other"; return nil })
		wantErr(t, err, executions.ErrInvalid)
	})
	t.Run("concurrent updates all land", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Update(ctx, id, func(e *executions.Execution) error {
					e.TaskRunList = append(e.TaskRunList, executions.TaskRun{ID: fmt.Sprint(i), ExecutionID: id, TaskID: "t"})
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, _ := s.Get(ctx, id)
		if len(got.TaskRunList) != 8 || got.TaskRun("5") == nil || got.TaskRun("9") != nil {
			t.Fatalf("task runs %+v", got.TaskRunList)
		}
	})
	t.Run("terminal execution refuses moves", func(t *testing.T) {
		_, err := s.Update(ctx, id, func(e *executions.Execution) error { return e.State.To(executions.StateSuccess, clk.now()) })
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Update(ctx, id, func(e *executions.Execution) error { return e.State.To(executions.StateKilling, clk.now()) })
		wantErr(t, err, executions.ErrTerminal)
	})
	t.Run("mapping does not grow", func(t *testing.T) {
		m, err := svc.SystemView(tenants.CustomRef("acme")).Mapping(ctx, executions.IndexName)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(m)
		for _, bad := range []string{`"inputs"`, `"taskRunList"`, `"histories"`} {
			if strings.Contains(string(raw), bad) {
				t.Errorf("mapping grew %s: %s", bad, raw)
			}
		}
	})
}

func TestStoreSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, testserver.OpenIndices(t, ""), tenants.CustomRef("acme"))
	hour := time.Hour
	run(t, s, "company", "a", t0, executions.StateSuccess)
	run(t, s, "company.team", "a", t0.Add(hour), executions.StateFailed, flows.Label{Key: "env", Value: "prod"})
	run(t, s, "company.team", "b", t0.Add(2*hour), executions.StateRunning, flows.Label{Key: "env", Value: "dev"}, flows.Label{Key: "team", Value: "prod"})
	run(t, s, "companyx", "a", t0.Add(3*hour), executions.StateKilled, flows.Label{Key: "env", Value: "prod"}, flows.Label{Key: "team", Value: "data"})
	run(t, s, "other", "hello_world", t0.Add(4*hour), executions.StateCreated)
	from, to := t0.Add(hour), t0.Add(3*hour)

	cases := []struct {
		name  string
		q     executions.Query
		want  []string
		total int64
	}{
		{"all, newest first", executions.Query{}, []string{"other/hello_world/CREATED", "companyx/a/KILLED", "company.team/b/RUNNING", "company.team/a/FAILED", "company/a/SUCCESS"}, 5},
		{"namespace on the dot boundary", executions.Query{Namespace: "company"}, []string{"company.team/b/RUNNING", "company.team/a/FAILED", "company/a/SUCCESS"}, 3},
		{"child namespace", executions.Query{Namespace: "company.team", Sort: []string{"state.startDate:asc"}}, []string{"company.team/a/FAILED", "company.team/b/RUNNING"}, 2},
		{"flow id", executions.Query{FlowID: "a", Sort: []string{"namespace:asc"}}, []string{"company/a/SUCCESS", "company.team/a/FAILED", "companyx/a/KILLED"}, 3},
		{"states", executions.Query{States: []executions.State{executions.StateFailed, executions.StateKilled}}, []string{"companyx/a/KILLED", "company.team/a/FAILED"}, 2},
		{"dates", executions.Query{StartDate: &from, EndDate: &to}, []string{"companyx/a/KILLED", "company.team/b/RUNNING", "company.team/a/FAILED"}, 3},
		{"label pair, not across labels", executions.Query{Labels: []string{"team:prod"}}, []string{"company.team/b/RUNNING"}, 1},
		{"two labels", executions.Query{Labels: []string{"env:prod", "team:data"}}, []string{"companyx/a/KILLED"}, 1},
		{"full text flow id", executions.Query{Q: "Hello_World"}, []string{"other/hello_world/CREATED"}, 1},
		{"full text part of a namespace or label", executions.Query{Q: "team"}, []string{"companyx/a/KILLED", "company.team/b/RUNNING", "company.team/a/FAILED"}, 3},
		{"full text part of a flow id", executions.Query{Q: "LO_wor"}, []string{"other/hello_world/CREATED"}, 1},
		{"full text wildcard is literal", executions.Query{Q: "*"}, []string{}, 0},
		{"permission filter", executions.Query{Namespaces: []string{"company", "other"}}, []string{"other/hello_world/CREATED", "company/a/SUCCESS"}, 2},
		{"empty permission filter", executions.Query{Namespaces: []string{}}, []string{}, 0},
		{"page 2", executions.Query{Page: 2, Size: 2}, []string{"company.team/b/RUNNING", "company.team/a/FAILED"}, 5},
		{"page 3", executions.Query{Page: 3, Size: 2}, []string{"company/a/SUCCESS"}, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.Search(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(c.want) || total != c.total {
				t.Fatalf("got %v (total %d), want %v (total %d)", ids(got), total, c.want, c.total)
			}
		})
	}
	for _, q := range []executions.Query{{Sort: []string{"inputs:asc"}}, {Sort: []string{"id:sideways"}}, {States: []executions.State{"DONE"}},
		{Labels: []string{"nocolon"}}, {Page: -1}, {Page: 200, Size: 100}} {
		t.Run(fmt.Sprintf("invalid %+v", q), func(t *testing.T) {
			_, _, err := s.Search(ctx, q)
			wantErr(t, err, executions.ErrInvalid)
		})
	}
	t.Run("active", func(t *testing.T) {
		got, err := s.Active(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids(got)) != "[company.team/b/RUNNING other/hello_world/CREATED]" {
			t.Fatalf("Active = %v", ids(got))
		}
	})
	t.Run("namespaces", func(t *testing.T) {
		got, err := s.Namespaces(ctx, false)
		sort.Strings(got)
		if err != nil || fmt.Sprint(got) != "[company company.team companyx other]" {
			t.Fatalf("Namespaces = %v, %v", got, err)
		}
	})
}

func logLine(e *executions.Execution, level executions.Level, msg string) executions.LogEntry {
	return executions.LogEntry{Namespace: e.Namespace, FlowID: e.FlowID, ExecutionID: e.ID, TaskID: "t", Level: level, Message: msg}
}

func messages(ls []executions.LogEntry) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Message
	}
	return out
}

func TestStoreLogs(t *testing.T) {
	ctx := context.Background()
	s, clk := newStore(t, testserver.OpenIndices(t, ""), tenants.CustomRef("acme"))
	a := run(t, s, "company.marketing", "hello_world", t0, executions.StateSuccess)
	b := run(t, s, "company", "other", t0, executions.StateFailed)
	// Same instant for several lines: the order of appending is kept.
	if err := s.AppendLogs(ctx, logLine(a, executions.LevelDebug, "starting up"), logLine(a, executions.LevelInfo, "hi from company.marketing"),
		logLine(a, executions.LevelWarn, "disk almost full")); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, logLine(a, executions.LevelError, "boom happened")); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	if err := s.AppendLogs(ctx, logLine(b, "", "hi from company"), logLine(b, executions.LevelTrace, "tiny detail")); err != nil {
		t.Fatal(err)
	}
	t.Run("invalid lines write nothing", func(t *testing.T) {
		err := s.AppendLogs(ctx, logLine(a, executions.LevelInfo, "fine"), logLine(a, "LOUD", "bad"))
		wantErr(t, err, executions.ErrInvalid)
		err = s.AppendLogs(ctx, executions.LogEntry{Message: "orphan"})
		wantErr(t, err, executions.ErrInvalid)
	})
	t.Run("logs of one execution", func(t *testing.T) {
		got, err := s.Logs(ctx, a.ID, executions.LogQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(messages(got)) != "[starting up hi from company.marketing disk almost full boom happened]" {
			t.Fatalf("Logs = %q", messages(got))
		}
		if !got[0].Timestamp.Equal(t0) || got[0].ExecutionID != a.ID || got[0].TaskID != "t" {
			t.Fatalf("line %+v", got[0])
		}
		got, _ = s.Logs(ctx, a.ID, executions.LogQuery{MinLevel: executions.LevelWarn})
		if fmt.Sprint(messages(got)) != "[disk almost full boom happened]" {
			t.Fatalf("Logs WARN = %q", messages(got))
		}
	})
	cases := []struct {
		name  string
		q     executions.LogQuery
		want  []string
		total int64
	}{
		{"all", executions.LogQuery{Size: 100}, []string{"starting up", "hi from company.marketing", "disk almost full", "boom happened", "hi from company", "tiny detail"}, 6},
		{"min level", executions.LogQuery{MinLevel: executions.LevelInfo}, []string{"hi from company.marketing", "disk almost full", "boom happened", "hi from company"}, 4},
		{"q", executions.LogQuery{Q: "hi"}, []string{"hi from company.marketing", "hi from company"}, 2},
		{"q two words", executions.LogQuery{Q: "disk full"}, []string{"disk almost full"}, 1},
		{"q part of a dotted word", executions.LogQuery{Q: "marketing"}, []string{"hi from company.marketing"}, 1},
		{"namespace boundary", executions.LogQuery{Namespace: "company.marketing"}, []string{"starting up", "hi from company.marketing", "disk almost full", "boom happened"}, 4},
		{"flow", executions.LogQuery{FlowID: "other"}, []string{"hi from company", "tiny detail"}, 2},
		{"execution", executions.LogQuery{ExecutionID: b.ID, MinLevel: executions.LevelError}, []string{}, 0},
		{"permission filter", executions.LogQuery{Namespaces: []string{"company"}}, []string{"hi from company", "tiny detail"}, 2},
		{"newest first", executions.LogQuery{Sort: []string{"timestamp:desc"}, Size: 2}, []string{"hi from company", "tiny detail"}, 6},
		{"page", executions.LogQuery{Page: 2, Size: 4}, []string{"hi from company", "tiny detail"}, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, total, err := s.SearchLogs(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(messages(got)) != fmt.Sprint(c.want) || total != c.total {
				t.Fatalf("got %q (total %d), want %q (total %d)", messages(got), total, c.want, c.total)
			}
		})
	}
	t.Run("bad level", func(t *testing.T) {
		_, _, err := s.SearchLogs(ctx, executions.LogQuery{MinLevel: "LOUD"})
		wantErr(t, err, executions.ErrInvalid)
	})
	t.Run("delete removes the logs of the execution only", func(t *testing.T) {
		if err := s.Delete(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.Get(ctx, a.ID)
		wantErr(t, err, executions.ErrNotFound)
		if got, _ := s.Logs(ctx, a.ID, executions.LogQuery{}); len(got) != 0 {
			t.Fatalf("logs left: %q", messages(got))
		}
		if got, _ := s.Logs(ctx, b.ID, executions.LogQuery{}); len(got) != 2 {
			t.Fatalf("logs of b: %q", messages(got))
		}
	})
}

func TestStorePurge(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, testserver.OpenIndices(t, ""), tenants.CustomRef("acme"))
	day := 24 * time.Hour
	old1 := run(t, s, "company.team", "a", t0, executions.StateSuccess)
	old2 := run(t, s, "company.team", "b", t0, executions.StateFailed)
	old3 := run(t, s, "companyx", "a", t0, executions.StateSuccess)
	running := run(t, s, "company.team", "a", t0, executions.StateRunning)
	recent := run(t, s, "company.team", "a", t0.Add(10*day), executions.StateSuccess)
	// More lines than a batch, so the purge needs several.
	var lines []executions.LogEntry
	for i := range 2*executions.BatchSize + 7 {
		lv := executions.LevelInfo
		if i%2 == 0 {
			lv = executions.LevelDebug
		}
		lines = append(lines, logLine(old1, lv, fmt.Sprint("line ", i)))
	}
	for _, e := range []*executions.Execution{old2, old3, running, recent} {
		lines = append(lines, logLine(e, executions.LevelInfo, "one"))
	}
	if err := s.AppendLogs(ctx, lines...); err != nil {
		t.Fatal(err)
	}
	cut := t0.Add(day)

	t.Run("end date required", func(t *testing.T) {
		_, err := s.PurgeExecutions(ctx, executions.PurgeQuery{})
		wantErr(t, err, executions.ErrInvalid)
		_, err = s.PurgeLogs(ctx, executions.PurgeQuery{})
		wantErr(t, err, executions.ErrInvalid)
		_, err = s.PurgeExecutions(ctx, executions.PurgeQuery{EndDate: cut, States: []executions.State{executions.StateRunning}})
		wantErr(t, err, executions.ErrInvalid)
	})
	t.Run("purge debug logs in batches", func(t *testing.T) {
		far := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
		n, err := s.PurgeLogs(ctx, executions.PurgeQuery{EndDate: far, Levels: []executions.Level{executions.LevelDebug}})
		if err != nil || n != executions.BatchSize+4 {
			t.Fatalf("PurgeLogs = %d, %v; want %d", n, err, executions.BatchSize+4)
		}
		n, _ = s.PurgeLogs(ctx, executions.PurgeQuery{EndDate: cut.Add(100 * day), Levels: []executions.Level{executions.LevelDebug}})
		if n != 0 {
			t.Fatalf("second purge = %d", n)
		}
		if got, _ := s.Logs(ctx, old1.ID, executions.LogQuery{}); len(got) != executions.BatchSize+3 {
			t.Fatalf("%d lines left", len(got))
		}
	})
	t.Run("purge executions by namespace and state", func(t *testing.T) {
		r, err := s.PurgeExecutions(ctx, executions.PurgeQuery{Namespace: "company", EndDate: cut, States: []executions.State{executions.StateFailed}})
		if err != nil || r.Executions != 1 || r.Logs != 0 {
			t.Fatalf("PurgeExecutions = %+v, %v", r, err)
		}
		_, err = s.Get(ctx, old2.ID)
		wantErr(t, err, executions.ErrNotFound)
		if got, _ := s.Logs(ctx, old2.ID, executions.LogQuery{}); len(got) != 1 {
			t.Fatal("logs purged without Logs")
		}
	})
	t.Run("permission filter", func(t *testing.T) {
		r, err := s.PurgeExecutions(ctx, executions.PurgeQuery{Namespaces: []string{"elsewhere"}, EndDate: cut, Logs: true})
		if err != nil || r.Executions != 0 {
			t.Fatalf("PurgeExecutions = %+v, %v", r, err)
		}
		n, err := s.PurgeLogs(ctx, executions.PurgeQuery{Namespaces: []string{}, EndDate: cut})
		if err != nil || n != 0 {
			t.Fatalf("PurgeLogs = %d, %v", n, err)
		}
	})
	t.Run("purge finished executions with logs", func(t *testing.T) {
		r, err := s.PurgeExecutions(ctx, executions.PurgeQuery{Namespace: "company", EndDate: cut, Logs: true})
		if err != nil || r.Executions != 1 || r.Logs != executions.BatchSize+3 {
			t.Fatalf("PurgeExecutions = %+v, %v", r, err)
		}
		left, total, _ := s.Search(ctx, executions.Query{Sort: []string{"namespace:asc", "state.current:asc"}})
		if total != 3 || fmt.Sprint(ids(left)) != "[company.team/a/RUNNING company.team/a/SUCCESS companyx/a/SUCCESS]" {
			t.Fatalf("left %v", ids(left))
		}
		if got, _ := s.Logs(ctx, running.ID, executions.LogQuery{}); len(got) != 1 {
			t.Fatal("running execution's logs purged")
		}
	})
}

func TestStoreIsolation(t *testing.T) {
	ctx := context.Background()
	svc := testserver.OpenIndices(t, "")
	sa, _ := newStore(t, svc, tenants.CustomRef("acme"))
	sb, _ := newStore(t, svc, tenants.CustomRef("globex"))
	a := run(t, sa, "company.team", "hello", t0, executions.StateSuccess)
	b := run(t, sb, "company.team", "hello", t0, executions.StateRunning)
	if err := sa.AppendLogs(ctx, logLine(a, executions.LevelInfo, "acme says hi")); err != nil {
		t.Fatal(err)
	}
	if err := sb.AppendLogs(ctx, logLine(b, executions.LevelInfo, "globex says hi")); err != nil {
		t.Fatal(err)
	}
	t.Run("get", func(t *testing.T) {
		_, err := sa.Get(ctx, b.ID)
		wantErr(t, err, executions.ErrNotFound)
		_, err = sb.Get(ctx, a.ID)
		wantErr(t, err, executions.ErrNotFound)
	})
	t.Run("search", func(t *testing.T) {
		got, n, _ := sa.Search(ctx, executions.Query{FlowID: "hello"})
		if n != 1 || got[0].ID != a.ID {
			t.Fatalf("acme sees %v", ids(got))
		}
		logs, _, _ := sb.SearchLogs(ctx, executions.LogQuery{Q: "hi"})
		if fmt.Sprint(messages(logs)) != "[globex says hi]" {
			t.Fatalf("globex logs %q", messages(logs))
		}
		if act, _ := sa.Active(ctx); len(act) != 0 {
			t.Fatalf("acme active %v", ids(act))
		}
	})
	t.Run("update, delete and purge stay home", func(t *testing.T) {
		_, err := sa.Update(ctx, b.ID, func(*executions.Execution) error { return nil })
		wantErr(t, err, executions.ErrNotFound)
		wantErr(t, sa.Delete(ctx, b.ID), executions.ErrNotFound)
		n, err := sa.PurgeLogs(ctx, executions.PurgeQuery{EndDate: t0.Add(time.Hour)})
		if err != nil || n != 1 {
			t.Fatalf("PurgeLogs = %d, %v", n, err)
		}
		if logs, _ := sb.Logs(ctx, b.ID, executions.LogQuery{}); len(logs) != 1 {
			t.Fatal("globex lost its logs")
		}
		if _, err := sb.Get(ctx, b.ID); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("physical names", func(t *testing.T) {
		for _, ref := range []tenants.Ref{tenants.CustomRef("acme"), tenants.CustomRef("globex")} {
			infos, err := svc.SystemView(ref).List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, i := range infos {
				names = append(names, i.Name+"="+i.Physical)
			}
			sort.Strings(names)
			if len(names) != 2 || !strings.HasPrefix(names[0], ".executions=.executions_") || !strings.HasPrefix(names[1], ".logs=.logs_") ||
				!strings.HasSuffix(names[0], ref.ID) {
				t.Fatalf("indices of %s: %v", ref.ID, names)
			}
		}
	})
}
