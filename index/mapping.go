package index

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Field types tenantgate supports in mappings, with OpenSearch's names.
const (
	TypeText    = "text"
	TypeKeyword = "keyword"
	TypeLong    = "long"
	TypeInteger = "integer"
	TypeShort   = "short"
	TypeByte    = "byte"
	TypeDouble  = "double"
	TypeFloat   = "float"
	TypeDate    = "date"
	TypeBoolean = "boolean"
	TypeIP      = "ip"
	TypeObject  = "object"
)

var fieldTypes = map[string]bool{
	TypeText: true, TypeKeyword: true, TypeLong: true, TypeInteger: true, TypeShort: true,
	TypeByte: true, TypeDouble: true, TypeFloat: true, TypeDate: true, TypeBoolean: true,
	TypeIP: true, TypeObject: true,
}

// IsNumeric reports whether t is one of the numeric field types.
func IsNumeric(t string) bool {
	switch t {
	case TypeLong, TypeInteger, TypeShort, TypeByte, TypeDouble, TypeFloat:
		return true
	}
	return false
}

// Mapping is an index mapping in OpenSearch's shape (the value of
// "mappings" in PUT /{index}).
//
// The root parameter "_source" is accepted only with its default (enabled,
// no includes or excludes): tenantgate always keeps the whole source.
type Mapping struct {
	// Dynamic is "true" (default), "false" or "strict".
	Dynamic          string                       `json:"dynamic,omitempty"`
	DynamicTemplates []map[string]DynamicTemplate `json:"dynamic_templates,omitempty"`
	Properties       map[string]*Property         `json:"properties,omitempty"`
	// Meta is the "_meta" object, kept as sent and returned with the
	// mapping; it has no effect.
	Meta json.RawMessage `json:"_meta,omitempty"`
	// DateDetection false maps new strings that look like dates as text
	// (with a keyword multi-field) instead of date. nil means true.
	DateDetection *bool `json:"date_detection,omitempty"`
	// NumericDetection true maps new strings that look like numbers as
	// long or float instead of text. nil means false.
	NumericDetection *bool `json:"numeric_detection,omitempty"`
}

// Limits on the size of a mapping, OpenSearch's defaults for
// index.mapping.depth.limit and index.mapping.total_fields.limit. They hold
// for explicit mappings (ParseMapping) and for fields added by dynamic
// mapping.
const (
	// MaxMappingDepth is the deepest a field may be, counted in objects:
	// a root field has depth 1, a field inside one object depth 2.
	MaxMappingDepth = 20
	// MaxMappingFields is the most fields a mapping may hold, counting
	// objects, leaf fields and multi-fields (see FieldCount).
	MaxMappingFields = 1000
)

// DepthLimitError is the error for an object field at path that is deeper
// than MaxMappingDepth.
func DepthLimitError(path string) *Error {
	return Invalidf("illegal_argument_exception", "Limit of mapping depth [%d] has been exceeded due to object field [%s]", MaxMappingDepth, path)
}

// ObjectDepth returns the depth (in MaxMappingDepth's terms) of the fields
// inside the object field at path: 2 for "a", 3 for "a.b".
func ObjectDepth(path string) int {
	return strings.Count(path, ".") + 2
}

// FieldCount returns the number of fields of m counted against
// MaxMappingFields: every object, leaf field and multi-field.
func (m *Mapping) FieldCount() int {
	if m == nil {
		return 0
	}
	return countFields(m.Properties)
}

// FieldCount returns the number of fields p adds to a mapping: itself, its
// multi-fields and, for an object, everything inside it.
func (p *Property) FieldCount() int {
	if p == nil {
		return 0
	}
	return 1 + len(p.Fields) + countFields(p.Properties)
}

func countFields(props map[string]*Property) int {
	n := 0
	for _, p := range props {
		n += p.FieldCount()
	}
	return n
}

// CheckLimits reports whether m is within MaxMappingDepth and
// MaxMappingFields, as an illegal_argument_exception naming the limit.
func (m *Mapping) CheckLimits() error {
	if m == nil {
		return nil
	}
	if n := m.FieldCount(); n > MaxMappingFields {
		return Invalidf("illegal_argument_exception", "Limit of total fields [%d] has been exceeded (the mapping has %d fields)", MaxMappingFields, n)
	}
	return checkDepth(m.Properties, "")
}

func checkDepth(props map[string]*Property, prefix string) error {
	for _, name := range sortedKeys(props) {
		p := props[name]
		if p.Type != TypeObject {
			continue
		}
		path := prefix + name
		if ObjectDepth(path) > MaxMappingDepth {
			return DepthLimitError(path)
		}
		if err := checkDepth(p.Properties, path+"."); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// DynamicTemplate maps new fields that match it (OpenSearch's
// dynamic_templates entries).
type DynamicTemplate struct {
	Match            string    `json:"match,omitempty"`
	Unmatch          string    `json:"unmatch,omitempty"`
	PathMatch        string    `json:"path_match,omitempty"`
	PathUnmatch      string    `json:"path_unmatch,omitempty"`
	MatchMappingType string    `json:"match_mapping_type,omitempty"`
	Mapping          *Property `json:"mapping"`
}

// Property is one field of a mapping.
type Property struct {
	Type string `json:"type,omitempty"`
	// Properties are the sub-fields of an object field.
	Properties map[string]*Property `json:"properties,omitempty"`
	// Fields are multi-fields ("title.keyword").
	Fields map[string]*Property `json:"fields,omitempty"`
	// Analyzer names the analyzer of a text field ("standard" default).
	Analyzer       string `json:"analyzer,omitempty"`
	SearchAnalyzer string `json:"search_analyzer,omitempty"`
	// Format is the date format(s) of a date field, "||"-separated.
	Format string `json:"format,omitempty"`
	// IgnoreAbove skips keyword values longer than this many characters.
	IgnoreAbove int `json:"ignore_above,omitempty"`
	// Index false stores the value in _source only.
	Index *bool `json:"index,omitempty"`
	// DocValues false disables sorting and aggregating on the field.
	DocValues *bool `json:"doc_values,omitempty"`
	// Store is kept and returned with the mapping but has no effect:
	// tenantgate always keeps the whole _source, from which every stored
	// value can be read.
	Store *bool `json:"store,omitempty"`
	// NullValue replaces explicit nulls.
	NullValue json.RawMessage `json:"null_value,omitempty"`
	// Coerce false refuses "5" for a numeric field.
	Coerce *bool `json:"coerce,omitempty"`
	// Dynamic overrides the index-level setting for an object.
	Dynamic string `json:"dynamic,omitempty"`
	// Enabled false keeps an object in _source only.
	Enabled *bool `json:"enabled,omitempty"`
}

// propertyKeys are the parameters Property accepts; anything else is an
// error naming the parameter, as OpenSearch does.
var propertyKeys = map[string]bool{
	"type": true, "properties": true, "fields": true, "analyzer": true, "search_analyzer": true,
	"format": true, "ignore_above": true, "index": true, "doc_values": true, "store": true,
	"null_value": true, "coerce": true, "dynamic": true, "enabled": true,
	// Accepted and ignored, because they only tune OpenSearch internals
	// and do not change results.
	"norms": true, "eager_global_ordinals": true,
	// Accepted with their default values only (see checkDefaultOnly).
	"index_options": true, "similarity": true,
}

// defaultIndexOptions are the index_options each field type has by default
// (and the only value tenantgate accepts: text is always indexed with
// positions, keyword with documents only).
var defaultIndexOptions = map[string]string{TypeText: "positions", TypeKeyword: "docs"}

// Analyzers that text fields may name.
var analyzers = map[string]bool{"standard": true, "simple": true, "whitespace": true, "keyword": true, "english": true, "stop": true}

// ParseMapping parses and validates a "mappings" object. It accepts the
// typeless form and, for old clients, a single "_doc" wrapper.
func ParseMapping(raw []byte) (*Mapping, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, Invalidf("mapper_parsing_exception", "mappings must be a JSON object: %s", JSONErrorText(err))
	}
	if inner, ok := top["_doc"]; ok && len(top) == 1 {
		return ParseMapping(inner)
	}
	for k := range top {
		switch k {
		case "dynamic", "dynamic_templates", "properties", "_source", "_meta", "date_detection", "numeric_detection":
		default:
			return nil, Invalidf("mapper_parsing_exception", "unknown root mapping parameter [%s]", k)
		}
	}
	m := &Mapping{}
	if v, ok := top["_source"]; ok {
		if err := checkSourceParam(v); err != nil {
			return nil, err
		}
	}
	if v, ok := top["_meta"]; ok && !isJSONNull(v) {
		var meta map[string]json.RawMessage
		if err := json.Unmarshal(v, &meta); err != nil || meta == nil {
			return nil, Invalidf("mapper_parsing_exception", "[_meta] must be an object")
		}
		m.Meta = cloneRaw(v)
	}
	for key, dst := range map[string]**bool{"date_detection": &m.DateDetection, "numeric_detection": &m.NumericDetection} {
		if v, ok := top[key]; ok {
			b, err := parseBool(v, key)
			if err != nil {
				return nil, err
			}
			*dst = &b
		}
	}
	if v, ok := top["dynamic"]; ok {
		d, err := parseDynamic(v, "dynamic")
		if err != nil {
			return nil, err
		}
		m.Dynamic = d
	}
	if v, ok := top["properties"]; ok {
		props, err := parseProperties(v, "", 1)
		if err != nil {
			return nil, err
		}
		m.Properties = props
	}
	if v, ok := top["dynamic_templates"]; ok {
		var list []map[string]json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			return nil, Invalidf("mapper_parsing_exception", "[dynamic_templates] must be an array of single-key objects")
		}
		for i, entry := range list {
			if len(entry) != 1 {
				return nil, Invalidf("mapper_parsing_exception", "[dynamic_templates][%d] must have exactly one named template", i)
			}
			out := map[string]DynamicTemplate{}
			for name, body := range entry {
				var dt struct {
					DynamicTemplate
					Mapping json.RawMessage `json:"mapping"`
				}
				dec := json.NewDecoder(bytes.NewReader(body))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&dt); err != nil {
					return nil, Invalidf("mapper_parsing_exception", "dynamic template [%s]: %s", name, JSONErrorText(err))
				}
				if dt.Mapping == nil {
					return nil, Invalidf("mapper_parsing_exception", "dynamic template [%s] has no [mapping]", name)
				}
				p, err := parseProperty(dt.Mapping, "dynamic_templates."+name, 1, true)
				if err != nil {
					return nil, err
				}
				t := dt.DynamicTemplate
				t.Mapping = p
				switch t.MatchMappingType {
				case "", "*", "string", "long", "double", "boolean", "date", "object":
				default:
					return nil, Invalidf("mapper_parsing_exception", "dynamic template [%s]: unknown match_mapping_type [%s]", name, t.MatchMappingType)
				}
				out[name] = t
			}
			m.DynamicTemplates = append(m.DynamicTemplates, out)
		}
	}
	if err := m.CheckLimits(); err != nil {
		return nil, err
	}
	return m, nil
}

// checkSourceParam accepts the root "_source" parameter only with its
// defaults: tenantgate always keeps the whole source.
func checkSourceParam(v json.RawMessage) error {
	var src map[string]json.RawMessage
	if err := json.Unmarshal(v, &src); err != nil || src == nil {
		return Invalidf("mapper_parsing_exception", "[_source] must be an object")
	}
	for _, k := range sortedKeys(src) {
		switch k {
		case "enabled":
			if b, err := parseBool(src[k], "_source.enabled"); err != nil {
				return err
			} else if !b {
				return Invalidf("mapper_parsing_exception", "[_source] enabled: false is not supported: tenantgate always keeps the whole _source")
			}
		case "includes", "excludes":
			var list []string
			if err := json.Unmarshal(src[k], &list); err != nil {
				return Invalidf("mapper_parsing_exception", "[_source.%s] must be an array of strings", k)
			}
			if len(list) > 0 {
				return Invalidf("mapper_parsing_exception", "[_source] %s is not supported: tenantgate always keeps the whole _source; filter it per request instead", k)
			}
		default:
			return Invalidf("mapper_parsing_exception", "unknown parameter [%s] on mapper [_source]", k)
		}
	}
	return nil
}

// parseBool reads a boolean parameter, also as "true" or "false".
func parseBool(v json.RawMessage, key string) (bool, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil && (s == "true" || s == "false") {
		return s == "true", nil
	}
	return false, Invalidf("mapper_parsing_exception", "[%s] must be true or false", key)
}

func isJSONNull(v json.RawMessage) bool {
	return string(bytes.TrimSpace(v)) == "null"
}

func parseDynamic(v json.RawMessage, key string) (string, error) {
	var b bool
	if err := json.Unmarshal(v, &b); err == nil {
		return fmt.Sprint(b), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil && (s == "true" || s == "false" || s == "strict") {
		return s, nil
	}
	return "", Invalidf("mapper_parsing_exception", "[%s] must be true, false or strict", key)
}

// parseProperties parses the "properties" of an object at path prefix
// (with a trailing dot; "" at the root) whose fields are at depth depth.
func parseProperties(raw json.RawMessage, prefix string, depth int) (map[string]*Property, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, Invalidf("mapper_parsing_exception", "[%sproperties] must be an object", prefix)
	}
	out := make(map[string]*Property, len(props))
	for name, body := range props {
		if name == "" || strings.HasPrefix(name, "_") && prefix == "" {
			return nil, Invalidf("mapper_parsing_exception", "field name [%s] is not allowed", name)
		}
		// Dotted names are shorthand for objects, as in OpenSearch: the
		// field is as deep as if the objects were written out.
		inner := strings.Count(name, ".")
		if inner > 0 && depth+inner > MaxMappingDepth {
			return nil, DepthLimitError(prefix + name[:strings.LastIndexByte(name, '.')])
		}
		p, err := parseProperty(body, prefix+name, depth+inner, false)
		if err != nil {
			return nil, err
		}
		if inner > 0 {
			parts := strings.Split(name, ".")
			for i := len(parts) - 1; i > 0; i-- {
				p = &Property{Type: TypeObject, Properties: map[string]*Property{parts[i]: p}}
			}
			name = parts[0]
			if prev, ok := out[name]; ok && prev.Type == TypeObject {
				if err := prev.merge(p, prefix+name); err != nil {
					return nil, err
				}
				continue
			}
		}
		out[name] = p
	}
	return out, nil
}

// parseProperty parses the mapping of the field at path, at depth depth.
func parseProperty(raw json.RawMessage, path string, depth int, inTemplate bool) (*Property, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, Invalidf("mapper_parsing_exception", "mapping of field [%s] must be an object", path)
	}
	for k := range keys {
		if !propertyKeys[k] {
			return nil, Invalidf("mapper_parsing_exception", "unknown parameter [%s] on mapper [%s]", k, path)
		}
	}
	p := &Property{}
	var typ string
	if v, ok := keys["type"]; ok {
		if err := json.Unmarshal(v, &typ); err != nil {
			return nil, Invalidf("mapper_parsing_exception", "[type] of field [%s] must be a string", path)
		}
	}
	if typ == "" && keys["properties"] != nil {
		typ = TypeObject
	}
	if typ == "" && !inTemplate {
		return nil, Invalidf("mapper_parsing_exception", "no type specified for field [%s]", path)
	}
	if typ != "" && !fieldTypes[typ] && !(inTemplate && typ == "{dynamic_type}") {
		return nil, Invalidf("mapper_parsing_exception", "no handler for type [%s] declared on field [%s]", typ, path)
	}
	p.Type = typ
	type simple struct {
		Analyzer       string          `json:"analyzer"`
		SearchAnalyzer string          `json:"search_analyzer"`
		Format         string          `json:"format"`
		IgnoreAbove    int             `json:"ignore_above"`
		Index          *bool           `json:"index"`
		DocValues      *bool           `json:"doc_values"`
		Store          *bool           `json:"store"`
		NullValue      json.RawMessage `json:"null_value"`
		Coerce         *bool           `json:"coerce"`
		Enabled        *bool           `json:"enabled"`
	}
	var s simple
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, Invalidf("mapper_parsing_exception", "field [%s]: %s", path, JSONErrorText(err))
	}
	p.Analyzer, p.SearchAnalyzer, p.Format, p.IgnoreAbove = s.Analyzer, s.SearchAnalyzer, s.Format, s.IgnoreAbove
	p.Index, p.DocValues, p.Store, p.NullValue, p.Coerce, p.Enabled = s.Index, s.DocValues, s.Store, s.NullValue, s.Coerce, s.Enabled
	for _, a := range []string{p.Analyzer, p.SearchAnalyzer} {
		if a != "" && !analyzers[a] {
			return nil, Invalidf("mapper_parsing_exception", "analyzer [%s] has not been configured in mappings (field [%s])", a, path)
		}
	}
	if (p.Analyzer != "" || p.SearchAnalyzer != "") && typ != TypeText {
		return nil, Invalidf("mapper_parsing_exception", "unknown parameter [analyzer] on mapper [%s] of type [%s]", path, typ)
	}
	if v, ok := keys["dynamic"]; ok {
		d, err := parseDynamic(v, path+".dynamic")
		if err != nil {
			return nil, err
		}
		p.Dynamic = d
	}
	if err := checkDefaultOnly(keys, path, typ); err != nil {
		return nil, err
	}
	if typ == TypeObject && !inTemplate && depth+1 > MaxMappingDepth {
		return nil, DepthLimitError(path)
	}
	if v, ok := keys["properties"]; ok {
		if typ != TypeObject {
			return nil, Invalidf("mapper_parsing_exception", "field [%s] of type [%s] cannot have [properties]", path, typ)
		}
		if depth+1 > MaxMappingDepth {
			// Inside a template: still bound the recursion.
			return nil, DepthLimitError(path)
		}
		props, err := parseProperties(v, path+".", depth+1)
		if err != nil {
			return nil, err
		}
		p.Properties = props
	}
	if v, ok := keys["fields"]; ok {
		if typ == TypeObject {
			return nil, Invalidf("mapper_parsing_exception", "object field [%s] cannot have multi-fields", path)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(v, &fields); err != nil {
			return nil, Invalidf("mapper_parsing_exception", "[fields] of field [%s] must be an object", path)
		}
		p.Fields = map[string]*Property{}
		for name, body := range fields {
			sub, err := parseProperty(body, path+"."+name, depth, inTemplate)
			if err != nil {
				return nil, err
			}
			if sub.Type == TypeObject || len(sub.Fields) > 0 {
				return nil, Invalidf("mapper_parsing_exception", "multi-field [%s.%s] must be a plain field", path, name)
			}
			p.Fields[name] = sub
		}
	}
	return p, nil
}

// checkDefaultOnly accepts similarity and index_options only with the
// values tenantgate always uses (BM25; positions for text, docs for
// keyword), so that a mapping never asks for something it would not get.
func checkDefaultOnly(keys map[string]json.RawMessage, path, typ string) error {
	if v, ok := keys["similarity"]; ok {
		var sim string
		if err := json.Unmarshal(v, &sim); err != nil || sim != "BM25" {
			return Invalidf("mapper_parsing_exception", "[similarity] on field [%s]: only the default [BM25] is supported", path)
		}
		if typ != TypeText && typ != TypeKeyword && typ != "" && typ != "{dynamic_type}" {
			return Invalidf("mapper_parsing_exception", "unknown parameter [similarity] on mapper [%s] of type [%s]", path, typ)
		}
	}
	if v, ok := keys["index_options"]; ok {
		want, known := defaultIndexOptions[typ]
		if typ == "" || typ == "{dynamic_type}" {
			return Invalidf("mapper_parsing_exception", "[index_options] on [%s] needs an explicit [type] (text or keyword)", path)
		}
		if !known {
			return Invalidf("mapper_parsing_exception", "unknown parameter [index_options] on mapper [%s] of type [%s]", path, typ)
		}
		var opt string
		if err := json.Unmarshal(v, &opt); err != nil || opt != want {
			return Invalidf("mapper_parsing_exception", "[index_options] on field [%s]: only the default [%s] of type [%s] is supported", path, want, typ)
		}
	}
	return nil
}

// Lookup returns the property at a dotted path ("user.name",
// "title.keyword"), following object properties and multi-fields.
func (m *Mapping) Lookup(path string) (*Property, bool) {
	if m == nil {
		return nil, false
	}
	props := m.Properties
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		p, ok := props[parts[i]]
		if !ok {
			return nil, false
		}
		if i == len(parts)-1 {
			return p, true
		}
		if p.Type == TypeObject {
			props = p.Properties
			continue
		}
		// A multi-field is the last step.
		if i == len(parts)-2 {
			sub, ok := p.Fields[parts[i+1]]
			return sub, ok
		}
		return nil, false
	}
	return nil, false
}

// Paths returns every indexed leaf path of the mapping (multi-fields
// included), sorted, with its property.
func (m *Mapping) Paths() []FieldPath {
	var out []FieldPath
	var walk func(prefix string, props map[string]*Property)
	walk = func(prefix string, props map[string]*Property) {
		for name, p := range props {
			path := prefix + name
			if p.Type == TypeObject {
				walk(path+".", p.Properties)
				continue
			}
			out = append(out, FieldPath{Path: path, Property: p})
			for sub, sp := range p.Fields {
				out = append(out, FieldPath{Path: path + "." + sub, Property: sp})
			}
		}
	}
	if m != nil {
		walk("", m.Properties)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// FieldPath is a leaf field of a mapping with its full dotted path.
type FieldPath struct {
	Path     string
	Property *Property
}

// Merge adds the fields of other to m. A field that exists in both with a
// different type is a conflict (ErrInvalid), as in OpenSearch.
func (m *Mapping) Merge(other *Mapping) error {
	if other == nil {
		return nil
	}
	if m.Properties == nil {
		m.Properties = map[string]*Property{}
	}
	if other.Dynamic != "" {
		m.Dynamic = other.Dynamic
	}
	if len(other.DynamicTemplates) > 0 {
		for _, entry := range other.Clone().DynamicTemplates {
			m.DynamicTemplates = append(m.DynamicTemplates, entry)
		}
	}
	if other.Meta != nil {
		m.Meta = cloneRaw(other.Meta)
	}
	if other.DateDetection != nil {
		m.DateDetection = cloneBool(other.DateDetection)
	}
	if other.NumericDetection != nil {
		m.NumericDetection = cloneBool(other.NumericDetection)
	}
	for name, p := range other.Properties {
		if prev, ok := m.Properties[name]; ok {
			if err := prev.merge(p, name); err != nil {
				return err
			}
			continue
		}
		m.Properties[name] = p.Clone()
	}
	return nil
}

func (p *Property) merge(other *Property, path string) error {
	if p.Type != other.Type {
		return Invalidf("illegal_argument_exception", "mapper [%s] cannot be changed from type [%s] to [%s]", path, p.Type, other.Type)
	}
	for name, sub := range other.Properties {
		if p.Properties == nil {
			p.Properties = map[string]*Property{}
		}
		if prev, ok := p.Properties[name]; ok {
			if err := prev.merge(sub, path+"."+name); err != nil {
				return err
			}
			continue
		}
		p.Properties[name] = sub.Clone()
	}
	for name, sub := range other.Fields {
		if p.Fields == nil {
			p.Fields = map[string]*Property{}
		}
		if prev, ok := p.Fields[name]; ok {
			if prev.Type != sub.Type {
				return Invalidf("illegal_argument_exception", "mapper [%s.%s] cannot be changed from type [%s] to [%s]", path, name, prev.Type, sub.Type)
			}
			continue
		}
		p.Fields[name] = sub.Clone()
	}
	return nil
}

// Clone returns a deep copy of m: no map, slice or pointer is shared
// with m, so either may be changed without affecting the other.
func (m *Mapping) Clone() *Mapping {
	if m == nil {
		return nil
	}
	out := &Mapping{
		Dynamic:          m.Dynamic,
		Meta:             cloneRaw(m.Meta),
		DateDetection:    cloneBool(m.DateDetection),
		NumericDetection: cloneBool(m.NumericDetection),
		Properties:       cloneProps(m.Properties),
	}
	if m.DynamicTemplates != nil {
		out.DynamicTemplates = make([]map[string]DynamicTemplate, len(m.DynamicTemplates))
		for i, entry := range m.DynamicTemplates {
			if entry == nil {
				continue
			}
			e := make(map[string]DynamicTemplate, len(entry))
			for name, t := range entry {
				t.Mapping = t.Mapping.Clone()
				e[name] = t
			}
			out.DynamicTemplates[i] = e
		}
	}
	return out
}

// Clone returns a deep copy of p (sub-fields and multi-fields included).
func (p *Property) Clone() *Property {
	if p == nil {
		return nil
	}
	out := *p
	out.Properties = cloneProps(p.Properties)
	out.Fields = cloneProps(p.Fields)
	out.NullValue = cloneRaw(p.NullValue)
	out.Index = cloneBool(p.Index)
	out.DocValues = cloneBool(p.DocValues)
	out.Store = cloneBool(p.Store)
	out.Coerce = cloneBool(p.Coerce)
	out.Enabled = cloneBool(p.Enabled)
	return &out
}

func cloneProps(props map[string]*Property) map[string]*Property {
	if props == nil {
		return nil
	}
	out := make(map[string]*Property, len(props))
	for name, p := range props {
		out[name] = p.Clone()
	}
	return out
}

func cloneBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	v := *b
	return &v
}

func cloneRaw(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	return append(json.RawMessage(nil), raw...)
}
