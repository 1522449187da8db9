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
// Store keeps one tenant's flows in the logical index ".flows" of that
// tenant's system view (physical ".flows_<hash>_<name>", plain ".flows"
// for global): a current document per flow and one per revision, with
// Kestra's revision rules (an identical save makes none, delete is a
// revision marked deleted, id and namespace never change). The package
// has no HTTP: the API builds on it.
package flows
