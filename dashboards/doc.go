// Package dashboards will hold OpenSearch Dashboards' saved objects
// (index patterns, visualizations, dashboards, saved searches, short
// URLs) per tenant. For now it only names where they live: each tenant's
// ".kibana" index, which the security plugin's naming turns into
// ".kibana_<hash>_<tenant>" outside the global tenant.
package dashboards
