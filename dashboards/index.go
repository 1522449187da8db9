package dashboards

import "github.com/tenantgate/tenantgate/tenants"

// IndexName is the logical name of the saved-objects index in every
// tenant.
const IndexName = ".kibana"

// PhysicalIndex returns the physical saved-objects index of tenant t:
// ".kibana" for the global tenant, ".kibana_<hash>_<name>" otherwise.
func PhysicalIndex(t tenants.Ref) string { return t.Physical(IndexName) }
