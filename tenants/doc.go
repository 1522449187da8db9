// Package tenants knows what a tenant is: the global tenant everyone
// shares, a private tenant per user, and custom tenants declared in
// tenants.yml. It validates tenant ids, computes OpenSearch-compatible
// physical index names, and resolves the tenant a request asks for
// (header securitytenant, parameter security_tenant, or the configured
// default) into a Ref that the rest of tenantgate passes around.
package tenants
