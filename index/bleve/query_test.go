package bleve

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

func TestParseDateMath(t *testing.T) {
	now := time.Date(2024, 3, 15, 13, 45, 30, 0, time.UTC)
	paris, _ := time.LoadLocation("Europe/Paris")
	tests := []struct {
		in      string
		loc     *time.Location
		roundUp bool
		want    string
	}{
		{"now", nil, false, "2024-03-15T13:45:30Z"},
		{"now-1d/d", nil, false, "2024-03-14T00:00:00Z"},
		{"now-1d/d", nil, true, "2024-03-14T23:59:59.999Z"},
		{"now+2h", nil, false, "2024-03-15T15:45:30Z"},
		{"now/M", nil, false, "2024-03-01T00:00:00Z"},
		{"now-1y/y", nil, false, "2023-01-01T00:00:00Z"},
		{"now/w", nil, false, "2024-03-11T00:00:00Z"},
		{"2024-01-31||+1M/d", nil, false, "2024-03-02T00:00:00Z"},
		{"2024-02-01", nil, true, "2024-02-01T23:59:59.999Z"},
		{"2024-02-01T10:00:00", paris, false, "2024-02-01T09:00:00Z"},
		{"now/d", paris, false, "2024-03-14T23:00:00Z"},
		{"1706745600000", nil, false, "2024-02-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDateMath(tt.in, "", tt.loc, now, tt.roundUp)
			if err != nil {
				t.Fatal(err)
			}
			if s := got.UTC().Format(time.RFC3339Nano); s != tt.want {
				t.Errorf("got %s, want %s", s, tt.want)
			}
		})
	}
	for _, bad := range []string{"now-", "now*1d", "now/x", "yesterday"} {
		if _, err := parseDateMath(bad, "", nil, now, false); err == nil {
			t.Errorf("%q: expected an error", bad)
		}
	}
}

func TestMinimumShouldMatch(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want int
	}{{"2", 3, 2}, {"-1", 3, 2}, {"75%", 4, 3}, {"50%", 3, 1}, {"-25%", 4, 3}, {"100%", 3, 3}}
	for _, tt := range tests {
		got, err := minimumShouldMatch(tt.in, tt.n)
		if err != nil || got != tt.want {
			t.Errorf("minimumShouldMatch(%q, %d) = %d, %v; want %d", tt.in, tt.n, got, err, tt.want)
		}
	}
	if _, err := minimumShouldMatch("3<90%", 4); err == nil {
		t.Error("combination: expected an error")
	}
}

func TestSloppyMatch(t *testing.T) {
	tests := []struct {
		pos  [][]uint64
		slop int
		want bool
	}{
		{[][]uint64{{1}, {2}}, 0, true},
		{[][]uint64{{1}, {3}}, 0, false},
		{[][]uint64{{1}, {3}}, 1, true},
		{[][]uint64{{2}, {1}}, 1, false}, // reversed needs 2 moves
		{[][]uint64{{2}, {1}}, 2, true},
		{[][]uint64{{1}, nil, {3}}, 0, true}, // a gap (stop word)
		{[][]uint64{{1}, {}}, 5, false},
	}
	for i, tt := range tests {
		if got := sloppyMatch(tt.pos, tt.slop); got != tt.want {
			t.Errorf("%d: sloppyMatch(%v, %d) = %v", i, tt.pos, tt.slop, got)
		}
	}
}

func TestSearchRequestChecks(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "i", `{"properties":{"k":{"type":"keyword"}}}`)
	mustApply(t, b, "i", indexOp("1", `{"k":"v"}`))
	ctx := context.Background()
	for _, req := range []*index.SearchRequest{{From: -1, Size: 10}, {Size: -5}, {Size: 1, TrackTotalHits: json.RawMessage(`"x"`)}} {
		_, err := b.Search(ctx, []string{"i"}, req)
		if !errors.Is(err, index.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", req, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.Search(cctx, []string{"i"}, &index.SearchRequest{Size: 10, Aggs: json.RawMessage(`{"a":{"terms":{"field":"k"}}}`)}); err == nil {
		t.Error("cancelled context: expected an error")
	}
	res, err := b.Search(ctx, []string{"i"}, nil)
	if err != nil || res.Total != 1 || len(res.Hits) != 1 || res.MaxScore == nil || res.Hits[0].Score == nil {
		t.Fatalf("nil request: %+v, %v", res, err)
	}
	if string(res.Hits[0].Source) != `{"k":"v"}` {
		t.Errorf("source = %s", res.Hits[0].Source)
	}
}
