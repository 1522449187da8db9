package bleve

// This file implements _source filtering: includes and excludes with *
// wildcards, applied to the stored source while keeping key order and the
// original bytes of every value that is kept whole.

import (
	"bytes"
	"encoding/json"
	"strings"
)

// sourceFilter is a parsed "_source" request value.
type sourceFilter struct {
	disabled bool
	includes []string
	excludes []string
}

// whole reports whether the source is returned unchanged.
func (f sourceFilter) whole() bool {
	return !f.disabled && len(f.includes) == 0 && len(f.excludes) == 0
}

// parseSourceFilter parses true/false, "pattern", ["p1", "p2"] or
// {"includes": …, "excludes": …} (also "include"/"exclude").
func parseSourceFilter(raw json.RawMessage) (sourceFilter, error) {
	var f sourceFilter
	if isNull(raw) {
		return f, nil
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		f.disabled = !b
		return f, nil
	}
	if pats, ok := patternList(raw); ok {
		f.includes = pats
		return f, nil
	}
	obj, keys, err := object(raw, "_source")
	if err != nil {
		return f, parsingErr("[_source] must be a boolean, a string, an array or an object")
	}
	for _, k := range keys {
		pats, ok := patternList(obj[k])
		if !ok {
			return f, parsingErr("[_source] [%s] must be a string or an array of strings", k)
		}
		switch k {
		case "includes", "include":
			f.includes = append(f.includes, pats...)
		case "excludes", "exclude":
			f.excludes = append(f.excludes, pats...)
		default:
			return f, parsingErr("[_source] unknown key [%s]", k)
		}
	}
	return f, nil
}

func patternList(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		return many, true
	}
	return nil, false
}

// apply filters one stored source. It returns nil when _source is
// disabled and the original bytes when nothing is filtered.
func (f sourceFilter) apply(src json.RawMessage) json.RawMessage {
	if f.disabled || src == nil {
		return nil
	}
	if f.whole() {
		return src
	}
	out, ok := f.filterObject(src, "", false)
	if !ok {
		return json.RawMessage("{}")
	}
	return out
}

// matchAny reports whether any pattern matches path.
func matchAny(pats []string, path string) bool {
	for _, p := range pats {
		if globMatch(p, path) {
			return true
		}
	}
	return false
}

// mayInclude reports whether some include pattern could match path or a
// path below it.
func (f sourceFilter) mayInclude(path string) bool {
	if len(f.includes) == 0 {
		return true
	}
	for _, p := range f.includes {
		if globMatch(p, path) || globMatch(p+".*", path) || prefixCouldMatch(p, path+".") {
			return true
		}
	}
	return false
}

// prefixCouldMatch reports whether some string starting with prefix can
// match the pattern.
func prefixCouldMatch(pattern, prefix string) bool {
	for i := 0; i < len(prefix); i++ {
		if pattern == "" {
			return false
		}
		if pattern[0] == '*' {
			return true
		}
		if pattern[0] != '?' && pattern[0] != prefix[i] {
			return false
		}
		pattern = pattern[1:]
	}
	return true
}

// filterObject filters an object found at path. included means an
// ancestor matched an include pattern. It returns false when nothing is
// left.
func (f sourceFilter) filterObject(raw json.RawMessage, path string, included bool) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, false
		}
		p := key
		if path != "" {
			p = path + "." + key
		}
		out, ok := f.filterValue(val, p, included)
		if !ok {
			continue
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(key)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(out)
		n++
	}
	buf.WriteByte('}')
	if n == 0 && path != "" {
		return nil, false
	}
	return buf.Bytes(), true
}

func (f sourceFilter) filterValue(val json.RawMessage, p string, included bool) (json.RawMessage, bool) {
	if matchAny(f.excludes, p) {
		return nil, false
	}
	inc := included || len(f.includes) == 0 || matchAny(f.includes, p)
	switch {
	case isObject(val):
		if !inc && !f.mayInclude(p) {
			return nil, false
		}
		if inc && len(f.excludes) == 0 {
			return val, true
		}
		return f.filterObject(val, p, inc)
	case isArray(val):
		if !inc && !f.mayInclude(p) {
			return nil, false
		}
		if inc && len(f.excludes) == 0 {
			return val, true
		}
		var items []json.RawMessage
		if err := json.Unmarshal(val, &items); err != nil {
			return nil, false
		}
		var kept []json.RawMessage
		for _, it := range items {
			if out, ok := f.filterValue(it, p, inc); ok {
				kept = append(kept, out)
			}
		}
		if len(kept) == 0 && !inc {
			return nil, false
		}
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i, k := range kept {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(k)
		}
		buf.WriteByte(']')
		return buf.Bytes(), true
	}
	if !inc {
		return nil, false
	}
	return val, true
}

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
