package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// AdminRoleName returns the name of tenant id's Admin role, the role its
// creator gets: "admin@<id>".
func AdminRoleName(id string) string { return "admin@" + id }

// TenantInput is a tenant to create or the new values of one to update.
type TenantInput struct {
	ID          string
	Name        string
	Description string
	// AdminUsername, when set, is mapped to the new tenant's Admin role
	// (the --admin-username of "tenants create").
	AdminUsername string
}

// Tenants lists tenants. Callers with restapi:admin/tenants see every
// tenant (hidden ones only superadmins); others see the tenants they may
// read. withDeleted adds soft-deleted tenants, for callers who may
// restore them.
func (s *Service) Tenants(a Actor, withDeleted bool) ([]control.Tenant, error) {
	admin := s.can(a, policy.ClusterTenants)
	var out []control.Tenant
	err := s.o.Store.View(func(tx *control.Tx) error {
		all, err := tx.Tenants()
		if err != nil {
			return err
		}
		for _, t := range all {
			switch {
			case t.DeletedAt != nil && !(withDeleted && admin):
				continue
			case t.Hidden && !a.Superadmin:
				continue
			case !admin && !s.o.Policy.Allowed(a.Roles, t.ID, policy.Read):
				continue
			}
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

// Tenant returns one tenant. A tenant the caller may not see and one that
// does not exist give the same 403 to callers without
// restapi:admin/tenants, so nobody learns which tenants exist.
func (s *Service) Tenant(a Actor, id string) (control.Tenant, error) {
	var t control.Tenant
	err := s.o.Store.View(func(tx *control.Tx) (err error) {
		t, err = s.visibleTenant(tx, a, id, policy.Read)
		return err
	})
	if err != nil {
		return t, s.denyRead(a, change{action: "tenant.read", tenant: id, target: id}, err)
	}
	return t, nil
}

// visibleTenant loads a live tenant the actor may see with at least
// action (or administer through restapi:admin/tenants).
func (s *Service) visibleTenant(tx *control.Tx, a Actor, id string, action policy.Action) (control.Tenant, error) {
	admin := s.can(a, policy.ClusterTenants)
	t, err := tx.Tenant(id)
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && t.DeletedAt != nil, err == nil && t.Hidden && !a.Superadmin:
		if admin {
			return t, errorf(ErrNotFound, "tenant [%s] not found", id)
		}
		return t, noTenant(a, id)
	case err != nil:
		return t, err
	case !admin && !s.o.Policy.Allowed(a.Roles, id, action):
		return t, noTenant(a, id)
	}
	return t, nil
}

// noTenant is the one 403 for "no such tenant" and "not yours".
func noTenant(a Actor, id string) *Error {
	return errorf(ErrForbidden, "no permissions for [tenant] and User [name=%s] on tenant [%s]", a.Name, id)
}

// CanCreateTenants reports whether a may create tenants
// (restapi:admin/tenants/create), so that a caller whose work would end in
// CreateTenant (a snapshot clone) is refused before it starts.
func (s *Service) CanCreateTenants(a Actor) bool { return s.can(a, policy.ClusterTenantsCreate) }

// CreateTenant creates a tenant with its Admin role and that role's
// mapping, in one transaction. The creator is mapped to the Admin role
// unless a superadmin, who assigns it explicitly (in.AdminUsername), as
// in Kestra. It needs restapi:admin/tenants/create.
func (s *Service) CreateTenant(a Actor, in TenantInput) (control.Tenant, error) {
	ch := change{action: "tenant.create", tenant: in.ID, target: in.ID}
	if !s.can(a, policy.ClusterTenantsCreate) {
		return control.Tenant{}, s.deny(a, ch, noPermission(policy.ClusterTenantsCreate, a.Name))
	}
	if err := tenants.ValidateID(in.ID); err != nil {
		return control.Tenant{}, s.deny(a, ch, idError(err))
	}
	if in.AdminUsername != "" {
		if err := control.ValidateName("user", in.AdminUsername); err != nil {
			return control.Tenant{}, s.deny(a, ch, errorf(ErrInvalid, "admin_username: %v", err))
		}
	}
	var t control.Tenant
	err := s.mutate(a, ch, func(tx *control.Tx) (_, after any, err error) {
		t, after, err = s.createTenantTx(tx, a, in)
		return nil, after, err
	})
	return t, err
}

// createTenantTx creates the tenant, its Admin role and the role's
// mapping in tx. It returns the tenant and what the audit record shows.
func (s *Service) createTenantTx(tx *control.Tx, a Actor, in TenantInput) (control.Tenant, any, error) {
	now := s.o.Clock().UTC()
	t := control.Tenant{ID: in.ID, Name: cmpOr(in.Name, in.ID), Description: in.Description}
	t.Source, t.Created, t.Updated = control.SourceAPI, now, now
	if old, err := tx.Tenant(in.ID); err == nil {
		if old.DeletedAt != nil {
			return t, nil, errorf(ErrConflict, "tenant [%s] was deleted at %s and can be restored until %s; restore it, or purge it before creating it again",
				in.ID, old.DeletedAt.Format(time.RFC3339), old.DeletedAt.Add(s.o.Retention).Format(time.RFC3339))
		}
		return t, nil, errorf(ErrConflict, "tenant [%s] already exists", in.ID)
	} else if !errors.Is(err, control.ErrNotFound) {
		return t, nil, err
	} else if len(s.kept(context.Background(), in.ID)) > 0 {
		return t, nil, errorf(ErrConflict, "tenant id [%s] still holds the executions and logs of a purged tenant of that id; "+
			"purge them first (POST /api/v1/tenants/%s/purge, or tenantgate tenants purge %s)", in.ID, in.ID, in.ID)
	}
	name := AdminRoleName(in.ID)
	if _, err := tx.Role(name); err == nil {
		return t, nil, errorf(ErrConflict, "role [%s] already exists; delete it before creating tenant [%s]", name, in.ID)
	} else if !errors.Is(err, control.ErrNotFound) {
		return t, nil, err
	}
	if _, err := tx.Mapping(name); err == nil {
		return t, nil, errorf(ErrConflict, "role mapping [%s] already exists; delete it before creating tenant [%s]", name, in.ID)
	} else if !errors.Is(err, control.ErrNotFound) {
		return t, nil, err
	}
	role := control.Role{Name: name, Role: policy.Role{
		Description: fmt.Sprintf("Administers tenant %s", in.ID),
		Tenant:      in.ID,
		Static:      true,
		TenantPermissions: []policy.TenantPermission{{
			TenantPatterns: []string{in.ID}, AllowedActions: []string{policy.TenantAdmin},
		}},
		IndexPermissions: []policy.IndexPermission{},
	}}
	role.Source, role.Created, role.Updated = control.SourceAPI, now, now
	var users []string
	if !a.Superadmin {
		users = append(users, a.Name)
	}
	if in.AdminUsername != "" && !slices.Contains(users, in.AdminUsername) {
		users = append(users, in.AdminUsername)
	}
	mapping := control.RoleMapping{Name: name, RoleMapping: policy.RoleMapping{
		Description: fmt.Sprintf("Administrators of tenant %s", in.ID), Users: users,
	}}
	mapping.Source, mapping.Created, mapping.Updated = control.SourceAPI, now, now
	for _, put := range []func() error{
		func() error { return tx.PutTenant(t) },
		func() error { return tx.PutRole(role) },
		func() error { return tx.PutMapping(mapping) },
	} {
		if err := put(); err != nil {
			return t, nil, err
		}
	}
	return t, map[string]any{"tenant": t, "role": role, "rolesmapping": mapping}, nil
}

// UpdateTenant changes a tenant's name and description. It needs
// restapi:admin/tenants or the tenant's Admin role; tenants from
// tenants.yml are reserved. A locked or frozen tenant refuses the change
// to its own administrators (423), as it refuses their other writes.
func (s *Service) UpdateTenant(a Actor, id string, name, description *string) (control.Tenant, error) {
	ch := change{action: "tenant.update", tenant: id, target: id}
	if name != nil && strings.TrimSpace(*name) == "" {
		return control.Tenant{}, s.deny(a, ch, errorf(ErrInvalid, "name must not be empty"))
	}
	var out control.Tenant
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := s.adminTenant(tx, a, id)
		if err != nil {
			return nil, nil, err
		}
		if t.Reserved {
			return nil, nil, reserved(id)
		}
		if err := s.closedTo(a, t); err != nil {
			return nil, nil, err
		}
		before := t
		if name != nil {
			t.Name = *name
		}
		if description != nil {
			t.Description = *description
		}
		if t.Name == before.Name && t.Description == before.Description {
			out = t
			return t, t, nil
		}
		t.Updated = s.o.Clock().UTC()
		out = t
		return before, t, tx.PutTenant(t)
	})
	return out, err
}

// adminTenant loads a live tenant the actor administers: through
// restapi:admin/tenants or the tenant's Admin role. Others get the 403
// of a tenant that does not exist.
func (s *Service) adminTenant(tx *control.Tx, a Actor, id string) (control.Tenant, error) {
	t, err := s.visibleTenant(tx, a, id, policy.Read)
	if err != nil {
		return t, err
	}
	if !s.can(a, policy.ClusterTenants) && !s.tenantAdmin(a, id) {
		return t, noPermission(policy.ClusterTenants, a.Name)
	}
	return t, nil
}

// closedTo returns the 423 of a locked or frozen tenant for an actor
// who administers it only through its Admin role; holders of
// restapi:admin/tenants, who lock and unlock it, pass.
func (s *Service) closedTo(a Actor, t control.Tenant) error {
	switch {
	case s.can(a, policy.ClusterTenants):
		return nil
	case t.Locked:
		return errorf(ErrLocked, "tenant [%s] is locked by an administrator: every request to it is refused until it is unlocked", t.ID)
	case t.Frozen:
		return errorf(ErrLocked, "tenant [%s] is frozen: it serves reads but refuses writes until it is unfrozen", t.ID)
	}
	return nil
}

// DeleteTenant soft-deletes a tenant: it disappears from every listing
// and request at once, and RestoreTenant brings it back, intact, until
// the retention window ends and it is purged. It needs
// restapi:admin/tenants; reserved tenants cannot be deleted.
func (s *Service) DeleteTenant(a Actor, id string) (control.Tenant, error) {
	ch := change{action: "tenant.delete", tenant: id, target: id}
	if !s.can(a, policy.ClusterTenants) {
		return control.Tenant{}, s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	var out control.Tenant
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := s.visibleTenant(tx, a, id, policy.Read)
		if err != nil {
			return nil, nil, err
		}
		if t.Reserved {
			return nil, nil, reserved(id)
		}
		if err := s.notDefault(tx, id); err != nil {
			return nil, nil, err
		}
		before := t
		now := s.o.Clock().UTC()
		t.DeletedAt, t.DeletedBy, t.Updated = &now, a.Name, now
		out = t
		return before, t, tx.PutTenant(t)
	})
	return out, err
}

// tenancyTx returns the multitenancy settings as stored in tx (the
// configuration file's until a PUT of tenancy/config), so that a check
// and the change it guards see the same settings.
func (s *Service) tenancyTx(tx *control.Tx) (control.Tenancy, error) {
	t, stored, err := tx.StoredTenancy()
	if err != nil || !stored {
		return s.o.Defaults, err
	}
	return t, nil
}

// notDefault refuses to delete the default tenant.
func (s *Service) notDefault(tx *control.Tx, id string) error {
	set, err := s.tenancyTx(tx)
	if err != nil {
		return err
	}
	if set.DefaultTenant == id {
		return errorf(ErrConflict, "tenant [%s] is the default_tenant; change tenancy/config first", id)
	}
	return nil
}

// RestoreTenant brings back a soft-deleted tenant within the retention
// window, with everything it had. It needs restapi:admin/tenants. A
// tenant removed from tenants.yml is restored by putting it back in the
// file (403 reserved here).
func (s *Service) RestoreTenant(a Actor, id string) (control.Tenant, error) {
	ch := change{action: "tenant.restore", tenant: id, target: id}
	if !s.can(a, policy.ClusterTenants) {
		return control.Tenant{}, s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	var out control.Tenant
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := tx.Tenant(id)
		if errors.Is(err, control.ErrNotFound) || (err == nil && t.Hidden && !a.Superadmin) {
			return nil, nil, errorf(ErrNotFound, "tenant [%s] not found", id)
		} else if err != nil {
			return nil, nil, err
		}
		if t.DeletedAt == nil {
			return nil, nil, errorf(ErrConflict, "tenant [%s] is not deleted", id)
		}
		if _, busy := s.purging.Load(id); busy {
			return nil, nil, errorf(ErrConflict, "tenant [%s] is being purged", id)
		}
		if t.Source == control.SourceFile {
			// Removed from tenants.yml: the next start would delete it
			// again. The file is where it comes back.
			return nil, nil, errorf(ErrReserved, "Resource '%s' is reserved: it was removed from tenants.yml; put it back there to restore it", id)
		}
		now := s.o.Clock().UTC()
		if !now.Before(t.DeletedAt.Add(s.o.Retention)) {
			return nil, nil, errorf(ErrConflict, "tenant [%s] was deleted at %s, past the %s restore window; it is being purged",
				id, t.DeletedAt.Format(time.RFC3339), s.o.Retention)
		}
		before := t
		t.DeletedAt, t.DeletedBy, t.Updated = nil, "", now
		out = t
		return before, t, tx.PutTenant(t)
	})
	return out, err
}

// SetTenantState locks, unlocks, freezes or unfreezes a tenant (op is
// "lock", "unlock", "freeze" or "unfreeze"). A locked tenant answers
// every request but a superadmin's with 423; a frozen one refuses writes
// with 423. It needs restapi:admin/tenants. Tenants of tenants.yml can
// be locked and frozen too: that is operational state, not part of their
// declaration, and applying the files at start-up keeps it.
func (s *Service) SetTenantState(a Actor, id, op string) (control.Tenant, error) {
	ch := change{action: "tenant." + op, tenant: id, target: id}
	if !s.can(a, policy.ClusterTenants) {
		return control.Tenant{}, s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	var out control.Tenant
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := s.visibleTenant(tx, a, id, policy.Read)
		if err != nil {
			return nil, nil, err
		}
		before := t
		switch op {
		case "lock":
			t.Locked = true
		case "unlock":
			t.Locked = false
		case "freeze":
			t.Frozen = true
		case "unfreeze":
			t.Frozen = false
		default:
			return nil, nil, errorf(ErrInvalid, "unknown tenant operation [%s]", op)
		}
		out = t
		if t.Locked == before.Locked && t.Frozen == before.Frozen {
			return before, t, nil
		}
		t.Updated = s.o.Clock().UTC()
		out = t
		return before, t, tx.PutTenant(t)
	})
	return out, err
}

// PurgeTenant purges a soft-deleted tenant now, without waiting for the
// retention window: its indices (dashboards, data, flows, namespaces),
// its roles and role mappings and its service accounts go; its audit
// records stay, and so do its executions and logs (KeptIndices). Called
// again for an id whose tenant is purged, it drops those executions and
// logs. It needs restapi:admin/tenants.
func (s *Service) PurgeTenant(ctx context.Context, a Actor, id string) error {
	ch := change{action: "tenant.purge", tenant: id, target: id}
	if !s.can(a, policy.ClusterTenants) {
		return s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	var t control.Tenant
	err := s.o.Store.View(func(tx *control.Tx) (err error) {
		t, err = tx.Tenant(id)
		return err
	})
	switch {
	case errors.Is(err, control.ErrNotFound):
		if kept := s.kept(ctx, id); len(kept) > 0 {
			return s.purgeKept(ctx, a, id, kept)
		}
		return s.deny(a, ch, errorf(ErrNotFound, "tenant [%s] not found", id))
	case err == nil && t.Hidden && !a.Superadmin:
		return s.deny(a, ch, errorf(ErrNotFound, "tenant [%s] not found", id))
	case err != nil:
		return err
	case t.DeletedAt == nil:
		return s.deny(a, ch, errorf(ErrConflict, "tenant [%s] is not deleted; delete it first", id))
	}
	return s.purge(ctx, a, id)
}

// PurgeExpired purges every tenant deleted longer ago than the retention
// window and returns how many it purged.
func (s *Service) PurgeExpired(ctx context.Context) (int, error) {
	var due []string
	now := s.o.Clock()
	err := s.o.Store.View(func(tx *control.Tx) error {
		all, err := tx.Tenants()
		for _, t := range all {
			if t.DeletedAt != nil && !now.Before(t.DeletedAt.Add(s.o.Retention)) {
				due = append(due, t.ID)
			}
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		err := s.purge(ctx, Actor{Name: "tenantgate", Superadmin: true}, id)
		switch {
		case errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict):
			continue // purged or restored meanwhile
		case err != nil:
			return n, fmt.Errorf("purging tenant %s: %w", id, err)
		}
		s.log.Info("purged deleted tenant", "tenant", id)
		n++
	}
	return n, nil
}

// purge drops the tenant's indices, then in one transaction its record,
// its tenant-scoped roles and their mappings, its service accounts
// with their tokens, and its place among the stored preferred tenants. Dropping indices first means a purge interrupted
// half way leaves a deleted tenant that the next purge finishes.
//
// Purges run one at a time, and a purge first claims its tenant: in a
// write transaction (so after any restore that committed, and before
// any that has not) it checks the tenant is still deleted, marks it
// as being purged, which RestoreTenant refuses, and appends the audit
// record "tenant.purge.start" (so audit.fail_closed can stop the purge
// before any data is dropped). No restore can then
// bring back a tenant whose indices are being dropped, and a tenant
// purged meanwhile by someone else is a plain ErrNotFound.
func (s *Service) purge(ctx context.Context, a Actor, id string) error {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	s.purging.Store(id, true)
	defer s.purging.Delete(id)
	ch := change{action: "tenant.purge", tenant: id, target: id}
	err := s.o.Store.Update(func(tx *control.Tx) error {
		t, err := tx.Tenant(id)
		switch {
		case errors.Is(err, control.ErrNotFound):
			return errorf(ErrNotFound, "tenant [%s] not found", id)
		case err != nil:
			return err
		case t.DeletedAt == nil:
			return errorf(ErrConflict, "tenant [%s] is not deleted; delete it first", id)
		}
		// Record that the tenant's data is being dropped before dropping
		// it: with audit.fail_closed a trail that refuses this record
		// stops the purge while nothing is lost yet.
		rec := s.record(a, change{action: "tenant.purge.start", tenant: id, target: id})
		rec.Reason = "dropping the tenant's indices; tenant.purge follows when the purge is done"
		return s.appendChange(tx, &rec, nil, nil)
	})
	if err != nil {
		s.fail(s.record(a, ch), err)
		return err
	}
	if s.o.Index != nil {
		v := s.o.Index.SystemView(tenants.CustomRef(id))
		infos, err := v.List(ctx)
		if err != nil {
			return err
		}
		for _, info := range infos {
			if slices.Contains(KeptIndices, info.Name) {
				continue
			}
			if err := v.DeleteIndex(ctx, info.Name); err != nil {
				return fmt.Errorf("dropping index %s: %w", info.Name, err)
			}
		}
		for _, tpl := range v.Templates("*") {
			if err := v.DeleteTemplate(ctx, tpl.Name); err != nil {
				return fmt.Errorf("dropping template %s: %w", tpl.Name, err)
			}
		}
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		t, err := tx.Tenant(id)
		if err != nil {
			return nil, nil, err
		}
		if t.DeletedAt == nil {
			return nil, nil, errorf(ErrConflict, "tenant [%s] was restored", id)
		}
		removed := map[string]any{"tenant": t}
		roles, err := tx.Roles()
		if err != nil {
			return nil, nil, err
		}
		var gone []string
		for _, r := range roles {
			if r.Tenant != id {
				continue
			}
			if err := tx.DeleteRole(r.Name); err != nil {
				return nil, nil, err
			}
			if err := tx.DeleteMapping(r.Name); err != nil && !errors.Is(err, control.ErrNotFound) {
				return nil, nil, err
			}
			gone = append(gone, r.Name)
		}
		removed["roles"] = gone
		users, err := tx.Users()
		if err != nil {
			return nil, nil, err
		}
		var accounts []string
		for _, u := range users {
			if u.Tenant != id {
				continue
			}
			if err := deleteUserTx(tx, u.Name); err != nil {
				return nil, nil, err
			}
			accounts = append(accounts, u.Name)
		}
		removed["service_accounts"] = accounts
		// The stored tenancy settings may list it among the preferred
		// tenants; a tenant created later under the same id must not
		// inherit that.
		if set, stored, err := tx.StoredTenancy(); err != nil {
			return nil, nil, err
		} else if stored && slices.Contains(set.PreferredTenants, id) {
			set.PreferredTenants = slices.DeleteFunc(set.PreferredTenants, func(p string) bool { return p == id })
			if err := tx.PutTenancy(set); err != nil {
				return nil, nil, err
			}
			removed["preferred_tenants"] = id
		}
		return removed, nil, tx.DeleteTenant(id)
	})
}

// KeptIndices are the logical indices a tenant purge keeps: a tenant's
// executions and logs outlive it until they are purged on their own, by
// a second purge of the tenant id (PurgeTenant). Until then no tenant can
// be created with that id, so a new tenant never sees them.
var KeptIndices = []string{".executions", ".logs"}

// kept returns which of KeptIndices the tenant id still holds.
func (s *Service) kept(ctx context.Context, id string) []string {
	if s.o.Index == nil {
		return nil
	}
	v := s.o.Index.SystemView(tenants.CustomRef(id))
	var out []string
	for _, name := range KeptIndices {
		if ok, err := v.Exists(ctx, name); err == nil && ok {
			out = append(out, name)
		}
	}
	return out
}

// purgeKept drops the executions and logs a purged tenant left behind
// (KeptIndices), recording "tenant.purge.executions".
func (s *Service) purgeKept(ctx context.Context, a Actor, id string, kept []string) error {
	s.purgeMu.Lock()
	defer s.purgeMu.Unlock()
	ch := change{action: "tenant.purge.executions", tenant: id, target: id}
	// PurgeTenant checked the caller. Creating the id is refused while these indices exist, so nobody
	// can take the id between this check and the drop.
	v := s.o.Index.SystemView(tenants.CustomRef(id))
	for _, name := range kept {
		if err := v.DeleteIndex(ctx, name); err != nil {
			return fmt.Errorf("dropping index %s: %w", name, err)
		}
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		return map[string]any{"indices": kept}, nil, nil
	})
}

// deleteUserTx deletes a user or service account and its tokens.
func deleteUserTx(tx *control.Tx, name string) error {
	toks, err := tx.TokensOf(name)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if err := tx.DeleteToken(t.ID); err != nil {
			return err
		}
	}
	return tx.DeleteUser(name)
}

// Tenancy returns the effective multitenancy settings.
func (s *Service) Tenancy() control.Tenancy {
	set := s.o.Resolver.Settings()
	return control.Tenancy{
		MultitenancyEnabled: set.Enabled, PrivateTenantEnabled: set.EnablePrivate,
		GlobalTenantEnabled: set.EnableGlobal, DefaultTenant: set.Default,
		PreferredTenants: slices.Clone(set.Preferred),
	}
}

// PutTenancy stores new multitenancy settings (PUT tenancy/config), which
// from then on take precedence over the configuration file. The default
// tenant must exist and be enabled. It needs restapi:admin/tenants.
func (s *Service) PutTenancy(a Actor, t control.Tenancy) (control.Tenancy, error) {
	ch := change{action: "tenancy.update", target: "tenancy/config"}
	if !s.can(a, policy.ClusterTenants) {
		return t, s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	err := s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		if err := s.checkTenancy(tx, t); err != nil {
			return nil, nil, err
		}
		before, err := s.tenancyTx(tx)
		if err != nil {
			return nil, nil, err
		}
		return before, t, tx.PutTenancy(t)
	})
	return t, err
}

func (s *Service) checkTenancy(tx *control.Tx, t control.Tenancy) error {
	switch d := strings.ToLower(t.DefaultTenant); d {
	case "", tenants.Global, tenants.GlobalAlias:
		if t.MultitenancyEnabled && !t.GlobalTenantEnabled {
			return errorf(ErrInvalid, "default_tenant is the global tenant, which global_tenant_enabled=false disables")
		}
	case tenants.Private, tenants.PrivateAlias:
		if !t.MultitenancyEnabled {
			return errorf(ErrInvalid, "default_tenant [%s] needs multitenancy_enabled", t.DefaultTenant)
		}
		if !t.PrivateTenantEnabled {
			return errorf(ErrInvalid, "private_tenant_enabled cannot be false while the private tenant is the default_tenant")
		}
	default:
		if !t.MultitenancyEnabled {
			return errorf(ErrInvalid, "default_tenant [%s] needs multitenancy_enabled", t.DefaultTenant)
		}
		if old, err := tx.Tenant(t.DefaultTenant); err != nil || old.DeletedAt != nil {
			return errorf(ErrInvalid, "default_tenant [%s] does not exist", t.DefaultTenant)
		}
	}
	for _, p := range t.PreferredTenants {
		if strings.TrimSpace(p) == "" {
			return errorf(ErrInvalid, "preferred_tenants must not hold empty names")
		}
	}
	return nil
}

// idError turns a tenants.ValidateID error into a 400 with its message.
func idError(err error) *Error {
	return errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), tenants.ErrInvalid.Error()+": "))
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
