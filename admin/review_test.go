package admin

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// TestReviewAuditViewOfATenantBackFromTheFiles checks the audit view of a
// tenant whose id was an API tenant, purged, and then declared in
// tenants.yml: its admins read the records since it came back, not the
// purged tenant's.
func TestReviewAuditViewOfATenantBackFromTheFiles(t *testing.T) {
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	s := tenantTestService(t, Options{Clock: now})
	if _, err := s.CreateTenant(superActor, TenantInput{ID: "t-f", AdminUsername: "dave"}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if _, err := s.UpdateTenant(superActor, "t-f", nil, ptr("the purged tenant's secret")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteTenant(superActor, "t-f"); err != nil {
		t.Fatal(err)
	}
	if err := s.PurgeTenant(context.Background(), superActor, "t-f"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if _, err := s.o.Store.ApplyFiles(control.Security{Tenants: map[string]tenants.Tenant{"t-f": {}}}, clock); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if _, err := s.PutRole(superActor, "boss@t-f", SecurityRole{TenantPermissions: []policy.TenantPermission{{
		TenantPatterns: []string{"t-f"}, AllowedActions: []string{"tenant_admin"}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutRoleMapping(superActor, "boss@t-f", SecurityRoleMapping{Users: []string{"fred"}}); err != nil {
		t.Fatal(err)
	}
	fred := Actor{Name: "fred", Roles: s.o.Policy.RolesFor("fred", nil)}
	id := "t-f"
	p, err := s.Audit(fred, &id, audit.Filter{Size: audit.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range p.Results {
		got = append(got, r.Action)
	}
	if want := []string{"rolesmapping.create", "role.create"}; !slices.Equal(got, want) || p.Total != 2 {
		t.Fatalf("fred reads %v (total %d), want %v", got, p.Total, want)
	}
	all, err := s.Audit(superActor, &id, audit.Filter{Size: audit.MaxPageSize})
	if err != nil || all.Total != 7 {
		t.Fatalf("the superadmin's view: %d records, %v", all.Total, err)
	}
}

func ptr[T any](v T) *T { return &v }
