package admin

import (
	"errors"
	"fmt"
)

// Sentinel errors of the admin package. Every error a Service method
// returns to a caller wraps one of them (in an *Error carrying a message
// safe to show the client), so the gateway maps them to statuses in one
// place with errors.Is.
var (
	// ErrNotFound means the named resource does not exist (or is hidden
	// from the caller): 404.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the resource already exists or is in a state that
	// forbids the change: 409.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the request is malformed: 400.
	ErrInvalid = errors.New("invalid")
	// ErrForbidden means the caller lacks the permission: 403.
	ErrForbidden = errors.New("forbidden")
	// ErrReserved means the resource comes from the security files and
	// cannot be changed through the API: 403.
	ErrReserved = errors.New("reserved")
	// ErrLocked means the tenant is locked or frozen: 423.
	ErrLocked = errors.New("locked")
	// ErrAuditUnavailable means the audit record of a change could not be
	// written and audit.fail_closed is set, so the change was not made:
	// 503.
	ErrAuditUnavailable = errors.New("audit trail unavailable")
)

// Error is an error with a message safe to show the client. Kind is one
// of the sentinels; Cause, when set, is logged but never shown.
type Error struct {
	Kind    error
	Message string
	Cause   error
}

// Error returns the client-safe message.
func (e *Error) Error() string { return e.Message }

// Unwrap returns the sentinel and the cause, so errors.Is sees both.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// reserved is OpenSearch Security's message for a change to a reserved
// resource.
func reserved(name string) *Error {
	return errorf(ErrReserved, "Resource '%s' is reserved.", name)
}

// noPermission is the 403 for a missing cluster permission.
func noPermission(perm, user string) *Error {
	return errorf(ErrForbidden, "no permissions for [%s] and User [name=%s]", perm, user)
}
