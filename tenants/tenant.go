package tenants

import (
	"bytes"
	"fmt"
	"sort"
	"sync/atomic"

	"gopkg.in/yaml.v3"
)

// Kind says which of the three kinds of tenant a Ref is.
type Kind uint8

// The kinds of tenant.
const (
	KindGlobal Kind = iota
	KindPrivate
	KindCustom
)

// Ref identifies the tenant a request runs in.
type Ref struct {
	Kind Kind
	// ID is the custom tenant id, or for a private tenant the user name.
	// Empty for the global tenant.
	ID string
}

// GlobalRef is the global tenant.
var GlobalRef = Ref{Kind: KindGlobal}

// PrivateRef returns the private tenant of user.
func PrivateRef(user string) Ref { return Ref{Kind: KindPrivate, ID: user} }

// CustomRef returns the custom tenant id.
func CustomRef(id string) Ref { return Ref{Kind: KindCustom, ID: id} }

// Name is the tenant's name as OpenSearch shows it to users: the custom
// id, "global_tenant", or "__user__" for a private tenant.
func (r Ref) Name() string {
	switch r.Kind {
	case KindGlobal:
		return GlobalAlias
	case KindPrivate:
		return PrivateAlias
	}
	return r.ID
}

// Owner is a key that tells tenants apart even when their names are
// equal (the private tenant of a user called "analysts" is not the custom
// tenant "analysts"). The index catalog records it for each physical name.
func (r Ref) Owner() string {
	switch r.Kind {
	case KindGlobal:
		return "global"
	case KindPrivate:
		return "private:" + r.ID
	}
	return "custom:" + r.ID
}

// Physical returns the physical name of the logical index base in this
// tenant: base itself in the global tenant, otherwise the OpenSearch
// security plugin's "<base>_<hash>_<scrubbed>".
func (r Ref) Physical(base string) string {
	if r.Kind == KindGlobal {
		return base
	}
	return PhysicalName(base, r.ID)
}

// String describes the tenant for logs and error messages.
func (r Ref) String() string {
	if r.Kind == KindPrivate {
		return "private tenant of " + r.ID
	}
	return r.Name()
}

// Tenant is a custom tenant as declared in tenants.yml.
type Tenant struct {
	Name        string `yaml:"-" json:"name"`
	Description string `yaml:"description" json:"description"`
	Reserved    bool   `yaml:"reserved" json:"reserved"`
	Hidden      bool   `yaml:"hidden" json:"hidden"`
	Static      bool   `yaml:"static" json:"static"`
	// Locked tenants refuse every request but a superadmin's; frozen
	// ones refuse writes. Both are set through the admin API, never in
	// tenants.yml.
	Locked bool `yaml:"-" json:"locked"`
	Frozen bool `yaml:"-" json:"frozen"`
}

// ParseFile parses a tenants.yml in the OpenSearch security format:
// a _meta entry {type: tenants, config_version: 2} and one entry per
// tenant. Every tenant id is validated.
func ParseFile(raw []byte) (map[string]Tenant, error) {
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%w: tenants.yml: %v", ErrInvalid, err)
	}
	meta, ok := doc["_meta"]
	if !ok {
		return nil, invalidf("tenants.yml: missing _meta {type: tenants, config_version: 2}")
	}
	var m struct {
		Type          string `yaml:"type"`
		ConfigVersion int    `yaml:"config_version"`
	}
	if err := meta.Decode(&m); err != nil || m.Type != "tenants" || m.ConfigVersion != 2 {
		return nil, invalidf("tenants.yml: _meta must be {type: tenants, config_version: 2}")
	}
	out := map[string]Tenant{}
	for name, node := range doc {
		if name == "_meta" {
			continue
		}
		if err := ValidateID(name); err != nil {
			return nil, fmt.Errorf("tenants.yml: %w", err)
		}
		var t Tenant
		var buf bytes.Buffer
		enc := yaml.NewEncoder(&buf)
		if err := enc.Encode(&node); err != nil {
			return nil, invalidf("tenants.yml: tenant %s: %v", name, err)
		}
		dec := yaml.NewDecoder(&buf)
		dec.KnownFields(true)
		if err := dec.Decode(&t); err != nil {
			return nil, invalidf("tenants.yml: tenant %s: %v", name, err)
		}
		t.Name = name
		out[name] = t
	}
	return out, nil
}

// Registry holds the custom tenants. It is safe for concurrent use;
// Replace swaps the whole set at once.
type Registry struct {
	set atomic.Pointer[map[string]Tenant]
}

// NewRegistry returns a registry holding tenants.
func NewRegistry(tenants map[string]Tenant) *Registry {
	r := &Registry{}
	r.Replace(tenants)
	return r
}

// Replace swaps the set of tenants.
func (r *Registry) Replace(tenants map[string]Tenant) {
	cp := make(map[string]Tenant, len(tenants))
	for k, v := range tenants {
		cp[k] = v
	}
	r.set.Store(&cp)
}

// Get returns the custom tenant id.
func (r *Registry) Get(id string) (Tenant, bool) {
	t, ok := (*r.set.Load())[id]
	return t, ok
}

// List returns the custom tenants sorted by name; hidden ones only when
// withHidden is set.
func (r *Registry) List(withHidden bool) []Tenant {
	set := *r.set.Load()
	out := make([]Tenant, 0, len(set))
	for _, t := range set {
		if t.Hidden && !withHidden {
			continue
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
