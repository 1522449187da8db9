package gateway

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/policy"
)

// Kestra's flows API, /api/v1/{tenant}/flows…, over the flows package.
// Handlers only translate: the rules (validation, revisions) are
// flows', the tenant and the route's permission are authorizeKestra's,
// and each handler asks kestraScope.Allow for the namespace it acts on
// (the one in the YAML for a create or an import) or filters listings
// with kestraScope.Can.

// flowRoutes registers the flows API. The fixed paths (search, validate,
// import, export) come before /flows/{namespace} so that they are never
// taken for namespaces.
func (s *Server) flowRoutes() {
	const res = policy.ResFlow
	s.kestra(fiber.MethodPost, "/flows", res, policy.VerbCreate, s.handleCreateFlow)
	s.kestra(fiber.MethodGet, "/flows/search", res, policy.VerbRead, s.handleSearchFlows)
	s.kestra(fiber.MethodPost, "/flows/validate", res, policy.VerbRead, s.handleValidateFlows)
	s.kestra(fiber.MethodPost, "/flows/import", res, policy.VerbCreate, s.handleImportFlows)
	s.kestra(fiber.MethodGet, "/flows/export", res, policy.VerbRead, s.handleExportFlows)
	s.kestra(fiber.MethodGet, "/flows/export/by-query", res, policy.VerbRead, s.handleExportFlows)
	s.kestra(fiber.MethodPost, "/flows/export/by-ids", res, policy.VerbRead, s.handleExportFlowsByIDs)
	s.kestra(fiber.MethodGet, "/flows/:namespace", res, policy.VerbRead, s.handleListFlows)
	s.kestra(fiber.MethodGet, "/flows/:namespace/:id", res, policy.VerbRead, s.handleGetFlow)
	s.kestra(fiber.MethodPut, "/flows/:namespace/:id", res, policy.VerbUpdate, s.handleUpdateFlow)
	s.kestra(fiber.MethodDelete, "/flows/:namespace/:id", res, policy.VerbDelete, s.handleDeleteFlow)
	s.kestra(fiber.MethodGet, "/flows/:namespace/:id/revisions", res, policy.VerbRead, s.handleFlowRevisions)
}

// flowView is a flow in Kestra's JSON shape (Flow, or FlowWithSource
// when Source is set). The keys Kestra knows without a field here
// (concurrency, outputs, retry, sla, …) are added by MarshalJSON.
type flowView struct {
	ID             string                `json:"id"`
	Namespace      string                `json:"namespace"`
	Revision       int                   `json:"revision"`
	Description    string                `json:"description,omitempty"`
	Labels         []flows.Label         `json:"labels,omitempty"`
	Inputs         []any                 `json:"inputs,omitempty"`
	Variables      any                   `json:"variables,omitempty"`
	Tasks          []any                 `json:"tasks"`
	Errors         []any                 `json:"errors,omitempty"`
	Finally        []any                 `json:"finally,omitempty"`
	AfterExecution []any                 `json:"afterExecution,omitempty"`
	Triggers       []any                 `json:"triggers,omitempty"`
	PluginDefaults []flows.PluginDefault `json:"pluginDefaults,omitempty"`
	Disabled       bool                  `json:"disabled"`
	Deleted        bool                  `json:"deleted"`
	Source         string                `json:"source,omitempty"`
	Updated        time.Time             `json:"updated"`
	extra          map[string]any
}

// MarshalJSON writes the view with its extra top-level keys.
func (v flowView) MarshalJSON() ([]byte, error) {
	type plain flowView
	raw, err := json.Marshal(plain(v))
	if err != nil || len(v.extra) == 0 {
		return raw, err
	}
	more, err := json.Marshal(v.extra)
	if err != nil {
		return nil, err
	}
	return append(append(raw[:len(raw)-1], ','), more[1:]...), nil
}

// viewOf is st's view, with its source when withSource.
func viewOf(st flows.Stored, withSource bool) flowView {
	v := flowView{ID: st.ID, Namespace: st.Namespace, Revision: st.Revision, Description: st.Description,
		Labels: st.Labels, Disabled: st.Disabled, Deleted: st.Deleted, Updated: st.Updated,
		Tasks: taskList(st.Tasks), Errors: taskList(st.Errors), Finally: taskList(st.Finally),
		AfterExecution: taskList(st.AfterExecution)}
	if v.Tasks == nil {
		v.Tasks = []any{}
	}
	for _, in := range st.Inputs {
		v.Inputs = append(v.Inputs, jsonSafe(in.Properties))
	}
	for _, tr := range st.Triggers {
		v.Triggers = append(v.Triggers, jsonSafe(tr.Properties))
	}
	if len(st.Variables) > 0 {
		v.Variables = jsonSafe(st.Variables)
	}
	for _, d := range st.PluginDefaults {
		if d.Values != nil {
			d.Values, _ = jsonSafe(d.Values).(map[string]any)
		}
		v.PluginDefaults = append(v.PluginDefaults, d)
	}
	if len(st.Extra) > 0 {
		v.extra, _ = jsonSafe(st.Extra).(map[string]any)
	}
	if withSource {
		v.Source = string(st.Source)
	}
	return v
}

func taskList(ts []flows.Task) []any {
	var out []any
	for _, t := range ts {
		out = append(out, jsonSafe(t.Properties))
	}
	return out
}

// jsonSafe turns what YAML decoded into values JSON can encode: maps
// with non-string keys get string keys, and the non-finite numbers YAML
// allows (.inf, .nan) become strings.
func jsonSafe(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonSafe(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonSafe(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonSafe(e)
		}
		return out
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return fmt.Sprint(x)
		}
	}
	return v
}

// flowSource returns the request body as a flow's YAML source (a copy:
// Fiber reuses the body's memory). A body Kestra would not take as
// YAML is a 415 that says what to send.
func flowSource(c *fiber.Ctx) ([]byte, error) {
	if ct := c.Get(fiber.HeaderContentType); ct != "" && !yamlType(ct) {
		return nil, &Error{Status: fiber.StatusUnsupportedMediaType, Type: "illegal_argument_exception",
			Reason: fmt.Sprintf("a flow is sent as YAML with Content-Type: application/x-yaml, not %s", ct)}
	}
	return bytes.Clone(c.Body()), nil
}

// yamlType reports whether the content type ct is one YAML is sent as.
func yamlType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch mt {
	case "application/x-yaml", "application/yaml", "text/yaml", "text/x-yaml", "application/yml", "text/plain":
		return true
	}
	return false
}

// flowPath reads {namespace} and {id} of a /flows/{namespace}/{id} route.
func flowPath(c *fiber.Ctx) (namespace, id string, err error) {
	if namespace, err = param(c, "namespace"); err != nil {
		return "", "", err
	}
	id, err = param(c, "id")
	return namespace, id, err
}

// queryBool reads a true/false query parameter, refusing anything else.
func queryBool(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badRequest("illegal_argument_exception", "parameter [%s] must be true or false, not [%s]", name, v)
	}
	return b, nil
}

// queryInt reads a positive integer query parameter, def when absent.
func queryInt(c *fiber.Ctx, name string, def int) (int, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest("illegal_argument_exception", "parameter [%s] must be a positive integer, not [%s]", name, v)
	}
	return n, nil
}

// queryList reads a repeated query parameter; with split, each value
// may also be a comma-separated list (sort=id:asc,namespace:desc).
func queryList(c *fiber.Ctx, name string, split bool) []string {
	var out []string
	for _, raw := range c.Context().QueryArgs().PeekMulti(name) {
		vals := []string{string(raw)}
		if split {
			vals = strings.Split(string(raw), ",")
		}
		for _, v := range vals {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
	}
	return out
}

// handleCreateFlow answers POST /flows with a YAML body: 200 with the
// created flow and its source, 409 when it exists, 422 when invalid.
func (s *Server) handleCreateFlow(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	src, err := flowSource(c)
	if err != nil {
		return err
	}
	f, err := flows.Parse(src)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResFlow, policy.VerbCreate, f.Namespace); err != nil {
		return err
	}
	st, err := s.flowStore(k).Create(c.UserContext(), src)
	if err != nil {
		return err
	}
	s.flowRecord(c, "flow.create", fiber.StatusOK, nil, st)
	return c.JSON(viewOf(*st, true))
}

// handleGetFlow answers GET /flows/{namespace}/{id}[?revision=N][&source=true].
func (s *Server) handleGetFlow(c *fiber.Ctx) error {
	if err := checkParams(c, "revision", "source", "allowDeleted"); err != nil {
		return err
	}
	ns, id, err := flowPath(c)
	if err != nil {
		return err
	}
	rev, err := queryInt(c, "revision", 0)
	if err != nil {
		return err
	}
	withSource, err := queryBool(c, "source")
	if err != nil {
		return err
	}
	allowDeleted, err := queryBool(c, "allowDeleted")
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResFlow, policy.VerbRead, ns); err != nil {
		return err
	}
	store := s.flowStore(k)
	st, err := store.Get(c.UserContext(), ns, id, rev)
	if err != nil && allowDeleted && rev == 0 {
		st, err = store.Latest(c.UserContext(), ns, id)
	}
	if err != nil {
		return err
	}
	return c.JSON(viewOf(*st, withSource))
}

// handleUpdateFlow answers PUT /flows/{namespace}/{id} with a YAML body:
// the flow at its new revision (the same one when the source is
// identical); 422 when invalid or when it names another id or namespace.
func (s *Server) handleUpdateFlow(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	ns, id, err := flowPath(c)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResFlow, policy.VerbUpdate, ns); err != nil {
		return err
	}
	src, err := flowSource(c)
	if err != nil {
		return err
	}
	store := s.flowStore(k)
	before, err := store.Get(c.UserContext(), ns, id, 0)
	if err != nil {
		return err
	}
	st, err := store.Update(c.UserContext(), ns, id, src)
	if err != nil {
		return err
	}
	s.flowRecord(c, "flow.update", fiber.StatusOK, before, st)
	return c.JSON(viewOf(*st, true))
}

// handleDeleteFlow answers DELETE /flows/{namespace}/{id}: 204, the
// deletion kept as a revision.
func (s *Server) handleDeleteFlow(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	ns, id, err := flowPath(c)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResFlow, policy.VerbDelete, ns); err != nil {
		return err
	}
	store := s.flowStore(k)
	before, err := store.Get(c.UserContext(), ns, id, 0)
	if err != nil {
		return err
	}
	st, err := store.Delete(c.UserContext(), ns, id)
	if err != nil {
		return err
	}
	s.flowRecord(c, "flow.delete", fiber.StatusNoContent, before, st)
	return c.SendStatus(fiber.StatusNoContent)
}

// handleFlowRevisions answers GET /flows/{namespace}/{id}/revisions:
// every revision with its source, oldest first. The revisions that
// deleted the flow are left out unless allowDelete=true, as Kestra does.
func (s *Server) handleFlowRevisions(c *fiber.Ctx) error {
	if err := checkParams(c, "allowDelete"); err != nil {
		return err
	}
	ns, id, err := flowPath(c)
	if err != nil {
		return err
	}
	allowDelete, err := queryBool(c, "allowDelete")
	if err != nil {
		return err
	}
	k := kestraOf(c)
	if err := k.Allow(policy.ResFlow, policy.VerbRead, ns); err != nil {
		return err
	}
	revs, err := s.flowStore(k).Revisions(c.UserContext(), ns, id)
	if err != nil {
		return err
	}
	out := make([]flowView, 0, len(revs))
	for _, st := range revs {
		if st.Deleted && !allowDelete {
			continue
		}
		out = append(out, viewOf(st, true))
	}
	return c.JSON(out)
}

// handleListFlows answers GET /flows/{namespace}: the flows of the
// namespace and its children (dot boundary) the caller may read.
func (s *Server) handleListFlows(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	ns, err := param(c, "namespace")
	if err != nil {
		return err
	}
	k := kestraOf(c)
	page, err := s.flowStore(k).Search(c.UserContext(), flows.Query{Namespace: ns, Allow: k.canRead(policy.ResFlow)})
	if err != nil {
		return err
	}
	return c.JSON(views(page.Results, false))
}

// canRead returns the filter of what the caller may read of res.
func (k *kestraScope) canRead(res policy.Resource) func(string) bool {
	return func(ns string) bool { return k.Can(res, policy.VerbRead, ns) }
}

func views(list []flows.Stored, withSource bool) []flowView {
	out := make([]flowView, 0, len(list))
	for _, st := range list {
		out = append(out, viewOf(st, withSource))
	}
	return out
}

// flowAudit is what the audit trail keeps of a flow change: which flow
// and revision, never the source (which may hold anything).
type flowAudit struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
	Revision  int    `json:"revision"`
	Deleted   bool   `json:"deleted,omitempty"`
	Disabled  bool   `json:"disabled,omitempty"`
}

// flowRecord records a flow change (flow.create, flow.update,
// flow.delete) in the audit trail; an update that made no revision is
// not a change.
func (s *Server) flowRecord(c *fiber.Ctx, action string, status int, before, after *flows.Stored) {
	of := func(st *flows.Stored) any {
		if st == nil {
			return nil
		}
		return flowAudit{Namespace: st.Namespace, ID: st.ID, Revision: st.Revision, Deleted: st.Deleted, Disabled: st.Disabled}
	}
	if before != nil && after != nil && before.Revision == after.Revision {
		return
	}
	target := after
	if target == nil {
		target = before
	}
	s.nsRecord(c, action, target.Namespace+"/"+target.ID, status, of(before), of(after))
}

// maxPageSize bounds the size of a search page.
const maxPageSize = 1000

// flowQuery checks the query parameters of search and export (params
// and Kestra's filters[field][OPERATION]) and reads the shared ones: q,
// namespace (dot boundary), labels (key:value, repeated) and sort.
func flowQuery(c *fiber.Ctx, params ...string) (flows.Query, error) {
	q := flows.Query{Q: c.Query("q"), Namespace: c.Query("namespace")}
	var ferr error
	var filters [][2]string
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if strings.HasPrefix(string(k), "filters[") {
			filters = append(filters, [2]string{string(k), string(v)})
		}
	})
	for _, f := range filters {
		if err := applyFilter(&q, f[0], f[1]); err != nil && ferr == nil {
			ferr = err
		}
	}
	if ferr != nil {
		return q, ferr
	}
	if err := checkParams(c, append(params, filterKeys(filters)...)...); err != nil {
		return q, err
	}
	for _, l := range queryList(c, "labels", false) {
		key, value, ok := strings.Cut(l, ":")
		if !ok || key == "" {
			return q, badRequest("illegal_argument_exception", "a labels filter is written key:value, not [%s]", l)
		}
		q.Labels = append(q.Labels, flows.Label{Key: key, Value: value})
	}
	for _, v := range queryList(c, "sort", true) {
		st, err := flows.ParseSort(v)
		if err != nil {
			return q, badRequest("illegal_argument_exception", "%s", strings.TrimPrefix(err.Error(), flows.ErrInvalid.Error()+": "))
		}
		q.Sort = append(q.Sort, st)
	}
	return q, nil
}

func filterKeys(fs [][2]string) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f[0]
	}
	return out
}

// filterKey matches Kestra's filters[field][OPERATION] and
// filters[field][OPERATION][subkey] query parameters.
var filterKey = regexp.MustCompile(`^filters\[([A-Za-z]+)\]\[([A-Z_]+)\](?:\[(.*)\])?$`)

// applyFilter applies one of Kestra's query filters to q: q EQUALS (full
// text), namespace EQUALS (that namespace only) or PREFIX (it and its
// children), flowId EQUALS, labels EQUALS (filters[labels][EQUALS][key]=value
// or =key:value) and scope EQUALS USER (every flow here is a user flow).
// Anything else is refused by name rather than ignored.
func applyFilter(q *flows.Query, key, value string) error {
	m := filterKey.FindStringSubmatch(key)
	if m == nil {
		return badRequest("illegal_argument_exception", "query filter [%s] is not written filters[field][OPERATION]", key)
	}
	field, op, sub := m[1], m[2], m[3]
	switch {
	case field == "q" && op == "EQUALS":
		q.Q = value
	case field == "namespace" && (op == "EQUALS" || op == "PREFIX"):
		q.Namespace, q.ExactNamespace = value, op == "EQUALS"
	case field == "flowId" && op == "EQUALS":
		q.ID = value
	case field == "labels" && op == "EQUALS" && sub != "":
		q.Labels = append(q.Labels, flows.Label{Key: sub, Value: value})
	case field == "labels" && op == "EQUALS":
		k, v, ok := strings.Cut(value, ":")
		if !ok || k == "" {
			return badRequest("illegal_argument_exception", "a labels filter is written key:value, not [%s]", value)
		}
		q.Labels = append(q.Labels, flows.Label{Key: k, Value: v})
	case field == "scope" && op == "EQUALS" && value == "USER":
	default:
		return badRequest("illegal_argument_exception",
			"query filter [%s][%s] is not supported on flows (q EQUALS, namespace EQUALS or PREFIX, flowId EQUALS, labels EQUALS, scope EQUALS USER)", field, op)
	}
	return nil
}

// flowPage is Kestra's PagedResults.
type flowPage struct {
	Results []flowView `json:"results"`
	Total   int        `json:"total"`
}

// handleSearchFlows answers GET /flows/search?q=&namespace=&labels=k:v&page=&size=&sort=id:asc
// with Kestra's {"results": [...], "total": N}, counting only the flows
// the caller may read.
func (s *Server) handleSearchFlows(c *fiber.Ctx) error {
	q, err := flowQuery(c, "q", "namespace", "labels", "page", "size", "sort")
	if err != nil {
		return err
	}
	if q.Page, err = queryInt(c, "page", 1); err != nil {
		return err
	}
	if q.Size, err = queryInt(c, "size", 10); err != nil {
		return err
	}
	if q.Size > maxPageSize {
		return badRequest("illegal_argument_exception", "parameter [size] must be at most %d, not [%d]", maxPageSize, q.Size)
	}
	k := kestraOf(c)
	q.Allow = k.canRead(policy.ResFlow)
	page, err := s.flowStore(k).Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(flowPage{Results: views(page.Results, false), Total: page.Total})
}

// handleValidateFlows answers POST /flows/validate with a multi-document
// YAML body, or Kestra's multipart form of "flows" files (one flow
// each): one flows.Result per document, saving nothing. Outdated and
// Deleted are filled only for namespaces the caller may read.
func (s *Server) handleValidateFlows(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	k := kestraOf(c)
	store, known := s.flowStore(k), k.canRead(policy.ResFlow)
	if mt, _, _ := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); mt == fiber.MIMEMultipartForm {
		// Kestra's form: each "flows" file is one flow.
		form, err := c.MultipartForm()
		if err != nil {
			return badRequest("illegal_argument_exception", "the multipart form cannot be read: %v", err)
		}
		out := []flows.Result{}
		for _, fh := range form.File["flows"] {
			src, err := readFormFile(fh)
			if err != nil {
				return err
			}
			res, err := store.Validate(c.UserContext(), src, known)
			if err != nil {
				return err
			}
			if len(res) != 1 {
				res = []flows.Result{{Constraints: fmt.Sprintf("%s: expected one flow, found %d YAML documents", fh.Filename, len(res)),
					DeprecationPaths: []string{}, Warnings: []string{}, Infos: []string{}}}
			}
			res[0].Index = len(out)
			out = append(out, res[0])
		}
		return c.JSON(out)
	}
	src, err := flowSource(c)
	if err != nil {
		return err
	}
	res, err := store.Validate(c.UserContext(), src, known)
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// readFormFile reads an uploaded file of a multipart form.
func readFormFile(fh *multipart.FileHeader) ([]byte, error) {
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// importDoc is one flow source of an import: its name in Kestra's
// report (the document's index for YAML, the entry's name for a zip).
type importDoc struct {
	name   string
	src    []byte
	ns, id string
}

// handleImportFlows answers POST /flows/import, as Kestra does: the body
// is a multipart form whose "fileUpload" file is a multi-document YAML
// (.yml, .yaml) or a zip of .yml/.yaml files; tenantgate also takes a
// raw YAML or zip body (Content-Type application/x-yaml or
// application/zip). Every valid flow the caller may create (or update,
// when it exists) is created or updated, identical sources making no
// revision; the answer is the list of the documents (their index) or
// zip entries (their name) that were not imported: invalid, or not
// allowed. With failOnError=true any such document makes a 422 naming
// them, and nothing is imported (Kestra imports the others first).
func (s *Server) handleImportFlows(c *fiber.Ctx) error {
	if err := checkParams(c, "failOnError"); err != nil {
		return err
	}
	failOnError, err := queryBool(c, "failOnError")
	if err != nil {
		return err
	}
	docs, err := s.importDocs(c)
	if err != nil {
		return err
	}
	k := kestraOf(c)
	store := s.flowStore(k)
	ctx := c.UserContext()
	wrong := []string{}
	var ok []importDoc
	for _, d := range docs {
		res := flows.ValidateAll(d.src)
		if len(res) != 1 || !res[0].Valid() {
			wrong = append(wrong, d.name)
			continue
		}
		f := res[0].Parsed
		verb := policy.VerbCreate
		if cur, err := store.Latest(ctx, f.Namespace, f.ID); err == nil && !cur.Deleted {
			verb = policy.VerbUpdate
		}
		if !k.Can(policy.ResFlow, verb, f.Namespace) {
			wrong = append(wrong, d.name)
			continue
		}
		ok = append(ok, importDoc{name: d.name, src: f.Source, ns: f.Namespace, id: f.ID})
	}
	if failOnError && len(wrong) > 0 {
		return &Error{Status: fiber.StatusUnprocessableEntity, Type: "illegal_argument_exception",
			Reason: "Following invalid flows were not imported: " + strings.Join(wrong, ", ") + " (nothing was imported)"}
	}
	for _, d := range ok {
		before, _ := store.Get(ctx, d.ns, d.id, 0)
		st, created, err := store.Put(ctx, d.src)
		if err != nil {
			if status, _, _, _ := classify(err); status >= 500 {
				return err
			}
			wrong = append(wrong, d.name)
			continue
		}
		if created {
			s.flowRecord(c, "flow.create", fiber.StatusOK, nil, st)
		} else {
			s.flowRecord(c, "flow.update", fiber.StatusOK, before, st)
		}
	}
	return c.JSON(wrong)
}

// importDocs reads the flow sources of an import request.
func (s *Server) importDocs(c *fiber.Ctx) ([]importDoc, error) {
	ct := c.Get(fiber.HeaderContentType)
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case mt == fiber.MIMEMultipartForm:
		fh, err := c.FormFile("fileUpload")
		if err != nil {
			return nil, badRequest("illegal_argument_exception", "the multipart form has no file in the field [fileUpload]")
		}
		body, err := readFormFile(fh)
		if err != nil {
			return nil, err
		}
		name := strings.ToLower(fh.Filename)
		switch {
		case isYAMLName(name):
			return yamlDocs(body), nil
		case strings.HasSuffix(name, ".zip"):
			return zipDocs(body, s.cfg.Limits.BodyBytes)
		}
		return nil, badRequest("illegal_argument_exception", "cannot import file of type [%s]: send a .yml or .yaml file, or a .zip of them", path.Ext(name))
	case mt == "application/zip" || mt == "application/x-zip-compressed":
		return zipDocs(c.Body(), s.cfg.Limits.BodyBytes)
	case ct == "" || yamlType(ct):
		return yamlDocs(bytes.Clone(c.Body())), nil
	}
	return nil, &Error{Status: fiber.StatusUnsupportedMediaType, Type: "illegal_argument_exception",
		Reason: fmt.Sprintf("import takes a multipart form with a fileUpload file, a YAML body (application/x-yaml) or a zip (application/zip), not %s", ct)}
}

func isYAMLName(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")
}

// yamlDocs splits a multi-document stream; each document is named by
// its index, as Kestra reports them.
func yamlDocs(body []byte) []importDoc {
	var out []importDoc
	for _, r := range flows.ValidateAll(body) {
		out = append(out, importDoc{name: strconv.Itoa(r.Index), src: r.Parsed.Source})
	}
	return out
}

// maxZipEntries bounds the number of files read from an imported zip.
const maxZipEntries = 10000

// zipDocs reads the .yml and .yaml files of a zip, skipping folders and
// other files as Kestra does. What it decompresses is bounded by limit
// in all, so a small archive cannot expand without end.
func zipDocs(body []byte, limit int) ([]importDoc, error) {
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, badRequest("illegal_argument_exception", "the import is not a valid zip archive: %v", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, badRequest("illegal_argument_exception", "the zip archive holds %d files; at most %d are imported at once", len(zr.File), maxZipEntries)
	}
	var out []importDoc
	left := int64(limit)
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || !isYAMLName(f.Name) {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, badRequest("illegal_argument_exception", "cannot read %q in the zip archive: %v", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, left+1))
		rc.Close()
		if err != nil {
			return nil, badRequest("illegal_argument_exception", "cannot read %q in the zip archive: %v", f.Name, err)
		}
		left -= int64(len(data))
		if left < 0 {
			return nil, &Error{Status: fiber.StatusRequestEntityTooLarge, Type: "content_too_long_exception",
				Reason: "the zip archive expands to more than limits.body_bytes"}
		}
		out = append(out, importDoc{name: f.Name, src: data})
	}
	return out, nil
}

// handleExportFlows answers GET /flows/export (and Kestra's
// /flows/export/by-query): the flows matching q, namespace, labels and
// ids (namespace:id, repeated) that the caller may read, sources byte
// for byte, as one multi-document YAML (the default, Accept
// application/x-yaml) or a zip of <namespace>.<id>.yml files (Accept
// application/zip or format=zip; always for by-query, as Kestra).
func (s *Server) handleExportFlows(c *fiber.Ctx) error {
	q, err := flowQuery(c, "q", "namespace", "labels", "ids", "sort")
	if err != nil {
		return err
	}
	k := kestraOf(c)
	store := s.flowStore(k)
	var list []flows.Stored
	if ids := queryList(c, "ids", true); len(ids) > 0 {
		if list, err = s.flowsByID(c, k, store, ids); err != nil {
			return err
		}
	} else {
		q.Allow = k.canRead(policy.ResFlow)
		page, err := store.Search(c.UserContext(), q)
		if err != nil {
			return err
		}
		list = page.Results
	}
	byQuery := strings.HasSuffix(c.Path(), "/by-query")
	switch format := c.Query("format"); {
	case format == "zip" || byQuery || (format == "" && acceptsZip(c)):
		name := func(st flows.Stored) string { return st.Namespace + "." + st.ID + ".yml" }
		if byQuery {
			name = func(st flows.Stored) string { return st.Namespace + "-" + st.ID + ".yml" }
		}
		return sendZip(c, list, name)
	case format == "" || format == "yaml" || format == "yml":
		return sendYAML(c, list)
	default:
		return badRequest("illegal_argument_exception", "parameter [format] is yaml or zip, not [%s]", format)
	}
}

// handleExportFlowsByIDs answers Kestra's POST /flows/export/by-ids
// [{"namespace": …, "id": …}] with a zip of <namespace>.<id>.yaml files.
func (s *Server) handleExportFlowsByIDs(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	var in []struct {
		Namespace string `json:"namespace"`
		ID        string `json:"id"`
	}
	if err := decodeStrict(c, &in, "flow ids"); err != nil {
		return err
	}
	ids := make([]string, 0, len(in))
	for _, x := range in {
		ids = append(ids, x.Namespace+":"+x.ID)
	}
	k := kestraOf(c)
	list, err := s.flowsByID(c, k, s.flowStore(k), ids)
	if err != nil {
		return err
	}
	return sendZip(c, list, func(st flows.Stored) string { return st.Namespace + "." + st.ID + ".yaml" })
}

// flowsByID reads each namespace:id, refusing those the caller may not
// read (403) and those that do not exist (404).
func (s *Server) flowsByID(c *fiber.Ctx, k *kestraScope, store *flows.Store, ids []string) ([]flows.Stored, error) {
	out := make([]flows.Stored, 0, len(ids))
	for _, full := range ids {
		ns, id, ok := strings.Cut(full, ":")
		if !ok || ns == "" || id == "" {
			return nil, badRequest("illegal_argument_exception", "a flow is named namespace:id, not [%s]", full)
		}
		if err := k.Allow(policy.ResFlow, policy.VerbRead, ns); err != nil {
			return nil, err
		}
		st, err := store.Get(c.UserContext(), ns, id, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, nil
}

// acceptsZip reports whether the Accept header asks for a zip rather
// than YAML.
func acceptsZip(c *fiber.Ctx) bool {
	a := strings.ToLower(c.Get(fiber.HeaderAccept))
	return strings.Contains(a, "application/zip") || strings.Contains(a, "application/octet-stream")
}

// sendYAML answers the sources as one multi-document YAML stream: each
// source as stored, a newline added to one that lacks its last, and
// "---" lines between them, so an import of the stream restores them.
func sendYAML(c *fiber.Ctx, list []flows.Stored) error {
	var b bytes.Buffer
	for i, st := range list {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(st.Source)
		if len(st.Source) > 0 && st.Source[len(st.Source)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	c.Set(fiber.HeaderContentType, "application/x-yaml")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="flows.yml"`)
	return c.Send(b.Bytes())
}

// sendZip answers the sources as a zip, one file per flow, byte for byte.
func sendZip(c *fiber.Ctx, list []flows.Stored, name func(flows.Stored) string) error {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	seen := map[string]bool{}
	for _, st := range list {
		n := name(st)
		if seen[n] { // "a-b"+"c" and "a"+"b-c" in by-query names
			n = strings.TrimSuffix(n, path.Ext(n)) + "." + strconv.Itoa(st.Revision) + path.Ext(n)
		}
		seen[n] = true
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: st.Updated})
		if err != nil {
			return err
		}
		if _, err := w.Write(st.Source); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="flows.zip"`)
	return c.Send(b.Bytes())
}
