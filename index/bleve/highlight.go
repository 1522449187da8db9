package bleve

// This file is a small version of OpenSearch's "plain" highlighter: it
// re-analyzes _source values of the requested fields and wraps the tokens
// that match the query's terms for that field.

import (
	"encoding/json"
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/tenantgate/tenantgate/index"
)

// hlField is the options of one highlighted field (or pattern).
type hlField struct {
	pattern           string
	preTags, postTags []string
	fragmentSize      int
	numFragments      int
	requireFieldMatch bool
	encodeHTML        bool
}

// highlighter is a parsed "highlight" object.
type highlighter struct {
	fields []hlField
}

var hlKeys = map[string]bool{"pre_tags": true, "post_tags": true, "fragment_size": true, "number_of_fragments": true,
	"require_field_match": true, "type": true, "encoder": true, "fields": true, "order": true, "tags_schema": true,
	"boundary_scanner": true, "fragmenter": true, "no_match_size": true, "max_analyzed_offset": true, "phrase_limit": true}

// parseHighlight parses the highlight object; nil when absent.
func parseHighlight(raw json.RawMessage) (*highlighter, error) {
	if isNull(raw) {
		return nil, nil
	}
	obj, keys, err := object(raw, "highlight")
	if err != nil {
		return nil, err
	}
	def := hlField{preTags: []string{"<em>"}, postTags: []string{"</em>"}, fragmentSize: 100, numFragments: 5, requireFieldMatch: true}
	if err := def.read(obj, keys, true); err != nil {
		return nil, err
	}
	h := &highlighter{}
	fraw, ok := obj["fields"]
	if !ok {
		return nil, parsingErr("[highlight] requires [fields]")
	}
	type named struct {
		name string
		body json.RawMessage
	}
	var entries []named
	if isArray(fraw) {
		var arr []json.RawMessage
		if err := json.Unmarshal(fraw, &arr); err != nil {
			return nil, parsingErr("[highlight] [fields] must be an object or an array of objects")
		}
		for _, e := range arr {
			o, ks, err := object(e, "highlight.fields")
			if err != nil || len(ks) != 1 {
				return nil, parsingErr("[highlight] [fields] array entries must have exactly one field")
			}
			entries = append(entries, named{ks[0], o[ks[0]]})
		}
	} else {
		o, ks, err := object(fraw, "highlight.fields")
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			entries = append(entries, named{k, o[k]})
		}
	}
	for _, e := range entries {
		f := def
		f.pattern = e.name
		if !isNull(e.body) {
			o, ks, err := object(e.body, "highlight.fields."+e.name)
			if err != nil {
				return nil, err
			}
			if err := f.read(o, ks, false); err != nil {
				return nil, err
			}
		}
		h.fields = append(h.fields, f)
	}
	return h, nil
}

func (f *hlField) read(obj map[string]json.RawMessage, keys []string, top bool) error {
	for _, k := range keys {
		v := obj[k]
		if !hlKeys[k] || (k == "fields" && !top) {
			return parsingErr("[highlight] unknown field [%s]", k)
		}
		var err error
		switch k {
		case "pre_tags":
			if err = json.Unmarshal(v, &f.preTags); err != nil || len(f.preTags) == 0 {
				return parsingErr("[highlight] [pre_tags] must be a non-empty array of strings")
			}
		case "post_tags":
			if err = json.Unmarshal(v, &f.postTags); err != nil || len(f.postTags) == 0 {
				return parsingErr("[highlight] [post_tags] must be a non-empty array of strings")
			}
		case "fragment_size":
			if f.fragmentSize, err = asInt(v, k); err != nil {
				return err
			}
		case "number_of_fragments":
			if f.numFragments, err = asInt(v, k); err != nil || f.numFragments < 0 {
				return parsingErr("[highlight] [number_of_fragments] must be a non-negative integer")
			}
		case "require_field_match":
			if f.requireFieldMatch, err = asBool(v, k); err != nil {
				return err
			}
		case "encoder":
			s, _ := asString(v, k)
			switch s {
			case "html":
				f.encodeHTML = true
			case "default":
			default:
				return parsingErr("[highlight] unknown encoder [%s]", s)
			}
		case "type":
			s, _ := asString(v, k)
			if s != "plain" && s != "unified" && s != "fvh" {
				return parsingErr("[highlight] unknown highlighter type [%s]", s)
			}
		case "tags_schema":
			s, _ := asString(v, k)
			if s == "styled" {
				f.preTags = []string{`<em class="hlt">`}
			}
		}
	}
	return nil
}

// apply highlights one hit of target; nil when nothing matched.
func (h *highlighter) apply(t *searchTarget, src json.RawMessage) map[string][]string {
	var doc any
	if err := json.Unmarshal(src, &doc); err != nil {
		return nil
	}
	out := map[string][]string{}
	for _, f := range h.fields {
		for _, fp := range t.m.Paths() {
			p := fp.Property
			if !globMatch(f.pattern, fp.Path) || (p.Type != index.TypeText && p.Type != index.TypeKeyword) {
				continue
			}
			if _, done := out[fp.Path]; done {
				continue
			}
			terms := t.tr.hl[fp.Path]
			if !f.requireFieldMatch {
				terms = nil
				for _, ts := range t.tr.hl {
					terms = append(terms, ts...)
				}
			}
			if len(terms) == 0 {
				continue
			}
			if frags := highlightField(t, fp.Path, p, doc, terms, f); len(frags) > 0 {
				out[fp.Path] = frags
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// sourcePath is the _source path holding a field's values: multi-fields
// ("title.keyword") read their parent's value.
func sourcePath(m *index.Mapping, path string) string {
	if i := strings.LastIndexByte(path, '.'); i > 0 {
		if parent, ok := m.Lookup(path[:i]); ok && parent.Type != index.TypeObject {
			return path[:i]
		}
	}
	return path
}

type fragment struct {
	text  string
	score int
	start int
}

func highlightField(t *searchTarget, path string, p *index.Property, doc any, terms []hlTerm, f hlField) []string {
	a := t.h.analyzer(analyzerFor(p))
	if a == nil {
		return nil
	}
	var frags []fragment
	for _, v := range sourceValues(doc, sourcePath(t.m, path)) {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		type span struct{ start, end int }
		var spans []span
		var tokStarts []int
		for _, tok := range a.Analyze([]byte(s)) {
			tokStarts = append(tokStarts, tok.Start)
			if matchesTerm(string(tok.Term), terms) {
				spans = append(spans, span{tok.Start, tok.End})
			}
		}
		if len(spans) == 0 {
			continue
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
		// render marks up s[from:to].
		render := func(from, to int) (string, int) {
			var b strings.Builder
			n := 0
			pos := from
			for _, sp := range spans {
				if sp.start < from || sp.end > to || sp.start < pos {
					continue
				}
				b.WriteString(f.encode(s[pos:sp.start]))
				tag := n % len(f.preTags)
				b.WriteString(f.preTags[tag])
				b.WriteString(f.encode(s[sp.start:sp.end]))
				b.WriteString(f.postTags[min(tag, len(f.postTags)-1)])
				pos = sp.end
				n++
			}
			b.WriteString(f.encode(s[pos:to]))
			return b.String(), n
		}
		if f.numFragments == 0 || f.fragmentSize <= 0 {
			text, n := render(0, len(s))
			frags = append(frags, fragment{text: text, score: n, start: len(frags)})
			continue
		}
		// Cut the value into fragments of about fragment_size characters,
		// at token boundaries, and keep those with a match.
		cuts := []int{0}
		for _, st := range tokStarts {
			if st-cuts[len(cuts)-1] >= f.fragmentSize {
				cuts = append(cuts, st)
			}
		}
		cuts = append(cuts, len(s))
		for i := 0; i+1 < len(cuts); i++ {
			text, n := render(cuts[i], cuts[i+1])
			if n > 0 {
				frags = append(frags, fragment{text: strings.TrimSpace(text), score: n, start: len(frags)})
			}
		}
	}
	if f.numFragments > 0 {
		sort.SliceStable(frags, func(i, j int) bool { return frags[i].score > frags[j].score })
		if len(frags) > f.numFragments {
			frags = frags[:f.numFragments]
		}
	}
	out := make([]string, len(frags))
	for i, fr := range frags {
		out[i] = fr.text
	}
	return out
}

func (f hlField) encode(s string) string {
	if f.encodeHTML {
		return html.EscapeString(s)
	}
	return s
}

func matchesTerm(tok string, terms []hlTerm) bool {
	for _, t := range terms {
		switch {
		case t.glob != "":
			if globMatch(t.glob, tok) || globMatch(strings.ToLower(t.glob), tok) {
				return true
			}
		case t.prefix:
			if strings.HasPrefix(tok, t.term) {
				return true
			}
		default:
			if tok == t.term {
				return true
			}
		}
	}
	return false
}
