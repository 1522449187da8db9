package gateway

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// decodeObject decodes a JSON object body into keys, naming the problem
// when the body is not one.
func decodeObject(body []byte, what string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		return nil, badRequest("parsing_exception", "%s must be a JSON object: %s", what, index.JSONErrorText(err))
	}
	return m, nil
}

// indexParam returns the {index} of a single-segment route. A name
// starting with "_" there is an OpenSearch endpoint tenantgate does not
// have (/_stats, /_nodes, …), so it says that rather than calling it a
// bad index name.
func indexParam(c *fiber.Ctx) (string, error) {
	name, err := param(c, "index")
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(name, "_") {
		return "", badRequest("illegal_argument_exception", "no handler found for uri [%s] and method [%s]", strings.Clone(c.Path()), c.Method())
	}
	return name, nil
}

// handleCreateIndex answers PUT /{index} with optional mappings and
// settings.
func (s *Server) handleCreateIndex(c *fiber.Ctx) error {
	if err := checkParams(c, "wait_for_active_shards", "include_type_name"); err != nil {
		return err
	}
	sc := scopeOf(c)
	name, err := indexParam(c)
	if err != nil {
		return err
	}
	body, err := decodeObject(c.Body(), "the create index request")
	if err != nil {
		return err
	}
	var m *index.Mapping
	for k, v := range body {
		switch k {
		case "mappings":
			if m, err = index.ParseMapping(v); err != nil {
				return err
			}
		case "settings":
			if err := checkSettings(v); err != nil {
				return err
			}
		case "aliases":
			// Aliases are not supported yet and must not be silently dropped.
			if !isEmptyObject(v) {
				return badRequest("illegal_argument_exception", "index aliases are not supported by tenantgate")
			}
		default:
			return badRequest("parse_exception", "unknown key [%s] for create index", k)
		}
	}
	if err := sc.view.CreateIndex(c.UserContext(), name, m); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"acknowledged": true, "shards_acknowledged": true, "index": name})
}

func isEmptyObject(v json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(v, &m) == nil && len(m) == 0
}

// handleGetIndex answers GET and HEAD /{index}.
func (s *Server) handleGetIndex(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := indexParam(c)
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodHead {
		ok, err := sc.view.Exists(c.UserContext(), name)
		if err != nil {
			return err
		}
		if !ok {
			return c.SendStatus(fiber.StatusNotFound)
		}
		return c.SendStatus(fiber.StatusOK)
	}
	return perIndex(c, sc, name, func(e index.Entry, m *index.Mapping) any {
		return fiber.Map{
			"aliases":  fiber.Map{},
			"mappings": mappingJSON(m),
			"settings": fiber.Map{"index": fiber.Map{
				"number_of_shards": "1", "number_of_replicas": "0", "provided_name": e.Logical,
				"creation_date": strconv.FormatInt(e.Created.UnixMilli(), 10), "uuid": e.Physical,
				"max_result_window": strconv.Itoa(s.cfg.Limits.MaxResultWindow),
			}},
		}
	})
}

// mappingJSON returns m for output; an empty mapping is {} as in
// OpenSearch.
func mappingJSON(m *index.Mapping) any {
	if m == nil || (len(m.Properties) == 0 && m.Dynamic == "" && len(m.DynamicTemplates) == 0) {
		return fiber.Map{}
	}
	return m
}

// handleDeleteIndex answers DELETE /{index}. Wildcards are refused, as
// OpenSearch does with action.destructive_requires_name.
func (s *Server) handleDeleteIndex(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := indexParam(c)
	if err != nil {
		return err
	}
	if bytes.ContainsAny([]byte(name), "*,") || name == "_all" {
		return badRequest("illegal_argument_exception", "Wildcard expressions or all indices are not allowed")
	}
	if err := sc.view.DeleteIndex(c.UserContext(), name); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"acknowledged": true})
}

// handleRefresh answers GET|POST /_refresh and /{index}/_refresh. An
// acknowledged write is already visible to searches, so there is nothing
// to refresh; the named indices must still exist, and the answer has
// OpenSearch's shape (one primary shard, no replicas, per index).
func (s *Server) handleRefresh(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	sc := scopeOf(c)
	name, err := param(c, "index")
	if err != nil {
		return err
	}
	entries, err := sc.view.Expand(name)
	if err != nil {
		return err
	}
	n := len(entries)
	return c.JSON(fiber.Map{"_shards": fiber.Map{"total": n, "successful": n, "failed": 0}})
}

// handleGetMapping answers GET /{index}/_mapping and GET /_mapping.
func (s *Server) handleGetMapping(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := param(c, "index")
	if err != nil {
		return err
	}
	return perIndex(c, sc, name, func(_ index.Entry, m *index.Mapping) any {
		return fiber.Map{"mappings": mappingJSON(m)}
	})
}

// perIndex answers with one object per index that expr names, keyed by
// logical name and built by describe from the index's mapping.
func perIndex(c *fiber.Ctx, sc *scope, expr string, describe func(index.Entry, *index.Mapping) any) error {
	entries, err := sc.view.Expand(expr)
	if err != nil {
		return err
	}
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		m, err := sc.view.Mapping(c.UserContext(), e.Logical)
		if err != nil {
			return err
		}
		out[e.Logical] = describe(e, m)
	}
	return c.JSON(out)
}

// handlePutTemplate answers PUT /_index_template/{name}.
func (s *Server) handlePutTemplate(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	t, err := parseTemplate(name, c.Body())
	if err != nil {
		return err
	}
	if err := sc.view.PutTemplate(c.UserContext(), t); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"acknowledged": true})
}

// parseTemplate reads the body of PUT /_index_template/{name}.
func parseTemplate(name string, raw []byte) (index.Template, error) {
	body, err := decodeObject(raw, "the index template")
	if err != nil {
		return index.Template{}, err
	}
	t := index.Template{Name: name}
	for k, v := range body {
		switch k {
		case "index_patterns":
			var one string
			if json.Unmarshal(v, &one) == nil {
				t.IndexPatterns = []string{one}
			} else if err := json.Unmarshal(v, &t.IndexPatterns); err != nil {
				return t, badRequest("parse_exception", "[index_patterns] must be a string or an array of strings")
			}
		case "priority":
			if err := json.Unmarshal(v, &t.Priority); err != nil || t.Priority < 0 {
				return t, badRequest("parse_exception", "[priority] must be a non-negative integer")
			}
		case "version":
			var n int64
			if err := json.Unmarshal(v, &n); err != nil {
				return t, badRequest("parse_exception", "[version] must be an integer")
			}
			t.Version = &n
		case "_meta":
			t.Meta = append(json.RawMessage(nil), v...)
		case "template":
			tb, err := decodeObject(v, "[template]")
			if err != nil {
				return t, err
			}
			for tk, tv := range tb {
				switch tk {
				case "mappings":
					if t.Mappings, err = index.ParseMapping(tv); err != nil {
						return t, err
					}
				case "settings":
					if err := checkSettings(tv); err != nil {
						return t, err
					}
					t.Settings = append(json.RawMessage(nil), tv...)
				case "aliases":
					if !isEmptyObject(tv) {
						return t, badRequest("illegal_argument_exception", "index aliases are not supported by tenantgate")
					}
				default:
					return t, badRequest("parse_exception", "unknown key [%s] in [template]", tk)
				}
			}
		case "composed_of":
			var list []string
			if json.Unmarshal(v, &list) != nil || len(list) > 0 {
				return t, badRequest("illegal_argument_exception", "component templates ([composed_of]) are not supported by tenantgate")
			}
		case "data_stream":
			return t, badRequest("illegal_argument_exception", "data streams are not supported by tenantgate")
		default:
			return t, badRequest("parse_exception", "unknown key [%s] for index template", k)
		}
	}
	return t, nil
}

// handleGetTemplate answers GET|HEAD /_index_template[/{name}].
func (s *Server) handleGetTemplate(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	list := sc.view.Templates(name)
	if name != "" && len(list) == 0 {
		if c.Method() == fiber.MethodHead {
			return c.SendStatus(fiber.StatusNotFound)
		}
		return index.NotFoundf("resource_not_found_exception", "index template matching [%s] not found", name)
	}
	if c.Method() == fiber.MethodHead {
		return c.SendStatus(fiber.StatusOK)
	}
	type tmplBody struct {
		IndexPatterns []string        `json:"index_patterns"`
		Template      map[string]any  `json:"template"`
		Priority      int             `json:"priority"`
		Version       *int64          `json:"version,omitempty"`
		Meta          json.RawMessage `json:"_meta,omitempty"`
		ComposedOf    []string        `json:"composed_of"`
	}
	type item struct {
		Name          string   `json:"name"`
		IndexTemplate tmplBody `json:"index_template"`
	}
	out := make([]item, 0, len(list))
	for _, t := range list {
		tb := map[string]any{}
		if t.Mappings != nil {
			tb["mappings"] = t.Mappings
		}
		if len(t.Settings) > 0 {
			tb["settings"] = t.Settings
		}
		out = append(out, item{Name: t.Name, IndexTemplate: tmplBody{IndexPatterns: t.IndexPatterns, Template: tb, Priority: t.Priority, Version: t.Version, Meta: t.Meta, ComposedOf: []string{}}})
	}
	return c.JSON(fiber.Map{"index_templates": out})
}

// handleDeleteTemplate answers DELETE /_index_template/{name}.
func (s *Server) handleDeleteTemplate(c *fiber.Ctx) error {
	sc := scopeOf(c)
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	if err := sc.view.DeleteTemplate(c.UserContext(), name); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"acknowledged": true})
}
