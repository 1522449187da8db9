package webui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/sample"
)

// The acceptance check of the nginx export: the real OpenSearch catalog
// sample loaded into ss4o_logs-nginx-sample-sample, the real
// nginx-1.0.0.ndjson imported unchanged, and "Nginx Logs Overview" opened
// over the sample's minute, every panel's numbers compared with numbers
// computed here from sample.json itself.
//
// What the dashboard's panels compute (their visState in the export):
//   - HTTP Status Codes over Time: histogram, count per date_histogram
//     (auto) split by a filters aggregation of five Lucene range queries,
//     over the saved search "Nginx Access Logs" (KQL
//     event.domain:nginx.access) reached through the search_0 reference;
//   - HTTP Errors over Time: histogram, count per date_histogram (auto)
//     over the saved search "Nginx Error Logs" (KQL
//     http.response.status_code >= 300 and event.domain:nginx.access);
//   - HTTP Top URLs: table, terms of http.url (size 10, count desc), shown
//     sorted by its first column ascending (the panel's embeddableConfig);
//   - HTTP Data Volume: area, sum of http.response.bytes per minute;
//   - Status code dropdown: an input control over http.response.status_code
//     (terms, size 5, desc);
//   - Transactions by API: table, terms of http.url (size 500) then terms
//     of http.response.status_code (size 500), count.

// nginxWindow is the absolute time range opened: the minute holding every
// sample document (they carry 2023-06-19T16:59:05Z to 16:59:15Z). Over one
// minute the auto interval is one second.
var nginxWindow = struct{ from, to time.Time }{
	time.Date(2023, 6, 19, 16, 59, 0, 0, time.UTC),
	time.Date(2023, 6, 19, 17, 0, 0, 0, time.UTC),
}

type nginxSampleDoc struct {
	Timestamp time.Time `json:"@timestamp"`
	Event     struct {
		Domain string `json:"domain"`
	} `json:"event"`
	HTTP struct {
		URL      string `json:"url"`
		Response struct {
			StatusCode string `json:"status_code"`
			Bytes      int64  `json:"bytes"`
		} `json:"response"`
	} `json:"http"`
}

// nginxExpected holds what each panel must show, computed from the
// documents without the gateway.
type nginxExpected struct {
	// statusSeries: per filters label, the count per second (ascending
	// seconds holding any access log).
	statusSeries map[string][]int
	// errorSeries: the count per second of the error logs.
	errorSeries []int
	// bytesPerMinute: sum of bytes per minute.
	bytesPerMinute []int64
	// topURLs: the ten rows of HTTP Top URLs as displayed (url, count).
	topURLs [][2]string
	// transactions: every (url, status, count) row, in the aggregation's
	// order; total is the document count.
	transactions [][3]string
	// statusOptions: the dropdown's options (top five status codes).
	statusOptions []string
	// notFoundSeries: the count per second of 404s among the error logs,
	// what Errors over Time shows once the dropdown applies 404.
	notFoundSeries []int
	total          int
}

func nginxExpectations(t *testing.T, set *sample.Set) nginxExpected {
	t.Helper()
	docs := make([]nginxSampleDoc, 0, len(set.Docs))
	for _, raw := range set.Docs {
		var d nginxSampleDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatal(err)
		}
		if d.Timestamp.Before(nginxWindow.from) || !d.Timestamp.Before(nginxWindow.to) {
			t.Fatalf("document at %s outside the window the test opens", d.Timestamp)
		}
		docs = append(docs, d)
	}
	status := func(d nginxSampleDoc) int {
		s, err := strconv.Atoi(d.HTTP.Response.StatusCode)
		if err != nil {
			t.Fatalf("status %q", d.HTTP.Response.StatusCode)
		}
		return s
	}
	var e nginxExpected
	e.total = len(docs)

	// Seconds holding access logs (min_doc_count 1), ascending.
	perSecond := func(keep func(nginxSampleDoc) bool) map[int64]int {
		m := map[int64]int{}
		for _, d := range docs {
			if keep(d) {
				m[d.Timestamp.Unix()]++
			}
		}
		return m
	}
	access := func(d nginxSampleDoc) bool { return d.Event.Domain == "nginx.access" }
	secs := perSecond(access)
	var xs []int64
	for s := range secs {
		xs = append(xs, s)
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	e.statusSeries = map[string][]int{}
	for _, f := range []struct {
		label  string
		lo, hi int
	}{{"200s", 200, 299}, {"300s", 300, 399}, {"400s", 400, 499}, {"500s", 500, 599}, {"0", 0, 0}} {
		m := perSecond(func(d nginxSampleDoc) bool { s := status(d); return access(d) && s >= f.lo && s <= f.hi })
		for _, x := range xs {
			e.statusSeries[f.label] = append(e.statusSeries[f.label], m[x])
		}
	}
	series := func(keep func(nginxSampleDoc) bool) []int {
		m := perSecond(keep)
		var xs []int64
		for s := range m {
			xs = append(xs, s)
		}
		sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
		var out []int
		for _, x := range xs {
			out = append(out, m[x])
		}
		return out
	}
	e.errorSeries = series(func(d nginxSampleDoc) bool { return access(d) && status(d) >= 300 })
	e.notFoundSeries = series(func(d nginxSampleDoc) bool { return access(d) && status(d) == 404 })

	// Bytes per minute over the access logs.
	minutes := map[int64]int64{}
	for _, d := range docs {
		if access(d) {
			minutes[d.Timestamp.Truncate(time.Minute).Unix()] += d.HTTP.Response.Bytes
		}
	}
	var ms []int64
	for m := range minutes {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i] < ms[j] })
	for _, m := range ms {
		e.bytesPerMinute = append(e.bytesPerMinute, minutes[m])
	}

	// terms: count desc, ties by key asc (OpenSearch's order).
	type kc struct {
		k string
		n int
	}
	byCount := func(m map[string]int) []kc {
		var out []kc
		for k, n := range m {
			out = append(out, kc{k, n})
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].n != out[j].n {
				return out[i].n > out[j].n
			}
			return out[i].k < out[j].k
		})
		return out
	}
	urls := map[string]int{}
	for _, d := range docs {
		urls[d.HTTP.URL]++
	}
	top := byCount(urls)[:10]
	sort.Slice(top, func(i, j int) bool { return top[i].k < top[j].k }) // sortColumn 0 asc
	for _, u := range top {
		e.topURLs = append(e.topURLs, [2]string{u.k, strconv.Itoa(u.n)})
	}

	// Transactions by API: the url terms (over the access logs), each split
	// by status terms (numbers, ties by ascending code).
	urlStatus := map[string]map[int]int{}
	for _, d := range docs {
		if !access(d) {
			continue
		}
		if urlStatus[d.HTTP.URL] == nil {
			urlStatus[d.HTTP.URL] = map[int]int{}
		}
		urlStatus[d.HTTP.URL][status(d)]++
	}
	accessURLs := map[string]int{}
	for u, m := range urlStatus {
		for _, n := range m {
			accessURLs[u] += n
		}
	}
	urlTerms := byCount(accessURLs)
	for _, u := range urlTerms[:min(500, len(urlTerms))] { // size 500
		var codes []int
		for c := range urlStatus[u.k] {
			codes = append(codes, c)
		}
		sort.Slice(codes, func(i, j int) bool {
			a, b := urlStatus[u.k][codes[i]], urlStatus[u.k][codes[j]]
			if a != b {
				return a > b
			}
			return codes[i] < codes[j]
		})
		for _, c := range codes {
			e.transactions = append(e.transactions, [3]string{u.k, strconv.Itoa(c), strconv.Itoa(urlStatus[u.k][c])})
		}
	}

	// The dropdown: status terms over every document (useTimeFilter false).
	codes := map[string]int{}
	for _, d := range docs {
		codes[strconv.Itoa(status(d))]++
	}
	sc := byCount(codes)
	for _, c := range sc[:min(5, len(sc))] {
		e.statusOptions = append(e.statusOptions, c.k)
	}
	return e
}

// importNDJSON posts an export file to the saved-objects import API.
func importNDJSON(t *testing.T, srv *testserver.Server, token, tenant, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", srv.URL+"/api/saved_objects/_import?overwrite=true", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("securitytenant", tenant)
	req.Header.Set("osd-xsrf", "true")
	resp, err := srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("import: %d %v", resp.StatusCode, out)
	}
	return out
}

// chartValues reads the numbers a chart panel plots (its data-values).
func chartValues(t *testing.T, ctx context.Context, title string) map[string][]float64 {
	t.Helper()
	sel := fmt.Sprintf(`[data-title=%q] .chart`, title)
	var values string
	run(t, ctx, chromedp.WaitVisible(sel), chromedp.AttributeValue(sel, "data-values", &values, nil))
	var m map[string][]float64
	if err := json.Unmarshal([]byte(values), &m); err != nil {
		t.Fatalf("%s: chart values %q: %v", title, values, err)
	}
	return m
}

// tableRows reads the rows of a table panel's current page.
func tableRows(t *testing.T, ctx context.Context, title string) [][]string {
	t.Helper()
	sel := fmt.Sprintf(`[data-title=%q] tbody tr`, title)
	var rows [][]string
	run(t, ctx, chromedp.WaitVisible(sel),
		chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent))`, sel), &rows))
	return rows
}

func TestBrowserNginxOverview(t *testing.T) {
	skipWithoutBrowser(t)
	dir := testserver.OSDFixtures(t)
	set, err := sample.Nginx(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := nginxExpectations(t, set)

	srv := testserver.Start(t)
	ctx := browser(t)
	const tenant = "analysts"
	alice := testserver.Token(t, "alice", "analyst")
	loadCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := &sample.Client{Server: srv.URL, Token: alice, Tenant: tenant, HTTP: srv.Client}
	if res, err := c.Load(loadCtx, set); err != nil || res.Docs != want.total {
		t.Fatalf("loading the nginx sample: %v (%+v)", err, res)
	}
	// The export itself, unchanged, through the import API.
	imp := importNDJSON(t, srv, alice, tenant, filepath.Join(dir, "nginx-1.0.0.ndjson"))
	if imp["success"] != true || imp["successCount"] != float64(12) {
		t.Fatalf("import = %v", imp)
	}

	g := fmt.Sprintf("(time:(from:'%s',to:'%s'))", nginxWindow.from.Format(time.RFC3339Nano), nginxWindow.to.Format(time.RFC3339Nano))
	signIn(t, ctx, srv.URL, alice, "/app/dashboards/view/"+sample.NginxDashboardID+"?security_tenant="+tenant+"&_g="+g)
	if got := text(t, ctx, `[data-testid=dashboard-title]`); got != "Nginx Logs Overview" {
		t.Fatalf("title = %q", got)
	}

	t.Run("status codes over time", func(t *testing.T) {
		got := chartValues(t, ctx, "HTTP Status Codes over Time")
		if fmt.Sprint(got) != fmt.Sprint(toFloats(want.statusSeries)) {
			t.Errorf("series = %v\nwant     %v", got, want.statusSeries)
		}
	})
	t.Run("errors over time", func(t *testing.T) {
		got := chartValues(t, ctx, "HTTP Errors over Time")
		if fmt.Sprint(got) != fmt.Sprint(map[string][]int{"Count": want.errorSeries}) {
			t.Errorf("series = %v, want Count: %v", got, want.errorSeries)
		}
	})
	t.Run("data volume", func(t *testing.T) {
		got := chartValues(t, ctx, "HTTP Data Volume")
		var sums []float64
		for _, b := range want.bytesPerMinute {
			sums = append(sums, float64(b))
		}
		if fmt.Sprint(got) != fmt.Sprint(map[string][]float64{"Response Bytes": sums}) {
			t.Errorf("series = %v, want Response Bytes: %v", got, want.bytesPerMinute)
		}
	})
	t.Run("top URLs", func(t *testing.T) {
		rows := tableRows(t, ctx, "HTTP Top URLs")
		var wantRows [][]string
		for _, r := range want.topURLs {
			wantRows = append(wantRows, []string{r[0], r[1]})
		}
		if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
			t.Errorf("rows = %q\nwant %q", rows, wantRows)
		}
	})
	t.Run("transactions by API", func(t *testing.T) {
		rows := tableRows(t, ctx, "Transactions by API")
		var wantRows [][]string
		for _, r := range want.transactions[:10] {
			wantRows = append(wantRows, []string{r[0], r[1], r[2]})
		}
		if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
			t.Errorf("first page = %q\nwant %q", rows, wantRows)
		}
		pages := (len(want.transactions) + 9) / 10
		if got := text(t, ctx, `[data-title="Transactions by API"] .pager span`); got != fmt.Sprintf("1 / %d", pages) {
			t.Errorf("pager = %q, want 1 / %d (%d rows)", got, pages, len(want.transactions))
		}
	})
	t.Run("status code dropdown", func(t *testing.T) {
		var opts []string
		sel := `[data-title="Status code dropdown"] select option`
		run(t, ctx, chromedp.WaitReady(sel),
			chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(o => o.value).filter(v => v)`, sel), &opts))
		if fmt.Sprint(opts) != fmt.Sprint(want.statusOptions) {
			t.Errorf("options = %q, want %q", opts, want.statusOptions)
		}
	})
	time.Sleep(300 * time.Millisecond) // let the canvases paint
	shot(t, ctx, "nginx-overview")

	// Picking 404 in the dropdown and applying it filters every panel.
	t.Run("dropdown filters the dashboard", func(t *testing.T) {
		sel := `[data-title="Status code dropdown"] select`
		run(t, ctx,
			chromedp.Evaluate(`(() => { const s = document.querySelector('`+sel+`'); for (const o of s.options) o.selected = o.value === '404'; s.dispatchEvent(new Event('change', {bubbles: true})); })()`, nil),
			chromedp.Click(`[data-title="Status code dropdown"] [data-testid=control-apply]`),
		)
		want404 := map[string][]int{"Count": want.notFoundSeries}
		var got map[string][]float64
		deadline := time.Now().Add(5 * time.Second)
		for {
			got = chartValues(t, ctx, "HTTP Errors over Time")
			if fmt.Sprint(got) == fmt.Sprint(want404) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if fmt.Sprint(got) != fmt.Sprint(want404) {
			t.Errorf("errors after picking 404 = %v, want %v", got, want404)
		}
		time.Sleep(300 * time.Millisecond)
		shot(t, ctx, "nginx-overview-404")
	})
	t.Logf("total %d; status series %v; errors %v; 404s %v; bytes/min %v; top URLs %v; %d transaction rows, first %v; dropdown %v",
		want.total, want.statusSeries, want.errorSeries, want.notFoundSeries, want.bytesPerMinute, want.topURLs, len(want.transactions), want.transactions[:3], want.statusOptions)
}

func toFloats(m map[string][]int) map[string][]float64 {
	out := map[string][]float64{}
	for k, xs := range m {
		for _, x := range xs {
			out[k] = append(out[k], float64(x))
		}
	}
	return out
}
