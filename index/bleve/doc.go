// Package bleve is the embedded back-end of tenantgate's index package: it
// stores each physical index as a Bleve index in its own directory under
// the data directory and implements index.Backend.
//
// Indices open lazily and stay open in a bounded LRU; idle ones close after
// a while. Documents are mapped by tenantgate itself (see layout.go) from
// an OpenSearch-style mapping that grows dynamically as documents arrive.
// OpenSearch query DSL and aggregations are translated in query.go and
// aggs.go. No Bleve type leaves this package.
package bleve
