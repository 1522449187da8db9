package flows_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// openIndices opens a real Bleve back-end and catalog in a temp dir.
func openIndices(t *testing.T) *index.Service { return testserver.OpenIndices(t, "") }

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newStore(t *testing.T, svc *index.Service, ref tenants.Ref) (*flows.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	return flows.NewStore(svc.SystemView(ref), c.now), c
}

func src(ns, id, msg string) []byte {
	return []byte("id: " + id + "\nnamespace: " + ns + "\ndescription: says " + msg + "\ntasks:\n  - id: hello\n    type: io.kestra.plugin.core.log.Log\n    message: " + msg + "\n")
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func mustRev(t *testing.T, st *flows.Stored, err error, rev int, source []byte) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	if st.Revision != rev || string(st.Source) != string(source) || st.Deleted {
		t.Fatalf("got revision %d deleted %v source %q; want revision %d source %q", st.Revision, st.Deleted, st.Source, rev, source)
	}
}

func TestStoreRevisionRules(t *testing.T) {
	ctx := context.Background()
	svc := openIndices(t)
	s, clk := newStore(t, svc, tenants.CustomRef("acme"))
	v1 := src("company.team", "hello", "one")
	v2 := src("company.team", "hello", "two")

	t.Run("get before any flow", func(t *testing.T) {
		_, err := s.Get(ctx, "company.team", "hello", 0)
		wantErr(t, err, flows.ErrNotFound)
		_, err = s.Revisions(ctx, "company.team", "hello")
		wantErr(t, err, flows.ErrNotFound)
		if l, err := s.List(ctx, ""); err != nil || len(l) != 0 {
			t.Fatalf("List = %v, %v", l, err)
		}
	})
	t.Run("create", func(t *testing.T) {
		st, err := s.Create(ctx, v1)
		mustRev(t, st, err, 1, v1)
		if st.ID != "hello" || st.Namespace != "company.team" || st.Description != "says one" || !st.Updated.Equal(clk.t) {
			t.Fatalf("created %+v", st)
		}
		st, err = s.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 1, v1)
	})
	t.Run("create again is a conflict", func(t *testing.T) {
		_, err := s.Create(ctx, v2)
		wantErr(t, err, flows.ErrConflict)
	})
	t.Run("invalid source", func(t *testing.T) {
		_, err := s.Create(ctx, []byte("id: x\nnamespace: a\n"))
		wantErr(t, err, flows.ErrInvalid)
		_, err = s.Create(ctx, []byte("id: x\nnamespace: a\ndescription: \"\xff\"\ntasks:\n  - id: t\n    type: a.B\n"))
		wantErr(t, err, flows.ErrInvalid)
	})
	t.Run("identical save makes no revision", func(t *testing.T) {
		clk.t = clk.t.Add(time.Hour)
		st, err := s.Update(ctx, "company.team", "hello", v1)
		mustRev(t, st, err, 1, v1)
		if st.Updated.Equal(clk.t) {
			t.Fatal("identical save changed the update time")
		}
	})
	t.Run("update makes revision 2", func(t *testing.T) {
		st, err := s.Update(ctx, "company.team", "hello", v2)
		mustRev(t, st, err, 2, v2)
		st, err = s.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 2, v2)
		st, err = s.Get(ctx, "company.team", "hello", 1)
		mustRev(t, st, err, 1, v1)
		_, err = s.Get(ctx, "company.team", "hello", 7)
		wantErr(t, err, flows.ErrNotFound)
	})
	t.Run("id and namespace cannot change", func(t *testing.T) {
		for name, b := range map[string][]byte{
			"id":        src("company.team", "other", "two"),
			"namespace": src("company.other", "hello", "two"),
		} {
			_, err := s.Update(ctx, "company.team", "hello", b)
			var ve *flows.ValidationError
			if !errors.Is(err, flows.ErrInvalid) || !errors.As(err, &ve) || ve.Violations[0].Path != name {
				t.Errorf("changing the %s: err = %v", name, err)
			}
		}
		st, err := s.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 2, v2)
	})
	t.Run("update of a missing flow", func(t *testing.T) {
		_, err := s.Update(ctx, "company.team", "nope", src("company.team", "nope", "x"))
		wantErr(t, err, flows.ErrNotFound)
	})
	t.Run("delete", func(t *testing.T) {
		st, err := s.Delete(ctx, "company.team", "hello")
		if err != nil || st.Revision != 3 || !st.Deleted {
			t.Fatalf("Delete = %+v, %v", st, err)
		}
		_, err = s.Get(ctx, "company.team", "hello", 0)
		wantErr(t, err, flows.ErrNotFound)
		_, err = s.Update(ctx, "company.team", "hello", v1)
		wantErr(t, err, flows.ErrNotFound)
		_, err = s.Delete(ctx, "company.team", "hello")
		wantErr(t, err, flows.ErrNotFound)
		if l, err := s.List(ctx, "company"); err != nil || len(l) != 0 {
			t.Fatalf("List after delete = %v, %v", l, err)
		}
	})
	t.Run("re-create after delete", func(t *testing.T) {
		st, err := s.Create(ctx, v1)
		mustRev(t, st, err, 4, v1)
		st, err = s.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 4, v1)
	})
	t.Run("revisions oldest first", func(t *testing.T) {
		revs, err := s.Revisions(ctx, "company.team", "hello")
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		var deleted []bool
		for _, r := range revs {
			got = append(got, r.Revision)
			deleted = append(deleted, r.Deleted)
		}
		if !reflect.DeepEqual(got, []int{1, 2, 3, 4}) || !reflect.DeepEqual(deleted, []bool{false, false, true, false}) {
			t.Fatalf("revisions %v deleted %v", got, deleted)
		}
		if string(revs[0].Source) != string(v1) || string(revs[1].Source) != string(v2) {
			t.Fatalf("revision sources %q, %q", revs[0].Source, revs[1].Source)
		}
	})
}

func TestStoreSourceByteForByte(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.GlobalRef)
	b := []byte("# a comment\r\nid: odd   # trailing\r\nnamespace: a.b\r\ndescription: \"<html> & ünïcode \\u00e9\"\r\ntasks:\r\n- id: t\r\n  type: io.kestra.plugin.core.log.Log\r\n  message: \"  spaced  \"\r\n\r\n\r\n")
	st, err := s.Create(ctx, b)
	mustRev(t, st, err, 1, b)
	st, err = s.Get(ctx, "a.b", "odd", 1)
	mustRev(t, st, err, 1, b)
}

func TestStoreListNamespaceBoundary(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.CustomRef("acme"))
	for _, f := range [][2]string{
		{"company.marketing", "b"}, {"company", "z"}, {"companyx", "a"}, {"company.marketing", "a"},
		{"company.marketing.eu", "a"}, {"other", "a"},
	} {
		if _, err := s.Create(ctx, src(f[0], f[1], "x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Delete(ctx, "company.marketing", "b"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		ns   string
		want []string
	}{
		{"company", []string{"company.z", "company.marketing.a", "company.marketing.eu.a"}},
		{"company.marketing", []string{"company.marketing.a", "company.marketing.eu.a"}},
		{"companyx", []string{"companyx.a"}},
		{"compan", nil},
		{"", []string{"company.z", "company.marketing.a", "company.marketing.eu.a", "companyx.a", "other.a"}},
	}
	for _, c := range cases {
		t.Run("namespace "+c.ns, func(t *testing.T) {
			l, err := s.List(ctx, c.ns)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range l {
				got = append(got, f.Namespace+"."+f.ID)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("List(%q) = %v, want %v", c.ns, got, c.want)
			}
		})
	}
}

func TestStoreTenantIsolation(t *testing.T) {
	ctx := context.Background()
	svc := openIndices(t)
	a, _ := newStore(t, svc, tenants.CustomRef("acme"))
	b, _ := newStore(t, svc, tenants.CustomRef("globex"))
	g, _ := newStore(t, svc, tenants.GlobalRef)
	fa := src("company.team", "hello", "acme")
	fb := src("company.team", "hello", "globex")
	st, err := a.Create(ctx, fa)
	mustRev(t, st, err, 1, fa)

	t.Run("the other tenant does not see it", func(t *testing.T) {
		_, err := b.Get(ctx, "company.team", "hello", 0)
		wantErr(t, err, flows.ErrNotFound)
		_, err = g.Get(ctx, "company.team", "hello", 0)
		wantErr(t, err, flows.ErrNotFound)
		if l, err := b.List(ctx, ""); err != nil || len(l) != 0 {
			t.Fatalf("List in globex = %v, %v", l, err)
		}
		_, err = b.Update(ctx, "company.team", "hello", fb)
		wantErr(t, err, flows.ErrNotFound)
	})
	t.Run("same namespace and id in two tenants", func(t *testing.T) {
		st, err := b.Create(ctx, fb)
		mustRev(t, st, err, 1, fb)
		st, err = a.Update(ctx, "company.team", "hello", src("company.team", "hello", "acme2"))
		mustRev(t, st, err, 2, src("company.team", "hello", "acme2"))
		st, err = b.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 1, fb)
		if _, err := b.Delete(ctx, "company.team", "hello"); err != nil {
			t.Fatal(err)
		}
		st, err = a.Get(ctx, "company.team", "hello", 0)
		mustRev(t, st, err, 2, src("company.team", "hello", "acme2"))
		revs, err := a.Revisions(ctx, "company.team", "hello")
		if err != nil || len(revs) != 2 {
			t.Fatalf("acme revisions = %d, %v", len(revs), err)
		}
	})
	t.Run("physical indices follow the tenant naming", func(t *testing.T) {
		for ref, want := range map[tenants.Ref]string{
			tenants.CustomRef("acme"):   tenants.CustomRef("acme").Physical(".flows"),
			tenants.CustomRef("globex"): tenants.CustomRef("globex").Physical(".flows"),
		} {
			info, err := svc.SystemView(ref).Info(ctx, flows.IndexName)
			if err != nil || info.Physical != want || want == ".flows" {
				t.Errorf("%v: physical %q, %v; want %q", ref, info.Physical, err, want)
			}
		}
		if ok, err := svc.SystemView(tenants.GlobalRef).Exists(ctx, flows.IndexName); err != nil || ok {
			t.Errorf("global tenant has .flows: %v, %v", ok, err)
		}
	})
}

func TestStoreConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.CustomRef("acme"))
	const n = 8
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Create(ctx, src("a", "race", string(rune('a'+i))))
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, flows.ErrConflict):
			t.Errorf("concurrent create: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates succeeded, want 1", ok)
	}
	revs, err := s.Revisions(ctx, "a", "race")
	if err != nil || len(revs) != 1 {
		t.Fatalf("revisions = %d, %v", len(revs), err)
	}
}

func TestStoreConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, openIndices(t), tenants.CustomRef("acme"))
	if _, err := s.Create(ctx, src("a", "busy", "start")); err != nil {
		t.Fatal(err)
	}
	const n = 6
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, err := s.Update(ctx, "a", "busy", src("a", "busy", string(rune('a'+i))))
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, flows.ErrConflict):
			t.Errorf("concurrent update: %v", err)
		}
	}
	revs, err := s.Revisions(ctx, "a", "busy")
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1+ok {
		t.Fatalf("%d revisions after %d successful updates", len(revs), ok)
	}
	for i, r := range revs {
		if r.Revision != i+1 {
			t.Fatalf("revision %d at position %d", r.Revision, i)
		}
	}
}
