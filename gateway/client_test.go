package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"
	"github.com/opensearch-project/opensearch-go/v4/opensearchutil"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// tenantTransport is what a user of the official client writes: a
// RoundTripper that adds the bearer token and the securitytenant header.
// The tenant can be switched between requests. It records every request
// the client sends (the client may send some of its own, such as health
// checks), so a failure can name them.
type tenantTransport struct {
	token  string
	tenant atomic.Value // string
	next   http.RoundTripper

	mu   sync.Mutex
	seen []string
}

func (tt *tenantTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tt.token)
	tenant := tt.tenant.Load().(string)
	req.Header.Set("securitytenant", tenant)
	resp, err := tt.next.RoundTrip(req)
	status := "error"
	if resp != nil {
		status = fmt.Sprint(resp.StatusCode)
	}
	tt.mu.Lock()
	tt.seen = append(tt.seen, fmt.Sprintf("[%s] %s %s -> %s", tenant, req.Method, req.URL.RequestURI(), status))
	tt.mu.Unlock()
	return resp, err
}

func (tt *tenantTransport) log() string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return strings.Join(tt.seen, "\n")
}

func newOpenSearchClient(t *testing.T, s *testserver.Server, token, tenant string) (*opensearchapi.Client, *tenantTransport) {
	t.Helper()
	tt := &tenantTransport{token: token, next: http.DefaultTransport.(*http.Transport).Clone()}
	tt.tenant.Store(tenant)
	c, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses:      []string{s.URL},
		Transport:      tt,
		RequestTimeout: 30 * time.Second,
	}})
	if err != nil {
		t.Fatalf("opensearchapi.NewClient: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		if t.Failed() {
			t.Logf("requests sent by the client:\n%s", tt.log())
		}
	})
	return c, tt
}

// TestOfficialGoClient drives tenantgate with opensearch-go v4 exactly as a
// user would: typed requests, typed responses, the client's own error
// decoding.
func TestOfficialGoClient(t *testing.T) {
	s := testserver.Start(t)
	ctx := context.Background()
	client, tt := newOpenSearchClient(t, s, testserver.Token(t, "alice", "analyst"), "analysts")

	// Info.
	info, err := client.Info(ctx, nil)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.Version.Distribution != "opensearch" || info.Version.Number == "" || info.Name == "" || info.ClusterName == "" {
		t.Fatalf("Info: %+v", info)
	}

	// Create an index with a mapping.
	const idx = "books"
	created, err := client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{
		Index: idx,
		Body: strings.NewReader(`{"mappings":{"properties":{
			"title":{"type":"text"},
			"genre":{"type":"keyword"},
			"pages":{"type":"integer"},
			"published":{"type":"date"}}}}`),
	})
	if err != nil {
		t.Fatalf("Indices.Create: %v", err)
	}
	if !created.Acknowledged || created.Index != idx {
		t.Fatalf("Indices.Create: %+v", created)
	}
	exists, err := client.Indices.Exists(ctx, opensearchapi.IndicesExistsReq{Indices: []string{idx}})
	if err != nil || exists.StatusCode != 200 {
		t.Fatalf("Indices.Exists: %v %v", exists, err)
	}

	type book struct {
		Title     string `json:"title"`
		Genre     string `json:"genre"`
		Pages     int    `json:"pages"`
		Published string `json:"published"`
	}
	enc := func(b book) []byte {
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}

	// Index, with an id and without one.
	ires, err := client.Index(ctx, opensearchapi.IndexReq{
		Index: idx, DocumentID: "1",
		Body:   bytes.NewReader(enc(book{"Dune", "scifi", 412, "1965-08-01"})),
		Params: opensearchapi.IndexParams{Refresh: "true"},
	})
	if err != nil {
		t.Fatalf("Index: %v", err)
	}
	if ires.Result != "created" || ires.ID != "1" || ires.Index != idx || ires.Version != 1 || ires.Shards.Successful != 1 {
		t.Fatalf("Index: %+v", ires)
	}
	ires, err = client.Index(ctx, opensearchapi.IndexReq{
		Index: idx,
		Body:  bytes.NewReader(enc(book{"Emma", "classic", 474, "1815-12-23"})),
	})
	if err != nil {
		t.Fatalf("Index without id: %v", err)
	}
	if ires.Result != "created" || ires.ID == "" {
		t.Fatalf("Index without id: %+v", ires)
	}
	emmaID := ires.ID

	// Bulk with the client's bulk API.
	var nd bytes.Buffer
	for i, b := range []book{
		{"Neuromancer", "scifi", 271, "1984-07-01"},
		{"Persuasion", "classic", 249, "1817-12-20"},
		{"Hyperion", "scifi", 482, "1989-05-26"},
	} {
		fmt.Fprintf(&nd, `{"index":{"_id":"b%d"}}`+"\n%s\n", i, enc(b))
	}
	nd.WriteString(`{"create":{"_index":"books","_id":"1"}}` + "\n" + `{"title":"dup"}` + "\n")
	bres, err := client.Bulk(ctx, opensearchapi.BulkReq{Index: idx, Body: &nd, Params: opensearchapi.BulkParams{Refresh: "true"}})
	if err != nil {
		t.Fatalf("Bulk: %v", err)
	}
	if !bres.Errors || len(bres.Items) != 4 {
		t.Fatalf("Bulk: errors=%v items=%+v", bres.Errors, bres.Items)
	}
	for i, item := range bres.Items[:3] {
		it, ok := item["index"]
		if !ok || it.Status != 201 || it.Result != "created" || it.ID != fmt.Sprintf("b%d", i) || it.Index != idx || it.Error != nil {
			t.Errorf("Bulk item %d: %+v", i, item)
		}
	}
	if it := bres.Items[3]["create"]; it.Status != 409 || it.Error == nil || it.Error.Type != "version_conflict_engine_exception" {
		t.Errorf("Bulk create of an existing id: %+v", bres.Items[3])
	}

	// Bulk with opensearchutil.BulkIndexer.
	var okCount, failCount atomic.Int64
	bi, err := opensearchutil.NewBulkIndexer(opensearchutil.BulkIndexerConfig{
		Client:     client,
		Index:      idx,
		NumWorkers: 2,
		FlushBytes: 512,
		OnError:    func(_ context.Context, err error) { t.Errorf("BulkIndexer: %v", err) },
	})
	if err != nil {
		t.Fatalf("NewBulkIndexer: %v", err)
	}
	const nIndexer = 20
	for i := range nIndexer {
		err := bi.Add(ctx, opensearchutil.BulkIndexerItem{
			Action:     "index",
			DocumentID: fmt.Sprintf("bi%02d", i),
			Body:       bytes.NewReader(enc(book{fmt.Sprintf("Volume %d", i), "serial", 100 + i, "2001-01-01"})),
			OnSuccess: func(context.Context, opensearchutil.BulkIndexerItem, opensearchapi.BulkRespItem) {
				okCount.Add(1)
			},
			OnFailure: func(_ context.Context, item opensearchutil.BulkIndexerItem, res opensearchapi.BulkRespItem, err error) {
				failCount.Add(1)
				t.Errorf("BulkIndexer item %s: %+v %v", item.DocumentID, res, err)
			},
		})
		if err != nil {
			t.Fatalf("BulkIndexer.Add: %v", err)
		}
	}
	if err := bi.Close(ctx); err != nil {
		t.Fatalf("BulkIndexer.Close: %v", err)
	}
	st := bi.Stats()
	if okCount.Load() != nIndexer || failCount.Load() != 0 || st.NumFailed != 0 || st.NumIndexed != nIndexer || st.NumAdded != nIndexer {
		t.Fatalf("BulkIndexer: ok=%d failed=%d stats=%+v", okCount.Load(), failCount.Load(), st)
	}
	const total = 2 + 3 + nIndexer

	// Refresh, as client code does after a BulkIndexer (which does not ask
	// for refresh). tenantgate needs none, but must accept the call.
	rres, err := client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{idx}})
	if err != nil {
		t.Fatalf("Indices.Refresh: %v", err)
	}
	var rshards opensearchapi.ResponseShards
	if err := json.Unmarshal(rres.Shards, &rshards); err != nil || rshards.Total != 1 || rshards.Successful != 1 || rshards.Failed != 0 {
		t.Fatalf("Indices.Refresh _shards: %s %v", rres.Shards, err)
	}
	if _, err := client.Indices.Refresh(ctx, nil); err != nil {
		t.Fatalf("Indices.Refresh of all indices: %v", err)
	}
	_, err = client.Indices.Refresh(ctx, &opensearchapi.IndicesRefreshReq{Index: []string{"missing"}})
	var nf *opensearch.StructError
	if !errors.As(err, &nf) || nf.Status != 404 || nf.Err.Type != "index_not_found_exception" {
		t.Fatalf("Indices.Refresh of a missing index: %T %v", err, err)
	}

	// Get.
	gres, err := client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: idx, DocumentID: "1"})
	if err != nil {
		t.Fatalf("Document.Get: %v", err)
	}
	var got book
	if err := json.Unmarshal(gres.Source, &got); err != nil {
		t.Fatalf("Document.Get source: %v: %s", err, gres.Source)
	}
	if !gres.Found || gres.ID != "1" || gres.Index != idx || gres.Version != 1 || got.Title != "Dune" || got.Pages != 412 {
		t.Fatalf("Document.Get: %+v %+v", gres, got)
	}
	// A missing document: the client reports 404 as an error, with found=false.
	gres, err = client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: idx, DocumentID: "nope"})
	if err == nil || gres.Inspect().Response == nil || gres.Inspect().Response.StatusCode != 404 {
		t.Fatalf("Document.Get of a missing id: %+v %v", gres, err)
	}

	// Search with a query and aggregations, typed response.
	sres, err := client.Search(ctx, &opensearchapi.SearchReq{
		Indices: []string{idx},
		Body: strings.NewReader(`{
			"size": 10,
			"query": {"bool": {"must": [{"range": {"pages": {"gte": 250}}}], "must_not": [{"term": {"genre": "serial"}}]}},
			"sort": [{"pages": {"order": "desc"}}],
			"aggs": {
				"genres": {"terms": {"field": "genre"}, "aggs": {"avg_pages": {"avg": {"field": "pages"}}}},
				"max_pages": {"max": {"field": "pages"}}
			}
		}`),
	})
	if err != nil {
		t.Fatalf("Search: %v", err)
	}
	if sres.Hits.Total.Value != 4 || sres.Hits.Total.Relation != "eq" || len(sres.Hits.Hits) != 4 {
		t.Fatalf("Search hits: %+v", sres.Hits)
	}
	var titles []string
	for _, h := range sres.Hits.Hits {
		var b book
		if err := json.Unmarshal(h.Source, &b); err != nil {
			t.Fatalf("Search hit source: %v: %s", err, h.Source)
		}
		if h.Index != idx || h.ID == "" {
			t.Errorf("Search hit: %+v", h)
		}
		titles = append(titles, b.Title)
	}
	if want := []string{"Hyperion", "Emma", "Dune", "Neuromancer"}; !slices.Equal(titles, want) {
		t.Errorf("Search order: %v, want %v", titles, want)
	}
	if sres.Shards.Total != 1 || sres.Shards.Successful != 1 || sres.Timeout {
		t.Errorf("Search shards/timeout: %+v %v", sres.Shards, sres.Timeout)
	}
	var aggs struct {
		Genres struct {
			Buckets []struct {
				Key      string `json:"key"`
				DocCount int    `json:"doc_count"`
				AvgPages struct {
					Value float64 `json:"value"`
				} `json:"avg_pages"`
			} `json:"buckets"`
		} `json:"genres"`
		MaxPages struct {
			Value float64 `json:"value"`
		} `json:"max_pages"`
	}
	if err := json.Unmarshal(sres.Aggregations, &aggs); err != nil {
		t.Fatalf("Search aggregations: %v: %s", err, sres.Aggregations)
	}
	if aggs.MaxPages.Value != 482 || len(aggs.Genres.Buckets) != 2 {
		t.Fatalf("Search aggregations: %s", sres.Aggregations)
	}
	for _, b := range aggs.Genres.Buckets {
		switch b.Key {
		case "scifi": // Dune 412, Neuromancer 271, Hyperion 482
			if b.DocCount != 3 || b.AvgPages.Value != (412.0+271+482)/3 {
				t.Errorf("scifi bucket: %+v", b)
			}
		case "classic": // Emma 474 (Persuasion has 249 pages)
			if b.DocCount != 1 || b.AvgPages.Value != 474 {
				t.Errorf("classic bucket: %+v", b)
			}
		default:
			t.Errorf("unexpected bucket: %+v", b)
		}
	}

	// Count: everything, and with a query.
	cres, err := client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{idx}})
	if err != nil {
		t.Fatalf("Indices.Count: %v", err)
	}
	if cres.Count != total {
		t.Fatalf("Indices.Count = %d, want %d", cres.Count, total)
	}
	cres, err = client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{
		Indices: []string{idx},
		Body:    strings.NewReader(`{"query":{"term":{"genre":"scifi"}}}`),
	})
	if err != nil {
		t.Fatalf("Indices.Count with query: %v", err)
	}
	if cres.Count != 3 {
		t.Fatalf("Indices.Count scifi = %d, want 3", cres.Count)
	}

	// MGet.
	mres, err := client.MGet(ctx, opensearchapi.MGetReq{Index: idx, Body: strings.NewReader(`{"ids":["1","` + emmaID + `","missing"]}`)})
	if err != nil {
		t.Fatalf("MGet: %v", err)
	}
	if len(mres.Docs) != 3 || !mres.Docs[0].Found || !mres.Docs[1].Found || mres.Docs[2].Found ||
		mres.Docs[0].ID != "1" || mres.Docs[1].ID != emmaID || mres.Docs[2].ID != "missing" {
		t.Fatalf("MGet: %+v", mres.Docs)
	}
	if !strings.Contains(string(mres.Docs[1].Source), `"Emma"`) {
		t.Fatalf("MGet source: %s", mres.Docs[1].Source)
	}

	// MSearch.
	msres, err := client.MSearch(ctx, opensearchapi.MSearchReq{
		Body: strings.NewReader(`{"index":"books"}
{"query":{"match":{"title":"dune"}}}
{"index":"books"}
{"size":0,"query":{"term":{"genre":"serial"}},"aggs":{"n":{"value_count":{"field":"pages"}}}}
{"index":"missing"}
{}
`),
	})
	if err != nil {
		t.Fatalf("MSearch: %v", err)
	}
	if len(msres.Responses) != 3 {
		t.Fatalf("MSearch: %+v", msres.Responses)
	}
	if r := msres.Responses[0]; r.Status != 200 || r.Error != nil || r.Hits.Total.Value != 1 || len(r.Hits.Hits) != 1 || r.Hits.Hits[0].ID != "1" {
		t.Errorf("MSearch[0]: %+v", r)
	}
	if r := msres.Responses[1]; r.Status != 200 || r.Hits.Total.Value != nIndexer || len(r.Hits.Hits) != 0 ||
		!strings.Contains(string(r.Aggregations), fmt.Sprintf(`"value":%d`, nIndexer)) {
		t.Errorf("MSearch[1]: %+v aggs=%s", r, r.Aggregations)
	}
	if r := msres.Responses[2]; r.Status != 404 || r.Error == nil || r.Error.Type != "index_not_found_exception" {
		t.Errorf("MSearch[2] on a missing index: %+v", r)
	}

	// Update.
	ures, err := client.Update(ctx, opensearchapi.UpdateReq{
		Index: idx, DocumentID: "1",
		Body: strings.NewReader(`{"doc":{"pages":999}}`),
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if ures.Result != "updated" || ures.Version != 2 || ures.ID != "1" {
		t.Fatalf("Update: %+v", ures)
	}
	gres, err = client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: idx, DocumentID: "1"})
	if err != nil {
		t.Fatalf("Document.Get after update: %v", err)
	}
	if err := json.Unmarshal(gres.Source, &got); err != nil || got.Pages != 999 || got.Title != "Dune" || gres.Version != 2 {
		t.Fatalf("Document.Get after update: %+v %s %v", gres, gres.Source, err)
	}

	// Delete a document.
	dres, err := client.Document.Delete(ctx, opensearchapi.DocumentDeleteReq{Index: idx, DocumentID: "b1"})
	if err != nil {
		t.Fatalf("Document.Delete: %v", err)
	}
	if dres.Result != "deleted" || dres.ID != "b1" {
		t.Fatalf("Document.Delete: %+v", dres)
	}
	cres, err = client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{idx}})
	if err != nil || cres.Count != total-1 {
		t.Fatalf("Indices.Count after delete: %+v %v", cres, err)
	}

	// Cat indices: typed rows.
	if _, err := client.Indices.Create(ctx, opensearchapi.IndicesCreateReq{Index: "scratch"}); err != nil {
		t.Fatalf("Indices.Create scratch: %v", err)
	}
	cat, err := client.Cat.Indices(ctx, nil)
	if err != nil {
		t.Fatalf("Cat.Indices: %v", err)
	}
	var names []string
	for _, row := range cat.Indices {
		names = append(names, row.Index)
		if row.Index == idx && (row.DocsCount == nil || *row.DocsCount != total-1 || row.Health == "" || row.Status != "open") {
			t.Errorf("Cat.Indices row: %+v (docs.count %v)", row, row.DocsCount)
		}
	}
	if !slices.Equal(names, []string{idx, "scratch"}) {
		t.Fatalf("Cat.Indices names: %v", names)
	}

	// Delete an index.
	delres, err := client.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{"scratch"}})
	if err != nil {
		t.Fatalf("Indices.Delete: %v", err)
	}
	if !delres.Acknowledged {
		t.Fatalf("Indices.Delete: %+v", delres)
	}
	exists, err = client.Indices.Exists(ctx, opensearchapi.IndicesExistsReq{Indices: []string{"scratch"}})
	if exists == nil || exists.StatusCode != 404 {
		t.Fatalf("Indices.Exists after delete: %v %v", exists, err)
	}

	// Switch the same client to "executive", where alice may only read.
	tt.tenant.Store("executive")
	ires, err = client.Index(ctx, opensearchapi.IndexReq{
		Index: idx, DocumentID: "x",
		Body: bytes.NewReader(enc(book{"Leak", "scifi", 1, "2020-01-01"})),
	})
	var osErr *opensearch.StructError
	if !errors.As(err, &osErr) {
		t.Fatalf("write in executive: want *opensearch.StructError, got %T %v (response %+v)", err, err, ires)
	}
	if osErr.Status != 403 || osErr.Err.Type != "security_exception" || !strings.Contains(osErr.Err.Reason, "executive") ||
		len(osErr.Err.RootCause) == 0 || osErr.Err.RootCause[0].Type != "security_exception" {
		t.Fatalf("write in executive: %+v", osErr)
	}
	if resp := ires.Inspect().Response; resp == nil || resp.StatusCode != 403 {
		t.Fatalf("write in executive: response %+v", resp)
	}
	_, err = client.Bulk(ctx, opensearchapi.BulkReq{Index: idx, Body: strings.NewReader(`{"index":{}}` + "\n" + `{"a":1}` + "\n")})
	if !errors.As(err, &osErr) || osErr.Status != 403 || osErr.Err.Type != "security_exception" {
		t.Fatalf("bulk in executive: %T %v", err, err)
	}
	// POST _refresh is classified as a write, like every POST but the
	// search family.
	_, err = client.Indices.Refresh(ctx, nil)
	if !errors.As(err, &osErr) || osErr.Status != 403 || osErr.Err.Type != "security_exception" {
		t.Fatalf("refresh in executive: %T %v", err, err)
	}

	// Nothing written in "analysts" is visible from "executive".
	if _, err := client.Info(ctx, nil); err != nil {
		t.Fatalf("Info in executive: %v", err)
	}
	cat, err = client.Cat.Indices(ctx, nil)
	if err != nil {
		t.Fatalf("Cat.Indices in executive: %v", err)
	}
	if len(cat.Indices) != 0 {
		t.Fatalf("executive sees indices of analysts: %+v", cat.Indices)
	}
	sres, err = client.Search(ctx, &opensearchapi.SearchReq{Body: strings.NewReader(`{"query":{"match_all":{}}}`)})
	if err != nil {
		t.Fatalf("Search all in executive: %v", err)
	}
	if sres.Hits.Total.Value != 0 || len(sres.Hits.Hits) != 0 {
		t.Fatalf("executive sees documents of analysts: %+v", sres.Hits)
	}
	gres, err = client.Document.Get(ctx, opensearchapi.DocumentGetReq{Index: idx, DocumentID: "1"})
	if !errors.As(err, &osErr) || osErr.Status != 404 {
		t.Fatalf("Document.Get in executive: want a 404 error, got %T %v (%+v)", err, err, gres)
	}
	if len(gres.Source) != 0 && string(gres.Source) != "null" {
		t.Fatalf("Document.Get in executive leaked a source: %s", gres.Source)
	}
	mres, err = client.MGet(ctx, opensearchapi.MGetReq{Body: strings.NewReader(`{"docs":[{"_index":"books","_id":"1"}]}`)})
	if err != nil {
		t.Fatalf("MGet in executive: %v", err)
	}
	for _, d := range mres.Docs {
		if d.Found || (len(d.Source) != 0 && string(d.Source) != "null") {
			t.Fatalf("MGet in executive leaked: %+v", d)
		}
	}
	exists, err = client.Indices.Exists(ctx, opensearchapi.IndicesExistsReq{Indices: []string{idx}})
	if exists == nil || exists.StatusCode != 404 {
		t.Fatalf("Indices.Exists in executive: %v %v", exists, err)
	}

	// Back in analysts everything is still there; delete the index.
	tt.tenant.Store("analysts")
	cres, err = client.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{idx}})
	if err != nil || cres.Count != total-1 {
		t.Fatalf("Indices.Count back in analysts: %+v %v", cres, err)
	}

	// The other way to configure the client: static headers in its Config.
	hc, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{
		Addresses: []string{s.URL},
		Header: http.Header{
			"Authorization":  []string{"Bearer " + tt.token},
			"Securitytenant": []string{"analysts"},
		},
	}})
	if err != nil {
		t.Fatalf("NewClient with Header: %v", err)
	}
	defer hc.Close()
	cres, err = hc.Indices.Count(ctx, &opensearchapi.IndicesCountReq{Indices: []string{idx}})
	if err != nil || cres.Count != total-1 {
		t.Fatalf("Indices.Count with Header config: %+v %v", cres, err)
	}
	delres, err = client.Indices.Delete(ctx, opensearchapi.IndicesDeleteReq{Indices: []string{idx}})
	if err != nil || !delres.Acknowledged {
		t.Fatalf("Indices.Delete %s: %+v %v", idx, delres, err)
	}
	t.Logf("requests sent by the client:\n%s", tt.log())
}
