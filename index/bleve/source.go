package bleve

// This file reads values out of stored sources. _source filtering itself
// is index.SourceFilter, shared with document reads.

import (
	"strings"
)

// sourceValues returns the leaf values at a dotted path of a source
// document, following objects and arrays. Keys that contain dots
// ("a.b": 1) are matched too.
func sourceValues(src any, path string) []any {
	var out []any
	var walk func(v any, rest string)
	walk = func(v any, rest string) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, rest)
			}
		case map[string]any:
			if rest == "" {
				return
			}
			for k, e := range x {
				if k == rest {
					walk(e, "")
				} else if strings.HasPrefix(rest, k+".") {
					walk(e, rest[len(k)+1:])
				}
			}
		default:
			if rest == "" && v != nil {
				out = append(out, v)
			}
		}
	}
	walk(src, path)
	return out
}
