package flows_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/tenants"
)

func keys(p flows.Page) []string {
	out := make([]string, 0, len(p.Results))
	for _, st := range p.Results {
		out = append(out, st.Namespace+"/"+st.ID)
	}
	return out
}

func TestStoreSearch(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.CustomRef("acme"))
	labelled := []byte("id: labelled\nnamespace: company\nlabels:\n  team: data\n  env: prod\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    message: quiet\n")
	for _, src := range [][]byte{
		src("company", "hello_world", "greetings"),
		src("company.marketing", "campaign", "spring sale"),
		src("companyx", "other", "greetings"),
		src("finance", "ledger", "totals"),
		labelled,
	} {
		if _, err := s.Create(ctx, src); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Create(ctx, src("company", "gone", "greetings")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "company", "gone"); err != nil {
		t.Fatal(err)
	}
	byID := []flows.Sort{{Field: "id"}}
	tests := []struct {
		name string
		q    flows.Query
		want []string
		tot  int
	}{
		{"all, by namespace then id", flows.Query{}, []string{"company/hello_world", "company/labelled", "company.marketing/campaign", "companyx/other", "finance/ledger"}, 5},
		{"namespace on the dot boundary", flows.Query{Namespace: "company", Sort: byID}, []string{"company.marketing/campaign", "company/hello_world", "company/labelled"}, 3},
		{"exact namespace", flows.Query{Namespace: "company", ExactNamespace: true}, []string{"company/hello_world", "company/labelled"}, 2},
		{"id", flows.Query{ID: "campaign"}, []string{"company.marketing/campaign"}, 1},
		{"q in description", flows.Query{Q: "greetings", Sort: byID}, []string{"company/hello_world", "companyx/other"}, 2},
		{"q in source only", flows.Query{Q: "quiet"}, []string{"company/labelled"}, 1},
		{"q part of an id, any case", flows.Query{Q: "O_WOR"}, []string{"company/hello_world"}, 1},
		{"q part of a namespace", flows.Query{Q: "market"}, []string{"company.marketing/campaign"}, 1},
		{"q with every word", flows.Query{Q: "spring sale"}, []string{"company.marketing/campaign"}, 1},
		{"q and namespace", flows.Query{Q: "greetings", Namespace: "company"}, []string{"company/hello_world"}, 1},
		{"q matching nothing", flows.Query{Q: "nothing*here"}, []string{}, 0},
		{"labels", flows.Query{Labels: []flows.Label{{Key: "team", Value: "data"}}}, []string{"company/labelled"}, 1},
		{"labels must pair key and value", flows.Query{Labels: []flows.Label{{Key: "team", Value: "prod"}}}, []string{}, 0},
		{"sort desc", flows.Query{Sort: []flows.Sort{{Field: "id", Desc: true}}, Size: 2}, []string{"companyx/other", "finance/ledger"}, 5},
		{"page 2", flows.Query{Sort: byID, Page: 2, Size: 2}, []string{"company/labelled", "finance/ledger"}, 5},
		{"allow filters before paging", flows.Query{Allow: func(ns string) bool { return flows.NamespaceCovers("company", ns) }, Size: 2}, []string{"company/hello_world", "company/labelled"}, 3},
		{"page past the end", flows.Query{Page: 9, Size: 2}, []string{}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := s.Search(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(p); !slices.Equal(got, tc.want) || p.Total != tc.tot {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, p.Total, tc.want, tc.tot)
			}
		})
	}
	t.Run("empty tenant", func(t *testing.T) {
		other, _ := newStore(t, openIndices(t), tenants.CustomRef("empty"))
		p, err := other.Search(ctx, flows.Query{Q: "x"})
		if err != nil || p.Total != 0 || p.Results == nil {
			t.Fatalf("got %+v, %v", p, err)
		}
	})
}

func TestParseSort(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want flows.Sort
		bad  bool
	}{
		{"id", flows.Sort{Field: "id"}, false},
		{"id:asc", flows.Sort{Field: "id"}, false},
		{"namespace:DESC", flows.Sort{Field: "namespace", Desc: true}, false},
		{"source:asc", flows.Sort{}, true},
		{"id:up", flows.Sort{}, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := flows.ParseSort(tc.in)
			if tc.bad != (err != nil) || got != tc.want {
				t.Fatalf("ParseSort(%q) = %+v, %v", tc.in, got, err)
			}
			if tc.bad && !errors.Is(err, flows.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestStoreValidateAndPut(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.CustomRef("acme"))
	v1 := src("company", "hello", "one")
	if _, err := s.Create(ctx, v1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, src("company", "old", "x")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "company", "old"); err != nil {
		t.Fatal(err)
	}

	t.Run("validate compares with the store", func(t *testing.T) {
		stream := "revision: 2\n" + string(src("company", "hello", "two")) + "---\nrevision: 5\n" + string(src("company", "hello", "three")) +
			"---\n" + string(src("company", "old", "back")) + "---\nid: bad id\nnamespace: company\ntasks: []\n" +
			"---\nrevision: 1\n" + string(src("company", "new", "n"))
		res, err := s.Validate(ctx, []byte(stream), nil)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			outdated, deleted, valid bool
		}
		want := []row{{false, false, true}, {true, false, true}, {false, true, true}, {false, false, false}, {false, false, true}}
		if len(res) != len(want) {
			t.Fatalf("got %d results, want %d", len(res), len(want))
		}
		for i, r := range res {
			if got := (row{r.Outdated, r.Deleted, r.Valid()}); got != want[i] {
				t.Errorf("document %d: got %+v, want %+v (%s)", i, got, want[i], r.Constraints)
			}
		}
		if _, err := s.Get(ctx, "company", "new", 0); !errors.Is(err, flows.ErrNotFound) {
			t.Fatalf("validate saved a flow: %v", err)
		}
	})
	t.Run("validate hides namespaces not known", func(t *testing.T) {
		res, err := s.Validate(ctx, src("company", "old", "back"), func(string) bool { return false })
		if err != nil || res[0].Deleted {
			t.Fatalf("got %+v, %v", res[0], err)
		}
	})
	t.Run("put creates, updates, keeps identical and re-creates deleted", func(t *testing.T) {
		for _, tc := range []struct {
			src     []byte
			rev     int
			created bool
		}{
			{src("company", "fresh", "a"), 1, true},
			{src("company", "hello", "two"), 2, false},
			{src("company", "hello", "two"), 2, false},
			{src("company", "old", "back"), 3, true},
		} {
			st, created, err := s.Put(ctx, tc.src)
			mustRev(t, st, err, tc.rev, tc.src)
			if created != tc.created {
				t.Fatalf("%s: created = %v, want %v", st.ID, created, tc.created)
			}
		}
		if _, _, err := s.Put(ctx, []byte("id: x\n")); !errors.Is(err, flows.ErrInvalid) {
			t.Fatalf("err = %v", err)
		}
	})
}
