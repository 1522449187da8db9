package bleve

// This file computes OpenSearch aggregations. Matching documents are
// walked with a Bleve searcher on an index reader, their doc values are
// decoded once per document into typed columns, and the aggregation tree
// is evaluated over those columns. Documents of several indices are
// aggregated together; each index decodes its fields with its own
// mapping.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// aggNode is one parsed aggregation.
type aggNode struct {
	name  string
	typ   string
	field string
	subs  []*aggNode

	// terms
	size        int
	minDocCount int
	orderKey    string // "_count", "_key" or a sub-aggregation ("stats.max")
	orderDesc   bool
	missing     any

	// histogram and date_histogram
	interval   float64
	offset     float64
	extMin     any
	extMax     any
	calendar   string // y, q, M, w, d, h, m (date_histogram)
	fixedMs    int64
	format     string
	loc        *time.Location
	keyed      bool
	hasExtends bool

	// range and date_range
	ranges []aggRange

	// filters and filter
	filters     []namedFilter
	keyedFilter bool
	otherBucket bool
	otherKey    string
}

type aggRange struct {
	key      string
	from, to any
}

type namedFilter struct {
	name string
	raw  json.RawMessage
}

var aggTypes = map[string]bool{
	"terms": true, "histogram": true, "date_histogram": true, "range": true, "date_range": true,
	"filters": true, "filter": true, "missing": true, "min": true, "max": true, "avg": true, "sum": true,
	"value_count": true, "cardinality": true, "stats": true,
}

func aggErr(format string, args ...any) error {
	return index.Invalidf("parsing_exception", format, args...)
}

// parseAggs parses an "aggs" object; nil when absent.
func parseAggs(raw json.RawMessage) ([]*aggNode, error) {
	if isNull(raw) {
		return nil, nil
	}
	obj, keys, err := aggObject(raw)
	if err != nil {
		return nil, aggErr("[aggs] must be an object")
	}
	var out []*aggNode
	for _, name := range keys {
		n, err := parseAgg(name, obj[name])
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// aggObject decodes an object keeping its key order.
func aggObject(raw json.RawMessage) (map[string]json.RawMessage, []string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("not an object")
	}
	obj := map[string]json.RawMessage{}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		if _, dup := obj[k]; !dup {
			keys = append(keys, k)
		}
		obj[k] = v
	}
	return obj, keys, nil
}

func parseAgg(name string, raw json.RawMessage) (*aggNode, error) {
	obj, keys, err := aggObject(raw)
	if err != nil {
		return nil, aggErr("aggregation [%s] must be an object", name)
	}
	n := &aggNode{name: name}
	for _, k := range keys {
		switch k {
		case "aggs", "aggregations":
			subs, err := parseAggs(obj[k])
			if err != nil {
				return nil, err
			}
			n.subs = append(n.subs, subs...)
		case "meta":
		default:
			if n.typ != "" {
				return nil, aggErr("Found two aggregation type definitions in [%s]: [%s] and [%s]", name, n.typ, k)
			}
			if !aggTypes[k] {
				return nil, aggErr("Unknown aggregation type [%s] in [%s]", k, name)
			}
			n.typ = k
		}
	}
	if n.typ == "" {
		return nil, aggErr("Missing definition for aggregation [%s]", name)
	}
	if err := n.parseBody(obj[n.typ]); err != nil {
		return nil, err
	}
	if len(n.subs) > 0 {
		switch n.typ {
		case "terms", "histogram", "date_histogram", "range", "date_range", "filters", "filter", "missing":
		default:
			return nil, aggErr("Aggregator [%s] of type [%s] cannot accept sub-aggregations", name, n.typ)
		}
	}
	return n, nil
}

// aggParams lists the accepted parameters per aggregation type.
var aggParams = map[string]map[string]bool{
	"terms": {"field": true, "size": true, "min_doc_count": true, "order": true, "missing": true, "shard_size": true,
		"show_term_doc_count_error": true, "execution_hint": true, "collect_mode": true, "value_type": true, "shard_min_doc_count": true},
	"histogram": {"field": true, "interval": true, "offset": true, "min_doc_count": true, "extended_bounds": true,
		"keyed": true, "missing": true, "order": true},
	"date_histogram": {"field": true, "calendar_interval": true, "fixed_interval": true, "interval": true, "format": true,
		"time_zone": true, "offset": true, "min_doc_count": true, "extended_bounds": true, "keyed": true, "missing": true, "order": true},
	"range":       {"field": true, "ranges": true, "keyed": true, "missing": true},
	"date_range":  {"field": true, "ranges": true, "keyed": true, "format": true, "time_zone": true, "missing": true},
	"filters":     {"filters": true, "other_bucket": true, "other_bucket_key": true},
	"missing":     {"field": true},
	"min":         {"field": true, "missing": true, "format": true},
	"max":         {"field": true, "missing": true, "format": true},
	"avg":         {"field": true, "missing": true, "format": true},
	"sum":         {"field": true, "missing": true, "format": true},
	"stats":       {"field": true, "missing": true, "format": true},
	"value_count": {"field": true},
	"cardinality": {"field": true, "precision_threshold": true, "missing": true},
}

func (n *aggNode) parseBody(raw json.RawMessage) error {
	if n.typ == "filter" {
		n.filters = []namedFilter{{name: n.name, raw: raw}}
		return nil
	}
	obj, keys, err := aggObject(raw)
	if err != nil {
		return aggErr("[%s] aggregation [%s] must be an object", n.typ, n.name)
	}
	for _, k := range keys {
		if !aggParams[n.typ][k] {
			return aggErr("[%s] unknown field [%s] in aggregation [%s]", n.typ, k, n.name)
		}
	}
	if n.typ != "filters" {
		raw, ok := obj["field"]
		if !ok {
			return aggErr("Required one of fields [field, script], but none were specified in aggregation [%s]", n.name)
		}
		if n.field, err = asString(raw, "field"); err != nil {
			return err
		}
	}
	if raw, ok := obj["missing"]; ok {
		if n.missing, err = value(raw); err != nil {
			return aggErr("[%s] invalid [missing]", n.name)
		}
	}
	if raw, ok := obj["keyed"]; ok {
		if n.keyed, err = asBool(raw, "keyed"); err != nil {
			return err
		}
	}
	if raw, ok := obj["format"]; ok {
		if n.format, err = asString(raw, "format"); err != nil {
			return err
		}
	}
	if raw, ok := obj["time_zone"]; ok {
		s, err := asString(raw, "time_zone")
		if err != nil {
			return err
		}
		if n.loc, err = timeZone(s); err != nil {
			return err
		}
	}
	switch n.typ {
	case "terms":
		n.size, n.minDocCount, n.orderKey, n.orderDesc = 10, 1, "_count", true
		if raw, ok := obj["size"]; ok {
			if n.size, err = asInt(raw, "size"); err != nil || n.size < 1 {
				return aggErr("[size] must be greater than 0. Found [%s] in [%s]", string(raw), n.name)
			}
		}
		if raw, ok := obj["min_doc_count"]; ok {
			if n.minDocCount, err = asInt(raw, "min_doc_count"); err != nil || n.minDocCount < 0 {
				return aggErr("[min_doc_count] must be a non-negative integer in [%s]", n.name)
			}
		}
		if raw, ok := obj["order"]; ok {
			if err := n.parseOrder(raw); err != nil {
				return err
			}
		}
	case "histogram", "date_histogram":
		n.orderKey = "_key"
		if raw, ok := obj["order"]; ok {
			if err := n.parseOrder(raw); err != nil {
				return err
			}
			if n.orderKey != "_key" && n.orderKey != "_count" {
				return aggErr("[%s] only supports ordering by [_key] or [_count]", n.typ)
			}
		}
		if raw, ok := obj["min_doc_count"]; ok {
			if n.minDocCount, err = asInt(raw, "min_doc_count"); err != nil || n.minDocCount < 0 {
				return aggErr("[min_doc_count] must be a non-negative integer in [%s]", n.name)
			}
		}
		if raw, ok := obj["extended_bounds"]; ok {
			eb, _, err := object(raw, "extended_bounds")
			if err != nil {
				return err
			}
			n.hasExtends = true
			if v, ok := eb["min"]; ok {
				n.extMin, _ = value(v)
			}
			if v, ok := eb["max"]; ok {
				n.extMax, _ = value(v)
			}
		}
		if n.typ == "histogram" {
			raw, ok := obj["interval"]
			if !ok {
				return aggErr("Missing required field [interval] for histogram aggregation [%s]", n.name)
			}
			if n.interval, err = asFloat(raw, "interval"); err != nil || n.interval <= 0 {
				return aggErr("[interval] must be >0 for histogram aggregation [%s]", n.name)
			}
			if raw, ok := obj["offset"]; ok {
				if n.offset, err = asFloat(raw, "offset"); err != nil {
					return err
				}
			}
		} else if err := n.parseDateInterval(obj); err != nil {
			return err
		}
	case "range", "date_range":
		raw, ok := obj["ranges"]
		if !ok {
			return aggErr("No [ranges] specified for the [%s] aggregation", n.name)
		}
		var rs []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rs); err != nil {
			return aggErr("[ranges] must be an array of objects in [%s]", n.name)
		}
		for _, r := range rs {
			var ar aggRange
			for k, v := range r {
				switch k {
				case "key":
					if ar.key, err = asString(v, "key"); err != nil {
						return err
					}
				case "from", "to":
					val, err := value(v)
					if err != nil {
						return aggErr("[ranges] invalid [%s]", k)
					}
					if k == "from" {
						ar.from = val
					} else {
						ar.to = val
					}
				default:
					return aggErr("[ranges] unknown field [%s] in [%s]", k, n.name)
				}
			}
			n.ranges = append(n.ranges, ar)
		}
	case "filters":
		raw, ok := obj["filters"]
		if !ok {
			return aggErr("[filters] aggregation [%s] requires [filters]", n.name)
		}
		if isArray(raw) {
			var arr []json.RawMessage
			if err := json.Unmarshal(raw, &arr); err != nil {
				return aggErr("[filters] must be an object or an array")
			}
			for i, f := range arr {
				n.filters = append(n.filters, namedFilter{name: strconv.Itoa(i), raw: f})
			}
		} else {
			fo, fkeys, err := object(raw, "filters")
			if err != nil {
				return err
			}
			n.keyedFilter = true
			for _, k := range fkeys { // sorted by name, as OpenSearch does
				n.filters = append(n.filters, namedFilter{name: k, raw: fo[k]})
			}
		}
		if raw, ok := obj["other_bucket"]; ok {
			if n.otherBucket, err = asBool(raw, "other_bucket"); err != nil {
				return err
			}
		}
		if raw, ok := obj["other_bucket_key"]; ok {
			if n.otherKey, err = asString(raw, "other_bucket_key"); err != nil {
				return err
			}
			n.otherBucket = true
		}
		if n.otherKey == "" {
			n.otherKey = "_other_"
		}
	}
	return nil
}

func (n *aggNode) parseOrder(raw json.RawMessage) error {
	items, err := list(raw)
	if err != nil || len(items) != 1 {
		return aggErr("[order] must be one object with one key in [%s] (compound orders are not supported)", n.name)
	}
	o, keys, err := object(items[0], "order")
	if err != nil || len(keys) != 1 {
		return aggErr("[order] must be an object with one key in [%s]", n.name)
	}
	dir, err := asString(o[keys[0]], "order")
	if err != nil {
		return err
	}
	switch strings.ToLower(dir) {
	case "asc":
		n.orderDesc = false
	case "desc":
		n.orderDesc = true
	default:
		return aggErr("Unknown order direction [%s] in [%s]", dir, n.name)
	}
	n.orderKey = keys[0]
	if n.orderKey == "_term" {
		n.orderKey = "_key"
	}
	if n.orderKey != "_count" && n.orderKey != "_key" {
		name := strings.SplitN(n.orderKey, ".", 2)[0]
		found := false
		for _, s := range n.subs {
			found = found || s.name == name
		}
		// Sub-aggregations are parsed after the body only when "aggs"
		// comes first; the check is repeated at evaluation.
		_ = found
	}
	return nil
}

var calendarUnits = map[string]string{
	"minute": "m", "1m": "m", "hour": "h", "1h": "h", "day": "d", "1d": "d", "week": "w", "1w": "w",
	"month": "M", "1M": "M", "quarter": "q", "1q": "q", "year": "y", "1y": "y",
}

func (n *aggNode) parseDateInterval(obj map[string]json.RawMessage) error {
	set := 0
	for _, k := range []string{"calendar_interval", "fixed_interval", "interval"} {
		raw, ok := obj[k]
		if !ok {
			continue
		}
		set++
		s, err := asString(raw, k)
		if err != nil {
			return err
		}
		switch k {
		case "calendar_interval":
			u, ok := calendarUnits[s]
			if !ok {
				return index.Invalidf("illegal_argument_exception", "The supplied interval [%s] could not be parsed as a calendar interval.", s)
			}
			n.calendar = u
		case "fixed_interval":
			ms, err := fixedInterval(s)
			if err != nil {
				return err
			}
			n.fixedMs = ms
		default:
			if u, ok := calendarUnits[s]; ok {
				n.calendar = u
			} else if n.fixedMs, err = fixedInterval(s); err != nil {
				return err
			}
		}
	}
	if set == 0 {
		return index.Invalidf("illegal_argument_exception", "Invalid interval specified, must be non-null and non-empty")
	}
	if set > 1 {
		return index.Invalidf("illegal_argument_exception", "Cannot use more than one of [calendar_interval], [fixed_interval] and [interval]")
	}
	if raw, ok := obj["offset"]; ok {
		s, err := asString(raw, "offset")
		if err != nil {
			return err
		}
		neg := strings.HasPrefix(s, "-")
		ms, err := fixedInterval(strings.TrimLeft(s, "+-"))
		if err != nil {
			return err
		}
		if neg {
			ms = -ms
		}
		n.offset = float64(ms)
	}
	return nil
}

// fixedInterval parses "90s", "30m", "3h", "1d", "500ms" into milliseconds.
func fixedInterval(s string) (int64, error) {
	units := []struct {
		suffix string
		ms     int64
	}{{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}}
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseInt(strings.TrimSuffix(s, u.suffix), 10, 64)
			if err == nil && v > 0 {
				return v * u.ms, nil
			}
			break
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 {
		return v, nil
	}
	return 0, index.Invalidf("illegal_argument_exception", "failed to parse setting [date_histogram.fixedInterval] with value [%s] as a time value: unit is missing or unrecognized", s)
}

// ---- collecting documents ----

// column holds one field's decoded doc values for the documents of one
// index: numbers (numeric fields, dates as epoch millis, booleans as 1/0)
// or strings (keyword, ip).
type column struct {
	kind   sortKind
	mapped bool
	nums   [][]float64
	strs   [][]string
}

func (c *column) numeric() bool {
	return c.kind == sortNumber || c.kind == sortInteger || c.kind == sortDate || c.kind == sortBool
}

func (c *column) count(doc int) int {
	if c.numeric() {
		return len(c.nums[doc])
	}
	return len(c.strs[doc])
}

// aggSeg is the matching documents of one index.
type aggSeg struct {
	t      *searchTarget
	n      int
	cols   map[string]*column
	member map[*aggNode][][]bool // filters: per filter, per document
}

type docRef struct{ seg, doc int32 }

// runAggs evaluates the aggregation tree over the documents matching each
// target's query.
func runAggs(ctx context.Context, targets []*searchTarget, aggs []*aggNode, now time.Time) (json.RawMessage, error) {
	fields := map[string]bool{}
	var filterNodes []*aggNode
	var walk func([]*aggNode)
	walk = func(ns []*aggNode) {
		for _, n := range ns {
			if n.field != "" {
				fields[n.field] = true
			}
			if n.typ == "filters" || n.typ == "filter" {
				filterNodes = append(filterNodes, n)
			}
			walk(n.subs)
		}
	}
	walk(aggs)
	var segs []*aggSeg
	var docs []docRef
	for _, t := range targets {
		sg, err := collect(ctx, t, fields, filterNodes, now)
		if err != nil {
			return nil, err
		}
		for d := 0; d < sg.n; d++ {
			docs = append(docs, docRef{seg: int32(len(segs)), doc: int32(d)})
		}
		segs = append(segs, sg)
	}
	e := &aggEval{segs: segs}
	out, err := e.evalAll(aggs, docs)
	if err != nil {
		return nil, err
	}
	return json.Marshal(out)
}

// collect walks the documents matching t's query and decodes the doc
// values of fields.
func collect(ctx context.Context, t *searchTarget, fields map[string]bool, filterNodes []*aggNode, now time.Time) (sg *aggSeg, err error) {
	sg = &aggSeg{t: t, cols: map[string]*column{}, member: map[*aggNode][][]bool{}}
	var names []string
	for f := range fields {
		c := &column{}
		if p, ok := t.m.Lookup(f); ok && p.Type != index.TypeObject {
			if p.Type == index.TypeText {
				return nil, textFieldError(f)
			}
			c.kind, c.mapped = kindOf(p.Type), true
			names = append(names, f)
		}
		sg.cols[f] = c
	}
	sort.Strings(names)
	adv, err := t.h.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("opening index %q for aggregations: %w", t.h.name, err)
	}
	reader, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("opening reader of %q: %w", t.h.name, err)
	}
	defer func() {
		if cerr := reader.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	bm := t.h.idx.Mapping()
	var ids [][]byte
	visit := func(q query.Query, each func(id []byte) error) error {
		s, err := q.Searcher(ctx, reader, bm, search.SearcherOptions{Score: "none"})
		if err != nil {
			return err
		}
		defer s.Close()
		sctx := &search.SearchContext{DocumentMatchPool: search.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: reader}
		for i := 0; ; i++ {
			if i%1024 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			dm, err := s.Next(sctx)
			if err != nil {
				return err
			}
			if dm == nil {
				return nil
			}
			if err := each(dm.IndexInternalID); err != nil {
				return err
			}
			sctx.DocumentMatchPool.Put(dm)
		}
	}
	var dvr bindex.DocValueReader
	if len(names) > 0 {
		if dvr, err = reader.DocValueReader(names); err != nil {
			return nil, fmt.Errorf("reading doc values of %q: %w", t.h.name, err)
		}
	}
	err = visit(t.q, func(id []byte) error {
		ids = append(ids, append([]byte(nil), id...))
		doc := sg.n
		sg.n++
		for _, c := range sg.cols {
			if c.numeric() {
				c.nums = append(c.nums, nil)
			} else {
				c.strs = append(c.strs, nil)
			}
		}
		if dvr == nil {
			return nil
		}
		return dvr.VisitDocValues(id, func(field string, term []byte) {
			c := sg.cols[field]
			if c == nil || !c.mapped {
				return
			}
			switch c.kind {
			case sortNumber, sortInteger, sortDate:
				valid, shift := numeric.ValidPrefixCodedTermBytes(term)
				if !valid || shift != 0 {
					return
				}
				i, err := numeric.PrefixCoded(term).Int64()
				if err != nil {
					return
				}
				if c.kind == sortDate {
					c.nums[doc] = append(c.nums[doc], float64(i/1e6))
				} else {
					c.nums[doc] = append(c.nums[doc], numeric.Int64ToFloat64(i))
				}
			case sortBool:
				v := 0.0
				if string(term) == "T" {
					v = 1
				}
				c.nums[doc] = append(c.nums[doc], v)
			case sortIP:
				c.strs[doc] = append(c.strs[doc], ipString(term))
			default:
				c.strs[doc] = append(c.strs[doc], string(term))
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("aggregating over %q: %w", t.h.name, err)
	}
	// Filter membership: run each filter query and mark the documents.
	if len(filterNodes) > 0 {
		pos := make(map[string]int, len(ids))
		for i, id := range ids {
			pos[string(id)] = i
		}
		tr := newTranslator(t.m, bm, now)
		tr.hl = nil
		for _, n := range filterNodes {
			var sets [][]bool
			for _, f := range n.filters {
				q, err := tr.parse(f.raw)
				if err != nil {
					return nil, err
				}
				set := make([]bool, sg.n)
				if err := visit(q, func(id []byte) error {
					if i, ok := pos[string(id)]; ok {
						set[i] = true
					}
					return nil
				}); err != nil {
					return nil, fmt.Errorf("filter of aggregation [%s]: %w", n.name, err)
				}
				sets = append(sets, set)
			}
			sg.member[n] = sets
		}
	}
	return sg, nil
}

// ---- evaluation ----

type aggEval struct {
	segs []*aggSeg
}

// jsonObj is a JSON object that keeps its key order.
type jsonObj []kv

type kv struct {
	k string
	v any
}

func (o jsonObj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(e.k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// num returns a JSON number, or null for NaN and infinities.
func num(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

func (e *aggEval) evalAll(ns []*aggNode, docs []docRef) (jsonObj, error) {
	out := jsonObj{}
	for _, n := range ns {
		v, err := e.eval(n, docs)
		if err != nil {
			return nil, err
		}
		out = append(out, kv{n.name, v})
	}
	return out, nil
}

// bucket appends the doc count and sub-aggregations to a bucket.
func (e *aggEval) bucket(n *aggNode, head jsonObj, docs []docRef) (jsonObj, error) {
	head = append(head, kv{"doc_count", len(docs)})
	subs, err := e.evalAll(n.subs, docs)
	if err != nil {
		return nil, err
	}
	return append(head, subs...), nil
}

func (e *aggEval) col(sg int32, field string) *column {
	return e.segs[sg].cols[field]
}

// fieldKind returns the kind of a field in the first index that maps it.
func (e *aggEval) fieldKind(field string) (sortKind, bool) {
	for _, sg := range e.segs {
		if c := sg.cols[field]; c != nil && c.mapped {
			return c.kind, true
		}
	}
	return sortString, false
}

func (e *aggEval) eval(n *aggNode, docs []docRef) (any, error) {
	switch n.typ {
	case "terms":
		return e.terms(n, docs)
	case "histogram", "date_histogram":
		return e.histogram(n, docs)
	case "range", "date_range":
		return e.ranges(n, docs)
	case "filters":
		return e.filters(n, docs)
	case "filter":
		var in []docRef
		for _, d := range docs {
			if e.segs[d.seg].member[n][0][d.doc] {
				in = append(in, d)
			}
		}
		return e.bucket(n, jsonObj{}, in)
	case "missing":
		var in []docRef
		for _, d := range docs {
			if c := e.col(d.seg, n.field); !c.mapped || c.count(int(d.doc)) == 0 {
				in = append(in, d)
			}
		}
		return e.bucket(n, jsonObj{}, in)
	default:
		return e.metric(n, docs)
	}
}

// termKey is a bucket key of a terms aggregation.
type termKey struct {
	isNum bool
	num   float64
	str   string
}

func (e *aggEval) terms(n *aggNode, docs []docRef) (any, error) {
	kind, _ := e.fieldKind(n.field)
	groups := map[termKey][]docRef{}
	var order []termKey
	add := func(k termKey, d docRef) {
		g, ok := groups[k]
		if !ok {
			order = append(order, k)
		}
		if len(g) > 0 && g[len(g)-1] == d {
			return
		}
		groups[k] = append(g, d)
	}
	for _, d := range docs {
		c := e.col(d.seg, n.field)
		if !c.mapped || c.count(int(d.doc)) == 0 {
			if n.missing != nil {
				add(missingKey(n.missing, c.numeric()), d)
			}
			continue
		}
		if c.numeric() {
			for _, v := range c.nums[d.doc] {
				add(termKey{isNum: true, num: v}, d)
			}
		} else {
			for _, v := range c.strs[d.doc] {
				add(termKey{str: v}, d)
			}
		}
	}
	type bucket struct {
		k    termKey
		docs []docRef
		sub  float64
	}
	var bs []bucket
	for _, k := range order {
		if len(groups[k]) >= n.minDocCount {
			bs = append(bs, bucket{k: k, docs: groups[k]})
		}
	}
	keyLess := func(a, b termKey) bool {
		if a.isNum != b.isNum {
			return a.isNum
		}
		if a.isNum {
			return a.num < b.num
		}
		return a.str < b.str
	}
	switch n.orderKey {
	case "_count":
		sort.SliceStable(bs, func(i, j int) bool {
			if len(bs[i].docs) != len(bs[j].docs) {
				return (len(bs[i].docs) > len(bs[j].docs)) == n.orderDesc
			}
			return keyLess(bs[i].k, bs[j].k)
		})
	case "_key":
		sort.SliceStable(bs, func(i, j int) bool {
			if n.orderDesc {
				return keyLess(bs[j].k, bs[i].k)
			}
			return keyLess(bs[i].k, bs[j].k)
		})
	default:
		for i := range bs {
			v, err := e.subValue(n, n.orderKey, bs[i].docs)
			if err != nil {
				return nil, err
			}
			bs[i].sub = v
		}
		sort.SliceStable(bs, func(i, j int) bool {
			a, b := bs[i].sub, bs[j].sub
			if a != b && !(math.IsNaN(a) && math.IsNaN(b)) {
				if math.IsNaN(a) {
					return false
				}
				if math.IsNaN(b) {
					return true
				}
				return (a > b) == n.orderDesc
			}
			return keyLess(bs[i].k, bs[j].k)
		})
	}
	other := 0
	if len(bs) > n.size {
		for _, b := range bs[n.size:] {
			other += len(b.docs)
		}
		bs = bs[:n.size]
	}
	buckets := make([]any, 0, len(bs))
	for _, b := range bs {
		head := termBucketKey(b.k, kind, n)
		obj, err := e.bucket(n, head, b.docs)
		if err != nil {
			return nil, err
		}
		buckets = append(buckets, obj)
	}
	return jsonObj{{"doc_count_error_upper_bound", 0}, {"sum_other_doc_count", other}, {"buckets", buckets}}, nil
}

func missingKey(v any, numericField bool) termKey {
	if numericField {
		if f, err := numberValue("", v); err == nil {
			return termKey{isNum: true, num: f}
		}
	}
	if b, ok := v.(bool); ok {
		if numericField {
			if b {
				return termKey{isNum: true, num: 1}
			}
			return termKey{isNum: true}
		}
		return termKey{str: strconv.FormatBool(b)}
	}
	return termKey{str: fmt.Sprint(v)}
}

// termBucketKey renders the key of a terms bucket by field kind.
func termBucketKey(k termKey, kind sortKind, n *aggNode) jsonObj {
	if !k.isNum {
		return jsonObj{{"key", k.str}}
	}
	switch kind {
	case sortDate:
		return jsonObj{{"key", int64(k.num)}, {"key_as_string", formatDate(int64(k.num), n.format, n.loc)}}
	case sortBool:
		s := "false"
		if k.num != 0 {
			s = "true"
		}
		return jsonObj{{"key", int64(k.num)}, {"key_as_string", s}}
	case sortInteger:
		if k.num == math.Trunc(k.num) {
			return jsonObj{{"key", int64(k.num)}}
		}
	}
	return jsonObj{{"key", k.num}}
}

// subValue computes a single-value metric sub-aggregation ("avg_price",
// "price_stats.max") over docs, for ordering buckets.
func (e *aggEval) subValue(n *aggNode, path string, docs []docRef) (float64, error) {
	name, stat, _ := strings.Cut(path, ".")
	for _, s := range n.subs {
		if s.name != name {
			continue
		}
		vals, cnt := e.values(s, docs)
		switch s.typ {
		case "min", "max", "avg", "sum", "value_count", "cardinality":
			if stat != "" && stat != "value" {
				break
			}
			return metricValue(s.typ, vals, cnt), nil
		case "stats":
			switch stat {
			case "min", "max", "avg", "sum":
				return metricValue(stat, vals, cnt), nil
			case "count":
				return float64(len(vals)), nil
			}
		}
		return 0, aggErr("Invalid aggregation order path [%s]: [%s] is not a single-value metric", path, name)
	}
	return 0, aggErr("Invalid aggregation order path [%s]. The provided aggregation [%s] either does not exist, or is a pipeline aggregation and cannot be used to sort the buckets.", path, name)
}

// values returns the numeric values of a metric's field over docs and
// the number of distinct values (for cardinality).
func (e *aggEval) values(n *aggNode, docs []docRef) ([]float64, int) {
	var vals []float64
	distinct := map[termKey]bool{}
	for _, d := range docs {
		c := e.col(d.seg, n.field)
		if !c.mapped || c.count(int(d.doc)) == 0 {
			if n.missing != nil {
				k := missingKey(n.missing, c.numeric() || !c.mapped)
				distinct[k] = true
				if k.isNum {
					vals = append(vals, k.num)
				} else {
					vals = append(vals, math.NaN())
				}
			}
			continue
		}
		if c.numeric() {
			for _, v := range c.nums[d.doc] {
				vals = append(vals, v)
				distinct[termKey{isNum: true, num: v}] = true
			}
		} else {
			for _, v := range c.strs[d.doc] {
				vals = append(vals, math.NaN())
				distinct[termKey{str: v}] = true
			}
		}
	}
	return vals, len(distinct)
}

func metricValue(typ string, vals []float64, distinct int) float64 {
	switch typ {
	case "value_count":
		return float64(len(vals))
	case "cardinality":
		return float64(distinct)
	case "sum":
		s := 0.0
		for _, v := range vals {
			s += v
		}
		return s
	}
	if len(vals) == 0 {
		return math.NaN()
	}
	switch typ {
	case "min":
		m := math.Inf(1)
		for _, v := range vals {
			m = math.Min(m, v)
		}
		return m
	case "max":
		m := math.Inf(-1)
		for _, v := range vals {
			m = math.Max(m, v)
		}
		return m
	}
	s := 0.0
	for _, v := range vals {
		s += v
	}
	return s / float64(len(vals))
}

func (e *aggEval) metric(n *aggNode, docs []docRef) (any, error) {
	kind, mapped := e.fieldKind(n.field)
	if mapped && (kind == sortString || kind == sortIP) && n.typ != "value_count" && n.typ != "cardinality" {
		tname := "keyword"
		if kind == sortIP {
			tname = "ip"
		}
		return nil, index.Invalidf("illegal_argument_exception", "Field [%s] of type [%s] is not supported for aggregation [%s]", n.field, tname, n.typ)
	}
	vals, distinct := e.values(n, docs)
	withString := func(o jsonObj, key string, v float64) jsonObj {
		if kind == sortDate && !math.IsNaN(v) && !math.IsInf(v, 0) {
			o = append(o, kv{key + "_as_string", formatDate(int64(v), n.format, n.loc)})
		}
		return o
	}
	if n.typ == "stats" {
		o := jsonObj{{"count", len(vals)}}
		for _, s := range []string{"min", "max", "avg", "sum"} {
			v := metricValue(s, vals, distinct)
			if len(vals) == 0 && s != "sum" {
				o = append(o, kv{s, nil})
				continue
			}
			o = append(o, kv{s, num(v)})
		}
		if kind == sortDate && len(vals) > 0 {
			for _, s := range []string{"min", "max", "avg"} {
				o = withString(o, s, metricValue(s, vals, distinct))
			}
		}
		return o, nil
	}
	v := metricValue(n.typ, vals, distinct)
	switch n.typ {
	case "value_count", "cardinality":
		return jsonObj{{"value", int64(v)}}, nil
	}
	o := jsonObj{{"value", num(v)}}
	if n.typ == "min" || n.typ == "max" {
		o = withString(o, "value", v)
	}
	return o, nil
}

// ---- histograms ----

func (e *aggEval) histogram(n *aggNode, docs []docRef) (any, error) {
	kind, mapped := e.fieldKind(n.field)
	isDate := n.typ == "date_histogram"
	if mapped && (kind == sortString || kind == sortIP) {
		tname := "keyword"
		if kind == sortIP {
			tname = "ip"
		}
		return nil, index.Invalidf("illegal_argument_exception", "Field [%s] of type [%s] is not supported for aggregation [%s]", n.field, tname, n.typ)
	}
	loc := n.loc
	if loc == nil {
		loc = time.UTC
	}
	key := func(v float64) float64 {
		if !isDate {
			return math.Floor((v-n.offset)/n.interval)*n.interval + n.offset
		}
		return float64(dateKey(int64(v), n, loc))
	}
	next := func(k float64) float64 {
		if !isDate {
			return k + n.interval
		}
		return float64(nextDateKey(int64(k), n, loc))
	}
	groups := map[float64][]docRef{}
	for _, d := range docs {
		c := e.col(d.seg, n.field)
		var vs []float64
		if c.mapped && c.numeric() {
			vs = c.nums[d.doc]
		}
		if len(vs) == 0 && n.missing != nil {
			if isDate {
				if tm, err := parseDateMath(n.missing, n.format, loc, time.Now(), false); err == nil {
					vs = []float64{float64(tm.UnixMilli())}
				}
			} else if f, err := numberValue(n.field, n.missing); err == nil {
				vs = []float64{f}
			}
		}
		for _, v := range vs {
			k := key(v)
			g := groups[k]
			if len(g) > 0 && g[len(g)-1] == d {
				continue
			}
			groups[k] = append(g, d)
		}
	}
	var keys []float64
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Float64s(keys)
	if n.minDocCount == 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		if len(keys) > 0 {
			lo, hi = keys[0], keys[len(keys)-1]
		}
		for i, b := range []any{n.extMin, n.extMax} {
			if b == nil {
				continue
			}
			var v float64
			if isDate {
				tm, err := parseDateMath(b, n.format, loc, time.Now(), false)
				if err != nil {
					return nil, index.Invalidf("parse_exception", "failed to parse [extended_bounds] of [%s]: [%v]", n.name, b)
				}
				v = float64(tm.UnixMilli())
			} else {
				f, err := numberValue("extended_bounds", b)
				if err != nil {
					return nil, err
				}
				v = f
			}
			if i == 0 {
				lo = math.Min(lo, key(v))
			} else {
				hi = math.Max(hi, key(v))
			}
		}
		if !math.IsInf(lo, 0) && !math.IsInf(hi, 0) {
			keys = keys[:0]
			for k, i := lo, 0; k <= hi && i < 100000; k, i = next(k), i+1 {
				keys = append(keys, k)
			}
			if len(keys) == 100000 {
				return nil, index.Invalidf("too_many_buckets_exception", "Trying to create too many buckets. Must be less than or equal to: [100000] but was [100001].")
			}
		}
	}
	type bucket struct {
		k    float64
		docs []docRef
	}
	var bs []bucket
	for _, k := range keys {
		g := groups[k]
		if len(g) < n.minDocCount || n.minDocCount > 0 && len(g) == 0 {
			continue
		}
		bs = append(bs, bucket{k, g})
	}
	if n.orderKey == "_count" {
		sort.SliceStable(bs, func(i, j int) bool {
			if len(bs[i].docs) != len(bs[j].docs) {
				return (len(bs[i].docs) > len(bs[j].docs)) == n.orderDesc
			}
			return bs[i].k < bs[j].k
		})
	} else if n.orderDesc {
		sort.SliceStable(bs, func(i, j int) bool { return bs[i].k > bs[j].k })
	}
	var list []any
	keyed := jsonObj{}
	for _, b := range bs {
		var head jsonObj
		var name string
		if isDate {
			s := formatDate(int64(b.k), n.format, loc)
			head = jsonObj{{"key_as_string", s}, {"key", int64(b.k)}}
			name = s
		} else {
			head = jsonObj{{"key", b.k}}
			name = javaDouble(b.k)
		}
		obj, err := e.bucket(n, head, b.docs)
		if err != nil {
			return nil, err
		}
		list = append(list, obj)
		keyed = append(keyed, kv{name, obj})
	}
	if n.keyed {
		return jsonObj{{"buckets", keyed}}, nil
	}
	if list == nil {
		list = []any{}
	}
	return jsonObj{{"buckets", list}}, nil
}

// dateKey returns the start of the date_histogram bucket holding ms.
func dateKey(ms int64, n *aggNode, loc *time.Location) int64 {
	off := int64(n.offset)
	if n.calendar == "" {
		tm := time.UnixMilli(ms - off).In(loc)
		_, zone := tm.Zone()
		local := ms - off + int64(zone)*1000
		k := local - mod(local, n.fixedMs)
		return k - int64(zone)*1000 + off
	}
	tm := time.UnixMilli(ms - off).In(loc)
	return calendarStart(tm, n.calendar).UnixMilli() + off
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

func calendarStart(tm time.Time, unit string) time.Time {
	if unit == "q" {
		y, mo, _ := tm.Date()
		return time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, tm.Location())
	}
	return roundDate(tm, unit, false)
}

func nextDateKey(k int64, n *aggNode, loc *time.Location) int64 {
	if n.calendar == "" {
		return dateKey(k+n.fixedMs, n, loc)
	}
	off := int64(n.offset)
	tm := time.UnixMilli(k - off).In(loc)
	var nt time.Time
	switch n.calendar {
	case "y":
		nt = tm.AddDate(1, 0, 0)
	case "q":
		nt = tm.AddDate(0, 3, 0)
	case "M":
		nt = tm.AddDate(0, 1, 0)
	case "w":
		nt = tm.AddDate(0, 0, 7)
	case "d":
		nt = tm.AddDate(0, 0, 1)
	case "h":
		nt = tm.Add(time.Hour)
	default:
		nt = tm.Add(time.Minute)
	}
	return calendarStart(nt, n.calendar).UnixMilli() + off
}

// javaDouble formats a float like Java's Double.toString for whole
// numbers ("10.0"), which OpenSearch uses in range keys.
func javaDouble(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// ---- ranges ----

func (e *aggEval) ranges(n *aggNode, docs []docRef) (any, error) {
	isDate := n.typ == "date_range"
	kind, mapped := e.fieldKind(n.field)
	if mapped && (kind == sortString || kind == sortIP) {
		return nil, index.Invalidf("illegal_argument_exception", "Field [%s] of type [%s] is not supported for aggregation [%s]", n.field, "keyword", n.typ)
	}
	loc := n.loc
	if loc == nil {
		loc = time.UTC
	}
	type rb struct {
		key      string
		from, to float64
		hasF     bool
		hasT     bool
	}
	var rs []rb
	for _, r := range n.ranges {
		b := rb{key: r.key, from: math.Inf(-1), to: math.Inf(1)}
		for i, v := range []any{r.from, r.to} {
			if v == nil {
				continue
			}
			var f float64
			if isDate || kind == sortDate {
				if _, isNum := v.(json.Number); isNum && !isDate {
					f, _ = numberValue(n.field, v)
				} else {
					tm, err := parseDateMath(v, n.format, loc, time.Now(), false)
					if err != nil {
						return nil, index.Invalidf("parse_exception", "failed to parse date [%v] in aggregation [%s]", v, n.name)
					}
					f = float64(tm.UnixMilli())
				}
			} else {
				var err error
				if f, err = numberValue(n.field, v); err != nil {
					return nil, aggErr("[ranges] of [%s]: [%v] is not a number", n.name, v)
				}
			}
			if i == 0 {
				b.from, b.hasF = f, true
			} else {
				b.to, b.hasT = f, true
			}
		}
		rs = append(rs, b)
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].from != rs[j].from {
			return rs[i].from < rs[j].from
		}
		return rs[i].to < rs[j].to
	})
	var list []any
	keyed := jsonObj{}
	for _, r := range rs {
		var in []docRef
		for _, d := range docs {
			c := e.col(d.seg, n.field)
			if !c.mapped || !c.numeric() {
				continue
			}
			for _, v := range c.nums[d.doc] {
				if v >= r.from && v < r.to {
					in = append(in, d)
					break
				}
			}
		}
		str := func(f float64) string {
			if isDate {
				return formatDate(int64(f), n.format, loc)
			}
			return javaDouble(f)
		}
		key := r.key
		if key == "" {
			lo, hi := "*", "*"
			if r.hasF {
				lo = str(r.from)
			}
			if r.hasT {
				hi = str(r.to)
			}
			key = lo + "-" + hi
		}
		head := jsonObj{{"key", key}}
		if r.hasF {
			head = append(head, kv{"from", r.from})
			if isDate {
				head = append(head, kv{"from_as_string", str(r.from)})
			}
		}
		if r.hasT {
			head = append(head, kv{"to", r.to})
			if isDate {
				head = append(head, kv{"to_as_string", str(r.to)})
			}
		}
		obj, err := e.bucket(n, head, in)
		if err != nil {
			return nil, err
		}
		if n.keyed {
			keyed = append(keyed, kv{key, obj[1:]})
		}
		list = append(list, obj)
	}
	if n.keyed {
		return jsonObj{{"buckets", keyed}}, nil
	}
	if list == nil {
		list = []any{}
	}
	return jsonObj{{"buckets", list}}, nil
}

// ---- filters ----

func (e *aggEval) filters(n *aggNode, docs []docRef) (any, error) {
	var list []any
	keyed := jsonObj{}
	inAny := make([]bool, len(docs))
	for i, f := range n.filters {
		var in []docRef
		for j, d := range docs {
			if e.segs[d.seg].member[n][i][d.doc] {
				in = append(in, d)
				inAny[j] = true
			}
		}
		obj, err := e.bucket(n, jsonObj{}, in)
		if err != nil {
			return nil, err
		}
		list = append(list, obj)
		keyed = append(keyed, kv{f.name, obj})
	}
	if n.otherBucket {
		var in []docRef
		for j, d := range docs {
			if !inAny[j] {
				in = append(in, d)
			}
		}
		obj, err := e.bucket(n, jsonObj{}, in)
		if err != nil {
			return nil, err
		}
		list = append(list, obj)
		keyed = append(keyed, kv{n.otherKey, obj})
	}
	if n.keyedFilter {
		return jsonObj{{"buckets", keyed}}, nil
	}
	return jsonObj{{"buckets", list}}, nil
}
