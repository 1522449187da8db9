package sample_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/sample"
)

const tenant = "analysts"

// client returns a sample client for admin in the analysts tenant.
func client(t *testing.T, s *testserver.Server) *sample.Client {
	t.Helper()
	return &sample.Client{Server: s.URL, Token: testserver.Token(t, "admin"), Tenant: tenant, HTTP: s.Client, BatchSize: 700}
}

// load loads set and checks the documents and, when the gateway has the
// import endpoint, the saved objects.
func load(t *testing.T, s *testserver.Server, set *sample.Set) *sample.Result {
	t.Helper()
	res, err := client(t, s).Load(context.Background(), set)
	objects, perr := sample.ParseExport(set.Objects)
	if perr != nil {
		t.Fatal(perr)
	}
	switch {
	case errors.Is(err, sample.ErrImportUnavailable):
		t.Logf("saved objects not imported: %v", err)
	case err != nil:
		t.Fatalf("loading %s: %v", set.Name, err)
	case res.Objects != len(objects):
		t.Errorf("imported %d saved objects, want %d", res.Objects, len(objects))
	}
	if res.Docs != len(set.Docs) {
		t.Fatalf("loaded %d documents, want %d", res.Docs, len(set.Docs))
	}
	want := fmt.Sprintf("/app/dashboards/view/%s?security_tenant=%s", set.DashboardID, tenant)
	if res.DashboardURL != want {
		t.Errorf("dashboard URL %q, want %q", res.DashboardURL, want)
	}
	return res
}

// search runs a search in the tenant and decodes the answer.
func search(t *testing.T, s *testserver.Server, index string, body any) map[string]any {
	t.Helper()
	r := s.Do(t, "POST", "/"+index+"/_search", testserver.Token(t, "admin"), tenant, body)
	if r.Status != 200 {
		t.Fatalf("search %v: %d %s", body, r.Status, r.Body)
	}
	return r.JSON(t)
}

func total(m map[string]any) int {
	return int(m["hits"].(map[string]any)["total"].(map[string]any)["value"].(float64))
}

func TestWeblogsLoadAndSearch(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 3000 documents")
	}
	s := testserver.Start(t)
	set, err := sample.Weblogs(sample.WeblogOptions{Now: time.Now().UTC().Truncate(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	res := load(t, s, set)
	// Loading again overwrites (fixed ids) instead of duplicating.
	load(t, s, set)

	// The generator's own numbers, from its documents.
	logs := make([]sample.Weblog, len(set.Docs))
	status := map[string]int{}
	bytesByHost, countByHost := map[string]float64{}, map[string]int{}
	errorsQuery, perDay, lastDay := 0, map[string]int{}, 0
	var sumBytes float64
	cutoff := time.Now().UTC().Add(-24 * time.Hour)
	for i, raw := range set.Docs {
		if err := json.Unmarshal(raw, &logs[i]); err != nil {
			t.Fatal(err)
		}
		d := logs[i]
		status[strconv.Itoa(d.HTTP.Response.StatusCode)]++
		bytesByHost[d.Host] += float64(d.HTTP.Response.Bytes)
		countByHost[d.Host]++
		sumBytes += float64(d.HTTP.Response.Bytes)
		if d.HTTP.Response.StatusCode >= 400 && d.URL.Path != "/favicon.ico" {
			errorsQuery++
		}
		perDay[d.Timestamp[:10]]++
		if ts, _ := time.Parse(time.RFC3339, d.Timestamp); ts.After(cutoff) {
			lastDay++
		}
	}

	if got := total(search(t, s, set.Index, map[string]any{"size": 0, "track_total_hits": true})); got != len(logs) {
		t.Errorf("total %d, want %d", got, len(logs))
	}
	// The saved search's KQL query.
	q := map[string]any{"size": 0, "track_total_hits": true, "query": map[string]any{"kql": map[string]any{"query": sample.WeblogsErrorsQuery}}}
	if got := total(search(t, s, set.Index, q)); got != errorsQuery {
		t.Errorf("saved search %q: %d hits, want %d", sample.WeblogsErrorsQuery, got, errorsQuery)
	}
	q = map[string]any{"size": 0, "track_total_hits": true, "query": map[string]any{"kql": map[string]any{"query": "@timestamp > now-1d"}}}
	if got := total(search(t, s, set.Index, q)); got != lastDay {
		t.Errorf("last day: %d hits, want %d", got, lastDay)
	}
	// The visualizations' aggregations.
	aggs := search(t, s, set.Index, map[string]any{"size": 0, "aggs": map[string]any{
		"status": map[string]any{"terms": map[string]any{"field": "http.response.status_code", "size": 20}},
		"hosts": map[string]any{"terms": map[string]any{"field": "host", "size": 10},
			"aggs": map[string]any{"bytes": map[string]any{"avg": map[string]any{"field": "http.response.bytes"}}}},
		"bytes": map[string]any{"sum": map[string]any{"field": "http.response.bytes"}},
		"days":  map[string]any{"date_histogram": map[string]any{"field": "@timestamp", "calendar_interval": "1d"}},
	}})["aggregations"].(map[string]any)
	for _, b := range buckets(aggs["status"]) {
		key := strconv.Itoa(int(b["key"].(float64)))
		if int(b["doc_count"].(float64)) != status[key] {
			t.Errorf("status %s: %v documents, want %d", key, b["doc_count"], status[key])
		}
		delete(status, key)
	}
	if len(status) != 0 {
		t.Errorf("status codes missing from the terms aggregation: %v", status)
	}
	for _, b := range buckets(aggs["hosts"]) {
		host := b["key"].(string)
		avg := b["bytes"].(map[string]any)["value"].(float64)
		if want := bytesByHost[host] / float64(countByHost[host]); math.Abs(avg-want) > 1e-6 || int(b["doc_count"].(float64)) != countByHost[host] {
			t.Errorf("host %s: %v documents averaging %v bytes, want %d averaging %v", host, b["doc_count"], avg, countByHost[host], want)
		}
	}
	if got := aggs["bytes"].(map[string]any)["value"].(float64); got != sumBytes {
		t.Errorf("sum of bytes %v, want %v", got, sumBytes)
	}
	for _, b := range buckets(aggs["days"]) {
		day := b["key_as_string"].(string)[:10]
		if int(b["doc_count"].(float64)) != perDay[day] {
			t.Errorf("day %s: %v documents, want %d", day, b["doc_count"], perDay[day])
		}
	}

	// Once imported, the dashboard is there in the tenant.
	if res.Objects > 0 {
		r := s.Do(t, "GET", "/api/saved_objects/dashboard/"+set.DashboardID, testserver.Token(t, "admin"), tenant, nil)
		if r.Status != 200 || r.JSON(t)["attributes"].(map[string]any)["title"] != "[Sample] Web logs" {
			t.Errorf("dashboard after import: %d %s", r.Status, r.Body)
		}
	}
}

func buckets(agg any) []map[string]any {
	var out []map[string]any
	for _, b := range agg.(map[string]any)["buckets"].([]any) {
		out = append(out, b.(map[string]any))
	}
	return out
}

// fixturesDir is ../shared/fixtures/osd-exports beside the repository.
func fixturesDir(t *testing.T) string {
	t.Helper()
	return testserver.OSDFixtures(t)
}

// savedQuery is a query found in a saved object: a saved search's or a
// visualization's searchSourceJSON, or a filters aggregation's input.
type savedQuery struct {
	where, language, query string
}

// savedQueries extracts every query of the real exports.
func savedQueries(t *testing.T, dir string) []savedQuery {
	t.Helper()
	var out []savedQuery
	for _, name := range []string{"nginx", "apache", "haproxy"} {
		raw, err := os.ReadFile(filepath.Join(dir, name+"-1.0.0.ndjson"))
		if err != nil {
			t.Fatal(err)
		}
		objects, err := sample.ParseExport(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects {
			where := fmt.Sprintf("%s %s/%s", name, o.Type, o.ID)
			if meta, ok := o.Attributes["kibanaSavedObjectMeta"].(map[string]any); ok {
				var src struct {
					Query *struct {
						Query    any    `json:"query"`
						Language string `json:"language"`
					} `json:"query"`
				}
				if err := json.Unmarshal([]byte(meta["searchSourceJSON"].(string)), &src); err != nil {
					t.Fatalf("%s: searchSourceJSON: %v", where, err)
				}
				if src.Query != nil {
					q, _ := src.Query.Query.(string)
					out = append(out, savedQuery{where, src.Query.Language, q})
				}
			}
			if vs, ok := o.Attributes["visState"].(string); ok {
				var v struct {
					Aggs []struct {
						Type   string `json:"type"`
						Params struct {
							Filters []struct {
								Input struct{ Query, Language string } `json:"input"`
							} `json:"filters"`
						} `json:"params"`
					} `json:"aggs"`
				}
				if err := json.Unmarshal([]byte(vs), &v); err != nil {
					t.Fatalf("%s: visState: %v", where, err)
				}
				for _, a := range v.Aggs {
					for _, f := range a.Params.Filters {
						if a.Type == "filters" {
							out = append(out, savedQuery{where + " filters", f.Input.Language, f.Input.Query})
						}
					}
				}
			}
		}
	}
	return out
}

// dsl is the query OpenSearch Dashboards sends for a saved query, with
// tenantgate's kql query type for KQL.
func dsl(q savedQuery) map[string]any {
	switch {
	case q.language == "kuery":
		return map[string]any{"kql": map[string]any{"query": q.query}}
	case q.query == "":
		return map[string]any{"match_all": map[string]any{}}
	}
	return map[string]any{"query_string": map[string]any{"query": q.query}}
}

// nginxDoc is the part of a sample document the expectations look at.
type nginxDoc struct {
	Event struct {
		Domain string `json:"domain"`
	} `json:"event"`
	HTTP struct {
		Response struct {
			StatusCode string `json:"status_code"`
		} `json:"response"`
	} `json:"http"`
}

// expectations computes, from the documents themselves, how many each of
// the exports' non-empty queries should match.
func expectations(t *testing.T, set *sample.Set) map[string]int {
	t.Helper()
	docs := make([]nginxDoc, len(set.Docs))
	for i, raw := range set.Docs {
		if err := json.Unmarshal(raw, &docs[i]); err != nil {
			t.Fatal(err)
		}
	}
	count := func(keep func(d nginxDoc, status int) bool) int {
		n := 0
		for _, d := range docs {
			status, err := strconv.Atoi(d.HTTP.Response.StatusCode)
			if err != nil {
				t.Fatalf("status code %q", d.HTTP.Response.StatusCode)
			}
			if keep(d, status) {
				n++
			}
		}
		return n
	}
	want := map[string]int{}
	for _, domain := range []string{"nginx.access", "apache.error", "haproxy.access"} {
		want["event.domain:"+domain] = count(func(d nginxDoc, _ int) bool { return d.Event.Domain == domain })
		want["http.response.status_code >= 300 and event.domain:"+domain] = count(func(d nginxDoc, s int) bool {
			return s >= 300 && d.Event.Domain == domain
		})
	}
	for lo := 200; lo < 600; lo += 100 {
		want[fmt.Sprintf("http.response.status_code:[%d TO %d]", lo, lo+99)] = count(func(_ nginxDoc, s int) bool { return s >= lo && s <= lo+99 })
	}
	want["http.response.status_code:0"] = count(func(_ nginxDoc, s int) bool { return s == 0 })
	return want
}

// TestNginxSavedQueries loads the real nginx sample with its templates and
// runs every query of the three real exports (KQL through kql, Lucene
// through query_string) against it, checking each non-empty one against a
// count computed from the documents.
func TestNginxSavedQueries(t *testing.T) {
	dir := fixturesDir(t)
	set, err := sample.Nginx(dir)
	if err != nil {
		t.Fatal(err)
	}
	if set.Index != "ss4o_logs-nginx-sample-sample" || len(set.Docs) != 990 || len(set.Notes) == 0 {
		t.Fatalf("set %s: %d docs, notes %v", set.Index, len(set.Docs), set.Notes)
	}
	s := testserver.Start(t)
	load(t, s, set)

	// The adapted template mapped the documents: status_code is the
	// integer of the http component, not a dynamic string.
	r := s.Do(t, "GET", "/"+set.Index+"/_mapping", testserver.Token(t, "admin"), tenant, nil)
	var m map[string]struct {
		Mappings struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"mappings"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("mapping: %v %s", err, r.Body)
	}
	var httpProps struct {
		Properties struct {
			Response struct {
				Properties struct {
					StatusCode struct{ Type string } `json:"status_code"`
				} `json:"properties"`
			} `json:"response"`
		} `json:"properties"`
	}
	_ = json.Unmarshal(m[set.Index].Mappings.Properties["http"], &httpProps)
	if got := httpProps.Properties.Response.Properties.StatusCode.Type; got != "integer" {
		t.Errorf("http.response.status_code mapped as %q, want integer (from the http component template)", got)
	}

	want := expectations(t, set)
	queries := savedQueries(t, dir)
	checked := map[string]bool{}
	for _, q := range queries {
		t.Run(q.where+" "+q.query, func(t *testing.T) {
			got := total(search(t, s, set.Index, map[string]any{"size": 0, "track_total_hits": true, "query": dsl(q)}))
			if q.query == "" {
				if got != len(set.Docs) {
					t.Errorf("empty %s query: %d hits, want all %d", q.language, got, len(set.Docs))
				}
				return
			}
			n, ok := want[q.query]
			if !ok {
				t.Fatalf("no expectation for %q (%s)", q.query, q.language)
			}
			checked[q.query] = true
			if got != n {
				t.Errorf("%s query %q: %d hits, want %d", q.language, q.query, got, n)
			}
		})
	}
	if len(checked) < 6 || want["event.domain:nginx.access"] == 0 || want["http.response.status_code >= 300 and event.domain:nginx.access"] == 0 {
		t.Errorf("too few real queries checked against real counts: %v (%v)", checked, want)
	}

	// The "Response codes over time" filters aggregation as the
	// visualization asks for it.
	filters := map[string]any{}
	var labels []string
	for lo := 200; lo < 600; lo += 100 {
		label := fmt.Sprintf("%ds", lo)
		labels = append(labels, label)
		filters[label] = map[string]any{"query_string": map[string]any{"query": fmt.Sprintf("http.response.status_code:[%d TO %d]", lo, lo+99)}}
	}
	sort.Strings(labels)
	aggs := search(t, s, set.Index, map[string]any{"size": 0, "aggs": map[string]any{"codes": map[string]any{"filters": map[string]any{"filters": filters}}}})
	got := aggs["aggregations"].(map[string]any)["codes"].(map[string]any)["buckets"].(map[string]any)
	for i, label := range labels {
		lo := 200 + 100*i
		n := int(got[label].(map[string]any)["doc_count"].(float64))
		if w := want[fmt.Sprintf("http.response.status_code:[%d TO %d]", lo, lo+99)]; n != w {
			t.Errorf("filters bucket %s: %d, want %d", label, n, w)
		}
	}
}

// TestNginxTemplateAdaptation: the set merges the component templates and
// drops what tenantgate refuses, without touching the fixture files.
func TestNginxTemplateAdaptation(t *testing.T) {
	set, err := sample.Nginx(fixturesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	var tmpl map[string]any
	if err := json.Unmarshal(set.Template, &tmpl); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"composed_of", "data_stream"} {
		if _, ok := tmpl[k]; ok {
			t.Errorf("template still has %s", k)
		}
	}
	raw := string(set.Template)
	for _, re := range []string{`"type":"alias"`, `"type":"geo_point"`} {
		if regexp.MustCompile(re).MatchString(raw) {
			t.Errorf("template still has %s", re)
		}
	}
	for _, field := range []string{`"communication"`, `"http"`, `"severity"`, `"ss4o_logs-*-*"`} {
		if !regexp.MustCompile(regexp.QuoteMeta(field)).MatchString(raw) {
			t.Errorf("template lacks %s", field)
		}
	}
}
