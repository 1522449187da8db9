// Package dashboards holds OpenSearch Dashboards' saved objects (index
// patterns, visualizations, dashboards, saved searches, advanced
// settings, short URLs) per tenant.
//
// Objects live in each tenant's ".kibana" index, which the security
// plugin's naming turns into ".kibana_<hash>_<tenant>" outside the global
// tenant, in OpenSearch Dashboards' own document format, so that an index
// copied from OpenSearch (or a snapshot) reads the same: document id
// "<type>:<id>", source {"type": T, T: {attributes}, "references": […],
// "updated_at": …, "migrationVersion": …}. The index is created on first
// write with an explicit mapping (see Mapping).
//
// A Client works on one tenant through a Store, which *index.View
// implements (the system view, where ".kibana" is allowed):
//
//	c := dashboards.New(svc.SystemView(tenant))
//	obj, err := c.Get(ctx, "dashboard", "web-overview")
//
// Versions are OpenSearch Dashboards' (base64 of [seq_no, primary_term])
// and make updates conditional. Export, Import, ResolveImportErrors and
// Copy follow OpenSearch Dashboards' import semantics and result shapes.
// ShortURLs writes only url objects, so the gateway can let read-only
// members of a tenant create short links.
package dashboards
