package gateway_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// access is what a user may do in a tenant.
type access int

const (
	none access = iota
	readOnly
	readWrite
)

func (a access) String() string { return [...]string{"none", "read", "write"}[a] }

// users of the shipped example security files (config/security).
type user struct {
	name  string
	roles []string
}

var (
	admin = user{"admin", nil}                 // all_access by user name
	alice = user{"alice", []string{"analyst"}} // analyst + global_writer
	bob   = user{"bob", nil}                   // exec_reader by user name
	hrJan = user{"hr_jan", nil}                // hr_manager by users: ["hr_*"]
	carol = user{"carol", []string{"nobody"}}  // no role at all
)

// expected access per user and tenant; "private" is always the caller's
// own private tenant.
var matrix = map[string]map[string]access{
	"admin":  {"global": readWrite, "analysts": readWrite, "executive": readWrite, "human_resources": readWrite, "private": readWrite},
	"alice":  {"global": readWrite, "analysts": readWrite, "executive": readOnly, "human_resources": none, "private": readWrite},
	"bob":    {"global": readOnly, "analysts": readOnly, "executive": readOnly, "human_resources": none, "private": readWrite},
	"hr_jan": {"global": readOnly, "analysts": none, "executive": none, "human_resources": readWrite, "private": readWrite},
	"carol":  {"global": readOnly, "analysts": none, "executive": none, "human_resources": none, "private": readWrite},
}

// route is one request of a route class, run in a tenant where the index
// "data" holds the document "seed".
type route struct {
	name   string
	write  bool
	method string
	path   string
	body   any
	ok     int // expected status when allowed
}

var routes = []route{
	{"get doc", false, "GET", "/data/_doc/seed", nil, 200},
	{"head doc", false, "HEAD", "/data/_doc/seed", nil, 200},
	{"get source", false, "GET", "/data/_source/seed", nil, 200},
	{"search GET", false, "GET", "/data/_search", nil, 200},
	{"search POST", false, "POST", "/data/_search", `{"query":{"match_all":{}}}`, 200},
	{"search all", false, "POST", "/_search", `{"query":{"match_all":{}}}`, 200},
	{"search wildcard", false, "POST", "/d*/_search", `{}`, 200},
	{"count", false, "POST", "/data/_count", `{"query":{"match_all":{}}}`, 200},
	{"mget", false, "POST", "/_mget", `{"docs":[{"_index":"data","_id":"seed"}]}`, 200},
	{"msearch", false, "POST", "/_msearch", "{\"index\":\"data\"}\n{\"query\":{\"match_all\":{}}}\n", 200},
	{"get index", false, "GET", "/data", nil, 200},
	{"mapping", false, "GET", "/data/_mapping", nil, 200},
	{"cat indices", false, "GET", "/_cat/indices?format=json", nil, 200},
	{"health", false, "GET", "/_cluster/health", nil, 200},
	{"templates", false, "GET", "/_index_template", nil, 200},
	{"cat count", false, "GET", "/_cat/count?format=json", nil, 200},
	{"refresh GET", false, "GET", "/data/_refresh", nil, 200},
	{"refresh POST", true, "POST", "/data/_refresh", nil, 200},
	{"delete by query", true, "POST", "/data/_delete_by_query", `{"query":{"term":{"tenant.keyword":"x"}}}`, 200},
	{"index doc", true, "PUT", "/data/_doc/seed", `{"tenant":"x"}`, 200},
	{"post doc", true, "POST", "/data/_doc", `{"tenant":"x"}`, 201},
	{"update doc", true, "POST", "/data/_update/seed", `{"doc":{"touched":true}}`, 200},
	{"bulk", true, "POST", "/_bulk", "{\"index\":{\"_index\":\"data\",\"_id\":\"b1\"}}\n{\"tenant\":\"x\"}\n", 200},
	{"create index", true, "PUT", "/other", `{}`, 200},
	{"put template", true, "PUT", "/_index_template/t1", `{"index_patterns":["t1-*"]}`, 200},
	{"delete doc", true, "DELETE", "/data/_doc/seed", nil, 200},
	{"delete index", true, "DELETE", "/data", nil, 200},
}

// marker is the secret of one tenant's seed document; private tenants get
// one per user.
func marker(tenant, owner string) string {
	if tenant == "private" {
		return "only-for-private-" + owner
	}
	return "only-for-" + tenant
}

// seed writes one document naming its tenant into "data" of every tenant,
// plus one document into every user's private tenant.
func seed(t *testing.T, s *testserver.Server, tenant, token string, owner ...string) {
	t.Helper()
	who := ""
	if len(owner) > 0 {
		who = owner[0]
	}
	body := fmt.Sprintf(`{"tenant":%q,"secret":%q}`, tenant, marker(tenant, who))
	r := s.Do(t, "PUT", "/data/_doc/seed?refresh=true", token, tenant, body)
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("seeding %s: %d %s", tenant, r.Status, r.Body)
	}
}

func TestIsolationMatrix(t *testing.T) {
	users := []user{admin, alice, bob, hrJan, carol}
	for _, rt := range routes {
		rt := rt
		t.Run(rt.name, func(t *testing.T) {
			t.Parallel()
			s := testserver.Start(t)
			adminTok := testserver.Token(t, "admin")
			for _, tenant := range []string{"global", "analysts", "executive", "human_resources"} {
				seed(t, s, tenant, adminTok)
			}
			tokens := map[string]string{}
			for _, u := range users {
				tokens[u.name] = testserver.Token(t, u.name, u.roles...)
				// Each private tenant gets its owner's document.
				seed(t, s, "private", tokens[u.name], u.name)
			}
			for _, u := range users {
				for tenant, want := range matrix[u.name] {
					allowed := want == readWrite || (want == readOnly && !rt.write)
					r := s.Do(t, rt.method, rt.path, tokens[u.name], tenant, rt.body)
					if !allowed {
						if r.Status != http.StatusForbidden {
							t.Errorf("%s in %s (%s access): %s %s = %d, want 403: %s", u.name, tenant, want, rt.method, rt.path, r.Status, r.Body)
							continue
						}
						if rt.method != "HEAD" {
							action := "read"
							if rt.write {
								action = "write"
							}
							wantReason := fmt.Sprintf("no permissions for [%s] and User [name=%s] on tenant [%s]", action, u.name, tenant)
							if !strings.Contains(string(r.Body), wantReason) || !strings.Contains(string(r.Body), `"type":"security_exception"`) {
								t.Errorf("%s in %s: 403 body %s, want reason %q", u.name, tenant, r.Body, wantReason)
							}
						}
						continue
					}
					if r.Status != rt.ok {
						t.Errorf("%s in %s (%s access): %s %s = %d, want %d: %s", u.name, tenant, want, rt.method, rt.path, r.Status, rt.ok, r.Body)
						continue
					}
					checkNoLeak(t, u, tenant, r.Body)
					if rt.write {
						// The write landed in this tenant only.
						checkSeeds(t, s, tokens, users, tenant, u.name)
						// Put the tenant back the way the next user expects it.
						resetTenant(t, s, tenant, tokens, u)
					}
				}
			}
		})
	}
}

// checkNoLeak fails when a response shows a document of another tenant,
// another user's private tenant included.
func checkNoLeak(t *testing.T, u user, tenant string, body []byte) {
	t.Helper()
	allowed := marker(tenant, u.name)
	for _, m := range allMarkers() {
		if m != allowed && strings.Contains(string(body), `"`+m+`"`) {
			t.Errorf("%s in %s sees %s: %s", u.name, tenant, m, body)
		}
	}
}

func allMarkers() []string {
	out := []string{marker("global", ""), marker("analysts", ""), marker("executive", ""), marker("human_resources", "")}
	for _, u := range []user{admin, alice, bob, hrJan, carol} {
		out = append(out, marker("private", u.name))
	}
	return out
}

// checkSeeds fails when a write in one tenant changed the seed document
// of any other tenant or private tenant.
func checkSeeds(t *testing.T, s *testserver.Server, tokens map[string]string, users []user, written, writer string) {
	t.Helper()
	for _, tenant := range []string{"global", "analysts", "executive", "human_resources"} {
		if tenant == written {
			continue
		}
		r := s.Do(t, "GET", "/data/_source/seed", tokens["admin"], tenant, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), marker(tenant, "")) {
			t.Errorf("a write by %s in %s changed %s: %d %s", writer, written, tenant, r.Status, r.Body)
		}
	}
	for _, u := range users {
		if written == "private" && u.name == writer {
			continue
		}
		r := s.Do(t, "GET", "/data/_source/seed", tokens[u.name], "private", nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), marker("private", u.name)) {
			t.Errorf("a write by %s in %s changed %s's private tenant: %d %s", writer, written, u.name, r.Status, r.Body)
		}
	}
}

// resetTenant restores "data"/"seed" after a write route changed it.
func resetTenant(t *testing.T, s *testserver.Server, tenant string, tokens map[string]string, u user) {
	t.Helper()
	tok := tokens["admin"]
	if tenant == "private" {
		tok = tokens[u.name]
	}
	seed(t, s, tenant, tok, u.name)
	if r := s.Do(t, "DELETE", "/other", tok, tenant, nil); r.Status != 200 && r.Status != 404 {
		t.Fatalf("resetting %s: %d %s", tenant, r.Status, r.Body)
	}
}

// TestPrivateTenantsAreSeparate checks that two users' private tenants
// never see each other, and that the private documents stay out of every
// shared tenant.
func TestPrivateTenantsAreSeparate(t *testing.T) {
	s := testserver.Start(t)
	a, c := testserver.Token(t, "alice", "analyst"), testserver.Token(t, "carol")
	for _, tok := range []string{a, c} {
		if r := s.Do(t, "POST", "/notes/_doc", tok, "private", `{"owner":"me"}`); r.Status != 201 {
			t.Fatalf("private write: %d %s", r.Status, r.Body)
		}
	}
	r := s.Do(t, "POST", "/notes/_doc?refresh=true", a, "__user__", `{"owner":"alice-secret"}`)
	if r.Status != 201 {
		t.Fatalf("__user__ write: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "GET", "/notes/_search", c, "private", nil)
	if r.Status != 200 || strings.Contains(string(r.Body), "alice-secret") {
		t.Fatalf("carol's private search: %d %s", r.Status, r.Body)
	}
	if got := r.JSON(t)["hits"].(map[string]any)["total"].(map[string]any)["value"].(float64); got != 1 {
		t.Fatalf("carol's private tenant holds %v documents, want 1", got)
	}
	for _, tenant := range []string{"global", "analysts"} {
		r = s.Do(t, "GET", "/_search?q=alice-secret", a, tenant, nil)
		if r.Status != 200 || strings.Contains(string(r.Body), "alice-secret") {
			t.Fatalf("%s search shows private data: %d %s", tenant, r.Status, r.Body)
		}
	}
}

// TestUnknownTenantLooksLikeForbidden checks that nobody can tell a
// tenant that does not exist from one they may not use.
func TestUnknownTenantLooksLikeForbidden(t *testing.T) {
	s := testserver.Start(t)
	carolTok := testserver.Token(t, "carol")
	exists := s.Do(t, "GET", "/data/_search", carolTok, "analysts", nil)
	missing := s.Do(t, "GET", "/data/_search", carolTok, "no_such_tenant", nil)
	// Another user's name is no way into their private tenant.
	if r := s.Do(t, "GET", "/data/_search", carolTok, "alice", nil); r.Status != 403 {
		t.Fatalf("naming another user as the tenant: %d %s", r.Status, r.Body)
	}
	if exists.Status != 403 || missing.Status != 403 {
		t.Fatalf("statuses %d and %d, want 403 for both", exists.Status, missing.Status)
	}
	norm := func(b []byte, name string) string { return strings.ReplaceAll(string(b), name, "T") }
	if norm(exists.Body, "analysts") != norm(missing.Body, "no_such_tenant") {
		t.Fatalf("bodies differ:\n%s\n%s", exists.Body, missing.Body)
	}
}

// TestPrivateNameCollision: a user named like a custom tenant shares its
// physical index names (OpenSearch Dashboards' bug). The second owner gets
// a 409 naming the collision and never the other tenant's data.
func TestPrivateNameCollision(t *testing.T) {
	s := testserver.Start(t)
	adminTok := testserver.Token(t, "admin")
	seed(t, s, "analysts", adminTok)
	evil := testserver.Token(t, "analysts")
	r := s.Do(t, "GET", "/data/_doc/seed", evil, "private", nil)
	if r.Status != 404 || strings.Contains(string(r.Body), "only-for") {
		t.Fatalf("private read of a colliding name: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "PUT", "/data/_doc/x", evil, "private", `{"a":1}`)
	if r.Status != 409 || !strings.Contains(string(r.Body), "belongs to another tenant") {
		t.Fatalf("private write of a colliding name: %d %s", r.Status, r.Body)
	}
	r = s.Do(t, "GET", "/data/_doc/seed", adminTok, "analysts", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), "only-for-analysts") {
		t.Fatalf("analysts' document after the collision: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/data/_count", adminTok, "analysts", nil); !strings.Contains(string(r.Body), `"count":1`) {
		t.Fatalf("analysts' count after the collision: %s", r.Body)
	}
}

// TestTenantSources checks the header, the alternative header and the
// URL parameter, and that disagreeing ones are refused.
func TestTenantSources(t *testing.T) {
	s := testserver.Start(t)
	adminTok := testserver.Token(t, "admin")
	seed(t, s, "analysts", adminTok)
	cases := []struct {
		name    string
		path    string
		headers []string
		want    int
	}{
		{"header", "/data/_doc/seed", []string{"securitytenant", "analysts"}, 200},
		{"underscore header", "/data/_doc/seed", []string{"security_tenant", "analysts"}, 200},
		{"parameter", "/data/_doc/seed?security_tenant=analysts", nil, 200},
		{"agree", "/data/_doc/seed?security_tenant=analysts", []string{"securitytenant", "analysts"}, 200},
		{"disagree", "/data/_doc/seed?security_tenant=executive", []string{"securitytenant", "analysts"}, 400},
		{"default is global", "/data/_doc/seed", nil, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.Do(t, "GET", c.path, adminTok, "", nil, c.headers...)
			if r.Status != c.want {
				t.Fatalf("%d, want %d: %s", r.Status, c.want, r.Body)
			}
		})
	}
}
