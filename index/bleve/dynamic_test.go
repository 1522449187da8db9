package bleve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

// nestedDoc returns {"a":{"a":…{"v":1}…}} with depth objects "a".
func nestedDoc(depth int) string {
	return strings.Repeat(`{"a":`, depth) + `{"v":1}` + strings.Repeat(`}`, depth)
}

// wideDoc returns a document with n fields named prefix0, prefix1, ….
func wideDoc(prefix string, n int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"%s%d":%d`, prefix, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// wantItemError checks that r failed with status 400 and an *index.Error
// of type typ whose reason contains reason.
func wantItemError(t *testing.T, r index.OpResult, typ, reason string) {
	t.Helper()
	var ie *index.Error
	if r.Status != 400 || !errors.As(r.Err, &ie) || !errors.Is(r.Err, index.ErrInvalid) || ie.Type != typ || !strings.Contains(ie.Reason, reason) {
		t.Fatalf("got status %d, err %v; want 400 %s containing %q", r.Status, r.Err, typ, reason)
	}
}

// TestDeepDocumentDoesNotLoseTheMapping is the regression test for a
// document nested thousands of levels deep: it used to be accepted, made
// the mapping too deep to clone through JSON (so later writes saved an
// empty mapping) and left an index that could not be opened again.
func TestDeepDocumentDoesNotLoseTheMapping(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := openTestBackend(t, dir, Options{})
	mustCreate(t, b, "deep", `{"properties":{"title":{"type":"keyword"}}}`)
	mustApply(t, b, "deep", indexOp("1", `{"title":"kept"}`))
	r := mustApply(t, b, "deep", indexOp("2", nestedDoc(5000)))[0]
	wantItemError(t, r, "mapper_parsing_exception", "nested deeper than [100] levels")
	if r := mustApply(t, b, "deep", indexOp("3", `{"n":1}`))[0]; r.Err != nil {
		t.Fatalf("write after the deep document: %v", r.Err)
	}
	want := `{"properties":{"n":{"type":"long"},"title":{"type":"keyword"}}}`
	if got := mappingJSON(t, b, "deep"); got != want {
		t.Fatalf("mapping = %s, want %s", got, want)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b2 := openTestBackend(t, dir, Options{})
	if got := mappingJSON(t, b2, "deep"); got != want {
		t.Fatalf("mapping after restart = %s, want %s", got, want)
	}
	if d, err := b2.Get(ctx, "deep", "1"); err != nil || string(d.Source) != `{"title":"kept"}` {
		t.Fatalf("Get after restart = %+v, %v", d, err)
	}
}

func TestDocumentNestingLimit(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "off", `{"dynamic":false}`)
	// Arrays count as levels too, and strings holding brackets do not.
	cases := []struct {
		name, doc string
		ok        bool
	}{
		{"objects at the limit", nestedDoc(maxDocDepth - 2), true},
		{"objects over the limit", nestedDoc(maxDocDepth), false},
		{"arrays over the limit", `{"x":` + strings.Repeat("[", maxDocDepth) + strings.Repeat("]", maxDocDepth) + `}`, false},
		{"brackets in strings", `{"x":"` + strings.Repeat(`{[\"`, 200) + `"}`, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustApply(t, b, "off", indexOp(fmt.Sprint(i), c.doc))[0]
			if c.ok {
				if r.Err != nil {
					t.Fatalf("refused: %v", r.Err)
				}
				return
			}
			wantItemError(t, r, "mapper_parsing_exception", "nested deeper than [100] levels")
		})
	}
}

func TestDynamicMappingLimits(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "lim", "")
	t.Run("depth", func(t *testing.T) {
		r := mustApply(t, b, "lim", indexOp("deep", nestedDoc(index.MaxMappingDepth)))[0]
		wantItemError(t, r, "illegal_argument_exception",
			"Limit of mapping depth [20] has been exceeded due to object field ["+strings.TrimSuffix(strings.Repeat("a.", 20), ".")+"]")
		if got := mappingJSON(t, b, "lim"); got != `{}` {
			t.Fatalf("a refused document changed the mapping: %s", got)
		}
		if r := mustApply(t, b, "lim", indexOp("ok", nestedDoc(index.MaxMappingDepth-1)))[0]; r.Err != nil {
			t.Fatalf("depth at the limit refused: %v", r.Err)
		}
		// Dotted names are objects too.
		r = mustApply(t, b, "lim", indexOp("dots", `{"`+strings.Repeat("b.", 20)+`v":1}`))[0]
		wantItemError(t, r, "illegal_argument_exception", "Limit of mapping depth [20]")
	})
	t.Run("total fields", func(t *testing.T) {
		mustCreate(t, b, "wide", "")
		r := mustApply(t, b, "wide", indexOp("1", wideDoc("f", index.MaxMappingFields+1)))[0]
		wantItemError(t, r, "illegal_argument_exception", "Limit of total fields [1000] has been exceeded while adding new fields [1001]")
		res := mustApply(t, b, "wide",
			indexOp("2", wideDoc("a", 600)),
			indexOp("3", wideDoc("b", 500)),
			indexOp("4", `{"c":1}`))
		if res[0].Err != nil || res[2].Err != nil {
			t.Fatalf("results %+v", res)
		}
		wantItemError(t, res[1], "illegal_argument_exception", "while adding new fields [401]")
		m, err := b.Mapping(context.Background(), "wide")
		if err != nil || m.FieldCount() != 601 {
			t.Fatalf("mapping has %d fields (%v), want 601", m.FieldCount(), err)
		}
	})
}

// TestFailedDocumentAddsNoFields: the fields a refused document would
// have added do not stay in the mapping, even when other documents of the
// same call add fields.
func TestFailedDocumentAddsNoFields(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", "")
	res := mustApply(t, b, "s",
		indexOp("1", `{"a":1}`),
		indexOp("2", `{"b":"x","o":{"p":1},"z":[1,"not a number"]}`),
		indexOp("3", `{"c":true}`))
	if res[0].Err != nil || res[2].Err != nil || res[1].Err == nil {
		t.Fatalf("results %+v", res)
	}
	want := `{"properties":{"a":{"type":"long"},"c":{"type":"boolean"}}}`
	if got := mappingJSON(t, b, "s"); got != want {
		t.Fatalf("mapping = %s, want %s", got, want)
	}
}

func TestDateAndNumericDetection(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", `{"date_detection":false,"numeric_detection":true}`)
	mustCreate(t, b, "d", "")
	doc := `{"d":"2024-01-02","n":"42","f":"1.5","s":"hello"}`
	for _, name := range []string{"s", "d"} {
		if r := mustApply(t, b, name, indexOp("1", doc))[0]; r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	m, _ := b.Mapping(context.Background(), "s")
	for path, typ := range map[string]string{"d": "text", "d.keyword": "keyword", "n": "long", "f": "float", "s": "text"} {
		if p, ok := m.Lookup(path); !ok || p.Type != typ {
			t.Errorf("with detection changed, %s = %+v, want %s", path, p, typ)
		}
	}
	m, _ = b.Mapping(context.Background(), "d")
	for path, typ := range map[string]string{"d": "date", "n": "text", "f": "text", "s": "text"} {
		if p, ok := m.Lookup(path); !ok || p.Type != typ {
			t.Errorf("by default, %s = %+v, want %s", path, p, typ)
		}
	}
	// The detected numbers are searchable as numbers.
	res, err := b.Search(context.Background(), []string{"s"}, &index.SearchRequest{Size: 10, Query: []byte(`{"range":{"n":{"gt":41}}}`)})
	if err != nil || res.Total != 1 {
		t.Fatalf("range on a detected long: %+v, %v", res, err)
	}
}
