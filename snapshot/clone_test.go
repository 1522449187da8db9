package snapshot_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

// TestCloneTenant restores a snapshot of human_resources as the new
// tenant hr_copy on the same instance and checks, through the server,
// that the clone holds the data, that it grants nothing to the source's
// users, that the restorer administers it, that writes to either do not
// reach the other, and that namespace secrets open in both.
func TestCloneTenant(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	in := instanceOf(t, s)
	bulk(t, s, "human_resources", "staff", "s", 0, 25)
	systemPut(t, s, hr, ".kibana", "dash-1")
	ns := namespaces.NewStore(s.Inst.Index.SystemView(hr), hr.Owner(), in.Key, nil)
	if _, err := ns.Create(ctx, "company.hr", "HR flows"); err != nil {
		t.Fatal(err)
	}
	if _, err := ns.PutSecret(ctx, "company.hr", "DB_PASSWORD", "s3cret-value", ""); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Create(ctx, in, snapshot.Options{Out: t.TempDir(), Name: "hr", Tenant: "human_resources"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("refusals leave nothing behind", func(t *testing.T) {
		noKey := *in
		noKey.Key = secrets.Key{}
		restorer := admin.Actor{Name: "admin", Superadmin: true}
		cases := []struct {
			name   string
			target *snapshot.Instance
			opts   snapshot.RestoreOptions
			want   error
		}{
			{"no secrets key", &noKey, snapshot.RestoreOptions{As: "hr_nokey", Actor: restorer}, snapshot.ErrNoKey},
			{"bad tenant id", in, snapshot.RestoreOptions{As: "Bad Id", Actor: restorer}, snapshot.ErrInvalid},
			{"same tenant", in, snapshot.RestoreOptions{As: "human_resources", Actor: restorer}, snapshot.ErrInvalid},
			{"existing tenant", in, snapshot.RestoreOptions{As: "analysts", Actor: restorer}, admin.ErrConflict},
			{"no right to create tenants", in, snapshot.RestoreOptions{As: "hr_denied", Actor: admin.Actor{Name: "bob"}}, admin.ErrForbidden},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := len(s.Inst.Index.Catalog().All())
				_, err := snapshot.Restore(ctx, snap.Path, c.target, c.opts)
				if !errors.Is(err, c.want) {
					t.Fatalf("error %v, want %v", err, c.want)
				}
				if after := len(s.Inst.Index.Catalog().All()); after != before {
					t.Fatalf("catalog went from %d to %d entries", before, after)
				}
				ref := tenants.CustomRef(c.opts.As)
				if ok, _ := s.Inst.Index.Backend().Exists(ctx, ref.Physical("staff")); ok && c.opts.As != "human_resources" {
					t.Fatalf("index %s left behind", ref.Physical("staff"))
				}
			})
		}
	})

	res, err := snapshot.Restore(ctx, snap.Path, in, snapshot.RestoreOptions{As: "hr_copy", Actor: admin.Actor{Name: "admin", Superadmin: true}, AdminUsername: "carol"})
	if err != nil {
		t.Fatal(err)
	}
	cp := tenants.CustomRef("hr_copy")
	var got []string
	for _, r := range res.Indices {
		got = append(got, r.Physical)
	}
	slices.Sort(got)
	want := []string{cp.Physical(".kibana"), cp.Physical(".namespaces"), cp.Physical("staff")}
	if !slices.Equal(got, want) || !res.Verified || res.Tenant != "hr_copy" {
		t.Fatalf("restored %v (verified %v), want %v", got, res.Verified, want)
	}
	su := super(t)
	if n := count(t, s, su, "hr_copy", "staff"); n != 25 {
		t.Fatalf("clone staff holds %d documents, want 25", n)
	}

	// The restorer (carol, named as admin) administers the clone; the
	// source's users get nothing there.
	var m control.RoleMapping
	var hrRole control.Role
	if err := s.Inst.Store.View(func(tx *control.Tx) (err error) {
		if m, err = tx.Mapping(admin.AdminRoleName("hr_copy")); err != nil {
			return err
		}
		hrRole, err = tx.Role("hr_manager")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(m.Users, []string{"carol"}) {
		t.Fatalf("admin@hr_copy maps %v, want [carol]", m.Users)
	}
	for _, tp := range hrRole.TenantPermissions {
		if slices.Contains(tp.TenantPatterns, "hr_copy") {
			t.Fatalf("hr_manager was widened to the clone: %+v", hrRole.TenantPermissions)
		}
	}
	hrUser := testserver.Token(t, "hr_jane")
	if r := s.Do(t, "GET", "/staff/_count", hrUser, "hr_copy", nil); r.Status != 403 {
		t.Fatalf("a human_resources user reads the clone: %d %s", r.Status, r.Body)
	}
	carol := testserver.Token(t, "carol")
	if r := s.Do(t, "GET", "/staff/_count", carol, "hr_copy", nil); r.Status != 200 {
		t.Fatalf("the clone's admin cannot read it: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/staff/_count", carol, "human_resources", nil); r.Status != 403 {
		t.Fatalf("the clone's admin reads the source tenant: %d %s", r.Status, r.Body)
	}

	// Writes stay on their side.
	bulk(t, s, "hr_copy", "staff", "new", 0, 3)
	bulk(t, s, "human_resources", "staff", "src", 0, 1)
	if a, b := count(t, s, su, "human_resources", "staff"), count(t, s, su, "hr_copy", "staff"); a != 26 || b != 28 {
		t.Fatalf("after writes: source %d (want 26), clone %d (want 28)", a, b)
	}

	// Secrets were re-sealed for the clone and still open in the source.
	for _, ref := range []tenants.Ref{hr, cp} {
		st := namespaces.NewStore(s.Inst.Index.SystemView(ref), ref.Owner(), in.Key, nil)
		v, err := st.SecretValue(ctx, "company.hr", "DB_PASSWORD")
		if err != nil || v != "s3cret-value" {
			t.Fatalf("secret in %s: %q, %v", ref, v, err)
		}
	}
}
