package worker

import "errors"

// ErrInvalid means a request is malformed: an input missing, unknown or
// of the wrong type, a bad report state. The message says which, and
// never quotes a secret.
var ErrInvalid = errors.New("invalid execution request")

// ErrDisabled means the flow is disabled: it cannot be executed.
var ErrDisabled = errors.New("flow is disabled")

// ErrNotFound means the task run a report names does not exist in the
// execution. A missing flow wraps flows.ErrNotFound and a missing
// execution executions.ErrNotFound instead.
var ErrNotFound = errors.New("task run not found")

// ErrConflict means a report on a task run that is not claimed, or
// claimed by another worker, or an execution that is not running.
var ErrConflict = errors.New("task run is not held by this worker")

// ErrClosed means the runner has been closed.
var ErrClosed = errors.New("worker is closed")
