package gateway

import (
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/webui"
)

// routes registers every route. Each tenant-scoped route is classified
// here, once, as a read or a write: GET and HEAD, _search, _count, _mget
// and _msearch are reads (POST included); everything else writes.
//
// A write that acts on an index is also classified by its index action,
// for roles' index_permissions: creating and deleting an index, index
// templates and POST _refresh manage (policy.IndexManage); indexing,
// creating and updating documents write (IndexWrite); deleting documents
// and _delete_by_query (which also reads) delete (IndexDelete); _bulk
// checks each item by its own action. Index permissions are additive: a
// caller who may write the tenant may do all of this whatever they say,
// and a caller who may only read it (or holds one of its tenant-scoped
// roles) may also do what they grant on the one index a route names
// (never a wildcard or a list; a document write into a missing index,
// which would create it, needs manage too). They never narrow anything:
// an index read permission does not limit what a tenant reader reads.
// Routes without an index (templates, POST /_refresh) and the saved
// objects (.kibana) and sample data routes need tenant write.
func (s *Server) routes(reg *prometheus.Registry) {
	app := s.app
	app.Use(s.observe)
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	// The web UI is static and public; every API call it makes carries the
	// user's token. Registered before authentication so /app loads signed out.
	ui := adaptor.HTTPHandler(webui.Handler())
	for _, path := range []string{webui.Prefix, webui.Prefix + "/*"} {
		app.Get(path, ui)
		app.Head(path, ui)
	}

	// A shared short link opened in a browser carries no bearer token: hand
	// it to the UI, which resolves it with the reader's own sign-in (and
	// shows the no-access page when the link's tenant is not theirs).
	app.Get("/goto/:id", func(c *fiber.Ctx) error {
		if c.Get(fiber.HeaderAuthorization) != "" {
			return c.Next()
		}
		id, err := param(c, "id")
		if err != nil {
			return err
		}
		target := webui.Prefix + "/goto/" + url.PathEscape(id)
		if q := c.Context().QueryArgs().QueryString(); len(q) > 0 {
			target += "?" + string(q)
		}
		return c.Redirect(target, fiber.StatusFound)
	})

	s.publicRoutes(app)
	app.Use(s.authenticate)

	// Administration (instance level: the admin service checks who may
	// do what; tenant-scoped reads such as a tenant's audit view go
	// through the same decision).
	s.tenantRoutes(app)
	s.identityRoutes(app)
	s.roleRoutes(app)
	s.flowRoutes()
	s.namespaceRoutes()
	s.executionRoutes()
	s.workerRoutes()
	s.snapshotRoutes(app)

	read := func(method, path string, h fiber.Handler) { app.Add(method, path, s.authorize(policy.Read), h) }
	write := func(method, path string, h fiber.Handler) { app.Add(method, path, s.authorize(policy.Write), h) }
	// writeIndex is write for a route that index permissions granting
	// acts on its {index} also open (authorizeIndex).
	writeIndex := func(method, path string, h fiber.Handler, acts ...policy.IndexAction) {
		app.Add(method, path, s.authorizeIndex(acts...), h)
	}
	manage := policy.IndexManage

	// Cluster level (still scoped: health and cat list the tenant's indices).
	read(fiber.MethodGet, "/", s.handleRoot)
	read(fiber.MethodHead, "/", s.handleRoot)
	read(fiber.MethodGet, "/_cluster/health", s.handleHealth)
	for _, prefix := range []string{"/_plugins/_security", "/_opendistro/_security"} {
		app.Get(prefix+"/authinfo", s.handleAuthinfo)
		app.Post(prefix+"/authinfo", s.handleAuthinfo)
	}
	read(fiber.MethodGet, "/_cat/indices", s.handleCatIndices)
	read(fiber.MethodGet, "/_cat/indices/:index", s.handleCatIndices)
	read(fiber.MethodGet, "/_cat/count", s.handleCatCount)
	read(fiber.MethodGet, "/_cat/count/:index", s.handleCatCount)

	// Index templates.
	read(fiber.MethodGet, "/_index_template", s.handleGetTemplate)
	read(fiber.MethodGet, "/_index_template/:name", s.handleGetTemplate)
	read(fiber.MethodHead, "/_index_template/:name", s.handleGetTemplate)
	writeIndex(fiber.MethodPut, "/_index_template/:name", s.handlePutTemplate, manage)
	writeIndex(fiber.MethodPost, "/_index_template/:name", s.handlePutTemplate, manage)
	writeIndex(fiber.MethodDelete, "/_index_template/:name", s.handleDeleteTemplate, manage)

	// Multi-index reads and bulk.
	for _, m := range []string{fiber.MethodGet, fiber.MethodPost} {
		read(m, "/_search", s.handleSearch)
		read(m, "/_count", s.handleCount)
		read(m, "/_mget", s.handleMget)
		read(m, "/_msearch", s.handleMsearch)
		read(m, "/:index/_search", s.handleSearch)
		read(m, "/:index/_count", s.handleCount)
		read(m, "/:index/_mget", s.handleMget)
		read(m, "/:index/_msearch", s.handleMsearch)
	}
	read(fiber.MethodGet, "/_mapping", s.handleGetMapping)
	// _refresh has nothing to do (writes are visible at once) but clients
	// call it after indexing; by the rule above GET reads and POST writes.
	// Registered before /:index so that GET /_refresh is not an index name.
	read(fiber.MethodGet, "/_refresh", s.handleRefresh)
	writeIndex(fiber.MethodPost, "/_refresh", s.handleRefresh, manage)
	read(fiber.MethodGet, "/:index/_refresh", s.handleRefresh)
	writeIndex(fiber.MethodPost, "/:index/_refresh", s.handleRefresh, manage)
	// Bulk writes; index permissions are checked per item (authorizeBulk).
	for _, path := range []string{"/_bulk", "/:index/_bulk"} {
		app.Add(fiber.MethodPost, path, s.authorizeBulk(), s.handleBulk)
		app.Add(fiber.MethodPut, path, s.authorizeBulk(), s.handleBulk)
	}

	// OpenSearch Dashboards' API: saved objects and short links
	// (savedobjects.go), before /:index. Every non-GET /api call needs the
	// osd-xsrf header. GET, _find, _bulk_get and _export read; _copy reads
	// its source here and asks for write on its target tenant itself;
	// shorten_url reads (a read-only member may create short links, and
	// only url objects are written); everything else writes.
	app.Use("/api", s.requireXSRF)
	read(fiber.MethodGet, "/api/saved_objects/_find", s.handleFind)
	read(fiber.MethodPost, "/api/saved_objects/_bulk_get", s.handleBulkGet)
	read(fiber.MethodPost, "/api/saved_objects/_export", s.handleExport)
	read(fiber.MethodPost, "/api/saved_objects/_copy", s.handleCopy)
	write(fiber.MethodPost, "/api/saved_objects/_bulk_create", s.handleBulkCreate)
	write(fiber.MethodPost, "/api/saved_objects/_bulk_update", s.handleBulkUpdate)
	write(fiber.MethodPost, "/api/saved_objects/_import", s.handleImport)
	write(fiber.MethodPost, "/api/saved_objects/_resolve_import_errors", s.handleResolveImportErrors)
	read(fiber.MethodGet, "/api/saved_objects/:type/:id", s.handleGetObject)
	write(fiber.MethodPost, "/api/saved_objects/:type/:id?", s.handleCreateObject)
	write(fiber.MethodPut, "/api/saved_objects/:type/:id", s.handleUpdateObject)
	write(fiber.MethodDelete, "/api/saved_objects/:type/:id", s.handleDeleteObject)
	read(fiber.MethodPost, "/api/shorten_url", s.handleShortenURL)
	read(fiber.MethodGet, "/api/short_url/:id", s.handleGetShortURL)
	read(fiber.MethodGet, "/goto/:id", s.handleGoto)
	// Sample data (sampledata.go), a tenantgate extension: loads a set into
	// the tenant, data and saved objects, so it writes.
	write(fiber.MethodPost, "/api/sample_data/:set", s.handleSampleData)

	// Indices.
	writeIndex(fiber.MethodPut, "/:index", s.handleCreateIndex, manage)
	read(fiber.MethodGet, "/:index", s.handleGetIndex)
	read(fiber.MethodHead, "/:index", s.handleGetIndex)
	writeIndex(fiber.MethodDelete, "/:index", s.handleDeleteIndex, manage)
	read(fiber.MethodGet, "/:index/_mapping", s.handleGetMapping)

	// Documents.
	docWrite, docDelete := policy.IndexWrite, policy.IndexDelete
	writeIndex(fiber.MethodPut, "/:index/_doc/:id", s.handleIndexDoc, docWrite)
	writeIndex(fiber.MethodPost, "/:index/_doc/:id", s.handleIndexDoc, docWrite)
	writeIndex(fiber.MethodPost, "/:index/_doc", s.handleIndexDoc, docWrite)
	writeIndex(fiber.MethodPut, "/:index/_create/:id", s.handleCreateDoc, docWrite)
	writeIndex(fiber.MethodPost, "/:index/_create/:id", s.handleCreateDoc, docWrite)
	read(fiber.MethodGet, "/:index/_doc/:id", s.handleGetDoc)
	read(fiber.MethodHead, "/:index/_doc/:id", s.handleGetDoc)
	read(fiber.MethodGet, "/:index/_source/:id", s.handleGetSource)
	writeIndex(fiber.MethodDelete, "/:index/_doc/:id", s.handleDeleteDoc, docDelete)
	writeIndex(fiber.MethodPost, "/:index/_update/:id", s.handleUpdateDoc, docWrite)
	writeIndex(fiber.MethodPost, "/:index/_delete_by_query", s.handleDeleteByQuery, docDelete, policy.IndexRead)
}
