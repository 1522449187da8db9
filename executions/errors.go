package executions

import "errors"

// ErrNotFound means the execution does not exist in the tenant (or was
// deleted).
var ErrNotFound = errors.New("execution not found")

// ErrInvalid means a request to the store is malformed: a bad state or
// level name, a missing required purge date, a bad sort or page.
var ErrInvalid = errors.New("invalid execution request")

// ErrConflict means an execution with that id already exists, or a
// concurrent update kept winning the race until the store gave up.
var ErrConflict = errors.New("execution changed concurrently")

// ErrTransition means a state change that Kestra's state machine does
// not allow (StateInfo.To). The gateway maps it to 409.
var ErrTransition = errors.New("state transition not allowed")

// ErrTerminal means the execution (or task run) has already finished:
// nothing moves it out of a terminal state. Errors wrapping it wrap
// ErrTransition as well.
var ErrTerminal = errors.New("execution already finished")
