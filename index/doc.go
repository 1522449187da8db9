// Package index is tenantgate's storage for documents and searches.
//
// It has two layers:
//
//   - Backend stores physical indices (".kibana_1592542611_humanresources",
//     "logs") and knows nothing about tenants. The embedded implementation is
//     index/bleve; an OpenSearch cluster could implement the same interface.
//   - Service keeps the catalog (physical name ↔ tenant and logical name)
//     and the per-tenant index templates, and hands out a View per tenant.
//     A View takes logical names only; it is the one place where tenant
//     scoping happens, so handlers never build physical names.
//
// Mappings, search requests and results use OpenSearch's JSON shapes so
// that any back-end can pass them through.
package index
