// Package instance wires a whole tenantgate from its configuration: the
// security files, the policy engine, the JWT verifier, the index back-end
// and catalog, and the HTTP gateway. cmd/tenantgate and the end-to-end
// tests build a gateway the same way through Open.
package instance
