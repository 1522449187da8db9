package snapshot_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

var hr = tenants.CustomRef("human_resources")

// TestRoundTrip takes a tenant snapshot as a directory, a .tar.zst and a
// .tar.gz file, verifies and lists each, and restores each into a fresh
// instance, where the tenant's indices answer through the server.
func TestRoundTrip(t *testing.T) {
	src := start(t)
	bulk(t, src, "human_resources", "staff", "s", 0, 40)
	bulk(t, src, "analysts", "other", "o", 0, 5)
	systemPut(t, src, hr, ".kibana", "dash-1", "dash-2")
	repo := t.TempDir()
	for _, out := range []string{repo, filepath.Join(repo, "hr.tar.zst"), filepath.Join(repo, "hr.tar.gz")} {
		t.Run(filepath.Base(out), func(t *testing.T) {
			res, err := snapshot.Create(context.Background(), instanceOf(t, src), snapshot.Options{Out: out, Name: "hr", Tenant: "human_resources", ToolVersion: "test"})
			if err != nil {
				t.Fatal(err)
			}
			m := res.Manifest
			want := []string{hr.Physical(".kibana"), hr.Physical("staff")}
			slices.Sort(want)
			if got := physicals(m); !slices.Equal(got, want) {
				t.Fatalf("indices %v, want %v", got, want)
			}
			if m.Control == nil || m.Control.Tenant.ID != "human_resources" || m.InstanceID == "" || m.FormatVersion != 1 {
				t.Fatalf("manifest: control %+v, instance %q, version %d", m.Control, m.InstanceID, m.FormatVersion)
			}
			if _, err := snapshot.Verify(context.Background(), res.Path, snapshot.Options{}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			list, err := snapshot.List(repo)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, in := range list {
				if in.Path == res.Path {
					found = in.Complete
				}
			}
			if !found {
				t.Fatalf("List does not show %s as complete: %+v", res.Path, list)
			}

			dst := start(t)
			rr, err := snapshot.Restore(context.Background(), res.Path, instanceOf(t, dst), snapshot.RestoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !rr.Verified || len(rr.Indices) != 2 {
				t.Fatalf("restore result %+v", rr)
			}
			if n := count(t, dst, super(t), "human_resources", "staff"); n != 40 {
				t.Fatalf("restored staff holds %d documents, want 40", n)
			}
			if n := count(t, dst, super(t), "analysts", "other"); n != -1 {
				t.Fatalf("another tenant's index was restored (%d documents)", n)
			}
			r := dst.Do(t, "GET", "/staff/_doc/s-7", super(t), "human_resources", nil)
			if r.Status != 200 {
				t.Fatalf("get restored document: %d %s", r.Status, r.Body)
			}
			// A second restore is refused: the indices exist.
			if _, err := snapshot.Restore(context.Background(), res.Path, instanceOf(t, dst), snapshot.RestoreOptions{}); !errors.Is(err, snapshot.ErrExists) {
				t.Fatalf("restore over existing indices: %v, want ErrExists", err)
			}
			if _, err := os.Stat(res.Path); err != nil {
				t.Fatal(err)
			}
		})
	}
}
