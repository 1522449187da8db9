package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/dashboards"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
)

// The OpenSearch Dashboards API: saved objects (dashboards package) and
// short links. Handlers only parse and answer; the tenant is the one the
// authorize middleware resolved.

// savedObjects returns the saved objects of the request's tenant.
func (s *Server) savedObjects(c *fiber.Ctx) *dashboards.Client {
	return dashboards.New(s.index.SystemView(scopeOf(c).tenant))
}

// requireXSRF refuses state-changing /api calls without the osd-xsrf (or
// osd-version) header, as OpenSearch Dashboards does: a page on another
// origin cannot send custom headers without a CORS preflight.
func (s *Server) requireXSRF(c *fiber.Ctx) error {
	// Fiber's Use("/api") also matches "/apilogs/_doc": only the /api/
	// folder is OpenSearch Dashboards' API; index names may start with "api".
	// Kestra's API (/api/v1/…) does not ask for the header. Neither needs
	// it against cross-site requests: tenantgate sets no cookies and never
	// asks a browser for Basic credentials, so a browser never attaches
	// credentials to a request by itself.
	if p := c.Path(); p != "/api" && !strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/api/v1/") {
		return c.Next()
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	present := false
	c.Request().Header.VisitAll(func(k, _ []byte) {
		present = present || bytes.EqualFold(k, []byte("osd-xsrf")) || bytes.EqualFold(k, []byte("osd-version"))
	})
	if !present {
		return badRequest("bad_request", "Request must contain a osd-xsrf header.")
	}
	return c.Next()
}

// osdBody decodes a JSON body into v after checking that every object
// (or every object of an array) has only the allowed keys, with OpenSearch
// Dashboards' validation messages.
func osdBody(c *fiber.Ctx, v any, allowed ...string) error {
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return badRequest("bad_request", "[request body]: expected a value but got [undefined]")
	}
	var items []map[string]json.RawMessage
	if body[0] == '[' {
		if err := json.Unmarshal(body, &items); err != nil {
			return badRequest("bad_request", "[request body]: expected an array of objects: %s", index.JSONErrorText(err))
		}
	} else {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(body, &one); err != nil || one == nil {
			return badRequest("bad_request", "[request body]: expected a plain object value: %s", index.JSONErrorText(err))
		}
		items = append(items, one)
	}
	for i, it := range items {
		for k := range it {
			if !slices.Contains(allowed, k) {
				at := "request body"
				if body[0] == '[' {
					at += "." + strconv.Itoa(i)
				}
				return badRequest("bad_request", "[%s.%s]: definition for this key is missing", at, k)
			}
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return badRequest("bad_request", "[request body]: %s", index.JSONErrorText(err))
	}
	return nil
}

// boolQuery parses a boolean query parameter ("true"/"false", absent is
// false).
func boolQuery(c *fiber.Ctx, name string) (bool, error) {
	switch v := c.Query(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, badRequest("bad_request", "[request query.%s]: expected value of type [boolean] but got [%s]", name, strings.Clone(v))
	}
}

func sendObject(c *fiber.Ctx, status int, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(raw)
}

func typeAndID(c *fiber.Ctx) (typ, id string, err error) {
	if typ, err = param(c, "type"); err != nil {
		return "", "", err
	}
	id, err = param(c, "id")
	return typ, id, err
}

// handleGetObject is GET /api/saved_objects/{type}/{id}.
func (s *Server) handleGetObject(c *fiber.Ctx) error {
	typ, id, err := typeAndID(c)
	if err != nil {
		return err
	}
	o, err := s.savedObjects(c).Get(c.UserContext(), typ, id)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, o)
}

// handleCreateObject is POST /api/saved_objects/{type}/{id?}?overwrite=.
func (s *Server) handleCreateObject(c *fiber.Ctx) error {
	if err := checkParams(c, "overwrite"); err != nil {
		return err
	}
	typ, id, err := typeAndID(c)
	if err != nil {
		return err
	}
	overwrite, err := boolQuery(c, "overwrite")
	if err != nil {
		return err
	}
	var in dashboards.CreateInput
	if err := osdBody(c, &in, "attributes", "references", "migrationVersion", "originId"); err != nil {
		return err
	}
	in.Type, in.ID = typ, id
	o, err := s.savedObjects(c).Create(c.UserContext(), in, overwrite)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, o)
}

// handleUpdateObject is PUT /api/saved_objects/{type}/{id}.
func (s *Server) handleUpdateObject(c *fiber.Ctx) error {
	typ, id, err := typeAndID(c)
	if err != nil {
		return err
	}
	var in dashboards.UpdateInput
	if err := osdBody(c, &in, "attributes", "references", "version"); err != nil {
		return err
	}
	in.Type, in.ID = typ, id
	o, err := s.savedObjects(c).Update(c.UserContext(), in)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, o)
}

// handleDeleteObject is DELETE /api/saved_objects/{type}/{id}.
func (s *Server) handleDeleteObject(c *fiber.Ctx) error {
	if err := checkParams(c, "force"); err != nil {
		return err
	}
	typ, id, err := typeAndID(c)
	if err != nil {
		return err
	}
	if err := s.savedObjects(c).Delete(c.UserContext(), typ, id); err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, struct{}{})
}

// multi returns every value of a repeated query parameter, comma lists
// split.
func multi(c *fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Context().QueryArgs().PeekMulti(name) {
		for _, p := range strings.Split(string(v), ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func intQuery(c *fiber.Ctx, name string, def int) (int, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, badRequest("bad_request", "[request query.%s]: expected value of type [number] but got [%s]", name, strings.Clone(raw))
	}
	return n, nil
}

// handleFind is GET /api/saved_objects/_find.
func (s *Server) handleFind(c *fiber.Ctx) error {
	if err := checkParams(c, "type", "search", "search_fields", "default_search_operator", "page", "per_page",
		"sort_field", "sort_order", "has_reference", "fields"); err != nil {
		return err
	}
	o := dashboards.FindOptions{Types: multi(c, "type"), Search: strings.Clone(c.Query("search")),
		SearchFields: multi(c, "search_fields"), DefaultSearchOperator: strings.Clone(c.Query("default_search_operator")),
		SortField: strings.Clone(c.Query("sort_field")), SortOrder: strings.Clone(c.Query("sort_order")), Fields: multi(c, "fields")}
	if len(o.Types) == 0 {
		return badRequest("bad_request", "[request query.type]: expected at least one defined value but got [undefined]")
	}
	var err error
	if o.Page, err = intQuery(c, "page", 1); err != nil {
		return err
	}
	if o.PerPage, err = intQuery(c, "per_page", 20); err != nil {
		return err
	}
	if raw := c.Query("has_reference"); raw != "" {
		var one dashboards.ObjectRef
		if json.Unmarshal([]byte(raw), &one) == nil && one.Type != "" {
			o.HasReference = []dashboards.ObjectRef{one}
		} else if err := json.Unmarshal([]byte(raw), &o.HasReference); err != nil || len(o.HasReference) == 0 {
			return badRequest("bad_request", "[request query.has_reference]: expected JSON {\"type\":…,\"id\":…} or an array of them")
		}
	}
	res, err := s.savedObjects(c).Find(c.UserContext(), o)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, res)
}

type savedObjectsBody struct {
	SavedObjects []dashboards.Object `json:"saved_objects"`
}

// handleBulkGet is POST /api/saved_objects/_bulk_get.
func (s *Server) handleBulkGet(c *fiber.Ctx) error {
	var in []dashboards.BulkGetInput
	if err := osdBody(c, &in, "type", "id", "fields"); err != nil {
		return err
	}
	out, err := s.savedObjects(c).BulkGet(c.UserContext(), in)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, savedObjectsBody{out})
}

// handleBulkCreate is POST /api/saved_objects/_bulk_create?overwrite=.
func (s *Server) handleBulkCreate(c *fiber.Ctx) error {
	if err := checkParams(c, "overwrite"); err != nil {
		return err
	}
	overwrite, err := boolQuery(c, "overwrite")
	if err != nil {
		return err
	}
	var in []dashboards.CreateInput
	if err := osdBody(c, &in, "type", "id", "attributes", "references", "migrationVersion", "version", "originId"); err != nil {
		return err
	}
	out, err := s.savedObjects(c).BulkCreate(c.UserContext(), in, overwrite)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, savedObjectsBody{out})
}

// handleBulkUpdate is POST /api/saved_objects/_bulk_update.
func (s *Server) handleBulkUpdate(c *fiber.Ctx) error {
	var in []dashboards.UpdateInput
	if err := osdBody(c, &in, "type", "id", "attributes", "references", "version"); err != nil {
		return err
	}
	out, err := s.savedObjects(c).BulkUpdate(c.UserContext(), in)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, savedObjectsBody{out})
}

// handleExport is POST /api/saved_objects/_export: NDJSON as an
// attachment, ending with the export summary unless excludeExportDetails.
func (s *Server) handleExport(c *fiber.Ctx) error {
	var in struct {
		Type                  json.RawMessage        `json:"type"`
		Objects               []dashboards.ObjectRef `json:"objects"`
		IncludeReferencesDeep bool                   `json:"includeReferencesDeep"`
		ExcludeExportDetails  bool                   `json:"excludeExportDetails"`
		Search                string                 `json:"search"`
	}
	if err := osdBody(c, &in, "type", "objects", "includeReferencesDeep", "excludeExportDetails", "search"); err != nil {
		return err
	}
	o := dashboards.ExportOptions{Objects: in.Objects, IncludeReferencesDeep: in.IncludeReferencesDeep}
	if len(in.Type) > 0 {
		var one string
		if json.Unmarshal(in.Type, &one) == nil {
			o.Types = []string{one}
		} else if err := json.Unmarshal(in.Type, &o.Types); err != nil {
			return badRequest("bad_request", "[request body.type]: expected a string or an array of strings")
		}
	}
	if in.Search != "" {
		// Export what a search of the types finds, as OpenSearch Dashboards
		// does: the search picks the objects, references follow as asked.
		if len(o.Types) == 0 || len(o.Objects) > 0 {
			return badRequest("bad_request", "[request body.search]: needs [type] and cannot be combined with [objects]")
		}
		found, err := s.savedObjects(c).Find(c.UserContext(), dashboards.FindOptions{Types: o.Types, Search: in.Search, PerPage: dashboards.MaxFindWindow})
		if err != nil {
			return err
		}
		o.Types = nil
		o.Objects = make([]dashboards.ObjectRef, 0, len(found.SavedObjects))
		for _, f := range found.SavedObjects {
			o.Objects = append(o.Objects, dashboards.ObjectRef{Type: f.Type, ID: f.ID})
		}
		if len(o.Objects) == 0 {
			c.Set(fiber.HeaderContentType, "application/ndjson")
			c.Set(fiber.HeaderContentDisposition, `attachment; filename="export.ndjson"`)
			if in.ExcludeExportDetails {
				return c.Status(fiber.StatusOK).Send(nil)
			}
			return c.Status(fiber.StatusOK).SendString(`{"exportedCount":0,"missingRefCount":0,"missingReferences":[]}` + "\n")
		}
	}
	objs, details, err := s.savedObjects(c).Export(c.UserContext(), o)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, obj := range objs {
		if err := enc.Encode(obj); err != nil {
			return err
		}
	}
	if !in.ExcludeExportDetails {
		if err := enc.Encode(details); err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderContentType, "application/ndjson")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="export.ndjson"`)
	return c.Status(fiber.StatusOK).Send(b.Bytes())
}

// importFile reads the multipart "file" of an import (an .ndjson file).
func importFile(c *fiber.Ctx) ([]dashboards.Object, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, badRequest("bad_request", "[request body.file]: expected value of type [Stream] but got [undefined]")
	}
	if ext := filepath.Ext(fh.Filename); ext != ".ndjson" {
		return nil, badRequest("bad_request", "Invalid file extension %s", ext)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("opening the uploaded file: %w", err)
	}
	defer f.Close()
	return dashboards.ReadNDJSON(f)
}

// importFlags reads overwrite and createNewCopies; both is a 400.
func importFlags(c *fiber.Ctx) (dashboards.ImportOptions, error) {
	var o dashboards.ImportOptions
	var err error
	if o.Overwrite, err = boolQuery(c, "overwrite"); err != nil {
		return o, err
	}
	if o.CreateNewCopies, err = boolQuery(c, "createNewCopies"); err != nil {
		return o, err
	}
	if o.Overwrite && o.CreateNewCopies {
		return o, badRequest("bad_request", "[request query]: cannot use [overwrite] with [createNewCopies]")
	}
	return o, nil
}

// handleImport is POST /api/saved_objects/_import.
func (s *Server) handleImport(c *fiber.Ctx) error {
	if err := checkParams(c, "overwrite", "createNewCopies"); err != nil {
		return err
	}
	o, err := importFlags(c)
	if err != nil {
		return err
	}
	objs, err := importFile(c)
	if err != nil {
		return err
	}
	res, err := s.savedObjects(c).Import(c.UserContext(), objs, o)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, res)
}

// handleResolveImportErrors is POST
// /api/saved_objects/_resolve_import_errors: the file again and the
// multipart field "retries" (JSON).
func (s *Server) handleResolveImportErrors(c *fiber.Ctx) error {
	if err := checkParams(c, "createNewCopies"); err != nil {
		return err
	}
	createNew, err := boolQuery(c, "createNewCopies")
	if err != nil {
		return err
	}
	var retries []dashboards.Retry
	dec := json.NewDecoder(strings.NewReader(c.FormValue("retries")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&retries); err != nil {
		return badRequest("bad_request", "[request body.retries]: expected a JSON array of {type, id, overwrite, destinationId, replaceReferences, createNewCopy, ignoreMissingReferences}")
	}
	objs, err := importFile(c)
	if err != nil {
		return err
	}
	res, err := s.savedObjects(c).ResolveImportErrors(c.UserContext(), objs, retries, createNew)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, res)
}

// handleCopy is POST /api/saved_objects/_copy: the route has read access
// to the request's tenant; write access to target_tenant is asked of the
// policy here, with the authorize middleware's own decision.
func (s *Server) handleCopy(c *fiber.Ctx) error {
	var in struct {
		Objects           []dashboards.ObjectRef `json:"objects"`
		TargetTenant      string                 `json:"target_tenant"`
		IncludeReferences bool                   `json:"includeReferences"`
		Overwrite         bool                   `json:"overwrite"`
		CreateNewCopies   bool                   `json:"createNewCopies"`
	}
	if err := osdBody(c, &in, "objects", "target_tenant", "includeReferences", "overwrite", "createNewCopies"); err != nil {
		return err
	}
	if strings.TrimSpace(in.TargetTenant) == "" {
		return badRequest("bad_request", "[request body.target_tenant]: expected value of type [string] but got [undefined]")
	}
	if in.Overwrite && in.CreateNewCopies {
		return badRequest("bad_request", "[request body]: cannot use [overwrite] with [createNewCopies]")
	}
	sc := scopeOf(c)
	target, err := s.decide(sc.caller, in.TargetTenant, policy.Write)
	if err != nil {
		return err
	}
	dst := dashboards.New(s.index.SystemView(target))
	res, err := dst.Copy(c.UserContext(), s.savedObjects(c), in.Objects, in.IncludeReferences,
		dashboards.ImportOptions{Overwrite: in.Overwrite, CreateNewCopies: in.CreateNewCopies})
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, res)
}

// handleShortenURL is POST /api/shorten_url. It is a read route: a
// read-only member may create short links, and dashboards.ShortURLs
// writes nothing but url objects.
func (s *Server) handleShortenURL(c *fiber.Ctx) error {
	var in struct {
		URL string `json:"url"`
	}
	if err := osdBody(c, &in, "url"); err != nil {
		return err
	}
	id, err := dashboards.NewShortURLs(s.index.SystemView(scopeOf(c).tenant)).Shorten(c.UserContext(), in.URL)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, map[string]string{"urlId": id})
}

// shortURLTarget resolves short link {id} of the request's tenant into
// its target with security_tenant set to that tenant.
func (s *Server) shortURLTarget(c *fiber.Ctx) (string, error) {
	id, err := param(c, "id")
	if err != nil {
		return "", err
	}
	sc := scopeOf(c)
	target, err := dashboards.NewShortURLs(s.index.SystemView(sc.tenant)).Resolve(c.UserContext(), id)
	if err != nil {
		return "", err
	}
	return dashboards.WithTenant(target, dashboards.TenantParam(sc.tenant)), nil
}

// handleGetShortURL is GET /api/short_url/{id}: {"url": target}.
func (s *Server) handleGetShortURL(c *fiber.Ctx) error {
	target, err := s.shortURLTarget(c)
	if err != nil {
		return err
	}
	return sendObject(c, fiber.StatusOK, map[string]string{"url": target})
}

// handleGoto is GET /goto/{id}?security_tenant=…: a 302 to the target.
func (s *Server) handleGoto(c *fiber.Ctx) error {
	target, err := s.shortURLTarget(c)
	if err != nil {
		return err
	}
	return c.Redirect(target, fiber.StatusFound)
}
