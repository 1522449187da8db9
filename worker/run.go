package worker

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/expression"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
)

// The task types the runner runs itself. The older names Kestra still
// accepts run too.
const (
	TypeLog    = "io.kestra.plugin.core.log.Log"
	TypeReturn = "io.kestra.plugin.core.debug.Return"
)

var builtin = map[string]string{
	TypeLog:                              TypeLog,
	"io.kestra.core.tasks.log.Log":       TypeLog,
	TypeReturn:                           TypeReturn,
	"io.kestra.core.tasks.debugs.Return": TypeReturn,
}

// IsBuiltin reports whether the runner runs tasks of type typ itself;
// other types wait for an external worker.
func IsBuiltin(typ string) bool { _, ok := builtin[typ]; return ok }

// errChanged means the execution changed under a step (killed, or a task
// run was added concurrently); the step starts over.
var errChanged = errors.New("execution changed")

// run advances an execution as far as it goes without waiting.
func (r *Runner) run(ctx context.Context, it item) {
	st := r.stores(it.ref)
	for range 10000 {
		more, err := r.advance(ctx, st, it.id)
		r.notify(it)
		if ctx.Err() != nil {
			return // closing: resumed at the next Start
		}
		if errors.Is(err, errChanged) {
			continue
		}
		if errors.Is(err, executions.ErrNotFound) {
			r.forget(it)
			return
		}
		if err != nil {
			r.o.Log.Error("worker: advancing an execution", "tenant", it.ref.String(), "execution", it.id, "err", err)
			r.fail(ctx, st, it.id, err)
			r.notify(it)
			return
		}
		if !more {
			return
		}
	}
}

// fail ends a running execution as FAILED after an error outside a task
// (the flow revision is gone, the store refused a write), with the
// error as an ERROR log line.
func (r *Runner) fail(ctx context.Context, st stores, id string, cause error) {
	e, err := st.ex.Get(ctx, id)
	if err != nil || e.State.Current.Terminal() {
		return
	}
	m := r.masker(ctx, st, e.Namespace, id)
	_ = st.ex.AppendLogs(ctx, executions.LogEntry{Namespace: e.Namespace, FlowID: e.FlowID, ExecutionID: id,
		Level: executions.LevelError, Message: m.Mask(cause.Error())})
	_, _ = st.ex.Update(ctx, id, func(e *executions.Execution) error {
		if e.State.Current.Terminal() {
			return nil
		}
		if e.State.Current != executions.StateRunning && executions.CanTransition(e.State.Current, executions.StateRunning) {
			if err := e.State.To(executions.StateRunning, r.now()); err != nil {
				return err
			}
		}
		return e.State.To(executions.StateFailed, r.now())
	})
	r.forget(item{ref: st.ref, id: id})
}

// next is what an execution needs next.
type next struct {
	task   *flows.Task         // run this task (a new task run)
	rerun  *executions.TaskRun // run this built-in task run again (it was cut short)
	finish executions.State    // end the execution in this state
}

// plan decides the next step of a running execution: the first task of
// the flow without a task run; a built-in task run left unfinished by a
// restart; nothing while an external task is out; after a failed (or
// killed) task, the errors tasks the same way; then the end state.
func plan(f *flows.Flow, e *executions.Execution) next {
	latest := map[string]*executions.TaskRun{}
	for i := range e.TaskRunList {
		latest[e.TaskRunList[i].TaskID] = &e.TaskRunList[i]
	}
	walk := func(tasks []flows.Task) (n next, failed, warned, waiting bool) {
		for i := range tasks {
			t := &tasks[i]
			tr := latest[t.ID]
			switch {
			case tr == nil:
				return next{task: t}, false, warned, false
			case !tr.State.Current.Terminal():
				if IsBuiltin(tr.Type) {
					return next{rerun: tr}, false, warned, false
				}
				return next{}, false, warned, true
			case tr.State.Current == executions.StateFailed || tr.State.Current == executions.StateKilled || tr.State.Current == executions.StateCancelled:
				return next{}, true, warned, false
			case tr.State.Current == executions.StateWarning:
				warned = true
			}
		}
		return next{}, false, warned, false
	}
	n, failed, warned, waiting := walk(f.Tasks)
	if n.task != nil || n.rerun != nil || waiting {
		return n
	}
	if !failed {
		if warned {
			return next{finish: executions.StateWarning}
		}
		return next{finish: executions.StateSuccess}
	}
	n, _, _, waiting = walk(f.Errors)
	if n.task != nil || n.rerun != nil || waiting {
		return n
	}
	return next{finish: executions.StateFailed}
}

// advance makes one step; more is false when the execution waits (for
// an external worker) or has finished.
func (r *Runner) advance(ctx context.Context, st stores, id string) (more bool, err error) {
	e, err := st.ex.Get(ctx, id)
	if err != nil {
		return false, err
	}
	it := item{ref: st.ref, id: id}
	switch e.State.Current {
	case executions.StateCreated, executions.StateQueued:
		_, err := st.ex.Update(ctx, id, func(e *executions.Execution) error {
			if e.State.Current != executions.StateCreated && e.State.Current != executions.StateQueued {
				return errChanged
			}
			return e.State.To(executions.StateRunning, r.now())
		})
		return err == nil, err
	case executions.StateKilling:
		_, err := r.finishKill(ctx, st, id)
		r.forget(it)
		return false, err
	case executions.StateRunning:
	default:
		if e.State.Current.Terminal() {
			r.forget(it)
		}
		return false, nil
	}
	stored, err := st.flows.Get(ctx, e.Namespace, e.FlowID, e.FlowRevision)
	if err != nil {
		return false, fmt.Errorf("reading flow %s.%s revision %d: %w", e.Namespace, e.FlowID, e.FlowRevision, err)
	}
	f := &stored.Flow
	n := plan(f, e)
	switch {
	case n.task != nil:
		return r.start(ctx, st, f, e, n.task)
	case n.rerun != nil:
		t := findTask(f, n.rerun.TaskID)
		if t == nil {
			return false, fmt.Errorf("task %s is not in flow %s.%s revision %d", n.rerun.TaskID, e.Namespace, e.FlowID, e.FlowRevision)
		}
		return r.execute(ctx, st, f, e, t, n.rerun.ID)
	case n.finish != "":
		_, err := st.ex.Update(ctx, id, func(e *executions.Execution) error {
			if e.State.Current != executions.StateRunning {
				return errChanged
			}
			return e.State.To(n.finish, r.now())
		})
		if err == nil {
			r.forget(it)
		}
		return false, err
	}
	return false, nil // an external task is out
}

func findTask(f *flows.Flow, id string) *flows.Task {
	for _, list := range [][]flows.Task{f.Tasks, f.Errors} {
		for i := range list {
			if list[i].ID == id {
				return &list[i]
			}
		}
	}
	return nil
}

// start adds the task run of task t: RUNNING for a built-in task, which
// then runs; CREATED for another, which waits for an external worker.
func (r *Runner) start(ctx context.Context, st stores, f *flows.Flow, e *executions.Execution, t *flows.Task) (bool, error) {
	now := r.now()
	tr := executions.TaskRun{ID: executions.NewID(), ExecutionID: e.ID, Namespace: e.Namespace, FlowID: e.FlowID,
		TaskID: t.ID, Type: t.Type, State: executions.NewStateInfo(executions.StateCreated, now)}
	local := IsBuiltin(t.Type)
	if local {
		if err := tr.State.To(executions.StateRunning, now); err != nil {
			return false, err
		}
	}
	updated, err := st.ex.Update(ctx, e.ID, func(x *executions.Execution) error {
		if x.State.Current != executions.StateRunning {
			return errChanged
		}
		for _, have := range x.TaskRunList {
			if have.TaskID == t.ID {
				return errChanged
			}
		}
		x.TaskRunList = append(x.TaskRunList, tr)
		return nil
	})
	if err != nil || !local {
		return false, err
	}
	return r.execute(ctx, st, f, updated, t, tr.ID)
}

// execute runs the built-in task run trID of task t and stores its end.
func (r *Runner) execute(ctx context.Context, st stores, f *flows.Flow, e *executions.Execution, t *flows.Task, trID string) (bool, error) {
	m := r.masker(ctx, st, e.Namespace, e.ID)
	state, outputs, logs := r.runBuiltin(ctx, st, m, f, e, t, trID)
	for i := range logs {
		logs[i].Message = m.Mask(logs[i].Message)
	}
	if err := st.ex.AppendLogs(ctx, logs...); err != nil {
		return false, err
	}
	_, err := st.ex.Update(ctx, e.ID, func(x *executions.Execution) error {
		if x.State.Current != executions.StateRunning {
			return nil // killed meanwhile: finishKill ends the task run
		}
		tr := x.TaskRun(trID)
		if tr == nil || tr.State.Current.Terminal() {
			return nil
		}
		if outputs != nil {
			tr.Outputs = maskMap(m, outputs)
		}
		return tr.State.To(state, r.now())
	})
	return err == nil, err
}

// runBuiltin runs a Log or Return task and returns its end state, its
// outputs and its log lines (unmasked). A failure is a FAILED state with
// an ERROR line saying why.
func (r *Runner) runBuiltin(ctx context.Context, st stores, m *secrets.Masker, f *flows.Flow, e *executions.Execution, t *flows.Task, trID string) (executions.State, map[string]any, []executions.LogEntry) {
	entry := func(level executions.Level, msg string) executions.LogEntry {
		return executions.LogEntry{Namespace: e.Namespace, FlowID: e.FlowID, ExecutionID: e.ID, TaskID: t.ID,
			TaskRunID: trID, Timestamp: r.now(), Level: level, Message: msg}
	}
	failed := func(err error) (executions.State, map[string]any, []executions.LogEntry) {
		return executions.StateFailed, nil, []executions.LogEntry{entry(executions.LevelError, fmt.Sprintf("task %s failed: %v", t.ID, err))}
	}
	props, err := r.render(ctx, st, m, f, e, t, trID)
	if err != nil {
		return failed(err)
	}
	switch builtin[t.Type] {
	case TypeLog:
		level := executions.LevelInfo
		if l, ok := props["level"]; ok && l != nil {
			s, _ := l.(string)
			if level, err = executions.ParseLevel(s); err != nil {
				return failed(fmt.Errorf("level: must be one of TRACE, DEBUG, INFO, WARN, ERROR"))
			}
		}
		var msgs []string
		switch v := props["message"].(type) {
		case string:
			msgs = []string{v}
		case []any:
			for _, x := range v {
				msgs = append(msgs, fmt.Sprint(x))
			}
		case nil:
			return failed(errors.New("message is required"))
		default:
			msgs = []string{fmt.Sprint(v)}
		}
		logs := make([]executions.LogEntry, len(msgs))
		for i, s := range msgs {
			logs[i] = entry(level, s)
		}
		return executions.StateSuccess, nil, logs
	case TypeReturn:
		v, ok := props["format"]
		if !ok || v == nil {
			return failed(errors.New("format is required"))
		}
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		return executions.StateSuccess, map[string]any{"value": s}, nil
	}
	return failed(fmt.Errorf("type %s is not a built-in task", t.Type))
}

// render applies plugin defaults to task t's properties (the flow's,
// then the namespace's) and renders them.
func (r *Runner) render(ctx context.Context, st stores, m *secrets.Masker, f *flows.Flow, e *executions.Execution, t *flows.Task, trID string) (map[string]any, error) {
	eff, err := st.ns.Effective(ctx, e.Namespace)
	if err != nil {
		return nil, fmt.Errorf("reading namespace %s: %w", e.Namespace, err)
	}
	props := withoutIDType(t.Properties)
	if len(f.PluginDefaults) > 0 {
		fd := &namespaces.Effective{}
		for _, d := range f.PluginDefaults {
			fd.PluginDefaults = append(fd.PluginDefaults, namespaces.EffectiveDefault{
				PluginDefault: namespaces.PluginDefault{Type: d.Type, Values: d.Values, Forced: d.Forced}, Namespace: f.Namespace})
		}
		props = fd.DefaultsFor(t.Type, props)
	}
	props = eff.DefaultsFor(t.Type, props)
	vars, opts, err := r.context(ctx, st, m, f, e, eff, t, trID)
	if err != nil {
		return nil, err
	}
	out, err := expression.RenderValue(props, vars, opts)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func withoutIDType(p map[string]any) map[string]any {
	out := make(map[string]any, len(p))
	for k, v := range p {
		if k != "id" && k != "type" {
			out[k] = v
		}
	}
	return out
}

// context builds the variables and functions of a render.
func (r *Runner) context(ctx context.Context, st stores, m *secrets.Masker, f *flows.Flow, e *executions.Execution, eff *namespaces.Effective, t *flows.Task, trID string) (map[string]any, expression.Options, error) {
	opts := expression.Options{Funcs: map[string]expression.Func{
		"secret": func(args []any) (any, error) {
			if len(args) != 1 {
				return nil, errors.New("takes one argument, the secret's key")
			}
			key, ok := args[0].(string)
			if !ok {
				return nil, errors.New("the secret's key must be a string")
			}
			v, err := st.ns.SecretValue(ctx, e.Namespace, key)
			if errors.Is(err, namespaces.ErrNoKey) {
				return nil, errors.New("secrets are disabled: secrets.encryption_key is not configured")
			}
			if errors.Is(err, namespaces.ErrNotFound) {
				return nil, fmt.Errorf("secret %q not found in namespace %s or its ancestors", key, e.Namespace)
			}
			if err != nil {
				return nil, err
			}
			m.Add(v)
			return v, nil
		},
	}}
	outputs := map[string]any{}
	for _, tr := range e.TaskRunList {
		if tr.Outputs != nil {
			outputs[tr.TaskID] = tr.Outputs
		}
	}
	labels := map[string]any{}
	for _, l := range e.Labels {
		labels[l.Key] = l.Value
	}
	inputs := e.Inputs
	if inputs == nil {
		inputs = map[string]any{}
	}
	vars := map[string]any{
		"flow":      map[string]any{"id": f.ID, "namespace": f.Namespace, "revision": f.Revision},
		"execution": map[string]any{"id": e.ID, "startDate": e.State.StartDate.Format("2006-01-02T15:04:05.000Z07:00")},
		"inputs":    inputs,
		"namespace": eff.Variables,
		"outputs":   outputs,
		"labels":    labels,
		"task":      map[string]any{"id": t.ID, "type": t.Type},
		"taskrun":   map[string]any{"id": trID},
		// The flow's variables as written: like namespace variables, and
		// as in Kestra since 0.14, an expression inside one is plain text
		// until render() evaluates it.
		"vars": map[string]any{},
	}
	if len(f.Variables) > 0 {
		vars["vars"] = f.Variables
	}
	return wholeNumbers(vars).(map[string]any), opts, nil
}

// wholeNumbers returns v with whole float64 numbers (JSON's only kind,
// once stored) as ints, so "{{ inputs.count + 1 }}" renders "3", not
// "3.0", as it does in Kestra.
func wholeNumbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[k] = wholeNumbers(item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = wholeNumbers(item)
		}
		return out
	}
	return v
}

// maskMap returns v with every secret value masked: strings, map keys
// and numbers whose text holds one.
func maskMap(m *secrets.Masker, v map[string]any) map[string]any {
	out, _ := maskValue(m, v).(map[string]any)
	return out
}

func maskValue(m *secrets.Masker, v any) any {
	switch x := v.(type) {
	case string:
		return m.Mask(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			out[m.Mask(k)] = maskValue(m, item)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			out[i] = maskValue(m, item)
		}
		return out
	case nil, bool:
		return v
	default:
		s := fmt.Sprint(x)
		if masked := m.Mask(s); masked != s {
			return masked
		}
		return v
	}
}
