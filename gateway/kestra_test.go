package gateway_test

import (
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// helloFlow is a flow of namespace ns with id "hello".
func helloFlow(ns string) string {
	return "id: hello\nnamespace: " + ns + "\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi from {{ flow.namespace }}\n"
}

var yamlBody = []string{"Content-Type", "application/x-yaml"}

// TestKestraPermissions checks the choke point of the /api/v1/{tenant}
// routes: tenant read-write allows everything, tenant read the reads,
// namespace permissions the verbs they grant on a namespace and its
// children (dot boundary) and nothing else; a tenant the caller has
// nothing to do with and one that does not exist give the same 403; a
// path tenant that disagrees with the securitytenant header is a 400;
// a frozen tenant serves reads and refuses writes with 423.
func TestKestraPermissions(t *testing.T) {
	e := startAdmin(t)
	su, dave, carol := superTok(t), daveTok(t), carolTok(t)
	mia, rita := testserver.Token(t, "mia"), testserver.Token(t, "rita")
	e.createTenant(t, "t-a")
	e.createTenant(t, "t-b")
	for _, ns := range []string{"company.marketing", "company.marketing.emea", "company.hr", "companyx"} {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", helloFlow(ns), yamlBody...), 200)
	}
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-b/flows", dave, "", helloFlow("company.marketing"), yamlBody...), 200)
	roles := []struct{ name, body, users string }{
		{"flowreader@t-a", `{"tenant":"t-a","namespace_permissions":[{"namespaces":["company.marketing"],"permissions":{"FLOW":["read","update"]}}]}`, `{"users":["mia"]}`},
		{"reader@t-a", `{"tenant":"t-a","tenant_permissions":[{"tenant_patterns":["t-a"],"allowed_actions":["kibana_all_read"]}]}`, `{"users":["rita"]}`},
	}
	for _, r := range roles {
		mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/roles/"+r.name, su, "", r.body), 201)
		mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/rolesmapping/"+r.name, su, "", r.users), 201)
	}

	get := func(tenant, ns string) string { return "/api/v1/" + tenant + "/flows/" + ns + "/hello" }
	tests := []struct {
		name, tok, method, path, body string
		want                          int
	}{
		{"member reads", dave, "GET", get("t-a", "company.hr"), "", 200},
		{"reader reads", rita, "GET", get("t-a", "company.hr"), "", 200},
		{"reader cannot write", rita, "PUT", get("t-a", "company.hr"), helloFlow("company.hr") + "description: x\n", 403},
		{"reader cannot create", rita, "POST", "/api/v1/t-a/flows", helloFlow("company.new"), 403},
		{"namespace grant reads its namespace", mia, "GET", get("t-a", "company.marketing"), "", 200},
		{"namespace grant covers children", mia, "GET", get("t-a", "company.marketing.emea"), "", 200},
		{"namespace grant updates", mia, "PUT", get("t-a", "company.marketing"), helloFlow("company.marketing") + "description: x\n", 200},
		{"namespace grant not a sibling", mia, "GET", get("t-a", "company.hr"), "", 403},
		{"namespace grant not the parent", mia, "GET", get("t-a", "company"), "", 403},
		{"namespace grant dot boundary", mia, "GET", get("t-a", "companyx"), "", 403},
		{"namespace grant no delete", mia, "DELETE", get("t-a", "company.marketing"), "", 403},
		{"namespace grant no create", mia, "POST", "/api/v1/t-a/flows", helloFlow("company.marketing.new"), 403},
		{"namespace grant only in its tenant", mia, "GET", get("t-b", "company.marketing"), "", 403},
		{"outsider", carol, "GET", get("t-a", "company.marketing"), "", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			mustStatus(t, e.s.Do(t, tt.method, tt.path, tt.tok, "", body, yamlBody...), tt.want)
		})
	}

	t.Run("search shows only granted namespaces", func(t *testing.T) {
		r := e.s.Do(t, "GET", "/api/v1/t-a/flows/search?size=50", mia, "", nil)
		mustStatus(t, r, 200)
		res, _ := r.JSON(t)["results"].([]any)
		var got []string
		for _, x := range res {
			got = append(got, x.(map[string]any)["namespace"].(string))
		}
		if strings.Join(got, ",") != "company.marketing,company.marketing.emea" {
			t.Fatalf("mia's search: %v (%s)", got, r.Body)
		}
	})

	t.Run("no such tenant looks like not yours", func(t *testing.T) {
		for _, tok := range []string{carol, mia} {
			a := e.s.Do(t, "GET", get("t-b", "company.marketing"), tok, "", nil)
			n := e.s.Do(t, "GET", get("t-nope", "company.marketing"), tok, "", nil)
			if a.Status != 403 || n.Status != 403 || strings.ReplaceAll(string(n.Body), "t-nope", "t-b") != string(a.Body) {
				t.Fatalf("t-b: %d %s; t-nope: %d %s", a.Status, a.Body, n.Status, n.Body)
			}
		}
	})

	t.Run("refusals are in the tenant's audit view", func(t *testing.T) {
		if err := e.s.Inst.Trail.Flush(); err != nil {
			t.Fatal(err)
		}
		r := e.s.Do(t, "GET", "/api/v1/t-a/audit?actor=carol", dave, "", nil)
		mustStatus(t, r, 200)
		if !strings.Contains(string(r.Body), "/api/v1/t-a/flows/company.marketing/hello") {
			t.Fatalf("carol's refusal is not in t-a's audit view: %s", r.Body)
		}
	})

	t.Run("path and header disagree", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "GET", get("t-a", "company.hr"), dave, "t-b", nil), 400)
		mustStatus(t, e.s.Do(t, "GET", get("t-a", "company.hr"), dave, "t-a", nil), 200)
	})

	t.Run("frozen", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-a/freeze", su, "", nil), 200)
		mustStatus(t, e.s.Do(t, "GET", get("t-a", "company.hr"), dave, "", nil), 200)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", helloFlow("company.frozen"), yamlBody...), 423)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants/t-a/unfreeze", su, "", nil), 200)
	})
}
