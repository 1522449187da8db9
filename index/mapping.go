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
type Mapping struct {
	// Dynamic is "true" (default), "false" or "strict".
	Dynamic          string                       `json:"dynamic,omitempty"`
	DynamicTemplates []map[string]DynamicTemplate `json:"dynamic_templates,omitempty"`
	Properties       map[string]*Property         `json:"properties,omitempty"`
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
	Store     *bool `json:"store,omitempty"`
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
	// Accepted and ignored, because they only tune OpenSearch internals.
	"norms": true, "index_options": true, "eager_global_ordinals": true, "similarity": true,
}

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
	if v, ok := top["dynamic"]; ok {
		d, err := parseDynamic(v, "dynamic")
		if err != nil {
			return nil, err
		}
		m.Dynamic = d
	}
	if v, ok := top["properties"]; ok {
		props, err := parseProperties(v, "")
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
				p, err := parseProperty(dt.Mapping, "dynamic_templates."+name, true)
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
	return m, nil
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

func parseProperties(raw json.RawMessage, prefix string) (map[string]*Property, error) {
	var props map[string]json.RawMessage
	if err := json.Unmarshal(raw, &props); err != nil {
		return nil, Invalidf("mapper_parsing_exception", "[%sproperties] must be an object", prefix)
	}
	out := make(map[string]*Property, len(props))
	for name, body := range props {
		if name == "" || strings.HasPrefix(name, "_") && prefix == "" {
			return nil, Invalidf("mapper_parsing_exception", "field name [%s] is not allowed", name)
		}
		p, err := parseProperty(body, prefix+name, false)
		if err != nil {
			return nil, err
		}
		// Dotted names are shorthand for objects, as in OpenSearch.
		if strings.Contains(name, ".") {
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

func parseProperty(raw json.RawMessage, path string, inTemplate bool) (*Property, error) {
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
	if v, ok := keys["properties"]; ok {
		if typ != TypeObject {
			return nil, Invalidf("mapper_parsing_exception", "field [%s] of type [%s] cannot have [properties]", path, typ)
		}
		props, err := parseProperties(v, path+".")
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
			sub, err := parseProperty(body, path+"."+name, inTemplate)
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
		m.DynamicTemplates = append(m.DynamicTemplates, other.DynamicTemplates...)
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

// Clone returns a deep copy of m.
func (m *Mapping) Clone() *Mapping {
	if m == nil {
		return nil
	}
	b, _ := json.Marshal(m)
	var out Mapping
	_ = json.Unmarshal(b, &out)
	return &out
}

// Clone returns a deep copy of p.
func (p *Property) Clone() *Property {
	if p == nil {
		return nil
	}
	b, _ := json.Marshal(p)
	var out Property
	_ = json.Unmarshal(b, &out)
	return &out
}
