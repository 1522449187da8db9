// Package executions holds Kestra-style executions and their logs: the
// model (states and Kestra's state machine, task runs, log levels) and
// a per-tenant Store over the tenant's system view, in the logical
// indices ".executions" and ".logs" (physical ".executions_<hash>_<name>"
// and ".logs_<hash>_<name>", plain for global).
//
// The package has no HTTP and runs nothing: the worker package moves
// executions through their states and the gateway serves the API.
package executions
