package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
)

// Roles and role mappings, OpenSearch Security style
// (/_plugins/_security/api/roles and …/rolesmapping).
//
// Who may do what:
//   - restapi:admin/roles (restapi:admin/rolesmapping for mappings) or a
//     superadmin: every role (mapping); hidden ones only superadmins.
//   - the admins of tenant T: T's tenant-scoped roles, named "<x>@T",
//     and their mappings, while T is live and not locked (not frozen, for
//     changes); nothing else.
//   - only a superadmin may create, change or delete a role that has
//     cluster_permissions, or the mapping of such a role (all_access
//     included), so that a roles admin cannot grant themselves more.
//   - T's Admin role, admin@T, is changed only by superadmins; T's admins
//     grant it through its mapping.
//   - reserved entries (from the security files, and all_access always)
//     cannot be changed: 403 "Resource 'x' is reserved.".
//
// Every change, PATCH included, is one transaction that validates the
// whole resulting policy (policy.New) before it commits.

// SecurityRole is a role in OpenSearch Security's REST form (GET, PUT and
// PATCH of /_plugins/_security/api/roles), with tenantgate's "tenant" for
// tenant-scoped roles. Slices are never nil in what the Service returns.
type SecurityRole struct {
	// Reserved, Hidden and Static are the role's flags; they cannot be
	// changed through the API, so a PUT or PATCH must leave them as they
	// are (false for a new role).
	Reserved bool `json:"reserved"`
	Hidden   bool `json:"hidden"`
	Static   bool `json:"static"`
	// Description is free text.
	Description string `json:"description"`
	// Tenant makes the role tenant-scoped; see policy.Role.Tenant. A role
	// named "<x>@<tenant>" gets <tenant> when it is left out.
	Tenant string `json:"tenant,omitempty"`
	// ClusterPermissions, IndexPermissions and TenantPermissions are the
	// role's grants; see policy.Role.
	ClusterPermissions []string                  `json:"cluster_permissions"`
	IndexPermissions   []policy.IndexPermission  `json:"index_permissions"`
	TenantPermissions  []policy.TenantPermission `json:"tenant_permissions"`
	// NamespacePermissions are tenantgate's grants on the Kestra-style
	// resources of some namespaces; see policy.NamespacePermission.
	NamespacePermissions []policy.NamespacePermission `json:"namespace_permissions,omitempty"`
}

// SecurityRoleOf returns r in OpenSearch Security's REST form.
func SecurityRoleOf(r control.Role) SecurityRole {
	v := SecurityRole{Reserved: r.Reserved, Hidden: r.Hidden, Static: r.Static, Description: r.Description,
		Tenant: r.Tenant, ClusterPermissions: r.ClusterPermissions, IndexPermissions: r.IndexPermissions,
		TenantPermissions: r.TenantPermissions, NamespacePermissions: r.NamespacePermissions}
	return v.normalized(r.Name)
}

// normalized returns v with empty slices instead of nil ones, deep copies
// of its slices, and Tenant taken from the name of a role named
// "<x>@<tenant>" when it is empty.
func (v SecurityRole) normalized(name string) SecurityRole {
	if v.Tenant == "" {
		v.Tenant = ScopeOf(name)
	}
	v.ClusterPermissions = cloneStrings(v.ClusterPermissions)
	ips := make([]policy.IndexPermission, 0, len(v.IndexPermissions))
	for _, ip := range v.IndexPermissions {
		ip.IndexPatterns = cloneStrings(ip.IndexPatterns)
		ip.AllowedActions = cloneStrings(ip.AllowedActions)
		ip.Fls = cloneStrings(ip.Fls)
		ip.MaskedFields = cloneStrings(ip.MaskedFields)
		ips = append(ips, ip)
	}
	v.IndexPermissions = ips
	tps := make([]policy.TenantPermission, 0, len(v.TenantPermissions))
	for _, tp := range v.TenantPermissions {
		tp.TenantPatterns = cloneStrings(tp.TenantPatterns)
		tp.AllowedActions = cloneStrings(tp.AllowedActions)
		tps = append(tps, tp)
	}
	v.TenantPermissions = tps
	var nps []policy.NamespacePermission
	for _, np := range v.NamespacePermissions {
		np.TenantPatterns = cloneStrings(np.TenantPatterns)
		np.Namespaces = cloneStrings(np.Namespaces)
		perms := make(map[string][]string, len(np.Permissions))
		for res, verbs := range np.Permissions {
			perms[res] = cloneStrings(verbs)
		}
		np.Permissions = perms
		nps = append(nps, np)
	}
	v.NamespacePermissions = nps
	return v
}

// SecurityRoleMapping is a role mapping in OpenSearch Security's REST form
// (…/api/rolesmapping), with tenantgate's groups. Slices are never nil in
// what the Service returns. Hosts must be empty (policy.RoleMapping).
type SecurityRoleMapping struct {
	// Reserved and Hidden are the mapping's flags; they cannot be changed
	// through the API.
	Reserved bool `json:"reserved"`
	Hidden   bool `json:"hidden"`
	// Description is free text.
	Description string `json:"description"`
	// Users, BackendRoles, AndBackendRoles, Groups and Hosts select who
	// is mapped; see policy.RoleMapping.
	Users           []string `json:"users"`
	BackendRoles    []string `json:"backend_roles"`
	AndBackendRoles []string `json:"and_backend_roles"`
	Groups          []string `json:"groups"`
	Hosts           []string `json:"hosts"`
}

// SecurityRoleMappingOf returns m in OpenSearch Security's REST form.
func SecurityRoleMappingOf(m control.RoleMapping) SecurityRoleMapping {
	v := SecurityRoleMapping{Reserved: m.Reserved, Hidden: m.Hidden, Description: m.Description,
		Users: m.Users, BackendRoles: m.BackendRoles, AndBackendRoles: m.AndBackendRoles,
		Groups: m.Groups, Hosts: m.Hosts}
	return v.normalized()
}

func (v SecurityRoleMapping) normalized() SecurityRoleMapping {
	v.Users = cloneStrings(v.Users)
	v.BackendRoles = cloneStrings(v.BackendRoles)
	v.AndBackendRoles = cloneStrings(v.AndBackendRoles)
	v.Groups = cloneStrings(v.Groups)
	v.Hosts = cloneStrings(v.Hosts)
	return v
}

func cloneStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// ScopeOf returns the tenant of a tenant-scoped role (or of its mapping)
// named "<x>@<tenant>": the part after the last '@'; "" for other names.
func ScopeOf(name string) string {
	if at := strings.LastIndexByte(name, '@'); at > 0 {
		return name[at+1:]
	}
	return ""
}

// securityNotFound is OpenSearch Security's 404 for a role or mapping.
func securityNotFound(name string) *Error {
	return errorf(ErrNotFound, "Resource '%s' not found.", name)
}

// Roles lists the roles the actor may see: every role for holders of
// restapi:admin/roles (hidden ones only for superadmins), the roles of
// the tenants they administer for tenant admins. Others get a 403.
func (s *Service) Roles(a Actor) ([]control.Role, error) {
	var out []control.Role
	err := s.o.Store.View(func(tx *control.Tx) error {
		st, err := loadSecurity(tx)
		if err != nil {
			return err
		}
		names, err := s.visible(tx, a, policy.ClusterRoles, slices.Collect(maps.Keys(st.roles)), st.roleHidden)
		for _, n := range names {
			out = append(out, st.roles[n])
		}
		return err
	})
	if err != nil {
		return nil, s.denyRead(a, change{action: "role.read", target: "roles"}, err)
	}
	return out, nil
}

// Role returns one role the actor may see (as Roles decides).
func (s *Service) Role(a Actor, name string) (control.Role, error) {
	var out control.Role
	err := s.o.Store.View(func(tx *control.Tx) error {
		if err := s.mayManage(tx, a, policy.ClusterRoles, name, false); err != nil {
			return err
		}
		r, err := tx.Role(name)
		switch {
		case errors.Is(err, control.ErrNotFound), err == nil && r.Hidden && !a.Superadmin:
			return securityNotFound(name)
		case err != nil:
			return err
		}
		out = r
		return nil
	})
	if err != nil {
		return out, s.denyRead(a, change{action: "role.read", tenant: ScopeOf(name), target: name}, err)
	}
	return out, nil
}

// PutRole creates role name or replaces its content, as PUT
// /_plugins/_security/api/roles/{name} does, and reports whether it
// created it. See the package's rules above for who may.
func (s *Service) PutRole(a Actor, name string, in SecurityRole) (created bool, err error) {
	ch := change{action: "role.update", tenant: ScopeOf(name), target: name}
	if err := control.ValidateName("role", name); err != nil {
		return false, s.deny(a, ch, nameError(err))
	}
	err = s.o.Store.View(func(tx *control.Tx) error {
		_, err := tx.Role(name)
		created = errors.Is(err, control.ErrNotFound)
		return nil
	})
	if err != nil {
		return false, err
	}
	if created {
		ch.action = "role.create"
	}
	err = s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		st, err := loadSecurity(tx)
		if err != nil {
			return nil, nil, err
		}
		_, existed := st.roles[name]
		created = !existed
		ed, err := s.editRoles(tx, a, st, map[string]*SecurityRole{name: &in})
		if err != nil {
			return nil, nil, err
		}
		before, after := ed.rolesBefore[name], ed.rolesAfter[name]
		if !existed {
			return nil, after, nil
		}
		return before, after, nil
	})
	return created, err
}

// DeleteRole deletes role name and, in the same transaction, its
// mapping.
func (s *Service) DeleteRole(a Actor, name string) error {
	ch := change{action: "role.delete", tenant: ScopeOf(name), target: name}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		st, err := loadSecurity(tx)
		if err != nil {
			return nil, nil, err
		}
		ed, err := s.editRoles(tx, a, st, map[string]*SecurityRole{name: nil})
		if err != nil {
			return nil, nil, err
		}
		before := map[string]any{"role": ed.rolesBefore[name]}
		if m, ok := ed.mappingsBefore[name]; ok {
			before["rolesmapping"] = m
		}
		return before, nil, nil
	})
}

// PatchRoles applies an RFC 6902 JSON Patch to the roles the actor may
// see, in OpenSearch Security's form ({"name": {role…}}), as PATCH
// /_plugins/_security/api/roles does: "add" creates a role, "remove"
// deletes one (with its mapping), "replace" changes one. Every change is
// checked as a PUT or DELETE would be, and all of them commit in one
// transaction or none does.
func (s *Service) PatchRoles(a Actor, patch []byte) error {
	return s.patchSecurity(a, patch, roleKind)
}

// RoleMappings lists the role mappings the actor may see: every one for
// holders of restapi:admin/rolesmapping (hidden ones only for
// superadmins), the mappings of the roles of the tenants they administer
// for tenant admins. Others get a 403.
func (s *Service) RoleMappings(a Actor) ([]control.RoleMapping, error) {
	var out []control.RoleMapping
	err := s.o.Store.View(func(tx *control.Tx) error {
		st, err := loadSecurity(tx)
		if err != nil {
			return err
		}
		names, err := s.visible(tx, a, policy.ClusterRolesMapping, slices.Collect(maps.Keys(st.mappings)), st.mappingHidden)
		for _, n := range names {
			out = append(out, st.mappings[n])
		}
		return err
	})
	if err != nil {
		return nil, s.denyRead(a, change{action: "rolesmapping.read", target: "rolesmapping"}, err)
	}
	return out, nil
}

// RoleMapping returns the mapping of role name, when the actor may see it
// (as RoleMappings decides).
func (s *Service) RoleMapping(a Actor, name string) (control.RoleMapping, error) {
	var out control.RoleMapping
	err := s.o.Store.View(func(tx *control.Tx) error {
		if err := s.mayManage(tx, a, policy.ClusterRolesMapping, name, false); err != nil {
			return err
		}
		m, err := tx.Mapping(name)
		switch {
		case errors.Is(err, control.ErrNotFound), err == nil && m.Hidden && !a.Superadmin:
			return securityNotFound(name)
		case err != nil:
			return err
		}
		out = m
		return nil
	})
	if err != nil {
		return out, s.denyRead(a, change{action: "rolesmapping.read", tenant: ScopeOf(name), target: name}, err)
	}
	return out, nil
}

// PutRoleMapping creates or replaces the mapping of role name, as PUT
// /_plugins/_security/api/rolesmapping/{name} does, and reports whether
// it created it. The role must exist.
func (s *Service) PutRoleMapping(a Actor, name string, in SecurityRoleMapping) (created bool, err error) {
	ch := change{action: "rolesmapping.update", tenant: ScopeOf(name), target: name}
	if err := control.ValidateName("role mapping", name); err != nil {
		return false, s.deny(a, ch, nameError(err))
	}
	err = s.o.Store.View(func(tx *control.Tx) error {
		_, err := tx.Mapping(name)
		created = errors.Is(err, control.ErrNotFound)
		return nil
	})
	if err != nil {
		return false, err
	}
	if created {
		ch.action = "rolesmapping.create"
	}
	err = s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		st, err := loadSecurity(tx)
		if err != nil {
			return nil, nil, err
		}
		_, existed := st.mappings[name]
		created = !existed
		ed, err := s.editMappings(tx, a, st, map[string]*SecurityRoleMapping{name: &in})
		if err != nil {
			return nil, nil, err
		}
		before, after := ed.mappingsBefore[name], ed.mappingsAfter[name]
		if !existed {
			return nil, after, nil
		}
		return before, after, nil
	})
	return created, err
}

// DeleteRoleMapping deletes the mapping of role name; the role stays.
func (s *Service) DeleteRoleMapping(a Actor, name string) error {
	ch := change{action: "rolesmapping.delete", tenant: ScopeOf(name), target: name}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		st, err := loadSecurity(tx)
		if err != nil {
			return nil, nil, err
		}
		ed, err := s.editMappings(tx, a, st, map[string]*SecurityRoleMapping{name: nil})
		if err != nil {
			return nil, nil, err
		}
		return ed.mappingsBefore[name], nil, nil
	})
}

// PatchRoleMappings applies an RFC 6902 JSON Patch to the role mappings
// the actor may see, as PATCH /_plugins/_security/api/rolesmapping does;
// like PatchRoles, all of it or nothing.
func (s *Service) PatchRoleMappings(a Actor, patch []byte) error {
	return s.patchSecurity(a, patch, mappingKind)
}

// security is every role and role mapping, read in one transaction and
// edited in memory until the edits are validated and written.
type security struct {
	roles    map[string]control.Role
	mappings map[string]control.RoleMapping
}

func loadSecurity(tx *control.Tx) (*security, error) {
	st := &security{roles: map[string]control.Role{}, mappings: map[string]control.RoleMapping{}}
	rs, err := tx.Roles()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		st.roles[r.Name] = r
	}
	ms, err := tx.Mappings()
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		st.mappings[m.Name] = m
	}
	return st, nil
}

func (st *security) roleHidden(name string) bool    { return st.roles[name].Hidden }
func (st *security) mappingHidden(name string) bool { return st.mappings[name].Hidden }

// grantsCluster reports whether role name has cluster permissions:
// all_access always does, whatever roles.yml says.
func (st *security) grantsCluster(name string) bool {
	return name == policy.AllAccess || len(st.roles[name].ClusterPermissions) > 0
}

// validate builds the policy that st would load and returns its error as
// a 400 with the policy's message.
func (st *security) validate() error {
	roles := make(map[string]policy.Role, len(st.roles))
	for name, r := range st.roles {
		pr := r.Role
		pr.Name = name
		roles[name] = pr
	}
	mappings := make(map[string]policy.RoleMapping, len(st.mappings))
	for name, m := range st.mappings {
		mappings[name] = m.RoleMapping
	}
	if _, err := policy.New(roles, mappings); err != nil {
		if !errors.Is(err, policy.ErrInvalid) {
			return err
		}
		msg := strings.TrimPrefix(err.Error(), policy.ErrInvalid.Error()+": ")
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, "roles.yml: "), "roles_mapping.yml: ")
		return errorf(ErrInvalid, "%s", msg)
	}
	return nil
}

// edits are what a change did: the REST form of the roles and mappings
// it touched, before (when they existed) and after (when they still do).
type edits struct {
	rolesBefore, rolesAfter       map[string]SecurityRole
	mappingsBefore, mappingsAfter map[string]SecurityRoleMapping
}

func newEdits() *edits {
	return &edits{rolesBefore: map[string]SecurityRole{}, rolesAfter: map[string]SecurityRole{},
		mappingsBefore: map[string]SecurityRoleMapping{}, mappingsAfter: map[string]SecurityRoleMapping{}}
}

// tenants returns the tenants of the roles and mappings touched ("" for
// instance-level ones), sorted.
func (ed *edits) tenants() []string {
	set := map[string]bool{}
	for _, m := range []map[string]SecurityRole{ed.rolesBefore, ed.rolesAfter} {
		for n := range m {
			set[ScopeOf(n)] = true
		}
	}
	for _, m := range []map[string]SecurityRoleMapping{ed.mappingsBefore, ed.mappingsAfter} {
		for n := range m {
			set[ScopeOf(n)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// of returns the part of the edits in tenant t, as a patch's audit
// record shows it.
func (ed *edits) of(t string, all bool) (before, after any) {
	pick := func(roles map[string]SecurityRole, mappings map[string]SecurityRoleMapping) any {
		out := map[string]any{}
		r, m := map[string]SecurityRole{}, map[string]SecurityRoleMapping{}
		for n, v := range roles {
			if all || ScopeOf(n) == t {
				r[n] = v
			}
		}
		for n, v := range mappings {
			if all || ScopeOf(n) == t {
				m[n] = v
			}
		}
		if len(r) > 0 {
			out["roles"] = r
		}
		if len(m) > 0 {
			out["rolesmapping"] = m
		}
		return out
	}
	return pick(ed.rolesBefore, ed.mappingsBefore), pick(ed.rolesAfter, ed.mappingsAfter)
}

// editRoles checks and applies role edits (nil deletes) to st, validates
// the resulting policy and writes the edits in tx.
func (s *Service) editRoles(tx *control.Tx, a Actor, st *security, in map[string]*SecurityRole) (*edits, error) {
	ed := newEdits()
	now := s.o.Clock().UTC()
	for _, name := range slices.Sorted(maps.Keys(in)) {
		v := in[name]
		old, exists := st.roles[name]
		if err := s.mayManage(tx, a, policy.ClusterRoles, name, true); err != nil {
			return nil, err
		}
		if exists && old.Hidden && !a.Superadmin {
			return nil, securityNotFound(name)
		}
		if v == nil && !exists {
			return nil, securityNotFound(name)
		}
		if name == policy.AllAccess || old.Reserved {
			return nil, reserved(name)
		}
		var next SecurityRole
		if v != nil {
			next = v.normalized(name)
		}
		if !a.Superadmin && (st.grantsCluster(name) || len(next.ClusterPermissions) > 0) {
			return nil, errorf(ErrForbidden, "only a superadmin may create, change or delete a role with cluster_permissions [%s]", name)
		}
		if t := ScopeOf(name); t != "" && name == AdminRoleName(t) && !a.Superadmin {
			return nil, errorf(ErrForbidden, "role [%s] is tenant %s's Admin role: only a superadmin may change it; its admins grant it through its role mapping", name, t)
		}
		if v != nil && (next.Reserved != old.Reserved || next.Hidden != old.Hidden || next.Static != old.Static) {
			return nil, errorf(ErrInvalid, "role [%s]: reserved, hidden and static cannot be changed through the API", name)
		}
		if exists {
			ed.rolesBefore[name] = SecurityRoleOf(old)
		}
		if v == nil {
			delete(st.roles, name)
			if m, ok := st.mappings[name]; ok {
				if m.Reserved {
					return nil, reserved(name)
				}
				ed.mappingsBefore[name] = SecurityRoleMappingOf(m)
				delete(st.mappings, name)
			}
			continue
		}
		if next.Tenant != "" {
			if err := liveTenant(tx, next.Tenant); err != nil {
				return nil, err
			}
		}
		ed.rolesAfter[name] = next
		r := old
		if !exists {
			r = control.Role{Name: name}
			r.Source, r.Created = control.SourceAPI, now
		}
		if exists && sameJSON(ed.rolesBefore[name], next) {
			continue
		}
		r.Role = policy.Role{Name: name, Reserved: old.Reserved, Hidden: old.Hidden, Static: old.Static,
			Description: next.Description, Tenant: next.Tenant, ClusterPermissions: next.ClusterPermissions,
			IndexPermissions: next.IndexPermissions, TenantPermissions: next.TenantPermissions,
			NamespacePermissions: next.NamespacePermissions}
		r.Source, r.Updated = control.SourceAPI, now
		st.roles[name] = r
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	return ed, s.writeSecurity(tx, st, ed)
}

// editMappings checks and applies mapping edits (nil deletes) to st,
// validates the resulting policy and writes the edits in tx.
func (s *Service) editMappings(tx *control.Tx, a Actor, st *security, in map[string]*SecurityRoleMapping) (*edits, error) {
	ed := newEdits()
	now := s.o.Clock().UTC()
	for _, name := range slices.Sorted(maps.Keys(in)) {
		v := in[name]
		old, exists := st.mappings[name]
		if err := s.mayManage(tx, a, policy.ClusterRolesMapping, name, true); err != nil {
			return nil, err
		}
		if exists && old.Hidden && !a.Superadmin {
			return nil, securityNotFound(name)
		}
		if v == nil && !exists {
			return nil, securityNotFound(name)
		}
		if old.Reserved {
			return nil, reserved(name)
		}
		var next SecurityRoleMapping
		if v != nil {
			next = v.normalized()
			if next.Reserved != old.Reserved || next.Hidden != old.Hidden {
				return nil, errorf(ErrInvalid, "role mapping [%s]: reserved and hidden cannot be changed through the API", name)
			}
			role, ok := st.roles[name]
			if (!ok && name != policy.AllAccess) || (role.Hidden && !a.Superadmin) {
				return nil, errorf(ErrNotFound, "Role '%s' is not available for role-mapping.", name)
			}
		}
		if !a.Superadmin && st.grantsCluster(name) {
			return nil, errorf(ErrForbidden, "only a superadmin may map users to a role with cluster_permissions [%s]", name)
		}
		if exists {
			ed.mappingsBefore[name] = SecurityRoleMappingOf(old)
		}
		if v == nil {
			delete(st.mappings, name)
			continue
		}
		ed.mappingsAfter[name] = next
		m := old
		if !exists {
			m = control.RoleMapping{Name: name}
			m.Source, m.Created = control.SourceAPI, now
		}
		if exists && sameJSON(ed.mappingsBefore[name], next) {
			continue
		}
		m.RoleMapping = policy.RoleMapping{Reserved: old.Reserved, Hidden: old.Hidden, Description: next.Description,
			Users: next.Users, BackendRoles: next.BackendRoles, AndBackendRoles: next.AndBackendRoles,
			Groups: next.Groups, Hosts: next.Hosts}
		m.Source, m.Updated = control.SourceAPI, now
		st.mappings[name] = m
	}
	if err := st.validate(); err != nil {
		return nil, err
	}
	return ed, s.writeSecurity(tx, st, ed)
}

// writeSecurity writes to tx what ed says changed in st.
func (s *Service) writeSecurity(tx *control.Tx, st *security, ed *edits) error {
	for _, name := range slices.Sorted(maps.Keys(ed.rolesBefore)) {
		if _, ok := st.roles[name]; !ok {
			if err := tx.DeleteRole(name); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ed.rolesAfter)) {
		if err := tx.PutRole(st.roles[name]); err != nil {
			return storeError(err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ed.mappingsBefore)) {
		if _, ok := st.mappings[name]; !ok {
			if err := tx.DeleteMapping(name); err != nil {
				return err
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ed.mappingsAfter)) {
		if err := tx.PutMapping(st.mappings[name]); err != nil {
			return storeError(err)
		}
	}
	return nil
}

// storeError turns the store's refusal of a malformed record (a bad
// name) into a 400.
func storeError(err error) error {
	if errors.Is(err, control.ErrInvalid) {
		return nameError(err)
	}
	return err
}

// nameError turns a control.ValidateName error into a 400 with its
// message.
func nameError(err error) *Error {
	return errorf(ErrInvalid, "%s", strings.TrimPrefix(err.Error(), control.ErrInvalid.Error()+": "))
}

// liveTenant refuses a tenant-scoped role for a tenant that does not
// exist or is deleted.
func liveTenant(tx *control.Tx, id string) error {
	t, err := tx.Tenant(id)
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && t.DeletedAt != nil:
		return errorf(ErrInvalid, "tenant [%s] does not exist: a tenant-scoped role needs a live tenant", id)
	case err != nil:
		return err
	}
	return nil
}

func sameJSON(a, b any) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// mayManage decides whether the actor may see (write false) or change
// (write true) the role or mapping name: with the cluster permission
// perm, or as an admin of the live tenant the name is scoped to. A locked
// tenant refuses its admins everything (423), a frozen one its changes
// (closedTo).
func (s *Service) mayManage(tx *control.Tx, a Actor, perm, name string, write bool) error {
	if s.can(a, perm) {
		return nil
	}
	t := ScopeOf(name)
	if t == "" || !s.tenantAdmin(a, t) {
		return noPermission(perm, a.Name)
	}
	ten, err := tx.Tenant(t)
	switch {
	case errors.Is(err, control.ErrNotFound), err == nil && (ten.DeletedAt != nil || ten.Hidden):
		return noPermission(perm, a.Name)
	case err != nil:
		return err
	case write:
		return s.closedTo(a, ten)
	case ten.Locked && !s.can(a, policy.ClusterTenants):
		return s.closedTo(a, ten)
	}
	return nil
}

// visible returns, sorted, the names the actor may see among names:
// every one (hidden ones only for superadmins) with perm, those of the
// tenants they administer otherwise. A caller who administers no tenant
// and lacks perm gets a 403.
func (s *Service) visible(tx *control.Tx, a Actor, perm string, names []string, hidden func(string) bool) ([]string, error) {
	cluster := s.can(a, perm)
	if !cluster {
		ts, err := tx.Tenants()
		if err != nil {
			return nil, err
		}
		admins := false
		for _, t := range ts {
			if t.DeletedAt == nil && !t.Hidden && s.tenantAdmin(a, t.ID) {
				admins = true
				break
			}
		}
		if !admins {
			return nil, noPermission(perm, a.Name)
		}
	}
	var out []string
	for _, n := range names {
		if hidden(n) && !a.Superadmin {
			continue
		}
		if !cluster && s.mayManage(tx, a, perm, n, false) != nil {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// denyRead records a refused read (a 403 the gateway does not record
// for the admin service) and returns err.
func (s *Service) denyRead(a Actor, ch change, err error) error {
	var ae *Error
	if errors.As(err, &ae) && errors.Is(ae.Kind, ErrForbidden) {
		return s.deny(a, ch, ae)
	}
	return err
}

// kind tells patchSecurity which collection it patches.
type kind int

const (
	roleKind kind = iota
	mappingKind
)

// patchSecurity applies a JSON Patch to the roles or the mappings the
// actor may see. The patch is planned once outside the transaction to
// learn which tenants it touches (the audit record's tenant), then again,
// and applied, inside it.
func (s *Service) patchSecurity(a Actor, patch []byte, k kind) error {
	action, what := "role.patch", "roles"
	if k == mappingKind {
		action, what = "rolesmapping.patch", "rolesmapping"
	}
	ch := change{action: action, target: what}
	ops, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		return s.deny(a, ch, errorf(ErrInvalid, "invalid JSON Patch: %v", err))
	}
	var touched []string
	err = s.o.Store.View(func(tx *control.Tx) error {
		st, err := loadSecurity(tx)
		if err != nil {
			return err
		}
		roles, mappings, err := s.planPatch(tx, a, st, ops, k)
		for n := range roles {
			touched = append(touched, ScopeOf(n))
		}
		for n := range mappings {
			touched = append(touched, ScopeOf(n))
		}
		return err
	})
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return s.deny(a, ch, ae)
		}
		return err
	}
	slices.Sort(touched)
	touched = slices.Compact(touched)
	if len(touched) == 1 {
		ch.tenant = touched[0]
	}
	return s.mutate(a, ch, func(tx *control.Tx) (any, any, error) {
		st, err := loadSecurity(tx)
		if err != nil {
			return nil, nil, err
		}
		roles, mappings, err := s.planPatch(tx, a, st, ops, k)
		if err != nil {
			return nil, nil, err
		}
		var ed *edits
		if k == roleKind {
			ed, err = s.editRoles(tx, a, st, roles)
		} else {
			ed, err = s.editMappings(tx, a, st, mappings)
		}
		if err != nil {
			return nil, nil, err
		}
		if ts := ed.tenants(); len(ts) > 1 {
			// One record per tenant touched, so that each tenant's audit
			// view shows its part of the change.
			for _, t := range ts {
				if t == "" {
					continue
				}
				if err := s.appendTenantRecord(tx, a, change{action: action, tenant: t, target: what}, ed); err != nil {
					return nil, nil, err
				}
			}
		}
		before, after := ed.of("", true)
		return before, after, nil
	})
}

// appendTenantRecord appends, in tx, the audit record of tenant ch.tenant's
// part of a patch that touched several tenants.
func (s *Service) appendTenantRecord(tx *control.Tx, a Actor, ch change, ed *edits) error {
	rec := s.record(a, ch)
	before, after := ed.of(ch.tenant, false)
	return s.appendChange(tx, &rec, before, after)
}

// planPatch applies the patch to the REST form of the collection the
// actor may see and returns the edits it makes: the entries it adds or
// changes, and nil for those it removes.
func (s *Service) planPatch(tx *control.Tx, a Actor, st *security, ops jsonpatch.Patch, k kind) (map[string]*SecurityRole, map[string]*SecurityRoleMapping, error) {
	perm, noun, names, hidden := policy.ClusterRoles, "role", slices.Collect(maps.Keys(st.roles)), st.roleHidden
	if k == mappingKind {
		perm, noun, names, hidden = policy.ClusterRolesMapping, "role mapping", slices.Collect(maps.Keys(st.mappings)), st.mappingHidden
	}
	seen, err := s.visible(tx, a, perm, names, hidden)
	if err != nil {
		return nil, nil, err
	}
	doc := map[string]any{}
	for _, n := range seen {
		if k == roleKind {
			doc[n] = SecurityRoleOf(st.roles[n])
		} else {
			doc[n] = SecurityRoleMappingOf(st.mappings[n])
		}
	}
	entries, err := patchEntries(ops, doc, noun)
	if err != nil {
		return nil, nil, err
	}
	roles, mappings := map[string]*SecurityRole{}, map[string]*SecurityRoleMapping{}
	for _, n := range seen {
		if _, kept := entries[n]; kept {
			continue
		}
		if k == roleKind {
			roles[n] = nil
		} else {
			mappings[n] = nil
		}
	}
	for _, n := range slices.Sorted(maps.Keys(entries)) {
		if err := control.ValidateName(noun, n); err != nil {
			return nil, nil, nameError(err)
		}
		old, existed := doc[n]
		var err error
		if k == roleKind {
			var r SecurityRole
			if err = decodeEntry(entries[n], &r); err == nil && (!existed || !sameJSON(old, r.normalized(n))) {
				roles[n] = &r
			}
		} else {
			var m SecurityRoleMapping
			if err = decodeEntry(entries[n], &m); err == nil && (!existed || !sameJSON(old, m.normalized())) {
				mappings[n] = &m
			}
		}
		if err != nil {
			return nil, nil, errorf(ErrInvalid, "%s [%s]: %v", noun, n, err)
		}
	}
	return roles, mappings, nil
}
