// Package config loads tenantgate's configuration: one YAML file whose
// every key can be overridden by an environment variable, with explicit
// defaults applied in one step and a Validate that names the key at fault.
//
// The environment variable for a key is TENANTGATE_ followed by the key's
// path in upper case joined by underscores: listen → TENANTGATE_LISTEN,
// auth.jwt.clock_skew → TENANTGATE_AUTH_JWT_CLOCK_SKEW. Lists are
// comma-separated.
package config
