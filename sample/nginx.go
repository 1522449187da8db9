package sample

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tenantgate/tenantgate/index"
)

// The nginx set: the OpenSearch catalog's nginx integration sample.
const (
	// NginxIndex is where the nginx dashboard's index pattern
	// (ss4o_logs-nginx-*) finds the sample.
	NginxIndex    = "ss4o_logs-nginx-sample-sample"
	NginxTemplate = "ss4o_logs-nginx-sample"
	// NginxDashboardID is "Nginx Logs Overview" in nginx-1.0.0.ndjson.
	NginxDashboardID = "nginx-dashboard-1.0.0"
)

// unsupportedFieldTypes are mapping types tenantgate refuses; the nginx
// templates use them for fields the sample documents do not hold.
var unsupportedFieldTypes = map[string]bool{"alias": true, "geo_point": true}

// Nginx reads the nginx set from dir, a folder of OpenSearch Dashboards
// exports holding nginx-1.0.0.ndjson and nginx-sample/ (sample.json and
// the *.mapping.json index templates).
//
// The catalog's logs template is an OpenSearch index template for a data
// stream built from component templates. tenantgate supports neither, so
// the set adapts it, and says so in Notes: the components named in
// composed_of are merged into the template's mappings (components first,
// the template's own fields win, as OpenSearch composes them),
// data_stream is dropped (the documents go to the plain index
// NginxIndex), and fields of types tenantgate does not map (alias,
// geo_point; no sample document holds them) are left out.
func Nginx(dir string) (*Set, error) {
	sampleDir := filepath.Join(dir, "nginx-sample")
	var tmpl map[string]json.RawMessage
	if err := readJSON(filepath.Join(sampleDir, "logs-1.0.0.mapping.json"), &tmpl); err != nil {
		return nil, err
	}
	s := &Set{Name: "nginx", Index: NginxIndex, TemplateName: NginxTemplate, DashboardID: NginxDashboardID}
	mappings, err := templateMappings(tmpl, "logs-1.0.0.mapping.json")
	if err != nil {
		return nil, err
	}
	var composed []string
	if raw, ok := tmpl["composed_of"]; ok {
		if err := json.Unmarshal(raw, &composed); err != nil {
			return nil, fmt.Errorf("%w: logs-1.0.0.mapping.json: [composed_of] must be a list of names", ErrInvalid)
		}
		delete(tmpl, "composed_of")
	}
	merged := map[string]any{}
	for _, name := range composed {
		files, _ := filepath.Glob(filepath.Join(sampleDir, name+"-*.mapping.json"))
		if len(files) != 1 {
			return nil, fmt.Errorf("%w: component template %q: want one %s-*.mapping.json in %s, found %d", ErrInvalid, name, name, sampleDir, len(files))
		}
		var comp map[string]json.RawMessage
		if err := readJSON(files[0], &comp); err != nil {
			return nil, err
		}
		cm, err := templateMappings(comp, filepath.Base(files[0]))
		if err != nil {
			return nil, err
		}
		mergeMappings(merged, cm)
	}
	mergeMappings(merged, mappings)
	if len(composed) > 0 {
		s.Notes = append(s.Notes, fmt.Sprintf("merged the component templates %s into the index template (tenantgate has no component templates)", strings.Join(composed, ", ")))
	}
	if _, ok := tmpl["data_stream"]; ok {
		delete(tmpl, "data_stream")
		s.Notes = append(s.Notes, fmt.Sprintf("loaded into the index %s instead of a data stream (tenantgate has no data streams)", NginxIndex))
	}
	if props, ok := merged["properties"].(map[string]any); ok {
		if dropped := dropUnsupported(props, ""); len(dropped) > 0 {
			sort.Strings(dropped)
			s.Notes = append(s.Notes, "left out fields of types tenantgate does not map (alias, geo_point): "+strings.Join(dropped, ", "))
		}
	}
	inner := map[string]any{}
	if raw, ok := tmpl["template"]; ok {
		if err := json.Unmarshal(raw, &inner); err != nil {
			return nil, fmt.Errorf("%w: logs-1.0.0.mapping.json: [template] must be an object", ErrInvalid)
		}
	}
	inner["mappings"] = merged
	if settings, ok := inner["settings"].(map[string]any); ok {
		flat := map[string]any{}
		flattenSettings("", settings, flat)
		for _, k := range []string{"index.mapping.total_fields.limit", "mapping.total_fields.limit"} {
			if v, ok := flat[k]; ok {
				delete(flat, k)
				s.Notes = append(s.Notes, fmt.Sprintf("left out the setting index.mapping.total_fields.limit: %v (tenantgate's limit is fixed at %d fields; the sample uses far fewer)", v, index.MaxMappingFields))
			}
		}
		inner["settings"] = flat
	}
	body := map[string]any{}
	for k, v := range tmpl {
		body[k] = v
	}
	body["template"] = inner
	if s.Template, err = json.Marshal(body); err != nil {
		return nil, err
	}
	var docs []json.RawMessage
	if err := readJSON(filepath.Join(sampleDir, "sample.json"), &docs); err != nil {
		return nil, err
	}
	for i, d := range docs {
		s.Docs = append(s.Docs, d)
		s.IDs = append(s.IDs, fmt.Sprintf("nginx-%04d", i+1))
	}
	if s.Objects, err = os.ReadFile(filepath.Join(dir, "nginx-1.0.0.ndjson")); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return s, nil
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, filepath.Base(path), err)
	}
	return nil
}

// templateMappings returns template.mappings of a template file.
func templateMappings(tmpl map[string]json.RawMessage, file string) (map[string]any, error) {
	var inner struct {
		Mappings map[string]any `json:"mappings"`
	}
	if raw, ok := tmpl["template"]; ok {
		if err := json.Unmarshal(raw, &inner); err != nil {
			return nil, fmt.Errorf("%w: %s: [template] must be an object", ErrInvalid, file)
		}
	}
	if inner.Mappings == nil {
		inner.Mappings = map[string]any{}
	}
	return inner.Mappings, nil
}

// flattenSettings writes nested settings as dotted keys.
func flattenSettings(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flattenSettings(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
}

// mergeMappings merges src into dst: objects deeply, dynamic_templates
// appended, anything else replaced by src.
func mergeMappings(dst, src map[string]any) {
	for k, v := range src {
		if k == "dynamic_templates" {
			a, _ := dst[k].([]any)
			b, _ := v.([]any)
			dst[k] = append(a, b...)
			continue
		}
		dm, ok1 := dst[k].(map[string]any)
		sm, ok2 := v.(map[string]any)
		if ok1 && ok2 {
			mergeMappings(dm, sm)
			continue
		}
		dst[k] = v
	}
}

// dropUnsupported removes fields of unsupportedFieldTypes from a
// properties object and returns their paths.
func dropUnsupported(props map[string]any, prefix string) []string {
	var dropped []string
	for name, v := range props {
		p, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if t, _ := p["type"].(string); unsupportedFieldTypes[t] {
			delete(props, name)
			dropped = append(dropped, prefix+name)
			continue
		}
		if sub, ok := p["properties"].(map[string]any); ok {
			dropped = append(dropped, dropUnsupported(sub, prefix+name+".")...)
		}
	}
	return dropped
}
