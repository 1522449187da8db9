package gateway

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// handleRoot answers GET / like an OpenSearch node, so clients that check
// the version on connect work.
func (s *Server) handleRoot(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodHead {
		return c.SendStatus(fiber.StatusOK)
	}
	return c.JSON(fiber.Map{
		"name":         "tenantgate",
		"cluster_name": "tenantgate",
		"cluster_uuid": "tenantgate",
		"version": fiber.Map{
			"distribution":                        "opensearch",
			"number":                              "2.11.0",
			"tenantgate":                          Version,
			"build_type":                          "tenantgate",
			"lucene_version":                      "none (bleve)",
			"minimum_wire_compatibility_version":  "7.10.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "The OpenSearch Project: https://opensearch.org/ (multi-tenant gateway: tenantgate)",
	})
}

// handleHealth answers GET /_cluster/health for the caller's tenant.
func (s *Server) handleHealth(c *fiber.Ctx) error {
	sc := scopeOf(c)
	infos, err := sc.view.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"cluster_name": "tenantgate", "status": "green", "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1,
		"active_primary_shards": len(infos), "active_shards": len(infos),
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0,
		"delayed_unassigned_shards": 0, "number_of_pending_tasks": 0,
		"number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
		"active_shards_percent_as_number": 100.0,
	})
}

// handleAuthinfo answers the security plugin's authinfo: who the caller
// is and which tenants they may use (true read-write, false read-only),
// the private tenant included.
func (s *Server) handleAuthinfo(c *fiber.Ctx) error {
	cl := callerOf(c)
	set := s.resolver.Settings()
	requested, err := requestedTenant(c)
	if err != nil {
		return err
	}
	var custom []string
	for _, t := range s.resolver.Registry().List(false) {
		custom = append(custom, t.Name)
	}
	tenantMap := map[string]bool{}
	if set.Enabled {
		for name, rw := range s.policy.Tenants(cl.roles, custom) {
			tenantMap[name] = rw
		}
		if set.EnablePrivate {
			tenantMap[cl.principal.Name] = true
		}
	}
	if !set.Enabled || set.EnableGlobal {
		tenantMap[tenants.GlobalAlias] = s.policy.Allowed(cl.roles, tenants.GlobalAlias, policy.Write)
	}
	var req any
	if requested != "" {
		req = requested
	}
	roles := cl.roles.Names()
	backend := cl.principal.BackendRoles
	if backend == nil {
		backend = []string{}
	}
	return c.JSON(fiber.Map{
		"user":                   fmt.Sprintf("User [name=%s, backend_roles=%v, requestedTenant=%v]", cl.principal.Name, backend, req),
		"user_name":              cl.principal.Name,
		"user_requested_tenant":  req,
		"remote_address":         c.Context().RemoteAddr().String(),
		"backend_roles":          backend,
		"custom_attribute_names": []string{},
		"roles":                  roles,
		"tenants":                tenantMap,
		"principal":              nil,
		"peer_certificates":      "0",
		"sso_logout_url":         nil,
	})
}

// handleCatIndices answers GET /_cat/indices[/{pattern}] with the
// tenant's logical indices: JSON with ?format=json, a text table otherwise.
func (s *Server) handleCatIndices(c *fiber.Ctx) error {
	if err := checkParams(c, "v", "h", "s", "bytes", "health", "expand_wildcards", "pri"); err != nil {
		return err
	}
	sc := scopeOf(c)
	pattern, err := param(c, "index")
	if err != nil {
		return err
	}
	entries, err := sc.view.Expand(pattern)
	if err != nil {
		return err
	}
	type row struct {
		Health       string `json:"health"`
		Status       string `json:"status"`
		Index        string `json:"index"`
		UUID         string `json:"uuid"`
		Pri          string `json:"pri"`
		Rep          string `json:"rep"`
		DocsCount    string `json:"docs.count"`
		DocsDeleted  string `json:"docs.deleted"`
		StoreSize    string `json:"store.size"`
		PriStoreSize string `json:"pri.store.size"`
	}
	rows := make([]row, 0, len(entries))
	for _, e := range entries {
		info, err := sc.view.Info(c.UserContext(), e.Logical)
		if err != nil {
			return err
		}
		size := strconv.FormatUint(info.SizeBytes, 10) + "b"
		rows = append(rows, row{Health: "green", Status: "open", Index: info.Name, UUID: e.Physical, Pri: "1", Rep: "0",
			DocsCount: strconv.FormatUint(info.DocCount, 10), DocsDeleted: "0", StoreSize: size, PriStoreSize: size})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Index < rows[j].Index })
	if c.Query("format") == "json" {
		return c.JSON(rows)
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', 0)
	if c.Query("v") != "" && c.Query("v") != "false" {
		fmt.Fprintln(tw, "health\tstatus\tindex\tuuid\tpri\trep\tdocs.count\tdocs.deleted\tstore.size\tpri.store.size")
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Health, r.Status, r.Index, r.UUID, r.Pri, r.Rep, r.DocsCount, r.DocsDeleted, r.StoreSize, r.PriStoreSize)
	}
	tw.Flush()
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(sb.String())
}

// handleCatCount answers GET /_cat/count[/{pattern}]: the number of
// documents in the tenant's matching indices.
func (s *Server) handleCatCount(c *fiber.Ctx) error {
	if err := checkParams(c, "v", "h"); err != nil {
		return err
	}
	sc := scopeOf(c)
	pattern, err := param(c, "index")
	if err != nil {
		return err
	}
	entries, err := sc.view.Expand(pattern)
	if err != nil {
		return err
	}
	var total uint64
	for _, e := range entries {
		info, err := sc.view.Info(c.UserContext(), e.Logical)
		if err != nil {
			return err
		}
		total += info.DocCount
	}
	now := time.Now().UTC()
	epoch, ts, count := strconv.FormatInt(now.Unix(), 10), now.Format("15:04:05"), strconv.FormatUint(total, 10)
	if c.Query("format") == "json" {
		return c.JSON([]fiber.Map{{"epoch": epoch, "timestamp": ts, "count": count}})
	}
	out := ""
	if v := c.Query("v"); v != "" && v != "false" {
		out = "epoch      timestamp count\n"
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(out + epoch + " " + ts + " " + count + "\n")
}
