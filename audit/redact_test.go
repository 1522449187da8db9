package audit

import (
	"encoding/json"
	"strings"
	"testing"
)

type token struct {
	ID   string `json:"id"`
	Hash []byte `json:"hash"`
}

type user struct {
	Name         string            `json:"name"`
	PasswordHash string            `json:"password_hash,omitempty"`
	Groups       []string          `json:"groups,omitempty"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	Tokens       []token           `json:"tokens,omitempty"`
	Legacy       string            // no tag: "Legacy"
	Secret       string            // no tag: "Secret"
	Count        int64             `json:"count"`
}

// secrets are the secret values the fixtures hold; none may be stored.
var secrets = []string{"$2a$10$oldhash", "$2a$10$newhash", "c2VjcmV0MQ==", "c2VjcmV0Mg==", "s3cr3t", "tok-123", "shh"}

func TestDiffRedactsSecrets(t *testing.T) {
	before := user{Name: "bob", PasswordHash: "$2a$10$oldhash", Groups: []string{"ops"},
		Attributes: map[string]string{"dept": "it", "api-token": "tok-123"},
		Tokens:     []token{{ID: "t1", Hash: []byte("secret1")}}, Secret: "shh", Count: 1 << 60}
	after := before
	after.PasswordHash = "$2a$10$newhash"
	after.Groups = []string{"ops", "dev"}
	after.Tokens = []token{{ID: "t1", Hash: []byte("secret1")}, {ID: "t2", Hash: []byte("secret2")}}
	after.Attributes = map[string]string{"dept": "it", "api-token": "tok-123", "nested": "x"}
	after.Secret = "s3cr3t"

	b, a, diff, err := Diff(before, after)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []json.RawMessage{b, a, diff} {
		for _, s := range secrets {
			if strings.Contains(string(doc), s) {
				t.Fatalf("secret %q in %s", s, doc)
			}
		}
	}
	if !strings.Contains(string(b), `"password_hash":"***"`) || !strings.Contains(string(b), `"count":1152921504606846976`) {
		t.Fatalf("before = %s", b)
	}
	var ops []map[string]any
	if err := json.Unmarshal(diff, &ops); err != nil {
		t.Fatal(err)
	}
	seen := map[string]any{}
	for _, op := range ops {
		seen[op["op"].(string)+" "+op["path"].(string)] = op["value"]
	}
	want := map[string]any{
		"replace /password_hash": Redacted, // a changed secret still shows
		"replace /Secret":        Redacted,
		"add /groups/-":          "dev",
		"add /tokens/-":          map[string]any{"id": "t2", "hash": Redacted},
		"add /attributes/nested": "x",
	}
	for k, v := range want {
		got, ok := seen[k]
		if !ok {
			t.Errorf("diff %s lacks %q", diff, k)
			continue
		}
		if gb, _ := json.Marshal(got); string(gb) != string(must(json.Marshal(v))) {
			t.Errorf("%s: value %s, want %v", k, gb, v)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func TestDiffShapes(t *testing.T) {
	type doc struct {
		Name   string `json:"name"`
		Secret string `json:"secret"`
	}
	var none *doc
	cases := []struct {
		name            string
		before, after   any
		wantB, wantA    string
		wantDiff        string
		wantDiffPresent bool
	}{
		{"nothing", nil, nil, "", "", "", false},
		{"nil pointers", none, none, "", "", "", false},
		{"create", nil, doc{Name: "x", Secret: "k"}, "", `{"name":"x","secret":"***"}`,
			`[{"op":"add","path":"","value":{"name":"x","secret":"***"}}]`, true},
		{"delete", doc{Name: "x"}, nil, `{"name":"x","secret":""}`, "",
			`[{"op":"add","path":"","value":null}]`, true},
		{"unchanged", doc{Name: "x", Secret: "k"}, doc{Name: "x", Secret: "k"},
			`{"name":"x","secret":"***"}`, `{"name":"x","secret":"***"}`, `[]`, true},
		{"secret set", doc{Name: "x"}, doc{Name: "x", Secret: "k"},
			`{"name":"x","secret":""}`, `{"name":"x","secret":"***"}`,
			`[{"op":"replace","path":"/secret","value":"***"}]`, true},
		{"raw JSON and HTML characters", json.RawMessage(`{"q":"a<b","token":{"v":1}}`), json.RawMessage(`{"q":"a<b&c"}`),
			`{"q":"a<b","token":"***"}`, `{"q":"a<b&c"}`, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, a, diff, err := Diff(c.before, c.after)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != c.wantB || string(a) != c.wantA {
				t.Fatalf("before %s after %s, want %s %s", b, a, c.wantB, c.wantA)
			}
			if (diff != nil) != c.wantDiffPresent || (c.wantDiff != "" && string(diff) != c.wantDiff) {
				t.Fatalf("diff %s, want %s", diff, c.wantDiff)
			}
		})
	}
}

func TestDiffRejectsUnmarshalable(t *testing.T) {
	if _, _, _, err := Diff(nil, map[string]any{"f": func() {}}); err == nil {
		t.Fatal("Diff of a func succeeded")
	}
}

func TestAppendTxRedactsWhatItIsGiven(t *testing.T) {
	tr, db := newTrail(t, Options{})
	r := appendOne(t, tr, db, Record{Action: "user.update", Outcome: OutcomeSuccess,
		Before: json.RawMessage(`{"name":"bob","Password":"s3cr3t","tokens":[{"token_hash":"tok-123"}]}`),
		After:  json.RawMessage(`{"name":"bob","password":"shh"}`),
		Diff:   json.RawMessage(`[{"op":"replace","path":"/password","value":"shh"},{"op":"add","path":"/x","value":{"secret":"$2a$10$newhash"}},{"op":"remove","path":"/tokens"}]`),
	})
	tr.Record(Record{Action: "user.update", Outcome: OutcomeFailure, After: json.RawMessage(`{"hash":"$2a$10$oldhash"}`)})
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if rawContains(t, db, s) {
			t.Fatalf("secret %q stored", s)
		}
	}
	if want := `{"Password":"***","name":"bob","tokens":[{"token_hash":"***"}]}`; string(r.Before) != want {
		t.Fatalf("Before = %s, want %s", r.Before, want)
	}
	if want := `[{"op":"replace","path":"/password","value":"***"},{"op":"add","path":"/x","value":{"secret":"***"}},{"op":"remove","path":"/tokens"}]`; string(r.Diff) != want {
		t.Fatalf("Diff = %s, want %s", r.Diff, want)
	}
}

func TestSecretPath(t *testing.T) {
	cases := map[string]bool{
		"":                      false,
		"/name":                 false,
		"/password":             true,
		"/tokens/0/hash":        true,
		"/token~1a":             false, // the key "token/a"
		"/token~0":              false, // the key "token~"
		"/Token_Hash":           true,
		"/attributes/PASSWORD":  true,
		"/passwords":            false,
		"/hashes/0":             false,
		"/client-secret/0":      true,
		"/apiToken":             true,
		"/token_prefix":         false,
		"/tokens/0/id":          false,
		"/secret/nested/deeper": true,
	}
	for p, want := range cases {
		if got := secretPath(p); got != want {
			t.Errorf("secretPath(%q) = %v, want %v", p, got, want)
		}
	}
}
