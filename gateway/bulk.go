package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
)

// bulkItem is one parsed action of a bulk request.
type bulkItem struct {
	line  int // 1-based line of the action
	index string
	op    index.Op
	// err is set when the item is refused before it reaches an index.
	err error
}

// bulkMetaKeys are the action/metadata keys accepted. Everything else
// refuses the request, naming the line, rather than being ignored.
var bulkMetaKeys = map[string]bool{"_index": true, "_id": true, "routing": true, "require_alias": true, "retry_on_conflict": true, "if_seq_no": true, "if_primary_term": true}

// parseBulk parses NDJSON into items. A malformed line refuses the whole
// request with a 400 naming the line, before anything is written.
func parseBulk(body []byte, defaultIndex string) ([]bulkItem, error) {
	var items []bulkItem
	lines := bytes.Split(body, []byte("\n"))
	for i := 0; i < len(lines); i++ {
		line := bytes.TrimSpace(lines[i])
		if len(line) == 0 {
			continue
		}
		n := i + 1
		var action map[string]map[string]json.RawMessage
		if err := json.Unmarshal(line, &action); err != nil || len(action) != 1 {
			return nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d], expected a JSON object with a single action (index, create, update or delete): %s", n, jsonReasonOrCount(err, len(action)))
		}
		var it bulkItem
		it.line = n
		var name string
		var meta map[string]json.RawMessage
		for name, meta = range action {
		}
		switch name {
		case "index":
			it.op.Type = index.OpIndex
		case "create":
			it.op.Type = index.OpCreate
		case "update":
			it.op.Type = index.OpUpdate
		case "delete":
			it.op.Type = index.OpDelete
		default:
			return nil, badRequest("illegal_argument_exception", "Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", n, name)
		}
		it.index = defaultIndex
		var seqRaw, termRaw string
		_, idGiven := meta["_id"]
		for k, v := range meta {
			if !bulkMetaKeys[k] {
				return nil, badRequest("illegal_argument_exception", "Action/metadata line [%d] contains an unknown or unsupported parameter [%s]", n, k)
			}
			switch k {
			case "_index":
				if err := json.Unmarshal(v, &it.index); err != nil {
					return nil, badRequest("illegal_argument_exception", "Action/metadata line [%d]: [_index] must be a string", n)
				}
			case "_id":
				if err := json.Unmarshal(v, &it.op.ID); err != nil {
					return nil, badRequest("illegal_argument_exception", "Action/metadata line [%d]: [_id] must be a string", n)
				}
			case "if_seq_no":
				seqRaw = string(v)
			case "if_primary_term":
				termRaw = string(v)
			}
		}
		seq, term, err := conditions(seqRaw, termRaw)
		if err != nil {
			return nil, badRequest("illegal_argument_exception", "Action/metadata line [%d]: %s", n, err.Error())
		}
		if seq != nil && it.op.Type == index.OpCreate {
			return nil, badRequest("illegal_argument_exception", "Action/metadata line [%d]: create operations do not support compare and set", n)
		}
		if it.index == "" {
			return nil, badRequest("action_request_validation_exception", "Validation Failed: 1: index is missing for the action on line [%d];", n)
		}
		if (it.op.Type == index.OpUpdate || it.op.Type == index.OpDelete) && it.op.ID == "" {
			return nil, badRequest("action_request_validation_exception", "Validation Failed: 1: id is missing for the %s on line [%d];", name, n)
		}
		if it.op.Type != index.OpDelete {
			// The next line is the document (or update body).
			i++
			for i < len(lines) && len(bytes.TrimSpace(lines[i])) == 0 {
				i++
			}
			if i >= len(lines) {
				return nil, badRequest("illegal_argument_exception", "The bulk request must be terminated by a newline: the %s on line [%d] has no source line", name, n)
			}
			src := bytes.TrimSpace(lines[i])
			if !json.Valid(src) {
				var v any
				return nil, badRequest("illegal_argument_exception", "Malformed source line [%d]: %s", i+1, index.JSONErrorText(json.Unmarshal(src, &v)))
			}
			if it.op.Type == index.OpUpdate {
				op, err := parseUpdate(src)
				if err != nil {
					it.err = err
				} else {
					op.ID = it.op.ID
					it.op = op
				}
			} else if src[0] != '{' {
				it.err = badRequest("mapper_parsing_exception", "failed to parse: the document on line [%d] is not a JSON object", i+1)
			} else if !utf8.Valid(src) {
				it.err = badRequest("mapper_parsing_exception", "failed to parse: the document on line [%d] is not valid UTF-8", i+1)
			} else {
				it.op.Source = append(json.RawMessage(nil), src...)
			}
		}
		it.op.IfSeqNo, it.op.IfPrimaryTerm = seq, term
		if it.err == nil {
			it.err = checkID(it.op.ID, idGiven)
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, badRequest("action_request_validation_exception", "Validation Failed: 1: no requests added;")
	}
	return items, nil
}

// handleBulk answers POST /_bulk and /{index}/_bulk.
func (s *Server) handleBulk(c *fiber.Ctx) error {
	if err := checkParams(c, "refresh", "routing", "wait_for_active_shards", "require_alias", "_source"); err != nil {
		return err
	}
	start := time.Now()
	sc := scopeOf(c)
	def, err := param(c, "index")
	if err != nil {
		return err
	}
	items, err := parseBulk(c.Body(), def)
	if err != nil {
		return err
	}
	if sc.only.perItem {
		s.checkItems(c, sc, items)
	}
	results := make([]index.OpResult, len(items))
	// Group items by index, keeping their order within each index: one
	// Apply (one durable batch) per index.
	groups := map[string][]int{}
	var order []string
	for i, it := range items {
		if it.err != nil {
			continue
		}
		if _, ok := groups[it.index]; !ok {
			order = append(order, it.index)
		}
		groups[it.index] = append(groups[it.index], i)
	}
	for _, name := range order {
		idxs := groups[name]
		ops := make([]index.Op, len(idxs))
		for j, i := range idxs {
			ops[j] = items[i].op
		}
		res, err := sc.view.Apply(c.UserContext(), name, ops)
		if err != nil {
			// Earlier groups are already on disk: report this failure on
			// its own items rather than failing the whole request, so the
			// client can tell which items to retry.
			if !isClientError(err) {
				s.logItemError(c, name, err)
			}
			for _, i := range idxs {
				items[i].err = err
			}
			continue
		}
		for _, r := range res {
			if r.Err != nil && !isClientError(r.Err) {
				s.logItemError(c, name, fmt.Errorf("item %s: %w", r.ID, r.Err))
			}
		}
		for j, i := range idxs {
			results[i] = res[j]
		}
	}
	failed := false
	for i, it := range items {
		if it.err != nil {
			results[i] = index.OpResult{ID: it.op.ID, Err: it.err}
		}
		if results[i].Err != nil && results[i].Result != "not_found" {
			failed = true
		}
	}
	var b jsonBuf
	b.raw(`{"took":`).val(time.Since(start).Milliseconds()).raw(`,"errors":`).val(failed).raw(`,"items":[`)
	for i, it := range items {
		if i > 0 {
			b.raw(",")
		}
		r := results[i]
		b.raw(`{"`).raw(it.op.Type.String()).raw(`":{"_index":`).val(it.index).raw(`,"_id":`).val(r.ID)
		if r.Err != nil && r.Result != "not_found" {
			status, typ, reason, _ := classify(r.Err)
			b.raw(`,"status":`).val(status).raw(`,"error":{"type":`).val(typ).raw(`,"reason":`).val(reason).raw(`,"index":`).val(it.index).raw(`}}}`)
			continue
		}
		b.raw(`,"_version":`).val(r.Version).raw(`,"result":`).val(r.Result).raw(`,"_shards":` + shards + `,"_seq_no":`).val(r.SeqNo).
			raw(`,"_primary_term":1,"status":`).val(r.Status).raw(`}}`)
	}
	b.raw("]}")
	return sendJSON(c, fiber.StatusOK, &b)
}

// itemAction is what a bulk item does to its index, for index
// permissions, and OpenSearch's name of it for the refusal.
func itemAction(t index.OpType) (policy.IndexAction, string) {
	switch t {
	case index.OpDelete:
		return policy.IndexDelete, "indices:data/write/delete"
	case index.OpUpdate:
		return policy.IndexWrite, "indices:data/write/update"
	}
	return policy.IndexWrite, "indices:data/write/index"
}

// checkItems refuses, each with OpenSearch's 403 item error, the items of
// a bulk request that the caller's index permissions do not grant: the
// caller may not write the tenant (authorizeBulk), so every item needs
// IndexAllowed for its own index and action, and a write into an index
// that does not exist yet, which would create it, needs IndexManage too.
// The other items are applied. One audit record lists what was refused.
func (s *Server) checkItems(c *fiber.Ctx, sc *scope, items []bulkItem) {
	cl := sc.caller
	exists := map[string]bool{}
	var refused []string
	seen := map[string]bool{}
	for i := range items {
		it := &items[i]
		if it.err != nil {
			continue
		}
		act, name := itemAction(it.op.Type)
		ok := s.indexGranted(cl, sc.tenant, it.index, act)
		if ok && act == policy.IndexWrite && !s.indexGranted(cl, sc.tenant, it.index, policy.IndexManage) {
			there, known := exists[it.index]
			if !known {
				var err error
				if there, err = sc.view.Exists(c.UserContext(), it.index); err != nil {
					// An invalid name: Apply refuses the item with a 400.
					there = true
				}
				exists[it.index] = there
			}
			if !there {
				ok, name = false, "indices:admin/create"
			}
		}
		if ok {
			continue
		}
		it.err = &Error{Status: fiber.StatusForbidden, Type: "security_exception",
			Reason: fmt.Sprintf("no permissions for [%s] and User [name=%s] on index [%s] in tenant [%s]", name, cl.principal.Name, it.index, sc.tenant.Name())}
		if what := name + " " + it.index; !seen[what] {
			seen[what] = true
			refused = append(refused, what)
		}
	}
	if len(refused) > 0 {
		const most = 10
		reason := "bulk items refused by index permissions: " + strings.Join(refused[:min(len(refused), most)], ", ")
		if len(refused) > most {
			reason += fmt.Sprintf(" and %d more", len(refused)-most)
		}
		rec := s.authRecord(c, cl.principal.Name, audit.ActionAccessDenied, audit.OutcomeDenied, fiber.StatusForbidden, reason)
		rec.ActorRoles, rec.Tenant = cl.roles.Names(), sc.tenant.Name()
		s.trail.Record(rec)
	}
}

// logItemError logs a server-side failure of bulk items with the request
// id: the items answer 500 but the request as a whole succeeds.
func (s *Server) logItemError(c *fiber.Ctx, logical string, err error) {
	s.log.LogAttrs(c.UserContext(), slog.LevelError, "bulk item failed",
		slog.String("request_id", requestID(c)), slog.String("index", logical), slog.Any("err", err))
}

// isClientError reports whether err maps to a 4xx, so it belongs to the
// items rather than failing the whole request.
func isClientError(err error) bool {
	status, _, _, _ := classify(err)
	return status >= 400 && status < 500
}

func jsonReasonOrCount(err error, n int) string {
	if err != nil {
		return index.JSONErrorText(err)
	}
	return "found " + strconv.Itoa(n) + " actions"
}
