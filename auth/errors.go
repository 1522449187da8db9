package auth

import "errors"

// ErrUnauthenticated means the request carries no usable credentials: the
// token is missing, malformed, badly signed, expired or lacks a required
// claim. Errors returned by Verify wrap it with a short reason that is safe
// to show to the client; they never contain the token or any part of it.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrConfig means the authentication configuration (signing keys, claim
// keys, clock skew) is unusable. Errors wrapping it name the key at fault.
var ErrConfig = errors.New("invalid auth configuration")

// unauthenticated is an error with a client-safe reason.
type unauthenticated struct{ reason string }

func (e *unauthenticated) Error() string { return "unauthenticated: " + e.reason }
func (e *unauthenticated) Unwrap() error { return ErrUnauthenticated }

func deny(reason string) error { return &unauthenticated{reason: reason} }

// ErrInvalidMaxAge means a token lifetime given to ParseMaxAge is not a
// duration tenantgate accepts: not a Go or ISO-8601 duration, a year or
// month component, zero, negative, or longer than MaxTokenAge. Errors
// wrapping it quote the value and say what is wrong with it.
var ErrInvalidMaxAge = errors.New("invalid max_age")

// ErrInvalidPassword means HashPassword refused a password: it is shorter
// than MinPasswordBytes or longer than MaxPasswordBytes. Errors wrapping it
// say which; they never contain the password.
var ErrInvalidPassword = errors.New("invalid password")
