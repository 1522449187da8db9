package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// searchParams are the query parameters of _search.
var searchParams = []string{"q", "df", "default_operator", "analyzer", "analyze_wildcard", "lenient", "from", "size", "sort",
	"_source", "_source_includes", "_source_excludes", "track_total_hits", "rest_total_hits_as_int", "allow_no_indices",
	"ignore_unavailable", "expand_wildcards", "request_cache", "typed_keys", "search_type", "preference", "routing",
	"batched_reduce_size", "ccs_minimize_roundtrips", "allow_partial_search_results", "track_scores", "version", "seq_no_primary_term"}

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
	if q := string(args.Peek("q")); q != "" {
		qs := map[string]any{"query": q}
		if df := string(args.Peek("df")); df != "" {
			qs["default_field"] = df
		}
		if op := string(args.Peek("default_operator")); op != "" {
			qs["default_operator"] = op
		}
		raw, _ := json.Marshal(map[string]any{"query_string": qs})
		req.Query = raw
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
	if string(args.Peek("search_type")) == "scroll" || args.Has("scroll") {
		return badRequest("illegal_argument_exception", "scroll searches are not supported by tenantgate; page with from/size or search_after")
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
	res, err := sc.view.Search(c.UserContext(), expr, req)
	if err != nil {
		return err
	}
	var b jsonBuf
	writeSearch(&b, res, time.Since(start), c.Query("rest_total_hits_as_int") == "true")
	return sendJSON(c, fiber.StatusOK, &b)
}

// writeSearch appends a search response in OpenSearch's shape. Sources
// are copied byte for byte.
func writeSearch(b *jsonBuf, res *index.SearchResult, took time.Duration, totalAsInt bool) {
	b.raw(`{"took":`).val(took.Milliseconds()).raw(`,"timed_out":false,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0},"hits":{`)
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
		b.raw(`{"_index":`).val(h.Index).raw(`,"_id":`).val(h.ID).raw(`,"_score":`).val(h.Score)
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

// handleCount answers GET|POST /_count and /{index}/_count.
func (s *Server) handleCount(c *fiber.Ctx) error {
	if err := checkParams(c, "q", "df", "default_operator", "analyzer", "analyze_wildcard", "lenient", "allow_no_indices",
		"ignore_unavailable", "expand_wildcards", "min_score", "preference", "routing", "terminate_after"); err != nil {
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
	res, err := sc.view.Search(c.UserContext(), expr, req)
	if err != nil {
		return err
	}
	var b jsonBuf
	b.raw(`{"count":`).val(res.Total).raw(`,"_shards":{"total":1,"successful":1,"skipped":0,"failed":0}}`)
	return sendJSON(c, fiber.StatusOK, &b)
}

// handleMget answers GET|POST /_mget and /{index}/_mget.
func (s *Server) handleMget(c *fiber.Ctx) error {
	if err := checkParams(c, "_source", "realtime", "refresh", "routing", "preference", "stored_fields"); err != nil {
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
		return badRequest("parsing_exception", "the mget body must be {\"docs\": [...]} or {\"ids\": [...]}: %s", jsonReason(err))
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
			if string(d.Source) != "false" {
				b.raw(`,"_source":`).source(doc.Source)
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
	if err := checkParams(c, "max_concurrent_searches", "rest_total_hits_as_int", "typed_keys", "search_type", "ccs_minimize_roundtrips", "max_concurrent_shard_requests", "pre_filter_shard_size"); err != nil {
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
		expr string
		req  *index.SearchRequest
		err  error
	}
	var pairs []pair
	for i := 0; i < len(lines); i += 2 {
		var h map[string]json.RawMessage
		if err := json.Unmarshal(lines[i], &h); err != nil {
			return badRequest("illegal_argument_exception", "Malformed msearch header on line [%d]: %s", i+1, jsonReason(err))
		}
		p := pair{expr: def}
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
			return badRequest("illegal_argument_exception", "Malformed msearch body on line [%d]: %s", i+2, jsonReason(json.Unmarshal(lines[i+1], &v)))
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
			res, err = sc.view.Search(c.UserContext(), p.expr, p.req)
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
