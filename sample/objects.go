package sample

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Ids of the weblogs saved objects, and the KQL query of its saved search.
const (
	WeblogsIndexPatternID = "sample-weblogs-index-pattern"
	WeblogsSearchID       = "sample-weblogs-search-errors"
	WeblogsDashboardID    = "sample-weblogs-dashboard"
	// WeblogsErrorsQuery is the KQL query of the saved search "[Sample]
	// Web logs: errors".
	WeblogsErrorsQuery = `http.response.status_code >= 400 and not url.path:"/favicon.ico"`
)

// SavedObject is one saved object as OpenSearch Dashboards exports it.
type SavedObject struct {
	ID               string            `json:"id"`
	Type             string            `json:"type"`
	Attributes       map[string]any    `json:"attributes"`
	References       []Reference       `json:"references"`
	MigrationVersion map[string]string `json:"migrationVersion,omitempty"`
}

// Reference is a saved object's named reference to another.
type Reference struct {
	Name string `json:"name"`
	Type string `json:"type"`
	ID   string `json:"id"`
}

// ParseExport reads an NDJSON export, skipping the export summary line.
func ParseExport(ndjson []byte) ([]SavedObject, error) {
	var out []SavedObject
	for i, line := range bytes.Split(ndjson, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(line, &probe); err != nil {
			return nil, fmt.Errorf("%w: export line %d: %v", ErrInvalid, i+1, err)
		}
		if _, ok := probe["exportedCount"]; ok {
			continue
		}
		var o SavedObject
		if err := json.Unmarshal(line, &o); err != nil {
			return nil, fmt.Errorf("%w: export line %d: %v", ErrInvalid, i+1, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// jsonString encodes v as JSON text, the way OpenSearch Dashboards stores
// visState, panelsJSON, searchSourceJSON and the index pattern's fields.
func jsonString(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only maps, slices and scalars built here
	}
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

const indexRef = "kibanaSavedObjectMeta.searchSourceJSON.index"

// searchSource is a searchSourceJSON with a KQL query over the set's
// index pattern (through indexRefName).
func searchSource(kql string, extra map[string]any) map[string]any {
	src := map[string]any{
		"query":        map[string]any{"query": kql, "language": "kuery"},
		"filter":       []any{},
		"indexRefName": indexRef,
	}
	for k, v := range extra {
		src[k] = v
	}
	return map[string]any{"searchSourceJSON": jsonString(src)}
}

// agg is one aggregation of a visState.
func agg(id, typ, schema string, params map[string]any) map[string]any {
	if params == nil {
		params = map[string]any{}
	}
	return map[string]any{"id": id, "enabled": true, "type": typ, "schema": schema, "params": params}
}

func dateHistogram(id string) map[string]any {
	return agg(id, "date_histogram", "segment", map[string]any{
		"field": "@timestamp", "timeRange": map[string]any{"from": "now-7d", "to": "now"},
		"useNormalizedOpenSearchInterval": true, "scaleMetricValues": false, "interval": "auto",
		"drop_partials": false, "min_doc_count": 1, "extended_bounds": map[string]any{},
	})
}

func terms(id, schema, field string, size int, label string) map[string]any {
	return agg(id, "terms", schema, map[string]any{
		"field": field, "orderBy": "1", "order": "desc", "size": size, "otherBucket": false,
		"otherBucketLabel": "Other", "missingBucket": false, "missingBucketLabel": "Missing", "customLabel": label,
	})
}

// xyParams are the params of line, area and histogram (bar) charts.
func xyParams(typ, mode, label string) map[string]any {
	return map[string]any{
		"type": typ, "grid": map[string]any{"categoryLines": false},
		"categoryAxes": []any{map[string]any{"id": "CategoryAxis-1", "type": "category", "position": "bottom", "show": true,
			"style": map[string]any{}, "scale": map[string]any{"type": "linear"},
			"labels": map[string]any{"show": true, "filter": true, "truncate": 100}, "title": map[string]any{}}},
		"valueAxes": []any{map[string]any{"id": "ValueAxis-1", "name": "LeftAxis-1", "type": "value", "position": "left", "show": true,
			"style": map[string]any{}, "scale": map[string]any{"type": "linear", "mode": "normal"},
			"labels": map[string]any{"show": true, "rotate": 0, "filter": false, "truncate": 100}, "title": map[string]any{"text": label}}},
		"seriesParams": []any{map[string]any{"show": true, "type": typ, "mode": mode, "data": map[string]any{"label": label, "id": "1"},
			"valueAxis": "ValueAxis-1", "drawLinesBetweenPoints": true, "lineWidth": 2, "interpolate": "linear", "showCircles": true}},
		"addTooltip": true, "addLegend": true, "legendPosition": "right", "times": []any{}, "addTimeMarker": false,
		"labels": map[string]any{}, "thresholdLine": map[string]any{"show": false, "value": 10, "width": 1, "style": "full", "color": "#E7664C"},
	}
}

// visualization builds a visualization over the set's index pattern.
func visualization(id, title, typ string, params map[string]any, aggs ...map[string]any) SavedObject {
	return SavedObject{
		ID: id, Type: "visualization",
		Attributes: map[string]any{
			"title": title, "description": "", "version": 1, "uiStateJSON": "{}",
			"visState":              jsonString(map[string]any{"title": title, "type": typ, "params": params, "aggs": aggs}),
			"kibanaSavedObjectMeta": searchSource("", nil),
		},
		References:       []Reference{{Name: indexRef, Type: "index-pattern", ID: WeblogsIndexPatternID}},
		MigrationVersion: map[string]string{"visualization": "7.10.0"},
	}
}

// osdFieldType is the index pattern type of an OpenSearch field type.
func osdFieldType(t string) string {
	switch t {
	case "text", "keyword":
		return "string"
	case "long", "integer", "short", "byte", "double", "float":
		return "number"
	}
	return t // date, ip, boolean
}

// indexPatternFields is the index pattern's "fields" list: the mapping's
// fields and the metadata fields, as OpenSearch Dashboards caches them.
func indexPatternFields() []any {
	field := func(name, typ, esType string, searchable, aggregatable bool) map[string]any {
		return map[string]any{"count": 0, "name": name, "type": typ, "esTypes": []string{esType}, "scripted": false,
			"searchable": searchable, "aggregatable": aggregatable, "readFromDocValues": aggregatable && name[0] != '_'}
	}
	out := []any{
		field("_id", "string", "_id", true, true),
		field("_index", "string", "_index", true, true),
		field("_score", "number", "_score", false, false),
		field("_source", "_source", "_source", false, false),
		field("_type", "string", "_type", true, true),
	}
	for _, f := range weblogFields {
		out = append(out, field(f.path, osdFieldType(f.typ), f.typ, true, f.typ != "text"))
	}
	return out
}

// panel is one dashboard panel on OpenSearch Dashboards' 48-column grid.
type panel struct {
	ref, typ, title string
	x, y, w, h      int
}

// weblogObjects builds the saved objects of the weblogs set, in export
// order (referenced objects first) with the export summary line.
func weblogObjects() ([]byte, error) {
	indexPattern := SavedObject{
		ID: WeblogsIndexPatternID, Type: "index-pattern",
		Attributes: map[string]any{
			"title": WeblogsIndex, "timeFieldName": "@timestamp", "fields": jsonString(indexPatternFields()),
		},
		References:       []Reference{},
		MigrationVersion: map[string]string{"index-pattern": "7.6.0"},
	}
	search := SavedObject{
		ID: WeblogsSearchID, Type: "search",
		Attributes: map[string]any{
			"title": "[Sample] Web logs: errors", "description": "Requests answered with a 4xx or 5xx status",
			"hits": 0, "version": 1,
			"columns":               []string{"host", "http.request.method", "url.path", "http.response.status_code", "message"},
			"sort":                  [][]string{{"@timestamp", "desc"}},
			"kibanaSavedObjectMeta": searchSource(WeblogsErrorsQuery, map[string]any{"highlightAll": true, "version": true}),
		},
		References:       []Reference{{Name: indexRef, Type: "index-pattern", ID: WeblogsIndexPatternID}},
		MigrationVersion: map[string]string{"search": "7.9.3"},
	}
	vis := []SavedObject{
		visualization("sample-weblogs-vis-total", "[Sample] Web logs: total requests", "metric",
			map[string]any{"addTooltip": true, "addLegend": false, "type": "metric", "metric": map[string]any{
				"percentageMode": false, "useRanges": false, "colorSchema": "Green to Red", "metricColorMode": "None",
				"colorsRange": []any{map[string]any{"from": 0, "to": 10000}}, "labels": map[string]any{"show": true},
				"invertColors": false, "style": map[string]any{"bgFill": "#000", "bgColor": false, "labelColor": false, "subText": "", "fontSize": 60}}},
			agg("1", "count", "metric", map[string]any{"customLabel": "Requests"})),
		visualization("sample-weblogs-vis-requests", "[Sample] Web logs: requests over time", "line",
			xyParams("line", "normal", "Requests"),
			agg("1", "count", "metric", map[string]any{"customLabel": "Requests"}), dateHistogram("2")),
		visualization("sample-weblogs-vis-status", "[Sample] Web logs: status codes", "pie",
			map[string]any{"type": "pie", "addTooltip": true, "addLegend": true, "legendPosition": "right", "isDonut": true,
				"labels": map[string]any{"show": false, "values": true, "last_level": true, "truncate": 100}},
			agg("1", "count", "metric", nil), terms("2", "segment", "http.response.status_code", 10, "Status code")),
		visualization("sample-weblogs-vis-paths", "[Sample] Web logs: top paths", "histogram",
			xyParams("histogram", "stacked", "Requests"),
			agg("1", "count", "metric", map[string]any{"customLabel": "Requests"}), terms("2", "segment", "url.path", 10, "Path")),
		visualization("sample-weblogs-vis-hosts", "[Sample] Web logs: hosts", "table",
			map[string]any{"type": "table", "perPage": 10, "showPartialRows": false, "showMetricsAtAllLevels": false,
				"showTotal": false, "totalFunc": "sum", "percentageCol": "", "sort": map[string]any{"columnIndex": nil, "direction": nil}},
			agg("1", "count", "metric", map[string]any{"customLabel": "Requests"}),
			agg("2", "avg", "metric", map[string]any{"field": "http.response.bytes", "customLabel": "Average bytes"}),
			terms("3", "bucket", "host", 10, "Host")),
		visualization("sample-weblogs-vis-bytes", "[Sample] Web logs: bytes served", "area",
			xyParams("area", "stacked", "Bytes"),
			agg("1", "sum", "metric", map[string]any{"field": "http.response.bytes", "customLabel": "Bytes"}), dateHistogram("2")),
	}
	panels := []panel{
		{vis[0].ID, "visualization", "", 0, 0, 12, 8},
		{vis[1].ID, "visualization", "", 12, 0, 36, 8},
		{vis[2].ID, "visualization", "", 0, 8, 16, 12},
		{vis[3].ID, "visualization", "", 16, 8, 32, 12},
		{vis[4].ID, "visualization", "", 0, 20, 24, 12},
		{vis[5].ID, "visualization", "", 24, 20, 24, 12},
		{search.ID, "search", "Errors", 0, 32, 48, 15},
	}
	var panelsJSON []any
	var refs []Reference
	for i, p := range panels {
		idx := fmt.Sprint(i + 1)
		pj := map[string]any{
			"version": "2.11.0", "panelIndex": idx, "embeddableConfig": map[string]any{},
			"gridData":     map[string]any{"x": p.x, "y": p.y, "w": p.w, "h": p.h, "i": idx},
			"panelRefName": fmt.Sprintf("panel_%d", i),
		}
		if p.title != "" {
			pj["title"] = p.title
		}
		panelsJSON = append(panelsJSON, pj)
		refs = append(refs, Reference{Name: fmt.Sprintf("panel_%d", i), Type: p.typ, ID: p.ref})
	}
	dashboard := SavedObject{
		ID: WeblogsDashboardID, Type: "dashboard",
		Attributes: map[string]any{
			"title": "[Sample] Web logs", "description": "Requests, status codes, paths, hosts and bytes of the sample web servers",
			"hits": 0, "version": 1, "timeRestore": true, "timeFrom": "now-7d", "timeTo": "now",
			"refreshInterval": map[string]any{"pause": true, "value": 0},
			"optionsJSON":     jsonString(map[string]any{"hidePanelTitles": false, "useMargins": true}),
			"panelsJSON":      jsonString(panelsJSON),
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": jsonString(map[string]any{
				"query": map[string]any{"language": "kuery", "query": ""}, "filter": []any{}})},
		},
		References:       refs,
		MigrationVersion: map[string]string{"dashboard": "7.9.3"},
	}
	objects := append([]SavedObject{indexPattern, search}, vis...)
	objects = append(objects, dashboard)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	for _, o := range objects {
		if err := enc.Encode(o); err != nil {
			return nil, err
		}
	}
	if err := enc.Encode(map[string]any{"exportedCount": len(objects), "missingRefCount": 0, "missingReferences": []any{}}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
