package index_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

func TestValidateName(t *testing.T) {
	good := []string{"logs", "logs-2024.01", "a_b", "x+y", "ünïcode"}
	for _, n := range good {
		if err := index.ValidateName(n, false); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
	bad := []string{"", ".", "..", "Logs", "a b", "a*b", "a?b", `a"b`, "a<b", "a>b", "a|b", "a,b", "a#b", "a:b", `a\b`, "a/b",
		"_x", "-x", "+x", ".kibana", "a\x00b", "tab\tname", "del\x7f", strings.Repeat("a", 256)}
	for _, n := range bad {
		err := index.ValidateName(n, false)
		if !errors.Is(err, index.ErrInvalid) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalid", n, err)
		}
	}
	for _, n := range []string{"logs_1592542611_humanresources", "logs_-5_x", "logs_2024_01"} {
		if err := index.CheckTenantShape(n); !errors.Is(err, index.ErrInvalid) {
			t.Errorf("CheckTenantShape(%q) = %v, want ErrInvalid", n, err)
		}
	}
	if err := index.ValidateName(".kibana", true); err != nil {
		t.Errorf("system view refuses .kibana: %v", err)
	}
}

func TestMatchPattern(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"logs", "logs", true}, {"logs", "logs2", false}, {"*", "x", true}, {"log*", "logs", true},
		{"*s", "logs", true}, {"l*g*s", "logs", true}, {"l*x", "logs", false}, {"*-2024*", "web-2024.01", true},
		{"a*a", "a", false},
	}
	for _, c := range cases {
		if got := index.MatchPattern(c.pattern, c.name); got != c.want {
			t.Errorf("MatchPattern(%q, %q) = %v", c.pattern, c.name, got)
		}
	}
}

func TestParseMapping(t *testing.T) {
	m, err := index.ParseMapping([]byte(`{"dynamic":"strict","properties":{"a.b":{"type":"keyword"},"t":{"type":"text","fields":{"k":{"type":"keyword","ignore_above":10}}},"o":{"properties":{"n":{"type":"long"}}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for path, typ := range map[string]string{"a.b": "keyword", "t": "text", "t.k": "keyword", "o.n": "long", "o": "object"} {
		p, ok := m.Lookup(path)
		if !ok || p.Type != typ {
			t.Errorf("Lookup(%q) = %+v, %v; want type %s", path, p, ok, typ)
		}
	}
	if _, ok := m.Lookup("t.k.x"); ok {
		t.Error("Lookup through a multi-field succeeded")
	}
	bad := map[string]string{
		`[]`:                                   "JSON object",
		`{"propertiez":{}}`:                    "propertiez",
		`{"properties":{"a":{}}}`:              "no type",
		`{"properties":{"a":{"type":"nope"}}}`: "nope",
		`{"properties":{"a":{"type":"long","analyzer":"standard"}}}`: "analyzer",
		`{"properties":{"a":{"type":"text","analyzer":"klingon"}}}`:  "klingon",
		`{"dynamic":"sometimes"}`:                                    "dynamic",
	}
	for body, want := range bad {
		_, err := index.ParseMapping([]byte(body))
		if !errors.Is(err, index.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseMapping(%s) = %v, want ErrInvalid naming %q", body, err, want)
		}
	}
	// A type change is a conflict on merge.
	other, _ := index.ParseMapping([]byte(`{"properties":{"t":{"type":"long"}}}`))
	if err := m.Clone().Merge(other); !errors.Is(err, index.ErrInvalid) {
		t.Errorf("merge with a type change = %v", err)
	}
}

func TestParseSearchRequest(t *testing.T) {
	r, err := index.ParseSearchRequest([]byte(`{"query":{"match_all":{}},"size":3,"from":2,"aggregations":{}}`))
	if err != nil || r.Size != 3 || r.From != 2 || r.Aggs == nil || r.Query == nil {
		t.Fatalf("ParseSearchRequest = %+v, %v", r, err)
	}
	if r, _ := index.ParseSearchRequest(nil); r.Size != index.DefaultSize {
		t.Fatalf("empty body size %d", r.Size)
	}
	for body, want := range map[string]string{
		`{"size":-1}`:                   "size",
		`{"from":"x"}`:                  "from",
		`{"qeury":{}}`:                  "qeury",
		`{"aggs":{},"aggregations":{}}`: "aggs",
		`[1]`:                           "JSON object",
	} {
		if _, err := index.ParseSearchRequest([]byte(body)); !errors.Is(err, index.ErrInvalid) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseSearchRequest(%s) = %v, want ErrInvalid naming %q", body, err, want)
		}
	}
}

// openService opens a real Bleve back-end and catalog in dir.
func openService(t *testing.T, dir string) *index.Service { return testserver.OpenIndices(t, dir) }

// TestViewIsolation: two tenants with the same logical names never see
// each other's documents, indices or templates, and a private tenant
// named like a custom tenant cannot take over its physical indices.
func TestViewIsolation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openService(t, dir)
	a, b := s.View(tenants.CustomRef("analysts")), s.View(tenants.CustomRef("executive"))
	g := s.View(tenants.GlobalRef)
	for name, v := range map[string]*index.View{"analysts": a, "executive": b, "global": g} {
		res, err := v.Apply(ctx, "logs", []index.Op{{Type: index.OpIndex, ID: "1", Source: []byte(`{"owner":"` + name + `"}`)}})
		if err != nil || res[0].Err != nil {
			t.Fatalf("%s write: %v %v", name, err, res)
		}
	}
	if err := a.PutTemplate(ctx, index.Template{Name: "t", IndexPatterns: []string{"x*"}}); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]*index.View{"analysts": a, "executive": b, "global": g} {
		doc, err := v.Get(ctx, "logs", "1")
		if err != nil || !strings.Contains(string(doc.Source), name) {
			t.Fatalf("%s reads %s, %v", name, doc.Source, err)
		}
		res, err := v.Search(ctx, "*", &index.SearchRequest{Size: 10})
		if err != nil || res.Total != 1 || !strings.Contains(string(res.Hits[0].Source), name) || res.Hits[0].Index != "logs" {
			t.Fatalf("%s search: %+v, %v", name, res, err)
		}
		infos, _ := v.List(ctx)
		if len(infos) != 1 {
			t.Fatalf("%s lists %d indices", name, len(infos))
		}
	}
	if len(b.Templates("")) != 0 || len(a.Templates("")) != 1 {
		t.Fatal("templates leak across tenants")
	}
	// Physical names follow the security plugin; the global one is plain.
	infoA, _ := a.Info(ctx, "logs")
	infoG, _ := g.Info(ctx, "logs")
	if infoA.Physical != tenants.PhysicalName("logs", "analysts") || infoG.Physical != "logs" {
		t.Fatalf("physical names %q %q", infoA.Physical, infoG.Physical)
	}
	// The private tenant of a user called "analysts" collides.
	p := s.View(tenants.PrivateRef("analysts"))
	if _, err := p.Get(ctx, "logs", "1"); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("private read of a colliding name: %v", err)
	}
	_, err := p.Apply(ctx, "logs", []index.Op{{Type: index.OpIndex, ID: "2", Source: []byte(`{}`)}})
	if !errors.Is(err, index.ErrConflict) {
		t.Fatalf("private write of a colliding name: %v", err)
	}
	// The system view reaches .kibana; the data view does not.
	if _, err := a.Apply(ctx, ".kibana", []index.Op{{Type: index.OpIndex, ID: "x", Source: []byte(`{}`)}}); !errors.Is(err, index.ErrInvalid) {
		t.Fatalf("data view wrote .kibana: %v", err)
	}
	sys := s.SystemView(tenants.CustomRef("analysts"))
	if _, err := sys.Apply(ctx, ".kibana", []index.Op{{Type: index.OpIndex, ID: "x", Source: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if res, _ := a.Search(ctx, "*", &index.SearchRequest{Size: 10}); res.Total != 1 {
		t.Fatalf("a data wildcard reached the system index: %d hits", res.Total)
	}
}

// TestCatalogSurvivesReopen checks the catalog is durable and that an
// entry whose index vanished is dropped on start.
func TestCatalogSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := bleve.New(filepath.Join(dir, "indices"), bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := index.OpenCatalog(filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := index.NewService(ctx, b, c, nil)
	v := s.View(tenants.CustomRef("analysts"))
	if err := v.CreateIndex(ctx, "keep", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(index.Entry{Physical: "ghost_1_x", Owner: "custom:x", Logical: "ghost"}); err != nil {
		t.Fatal(err)
	}
	b.Close()
	c.Close()

	s2 := openService(t, dir)
	v2 := s2.View(tenants.CustomRef("analysts"))
	if ok, _ := v2.Exists(ctx, "keep"); !ok {
		t.Fatal("catalog lost an index")
	}
	if _, ok := s2.Catalog().Entry("ghost_1_x"); ok {
		t.Fatal("an entry without an index survived the start")
	}
}

// TestConcurrentFirstWrites: writers racing to create the same index
// with their first documents all succeed. The catalog claims the name
// before the back-end has created the index; nobody may use it before.
func TestConcurrentFirstWrites(t *testing.T) {
	for round := 0; round < 5; round++ {
		s := openService(t, t.TempDir())
		v := s.View(tenants.CustomRef("analysts"))
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				// Staggered, so some arrive while the first is creating.
				time.Sleep(time.Duration(i) * 300 * time.Microsecond)
				res, err := v.Apply(ctx, "logs", []index.Op{{Type: index.OpIndex, ID: fmt.Sprint(i), Source: []byte(`{"n":1}`)}})
				if err == nil && res[0].Err != nil {
					err = res[0].Err
				}
				if err == nil {
					_, err = v.Info(ctx, "logs")
				}
				errs <- err
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("round %d: a first write racing the index's creation failed: %v", round, err)
			}
		}
	}
}
