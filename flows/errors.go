package flows

import (
	"errors"
	"strings"
)

// ErrInvalid means a flow (or a document of a multi-document stream) is
// not valid YAML or breaks one of Kestra's rules. Every error Parse returns
// wraps it, so the gateway maps it to 400 with errors.Is.
var ErrInvalid = errors.New("invalid flow")

// Violation is one broken rule: Path names the place in the flow
// ("tasks[1].id", "inputs[0].type", "" for the whole document) and
// Message says what is wrong.
type Violation struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// String returns "path: message" (or the message alone at the top).
func (v Violation) String() string {
	if v.Path == "" {
		return v.Message
	}
	return v.Path + ": " + v.Message
}

// ValidationError lists every violation found in one flow. Its message
// is safe to show the client: it holds paths and rules, never values
// beyond the offending ids and keys.
type ValidationError struct {
	Violations []Violation
}

// Error joins the violations, one per line, as Kestra's "constraints".
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.String()
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// ErrNotFound means the flow (or the asked revision) does not exist in
// the tenant, or was deleted.
var ErrNotFound = errors.New("flow not found")

// ErrConflict means a flow with that namespace and id already exists
// (and is not deleted), or a concurrent save won the race.
var ErrConflict = errors.New("flow already exists")
