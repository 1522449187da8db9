package bleve

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tenantgate/tenantgate/index"
)

func TestApplySemantics(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", "")
	type want struct {
		result  string
		status  int
		version int64
		seqNo   int64
		errType string
	}
	steps := []struct {
		name string
		op   index.Op
		want want
	}{
		{"index new", indexOp("1", `{"a":1,"o":{"x":1,"y":2}}`), want{"created", 201, 1, 0, ""}},
		{"index again", indexOp("1", `{"a":2,"o":{"x":1,"y":2}}`), want{"updated", 200, 2, 1, ""}},
		{"create existing", index.Op{Type: index.OpCreate, ID: "1", Source: json.RawMessage(`{}`)}, want{"", 409, 0, 0, "version_conflict_engine_exception"}},
		{"create new", index.Op{Type: index.OpCreate, ID: "2", Source: json.RawMessage(`{"a":5}`)}, want{"created", 201, 1, 2, ""}},
		{"update merges", index.Op{Type: index.OpUpdate, ID: "1", Source: json.RawMessage(`{"o":{"y":3,"z":4}}`)}, want{"updated", 200, 3, 3, ""}},
		{"update noop", index.Op{Type: index.OpUpdate, ID: "1", Source: json.RawMessage(`{"o":{"y":3}}`)}, want{"noop", 200, 3, 3, ""}},
		{"update missing", index.Op{Type: index.OpUpdate, ID: "9", Source: json.RawMessage(`{"a":1}`)}, want{"", 404, 0, 0, "document_missing_exception"}},
		{"doc_as_upsert", index.Op{Type: index.OpUpdate, ID: "9", Source: json.RawMessage(`{"a":1}`), DocAsUpsert: true}, want{"created", 201, 1, 4, ""}},
		{"upsert", index.Op{Type: index.OpUpdate, ID: "10", Source: json.RawMessage(`{"a":1}`), Upsert: json.RawMessage(`{"a":0}`)}, want{"created", 201, 1, 5, ""}},
		{"delete", index.Op{Type: index.OpDelete, ID: "2"}, want{"deleted", 200, 2, 6, ""}},
		// A missing document: nothing written, no seq_no used up.
		{"delete missing", index.Op{Type: index.OpDelete, ID: "2"}, want{"not_found", 404, 1, 6, ""}},
		{"delete missing again", index.Op{Type: index.OpDelete, ID: "2"}, want{"not_found", 404, 1, 6, ""}},
		{"index after delete", indexOp("2", `{}`), want{"created", 201, 1, 7, ""}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := mustApply(t, b, "s", s.op)[0]
			if s.want.errType != "" {
				var ie *index.Error
				if !errors.As(r.Err, &ie) || ie.Type != s.want.errType || r.Status != s.want.status {
					t.Fatalf("got %+v (err %v), want %s/%d", r, r.Err, s.want.errType, s.want.status)
				}
				return
			}
			if r.Err != nil {
				t.Fatalf("unexpected error: %v", r.Err)
			}
			got := want{r.Result, r.Status, r.Version, r.SeqNo, ""}
			if got != s.want {
				t.Errorf("got %+v, want %+v", got, s.want)
			}
		})
	}
	d, err := b.Get(context.Background(), "s", "1")
	if err != nil || string(d.Source) != `{"a":2,"o":{"x":1,"y":3,"z":4}}` || d.Version != 3 || d.SeqNo != 3 {
		t.Errorf("merged doc = %s %+v %v", d.Source, d, err)
	}
	var ie *index.Error
	r := mustApply(t, b, "s", index.Op{Type: index.OpCreate, ID: "1", Source: json.RawMessage(`{}`)})[0]
	if errors.As(r.Err, &ie); ie == nil || ie.Reason != "[1]: version conflict, document already exists (current version [3])" || !errors.Is(r.Err, index.ErrConflict) {
		t.Errorf("conflict reason = %v", r.Err)
	}
}

func TestApplySameIDInOneCall(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", "")
	res := mustApply(t, b, "s",
		indexOp("1", `{"a":1}`),
		index.Op{Type: index.OpCreate, ID: "1", Source: json.RawMessage(`{"a":2}`)},
		index.Op{Type: index.OpUpdate, ID: "1", Source: json.RawMessage(`{"b":2}`)},
		index.Op{Type: index.OpDelete, ID: "1"},
		index.Op{Type: index.OpUpdate, ID: "1", Source: json.RawMessage(`{"b":3}`)},
		indexOp("1", `{"c":3}`),
	)
	wantResults := []string{"created", "", "updated", "deleted", "", "created"}
	wantStatus := []int{201, 409, 200, 200, 404, 201}
	for i, r := range res {
		if r.Result != wantResults[i] || r.Status != wantStatus[i] {
			t.Errorf("op %d: got %s/%d (%v), want %s/%d", i, r.Result, r.Status, r.Err, wantResults[i], wantStatus[i])
		}
	}
	d, err := b.Get(context.Background(), "s", "1")
	if err != nil || string(d.Source) != `{"c":3}` {
		t.Fatalf("final doc = %+v, %v", d, err)
	}
}

func TestBadItemsFailAlone(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", `{"properties":{"n":{"type":"long"},"strict":{"type":"object","dynamic":"strict","properties":{"ok":{"type":"keyword"}}}}}`)
	res := mustApply(t, b, "s",
		indexOp("good1", `{"n":1}`),
		indexOp("bad-long", `{"n":"abc","newfield":"x"}`),
		indexOp("bad-array", `[1,2]`),
		indexOp("bad-json", `{"n":`),
		indexOp("bad-strict", `{"strict":{"ok":"a","other":1}}`),
		indexOp("bad-meta", `{"_id":"x"}`),
		indexOp("bad-object", `{"n":{"x":1}}`),
		indexOp("good2", `{"n":"2","strict":{"ok":"b"}}`),
	)
	for _, r := range res {
		good := r.ID == "good1" || r.ID == "good2"
		if good != (r.Err == nil) {
			t.Errorf("%s: status %d err %v", r.ID, r.Status, r.Err)
		}
		if !good && (r.Status != 400 || !errors.Is(r.Err, index.ErrInvalid)) {
			t.Errorf("%s: status %d err %v, want 400 ErrInvalid", r.ID, r.Status, r.Err)
		}
		if !good {
			if _, err := b.Get(context.Background(), "s", r.ID); !errors.Is(err, index.ErrNotFound) {
				t.Errorf("%s was written: %v", r.ID, err)
			}
		}
	}
	var ie *index.Error
	if errors.As(res[1].Err, &ie); ie == nil || ie.Type != "mapper_parsing_exception" || !contains(ie.Reason, "[n]") {
		t.Errorf("bad-long error = %v", res[1].Err)
	}
	if errors.As(res[4].Err, &ie); ie.Type != "strict_dynamic_mapping_exception" || !contains(ie.Reason, "[other] within [strict]") {
		t.Errorf("strict error = %v", res[4].Err)
	}
	if _, ok := mustMapping(t, b, "s").Lookup("newfield"); ok {
		t.Error("a failed document added a field to the mapping")
	}
	st, _ := b.Stats(context.Background(), "s")
	if st.DocCount != 2 {
		t.Errorf("DocCount = %d, want 2", st.DocCount)
	}
}

func mustMapping(t *testing.T, b *Backend, name string) *index.Mapping {
	t.Helper()
	m, err := b.Mapping(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func contains(s, sub string) bool { return len(sub) == 0 || len(s) >= len(sub) && indexOf(s, sub) >= 0 }

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestDynamicMapping(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "d", "")
	src := `{"title":"Hello","n":3,"f":1.5,"ok":true,"nil":null,"d1":"2015-01-01","d2":"2015-01-01T12:10:30Z",
		"d3":"2015-01-01T12:10:30.123+01:00","d4":"2015/01/01 12:10:30","d5":"2015/01/01","notdate":"2015-13-45",
		"tags":[null,"a","b"],"user":{"name":"x","age":30},"dotted.key":1,"empty":[],"nums":[1,2.5]}`
	r := mustApply(t, b, "d", indexOp("1", src))[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	m := mustMapping(t, b, "d")
	cases := []struct{ path, typ, format string }{
		{"title", "text", ""}, {"title.keyword", "keyword", ""}, {"n", "long", ""}, {"f", "float", ""},
		{"ok", "boolean", ""}, {"d1", "date", ""}, {"d2", "date", ""}, {"d3", "date", ""},
		{"d4", "date", dynamicDateFormat}, {"d5", "date", dynamicDateFormat}, {"notdate", "text", ""},
		{"tags", "text", ""}, {"user", "object", ""}, {"user.name", "text", ""}, {"user.age", "long", ""},
		{"dotted", "object", ""}, {"dotted.key", "long", ""}, {"nums", "long", ""},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p, ok := m.Lookup(c.path)
			if !ok || p.Type != c.typ || p.Format != c.format {
				t.Errorf("got %+v, want type %s format %q", p, c.typ, c.format)
			}
		})
	}
	if p, _ := m.Lookup("title.keyword"); p == nil || p.IgnoreAbove != 256 {
		t.Errorf("title.keyword = %+v", p)
	}
	for _, absent := range []string{"nil", "empty"} {
		if _, ok := m.Lookup(absent); ok {
			t.Errorf("%s should not be mapped", absent)
		}
	}
	// A conflicting value in a later doc fails only that doc.
	r = mustApply(t, b, "d", indexOp("2", `{"n":"not a number"}`))[0]
	if r.Status != 400 {
		t.Errorf("conflicting value: %+v", r)
	}
}

func TestDynamicFalseAndDisabled(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "d", `{"dynamic":false,"properties":{"o":{"type":"object","dynamic":true},"off":{"type":"object","enabled":false}}}`)
	r := mustApply(t, b, "d", indexOp("1", `{"x":1,"o":{"y":"z"},"off":{"q":"anything","n":{"deep":1}}}`))[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	m := mustMapping(t, b, "d")
	if _, ok := m.Lookup("x"); ok {
		t.Error("x mapped despite dynamic false")
	}
	if _, ok := m.Lookup("o.y"); !ok {
		t.Error("o.y not mapped although o is dynamic")
	}
	if _, ok := m.Lookup("off.q"); ok {
		t.Error("disabled object got fields")
	}
	d, _ := b.Get(context.Background(), "d", "1")
	if string(d.Source) != `{"x":1,"o":{"y":"z"},"off":{"q":"anything","n":{"deep":1}}}` {
		t.Errorf("source = %s", d.Source)
	}
}

func TestDynamicTemplates(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "t", `{"dynamic_templates":[
		{"ids":{"match":"*_id","match_mapping_type":"string","mapping":{"type":"keyword"}}},
		{"no_logs":{"path_match":"meta.*","path_unmatch":"meta.keep*","mapping":{"type":"{dynamic_type}","index":false}}},
		{"longs_as_double":{"match_mapping_type":"long","unmatch":"count*","mapping":{"type":"double"}}},
		{"strings":{"match_mapping_type":"string","mapping":{"type":"text","analyzer":"english","fields":{"raw":{"type":"keyword"}}}}}
	]}`)
	r := mustApply(t, b, "t", indexOp("1", `{"user_id":"u1","meta":{"a":"x","keep_me":"y","n":1},"size":3,"count_all":4,"body":"Running"}`))[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	m := mustMapping(t, b, "t")
	cases := []struct {
		path, typ string
		check     func(*index.Property) bool
	}{
		{"user_id", "keyword", nil},
		{"meta.a", "text", func(p *index.Property) bool { return p.Index != nil && !*p.Index }},
		{"meta.n", "long", func(p *index.Property) bool { return p.Index != nil && !*p.Index }},
		{"meta.keep_me", "text", func(p *index.Property) bool { return p.Analyzer == "english" }},
		{"size", "double", nil},
		{"count_all", "long", nil},
		{"body", "text", func(p *index.Property) bool { return p.Analyzer == "english" && p.Fields["raw"] != nil }},
		{"meta", "object", nil},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			p, ok := m.Lookup(c.path)
			if !ok || p.Type != c.typ || c.check != nil && !c.check(p) {
				raw, _ := json.Marshal(p)
				t.Errorf("got %s, want type %s", raw, c.typ)
			}
		})
	}
}

func TestStrictRoot(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "s", `{"dynamic":"strict","properties":{"a":{"type":"keyword"}}}`)
	res := mustApply(t, b, "s", indexOp("1", `{"a":"x"}`), indexOp("2", `{"a":"x","b":1}`))
	var ie *index.Error
	if res[0].Err != nil || !errors.As(res[1].Err, &ie) || ie.Reason != "mapping set to strict, dynamic introduction of [b] within [_doc] is not allowed" {
		t.Fatalf("results = %+v / %v", res, res[1].Err)
	}
}

// TestLayoutIsSearchable checks that documents follow layout.go closely
// enough for plain Bleve queries to find them.
func TestLayoutIsSearchable(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "l", `{"properties":{"nokw":{"type":"keyword","index":false},"ip":{"type":"ip"},"long":{"type":"keyword","ignore_above":3}}}`)
	mustApply(t, b, "l",
		indexOp("1", `{"title":"The Quick brown fox","tags":["red fox","blue"],"n":5,"when":"2020-05-01T10:00:00Z","ok":true,"ip":"10.0.0.1","user":{"name":"Ann"},"nokw":"x","long":"abcd"}`),
		indexOp("2", `{"title":"slow fox","tags":["red","fox blue"],"n":50,"when":"2021-01-01","ok":false}`),
	)
	h, release, err := b.acquire(context.Background(), "l")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if h.idx.Name() != "l" || h.mapping() == nil {
		t.Fatalf("handle name %q", h.idx.Name())
	}
	minN, maxN := 10.0, 100.0
	start, end := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)
	tr, fa := true, false
	phrase := query.NewMatchPhraseQuery("quick brown")
	phrase.SetField("title")
	phrase.Analyzer = analyzerStandard
	crossPhrase := query.NewMatchPhraseQuery("fox blue")
	crossPhrase.SetField("tags")
	crossPhrase.Analyzer = analyzerStandard
	cases := []struct {
		name string
		q    query.Query
		want []string
	}{
		{"text term lower-cased, stop words kept", termQ("title", "the"), []string{"1"}},
		{"keyword multi-field exact", termQ("title.keyword", "slow fox"), []string{"2"}},
		{"phrase", phrase, []string{"1"}},
		{"phrase does not cross array values", crossPhrase, []string{"2"}},
		{"numeric range", &query.NumericRangeQuery{Min: &minN, Max: &maxN, InclusiveMin: &tr, InclusiveMax: &fa, FieldVal: "n"}, []string{"2"}},
		{"date range", query.NewDateRangeQuery(start, end), nil},
		{"boolean", boolQ("ok", true), []string{"1"}},
		{"object leaf", termQ("user.name", "ann"), []string{"1"}},
		{"field names leaf", termQ(fieldFieldNames, "user.name"), []string{"1"}},
		{"field names parent", termQ(fieldFieldNames, "user"), []string{"1"}},
		{"field names multi-field", termQ(fieldFieldNames, "title.keyword"), []string{"1", "2"}},
		{"index false not searchable", termQ("nokw", "x"), nil},
		{"ignore_above skipped", termQ("long", "abcd"), nil},
		{"ip", termQ("ip", "10.0.0.1"), nil},
	}
	cases[5].q.(*query.DateRangeQuery).SetField("when")
	cases[5].want = []string{"1"}
	cases[13].q = query.NewIPRangeQuery("10.0.0.0/8")
	cases[13].q.(*query.IPRangeQuery).SetField("ip")
	cases[13].want = []string{"1"}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := h.idx.Search(bleve.NewSearchRequest(c.q))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, hit := range res.Hits {
				got = append(got, hit.ID)
			}
			if !sameSet(got, c.want) {
				t.Errorf("hits %v, want %v", got, c.want)
			}
		})
	}
	// Sorting by doc values works on numeric and keyword fields.
	req := bleve.NewSearchRequest(query.NewMatchAllQuery())
	req.SortBy([]string{"-n"})
	res, err := h.idx.Search(req)
	if err != nil || len(res.Hits) != 2 || res.Hits[0].ID != "2" {
		t.Errorf("sort by -n: %v %v", res, err)
	}
}

func termQ(field, term string) query.Query {
	q := query.NewTermQuery(term)
	q.SetField(field)
	return q
}

func boolQ(field string, v bool) query.Query {
	q := query.NewBoolFieldQuery(v)
	q.SetField(field)
	return q
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
