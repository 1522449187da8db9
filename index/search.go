package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// SearchRequest is an OpenSearch search body. Query, Aggs, Sort, Source,
// Highlight and TrackTotalHits stay raw JSON so that a back-end can pass
// them through; the embedded back-end parses them and reports anything it
// does not support as ErrInvalid.
type SearchRequest struct {
	// Query is the "query" object; nil means match_all.
	Query json.RawMessage
	// Aggs is the "aggs" (or "aggregations") object; nil means none.
	Aggs json.RawMessage
	// From and Size page through hits. Size defaults to 10.
	From int
	Size int
	// Sort is the "sort" value (string, object or array); nil means by score.
	Sort json.RawMessage
	// Source is the "_source" value (bool, string, array or
	// {includes, excludes}); nil means the whole source.
	Source json.RawMessage
	// Highlight is the "highlight" object; nil means none.
	Highlight json.RawMessage
	// TrackTotalHits is true, false or a number; nil means 10000.
	TrackTotalHits json.RawMessage
	// CountOnly asks for the total only (the _count API): no hits, no
	// aggregations, and an exact total.
	CountOnly bool
	// Version asks for each hit's document version (Hit.Version).
	Version bool
	// SeqNoPrimaryTerm asks for each hit's sequence number (Hit.SeqNo);
	// the primary term is always 1.
	SeqNoPrimaryTerm bool
	// Timeout is the body's "timeout": the caller bounds the search by
	// it (zero means none). tenantgate fails the request when it runs
	// out rather than returning partial results.
	Timeout time.Duration
	// TrackScores computes scores (Hit.Score, MaxScore) even when hits
	// are sorted by fields.
	TrackScores bool
}

// searchKeys are the top-level keys of a search body that tenantgate
// understands. Anything else is refused with a clear 400.
var searchKeys = map[string]bool{
	"query": true, "aggs": true, "aggregations": true, "from": true, "size": true,
	"sort": true, "_source": true, "highlight": true, "track_total_hits": true,
	"timeout": true, "version": true, "seq_no_primary_term": true, "track_scores": true,
}

// unsupportedSearchKeys are OpenSearch search-body keys tenantgate knows
// and refuses, with the reason.
var unsupportedSearchKeys = map[string]string{
	"search_after": "[search_after] is not supported by tenantgate; page with from and size",
	"explain":      "[explain] is not supported by tenantgate",
}

// DefaultSize is the number of hits returned when a request names none.
const DefaultSize = 10

// ParseSearchRequest parses a search body. An empty body is match_all.
// Unknown top-level keys and wrongly typed values are ErrInvalid.
func ParseSearchRequest(body []byte) (*SearchRequest, error) {
	req := &SearchRequest{Size: DefaultSize}
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, Invalidf("parsing_exception", "request body is not a JSON object: %s", JSONErrorText(err))
	}
	keys := make([]string, 0, len(top))
	for k := range top {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := top[k]
		if why, ok := unsupportedSearchKeys[k]; ok {
			return nil, Invalidf("illegal_argument_exception", "%s", why)
		}
		if !searchKeys[k] {
			return nil, Invalidf("parsing_exception", "unknown key [%s] in the search request body", k)
		}
		switch k {
		case "query":
			req.Query = v
		case "aggs", "aggregations":
			if req.Aggs != nil {
				return nil, Invalidf("parsing_exception", "found two aggregation definitions: use either [aggs] or [aggregations]")
			}
			req.Aggs = v
		case "from":
			if err := json.Unmarshal(v, &req.From); err != nil || req.From < 0 {
				return nil, Invalidf("parsing_exception", "[from] must be a non-negative integer")
			}
		case "size":
			if err := json.Unmarshal(v, &req.Size); err != nil || req.Size < 0 {
				return nil, Invalidf("parsing_exception", "[size] must be a non-negative integer")
			}
		case "sort":
			req.Sort = v
		case "_source":
			req.Source = v
		case "highlight":
			req.Highlight = v
		case "track_total_hits":
			req.TrackTotalHits = v
		case "timeout":
			var str string
			d, err := time.Duration(0), json.Unmarshal(v, &str)
			if err == nil {
				d, err = time.ParseDuration(str)
			}
			if err != nil || d <= 0 {
				return nil, Invalidf("parsing_exception", "[timeout] must be a positive time such as \"500ms\" or \"10s\"")
			}
			req.Timeout = d
		case "version", "seq_no_primary_term", "track_scores":
			var b bool
			if err := json.Unmarshal(v, &b); err != nil {
				return nil, Invalidf("parsing_exception", "[%s] must be true or false", k)
			}
			switch k {
			case "version":
				req.Version = b
			case "seq_no_primary_term":
				req.SeqNoPrimaryTerm = b
			default:
				req.TrackScores = b
			}
		}
	}
	return req, nil
}

// JSONErrorText describes an error of encoding/json for a client: the
// kind of problem and the byte offset, never the input itself (which may
// hold data the client should not see echoed, or be huge). A nil error
// means the body decoded to null ("got null"); io.EOF means it was empty.
func JSONErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "got null"
	case errors.As(err, &se):
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		field := strings.TrimPrefix(te.Field, ".")
		if field == "" {
			return fmt.Sprintf("expected %s, got %s at offset %d", te.Type, te.Value, te.Offset)
		}
		return fmt.Sprintf("expected %s for [%s], got %s at offset %d", te.Type, field, te.Value, te.Offset)
	case errors.Is(err, io.EOF):
		return "empty body"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// SearchResult is the back-end's answer to a SearchRequest.
type SearchResult struct {
	// Total is the number of matching documents; TotalRelation is "eq"
	// or "gte" (when tracking stopped early).
	Total         int64
	TotalRelation string
	// MaxScore is nil when hits are sorted by something other than score.
	MaxScore *float64
	Hits     []Hit
	// Aggregations is the "aggregations" object in OpenSearch's shape,
	// or nil when the request had none.
	Aggregations json.RawMessage
	// Shards tells how the searched indices answered ("_shards").
	Shards Shards
}

// Shards is the "_shards" part of a search result. Each physical index
// counts as one shard. When some indices of a multi-index search fail
// (for example a query value that does not fit one index's mapping) and
// others answer, the search succeeds with the hits of those that
// answered, and the failed ones are listed here; when every index fails,
// Backend.Search returns the error instead.
type Shards struct {
	Total      int
	Successful int
	Failed     int
	// Failures has one entry per failed index, in the order searched.
	Failures []ShardFailure
}

// ShardFailure is one index that failed its part of a search.
type ShardFailure struct {
	// Index is the physical index name; a View replaces it by the
	// logical name.
	Index string
	// Reason is the failure: Type and Reason in OpenSearch's terms, Index
	// the physical name again (the name appears verbatim in Reason, for a
	// View to rewrite).
	Reason *Error
}

// Hit is one search hit.
type Hit struct {
	// Index is the physical index name; a View replaces it by the
	// logical name.
	Index string
	ID    string
	// Score is nil when the hits are sorted by a field.
	Score *float64
	// Source is nil when _source was disabled for this request.
	Source    json.RawMessage
	Highlight map[string][]string
	// Sort holds the sort values when the request sorted by fields.
	Sort []any
	// Version is the document version when SearchRequest.Version asked
	// for it, else nil.
	Version *int64
	// SeqNo is the document's sequence number when
	// SearchRequest.SeqNoPrimaryTerm asked for it, else nil. The primary
	// term is always 1.
	SeqNo *int64
}

// Searcher runs a search over an index expression; a *View is one.
type Searcher interface {
	Search(ctx context.Context, expr string, req *SearchRequest) (*SearchResult, error)
}

// AllSources runs query over expr page by page (pageSize hits at a time,
// in the order of sortBy) and decodes every hit's _source into a T. A
// missing index has no hits. It is for stores that keep their records in
// an index of their own (flows, namespaces), not for user searches.
func AllSources[T any](ctx context.Context, s Searcher, expr string, query, sortBy json.RawMessage, pageSize int) ([]T, error) {
	var out []T
	for from := 0; ; from += pageSize {
		res, err := s.Search(ctx, expr, &SearchRequest{Query: query, Sort: sortBy, From: from, Size: pageSize})
		if errors.Is(err, ErrNotFound) {
			return out, nil // not created yet: no records
		}
		if err != nil {
			return nil, fmt.Errorf("searching %s: %w", expr, err)
		}
		for _, h := range res.Hits {
			var v T
			if err := json.Unmarshal(h.Source, &v); err != nil {
				return nil, fmt.Errorf("decoding %s document %q: %w", expr, h.ID, err)
			}
			out = append(out, v)
		}
		if len(res.Hits) < pageSize {
			return out, nil
		}
	}
}
