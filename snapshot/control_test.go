package snapshot_test

import (
	"context"
	"testing"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/snapshot"
)

// TestRestoreTenantRecords restores a tenant snapshot into an instance
// that does not know the tenant: the tenant, its Admin role and the
// role's mapping come back, its admin reads its data through the server,
// and a restart (which applies the security files again) keeps them.
func TestRestoreTenantRecords(t *testing.T) {
	ctx := context.Background()
	s := start(t)
	if _, err := s.Inst.Admin.CreateTenant(adminActor, admin.TenantInput{ID: "qa", Description: "quality", AdminUsername: "dora"}); err != nil {
		t.Fatal(err)
	}
	bulk(t, s, "qa", "runs", "r", 0, 9)
	snap, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: t.TempDir(), Name: "qa", Tenant: "qa"})
	if err != nil {
		t.Fatal(err)
	}
	if c := snap.Manifest.Control; c == nil || len(c.Roles) != 1 || c.Roles[0].Name != "admin@qa" || len(c.Mappings) != 1 {
		t.Fatalf("control records in the snapshot: %+v", c)
	}

	cfg := testserver.Config(t.TempDir())
	cfg.Auth.Passwords.BcryptCost = 4
	dst := testserver.StartConfig(t, cfg)
	dora := testserver.Token(t, "dora")
	if r := dst.Do(t, "GET", "/runs/_count", dora, "qa", nil); r.Status != 403 && r.Status != 404 {
		t.Fatalf("before the restore: %d %s", r.Status, r.Body)
	}
	if _, err := snapshot.Restore(ctx, snap.Path, instanceOf(t, dst), snapshot.RestoreOptions{Actor: adminActor}); err != nil {
		t.Fatal(err)
	}
	if n := count(t, dst, dora, "qa", "runs"); n != 9 {
		t.Fatalf("the tenant's admin counts %d documents, want 9", n)
	}
	dst.Stop()
	again := testserver.StartConfig(t, cfg)
	if n := count(t, again, dora, "qa", "runs"); n != 9 {
		t.Fatalf("after a restart: %d documents, want 9", n)
	}
	err = again.Inst.Store.View(func(tx *control.Tx) error {
		ten, err := tx.Tenant("qa")
		if err != nil {
			return err
		}
		if ten.DeletedAt != nil || ten.Source != control.SourceAPI || ten.Description != "quality" {
			t.Errorf("restored tenant %+v", ten)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
