package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// executionHints are search parameters that tune how OpenSearch runs a
// search across shards and nodes. A single-node, single-shard Bleve index
// gives the same results with or without them, so they are accepted.
var executionHints = []string{"request_cache", "preference", "routing", "batched_reduce_size", "ccs_minimize_roundtrips",
	"allow_partial_search_results", "max_concurrent_shard_requests", "pre_filter_shard_size", "search_type"}

// expandParams are the index-expression options.
var expandParams = []string{"allow_no_indices", "ignore_unavailable", "expand_wildcards"}

// queryStringParams shape the query_string query built from q.
var queryStringParams = []string{"df", "default_operator", "analyzer", "analyze_wildcard", "lenient"}

// searchParams are the query parameters of _search.
var searchParams = concat([]string{"q", "from", "size", "sort", "_source", "_source_includes", "_source_excludes",
	"track_total_hits", "rest_total_hits_as_int", "typed_keys", "version", "seq_no_primary_term", "track_scores"},
	queryStringParams, expandParams, executionHints)

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// expandOptions reads ignore_unavailable, allow_no_indices and
// expand_wildcards.
func expandOptions(get func(string) string) (index.ExpandOptions, error) {
	var o index.ExpandOptions
	boolArg := func(name string, def bool) (bool, error) {
		switch get(name) {
		case "":
			return def, nil
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return def, badRequest("illegal_argument_exception", "[%s] must be true or false", name)
	}
	var err error
	if o.IgnoreUnavailable, err = boolArg("ignore_unavailable", false); err != nil {
		return o, err
	}
	allow, err := boolArg("allow_no_indices", true)
	if err != nil {
		return o, err
	}
	o.RequireMatch = !allow
	if v := get("expand_wildcards"); v != "" {
		open := false
		for _, w := range strings.Split(v, ",") {
			switch w {
			case "open", "all":
				open = true
			case "closed", "hidden", "none":
			default:
				return o, badRequest("illegal_argument_exception", "No enum constant for expand_wildcards [%s]: use open, closed, hidden, none or all", w)
			}
		}
		o.NoWildcards = !open
	}
	return o, nil
}

// searchIn expands expr with the request's options and searches it,
// within the body's timeout when it has one.
func searchIn(c *fiber.Ctx, sc *scope, expr string, get func(string) string, req *index.SearchRequest) (*index.SearchResult, error) {
	o, err := expandOptions(get)
	if err != nil {
		return nil, err
	}
	entries, err := sc.view.ExpandWith(expr, o)
	if err != nil {
		return nil, err
	}
	ctx := c.UserContext()
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	return sc.view.SearchEntries(ctx, entries, req)
}

// queryArg returns a query parameter, copied.
func queryArg(c *fiber.Ctx) func(string) string {
	return func(name string) string { return strings.Clone(c.Query(name)) }
}

// searchRequest builds a SearchRequest from the body and the URL
// parameters (which win, as in OpenSearch), and checks the result window.
func (s *Server) searchRequest(c *fiber.Ctx, body []byte) (*index.SearchRequest, error) {
	req, err := index.ParseSearchRequest(body)
	if err != nil {
		return nil, err
	}
	if err := applySearchParams(c, req); err != nil {
		return nil, err
	}
	if err := s.checkWindow(req); err != nil {
		return nil, err
	}
	return req, nil
}

func (s *Server) checkWindow(req *index.SearchRequest) error {
	// Compare without adding first: from + size may overflow.
	if w := s.cfg.Limits.MaxResultWindow; req.From > w || req.Size > w || req.From > w-req.Size {
		return badRequest("illegal_argument_exception",
			"Result window is too large, from + size must be less than or equal to: [%d] but was [%s]. This limit can be set by changing limits.max_result_window.",
			w, new(big.Int).Add(big.NewInt(int64(req.From)), big.NewInt(int64(req.Size))).String())
	}
	return nil
}

func applySearchParams(c *fiber.Ctx, req *index.SearchRequest) error {
	args := c.Context().QueryArgs()
	intArg := func(name string, dst *int) error {
		if !args.Has(name) {
			return nil
		}
		n, err := strconv.Atoi(string(args.Peek(name)))
		if err != nil || n < 0 {
			return badRequest("illegal_argument_exception", "[%s] must be a non-negative integer", name)
		}
		*dst = n
		return nil
	}
	if err := intArg("from", &req.From); err != nil {
		return err
	}
	if err := intArg("size", &req.Size); err != nil {
		return err
	}
	for name, dst := range map[string]*bool{"version": &req.Version, "seq_no_primary_term": &req.SeqNoPrimaryTerm, "track_scores": &req.TrackScores} {
		if !args.Has(name) {
			continue
		}
		v, err := strconv.ParseBool(string(args.Peek(name)))
		if err != nil {
			return badRequest("illegal_argument_exception", "[%s] must be true or false", name)
		}
		*dst = v
	}
	if q := string(args.Peek("q")); q != "" {
		qs := map[string]any{"query": q}
		if df := string(args.Peek("df")); df != "" {
			qs["default_field"] = df
		}
		for _, name := range []string{"default_operator", "analyzer"} {
			if v := string(args.Peek(name)); v != "" {
				qs[name] = v
			}
		}
		for _, name := range []string{"analyze_wildcard", "lenient"} {
			if v := string(args.Peek(name)); v != "" {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return badRequest("illegal_argument_exception", "[%s] must be true or false", name)
				}
				qs[name] = b
			}
		}
		raw, _ := json.Marshal(map[string]any{"query_string": qs})
		req.Query = raw
	} else {
		for _, name := range queryStringParams {
			if args.Has(name) {
				return badRequest("illegal_argument_exception", "[%s] only applies to a query given in [q]", name)
			}
		}
	}
	if v := string(args.Peek("sort")); v != "" {
		var sorts []any
		for _, part := range strings.Split(v, ",") {
			field, order, ok := strings.Cut(part, ":")
			if !ok {
				sorts = append(sorts, field)
				continue
			}
			sorts = append(sorts, map[string]any{field: map[string]any{"order": order}})
		}
		req.Sort, _ = json.Marshal(sorts)
	}
	if args.Has("_source") {
		v := string(args.Peek("_source"))
		switch v {
		case "true", "false":
			req.Source = json.RawMessage(v)
		default:
			req.Source, _ = json.Marshal(strings.Split(v, ","))
		}
	}
	inc, exc := string(args.Peek("_source_includes")), string(args.Peek("_source_excludes"))
	if inc != "" || exc != "" {
		f := map[string][]string{}
		if inc != "" {
			f["includes"] = strings.Split(inc, ",")
		}
		if exc != "" {
			f["excludes"] = strings.Split(exc, ",")
		}
		req.Source, _ = json.Marshal(f)
	}
	if v := string(args.Peek("track_total_hits")); v != "" {
		if v != "true" && v != "false" {
			if _, err := strconv.Atoi(v); err != nil {
				return badRequest("illegal_argument_exception", "[track_total_hits] must be true, false or a number")
			}
		}
		req.TrackTotalHits = json.RawMessage(v)
	}
	switch st := string(args.Peek("search_type")); st {
	case "", "query_then_fetch", "dfs_query_then_fetch":
	default:
		return badRequest("illegal_argument_exception", "search_type [%s] is not supported by tenantgate", st)
	}
	if args.Has("scroll") {
		return badRequest("illegal_argument_exception", "scroll searches are not supported by tenantgate; page with from and size")
	}
	return nil
}

// handleSearch answers GET|POST /_search and /{index}/_search.
func (s *Server) handleSearch(c *fiber.Ctx) error {
	if err := checkParams(c, searchParams...); err != nil {
		return err
	}
	start := time.Now()
	sc := scopeOf(c)
	expr, err := param(c, "index")
	if err != nil {
		return err
	}
	req, err := s.searchRequest(c, c.Body())
	if err != nil {
		return err
	}
	res, err := searchIn(c, sc, expr, queryArg(c), req)
	if err != nil {
		return err
	}
	if err := typeAggregations(c, req, res); err != nil {
		return err
	}
	var b jsonBuf
	writeSearch(&b, res, time.Since(start), c.Query("rest_total_hits_as_int") == "true")
	return sendJSON(c, fiber.StatusOK, &b)
}

// typeAggregations applies typed_keys=true to a result.
func typeAggregations(c *fiber.Ctx, req *index.SearchRequest, res *index.SearchResult) error {
	switch c.Query("typed_keys") {
	case "", "false":
		return nil
	case "true":
	default:
		return badRequest("illegal_argument_exception", "[typed_keys] must be true or false")
	}
	if res.Aggregations == nil {
		return nil
	}
	typed, err := typedKeys(res.Aggregations, parseAggDefs(req.Aggs))
	if err != nil {
		return fmt.Errorf("typing aggregation keys: %w", err)
	}
	res.Aggregations = typed
	return nil
}

// writeSearch appends a search response in OpenSearch's shape. Sources
// are copied byte for byte.
func writeSearch(b *jsonBuf, res *index.SearchResult, took time.Duration, totalAsInt bool) {
	b.raw(`{"took":`).val(took.Milliseconds()).raw(`,"timed_out":false,"_shards":`)
	writeShards(b, res.Shards)
	b.raw(`,"hits":{`)
	if res.TotalRelation != "" {
		if totalAsInt {
			b.raw(`"total":`).val(res.Total).raw(",")
		} else {
			b.raw(`"total":{"value":`).val(res.Total).raw(`,"relation":`).val(res.TotalRelation).raw("},")
		}
	}
	b.raw(`"max_score":`).val(res.MaxScore).raw(`,"hits":[`)
	for i, h := range res.Hits {
		if i > 0 {
			b.raw(",")
		}
		b.raw(`{"_index":`).val(h.Index).raw(`,"_id":`).val(h.ID)
		if h.Version != nil {
			b.raw(`,"_version":`).val(*h.Version)
		}
		if h.SeqNo != nil {
			b.raw(`,"_seq_no":`).val(*h.SeqNo).raw(`,"_primary_term":1`)
		}
		b.raw(`,"_score":`).val(h.Score)
		if h.Source != nil {
			b.raw(`,"_source":`).source(h.Source)
		}
		if len(h.Highlight) > 0 {
			b.raw(`,"highlight":`).val(h.Highlight)
		}
		if len(h.Sort) > 0 {
			b.raw(`,"sort":`).val(h.Sort)
		}
		b.raw("}")
	}
	b.raw("]}")
	if res.Aggregations != nil {
		b.raw(`,"aggregations":`).source(res.Aggregations)
	}
	b.raw("}")
}

// writeShards appends the _shards object: one shard per index searched,
// with the failures of indices whose part of the search failed.
func writeShards(b *jsonBuf, sh index.Shards) {
	b.raw(`{"total":`).val(sh.Total).raw(`,"successful":`).val(sh.Successful).raw(`,"skipped":0,"failed":`).val(sh.Failed)
	if len(sh.Failures) > 0 {
		b.raw(`,"failures":[`)
		for i, f := range sh.Failures {
			if i > 0 {
				b.raw(",")
			}
			b.raw(`{"shard":0,"index":`).val(f.Index).raw(`,"reason":`)
			if f.Reason != nil {
				b.raw(`{"type":`).val(f.Reason.Type).raw(`,"reason":`).val(f.Reason.Reason).raw("}")
			} else {
				b.raw("null")
			}
			b.raw("}")
		}
		b.raw("]")
	}
	b.raw("}")
}

// handleCount answers GET|POST /_count and /{index}/_count.
func (s *Server) handleCount(c *fiber.Ctx) error {
	if err := checkParams(c, concat([]string{"q"}, queryStringParams, expandParams, []string{"preference", "routing"})...); err != nil {
		return err
	}
	sc := scopeOf(c)
	expr, err := param(c, "index")
	if err != nil {
		return err
	}
	body, err := decodeObject(c.Body(), "the count request")
	if err != nil {
		return err
	}
	for k := range body {
		if k != "query" {
			return badRequest("parsing_exception", "request does not support [%s]", k)
		}
	}
	req := &index.SearchRequest{Query: body["query"], CountOnly: true}
	if err := applySearchParams(c, req); err != nil {
		return err
	}
	res, err := searchIn(c, sc, expr, queryArg(c), req)
	if err != nil {
		return err
	}
	var b jsonBuf
	b.raw(`{"count":`).val(res.Total).raw(`,"_shards":`)
	writeShards(&b, res.Shards)
	b.raw("}")
	return sendJSON(c, fiber.StatusOK, &b)
}

// handleMget answers GET|POST /_mget and /{index}/_mget.
func (s *Server) handleMget(c *fiber.Ctx) error {
	if err := checkParams(c, readDocParams...); err != nil {
		return err
	}
	sc := scopeOf(c)
	def, err := param(c, "index")
	if err != nil {
		return err
	}
	var body struct {
		Docs []struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		} `json:"docs"`
		IDs []string `json:"ids"`
	}
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return badRequest("parsing_exception", "the mget body must be {\"docs\": [...]} or {\"ids\": [...]}: %s", index.JSONErrorText(err))
	}
	for _, id := range body.IDs {
		body.Docs = append(body.Docs, struct {
			Index  string          `json:"_index"`
			ID     string          `json:"_id"`
			Source json.RawMessage `json:"_source"`
		}{Index: def, ID: id})
	}
	if len(body.Docs) == 0 {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: no documents to get;")
	}
	urlSpec := sourceParams(c)
	var b jsonBuf
	b.raw(`{"docs":[`)
	for i, d := range body.Docs {
		if i > 0 {
			b.raw(",")
		}
		name := d.Index
		if name == "" {
			name = def
		}
		if name == "" {
			b.raw(`{"_index":null,"_id":`).val(d.ID).raw(`,"error":{"type":"action_request_validation_exception","reason":"index is missing"}}`)
			continue
		}
		doc, err := sc.view.Get(c.UserContext(), name, d.ID)
		var ie *index.Error
		switch {
		case err == nil:
			b.raw(`{"_index":`).val(name).raw(`,"_id":`).val(doc.ID).raw(`,"_version":`).val(doc.Version).
				raw(`,"_seq_no":`).val(doc.SeqNo).raw(`,"_primary_term":1,"found":true`)
			spec := d.Source
			if spec == nil {
				spec = urlSpec
			}
			src, include, err := index.FilterSource(doc.Source, spec)
			if err != nil {
				return err
			}
			if include {
				b.raw(`,"_source":`).source(src)
			}
			b.raw("}")
		case errors.As(err, &ie) && errors.Is(err, index.ErrNotFound) && ie.Type != "index_not_found_exception":
			b.raw(`{"_index":`).val(name).raw(`,"_id":`).val(d.ID).raw(`,"found":false}`)
		case isClientError(err):
			_, typ, reason, _ := classify(err)
			b.raw(`{"_index":`).val(name).raw(`,"_id":`).val(d.ID).raw(`,"error":{"type":`).val(typ).raw(`,"reason":`).val(reason).raw(`}}`)
		default:
			return err
		}
	}
	b.raw("]}")
	return sendJSON(c, fiber.StatusOK, &b)
}

// handleMsearch answers GET|POST /_msearch and /{index}/_msearch: NDJSON
// pairs of header and body, one response each.
func (s *Server) handleMsearch(c *fiber.Ctx) error {
	if err := checkParams(c, concat([]string{"max_concurrent_searches", "rest_total_hits_as_int", "typed_keys"}, executionHints)...); err != nil {
		return err
	}
	start := time.Now()
	sc := scopeOf(c)
	def, err := param(c, "index")
	if err != nil {
		return err
	}
	var lines [][]byte
	for _, l := range bytes.Split(c.Body(), []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	if len(lines)%2 != 0 {
		return badRequest("illegal_argument_exception", "msearch needs pairs of header and body lines; line [%d] has no body", len(lines))
	}
	type pair struct {
		expr   string
		header map[string]string
		req    *index.SearchRequest
		err    error
	}
	var pairs []pair
	for i := 0; i < len(lines); i += 2 {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(lines[i], &h); err != nil {
			return badRequest("illegal_argument_exception", "Malformed msearch header on line [%d]: %s", i+1, index.JSONErrorText(err))
		}
		p := pair{expr: def, header: map[string]string{}}
		for k, v := range h {
			switch k {
			case "index":
			case "allow_no_indices", "ignore_unavailable", "expand_wildcards":
				var str string
				var b bool
				if json.Unmarshal(v, &b) == nil {
					str = strconv.FormatBool(b)
				} else if json.Unmarshal(v, &str) != nil {
					return badRequest("illegal_argument_exception", "msearch header on line [%d]: [%s] must be a string or a boolean", i+1, k)
				}
				p.header[k] = str
			case "preference", "routing", "request_cache", "search_type":
			default:
				return badRequest("illegal_argument_exception", "msearch header on line [%d]: unknown key [%s]", i+1, k)
			}
		}
		if v, ok := h["index"]; ok {
			var one string
			var many []string
			if json.Unmarshal(v, &one) == nil {
				p.expr = one
			} else if json.Unmarshal(v, &many) == nil {
				p.expr = strings.Join(many, ",")
			} else {
				return badRequest("illegal_argument_exception", "msearch header on line [%d]: [index] must be a string or an array", i+1)
			}
		}
		if !json.Valid(lines[i+1]) {
			var v any
			return badRequest("illegal_argument_exception", "Malformed msearch body on line [%d]: %s", i+2, index.JSONErrorText(json.Unmarshal(lines[i+1], &v)))
		}
		p.req, p.err = index.ParseSearchRequest(lines[i+1])
		if p.err == nil {
			p.err = s.checkWindow(p.req)
		}
		pairs = append(pairs, p)
	}
	var b jsonBuf
	b.raw(`{"took":`)
	var body jsonBuf
	body.raw(`,"responses":[`)
	for i, p := range pairs {
		if i > 0 {
			body.raw(",")
		}
		t0 := time.Now()
		err := p.err
		var res *index.SearchResult
		if err == nil {
			res, err = searchIn(c, sc, p.expr, func(k string) string { return p.header[k] }, p.req)
		}
		if err == nil {
			err = typeAggregations(c, p.req, res)
		}
		if err != nil {
			if !isClientError(err) {
				return err
			}
			status, typ, reason, idx := classify(err)
			body.raw(`{"error":{"root_cause":[{"type":`).val(typ).raw(`,"reason":`).val(reason).raw(`}],"type":`).val(typ).
				raw(`,"reason":`).val(reason)
			if idx != "" {
				body.raw(`,"index":`).val(idx)
			}
			body.raw(`},"status":`).val(status).raw("}")
			continue
		}
		var one jsonBuf
		writeSearch(&one, res, time.Since(t0), c.Query("rest_total_hits_as_int") == "true")
		out := one.Bytes()
		body.Write(out[:len(out)-1])
		body.raw(`,"status":200}`)
	}
	body.raw("]}")
	b.val(time.Since(start).Milliseconds())
	b.Write(body.Bytes())
	return sendJSON(c, fiber.StatusOK, &b)
}
