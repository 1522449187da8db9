package admin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// testClock is a settable clock for the Service tests.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func mustKind(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want %v", err, kind)
	}
}

// TestDeleteDefaultTenantChecksTheStore checks that the default tenant
// is refused from the settings stored in the deleting transaction, not
// from the copy in memory, which a concurrent PUT of tenancy/config may
// not have reloaded yet.
func TestDeleteDefaultTenantChecksTheStore(t *testing.T) {
	s := tenantTestService(t, Options{})
	for _, id := range []string{"stage", "prod"} {
		if _, err := s.CreateTenant(superActor, TenantInput{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	// Stored, not yet reloaded: what a concurrent PutTenancy looks like
	// between its commit and its reload.
	set := s.Tenancy()
	set.DefaultTenant = "stage"
	if err := s.o.Store.Update(func(tx *control.Tx) error { return tx.PutTenancy(set) }); err != nil {
		t.Fatal(err)
	}
	if s.Tenancy().DefaultTenant == "stage" {
		t.Fatal("the test needs the settings in memory to lag behind the store")
	}
	_, err := s.DeleteTenant(superActor, "stage")
	mustKind(t, err, ErrConflict)
	mustKind(t, s.PatchTenants(superActor, []byte(`[{"op":"remove","path":"/stage"}]`)), ErrConflict)
	if _, err := s.DeleteTenant(superActor, "prod"); err != nil {
		t.Fatalf("deleting another tenant: %v", err)
	}
}

// TestPurgeClaimsTheTenant checks that a tenant being purged cannot be
// restored, and that purges racing for one tenant purge it once: the
// others find it gone (ErrNotFound), none fails otherwise.
func TestPurgeClaimsTheTenant(t *testing.T) {
	clk := &testClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := tenantTestService(t, Options{Clock: clk.Now, Retention: time.Hour})
	ctx := context.Background()
	if _, err := s.CreateTenant(superActor, TenantInput{ID: "stage"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteTenant(superActor, "stage"); err != nil {
		t.Fatal(err)
	}

	t.Run("no restore while purging", func(t *testing.T) {
		s.purging.Store("stage", true)
		_, err := s.RestoreTenant(superActor, "stage")
		s.purging.Delete("stage")
		mustKind(t, err, ErrConflict)
		if _, err := s.RestoreTenant(superActor, "stage"); err != nil {
			t.Fatalf("restore after the purge let go: %v", err)
		}
		if _, err := s.DeleteTenant(superActor, "stage"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("racing purges", func(t *testing.T) {
		clk.Advance(2 * time.Hour)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		purged := make([]int, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					errs[i] = s.PurgeTenant(ctx, superActor, "stage")
					if errs[i] == nil {
						purged[i] = 1
					}
					return
				}
				purged[i], errs[i] = s.PurgeExpired(ctx)
			}()
		}
		wg.Wait()
		total := 0
		for i := range n {
			total += purged[i]
			if errs[i] != nil && !errors.Is(errs[i], ErrNotFound) {
				t.Errorf("purge %d: %v", i, errs[i])
			}
		}
		if total != 1 {
			t.Fatalf("purged %d times, want once", total)
		}
		err := s.o.Store.View(func(tx *control.Tx) error {
			_, err := tx.Tenant("stage")
			return err
		})
		mustKind(t, err, control.ErrNotFound)
	})
}

// TestCreateTenantTakesNoExistingAdminRole checks that a new tenant does
// not take over a role or role mapping already named like its Admin
// role, and that a failed creation leaves nothing behind.
func TestCreateTenantTakesNoExistingAdminRole(t *testing.T) {
	s := tenantTestService(t, Options{})
	err := s.o.Store.Update(func(tx *control.Tx) error {
		m := control.RoleMapping{Name: AdminRoleName("stage"), RoleMapping: policy.RoleMapping{Users: []string{"mallory"}}}
		if err := tx.PutMapping(m); err != nil {
			return err
		}
		return tx.PutRole(control.Role{Name: AdminRoleName("prod"), Role: policy.Role{Tenant: "prod"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"stage", "prod"} {
		_, err := s.CreateTenant(superActor, TenantInput{ID: id, AdminUsername: "dave"})
		mustKind(t, err, ErrConflict)
		err = s.o.Store.View(func(tx *control.Tx) error {
			_, err := tx.Tenant(id)
			return err
		})
		mustKind(t, err, control.ErrNotFound)
	}
	var m control.RoleMapping
	if err := s.o.Store.View(func(tx *control.Tx) (err error) {
		m, err = tx.Mapping(AdminRoleName("stage"))
		return err
	}); err != nil || len(m.Users) != 1 || m.Users[0] != "mallory" {
		t.Fatalf("the existing mapping was touched: %+v %v", m, err)
	}
}

// TestUpdateTenantInput checks the values an update accepts.
func TestUpdateTenantInput(t *testing.T) {
	s := tenantTestService(t, Options{})
	if _, err := s.CreateTenant(superActor, TenantInput{ID: "stage", Name: "Staging"}); err != nil {
		t.Fatal(err)
	}
	str := func(v string) *string { return &v }
	for _, tc := range []struct {
		name              string
		newName, desc     *string
		wantErr           error
		wantName, wantDes string
	}{
		{"empty name", str(""), nil, ErrInvalid, "Staging", ""},
		{"blank name", str("  "), nil, ErrInvalid, "Staging", ""},
		{"description only", nil, str("about"), nil, "Staging", "about"},
		{"name only", str("Stage"), nil, nil, "Stage", "about"},
		{"clear description", nil, str(""), nil, "Stage", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.UpdateTenant(superActor, "stage", tc.newName, tc.desc)
			if tc.wantErr != nil {
				mustKind(t, err, tc.wantErr)
				got, err = s.Tenant(superActor, "stage")
			}
			if err != nil || got.Name != tc.wantName || got.Description != tc.wantDes {
				t.Fatalf("tenant %+v %v, want name %q description %q", got, err, tc.wantName, tc.wantDes)
			}
		})
	}
}
