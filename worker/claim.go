package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/tenants"
)

// MaxClaim is the most jobs one Claim hands out.
const MaxClaim = 100

// Job is a task run handed to an external worker: which task of which
// execution, and its properties with plugin defaults applied and every
// expression rendered (secret() values included: the worker needs them).
type Job struct {
	ExecutionID  string         `json:"executionId"`
	TaskRunID    string         `json:"taskRunId"`
	TaskID       string         `json:"taskId"`
	Type         string         `json:"type"`
	Namespace    string         `json:"namespace"`
	FlowID       string         `json:"flowId"`
	FlowRevision int            `json:"flowRevision"`
	Properties   map[string]any `json:"properties"`
}

// Report is what an external worker says about a task run it holds.
type Report struct {
	// WorkerID, when set, must be the worker that claimed the task run.
	WorkerID string
	// State is RUNNING (started, or still running: it also renews the
	// claim), SUCCESS, WARNING or FAILED.
	State   executions.State
	Outputs map[string]any
	Logs    []LogLine
}

// LogLine is one log line of a report. An empty level is INFO; a zero
// time is the time of the report.
type LogLine struct {
	Level     string    `json:"level"`
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
}

// matches reports whether typ is one of types, exactly or as a prefix on
// a dot boundary ("io.kestra.plugin.scripts" covers
// "io.kestra.plugin.scripts.shell.Commands"); no types match every type.
func matches(types []string, typ string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		t = strings.TrimSuffix(t, ".")
		if t == typ || (t != "" && strings.HasPrefix(typ, t+".")) {
			return true
		}
	}
	return false
}

// Claim hands workerID up to max task runs of the tenant that wait for
// an external worker and whose type matches types, oldest execution
// first, and marks each as held by workerID. allow, when not nil, limits
// the claim to the namespaces it allows (the caller's permissions). A task run held by a worker
// that has not reported for Options.ClaimTimeout may be claimed again. A
// task run whose properties fail to render fails (and so does its
// execution) instead of being handed out.
func (r *Runner) Claim(ctx context.Context, ref tenants.Ref, workerID string, types []string, max int, allow func(namespace string) bool) ([]Job, error) {
	workerID = strings.TrimSpace(workerID)
	if workerID == "" || len(workerID) > 200 {
		return nil, fmt.Errorf("%w: workerId is required (at most 200 characters)", ErrInvalid)
	}
	if max <= 0 {
		max = 1
	}
	max = min(max, MaxClaim)
	st := r.stores(ref)
	active, err := st.ex.Active(ctx)
	if err != nil {
		return nil, err
	}
	jobs := []Job{}
	for _, e := range active {
		if len(jobs) >= max {
			break
		}
		if e.State.Current != executions.StateRunning || (allow != nil && !allow(e.Namespace)) {
			continue
		}
		for _, tr := range e.TaskRunList {
			if len(jobs) >= max {
				break
			}
			if !r.claimable(&tr, types) {
				continue
			}
			job, ok, err := r.claim(ctx, st, e.ID, tr.ID, workerID, types)
			if err != nil {
				return jobs, err
			}
			if ok {
				jobs = append(jobs, job)
			}
		}
	}
	return jobs, nil
}

func (r *Runner) claimable(tr *executions.TaskRun, types []string) bool {
	if IsBuiltin(tr.Type) || !matches(types, tr.Type) {
		return false
	}
	switch tr.State.Current {
	case executions.StateCreated, executions.StateRunning:
	default:
		return false
	}
	if tr.Worker == "" {
		return tr.State.Current == executions.StateCreated
	}
	return tr.ClaimedAt != nil && r.now().Sub(*tr.ClaimedAt) >= r.o.ClaimTimeout
}

// claim marks one task run as held by workerID and renders its job.
func (r *Runner) claim(ctx context.Context, st stores, execID, trID, workerID string, types []string) (Job, bool, error) {
	now := r.now()
	e, err := st.ex.Update(ctx, execID, func(e *executions.Execution) error {
		tr := e.TaskRun(trID)
		if e.State.Current != executions.StateRunning || tr == nil || !r.claimable(tr, types) {
			return errChanged
		}
		tr.Worker, tr.ClaimedAt = workerID, &now
		return nil
	})
	if errors.Is(err, errChanged) || errors.Is(err, executions.ErrNotFound) {
		return Job{}, false, nil // another worker was faster, or it was killed
	}
	if err != nil {
		return Job{}, false, err
	}
	tr := e.TaskRun(trID)
	stored, err := st.flows.Get(ctx, e.Namespace, e.FlowID, e.FlowRevision)
	if err == nil {
		t := findTask(&stored.Flow, tr.TaskID)
		if t == nil {
			err = fmt.Errorf("task %s is not in flow %s.%s revision %d", tr.TaskID, e.Namespace, e.FlowID, e.FlowRevision)
		} else {
			m := r.masker(ctx, st, e.Namespace, e.ID)
			var props map[string]any
			if props, err = r.render(ctx, st, m, &stored.Flow, e, t, trID); err == nil {
				return Job{ExecutionID: e.ID, TaskRunID: trID, TaskID: tr.TaskID, Type: tr.Type, Namespace: e.Namespace,
					FlowID: e.FlowID, FlowRevision: e.FlowRevision, Properties: props}, true, nil
			}
		}
	}
	if ctx.Err() != nil {
		return Job{}, false, ctx.Err()
	}
	// The task cannot run: fail it, and let the pool end the execution.
	rep := Report{WorkerID: workerID, State: executions.StateFailed,
		Logs: []LogLine{{Level: string(executions.LevelError), Message: fmt.Sprintf("task %s failed: %v", tr.TaskID, err)}}}
	if rerr := r.Report(ctx, st.ref, execID, trID, rep); rerr != nil {
		return Job{}, false, rerr
	}
	return Job{}, false, nil
}

// Report records what an external worker says about a task run it
// claimed: its state, outputs (replacing earlier ones) and log lines,
// all masked. A terminal state lets the execution go on. A missing
// execution wraps executions.ErrNotFound, a missing task run
// ErrNotFound; a task run that is not claimed, or claimed by another
// worker, or an execution that is not running, ErrConflict; a task run
// that has finished executions.ErrTerminal; a bad state or level
// ErrInvalid.
func (r *Runner) Report(ctx context.Context, ref tenants.Ref, executionID, taskRunID string, rep Report) error {
	switch rep.State {
	case executions.StateRunning, executions.StateSuccess, executions.StateWarning, executions.StateFailed:
	default:
		return fmt.Errorf("%w: state must be RUNNING, SUCCESS, WARNING or FAILED, not %q", ErrInvalid, rep.State)
	}
	levels := make([]executions.Level, len(rep.Logs))
	for i, l := range rep.Logs {
		levels[i] = executions.LevelInfo
		if l.Level != "" {
			lv, err := executions.ParseLevel(l.Level)
			if err != nil {
				return fmt.Errorf("%w: logs[%d].level must be TRACE, DEBUG, INFO, WARN or ERROR", ErrInvalid, i)
			}
			levels[i] = lv
		}
	}
	st := r.stores(ref)
	it := item{ref: ref, id: executionID}
	cur, err := st.ex.Get(ctx, executionID)
	if err != nil {
		return err
	}
	m := r.masker(ctx, st, cur.Namespace, executionID)
	now := r.now()
	var taskID string
	_, err = st.ex.Update(ctx, executionID, func(e *executions.Execution) error {
		tr := e.TaskRun(taskRunID)
		switch {
		case tr == nil:
			return fmt.Errorf("%w: %s in execution %s", ErrNotFound, taskRunID, executionID)
		case tr.State.Current.Terminal():
			return fmt.Errorf("%w: task run %s is %s", executions.ErrTerminal, taskRunID, tr.State.Current)
		case e.State.Current != executions.StateRunning:
			return fmt.Errorf("%w: execution %s is %s", ErrConflict, executionID, e.State.Current)
		case IsBuiltin(tr.Type) || tr.Worker == "":
			return fmt.Errorf("%w: task run %s is not claimed", ErrConflict, taskRunID)
		case rep.WorkerID != "" && rep.WorkerID != tr.Worker:
			return fmt.Errorf("%w: task run %s is claimed by another worker", ErrConflict, taskRunID)
		}
		taskID = tr.TaskID
		renewed := now
		tr.ClaimedAt = &renewed
		if rep.Outputs != nil {
			tr.Outputs = maskMap(m, rep.Outputs)
		}
		if tr.State.Current == executions.StateCreated {
			if err := tr.State.To(executions.StateRunning, now); err != nil {
				return err
			}
		}
		if rep.State != executions.StateRunning {
			return tr.State.To(rep.State, now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(rep.Logs) > 0 {
		entries := make([]executions.LogEntry, len(rep.Logs))
		for i, l := range rep.Logs {
			ts := l.Timestamp
			if ts.IsZero() {
				ts = now
			}
			entries[i] = executions.LogEntry{Namespace: cur.Namespace, FlowID: cur.FlowID, ExecutionID: executionID,
				TaskID: taskID, TaskRunID: taskRunID, Timestamp: ts, Level: levels[i], Message: m.Mask(l.Message)}
		}
		if err := st.ex.AppendLogs(ctx, entries...); err != nil {
			return err
		}
	}
	r.notify(it)
	if rep.State.Terminal() {
		r.enqueue(ref, executionID)
	}
	return nil
}
