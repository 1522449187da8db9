package bleve

// This file translates the OpenSearch query DSL into Bleve queries. The
// translation is per physical index: the index's OpenSearch mapping decides
// how a field is searched (analyzed terms for text, one exact term for
// keyword, ranges for numbers, dates and IPs). Fields the mapping does not
// know match nothing, as in OpenSearch.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// translator turns query DSL into Bleve queries for one index.
type translator struct {
	m   *index.Mapping
	bm  mapping.IndexMapping // resolves analyzer names
	now time.Time
	// hl collects, per field, the terms of positive leaf queries for the
	// highlighter. negated counts enclosing must_not clauses.
	hl      map[string][]hlTerm
	negated int
	// checked memoizes checkRegexp per pattern (a pattern is checked
	// once however many fields it is searched on); regexpWork sums the
	// determinize work of the query's patterns (see automaton.go).
	checked    map[string]regexpCheck
	regexpWork int
}

func newTranslator(m *index.Mapping, bm mapping.IndexMapping, now time.Time) *translator {
	return &translator{m: m, bm: bm, now: now, hl: map[string][]hlTerm{}}
}

// hlTerm is one query term the highlighter looks for in a field.
type hlTerm struct {
	term   string
	prefix bool   // term is a prefix
	glob   string // wildcard pattern (* and ?), if set
}

func (t *translator) note(field string, h hlTerm) {
	if t.negated == 0 && t.hl != nil {
		t.hl[field] = append(t.hl[field], h)
	}
}

func parsingErr(format string, args ...any) error {
	return index.Invalidf("parsing_exception", format, args...)
}

func shardErr(format string, args ...any) error {
	return index.Invalidf("query_shard_exception", format, args...)
}

// object decodes a JSON object and returns it with its keys sorted, so
// that error messages are deterministic.
func object(raw json.RawMessage, what string) (map[string]json.RawMessage, []string, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, nil, parsingErr("[%s] must be an object", what)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return obj, keys, nil
}

// value decodes any JSON value, keeping numbers as json.Number.
func value(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func isObject(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) > 0 && s[0] == '{'
}

func isArray(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) > 0 && s[0] == '['
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

func asString(raw json.RawMessage, what string) (string, error) {
	v, err := value(raw)
	if err != nil {
		return "", parsingErr("[%s] must be a value", what)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", parsingErr("[%s] must be a string, number or boolean", what)
}

func asFloat(raw json.RawMessage, what string) (float64, error) {
	v, err := value(raw)
	if err == nil {
		switch x := v.(type) {
		case json.Number:
			if f, err := x.Float64(); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(x, 64); err == nil {
				return f, nil
			}
		}
	}
	return 0, parsingErr("[%s] must be a number", what)
}

func asInt(raw json.RawMessage, what string) (int, error) {
	f, err := asFloat(raw, what)
	if err != nil || f != math.Trunc(f) {
		return 0, parsingErr("[%s] must be an integer", what)
	}
	return int(f), nil
}

// readOpt sets *dst to parse(obj[key], key) when obj holds key; on an
// error *dst is left as it was.
func readOpt[T any](obj map[string]json.RawMessage, key string, parse func(json.RawMessage, string) (T, error), dst *T) error {
	raw, ok := obj[key]
	if !ok {
		return nil
	}
	v, err := parse(raw, key)
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

func asBool(raw json.RawMessage, what string) (bool, error) {
	v, err := value(raw)
	if err == nil {
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
	}
	return false, parsingErr("[%s] must be a boolean", what)
}

// list returns the elements of a JSON array, or the value itself when it
// is not an array (OpenSearch accepts a single clause for a list).
func list(raw json.RawMessage) ([]json.RawMessage, error) {
	if !isArray(raw) {
		return []json.RawMessage{raw}, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// setBoost applies a boost to a Bleve query when it supports one.
func setBoost(q query.Query, boost float64) query.Query {
	if boost == 1 {
		return q
	}
	if bq, ok := q.(query.BoostableQuery); ok {
		bq.SetBoost(boost)
		return q
	}
	return q
}

// parse translates one query object. nil or {} is match_all.
func (t *translator) parse(raw json.RawMessage) (query.Query, error) {
	if isNull(raw) {
		return query.NewMatchAllQuery(), nil
	}
	obj, keys, err := object(raw, "query")
	if err != nil {
		return nil, parsingErr("query malformed, must start with start_object")
	}
	if len(keys) == 0 {
		return query.NewMatchAllQuery(), nil
	}
	if len(keys) > 1 {
		return nil, parsingErr("[%s] malformed query, expected [END_OBJECT] but found [FIELD_NAME]", keys[0])
	}
	typ := keys[0]
	body := obj[typ]
	switch typ {
	case "match_all":
		return t.matchAll(body)
	case "match_none":
		if _, err := t.params(typ, body, nil); err != nil {
			return nil, err
		}
		return query.NewMatchNoneQuery(), nil
	case "match", "match_phrase", "match_phrase_prefix", "match_bool_prefix":
		return t.match(typ, body)
	case "multi_match":
		return t.multiMatch(body)
	case "term", "prefix", "wildcard":
		return t.termLike(typ, body)
	case "terms":
		return t.terms(body)
	case "range":
		return t.rangeQuery(body)
	case "bool":
		return t.boolQuery(body)
	case "exists":
		return t.exists(body)
	case "ids":
		return t.ids(body)
	case "constant_score":
		return t.constantScore(body)
	case "query_string", "simple_query_string":
		return t.queryString(typ, body)
	case "kql":
		return t.kql(body)
	}
	return nil, parsingErr("unknown query [%s]", typ)
}

// params decodes the parameters of a query and refuses unknown ones.
// "boost" is always accepted. "_name" is refused: hits carry no
// matched_queries, and a name that silently does nothing would mislead.
func (t *translator) params(typ string, body json.RawMessage, allowed map[string]bool) (map[string]json.RawMessage, error) {
	obj, keys, err := object(body, typ)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k == "_name" {
			return nil, parsingErr("[%s] query: named queries ([_name]) are not supported by tenantgate", typ)
		}
		if k == "boost" || allowed[k] {
			continue
		}
		return nil, parsingErr("[%s] query does not support [%s]", typ, k)
	}
	return obj, nil
}

func boostOf(obj map[string]json.RawMessage) (float64, error) {
	raw, ok := obj["boost"]
	if !ok {
		return 1, nil
	}
	b, err := asFloat(raw, "boost")
	if err != nil || b < 0 {
		return 0, parsingErr("[boost] must be a non-negative number")
	}
	return b, nil
}

func (t *translator) matchAll(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("match_all", body, nil)
	if err != nil {
		return nil, err
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	return setBoost(query.NewMatchAllQuery(), boost), nil
}

// fieldBody returns the single field of a {"field": ...} query.
func fieldBody(typ string, body json.RawMessage) (string, json.RawMessage, error) {
	obj, keys, err := object(body, typ)
	if err != nil {
		return "", nil, err
	}
	var fields []string
	for _, k := range keys {
		if k == "_name" {
			return "", nil, parsingErr("[%s] query: named queries ([_name]) are not supported by tenantgate", typ)
		}
		if k != "boost" {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return "", nil, parsingErr("[%s] query requires a field", typ)
	}
	if len(fields) > 1 {
		return "", nil, parsingErr("[%s] query doesn't support multiple fields, found [%s] and [%s]", typ, fields[0], fields[1])
	}
	return fields[0], obj[fields[0]], nil
}

// lookup returns the property of a field, or nil when unmapped.
func (t *translator) lookup(field string) *index.Property {
	p, ok := t.m.Lookup(field)
	if !ok || p == nil || p.Type == index.TypeObject {
		return nil
	}
	if p.Index != nil && !*p.Index {
		return nil
	}
	return p
}

func (t *translator) analyzer(name string) (analysis.Analyzer, error) {
	a := t.bm.AnalyzerNamed(name)
	if a == nil {
		return nil, index.Invalidf("illegal_argument_exception", "analyzer [%s] not found", name)
	}
	return a, nil
}

// searchAnalyzer returns the analyzer for query text on a text field; an
// explicit OpenSearch analyzer name from the request wins.
func (t *translator) searchAnalyzer(p *index.Property, requested string) (analysis.Analyzer, error) {
	if requested != "" {
		name, ok := analyzerNames[requested]
		if !ok {
			return nil, index.Invalidf("illegal_argument_exception", "analyzer [%s] not found", requested)
		}
		return t.analyzer(name)
	}
	return t.analyzer(searchAnalyzerFor(p))
}

// matchOpts are the options of match and multi_match.
type matchOpts struct {
	text      string
	and       bool
	msm       string
	fuzziness string
	prefixLen int
	analyzer  string
	slop      int
	boost     float64
	lenient   bool
}

var matchParams = map[string]map[string]bool{
	"match": {"query": true, "operator": true, "minimum_should_match": true, "fuzziness": true, "analyzer": true,
		"prefix_length": true, "max_expansions": true, "fuzzy_transpositions": true, "lenient": true,
		"zero_terms_query": true, "auto_generate_synonyms_phrase_query": true, "fuzzy_rewrite": true},
	"match_phrase":        {"query": true, "slop": true, "analyzer": true, "zero_terms_query": true},
	"match_phrase_prefix": {"query": true, "slop": true, "analyzer": true, "max_expansions": true},
	"match_bool_prefix": {"query": true, "analyzer": true, "operator": true, "minimum_should_match": true,
		"fuzziness": true, "prefix_length": true, "max_expansions": true},
}

func (t *translator) match(typ string, body json.RawMessage) (query.Query, error) {
	field, fb, err := fieldBody(typ, body)
	if err != nil {
		return nil, err
	}
	o := matchOpts{boost: 1}
	if isObject(fb) {
		obj, err := t.params(typ, fb, matchParams[typ])
		if err != nil {
			return nil, err
		}
		if err := o.read(obj); err != nil {
			return nil, err
		}
		if _, ok := obj["query"]; !ok {
			return nil, parsingErr("[%s] query requires [query] for field [%s]", typ, field)
		}
	} else if o.text, err = asString(fb, typ); err != nil {
		return nil, err
	}
	switch typ {
	case "match":
		return t.matchField(field, o)
	case "match_phrase":
		return t.phraseField(field, o, false)
	case "match_phrase_prefix":
		return t.phraseField(field, o, true)
	default: // match_bool_prefix
		return t.boolPrefixField(field, o)
	}
}

func (o *matchOpts) read(obj map[string]json.RawMessage) error {
	var err error
	if err := readOpt(obj, "query", asString, &o.text); err != nil {
		return err
	}
	if raw, ok := obj["operator"]; ok {
		s, err := asString(raw, "operator")
		if err != nil {
			return err
		}
		switch strings.ToLower(s) {
		case "and":
			o.and = true
		case "or":
		default:
			return parsingErr("unknown operator [%s], expected [and] or [or]", s)
		}
	}
	if err := readOpt(obj, "minimum_should_match", asString, &o.msm); err != nil {
		return err
	}
	if err := readOpt(obj, "fuzziness", asString, &o.fuzziness); err != nil {
		return err
	}
	if err := readOpt(obj, "prefix_length", asInt, &o.prefixLen); err != nil {
		return err
	}
	if err := readOpt(obj, "analyzer", asString, &o.analyzer); err != nil {
		return err
	}
	if raw, ok := obj["slop"]; ok {
		if o.slop, err = asInt(raw, "slop"); err != nil || o.slop < 0 {
			return parsingErr("[slop] must be a non-negative integer")
		}
	}
	if err := readOpt(obj, "lenient", asBool, &o.lenient); err != nil {
		return err
	}
	if raw, ok := obj["zero_terms_query"]; ok {
		s, _ := asString(raw, "zero_terms_query")
		if s != "none" {
			return parsingErr("[zero_terms_query] only [none] is supported")
		}
	}
	if o.boost, err = boostOf(obj); err != nil {
		return err
	}
	return nil
}

// fuzzy returns the Bleve fuzziness for an OpenSearch fuzziness value:
// an edit distance, or -1 for AUTO.
func fuzzy(s string) (int, error) {
	switch strings.ToUpper(s) {
	case "":
		return 0, nil
	case "AUTO":
		return -1, nil
	}
	if strings.HasPrefix(strings.ToUpper(s), "AUTO:") {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 2 {
		return 0, parsingErr("[fuzziness] must be 0, 1, 2 or AUTO, got [%s]", s)
	}
	return n, nil
}

// matchField builds a match query on one field.
func (t *translator) matchField(field string, o matchOpts) (query.Query, error) {
	p := t.lookup(field)
	if p == nil {
		return query.NewMatchNoneQuery(), nil
	}
	fz, err := fuzzy(o.fuzziness)
	if err != nil {
		return nil, err
	}
	if p.Type != index.TypeText {
		if p.Type != index.TypeKeyword {
			q, err := t.termQuery(field, p, o.text)
			if err != nil && o.lenient {
				return query.NewMatchNoneQuery(), nil
			}
			return setBoost(q, o.boost), err
		}
		t.note(field, hlTerm{term: o.text})
		return setBoost(termOrFuzzy(field, o.text, fz, o.prefixLen), o.boost), nil
	}
	tokens, err := t.matchTokens(p, o)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	qs := make([]query.Query, 0, len(tokens))
	for _, tok := range tokens {
		term := string(tok.Term)
		t.note(field, hlTerm{term: term})
		qs = append(qs, termOrFuzzy(field, term, fz, o.prefixLen))
	}
	return combineMatch(qs, o, true)
}

// matchTokens runs o.text through the field's search analyzer (or the
// one o names).
func (t *translator) matchTokens(p *index.Property, o matchOpts) (analysis.TokenStream, error) {
	a, err := t.searchAnalyzer(p, o.analyzer)
	if err != nil {
		return nil, err
	}
	return a.Analyze([]byte(o.text)), nil
}

// combineMatch joins a match query's per-term queries: all of them with
// o.and, else at least minimum_should_match of them (at least one). With
// noneAboveCount, a minimum above len(qs) matches nothing.
func combineMatch(qs []query.Query, o matchOpts, noneAboveCount bool) (query.Query, error) {
	if o.and {
		return setBoost(query.NewConjunctionQuery(qs), o.boost), nil
	}
	min := 1
	if o.msm != "" {
		var err error
		if min, err = minimumShouldMatch(o.msm, len(qs)); err != nil {
			return nil, err
		}
		min = max(min, 1)
	}
	if noneAboveCount && min > len(qs) {
		return query.NewMatchNoneQuery(), nil
	}
	d := query.NewDisjunctionQuery(qs)
	d.SetMin(float64(min))
	return setBoost(d, o.boost), nil
}

func termOrFuzzy(field, term string, fz, prefixLen int) query.Query {
	if fz == 0 {
		q := query.NewTermQuery(term)
		q.SetField(field)
		return q
	}
	q := query.NewFuzzyQuery(term)
	q.SetField(field)
	q.SetPrefix(prefixLen)
	if fz < 0 {
		q.SetAutoFuzziness(true)
	} else {
		q.SetFuzziness(fz)
	}
	return limitExpansion(q, field)
}

// phraseField builds match_phrase (and match_phrase_prefix) on one field.
func (t *translator) phraseField(field string, o matchOpts, prefix bool) (query.Query, error) {
	p := t.lookup(field)
	if p == nil {
		return query.NewMatchNoneQuery(), nil
	}
	if p.Type != index.TypeText {
		if p.Type == index.TypeKeyword && prefix {
			t.note(field, hlTerm{term: o.text, prefix: true})
			q := query.NewPrefixQuery(o.text)
			q.SetField(field)
			return setBoost(limitExpansion(q, field), o.boost), nil
		}
		return t.matchField(field, o)
	}
	tokens, err := t.matchTokens(p, o)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	for i, tok := range tokens {
		t.note(field, hlTerm{term: string(tok.Term), prefix: prefix && i == len(tokens)-1})
	}
	terms := phraseTerms(tokens)
	if prefix {
		return setBoost(&slopPhraseQuery{field: field, terms: terms, slop: o.slop, prefix: true}, o.boost), nil
	}
	if o.slop == 0 || len(terms) < 2 {
		return setBoost(query.NewMultiPhraseQuery(terms, field), o.boost), nil
	}
	return setBoost(&slopPhraseQuery{field: field, terms: terms, slop: o.slop}, o.boost), nil
}

// boolPrefixField is match_bool_prefix: all terms but the last are terms,
// the last a prefix.
func (t *translator) boolPrefixField(field string, o matchOpts) (query.Query, error) {
	p := t.lookup(field)
	if p == nil {
		return query.NewMatchNoneQuery(), nil
	}
	if p.Type != index.TypeText {
		return t.matchField(field, o)
	}
	tokens, err := t.matchTokens(p, o)
	if err != nil {
		return nil, err
	}
	if len(tokens) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	var qs []query.Query
	for i, tok := range tokens {
		term := string(tok.Term)
		if i == len(tokens)-1 {
			t.note(field, hlTerm{term: term, prefix: true})
			q := query.NewPrefixQuery(term)
			q.SetField(field)
			qs = append(qs, limitExpansion(q, field))
			continue
		}
		t.note(field, hlTerm{term: term})
		q := query.NewTermQuery(term)
		q.SetField(field)
		qs = append(qs, q)
	}
	return combineMatch(qs, o, false)
}

// phraseTerms turns analyzed tokens into phrase positions; positions with
// no token (removed stop words) stay empty.
func phraseTerms(tokens analysis.TokenStream) [][]string {
	first, last := tokens[0].Position, tokens[0].Position
	for _, tok := range tokens {
		first = min(first, tok.Position)
		last = max(last, tok.Position)
	}
	out := make([][]string, last-first+1)
	for _, tok := range tokens {
		out[tok.Position-first] = append(out[tok.Position-first], string(tok.Term))
	}
	return out
}

// minimumShouldMatch resolves an OpenSearch minimum_should_match value
// ("2", "-1", "75%", "-25%") against n optional clauses. Combinations
// ("3<90%") are not supported.
func minimumShouldMatch(s string, n int) (int, error) {
	s = strings.TrimSpace(s)
	bad := parsingErr("unsupported [minimum_should_match] value [%s]", s)
	if strings.HasSuffix(s, "%") {
		pct, err := strconv.Atoi(strings.TrimSuffix(s, "%"))
		if err != nil {
			return 0, bad
		}
		if pct < 0 {
			return n - int(float64(n)*float64(-pct)/100), nil
		}
		return int(float64(n) * float64(pct) / 100), nil
	}
	v, err := strconv.Atoi(s)
	if err != nil {
		return 0, bad
	}
	if v < 0 {
		return max(n+v, 0), nil
	}
	return v, nil
}

// multiMatch: best_fields, most_fields, phrase and phrase_prefix. Fields
// are combined with a disjunction (scores add up; OpenSearch's dis_max
// for best_fields is approximated).
func (t *translator) multiMatch(body json.RawMessage) (query.Query, error) {
	allowed := map[string]bool{"fields": true, "type": true, "tie_breaker": true, "slop": true}
	for k := range matchParams["match"] {
		allowed[k] = true
	}
	obj, err := t.params("multi_match", body, allowed)
	if err != nil {
		return nil, err
	}
	o := matchOpts{boost: 1}
	if err := o.read(obj); err != nil {
		return nil, err
	}
	if _, ok := obj["query"]; !ok {
		return nil, parsingErr("[multi_match] requires [query]")
	}
	typ := "best_fields"
	if raw, ok := obj["type"]; ok {
		if typ, err = asString(raw, "type"); err != nil {
			return nil, err
		}
	}
	switch typ {
	case "best_fields", "most_fields", "phrase", "phrase_prefix", "bool_prefix":
	default:
		return nil, parsingErr("[multi_match] query does not support type [%s]", typ)
	}
	var patterns []string
	if raw, ok := obj["fields"]; ok {
		if err := json.Unmarshal(raw, &patterns); err != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				return nil, parsingErr("[fields] must be an array of strings")
			}
			patterns = []string{one}
		}
	}
	if len(patterns) == 0 {
		patterns = []string{"*"}
	}
	fields, err := t.expandFields(patterns)
	if err != nil {
		return nil, err
	}
	var qs []query.Query
	for _, f := range fields {
		fo := o
		fo.boost = 1
		fo.lenient = fo.lenient || f.lenient
		var q query.Query
		switch typ {
		case "phrase":
			q, err = t.phraseField(f.name, fo, false)
		case "phrase_prefix":
			q, err = t.phraseField(f.name, fo, true)
		case "bool_prefix":
			q, err = t.boolPrefixField(f.name, fo)
		default:
			q, err = t.matchField(f.name, fo)
		}
		if err != nil {
			if fo.lenient {
				continue
			}
			return nil, err
		}
		qs = append(qs, setBoost(q, f.boost))
	}
	if len(qs) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	if len(qs) == 1 {
		return setBoost(qs[0], o.boost), nil
	}
	return setBoost(query.NewDisjunctionQuery(qs), o.boost), nil
}

// weightedField is a field named in "fields" with its ^boost.
type weightedField struct {
	name  string
	boost float64
	// lenient is set for fields found by a wildcard, where values of the
	// wrong type are skipped instead of failing.
	lenient bool
}

// expandFields resolves "title^2", "user.*" and "*" against the mapping.
// Wildcards only select text and keyword fields, the ones a full-text
// query makes sense on.
func (t *translator) expandFields(patterns []string) ([]weightedField, error) {
	var out []weightedField
	seen := map[string]int{}
	add := func(f weightedField) {
		if i, ok := seen[f.name]; ok {
			out[i].boost = max(out[i].boost, f.boost)
			return
		}
		seen[f.name] = len(out)
		out = append(out, f)
	}
	for _, pat := range patterns {
		name, boost := pat, 1.0
		if i := strings.LastIndexByte(pat, '^'); i >= 0 {
			b, err := strconv.ParseFloat(pat[i+1:], 64)
			if err != nil {
				return nil, parsingErr("invalid boost in field [%s]", pat)
			}
			name, boost = pat[:i], b
		}
		if !strings.ContainsAny(name, "*?") {
			add(weightedField{name: name, boost: boost})
			continue
		}
		for _, fp := range t.m.Paths() {
			if fp.Property.Type != index.TypeText && fp.Property.Type != index.TypeKeyword {
				continue
			}
			if ok, _ := path.Match(name, fp.Path); ok || globMatch(name, fp.Path) {
				add(weightedField{name: fp.Path, boost: boost, lenient: true})
			}
		}
	}
	return out, nil
}

// globMatch matches * (any characters, dots included) and ?.
func globMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return len(s) > 0 && globMatch(pattern[1:], s[1:])
	}
	return len(s) > 0 && s[0] == pattern[0] && globMatch(pattern[1:], s[1:])
}

// termLike handles term, prefix and wildcard, in their short and long
// forms.
func (t *translator) termLike(typ string, body json.RawMessage) (query.Query, error) {
	field, fb, err := fieldBody(typ, body)
	if err != nil {
		return nil, err
	}
	boost := 1.0
	caseInsensitive := false
	var v any
	if isObject(fb) {
		allowed := map[string]bool{"value": true, "case_insensitive": true}
		if typ == "wildcard" {
			allowed["wildcard"] = true
		}
		if typ != "term" {
			allowed["rewrite"] = true
		}
		obj, err := t.params(typ, fb, allowed)
		if err != nil {
			return nil, err
		}
		if boost, err = boostOf(obj); err != nil {
			return nil, err
		}
		raw, ok := obj["value"]
		if !ok {
			raw, ok = obj["wildcard"]
		}
		if !ok {
			return nil, parsingErr("[%s] query requires a value for field [%s]", typ, field)
		}
		if v, err = value(raw); err != nil {
			return nil, parsingErr("[%s] invalid value", typ)
		}
		if ci, ok := obj["case_insensitive"]; ok {
			if caseInsensitive, err = asBool(ci, "case_insensitive"); err != nil {
				return nil, err
			}
		}
	} else if v, err = value(fb); err != nil {
		return nil, parsingErr("[%s] invalid value", typ)
	}
	if _, isObj := v.(map[string]any); isObj || v == nil {
		return nil, parsingErr("[%s] value of field [%s] must be a string, number or boolean", typ, field)
	}
	if _, isArr := v.([]any); isArr {
		return nil, parsingErr("[%s] query does not support array of values", typ)
	}
	if field == "_id" {
		if typ != "term" {
			return nil, index.Invalidf("illegal_argument_exception", "[%s] queries are not supported on [_id]", typ)
		}
		return setBoost(query.NewDocIDQuery([]string{fmt.Sprint(v)}), boost), nil
	}
	p := t.lookup(field)
	if p == nil {
		return query.NewMatchNoneQuery(), nil
	}
	var q query.Query
	switch typ {
	case "term":
		if caseInsensitive && (p.Type == index.TypeKeyword || p.Type == index.TypeText) {
			q, err = t.wildcardQuery(field, p, "", regexpQuote(fmt.Sprint(v)), true)
		} else {
			q, err = t.termQuery(field, p, v)
		}
	case "prefix":
		if p.Type != index.TypeKeyword && p.Type != index.TypeText {
			return nil, shardErr("Can only use prefix queries on keyword and text fields - not on [%s] which is of type [%s]", field, p.Type)
		}
		s := fmt.Sprint(v)
		if caseInsensitive {
			q, err = t.wildcardQuery(field, p, "", regexpQuote(s)+".*", true)
			break
		}
		t.note(field, hlTerm{term: s, prefix: true})
		pq := query.NewPrefixQuery(s)
		pq.SetField(field)
		q = limitExpansion(pq, field)
	default:
		if p.Type != index.TypeKeyword && p.Type != index.TypeText {
			return nil, shardErr("Can only use wildcard queries on keyword and text fields - not on [%s] which is of type [%s]", field, p.Type)
		}
		q, err = t.wildcardQuery(field, p, fmt.Sprint(v), wildcardToRegexp(fmt.Sprint(v)), caseInsensitive)
		if err == nil {
			t.note(field, hlTerm{glob: fmt.Sprint(v)})
		}
	}
	if err != nil {
		return nil, err
	}
	return setBoost(q, boost), nil
}

// wildcardToRegexp turns a Lucene wildcard pattern into a regexp.
func wildcardToRegexp(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		switch {
		case esc:
			b.WriteString(regexpQuote(string(r)))
			esc = false
		case r == '\\':
			esc = true
		case r == '*':
			b.WriteString(".*")
		case r == '?':
			b.WriteString(".")
		default:
			b.WriteString(regexpQuote(string(r)))
		}
	}
	return b.String()
}

func regexpQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wildcardQuery is the one builder of automaton queries from wildcard
// patterns (wildcard, query_string and KQL wildcards, case-insensitive
// term and prefix). glob is the user's wildcard pattern ("" when re
// comes from a plain value); it is refused when over the limits of
// automaton.go, as is any re whose automaton would be too costly.
func (t *translator) wildcardQuery(field string, p *index.Property, glob, re string, caseInsensitive bool) (query.Query, error) {
	if caseInsensitive {
		re = "(?i)" + re
	}
	what, orig := "value", re
	if glob != "" {
		if err := checkWildcard(glob); err != nil {
			return nil, err
		}
		what, orig = "wildcard pattern", glob
	}
	if err := t.checkRegexp(re, what, orig); err != nil {
		return nil, err
	}
	q := query.NewRegexpQuery(re)
	q.SetField(field)
	return limitExpansion(q, field), nil
}

// regexpQuery builds a regexp query (query_string's /re/), refusing
// patterns over the limits of automaton.go.
func (t *translator) regexpQuery(field, re string) (query.Query, error) {
	if err := t.checkRegexp(re, "regexp", re); err != nil {
		return nil, err
	}
	q := query.NewRegexpQuery(re)
	q.SetField(field)
	return limitExpansion(q, field), nil
}

// checkRegexp runs the package's checkRegexp once per pattern, and
// keeps the query's total determinize work (every field a pattern is
// searched on compiles its automaton again) under
// maxQueryDeterminizeWork.
func (t *translator) checkRegexp(re, what, orig string) error {
	if t.checked == nil {
		t.checked = map[string]regexpCheck{}
	}
	c, seen := t.checked[re]
	if !seen {
		c.work, c.err = checkRegexp(re, what, orig)
		t.checked[re] = c
	}
	if c.err != nil {
		return c.err
	}
	t.regexpWork += c.work
	if t.regexpWork > maxQueryDeterminizeWork {
		return tooComplex(what, orig, fmt.Sprintf("the query's patterns together, over all the fields searched, need more than %d steps", maxQueryDeterminizeWork))
	}
	return nil
}

// termQuery is an exact-value query on one field, by field type.
func (t *translator) termQuery(field string, p *index.Property, v any) (query.Query, error) {
	switch {
	case p.Type == index.TypeText || p.Type == index.TypeKeyword:
		s := fmt.Sprint(v)
		if b, ok := v.(bool); ok {
			s = strconv.FormatBool(b)
		}
		t.note(field, hlTerm{term: s})
		q := query.NewTermQuery(s)
		q.SetField(field)
		return q, nil
	case index.IsNumeric(p.Type):
		f, err := numberValue(field, v)
		if err != nil {
			return nil, err
		}
		incl := true
		q := query.NewNumericRangeInclusiveQuery(&f, &f, &incl, &incl)
		q.SetField(field)
		return q, nil
	case p.Type == index.TypeDate:
		from, err := t.dateBound(field, p, v, "", nil, false)
		if err != nil {
			return nil, err
		}
		to, err := t.dateBound(field, p, v, "", nil, true)
		if err != nil {
			return nil, err
		}
		return dateRange(field, from, to, true, true), nil
	case p.Type == index.TypeBoolean:
		b, err := boolValue(field, v)
		if err != nil {
			return nil, err
		}
		q := query.NewBoolFieldQuery(b)
		q.SetField(field)
		return q, nil
	case p.Type == index.TypeIP:
		s := fmt.Sprint(v)
		if _, _, err := net.ParseCIDR(s); err != nil && net.ParseIP(s) == nil {
			return nil, shardErr("failed to create query: '%s' is not an IP string literal", s)
		}
		q := query.NewIPRangeQuery(s)
		q.SetField(field)
		return q, nil
	}
	return query.NewMatchNoneQuery(), nil
}

func numberValue(field string, v any) (float64, error) {
	switch x := v.(type) {
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f, nil
		}
	case float64:
		return x, nil
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
			return f, nil
		}
	}
	return 0, shardErr("failed to create query: For input string: \"%v\" (field [%s])", v, field)
}

func boolValue(field string, v any) (bool, error) {
	if b, err := coerceBool(v); err == nil {
		return b, nil
	}
	return false, shardErr("failed to create query: Can't parse boolean value [%v], expected [true] or [false] (field [%s])", v, field)
}

func dateRange(field string, from, to time.Time, inclFrom, inclTo bool) query.Query {
	q := query.NewDateRangeInclusiveQuery(from, to, &inclFrom, &inclTo)
	q.SetField(field)
	return q
}

func (t *translator) terms(body json.RawMessage) (query.Query, error) {
	field, fb, err := fieldBody("terms", body)
	if err != nil {
		return nil, err
	}
	obj, _, _ := object(body, "terms")
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	if !isArray(fb) {
		return nil, parsingErr("[terms] query does not support [%s]: a list of values is required (terms lookup is not supported)", field)
	}
	var vals []json.RawMessage
	if err := json.Unmarshal(fb, &vals); err != nil {
		return nil, parsingErr("[terms] values must be an array")
	}
	if field == "_id" {
		ids := make([]string, 0, len(vals))
		for _, raw := range vals {
			s, err := asString(raw, "terms")
			if err != nil {
				return nil, err
			}
			ids = append(ids, s)
		}
		return setBoost(query.NewDocIDQuery(ids), boost), nil
	}
	p := t.lookup(field)
	if p == nil || len(vals) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	qs := make([]query.Query, 0, len(vals))
	for _, raw := range vals {
		v, err := value(raw)
		if err != nil || v == nil {
			return nil, parsingErr("[terms] values must be strings, numbers or booleans")
		}
		q, err := t.termQuery(field, p, v)
		if err != nil {
			return nil, err
		}
		qs = append(qs, q)
	}
	return setBoost(query.NewDisjunctionQuery(qs), boost), nil
}

// rangeSpec is a parsed range: nil bounds are open.
type rangeSpec struct {
	from, to         any
	inclFrom, inclTo bool
	format, timeZone string
}

func (t *translator) rangeQuery(body json.RawMessage) (query.Query, error) {
	field, fb, err := fieldBody("range", body)
	if err != nil {
		return nil, err
	}
	obj, err := t.params("range", fb, map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "from": true,
		"to": true, "include_lower": true, "include_upper": true, "format": true, "time_zone": true, "relation": true})
	if err != nil {
		return nil, err
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	r := rangeSpec{inclFrom: true, inclTo: true}
	val := func(k string) (any, error) {
		v, err := value(obj[k])
		if err != nil {
			return nil, parsingErr("[range] invalid [%s]", k)
		}
		return v, nil
	}
	for _, k := range []string{"from", "to", "include_lower", "include_upper", "gt", "gte", "lt", "lte", "format", "time_zone", "relation"} {
		if _, ok := obj[k]; !ok {
			continue
		}
		v, err := val(k)
		if err != nil {
			return nil, err
		}
		switch k {
		case "from":
			r.from = v
		case "to":
			r.to = v
		case "include_lower":
			r.inclFrom, _ = v.(bool)
		case "include_upper":
			r.inclTo, _ = v.(bool)
		case "gt":
			r.from, r.inclFrom = v, false
		case "gte":
			r.from, r.inclFrom = v, true
		case "lt":
			r.to, r.inclTo = v, false
		case "lte":
			r.to, r.inclTo = v, true
		case "format":
			r.format = fmt.Sprint(v)
		case "time_zone":
			r.timeZone = fmt.Sprint(v)
		case "relation":
			if s := fmt.Sprint(v); s != "intersects" && s != "INTERSECTS" && s != "within" && s != "WITHIN" {
				return nil, parsingErr("[range] unsupported relation [%s]", s)
			}
		}
	}
	if field == "_id" {
		return nil, index.Invalidf("illegal_argument_exception", "range queries are not supported on [_id]")
	}
	p := t.lookup(field)
	if p == nil {
		return query.NewMatchNoneQuery(), nil
	}
	q, err := t.rangeOn(field, p, r)
	if err != nil {
		return nil, err
	}
	return setBoost(q, boost), nil
}

// rangeOn builds a range on one mapped field.
func (t *translator) rangeOn(field string, p *index.Property, r rangeSpec) (query.Query, error) {
	switch {
	case index.IsNumeric(p.Type):
		var lo, hi *float64
		if r.from != nil {
			f, err := numberValue(field, r.from)
			if err != nil {
				return nil, err
			}
			lo = &f
		}
		if r.to != nil {
			f, err := numberValue(field, r.to)
			if err != nil {
				return nil, err
			}
			hi = &f
		}
		q := query.NewNumericRangeInclusiveQuery(lo, hi, &r.inclFrom, &r.inclTo)
		q.SetField(field)
		return q, nil
	case p.Type == index.TypeDate:
		var loc *time.Location
		if r.timeZone != "" {
			var err error
			if loc, err = timeZone(r.timeZone); err != nil {
				return nil, err
			}
		}
		var from, to time.Time
		var err error
		if r.from != nil {
			// gt rounds up (excludes the whole unit), gte rounds down.
			if from, err = t.dateBound(field, p, r.from, r.format, loc, !r.inclFrom); err != nil {
				return nil, err
			}
		}
		if r.to != nil {
			// lte rounds up (includes the whole unit), lt rounds down.
			if to, err = t.dateBound(field, p, r.to, r.format, loc, r.inclTo); err != nil {
				return nil, err
			}
		}
		return dateRange(field, from, to, r.inclFrom, r.inclTo), nil
	case p.Type == index.TypeIP:
		lo, hi := "", ""
		for i, v := range []any{r.from, r.to} {
			if v == nil {
				continue
			}
			ip := net.ParseIP(fmt.Sprint(v))
			if ip == nil {
				return nil, shardErr("failed to create query: '%v' is not an IP string literal", v)
			}
			if i == 0 {
				lo = string(ip.To16())
			} else {
				hi = string(ip.To16())
			}
		}
		q := query.NewTermRangeInclusiveQuery(lo, hi, &r.inclFrom, &r.inclTo)
		q.SetField(field)
		return q, nil
	case p.Type == index.TypeBoolean:
		lo, hi := "", ""
		for i, v := range []any{r.from, r.to} {
			if v == nil {
				continue
			}
			b, err := boolValue(field, v)
			if err != nil {
				return nil, err
			}
			s := "F"
			if b {
				s = "T"
			}
			if i == 0 {
				lo = s
			} else {
				hi = s
			}
		}
		q := query.NewTermRangeInclusiveQuery(lo, hi, &r.inclFrom, &r.inclTo)
		q.SetField(field)
		return q, nil
	default: // keyword and text: lexicographic on indexed terms
		lo, hi := "", ""
		if r.from != nil {
			lo = fmt.Sprint(r.from)
		}
		if r.to != nil {
			hi = fmt.Sprint(r.to)
		}
		q := query.NewTermRangeInclusiveQuery(lo, hi, &r.inclFrom, &r.inclTo)
		q.SetField(field)
		return q, nil
	}
}

// boolQuery translates bool with OpenSearch's minimum_should_match rules:
// should clauses are optional when must or filter clauses exist, else at
// least one must match.
func (t *translator) boolQuery(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("bool", body, map[string]bool{"must": true, "should": true, "must_not": true,
		"filter": true, "minimum_should_match": true, "adjust_pure_negative": true})
	if err != nil {
		return nil, err
	}
	q := &boolQuery{boost: 1}
	if q.boost, err = boostOf(obj); err != nil {
		return nil, err
	}
	for _, occ := range []string{"must", "filter", "should", "must_not"} {
		raw, ok := obj[occ]
		if !ok || isNull(raw) {
			continue
		}
		clauses, err := list(raw)
		if err != nil {
			return nil, parsingErr("[bool] [%s] must be an object or an array", occ)
		}
		if occ == "must_not" {
			t.negated++
		}
		for _, c := range clauses {
			sub, err := t.parse(c)
			if err != nil {
				if occ == "must_not" {
					t.negated--
				}
				return nil, err
			}
			switch occ {
			case "must":
				q.must = append(q.must, sub)
			case "filter":
				q.filter = append(q.filter, sub)
			case "should":
				q.should = append(q.should, sub)
			case "must_not":
				q.mustNot = append(q.mustNot, sub)
			}
		}
		if occ == "must_not" {
			t.negated--
		}
	}
	q.minShould = 0
	if len(q.must) == 0 && len(q.filter) == 0 && len(q.should) > 0 {
		q.minShould = 1
	}
	if raw, ok := obj["minimum_should_match"]; ok {
		s, err := asString(raw, "minimum_should_match")
		if err != nil {
			return nil, err
		}
		if q.minShould, err = minimumShouldMatch(s, len(q.should)); err != nil {
			return nil, err
		}
		if q.minShould == 0 && len(q.must) == 0 && len(q.filter) == 0 && len(q.should) > 0 {
			q.minShould = 1
		}
	}
	return q, nil
}

func (t *translator) exists(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("exists", body, map[string]bool{"field": true})
	if err != nil {
		return nil, err
	}
	raw, ok := obj["field"]
	if !ok {
		return nil, parsingErr("[exists] must be provided with a [field]")
	}
	field, err := asString(raw, "field")
	if err != nil {
		return nil, err
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	q, err := existsQuery(field)
	if err != nil {
		return nil, err
	}
	return setBoost(q, boost), nil
}

// existsQuery matches documents with a value in field, a field name
// pattern with * and ? (refused over the wildcard limits).
func existsQuery(field string) (query.Query, error) {
	if strings.ContainsAny(field, "*?") {
		if err := checkWildcard(field); err != nil {
			return nil, err
		}
		re := wildcardToRegexp(field)
		if _, err := checkRegexp(re, "field name pattern", field); err != nil {
			return nil, err
		}
		q := query.NewRegexpQuery(re)
		q.SetField(fieldFieldNames)
		return q, nil
	}
	q := query.NewTermQuery(field)
	q.SetField(fieldFieldNames)
	return q, nil
}

func (t *translator) ids(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("ids", body, map[string]bool{"values": true, "type": true})
	if err != nil {
		return nil, err
	}
	var ids []string
	if raw, ok := obj["values"]; ok {
		var vals []json.RawMessage
		if err := json.Unmarshal(raw, &vals); err != nil {
			return nil, parsingErr("[ids] [values] must be an array")
		}
		for _, v := range vals {
			s, err := asString(v, "values")
			if err != nil {
				return nil, err
			}
			ids = append(ids, s)
		}
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return query.NewMatchNoneQuery(), nil
	}
	return setBoost(query.NewDocIDQuery(ids), boost), nil
}

func (t *translator) constantScore(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("constant_score", body, map[string]bool{"filter": true})
	if err != nil {
		return nil, err
	}
	raw, ok := obj["filter"]
	if !ok {
		return nil, parsingErr("[constant_score] requires a 'filter' element")
	}
	inner, err := t.parse(raw)
	if err != nil {
		return nil, err
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	return &constScoreQuery{q: inner, score: boost}, nil
}

// boolQuery is OpenSearch's bool. Bleve's BooleanQuery drops clauses that
// match nothing (a must on an unmapped field would then match
// everything), so the searcher is assembled here.
type boolQuery struct {
	must, filter, should, mustNot []query.Query
	minShould                     int
	boost                         float64
}

func (q *boolQuery) SetBoost(b float64) { q.boost = b }
func (q *boolQuery) Boost() float64     { return q.boost }

func (q *boolQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (s search.Searcher, err error) {
	var opened []search.Searcher
	defer func() {
		if err != nil {
			for _, o := range opened {
				_ = o.Close()
			}
		}
	}()
	build := func(qs []query.Query, wrapConst bool) ([]search.Searcher, error) {
		var out []search.Searcher
		for _, c := range qs {
			// Building a clause's searcher can expand terms and compile
			// automata without looking at the context: check it between
			// clauses.
			if ctx != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if wrapConst {
				c = &constScoreQuery{q: c, score: 0}
			}
			s, err := c.Searcher(ctx, i, m, options)
			if err != nil {
				return nil, err
			}
			opened = append(opened, s)
			out = append(out, s)
		}
		return out, nil
	}
	required, err := build(q.must, false)
	if err != nil {
		return nil, err
	}
	filters, err := build(q.filter, true)
	if err != nil {
		return nil, err
	}
	required = append(required, filters...)
	var should search.Searcher
	if len(q.should) > 0 {
		ss, err := build(q.should, false)
		if err != nil {
			return nil, err
		}
		if q.minShould > len(ss) {
			return searcher.NewMatchNoneSearcher(i)
		}
		should, err = searcher.NewDisjunctionSearcher(ctx, i, ss, float64(q.minShould), options)
		if err != nil {
			return nil, err
		}
		opened = append(opened, should)
		if q.minShould > 0 {
			required = append(required, should)
			should = nil
		}
	}
	var mustNot search.Searcher
	if len(q.mustNot) > 0 {
		ss, err := build(q.mustNot, false)
		if err != nil {
			return nil, err
		}
		if mustNot, err = searcher.NewDisjunctionSearcher(ctx, i, ss, 1, options); err != nil {
			return nil, err
		}
		opened = append(opened, mustNot)
	}
	var must search.Searcher
	switch len(required) {
	case 0:
		if must, err = searcher.NewMatchAllSearcher(ctx, i, 1, options); err != nil {
			return nil, err
		}
		opened = append(opened, must)
	case 1:
		must = required[0]
	default:
		if must, err = searcher.NewConjunctionSearcher(ctx, i, required, options); err != nil {
			return nil, err
		}
		opened = append(opened, must)
	}
	var out search.Searcher = must
	if should != nil || mustNot != nil {
		if out, err = searcher.NewBooleanSearcher(ctx, i, must, should, mustNot, options); err != nil {
			return nil, err
		}
	}
	if q.boost != 1 {
		out = &scaledSearcher{Searcher: out, factor: q.boost}
	}
	return out, nil
}

// constScoreQuery gives every match of q the same score (constant_score,
// and filter clauses with score 0).
type constScoreQuery struct {
	q     query.Query
	score float64
}

func (q *constScoreQuery) SetBoost(b float64) { q.score = b }
func (q *constScoreQuery) Boost() float64     { return q.score }

func (q *constScoreQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	s, err := q.q.Searcher(ctx, i, m, search.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	return &constSearcher{Searcher: s, score: q.score}, nil
}

// constSearcher overrides the score of every match.
type constSearcher struct {
	search.Searcher
	score float64
}

func (s *constSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	dm, err := s.Searcher.Next(ctx)
	if dm != nil {
		dm.Score = s.score
		dm.Expl = nil
	}
	return dm, err
}

func (s *constSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := s.Searcher.Advance(ctx, id)
	if dm != nil {
		dm.Score = s.score
		dm.Expl = nil
	}
	return dm, err
}

// scaledSearcher multiplies scores (the boost of compound queries).
type scaledSearcher struct {
	search.Searcher
	factor float64
}

func (s *scaledSearcher) Next(ctx *search.SearchContext) (*search.DocumentMatch, error) {
	dm, err := s.Searcher.Next(ctx)
	if dm != nil {
		dm.Score *= s.factor
	}
	return dm, err
}

func (s *scaledSearcher) Advance(ctx *search.SearchContext, id bindex.IndexInternalID) (*search.DocumentMatch, error) {
	dm, err := s.Searcher.Advance(ctx, id)
	if dm != nil {
		dm.Score *= s.factor
	}
	return dm, err
}

// slopPhraseQuery is a phrase with slop: all terms must occur, and some
// choice of their positions must fit the phrase within slop moves
// (Lucene's sloppy phrase distance). With prefix set it is
// match_phrase_prefix: a phrase whose last term is a prefix.
type slopPhraseQuery struct {
	field  string
	terms  [][]string
	slop   int
	prefix bool
	boost  float64
}

func (q *slopPhraseQuery) SetBoost(b float64) { q.boost = b }
func (q *slopPhraseQuery) Boost() float64     { return q.boost }

func (q *slopPhraseQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	return positionalSearcher(ctx, i, m, options, q.field, q.terms, q.boost, q.prefix, func(pos [][]uint64) bool {
		return sloppyMatch(pos, q.slop)
	})
}

// positionalSearcher finds documents holding every phrase position's
// terms (the last one as a prefix when lastPrefix) and keeps those whose
// term positions satisfy accept. accept receives, per phrase position,
// the positions at which that term occurs (nil for a gap).
func positionalSearcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions,
	field string, terms [][]string, boost float64, lastPrefix bool, accept func([][]uint64) bool) (search.Searcher, error) {
	opts := options
	opts.IncludeTermVectors = true
	var parts []query.Query
	var slots []func(term string) bool
	for k, alts := range terms {
		if len(alts) == 0 {
			slots = append(slots, nil)
			continue
		}
		var qs []query.Query
		for _, a := range alts {
			if lastPrefix && k == len(terms)-1 {
				pq := query.NewPrefixQuery(a)
				pq.SetField(field)
				qs = append(qs, limitExpansion(pq, field))
				continue
			}
			tq := query.NewTermQuery(a)
			tq.SetField(field)
			qs = append(qs, tq)
		}
		alts, prefix := alts, lastPrefix && k == len(terms)-1
		slots = append(slots, func(term string) bool {
			for _, a := range alts {
				if term == a || prefix && strings.HasPrefix(term, a) {
					return true
				}
			}
			return false
		})
		if len(qs) == 1 {
			parts = append(parts, qs[0])
		} else {
			parts = append(parts, query.NewDisjunctionQuery(qs))
		}
	}
	conj := query.NewConjunctionQuery(parts)
	conj.SetBoost(boost)
	s, err := conj.Searcher(ctx, i, m, opts)
	if err != nil {
		return nil, err
	}
	return searcher.NewFilteringSearcher(ctx, s, func(_ *search.SearchContext, d *search.DocumentMatch) bool {
		pos := make([][]uint64, len(slots))
		for _, ftl := range d.FieldTermLocations {
			if ftl.Field != field {
				continue
			}
			for k, match := range slots {
				if match != nil && match(ftl.Term) {
					pos[k] = append(pos[k], ftl.Location.Pos)
				}
			}
		}
		if d.Locations != nil {
			for term, locs := range d.Locations[field] {
				for k, match := range slots {
					if match != nil && match(term) {
						for _, l := range locs {
							pos[k] = append(pos[k], l.Pos)
						}
					}
				}
			}
		}
		return accept(pos)
	}), nil
}

// sloppyMatch reports whether positions can be picked, one per phrase
// slot, so that the spread of (position - slot offset) is at most slop.
// Slots with no positions are gaps and are skipped.
func sloppyMatch(pos [][]uint64, slop int) bool {
	type entry struct {
		v    int64
		slot int
	}
	var all []entry
	need := 0
	for k, ps := range pos {
		if ps == nil {
			continue
		}
		need++
		for _, p := range ps {
			all = append(all, entry{v: int64(p) - int64(k), slot: k})
		}
	}
	if need == 0 {
		return false
	}
	sort.Slice(all, func(a, b int) bool { return all[a].v < all[b].v })
	count := map[int]int{}
	covered, lo := 0, 0
	for hi := range all {
		if count[all[hi].slot] == 0 {
			covered++
		}
		count[all[hi].slot]++
		for covered == need {
			if all[hi].v-all[lo].v <= int64(slop) {
				return true
			}
			count[all[lo].slot]--
			if count[all[lo].slot] == 0 {
				covered--
			}
			lo++
		}
	}
	return false
}

// ---- dates ----

// timeZone parses an OpenSearch time_zone: "UTC", "Z", "+01:00", "-0530"
// or an IANA name.
func timeZone(s string) (*time.Location, error) {
	switch s {
	case "", "UTC", "Z", "utc", "GMT":
		return time.UTC, nil
	}
	if s[0] == '+' || s[0] == '-' {
		sign := 1
		if s[0] == '-' {
			sign = -1
		}
		d := strings.ReplaceAll(s[1:], ":", "")
		var h, m int
		var err error
		switch len(d) {
		case 1, 2:
			h, err = strconv.Atoi(d)
		case 4:
			h, err = strconv.Atoi(d[:2])
			if err == nil {
				m, err = strconv.Atoi(d[2:])
			}
		default:
			err = fmt.Errorf("bad offset")
		}
		if err == nil && h <= 18 && m < 60 {
			return time.FixedZone(s, sign*(h*3600+m*60)), nil
		}
	} else if loc, err := time.LoadLocation(s); err == nil {
		return loc, nil
	}
	return nil, parsingErr("unknown time_zone [%s]", s)
}

// dateBound parses a date value (a date in the field's or the request's
// format, epoch millis, or date math like "now-1d/d") into a time. roundUp
// selects the end of the rounding unit instead of its start.
func (t *translator) dateBound(field string, p *index.Property, v any, format string, loc *time.Location, roundUp bool) (time.Time, error) {
	if format == "" {
		format = p.Format
	}
	tm, err := parseDateMath(v, format, loc, t.now, roundUp)
	if err != nil {
		return time.Time{}, shardErr("failed to parse date field [%v] with format [%s] (field [%s])", v, formatOrDefault(format), field)
	}
	return tm, nil
}

func formatOrDefault(f string) string {
	if f == "" {
		return "strict_date_optional_time||epoch_millis"
	}
	return f
}

// parseDateMath parses a date or date-math expression.
func parseDateMath(v any, format string, loc *time.Location, now time.Time, roundUp bool) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case float64:
		return time.UnixMilli(int64(x)).UTC(), nil
	case int64:
		return time.UnixMilli(x).UTC(), nil
	case string:
		s = strings.TrimSpace(x)
	default:
		return time.Time{}, fmt.Errorf("bad date %v", v)
	}
	var anchor time.Time
	var unit string
	var rest string
	switch {
	case strings.HasPrefix(s, "now"):
		anchor, rest = now.In(loc), s[3:]
	case strings.Contains(s, "||"):
		i := strings.Index(s, "||")
		var err error
		if anchor, unit, err = parseDSLDate(format, s[:i], loc); err != nil {
			return time.Time{}, err
		}
		anchor, rest = anchor.In(loc), s[i+2:]
	default:
		tm, unit, err := parseDSLDate(format, s, loc)
		if err != nil {
			return time.Time{}, err
		}
		if roundUp && unit != "" {
			tm = roundDate(tm.In(loc), unit, true)
		}
		return tm.UTC(), nil
	}
	_ = unit
	for rest != "" {
		op := rest[0]
		rest = rest[1:]
		switch op {
		case '+', '-':
			n := 0
			j := 0
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if j == 0 {
				n = 1
			} else {
				n, _ = strconv.Atoi(rest[:j])
			}
			if j >= len(rest) {
				return time.Time{}, fmt.Errorf("missing unit")
			}
			u := rest[j : j+1]
			rest = rest[j+1:]
			if op == '-' {
				n = -n
			}
			var err error
			if anchor, err = addUnit(anchor, u, n); err != nil {
				return time.Time{}, err
			}
		case '/':
			if rest == "" {
				return time.Time{}, fmt.Errorf("missing unit")
			}
			u := rest[:1]
			rest = rest[1:]
			if !validUnit(u) {
				return time.Time{}, fmt.Errorf("bad unit %q", u)
			}
			anchor = roundDate(anchor, u, roundUp)
		default:
			return time.Time{}, fmt.Errorf("bad date math operator %q", op)
		}
	}
	return anchor.UTC(), nil
}

func validUnit(u string) bool {
	return strings.Contains("yMwdhHms", u) && len(u) == 1
}

func addUnit(t time.Time, u string, n int) (time.Time, error) {
	switch u {
	case "y":
		return t.AddDate(n, 0, 0), nil
	case "M":
		return t.AddDate(0, n, 0), nil
	case "w":
		return t.AddDate(0, 0, 7*n), nil
	case "d":
		return t.AddDate(0, 0, n), nil
	case "h", "H":
		return t.Add(time.Duration(n) * time.Hour), nil
	case "m":
		return t.Add(time.Duration(n) * time.Minute), nil
	case "s":
		return t.Add(time.Duration(n) * time.Second), nil
	}
	return t, fmt.Errorf("bad unit %q", u)
}

// roundDate rounds t (in its location) down to the start of unit, or up
// to the last millisecond of it.
func roundDate(t time.Time, u string, up bool) time.Time {
	y, mo, d := t.Date()
	loc := t.Location()
	var start, next time.Time
	switch u {
	case "y":
		start = time.Date(y, 1, 1, 0, 0, 0, 0, loc)
		next = start.AddDate(1, 0, 0)
	case "M":
		start = time.Date(y, mo, 1, 0, 0, 0, 0, loc)
		next = start.AddDate(0, 1, 0)
	case "w":
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		start = time.Date(y, mo, d-wd, 0, 0, 0, 0, loc)
		next = start.AddDate(0, 0, 7)
	case "d":
		start = time.Date(y, mo, d, 0, 0, 0, 0, loc)
		next = start.AddDate(0, 0, 1)
	case "h", "H":
		start = time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc)
		next = start.Add(time.Hour)
	case "m":
		start = time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc)
		next = start.Add(time.Minute)
	case "s":
		start = time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), 0, loc)
		next = start.Add(time.Second)
	default:
		return t
	}
	if up {
		return next.Add(-time.Millisecond)
	}
	return start
}

// isoLayouts are the shapes of strict_date_optional_time, with the unit
// of their least significant part (for rounding up on lte and gt).
var isoLayouts = []struct{ layout, unit string }{
	{"2006-01-02T15:04:05Z07:00", ""},
	{"2006-01-02T15:04:05Z0700", ""},
	{"2006-01-02T15:04:05", ""},
	{"2006-01-02T15:04Z07:00", "m"},
	{"2006-01-02T15:04", "m"},
	{"2006-01-02T15Z07:00", "h"},
	{"2006-01-02T15", "h"},
	{"2006-01-02Z07:00", "d"},
	{"2006-01-02", "d"},
	{"2006-01", "M"},
	{"2006", "y"},
}

// parseDSLDate parses s with an OpenSearch date format ("||"-separated
// alternatives; default strict_date_optional_time||epoch_millis). It also
// returns the unit of the least significant part the value had, for
// rounding ("" when the value was complete).
func parseDSLDate(format, s string, loc *time.Location) (time.Time, string, error) {
	if loc == nil {
		loc = time.UTC
	}
	for _, f := range strings.Split(formatOrDefault(format), "||") {
		f = strings.TrimSpace(f)
		switch f {
		case "epoch_millis":
			if ms, err := strconv.ParseFloat(s, 64); err == nil {
				return time.UnixMilli(int64(ms)).UTC(), "", nil
			}
		case "epoch_second":
			if sec, err := strconv.ParseFloat(s, 64); err == nil {
				return time.UnixMilli(int64(sec * 1000)).UTC(), "", nil
			}
		case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos",
			"strict_date_time", "date_time", "strict_date", "date", "strict_date_hour_minute_second",
			"date_hour_minute_second", "strict_date_time_no_millis", "date_time_no_millis",
			"strict_year_month", "year_month", "strict_year", "year":
			for _, l := range isoLayouts {
				if tm, err := time.ParseInLocation(l.layout, s, loc); err == nil {
					return tm, l.unit, nil
				}
			}
		default:
			layout := javaLayout(f)
			if tm, err := time.ParseInLocation(layout, s, loc); err == nil {
				return tm, "", nil
			}
		}
	}
	return time.Time{}, "", fmt.Errorf("cannot parse %q", s)
}

// javaLayout converts a java.time pattern (yyyy-MM-dd HH:mm:ss.SSS) into
// a Go layout. Unknown letters are kept as literals.
func javaLayout(p string) string {
	repl := []struct{ java, goL string }{
		{"yyyy", "2006"}, {"uuuu", "2006"}, {"yy", "06"},
		{"MMMM", "January"}, {"MMM", "Jan"}, {"MM", "01"}, {"M", "1"},
		{"dd", "02"}, {"d", "2"}, {"EEEE", "Monday"}, {"EEE", "Mon"},
		{"HH", "15"}, {"hh", "03"}, {"h", "3"}, {"mm", "04"}, {"ss", "05"},
		{"SSSSSS", "000000"}, {"SSS", "000"}, {"a", "PM"},
		{"XXX", "Z07:00"}, {"xxx", "-07:00"}, {"ZZZZZ", "-07:00"}, {"ZZ", "-07:00"}, {"Z", "-0700"}, {"X", "Z07"},
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		if p[i] == '\'' {
			j := strings.IndexByte(p[i+1:], '\'')
			if j < 0 {
				b.WriteString(p[i+1:])
				break
			}
			b.WriteString(p[i+1 : i+1+j])
			i += j + 2
			continue
		}
		matched := false
		for _, r := range repl {
			if strings.HasPrefix(p[i:], r.java) {
				b.WriteString(r.goL)
				i += len(r.java)
				matched = true
				break
			}
		}
		if !matched {
			b.WriteByte(p[i])
			i++
		}
	}
	return b.String()
}

// formatDate formats epoch millis with an OpenSearch format in loc
// (default strict_date_optional_time: 2024-01-31T00:00:00.000Z).
func formatDate(ms int64, format string, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	tm := time.UnixMilli(ms).In(loc)
	f := strings.TrimSpace(strings.Split(format, "||")[0])
	switch f {
	case "", "strict_date_optional_time", "date_optional_time", "strict_date_time", "date_time", "strict_date_optional_time_nanos":
		return tm.Format("2006-01-02T15:04:05.000Z07:00")
	case "epoch_millis":
		return strconv.FormatInt(ms, 10)
	case "epoch_second":
		return strconv.FormatInt(ms/1000, 10)
	case "strict_date", "date":
		return tm.Format("2006-01-02")
	case "strict_date_time_no_millis", "date_time_no_millis":
		return tm.Format("2006-01-02T15:04:05Z07:00")
	case "strict_date_hour_minute_second", "date_hour_minute_second":
		return tm.Format("2006-01-02T15:04:05")
	case "strict_year_month", "year_month":
		return tm.Format("2006-01")
	case "strict_year", "year":
		return tm.Format("2006")
	}
	return tm.Format(javaLayout(f))
}

// ---- query_string and simple_query_string ----

// qsOptions are the parameters of query_string that shape translation.
type qsOptions struct {
	fields     []weightedField
	and        bool // default_operator AND
	analyzer   string
	lenient    bool
	simple     bool // simple_query_string syntax
	fuzzyPfx   int
	allowWild  bool
	phraseSlop int
}

func (t *translator) queryString(typ string, body json.RawMessage) (query.Query, error) {
	allowed := map[string]bool{"query": true, "default_field": true, "fields": true, "default_operator": true,
		"analyzer": true, "lenient": true, "analyze_wildcard": true, "allow_leading_wildcard": true,
		"fuzzy_prefix_length": true, "phrase_slop": true, "time_zone": true, "minimum_should_match": true,
		"auto_generate_synonyms_phrase_query": true, "max_determinized_states": true, "escape": true,
		"flags": true, "fuzzy_max_expansions": true, "fuzzy_transpositions": true, "quote_field_suffix": true,
		"type": true, "tie_breaker": true, "enable_position_increments": true, "fuzziness": true,
		"rewrite": true, "quote_analyzer": true}
	obj, err := t.params(typ, body, allowed)
	if err != nil {
		return nil, err
	}
	raw, ok := obj["query"]
	if !ok {
		return nil, parsingErr("[%s] must be provided with a [query]", typ)
	}
	text, err := asString(raw, "query")
	if err != nil {
		return nil, err
	}
	o := qsOptions{simple: typ == "simple_query_string", allowWild: true}
	if raw, ok := obj["default_operator"]; ok {
		s, _ := asString(raw, "default_operator")
		switch strings.ToLower(s) {
		case "and":
			o.and = true
		case "or":
		default:
			return nil, parsingErr("[%s] unsupported default_operator [%s]", typ, s)
		}
	}
	if err := readOpt(obj, "analyzer", asString, &o.analyzer); err != nil {
		return nil, err
	}
	if err := readOpt(obj, "lenient", asBool, &o.lenient); err != nil {
		return nil, err
	}
	if err := readOpt(obj, "phrase_slop", asInt, &o.phraseSlop); err != nil {
		return nil, err
	}
	if err := readOpt(obj, "fuzzy_prefix_length", asInt, &o.fuzzyPfx); err != nil {
		return nil, err
	}
	var patterns []string
	if raw, ok := obj["fields"]; ok {
		if err := json.Unmarshal(raw, &patterns); err != nil {
			return nil, parsingErr("[%s] [fields] must be an array of strings", typ)
		}
	}
	if raw, ok := obj["default_field"]; ok {
		s, err := asString(raw, "default_field")
		if err != nil {
			return nil, err
		}
		patterns = append(patterns, s)
	}
	if len(patterns) == 0 {
		patterns = []string{"*"}
	}
	if o.fields, err = t.expandFields(patterns); err != nil {
		return nil, err
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	p := &qsParser{t: t, o: o, s: []rune(text)}
	q, err := p.parseQuery(nil, 0)
	if err != nil {
		return nil, err
	}
	if raw, ok := obj["minimum_should_match"]; ok {
		if bq, ok := q.(*boolQuery); ok && len(bq.should) > 0 {
			s, _ := asString(raw, "minimum_should_match")
			if bq.minShould, err = minimumShouldMatch(s, len(bq.should)); err != nil {
				return nil, err
			}
		}
	}
	return setBoost(q, boost), nil
}

// qsParser is a recursive-descent parser for Lucene's classic query
// syntax (query_string) and the simple syntax (simple_query_string).
type qsParser struct {
	t   *translator
	o   qsOptions
	s   []rune
	pos int
}

const (
	occShould = iota
	occMust
	occMustNot
)

type qsClause struct {
	q   query.Query
	occ int
}

func (p *qsParser) errf(format string, args ...any) error {
	return parsingErr("Failed to parse query [%s]: "+format, append([]any{string(p.s)}, args...)...)
}

func (p *qsParser) skipWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\n' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

func (p *qsParser) peek() rune {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// peekWord returns the next bare word without consuming it.
func (p *qsParser) peekWord() string {
	save := p.pos
	w := p.readWord()
	p.pos = save
	return w
}

func isQSSpecial(r rune, simple bool) bool {
	if simple {
		return strings.ContainsRune(" \t\r\n()\"|+~", r)
	}
	return strings.ContainsRune(" \t\r\n()[]{}:^~\"", r)
}

// readWord reads a bare term, honouring backslash escapes. Escaped
// characters keep a leading backslash so wildcard detection can skip
// them; unescape removes it.
func (p *qsParser) readWord() string {
	var b strings.Builder
	for p.pos < len(p.s) {
		r := p.s[p.pos]
		if r == '\\' && p.pos+1 < len(p.s) {
			b.WriteRune('\\')
			b.WriteRune(p.s[p.pos+1])
			p.pos += 2
			continue
		}
		if isQSSpecial(r, p.o.simple) {
			break
		}
		b.WriteRune(r)
		p.pos++
	}
	return b.String()
}

func unescape(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	esc := false
	for _, r := range s {
		if r == '\\' && !esc {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}

// hasWildcard reports an unescaped * or ?.
func hasWildcard(s string) bool {
	esc := false
	for _, r := range s {
		switch {
		case esc:
			esc = false
		case r == '\\':
			esc = true
		case r == '*' || r == '?':
			return true
		}
	}
	return false
}

// parseQuery parses clauses until the end or a closing parenthesis.
func (p *qsParser) parseQuery(fields []weightedField, depth int) (query.Query, error) {
	if depth > 20 {
		return nil, p.errf("too deeply nested")
	}
	var clauses []qsClause
	conj := 0 // 0 none, 1 AND, 2 OR
	for {
		p.skipWS()
		if p.pos >= len(p.s) {
			break
		}
		r := p.peek()
		if r == ')' {
			if depth == 0 {
				return nil, p.errf("unbalanced parenthesis")
			}
			break
		}
		if !p.o.simple {
			switch w := p.peekWord(); w {
			case "AND", "&&":
				p.readWord()
				conj = 1
				continue
			case "OR", "||":
				p.readWord()
				conj = 2
				continue
			}
		} else if r == '|' {
			p.pos++
			conj = 2
			continue
		}
		mod := 0 // 0 none, 1 required, 2 prohibited
		switch {
		case r == '+':
			mod = 1
			p.pos++
		case r == '-' || r == '!' && !p.o.simple:
			mod = 2
			p.pos++
		case !p.o.simple && p.peekWord() == "NOT":
			p.readWord()
			mod = 2
		}
		q, err := p.parseClause(fields, depth)
		if err != nil {
			return nil, err
		}
		if q == nil {
			continue
		}
		clauses = addQSClause(clauses, conj, mod, p.o.and, q)
		conj = 0
	}
	return buildQS(clauses), nil
}

// addQSClause follows Lucene's QueryParser.addClause.
func addQSClause(clauses []qsClause, conj, mod int, defaultAnd bool, q query.Query) []qsClause {
	if len(clauses) > 0 && conj == 1 && clauses[len(clauses)-1].occ != occMustNot {
		clauses[len(clauses)-1].occ = occMust
	}
	if len(clauses) > 0 && defaultAnd && conj == 2 && clauses[len(clauses)-1].occ != occMustNot {
		clauses[len(clauses)-1].occ = occShould
	}
	var required, prohibited bool
	if !defaultAnd {
		prohibited = mod == 2
		required = mod == 1
		if conj == 1 && !prohibited {
			required = true
		}
	} else {
		prohibited = mod == 2
		required = !prohibited && conj != 2
	}
	occ := occShould
	switch {
	case prohibited:
		occ = occMustNot
	case required:
		occ = occMust
	}
	return append(clauses, qsClause{q: q, occ: occ})
}

func buildQS(clauses []qsClause) query.Query {
	if len(clauses) == 0 {
		return query.NewMatchNoneQuery()
	}
	if len(clauses) == 1 && clauses[0].occ != occMustNot {
		return clauses[0].q
	}
	b := &boolQuery{boost: 1}
	for _, c := range clauses {
		switch c.occ {
		case occMust:
			b.must = append(b.must, c.q)
		case occMustNot:
			b.mustNot = append(b.mustNot, c.q)
		default:
			b.should = append(b.should, c.q)
		}
	}
	if len(b.must) == 0 && len(b.should) > 0 {
		b.minShould = 1
	}
	return b
}

// parseClause parses one term, phrase, range or group, with its field
// prefix and boost.
func (p *qsParser) parseClause(fields []weightedField, depth int) (query.Query, error) {
	p.skipWS()
	if !p.o.simple {
		// field:...
		save := p.pos
		w := p.readWord()
		if w != "" && p.peek() == ':' {
			p.pos++
			name := unescape(w)
			if name == "_exists_" {
				p.skipWS()
				f := unescape(p.readWord())
				if f == "" {
					return nil, p.errf("missing field after _exists_")
				}
				q, err := existsQuery(f)
				if err != nil {
					return nil, err
				}
				return p.boosted(q)
			}
			fs, err := p.t.expandFields([]string{name})
			if err != nil {
				return nil, err
			}
			if len(fs) == 0 {
				fs = []weightedField{{name: name, boost: 1}}
			}
			return p.parseClause2(fs, depth)
		}
		p.pos = save
	}
	if fields == nil {
		fields = p.o.fields
	}
	return p.parseClause2(fields, depth)
}

func (p *qsParser) parseClause2(fields []weightedField, depth int) (query.Query, error) {
	p.skipWS()
	switch r := p.peek(); {
	case r == 0:
		return nil, p.errf("unexpected end of query")
	case r == '(':
		p.pos++
		q, err := p.parseQuery(fields, depth+1)
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.peek() != ')' {
			return nil, p.errf("missing closing parenthesis")
		}
		p.pos++
		return p.boosted(q)
	case r == '"':
		p.pos++
		var b strings.Builder
		closed := false
		for p.pos < len(p.s) {
			c := p.s[p.pos]
			p.pos++
			if c == '\\' && p.pos < len(p.s) {
				b.WriteRune(p.s[p.pos])
				p.pos++
				continue
			}
			if c == '"' {
				closed = true
				break
			}
			b.WriteRune(c)
		}
		if !closed {
			return nil, p.errf("unterminated phrase")
		}
		slop := p.o.phraseSlop
		if p.peek() == '~' {
			p.pos++
			n := p.readNumber()
			if n != "" {
				slop, _ = strconv.Atoi(n)
			}
		}
		q, err := p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
			return p.t.phraseField(f, matchOpts{text: b.String(), slop: slop, boost: 1, analyzer: p.o.analyzer}, false)
		})
		if err != nil {
			return nil, err
		}
		return p.boosted(q)
	case !p.o.simple && (r == '[' || r == '{'):
		return p.parseRange(fields)
	case !p.o.simple && (r == '>' || r == '<'):
		p.pos++
		incl := false
		if p.peek() == '=' {
			p.pos++
			incl = true
		}
		v := unescape(p.readWord())
		spec := rangeSpec{inclFrom: incl, inclTo: incl}
		if r == '>' {
			spec.from = v
		} else {
			spec.to = v
		}
		q, err := p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
			return p.t.rangeOn(f, prop, spec)
		})
		if err != nil {
			return nil, err
		}
		return p.boosted(q)
	case !p.o.simple && r == '/':
		p.pos++
		var b strings.Builder
		for p.pos < len(p.s) && p.s[p.pos] != '/' {
			if p.s[p.pos] == '\\' && p.pos+1 < len(p.s) {
				b.WriteRune(p.s[p.pos])
				p.pos++
			}
			b.WriteRune(p.s[p.pos])
			p.pos++
		}
		if p.pos >= len(p.s) {
			return nil, p.errf("unterminated regular expression")
		}
		p.pos++
		q, err := p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
			if prop.Type != index.TypeText && prop.Type != index.TypeKeyword {
				return nil, shardErr("Can only use regexp queries on keyword and text fields - not on [%s] which is of type [%s]", f, prop.Type)
			}
			return p.t.regexpQuery(f, b.String())
		})
		if err != nil {
			return nil, err
		}
		return p.boosted(q)
	}
	w := p.readWord()
	if w == "" {
		// A stray special character: skip it, as Lucene would fail on it
		// but users type them often in search bars.
		c := p.s[p.pos]
		if c == ':' || c == '^' || c == '~' || c == ']' || c == '}' {
			return nil, p.errf("unexpected [%c]", c)
		}
		p.pos++
		return nil, nil
	}
	fz := -100
	if p.peek() == '~' {
		p.pos++
		fz = -1
		if n := p.readNumber(); n != "" {
			f, _ := strconv.ParseFloat(n, 64)
			fz = int(f)
		}
	}
	prefix := false
	if p.o.simple && strings.HasSuffix(w, "*") && !strings.HasSuffix(w, "\\*") {
		prefix = true
		w = strings.TrimSuffix(w, "*")
	}
	q, err := p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
		return p.termClause(f, prop, w, fz, prefix)
	})
	if err != nil {
		return nil, err
	}
	return p.boosted(q)
}

func (p *qsParser) readNumber() string {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] >= '0' && p.s[p.pos] <= '9' || p.s[p.pos] == '.') {
		p.pos++
	}
	return string(p.s[start:p.pos])
}

// boosted applies a trailing ^boost.
func (p *qsParser) boosted(q query.Query) (query.Query, error) {
	if p.o.simple || p.peek() != '^' {
		return q, nil
	}
	p.pos++
	n := p.readNumber()
	b, err := strconv.ParseFloat(n, 64)
	if err != nil {
		return nil, p.errf("invalid boost [%s]", n)
	}
	if bq, ok := q.(query.BoostableQuery); ok {
		bq.SetBoost(b * bq.Boost())
		return q, nil
	}
	return &constScoreQuery{q: q, score: b}, nil
}

// perField builds a clause on every field and ORs them. On fields found
// by a wildcard (and with lenient), values of the wrong type are skipped.
func (p *qsParser) perField(fields []weightedField, build func(f string, prop *index.Property) (query.Query, error)) (query.Query, error) {
	var qs []query.Query
	for _, f := range fields {
		prop := p.t.lookup(f.name)
		if prop == nil {
			continue
		}
		q, err := build(f.name, prop)
		if err != nil {
			if (f.lenient || p.o.lenient) && !isLimitErr(err) {
				continue
			}
			return nil, err
		}
		qs = append(qs, setBoost(q, f.boost))
	}
	switch len(qs) {
	case 0:
		return query.NewMatchNoneQuery(), nil
	case 1:
		return qs[0], nil
	}
	return query.NewDisjunctionQuery(qs), nil
}

// termClause builds a bare term on one field: wildcard, fuzzy, prefix or
// a plain (analyzed) term.
func (p *qsParser) termClause(f string, prop *index.Property, w string, fz int, prefix bool) (query.Query, error) {
	text := prop.Type == index.TypeText
	if hasWildcard(w) && !p.o.simple {
		if w == "*" {
			return existsQuery(f)
		}
		if !text && prop.Type != index.TypeKeyword {
			return nil, shardErr("Can only use wildcard queries on keyword and text fields - not on [%s] which is of type [%s]", f, prop.Type)
		}
		if text && lowercases(prop) {
			w = strings.ToLower(w)
		}
		p.t.note(f, hlTerm{glob: unescape(w)})
		return p.t.wildcardQuery(f, prop, w, wildcardToRegexp(w), false)
	}
	w = unescape(w)
	if prefix {
		if !text && prop.Type != index.TypeKeyword {
			return nil, shardErr("Can only use prefix queries on keyword and text fields - not on [%s] which is of type [%s]", f, prop.Type)
		}
		if text && lowercases(prop) {
			w = strings.ToLower(w)
		}
		p.t.note(f, hlTerm{term: w, prefix: true})
		q := query.NewPrefixQuery(w)
		q.SetField(f)
		return limitExpansion(q, f), nil
	}
	if fz != -100 {
		fuzz := "AUTO"
		if fz >= 0 {
			fuzz = strconv.Itoa(min(fz, 2))
		}
		if !text && prop.Type != index.TypeKeyword {
			return p.t.termQuery(f, prop, w)
		}
		return p.t.matchField(f, matchOpts{text: w, fuzziness: fuzz, prefixLen: p.o.fuzzyPfx, boost: 1, analyzer: p.o.analyzer})
	}
	return p.t.matchField(f, matchOpts{text: w, and: p.o.and, boost: 1, analyzer: p.o.analyzer})
}

// lowercases reports whether a text field's analyzer lower-cases terms,
// so that wildcard patterns are lower-cased to match.
func lowercases(p *index.Property) bool {
	switch p.Analyzer {
	case "whitespace", "keyword":
		return false
	}
	return true
}

// parseRange parses [a TO b], {a TO b} and mixed forms; * is open.
func (p *qsParser) parseRange(fields []weightedField) (query.Query, error) {
	open := p.s[p.pos]
	p.pos++
	p.skipWS()
	lo := p.readRangeValue()
	p.skipWS()
	if p.readWord() != "TO" {
		return nil, p.errf("expected TO in range")
	}
	p.skipWS()
	hi := p.readRangeValue()
	p.skipWS()
	c := p.peek()
	if c != ']' && c != '}' {
		return nil, p.errf("unterminated range")
	}
	p.pos++
	spec := rangeSpec{inclFrom: open == '[', inclTo: c == ']'}
	if lo != "*" {
		spec.from = lo
	}
	if hi != "*" {
		spec.to = hi
	}
	q, err := p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
		if prop.Type == index.TypeText && lowercases(prop) {
			s := spec
			if s.from != nil {
				s.from = strings.ToLower(fmt.Sprint(s.from))
			}
			if s.to != nil {
				s.to = strings.ToLower(fmt.Sprint(s.to))
			}
			return p.t.rangeOn(f, prop, s)
		}
		return p.t.rangeOn(f, prop, spec)
	})
	if err != nil {
		return nil, err
	}
	return p.boosted(q)
}

func (p *qsParser) readRangeValue() string {
	if p.peek() == '"' {
		p.pos++
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] != '"' {
			p.pos++
		}
		v := string(p.s[start:p.pos])
		if p.pos < len(p.s) {
			p.pos++
		}
		return v
	}
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune(" \t]}", p.s[p.pos]) {
		p.pos++
	}
	return string(p.s[start:p.pos])
}
