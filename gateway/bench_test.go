//go:build unix

// Benchmarks of the gateway against the layers below it, measured in the
// same process so that a shared, noisy machine affects both sides alike:
//
//   - BenchmarkSearch: _search over loopback against index/bleve's
//     Backend.Search in-process and against the raw Bleve library.
//   - BenchmarkBulk: POST /_bulk over loopback against Backend.Apply and
//     against a raw Bleve batch.
//
// The data set is web-log-like and deterministic (logDocs). Process CPU
// comes from getrusage, hence the unix build constraint.

package gateway_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/valyala/fasthttp"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// ---------------------------------------------------------------------------
// Data set

const (
	// datasetSize is the number of documents generated; the search
	// tenants and the bulk batches take prefixes of them.
	datasetSize = 100_000
	// setupBatch is the number of documents per _bulk request (and per
	// raw Bleve batch) when a search tenant is loaded.
	setupBatch = 5000
	// benchTenant and benchIndex hold the search data.
	benchTenant = "analysts"
	benchIndex  = "logs"
	// datasetStart is the timestamp of the first document; each next one
	// is 5–45 s later, so 100k documents span about 35 days.
	datasetStartUnix = 1704067200 // 2024-01-01T00:00:00Z
)

// logMappingJSON is the mapping of the benchmark index: explicit and
// strict, so that every document has exactly these five fields and the raw
// Bleve index (rawLogMapping) can mirror it.
const logMappingJSON = `{"dynamic":"strict","properties":{` +
	`"@timestamp":{"type":"date"},"host":{"type":"keyword"},"status":{"type":"integer"},` +
	`"bytes":{"type":"long"},"message":{"type":"text"}}}`

// logDoc is one generated document.
type logDoc struct {
	id  string
	raw []byte // the JSON source
	ts  time.Time
}

var dataset struct {
	once  sync.Once
	docs  []logDoc
	vocab []string
}

// logDocs returns the data set: datasetSize web-log-like documents built
// from a fixed seed, generated once per process. Each has a message of 8–12
// words drawn with a Zipf distribution from a 1,000-word vocabulary, an
// HTTP status (integer), a byte count (long), a timestamp (date) and a host
// (keyword).
func logDocs() ([]logDoc, []string) {
	dataset.once.Do(func() {
		rng := rand.New(rand.NewPCG(20240101, 42))
		syl := []string{"ka", "lo", "mi", "ne", "ru", "ta", "so", "vi", "de", "pa", "zu", "fe", "gi", "ho", "ja", "bo", "ce", "wy", "xo", "qu"}
		vocab := make([]string, 0, 1000)
		for i := 0; len(vocab) < 1000; i++ {
			w := syl[i%20] + syl[(i/20)%20]
			if i >= 400 {
				w += syl[(i/400)%20]
			}
			vocab = append(vocab, w)
		}
		zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
		statuses := []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 301, 304, 304, 400, 403, 404, 404, 500}
		docs := make([]logDoc, datasetSize)
		ts := time.Unix(datasetStartUnix, 0).UTC()
		var buf bytes.Buffer
		for i := range docs {
			ts = ts.Add(time.Duration(5000+rng.IntN(40000)) * time.Millisecond)
			buf.Reset()
			buf.WriteString(`{"@timestamp":"`)
			buf.WriteString(ts.Format("2006-01-02T15:04:05.000Z"))
			buf.WriteString(`","host":"web-`)
			buf.WriteString(strconv.Itoa(1 + rng.IntN(20)))
			buf.WriteString(`","status":`)
			buf.WriteString(strconv.Itoa(statuses[rng.IntN(len(statuses))]))
			buf.WriteString(`,"bytes":`)
			buf.WriteString(strconv.Itoa(int(rng.ExpFloat64() * 8000)))
			buf.WriteString(`,"message":"`)
			for w := range 8 + rng.IntN(5) {
				if w > 0 {
					buf.WriteByte(' ')
				}
				buf.WriteString(vocab[zipf.Uint64()])
			}
			buf.WriteString(`"}`)
			docs[i] = logDoc{id: fmt.Sprintf("d%06d", i), raw: bytes.Clone(buf.Bytes()), ts: ts}
		}
		dataset.docs, dataset.vocab = docs, vocab
	})
	return dataset.docs, dataset.vocab
}

// bulkBody returns the NDJSON body indexing docs under ids prefix+index.
func bulkBody(docs []logDoc, prefix string) []byte {
	var b bytes.Buffer
	for _, d := range docs {
		b.WriteString(`{"index":{"_id":"`)
		b.WriteString(prefix)
		b.WriteString(d.id)
		b.WriteString("\"}}\n")
		b.Write(d.raw)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ---------------------------------------------------------------------------
// Raw Bleve: the same documents and queries without tenantgate.

// rawLogMapping is the raw Bleve mapping closest to what index/bleve builds
// for logMappingJSON (see index/bleve/layout.go): BM25; message analyzed by
// a unicode tokenizer + lower case with term vectors, not stored; status and
// bytes numeric with doc values; @timestamp date-time with doc values; host
// one keyword term with doc values; _source stored only. What tenantgate
// writes in addition per document, and the raw index does not, is _version
// and _seq_no (numeric, indexed, stored, doc values) and one _field_names
// term per field.
func rawLogMapping() *mapping.IndexMappingImpl {
	im := bleve.NewIndexMapping()
	if _, ok := bindex.SupportedScoringModels[bindex.BM25Scoring]; ok {
		im.ScoringModel = bindex.BM25Scoring
	}
	if err := im.AddCustomAnalyzer("os_standard", map[string]any{
		"type": "custom", "tokenizer": unicode.Name, "token_filters": []any{lowercase.Name},
	}); err != nil {
		panic(err)
	}
	im.DefaultAnalyzer = "os_standard"
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	dm := bleve.NewDocumentStaticMapping()
	exact := func(f *mapping.FieldMapping) *mapping.FieldMapping {
		f.Store, f.DocValues, f.IncludeInAll, f.IncludeTermVectors = false, true, false, false
		return f
	}
	msg := bleve.NewTextFieldMapping()
	msg.Analyzer, msg.Store, msg.DocValues, msg.IncludeInAll, msg.IncludeTermVectors = "os_standard", false, false, false, true
	dm.AddFieldMappingsAt("message", msg)
	dm.AddFieldMappingsAt("status", exact(bleve.NewNumericFieldMapping()))
	dm.AddFieldMappingsAt("bytes", exact(bleve.NewNumericFieldMapping()))
	dm.AddFieldMappingsAt("@timestamp", exact(bleve.NewDateTimeFieldMapping()))
	dm.AddFieldMappingsAt("host", exact(bleve.NewKeywordFieldMapping()))
	src := bleve.NewTextFieldMapping()
	src.Index, src.Store, src.DocValues, src.IncludeInAll, src.IncludeTermVectors = false, true, false, false, false
	dm.AddFieldMappingsAt("_source", src)
	im.DefaultMapping = dm
	return im
}

// rawBatch adds docs to a raw Bleve batch the way an application using
// Bleve directly would: decode the JSON, keep the source, index the map.
func rawBatch(idx bleve.Index, docs []logDoc, prefix string) (*bleve.Batch, error) {
	batch := idx.NewBatch()
	for _, d := range docs {
		var m map[string]any
		if err := json.Unmarshal(d.raw, &m); err != nil {
			return nil, err
		}
		m["_source"] = string(d.raw)
		if err := batch.Index(prefix+d.id, m); err != nil {
			return nil, err
		}
	}
	return batch, nil
}

// ---------------------------------------------------------------------------
// Queries

// searchQuery is one query of the benchmark mix, as an OpenSearch body and
// as the equivalent raw Bleve query.
type searchQuery struct {
	body []byte
	raw  func() query.Query
}

// searchQueries returns n queries for a tenant holding docs, cycling
// through three kinds, each with size 10 and hits sorted by score:
//
//   - match on message with two vocabulary words (ranks 10–300): Bleve
//     MatchQuery with the same analyzer (a disjunction of term queries
//     with min 1, as index/bleve builds);
//   - term on status: a numeric range [v, v] in both;
//   - bool with a must match on one frequent word (ranks 0–100) and a
//     filter range over 10% of the tenant's time span: raw Bleve uses
//     BooleanQuery.Filter (a filtering searcher), index/bleve a
//     conjunction with a zero-score filter searcher. Same hits, same
//     scores, different evaluation strategy.
func searchQueries(docs []logDoc, vocab []string, n int) []searchQuery {
	rng := rand.New(rand.NewPCG(7, uint64(len(docs))))
	statuses := []int{200, 301, 304, 400, 403, 404, 500}
	first, last := docs[0].ts, docs[len(docs)-1].ts
	span := last.Sub(first)
	out := make([]searchQuery, 0, n)
	for i := range n {
		var q searchQuery
		switch i % 3 {
		case 0:
			text := vocab[10+rng.IntN(290)] + " " + vocab[10+rng.IntN(290)]
			q.body = fmt.Appendf(nil, `{"size":10,"query":{"match":{"message":%q}}}`, text)
			q.raw = func() query.Query {
				m := query.NewMatchQuery(text)
				m.SetField("message")
				m.Analyzer = "os_standard"
				return m
			}
		case 1:
			st := float64(statuses[rng.IntN(len(statuses))])
			q.body = fmt.Appendf(nil, `{"size":10,"query":{"term":{"status":%d}}}`, int(st))
			q.raw = func() query.Query {
				incl := true
				t := query.NewNumericRangeInclusiveQuery(&st, &st, &incl, &incl)
				t.SetField("status")
				return t
			}
		case 2:
			word := vocab[rng.IntN(100)]
			from := first.Add(time.Duration(rng.Int64N(int64(span * 9 / 10)))).Truncate(time.Second)
			to := from.Add(span / 10).Truncate(time.Second)
			q.body = fmt.Appendf(nil, `{"size":10,"query":{"bool":{"must":[{"match":{"message":%q}}],"filter":[{"range":{"@timestamp":{"gte":%q,"lt":%q}}}]}}}`,
				word, from.Format(time.RFC3339), to.Format(time.RFC3339))
			q.raw = func() query.Query {
				m := query.NewMatchQuery(word)
				m.SetField("message")
				m.Analyzer = "os_standard"
				t, f := true, false
				r := query.NewDateRangeInclusiveQuery(from, to, &t, &f)
				r.SetField("@timestamp")
				bq := query.NewBooleanQuery([]query.Query{m}, nil, nil)
				bq.AddFilter(r)
				return bq
			}
		}
		out = append(out, q)
	}
	return out
}

// ---------------------------------------------------------------------------
// Load generation and measurement

// benchWorkers is the number of goroutines issuing requests in every
// search row (gateway clients and in-process callers alike).
const benchWorkers = 4

// opFunc performs operation i on worker w.
type opFunc func(w, i int) error

// load is the outcome of one measured run.
type load struct {
	ops     int
	elapsed time.Duration
	cpu     time.Duration // process user+sys CPU during the run
	lat     []time.Duration
}

// processCPU returns the user+sys CPU time of this process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runLoad runs op for every i in [lo, hi) over workers goroutines and
// measures wall time, process CPU and the latency of each call. It stops
// at the first error. When b is not nil, b's timer runs during the calls
// and is stopped again before runLoad returns.
func runLoad(b *testing.B, lo, hi, workers int, op opFunc) (load, error) {
	var next atomic.Int64
	next.Store(int64(lo))
	lats := make([][]time.Duration, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	if b != nil {
		b.StartTimer()
	}
	cpu0, t0 := processCPU(), time.Now()
	for w := range workers {
		lats[w] = make([]time.Duration, 0, (hi-lo)/workers+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= hi {
					return
				}
				s := time.Now()
				if err := op(w, i); err != nil {
					errs[w] = err
					next.Store(int64(hi))
					return
				}
				lats[w] = append(lats[w], time.Since(s))
			}
		}()
	}
	wg.Wait()
	l := load{ops: hi - lo, elapsed: time.Since(t0), cpu: processCPU() - cpu0}
	if b != nil {
		b.StopTimer()
	}
	for w := range workers {
		if errs[w] != nil {
			return l, errs[w]
		}
		l.lat = append(l.lat, lats[w]...)
	}
	return l, nil
}

// measure runs n ops of op as the whole timed part of b.
func measure(b *testing.B, n, workers int, op opFunc) load {
	b.StopTimer()
	b.ResetTimer()
	l, err := runLoad(b, 0, n, workers, op)
	if err != nil {
		b.Fatal(err)
	}
	return l
}

// paired runs the same n ops through ref and then sub, alternating in
// chunks (ref first), so that a change in the load of the shared machine
// hits both sides alike. b's timer covers sub's chunks only.
func paired(b *testing.B, n, chunks, workers int, ref, sub opFunc) (r, s load) {
	b.StopTimer()
	b.ResetTimer()
	chunks = max(1, min(chunks, n))
	for c := range chunks {
		lo, hi := n*c/chunks, n*(c+1)/chunks
		l, err := runLoad(nil, lo, hi, workers, ref)
		if err != nil {
			b.Fatal(err)
		}
		r.add(l)
		if l, err = runLoad(b, lo, hi, workers, sub); err != nil {
			b.Fatal(err)
		}
		s.add(l)
	}
	return r, s
}

func (l *load) add(m load) {
	l.ops += m.ops
	l.elapsed += m.elapsed
	l.cpu += m.cpu
	l.lat = append(l.lat, m.lat...)
}

func (l load) rate() float64 { return float64(l.ops) / l.elapsed.Seconds() }

func (l load) cpuPerOp() time.Duration { return l.cpu / time.Duration(max(l.ops, 1)) }

// pct returns the p-th percentile latency.
func (l load) pct(p int) time.Duration {
	if len(l.lat) == 0 {
		return 0
	}
	slices.Sort(l.lat)
	return l.lat[min(len(l.lat)-1, len(l.lat)*p/100)]
}

func micros(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// reportSearch reports the metrics common to every search row.
func reportSearch(b *testing.B, l load) {
	b.ReportMetric(l.rate(), "req/s")
	b.ReportMetric(micros(l.pct(50)), "p50-µs")
	b.ReportMetric(micros(l.pct(99)), "p99-µs")
	b.ReportMetric(micros(l.cpuPerOp()), "cpu-µs/req")
}

// reportAgainst reports the metrics of a row measured against a
// reference: throughput ratio, and CPU added per unit (ops/units units per
// op, so that bulk reports per document).
func reportAgainst(b *testing.B, ref, l load, unitsPerOp int, unit string) {
	b.ReportMetric(100*l.rate()/ref.rate(), "ratio-%")
	b.ReportMetric(micros(l.cpuPerOp()-ref.cpuPerOp())/float64(unitsPerOp), unit)
}

// ---------------------------------------------------------------------------
// Search

// searchFixture is one tenant loaded with a prefix of the data set, served
// by a real gateway on loopback, plus a raw Bleve index of the same
// documents.
type searchFixture struct {
	srv      *testserver.Server
	token    string
	backend  index.Backend
	physical string
	raw      bleve.Index
	queries  []searchQuery
	// responses are the gateway's answers to queries, for http-floor.
	responses [][]byte
}

// newSearchFixture starts a gateway, creates benchIndex in benchTenant with
// n documents through POST /_bulk (batches of setupBatch, two in flight),
// builds the raw Bleve index of the same documents, waits for background
// merges to settle and checks that all three agree on the hit count of
// every query. Everything it creates is removed when b ends.
func newSearchFixture(b *testing.B, n int) *searchFixture {
	b.Helper()
	all, vocab := logDocs()
	docs := all[:n]
	s := testserver.Start(b)
	f := &searchFixture{srv: s, token: testserver.Token(b, "alice", "analyst"), backend: s.Inst.Index.Backend()}
	if r := s.Do(b, "PUT", "/"+benchIndex, f.token, benchTenant, `{"mappings":`+logMappingJSON+`}`); r.Status != 200 {
		b.Fatalf("creating the index: %d %s", r.Status, r.Body)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n/setupBatch+1)
	sem := make(chan struct{}, 2)
	for lo := 0; lo < n; lo += setupBatch {
		body := bulkBody(docs[lo:min(lo+setupBatch, n)], "")
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := postBulk(s, f.token, "/"+benchIndex+"/_bulk", body); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	gwLoad := time.Since(start)
	for _, e := range s.Inst.Index.Catalog().All() {
		if e.Logical == benchIndex {
			f.physical = e.Physical
		}
	}
	if f.physical == "" {
		b.Fatalf("index %s is not in the catalog", benchIndex)
	}

	start = time.Now()
	rawDir := filepath.Join(b.TempDir(), "raw")
	raw, err := bleve.New(rawDir, rawLogMapping())
	if err != nil {
		b.Fatal(err)
	}
	f.raw = raw
	b.Cleanup(func() { raw.Close() })
	for lo := 0; lo < n; lo += setupBatch {
		batch, err := rawBatch(raw, docs[lo:min(lo+setupBatch, n)], "")
		if err != nil {
			b.Fatal(err)
		}
		if err := raw.Batch(batch); err != nil {
			b.Fatal(err)
		}
	}
	rawLoad := time.Since(start)
	gwDir := filepath.Join(s.Config.DataDir, "indices", f.physical)
	settle(gwDir, rawDir)
	b.Logf("docs=%d: loaded through the gateway in %v, raw Bleve in %v; segment files after merges: %d (gateway), %d (raw)",
		n, gwLoad.Round(time.Millisecond), rawLoad.Round(time.Millisecond), zapFiles(gwDir), zapFiles(rawDir))

	f.queries = searchQueries(docs, vocab, 60)
	f.check(b)
	return f
}

func postBulk(s *testserver.Server, token, path string, body []byte) error {
	req, err := http.NewRequest("POST", s.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("securitytenant", benchTenant)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := s.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"errors":false`)) {
		return fmt.Errorf("bulk: status %d: %.300s", resp.StatusCode, out)
	}
	return nil
}

// zapFiles counts the segment files under an index directory.
func zapFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".zap") {
			n++
		}
		return nil
	})
	return n
}

// settle waits (at most 30 s) until the segment files of every dir have
// stopped changing for a second: Bleve merges segments in the background
// after a load, and a search during a merge measures the merge too.
func settle(dirs ...string) {
	deadline := time.Now().Add(30 * time.Second)
	prev, stable := "", 0
	for time.Now().Before(deadline) && stable < 5 {
		time.Sleep(200 * time.Millisecond)
		var sig strings.Builder
		for _, d := range dirs {
			_ = filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
				if err == nil && strings.HasSuffix(p, ".zap") {
					sig.WriteString(p)
				}
				return nil
			})
		}
		if sig.String() == prev {
			stable++
		} else {
			prev, stable = sig.String(), 0
		}
	}
}

// check fails b unless the gateway, the back-end and raw Bleve find the
// same number of hits for every query (the gateway and back-end count up
// to OpenSearch's default track_total_hits of 10,000) and return the same
// number of hits. It keeps the gateway's responses for http-floor.
func (f *searchFixture) check(b *testing.B) {
	b.Helper()
	ctx := context.Background()
	for _, q := range f.queries {
		r := f.srv.Do(b, "POST", "/"+benchIndex+"/_search", f.token, benchTenant, q.body)
		var gw struct {
			Hits struct {
				Total struct{ Value int64 } `json:"total"`
				Hits  []json.RawMessage     `json:"hits"`
			} `json:"hits"`
		}
		if r.Status != 200 || json.Unmarshal(r.Body, &gw) != nil {
			b.Fatalf("search %s: %d %.300s", q.body, r.Status, r.Body)
		}
		f.responses = append(f.responses, r.Body)
		req, err := index.ParseSearchRequest(q.body)
		if err != nil {
			b.Fatal(err)
		}
		res, err := f.backend.Search(ctx, []string{f.physical}, req)
		if err != nil {
			b.Fatalf("backend search %s: %v", q.body, err)
		}
		rr, err := f.raw.Search(f.rawRequest(q))
		if err != nil {
			b.Fatalf("raw search %s: %v", q.body, err)
		}
		want := min(int64(rr.Total), 10000)
		if gw.Hits.Total.Value != want || res.Total != want || len(gw.Hits.Hits) != len(rr.Hits) {
			b.Fatalf("query %s: gateway %d hits (%d returned), backend %d, raw Bleve %d (%d returned): not the same query",
				q.body, gw.Hits.Total.Value, len(gw.Hits.Hits), res.Total, rr.Total, len(rr.Hits))
		}
	}
}

func (f *searchFixture) rawRequest(q searchQuery) *bleve.SearchRequest {
	req := bleve.NewSearchRequestOptions(q.raw(), 10, 0, false)
	req.Fields = []string{"_source"}
	return req
}

// rawOp searches the raw index with the raw Bleve library.
func (f *searchFixture) rawOp() opFunc {
	return func(_, i int) error {
		_, err := f.raw.Search(f.rawRequest(f.queries[i%len(f.queries)]))
		return err
	}
}

// backendOp searches through Backend.Search in-process. Each request is
// parsed once, before the clock starts (the gateway parses it on every
// call; that cost counts as the gateway's).
func (f *searchFixture) backendOp(b *testing.B) opFunc {
	reqs := make([]*index.SearchRequest, len(f.queries))
	for i, q := range f.queries {
		r, err := index.ParseSearchRequest(q.body)
		if err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	ctx := context.Background()
	names := []string{f.physical}
	return func(_, i int) error {
		req := *reqs[i%len(reqs)]
		_, err := f.backend.Search(ctx, names, &req)
		return err
	}
}

// leanClient sends POST <url> with the benchmark's headers through
// fasthttp: one pre-built request and response per worker, keep-alive.
// It is closed when b ends.
func (f *searchFixture) leanClient(b *testing.B, url string, workers int) func(w int, body []byte) (*fasthttp.Response, error) {
	addr := strings.TrimPrefix(strings.TrimPrefix(url, "http://"), "/")
	addr = addr[:strings.IndexByte(addr+"/", '/')]
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: workers}
	reqs := make([]*fasthttp.Request, workers)
	resps := make([]*fasthttp.Response, workers)
	for w := range reqs {
		req := fasthttp.AcquireRequest()
		req.SetRequestURI(url)
		req.Header.SetMethod("POST")
		req.Header.SetContentType("application/json")
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set("securitytenant", benchTenant)
		reqs[w], resps[w] = req, fasthttp.AcquireResponse()
	}
	b.Cleanup(func() {
		hc.CloseIdleConnections()
		for w := range reqs {
			fasthttp.ReleaseRequest(reqs[w])
			fasthttp.ReleaseResponse(resps[w])
		}
	})
	return func(w int, body []byte) (*fasthttp.Response, error) {
		reqs[w].SetBodyRaw(body)
		if err := hc.Do(reqs[w], resps[w]); err != nil {
			return nil, err
		}
		if resps[w].StatusCode() != 200 {
			return nil, fmt.Errorf("status %d: %.300s", resps[w].StatusCode(), resps[w].Body())
		}
		return resps[w], nil
	}
}

// gatewayOp searches through the gateway with the lean fasthttp client or
// with net/http.
func (f *searchFixture) gatewayOp(b *testing.B, lean bool) opFunc {
	url := f.srv.URL + "/" + benchIndex + "/_search"
	if lean {
		do := f.leanClient(b, url, benchWorkers)
		return func(w, i int) error {
			_, err := do(w, f.queries[i%len(f.queries)].body)
			return err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchWorkers}}
	b.Cleanup(client.CloseIdleConnections)
	return func(_, i int) error {
		req, err := http.NewRequest("POST", url, bytes.NewReader(f.queries[i%len(f.queries)].body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+f.token)
		req.Header.Set("securitytenant", benchTenant)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
}

// floorOp sends the same requests with the lean client to a bare fasthttp
// server on loopback that answers each with the gateway's recorded
// response to it: the cost of HTTP alone (client, server, loopback),
// without authentication, authorization or search.
func (f *searchFixture) floorOp(b *testing.B) opFunc {
	answers := make(map[string][]byte, len(f.queries))
	for i, q := range f.queries {
		answers[string(q.body)] = f.responses[i]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) {
		c.SetContentType("application/json")
		c.SetBody(answers[string(c.PostBody())])
	}}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	do := f.leanClient(b, "http://"+ln.Addr().String()+"/"+benchIndex+"/_search", benchWorkers)
	return func(w, i int) error {
		_, err := do(w, f.queries[i%len(f.queries)].body)
		return err
	}
}

// BenchmarkSearch measures searches on a tenant of 1k and of 100k
// documents (100k is skipped under -short), with benchWorkers (4)
// goroutines issuing requests, through these paths:
//
//   - bleve: the raw Bleve library on a separate index built from the same
//     documents with the closest equivalent mapping (rawLogMapping) and the
//     equivalent Bleve queries (searchQueries explains each). The floor.
//   - backend: index/bleve's Backend.Search in-process on the very index
//     the gateway serves, with the same (pre-parsed) request.
//   - gateway: POST /logs/_search over loopback as alice in tenant
//     analysts, with a lean client (fasthttp.HostClient, one pre-built
//     request per worker, keep-alive).
//   - gateway-nethttp: the same with net/http (a new http.Request per
//     call, keep-alive), to show what an ordinary Go client adds.
//   - http-floor: the lean client against a bare fasthttp server that
//     answers with the gateway's recorded responses: what HTTP over
//     loopback costs by itself (client included).
//
// One op is one search request; queries cycle through a fixed mix of
// match, term and bool+range (size 10, sorted by score, _source returned).
// Metrics:
//
//	ns/op        wall time per request at 4 in flight (= 1e9 / req/s)
//	req/s        requests completed per second
//	p50-µs       median latency of one request (queueing at 4 in flight
//	             on a 2-core machine included)
//	p99-µs       99th-percentile latency
//	cpu-µs/req   process CPU (getrusage user+sys) per request; for the
//	             gateway rows it includes the in-process client's CPU
//	ratio-%      gateway rows: req/s as a percentage of the backend's,
//	             measured in the same sub-benchmark over the same requests,
//	             alternating in 8 chunks (backend first)
//	added-cpu-µs gateway rows: cpu-µs/req minus the backend's cpu-µs/req
//	             in those same alternating chunks (client CPU included;
//	             subtract http-floor's cpu-µs/req for the server's share)
//
// The 100k tenant is loaded once per run of this benchmark (-count=1: once
// per process) through POST /_bulk in batches of 5,000.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{1000, 100_000} {
		b.Run(fmt.Sprintf("docs=%dk", n/1000), func(b *testing.B) {
			if n > 1000 && testing.Short() {
				b.Skip("the 100k-document tenant takes a while to load; skipped under -short")
			}
			f := newSearchFixture(b, n)
			b.Run("bleve", func(b *testing.B) {
				reportSearch(b, measure(b, b.N, benchWorkers, f.rawOp()))
			})
			b.Run("backend", func(b *testing.B) {
				reportSearch(b, measure(b, b.N, benchWorkers, f.backendOp(b)))
			})
			for _, lean := range []bool{true, false} {
				row := "gateway"
				if !lean {
					row = "gateway-nethttp"
				}
				b.Run(row, func(b *testing.B) {
					ref, l := paired(b, b.N, 8, benchWorkers, f.backendOp(b), f.gatewayOp(b, lean))
					reportSearch(b, l)
					reportAgainst(b, ref, l, 1, "added-cpu-µs")
				})
			}
			b.Run("http-floor", func(b *testing.B) {
				reportSearch(b, measure(b, b.N, benchWorkers, f.floorOp(b)))
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Bulk

// bulkBatch is the number of documents in one bulk request (and in one
// Apply call, and in one raw Bleve batch) of BenchmarkBulk.
const bulkBatch = 1000

// bulkFixture is a gateway for BenchmarkBulk and a counter giving each
// measured run fresh index names.
type bulkFixture struct {
	srv   *testserver.Server
	token string
	dir   string // raw Bleve indices
	seq   atomic.Int64
}

// batches returns n batches of bulkBatch documents taken in turn from the
// data set (ids unique within the n batches).
func batches(n int) [][]logDoc {
	all, _ := logDocs()
	out := make([][]logDoc, n)
	for k := range out {
		lo := (k * bulkBatch) % len(all)
		out[k] = make([]logDoc, bulkBatch)
		for j := range out[k] {
			d := all[(lo+j)%len(all)]
			d.id = fmt.Sprintf("%d-%s", k, d.id)
			out[k][j] = d
		}
	}
	return out
}

// rawSink returns an op indexing batch k of bs into a fresh raw Bleve
// index with default (durable) scorch settings: Batch returns once the
// segment is persisted. The index is removed when b ends.
func (f *bulkFixture) rawSink(b *testing.B, bs [][]logDoc) opFunc {
	dir := filepath.Join(f.dir, fmt.Sprintf("raw-%d", f.seq.Add(1)))
	idx, err := bleve.New(dir, rawLogMapping())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { idx.Close(); os.RemoveAll(dir) })
	return func(_, k int) error {
		batch, err := rawBatch(idx, bs[k], "")
		if err != nil {
			return err
		}
		return idx.Batch(batch)
	}
}

// backendSink returns an op applying batch k of bs to a fresh index of the
// gateway's own Backend, bypassing HTTP, authorization and the catalog.
func (f *bulkFixture) backendSink(b *testing.B, bs [][]logDoc) opFunc {
	ctx := context.Background()
	be := f.srv.Inst.Index.Backend()
	name := fmt.Sprintf("bench_backend_%d", f.seq.Add(1))
	m, err := index.ParseMapping([]byte(logMappingJSON))
	if err != nil {
		b.Fatal(err)
	}
	if err := be.CreateIndex(ctx, name, m); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.DeleteIndex(ctx, name) })
	ops := make([][]index.Op, len(bs))
	for k, docs := range bs {
		ops[k] = make([]index.Op, len(docs))
		for j, d := range docs {
			ops[k][j] = index.Op{Type: index.OpIndex, ID: d.id, Source: d.raw}
		}
	}
	return func(_, k int) error {
		res, err := be.Apply(ctx, name, ops[k])
		if err != nil {
			return err
		}
		for _, r := range res {
			if r.Err != nil {
				return r.Err
			}
		}
		return nil
	}
}

// gatewaySink returns an op posting batch k of bs to POST /<fresh
// index>/_bulk with a lean fasthttp client; bodies are built beforehand.
func (f *bulkFixture) gatewaySink(b *testing.B, bs [][]logDoc) opFunc {
	name := fmt.Sprintf("bulk-%d", f.seq.Add(1))
	if r := f.srv.Do(b, "PUT", "/"+name, f.token, benchTenant, `{"mappings":`+logMappingJSON+`}`); r.Status != 200 {
		b.Fatalf("creating %s: %d %s", name, r.Status, r.Body)
	}
	b.Cleanup(func() { f.srv.Do(b, "DELETE", "/"+name, f.token, benchTenant, nil) })
	bodies := make([][]byte, len(bs))
	for k, docs := range bs {
		bodies[k] = bulkBody(docs, "")
	}
	hc := &fasthttp.HostClient{Addr: strings.TrimPrefix(f.srv.URL, "http://"), MaxConns: 1}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	b.Cleanup(func() {
		hc.CloseIdleConnections()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	})
	req.SetRequestURI(f.srv.URL + "/" + name + "/_bulk")
	req.Header.SetMethod("POST")
	req.Header.SetContentType("application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("securitytenant", benchTenant)
	return func(_, k int) error {
		req.SetBodyRaw(bodies[k])
		if err := hc.Do(req, resp); err != nil {
			return err
		}
		if resp.StatusCode() != 200 || !bytes.Contains(resp.Body(), []byte(`"errors":false`)) {
			return fmt.Errorf("bulk: status %d: %.300s", resp.StatusCode(), resp.Body())
		}
		return nil
	}
}

// reportBulk reports the metrics common to every bulk row.
func reportBulk(b *testing.B, l load) {
	docs := float64(l.ops * bulkBatch)
	b.ReportMetric(docs/l.elapsed.Seconds(), "docs/s")
	b.ReportMetric(micros(l.cpu)/docs, "cpu-µs/doc")
	b.ReportMetric(float64(l.pct(99).Microseconds())/1000, "p99-ms")
}

// BenchmarkBulk measures durable ingest of web-log documents, one batch of
// bulkBatch (1,000) documents at a time from one client, into a fresh
// index per measured run, through three paths:
//
//   - bleve: the raw Bleve library: decode each document's JSON into a map,
//     Batch.Index it (mapping rawLogMapping, _source stored), idx.Batch.
//     Default scorch, which returns once the batch is persisted — the same
//     durability tenantgate promises.
//   - backend: index/bleve's Backend.Apply in-process with one OpIndex per
//     document (versions, seq_no, _field_names and mapping checks
//     included).
//   - gateway: POST /<index>/_bulk over loopback as alice in tenant
//     analysts, with a lean fasthttp client and bodies built beforehand.
//
// One op is one batch of 1,000 documents. Metrics:
//
//	docs/s      documents durably indexed per second
//	cpu-µs/doc  process CPU (getrusage user+sys) per document, including
//	            Bleve's background persister and merger, and for the
//	            gateway the client
//	p99-ms      99th-percentile time of one batch
//	ratio-%     backend and gateway rows: docs/s as a percentage of raw
//	            Bleve's, measured in the same sub-benchmark on the same
//	            batches into a fresh raw index, alternating batch by batch
//	            (raw first)
//	added-cpu-µs/doc backend and gateway rows: cpu-µs/doc minus raw
//	            Bleve's cpu-µs/doc in that same alternating run
func BenchmarkBulk(b *testing.B) {
	s := testserver.Start(b)
	f := &bulkFixture{srv: s, token: testserver.Token(b, "alice", "analyst"), dir: b.TempDir()}
	logDocs()
	b.Run("bleve", func(b *testing.B) {
		bs := batches(b.N)
		reportBulk(b, measure(b, b.N, 1, f.rawSink(b, bs)))
	})
	for _, row := range []string{"backend", "gateway"} {
		b.Run(row, func(b *testing.B) {
			bs := batches(b.N)
			sink := f.backendSink
			if row == "gateway" {
				sink = f.gatewaySink
			}
			ref, l := paired(b, b.N, b.N, 1, f.rawSink(b, bs), sink(b, bs))
			reportBulk(b, l)
			reportAgainst(b, ref, l, bulkBatch, "added-cpu-µs/doc")
		})
	}
}
