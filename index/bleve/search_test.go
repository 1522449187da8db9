package bleve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

// searchCase is one query of a fixture folder (queries.json).
type searchCase struct {
	Name    string          `json:"name"`
	Indices []string        `json:"indices"`
	Body    json.RawMessage `json:"body"`
	Count   bool            `json:"count_only"`
	// IDs are the expected hit ids in order; AnyOrder compares them as a set.
	IDs      []string `json:"ids"`
	AnyOrder bool     `json:"any_order"`
	Total    *int64   `json:"total"`
	Relation string   `json:"relation"`
	// Error is the expected *index.Error type.
	Error        string                `json:"error"`
	Aggregations json.RawMessage       `json:"aggregations"`
	Sort         [][]any               `json:"sort"`
	Sources      []json.RawMessage     `json:"sources"`
	Highlights   []map[string][]string `json:"highlights"`
	NoScores     bool                  `json:"no_scores"`
	HitIndices   []string              `json:"hit_indices"`
}

// loadFixture creates the indices of a fixture folder: mapping.json (index
// "test") or mappings.json ({"name": mapping}), and docs.ndjson with lines
// {"_index": "test", "_id": "1", "_source": {…}}.
func loadFixture(t *testing.T, b *Backend, dir string) []string {
	t.Helper()
	mappings := map[string]json.RawMessage{}
	if raw, err := os.ReadFile(filepath.Join(dir, "mapping.json")); err == nil {
		mappings["test"] = raw
	}
	if raw, err := os.ReadFile(filepath.Join(dir, "mappings.json")); err == nil {
		if err := json.Unmarshal(raw, &mappings); err != nil {
			t.Fatalf("mappings.json: %v", err)
		}
	}
	var names []string
	for name, raw := range mappings {
		mustCreate(t, b, name, string(raw))
		names = append(names, name)
	}
	sort.Strings(names)
	f, err := os.Open(filepath.Join(dir, "docs.ndjson"))
	if err != nil {
		t.Fatalf("docs.ndjson: %v", err)
	}
	defer f.Close()
	ops := map[string][]index.Op{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var d struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			t.Fatalf("docs.ndjson: %v in %s", err, line)
		}
		if d.Index == "" {
			d.Index = "test"
		}
		ops[d.Index] = append(ops[d.Index], indexOp(d.ID, string(d.Source)))
	}
	for name, list := range ops {
		for i, r := range mustApply(t, b, name, list...) {
			if r.Err != nil {
				t.Fatalf("indexing %s/%s: %v", name, list[i].ID, r.Err)
			}
		}
	}
	return names
}

func TestSearchFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/search/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b := newTestBackend(t, Options{})
			names := loadFixture(t, b, dir)
			raw, err := os.ReadFile(filepath.Join(dir, "queries.json"))
			if err != nil {
				t.Fatal(err)
			}
			var cases []searchCase
			if err := json.Unmarshal(raw, &cases); err != nil {
				t.Fatalf("queries.json: %v", err)
			}
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) {
					runSearchCase(t, b, names, c)
				})
			}
		})
	}
}

func runSearchCase(t *testing.T, b *Backend, names []string, c searchCase) {
	t.Helper()
	req, err := index.ParseSearchRequest(c.Body)
	if err == nil {
		req.CountOnly = c.Count
		targets := names
		if c.Indices != nil {
			targets = c.Indices
		}
		var res *index.SearchResult
		res, err = b.Search(context.Background(), targets, req)
		if err == nil {
			checkResult(t, c, res)
			return
		}
	}
	if c.Error == "" {
		t.Fatalf("unexpected error: %v", err)
	}
	var ie *index.Error
	if !errors.As(err, &ie) || ie.Type != c.Error {
		t.Fatalf("error = %v (%T), want type %s", err, err, c.Error)
	}
}

func checkResult(t *testing.T, c searchCase, res *index.SearchResult) {
	t.Helper()
	if c.Error != "" {
		t.Fatalf("expected error %s, got %d hits", c.Error, len(res.Hits))
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	if c.IDs != nil {
		got, want := append([]string(nil), ids...), append([]string(nil), c.IDs...)
		if c.AnyOrder {
			sort.Strings(got)
			sort.Strings(want)
		}
		if !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("ids = %v, want %v", ids, c.IDs)
		}
	}
	if c.Total != nil && res.Total != *c.Total {
		t.Errorf("total = %d, want %d", res.Total, *c.Total)
	}
	if c.Relation != "" && res.TotalRelation != c.Relation {
		t.Errorf("relation = %q, want %q", res.TotalRelation, c.Relation)
	}
	if c.Aggregations != nil {
		if !jsonEqual(t, res.Aggregations, c.Aggregations) {
			t.Errorf("aggregations =\n%s\nwant\n%s", res.Aggregations, fixtureJSON(c.Aggregations))
		}
	}
	if c.Sort != nil {
		for i, h := range res.Hits {
			if i >= len(c.Sort) {
				break
			}
			got, _ := json.Marshal(h.Sort)
			want, _ := json.Marshal(c.Sort[i])
			if !jsonEqual(t, got, want) {
				t.Errorf("hit %s sort = %s, want %s", h.ID, got, want)
			}
		}
	}
	if c.Sources != nil {
		for i, h := range res.Hits {
			if i < len(c.Sources) && !jsonEqual(t, h.Source, c.Sources[i]) {
				t.Errorf("hit %s _source = %s, want %s", h.ID, h.Source, c.Sources[i])
			}
		}
	}
	if c.Highlights != nil {
		for i, h := range res.Hits {
			if i < len(c.Highlights) && !reflect.DeepEqual(h.Highlight, c.Highlights[i]) && !(len(h.Highlight) == 0 && len(c.Highlights[i]) == 0) {
				t.Errorf("hit %s highlight = %v, want %v", h.ID, h.Highlight, c.Highlights[i])
			}
		}
	}
	if c.NoScores {
		if res.MaxScore != nil {
			t.Errorf("max_score = %v, want nil", *res.MaxScore)
		}
		for _, h := range res.Hits {
			if h.Score != nil {
				t.Errorf("hit %s score = %v, want nil", h.ID, *h.Score)
			}
		}
	}
	if c.HitIndices != nil {
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Index)
		}
		if !reflect.DeepEqual(got, c.HitIndices) {
			t.Errorf("hit indices = %v, want %v", got, c.HitIndices)
		}
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	if a == nil || b == nil {
		return len(bytes.TrimSpace(a)) == 0 && string(bytes.TrimSpace(b)) == "null" || len(a) == len(b) && a == nil
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func fixtureJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// newMultiIndex creates "logs-1" (code keyword) and "logs-2" (code long)
// with one document each.
func newMultiIndex(t *testing.T) *Backend {
	t.Helper()
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "logs-1", `{"properties":{"code":{"type":"keyword"},"n":{"type":"long"}}}`)
	mustCreate(t, b, "logs-2", `{"properties":{"code":{"type":"long"},"n":{"type":"long"}}}`)
	mustApply(t, b, "logs-1", indexOp("a", `{"code":"E1","n":1,"msg":"disk full"}`))
	mustApply(t, b, "logs-2", indexOp("b", `{"code":7,"n":2,"msg":"disk ok"}`))
	mustApply(t, b, "logs-2", indexOp("b", `{"code":7,"n":2,"msg":"disk ok again"}`))
	return b
}

func TestSearchReportsShardFailures(t *testing.T) {
	b := newMultiIndex(t)
	ctx := context.Background()
	res, err := b.Search(ctx, []string{"logs-1", "logs-2"}, &index.SearchRequest{Size: 10, Query: []byte(`{"term":{"code":"E1"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	sh := res.Shards
	if sh.Total != 2 || sh.Successful != 1 || sh.Failed != 1 || len(sh.Failures) != 1 {
		t.Fatalf("shards = %+v", sh)
	}
	f := sh.Failures[0]
	if f.Index != "logs-2" || f.Reason == nil || f.Reason.Type != "query_shard_exception" || f.Reason.Index != "logs-2" {
		t.Fatalf("failure = %+v (%+v)", f, f.Reason)
	}
	if len(res.Hits) != 1 || res.Hits[0].ID != "a" {
		t.Fatalf("hits = %+v", res.Hits)
	}
	res, err = b.Search(ctx, []string{"logs-1", "logs-2"}, &index.SearchRequest{Size: 10})
	if err != nil || res.Shards.Total != 2 || res.Shards.Successful != 2 || res.Shards.Failed != 0 || res.Shards.Failures != nil {
		t.Fatalf("shards of a clean search = %+v, %v", res.Shards, err)
	}
	// A single index that fails is an error naming it.
	_, err = b.Search(ctx, []string{"logs-2"}, &index.SearchRequest{Size: 10, Query: []byte(`{"term":{"code":"E1"}}`)})
	var ie *index.Error
	if !errors.As(err, &ie) || ie.Index != "logs-2" {
		t.Fatalf("single-index failure = %v (%+v)", err, ie)
	}
}

func TestSearchVersionSeqNoAndTrackScores(t *testing.T) {
	b := newMultiIndex(t)
	ctx := context.Background()
	names := []string{"logs-1", "logs-2"}
	query := json.RawMessage(`{"match":{"msg":"disk"}}`)
	res, err := b.Search(ctx, names, &index.SearchRequest{Size: 10, Query: query, Sort: []byte(`"n"`), Version: true, SeqNoPrimaryTerm: true, TrackScores: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 2 || res.MaxScore == nil {
		t.Fatalf("result = %+v", res)
	}
	want := map[string][2]int64{"a": {1, 0}, "b": {2, 1}}
	for _, h := range res.Hits {
		if h.Version == nil || h.SeqNo == nil || [2]int64{*h.Version, *h.SeqNo} != want[h.ID] {
			t.Errorf("hit %s: version %v, seq_no %v; want %v", h.ID, h.Version, h.SeqNo, want[h.ID])
		}
		if h.Score == nil || *h.Score <= 0 || h.Sort == nil {
			t.Errorf("hit %s: score %v, sort %v with track_scores", h.ID, h.Score, h.Sort)
		}
	}
	res, err = b.Search(ctx, names, &index.SearchRequest{Size: 10, Query: query, Sort: []byte(`"n"`)})
	if err != nil || res.MaxScore != nil {
		t.Fatalf("result = %+v, %v", res, err)
	}
	for _, h := range res.Hits {
		if h.Version != nil || h.SeqNo != nil || h.Score != nil {
			t.Errorf("hit %s without asking: version %v, seq_no %v, score %v", h.ID, h.Version, h.SeqNo, h.Score)
		}
	}
}

func TestSearchFromSizeOverflow(t *testing.T) {
	b := newMultiIndex(t)
	for _, req := range []*index.SearchRequest{
		{From: math.MaxInt, Size: 1},
		{From: 1, Size: math.MaxInt},
		{From: math.MaxInt / 2, Size: math.MaxInt/2 + 2},
	} {
		_, err := b.Search(context.Background(), []string{"logs-1", "logs-2"}, req)
		if !errors.Is(err, index.ErrInvalid) {
			t.Errorf("from %d size %d: %v, want ErrInvalid", req.From, req.Size, err)
		}
	}
}

// TestErrorsNameThePhysicalIndex: every *index.Error about an index
// carries its physical name in Index, so that a View can rewrite it.
func TestErrorsNameThePhysicalIndex(t *testing.T) {
	b := newMultiIndex(t)
	ctx := context.Background()
	check := func(what string, err error, name string) {
		t.Helper()
		var ie *index.Error
		if !errors.As(err, &ie) || ie.Index != name {
			t.Errorf("%s: %v has Index %q, want %q", what, err, func() string {
				if ie == nil {
					return "(no *index.Error)"
				}
				return ie.Index
			}(), name)
		}
	}
	r := mustApply(t, b, "logs-1", indexOp("x", `{"n":"not a number"}`), index.Op{Type: index.OpCreate, ID: "a", Source: []byte(`{}`)},
		index.Op{Type: index.OpUpdate, ID: "missing", Source: []byte(`{}`)})
	for i, res := range r {
		check(fmt.Sprintf("apply item %d", i), res.Err, "logs-1")
	}
	_, err := b.Apply(ctx, "gone", []index.Op{indexOp("1", `{}`)})
	check("apply to a missing index", err, "gone")
	_, err = b.Get(ctx, "logs-1", "nope")
	check("get a missing document", err, "logs-1")
	_, err = b.Search(ctx, []string{"logs-1"}, &index.SearchRequest{Size: 1, Sort: []byte(`"msg"`)})
	check("sort on a text field", err, "logs-1")
	err = b.CreateIndex(ctx, "bad", &index.Mapping{Properties: map[string]*index.Property{"x": {Type: "nope"}}})
	check("create with a bad mapping", err, "bad")
	err = b.CreateIndex(ctx, "logs-1", nil)
	check("create an existing index", err, "logs-1")
	err = b.CreateIndex(ctx, "a/b", nil)
	check("create with an invalid name", err, "a/b")
	if err != nil && !strings.Contains(err.Error(), "[a/b]") {
		t.Errorf("invalid name not verbatim in %q", err)
	}
}
