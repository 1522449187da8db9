package gateway

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gofiber/fiber/v2"
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
	requested, err := requestedTenant(c)
	if err != nil {
		return err
	}
	tenantMap := s.tenantsOf(cl)
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
// tenant's logical indices.
func (s *Server) handleCatIndices(c *fiber.Ctx) error {
	if err := checkParams(c, "v", "h", "s", "bytes", "health", "pri", "expand_wildcards", "help"); err != nil {
		return err
	}
	sc := scopeOf(c)
	pattern, err := param(c, "index")
	if err != nil {
		return err
	}
	o, err := expandOptions(queryArg(c))
	if err != nil {
		return err
	}
	entries, err := sc.view.ExpandWith(pattern, o)
	if err != nil {
		return err
	}
	unit, err := byteUnit(c.Query("bytes"))
	if err != nil {
		return err
	}
	if h := c.Query("health"); h != "" && h != "green" && h != "yellow" && h != "red" {
		return badRequest("illegal_argument_exception", "[health] must be green, yellow or red")
	}
	t := catTable{columns: []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"}}
	for _, e := range entries {
		info, err := sc.view.Info(c.UserContext(), e.Logical)
		if err != nil {
			return err
		}
		if h := c.Query("health"); h != "" && h != "green" {
			continue // every index is green: one copy, always available
		}
		size := formatBytes(info.SizeBytes, unit)
		t.rows = append(t.rows, map[string]string{"health": "green", "status": "open", "index": info.Name, "uuid": e.Physical,
			"pri": "1", "rep": "0", "docs.count": strconv.FormatUint(info.DocCount, 10), "docs.deleted": "0",
			"store.size": size, "pri.store.size": size})
	}
	return t.send(c, "index")
}

// handleCatCount answers GET /_cat/count[/{pattern}]: the number of
// documents in the tenant's matching indices.
func (s *Server) handleCatCount(c *fiber.Ctx) error {
	if err := checkParams(c, "v", "h", "s", "help"); err != nil {
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
	t := catTable{columns: []string{"epoch", "timestamp", "count"}, rows: []map[string]string{{
		"epoch": strconv.FormatInt(now.Unix(), 10), "timestamp": now.Format("15:04:05"), "count": strconv.FormatUint(total, 10)}}}
	return t.send(c, "")
}

// catTable is the answer of a _cat API: named columns and rows.
type catTable struct {
	columns []string
	rows    []map[string]string
}

// send renders the table as JSON (format=json) or text, honouring h
// (columns), s (sort keys with :asc or :desc), v (header) and help.
func (t catTable) send(c *fiber.Ctx, defaultSort string) error {
	known := map[string]bool{}
	for _, col := range t.columns {
		known[col] = true
	}
	cols := t.columns
	if h := c.Query("h"); h != "" {
		cols = nil
		for _, col := range strings.Split(h, ",") {
			if !known[col] {
				return badRequest("illegal_argument_exception", "unknown column [%s]; columns are %s", col, strings.Join(t.columns, ", "))
			}
			cols = append(cols, col)
		}
	}
	if c.Query("help") != "" {
		return c.SendString(strings.Join(t.columns, "\n") + "\n")
	}
	sortKeys := defaultSort
	if v := c.Query("s"); v != "" {
		sortKeys = v
	}
	if sortKeys != "" {
		type key struct {
			col  string
			desc bool
		}
		var keys []key
		for _, k := range strings.Split(sortKeys, ",") {
			col, dir, _ := strings.Cut(k, ":")
			if !known[col] || (dir != "" && dir != "asc" && dir != "desc") {
				return badRequest("illegal_argument_exception", "unable to sort by [%s]", k)
			}
			keys = append(keys, key{col, dir == "desc"})
		}
		sort.SliceStable(t.rows, func(i, j int) bool {
			for _, k := range keys {
				a, b := t.rows[i][k.col], t.rows[j][k.col]
				if a == b {
					continue
				}
				less := catLess(a, b)
				if k.desc {
					return !less
				}
				return less
			}
			return false
		})
	}
	if c.Query("format") == "json" {
		out := make([]map[string]string, 0, len(t.rows))
		for _, r := range t.rows {
			m := make(map[string]string, len(cols))
			for _, col := range cols {
				m[col] = r[col]
			}
			out = append(out, m)
		}
		return c.JSON(out)
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', 0)
	if v := c.Query("v"); c.Context().QueryArgs().Has("v") && v != "false" {
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	for _, r := range t.rows {
		vals := make([]string, len(cols))
		for i, col := range cols {
			vals[i] = r[col]
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	tw.Flush()
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString(sb.String())
}

// catLess compares cells numerically when both are numbers.
func catLess(a, b string) bool {
	x, errA := strconv.ParseFloat(strings.TrimRight(a, "bkmgtp"), 64)
	y, errB := strconv.ParseFloat(strings.TrimRight(b, "bkmgtp"), 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// byteUnit parses the bytes parameter of the _cat APIs.
func byteUnit(v string) (uint64, error) {
	switch v {
	case "", "b":
		return 1, nil
	case "kb":
		return 1 << 10, nil
	case "mb":
		return 1 << 20, nil
	case "gb":
		return 1 << 30, nil
	case "tb":
		return 1 << 40, nil
	}
	return 0, badRequest("illegal_argument_exception", "[bytes] must be one of b, kb, mb, gb, tb")
}

func formatBytes(n, unit uint64) string {
	if unit == 1 {
		return strconv.FormatUint(n, 10) + "b"
	}
	return strconv.FormatUint(n/unit, 10)
}
