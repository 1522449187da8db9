package admin

import (
	"errors"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// Audit returns a page of the audit trail, newest first, filtered by f
// (whose Tenant is ignored). With tenant nil it is the instance-wide view
// of every record (GET /api/v1/audit), which needs restapi:admin/audit.
// With a tenant it is that tenant's records only (GET
// /api/v1/{tenant}/audit), which needs restapi:admin/audit or the
// administration of the live tenant; anyone else gets the same 403 as for
// a tenant that does not exist. Its admins see the records since the
// tenant began, not those of an earlier, purged tenant of the same id. Holders of restapi:admin/audit may read
// the records of deleted and purged tenants, which the trail keeps.
// Records written asynchronously (401s, 403s, sign-ins) are flushed
// first, so the view is up to date. A malformed filter is a 400.
func (s *Service) Audit(a Actor, tenant *string, f audit.Filter) (audit.Page, error) {
	ch := change{action: "audit.read", target: "audit"}
	cluster := s.can(a, policy.ClusterAudit)
	switch {
	case tenant == nil && !cluster:
		return audit.Page{}, s.deny(a, ch, noPermission(policy.ClusterAudit, a.Name))
	case tenant != nil && !cluster:
		t := *tenant
		ch.tenant = t
		if err := s.auditTenant(a, t); err != nil {
			var ae *Error
			if errors.As(err, &ae) {
				return audit.Page{}, s.deny(a, ch, ae)
			}
			return audit.Page{}, err
		}
		since, err := s.incarnation(t)
		if err != nil {
			return audit.Page{}, err
		}
		if !f.To.IsZero() && f.To.Before(since) {
			return audit.Page{Results: []audit.Record{}}, nil
		}
		if since.After(f.From) {
			f.From = since
		}
	}
	if tenant != nil {
		t := strings.Clone(*tenant)
		f.Tenant = &t
	} else {
		f.Tenant = nil
	}
	if err := s.o.Trail.Flush(); err != nil {
		return audit.Page{}, err
	}
	p, err := s.o.Trail.Query(f)
	if errors.Is(err, audit.ErrInvalid) {
		return audit.Page{}, errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), audit.ErrInvalid.Error()+": "))
	}
	return p, err
}

// auditTenant decides whether an actor without restapi:admin/audit may
// read tenant id's audit view: they must administer it, and it must be
// live and visible. A locked tenant refuses its admins (423).
func (s *Service) auditTenant(a Actor, id string) error {
	if !s.tenantAdmin(a, id) {
		return noTenant(a, id)
	}
	var t control.Tenant
	err := s.o.Store.View(func(tx *control.Tx) (err error) {
		t, err = tx.Tenant(id)
		return err
	})
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && (t.DeletedAt != nil || (t.Hidden && !a.Superadmin)):
		return noTenant(a, id)
	case err != nil:
		return err
	case t.Locked:
		return s.closedTo(a, t)
	}
	return nil
}

// incarnation returns when the live tenant id began: an id is free again
// once its tenant is purged, and the records of that earlier tenant are
// not for the admins of the one created after it. It is the time of the
// newest record of the tenant's creation, or just after the newest purge
// when that came later (the tenant came back from tenants.yml); zero
// when there is neither.
func (s *Service) incarnation(id string) (time.Time, error) {
	newest := func(action string) (audit.Record, error) {
		p, err := s.o.Trail.Query(audit.Filter{Tenant: &id, Action: action, Outcome: audit.OutcomeSuccess, Size: 1})
		if err != nil || len(p.Results) == 0 {
			return audit.Record{}, err
		}
		return p.Results[0], nil
	}
	created, err := newest("tenant.create")
	if err != nil {
		return time.Time{}, err
	}
	purged, err := newest("tenant.purge")
	if err != nil {
		return time.Time{}, err
	}
	// Record ids sort like the records' times, then their order of writing.
	if purged.ID > created.ID {
		return purged.Time.Add(time.Nanosecond), nil
	}
	return created.Time, nil
}
