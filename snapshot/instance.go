package snapshot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/secrets"
)

// Instance is the Source and Target over a tenantgate instance's
// services: a running one (instance.Instance's Index, Store and Admin) or
// a stopped data directory opened with instance.Open, which takes the
// data directory's file lock.
type Instance struct {
	Index *index.Service
	Store *control.Store
	// Admin creates a clone's tenant and reloads the policy after
	// control-plane records are restored.
	Admin *admin.Service
	// Key is the configured secrets key (the zero Key when none).
	Key secrets.Key
}

var (
	_ Source = (*Instance)(nil)
	_ Target = (*Instance)(nil)
)

// InstanceID returns the data directory's persistent id.
func (i *Instance) InstanceID(ctx context.Context) (string, error) { return i.Store.InstanceID() }

// Entries returns every catalog entry, sorted by physical name.
func (i *Instance) Entries(ctx context.Context) ([]index.Entry, error) {
	return i.Index.Catalog().All(), nil
}

// CopyIndex copies one physical index online (index.Copier).
func (i *Instance) CopyIndex(ctx context.Context, physical, dir string, opts index.CopyOptions) (index.CopyStats, error) {
	return i.Index.CopyIndex(ctx, physical, dir, opts)
}

// CountSecrets counts the secret documents of the .namespaces index
// physical.
func (i *Instance) CountSecrets(ctx context.Context, physical string) (int, error) {
	return countSecrets(ctx, i.Index.Backend(), physical)
}

// Control returns the control-plane records of custom tenant id: the
// tenant, the roles scoped to it or naming it in their tenant
// permissions (exactly, not through a wildcard), and those roles'
// mappings.
func (i *Instance) Control(ctx context.Context, id string) (*Control, error) {
	c := &Control{}
	err := i.Store.View(func(tx *control.Tx) error {
		t, err := tx.Tenant(id)
		if errors.Is(err, control.ErrNotFound) || err == nil && t.DeletedAt != nil {
			return fmt.Errorf("tenant [%s]: %w", id, ErrNotFound)
		}
		if err != nil {
			return err
		}
		c.Tenant = t
		roles, err := tx.Roles()
		if err != nil {
			return err
		}
		for _, r := range roles {
			if namesTenant(r.Role, id) {
				c.Roles = append(c.Roles, r)
				m, err := tx.Mapping(r.Name)
				if errors.Is(err, control.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				c.Mappings = append(c.Mappings, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// namesTenant reports whether role r is scoped to tenant id or names it
// in a tenant permission.
func namesTenant(r policy.Role, id string) bool {
	if r.Tenant == id {
		return true
	}
	for _, tp := range r.TenantPermissions {
		for _, p := range tp.TenantPatterns {
			if p == id {
				return true
			}
		}
	}
	return false
}

// IndexService returns the index service.
func (i *Instance) IndexService() *index.Service { return i.Index }

// StagingDir returns a new empty directory on the back-end's file system.
func (i *Instance) StagingDir(ctx context.Context) (string, error) {
	in, err := i.Index.Installer()
	if err != nil {
		return "", err
	}
	return in.StagingDir(ctx)
}

// Install swaps the index in dir in as physical.
func (i *Instance) Install(ctx context.Context, physical, dir string, overwrite bool) error {
	in, err := i.Index.Installer()
	if err != nil {
		return err
	}
	return in.InstallIndex(ctx, physical, dir, overwrite)
}

// RestoreControl writes the tenant and its roles and mappings, each only
// when missing unless overwrite, in one transaction, then reloads the
// policy and the tenant registry. A record written where none was is an
// API record (the target's security files do not declare it, so their
// next application must not remove it); one that replaces an existing
// record keeps that record's source. A soft-deleted tenant of that id is
// refused (restore or purge it first).
func (i *Instance) RestoreControl(ctx context.Context, c *Control, overwrite bool) error {
	err := i.Store.Update(func(tx *control.Tx) error {
		t := c.Tenant
		old, err := tx.Tenant(t.ID)
		switch {
		case err == nil && old.DeletedAt != nil:
			return fmt.Errorf("tenant [%s] is deleted; restore or purge it before restoring its snapshot: %w", t.ID, ErrExists)
		case err == nil && !overwrite:
		case err == nil || errors.Is(err, control.ErrNotFound):
			t.Source = sourceOf(old.Source, err)
			if err := tx.PutTenant(t); err != nil {
				return err
			}
		default:
			return err
		}
		for _, r := range c.Roles {
			old, err := tx.Role(r.Name)
			if err == nil && !overwrite {
				continue
			}
			r.Source = sourceOf(old.Source, err)
			if err := tx.PutRole(r); err != nil {
				return err
			}
		}
		for _, m := range c.Mappings {
			old, err := tx.Mapping(m.Name)
			if err == nil && !overwrite {
				continue
			}
			m.Source = sourceOf(old.Source, err)
			if err := tx.PutMapping(m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("restoring the control-plane records of tenant [%s]: %w", c.Tenant.ID, err)
	}
	if i.Admin != nil {
		return i.Admin.Reload()
	}
	return nil
}

// sourceOf is the source of a restored record: the replaced record's,
// or control.SourceAPI when there was none (lookupErr is its lookup's
// error).
func sourceOf(old string, lookupErr error) string {
	if lookupErr == nil && old != "" {
		return old
	}
	return control.SourceAPI
}

// CreateTenant creates tenant id through the admin service (audited, its
// Admin role mapped to adminUser), named like from unless from was named
// by its id.
func (i *Instance) CreateTenant(ctx context.Context, a admin.Actor, from control.Tenant, id, adminUser string) error {
	if i.Admin == nil {
		return fmt.Errorf("creating tenant [%s]: no admin service: %w", id, ErrInvalid)
	}
	name := from.Name
	if name == "" || name == from.ID {
		name = id
	}
	_, err := i.Admin.CreateTenant(a, admin.TenantInput{ID: id, Name: name, Description: from.Description, AdminUsername: adminUser})
	return err
}

// SecretsKey returns the configured secrets key.
func (i *Instance) SecretsKey() secrets.Key { return i.Key }

// countSecrets counts the secret documents of a .namespaces index.
func countSecrets(ctx context.Context, b index.Backend, physical string) (int, error) {
	res, err := b.Search(ctx, []string{physical}, &index.SearchRequest{Query: json.RawMessage(secretQuery), CountOnly: true})
	if err != nil {
		return 0, fmt.Errorf("counting the secrets of %s: %w", physical, err)
	}
	return int(res.Total), nil
}

// secretQuery finds the secret documents of a .namespaces index.
const secretQuery = `{"term":{"kind":"secret"}}`
