package sample

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

func TestWeblogsAreDeterministic(t *testing.T) {
	a, err := Weblogs(WeblogOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Weblogs(WeblogOptions{Now: testNow, Seed: DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(joinDocs(a), joinDocs(b)) || !bytes.Equal(a.Objects, b.Objects) || !bytes.Equal(a.Template, b.Template) {
		t.Fatal("the same seed and time gave different bytes")
	}
	c, err := Weblogs(WeblogOptions{Now: testNow, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(joinDocs(a), joinDocs(c)) {
		t.Fatal("another seed gave the same documents")
	}
}

func joinDocs(s *Set) []byte {
	var b bytes.Buffer
	for i, d := range s.Docs {
		b.WriteString(s.IDs[i])
		b.Write(d)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestWeblogsShape(t *testing.T) {
	logs := GenerateWeblogs(WeblogOptions{Now: testNow})
	if len(logs) != DefaultWeblogCount {
		t.Fatalf("%d documents, want %d", len(logs), DefaultWeblogCount)
	}
	from := testNow.Add(-DefaultWeblogDays * 24 * time.Hour)
	statuses, hosts, days := map[int]int{}, map[string]bool{}, map[string]bool{}
	prev := ""
	for _, d := range logs {
		ts, err := time.Parse(time.RFC3339, d.Timestamp)
		if err != nil || ts.Before(from) || !ts.Before(testNow) {
			t.Fatalf("timestamp %s outside [%s, %s): %v", d.Timestamp, from, testNow, err)
		}
		if d.Timestamp < prev {
			t.Fatalf("not sorted by time: %s after %s", d.Timestamp, prev)
		}
		prev = d.Timestamp
		if d.Host == "" || d.URL.Path == "" || d.Client.IP == "" || d.UserAgent.Name == "" || d.Geo.Country == "" ||
			d.HTTP.Request.Method == "" || d.ResponseTimeMS <= 0 || !strings.Contains(d.Message, d.URL.Path) {
			t.Fatalf("incomplete document %+v", d)
		}
		statuses[d.HTTP.Response.StatusCode]++
		hosts[d.Host] = true
		days[ts.Format("2006-01-02")] = true
	}
	if statuses[200] < len(logs)/2 || statuses[404] == 0 || statuses[500] == 0 || len(hosts) < 4 || len(days) < DefaultWeblogDays {
		t.Fatalf("unrealistic spread: statuses %v, hosts %v, days %d", statuses, hosts, len(days))
	}
}

// TestWeblogObjectsResolve: every reference of the export names an object
// of the export, every panel's panelRefName is a reference, and the JSON
// strings OpenSearch Dashboards parses (visState, panelsJSON,
// searchSourceJSON, fields) are valid.
func TestWeblogObjectsResolve(t *testing.T) {
	s, err := Weblogs(WeblogOptions{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(s.Objects), []byte("\n"))
	var summary struct {
		ExportedCount int `json:"exportedCount"`
	}
	if err := json.Unmarshal(lines[len(lines)-1], &summary); err != nil {
		t.Fatal(err)
	}
	objects, err := ParseExport(s.Objects)
	if err != nil {
		t.Fatal(err)
	}
	if summary.ExportedCount != len(objects) {
		t.Fatalf("summary counts %d objects, export has %d", summary.ExportedCount, len(objects))
	}
	byKey := map[string]SavedObject{}
	count := map[string]int{}
	for _, o := range objects {
		byKey[o.Type+"/"+o.ID] = o
		count[o.Type]++
	}
	if count["index-pattern"] != 1 || count["search"] != 1 || count["dashboard"] != 1 || count["visualization"] < 4 || count["visualization"] > 6 {
		t.Fatalf("object counts %v", count)
	}
	for _, o := range objects {
		names := map[string]bool{}
		for _, r := range o.References {
			if _, ok := byKey[r.Type+"/"+r.ID]; !ok {
				t.Errorf("%s/%s: reference %s → %s/%s does not resolve", o.Type, o.ID, r.Name, r.Type, r.ID)
			}
			names[r.Name] = true
		}
		if meta, ok := o.Attributes["kibanaSavedObjectMeta"].(map[string]any); ok {
			var src map[string]any
			if err := json.Unmarshal([]byte(meta["searchSourceJSON"].(string)), &src); err != nil {
				t.Errorf("%s: searchSourceJSON: %v", o.ID, err)
			}
			if ref, ok := src["indexRefName"].(string); ok && !names[ref] {
				t.Errorf("%s: indexRefName %s is not a reference", o.ID, ref)
			}
		}
		switch o.Type {
		case "visualization":
			var vs struct {
				Title string `json:"title"`
				Type  string `json:"type"`
				Aggs  []struct {
					ID, Type, Schema string
				} `json:"aggs"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["visState"].(string)), &vs); err != nil || vs.Type == "" || len(vs.Aggs) == 0 {
				t.Errorf("%s: visState %+v: %v", o.ID, vs, err)
			}
		case "dashboard":
			var panels []struct {
				PanelRefName string `json:"panelRefName"`
				GridData     struct {
					X, Y, W, H int
					I          string
				} `json:"gridData"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["panelsJSON"].(string)), &panels); err != nil {
				t.Fatalf("panelsJSON: %v", err)
			}
			if len(panels) != len(o.References) {
				t.Errorf("%d panels, %d references", len(panels), len(o.References))
			}
			for _, p := range panels {
				if !names[p.PanelRefName] {
					t.Errorf("panel %s has no reference", p.PanelRefName)
				}
				if g := p.GridData; g.X+g.W > 48 || g.W == 0 || g.H == 0 || g.I == "" {
					t.Errorf("panel %s off the 48-column grid: %v", p.PanelRefName, p.GridData)
				}
			}
			if o.ID != s.DashboardID || o.Attributes["title"] != "[Sample] Web logs" {
				t.Errorf("dashboard %s %v", o.ID, o.Attributes["title"])
			}
		case "index-pattern":
			var fields []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(o.Attributes["fields"].(string)), &fields); err != nil {
				t.Fatalf("fields: %v", err)
			}
			have := map[string]string{}
			for _, f := range fields {
				have[f.Name] = f.Type
			}
			for _, f := range weblogFields {
				if have[f.path] != osdFieldType(f.typ) {
					t.Errorf("index pattern field %s is %q, want %q", f.path, have[f.path], osdFieldType(f.typ))
				}
			}
		}
	}
}
