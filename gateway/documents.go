package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// writeParams are the query parameters the document write routes accept.
// refresh is accepted and needs nothing: an acknowledged write is already
// on disk and visible to searches.
var writeParams = []string{"refresh", "op_type", "routing", "wait_for_active_shards", "require_alias", "if_seq_no", "if_primary_term"}

// conditions parses if_seq_no and if_primary_term, which OpenSearch
// requires together.
func conditions(seqRaw, termRaw string) (seq, term *int64, err error) {
	if seqRaw == "" && termRaw == "" {
		return nil, nil, nil
	}
	if seqRaw == "" || termRaw == "" {
		return nil, nil, badRequest("action_request_validation_exception", "Validation Failed: 1: if_seq_no and if_primary_term must be set together;")
	}
	s, err1 := strconv.ParseInt(seqRaw, 10, 64)
	t, err2 := strconv.ParseInt(termRaw, 10, 64)
	if err1 != nil || err2 != nil || s < 0 || t < 1 {
		return nil, nil, badRequest("illegal_argument_exception", "if_seq_no must be a non-negative integer and if_primary_term a positive integer")
	}
	return &s, &t, nil
}

// withConditions sets op's conditions from the request's parameters.
func withConditions(c *fiber.Ctx, op index.Op) (index.Op, error) {
	seq, term, err := conditions(c.Query("if_seq_no"), c.Query("if_primary_term"))
	op.IfSeqNo, op.IfPrimaryTerm = seq, term
	return op, err
}

// validSource checks that a document body is a JSON object and returns a
// copy (Fiber reuses the body's memory after the handler returns).
func validSource(body []byte) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, badRequest("parse_exception", "request body is required")
	}
	if trimmed[0] != '{' || !json.Valid(trimmed) {
		var v any
		err := json.Unmarshal(trimmed, &v)
		if err == nil {
			return nil, badRequest("mapper_parsing_exception", "the document must be a JSON object")
		}
		return nil, badRequest("mapper_parsing_exception", "failed to parse the document: %s", index.JSONErrorText(err))
	}
	if !utf8.Valid(trimmed) {
		return nil, badRequest("mapper_parsing_exception", "failed to parse the document: it is not valid UTF-8")
	}
	return append(json.RawMessage(nil), body...), nil
}

// applyOne runs a single write and answers with its result, or with the
// item's error as the request's error.
func (s *Server) applyOne(c *fiber.Ctx, logical string, op index.Op) error {
	sc := scopeOf(c)
	res, err := sc.view.Apply(c.UserContext(), logical, []index.Op{op})
	if err != nil {
		return err
	}
	r := res[0]
	if r.Err != nil {
		return r.Err
	}
	var b jsonBuf
	writeResult(&b, logical, r)
	return sendJSON(c, r.Status, &b)
}

// handleIndexDoc answers PUT|POST /{index}/_doc/{id} and POST /{index}/_doc.
func (s *Server) handleIndexDoc(c *fiber.Ctx) error {
	logical, id, err := docRequest(c, writeParams...)
	if err != nil {
		return err
	}
	src, err := validSource(c.Body())
	if err != nil {
		return err
	}
	typ := index.OpIndex
	switch c.Query("op_type") {
	case "", "index":
	case "create":
		typ = index.OpCreate
	default:
		return badRequest("illegal_argument_exception", "opType must be 'create' or 'index', found: [%s]", c.Query("op_type"))
	}
	if err := checkID(id, c.Params("id") != ""); err != nil {
		return err
	}
	op, err := withConditions(c, index.Op{Type: typ, ID: id, Source: src})
	if err != nil {
		return err
	}
	if op.IfSeqNo != nil && typ == index.OpCreate {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: create operations do not support compare and set. use index instead;")
	}
	return s.applyOne(c, logical, op)
}

// docRequest checks a document route's query parameters against
// allowed and returns its {index} and {id}, unescaped and copied.
func docRequest(c *fiber.Ctx, allowed ...string) (logical, id string, err error) {
	if err = checkParams(c, allowed...); err != nil {
		return "", "", err
	}
	if logical, err = param(c, "index"); err != nil {
		return "", "", err
	}
	id, err = param(c, "id")
	return logical, id, err
}

// checkID refuses ids OpenSearch refuses: empty when given, or longer
// than 512 bytes.
func checkID(id string, given bool) error {
	if given && id == "" {
		return badRequest("illegal_argument_exception", "if _id is specified it must not be empty")
	}
	if len(id) > 512 {
		return badRequest("illegal_argument_exception", "id [%s...] is too long, must be no longer than 512 bytes but was: %d", id[:32], len(id))
	}
	return nil
}

// handleCreateDoc answers PUT|POST /{index}/_create/{id}.
func (s *Server) handleCreateDoc(c *fiber.Ctx) error {
	logical, id, err := docRequest(c, writeParams...)
	if err != nil {
		return err
	}
	if err := checkID(id, true); err != nil {
		return err
	}
	src, err := validSource(c.Body())
	if err != nil {
		return err
	}
	return s.applyOne(c, logical, index.Op{Type: index.OpCreate, ID: id, Source: src})
}

// handleGetDoc answers GET|HEAD /{index}/_doc/{id}.
func (s *Server) handleGetDoc(c *fiber.Ctx) error {
	sc := scopeOf(c)
	logical, id, err := docRequest(c, readDocParams...)
	if err != nil {
		return err
	}
	doc, err := sc.view.Get(c.UserContext(), logical, id)
	var ie *index.Error
	if errors.As(err, &ie) && errors.Is(err, index.ErrNotFound) && ie.Type != "index_not_found_exception" {
		if c.Method() == fiber.MethodHead {
			return c.SendStatus(fiber.StatusNotFound)
		}
		var b jsonBuf
		b.raw(`{"_index":`).val(logical).raw(`,"_id":`).val(id).raw(`,"found":false}`)
		return sendJSON(c, fiber.StatusNotFound, &b)
	}
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodHead {
		return c.SendStatus(fiber.StatusOK)
	}
	var b jsonBuf
	src, include, err := index.FilterSource(doc.Source, sourceParams(c))
	if err != nil {
		return err
	}
	b.raw(`{"_index":`).val(logical).raw(`,"_id":`).val(doc.ID).raw(`,"_version":`).val(doc.Version).
		raw(`,"_seq_no":`).val(doc.SeqNo).raw(`,"_primary_term":1,"found":true`)
	if include {
		b.raw(`,"_source":`).source(src)
	}
	b.raw("}")
	return sendJSON(c, fiber.StatusOK, &b)
}

// sourceParamNames are the URL parameters that filter _source.
var sourceParamNames = []string{"_source", "_source_includes", "_source_excludes"}

// readDocParams are the query parameters of the document read routes.
var readDocParams = concat(sourceParamNames, []string{"realtime", "refresh", "routing", "preference"})

// sourceParams turns _source, _source_includes and _source_excludes into
// a _source spec; nil means the whole source.
func sourceParams(c *fiber.Ctx) json.RawMessage {
	split := func(v string) []string {
		if v == "" {
			return nil
		}
		return strings.Split(v, ",")
	}
	inc, exc := split(c.Query("_source_includes")), split(c.Query("_source_excludes"))
	switch v := c.Query("_source"); {
	case v == "true" || v == "false":
		if inc == nil && exc == nil || v == "false" {
			return json.RawMessage(v)
		}
	case v != "":
		inc = append(split(v), inc...)
	}
	if inc == nil && exc == nil {
		return nil
	}
	return index.SourceSpec(inc, exc)
}

// handleGetSource answers GET /{index}/_source/{id} with the bare source.
func (s *Server) handleGetSource(c *fiber.Ctx) error {
	sc := scopeOf(c)
	logical, id, err := docRequest(c, readDocParams...)
	if err != nil {
		return err
	}
	doc, err := sc.view.Get(c.UserContext(), logical, id)
	if err != nil {
		return err
	}
	src, include, err := index.FilterSource(doc.Source, sourceParams(c))
	if err != nil {
		return err
	}
	if !include {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: source is disabled;")
	}
	var b jsonBuf
	b.source(src)
	return sendJSON(c, fiber.StatusOK, &b)
}

// handleDeleteDoc answers DELETE /{index}/_doc/{id}.
func (s *Server) handleDeleteDoc(c *fiber.Ctx) error {
	logical, id, err := docRequest(c, writeParams...)
	if err != nil {
		return err
	}
	op, err := withConditions(c, index.Op{Type: index.OpDelete, ID: id})
	if err != nil {
		return err
	}
	sc := scopeOf(c)
	res, err := sc.view.Apply(c.UserContext(), logical, []index.Op{op})
	if err != nil {
		return err
	}
	r := res[0]
	if r.Err != nil && r.Status != fiber.StatusNotFound {
		return r.Err
	}
	var b jsonBuf
	writeResult(&b, logical, r)
	return sendJSON(c, r.Status, &b)
}

// handleUpdateDoc answers POST /{index}/_update/{id} with a partial
// document ("doc"), optionally "doc_as_upsert" or "upsert".
func (s *Server) handleUpdateDoc(c *fiber.Ctx) error {
	logical, id, err := docRequest(c, concat(writeParams, []string{"retry_on_conflict", "_source"})...)
	if err != nil {
		return err
	}
	op, err := parseUpdate(c.Body())
	if err != nil {
		return err
	}
	op.ID = id
	if op, err = withConditions(c, op); err != nil {
		return err
	}
	return s.applyOne(c, logical, op)
}

// parseUpdate parses an update body: {"doc": {...}, "doc_as_upsert":
// bool, "upsert": {...}, "detect_noop": bool}. Scripts are refused.
func parseUpdate(body []byte) (index.Op, error) {
	op := index.Op{Type: index.OpUpdate}
	m, err := decodeObject(body, "the update request")
	if err != nil {
		return op, err
	}
	for k, v := range m {
		switch k {
		case "doc":
			src, err := validSource(v)
			if err != nil {
				return op, err
			}
			op.Source = src
		case "upsert":
			src, err := validSource(v)
			if err != nil {
				return op, err
			}
			op.Upsert = src
		case "doc_as_upsert":
			if err := json.Unmarshal(v, &op.DocAsUpsert); err != nil {
				return op, badRequest("parse_exception", "[doc_as_upsert] must be a boolean")
			}
		case "detect_noop", "_source":
		case "script", "scripted_upsert":
			return op, badRequest("illegal_argument_exception", "scripted updates are not supported by tenantgate; send a partial document in [doc]")
		default:
			return op, badRequest("parse_exception", "unknown field [%s] in the update request", k)
		}
	}
	if op.Source == nil {
		return op, badRequest("action_request_validation_exception", "Validation Failed: 1: script or doc is missing;")
	}
	return op, nil
}

// deleteByQueryBatch is how many matching documents one round deletes.
const deleteByQueryBatch = 1000

// handleDeleteByQuery answers POST /{index}/_delete_by_query: it deletes
// every document matching the query, in batches, and reports counts as
// OpenSearch does. It is not atomic: a failure midway leaves the
// documents of earlier batches deleted, and the response says how many.
func (s *Server) handleDeleteByQuery(c *fiber.Ctx) error {
	if err := checkParams(c, concat([]string{"refresh", "conflicts", "q", "wait_for_completion", "slices", "scroll_size"}, queryStringParams, expandParams)...); err != nil {
		return err
	}
	// Deletion runs in this request, in batches of deleteByQueryBatch;
	// the options that ask for something else are refused, not ignored.
	if v := c.Query("wait_for_completion"); v != "" && v != "true" {
		return badRequest("illegal_argument_exception", "wait_for_completion=false (a background task) is not supported by tenantgate")
	}
	if v := c.Query("slices"); v != "" && v != "1" && v != "auto" {
		return badRequest("illegal_argument_exception", "[slices] must be 1 or auto: tenantgate deletes in one slice")
	}
	switch c.Query("conflicts") {
	case "", "abort", "proceed":
	default:
		return badRequest("illegal_argument_exception", "[conflicts] must be abort or proceed")
	}
	batch := deleteByQueryBatch
	if v := c.Query("scroll_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > s.cfg.Limits.MaxResultWindow {
			return badRequest("illegal_argument_exception", "[scroll_size] must be between 1 and %d", s.cfg.Limits.MaxResultWindow)
		}
		batch = n
	}
	start := time.Now()
	sc := scopeOf(c)
	expr, err := param(c, "index")
	if err != nil {
		return err
	}
	body, err := decodeObject(c.Body(), "the delete by query request")
	if err != nil {
		return err
	}
	for k := range body {
		if k != "query" {
			return badRequest("parsing_exception", "unknown key [%s] in the delete by query request", k)
		}
	}
	req := &index.SearchRequest{Query: body["query"]}
	if err := applySearchParams(c, req); err != nil {
		return err
	}
	o, err := expandOptions(queryArg(c))
	if err != nil {
		return err
	}
	entries, err := sc.view.ExpandWith(expr, o)
	if err != nil {
		return err
	}
	if req.Query == nil {
		return badRequest("action_request_validation_exception", "Validation Failed: 1: query is missing;")
	}
	req.Size, req.Source, req.TrackTotalHits = batch, json.RawMessage("false"), json.RawMessage("true")
	var total, deleted, batches int64
	var failures []index.OpResult
	failuresLogical := map[string]string{}
	first := true
	for {
		res, err := sc.view.SearchEntries(c.UserContext(), entries, req)
		if err != nil {
			return err
		}
		if first {
			total, first = res.Total, false
		}
		if len(res.Hits) == 0 {
			break
		}
		byIndex := map[string][]index.Op{}
		for _, h := range res.Hits {
			byIndex[h.Index] = append(byIndex[h.Index], index.Op{Type: index.OpDelete, ID: h.ID})
		}
		var round int64
		for name, ops := range byIndex {
			results, err := sc.view.Apply(c.UserContext(), name, ops)
			if err != nil {
				return err
			}
			for _, r := range results {
				switch {
				case r.Err == nil && r.Result == "deleted":
					round++
				case r.Err != nil:
					failures = append(failures, r)
					failuresLogical[r.ID] = name
				}
			}
		}
		batches++
		deleted += round
		if round == 0 {
			break // nothing deletable left among the matches
		}
	}
	var b jsonBuf
	b.raw(`{"took":`).val(time.Since(start).Milliseconds()).raw(`,"timed_out":false,"total":`).val(total).
		raw(`,"deleted":`).val(deleted).raw(`,"batches":`).val(batches).
		raw(`,"version_conflicts":0,"noops":0,"retries":{"bulk":0,"search":0},"throttled_millis":0,"requests_per_second":-1.0,"throttled_until_millis":0,"failures":[`)
	for i, f := range failures {
		if i > 0 {
			b.raw(",")
		}
		status, typ, reason, _ := classify(f.Err)
		b.raw(`{"index":`).val(failuresLogical[f.ID]).raw(`,"id":`).val(f.ID).raw(`,"status":`).val(status).
			raw(`,"cause":{"type":`).val(typ).raw(`,"reason":`).val(reason).raw(`}}`)
	}
	b.raw("]}")
	return sendJSON(c, fiber.StatusOK, &b)
}
