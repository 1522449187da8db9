package dashboards

import (
	"testing"

	"github.com/tenantgate/tenantgate/tenants"
)

func TestPhysicalIndex(t *testing.T) {
	cases := map[tenants.Ref]string{
		tenants.GlobalRef:                    ".kibana",
		tenants.CustomRef("human_resources"): ".kibana_1592542611_humanresources",
		tenants.CustomRef("bug48"):           ".kibana_94091256_bug48",
		tenants.CustomRef("cadm"):            ".kibana_3045735_cadm",
		tenants.PrivateRef("admin"):          ".kibana_92668751_admin",
	}
	for ref, want := range cases {
		if got := PhysicalIndex(ref); got != want {
			t.Errorf("PhysicalIndex(%v) = %q, want %q", ref, got, want)
		}
	}
}
