package audit

import (
	"errors"
	"fmt"
)

// Sentinel errors of the audit package.
var (
	// ErrInvalid means a record or a query filter is malformed: an unknown
	// outcome, a missing action, a tenant name with a NUL byte, a time
	// outside what the trail can store, before/after/diff that are not
	// JSON, a page or size out of range, or From after To.
	ErrInvalid = errors.New("invalid audit request")
	// ErrClosed means the Trail was closed: Flush after Close.
	ErrClosed = errors.New("audit trail closed")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
