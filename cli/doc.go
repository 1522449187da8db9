// Package cli implements tenantgate's command line: serve (the default),
// token, keygen and version. Each command parses its own flags and
// returns an exit code; main only calls Main.
package cli
