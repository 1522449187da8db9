package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// TestBrowserVisTypes covers the visualization types of issue 3 that the
// nginx and weblogs tests leave out: a gauge (count), a pie (terms on a
// keyword), a line (count per date_histogram) and a metric with avg, min,
// max and sum of a numeric field. A small deterministic data set goes into
// a tenant, the objects go through the saved-objects API in the shapes OSD
// writes, and every panel's numbers are compared with numbers computed here
// from the same documents.
func TestBrowserVisTypes(t *testing.T) {
	skipWithoutBrowser(t)

	// 40 documents, one every 7 minutes from 10:00 UTC (the last at
	// 14:33), plus three a day earlier that the time range must leave out.
	base := time.Date(2024, 3, 5, 10, 0, 0, 0, time.UTC)
	window := struct{ from, to time.Time }{base, base.Add(5 * time.Hour)}
	type doc struct {
		ts       time.Time
		category string
		bytes    int
	}
	cats := []string{"alpha", "alpha", "alpha", "beta", "beta", "gamma", "alpha", "delta", "beta", "gamma"}
	var docs []doc
	for i := 0; i < 40; i++ {
		docs = append(docs, doc{base.Add(time.Duration(i*7) * time.Minute), cats[i%len(cats)], 100 + (i*37)%251})
	}
	outside := []doc{
		{base.Add(-24 * time.Hour), "alpha", 5000},
		{base.Add(-23 * time.Hour), "epsilon", 1},
		{base.Add(-22 * time.Hour), "epsilon", 9000},
	}

	// What the panels must show, from the documents inside the window.
	var (
		count      int
		byCategory = map[string]float64{}
		perHour    = map[int64]int{}
		sum        int
		minB, maxB = math.MaxInt, math.MinInt
	)
	for _, d := range docs {
		if d.ts.Before(window.from) || d.ts.After(window.to) {
			t.Fatalf("document at %s outside the window", d.ts)
		}
		count++
		byCategory[d.category]++
		perHour[d.ts.Truncate(time.Hour).Unix()]++
		sum += d.bytes
		minB, maxB = min(minB, d.bytes), max(maxB, d.bytes)
	}
	var hours []int64
	for h := range perHour {
		hours = append(hours, h)
	}
	sort.Slice(hours, func(i, j int) bool { return hours[i] < hours[j] })
	var lineSeries []float64
	for _, h := range hours {
		lineSeries = append(lineSeries, float64(perHour[h]))
	}
	avg := float64(sum) / float64(count)

	srv := testserver.Start(t)
	ctx := browser(t)
	const tenant = "analysts"
	alice := testserver.Token(t, "alice", "analyst")

	var bulk strings.Builder
	for _, d := range append(append([]doc{}, docs...), outside...) {
		raw, _ := json.Marshal(map[string]any{"@timestamp": d.ts.Format(time.RFC3339), "category": d.category, "bytes": d.bytes})
		fmt.Fprintf(&bulk, "{\"index\":{}}\n%s\n", raw)
	}
	mustOK(t, srv.Do(t, "POST", "/vistypes/_bulk?refresh=true", alice, tenant, bulk.String()), "bulk")

	mustOK(t, srv.Do(t, "POST", "/api/saved_objects/index-pattern/vistypes-ip?overwrite=true", alice, tenant, map[string]any{
		"attributes": map[string]any{"title": "vistypes", "timeFieldName": "@timestamp"},
	}, xsrf()...), "index pattern")
	ss := `{"query":{"query":"","language":"kuery"},"filter":[],"indexRefName":"kibanaSavedObjectMeta.searchSourceJSON.index"}`
	ipRef := []map[string]string{{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "vistypes-ip"}}
	vis := func(id, title, visState string) {
		t.Helper()
		mustOK(t, srv.Do(t, "POST", "/api/saved_objects/visualization/"+id+"?overwrite=true", alice, tenant, map[string]any{
			"attributes": map[string]any{"title": title, "visState": visState, "uiStateJSON": "{}", "description": "", "version": 1,
				"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": ss}},
			"references": ipRef,
		}, xsrf()...), "create "+id)
	}
	vis("vt-gauge", "Documents gauge", `{"title":"Documents gauge","type":"gauge","params":{"type":"gauge","addTooltip":true,"addLegend":true,"isDisplayWarning":false,"gauge":{"alignment":"automatic","extendRange":true,"percentageMode":false,"gaugeType":"Arc","gaugeStyle":"Full","backStyle":"Full","orientation":"vertical","colorSchema":"Green to Red","gaugeColorMode":"Labels","colorsRange":[{"from":0,"to":50},{"from":50,"to":75},{"from":75,"to":100}],"invertColors":false,"labels":{"show":true,"color":"black"},"scale":{"show":true,"labels":false,"color":"rgba(105,112,125,0.2)"},"type":"meter","style":{"bgWidth":0.9,"width":0.9,"mask":false,"bgMask":false,"maskBars":50,"bgFill":"rgba(105,112,125,0.2)","bgColor":true,"subText":"","fontSize":60}}},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}}]}`)
	vis("vt-pie", "Categories", `{"title":"Categories","type":"pie","params":{"type":"pie","addTooltip":true,"addLegend":true,"legendPosition":"right","isDonut":true,"labels":{"show":false,"values":true,"last_level":true,"truncate":100}},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}},{"id":"2","enabled":true,"type":"terms","schema":"segment","params":{"field":"category.keyword","orderBy":"1","order":"desc","size":5,"otherBucket":false,"otherBucketLabel":"Other","missingBucket":false,"missingBucketLabel":"Missing"}}]}`)
	vis("vt-line", "Documents per hour", `{"title":"Documents per hour","type":"line","params":{"type":"line","grid":{"categoryLines":false},"categoryAxes":[{"id":"CategoryAxis-1","type":"category","position":"bottom","show":true,"scale":{"type":"linear"},"labels":{"show":true,"filter":true,"truncate":100},"title":{}}],"valueAxes":[{"id":"ValueAxis-1","name":"LeftAxis-1","type":"value","position":"left","show":true,"scale":{"type":"linear","mode":"normal"},"labels":{"show":true,"rotate":0,"filter":false,"truncate":100},"title":{"text":"Count"}}],"seriesParams":[{"show":true,"type":"line","mode":"normal","data":{"label":"Count","id":"1"},"valueAxis":"ValueAxis-1","drawLinesBetweenPoints":true,"lineWidth":2,"interpolate":"linear","showCircles":true}],"addTooltip":true,"addLegend":true,"legendPosition":"right","times":[],"addTimeMarker":false},"aggs":[{"id":"1","enabled":true,"type":"count","schema":"metric","params":{}},{"id":"2","enabled":true,"type":"date_histogram","schema":"segment","params":{"field":"@timestamp","timeRange":{"from":"now-15m","to":"now"},"useNormalizedOpenSearchInterval":true,"scaleMetricValues":false,"interval":"h","drop_partials":false,"min_doc_count":1,"extended_bounds":{}}}]}`)
	vis("vt-metric", "Bytes stats", `{"title":"Bytes stats","type":"metric","params":{"addTooltip":true,"addLegend":false,"type":"metric","metric":{"percentageMode":false,"useRanges":false,"colorSchema":"Green to Red","metricColorMode":"None","colorsRange":[{"from":0,"to":10000}],"labels":{"show":true},"invertColors":false,"style":{"bgFill":"#000","bgColor":false,"labelColor":false,"subText":"","fontSize":60}}},"aggs":[{"id":"1","enabled":true,"type":"avg","schema":"metric","params":{"field":"bytes"}},{"id":"2","enabled":true,"type":"min","schema":"metric","params":{"field":"bytes"}},{"id":"3","enabled":true,"type":"max","schema":"metric","params":{"field":"bytes"}},{"id":"4","enabled":true,"type":"sum","schema":"metric","params":{"field":"bytes"}}]}`)

	ids := []string{"vt-gauge", "vt-pie", "vt-line", "vt-metric"}
	var panels []map[string]any
	var refs []map[string]string
	for i, id := range ids {
		idx := strconv.Itoa(i + 1)
		panels = append(panels, map[string]any{
			"version": "2.11.0", "panelIndex": idx, "embeddableConfig": map[string]any{},
			"gridData":     map[string]any{"x": (i % 2) * 24, "y": (i / 2) * 15, "w": 24, "h": 15, "i": idx},
			"panelRefName": fmt.Sprintf("panel_%d", i),
		})
		refs = append(refs, map[string]string{"name": fmt.Sprintf("panel_%d", i), "type": "visualization", "id": id})
	}
	panelsJSON, _ := json.Marshal(panels)
	mustOK(t, srv.Do(t, "POST", "/api/saved_objects/dashboard/vistypes?overwrite=true", alice, tenant, map[string]any{
		"attributes": map[string]any{"title": "Vis types", "hits": 0, "version": 1, "timeRestore": false,
			"optionsJSON": `{"hidePanelTitles":false,"useMargins":true}`, "panelsJSON": string(panelsJSON),
			"kibanaSavedObjectMeta": map[string]any{"searchSourceJSON": `{"query":{"query":"","language":"kuery"},"filter":[]}`}},
		"references": refs,
	}, xsrf()...), "dashboard")

	g := fmt.Sprintf("(time:(from:'%s',to:'%s'))", window.from.Format(time.RFC3339Nano), window.to.Format(time.RFC3339Nano))
	signIn(t, ctx, srv.URL, alice, "/app/dashboards/view/vistypes?security_tenant="+tenant+"&_g="+g)
	if got := text(t, ctx, `[data-testid=dashboard-title]`); got != "Vis types" {
		t.Fatalf("title = %q", got)
	}

	t.Run("gauge", func(t *testing.T) {
		got := numberValues(t, ctx, "Documents gauge")
		want := map[string]float64{"Count": float64(count)}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("gauge = %v, want %v", got, want)
		}
	})
	t.Run("pie", func(t *testing.T) {
		got := numberValues(t, ctx, "Categories")
		if fmt.Sprint(got) != fmt.Sprint(byCategory) {
			t.Errorf("slices = %v, want %v", got, byCategory)
		}
	})
	t.Run("line", func(t *testing.T) {
		got := chartValues(t, ctx, "Documents per hour")
		want := map[string][]float64{"Count": lineSeries}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("series = %v, want %v", got, want)
		}
	})
	t.Run("metric", func(t *testing.T) {
		sel := `[data-title="Bytes stats"] .metric`
		var got [][]string
		run(t, ctx, chromedp.WaitVisible(sel),
			chromedp.Evaluate(fmt.Sprintf(`[...document.querySelectorAll(%q)].map(m => [m.querySelector('.metric-label').textContent, m.querySelector('[data-testid=metric-value]').textContent])`, sel), &got))
		want := [][]string{
			{"Average bytes", formatMetric(avg)},
			{"Min bytes", formatMetric(float64(minB))},
			{"Max bytes", formatMetric(float64(maxB))},
			{"Sum of bytes", formatMetric(float64(sum))},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("metrics = %q, want %q", got, want)
		}
	})
	time.Sleep(300 * time.Millisecond) // let the canvases paint
	shot(t, ctx, "vistypes")
	t.Logf("count %d; categories %v; per hour %v; bytes avg %v min %d max %d sum %d", count, byCategory, lineSeries, avg, minB, maxB, sum)
}

// numberValues reads a chart panel's data-values when it maps names to
// single numbers (pie slices, a gauge's value).
func numberValues(t *testing.T, ctx context.Context, title string) map[string]float64 {
	t.Helper()
	sel := fmt.Sprintf(`[data-title=%q] .chart`, title)
	var values string
	run(t, ctx, chromedp.WaitVisible(sel), chromedp.AttributeValue(sel, "data-values", &values, nil))
	var m map[string]float64
	if err := json.Unmarshal([]byte(values), &m); err != nil {
		t.Fatalf("%s: chart values %q: %v", title, values, err)
	}
	return m
}

// formatMetric writes v as the metric panel does (en-US grouping, at most
// three fraction digits).
func formatMetric(v float64) string {
	r := math.Round(v*1000) / 1000
	s := strconv.FormatFloat(r, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	n, err := strconv.Atoi(intPart)
	if err != nil {
		panic(err)
	}
	out := formatThousands(n)
	if frac != "" {
		out += "." + frac
	}
	return out
}
