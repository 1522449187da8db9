// Package admin holds the rules of tenant and identity administration:
// who may create, change, lock, delete and restore tenants, users,
// service accounts, groups, roles, role mappings and API tokens, and
// what each change does.
//
// A Service works on the control-plane store (package control). Every
// change runs in one store transaction that also appends its audit record
// (package audit), so a change and its record commit together; with
// Options.FailClosed an audit record that cannot be written aborts the
// change with ErrAuditUnavailable. After each commit the Service reloads
// the policy engine, the tenant registry and its directory of users and
// tokens from the store, so the next request sees the change.
//
// The Service knows nothing of HTTP: the gateway turns requests into
// calls with an Actor (who is asking) and maps the sentinel errors of
// errors.go to statuses.
package admin
