package admin

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// SecurityTenant is a tenant in OpenSearch Security's REST form
// (GET /_plugins/_security/api/tenants).
type SecurityTenant struct {
	Description string `json:"description"`
	Reserved    bool   `json:"reserved"`
	Hidden      bool   `json:"hidden"`
	Static      bool   `json:"static"`
}

// SecurityTenantOf returns t in OpenSearch Security's REST form.
func SecurityTenantOf(t control.Tenant) SecurityTenant {
	return SecurityTenant{Description: t.Description, Reserved: t.Reserved, Hidden: t.Hidden, Static: t.Static}
}

// PutSecurityTenant creates tenant id or changes its description, as
// PUT /_plugins/_security/api/tenants/{name} does, and reports whether
// it created it. A new tenant gets its Admin role as with CreateTenant.
func (s *Service) PutSecurityTenant(a Actor, id, description string) (created bool, err error) {
	var exists bool
	err = s.o.Store.View(func(tx *control.Tx) error {
		t, err := tx.Tenant(id)
		exists = err == nil && t.DeletedAt == nil
		return nil
	})
	if err != nil {
		return false, err
	}
	if !exists {
		if !s.can(a, policy.ClusterTenantsCreate) {
			// The 403 of a tenant the caller may not see: a caller who
			// may not create tenants must not learn which ids exist.
			ch := change{action: "tenant.create", tenant: id, target: id}
			return false, s.deny(a, ch, noTenant(a, id))
		}
		_, err = s.CreateTenant(a, TenantInput{ID: id, Description: description})
		return err == nil, err
	}
	_, err = s.UpdateTenant(a, id, nil, &description)
	return false, err
}

// PatchTenants applies an RFC 6902 JSON Patch to the tenants in
// OpenSearch Security's form ({"name": {"description": …}}), as PATCH
// /_plugins/_security/api/tenants does: "add" creates a tenant, "remove"
// deletes one (softly), "replace" of a description updates it. All of it
// happens in one transaction, or none of it, with an audit record of the
// patch and one of each tenant it changes (for that tenant's audit
// view). It needs restapi:admin/tenants.
func (s *Service) PatchTenants(a Actor, patch []byte) error {
	ch := change{action: "tenant.patch", target: "tenants"}
	if !s.can(a, policy.ClusterTenants) {
		return s.deny(a, ch, noPermission(policy.ClusterTenants, a.Name))
	}
	ops, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return s.deny(a, ch, errorf(ErrInvalid, "invalid JSON Patch: %v", err))
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		all, err := tx.Tenants()
		if err != nil {
			return nil, nil, err
		}
		current := map[string]control.Tenant{}
		doc := map[string]SecurityTenant{}
		for _, t := range all {
			if t.DeletedAt != nil || (t.Hidden && !a.Superadmin) {
				continue
			}
			current[t.ID] = t
			doc[t.ID] = SecurityTenantOf(t)
		}
		entries, err := patchEntries(ops, doc, "tenants")
		if err != nil {
			return nil, nil, err
		}
		next := map[string]SecurityTenant{}
		for name, v := range entries {
			var st SecurityTenant
			if err := decodeEntry(v, &st); err != nil {
				return nil, nil, errorf(ErrInvalid, "tenant [%s]: %v", name, err)
			}
			next[name] = st
		}
		now := s.o.Clock().UTC()
		// Each tenant changed gets its own record too (beside the one of
		// the whole patch), so that its audit view shows the change.
		tenantChanged := func(action, name string, before, after any) error {
			rec := s.record(a, change{action: action, tenant: name, target: name})
			return s.appendChange(tx, &rec, before, after)
		}
		for _, name := range slices.Sorted(maps.Keys(current)) {
			t := current[name]
			st, kept := next[name]
			action := "tenant.update"
			switch {
			case !kept:
				if t.Reserved {
					return nil, nil, reserved(name)
				}
				if err := s.notDefault(tx, name); err != nil {
					return nil, nil, err
				}
				t.DeletedAt, t.DeletedBy, t.Updated = &now, a.Name, now
				action = "tenant.delete"
			case st == SecurityTenantOf(t):
				continue
			case t.Reserved:
				return nil, nil, reserved(name)
			case st.Reserved != t.Reserved || st.Hidden != t.Hidden || st.Static != t.Static:
				return nil, nil, errorf(ErrInvalid, "tenant [%s]: reserved, hidden and static cannot be changed through the API", name)
			default:
				t.Description, t.Updated = st.Description, now
			}
			if err := tx.PutTenant(t); err != nil {
				return nil, nil, err
			}
			if err := tenantChanged(action, name, current[name], t); err != nil {
				return nil, nil, err
			}
		}
		for _, name := range slices.Sorted(maps.Keys(next)) {
			if _, ok := current[name]; ok {
				continue
			}
			st := next[name]
			if st.Reserved || st.Hidden || st.Static {
				return nil, nil, errorf(ErrInvalid, "tenant [%s]: reserved, hidden and static cannot be set through the API", name)
			}
			if err := tenants.ValidateID(name); err != nil {
				return nil, nil, idError(err)
			}
			_, created, err := s.createTenantTx(tx, a, TenantInput{ID: name, Description: st.Description})
			if err != nil {
				return nil, nil, err
			}
			if err := tenantChanged("tenant.create", name, nil, created); err != nil {
				return nil, nil, err
			}
		}
		return doc, next, nil
	})
}

// patchEntries applies a JSON Patch to doc, a collection in OpenSearch
// Security's form ({"name": {…}}), and returns the patched collection's
// entries, still encoded. noun names the collection in errors.
func patchEntries(ops jsonpatch.Patch, doc any, noun string) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	patched, err := ops.Apply(raw)
	if err != nil {
		return nil, errorf(ErrInvalid, "JSON Patch does not apply: %v", err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(patched, &entries); err != nil || entries == nil {
		return nil, errorf(ErrInvalid, "the patched %s are not an object", noun)
	}
	return entries, nil
}

// decodeEntry decodes one patched entry strictly: unknown fields are
// errors.
func decodeEntry(raw json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}
