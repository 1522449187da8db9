// Package gateway is tenantgate's HTTP front: a Fiber application that
// authenticates every request, resolves its tenant, asks the policy
// whether the caller may read or write there, and serves OpenSearch's
// REST API against that tenant's view of the indices.
//
// Middleware runs in this order: observe (request id, panic recovery,
// metrics, one log line), authenticate (bearer token), authorize (tenant
// resolution and the read/write decision, per route, classified once in
// routes.go). Handlers return errors; errors.go maps every error to a
// status and an OpenSearch-shaped body in one place.
package gateway
