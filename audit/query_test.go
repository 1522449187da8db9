package audit

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// seed appends one record a minute from t0, oldest first, and returns the
// trail. Targets are unique, "t0" … "t11", so results read as a list of
// targets.
func seed(t *testing.T) (*Trail, *bbolt.DB) {
	t.Helper()
	tr, db := newTrail(t, Options{})
	rows := []Record{
		{Tenant: "a", Actor: "alice", Action: "tenant.create", Outcome: OutcomeSuccess},
		{Tenant: "b", Actor: "bob", Action: "tenant.create", Outcome: OutcomeSuccess},
		{Tenant: "", Actor: "root", Action: "tenancy.update", Outcome: OutcomeSuccess},
		{Tenant: "a", Actor: "alice", Action: "role.update", Outcome: OutcomeSuccess},
		{Tenant: "ab", Actor: "alice", Action: "role.update", Outcome: OutcomeSuccess},
		{Tenant: "a", Actor: "", Action: ActionAuthFailed, Outcome: OutcomeFailure},
		{Tenant: "b", Actor: "bob", Action: ActionAccessDenied, Outcome: OutcomeDenied},
		{Tenant: "a", Actor: "bob", Action: "tenant.lock", Outcome: OutcomeDenied},
		{Tenant: "", Actor: "root", Action: "user.create", Outcome: OutcomeSuccess},
		{Tenant: "a", Actor: "alice", Action: "tenant.lock", Outcome: OutcomeSuccess},
		{Tenant: "b", Actor: "bob", Action: "tenant.update", Outcome: OutcomeFailure},
		{Tenant: "a", Actor: "alice", Action: "tenantish", Outcome: OutcomeSuccess},
	}
	// Append out of time order, to show that order comes from the time.
	for _, i := range []int{5, 0, 11, 3, 1, 2, 4, 7, 6, 9, 8, 10} {
		r := rows[i]
		r.Target = fmt.Sprintf("t%d", i)
		r.Time = t0.Add(time.Duration(i) * time.Minute)
		appendOne(t, tr, db, r)
	}
	return tr, db
}

func targets(rs []Record) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Target)
	}
	return out
}

func TestQueryFilters(t *testing.T) {
	tr, _ := seed(t)
	cases := []struct {
		name string
		f    Filter
		want []string
	}{
		{"everything newest first", Filter{}, []string{"t11", "t10", "t9", "t8", "t7", "t6", "t5", "t4", "t3", "t2", "t1", "t0"}},
		{"tenant a", Filter{Tenant: ptr("a")}, []string{"t11", "t9", "t7", "t5", "t3", "t0"}},
		{"tenant ab is not a's", Filter{Tenant: ptr("ab")}, []string{"t4"}},
		{"tenant b", Filter{Tenant: ptr("b")}, []string{"t10", "t6", "t1"}},
		{"instance level only", Filter{Tenant: ptr("")}, []string{"t8", "t2"}},
		{"unknown tenant", Filter{Tenant: ptr("zz")}, []string{}},
		{"actor", Filter{Actor: "bob"}, []string{"t10", "t7", "t6", "t1"}},
		{"actor within tenant", Filter{Tenant: ptr("a"), Actor: "bob"}, []string{"t7"}},
		{"action exact", Filter{Action: "tenant.lock"}, []string{"t9", "t7"}},
		{"action prefix", Filter{Action: "tenant.*"}, []string{"t10", "t9", "t7", "t1", "t0"}},
		{"action star", Filter{Action: "*", Tenant: ptr("b")}, []string{"t10", "t6", "t1"}},
		{"action without star is exact", Filter{Action: "tenant"}, []string{}},
		{"target", Filter{Target: "t3"}, []string{"t3"}},
		{"target of another tenant", Filter{Tenant: ptr("b"), Target: "t3"}, []string{}},
		{"outcome denied", Filter{Outcome: OutcomeDenied}, []string{"t7", "t6"}},
		{"outcome failure in a", Filter{Outcome: OutcomeFailure, Tenant: ptr("a")}, []string{"t5"}},
		{"from inclusive", Filter{From: t0.Add(9 * time.Minute)}, []string{"t11", "t10", "t9"}},
		{"to exclusive", Filter{To: t0.Add(2 * time.Minute)}, []string{"t1", "t0"}},
		{"range in tenant", Filter{Tenant: ptr("a"), From: t0.Add(3 * time.Minute), To: t0.Add(9 * time.Minute)}, []string{"t7", "t5", "t3"}},
		{"range between records", Filter{From: t0.Add(90 * time.Second), To: t0.Add(100 * time.Second)}, []string{}},
		{"from equals to", Filter{From: t0, To: t0}, []string{}},
		{"range before 1970 and after 2262", Filter{From: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), Tenant: ptr("b")}, []string{"t10", "t6", "t1"}},
		{"all fields", Filter{Tenant: ptr("a"), Actor: "alice", Action: "tenant.*", Outcome: OutcomeSuccess, From: t0.Add(time.Minute)}, []string{"t9"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := query(t, tr, c.f)
			if got := targets(p.Results); !slices.Equal(got, c.want) || p.Total != len(c.want) {
				t.Fatalf("got %v (total %d), want %v", got, p.Total, c.want)
			}
			if c.f.Tenant != nil {
				for _, r := range p.Results {
					if r.Tenant != *c.f.Tenant {
						t.Fatalf("tenant %q query returned a record of %q", *c.f.Tenant, r.Tenant)
					}
				}
			}
		})
	}
}

func TestQueryTenantsNeverSeeEachOther(t *testing.T) {
	tr, db := newTrail(t, Options{})
	tenants := []string{"a", "ab", "a b", "b", "", "a\x01"}
	for i := range 60 {
		tn := tenants[i%len(tenants)]
		if i%2 == 0 {
			appendOne(t, tr, db, Record{Tenant: tn, Action: "x", Outcome: OutcomeSuccess})
		} else {
			tr.Record(Record{Tenant: tn, Action: "y", Outcome: OutcomeFailure})
		}
	}
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, tn := range tenants {
		p := query(t, tr, Filter{Tenant: ptr(tn), Size: MaxPageSize})
		if p.Total != 10 || len(p.Results) != 10 {
			t.Errorf("tenant %q: %d records (total %d), want 10", tn, len(p.Results), p.Total)
		}
		for _, r := range p.Results {
			if r.Tenant != tn {
				t.Errorf("tenant %q sees a record of %q", tn, r.Tenant)
			}
		}
	}
}

func TestQueryPages(t *testing.T) {
	tr, _ := seed(t)
	all := query(t, tr, Filter{Size: MaxPageSize})
	cases := []struct {
		f    Filter
		want []string
	}{
		{Filter{Size: 5}, []string{"t11", "t10", "t9", "t8", "t7"}},
		{Filter{Size: 5, Page: 1}, []string{"t11", "t10", "t9", "t8", "t7"}},
		{Filter{Size: 5, Page: 2}, []string{"t6", "t5", "t4", "t3", "t2"}},
		{Filter{Size: 5, Page: 3}, []string{"t1", "t0"}},
		{Filter{Size: 5, Page: 4}, []string{}},
		{Filter{Size: 2, Page: 2, Tenant: ptr("a")}, []string{"t7", "t5"}},
		{Filter{Size: 2, Page: 2, Actor: "alice"}, []string{"t4", "t3"}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c.f), func(t *testing.T) {
			total := query(t, tr, Filter{Tenant: c.f.Tenant, Actor: c.f.Actor, Size: MaxPageSize}).Total
			p := query(t, tr, c.f)
			if got := targets(p.Results); !slices.Equal(got, c.want) || p.Total != total {
				t.Fatalf("got %v (total %d), want %v (total %d)", got, p.Total, c.want, total)
			}
		})
	}
	if all.Total != 12 || len(all.Results) != 12 {
		t.Fatalf("all: %d of %d", len(all.Results), all.Total)
	}
	if p := query(t, tr, Filter{}); len(p.Results) != 12 {
		t.Fatalf("default page size gave %d of 12", len(p.Results))
	}
}

func TestQueryDefaultPageSize(t *testing.T) {
	tr, db := newTrail(t, Options{})
	for range DefaultPageSize + 5 {
		appendOne(t, tr, db, Record{Action: "x", Outcome: OutcomeSuccess})
	}
	p := query(t, tr, Filter{})
	if len(p.Results) != DefaultPageSize || p.Total != DefaultPageSize+5 {
		t.Fatalf("%d results of %d, want %d of %d", len(p.Results), p.Total, DefaultPageSize, DefaultPageSize+5)
	}
}

func TestQueryRejectsBadFilters(t *testing.T) {
	tr, _ := newTrail(t, Options{})
	cases := map[string]Filter{
		"negative page":  {Page: -1},
		"negative size":  {Size: -1},
		"size too large": {Size: MaxPageSize + 1},
		"page overflows": {Page: int(^uint(0) >> 1), Size: 1000},
		"from after to":  {From: t0.Add(time.Second), To: t0},
		"outcome":        {Outcome: "ok"},
		"NUL in tenant":  {Tenant: ptr("a\x00")},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := tr.Query(f); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Query = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestPurge(t *testing.T) {
	defer func(n int) { purgeChunk = n }(purgeChunk)
	purgeChunk = 3 // several transactions
	tr, _ := seed(t)
	n, err := tr.Purge(t0.Add(7 * time.Minute))
	if err != nil || n != 7 {
		t.Fatalf("Purge = %d, %v; want 7", n, err)
	}
	if got := targets(query(t, tr, Filter{}).Results); !slices.Equal(got, []string{"t11", "t10", "t9", "t8", "t7"}) {
		t.Fatalf("after purge: %v", got)
	}
	if got := targets(query(t, tr, Filter{Tenant: ptr("a")}).Results); !slices.Equal(got, []string{"t11", "t9", "t7"}) {
		t.Fatalf("tenant a after purge: %v", got)
	}
	if n, err := tr.Purge(t0); err != nil || n != 0 {
		t.Fatalf("second Purge = %d, %v; want 0", n, err)
	}
	if n, err := tr.Purge(t0.Add(time.Hour)); err != nil || n != 5 {
		t.Fatalf("Purge everything = %d, %v; want 5", n, err)
	}
	if p := query(t, tr, Filter{}); p.Total != 0 {
		t.Fatalf("%d records left", p.Total)
	}
}
