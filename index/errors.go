package index

import (
	"errors"
	"fmt"
)

// Sentinel errors. Wrap them with %w; the gateway maps them to statuses
// with errors.Is and errors.As.
var (
	// ErrNotFound means the index or document does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the index or document already exists.
	ErrExists = errors.New("already exists")
	// ErrConflict means the operation collides with existing state
	// (for example a physical name owned by another tenant).
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the request is malformed or unsupported.
	ErrInvalid = errors.New("invalid request")
	// ErrClosed means the backend was closed.
	ErrClosed = errors.New("index backend closed")
)

// Error is an error with an OpenSearch error type ("parsing_exception",
// "index_not_found_exception", …) and a reason safe to show to the client.
// Kind is one of the sentinels above and decides the HTTP status.
type Error struct {
	Kind   error
	Type   string
	Reason string
	// Index is the logical or physical index the error is about, if any.
	Index string
}

// Error implements error.
func (e *Error) Error() string { return e.Reason }

// Unwrap returns Kind so errors.Is(err, ErrInvalid) works.
func (e *Error) Unwrap() error { return e.Kind }

// Invalidf returns an *Error of kind ErrInvalid with the given OpenSearch
// error type.
func Invalidf(typ, format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// NotFoundf returns an *Error of kind ErrNotFound.
func NotFoundf(typ, format string, args ...any) *Error {
	return &Error{Kind: ErrNotFound, Type: typ, Reason: fmt.Sprintf(format, args...)}
}

// Conflictf returns an *Error of kind ErrConflict.
func Conflictf(typ, format string, args ...any) *Error {
	return &Error{Kind: ErrConflict, Type: typ, Reason: fmt.Sprintf(format, args...)}
}
