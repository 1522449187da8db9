package index_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

// nestedMapping returns a mapping with objects "a" nested depth times and
// a keyword leaf "k" in the innermost one.
func nestedMapping(depth int) *index.Mapping {
	p := &index.Property{Type: index.TypeKeyword}
	name := "k"
	for i := 0; i < depth; i++ {
		p = &index.Property{Type: index.TypeObject, Properties: map[string]*index.Property{name: p}}
		name = "a"
	}
	return &index.Mapping{Properties: map[string]*index.Property{name: p}}
}

// nestedMappingJSON is nestedMapping as a "mappings" body.
func nestedMappingJSON(depth int) string {
	s := `{"type":"keyword"}`
	name := "k"
	for i := 0; i < depth; i++ {
		s = fmt.Sprintf(`{"properties":{%q:%s}}`, name, s)
		name = "a"
	}
	return fmt.Sprintf(`{"properties":{%q:%s}}`, name, s)
}

func TestMappingCloneIsDeep(t *testing.T) {
	t.Run("deeper than the JSON decoder allows", func(t *testing.T) {
		// A JSON round trip fails beyond 10000 nested values: Clone must
		// not depend on it.
		m := nestedMapping(6000)
		c := m.Clone()
		path := strings.Repeat("a.", 6000) + "k"
		if p, ok := c.Lookup(path); !ok || p.Type != index.TypeKeyword {
			t.Fatalf("clone lost the deep field: %+v, %v", p, ok)
		}
	})
	t.Run("shares nothing", func(t *testing.T) {
		m, err := index.ParseMapping([]byte(`{"_meta":{"v":1},"date_detection":false,"dynamic_templates":[{"s":{"match":"s_*","mapping":{"type":"keyword"}}}],
			"properties":{"o":{"properties":{"n":{"type":"long","null_value":0,"index":true}}},"t":{"type":"text","fields":{"k":{"type":"keyword"}}}}}`))
		if err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(m)
		c := m.Clone()
		n, _ := c.Lookup("o.n")
		n.NullValue[0] = '1'
		*n.Index = false
		n.Type = index.TypeDouble
		c.Properties["o"].Properties["x"] = &index.Property{Type: index.TypeLong}
		c.Properties["t"].Fields["k"].Type = index.TypeText
		c.DynamicTemplates[0]["s"].Mapping.Type = index.TypeText
		c.Meta[1] = ' '
		*c.DateDetection = true
		after, _ := json.Marshal(m)
		if string(before) != string(after) {
			t.Errorf("changing the clone changed the original:\n%s\n%s", before, after)
		}
		if got, _ := json.Marshal(c); string(got) == string(before) {
			t.Error("the clone did not change")
		}
	})
	t.Run("nil", func(t *testing.T) {
		var m *index.Mapping
		var p *index.Property
		if m.Clone() != nil || p.Clone() != nil {
			t.Error("Clone of nil is not nil")
		}
	})
}

func TestParseMappingLimits(t *testing.T) {
	fields := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"properties":{`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"f%d":{"type":"keyword"}`, i)
		}
		b.WriteString(`}}`)
		return b.String()
	}
	cases := []struct {
		name, body string
		want       string // "" means accepted
	}{
		{"depth at the limit", nestedMappingJSON(index.MaxMappingDepth - 1), ""},
		{"depth over the limit", nestedMappingJSON(index.MaxMappingDepth), "Limit of mapping depth [20] has been exceeded due to object field [" + strings.TrimSuffix(strings.Repeat("a.", 20), ".") + "]"},
		{"very deep", nestedMappingJSON(4000), "Limit of mapping depth [20]"},
		{"dotted name over the limit", `{"properties":{"` + strings.Repeat("a.", 20) + `k":{"type":"long"}}}`, "Limit of mapping depth [20]"},
		{"dotted name at the limit", `{"properties":{"` + strings.Repeat("a.", 19) + `k":{"type":"long"}}}`, ""},
		{"fields at the limit", fields(index.MaxMappingFields), ""},
		{"fields over the limit", fields(index.MaxMappingFields + 1), "Limit of total fields [1000] has been exceeded"},
		{"multi-fields count", `{"properties":{"t":{"type":"text","fields":{"k":{"type":"keyword"}}},` + fields(999)[len(`{"properties":{`):], "Limit of total fields [1000]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := index.ParseMapping([]byte(c.body))
			if c.want == "" {
				if err != nil {
					t.Fatalf("ParseMapping = %v", err)
				}
				return
			}
			var ie *index.Error
			if !errors.As(err, &ie) || !errors.Is(err, index.ErrInvalid) || ie.Type != "illegal_argument_exception" || !strings.Contains(ie.Reason, c.want) {
				t.Fatalf("ParseMapping = %v, want illegal_argument_exception containing %q", err, c.want)
			}
		})
	}
}

func TestParseMappingRootParameters(t *testing.T) {
	m, err := index.ParseMapping([]byte(`{"_meta":{"owner":"x"},"date_detection":false,"numeric_detection":"true","_source":{"enabled":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Meta) != `{"owner":"x"}` || m.DateDetection == nil || *m.DateDetection || m.NumericDetection == nil || !*m.NumericDetection {
		t.Fatalf("root parameters dropped: %+v", m)
	}
	raw, _ := json.Marshal(m)
	back, err := index.ParseMapping(raw)
	if err != nil || string(back.Meta) != string(m.Meta) || *back.DateDetection || !*back.NumericDetection {
		t.Fatalf("round trip of %s = %+v, %v", raw, back, err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"_source":{"enabled":false}}`, "enabled: false is not supported"},
		{`{"_source":{"includes":["a"]}}`, "includes is not supported"},
		{`{"_source":{"excludes":["a"]}}`, "excludes is not supported"},
		{`{"_source":{"compress":true}}`, "compress"},
		{`{"_meta":[1]}`, "_meta"},
		{`{"date_detection":"maybe"}`, "date_detection"},
		{`{"properties":{"t":{"type":"text","similarity":"boolean"}}}`, "similarity"},
		{`{"properties":{"t":{"type":"text","index_options":"docs"}}}`, "index_options"},
		{`{"properties":{"k":{"type":"keyword","index_options":"positions"}}}`, "index_options"},
		{`{"properties":{"n":{"type":"long","index_options":"docs"}}}`, "index_options"},
	} {
		t.Run(c.body, func(t *testing.T) {
			_, err := index.ParseMapping([]byte(c.body))
			if !errors.Is(err, index.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseMapping = %v, want ErrInvalid naming %q", err, c.want)
			}
		})
	}
	for _, ok := range []string{
		`{"_source":{"enabled":true,"includes":[],"excludes":[]}}`,
		`{"properties":{"t":{"type":"text","similarity":"BM25","index_options":"positions","norms":false,"store":true}}}`,
		`{"properties":{"k":{"type":"keyword","similarity":"BM25","index_options":"docs","eager_global_ordinals":true}}}`,
	} {
		if _, err := index.ParseMapping([]byte(ok)); err != nil {
			t.Errorf("ParseMapping(%s) = %v", ok, err)
		}
	}
}
