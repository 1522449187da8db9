package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/policy"
)

// Kestra's executions and logs API, below /api/v1/{tenant}: executions are
// created, waited on and killed through the worker's runner, and read,
// searched, deleted and purged through the tenant's executions.Store.
// The namespace acted on is checked with kestraScope.Allow once it is
// known (for an execution, from the stored execution: one the caller may
// not read in its namespace is a 404, as if it did not exist); searches
// and purges are limited to the namespaces the caller may act on.

// executionWaitLimit bounds how long POST /executions/…?wait=true holds
// the request; past it the execution is returned as it stands.
const executionWaitLimit = 10 * time.Minute

// namespaceParam is the route constraint of a namespace in a path, so
// POST /executions/{namespace}/{flowId} never takes
// /executions/{id}/kill: execution ids never read as a namespace
// (executions.ValidID).
const namespaceParam = `:namespace<regex(^[a-z0-9][a-z0-9._-]*$)>`

// executionRoutes registers the executions and logs API.
func (s *Server) executionRoutes() {
	s.kestra(fiber.MethodGet, "/executions/search", policy.ResExecution, policy.VerbRead, s.handleSearchExecutions)
	s.kestra(fiber.MethodPost, "/executions/purge", policy.ResExecution, policy.VerbDelete, s.handlePurgeExecutions)
	s.kestra(fiber.MethodPost, "/executions/"+namespaceParam+"/:flowId", policy.ResExecution, policy.VerbCreate, s.handleCreateExecution)
	s.kestra(fiber.MethodPost, "/executions/:id/kill", policy.ResExecution, policy.VerbKill, s.handleKillExecution)
	// Kestra's own method for a kill is DELETE.
	s.kestra(fiber.MethodDelete, "/executions/:id/kill", policy.ResExecution, policy.VerbKill, s.handleKillExecution)
	s.kestra(fiber.MethodGet, "/executions/:id", policy.ResExecution, policy.VerbRead, s.handleGetExecution)
	s.kestra(fiber.MethodDelete, "/executions/:id", policy.ResExecution, policy.VerbDelete, s.handleDeleteExecution)
	s.kestra(fiber.MethodGet, "/logs/search", policy.ResLog, policy.VerbRead, s.handleSearchLogs)
	s.kestra(fiber.MethodPost, "/logs/purge", policy.ResLog, policy.VerbDelete, s.handlePurgeLogs)
	s.kestra(fiber.MethodGet, "/logs/:executionId", policy.ResLog, policy.VerbRead, s.handleExecutionLogs)
}

// executionStore is the executions store of the request's tenant.
func (s *Server) executionStore(k *kestraScope) *executions.Store {
	return executions.NewStore(k.view, s.now)
}

// tenantWide reports whether the caller may do verb on every namespace
// of the tenant (tenant write, or tenant read for a read).
func (k *kestraScope) tenantWide(verb policy.Verb) bool {
	return k.write || (k.read && verb.Reads())
}

// permitted returns the namespaces of the tenant's executions (or logs)
// where the caller may do verb on res, for a store filter; nil when the
// caller may act on every namespace.
func permitted(ctx context.Context, k *kestraScope, st *executions.Store, logs bool, res policy.Resource, verb policy.Verb) ([]string, error) {
	if k.tenantWide(verb) {
		return nil, nil
	}
	all, err := st.Namespaces(ctx, logs)
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, ns := range all {
		if k.Can(res, verb, ns) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// readExecution reads the execution named by the :id parameter and
// checks that the caller may do verb on it. One the caller may not even
// read is not found.
func (s *Server) readExecution(c *fiber.Ctx, verb policy.Verb) (*executions.Execution, error) {
	id, err := param(c, "id")
	if err != nil {
		return nil, err
	}
	k := kestraOf(c)
	e, err := s.executionStore(k).Get(c.UserContext(), id)
	if err != nil {
		return nil, err
	}
	if !k.Can(policy.ResExecution, policy.VerbRead, e.Namespace) && !k.Can(policy.ResExecution, verb, e.Namespace) {
		return nil, fmt.Errorf("%w: %s", executions.ErrNotFound, id)
	}
	if err := k.Allow(policy.ResExecution, verb, e.Namespace); err != nil {
		return nil, err
	}
	return e, nil
}

// execRecord records a change to executions or logs in the audit trail.
func (s *Server) execRecord(c *fiber.Ctx, action, target string, status int, after any) {
	k := kestraOf(c)
	rec := audit.Record{Actor: k.caller.principal.Name, ActorRoles: k.caller.roles.Names(), Tenant: k.tenant.Name(),
		Action: action, Target: target, Outcome: audit.OutcomeSuccess, Status: status, ClientIP: c.IP(), RequestID: requestID(c)}
	if after != nil {
		if raw, err := json.Marshal(after); err == nil {
			rec.After = raw
		}
	}
	s.trail.Record(rec)
}

// handleCreateExecution answers POST /executions/{namespace}/{flowId}:
// inputs as a JSON object or as multipart/form-data (or url-encoded)
// fields, labels as repeated labels=key:value, wait=true to answer when
// the execution has ended. 200 with the execution; 404 for a missing
// flow, 409 for a disabled one, 400 for bad inputs.
func (s *Server) handleCreateExecution(c *fiber.Ctx) error {
	if err := checkParams(c, "labels", "wait"); err != nil {
		return err
	}
	namespace, err := param(c, "namespace")
	if err != nil {
		return err
	}
	flowID, err := param(c, "flowId")
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResExecution, policy.VerbCreate, namespace); err != nil {
		return err
	}
	labels, err := executions.ParseLabels(queryList(c, "labels", false))
	if err != nil {
		return err
	}
	wait, err := queryBool(c, "wait")
	if err != nil {
		return err
	}
	inputs, err := executionInputs(c)
	if err != nil {
		return err
	}
	r, err := s.workerRunner()
	if err != nil {
		return err
	}
	e, err := r.Create(c.UserContext(), k.tenant, namespace, flowID, inputs, labels)
	if err != nil {
		return err
	}
	if wait {
		ctx, cancel := context.WithTimeout(c.UserContext(), executionWaitLimit)
		defer cancel()
		done, err := r.Wait(ctx, k.tenant, e.ID)
		if err != nil && !(errors.Is(err, context.DeadlineExceeded) && done != nil) {
			return err
		}
		e = done
	}
	return c.JSON(e)
}

// executionInputs reads the inputs of a new execution from the body: a
// JSON object, form fields (a field given twice is a list), or nothing.
// Files are refused: there is no file storage.
func executionInputs(c *fiber.Ctx) (map[string]any, error) {
	inputs := map[string]any{}
	body := c.Body()
	ct := c.Get(fiber.HeaderContentType)
	media, _, _ := mime.ParseMediaType(ct)
	switch {
	case media == fiber.MIMEMultipartForm:
		form, err := c.MultipartForm()
		if err != nil {
			return nil, badRequest("illegal_argument_exception", "the multipart body cannot be read")
		}
		if len(form.File) > 0 {
			return nil, badRequest("illegal_argument_exception", "FILE inputs are not supported: there is no file storage")
		}
		for k, vs := range form.Value {
			inputs[strings.Clone(k)] = formValue(vs)
		}
	case media == fiber.MIMEApplicationForm:
		multi := map[string][]string{}
		c.Request().PostArgs().VisitAll(func(k, v []byte) { multi[string(k)] = append(multi[string(k)], string(v)) })
		for k, vs := range multi {
			inputs[k] = formValue(vs)
		}
	case len(strings.TrimSpace(string(body))) == 0:
	case media == "" || media == fiber.MIMEApplicationJSON || strings.HasSuffix(media, "+json"):
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return nil, badRequest("illegal_argument_exception", "the inputs must be a JSON object: %s", jsonErrorText(err))
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, badRequest("illegal_argument_exception", "the inputs must be a JSON object of input ids to values")
		}
		inputs = m
	default:
		return nil, &Error{Status: fiber.StatusUnsupportedMediaType, Type: "illegal_argument_exception",
			Reason: "inputs are sent as application/json, multipart/form-data or application/x-www-form-urlencoded"}
	}
	return inputs, nil
}

// formValue is one form field's value: a string, or a list of strings
// when the field was sent several times.
func formValue(vs []string) any {
	if len(vs) == 1 {
		return strings.Clone(vs[0])
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		out[i] = strings.Clone(v)
	}
	return out
}

// jsonErrorText describes a JSON syntax error without quoting the body.
func jsonErrorText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	return "invalid JSON"
}

// handleGetExecution answers GET /executions/{id} with the execution.
func (s *Server) handleGetExecution(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	e, err := s.readExecution(c, policy.VerbRead)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

// handleKillExecution answers POST (and Kestra's DELETE)
// /executions/{id}/kill: 202 with the
// execution on its way to KILLED, 409 when it has already ended.
func (s *Server) handleKillExecution(c *fiber.Ctx) error {
	// isOnKillCascade is Kestra's (kill subflow executions too); there
	// are no subflows here, so it changes nothing.
	if err := checkParams(c, "isOnKillCascade"); err != nil {
		return err
	}
	e, err := s.readExecution(c, policy.VerbKill)
	if err != nil {
		return err
	}
	if e.State.Current.Terminal() {
		return fmt.Errorf("%w: %w: execution %s is %s", executions.ErrTransition, executions.ErrTerminal, e.ID, e.State.Current)
	}
	r, err := s.workerRunner()
	if err != nil {
		return err
	}
	k := kestraOf(c)
	killed, err := r.Kill(c.UserContext(), k.tenant, e.ID)
	if err != nil {
		return err
	}
	s.execRecord(c, "execution.kill", "execution:"+e.ID, fiber.StatusAccepted,
		map[string]any{"namespace": e.Namespace, "flowId": e.FlowID, "state": killed.State.Current})
	return c.Status(fiber.StatusAccepted).JSON(killed)
}

// handleDeleteExecution answers DELETE /executions/{id}: 204, the
// execution and its logs gone. An execution still running is killed
// first.
func (s *Server) handleDeleteExecution(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	e, err := s.readExecution(c, policy.VerbDelete)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if !e.State.Current.Terminal() && s.runner != nil {
		if _, err := s.runner.Kill(c.UserContext(), k.tenant, e.ID); err != nil && !errors.Is(err, executions.ErrTerminal) {
			return err
		}
	}
	if err := s.executionStore(k).Delete(c.UserContext(), e.ID); err != nil {
		return err
	}
	s.execRecord(c, "execution.delete", "execution:"+e.ID, fiber.StatusNoContent,
		map[string]any{"namespace": e.Namespace, "flowId": e.FlowID, "state": e.State.Current})
	return c.SendStatus(fiber.StatusNoContent)
}

// pagedResults is Kestra's PagedResults.
type pagedResults[T any] struct {
	Results []T   `json:"results"`
	Total   int64 `json:"total"`
}

// queryDate reads an ISO-8601 date-time (or date) query parameter.
func queryDate(c *fiber.Ctx, name string) (*time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	t, err := parseDate(v)
	if err != nil {
		return nil, badRequest("illegal_argument_exception", "parameter [%s] must be an ISO-8601 date such as 2024-01-31T12:00:00Z, not [%s]", name, v)
	}
	return &t, nil
}

func parseDate(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), nil
	}
	return time.Parse(time.DateOnly, v)
}

// paging reads page (from 1) and size (10 by default, at most
// maxPageSize).
func paging(c *fiber.Ctx) (page, size int, err error) {
	if page, err = queryInt(c, "page", 1); err != nil {
		return 0, 0, err
	}
	if size, err = queryInt(c, "size", executions.DefaultSize); err != nil {
		return 0, 0, err
	}
	if size > maxPageSize {
		return 0, 0, badRequest("illegal_argument_exception", "parameter [size] must be at most %d, not [%d]", maxPageSize, size)
	}
	return page, size, nil
}

// handleSearchExecutions answers GET /executions/search?namespace=&flowId=
// &state=&startDate=&endDate=&labels=k:v&q=&page=&size=&sort=state.startDate:desc
// with {"results": [...], "total": N}, counting only executions in
// namespaces the caller may read.
func (s *Server) handleSearchExecutions(c *fiber.Ctx) error {
	if err := checkParams(c, "namespace", "flowId", "state", "startDate", "endDate", "labels", "q", "page", "size", "sort"); err != nil {
		return err
	}
	q := executions.Query{Namespace: c.Query("namespace"), FlowID: c.Query("flowId"), Q: c.Query("q"),
		Labels: queryList(c, "labels", false), Sort: queryList(c, "sort", true)}
	for _, name := range queryList(c, "state", true) {
		st, err := executions.ParseState(name)
		if err != nil {
			return err
		}
		q.States = append(q.States, st)
	}
	var err error
	if q.StartDate, err = queryDate(c, "startDate"); err != nil {
		return err
	}
	if q.EndDate, err = queryDate(c, "endDate"); err != nil {
		return err
	}
	if q.Page, q.Size, err = paging(c); err != nil {
		return err
	}
	k := kestraOf(c)
	st := s.executionStore(k)
	if q.Namespaces, err = permitted(c.UserContext(), k, st, false, policy.ResExecution, policy.VerbRead); err != nil {
		return err
	}
	list, total, err := st.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(pagedResults[executions.Execution]{Results: list, Total: total})
}

// logLevel reads the minimum level from minLevel (Kestra's name) or
// level.
func logLevel(c *fiber.Ctx) (executions.Level, error) {
	v := c.Query("minLevel")
	if v == "" {
		v = c.Query("level")
	}
	if v == "" {
		return "", nil
	}
	return executions.ParseLevel(v)
}

// handleSearchLogs answers GET /logs/search?namespace=&flowId=&executionId=
// &minLevel=&q=&startDate=&endDate=&page=&size=&sort= with
// {"results": [...], "total": N}, counting only lines in namespaces the
// caller may read logs of.
func (s *Server) handleSearchLogs(c *fiber.Ctx) error {
	if err := checkParams(c, "namespace", "flowId", "executionId", "taskId", "minLevel", "level", "q", "startDate", "endDate", "page", "size", "sort"); err != nil {
		return err
	}
	q := executions.LogQuery{Namespace: c.Query("namespace"), FlowID: c.Query("flowId"), ExecutionID: c.Query("executionId"),
		TaskID: c.Query("taskId"), Q: c.Query("q"), Sort: queryList(c, "sort", true)}
	var err error
	if q.MinLevel, err = logLevel(c); err != nil {
		return err
	}
	if q.StartDate, err = queryDate(c, "startDate"); err != nil {
		return err
	}
	if q.EndDate, err = queryDate(c, "endDate"); err != nil {
		return err
	}
	if q.Page, q.Size, err = paging(c); err != nil {
		return err
	}
	k := kestraOf(c)
	st := s.executionStore(k)
	if q.Namespaces, err = permitted(c.UserContext(), k, st, true, policy.ResLog, policy.VerbRead); err != nil {
		return err
	}
	list, total, err := st.SearchLogs(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(pagedResults[executions.LogEntry]{Results: list, Total: total})
}

// handleExecutionLogs answers GET /logs/{executionId}?minLevel=&taskId=
// &taskRunId= with the execution's log lines, oldest first (only those
// in namespaces the caller may read logs of; none for an unknown id).
func (s *Server) handleExecutionLogs(c *fiber.Ctx) error {
	if err := checkParams(c, "minLevel", "level", "taskId", "taskRunId"); err != nil {
		return err
	}
	id, err := param(c, "executionId")
	if err != nil {
		return err
	}
	q := executions.LogQuery{TaskID: c.Query("taskId"), TaskRunID: c.Query("taskRunId")}
	if q.MinLevel, err = logLevel(c); err != nil {
		return err
	}
	k := kestraOf(c)
	st := s.executionStore(k)
	if q.Namespaces, err = permitted(c.UserContext(), k, st, true, policy.ResLog, policy.VerbRead); err != nil {
		return err
	}
	list, err := st.Logs(c.UserContext(), id, q)
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// purgeParams are the parameters of both purges, from the query string
// or a JSON body (Kestra's names; the query string wins).
type purgeParams struct {
	Namespace string   `json:"namespace"`
	FlowID    string   `json:"flowId"`
	StartDate string   `json:"startDate"`
	EndDate   string   `json:"endDate"`
	States    []string `json:"states"`
	Levels    []string `json:"levels"`
	PurgeLog  *bool    `json:"purgeLog"`
}

// purgeQuery reads the purge parameters; endDate is required.
func purgeQuery(c *fiber.Ctx, logs bool) (executions.PurgeQuery, error) {
	var p purgeParams
	var q executions.PurgeQuery
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(c.Body())))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return q, badRequest("illegal_argument_exception", "the purge body must be a JSON object of namespace, flowId, startDate, endDate, states, levels, purgeLog")
		}
	}
	for name, dst := range map[string]*string{"namespace": &p.Namespace, "flowId": &p.FlowID, "startDate": &p.StartDate, "endDate": &p.EndDate} {
		if v := c.Query(name); v != "" {
			*dst = strings.Clone(v)
		}
	}
	if v := queryList(c, "states", true); len(v) > 0 {
		p.States = v
	} else if v := queryList(c, "state", true); len(v) > 0 {
		p.States = v
	}
	if v := queryList(c, "levels", true); len(v) > 0 {
		p.Levels = v
	} else if v := queryList(c, "level", true); len(v) > 0 {
		p.Levels = v
	}
	if c.Query("purgeLog") != "" {
		b, err := queryBool(c, "purgeLog")
		if err != nil {
			return q, err
		}
		p.PurgeLog = &b
	}
	q.Namespace, q.FlowID = p.Namespace, p.FlowID
	if p.EndDate == "" {
		return q, badRequest("illegal_argument_exception", "endDate is required: everything that ended before it is purged")
	}
	end, err := parseDate(p.EndDate)
	if err != nil {
		return q, badRequest("illegal_argument_exception", "endDate must be an ISO-8601 date such as 2024-01-31T12:00:00Z, not [%s]", p.EndDate)
	}
	q.EndDate = end
	if p.StartDate != "" {
		start, err := parseDate(p.StartDate)
		if err != nil {
			return q, badRequest("illegal_argument_exception", "startDate must be an ISO-8601 date such as 2024-01-31T12:00:00Z, not [%s]", p.StartDate)
		}
		q.StartDate = &start
	}
	for _, name := range p.States {
		st, err := executions.ParseState(name)
		if err != nil {
			return q, err
		}
		q.States = append(q.States, st)
	}
	for _, name := range p.Levels {
		l, err := executions.ParseLevel(name)
		if err != nil {
			return q, err
		}
		q.Levels = append(q.Levels, l)
	}
	q.Logs = p.PurgeLog == nil || *p.PurgeLog
	if logs && (len(q.States) > 0 || p.PurgeLog != nil) {
		return q, badRequest("illegal_argument_exception", "a logs purge takes namespace, flowId, startDate, endDate and levels")
	}
	if !logs && len(q.Levels) > 0 {
		return q, badRequest("illegal_argument_exception", "an executions purge takes namespace, flowId, startDate, endDate, states and purgeLog")
	}
	return q, nil
}

var purgeParamNames = []string{"namespace", "flowId", "startDate", "endDate", "states", "state", "levels", "level", "purgeLog"}

// purgeScope checks the caller may do verb on res in the purge's
// namespace, and limits the purge to the namespaces they may act on.
func purgeScope(c *fiber.Ctx, st *executions.Store, q *executions.PurgeQuery, logs bool, res policy.Resource, verb policy.Verb) error {
	k := kestraOf(c)
	if q.Namespace != "" {
		if err := k.Allow(res, verb, q.Namespace); err != nil {
			return err
		}
	}
	var err error
	q.Namespaces, err = permitted(c.UserContext(), k, st, logs, res, verb)
	return err
}

// handlePurgeExecutions answers POST /executions/purge (namespace,
// flowId, startDate, endDate required, states, purgeLog: true by
// default) with {"count": executions, "logsCount": log lines}. Only
// finished executions are purged, in batches; the audit trail stays
// (and records the purge).
func (s *Server) handlePurgeExecutions(c *fiber.Ctx) error {
	if err := checkParams(c, purgeParamNames...); err != nil {
		return err
	}
	q, err := purgeQuery(c, false)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	st := s.executionStore(k)
	if err := purgeScope(c, st, &q, false, policy.ResExecution, policy.VerbDelete); err != nil {
		return err
	}
	if q.Logs {
		// Removing an execution's logs needs LOG delete as well: a
		// namespace where the caller may not delete logs is left alone.
		if q.Namespace != "" {
			if err := k.Allow(policy.ResLog, policy.VerbDelete, q.Namespace); err != nil {
				return err
			}
		}
		if q.Namespaces != nil {
			q.Namespaces = slices.DeleteFunc(q.Namespaces, func(ns string) bool { return !k.Can(policy.ResLog, policy.VerbDelete, ns) })
		}
	}
	res, err := st.PurgeExecutions(c.UserContext(), q)
	out := fiber.Map{"count": res.Executions, "logsCount": res.Logs}
	if res.Executions > 0 || res.Logs > 0 {
		s.execRecord(c, "executions.purge", "executions", fiber.StatusOK, out)
	}
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// handlePurgeLogs answers POST /logs/purge (namespace, flowId,
// startDate, endDate required, levels) with {"count": log lines}.
func (s *Server) handlePurgeLogs(c *fiber.Ctx) error {
	if err := checkParams(c, purgeParamNames...); err != nil {
		return err
	}
	q, err := purgeQuery(c, true)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	st := s.executionStore(k)
	if err := purgeScope(c, st, &q, true, policy.ResLog, policy.VerbDelete); err != nil {
		return err
	}
	n, err := st.PurgeLogs(c.UserContext(), q)
	out := fiber.Map{"count": n}
	if n > 0 {
		s.execRecord(c, "logs.purge", "logs", fiber.StatusOK, out)
	}
	if err != nil {
		return err
	}
	return c.JSON(out)
}
