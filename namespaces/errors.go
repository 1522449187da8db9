package namespaces

import "errors"

// ErrInvalid means a namespace id, a secret key or a value given to the
// store breaks a rule; errors wrapping it say which, never with a secret
// value.
var ErrInvalid = errors.New("invalid namespace request")

// ErrNotFound means the namespace (or the secret) does not exist in the
// tenant.
var ErrNotFound = errors.New("not found")

// ErrConflict means a namespace with that id already exists, or a
// concurrent change kept winning the race.
var ErrConflict = errors.New("conflict")

// ErrNoKey means the store was made without an encryption key
// (secrets.encryption_key is not configured), so it cannot write or
// read secret values.
var ErrNoKey = errors.New("secrets are disabled: secrets.encryption_key is not configured")
