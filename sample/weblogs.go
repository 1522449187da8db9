package sample

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// The weblogs set: its index, template and the defaults of its generator.
const (
	WeblogsIndex    = "sample_weblogs"
	WeblogsTemplate = "sample_weblogs"
	// DefaultSeed is the generator's fixed seed.
	DefaultSeed = 20240601
	// DefaultWeblogCount is how many documents the set has by default.
	DefaultWeblogCount = 3000
	// DefaultWeblogDays is how many days before Now the logs span.
	DefaultWeblogDays = 7
)

// WeblogOptions shape the generated web logs. Zero values take the
// defaults; the same options always give the same bytes.
type WeblogOptions struct {
	// Now is the end of the time span (default: the current time,
	// truncated to the minute).
	Now   time.Time
	Seed  uint64
	Count int
	Days  int
}

func (o WeblogOptions) withDefaults() WeblogOptions {
	if o.Now.IsZero() {
		o.Now = time.Now().Truncate(time.Minute)
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Count <= 0 {
		o.Count = DefaultWeblogCount
	}
	if o.Days <= 0 {
		o.Days = DefaultWeblogDays
	}
	return o
}

// Weblog is one generated web log document.
type Weblog struct {
	Timestamp string `json:"@timestamp"`
	Host      string `json:"host"`
	HTTP      struct {
		Request struct {
			Method string `json:"method"`
		} `json:"request"`
		Response struct {
			StatusCode int   `json:"status_code"`
			Bytes      int64 `json:"bytes"`
		} `json:"response"`
	} `json:"http"`
	URL struct {
		Path string `json:"path"`
	} `json:"url"`
	Client struct {
		IP string `json:"ip"`
	} `json:"client"`
	UserAgent struct {
		Name string `json:"name"`
	} `json:"user_agent"`
	Geo struct {
		Country string `json:"country"`
	} `json:"geo"`
	Message        string  `json:"message"`
	ResponseTimeMS float64 `json:"response_time_ms"`
}

// weblogFields is the mapping of the set, as (path, OpenSearch type); the
// index template and the index pattern's field list both come from it.
var weblogFields = []struct{ path, typ string }{
	{"@timestamp", "date"},
	{"client.ip", "ip"},
	{"geo.country", "keyword"},
	{"host", "keyword"},
	{"http.request.method", "keyword"},
	{"http.response.bytes", "long"},
	{"http.response.status_code", "long"},
	{"message", "text"},
	{"response_time_ms", "float"},
	{"url.path", "keyword"},
	{"user_agent.name", "keyword"},
}

type weighted[T any] struct {
	v T
	w int
}

func pick[T any](r *rand.Rand, choices []weighted[T]) T {
	total := 0
	for _, c := range choices {
		total += c.w
	}
	n := r.IntN(total)
	for _, c := range choices {
		if n < c.w {
			return c.v
		}
		n -= c.w
	}
	return choices[len(choices)-1].v
}

// pathSpec is a URL path with its typical response size and latency.
type pathSpec struct {
	path  string
	bytes int64
	ms    float64
}

var (
	hosts   = []weighted[string]{{"web-01", 30}, {"web-02", 30}, {"web-03", 20}, {"api-01", 12}, {"api-02", 8}}
	methods = []weighted[string]{{"GET", 80}, {"POST", 12}, {"PUT", 4}, {"DELETE", 2}, {"HEAD", 2}}
	paths   = []weighted[pathSpec]{
		{pathSpec{"/", 12400, 35}, 14}, {pathSpec{"/index.html", 12400, 30}, 6},
		{pathSpec{"/products", 48200, 120}, 12}, {pathSpec{"/products/search", 31800, 180}, 7},
		{pathSpec{"/cart", 8600, 60}, 6}, {pathSpec{"/checkout", 9100, 240}, 3},
		{pathSpec{"/login", 5200, 90}, 5}, {pathSpec{"/api/v1/orders", 2300, 150}, 8},
		{pathSpec{"/api/v1/users", 1800, 80}, 5}, {pathSpec{"/static/app.js", 184000, 12}, 10},
		{pathSpec{"/static/style.css", 42000, 8}, 9}, {pathSpec{"/favicon.ico", 1150, 3}, 6},
		{pathSpec{"/health", 15, 1}, 9},
	}
	statuses = []weighted[int]{{200, 800}, {304, 50}, {301, 20}, {404, 70}, {401, 10}, {403, 10}, {500, 30}, {503, 10}}
	agents   = []weighted[string]{{"Chrome", 50}, {"Safari", 20}, {"Firefox", 15}, {"Edge", 8}, {"curl", 4}, {"Googlebot", 3}}
	// agentStrings are the User-Agent headers written into the message.
	agentStrings = map[string]string{
		"Chrome":    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		"Safari":    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
		"Firefox":   "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
		"Edge":      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36 Edg/124.0",
		"curl":      "curl/8.5.0",
		"Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
	}
	countries = []weighted[string]{{"US", 30}, {"DE", 12}, {"GB", 10}, {"FR", 9}, {"IN", 9}, {"BR", 7}, {"JP", 7}, {"CA", 6}, {"NL", 5}, {"AU", 5}}
	// hourWeight makes traffic follow the day: quiet at night, busy in
	// the afternoon (UTC).
	hourWeight = [24]int{3, 2, 2, 2, 2, 3, 5, 7, 9, 10, 11, 12, 12, 12, 13, 13, 12, 11, 10, 9, 8, 6, 5, 4}
)

// GenerateWeblogs returns the documents of the web logs set, sorted by
// time, all within the o.Days days before o.Now.
func GenerateWeblogs(o WeblogOptions) []Weblog {
	o = o.withDefaults()
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	clients := make([]string, 400)
	for i := range clients {
		switch r.IntN(4) {
		case 0:
			clients[i] = fmt.Sprintf("10.%d.%d.%d", r.IntN(4), r.IntN(256), 1+r.IntN(254))
		default:
			clients[i] = fmt.Sprintf("%d.%d.%d.%d", 20+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
		}
	}
	span := time.Duration(o.Days) * 24 * time.Hour
	start := o.Now.Add(-span)
	out := make([]Weblog, 0, o.Count)
	for len(out) < o.Count {
		ts := start.Add(time.Duration(r.Int64N(int64(span)/int64(time.Millisecond))) * time.Millisecond)
		if r.IntN(13) >= hourWeight[ts.UTC().Hour()] {
			continue // thin out the quiet hours
		}
		var d Weblog
		d.Timestamp = ts.UTC().Format("2006-01-02T15:04:05.000Z")
		d.Host = pick(r, hosts)
		p := pick(r, paths)
		d.URL.Path = p.path
		d.HTTP.Request.Method = pick(r, methods)
		if p.path == "/health" {
			d.HTTP.Request.Method = "GET"
		}
		status := pick(r, statuses)
		if p.path == "/health" && status != 503 {
			status = 200
		}
		d.HTTP.Response.StatusCode = status
		size := float64(p.bytes) * (0.6 + 0.8*r.Float64())
		ms := p.ms * (0.5 + r.ExpFloat64())
		switch {
		case status == 304:
			size = 0
		case status >= 500:
			size, ms = 280+float64(r.IntN(200)), ms*4+500*r.Float64()
		case status >= 400:
			size = 150 + float64(r.IntN(400))
		case status == 301:
			size = 180
		}
		d.HTTP.Response.Bytes = int64(size)
		d.ResponseTimeMS = math.Round(ms*10) / 10
		d.Client.IP = clients[r.IntN(len(clients))]
		d.UserAgent.Name = pick(r, agents)
		d.Geo.Country = pick(r, countries)
		d.Message = fmt.Sprintf("%s - - [%s] \"%s %s HTTP/1.1\" %d %d \"-\" \"%s\"", d.Client.IP,
			ts.UTC().Format("02/Jan/2006:15:04:05 -0700"), d.HTTP.Request.Method, d.URL.Path, status,
			d.HTTP.Response.Bytes, agentStrings[d.UserAgent.Name])
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Timestamp < out[j].Timestamp })
	return out
}

// Weblogs returns the web logs set: generated documents, their index
// template and the saved objects of the "[Sample] Web logs" dashboard.
func Weblogs(o WeblogOptions) (*Set, error) {
	logs := GenerateWeblogs(o)
	s := &Set{Name: "weblogs", Index: WeblogsIndex, TemplateName: WeblogsTemplate, DashboardID: WeblogsDashboardID}
	for i, d := range logs {
		raw, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		s.Docs = append(s.Docs, raw)
		s.IDs = append(s.IDs, fmt.Sprintf("weblog-%05d", i+1))
	}
	tmpl := map[string]any{
		"index_patterns": []string{WeblogsIndex},
		"priority":       100,
		"_meta":          map[string]any{"description": "tenantgate sample data: web logs"},
		"template":       map[string]any{"mappings": map[string]any{"properties": weblogProperties()}},
	}
	var err error
	if s.Template, err = json.Marshal(tmpl); err != nil {
		return nil, err
	}
	if s.Objects, err = weblogObjects(); err != nil {
		return nil, err
	}
	return s, nil
}

// weblogProperties turns weblogFields into nested mapping properties.
func weblogProperties() map[string]any {
	root := map[string]any{}
	for _, f := range weblogFields {
		parts := strings.Split(f.path, ".")
		props := root
		for _, p := range parts[:len(parts)-1] {
			obj, ok := props[p].(map[string]any)
			if !ok {
				obj = map[string]any{"properties": map[string]any{}}
				props[p] = obj
			}
			props = obj["properties"].(map[string]any)
		}
		props[parts[len(parts)-1]] = map[string]any{"type": f.typ}
	}
	return root
}
