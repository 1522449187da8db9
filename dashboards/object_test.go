package dashboards

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestVersionCodec(t *testing.T) {
	cases := []struct {
		seq, term int64
		want      string
	}{{1, 1, "WzEsMV0="}, {0, 1, "WzAsMV0="}, {119, 1, "WzExOSwxXQ=="}, {30, 2, "WzMwLDJd"}}
	for _, c := range cases {
		if got := EncodeVersion(c.seq, c.term); got != c.want {
			t.Errorf("EncodeVersion(%d, %d) = %q, want %q", c.seq, c.term, got, c.want)
		}
		seq, term, err := DecodeVersion(c.want)
		if err != nil || seq != c.seq || term != c.term {
			t.Errorf("DecodeVersion(%q) = %d, %d, %v", c.want, seq, term, err)
		}
	}
	for _, bad := range []string{"", "garbage", "WzEsMV0", "WzFd" /* [1] */, "WyJhIiwxXQ==" /* ["a",1] */, "Wy0xLDFd" /* [-1,1] */} {
		if _, _, err := DecodeVersion(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("DecodeVersion(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestValidate(t *testing.T) {
	panels := func(p string) json.RawMessage {
		raw, _ := json.Marshal(map[string]any{"title": "d", "panelsJSON": p})
		return raw
	}
	ref := []Reference{{Name: "panel_0", Type: TypeVisualization, ID: "v1"}}
	cases := []struct {
		name string
		obj  Object
		ok   bool
	}{
		{"panel resolves", Object{Type: TypeDashboard, ID: "d", Attributes: panels(`[{"panelRefName":"panel_0"}]`), References: ref}, true},
		{"panel without reference", Object{Type: TypeDashboard, ID: "d", Attributes: panels(`[{"panelRefName":"panel_1"}]`), References: ref}, false},
		{"legacy panel with type and id", Object{Type: TypeDashboard, ID: "d", Attributes: panels(`[{"type":"visualization","id":"v1"}]`)}, true},
		{"panel naming nothing", Object{Type: TypeDashboard, ID: "d", Attributes: panels(`[{"gridData":{}}]`)}, false},
		{"panelsJSON not JSON", Object{Type: TypeDashboard, ID: "d", Attributes: panels(`[{`)}, false},
		{"no panels", Object{Type: TypeDashboard, ID: "d", Attributes: json.RawMessage(`{"title":"d"}`)}, true},
		{"search source index resolves", Object{Type: TypeSearch, ID: "s", Attributes: json.RawMessage(`{"kibanaSavedObjectMeta":{"searchSourceJSON":"{\"indexRefName\":\"ix\"}"}}`),
			References: []Reference{{Name: "ix", Type: TypeIndexPattern, ID: "p"}}}, true},
		{"search source index missing", Object{Type: TypeSearch, ID: "s", Attributes: json.RawMessage(`{"kibanaSavedObjectMeta":{"searchSourceJSON":"{\"indexRefName\":\"ix\"}"}}`)}, false},
		{"saved search missing", Object{Type: TypeVisualization, ID: "v", Attributes: json.RawMessage(`{"savedSearchRefName":"search_0"}`)}, false},
		{"index pattern without title", Object{Type: TypeIndexPattern, ID: "p", Attributes: json.RawMessage(`{}`)}, false},
		{"url off site", Object{Type: TypeURL, ID: "u", Attributes: json.RawMessage(`{"url":"https://evil.example/"}`)}, false},
		{"unsupported type", Object{Type: "lens", ID: "l", Attributes: json.RawMessage(`{}`)}, false},
		{"attributes not an object", Object{Type: TypeConfig, ID: "c", Attributes: json.RawMessage(`[]`)}, false},
		{"reference without id", Object{Type: TypeConfig, ID: "c", Attributes: json.RawMessage(`{}`), References: []Reference{{Name: "n", Type: "t"}}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := validate(&c.obj)
			if c.ok && err != nil {
				t.Errorf("validate: %v", err)
			}
			if !c.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("validate = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestWithTenant(t *testing.T) {
	cases := map[string]string{
		"/app/dashboards":                        "/app/dashboards?security_tenant=t",
		"/app/dashboards#/view/1?_g=()":          "/app/dashboards?security_tenant=t#/view/1?_g=()",
		"/app/x?a=1&security_tenant=other&b=2#f": "/app/x?a=1&b=2&security_tenant=t#f",
		"/app/x?security%5Ftenant=other":         "/app/x?security_tenant=t",
	}
	for in, want := range cases {
		if got := WithTenant(in, "t"); got != want {
			t.Errorf("WithTenant(%q) = %q, want %q", in, got, want)
		}
	}
	if got := WithTenant("/app/x", "human resources"); got != "/app/x?security_tenant=human+resources" {
		t.Errorf("escaping: %q", got)
	}
}

func TestSortObjects(t *testing.T) {
	objs := []Object{
		{Type: TypeDashboard, ID: "d", References: []Reference{{"panel_0", TypeVisualization, "v"}}},
		{Type: TypeVisualization, ID: "v", References: []Reference{{"search_0", TypeSearch, "s"}}},
		{Type: TypeSearch, ID: "s", References: []Reference{{"ix", TypeIndexPattern, "p"}}},
		{Type: TypeIndexPattern, ID: "p"},
	}
	var got []string
	for _, o := range sortObjects(objs) {
		got = append(got, o.ID)
	}
	if want := "p s v d"; strings.Join(got, " ") != want {
		t.Errorf("sortObjects = %v, want %s", got, want)
	}
}
