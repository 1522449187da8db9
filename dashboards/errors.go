package dashboards

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for a client mistake
// is an *Error whose Kind is one of them; the gateway maps them to
// statuses with errors.Is.
var (
	// ErrNotFound means the saved object does not exist.
	ErrNotFound = errors.New("saved object not found")
	// ErrConflict means the object exists already, or its version is
	// stale.
	ErrConflict = errors.New("saved object conflict")
	// ErrInvalid means the request or the object is malformed (an
	// unsupported type included).
	ErrInvalid = errors.New("invalid saved object request")
)

// Error is a client error with OpenSearch Dashboards' message
// ("Saved object [dashboard/x] not found").
type Error struct {
	Kind    error
	Message string
}

// Error implements error.
func (e *Error) Error() string { return e.Message }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

func notFound(typ, id string) *Error {
	return &Error{Kind: ErrNotFound, Message: fmt.Sprintf("Saved object [%s/%s] not found", typ, id)}
}

func conflict(typ, id string) *Error {
	return &Error{Kind: ErrConflict, Message: fmt.Sprintf("Saved object [%s/%s] conflict", typ, id)}
}

func invalidf(format string, args ...any) *Error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

func unsupportedType(typ string) *Error {
	return invalidf("Unsupported saved object type: '%s': Bad Request", typ)
}

// ItemError is the error of one item of a bulk call, in OpenSearch
// Dashboards' shape.
type ItemError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
}

// itemError turns err into an ItemError; ok is false when err is not a
// client error (the caller fails the whole request then).
func itemError(err error) (ItemError, bool) {
	var e *Error
	if !errors.As(err, &e) {
		return ItemError{}, false
	}
	switch {
	case errors.Is(e.Kind, ErrNotFound):
		return ItemError{404, "Not Found", e.Message}, true
	case errors.Is(e.Kind, ErrConflict):
		return ItemError{409, "Conflict", e.Message}, true
	}
	return ItemError{400, "Bad Request", e.Message}, true
}
