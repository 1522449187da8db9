package control

import (
	"errors"
	"fmt"
)

// Sentinel errors of the control package. Every error a Tx accessor
// returns for a missing, clashing or malformed record wraps one of them;
// callers test them with errors.Is.
var (
	// ErrNotFound means the record (tenant, user, group, role, role
	// mapping, token, or the owner a token names) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the change collides with a record that already
	// exists. The store itself never returns it (Put overwrites); callers
	// that refuse to overwrite wrap it.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means a record or a file is malformed: a bad name, an
	// unknown user kind, a malformed password hash, an unknown key.
	ErrInvalid = errors.New("invalid")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func notFound(kind, key string) error {
	return fmt.Errorf("%s %q: %w", kind, key, ErrNotFound)
}
