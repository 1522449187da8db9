package policy

import (
	"slices"
	"strings"
	"sync"
)

// Roles is the set of security roles mapped to one caller, as returned by
// Engine.RolesFor. It is a small comparable value (two strings, a pointer,
// a counter and a flag), cheap to copy and usable as a map key; equal role
// sets from the same Engine generation share one interned key, so
// decisions about them share cache entries. The zero Roles has no roles and
// is denied everything.
//
// Roles remembers the user name it was computed for, because tenant
// patterns may contain ${user.name}. Recompute Roles after Engine.Replace
// (compare Engine.Generation) so new role mappings take effect; a Roles
// from an older generation still gets correct decisions for the role names
// it holds under the new policy.
type Roles struct {
	key       string   // sorted role names joined by "\x00"; interned
	user      string   // the user the roles were computed for
	set       *roleSet // nil when there are no roles
	gen       uint64   // Engine generation that computed the set
	needsUser bool     // some role uses ${user.name} (as of gen)
}

type roleSet struct {
	key   string   // names joined by "\x00"
	names []string // sorted, no duplicates
}

// Names returns the role names, sorted. The slice is a copy.
func (r Roles) Names() []string {
	if r.set == nil {
		return nil
	}
	return slices.Clone(r.set.names)
}

// Has reports whether the set contains the role name.
func (r Roles) Has(name string) bool {
	if r.set == nil {
		return false
	}
	_, ok := slices.BinarySearch(r.set.names, name)
	return ok
}

// Len returns the number of roles.
func (r Roles) Len() int {
	if r.set == nil {
		return 0
	}
	return len(r.set.names)
}

// names returns the sorted role names without copying them.
func (r Roles) names() []string {
	if r.set == nil {
		return nil
	}
	return r.set.names
}

// User returns the user name the roles were computed for.
func (r Roles) User() string { return r.user }

// String returns the role names separated by commas, for logs.
func (r Roles) String() string {
	if r.set == nil {
		return ""
	}
	return strings.Join(r.set.names, ",")
}

// patRole maps users or backend roles matching pat to role.
type patRole struct {
	pat  string
	role string
}

// andRule maps users having a backend role matching every pattern in pats
// to role.
type andRule struct {
	pats []string
	role string
}

// mappingIndex answers RolesFor without scanning every mapping: exact
// names are looked up in maps and only wildcard patterns are scanned.
type mappingIndex struct {
	users       map[string][]string
	userPats    []patRole
	backend     map[string][]string
	backendPats []patRole
	groups      map[string][]string
	groupPats   []patRole
	and         []andRule
}

// addName files name under its exact entry in m, or in pats when it has
// wildcards.
func addName(m map[string][]string, pats *[]patRole, name, role string) {
	if hasWildcard(name) {
		*pats = append(*pats, patRole{name, role})
	} else {
		m[name] = append(m[name], role)
	}
}

// lookupName appends the roles mapped to name, exactly or by pattern.
func lookupName(out []string, m map[string][]string, pats []patRole, name string) []string {
	out = append(out, m[name]...)
	for _, p := range pats {
		if globMatch(name, p.pat) {
			out = append(out, p.role)
		}
	}
	return out
}

func hasWildcard(s string) bool { return strings.ContainsAny(s, "*?") }

func buildMappingIndex(mappings map[string]RoleMapping) mappingIndex {
	ix := mappingIndex{users: map[string][]string{}, backend: map[string][]string{}, groups: map[string][]string{}}
	names := make([]string, 0, len(mappings))
	for name := range mappings {
		names = append(names, name)
	}
	slices.Sort(names) // deterministic order of the pattern lists
	for _, role := range names {
		m := mappings[role]
		for _, u := range m.Users {
			addName(ix.users, &ix.userPats, u, role)
		}
		for _, b := range m.BackendRoles {
			addName(ix.backend, &ix.backendPats, b, role)
		}
		for _, g := range m.Groups {
			addName(ix.groups, &ix.groupPats, g, role)
		}
		if len(m.AndBackendRoles) > 0 {
			ix.and = append(ix.and, andRule{slices.Clone(m.AndBackendRoles), role})
		}
	}
	return ix
}

// lookup returns the role names mapped to the user, unsorted and possibly
// with duplicates.
func (ix *mappingIndex) lookup(user string, backendRoles, groups []string) []string {
	out := lookupName(nil, ix.users, ix.userPats, user)
	for _, br := range backendRoles {
		out = lookupName(out, ix.backend, ix.backendPats, br)
	}
	for _, g := range groups {
		out = lookupName(out, ix.groups, ix.groupPats, g)
	}
	for _, a := range ix.and {
		if hasAll(backendRoles, a.pats) {
			out = append(out, a.role)
		}
	}
	return out
}

// hasAll reports whether every pattern matches at least one backend role.
func hasAll(backendRoles, pats []string) bool {
	for _, p := range pats {
		if !slices.ContainsFunc(backendRoles, func(br string) bool { return globMatch(br, p) }) {
			return false
		}
	}
	return true
}

// maxInterned bounds the intern table; past it, role sets are still
// correct but no longer shared.
const maxInterned = 1 << 14

// internTable shares one key string and roleSet between equal role sets.
type internTable struct {
	mu   sync.Mutex
	sets map[string]*roleSet // keyed by roleSet.key
}

// get returns the interned set for names, which must be sorted and free of
// duplicates.
func (t *internTable) get(names []string) *roleSet {
	key := strings.Join(names, "\x00")
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.sets[key]; ok {
		return s
	}
	s := &roleSet{key: key, names: names}
	if t.sets == nil {
		t.sets = map[string]*roleSet{}
	}
	if len(t.sets) < maxInterned {
		t.sets[key] = s
	}
	return s
}
