package executions

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/flows"
)

// State is the state of an execution or of a task run, named as in
// Kestra (io.kestra.core.models.flows.State.Type).
type State string

// The states of Kestra's state machine.
const (
	StateCreated   State = "CREATED"
	StateQueued    State = "QUEUED"
	StateRunning   State = "RUNNING"
	StatePaused    State = "PAUSED"
	StateRetrying  State = "RETRYING"
	StateKilling   State = "KILLING"
	StateSuccess   State = "SUCCESS"
	StateWarning   State = "WARNING"
	StateFailed    State = "FAILED"
	StateKilled    State = "KILLED"
	StateCancelled State = "CANCELLED"
)

// States lists every state, in the order of the state machine.
var States = []State{StateCreated, StateQueued, StateRunning, StatePaused, StateRetrying, StateKilling,
	StateSuccess, StateWarning, StateFailed, StateKilled, StateCancelled}

// Terminal reports whether s is a final state: SUCCESS, WARNING, FAILED,
// KILLED or CANCELLED. Nothing leaves a terminal state.
func (s State) Terminal() bool {
	switch s {
	case StateSuccess, StateWarning, StateFailed, StateKilled, StateCancelled:
		return true
	}
	return false
}

// Valid reports whether s is one of States.
func (s State) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// ParseState reads a state name, case-insensitively. An unknown name is
// ErrInvalid.
func ParseState(name string) (State, error) {
	s := State(strings.ToUpper(strings.TrimSpace(name)))
	if !s.Valid() {
		return "", fmt.Errorf("%w: unknown state %q", ErrInvalid, name)
	}
	return s, nil
}

// transitions is Kestra's state machine: the states each state may move
// to. A created or queued execution may start, be killed or be
// cancelled (and fail before starting, e.g. on its inputs); a running
// one pauses, retries, is killed or ends; a paused one resumes, is
// killed or ends by its pause behaviour on timeout; a retrying one runs
// again, is killed or fails; killing ends in KILLED. Terminal states
// have no way out.
var transitions = map[State][]State{
	StateCreated:   {StateQueued, StateRunning, StateKilling, StateCancelled, StateFailed},
	StateQueued:    {StateRunning, StateKilling, StateCancelled, StateFailed},
	StateRunning:   {StatePaused, StateRetrying, StateKilling, StateSuccess, StateWarning, StateFailed},
	StatePaused:    {StateRunning, StateKilling, StateSuccess, StateWarning, StateFailed, StateCancelled},
	StateRetrying:  {StateRunning, StateKilling, StateFailed},
	StateKilling:   {StateKilled},
	StateSuccess:   nil,
	StateWarning:   nil,
	StateFailed:    nil,
	StateKilled:    nil,
	StateCancelled: nil,
}

// CanTransition reports whether Kestra's state machine moves from to to.
// Staying in the same state is not a transition; out of a terminal
// state nothing is allowed.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// History is one entry of a state's history: the state entered and when.
type History struct {
	State State     `json:"state"`
	Date  time.Time `json:"date"`
}

// StateInfo is the state of an execution or task run in Kestra's JSON
// shape: the current state, every state entered (oldest first), the
// start date (the first entry), the end date once terminal, and the
// duration as an ISO-8601 duration ("PT1.5S"), up to the end date or to
// the last change.
type StateInfo struct {
	Current   State      `json:"current"`
	Histories []History  `json:"histories"`
	StartDate time.Time  `json:"startDate"`
	EndDate   *time.Time `json:"endDate,omitempty"`
	Duration  string     `json:"duration"`
}

// NewStateInfo returns a state that starts in s at at.
func NewStateInfo(s State, at time.Time) StateInfo {
	at = at.UTC()
	st := StateInfo{Current: s, Histories: []History{{State: s, Date: at}}, StartDate: at, Duration: "PT0S"}
	if s.Terminal() {
		st.EndDate = &at
	}
	return st
}

// To moves the state to next at at, appending to the history and
// setting the end date and duration. A move Kestra's state machine
// refuses is an error wrapping ErrTransition (and ErrTerminal when the
// current state is terminal); the state is then left unchanged.
func (s *StateInfo) To(next State, at time.Time) error {
	if s.Current.Terminal() {
		return fmt.Errorf("%w: %w: cannot go from %s to %s", ErrTransition, ErrTerminal, s.Current, next)
	}
	if !CanTransition(s.Current, next) {
		return fmt.Errorf("%w: cannot go from %s to %s", ErrTransition, s.Current, next)
	}
	at = at.UTC()
	if len(s.Histories) == 0 {
		s.StartDate = at
	}
	s.Current = next
	s.Histories = append(s.Histories, History{State: next, Date: at})
	if next.Terminal() {
		s.EndDate = &at
	}
	s.Duration = isoDuration(at.Sub(s.StartDate))
	return nil
}

// isoDuration writes d as an ISO-8601 duration in seconds, as Kestra
// does ("PT0.25S", "PT90S").
func isoDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return "PT" + strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "S"
}

// TaskRun is one run of one task of an execution. Worker and ClaimedAt
// are set while an external worker holds it.
type TaskRun struct {
	ID          string         `json:"id"`
	ExecutionID string         `json:"executionId"`
	Namespace   string         `json:"namespace"`
	FlowID      string         `json:"flowId"`
	TaskID      string         `json:"taskId"`
	Type        string         `json:"type,omitempty"`
	Outputs     map[string]any `json:"outputs,omitempty"`
	State       StateInfo      `json:"state"`
	Worker      string         `json:"worker,omitempty"`
	ClaimedAt   *time.Time     `json:"claimedAt,omitempty"`
}

// Trigger says what started an execution (Kestra's ExecutionTrigger):
// the trigger id and type and its variables. Executions started through
// the API have none.
type Trigger struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	Variables map[string]any `json:"variables,omitempty"`
}

// Execution is one run of a flow, in Kestra's JSON shape.
type Execution struct {
	ID           string         `json:"id"`
	Namespace    string         `json:"namespace"`
	FlowID       string         `json:"flowId"`
	FlowRevision int            `json:"flowRevision"`
	State        StateInfo      `json:"state"`
	TaskRunList  []TaskRun      `json:"taskRunList"`
	Inputs       map[string]any `json:"inputs,omitempty"`
	Outputs      map[string]any `json:"outputs,omitempty"`
	Labels       []flows.Label  `json:"labels,omitempty"`
	Trigger      *Trigger       `json:"trigger,omitempty"`
}

// TaskRun returns the task run with id, or nil.
func (e *Execution) TaskRun(id string) *TaskRun {
	for i := range e.TaskRunList {
		if e.TaskRunList[i].ID == id {
			return &e.TaskRunList[i]
		}
	}
	return nil
}

// Level is the level of a log line. Levels are ordered TRACE < DEBUG <
// INFO < WARN < ERROR.
type Level string

// The log levels, lowest first.
const (
	LevelTrace Level = "TRACE"
	LevelDebug Level = "DEBUG"
	LevelInfo  Level = "INFO"
	LevelWarn  Level = "WARN"
	LevelError Level = "ERROR"
)

// Levels lists every level, lowest first.
var Levels = []Level{LevelTrace, LevelDebug, LevelInfo, LevelWarn, LevelError}

// Rank is the position of l in Levels (0 for TRACE), or -1 for an
// unknown level.
func (l Level) Rank() int {
	for i, v := range Levels {
		if v == l {
			return i
		}
	}
	return -1
}

// AtLeast reports whether l is min or above.
func (l Level) AtLeast(min Level) bool { return l.Rank() >= min.Rank() }

// ParseLevel reads a level name, case-insensitively ("warning" is WARN).
// An unknown name is ErrInvalid.
func ParseLevel(name string) (Level, error) {
	l := Level(strings.ToUpper(strings.TrimSpace(name)))
	if l == "WARNING" {
		l = LevelWarn
	}
	if l.Rank() < 0 {
		return "", fmt.Errorf("%w: unknown log level %q", ErrInvalid, name)
	}
	return l, nil
}

// LogEntry is one log line of an execution, in Kestra's JSON shape.
type LogEntry struct {
	Namespace   string    `json:"namespace"`
	FlowID      string    `json:"flowId"`
	ExecutionID string    `json:"executionId"`
	TaskID      string    `json:"taskId,omitempty"`
	TaskRunID   string    `json:"taskRunId,omitempty"`
	Timestamp   time.Time `json:"timestamp"`
	Level       Level     `json:"level"`
	Message     string    `json:"message"`
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// NewID returns a random 22-character base-62 id, the shape of Kestra's
// execution and task run ids. It starts with an upper-case letter, so
// it never reads as a namespace (those are lower case): the API tells
// "/executions/{namespace}/{flowId}" from "/executions/{id}/kill" by it.
func NewID() string {
	var b [17]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	out := make([]byte, 22)
	out[0] = 'A' + b[0]%26
	n := new(big.Int).SetBytes(b[1:])
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := len(out) - 1; i > 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = base62[mod.Int64()]
	}
	return string(out)
}

// namespacePattern is Kestra's namespace rule (flows.Parse checks it).
var namespacePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ValidID reports whether id can name an execution: 1 to 100 bytes of
// letters, digits, "_" and "-", not reading as a namespace (NewID's ids
// all qualify).
func ValidID(id string) bool {
	if id == "" || len(id) > 100 || namespacePattern.MatchString(id) {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}
