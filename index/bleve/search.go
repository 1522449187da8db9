package bleve

// This file implements Backend.Search: it translates the request for each
// physical index (each with its own mapping), runs the Bleve searches,
// merges the hits, and adds _source filtering, highlighting and
// aggregations.
//
// Conventions for callers (the gateway renders the response):
//
//   - SearchResult.Total is -1 when the request had "track_total_hits":
//     false; hits.total must then be omitted. Otherwise TotalRelation is
//     "eq", or "gte" when the count went past the track_total_hits limit
//     (default 10000) and Total is that limit.
//   - MaxScore and Hit.Score are nil when hits are sorted by a field.
//     Hit.Sort holds the sort values whenever the request had a sort other
//     than _score alone: numbers for numeric fields, epoch milliseconds for
//     dates, strings for keyword and ip fields, 1/0 for booleans, null for
//     a document without a value.
//   - Hit.Source is nil when _source is disabled for the request.
//   - Shards counts one shard per physical index; an index whose query
//     does not fit its mapping (query_shard_exception) fails alone when
//     others are searched, and is listed in Shards.Failures.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tenantgate/tenantgate/index"
)

// defaultTrackTotalHits is OpenSearch's default track_total_hits.
const defaultTrackTotalHits = 10000

// totalTracking is a parsed track_total_hits: off, exact (limit < 0) or
// counted up to limit.
type totalTracking struct {
	off   bool
	limit int64
}

func parseTrackTotalHits(raw json.RawMessage) (totalTracking, error) {
	if isNull(raw) {
		return totalTracking{limit: defaultTrackTotalHits}, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		if b {
			return totalTracking{limit: -1}, nil
		}
		return totalTracking{off: true}, nil
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil || n < -1 {
		return totalTracking{}, index.Invalidf("illegal_argument_exception", "[track_total_hits] must be true, false or a non-negative integer")
	}
	if n == -1 {
		return totalTracking{limit: -1}, nil
	}
	return totalTracking{limit: n}, nil
}

// searchTarget is one physical index of a search with its translation.
type searchTarget struct {
	rank  int // position in names, for stable merging
	h     *handle
	m     *index.Mapping
	tr    *translator
	q     query.Query
	order search.SortOrder
	kinds []sortKind
}

// rankedHit is a Bleve hit with the index it came from.
type rankedHit struct {
	dm     *search.DocumentMatch
	target *searchTarget
}

// Search runs one search over one or more physical indices. names are
// already expanded (no wildcards). See the file comment for how the
// result signals totals, scores and sort values.
func (b *Backend) Search(ctx context.Context, names []string, req *index.SearchRequest) (res *index.SearchResult, err error) {
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("search panicked", "panic", r, "stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("search: internal error: %v", r)
		}
	}()
	if req == nil {
		req = &index.SearchRequest{Size: index.DefaultSize}
	}
	if req.From < 0 || req.Size < 0 {
		return nil, index.Invalidf("illegal_argument_exception", "[from] and [size] must be non-negative")
	}
	if req.From > math.MaxInt-req.Size {
		return nil, index.Invalidf("illegal_argument_exception", "[from] + [size] is too large: %d + %d", req.From, req.Size)
	}
	if len(names) == 0 {
		return &index.SearchResult{TotalRelation: "eq"}, nil
	}
	track, err := parseTrackTotalHits(req.TrackTotalHits)
	if err != nil {
		return nil, err
	}
	specs, err := parseSort(req.Sort)
	if err != nil {
		return nil, err
	}
	srcFilter, err := index.ParseSourceFilter(req.Source)
	if err != nil {
		return nil, err
	}
	hl, err := parseHighlight(req.Highlight)
	if err != nil {
		return nil, err
	}
	var aggs []*aggNode
	if !req.CountOnly {
		if aggs, err = parseAggs(req.Aggs); err != nil {
			return nil, err
		}
	}

	now := time.Now()
	shards := index.Shards{Total: len(names)}
	targets := make([]*searchTarget, 0, len(names))
	for i, name := range names {
		h, release, err := b.acquire(ctx, name)
		if err != nil {
			return nil, err
		}
		defer release()
		m := h.mapping()
		tr := newTranslator(m, h.idx.Mapping(), now)
		q, err := tr.parse(req.Query)
		if err != nil {
			// A value that does not fit this index's mapping fails only
			// this index when others are searched too, as a shard failure
			// would in OpenSearch.
			var ie *index.Error
			if len(names) == 1 || !errors.As(err, &ie) || ie.Type != "query_shard_exception" {
				return nil, aboutIndex(err, name)
			}
			aboutIndex(ie, name)
			shards.Failures = append(shards.Failures, index.ShardFailure{Index: name, Reason: ie})
			q = query.NewMatchNoneQuery()
		}
		t := &searchTarget{rank: i, h: h, m: m, tr: tr, q: q}
		if !req.CountOnly {
			var mapped []bool
			if t.order, t.kinds, mapped, err = buildSort(specs, m); err != nil {
				return nil, aboutIndex(err, name)
			}
			for j := range specs {
				if mapped[j] {
					specs[j].unmappedOK = true
				}
			}
		}
		targets = append(targets, t)
	}
	shards.Failed = len(shards.Failures)
	shards.Successful = shards.Total - shards.Failed
	if shards.Failed == len(names) {
		return nil, shards.Failures[len(shards.Failures)-1].Reason
	}
	for _, s := range specs {
		if !s.unmappedOK && s.unmappedType == "" {
			return nil, shardErr("No mapping found for [%s] in order to sort on", s.field)
		}
	}

	res = &index.SearchResult{TotalRelation: "eq", Shards: shards}
	want := req.From + req.Size
	if req.CountOnly {
		want = 0
	}
	scored := wantsScore(specs) || req.TrackScores
	var fields []string
	if want > 0 && (!srcFilter.Disabled || hl != nil) {
		fields = append(fields, fieldSource)
	}
	if want > 0 && req.Version {
		fields = append(fields, fieldVersion)
	}
	if want > 0 && req.SeqNoPrimaryTerm {
		fields = append(fields, fieldSeqNo)
	}
	var hits []rankedHit
	maxScore := math.Inf(-1)
	for _, t := range targets {
		sr := bleve.NewSearchRequestOptions(t.q, want, 0, false)
		if len(specs) > 0 {
			sr.SortByCustom(t.order)
		}
		if !scored || req.CountOnly {
			sr.Score = "none"
		}
		sr.Fields = fields
		out, err := t.h.idx.SearchInContext(ctx, sr)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// Limits met while building searchers (too_many_clauses) are
			// client errors.
			var ie *index.Error
			if errors.As(err, &ie) {
				return nil, aboutIndex(ie, t.h.name)
			}
			return nil, fmt.Errorf("searching index %q: %w", t.h.name, err)
		}
		res.Total += int64(out.Total)
		for _, dm := range out.Hits {
			hits = append(hits, rankedHit{dm: dm, target: t})
			maxScore = math.Max(maxScore, dm.Score)
		}
	}
	if req.CountOnly {
		return res, nil
	}
	switch {
	case track.off:
		res.Total, res.TotalRelation = -1, ""
	case track.limit >= 0 && res.Total > track.limit:
		res.Total, res.TotalRelation = track.limit, "gte"
	}

	if len(targets) > 1 {
		mergeHits(hits, specs)
	}
	if req.From < len(hits) {
		hits = hits[req.From:min(len(hits), want)]
	} else {
		hits = nil
	}
	if (byScore(specs) || req.TrackScores) && len(hits) > 0 {
		ms := maxScore
		res.MaxScore = &ms
	}
	res.Hits = make([]index.Hit, 0, len(hits))
	for _, rh := range hits {
		hit := index.Hit{Index: rh.target.h.name, ID: rh.dm.ID}
		if scored {
			s := rh.dm.Score
			hit.Score = &s
		}
		if !byScore(specs) {
			hit.Sort = make([]any, len(specs))
			for i, s := range specs {
				switch s.field {
				case "_score":
					hit.Sort[i] = scoreValue(rh.dm.Score)
				case "_doc":
					hit.Sort[i] = rh.dm.HitNumber
				default:
					hit.Sort[i] = sortValue(rh.target.kinds[i], rh.dm.Sort[i])
				}
			}
		}
		if req.Version {
			hit.Version = storedInt(rh.dm, fieldVersion)
		}
		if req.SeqNoPrimaryTerm {
			hit.SeqNo = storedInt(rh.dm, fieldSeqNo)
		}
		src := storedSource(rh.dm)
		if hl != nil && src != nil {
			hit.Highlight = hl.apply(rh.target, src)
		}
		hit.Source = srcFilter.Apply(src)
		res.Hits = append(res.Hits, hit)
	}

	if len(aggs) > 0 {
		if res.Aggregations, err = runAggs(ctx, targets, aggs, now); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// storedSource returns the _source stored with a hit.
func storedSource(dm *search.DocumentMatch) json.RawMessage {
	switch v := dm.Fields[fieldSource].(type) {
	case string:
		return json.RawMessage(v)
	case []byte:
		return json.RawMessage(v)
	case []any:
		if len(v) > 0 {
			if s, ok := v[0].(string); ok {
				return json.RawMessage(s)
			}
		}
	}
	return nil
}

// storedInt returns a stored numeric field of a hit (_version, _seq_no).
func storedInt(dm *search.DocumentMatch, field string) *int64 {
	var f float64
	switch v := dm.Fields[field].(type) {
	case float64:
		f = v
	case []any:
		if len(v) == 0 {
			return nil
		}
		x, ok := v[0].(float64)
		if !ok {
			return nil
		}
		f = x
	default:
		return nil
	}
	n := int64(f)
	return &n
}

// aboutIndex sets the Index of an *index.Error that names none to the
// physical index the error is about, so that a View can find it (and the
// name inside Reason) and rewrite it to the logical name. It returns err.
func aboutIndex(err error, name string) error {
	var ie *index.Error
	if errors.As(err, &ie) && ie.Index == "" {
		ie.Index = name
	}
	return err
}

// mergeHits orders hits from several indices: by the sort values (or
// score), then by index order, then by position within the index.
func mergeHits(hits []rankedHit, specs []sortSpec) {
	sort.SliceStable(hits, func(a, b int) bool {
		x, y := hits[a], hits[b]
		if len(specs) == 0 {
			if x.dm.Score != y.dm.Score {
				return x.dm.Score > y.dm.Score
			}
		}
		for i, s := range specs {
			c := 0
			if s.field == "_score" {
				switch {
				case x.dm.Score < y.dm.Score:
					c = -1
				case x.dm.Score > y.dm.Score:
					c = 1
				}
			} else if s.field != "_doc" {
				switch {
				case x.dm.Sort[i] < y.dm.Sort[i]:
					c = -1
				case x.dm.Sort[i] > y.dm.Sort[i]:
					c = 1
				}
			}
			if c == 0 {
				continue
			}
			if s.desc {
				c = -c
			}
			return c < 0
		}
		if x.target.rank != y.target.rank {
			return x.target.rank < y.target.rank
		}
		return x.dm.HitNumber < y.dm.HitNumber
	})
}
