package index_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

func TestJSONErrorText(t *testing.T) {
	decode := func(body string, dst any) error { return json.Unmarshal([]byte(body), dst) }
	var obj map[string]any
	var typed struct{ Size int }
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil means null", nil, "got null"},
		{"syntax", decode(`{"a":secret}`, &obj), "invalid character 's' looking for beginning of value at offset 6"},
		{"type with field", decode(`{"Size":"secret"}`, &typed), "expected int for [Size], got string at offset"},
		{"type at root", decode(`[1]`, &obj), "expected map[string]interface {}, got array at offset"},
		{"empty", io.EOF, "empty body"},
		{"truncated", decode(`{"a":`, &obj), "unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := index.JSONErrorText(c.err)
			if !strings.Contains(got, c.want) {
				t.Errorf("JSONErrorText = %q, want it to contain %q", got, c.want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("JSONErrorText = %q quotes the input", got)
			}
		})
	}
}

func TestSourceFilter(t *testing.T) {
	src := json.RawMessage(`{"b":1, "a":{"x":[1,2], "y":"z"}, "c":[{"d":1,"e":2},{"d":3}], "a.b":{"k":true}, "p?":1}`)
	tests := []struct {
		name, spec string
		want       string // "-" means no source at all
	}{
		{"null is whole", `null`, string(src)},
		{"true is whole", `true`, string(src)},
		{"false is none", `false`, "-"},
		{"one path", `"a.x"`, `{"a":{"x":[1,2]}}`},
		{"array of paths in arrays", `["c.d"]`, `{"c":[{"d":1},{"d":3}]}`},
		{"an object brings its inside, byte for byte", `"a"`, `{"a":{"x":[1,2], "y":"z"}}`},
		{"wildcard", `"a.*"`, `{"a":{"x":[1,2],"y":"z"},"a.b":{"k":true}}`},
		{"dotted key", `"a.b.k"`, `{"a.b":{"k":true}}`},
		{"excludes", `{"excludes":["a.*","c.e"]}`, `{"b":1,"c":[{"d":1},{"d":3}],"p?":1}`},
		{"excludes win", `{"includes":["*"],"excludes":["b","a.b*"]}`, `{"a":{"x":[1,2],"y":"z"},"c":[{"d":1,"e":2},{"d":3}],"p?":1}`},
		{"singular keys", `{"include":"b","exclude":[]}`, `{"b":1}`},
		{"? is no wildcard", `"p?"`, `{"p?":1}`},
		{"? matches only itself", `"b?"`, `{}`},
		{"no match", `"nothing"`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, include, err := index.FilterSource(src, json.RawMessage(tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "-" {
				if include || got != nil {
					t.Fatalf("got %s, %v; want no source", got, include)
				}
				return
			}
			if !include || string(got) != tt.want {
				t.Fatalf("got %s, %v; want %s", got, include, tt.want)
			}
		})
	}
	for _, bad := range []string{`{"bogus":["a"]}`, `1`, `{"includes":[1]}`} {
		if _, _, err := index.FilterSource(src, json.RawMessage(bad)); !errors.Is(err, index.ErrInvalid) {
			t.Errorf("FilterSource(%s) = %v, want ErrInvalid", bad, err)
		}
	}
	// Lists from URL parameters.
	spec := index.SourceSpec([]string{"a.x", "b"}, []string{"a.x"})
	if got, _, err := index.FilterSource(src, spec); err != nil || string(got) != `{"b":1}` {
		t.Errorf("SourceSpec(%s) filters to %s, %v", spec, got, err)
	}
	if got, _, _ := index.FilterSource(src, index.SourceSpec(nil, nil)); string(got) != string(src) {
		t.Errorf("SourceSpec(nil, nil) filters to %s", got)
	}
}

func TestParseSearchRequestFlags(t *testing.T) {
	r, err := index.ParseSearchRequest([]byte(`{"version":true,"seq_no_primary_term":true,"track_scores":true}`))
	if err != nil || !r.Version || !r.SeqNoPrimaryTerm || !r.TrackScores {
		t.Fatalf("ParseSearchRequest = %+v, %v", r, err)
	}
	r, err = index.ParseSearchRequest([]byte(`{"version":false}`))
	if err != nil || r.Version || r.SeqNoPrimaryTerm || r.TrackScores {
		t.Fatalf("ParseSearchRequest = %+v, %v", r, err)
	}
	for _, c := range []struct{ body, typ, want string }{
		{`{"version":"yes"}`, "parsing_exception", "[version] must be true or false"},
		{`{"seq_no_primary_term":1}`, "parsing_exception", "[seq_no_primary_term]"},
		{`{"search_after":[1],"sort":["n"]}`, "illegal_argument_exception", "[search_after] is not supported"},
		{`{"explain":true}`, "illegal_argument_exception", "[explain] is not supported"},
	} {
		_, err := index.ParseSearchRequest([]byte(c.body))
		var ie *index.Error
		if !errors.As(err, &ie) || ie.Type != c.typ || !strings.Contains(ie.Reason, c.want) {
			t.Errorf("ParseSearchRequest(%s) = %v, want %s containing %q", c.body, err, c.typ, c.want)
		}
	}
}
