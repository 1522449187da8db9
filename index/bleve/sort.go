package bleve

// This file parses OpenSearch "sort" and turns it into Bleve sort orders,
// one per physical index (each index's mapping decides how a field
// sorts).

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/numeric"
	"github.com/blevesearch/bleve/v2/search"

	"github.com/tenantgate/tenantgate/index"
)

// sortSpec is one parsed sort criterion.
type sortSpec struct {
	field        string // "_score", "_doc" or a field path
	desc         bool
	missing      any // nil, "_last", "_first" or a value
	unmappedType string
	mode         string // "", "min", "max"
	// unmappedOK is set once some index maps the field.
	unmappedOK bool
}

// byScore reports whether the hits are ranked by score only (no sort, or
// a sort on _score alone): hits then carry scores and no sort values.
func byScore(specs []sortSpec) bool {
	return len(specs) == 0 || len(specs) == 1 && specs[0].field == "_score" && specs[0].desc
}

// wantsScore reports whether any criterion is _score.
func wantsScore(specs []sortSpec) bool {
	if len(specs) == 0 {
		return true
	}
	for _, s := range specs {
		if s.field == "_score" {
			return true
		}
	}
	return false
}

// parseSort parses the "sort" value: a string, an object or an array of
// them.
func parseSort(raw json.RawMessage) ([]sortSpec, error) {
	if isNull(raw) {
		return nil, nil
	}
	items, err := list(raw)
	if err != nil {
		return nil, parsingErr("[sort] must be a string, an object or an array")
	}
	var out []sortSpec
	for _, item := range items {
		var name string
		if json.Unmarshal(item, &name) == nil {
			out = append(out, defaultOrder(name))
			continue
		}
		obj, keys, err := object(item, "sort")
		if err != nil || len(keys) != 1 {
			return nil, parsingErr("[sort] entries must be a field name or an object with one field")
		}
		name = keys[0]
		s := defaultOrder(name)
		body := obj[name]
		var order string
		if json.Unmarshal(body, &order) == nil {
			if s.desc, err = parseOrder(order); err != nil {
				return nil, err
			}
			out = append(out, s)
			continue
		}
		opts, okeys, err := object(body, "sort."+name)
		if err != nil {
			return nil, err
		}
		for _, k := range okeys {
			v := opts[k]
			switch k {
			case "order":
				o, err := asString(v, "order")
				if err != nil {
					return nil, err
				}
				if s.desc, err = parseOrder(o); err != nil {
					return nil, err
				}
			case "missing":
				if s.missing, err = value(v); err != nil {
					return nil, parsingErr("[sort] invalid [missing]")
				}
			case "unmapped_type":
				if s.unmappedType, err = asString(v, "unmapped_type"); err != nil {
					return nil, err
				}
			case "mode":
				m, err := asString(v, "mode")
				if err != nil {
					return nil, err
				}
				if m != "min" && m != "max" {
					return nil, parsingErr("[sort] unsupported mode [%s], only [min] and [max]", m)
				}
				s.mode = m
			case "numeric_type", "format":
				// Accepted: values are already numbers / epoch millis.
			default:
				return nil, parsingErr("[field_sort] unknown field [%s]", k)
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func defaultOrder(field string) sortSpec {
	return sortSpec{field: field, desc: field == "_score"}
}

func parseOrder(o string) (bool, error) {
	switch strings.ToLower(o) {
	case "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, parsingErr("[sort] unknown order [%s], expected [asc] or [desc]", o)
}

// sortKind is how the values of a sort field are encoded and returned.
type sortKind int

const (
	sortString sortKind = iota
	sortNumber
	sortInteger // a numeric type without fractions: values return as int64
	sortDate
	sortBool
	sortIP
)

func kindOf(typ string) sortKind {
	switch typ {
	case index.TypeLong, index.TypeInteger, index.TypeShort, index.TypeByte:
		return sortInteger
	case index.TypeDouble, index.TypeFloat:
		return sortNumber
	case index.TypeDate:
		return sortDate
	case index.TypeBoolean:
		return sortBool
	case index.TypeIP:
		return sortIP
	}
	return sortString
}

func textFieldError(field string) error {
	return index.Invalidf("illegal_argument_exception", "Text fields are not optimised for operations that require per-document field data like aggregations and sorting, so these operations are disabled by default. Please use a keyword field instead. Alternatively, set fielddata=true on [%s] in order to load field data by uninverting the inverted index. Note that this can use significant memory.", field)
}

// buildSort makes the Bleve sort order for one index. mapped reports, per
// criterion, whether the field is known to this index.
func buildSort(specs []sortSpec, m *index.Mapping) (search.SortOrder, []sortKind, []bool, error) {
	var order search.SortOrder
	kinds := make([]sortKind, len(specs))
	mapped := make([]bool, len(specs))
	for i, s := range specs {
		switch s.field {
		case "_score":
			order = append(order, &search.SortScore{Desc: s.desc})
			mapped[i] = true
			continue
		case "_doc":
			order = append(order, &docOrderSort{desc: s.desc})
			mapped[i] = true
			continue
		case "_id":
			order = append(order, &search.SortDocID{Desc: s.desc})
			mapped[i] = true
			continue
		}
		typ := s.unmappedType
		if p, ok := m.Lookup(s.field); ok && p.Type != index.TypeObject {
			typ = p.Type
			mapped[i] = true
			if typ == index.TypeText {
				return nil, nil, nil, textFieldError(s.field)
			}
			if p.DocValues != nil && !*p.DocValues {
				return nil, nil, nil, index.Invalidf("illegal_argument_exception", "Can't load fielddata on [%s] because fielddata is unsupported on fields of type [%s]. Use doc values instead.", s.field, typ)
			}
		}
		fs := &fieldSort{field: s.field, desc: s.desc, kind: kindOf(typ), max: s.mode == "max" || s.mode == "" && s.desc}
		kinds[i] = fs.kind
		switch mv := s.missing.(type) {
		case nil:
		case string:
			if mv == "_first" {
				fs.missingFirst = true
			} else if mv != "_last" {
				enc, err := encodeSortValue(fs.kind, s.field, mv)
				if err != nil {
					return nil, nil, nil, err
				}
				fs.missing = &enc
			}
		default:
			enc, err := encodeSortValue(fs.kind, s.field, mv)
			if err != nil {
				return nil, nil, nil, err
			}
			fs.missing = &enc
		}
		order = append(order, fs)
	}
	return order, kinds, mapped, nil
}

// encodeSortValue encodes a "missing" value the way doc values hold it.
func encodeSortValue(k sortKind, field string, v any) (string, error) {
	switch k {
	case sortNumber, sortInteger:
		f, err := numberValue(field, v)
		if err != nil {
			return "", err
		}
		return string(numeric.MustNewPrefixCodedInt64(numeric.Float64ToInt64(f), 0)), nil
	case sortDate:
		tm, err := parseDateMath(v, "", nil, time.Now(), false)
		if err != nil {
			return "", index.Invalidf("parse_exception", "failed to parse date [%v] for [missing] of [%s]", v, field)
		}
		return string(numeric.MustNewPrefixCodedInt64(tm.UnixNano(), 0)), nil
	case sortBool:
		b, err := boolValue(field, v)
		if err != nil {
			return "", err
		}
		if b {
			return "T", nil
		}
		return "F", nil
	}
	return fmt.Sprint(v), nil
}

// fieldSort sorts on the doc values of one field. Unlike Bleve's
// SortField it knows OpenSearch's missing values (_first, _last, or a
// value) and picks the min (asc) or max (desc) of multi-valued fields.
type fieldSort struct {
	field        string
	desc         bool
	kind         sortKind
	max          bool
	missingFirst bool
	missing      *string

	best    []byte
	hasBest bool
}

func (s *fieldSort) UpdateVisitor(field string, term []byte) {
	if field != s.field {
		return
	}
	if s.kind == sortNumber || s.kind == sortInteger || s.kind == sortDate {
		if valid, shift := numeric.ValidPrefixCodedTermBytes(term); !valid || shift != 0 {
			return
		}
	}
	if !s.hasBest || (s.max && string(term) > string(s.best)) || (!s.max && string(term) < string(s.best)) {
		s.best = append(s.best[:0], term...)
		s.hasBest = true
	}
}

func (s *fieldSort) Value(*search.DocumentMatch) string {
	if s.hasBest {
		s.hasBest = false
		return string(s.best)
	}
	if s.missing != nil {
		return *s.missing
	}
	// Missing values go last by default, first with "_first".
	if s.missingFirst != s.desc {
		return search.LowTerm
	}
	return search.HighTerm
}

func (s *fieldSort) DecodeValue(v string) string { return v }
func (s *fieldSort) Descending() bool            { return s.desc }
func (s *fieldSort) RequiresDocID() bool         { return false }
func (s *fieldSort) RequiresScoring() bool       { return false }
func (s *fieldSort) RequiresFields() []string    { return []string{s.field} }
func (s *fieldSort) Reverse() {
	s.desc = !s.desc
	s.missingFirst = !s.missingFirst
}
func (s *fieldSort) Copy() search.SearchSort {
	c := *s
	c.best = nil
	c.hasBest = false
	return &c
}

// docOrderSort is "_doc": index order. Every value is equal, so Bleve
// falls back to the hit number, which follows index order.
type docOrderSort struct{ desc bool }

func (s *docOrderSort) UpdateVisitor(string, []byte)       {}
func (s *docOrderSort) Value(*search.DocumentMatch) string { return "" }
func (s *docOrderSort) DecodeValue(v string) string        { return v }
func (s *docOrderSort) Descending() bool                   { return s.desc }
func (s *docOrderSort) RequiresDocID() bool                { return false }
func (s *docOrderSort) RequiresScoring() bool              { return false }
func (s *docOrderSort) RequiresFields() []string           { return nil }
func (s *docOrderSort) Reverse()                           { s.desc = !s.desc }
func (s *docOrderSort) Copy() search.SearchSort            { c := *s; return &c }

// sortValue decodes a raw sort value for the response: numbers, epoch
// millis for dates, strings for keywords, nil for a missing value.
func sortValue(k sortKind, raw string) any {
	if raw == search.HighTerm || raw == search.LowTerm {
		return nil
	}
	switch k {
	case sortNumber, sortInteger, sortDate:
		i, err := numeric.PrefixCoded(raw).Int64()
		if err != nil {
			return raw
		}
		if k == sortDate {
			return i / int64(1e6)
		}
		f := numeric.Int64ToFloat64(i)
		if k == sortInteger && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f)
		}
		return f
	case sortBool:
		if raw == "T" {
			return 1
		}
		return 0
	case sortIP:
		if len(raw) == 16 {
			return ipString([]byte(raw))
		}
	}
	return raw
}

// ipString formats a 16-byte IP the way OpenSearch returns it.
func ipString(b []byte) string {
	ip := make([]byte, len(b))
	copy(ip, b)
	if v4 := net.IP(ip).To4(); v4 != nil {
		return v4.String()
	}
	return net.IP(ip).String()
}

func scoreValue(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}
