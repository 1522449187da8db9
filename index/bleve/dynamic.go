package bleve

import (
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/tenantgate/tenantgate/index"
)

// Dynamic settings of a mapping or object ("" means inherit, at the root
// "true").
const (
	dynamicTrue   = "true"
	dynamicFalse  = "false"
	dynamicStrict = "strict"
)

// dynamicDateFormat is the format given to string fields detected as
// slash-separated dates, as OpenSearch's dynamic_date_formats do.
const dynamicDateFormat = "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd||epoch_millis"

// detectDate matches strings that dynamic mapping turns into dates: a full
// ISO date (strict_date_optional_time with at least year-month-day) or
// yyyy/MM/dd with an optional HH:mm:ss.
var (
	detectISODate   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(?:T|$)`)
	detectSlashDate = regexp.MustCompile(`^\d{4}/\d{2}/\d{2}(?: \d{2}:\d{2}:\d{2})?$`)
)

// detectedType is the JSON type of a new field as dynamic templates see
// it (match_mapping_type). Strings are checked for dates unless the
// mapping turns date_detection off, then for numbers if it turns
// numeric_detection on, in that order as in OpenSearch.
func detectedType(m *index.Mapping, v any) string {
	switch x := v.(type) {
	case string:
		if (m.DateDetection == nil || *m.DateDetection) && isDetectedDate(x) != "" {
			return "date"
		}
		if m.NumericDetection != nil && *m.NumericDetection {
			if t := detectedNumber(x); t != "" {
				return t
			}
		}
		return "string"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "double"
		}
		if _, err := strconv.ParseInt(string(x), 10, 64); err != nil {
			return "double" // beyond long: mapped like a float
		}
		return "long"
	case float64:
		return "double"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	}
	return ""
}

// detectedNumber returns "long" for a string holding an integer that fits
// a long, "double" for any other finite number, and "" otherwise (what
// numeric_detection looks for).
func detectedNumber(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return "long"
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
		return "double"
	}
	return ""
}

// isDetectedDate returns the format a string detected as a date gets
// ("strict_date_optional_time" means the default), or "" if s is no date.
func isDetectedDate(s string) string {
	if detectISODate.MatchString(s) {
		if _, ok := parseISO(s); ok {
			return "strict_date_optional_time"
		}
		return ""
	}
	if detectSlashDate.MatchString(s) {
		for _, f := range strings.Split(dynamicDateFormat, "||")[:2] {
			if _, ok := parseDateFormat(f, s); ok {
				return dynamicDateFormat
			}
		}
	}
	return ""
}

// defaultDynamicType is the field type a dynamic_type names
// ({dynamic_type} in templates).
func defaultDynamicType(detected string) string {
	switch detected {
	case "string":
		return index.TypeText
	case "double":
		return index.TypeFloat
	case "":
		return ""
	}
	return detected // long, boolean, date, object
}

// inferProperty returns the mapping of a new field at path (name is its
// last segment) holding v: from the first matching dynamic template, else
// OpenSearch's defaults. It returns nil for values that add no field
// (null, empty array).
func inferProperty(m *index.Mapping, path, name string, v any) *index.Property {
	detected := detectedType(m, v)
	if detected == "" {
		return nil
	}
	if p := applyTemplates(m, path, name, detected); p != nil {
		return p
	}
	switch detected {
	case "string":
		return &index.Property{Type: index.TypeText, Fields: map[string]*index.Property{
			"keyword": {Type: index.TypeKeyword, IgnoreAbove: 256},
		}}
	case "date":
		p := &index.Property{Type: index.TypeDate}
		if f := isDetectedDate(v.(string)); f != "strict_date_optional_time" {
			p.Format = f
		}
		return p
	}
	return &index.Property{Type: defaultDynamicType(detected)}
}

// applyTemplates returns the mapping of the first dynamic template that
// matches the field, with {name} and {dynamic_type} replaced, or nil.
func applyTemplates(m *index.Mapping, path, name, detected string) *index.Property {
	for _, entry := range m.DynamicTemplates {
		for _, t := range entry {
			if !templateMatches(t, path, name, detected) {
				continue
			}
			p := t.Mapping.Clone()
			dynType := defaultDynamicType(detected)
			substitute(p, name, dynType)
			if p.Type == "" {
				p.Type = dynType
			}
			if p.Type == index.TypeObject && detected != "object" || p.Type != index.TypeObject && detected == "object" {
				// A template for leaves does not map objects, and back.
				continue
			}
			return p
		}
	}
	return nil
}

// templateMatches reports whether template t applies to a field.
func templateMatches(t index.DynamicTemplate, path, name, detected string) bool {
	switch t.MatchMappingType {
	case "", "*":
		if detected == "object" && t.Mapping != nil && t.Mapping.Type != "" && t.Mapping.Type != index.TypeObject && t.MatchMappingType == "" {
			return false
		}
	case detected:
	default:
		return false
	}
	if t.Match != "" && !dynGlobMatch(t.Match, name) {
		return false
	}
	if t.Unmatch != "" && dynGlobMatch(t.Unmatch, name) {
		return false
	}
	if t.PathMatch != "" && !dynGlobMatch(t.PathMatch, path) {
		return false
	}
	if t.PathUnmatch != "" && dynGlobMatch(t.PathUnmatch, path) {
		return false
	}
	return true
}

// substitute replaces the {name} and {dynamic_type} placeholders in the
// string parameters of p and its multi-fields.
func substitute(p *index.Property, name, dynType string) {
	r := strings.NewReplacer("{name}", name, "{dynamic_type}", dynType)
	p.Type = r.Replace(p.Type)
	p.Analyzer = r.Replace(p.Analyzer)
	p.SearchAnalyzer = r.Replace(p.SearchAnalyzer)
	p.Format = r.Replace(p.Format)
	for _, sub := range p.Fields {
		substitute(sub, name, dynType)
	}
}

// dynGlobMatch matches s against a pattern where * stands for any run of
// characters (OpenSearch's simple match).
func dynGlobMatch(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i := 1; i < len(parts)-1; i++ {
		j := strings.Index(s, parts[i])
		if j < 0 {
			return false
		}
		s = s[j+len(parts[i]):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}
