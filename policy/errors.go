package policy

import (
	"errors"
	"fmt"
)

// Sentinel errors of the policy package. Wrap them with %w; callers test
// them with errors.Is.
var (
	// ErrInvalid means a roles or roles-mapping file (or a Role built in
	// code) is malformed: a bad _meta section, an unknown key, an unknown
	// tenant or index action, an unsupported pattern variable, an
	// unsupported restriction, or a tenant-scoped role that breaks the
	// rules of Role.Tenant. The message names the role.
	ErrInvalid = errors.New("invalid security configuration")
)

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
