package webui_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// TestBrowserHostileSavedObjects opens a dashboard whose panels carry what
// an import can bring: titles and labels that are not strings, markdown
// with raw HTML and javascript: links, a saved search naming a sub-field
// of a string field, and a panel that throws while drawing. The bad panel
// says why; every other panel draws.
func TestBrowserHostileSavedObjects(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	count, _, _ := seed(t, srv, alice, "analysts")

	ss := `{"query":{"query":"","language":"kuery"},"filter":[],"indexRefName":"kibanaSavedObjectMeta.searchSourceJSON.index"}`
	ipRef := []map[string]string{{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "weblogs-ip"}}
	create := func(typ, id string, attrs map[string]any) {
		mustOK(t, srv.Do(t, "POST", "/api/saved_objects/"+typ+"/"+id+"?overwrite=true", alice, "analysts", map[string]any{
			"attributes": attrs, "references": ipRef,
		}, xsrf()...), "create "+id)
	}
	vis := func(id, title string, visState any) {
		raw, _ := json.Marshal(visState)
		create("visualization", id, map[string]any{"title": title, "visState": string(raw), "uiStateJSON": "{}",
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": ss}})
	}
	md := "# Hello\n\n<script>window.pwned=1</script><img src=x onerror=\"window.pwned=2\">\n\n" +
		"[ok](https://example.com/a) [bad](javascript:window.pwned=3) [mail](mailto:a@b) [rel](/app/dashboards)\n"
	vis("h-md", "Markdown", map[string]any{"title": "Markdown", "type": "markdown", "params": map[string]any{"markdown": md}})
	vis("h-table", "Labels", map[string]any{"title": "Labels", "type": "table", "params": map[string]any{"perPage": 10}, "aggs": []any{
		map[string]any{"id": "1", "enabled": true, "type": "count", "schema": "metric", "params": map[string]any{"customLabel": map[string]any{"n": 1}}},
		map[string]any{"id": "2", "enabled": true, "type": "terms", "schema": "bucket", "params": map[string]any{"field": "url.keyword", "size": 5, "order": "desc", "orderBy": "1", "customLabel": []any{7}}},
	}})
	// colorsRange must be a list: drawing this gauge throws.
	vis("h-crash", "Crash", map[string]any{"title": "Crash", "type": "gauge", "params": map[string]any{"gauge": map[string]any{"colorsRange": 5}}, "aggs": []any{
		map[string]any{"id": "1", "enabled": true, "type": "count", "schema": "metric", "params": map[string]any{}},
	}})
	// "url.keyword" on a document whose url is a string.
	create("search", "h-search", map[string]any{"title": "Docs", "columns": []any{"url.keyword", "status"}, "sort": []any{},
		"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": ss}})
	panels := []map[string]any{
		{"panelIndex": "1", "gridData": map[string]any{"x": 0, "y": 0, "w": 12, "h": 8}, "panelRefName": "panel_0", "title": map[string]any{"not": "a string"}},
		{"panelIndex": 2, "gridData": map[string]any{"x": 12, "y": 0, "w": 12, "h": 8}, "panelRefName": "panel_1", "title": 12345},
		{"panelIndex": "3", "gridData": map[string]any{"x": 24, "y": 0, "w": 12, "h": 8}, "panelRefName": "panel_2"},
		{"panelIndex": "4", "gridData": map[string]any{"x": 36, "y": 0, "w": "wide", "h": 8}, "panelRefName": "panel_3"},
		{"panelIndex": "5", "gridData": map[string]any{"x": 0, "y": 8, "w": 24, "h": 10}, "panelRefName": "panel_4"},
	}
	raw, _ := json.Marshal(panels)
	mustOK(t, srv.Do(t, "POST", "/api/saved_objects/dashboard/hostile?overwrite=true", alice, "analysts", map[string]any{
		"attributes": map[string]any{"title": "Hostile", "panelsJSON": string(raw), "timeRestore": false,
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": `{"query":{"query":"","language":"kuery"},"filter":[]}`}},
		"references": []map[string]string{
			{"name": "panel_0", "type": "visualization", "id": "h-md"},
			{"name": "panel_1", "type": "visualization", "id": "h-table"},
			{"name": "panel_2", "type": "visualization", "id": "h-crash"},
			{"name": "panel_3", "type": "search", "id": "h-search"},
			{"name": "panel_4", "type": "visualization", "id": "v-count"},
		},
	}, xsrf()...), "dashboard")

	signIn(t, ctx, srv.URL, alice, "/app/dashboards/view/hostile?security_tenant=analysts&_g=(time:(from:now-15m,to:now))")
	if got := text(t, ctx, `[data-title="Requests"] [data-testid=metric-value]`); got != fmt.Sprint(count) {
		t.Errorf("metric = %q, want %d", got, count)
	}
	if got := text(t, ctx, `[data-testid=panel-crash]`); !strings.HasPrefix(got, "This panel could not be drawn:") {
		t.Errorf("crashed panel says %q", got)
	}
	var titles []string
	run(t, ctx, chromedp.Evaluate(`[...document.querySelectorAll('[data-testid=panel] .panel-title')].map(h => h.textContent)`, &titles))
	if fmt.Sprint(titles) != fmt.Sprint([]string{`{"not":"a string"}`, "12345", "Crash", "Docs", "Requests"}) {
		t.Errorf("panel titles = %q", titles)
	}
	var headers []string
	run(t, ctx,
		chromedp.WaitVisible(`[data-title="12345"] tbody tr`),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-title="12345"] th')].map(th => th.textContent.trim())`, &headers))
	if fmt.Sprint(headers) != fmt.Sprint([]string{"[7]", `{"n":1}`}) {
		t.Errorf("table headers = %q", headers)
	}
	// The saved search shows "-" for url.keyword rather than throwing.
	var cells []string
	run(t, ctx,
		chromedp.WaitVisible(`[data-title="Docs"] tbody tr`),
		chromedp.Evaluate(`[...document.querySelectorAll('[data-title="Docs"] tbody tr:first-child td')].map(td => td.textContent)`, &cells))
	if len(cells) != 3 || cells[1] != "-" {
		t.Errorf("search row = %q, want [time - status]", cells)
	}

	// Markdown: rendered, raw HTML shown as text, only safe links.
	var mdOut struct {
		H1      string
		Scripts int
		Imgs    int
		Pwned   any
		Links   [][]string
		Text    string
	}
	run(t, ctx, chromedp.WaitVisible(`[data-testid=markdown] h1`), chromedp.Evaluate(`(() => {
		const m = document.querySelector('[data-testid=markdown]');
		return {
			H1: m.querySelector('h1').textContent,
			Scripts: m.querySelectorAll('script').length,
			Imgs: m.querySelectorAll('img').length,
			Pwned: window.pwned ?? null,
			Links: [...m.querySelectorAll('a')].map(a => [a.textContent, a.getAttribute('href') ?? '', a.getAttribute('rel') ?? '']),
			Text: m.textContent,
		};
	})()`, &mdOut))
	if mdOut.H1 != "Hello" || mdOut.Scripts != 0 || mdOut.Imgs != 0 || mdOut.Pwned != nil {
		t.Errorf("markdown = %+v", mdOut)
	}
	if !strings.Contains(mdOut.Text, "<script>") {
		t.Errorf("raw HTML should show as text: %q", mdOut.Text)
	}
	want := [][]string{
		{"ok", "https://example.com/a", "noopener noreferrer"},
		{"bad", "", "noopener noreferrer"},
		{"mail", "", "noopener noreferrer"},
		{"rel", "/app/dashboards", "noopener noreferrer"},
	}
	if fmt.Sprint(mdOut.Links) != fmt.Sprint(want) {
		t.Errorf("markdown links = %q, want %q", mdOut.Links, want)
	}
	shot(t, ctx, "hostile-dashboard")

	// The lists take the same objects.
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/management/objects?security_tenant=analysts"),
		chromedp.WaitVisible(`[data-testid=object-row][data-id=hostile]`))
	var crashed int
	run(t, ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid=app-crash]').length`, &crashed))
	if crashed != 0 {
		t.Error("saved objects page crashed")
	}
}

// TestBrowserLinksKeepTenant: OpenSearch Dashboards' hash links and short
// links to them open the dashboard in the tenant they name; a deep link
// naming no tenant asks; links from a private tenant name their owner and
// open for nobody else.
func TestBrowserLinksKeepTenant(t *testing.T) {
	skipWithoutBrowser(t)
	srv := testserver.Start(t)
	ctx := browser(t)
	alice := testserver.Token(t, "alice", "analyst")
	count, _, _ := seed(t, srv, alice, "analysts")
	signIn(t, ctx, srv.URL, alice, "/app/dashboards?security_tenant=global")

	// What `tenantgate sample load` prints: the tenant inside the hash.
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards#/view/web?security_tenant=analysts&_g=(time:(from:now-15m,to:now))"))
	if got := text(t, ctx, `[data-testid=metric-value]`); got != fmt.Sprint(count) {
		t.Errorf("hash link metric = %q, want %d", got, count)
	}
	var loc string
	run(t, ctx, chromedp.Location(&loc))
	if u, _ := url.Parse(loc); u.Path != "/app/dashboards/view/web" || u.Query().Get("security_tenant") != "analysts" {
		t.Errorf("hash link landed on %q", loc)
	}

	// A short link to OpenSearch Dashboards' form of the same link.
	r := srv.Do(t, "POST", "/api/shorten_url", alice, "analysts",
		map[string]any{"url": "/app/dashboards?_a=(x)#/view/web?_g=(time:(from:now-15m,to:now))"}, xsrf()...)
	mustOK(t, r, "shorten")
	var short struct {
		URLID string `json:"urlId"`
	}
	if err := json.Unmarshal(r.Body, &short); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, chromedp.Navigate(srv.URL+"/goto/"+short.URLID+"?security_tenant=analysts"))
	if got := text(t, ctx, `[data-testid=dashboard-title]`); got != "Web traffic" {
		t.Errorf("short link opened %q", got)
	}

	// A deep link that names no tenant: the reader picks, nothing loads.
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards/view/web"), chromedp.WaitVisible(`[data-testid=pick-tenant]`))
	var panels int
	run(t, ctx, chromedp.Evaluate(`document.querySelectorAll('[data-testid=panel]').length`, &panels))
	if panels != 0 {
		t.Errorf("a deep link without a tenant shows %d panels", panels)
	}

	// Private: alice's link names her; the share menu says so.
	seed(t, srv, alice, "private")
	run(t, ctx, chromedp.Navigate(srv.URL+"/app/dashboards/view/web?security_tenant=private"))
	text(t, ctx, `[data-testid=metric-value]`)
	run(t, ctx, chromedp.Location(&loc))
	if u, _ := url.Parse(loc); u.Query().Get("private_owner") != "alice" {
		t.Errorf("private dashboard URL %q lacks private_owner=alice", loc)
	}
	var shared string
	run(t, ctx, chromedp.Click(`[data-testid=share]`), chromedp.WaitVisible(`[data-testid=share-private-note]`),
		chromedp.Value(`[data-testid=share-link]`, &shared))
	if !strings.Contains(shared, "private_owner=alice") {
		t.Errorf("shared private link %q", shared)
	}
	var shortLink string
	run(t, ctx, chromedp.Click(`[data-testid=short-link-create]`), chromedp.WaitVisible(`[data-testid=short-link]`),
		chromedp.Value(`[data-testid=short-link]`, &shortLink))
	if !strings.Contains(shortLink, "private_owner=alice") {
		t.Errorf("private short link %q", shortLink)
	}
	var hrefs []string
	run(t, ctx, chromedp.Evaluate(`[...document.querySelectorAll('a[href*="security_tenant=private"]')].map(a => a.getAttribute('href'))`, &hrefs))
	for _, h := range hrefs {
		if !strings.Contains(h, "private_owner=alice") {
			t.Errorf("link %q into the private tenant lacks its owner", h)
		}
	}

	// Someone else opening it: the no-access page names alice's private
	// tenant, not "no dashboard web in Private".
	other := tab(t, ctx)
	signIn(t, other, srv.URL, testserver.Token(t, "bob", "analyst"), strings.TrimPrefix(shared, srv.URL))
	if got := text(t, other, `[data-testid=no-access-tenant]`); got != "the private tenant of alice" {
		t.Errorf("no-access names %q", got)
	}
	run(t, other, chromedp.Evaluate(`document.querySelectorAll('[data-testid=panel]').length`, &panels))
	if panels != 0 {
		t.Errorf("bob sees %d panels of alice's private dashboard", panels)
	}
}
