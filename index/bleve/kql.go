package bleve

// This file translates the tenantgate query type
//
//	{"kql": {"query": "<KQL>", "default_field": "*", "time_zone": "+01:00"}}
//
// into Bleve queries, with the semantics OpenSearch Dashboards gives KQL
// when it turns it into query DSL (DQL → DSL):
//
//   - field:value is match on the field (a term on keyword, numeric,
//     boolean and IP fields); field:"a phrase" is match_phrase;
//   - a value with "*" is a wildcard (query_string on the field); field:*
//     is exists, *:* matches everything;
//   - a date field compares by range (gte and lte the value, rounded to
//     its precision, in time_zone);
//   - field > v, >=, <, <= are ranges (numbers, dates with date math, IPs,
//     strings);
//   - a value without a field is multi_match (phrase when quoted, lenient)
//     over default_field ("*": every text and keyword field);
//   - a field name with "*" expands over the mapping; fields whose type
//     cannot take the value are skipped;
//   - and is bool must, or is bool should, not is bool must_not.
//
// Per-field behaviour comes from the translator's builders (matchField,
// phraseField, rangeOn, the query_string term builder, existsQuery), so
// KQL, query_string and the JSON DSL agree on every field type.

import (
	"encoding/json"
	"errors"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tenantgate/tenantgate/index"
)

// kql handles {"kql": {...}}.
func (t *translator) kql(body json.RawMessage) (query.Query, error) {
	obj, err := t.params("kql", body, map[string]bool{"query": true, "default_field": true, "time_zone": true})
	if err != nil {
		return nil, err
	}
	raw, ok := obj["query"]
	if !ok {
		return nil, parsingErr("[kql] must be provided with a [query]")
	}
	text, err := asString(raw, "query")
	if err != nil {
		return nil, err
	}
	k := kqlTranslator{t: t, defaultField: "*"}
	if raw, ok := obj["default_field"]; ok {
		if k.defaultField, err = asString(raw, "default_field"); err != nil {
			return nil, err
		}
	}
	if raw, ok := obj["time_zone"]; ok {
		if k.timeZone, err = asString(raw, "time_zone"); err != nil {
			return nil, err
		}
		if _, err := timeZone(k.timeZone); err != nil {
			return nil, err
		}
	}
	boost, err := boostOf(obj)
	if err != nil {
		return nil, err
	}
	n, err := parseKQL(text)
	if err != nil {
		var se *kqlSyntaxError
		if errors.As(err, &se) {
			return nil, parsingErr("[kql] failed to parse query [%s]: %s", text, se.Error())
		}
		return nil, err
	}
	q, err := k.node(n)
	if err != nil {
		return nil, err
	}
	return setBoost(q, boost), nil
}

// kqlTranslator turns a KQL syntax tree into Bleve queries.
type kqlTranslator struct {
	t            *translator
	defaultField string
	timeZone     string
}

func (k kqlTranslator) node(n kqlNode) (query.Query, error) {
	switch n := n.(type) {
	case kqlMatchAll:
		return query.NewMatchAllQuery(), nil
	case kqlOr:
		qs, err := k.nodes(n.children)
		if err != nil {
			return nil, err
		}
		return &boolQuery{should: qs, minShould: 1, boost: 1}, nil
	case kqlAnd:
		qs, err := k.nodes(n.children)
		if err != nil {
			return nil, err
		}
		return &boolQuery{must: qs, boost: 1}, nil
	case kqlNot:
		k.t.negated++
		q, err := k.node(n.child)
		k.t.negated--
		if err != nil {
			return nil, err
		}
		return &boolQuery{mustNot: []query.Query{q}, boost: 1}, nil
	case kqlIs:
		if n.field == nil {
			return k.freeText(n.value)
		}
		return k.is(*n.field, n.value)
	case kqlRange:
		return k.rangeNode(n)
	}
	return nil, parsingErr("[kql] unexpected node %T", n)
}

func (k kqlTranslator) nodes(ns []kqlNode) ([]query.Query, error) {
	out := make([]query.Query, 0, len(ns))
	for _, c := range ns {
		q, err := k.node(c)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// fields resolves a KQL field name: itself, or for a pattern every mapped
// field it matches (lenient, so a value of the wrong type skips a field).
func (k kqlTranslator) fields(f kqlLiteral) []weightedField {
	if !f.wildcard() {
		return []weightedField{{name: f.text(), boost: 1}}
	}
	var out []weightedField
	for _, fp := range k.t.m.Paths() {
		if f.matches(fp.Path) {
			out = append(out, weightedField{name: fp.Path, boost: 1, lenient: true})
		}
	}
	return out
}

// qs is the query_string machinery the leaves share: perField and the
// term builder.
func (k kqlTranslator) qs(lenient bool) *qsParser {
	return &qsParser{t: k.t, o: qsOptions{allowWild: true, lenient: lenient}}
}

// freeText is a value without a field: multi_match over default_field.
func (k kqlTranslator) freeText(v kqlLiteral) (query.Query, error) {
	if v.isStar() {
		return query.NewMatchAllQuery(), nil
	}
	fields, err := k.t.expandFields([]string{k.defaultField})
	if err != nil {
		return nil, err
	}
	p := k.qs(true)
	return p.perField(fields, func(f string, prop *index.Property) (query.Query, error) {
		switch {
		case v.wildcard():
			return p.termClause(f, prop, v.glob(), -100, false)
		case v.quoted:
			return k.t.phraseField(f, matchOpts{text: v.text(), boost: 1}, false)
		}
		return k.t.matchField(f, matchOpts{text: v.text(), boost: 1, lenient: true})
	})
}

// is is field:value.
func (k kqlTranslator) is(field, v kqlLiteral) (query.Query, error) {
	if v.isStar() && !v.quoted {
		if field.isStar() {
			return query.NewMatchAllQuery(), nil
		}
		return existsQuery(field.glob())
	}
	p := k.qs(false)
	return p.perField(k.fields(field), func(f string, prop *index.Property) (query.Query, error) {
		switch {
		case v.wildcard():
			return p.termClause(f, prop, v.glob(), -100, false)
		case prop.Type == index.TypeDate:
			return k.t.rangeOn(f, prop, rangeSpec{from: v.text(), to: v.text(), inclFrom: true, inclTo: true, timeZone: k.timeZone})
		case v.quoted:
			return k.t.phraseField(f, matchOpts{text: v.text(), boost: 1}, false)
		}
		return k.t.matchField(f, matchOpts{text: v.text(), boost: 1})
	})
}

// rangeNode is field < value and its siblings.
func (k kqlTranslator) rangeNode(n kqlRange) (query.Query, error) {
	spec := rangeSpec{timeZone: k.timeZone}
	v := n.value.text()
	switch n.op {
	case ">":
		spec.from = v
	case ">=":
		spec.from, spec.inclFrom = v, true
	case "<":
		spec.to = v
	case "<=":
		spec.to, spec.inclTo = v, true
	}
	return k.qs(false).perField(k.fields(n.field), func(f string, prop *index.Property) (query.Query, error) {
		return k.t.rangeOn(f, prop, spec)
	})
}
