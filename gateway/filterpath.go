package gateway

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// applyFilterPath filters a JSON response body by OpenSearch's
// filter_path parameter: comma-separated dotted paths where * matches
// one name, ** any number of levels, and a leading - excludes. Arrays are
// passed through transparently. Without the parameter nothing happens.
func applyFilterPath(c *fiber.Ctx) error {
	raw := c.Query("filter_path")
	if raw == "" || !bytes.HasPrefix(c.Response().Header.ContentType(), []byte(fiber.MIMEApplicationJSON)) {
		return nil
	}
	var include, exclude [][]string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(p, "-"); ok {
			exclude = append(exclude, strings.Split(rest, "."))
			continue
		}
		include = append(include, strings.Split(p, "."))
	}
	dec := json.NewDecoder(bytes.NewReader(c.Response().Body()))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil // not JSON after all: leave it alone
	}
	if len(include) > 0 {
		var ok bool
		if v, ok = keep(v, include); !ok {
			v = map[string]any{}
		}
	}
	if len(exclude) > 0 {
		v, _ = drop(v, exclude)
	}
	out, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Response().SetBodyRaw(out)
	return nil
}

// step matches one key against the patterns: full when a pattern ends
// at this key, next holds what the patterns require below it.
func step(pats [][]string, key string) (next [][]string, full bool) {
	for _, p := range pats {
		if len(p) == 0 {
			continue
		}
		if p[0] == "**" {
			next = append(next, p)
			n, f := step([][]string{p[1:]}, key)
			next, full = append(next, n...), full || f || len(p) == 1
			continue
		}
		if index.MatchPattern(p[0], key) {
			if len(p) == 1 {
				full = true
			} else {
				next = append(next, p[1:])
			}
		}
	}
	return next, full
}

// keep returns the parts of v that the include patterns name.
func keep(v any, pats [][]string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range t {
			next, full := step(pats, k)
			if full {
				out[k] = child
				continue
			}
			if len(next) > 0 {
				if sub, ok := keep(child, next); ok {
					out[k] = sub
				}
			}
		}
		return out, len(out) > 0
	case []any:
		var out []any
		for _, e := range t {
			if sub, ok := keep(e, pats); ok {
				out = append(out, sub)
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// drop returns v without the parts the exclude patterns name.
func drop(v any, pats [][]string) (any, bool) {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range t {
			next, full := step(pats, k)
			if full {
				continue
			}
			if len(next) > 0 {
				child, _ = drop(child, next)
			}
			out[k] = child
		}
		return out, true
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			sub, _ := drop(e, pats)
			out = append(out, sub)
		}
		return out, true
	}
	return v, true
}
