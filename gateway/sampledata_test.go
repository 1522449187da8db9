package gateway_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/sample"
)

// TestSampleData loads the web logs through POST /api/sample_data/weblogs
// into one tenant: documents, template and saved objects are there, the
// call is idempotent, read-only members and other tenants are refused.
func TestSampleData(t *testing.T) {
	s := testserver.Start(t)
	a := newOSD(t, s, alice, "analysts")

	// No osd-xsrf: refused like every other /api write.
	wantOSDError(t, s.Do(t, "POST", "/api/sample_data/weblogs", a.token, "analysts", nil), 400, "osd-xsrf")
	// A read-only member (bob reads analysts) gets the tenant's 403.
	b := newOSD(t, s, bob, "analysts")
	wantOSDError(t, b.do(t, "POST", "/api/sample_data/weblogs", nil), 403, "no permissions for [write]")
	wantOSDError(t, a.do(t, "POST", "/api/sample_data/flights", nil), 404, "unknown sample data set [flights]")

	set, err := sample.Weblogs(sample.WeblogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objects, err := sample.ParseExport(set.Objects)
	if err != nil {
		t.Fatal(err)
	}
	for press := 1; press <= 2; press++ {
		t.Run(fmt.Sprintf("press %d", press), func(t *testing.T) {
			before := time.Now().UTC()
			m := want(t, a.do(t, "POST", "/api/sample_data/weblogs", nil), 200)
			if m["docs"] != float64(sample.DefaultWeblogCount) || m["objects"] != float64(len(objects)) ||
				m["index"] != sample.WeblogsIndex || m["dashboard"] != sample.WeblogsDashboardID {
				t.Errorf("answer = %v", m)
			}
			if u, _ := m["url"].(string); !strings.HasPrefix(u, "/app/dashboards/view/"+sample.WeblogsDashboardID+"?security_tenant=analysts&_g=") {
				t.Errorf("url = %q", u)
			}
			tm, _ := m["time"].(map[string]any)
			to, err := time.Parse(time.RFC3339, fmt.Sprint(tm["to"]))
			if err != nil || to.After(time.Now()) || to.Before(before.Truncate(time.Minute)) {
				t.Errorf("time = %v (%v)", tm, err)
			}

			// The documents, counted through the search API: exactly the
			// generator's count, also after the second press.
			r := want(t, s.Do(t, "GET", "/"+sample.WeblogsIndex+"/_count", a.token, "analysts", nil), 200)
			if r["count"] != float64(sample.DefaultWeblogCount) {
				t.Errorf("count = %v, want %d", r["count"], sample.DefaultWeblogCount)
			}
			// The index took the sample's template (a keyword path, a long status).
			mapping := string(s.Do(t, "GET", "/"+sample.WeblogsIndex+"/_mapping", a.token, "analysts", nil).Body)
			if !strings.Contains(mapping, `"status_code":{"type":"long"}`) || !strings.Contains(mapping, `"path":{"type":"keyword"}`) {
				t.Errorf("mapping = %s", mapping)
			}
			// Every saved object once.
			for _, o := range objects {
				want(t, a.do(t, "GET", "/api/saved_objects/"+o.Type+"/"+o.ID, nil), 200)
			}
			f := want(t, a.do(t, "GET", "/api/saved_objects/_find?type=dashboard", nil), 200)
			if f["total"] != float64(1) {
				t.Errorf("dashboards after press %d: %v", press, f["total"])
			}
		})
	}

	// Nothing leaked into another tenant.
	r := s.Do(t, "GET", "/"+sample.WeblogsIndex+"/_count", a.token, "global", nil)
	if r.Status != 404 {
		t.Errorf("global count: %d %s", r.Status, r.Body)
	}
	want(t, a.in("global").do(t, "GET", "/api/saved_objects/dashboard/"+sample.WeblogsDashboardID, nil), 404)
}
