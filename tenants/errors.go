package tenants

import (
	"errors"
	"fmt"
)

// Sentinel errors of the tenants package.
var (
	// ErrInvalid means a tenant name or request is malformed.
	ErrInvalid = errors.New("invalid tenant")
	// ErrForbidden means the tenant does not exist or the caller may not
	// use it; the two are deliberately not told apart.
	ErrForbidden = errors.New("no access to tenant")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
