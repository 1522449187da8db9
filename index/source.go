package index

// This file implements _source filtering, for searches and document reads
// alike: includes and excludes with * wildcards, applied to a stored
// source while keeping its key order and the original bytes of every
// value that is kept whole.

import (
	"bytes"
	"encoding/json"
	"sort"
)

// SourceFilter is a parsed "_source" value of a search or a document read.
// The zero value returns the whole source.
type SourceFilter struct {
	// Disabled means no source at all ("_source": false).
	Disabled bool
	// Includes and Excludes are dotted field paths where * matches any run
	// of characters (dots included). An included object brings everything
	// inside it; excludes win over includes.
	Includes []string
	Excludes []string
}

// ParseSourceFilter parses a "_source" value: true or false, "pattern",
// ["p1", "p2"] (includes), or {"includes": …, "excludes": …} (also
// "include" / "exclude", each a string or an array of strings). nil or
// null means the whole source. A malformed value is a parsing_exception.
func ParseSourceFilter(spec json.RawMessage) (SourceFilter, error) {
	var f SourceFilter
	if isNullJSON(spec) {
		return f, nil
	}
	var b bool
	if json.Unmarshal(spec, &b) == nil {
		f.Disabled = !b
		return f, nil
	}
	if pats, ok := patternList(spec); ok {
		f.Includes = pats
		return f, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(spec, &obj); err != nil || obj == nil {
		return f, Invalidf("parsing_exception", "[_source] must be a boolean, a string, an array or an object")
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pats, ok := patternList(obj[k])
		if !ok {
			return f, Invalidf("parsing_exception", "[_source] [%s] must be a string or an array of strings", k)
		}
		switch k {
		case "includes", "include":
			f.Includes = append(f.Includes, pats...)
		case "excludes", "exclude":
			f.Excludes = append(f.Excludes, pats...)
		default:
			return f, Invalidf("parsing_exception", "[_source] unknown key [%s]", k)
		}
	}
	return f, nil
}

// SourceSpec returns the "_source" value {"includes": …, "excludes": …}
// for the given lists (as from the _source_includes and _source_excludes
// URL parameters); nil lists are left out, so SourceSpec(nil, nil) is {}
// (the whole source).
func SourceSpec(includes, excludes []string) json.RawMessage {
	spec := map[string][]string{}
	if includes != nil {
		spec["includes"] = includes
	}
	if excludes != nil {
		spec["excludes"] = excludes
	}
	raw, _ := json.Marshal(spec) // a map of string slices always encodes
	return raw
}

// FilterSource filters the stored source src by the "_source" value spec
// (see ParseSourceFilter). It returns the filtered source and whether the
// source is to be returned at all (false for "_source": false). A source
// that is not a JSON object filters to {} unless it is returned whole.
func FilterSource(src, spec json.RawMessage) (json.RawMessage, bool, error) {
	f, err := ParseSourceFilter(spec)
	if err != nil {
		return nil, false, err
	}
	if f.Disabled {
		return nil, false, nil
	}
	return f.Apply(src), true, nil
}

// Whole reports whether f returns the source unchanged.
func (f SourceFilter) Whole() bool {
	return !f.Disabled && len(f.Includes) == 0 && len(f.Excludes) == 0
}

// Apply filters one stored source. It returns nil when f is disabled or
// src is nil, and src itself when nothing is filtered.
func (f SourceFilter) Apply(src json.RawMessage) json.RawMessage {
	if f.Disabled || src == nil {
		return nil
	}
	if f.Whole() {
		return src
	}
	out, ok := f.filterObject(src, "", false)
	if !ok {
		return json.RawMessage("{}")
	}
	return out
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

func isNullJSON(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// matchAny reports whether any pattern matches path.
func matchAny(pats []string, path string) bool {
	for _, p := range pats {
		if MatchPattern(p, path) {
			return true
		}
	}
	return false
}

// mayInclude reports whether some include pattern could match path or a
// path below it.
func (f SourceFilter) mayInclude(path string) bool {
	if len(f.Includes) == 0 {
		return true
	}
	for _, p := range f.Includes {
		if MatchPattern(p, path) || prefixCouldMatch(p, path+".") {
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
		if pattern[0] != prefix[i] {
			return false
		}
		pattern = pattern[1:]
	}
	return true
}

// filterObject filters an object found at path. included means an
// ancestor matched an include pattern. It returns false when nothing is
// left (or raw is no object).
func (f SourceFilter) filterObject(raw json.RawMessage, path string, included bool) (json.RawMessage, bool) {
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

func (f SourceFilter) filterValue(val json.RawMessage, p string, included bool) (json.RawMessage, bool) {
	if matchAny(f.Excludes, p) {
		return nil, false
	}
	inc := included || len(f.Includes) == 0 || matchAny(f.Includes, p)
	switch first(val) {
	case '{':
		if !inc && !f.mayInclude(p) {
			return nil, false
		}
		if inc && len(f.Excludes) == 0 {
			return val, true
		}
		return f.filterObject(val, p, inc)
	case '[':
		if !inc && !f.mayInclude(p) {
			return nil, false
		}
		if inc && len(f.Excludes) == 0 {
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

// first returns the first non-space byte of raw, or 0.
func first(raw json.RawMessage) byte {
	s := bytes.TrimSpace(raw)
	if len(s) == 0 {
		return 0
	}
	return s[0]
}
