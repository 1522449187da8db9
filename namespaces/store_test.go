package namespaces_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/tenants"
)

// openIndices opens a real Bleve back-end and catalog in a temp dir.
func openIndices(t *testing.T) *index.Service { return testserver.OpenIndices(t, "") }

func newKey(t *testing.T) secrets.Key {
	t.Helper()
	raw := make([]byte, secrets.KeySize)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	k, err := secrets.ParseKey("base64:" + base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newStore(t *testing.T, svc *index.Service, tenant string, key secrets.Key) *namespaces.Store {
	t.Helper()
	return namespaces.NewStore(svc.SystemView(tenants.CustomRef(tenant)), tenant, key, func() time.Time { return t0 })
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

// must returns v once t has checked err: must(s.Get(ctx, id))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestCRUD(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, openIndices(t), "acme", newKey(t))

	if got := must(s.List(ctx))(t); len(got) != 0 {
		t.Fatalf("List before any write = %v", got)
	}
	_, err := s.Get(ctx, "company")
	wantErr(t, err, namespaces.ErrNotFound)

	ns := must(s.Create(ctx, "company", "the company"))(t)
	if ns.ID != "company" || ns.Description != "the company" || !ns.Created.Equal(t0) || len(ns.Variables) != 0 {
		t.Fatalf("Create = %+v", ns)
	}
	_, err = s.Create(ctx, "company", "again")
	wantErr(t, err, namespaces.ErrConflict)
	must(s.Create(ctx, "company.marketing", ""))(t)

	ns = must(s.Update(ctx, "company", "renamed"))(t)
	if ns.Description != "renamed" {
		t.Fatalf("Update = %+v", ns)
	}
	vars := map[string]any{"region": "eu", "aws": map[string]any{"bucket": "b1"}}
	must(s.PutVariables(ctx, "company", vars))(t)
	defs := []namespaces.PluginDefault{{Type: "io.kestra.plugin.aws", Values: map[string]any{"region": "eu-west-1"}, Forced: true}}
	must(s.PutPluginDefaults(ctx, "company", defs))(t)
	got := must(s.Get(ctx, "company"))(t)
	if got.Description != "renamed" || !reflect.DeepEqual(got.Variables, vars) || !reflect.DeepEqual(got.PluginDefaults, defs) {
		t.Fatalf("Get = %+v", got)
	}

	_, err = s.PutPluginDefaults(ctx, "company", []namespaces.PluginDefault{{Type: ""}})
	wantErr(t, err, namespaces.ErrInvalid)
	_, err = s.PutVariables(ctx, "company", map[string]any{"f": func() {}})
	wantErr(t, err, namespaces.ErrInvalid)
	_, err = s.Update(ctx, "missing", "x")
	wantErr(t, err, namespaces.ErrNotFound)

	list := must(s.List(ctx))(t)
	if len(list) != 2 || list[0].ID != "company" || list[1].ID != "company.marketing" {
		t.Fatalf("List = %+v", list)
	}

	must(s.PutSecret(ctx, "company", "TOKEN", "v-secret", ""))(t)
	if err := s.Delete(ctx, "company"); err != nil {
		t.Fatal(err)
	}
	_, err = s.Get(ctx, "company")
	wantErr(t, err, namespaces.ErrNotFound)
	_, err = s.SecretValue(ctx, "company", "TOKEN")
	wantErr(t, err, namespaces.ErrNotFound)
	wantErr(t, s.Delete(ctx, "company"), namespaces.ErrNotFound)
	if list := must(s.List(ctx))(t); len(list) != 1 || list[0].ID != "company.marketing" {
		t.Fatalf("List after delete = %+v", list)
	}
}

func TestIDsRefused(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, openIndices(t), "acme", newKey(t))
	for _, id := range []string{"", "Company", ".company", "-x", "a|b", "a b", "é", strings.Repeat("a", 151)} {
		t.Run(id, func(t *testing.T) {
			_, err := s.Create(ctx, id, "")
			wantErr(t, err, namespaces.ErrInvalid)
			_, err = s.Get(ctx, id)
			wantErr(t, err, namespaces.ErrInvalid)
			_, err = s.Effective(ctx, id)
			wantErr(t, err, namespaces.ErrInvalid)
		})
	}
	must(s.Create(ctx, strings.Repeat("a", 150), ""))(t)
	must(s.Create(ctx, "0a._-z", ""))(t)
	for _, key := range []string{"", "a|b", "a b", ".x", strings.Repeat("K", 256)} {
		t.Run("secret "+key, func(t *testing.T) {
			_, err := s.PutSecret(ctx, "0a._-z", key, "v-secret", "")
			wantErr(t, err, namespaces.ErrInvalid)
		})
	}
}

func TestSecretsEncrypted(t *testing.T) {
	ctx := context.Background()
	svc := openIndices(t)
	key := newKey(t)
	s := newStore(t, svc, "acme", key)
	must(s.Create(ctx, "company", ""))(t)
	const value = "hunter2-very-secret-value"
	info := must(s.PutSecret(ctx, "company", "DB_PASSWORD", value, "the database"))(t)
	if info.Key != "DB_PASSWORD" || info.Namespace != "company" || info.Description != "the database" {
		t.Fatalf("PutSecret = %+v", info)
	}

	// No stored document holds the value, in any encoding.
	res, err := svc.SystemView(tenants.CustomRef("acme")).Search(ctx, namespaces.IndexName,
		&index.SearchRequest{Query: json.RawMessage(`{"match_all":{}}`), Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 2 {
		t.Fatalf("%d documents, want 2", len(res.Hits))
	}
	sawSealed := false
	for _, h := range res.Hits {
		src := string(h.Source)
		for _, enc := range []string{value, base64.StdEncoding.EncodeToString([]byte(value)), base64.RawStdEncoding.EncodeToString([]byte(value))} {
			if strings.Contains(src, enc) {
				t.Fatalf("document %s holds the secret value: %s", h.ID, src)
			}
		}
		sawSealed = sawSealed || strings.Contains(src, `"sealed":`)
	}
	if !sawSealed {
		t.Fatal("no document holds a sealed secret")
	}

	if v := must(s.SecretValue(ctx, "company", "DB_PASSWORD"))(t); v != value {
		t.Fatalf("SecretValue = %q", v)
	}
	list := must(s.Secrets(ctx, "company"))(t)
	if len(list) != 1 || list[0].Key != "DB_PASSWORD" || list[0].Description != "the database" {
		t.Fatalf("Secrets = %+v", list)
	}

	// Another key cannot open it.
	other := newStore(t, svc, "acme", newKey(t))
	_, err = other.SecretValue(ctx, "company", "DB_PASSWORD")
	wantErr(t, err, secrets.ErrDecrypt)
	if strings.Contains(err.Error(), value) {
		t.Fatalf("error holds the value: %v", err)
	}
	// The same view under another tenant name binds other AAD.
	renamed := namespaces.NewStore(svc.SystemView(tenants.CustomRef("acme")), "other", key, nil)
	_, err = renamed.SecretValue(ctx, "company", "DB_PASSWORD")
	wantErr(t, err, secrets.ErrDecrypt)

	// Without a key, secrets are refused.
	keyless := newStore(t, svc, "acme", secrets.Key{})
	_, err = keyless.PutSecret(ctx, "company", "X", "v-secret", "")
	wantErr(t, err, namespaces.ErrNoKey)
	_, err = keyless.SecretValue(ctx, "company", "DB_PASSWORD")
	wantErr(t, err, namespaces.ErrNoKey)

	// A secret needs its namespace; deleting one works once.
	_, err = s.PutSecret(ctx, "nowhere", "X", "v-secret", "")
	wantErr(t, err, namespaces.ErrNotFound)
	if err := s.DeleteSecret(ctx, "company", "DB_PASSWORD"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteSecret(ctx, "company", "DB_PASSWORD"), namespaces.ErrNotFound)
}

func TestInheritance(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, openIndices(t), "acme", newKey(t))
	// company.marketing does not exist: the chain skips it.
	must(s.Create(ctx, "company", ""))(t)
	must(s.Create(ctx, "company.marketing.emea", ""))(t)
	must(s.PutVariables(ctx, "company", map[string]any{
		"region": "us", "owner": "it",
		"aws": map[string]any{"bucket": "corp", "tags": map[string]any{"team": "it", "cost": "c1"}},
	}))(t)
	must(s.PutVariables(ctx, "company.marketing.emea", map[string]any{
		"region": "eu",
		"aws":    map[string]any{"tags": map[string]any{"team": "mkt"}},
	}))(t)
	aws := "io.kestra.plugin.aws"
	s3 := "io.kestra.plugin.aws.s3.Upload"
	must(s.PutPluginDefaults(ctx, "company", []namespaces.PluginDefault{
		{Type: aws, Values: map[string]any{"region": "us-east-1", "bucket": "corp"}, Forced: true},
		{Type: "io.kestra.plugin.core.log.Log", Values: map[string]any{"level": "INFO"}},
	}))(t)
	must(s.PutPluginDefaults(ctx, "company.marketing.emea", []namespaces.PluginDefault{
		{Type: aws, Values: map[string]any{"region": "eu-west-1"}},
		{Type: "io.kestra.plugin.core.log.Log", Values: map[string]any{"level": "DEBUG"}},
		{Type: s3, Values: map[string]any{"storageClass": "STANDARD"}},
	}))(t)

	e := must(s.Effective(ctx, "company.marketing.emea"))(t)
	wantVars := map[string]any{
		"region": "eu", "owner": "it",
		"aws": map[string]any{"bucket": "corp", "tags": map[string]any{"team": "mkt", "cost": "c1"}},
	}
	if !reflect.DeepEqual(e.Variables, wantVars) {
		t.Fatalf("Variables = %v, want %v", e.Variables, wantVars)
	}
	from := map[string]string{}
	for _, d := range e.PluginDefaults {
		from[d.Type] = d.Namespace
	}
	wantFrom := map[string]string{aws: "company", "io.kestra.plugin.core.log.Log": "company.marketing.emea", s3: "company.marketing.emea"}
	if !reflect.DeepEqual(from, wantFrom) {
		t.Fatalf("plugin defaults from %v, want %v", from, wantFrom)
	}
	// A forced default overrides the task; a plain one only fills gaps.
	got := e.DefaultsFor(s3, map[string]any{"region": "mine", "storageClass": "GLACIER", "key": "k"})
	want := map[string]any{"region": "us-east-1", "bucket": "corp", "storageClass": "GLACIER", "key": "k"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DefaultsFor(s3) = %v, want %v", got, want)
	}
	if got := e.DefaultsFor("io.kestra.plugin.core.log.Log", nil); !reflect.DeepEqual(got, map[string]any{"level": "DEBUG"}) {
		t.Fatalf("DefaultsFor(Log) = %v", got)
	}
	if got := e.DefaultsFor("io.kestra.plugin.gcp.gcs.Upload", map[string]any{"a": 1}); !reflect.DeepEqual(got, map[string]any{"a": 1}) {
		t.Fatalf("DefaultsFor(gcs) = %v", got)
	}

	// The middle namespace, which does not exist, sees company's.
	e = must(s.Effective(ctx, "company.marketing"))(t)
	if e.Variables["region"] != "us" || len(e.PluginDefaults) != 2 {
		t.Fatalf("Effective(company.marketing) = %+v", e)
	}

	// Secrets: nearest wins, ancestors' keys show where they come from.
	must(s.PutSecret(ctx, "company", "SHARED", "from-company", "c"))(t)
	must(s.PutSecret(ctx, "company", "OVERRIDDEN", "from-company", "c"))(t)
	must(s.PutSecret(ctx, "company.marketing.emea", "OVERRIDDEN", "from-emea", "e"))(t)
	list := must(s.Secrets(ctx, "company.marketing.emea"))(t)
	wantList := []string{"OVERRIDDEN@company.marketing.emea", "SHARED@company"}
	var gotList []string
	for _, si := range list {
		gotList = append(gotList, si.Key+"@"+si.Namespace)
	}
	if !reflect.DeepEqual(gotList, wantList) {
		t.Fatalf("Secrets = %v, want %v", gotList, wantList)
	}
	for _, c := range []struct{ ns, key, want string }{
		{"company.marketing.emea", "SHARED", "from-company"},
		{"company.marketing.emea", "OVERRIDDEN", "from-emea"},
		{"company.marketing.emea.sub", "OVERRIDDEN", "from-emea"},
		{"company.marketing", "OVERRIDDEN", "from-company"},
	} {
		t.Run(c.ns+"/"+c.key, func(t *testing.T) {
			if v := must(s.SecretValue(ctx, c.ns, c.key))(t); v != c.want {
				t.Fatalf("SecretValue = %q, want %q", v, c.want)
			}
		})
	}
	_, err := s.SecretValue(ctx, "company", "MISSING")
	wantErr(t, err, namespaces.ErrNotFound)
	// A sibling does not inherit from another branch.
	if v := must(s.SecretValue(ctx, "company.sales", "OVERRIDDEN"))(t); v != "from-company" {
		t.Fatalf("company.sales sees %q", v)
	}
}

func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	svc := openIndices(t)
	key := newKey(t)
	a := newStore(t, svc, "acme", key)
	b := newStore(t, svc, "globex", key)
	must(a.Create(ctx, "company", "acme's"))(t)
	must(a.PutSecret(ctx, "company", "TOKEN", "acme-token", ""))(t)
	must(a.PutVariables(ctx, "company", map[string]any{"who": "acme"}))(t)

	_, err := b.Get(ctx, "company")
	wantErr(t, err, namespaces.ErrNotFound)
	_, err = b.SecretValue(ctx, "company", "TOKEN")
	wantErr(t, err, namespaces.ErrNotFound)
	if l := must(b.Secrets(ctx, "company"))(t); len(l) != 0 {
		t.Fatalf("globex sees secrets %v", l)
	}
	if e := must(b.Effective(ctx, "company"))(t); len(e.Variables) != 0 {
		t.Fatalf("globex sees variables %v", e.Variables)
	}

	// The same namespace in globex is its own.
	must(b.Create(ctx, "company", "globex's"))(t)
	must(b.PutSecret(ctx, "company", "TOKEN", "globex-token", ""))(t)
	for _, c := range []struct {
		s          *namespaces.Store
		desc, want string
	}{{a, "acme's", "acme-token"}, {b, "globex's", "globex-token"}} {
		if ns := must(c.s.Get(ctx, "company"))(t); ns.Description != c.desc {
			t.Fatalf("description %q, want %q", ns.Description, c.desc)
		}
		if v := must(c.s.SecretValue(ctx, "company", "TOKEN"))(t); v != c.want {
			t.Fatalf("secret %q, want %q", v, c.want)
		}
		if l := must(c.s.List(ctx))(t); len(l) != 1 {
			t.Fatalf("List = %v", l)
		}
	}
}

func TestAncestors(t *testing.T) {
	for _, c := range []struct {
		id   string
		want []string
	}{
		{"company.marketing.emea", []string{"company.marketing", "company"}},
		{"company", nil},
	} {
		t.Run(c.id, func(t *testing.T) {
			if got := namespaces.Ancestors(c.id); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("Ancestors = %v, want %v", got, c.want)
			}
		})
	}
}

func TestChanges(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, openIndices(t), "acme", newKey(t))
	desc := "the company"
	vars := map[string]any{"a": map[string]any{"b": 1}}
	defs := []namespaces.PluginDefault{{Type: "io.kestra.plugin.core.log.Log", Values: map[string]any{"level": "WARN"}}}
	ns := must(s.CreateWith(ctx, "company", namespaces.Changes{Description: &desc, Variables: vars, PluginDefaults: defs}))(t)
	if ns.Description != desc || !reflect.DeepEqual(ns.Variables, map[string]any{"a": map[string]any{"b": float64(1)}}) || !reflect.DeepEqual(ns.PluginDefaults, defs) {
		t.Fatalf("CreateWith = %+v", ns)
	}
	// The stored copy shares nothing with the caller's map.
	vars["a"].(map[string]any)["b"] = 2
	if got := must(s.Get(ctx, "company"))(t); got.Variables["a"].(map[string]any)["b"] != float64(1) {
		t.Fatalf("stored variables changed with the caller's map: %v", got.Variables)
	}

	for _, c := range []struct {
		name    string
		changes namespaces.Changes
		check   func(*namespaces.Namespace) bool
	}{
		{"nil keeps everything", namespaces.Changes{}, func(n *namespaces.Namespace) bool {
			return n.Description == desc && len(n.Variables) == 1 && len(n.PluginDefaults) == 1
		}},
		{"description only", namespaces.Changes{Description: new("renamed")}, func(n *namespaces.Namespace) bool {
			return n.Description == "renamed" && len(n.Variables) == 1 && len(n.PluginDefaults) == 1
		}},
		{"empty clears", namespaces.Changes{Variables: map[string]any{}, PluginDefaults: []namespaces.PluginDefault{}}, func(n *namespaces.Namespace) bool {
			return n.Description == "renamed" && len(n.Variables) == 0 && len(n.PluginDefaults) == 0
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := must(s.Change(ctx, "company", c.changes))(t); !c.check(got) {
				t.Fatalf("Change = %+v", got)
			}
			if got := must(s.Get(ctx, "company"))(t); !c.check(got) {
				t.Fatalf("Get after Change = %+v", got)
			}
		})
	}

	// Bad changes write nothing, to a new namespace or an existing one.
	bad := namespaces.Changes{Description: new("x"), PluginDefaults: []namespaces.PluginDefault{{Type: "a"}, {Type: "a"}}}
	_, err := s.CreateWith(ctx, "other", bad)
	wantErr(t, err, namespaces.ErrInvalid)
	_, err = s.Get(ctx, "other")
	wantErr(t, err, namespaces.ErrNotFound)
	_, err = s.Change(ctx, "company", bad)
	wantErr(t, err, namespaces.ErrInvalid)
	if got := must(s.Get(ctx, "company"))(t); got.Description != "renamed" {
		t.Fatalf("a refused change was written: %+v", got)
	}
	_, err = s.Change(ctx, "missing", namespaces.Changes{})
	wantErr(t, err, namespaces.ErrNotFound)
}

func TestSecretInfo(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, openIndices(t), "acme", newKey(t))
	must(s.Create(ctx, "company", ""))(t)
	must(s.PutSecret(ctx, "company", "TOKEN", "v-secret", "the token"))(t)
	info := must(s.Secret(ctx, "company", "TOKEN"))(t)
	if info.Key != "TOKEN" || info.Namespace != "company" || info.Description != "the token" {
		t.Fatalf("Secret = %+v", info)
	}
	// Only the namespace's own secrets: an inherited one is not found.
	_, err := s.Secret(ctx, "company.marketing", "TOKEN")
	wantErr(t, err, namespaces.ErrNotFound)
	_, err = s.Secret(ctx, "company", "OTHER")
	wantErr(t, err, namespaces.ErrNotFound)
}

func TestCheckKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	svc := testserver.OpenIndices(t, dir)
	key := newKey(t)

	// Nothing stored: any key, or none, is fine.
	for _, k := range []secrets.Key{{}, key} {
		if err := namespaces.CheckKey(ctx, svc, k); err != nil {
			t.Fatalf("CheckKey before any secret: %v", err)
		}
	}
	// Namespaces without secrets still need no key.
	a := newStore(t, svc, "acme", key)
	must(a.Create(ctx, "company", ""))(t)
	if err := namespaces.CheckKey(ctx, svc, secrets.Key{}); err != nil {
		t.Fatalf("CheckKey without secrets: %v", err)
	}

	b := newStore(t, svc, "globex", key)
	must(b.Create(ctx, "team", ""))(t)
	must(b.PutSecret(ctx, "team", "TOKEN", "globex-secret-value", ""))(t)
	must(b.PutSecret(ctx, "team", "OTHER", "globex-other-value", ""))(t)

	if err := namespaces.CheckKey(ctx, svc, key); err != nil {
		t.Fatalf("CheckKey with the right key: %v", err)
	}
	for _, c := range []struct {
		name   string
		key    secrets.Key
		target error
	}{
		{"missing key", secrets.Key{}, namespaces.ErrNoKey},
		{"wrong key", newKey(t), secrets.ErrWrongKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := namespaces.CheckKey(ctx, svc, c.key)
			wantErr(t, err, c.target)
			msg := err.Error()
			for _, want := range []string{"secrets.encryption_key", "2 ", "globex", "team"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if strings.Contains(msg, "globex-secret-value") || strings.Contains(msg, "globex-other-value") {
				t.Fatalf("error holds a secret value: %s", msg)
			}
		})
	}

	// A wrong key reading a value says so rather than "corrupt".
	_, err := newStore(t, svc, "globex", newKey(t)).SecretValue(ctx, "team", "TOKEN")
	wantErr(t, err, secrets.ErrWrongKey)
}
