package executions_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/executions"
)

func TestCanTransition(t *testing.T) {
	allowed := map[executions.State][]executions.State{
		executions.StateCreated:  {executions.StateQueued, executions.StateRunning, executions.StateKilling, executions.StateCancelled, executions.StateFailed},
		executions.StateQueued:   {executions.StateRunning, executions.StateKilling, executions.StateCancelled, executions.StateFailed},
		executions.StateRunning:  {executions.StatePaused, executions.StateRetrying, executions.StateKilling, executions.StateSuccess, executions.StateWarning, executions.StateFailed},
		executions.StatePaused:   {executions.StateRunning, executions.StateKilling, executions.StateSuccess, executions.StateWarning, executions.StateFailed, executions.StateCancelled},
		executions.StateRetrying: {executions.StateRunning, executions.StateKilling, executions.StateFailed},
		executions.StateKilling:  {executions.StateKilled},
	}
	for _, from := range executions.States {
		for _, to := range executions.States {
			want := false
			for _, s := range allowed[from] {
				want = want || s == to
			}
			if got := executions.CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
		if from.Terminal() != (len(allowed[from]) == 0) {
			t.Errorf("%s.Terminal() = %v", from, from.Terminal())
		}
	}
}

func TestStateTo(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	st := executions.NewStateInfo(executions.StateCreated, t0)
	steps := []struct {
		to      executions.State
		after   time.Duration
		wantErr error
	}{
		{executions.StateRunning, time.Second, nil},
		{executions.StateKilled, 2 * time.Second, executions.ErrTransition},
		{executions.StateKilling, 2 * time.Second, nil},
		{executions.StateKilled, 2500 * time.Millisecond, nil},
		{executions.StateRunning, 3 * time.Second, executions.ErrTerminal},
		{executions.StateKilling, 3 * time.Second, executions.ErrTransition},
	}
	for _, s := range steps {
		t.Run(string(s.to), func(t *testing.T) {
			before := len(st.Histories)
			err := st.To(s.to, t0.Add(s.after))
			if s.wantErr != nil {
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("To(%s) = %v, want %v", s.to, err, s.wantErr)
				}
				if len(st.Histories) != before {
					t.Fatalf("a refused move changed the history: %+v", st.Histories)
				}
				return
			}
			if err != nil || st.Current != s.to || st.Histories[len(st.Histories)-1] != (executions.History{State: s.to, Date: t0.Add(s.after)}) {
				t.Fatalf("To(%s) = %v, state %+v", s.to, err, st)
			}
		})
	}
	if !st.StartDate.Equal(t0) || st.EndDate == nil || !st.EndDate.Equal(t0.Add(2500*time.Millisecond)) || st.Duration != "PT2.5S" {
		t.Fatalf("final state %+v", st)
	}
}

func TestParseLevelAndState(t *testing.T) {
	for _, c := range []struct {
		in   string
		want executions.Level
		ok   bool
	}{{"info", executions.LevelInfo, true}, {"WARN", executions.LevelWarn, true}, {"warning", executions.LevelWarn, true},
		{" error ", executions.LevelError, true}, {"trace", executions.LevelTrace, true}, {"fatal", "", false}, {"", "", false}} {
		got, err := executions.ParseLevel(c.in)
		if got != c.want || (err == nil) != c.ok || (err != nil && !errors.Is(err, executions.ErrInvalid)) {
			t.Errorf("ParseLevel(%q) = %q, %v", c.in, got, err)
		}
	}
	for i := 1; i < len(executions.Levels); i++ {
		lo, hi := executions.Levels[i-1], executions.Levels[i]
		if !hi.AtLeast(lo) || lo.AtLeast(hi) {
			t.Errorf("level order broken between %s and %s", lo, hi)
		}
	}
	if s, err := executions.ParseState("running"); err != nil || s != executions.StateRunning {
		t.Errorf("ParseState(running) = %q, %v", s, err)
	}
	if _, err := executions.ParseState("DONE"); !errors.Is(err, executions.ErrInvalid) {
		t.Errorf("ParseState(DONE) = %v", err)
	}
	for range 100 {
		if id := executions.NewID(); len(id) != 22 || id[0] < 'A' || id[0] > 'Z' || !executions.ValidID(id) || id == executions.NewID() {
			t.Fatalf("NewID() = %q", id)
		}
	}
	for id, ok := range map[string]bool{"5HaN0X8lvMJZDDcyzTN4eT": true, "Abc-_9": true, "company.team": false, "abc": false,
		"": false, "A b": false, "A/b": false, "A.b": false} {
		if executions.ValidID(id) != ok {
			t.Errorf("ValidID(%q) = %v", id, !ok)
		}
	}
}
