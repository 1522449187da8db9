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
//
// Beside OpenSearch's API it serves OpenSearch Dashboards' (/api/saved_objects,
// short links) and one tenantgate extension, POST /api/sample_data/{set}
// (set "weblogs", osd-xsrf required, a write): it loads the generated web
// logs (package sample) into the caller's tenant in process, documents
// through the tenant's index view and saved objects through package
// dashboards, and answers {set, index, docs, objects, dashboard, url,
// time: {from, to}}, url opening the dashboard over the loaded span.
// Loading again replaces the set (fixed ids, import with overwrite).
package gateway
