package tenants

import (
	"slices"
	"strings"
	"sync/atomic"
)

// Settings is the multitenancy configuration the resolver follows.
type Settings struct {
	Enabled       bool
	EnableGlobal  bool
	EnablePrivate bool
	// Default is used when a request names no tenant.
	Default string
	// Preferred tenants come first in tenant lists.
	Preferred []string
}

// Resolver turns the tenant a request names into a Ref.
type Resolver struct {
	settings atomic.Pointer[Settings]
	registry *Registry
}

// NewResolver returns a resolver over the registry's tenants.
func NewResolver(s Settings, reg *Registry) *Resolver {
	r := &Resolver{registry: reg}
	r.SetSettings(s)
	return r
}

// SetSettings swaps the multitenancy settings (PUT tenancy/config); the
// next Resolve follows them.
func (r *Resolver) SetSettings(s Settings) {
	s.Preferred = slices.Clone(s.Preferred)
	r.settings.Store(&s)
}

// Registry returns the registry the resolver looks tenants up in.
func (r *Resolver) Registry() *Registry { return r.registry }

// Settings returns the multitenancy settings.
func (r *Resolver) Settings() Settings { return *r.settings.Load() }

// Resolve returns the tenant that requested names for user. An empty
// requested means the configured default. "global", "global_tenant" and
// "" mean global; "private" and "__user__" the caller's private tenant;
// anything else a custom tenant id.
//
// Resolve errors with ErrInvalid when the name cannot be a tenant, and
// with ErrForbidden when the tenant is disabled or does not exist; the
// caller must answer ErrForbidden exactly as it answers "not yours", so
// that nobody learns which tenants exist.
func (r *Resolver) Resolve(requested, user string) (Ref, error) {
	set := r.settings.Load()
	name := strings.TrimSpace(requested)
	if name == "" {
		name = set.Default
	}
	ref, err := r.parse(name, user)
	if err != nil {
		return Ref{}, err
	}
	switch ref.Kind {
	case KindGlobal:
		if set.Enabled && !set.EnableGlobal {
			return Ref{}, ErrForbidden
		}
	case KindPrivate:
		if !set.Enabled || !set.EnablePrivate {
			return Ref{}, ErrForbidden
		}
	case KindCustom:
		if !set.Enabled {
			return Ref{}, ErrForbidden
		}
		if _, ok := r.registry.Get(ref.ID); !ok {
			return Ref{}, ErrForbidden
		}
	}
	return ref, nil
}

func (r *Resolver) parse(name, user string) (Ref, error) {
	switch strings.ToLower(name) {
	case "", Global, GlobalAlias:
		return GlobalRef, nil
	case Private, PrivateAlias:
		if user == "" {
			return Ref{}, invalidf("the private tenant needs an authenticated user")
		}
		return PrivateRef(user), nil
	}
	if err := ValidateID(name); err != nil {
		return Ref{}, err
	}
	return CustomRef(name), nil
}
