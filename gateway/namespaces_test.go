package gateway_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/tenants"
)

// nsKey returns a fresh secrets.encryption_key value.
func nsKey(t *testing.T) string {
	t.Helper()
	raw := make([]byte, secrets.KeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return "base64:" + base64.StdEncoding.EncodeToString(raw)
}

// nsEnv is a server with secrets enabled and the tenants t-a and t-b
// (dave is their admin, so he may do anything in both).
func nsEnv(t *testing.T, key string) *adminEnv {
	t.Helper()
	e := startAdmin(t, func(c *config.Config) { c.Secrets.EncryptionKey = key })
	e.createTenant(t, "t-a")
	e.createTenant(t, "t-b")
	return e
}

// nsFlow stores a flow hello in namespace ns of tenant straight through
// the flow store (the flows API is another handler's).
func nsFlow(t *testing.T, e *adminEnv, tenant, ns string) {
	t.Helper()
	st := flows.NewStore(e.s.Inst.Index.SystemView(tenants.CustomRef(tenant)), nil)
	src := "id: hello\nnamespace: " + ns + "\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: hi\n"
	if _, err := st.Create(context.Background(), []byte(src)); err != nil {
		t.Fatal(err)
	}
}

// nsList returns "id" or "id (placeholder)" for each result of a
// namespace listing.
func nsList(t *testing.T, r *testserver.Response) []string {
	t.Helper()
	mustStatus(t, r, 200)
	body := r.JSON(t)
	res, _ := body["results"].([]any)
	out := []string{}
	for _, x := range res {
		m := x.(map[string]any)
		id := m["id"].(string)
		if m["disabled"] == true {
			id += " (placeholder)"
		}
		out = append(out, id)
	}
	return out
}

func nsWant(t *testing.T, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

// nsJSON decodes a response body of any JSON shape.
func nsJSON(t *testing.T, r *testserver.Response) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.Body)
	}
	return v
}

// TestNamespacesCRUD checks create, read, update and delete, and the
// placeholders that flows imply: a flow in company.marketing makes
// company and company.marketing appear as placeholders (disabled) until
// they are created; a namespace with flows in it or below cannot be
// deleted.
func TestNamespacesCRUD(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	dave := daveTok(t)
	base := "/api/v1/t-a/namespaces"
	do := func(method, path string, body any, headers ...string) *testserver.Response {
		return e.s.Do(t, method, path, dave, "", body, headers...)
	}

	mustStatus(t, do("GET", base, nil), 200)
	nsWant(t, nsList(t, do("GET", base, nil)), []string{})

	nsFlow(t, e, "t-a", "company.marketing")
	nsWant(t, nsList(t, do("GET", base, nil)), []string{"company (placeholder)", "company.marketing (placeholder)"})
	r := do("GET", base+"/company.marketing", nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["disabled"] != true {
		t.Fatalf("a placeholder read alone is not disabled: %s", r.Body)
	}

	for _, c := range []struct {
		name string
		body string
		want int
	}{
		{"create", `{"id":"company","description":"the company"}`, 200},
		{"exists", `{"id":"company","description":"again"}`, 409},
		{"bad id", `{"id":"Company"}`, 400},
		{"no id", `{"description":"x"}`, 400},
		{"unknown field", `{"id":"x","colour":"red"}`, 400},
		{"read-only field", `{"id":"x","disabled":true}`, 400},
		{"bad plugin default", `{"id":"x","pluginDefaults":[{"type":""}]}`, 400},
		{"with variables", `{"id":"company.sales","variables":{"region":"us"}}`, 200},
	} {
		t.Run(c.name, func(t *testing.T) { mustStatus(t, do("POST", base, c.body), c.want) })
	}
	if r := do("POST", base, `{"id":"company"}`); !strings.Contains(string(r.Body), "namespace company already exists") {
		t.Fatalf("409 does not say why: %s", r.Body)
	}
	mustStatus(t, do("GET", base+"/x", nil), 404)
	nsWant(t, nsList(t, do("GET", base, nil)), []string{"company", "company.marketing (placeholder)", "company.sales"})
	nsWant(t, nsList(t, do("GET", base+"?existing=true", nil)), []string{"company", "company.sales"})
	nsWant(t, nsList(t, do("GET", base+"/search?q=MARKET", nil)), []string{"company.marketing (placeholder)"})
	nsWant(t, nsList(t, do("GET", base+"/search?q=the+company", nil)), []string{"company"})
	nsWant(t, nsList(t, do("GET", base+"/search?size=1&page=2&sort=id:desc", nil)), []string{"company.marketing (placeholder)"})
	if total := do("GET", base+"/search?size=1", nil).JSON(t)["total"]; total != float64(3) {
		t.Fatalf("total = %v, want 3", total)
	}
	mustStatus(t, do("GET", base+"/search?size=0", nil), 400)
	mustStatus(t, do("GET", base+"/search?colour=red", nil), 400)

	r = do("GET", base+"/company", nil)
	mustStatus(t, r, 200)
	got := r.JSON(t)
	if got["id"] != "company" || got["description"] != "the company" || got["disabled"] != false {
		t.Fatalf("GET = %s", r.Body)
	}

	r = do("PUT", base+"/company", `{"id":"company","description":"renamed"}`)
	mustStatus(t, r, 200)
	if r.JSON(t)["description"] != "renamed" {
		t.Fatalf("PUT = %s", r.Body)
	}
	mustStatus(t, do("PUT", base+"/company", `{"id":"other","description":"x"}`), 400)
	mustStatus(t, do("PUT", base+"/company.marketing", `{"description":"x"}`), 404)

	// The flow below company keeps it from being deleted.
	r = do("DELETE", base+"/company", nil)
	mustStatus(t, r, 409)
	if !strings.Contains(string(r.Body), "company.marketing/hello") {
		t.Fatalf("409 does not name the flow: %s", r.Body)
	}
	fs := flows.NewStore(e.s.Inst.Index.SystemView(tenants.CustomRef("t-a")), nil)
	if _, err := fs.Delete(context.Background(), "company.marketing", "hello"); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, do("DELETE", base+"/company", nil), 204)
	mustStatus(t, do("DELETE", base+"/company", nil), 404)
	// company.sales still implies company.
	nsWant(t, nsList(t, do("GET", base, nil)), []string{"company (placeholder)", "company.sales"})
}

// TestNamespacesInheritance checks variables (nearest wins, nested maps
// merged, YAML or JSON bodies) and plugin defaults (a forced ancestor's
// wins over a nearer one) through the API.
func TestNamespacesInheritance(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	dave := daveTok(t)
	do := func(method, path string, body any, headers ...string) *testserver.Response {
		return e.s.Do(t, method, "/api/v1/t-a/namespaces"+path, dave, "", body, headers...)
	}
	yamlBody := []string{"Content-Type", "application/x-yaml"}
	for _, id := range []string{"company", "company.marketing"} {
		mustStatus(t, do("POST", "", map[string]any{"id": id}), 200)
	}
	mustStatus(t, do("PUT", "/company/variables", "region: us\nowner: it\naws:\n  bucket: corp\n  tags:\n    team: it\n    cost: c1\n", yamlBody...), 200)
	mustStatus(t, do("PUT", "/company.marketing/variables", `{"region":"eu","aws":{"tags":{"team":"mkt"}}}`), 200)

	nsWant(t, nsJSON(t, do("GET", "/company.marketing/variables", nil)),
		map[string]any{"region": "eu", "aws": map[string]any{"tags": map[string]any{"team": "mkt"}}})
	want := map[string]any{"region": "eu", "owner": "it",
		"aws": map[string]any{"bucket": "corp", "tags": map[string]any{"team": "mkt", "cost": "c1"}}}
	nsWant(t, nsJSON(t, do("GET", "/company.marketing/inherited-variables", nil)), want)
	// A namespace that does not exist sees what its ancestors give.
	r := do("GET", "/company.marketing.emea/inherited-variables", nil)
	mustStatus(t, r, 200)
	nsWant(t, nsJSON(t, r), want)

	for _, c := range []struct {
		name, body string
		headers    []string
	}{
		{"yaml list", "- region: eu\n", yamlBody},
		{"json list", `["a"]`, nil},
		{"bad yaml", "a: [", yamlBody},
		{"empty", "", yamlBody},
		{"two documents", "a: 1\n---\nb: 2\n", yamlBody},
	} {
		t.Run("variables "+c.name, func(t *testing.T) {
			mustStatus(t, do("PUT", "/company/variables", c.body, c.headers...), 400)
		})
	}

	aws, s3, logT := "io.kestra.plugin.aws", "io.kestra.plugin.aws.s3.Upload", "io.kestra.plugin.core.log.Log"
	mustStatus(t, do("PUT", "/company/plugin-defaults",
		"- type: "+aws+"\n  forced: true\n  values:\n    region: us-east-1\n- type: "+logT+"\n  values:\n    level: INFO\n", yamlBody...), 200)
	mustStatus(t, do("PUT", "/company.marketing/plugin-defaults", []map[string]any{
		{"type": aws, "values": map[string]any{"region": "eu-west-1"}},
		{"type": logT, "values": map[string]any{"level": "DEBUG"}},
		{"type": s3, "values": map[string]any{"storageClass": "STANDARD"}, "forced": false},
	}), 200)
	mustStatus(t, do("PUT", "/company/plugin-defaults", `[{"type":"a"},{"type":"a"}]`), 400)
	mustStatus(t, do("PUT", "/company/plugin-defaults", `[{"type":"a","colour":"red"}]`), 400)

	own := nsJSON(t, do("GET", "/company.marketing/plugin-defaults", nil)).([]any)
	if len(own) != 3 {
		t.Fatalf("own plugin defaults = %v", own)
	}
	for _, path := range []string{"/company.marketing/inherited-plugindefaults", "/company.marketing/inherited-plugin-defaults"} {
		r := do("GET", path, nil)
		mustStatus(t, r, 200)
		var defs []struct {
			Type      string         `json:"type"`
			Values    map[string]any `json:"values"`
			Forced    bool           `json:"forced"`
			Namespace string         `json:"namespace"`
		}
		if err := json.Unmarshal(r.Body, &defs); err != nil {
			t.Fatal(err)
		}
		from := map[string]string{}
		for _, d := range defs {
			from[d.Type] = d.Namespace + " " + mapString(d.Values)
		}
		nsWant(t, from, map[string]string{
			aws:  "company region=us-east-1", // forced: the ancestor wins
			logT: "company.marketing level=DEBUG",
			s3:   "company.marketing storageClass=STANDARD",
		})
	}
}

// mapString renders a flat map as sorted k=v pairs.
func mapString(m map[string]any) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v.(string))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// secretValues are the plaintexts the secrets tests store; none may
// appear in a response, the audit trail or the data directory.
var secretValues = []string{"company-shared-s3cr3t-value", "marketing-own-s3cr3t-value", "globex-s3cr3t-value", "kestra-form-s3cr3t-value"}

func noSecretIn(t *testing.T, what string, b []byte) {
	t.Helper()
	for _, v := range secretValues {
		for _, enc := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), base64.RawStdEncoding.EncodeToString([]byte(v))} {
			if strings.Contains(string(b), enc) {
				t.Fatalf("%s holds the secret value %q", what, v)
			}
		}
	}
}

// TestNamespaceSecrets checks the secrets API: a listing shows each key
// with its description and the namespace it comes from (nearest wins),
// never a value; values appear in no response, in no audit record and
// nowhere in the data directory; two tenants' secrets are separate; a
// restart keeps namespaces, variables and secrets.
func TestNamespaceSecrets(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	dave := daveTok(t)
	var bodies [][]byte
	do := func(tenant, method, path string, body any) *testserver.Response {
		r := e.s.Do(t, method, "/api/v1/"+tenant+"/namespaces"+path, dave, "", body)
		bodies = append(bodies, r.Body)
		return r
	}
	for _, id := range []string{"company", "company.marketing"} {
		mustStatus(t, do("t-a", "POST", "", map[string]any{"id": id}), 200)
	}
	// A variable is stored in clear: the data directory scan below must
	// find it, or it could not find a secret value either.
	mustStatus(t, do("t-a", "PUT", "/company/variables", `{"region":"us","canary":"`+plainCanary+`"}`), 200)

	r := do("t-a", "PUT", "/company/secrets/SHARED", map[string]any{"value": secretValues[0], "description": "shared by all"})
	mustStatus(t, r, 200)
	nsWant(t, r.JSON(t)["namespace"], "company")
	mustStatus(t, do("t-a", "PUT", "/company/secrets/OVERRIDDEN", map[string]any{"value": secretValues[0]}), 200)
	mustStatus(t, do("t-a", "PUT", "/company.marketing/secrets/OVERRIDDEN", map[string]any{"value": secretValues[1], "description": "marketing's"}), 200)
	// Kestra's form: the key in the body, a list back.
	r = do("t-a", "PUT", "/company.marketing/secrets", map[string]any{"key": "KESTRA_FORM", "value": secretValues[3]})
	mustStatus(t, r, 200)
	if l, ok := nsJSON(t, r).([]any); !ok || len(l) != 1 {
		t.Fatalf("Kestra's PUT /secrets answers %s", r.Body)
	}
	// Replacing a value is an update.
	mustStatus(t, do("t-a", "PUT", "/company.marketing/secrets/KESTRA_FORM", map[string]any{"value": secretValues[3] + "2", "description": "again"}), 200)

	for _, c := range []struct {
		name, path string
		body       any
		want       int
	}{
		{"no value", "/company/secrets/X", map[string]any{"description": "d"}, 400},
		{"empty value", "/company/secrets/X", map[string]any{"value": ""}, 400},
		// A value shorter than secrets.MinMaskLen would not be masked in
		// logs and outputs, so it is refused.
		{"value too short to mask", "/company/secrets/X", map[string]any{"value": "abc"}, 400},
		{"bad key", "/company/secrets/a%20b", map[string]any{"value": "v-secret"}, 400},
		{"key differs", "/company/secrets/X", map[string]any{"key": "Y", "value": "v-secret"}, 400},
		{"kestra form without key", "/company/secrets", map[string]any{"value": "v-secret"}, 400},
		{"unknown field", "/company/secrets/X", map[string]any{"value": "v-secret", "colour": "red"}, 400},
		{"placeholder namespace", "/company.sales/secrets/X", map[string]any{"value": "v-secret"}, 404},
	} {
		t.Run(c.name, func(t *testing.T) { mustStatus(t, do("t-a", "PUT", c.path, c.body), c.want) })
	}

	type listed struct {
		ReadOnly bool `json:"readOnly"`
		Results  []struct {
			Key, Description, Namespace string
		} `json:"results"`
		Total int `json:"total"`
	}
	list := func(tenant, ns, query string) listed {
		t.Helper()
		r := do(tenant, "GET", "/"+ns+"/secrets"+query, nil)
		mustStatus(t, r, 200)
		var l listed
		if err := json.Unmarshal(r.Body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := list("t-a", "company.marketing.emea", "")
	var got []string
	for _, x := range l.Results {
		got = append(got, x.Key+"@"+x.Namespace+":"+x.Description)
	}
	nsWant(t, got, []string{"KESTRA_FORM@company.marketing:again", "OVERRIDDEN@company.marketing:marketing's", "SHARED@company:shared by all"})
	if l.Total != 3 || l.ReadOnly {
		t.Fatalf("listing = %+v", l)
	}
	if l := list("t-a", "company.marketing", "?size=1&page=3"); l.Total != 3 || len(l.Results) != 1 || l.Results[0].Key != "SHARED" {
		t.Fatalf("page 3 of 1 = %+v", l)
	}
	if l := list("t-a", "company.marketing", "?q=shar"); l.Total != 1 {
		t.Fatalf("q=shar = %+v", l)
	}
	r = do("t-a", "GET", "/company.marketing/inherited-secrets", nil)
	mustStatus(t, r, 200)
	nsWant(t, nsJSON(t, r), map[string]any{"company": []any{"SHARED"}})

	// The other tenant has its own company, and sees none of t-a's.
	mustStatus(t, do("t-b", "GET", "/company", nil), 404)
	if l := list("t-b", "company.marketing", ""); l.Total != 0 {
		t.Fatalf("t-b sees t-a's secrets: %+v", l)
	}
	mustStatus(t, do("t-b", "POST", "", map[string]any{"id": "company"}), 200)
	mustStatus(t, do("t-b", "PUT", "/company/secrets/SHARED", map[string]any{"value": secretValues[2], "description": "globex"}), 200)
	if l := list("t-b", "company", ""); l.Total != 1 || l.Results[0].Description != "globex" {
		t.Fatalf("t-b's listing = %+v", l)
	}
	if l := list("t-a", "company", ""); l.Total != 2 || l.Results[1].Description != "shared by all" {
		t.Fatalf("t-a's listing after t-b wrote = %+v", l)
	}
	nsWant(t, nsList(t, do("t-b", "GET", "", nil)), []string{"company"})

	// Deleting: the namespace's own secret only.
	mustStatus(t, do("t-a", "DELETE", "/company.marketing/secrets/SHARED", nil), 404)
	r = do("t-a", "DELETE", "/company.marketing/secrets/KESTRA_FORM", nil)
	mustStatus(t, r, 200)
	nsWant(t, nsJSON(t, r), []any{"KESTRA_FORM"})
	mustStatus(t, do("t-a", "DELETE", "/company.marketing/secrets/KESTRA_FORM", nil), 404)

	// The worker's way in reads the values back.
	st := namespaces.NewStore(e.s.Inst.Index.SystemView(tenants.CustomRef("t-a")), tenants.CustomRef("t-a").Owner(), mustKey(t, e.cfg.Secrets.EncryptionKey), nil)
	if v, err := st.SecretValue(context.Background(), "company.marketing", "OVERRIDDEN"); err != nil || v != secretValues[1] {
		t.Fatalf("SecretValue = %q, %v", v, err)
	}

	// No response carried a value, and neither did the audit trail,
	// which recorded each change.
	for _, b := range bodies {
		noSecretIn(t, "a response", b)
	}
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := e.s.Inst.Trail.Query(audit.Filter{Action: "secret.*", Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, rec := range page.Results {
		raw, _ := json.Marshal(rec)
		noSecretIn(t, "an audit record", raw)
		actions = append(actions, rec.Tenant+" "+rec.Action+" "+rec.Target)
	}
	sort.Strings(actions)
	nsWant(t, actions, []string{
		"t-a secret.create company.marketing/KESTRA_FORM",
		"t-a secret.create company.marketing/OVERRIDDEN",
		"t-a secret.create company/OVERRIDDEN",
		"t-a secret.create company/SHARED",
		"t-a secret.delete company.marketing/KESTRA_FORM",
		"t-a secret.update company.marketing/KESTRA_FORM",
		"t-b secret.create company/SHARED",
	})
	all, err := e.s.Inst.Trail.Query(audit.Filter{Action: "*", Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(all)
	noSecretIn(t, "the audit trail", raw)
	if !strings.Contains(string(raw), "namespace.variables") {
		t.Fatal("the variables change is not in the audit trail")
	}

	// A restart keeps everything.
	e.s.Stop()
	e.s = testserver.StartWith(t, e.cfg, instance.Options{Clock: e.clk.Now})
	if l := list("t-a", "company.marketing", ""); l.Total != 2 {
		t.Fatalf("after a restart: %+v", l)
	}
	nsWant(t, nsJSON(t, do("t-a", "GET", "/company.marketing/inherited-variables", nil)), map[string]any{"region": "us", "canary": plainCanary})
	nsWant(t, nsList(t, do("t-a", "GET", "", nil)), []string{"company", "company.marketing"})
	e.s.Stop()

	// The data directory, copied without the key, reveals no value.
	sawCanary := false
	err = filepath.WalkDir(e.cfg.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		noSecretIn(t, path, b)
		sawCanary = sawCanary || strings.Contains(string(b), plainCanary)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawCanary {
		t.Fatal("the data directory scan does not see a variable stored in clear, so it proves nothing about secrets")
	}
}

// plainCanary is a variable value, stored in clear.
const plainCanary = "canary-plaintext-variable-value"

func mustKey(t *testing.T, s string) secrets.Key {
	t.Helper()
	k, err := secrets.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSecretsKeyAtStart checks the start-up check: while secrets are
// stored, a missing or different secrets.encryption_key refuses to
// start, naming the key; the right key starts; without secrets, no key
// is needed.
func TestSecretsKeyAtStart(t *testing.T) {
	key := nsKey(t)
	e := nsEnv(t, key)
	dave := daveTok(t)
	// Namespaces without secrets need no key.
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/namespaces", dave, "", `{"id":"company"}`), 200)
	e.s.Stop()
	cfg := e.cfg
	cfg.Secrets.EncryptionKey = ""
	s := testserver.StartWith(t, cfg, instance.Options{})
	s.Stop()

	cfg.Secrets.EncryptionKey = key
	s = testserver.StartWith(t, cfg, instance.Options{})
	mustStatus(t, s.Do(t, "PUT", "/api/v1/t-a/namespaces/company/secrets/TOKEN", dave, "", map[string]any{"value": secretValues[0]}), 200)
	s.Stop()

	for _, c := range []struct {
		name, key string
		target    error
	}{
		{"missing key", "", namespaces.ErrNoKey},
		{"wrong key", nsKey(t), secrets.ErrWrongKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := e.cfg
			cfg.Secrets.EncryptionKey = c.key
			inst, err := instance.Open(context.Background(), cfg, nil)
			if err == nil {
				inst.Close()
				t.Fatal("started")
			}
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), "secrets.encryption_key") || !strings.Contains(err.Error(), "t-a") {
				t.Fatalf("error = %v, want %v naming secrets.encryption_key and the tenant", err, c.target)
			}
			noSecretIn(t, "the error", []byte(err.Error()))
		})
	}
	s = testserver.StartWith(t, cfg, instance.Options{})
	mustStatus(t, s.Do(t, "GET", "/api/v1/t-a/namespaces/company/secrets", dave, "", nil), 200)
}

// TestSecretsWithoutKey checks that without secrets.encryption_key the
// secrets routes answer 503 saying so, and namespaces still work.
func TestSecretsWithoutKey(t *testing.T) {
	e := nsEnv(t, "")
	dave := daveTok(t)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/namespaces", dave, "", `{"id":"company"}`), 200)
	for _, c := range []struct{ method, path string }{
		{"PUT", "/company/secrets/TOKEN"},
		{"GET", "/company/secrets"},
		{"DELETE", "/company/secrets/TOKEN"},
	} {
		t.Run(c.method, func(t *testing.T) {
			r := e.s.Do(t, c.method, "/api/v1/t-a/namespaces"+c.path, dave, "", map[string]any{"value": "v-secret"})
			mustStatus(t, r, 503)
			if !strings.Contains(string(r.Body), "secrets.encryption_key") {
				t.Fatalf("503 does not name the key: %s", r.Body)
			}
		})
	}
}

// TestNamespacePermissions checks namespace-scoped NAMESPACE and SECRET
// permissions: listings show what the caller may read, the dot boundary
// holds, and reading is not writing.
func TestNamespacePermissions(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	su, dave := superTok(t), daveTok(t)
	mia, rita, nora := testserver.Token(t, "mia"), testserver.Token(t, "rita"), testserver.Token(t, "nora")
	for _, id := range []string{"company", "company.marketing", "company.marketing.emea", "companyx"} {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/namespaces", dave, "", map[string]any{"id": id}), 200)
	}
	mustStatus(t, e.s.Do(t, "PUT", "/api/v1/t-a/namespaces/company/secrets/SHARED", dave, "", map[string]any{"value": secretValues[0]}), 200)
	roles := []struct{ name, body, users string }{
		{"nsreader@t-a", `{"tenant":"t-a","namespace_permissions":[{"namespaces":["company.marketing"],"permissions":{"NAMESPACE":["read","update"],"SECRET":["read"]}}]}`, `{"users":["mia"]}`},
		{"nsdeleter@t-a", `{"tenant":"t-a","namespace_permissions":[{"namespaces":["companyx"],"permissions":{"NAMESPACE":["create","read","delete"],"SECRET":["create"]}}]}`, `{"users":["nora"]}`},
		{"reader@t-a", `{"tenant":"t-a","tenant_permissions":[{"tenant_patterns":["t-a"],"allowed_actions":["kibana_all_read"]}]}`, `{"users":["rita"]}`},
	}
	for _, r := range roles {
		mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/roles/"+r.name, su, "", r.body), 201)
		mustStatus(t, e.s.Do(t, "PUT", securityAPI+"/rolesmapping/"+r.name, su, "", r.users), 201)
	}
	base := "/api/v1/t-a/namespaces"
	for _, c := range []struct {
		name, tok, method, path string
		body                    any
		want                    int
	}{
		{"grant reads its namespace", mia, "GET", "/company.marketing", nil, 200},
		{"grant covers children", mia, "GET", "/company.marketing.emea/variables", nil, 200},
		{"grant updates", mia, "PUT", "/company.marketing/variables", `{"a":1}`, 200},
		{"grant not the parent", mia, "GET", "/company", nil, 403},
		{"grant dot boundary", mia, "GET", "/companyx", nil, 403},
		{"grant no create", mia, "POST", "", `{"id":"company.marketing.new"}`, 403},
		{"grant no delete", mia, "DELETE", "/company.marketing.emea", nil, 403},
		{"grant lists secrets", mia, "GET", "/company.marketing/secrets", nil, 200},
		{"grant no secret write", mia, "PUT", "/company.marketing/secrets/X", map[string]any{"value": "v-secret"}, 403},
		{"grant not the parent's secrets", mia, "GET", "/company/secrets", nil, 403},
		{"grant only in its tenant", mia, "GET", "/api/v1/t-b/namespaces/company.marketing", nil, 403},
		{"reader reads", rita, "GET", "/company/secrets", nil, 200},
		{"reader cannot write", rita, "PUT", "/company/variables", `{"a":1}`, 403},
		{"reader cannot put secrets", rita, "PUT", "/company/secrets/X", map[string]any{"value": "v-secret"}, 403},
		{"reader cannot delete", rita, "DELETE", "/company", nil, 403},
		{"secret create is not update", nora, "PUT", "/companyx/secrets/X", map[string]any{"value": "v-secret"}, 200},
		{"secret create is not update (again)", nora, "PUT", "/companyx/secrets/X", map[string]any{"value": "w"}, 403},
		{"deleting own secrets needs SECRET delete", nora, "DELETE", "/companyx", nil, 403},
		{"deleter creates", nora, "POST", "", `{"id":"companyx.sub"}`, 200},
		{"deleter deletes a namespace without secrets", nora, "DELETE", "/companyx.sub", nil, 204},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := base + c.path
			if strings.HasPrefix(c.path, "/api/") {
				path = c.path
			}
			mustStatus(t, e.s.Do(t, c.method, path, c.tok, "", c.body), c.want)
		})
	}
	nsWant(t, nsList(t, e.s.Do(t, "GET", base, mia, "", nil)), []string{"company.marketing", "company.marketing.emea"})
	nsWant(t, nsList(t, e.s.Do(t, "GET", base, rita, "", nil)), []string{"company", "company.marketing", "company.marketing.emea", "companyx"})
}

// TestNamespacesInFlowRuns runs a flow of company.marketing that logs
// namespace variables and a secret set through the namespaces API: the
// log shows the inherited variables, the level the forced plugin default
// of company imposes over company.marketing's, and the secret masked.
func TestNamespacesInFlowRuns(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	dave := daveTok(t)
	ns := func(method, path string, body any, headers ...string) {
		t.Helper()
		mustStatus(t, e.s.Do(t, method, "/api/v1/t-a/namespaces"+path, dave, "", body, headers...), 200)
	}
	ns("POST", "", `{"id":"company"}`)
	ns("POST", "", `{"id":"company.marketing"}`)
	ns("PUT", "/company/variables", "region: us\naws:\n  tags:\n    team: it\n    cost: c1\n", "Content-Type", "application/x-yaml")
	ns("PUT", "/company.marketing/variables", `{"region":"eu","aws":{"tags":{"team":"mkt"}}}`)
	ns("PUT", "/company/plugin-defaults", `[{"type":"io.kestra.plugin.core.log","forced":true,"values":{"level":"WARN"}}]`)
	ns("PUT", "/company.marketing/plugin-defaults", `[{"type":"io.kestra.plugin.core.log.Log","values":{"level":"DEBUG"}}]`)
	ns("PUT", "/company/secrets/DB_PASSWORD", map[string]any{"value": secretValues[0]})

	flow := "id: hello_world\nnamespace: company.marketing\ntasks:\n  - id: log_task\n    type: io.kestra.plugin.core.log.Log\n" +
		"    message: \"hi from {{ flow.namespace }} region={{ namespace.region }} team={{ namespace.aws.tags.team }} cost={{ namespace.aws.tags.cost }} pw={{ secret('DB_PASSWORD') }}\"\n"
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", flow, "Content-Type", "application/x-yaml"), 200)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/hello_world?wait=true", dave, "", nil)
	mustStatus(t, r, 200)
	x := r.JSON(t)
	if st := x["state"].(map[string]any)["current"]; st != "SUCCESS" {
		t.Fatalf("execution ended %v: %s", st, r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x["id"].(string), dave, "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the logs", r.Body)
	var logs []struct{ Level, Message string }
	if err := json.Unmarshal(r.Body, &logs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range logs {
		got = append(got, l.Level+" "+l.Message)
	}
	nsWant(t, got, []string{"WARN hi from company.marketing region=eu team=mkt cost=c1 pw=******"})
}
