// Package flows holds Kestra-style flows: the YAML model and Kestra's
// validation rules, so a flow written for Kestra is accepted here and one
// refused here would be refused there.
//
// Parse reads one flow from YAML and validates it; the source is kept
// byte for byte in Flow.Source. ValidateAll checks a multi-document YAML
// stream ("---" separated) and reports each document's errors separately,
// in the shape of Kestra's POST /flows/validate. NamespaceCovers is the
// dot-boundary namespace filter and Flow.SameSource the "identical save"
// test of the revision rules.
//
// The package has no storage and no HTTP: the per-tenant store and the
// API build on it.
package flows
