package gateway_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

func mustStatus(t *testing.T, r *testserver.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

func get(t *testing.T, m map[string]any, path string) any {
	t.Helper()
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("%s: %v is not an object", path, cur)
		}
		cur = obj[p]
	}
	return cur
}

func TestRootHealthAuthinfo(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	r := s.Do(t, "GET", "/", tok, "", nil)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if m["tagline"] == nil || get(t, m, "version.number") == nil || m["name"] == nil {
		t.Fatalf("root: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "GET", "/_cluster/health", tok, "analysts", nil), 200)

	r = s.Do(t, "GET", "/_plugins/_security/authinfo", tok, "analysts", nil)
	mustStatus(t, r, 200)
	m = r.JSON(t)
	if m["user_name"] != "alice" || m["user_requested_tenant"] != "analysts" {
		t.Fatalf("authinfo: %s", r.Body)
	}
	tenants := m["tenants"].(map[string]any)
	want := map[string]any{"analysts": true, "executive": false, "alice": true, "global_tenant": true}
	for k, v := range want {
		if tenants[k] != v {
			t.Errorf("authinfo tenants[%s] = %v, want %v (all: %v)", k, tenants[k], v, tenants)
		}
	}
	if _, ok := tenants["human_resources"]; ok {
		t.Errorf("authinfo lists a tenant alice cannot use: %v", tenants)
	}
	if br := m["backend_roles"].([]any); len(br) != 1 || br[0] != "analyst" {
		t.Errorf("backend_roles = %v", br)
	}
	roles := fmt.Sprint(m["roles"])
	if !strings.Contains(roles, "analyst") {
		t.Errorf("roles = %v", roles)
	}
}

func TestDocumentLifecycle(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	// The source comes back byte for byte: spacing, key order, unicode.
	src := "{ \"b\" : 2,\n  \"a\": \"h\u00e9llo \\u00e9\", \"n\": 1.50 , \"nested\": {\"z\": [3, 1]} }"
	r := s.Do(t, "PUT", "/logs/_doc/1", tok, tenant, src)
	mustStatus(t, r, 201)
	m := r.JSON(t)
	if m["result"] != "created" || m["_index"] != "logs" || m["_id"] != "1" || m["_version"].(float64) != 1 {
		t.Fatalf("index: %s", r.Body)
	}
	r = s.Do(t, "GET", "/logs/_doc/1", tok, tenant, nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"_source":`+src+`}`) {
		t.Fatalf("source not byte-identical:\n%s\nwant %s", r.Body, src)
	}
	r = s.Do(t, "GET", "/logs/_source/1", tok, tenant, nil)
	if string(r.Body) != src {
		t.Fatalf("_source endpoint: %q, want %q", r.Body, src)
	}
	r = s.Do(t, "PUT", "/logs/_doc/1", tok, tenant, `{"a":"again"}`)
	mustStatus(t, r, 200)
	if m := r.JSON(t); m["result"] != "updated" || m["_version"].(float64) != 2 {
		t.Fatalf("reindex: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "PUT", "/logs/_create/1", tok, tenant, `{"a":1}`), 409)
	r = s.Do(t, "POST", "/logs/_update/1", tok, tenant, `{"doc":{"extra":{"deep":true}}}`)
	mustStatus(t, r, 200)
	r = s.Do(t, "GET", "/logs/_doc/1", tok, tenant, nil)
	if m := r.JSON(t); get(t, m, "_source.extra.deep") != true || get(t, m, "_source.a") != "again" {
		t.Fatalf("after update: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/logs/_update/missing", tok, tenant, `{"doc":{"a":1}}`), 404)
	mustStatus(t, s.Do(t, "POST", "/logs/_update/up", tok, tenant, `{"doc":{"a":1},"doc_as_upsert":true}`), 201)
	r = s.Do(t, "POST", "/logs/_doc", tok, tenant, `{"auto":true}`)
	mustStatus(t, r, 201)
	autoID := r.JSON(t)["_id"].(string)
	if len(autoID) != 20 {
		t.Fatalf("generated id %q", autoID)
	}
	mustStatus(t, s.Do(t, "HEAD", "/logs/_doc/"+autoID, tok, tenant, nil), 200)
	mustStatus(t, s.Do(t, "DELETE", "/logs/_doc/"+autoID, tok, tenant, nil), 200)
	r = s.Do(t, "DELETE", "/logs/_doc/"+autoID, tok, tenant, nil)
	mustStatus(t, r, 404)
	if r.JSON(t)["result"] != "not_found" {
		t.Fatalf("second delete: %s", r.Body)
	}
	r = s.Do(t, "GET", "/logs/_doc/"+autoID, tok, tenant, nil)
	mustStatus(t, r, 404)
	if r.JSON(t)["found"] != false {
		t.Fatalf("get deleted: %s", r.Body)
	}
	// Ids with slashes travel percent-encoded.
	mustStatus(t, s.Do(t, "PUT", "/logs/_doc/a%2Fb", tok, tenant, `{"x":1}`), 201)
	r = s.Do(t, "GET", "/logs/_doc/a%2Fb", tok, tenant, nil)
	mustStatus(t, r, 200)
	if r.JSON(t)["_id"] != "a/b" {
		t.Fatalf("encoded id: %s", r.Body)
	}
}

func TestIndexAPIAndTemplates(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	tmpl := `{"index_patterns":["metrics-*"],"priority":5,"template":{"mappings":{"properties":{"host":{"type":"keyword"},"cpu":{"type":"float"}}}}}`
	mustStatus(t, s.Do(t, "PUT", "/_index_template/metrics", tok, tenant, tmpl), 200)
	r := s.Do(t, "GET", "/_index_template/metrics", tok, tenant, nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"metrics-*"`) {
		t.Fatalf("template: %s", r.Body)
	}
	// The template applies to an index created implicitly by a first write.
	mustStatus(t, s.Do(t, "POST", "/metrics-a/_doc", tok, tenant, `{"host":"web-1","cpu":"0.5","free":"text here"}`), 201)
	r = s.Do(t, "GET", "/metrics-a/_mapping", tok, tenant, nil)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if get(t, m, "metrics-a.mappings.properties.host.type") != "keyword" || get(t, m, "metrics-a.mappings.properties.cpu.type") != "float" {
		t.Fatalf("template mapping not applied: %s", r.Body)
	}
	// Unmapped strings become text with a .keyword sub-field.
	if get(t, m, "metrics-a.mappings.properties.free.type") != "text" || get(t, m, "metrics-a.mappings.properties.free.fields.keyword.type") != "keyword" {
		t.Fatalf("dynamic mapping: %s", r.Body)
	}
	// The numeric string was coerced: a range query finds it.
	r = s.Do(t, "POST", "/metrics-a/_search", tok, tenant, `{"query":{"range":{"cpu":{"gte":0.4}}}}`)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "hits.total.value").(float64) != 1 {
		t.Fatalf("coerced range: %s", r.Body)
	}
	// Templates are per tenant.
	r = s.Do(t, "GET", "/_index_template/metrics", tok, "global", nil)
	mustStatus(t, r, 404)

	mapping := `{"mappings":{"properties":{"title":{"type":"text","fields":{"raw":{"type":"keyword"}}},"at":{"type":"date"},"n":{"type":"integer"},"ok":{"type":"boolean"},"ip":{"type":"ip"},"user":{"properties":{"name":{"type":"keyword"}}}}}}`
	mustStatus(t, s.Do(t, "PUT", "/books", tok, tenant, mapping[:len(mapping)-1]+`,"settings":{"number_of_shards":1,"index":{"number_of_replicas":0}}}`), 200)
	r = s.Do(t, "PUT", "/books", tok, tenant, `{}`)
	mustStatus(t, r, 400)
	if !strings.Contains(string(r.Body), "resource_already_exists_exception") {
		t.Fatalf("create twice: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "HEAD", "/books", tok, tenant, nil), 200)
	mustStatus(t, s.Do(t, "HEAD", "/nope", tok, tenant, nil), 404)
	r = s.Do(t, "GET", "/books", tok, tenant, nil)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "books.mappings.properties.title.fields.raw.type") != "keyword" {
		t.Fatalf("get index: %s", r.Body)
	}
	r = s.Do(t, "GET", "/_cat/indices?format=json", tok, tenant, nil)
	mustStatus(t, r, 200)
	var rows []map[string]any
	if err := json.Unmarshal(r.Body, &rows); err != nil || len(rows) != 2 {
		t.Fatalf("cat indices: %v %s", err, r.Body)
	}
	if rows[0]["index"] != "books" || rows[0]["docs.count"] != "0" || rows[1]["index"] != "metrics-a" || rows[1]["docs.count"] != "1" {
		t.Fatalf("cat indices rows: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "DELETE", "/books", tok, tenant, nil), 200)
	mustStatus(t, s.Do(t, "GET", "/books", tok, tenant, nil), 404)
	mustStatus(t, s.Do(t, "DELETE", "/_index_template/metrics", tok, tenant, nil), 200)
	mustStatus(t, s.Do(t, "DELETE", "/_index_template/metrics", tok, tenant, nil), 404)
}

func TestBulkSearchCountMgetMsearch(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	var bulk strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_index\":\"web\",\"_id\":\"%d\"}}\n{\"status\":%d,\"path\":\"/page/%d\",\"msg\":\"request number %d\",\"at\":\"2024-01-%02dT10:00:00Z\"}\n",
			i, 200+100*(i%3), i, i, 1+i%28)
	}
	bulk.WriteString("{\"delete\":{\"_index\":\"web\",\"_id\":\"29\"}}\n")
	bulk.WriteString("{\"create\":{\"_index\":\"web\",\"_id\":\"0\"}}\n{\"status\":1}\n")
	bulk.WriteString("{\"index\":{\"_index\":\"web\",\"_id\":\"bad\"}}\n{\"status\":\"not a number\"}\n")
	bulk.WriteString("{\"update\":{\"_index\":\"web\",\"_id\":\"1\"}}\n{\"doc\":{\"msg\":\"updated one\"}}\n")
	r := s.Do(t, "POST", "/_bulk", tok, tenant, bulk.String())
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if m["errors"] != true {
		t.Fatalf("bulk errors flag: %s", r.Body)
	}
	items := m["items"].([]any)
	if len(items) != 34 {
		t.Fatalf("bulk items: %d", len(items))
	}
	wantStatus := map[int]float64{0: 201, 30: 200, 31: 409, 32: 400, 33: 200}
	for i, st := range wantStatus {
		for _, v := range items[i].(map[string]any) {
			if got := v.(map[string]any)["status"].(float64); got != st {
				t.Errorf("item %d status %v, want %v: %v", i, got, st, v)
			}
		}
	}
	r = s.Do(t, "POST", "/web/_count", tok, tenant, `{"query":{"term":{"status":300}}}`)
	mustStatus(t, r, 200)
	if r.JSON(t)["count"].(float64) != 10 {
		t.Fatalf("count: %s", r.Body)
	}
	q := `{"query":{"bool":{"must":[{"match":{"msg":"request"}}],"filter":[{"range":{"status":{"gte":300}}}]}},"sort":[{"status":"desc"},{"path.keyword":"asc"}],"size":3,"from":1,"_source":["path"],"aggs":{"by_status":{"terms":{"field":"status"}}}}`
	r = s.Do(t, "POST", "/web/_search", tok, tenant, q)
	mustStatus(t, r, 200)
	m = r.JSON(t)
	hits := get(t, m, "hits.hits").([]any)
	if len(hits) != 3 || get(t, m, "hits.total.value").(float64) != 18 {
		t.Fatalf("search: %s", r.Body)
	}
	first := hits[0].(map[string]any)
	if first["_index"] != "web" || first["_source"].(map[string]any)["msg"] != nil || first["_source"].(map[string]any)["path"] == nil {
		t.Fatalf("first hit: %v", first)
	}
	buckets := get(t, m, "aggregations.by_status.buckets").([]any)
	if len(buckets) != 2 {
		t.Fatalf("aggregation buckets: %s", r.Body)
	}
	r = s.Do(t, "GET", "/web/_search?q=msg:updated", tok, tenant, nil)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "hits.total.value").(float64) != 1 {
		t.Fatalf("q= search: %s", r.Body)
	}
	r = s.Do(t, "POST", "/web/_mget", tok, tenant, `{"ids":["1","29","nope"]}`)
	mustStatus(t, r, 200)
	docs := r.JSON(t)["docs"].([]any)
	if docs[0].(map[string]any)["found"] != true || docs[1].(map[string]any)["found"] != false || docs[2].(map[string]any)["found"] != false {
		t.Fatalf("mget: %s", r.Body)
	}
	r = s.Do(t, "POST", "/_msearch", tok, tenant, "{\"index\":\"web\"}\n{\"query\":{\"match_all\":{}},\"size\":0}\n{\"index\":\"missing\"}\n{}\n{\"index\":\"web\"}\n{\"query\":{\"nope\":{}}}\n")
	mustStatus(t, r, 200)
	resps := r.JSON(t)["responses"].([]any)
	if len(resps) != 3 || resps[0].(map[string]any)["status"].(float64) != 200 || resps[1].(map[string]any)["status"].(float64) != 404 || resps[2].(map[string]any)["status"].(float64) != 400 {
		t.Fatalf("msearch: %s", r.Body)
	}
	// Wildcards match within the tenant only.
	mustStatus(t, s.Do(t, "PUT", "/web/_doc/g", tok, "global", `{"msg":"request in global"}`), 201)
	r = s.Do(t, "POST", "/w*/_search", tok, tenant, `{"query":{"match":{"msg":"global"}}}`)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "hits.total.value").(float64) != 0 {
		t.Fatalf("wildcard search crossed tenants: %s", r.Body)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	s.Do(t, "GET", "/", tok, "", nil)
	s.Do(t, "GET", "/", "", "", nil)
	// Mixed methods on one keep-alive connection: labels must not alias
	// the request buffers Fiber reuses.
	for i := 0; i < 3; i++ {
		s.Do(t, "DELETE", "/nothere", tok, "analysts", nil)
		s.Do(t, "GET", "/nothere", tok, "analysts", nil)
		s.Do(t, "PUT", "/mx/_doc/1", tok, "analysts", `{"a":1}`)
		s.Do(t, "POST", "/mx/_search", tok, "analysts", `{}`)
	}
	r := s.Do(t, "GET", "/metrics", "", "", nil)
	mustStatus(t, r, 200)
	body := string(r.Body)
	for _, want := range []string{`tenantgate_http_requests_total{method="GET",route="/",status="200"} 1`, `status="401"`,
		`tenantgate_http_requests_total{method="PUT",route="/:index/_doc/:id",status="200"} 2`,
		`tenantgate_http_requests_total{method="DELETE",route="/:index",status="404"} 3`,
		`tenantgate_http_requests_total{method="POST",route="/:index/_search",status="200"} 3`,
		"tenantgate_http_request_duration_seconds_bucket",
		"tenantgate_audit_records_dropped_total 0", "tenantgate_audit_change_failures_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if r := s.Do(t, "GET", "/", tok, "", nil); r.Header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id on responses")
	}
}

// TestOptimisticConcurrency checks if_seq_no/if_primary_term on writes,
// deletes, updates and bulk items.
func TestOptimisticConcurrency(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	r := s.Do(t, "PUT", "/occ/_doc/1", tok, tenant, `{"v":1}`)
	mustStatus(t, r, 201)
	seq := int(r.JSON(t)["_seq_no"].(float64))
	stale := fmt.Sprintf("if_seq_no=%d&if_primary_term=1", seq+7)
	fresh := fmt.Sprintf("if_seq_no=%d&if_primary_term=1", seq)

	r = s.Do(t, "PUT", "/occ/_doc/1?"+stale, tok, tenant, `{"v":2}`)
	mustStatus(t, r, 409)
	if !strings.Contains(string(r.Body), "version_conflict_engine_exception") {
		t.Fatalf("stale write: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/occ/_update/1?"+stale, tok, tenant, `{"doc":{"v":3}}`), 409)
	mustStatus(t, s.Do(t, "DELETE", "/occ/_doc/1?"+stale, tok, tenant, nil), 409)
	mustStatus(t, s.Do(t, "PUT", "/occ/_doc/1?if_seq_no=0", tok, tenant, `{"v":2}`), 400)
	mustStatus(t, s.Do(t, "PUT", "/occ/_doc/missing?if_seq_no=0&if_primary_term=1", tok, tenant, `{"v":2}`), 409)
	bulk := fmt.Sprintf("{\"index\":{\"_index\":\"occ\",\"_id\":\"1\",\"if_seq_no\":%d,\"if_primary_term\":1}}\n{\"v\":9}\n", seq+7)
	r = s.Do(t, "POST", "/_bulk", tok, tenant, bulk)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"status":409`) {
		t.Fatalf("stale bulk item: %s", r.Body)
	}
	if r := s.Do(t, "GET", "/occ/_source/1", tok, tenant, nil); string(r.Body) != `{"v":1}` {
		t.Fatalf("a stale write changed the document: %s", r.Body)
	}
	r = s.Do(t, "PUT", "/occ/_doc/1?"+fresh, tok, tenant, `{"v":2}`)
	mustStatus(t, r, 200)
	next := int(r.JSON(t)["_seq_no"].(float64))
	mustStatus(t, s.Do(t, "PUT", "/occ/_doc/1?"+fresh, tok, tenant, `{"v":3}`), 409)
	mustStatus(t, s.Do(t, "DELETE", fmt.Sprintf("/occ/_doc/1?if_seq_no=%d&if_primary_term=1", next), tok, tenant, nil), 200)
}

func TestDeleteByQueryAndCatCount(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	var bulk strings.Builder
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{\"_index\":\"dbq\",\"_id\":\"%d\"}}\n{\"even\":%v}\n", i, i%2 == 0)
	}
	mustStatus(t, s.Do(t, "POST", "/_bulk", tok, tenant, bulk.String()), 200)
	mustStatus(t, s.Do(t, "PUT", "/other/_doc/1", tok, "executive", `{"even":true}`), 403)
	r := s.Do(t, "POST", "/dbq/_delete_by_query", tok, tenant, `{"query":{"term":{"even":true}}}`)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if m["deleted"].(float64) != 1250 || m["total"].(float64) != 1250 || m["batches"].(float64) < 2 {
		t.Fatalf("delete by query: %s", r.Body)
	}
	r = s.Do(t, "GET", "/_cat/count/dbq?format=json", tok, tenant, nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"count":"1250"`) {
		t.Fatalf("cat count: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/dbq/_delete_by_query", tok, tenant, `{}`), 400)
	mustStatus(t, s.Do(t, "POST", "/dbq/_delete_by_query", tok, "executive", `{"query":{"match_all":{}}}`), 403)
}

func TestRequestTimeout(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/tm/_doc/1", tok, "analysts", `{"a":"b"}`), 201)
	mustStatus(t, s.Do(t, "POST", "/tm/_search?timeout=5s", tok, "analysts", `{}`), 200)
	r := s.Do(t, "POST", "/tm/_search?timeout=1ns", tok, "analysts", `{}`)
	mustStatus(t, r, 504)
	if !strings.Contains(string(r.Body), "timeout_exception") {
		t.Fatalf("expired request: %s", r.Body)
	}
	r = s.Do(t, "POST", "/tm/_search?timeout=soon", tok, "analysts", `{}`)
	mustStatus(t, r, 400)
	mustStatus(t, s.Do(t, "POST", "/tm/_search", tok, "analysts", `{"timeout":"1ns"}`), 504)
	mustStatus(t, s.Do(t, "POST", "/tm/_search", tok, "analysts", `{"timeout":"10s"}`), 200)
	mustStatus(t, s.Do(t, "POST", "/tm/_search", tok, "analysts", `{"timeout":10}`), 400)
}

func TestTypedKeysAndExpandOptions(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	bulk := "{\"index\":{\"_index\":\"tk\"}}\n{\"host\":\"a\",\"n\":1,\"f\":1.5}\n{\"index\":{\"_index\":\"tk\"}}\n{\"host\":\"b\",\"n\":2,\"f\":2.5}\n"
	mustStatus(t, s.Do(t, "POST", "/_bulk", tok, tenant, bulk), 200)
	q := `{"size":0,"aggs":{"hosts":{"terms":{"field":"host.keyword"},"aggs":{"top":{"max":{"field":"n"}}}},"ns":{"terms":{"field":"n"}},"fs":{"terms":{"field":"f"}},"avg_n":{"avg":{"field":"n"}}}}`
	r := s.Do(t, "POST", "/tk/_search?typed_keys=true", tok, tenant, q)
	mustStatus(t, r, 200)
	aggs := r.JSON(t)["aggregations"].(map[string]any)
	for _, k := range []string{"sterms#hosts", "lterms#ns", "dterms#fs", "avg#avg_n"} {
		if _, ok := aggs[k]; !ok {
			t.Fatalf("typed aggregations lack %s: %v", k, aggs)
		}
	}
	bucket := aggs["sterms#hosts"].(map[string]any)["buckets"].([]any)[0].(map[string]any)
	if _, ok := bucket["max#top"]; !ok {
		t.Fatalf("sub-aggregation not typed: %v", bucket)
	}
	r = s.Do(t, "POST", "/tk/_search", tok, tenant, q)
	if _, ok := r.JSON(t)["aggregations"].(map[string]any)["hosts"]; !ok {
		t.Fatalf("untyped aggregations: %s", r.Body)
	}
	// Index expression options.
	mustStatus(t, s.Do(t, "POST", "/tk,missing/_search", tok, tenant, `{}`), 404)
	r = s.Do(t, "POST", "/tk,missing/_search?ignore_unavailable=true", tok, tenant, `{}`)
	mustStatus(t, r, 200)
	if get(t, r.JSON(t), "hits.total.value").(float64) != 2 {
		t.Fatalf("ignore_unavailable: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/nomatch*/_search", tok, tenant, `{}`), 200)
	mustStatus(t, s.Do(t, "POST", "/nomatch*/_search?allow_no_indices=false", tok, tenant, `{}`), 404)
	r = s.Do(t, "POST", "/t*/_search?expand_wildcards=none", tok, tenant, `{}`)
	if get(t, r.JSON(t), "hits.total.value").(float64) != 0 {
		t.Fatalf("expand_wildcards=none: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/t*/_search?expand_wildcards=sideways", tok, tenant, `{}`), 400)
	mustStatus(t, s.Do(t, "POST", "/tk/_search?df=host", tok, tenant, `{}`), 400)
	r = s.Do(t, "POST", "/_msearch?typed_keys=true", tok, tenant, "{\"index\":\"tk,missing\",\"ignore_unavailable\":true}\n{\"size\":0,\"aggs\":{\"m\":{\"min\":{\"field\":\"n\"}}}}\n")
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"min#m"`) || !strings.Contains(string(r.Body), `"status":200`) {
		t.Fatalf("msearch typed/ignore_unavailable: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "POST", "/_msearch", tok, tenant, "{\"index\":\"tk\",\"colour\":\"red\"}\n{}\n"), 400)
}

func TestFilterPath(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/fp/_doc/1", tok, "analysts", `{"a":{"b":1,"c":2},"d":3}`), 201)
	cases := map[string]string{
		"hits.hits._id":         `{"hits":{"hits":[{"_id":"1"}]}}`,
		"hits.total.value,took": "", // took varies: checked below
		"hits.hits._source.a.b": `{"hits":{"hits":[{"_source":{"a":{"b":1}}}]}}`,
		"**.b":                  `{"hits":{"hits":[{"_source":{"a":{"b":1}}}]}}`,
		"hits.hits._source.*":   `{"hits":{"hits":[{"_source":{"a":{"b":1,"c":2},"d":3}}]}}`,
		"-took,-timed_out,-_shards,-hits.max_score,-hits.total,-hits.hits._score,-hits.hits._index,-hits.hits._source.a": `{"hits":{"hits":[{"_id":"1","_source":{"d":3}}]}}`,
		"nothing.here": `{}`,
	}
	for fp, want := range cases {
		r := s.Do(t, "GET", "/fp/_search?filter_path="+fp, tok, "analysts", nil)
		mustStatus(t, r, 200)
		if want == "" {
			m := r.JSON(t)
			if len(m) != 2 || get(t, m, "hits.total.value").(float64) != 1 {
				t.Errorf("filter_path=%s: %s", fp, r.Body)
			}
			continue
		}
		if string(r.Body) != want {
			t.Errorf("filter_path=%s: %s, want %s", fp, r.Body, want)
		}
	}
}

func TestCatColumnsAndSort(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	for i, name := range []string{"b-idx", "a-idx", "c-idx"} {
		for j := 0; j <= i; j++ {
			mustStatus(t, s.Do(t, "POST", "/"+name+"/_doc", tok, "analysts", `{"x":1}`), 201)
		}
	}
	r := s.Do(t, "GET", "/_cat/indices?h=index,docs.count&s=docs.count:desc&v", tok, "analysts", nil)
	mustStatus(t, r, 200)
	lines := strings.Split(strings.TrimSpace(string(r.Body)), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "index") || !strings.HasPrefix(lines[1], "c-idx") || !strings.HasPrefix(lines[3], "b-idx") {
		t.Fatalf("cat with h, s, v: %q", r.Body)
	}
	r = s.Do(t, "GET", "/_cat/indices?format=json&h=index", tok, "analysts", nil)
	if string(r.Body) != `[{"index":"a-idx"},{"index":"b-idx"},{"index":"c-idx"}]` {
		t.Fatalf("cat json with h: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "GET", "/_cat/indices?h=colour", tok, "analysts", nil), 400)
	mustStatus(t, s.Do(t, "GET", "/_cat/indices?s=colour", tok, "analysts", nil), 400)
	mustStatus(t, s.Do(t, "GET", "/_cat/indices?bytes=zb", tok, "analysts", nil), 400)
	r = s.Do(t, "GET", "/_cat/count/?v", tok, "analysts", nil)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), "epoch") || !strings.HasSuffix(strings.TrimSpace(string(r.Body)), " 6") {
		t.Fatalf("cat count: %q", r.Body)
	}
}

func TestSourceFilteringVersionsAndShardFailures(t *testing.T) {
	s := testserver.Start(t)
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	mustStatus(t, s.Do(t, "PUT", "/sf/_doc/1", tok, tenant, `{"a":{"b":1,"c":2},"d":"x"}`), 201)
	mustStatus(t, s.Do(t, "PUT", "/sf/_doc/1", tok, tenant, `{"a":{"b":1,"c":2},"d":"x"}`), 200)
	cases := map[string]string{
		"/sf/_source/1?_source=a.b":                             `{"a":{"b":1}}`,
		"/sf/_source/1?_source_includes=a&_source_excludes=a.c": `{"a":{"b":1}}`,
		"/sf/_source/1?_source_excludes=a":                      `{"d":"x"}`,
	}
	for path, want := range cases {
		r := s.Do(t, "GET", path, tok, tenant, nil)
		if r.Status != 200 || string(r.Body) != want {
			t.Errorf("GET %s = %d %s, want %s", path, r.Status, r.Body, want)
		}
	}
	r := s.Do(t, "GET", "/sf/_doc/1?_source=false", tok, tenant, nil)
	if m := r.JSON(t); m["_source"] != nil || m["found"] != true {
		t.Errorf("_source=false: %s", r.Body)
	}
	r = s.Do(t, "POST", "/_mget?_source=d", tok, tenant, `{"docs":[{"_index":"sf","_id":"1"},{"_index":"sf","_id":"1","_source":["a.c"]},{"_index":"sf","_id":"1","_source":false}]}`)
	mustStatus(t, r, 200)
	if !strings.Contains(string(r.Body), `"_source":{"d":"x"}`) || !strings.Contains(string(r.Body), `"_source":{"a":{"c":2}}`) || strings.Count(string(r.Body), `"_source"`) != 2 {
		t.Errorf("mget source filtering: %s", r.Body)
	}
	// version and seq_no_primary_term on hits.
	r = s.Do(t, "POST", "/sf/_search?seq_no_primary_term=true", tok, tenant, `{"version":true}`)
	mustStatus(t, r, 200)
	hit := get(t, r.JSON(t), "hits.hits").([]any)[0].(map[string]any)
	if hit["_version"].(float64) != 2 || hit["_seq_no"] == nil || hit["_primary_term"].(float64) != 1 {
		t.Errorf("hit versions: %v", hit)
	}
	// A query that fails on one index of two is a shard failure, named by
	// its logical index.
	mustStatus(t, s.Do(t, "PUT", "/sf2/_doc/1", tok, tenant, `{"d":5}`), 201)
	r = s.Do(t, "POST", "/sf,sf2/_search", tok, tenant, `{"query":{"term":{"d":"x"}}}`)
	mustStatus(t, r, 200)
	m := r.JSON(t)
	if get(t, m, "_shards.total").(float64) != 2 || get(t, m, "_shards.failed").(float64) != 1 || get(t, m, "hits.total.value").(float64) != 1 {
		t.Errorf("shard failure: %s", r.Body)
	}
	if strings.Contains(string(r.Body), physicalSuffix) || !strings.Contains(string(r.Body), `"index":"sf2"`) {
		t.Errorf("shard failure names: %s", r.Body)
	}
	// track_scores keeps scores when sorting by a field.
	r = s.Do(t, "POST", "/sf/_search?track_scores=true", tok, tenant, `{"query":{"match":{"d":"x"}},"sort":[{"a.b":"asc"}]}`)
	mustStatus(t, r, 200)
	if hit := get(t, r.JSON(t), "hits.hits").([]any)[0].(map[string]any); hit["_score"] == nil {
		t.Errorf("track_scores: %s", r.Body)
	}
}

func TestTenancyConfig(t *testing.T) {
	s := testserver.Start(t, func(c *config.Config) { c.Multitenancy.Preferred = []string{"executive", "analysts"} })
	r := s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", testserver.Token(t, "carol"), "", nil)
	mustStatus(t, r, 200)
	want := map[string]any{"default_tenant": "global", "global_tenant_enabled": true, "multitenancy_enabled": true,
		"preferred_tenants": []any{"executive", "analysts"}, "private_tenant_enabled": true}
	if got := r.JSON(t); !reflect.DeepEqual(got, want) {
		t.Fatalf("tenancy config: %s", r.Body)
	}
	mustStatus(t, s.Do(t, "GET", "/_plugins/_security/api/tenancy/config", "", "", nil), 401)
}
