package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/sample"
	"github.com/tenantgate/tenantgate/webui"
)

// Browser tests drive Debian's chromium headless against a real server.
// Without chromium they skip, unless CI is set (then chromium is required).
// Without a UI build (make ui) they skip, unless TENANTGATE_REQUIRE_UI is set.

const chromium = "/usr/bin/chromium"

// skipWithoutBrowser skips (or fails, see above) before a test starts its
// server; the server must start before the browser so that the browser,
// closed first, leaves no connection open while the server drains.
func skipWithoutBrowser(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: skipped under -short")
	}
	if _, err := exec.LookPath(chromium); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("chromium is required in CI (.ci/run installs it): %v", err)
		}
		t.Skipf("no chromium at %s", chromium)
	}
	if !webui.Built() {
		if os.Getenv("TENANTGATE_REQUIRE_UI") != "" {
			t.Fatal("the UI is not built into the binary: run make ui")
		}
		t.Skip("UI not built: run make ui")
	}
}

func browser(t *testing.T) context.Context {
	t.Helper()
	// Chromium may still write into its profile while it exits: remove it
	// ourselves, ignoring errors, rather than through t.TempDir.
	profile, err := os.MkdirTemp("", "tenantgate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), // full-page screenshots then keep the whole width
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1600, 1100),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// tab opens another tab of the same browser (its own sessionStorage).
func tab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	c, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	if err := chromedp.Run(c); err != nil { // opens the tab, with no timeout on its life
		t.Fatalf("opening a tab: %v", err)
	}
	return c
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	// Generous: loading sample data takes ~2 s alone but 10 s and more
	// under -race on a busy 2-core machine. It bounds a hang, not speed.
	step, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(step, actions...); err != nil {
		shot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatal(err)
	}
}

// shot keeps a screenshot under artifacts/screenshots.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	step, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(step, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := filepath.Join(testserver.RepoRoot(), "artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// signIn signs a tab in with a token through the sign-in page and lands
// on next.
func signIn(t *testing.T, ctx context.Context, base, token, next string) {
	t.Helper()
	run(t, ctx,
		chromedp.Navigate(base+"/app/login?next="+urlQueryEscape(next)),
		chromedp.Click(`[data-testid=signin-tab-token]`),
		chromedp.WaitVisible(`[data-testid=token]`),
		chromedp.SendKeys(`[data-testid=token]`, token),
		chromedp.Click(`[data-testid=signin]`),
		chromedp.WaitNotPresent(`[data-testid=token]`),
	)
}

func urlQueryEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "?", "%3F", "=", "%3D", "#", "%23", "+", "%2B")
	return r.Replace(s)
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	run(t, ctx, chromedp.WaitVisible(sel), chromedp.Text(sel, &s, chromedp.NodeVisible))
	return strings.TrimSpace(s)
}

func xsrf() []string { return []string{"osd-xsrf", "true"} }

func mustOK(t *testing.T, r *testserver.Response, what string) {
	t.Helper()
	if r.Status >= 300 {
		t.Fatalf("%s: %d %s", what, r.Status, r.Body)
	}
}

func TestBrowserSignInAndTenantSwitcher(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	signIn(t, ctx, srv.URL, testserver.Token(t, "alice", "analyst"), "/app/dashboards?security_tenant=analysts")
	var options []string
	run(t, ctx,
		chromedp.WaitVisible(`[data-testid=tenant-switcher]`),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=tenant-switcher] option')].map(o => o.textContent)`, &options),
	)
	want := []string{"Global", "Private", "analysts", "executive (read-only)"}
	if fmt.Sprint(options) != fmt.Sprint(want) {
		t.Errorf("tenant switcher = %q, want %q", options, want)
	}
	if got := text(t, ctx, `h1`); !strings.Contains(got, "analysts") {
		t.Errorf("heading = %q, want the analysts tenant", got)
	}
	shot(t, ctx, "signin-tenants")

	// A bad token is refused on the sign-in page.
	other := tab(t, ctx)
	run(t, other,
		chromedp.Navigate(srv.URL+"/app/login"),
		chromedp.Click(`[data-testid=signin-tab-token]`),
		chromedp.WaitVisible(`[data-testid=token]`),
		chromedp.SendKeys(`[data-testid=token]`, "not-a-token"),
		chromedp.Click(`[data-testid=signin]`),
	)
	if got := text(t, other, `[data-testid=signin-error]`); got == "" {
		t.Error("no error for a bad token")
	}
}

// seed loads documents into tenant and a dashboard over them through the
// saved-objects API; it returns the expected count and top URL bucket.
func seed(t *testing.T, srv *testserver.Server, token, tenant string) (count int, topURL string, topCount int) {
	t.Helper()
	now := time.Now().UTC()
	urls := []string{"/index.html", "/index.html", "/index.html", "/login", "/login", "/api"}
	var bulk strings.Builder
	for i := 0; i < 30; i++ {
		doc := map[string]any{
			"@timestamp": now.Add(-time.Duration(i*20) * time.Second).Format(time.RFC3339),
			"url":        urls[i%len(urls)],
			"status":     []int{200, 200, 404, 500}[i%4],
			"bytes":      100 + i,
		}
		raw, _ := json.Marshal(doc)
		fmt.Fprintf(&bulk, "{\"index\":{}}\n%s\n", raw)
	}
	// Two documents outside the last 15 minutes must not count.
	for i := 0; i < 2; i++ {
		fmt.Fprintf(&bulk, "{\"index\":{}}\n{\"@timestamp\":%q,\"url\":\"/old\",\"status\":200,\"bytes\":1}\n", now.Add(-2*time.Hour).Format(time.RFC3339))
	}
	mustOK(t, srv.Do(t, "POST", "/weblogs/_bulk?refresh=true", token, tenant, bulk.String()), "bulk")

	ss := `{"query":{"query":"","language":"kuery"},"filter":[],"indexRefName":"kibanaSavedObjectMeta.searchSourceJSON.index"}`
	ipRef := []map[string]string{{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "weblogs-ip"}}
	vis := func(id, title, visState string) {
		mustOK(t, srv.Do(t, "POST", "/api/saved_objects/visualization/"+id+"?overwrite=true", token, tenant, map[string]any{
			"attributes": map[string]any{"title": title, "visState": visState, "uiStateJSON": "{}",
				"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": ss}},
			"references": ipRef,
		}, xsrf()...), "create "+id)
	}
	mustOK(t, srv.Do(t, "POST", "/api/saved_objects/index-pattern/weblogs-ip?overwrite=true", token, tenant, map[string]any{
		"attributes": map[string]any{"title": "weblogs", "timeFieldName": "@timestamp"},
	}, xsrf()...), "index pattern")
	vis("v-count", "Requests", `{"title":"Requests","type":"metric","params":{},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}}]}`)
	vis("v-urls", "Top URLs", `{"title":"Top URLs","type":"table","params":{"perPage":10},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}},{"id":"2","enabled":true,"type":"terms","schema":"bucket","params":{"field":"url.keyword","orderBy":"1","order":"desc","size":5}}]}`)
	vis("v-time", "Status over time", `{"title":"Status over time","type":"histogram","params":{"type":"histogram"},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}},{"id":"2","enabled":true,"type":"date_histogram","schema":"segment","params":{"field":"@timestamp","interval":"auto","min_doc_count":1}},{"id":"3","enabled":true,"type":"filters","schema":"group","params":{"filters":[{"input":{"query":"status:[200 TO 299]","language":"lucene"},"label":"2xx"},{"input":{"query":"status >= 400","language":"kuery"},"label":"errors"}]}}]}`)
	vis("v-pie", "Status", `{"title":"Status","type":"pie","params":{"isDonut":true},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}},{"id":"2","enabled":true,"type":"terms","schema":"segment","params":{"field":"status","orderBy":"1","order":"desc","size":5}}]}`)
	panels := `[` +
		`{"panelIndex":"1","gridData":{"x":0,"y":0,"w":12,"h":8,"i":"1"},"panelRefName":"panel_0","embeddableConfig":{}},` +
		`{"panelIndex":"2","gridData":{"x":12,"y":0,"w":36,"h":8,"i":"2"},"panelRefName":"panel_1","embeddableConfig":{}},` +
		`{"panelIndex":"3","gridData":{"x":0,"y":8,"w":24,"h":12,"i":"3"},"panelRefName":"panel_2","embeddableConfig":{}},` +
		`{"panelIndex":"4","gridData":{"x":24,"y":8,"w":24,"h":12,"i":"4"},"panelRefName":"panel_3","embeddableConfig":{}}]`
	mustOK(t, srv.Do(t, "POST", "/api/saved_objects/dashboard/web?overwrite=true", token, tenant, map[string]any{
		"attributes": map[string]any{"title": "Web traffic", "panelsJSON": panels, "timeRestore": false,
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": `{"query":{"query":"","language":"kuery"},"filter":[]}`}},
		"references": []map[string]string{
			{"name": "panel_0", "type": "visualization", "id": "v-count"},
			{"name": "panel_1", "type": "visualization", "id": "v-urls"},
			{"name": "panel_2", "type": "visualization", "id": "v-time"},
			{"name": "panel_3", "type": "visualization", "id": "v-pie"},
		},
	}, xsrf()...), "dashboard")
	byURL := map[string]int{}
	for i := 0; i < 30; i++ {
		byURL[urls[i%len(urls)]]++
	}
	return 30, "/index.html", byURL["/index.html"]
}

func TestBrowserDashboardSharedLink(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	count, topURL, topCount := seed(t, srv, alice, "analysts")
	link := "/app/dashboards/view/web?security_tenant=analysts&_g=(time:(from:now-15m,to:now))"

	signIn(t, ctx, srv.URL, alice, link)
	if got := text(t, ctx, `[data-testid=metric-value]`); got != fmt.Sprint(count) {
		t.Errorf("metric = %q, want %d", got, count)
	}
	var firstRow []string
	run(t, ctx,
		chromedp.WaitVisible(`[data-title="Top URLs"] tbody tr`),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-title="Top URLs"] tbody tr:first-child td')].map(td => td.textContent)`, &firstRow),
	)
	if fmt.Sprint(firstRow) != fmt.Sprint([]string{topURL, fmt.Sprint(topCount)}) {
		t.Errorf("top URL row = %q, want [%s %d]", firstRow, topURL, topCount)
	}
	var values string
	run(t, ctx,
		chromedp.WaitVisible(`[data-title="Status over time"] .chart`),
		chromedp.AttributeValue(`[data-title="Status over time"] .chart`, "data-values", &values, nil),
	)
	var series map[string][]int
	if err := json.Unmarshal([]byte(values), &series); err != nil {
		t.Fatalf("chart values %q: %v", values, err)
	}
	sum := func(xs []int) (n int) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	// status cycles 200, 200, 404, 500 over i = 0..count-1.
	ok := 0
	for i := 0; i < count; i++ {
		if i%4 < 2 {
			ok++
		}
	}
	if sum(series["2xx"]) != ok || sum(series["errors"]) != count-ok {
		t.Errorf("series = %v, want %d 2xx and %d errors", series, ok, count-ok)
	}
	time.Sleep(300 * time.Millisecond) // let the canvases paint for the screenshot
	shot(t, ctx, "dashboard-analysts")

	// The share menu's link keeps the tenant.
	var shared string
	run(t, ctx, chromedp.Click(`[data-testid=share]`), chromedp.WaitVisible(`[data-testid=share-link]`),
		chromedp.Value(`[data-testid=share-link]`, &shared))
	if !strings.Contains(shared, "security_tenant=analysts") || !strings.Contains(shared, "_g=") {
		t.Errorf("shared link %q lacks the tenant or time", shared)
	}
	var short string
	run(t, ctx, chromedp.Click(`[data-testid=short-link-create]`), chromedp.WaitVisible(`[data-testid=short-link]`),
		chromedp.Value(`[data-testid=short-link]`, &short))
	if !strings.Contains(short, "/goto/") || strings.Contains(short, "/app/goto/") || !strings.Contains(short, "security_tenant=analysts") {
		t.Errorf("short link = %q", short)
	}
	// Following the short link lands on the same dashboard.
	run(t, ctx, chromedp.Navigate(short))
	if got := text(t, ctx, `[data-testid=metric-value]`); got != fmt.Sprint(count) {
		t.Errorf("metric after short link = %q, want %d", got, count)
	}

	// The same link for a user without access to analysts.
	// hr_jan opens the link signed out, signs in on it and stays on it.
	other := tab(t, ctx)
	run(t, other,
		chromedp.Navigate(srv.URL+link),
		chromedp.Click(`[data-testid=signin-tab-token]`),
		chromedp.WaitVisible(`[data-testid=token]`),
		chromedp.SendKeys(`[data-testid=token]`, testserver.Token(t, "hr_jan")),
		chromedp.Click(`[data-testid=signin]`),
	)
	if got := text(t, other, `[data-testid=no-access-tenant]`); got != "analysts" {
		t.Errorf("no-access page names %q, want analysts", got)
	}
	var panels int
	run(t, other, chromedp.Evaluate(`document.querySelectorAll('[data-testid=panel]').length`, &panels))
	if panels != 0 {
		t.Errorf("no-access page shows %d panels", panels)
	}
	shot(t, other, "no-access")
}

func TestBrowserNoAccessWithoutData(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	signIn(t, ctx, srv.URL, testserver.Token(t, "bob"), "/app/dashboards/view/x?security_tenant=human_resources")
	if got := text(t, ctx, `[data-testid=no-access-tenant]`); got != "human_resources" {
		t.Errorf("no-access page names %q, want human_resources", got)
	}
}

func TestBrowserTwoTabsTwoTenants(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	seed(t, srv, alice, "analysts")
	tab1, tab2 := ctx, tab(t, ctx)
	signIn(t, tab1, srv.URL, alice, "/app/dashboards?security_tenant=analysts")
	signIn(t, tab2, srv.URL, alice, "/app/dashboards?security_tenant=global")
	// Both tabs keep their own tenant, also after the other one reloads.
	run(t, tab2, chromedp.Reload())
	run(t, tab1, chromedp.Reload())
	if got := text(t, tab1, `[data-testid=dashboard-link]`); got != "Web traffic" {
		t.Errorf("tab 1 (analysts) lists %q", got)
	}
	if got := text(t, tab2, `[data-testid=no-dashboards]`); got == "" {
		t.Error("tab 2 (global) should list no dashboards")
	}
	var v1, v2 string
	run(t, tab1, chromedp.Value(`[data-testid=tenant-switcher]`, &v1))
	run(t, tab2, chromedp.Value(`[data-testid=tenant-switcher]`, &v2))
	if v1 != "analysts" || v2 != "global" {
		t.Errorf("switchers = %q, %q", v1, v2)
	}
	// Switching in tab 2 moves tab 2 only.
	run(t, tab2, chromedp.SetValue(`[data-testid=tenant-switcher]`, "analysts"),
		chromedp.Evaluate(`document.querySelector('[data-testid=tenant-switcher]').dispatchEvent(new Event('change', {bubbles: true}))`, nil))
	if got := text(t, tab2, `[data-testid=dashboard-link]`); got != "Web traffic" {
		t.Errorf("tab 2 after switching lists %q", got)
	}
	var loc string
	run(t, tab2, chromedp.Location(&loc))
	if !strings.Contains(loc, "security_tenant=analysts") {
		t.Errorf("tab 2 URL %q", loc)
	}
	shot(t, tab1, "two-tabs-analysts")
}

func TestBrowserImportNDJSON(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	nd := filepath.Join(testserver.OSDFixtures(t), "nginx-1.0.0.ndjson")
	signIn(t, ctx, srv.URL, alice, "/app/management/objects?security_tenant=private")
	run(t, ctx,
		chromedp.WaitVisible(`[data-testid=import-file]`),
		chromedp.SetUploadFiles(`[data-testid=import-file]`, []string{nd}),
		chromedp.Click(`[data-testid=import]`),
	)
	if got := text(t, ctx, `[data-testid=result]`); !strings.Contains(got, "Imported 12 object(s)") {
		t.Errorf("import result = %q", got)
	}
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards?security_tenant=private"),
		chromedp.WaitVisible(`[data-testid=dashboard-link]`))
	var titles []string
	run(t, ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=dashboard-link]')].map(a => a.textContent)`, &titles))
	if !strings.Contains(fmt.Sprint(titles), "Nginx Logs Overview") {
		t.Errorf("dashboards after import = %q", titles)
	}
	shot(t, ctx, "import-nginx")
}

func TestBrowserCopyPrivateToShared(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	count, _, _ := seed(t, srv, alice, "private")
	// The data lives in analysts too, so the copied dashboard renders there.
	seed(t, srv, alice, "analysts")
	mustOK(t, srv.Do(t, "DELETE", "/api/saved_objects/dashboard/web", alice, "analysts", nil, xsrf()...), "delete analysts dashboard")

	signIn(t, ctx, srv.URL, alice, "/app/management/objects?security_tenant=private")
	run(t, ctx,
		chromedp.WaitVisible(`[data-testid=object-row][data-id=web] input[type=checkbox]`),
		chromedp.Click(`[data-testid=object-row][data-id=web] input[type=checkbox]`),
		chromedp.SetValue(`[data-testid=copy-target]`, "analysts"),
		chromedp.Evaluate(`document.querySelector('[data-testid=copy-target]').dispatchEvent(new Event('change', {bubbles: true}))`, nil),
		chromedp.Click(`[data-testid=copy]`),
	)
	if got := text(t, ctx, `[data-testid=result]`); !strings.Contains(got, "Copied to analysts") {
		t.Errorf("copy result = %q", got)
	}
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards/view/web?security_tenant=analysts"))
	if got := text(t, ctx, `[data-testid=metric-value]`); got != fmt.Sprint(count) {
		t.Errorf("copied dashboard metric = %q, want %d", got, count)
	}
	shot(t, ctx, "copied-to-analysts")
}

// TestBrowserLoadSampleData presses "Load sample data" in an empty tenant
// and sees the sample dashboard's metric equal the generator's count of
// documents within the time range shown.
func TestBrowserLoadSampleData(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")

	// A read-only member sees no button (alice reads executive only).
	signIn(t, ctx, srv.URL, alice, "/app/dashboards?security_tenant=executive")
	text(t, ctx, `[data-testid=no-dashboards]`)
	var buttons int
	run(t, ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid=load-sample]').length`, &buttons))
	if buttons != 0 {
		t.Errorf("read-only tenant shows %d sample data buttons", buttons)
	}

	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards?security_tenant=analysts"),
		chromedp.WaitVisible(`[data-testid=load-sample]`),
		chromedp.Click(`[data-testid=load-sample]`),
	)
	if got := text(t, ctx, `[data-testid=dashboard-title]`); got != "[Sample] Web logs" {
		t.Fatalf("opened %q", got)
	}
	// The dashboard opens over the loaded span, an absolute _g whose end is
	// the generator's Now.
	var loc string
	run(t, ctx, chromedp.Location(&loc))
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`from:'([^']+)',to:'([^']+)'`).FindStringSubmatch(u.Query().Get("_g"))
	if m == nil {
		t.Fatalf("dashboard URL %q has no absolute time range", loc)
	}
	from, err1 := time.Parse(time.RFC3339, m[1])
	to, err2 := time.Parse(time.RFC3339, m[2])
	if err1 != nil || err2 != nil {
		t.Fatalf("time range %q: %v %v", m[0], err1, err2)
	}
	logs := sample.GenerateWeblogs(sample.WeblogOptions{Now: to})
	within := func(from, to time.Time) int {
		n := 0
		for _, l := range logs {
			ts, err := time.Parse(time.RFC3339Nano, l.Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			if !ts.Before(from) && !ts.After(to) {
				n++
			}
		}
		return n
	}
	metric := `[data-title="[Sample] Web logs: total requests"] [data-testid=metric-value]`
	if got, want := text(t, ctx, metric), within(from, to); got != formatThousands(want) {
		t.Errorf("metric over %s = %q, want %d", m[0], got, want)
	}
	time.Sleep(300 * time.Millisecond)
	shot(t, ctx, "sample-weblogs")

	// Narrowed to the last day of the data: the generator's count there.
	dayFrom := to.Add(-24 * time.Hour)
	g := fmt.Sprintf("(time:(from:'%s',to:'%s'))", dayFrom.Format(time.RFC3339), to.Format(time.RFC3339))
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards/view/"+sample.WeblogsDashboardID+"?security_tenant=analysts&_g="+url.QueryEscape(g)))
	want := within(dayFrom, to)
	var got string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = text(t, ctx, metric)
		if got == formatThousands(want) || time.Now().After(deadline) {
			break
		}
	}
	if got != formatThousands(want) {
		t.Errorf("metric over the last day = %q, want %d", got, want)
	}

	// The management screen has the button too; pressing it again keeps
	// one copy of everything.
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/management/objects?security_tenant=analysts"),
		chromedp.WaitVisible(`[data-testid=load-sample]`),
		chromedp.Click(`[data-testid=load-sample]`),
	)
	if got := text(t, ctx, `[data-testid=dashboard-title]`); got != "[Sample] Web logs" {
		t.Fatalf("opened %q", got)
	}
	if got := text(t, ctx, metric); got != formatThousands(sample.DefaultWeblogCount) {
		t.Errorf("metric after loading again = %q, want %d", got, sample.DefaultWeblogCount)
	}
}

// formatThousands writes n as the UI does (en-US grouping).
func formatThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// passwordUser is a user of the internal_users.yml passwordServer writes.
type passwordUser struct {
	password     string
	backendRoles []string
}

// passwordServer starts a server whose security files are the shipped
// ones plus an internal_users.yml with users (bcrypt at cost 4).
func passwordServer(t *testing.T, users map[string]passwordUser, mutate ...func(*config.Config)) *testserver.Server {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(testserver.RepoRoot(), "config", "security")
	files, err := filepath.Glob(filepath.Join(src, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("security files in %s: %v", src, err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var yml strings.Builder
	yml.WriteString("_meta:\n  type: internalusers\n  config_version: 2\n")
	for name, u := range users {
		hash, err := auth.HashPassword(u.password, 4)
		if err != nil {
			t.Fatal(err)
		}
		roles, _ := json.Marshal(u.backendRoles)
		fmt.Fprintf(&yml, "%s:\n  hash: %q\n  backend_roles: %s\n", name, hash, roles)
	}
	if err := os.WriteFile(filepath.Join(dir, "internal_users.yml"), []byte(yml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return testserver.Start(t, append([]func(*config.Config){func(c *config.Config) {
		c.SecurityDir = dir
		c.Auth.Passwords.BcryptCost = 4
	}}, mutate...)...)
}

// login answers POST /auth/login.
func login(t *testing.T, srv *testserver.Server, user, password string) *testserver.Response {
	t.Helper()
	return srv.Do(t, "POST", "/auth/login", "", "", map[string]string{"username": user, "password": password})
}

// serverMessage is the message of an error answer as the UI shows it:
// "message" of Kestra-style answers, error.reason of OpenSearch ones.
func serverMessage(t *testing.T, r *testserver.Response) string {
	t.Helper()
	m := r.JSON(t)
	if msg, ok := m["message"].(string); ok {
		return msg
	}
	if e, ok := m["error"].(map[string]any); ok {
		if reason, ok := e["reason"].(string); ok {
			return reason
		}
	}
	return ""
}

// signInPassword signs a tab in through the password form (the default).
func signInPassword(t *testing.T, ctx context.Context, base, user, password, next string) {
	t.Helper()
	run(t, ctx,
		chromedp.Navigate(base+"/app/login?next="+urlQueryEscape(next)),
		chromedp.WaitVisible(`[data-testid=username]`),
		chromedp.SendKeys(`[data-testid=username]`, user),
		chromedp.SendKeys(`[data-testid=password]`, password),
		chromedp.Click(`[data-testid=signin]`),
		chromedp.WaitNotPresent(`[data-testid=password]`),
	)
}

func sessionToken(t *testing.T, ctx context.Context) string {
	t.Helper()
	var tok string
	run(t, ctx, chromedp.Evaluate(`sessionStorage.getItem('tenantgate.token') ?? ''`, &tok))
	return tok
}

// TestBrowserPasswordSignInAndOut signs in with a password, lands on the
// dashboards list, signs out, and the session's token is revoked; a wrong
// password shows the server's message.
func TestBrowserPasswordSignInAndOut(t *testing.T) {
	skipWithoutBrowser(t)
	srv := passwordServer(t, map[string]passwordUser{"carol": {"carol-secret-1", []string{"analyst"}}})
	wrong := login(t, srv, "carol", "not-her-password")
	if wrong.Status != 401 {
		t.Fatalf("wrong password: %d %s", wrong.Status, wrong.Body)
	}
	wrongMsg := serverMessage(t, wrong)
	if wrongMsg == "" {
		t.Fatalf("wrong password answer has no message: %s", wrong.Body)
	}
	ctx := browser(t)

	// The password form is the default; a wrong password keeps the reader
	// on it with the server's message.
	run(t, ctx,
		chromedp.Navigate(srv.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=username]`),
		chromedp.SendKeys(`[data-testid=username]`, "carol"),
		chromedp.SendKeys(`[data-testid=password]`, "not-her-password"),
		chromedp.Click(`[data-testid=signin]`),
	)
	if got := text(t, ctx, `[data-testid=signin-error]`); got != wrongMsg {
		t.Errorf("sign-in error = %q, want the server's %q", got, wrongMsg)
	}
	if tok := sessionToken(t, ctx); tok != "" {
		t.Errorf("a failed sign-in kept a token")
	}
	shot(t, ctx, "signin-password-wrong")

	// The user name stays, the password is to be typed again.
	var user, pw string
	run(t, ctx, chromedp.Value(`[data-testid=username]`, &user), chromedp.Value(`[data-testid=password]`, &pw))
	if user != "carol" || pw != "" {
		t.Errorf("after a wrong password the form holds %q and a password of %d characters", user, len(pw))
	}
	run(t, ctx,
		chromedp.SendKeys(`[data-testid=password]`, "carol-secret-1"),
		chromedp.Click(`[data-testid=signin]`),
		chromedp.WaitVisible(`[data-testid=no-dashboards]`),
	)
	var loc string
	run(t, ctx, chromedp.Location(&loc))
	if u, err := url.Parse(loc); err != nil || u.Path != "/app/dashboards" {
		t.Errorf("landed on %q, want the dashboards list", loc)
	}
	if got := text(t, ctx, `[data-testid=user]`); got != "carol" {
		t.Errorf("signed in as %q", got)
	}
	tok := sessionToken(t, ctx)
	if !strings.HasPrefix(tok, "tgat_") {
		t.Fatalf("the session token %q is not an API token", tok)
	}
	mustOK(t, srv.Do(t, "GET", "/_plugins/_security/authinfo", tok, "", nil), "authinfo with the session token")
	shot(t, ctx, "signin-password-dashboards")

	run(t, ctx,
		chromedp.Click(`[data-testid=signout]`),
		chromedp.WaitVisible(`[data-testid=username]`),
	)
	if got := sessionToken(t, ctx); got != "" {
		t.Error("signing out kept the token in the tab")
	}
	if r := srv.Do(t, "GET", "/_plugins/_security/authinfo", tok, "", nil); r.Status != 401 {
		t.Errorf("the signed-out token still works: %d %s", r.Status, r.Body)
	}
	var notes int
	run(t, ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid=signin-note]').length`, &notes))
	if notes != 0 {
		t.Error("signing out shows the session-expired note")
	}
	shot(t, ctx, "signin-password-signed-out")
}

// TestBrowserPasswordSignInDisabled: with auth.passwords.enabled false the
// password form says so, and a token still signs in.
func TestBrowserPasswordSignInDisabled(t *testing.T) {
	skipWithoutBrowser(t)
	srv := passwordServer(t, map[string]passwordUser{"carol": {"carol-secret-1", []string{"analyst"}}},
		func(c *config.Config) { c.Auth.Passwords.Enabled = false })
	r := login(t, srv, "carol", "carol-secret-1")
	want := serverMessage(t, r)
	if r.Status < 400 || want == "" {
		t.Fatalf("sign-in with passwords disabled: %d %s", r.Status, r.Body)
	}
	ctx := browser(t)
	run(t, ctx,
		chromedp.Navigate(srv.URL+"/app/login"),
		chromedp.WaitVisible(`[data-testid=username]`),
		chromedp.SendKeys(`[data-testid=username]`, "carol"),
		chromedp.SendKeys(`[data-testid=password]`, "carol-secret-1"),
		chromedp.Click(`[data-testid=signin]`),
	)
	if got := text(t, ctx, `[data-testid=signin-error]`); got != want {
		t.Errorf("sign-in error = %q, want the server's %q", got, want)
	}
	shot(t, ctx, "signin-password-disabled")
	signIn(t, ctx, srv.URL, testserver.Token(t, "alice", "analyst"), "/app/dashboards?security_tenant=analysts")
	if got := text(t, ctx, `[data-testid=user]`); got != "alice" {
		t.Errorf("signed in with a token as %q", got)
	}
}

// TestBrowserSessionEnds: a token revoked elsewhere ends the session at the
// next call, and the sign-in page says so and returns to the page; a
// session reaches its expiry and ends by itself.
func TestBrowserSessionEnds(t *testing.T) {
	skipWithoutBrowser(t)
	const maxAge = 4 * time.Second
	srv := passwordServer(t, map[string]passwordUser{"carol": {"carol-secret-1", []string{"analyst"}}},
		func(c *config.Config) { c.Auth.APITokens.SessionMaxAge = maxAge })
	mustOK(t, login(t, srv, "carol", "carol-secret-1"), "sign-in")
	ctx := browser(t)

	t.Run("revoked", func(t *testing.T) {
		signInPassword(t, ctx, srv.URL, "carol", "carol-secret-1", "/app/dashboards?security_tenant=analysts")
		text(t, ctx, `[data-testid=no-dashboards]`)
		tok := sessionToken(t, ctx)
		if r := srv.Do(t, "POST", "/auth/logout", tok, "", nil); r.Status != 204 {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		run(t, ctx, chromedp.Click(`nav a[href*="/management/objects"]`))
		if got := text(t, ctx, `[data-testid=signin-note]`); !strings.Contains(got, "Your session expired") {
			t.Errorf("note = %q", got)
		}
		shot(t, ctx, "session-expired")
		run(t, ctx,
			chromedp.SendKeys(`[data-testid=username]`, "carol"),
			chromedp.SendKeys(`[data-testid=password]`, "carol-secret-1"),
			chromedp.Click(`[data-testid=signin]`),
			chromedp.WaitVisible(`[data-testid=import-file]`),
		)
		var loc string
		run(t, ctx, chromedp.Location(&loc))
		if !strings.Contains(loc, "/app/management/objects?security_tenant=analysts") {
			t.Errorf("back at %q, want the saved objects of analysts", loc)
		}
	})

	t.Run("expired", func(t *testing.T) {
		run(t, ctx, chromedp.Click(`[data-testid=signout]`), chromedp.WaitVisible(`[data-testid=username]`))
		start := time.Now()
		signInPassword(t, ctx, srv.URL, "carol", "carol-secret-1", "/app/dashboards?security_tenant=analysts")
		text(t, ctx, `[data-testid=no-dashboards]`)
		tok := sessionToken(t, ctx)
		var expiresMS float64
		run(t, ctx, chromedp.Evaluate(`Number(sessionStorage.getItem('tenantgate.expires'))`, &expiresMS))
		expires := time.UnixMilli(int64(expiresMS))
		if d := expires.Sub(start); d < maxAge-time.Second || d > maxAge+2*time.Second {
			t.Errorf("the UI keeps an expiry %v after signing in, want about %v", d, maxAge)
		}
		// Nothing is clicked: the UI ends the session when it expires.
		if got := text(t, ctx, `[data-testid=signin-note]`); !strings.Contains(got, "Your session expired") {
			t.Errorf("note = %q", got)
		}
		if ended := time.Now(); ended.Before(expires) {
			t.Errorf("the session ended %v before its expiry", expires.Sub(ended))
		}
		// The answer's expiry is in whole seconds: the token itself ends
		// within the second after it.
		time.Sleep(time.Until(expires.Add(time.Second + 100*time.Millisecond)))
		if r := srv.Do(t, "GET", "/_plugins/_security/authinfo", tok, "", nil); r.Status != 401 {
			t.Errorf("the expired token still works: %d %s", r.Status, r.Body)
		}
	})
}

// TestBrowserTenantAdministration: the superadmin creates a tenant in the
// administration page, it appears in the tenant switcher, locking it
// shows the badge, deleting hides it until it is restored; a user without
// the right sees the server's refusal.
func TestBrowserTenantAdministration(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t, func(c *config.Config) { c.Auth.Passwords.BcryptCost = 4 })
	admin := testserver.Token(t, "admin")
	// A superadmin created through the API signs in with a password.
	r := srv.Do(t, "PUT", "/_plugins/_security/api/internalusers/root", admin, "",
		map[string]any{"password": "root-secret-1", "superadmin": true})
	if r.Status != 201 {
		t.Fatalf("creating the superadmin: %d %s", r.Status, r.Body)
	}
	ctx := browser(t)
	signInPassword(t, ctx, srv.URL, "root", "root-secret-1", "/app/dashboards?security_tenant=global")
	if got := text(t, ctx, `[data-testid=user]`); got != "root" {
		t.Fatalf("signed in as %q", got)
	}
	run(t, ctx, chromedp.Click(`[data-testid=nav-admin-tenants]`), chromedp.WaitVisible(`[data-testid=tenant-row][data-id=analysts]`))
	// Tenants of tenants.yml are reserved.
	text(t, ctx, `[data-testid=tenant-row][data-id=analysts] [data-testid=badge-reserved]`)

	row := `[data-testid=tenant-row][data-id=stage]`
	run(t, ctx,
		chromedp.SendKeys(`[data-testid=new-tenant-id]`, "stage"),
		chromedp.SendKeys(`[data-testid=new-tenant-name]`, "Staging"),
		chromedp.SendKeys(`[data-testid=new-tenant-description]`, "before production"),
		// A superadmin administers tenants but is no member of them: as in
		// Kestra, they name the tenant's admin, here themselves.
		chromedp.SendKeys(`[data-testid=new-tenant-admin]`, "root"),
		chromedp.Click(`[data-testid=create-tenant]`),
		chromedp.WaitVisible(row),
	)
	if got := text(t, ctx, `[data-testid=admin-result]`); got != "Created tenant stage." {
		t.Errorf("result = %q", got)
	}
	r = srv.Do(t, "GET", "/api/v1/tenants/stage", admin, "", nil)
	mustOK(t, r, "get stage")
	if m := r.JSON(t); m["name"] != "Staging" || m["description"] != "before production" {
		t.Errorf("stage = %s", r.Body)
	}
	switcher := func() []string {
		var opts []string
		run(t, ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=tenant-switcher] option')].map(o => o.value)`, &opts))
		return opts
	}
	waitSwitcher := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for slices.Contains(switcher(), "stage") != want {
			if time.Now().After(deadline) {
				t.Fatalf("tenant switcher %q: stage present = %v, want %v", switcher(), !want, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitSwitcher(true)

	run(t, ctx, chromedp.Click(row+` [data-testid=tenant-lock]`), chromedp.WaitVisible(row+` [data-testid=badge-locked]`))
	if m := srv.Do(t, "GET", "/api/v1/tenants/stage", admin, "", nil).JSON(t); m["locked"] != true {
		t.Errorf("stage after lock = %v", m)
	}
	// The lock keeps members out, superadmins excepted: root still opens it.
	if r := srv.Do(t, "GET", "/_cat/indices", "", "stage", nil, testserver.Basic("root", "root-secret-1")...); r.Status != 200 {
		t.Errorf("the superadmin in a locked tenant: %d %s", r.Status, r.Body)
	}
	shot(t, ctx, "admin-tenants-locked")

	// Delete asks first, then the tenant leaves the list and the switcher
	// until it is restored.
	run(t, ctx, chromedp.Click(row+` [data-testid=tenant-delete]`), chromedp.WaitVisible(row+` [data-testid=confirm-delete]`))
	if m := srv.Do(t, "GET", "/api/v1/tenants/stage", admin, "", nil).JSON(t); m["deleted"] == true {
		t.Fatal("deleted before the confirmation")
	}
	run(t, ctx, chromedp.Click(row+` [data-testid=tenant-delete-confirm]`), chromedp.WaitNotPresent(row))
	waitSwitcher(false)
	run(t, ctx, chromedp.Click(`[data-testid=show-deleted]`), chromedp.WaitVisible(row+` [data-testid=badge-deleted]`))
	if got := text(t, ctx, row+` [data-testid=badge-deleted]`); !strings.Contains(got, "restorable until") {
		t.Errorf("deleted badge = %q", got)
	}
	shot(t, ctx, "admin-tenants-deleted")
	run(t, ctx, chromedp.Click(row+` [data-testid=tenant-restore]`), chromedp.WaitNotPresent(row+` [data-testid=badge-deleted]`))
	waitSwitcher(true)
	if m := srv.Do(t, "GET", "/api/v1/tenants/stage", admin, "", nil).JSON(t); m["deleted"] == true || m["locked"] != true {
		t.Errorf("stage after restore = %v", m)
	}

	// bob may not create tenants: the page shows the server's refusal.
	body := map[string]string{"id": "bobs", "name": "bobs"}
	refused := srv.Do(t, "POST", "/api/v1/tenants", testserver.Token(t, "bob"), "", body)
	want := serverMessage(t, refused)
	if refused.Status != 403 || want == "" {
		t.Fatalf("bob creating a tenant: %d %s", refused.Status, refused.Body)
	}
	run(t, ctx, chromedp.Click(`[data-testid=signout]`), chromedp.WaitVisible(`[data-testid=username]`))
	signIn(t, ctx, srv.URL, testserver.Token(t, "bob"), "/app/admin/tenants?security_tenant=global")
	run(t, ctx,
		chromedp.WaitVisible(`[data-testid=new-tenant-id]`),
		chromedp.SendKeys(`[data-testid=new-tenant-id]`, "bobs"),
		chromedp.Click(`[data-testid=create-tenant]`),
	)
	if got := text(t, ctx, `[data-testid=admin-result]`); got != want {
		t.Errorf("bob sees %q, want the server's %q", got, want)
	}
	// bob lists only the tenants he may read, and no stage.
	var rows []string
	run(t, ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=tenant-row]')].map(r => r.dataset.id)`, &rows))
	if slices.Contains(rows, "stage") || !slices.Contains(rows, "executive") {
		t.Errorf("bob lists %q", rows)
	}
	shot(t, ctx, "admin-tenants-refused")
}
