// Package cli implements tenantgate's command line: serve (the default),
// token, keygen, sample, tenants, apply, hash and version. Each command
// parses its own flags and returns an exit code; main only calls Main.
//
// tenants and apply talk to a running gateway (client.go): --server or
// TENANTGATE_SERVER, and --token or TENANTGATE_TOKEN (a JWT or an API
// token) or --user with --password or TENANTGATE_PASSWORD. Exit codes:
// 0 done, 1 the server refused or could not be reached, 2 a usage error.
package cli
