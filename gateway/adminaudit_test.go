package gateway_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// rmAuditPage is an answer of the audit view.
type rmAuditPage struct {
	Results []map[string]any `json:"results"`
	Total   int              `json:"total"`
}

// audit reads the audit view at path (/api/v1/audit or
// /api/v1/{tenant}/audit) as who with the query q.
func (e *rmEnv) audit(t *testing.T, who, path string, q url.Values) rmAuditPage {
	t.Helper()
	if q != nil {
		path += "?" + q.Encode()
	}
	r := e.do(t, who, "GET", path, nil)
	mustStatus(t, r, 200)
	var p rmAuditPage
	dec := json.NewDecoder(strings.NewReader(string(r.Body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("audit page: %v: %s", err, r.Body)
	}
	if p.Results == nil {
		t.Fatalf("audit page without results: %s", r.Body)
	}
	return p
}

// rmActivity makes role and mapping changes in stage (dave) and other
// (owen), a denied change, a denied read, a 401 and a failed password
// sign-in, and returns the secrets it sent.
func rmActivity(t *testing.T, e *rmEnv) []string {
	t.Helper()
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/roles/writer@stage", rmRole("stage", "kibana_all_write", "writers")), 201)
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/roles/writer@stage", rmRole("stage", "kibana_all_write", "stage writers")), 200)
	mustStatus(t, e.do(t, "dave", "PUT", rmAPI+"/rolesmapping/writer@stage", rmUsers("alice")), 201)
	mustStatus(t, e.do(t, "owen", "PUT", rmAPI+"/roles/writer@other", rmRole("other", "kibana_all_write", "writers")), 201)
	mustStatus(t, e.do(t, "owen", "PUT", rmAPI+"/rolesmapping/writer@other", rmUsers("bob")), 201)
	mustStatus(t, e.do(t, "owen", "DELETE", rmAPI+"/roles/writer@other", nil), 200)
	mustStatus(t, e.do(t, "mia", "PUT", rmAPI+"/roles/z@stage", rmRole("stage", "kibana_all_write", "z")), 403)
	mustStatus(t, e.s.Do(t, "GET", "/notes/_search", e.tok["olga"], "stage", nil), 403)
	badToken := "eyJhbGciOiJIUzI1NiJ9.not-a-real-token.Zm9yZ2VkLXNpZ25hdHVyZQ"
	mustStatus(t, e.s.Do(t, "GET", rmAPI+"/roles", badToken, "", nil), 401)
	password := "hunter2-wrong-s3cret"
	mustStatus(t, e.s.Do(t, "GET", rmAPI+"/roles", "", "", nil, testserver.Basic("admin", password)...), 401)
	return []string{badToken, password, e.tok["dave"], e.tok["super"], e.tok["owen"]}
}

// TestAuditViewPermissions runs the audit view as every kind of caller.
func TestAuditViewPermissions(t *testing.T) {
	e := startRoles(t)
	cases := []struct {
		path string
		want map[string]int
	}{
		{"/api/v1/audit", map[string]int{"super": 200, "audrey": 200, "rita": 403, "dave": 403, "mia": 403, "olga": 403}},
		{"/api/v1/stage/audit", map[string]int{"super": 200, "audrey": 200, "dave": 200, "owen": 403, "rita": 403, "mia": 403, "olga": 403}},
		{"/api/v1/other/audit", map[string]int{"super": 200, "audrey": 200, "owen": 200, "dave": 403, "mia": 403}},
		{"/api/v1/nowhere/audit", map[string]int{"super": 200, "audrey": 200, "dave": 403, "olga": 403}},
	}
	for _, tc := range cases {
		for who, want := range tc.want {
			t.Run(tc.path+"/"+who, func(t *testing.T) {
				r := e.do(t, who, "GET", tc.path, nil)
				mustStatus(t, r, want)
				if want == 403 && r.JSON(t)["statusCode"] != float64(403) {
					t.Fatalf("403 not in the /api shape: %s", r.Body)
				}
			})
		}
	}
	t.Run("unauthenticated", func(t *testing.T) {
		mustStatus(t, e.do(t, "", "GET", "/api/v1/audit", nil), 401)
		mustStatus(t, e.do(t, "", "GET", "/api/v1/stage/audit", nil), 401)
	})
	t.Run("not yours looks like missing", func(t *testing.T) {
		msg := func(tenant string) string {
			r := e.do(t, "dave", "GET", "/api/v1/"+tenant+"/audit", nil)
			mustStatus(t, r, 403)
			return strings.ReplaceAll(r.JSON(t)["message"].(string), tenant, "T")
		}
		if a, b := msg("other"), msg("nowhere"); a != b {
			t.Fatalf("another tenant's audit view and a missing one differ:\n%s\n%s", a, b)
		}
	})
	t.Run("deleted tenant", func(t *testing.T) {
		mustStatus(t, e.do(t, "owen", "PUT", rmAPI+"/roles/w@other", rmRole("other", "kibana_all_read", "w")), 201)
		mustStatus(t, e.do(t, "super", "DELETE", "/api/v1/tenants/other", nil), 200)
		mustStatus(t, e.do(t, "owen", "GET", "/api/v1/other/audit", nil), 403)
		p := e.audit(t, "audrey", "/api/v1/other/audit", url.Values{"target": {"w@other"}})
		if p.Total != 1 || p.Results[0]["actor"] != "owen" {
			t.Fatalf("the deleted tenant's records: %+v", p)
		}
	})
	t.Run("refusals are recorded", func(t *testing.T) {
		p := e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"audit.read"}, "outcome": {"denied"}, "actor": {"dave"}})
		if p.Total < 2 {
			t.Fatalf("dave's refused audit reads: %+v", p)
		}
	})
}

// TestAuditRecords checks what the records of role changes and refusals
// hold, that a tenant's view shows only its records, and that no secret
// is ever in the trail.
func TestAuditRecords(t *testing.T) {
	e := startRoles(t)
	secrets := rmActivity(t, e)

	t.Run("changes have before, after and diff", func(t *testing.T) {
		p := e.audit(t, "super", "/api/v1/audit", url.Values{"target": {"writer@stage"}, "action": {"role.*"}})
		if p.Total != 2 {
			t.Fatalf("writer@stage role records: %+v", p)
		}
		update, create := p.Results[0], p.Results[1] // newest first
		if create["action"] != "role.create" || create["actor"] != "dave" || create["tenant"] != "stage" || create["outcome"] != "success" {
			t.Fatalf("create record: %v", create)
		}
		if create["before"] != nil || create["after"] == nil || create["diff"] == nil {
			t.Fatalf("create record's before/after/diff: %v", create)
		}
		if update["action"] != "role.update" || update["before"] == nil || update["after"] == nil {
			t.Fatalf("update record: %v", update)
		}
		diff, _ := json.Marshal(update["diff"])
		if !strings.Contains(string(diff), `"/description"`) || !strings.Contains(string(diff), "stage writers") {
			t.Fatalf("update diff: %s", diff)
		}
		roles, _ := update["actor_roles"].([]any)
		if len(roles) == 0 {
			t.Fatalf("update record without the actor's roles: %v", update)
		}
		p = e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"role.delete"}, "target": {"writer@other"}})
		if p.Total != 1 {
			t.Fatalf("delete records: %+v", p)
		}
		before, _ := json.Marshal(p.Results[0]["before"])
		if !strings.Contains(string(before), `"rolesmapping"`) || !strings.Contains(string(before), `"bob"`) || p.Results[0]["after"] != nil {
			t.Fatalf("delete record's before shows the role and its mapping: %v", p.Results[0])
		}
		p = e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"rolesmapping.create"}, "target": {"writer@stage"}})
		if p.Total != 1 || !strings.Contains(rmMarshal(t, p.Results[0]["after"]), "alice") {
			t.Fatalf("mapping records: %+v", p)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		p := e.audit(t, "super", "/api/v1/audit", url.Values{"actor": {"mia"}, "outcome": {"denied"}})
		if p.Total != 1 || p.Results[0]["action"] != "role.create" || p.Results[0]["tenant"] != "stage" || p.Results[0]["status"] != float64(403) {
			t.Fatalf("mia's refused change: %+v", p)
		}
		p = e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"access.denied"}, "actor": {"olga"}})
		if p.Total != 1 || p.Results[0]["tenant"] != "stage" {
			t.Fatalf("olga's 403: %+v", p)
		}
		p = e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"auth.*"}, "outcome": {"failure"}})
		if p.Total != 2 {
			t.Fatalf("the two 401s: %+v", p)
		}
	})

	t.Run("tenant views are isolated", func(t *testing.T) {
		for _, v := range []struct{ who, tenant, other string }{{"dave", "stage", "other"}, {"owen", "other", "stage"}} {
			p := e.audit(t, v.who, "/api/v1/"+v.tenant+"/audit", url.Values{"size": {"1000"}})
			if p.Total == 0 || p.Total != len(p.Results) {
				t.Fatalf("%s's view: %+v", v.tenant, p)
			}
			for _, rec := range p.Results {
				if rec["tenant"] != v.tenant || strings.Contains(rmMarshal(t, rec), "@"+v.other) {
					t.Fatalf("%s's view shows a record of another tenant: %v", v.tenant, rec)
				}
			}
			// A filter does not lead out of the tenant.
			if p := e.audit(t, v.who, "/api/v1/"+v.tenant+"/audit", url.Values{"target": {"writer@" + v.other}}); p.Total != 0 {
				t.Fatalf("%s's view finds %s's records: %+v", v.tenant, v.other, p)
			}
		}
		p := e.audit(t, "dave", "/api/v1/stage/audit", url.Values{"outcome": {"denied"}, "size": {"1000"}})
		if p.Total != 2 { // mia's change and olga's read
			t.Fatalf("stage's refusals: %+v", p)
		}
	})

	t.Run("a patch over two tenants is in both views", func(t *testing.T) {
		patch := `[{"op":"add","path":"/both@stage","value":{}},{"op":"add","path":"/both@other","value":{}}]`
		mustStatus(t, e.do(t, "super", "PATCH", rmAPI+"/roles", patch), 200)
		whole := e.audit(t, "super", "/api/v1/audit", url.Values{"action": {"role.patch"}, "size": {"1000"}})
		if whole.Total != 3 {
			t.Fatalf("role.patch records (whole + one per tenant): %+v", whole)
		}
		for _, v := range []struct{ who, tenant, other string }{{"dave", "stage", "other"}, {"owen", "other", "stage"}} {
			p := e.audit(t, v.who, "/api/v1/"+v.tenant+"/audit", url.Values{"action": {"role.patch"}})
			if p.Total != 1 {
				t.Fatalf("%s's role.patch records: %+v", v.tenant, p)
			}
			rec := rmMarshal(t, p.Results[0])
			if !strings.Contains(rec, "both@"+v.tenant) || strings.Contains(rec, "both@"+v.other) {
				t.Fatalf("%s's part of the patch: %s", v.tenant, rec)
			}
		}
	})

	t.Run("no secrets", func(t *testing.T) {
		for _, path := range []string{"/api/v1/audit?size=1000", "/api/v1/stage/audit?size=1000"} {
			r := e.do(t, "super", "GET", path, nil)
			mustStatus(t, r, 200)
			for _, s := range secrets {
				if strings.Contains(string(r.Body), s) {
					t.Fatalf("%s shows a secret: %s", path, s)
				}
			}
		}
	})
}

// TestAuditFilters checks every filter, paging and the refusal of bad
// filters.
func TestAuditFilters(t *testing.T) {
	e := startRoles(t)
	e.clk.Advance(time.Hour)
	mid := e.clk.Now()
	e.clk.Advance(time.Hour)
	rmActivity(t, e)
	all := e.audit(t, "super", "/api/v1/audit", url.Values{"size": {"1000"}})
	if all.Total < 15 || all.Total != len(all.Results) {
		t.Fatalf("all records: %d of %d", len(all.Results), all.Total)
	}
	times := make([]time.Time, len(all.Results))
	for i, rec := range all.Results {
		ts, err := time.Parse(time.RFC3339Nano, rec["time"].(string))
		if err != nil {
			t.Fatal(err)
		}
		times[i] = ts
		if i > 0 && ts.After(times[i-1]) {
			t.Fatalf("records not newest first: %v after %v", ts, times[i-1])
		}
	}

	matches := []struct {
		name  string
		q     url.Values
		check func(map[string]any) bool
		min   int
	}{
		{"actor", url.Values{"actor": {"dave"}}, func(r map[string]any) bool { return r["actor"] == "dave" }, 3},
		{"action exact", url.Values{"action": {"rolesmapping.create"}}, func(r map[string]any) bool { return r["action"] == "rolesmapping.create" }, 3},
		{"action prefix", url.Values{"action": {"role.*"}}, func(r map[string]any) bool { return strings.HasPrefix(r["action"].(string), "role.") }, 6},
		{"target", url.Values{"target": {"writer@stage"}}, func(r map[string]any) bool { return r["target"] == "writer@stage" }, 3},
		{"outcome", url.Values{"outcome": {"denied"}}, func(r map[string]any) bool { return r["outcome"] == "denied" }, 2},
		{"from", url.Values{"from": {mid.Format(time.RFC3339Nano)}}, func(r map[string]any) bool { return r["action"] != "tenant.create" }, 9},
		{"to", url.Values{"to": {mid.Format(time.RFC3339Nano)}}, func(r map[string]any) bool { return r["actor"] == "admin" || r["action"] == "security.apply" }, 5},
		{"combined", url.Values{"actor": {"owen"}, "action": {"role.*"}, "from": {mid.Format(time.RFC3339)}}, func(r map[string]any) bool {
			return r["actor"] == "owen" && strings.HasPrefix(r["action"].(string), "role.")
		}, 2},
	}
	for _, tc := range matches {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Set("size", "1000")
			p := e.audit(t, "super", "/api/v1/audit", q)
			if p.Total < tc.min || p.Total != len(p.Results) {
				t.Fatalf("%d records (%d returned), want at least %d", p.Total, len(p.Results), tc.min)
			}
			n := 0
			for _, rec := range all.Results {
				if tc.check(rec) {
					n++
				}
			}
			for _, rec := range p.Results {
				if !tc.check(rec) {
					t.Fatalf("record does not match the filter: %v", rec)
				}
			}
			if tc.name != "from" && tc.name != "to" && tc.name != "combined" && n != p.Total {
				t.Fatalf("filter found %d records, the full list holds %d matching ones", p.Total, n)
			}
		})
	}
	t.Run("from and to split the trail", func(t *testing.T) {
		before := e.audit(t, "super", "/api/v1/audit", url.Values{"to": {mid.Format(time.RFC3339Nano)}, "size": {"1000"}})
		after := e.audit(t, "super", "/api/v1/audit", url.Values{"from": {mid.Format(time.RFC3339Nano)}, "size": {"1000"}})
		now := e.audit(t, "super", "/api/v1/audit", url.Values{"size": {"1000"}})
		if before.Total+after.Total != now.Total || before.Total == 0 || after.Total == 0 {
			t.Fatalf("before %d + after %d != all %d", before.Total, after.Total, now.Total)
		}
	})

	t.Run("paging", func(t *testing.T) {
		var ids []any
		pages := (all.Total + 3) / 4
		for page := 1; page <= pages+1; page++ {
			p := e.audit(t, "super", "/api/v1/audit", url.Values{"size": {"4"}, "page": {strconv.Itoa(page)}, "to": {e.clk.Now().Add(time.Second).Format(time.RFC3339Nano)}})
			if p.Total != all.Total {
				t.Fatalf("page %d total %d, want %d", page, p.Total, all.Total)
			}
			if page <= pages && (len(p.Results) == 0 || len(p.Results) > 4) || page > pages && len(p.Results) != 0 {
				t.Fatalf("page %d has %d records", page, len(p.Results))
			}
			for _, rec := range p.Results {
				ids = append(ids, rec["id"])
			}
		}
		if len(ids) != all.Total {
			t.Fatalf("pages hold %d records, want %d", len(ids), all.Total)
		}
		for i, rec := range all.Results {
			if ids[i] != rec["id"] {
				t.Fatalf("page order differs at %d: %v vs %v", i, ids[i], rec["id"])
			}
		}
		p := e.audit(t, "super", "/api/v1/audit", nil)
		if len(p.Results) != min(25, all.Total) {
			t.Fatalf("default page size: %d records", len(p.Results))
		}
	})

	bad := []struct{ name, query, part string }{
		{"outcome", "outcome=maybe", "outcome"},
		{"from", "from=yesterday", "from"},
		{"to", "to=2025-13-01T00:00:00Z", "to"},
		{"from after to", "from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z", "from is after to"},
		{"page zero", "page=0", "page"},
		{"page text", "page=two", "page"},
		{"size too big", "size=100000", "size"},
		{"size negative", "size=-1", "size"},
		{"unknown parameter", "colour=red", "colour"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/audit", "/api/v1/stage/audit"} {
				r := e.do(t, "super", "GET", path+"?"+tc.query, nil)
				mustStatus(t, r, 400)
				if m := r.JSON(t); m["statusCode"] != float64(400) || !strings.Contains(m["message"].(string), tc.part) {
					t.Fatalf("%s: %s", path, r.Body)
				}
			}
		})
	}
}

func rmMarshal(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}
