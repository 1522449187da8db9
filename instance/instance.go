package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/gateway"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// Instance is a configured tenantgate, ready to serve.
type Instance struct {
	Config  config.Config
	Gateway *gateway.Server
	Index   *index.Service
	Policy  *policy.Engine

	backend *bleve.Backend
	catalog *index.Catalog
	log     *slog.Logger
}

// Security holds the parsed security files.
type Security struct {
	Tenants  map[string]tenants.Tenant
	Roles    map[string]policy.Role
	Mappings map[string]policy.RoleMapping
}

// LoadSecurity reads tenants.yml, roles.yml and roles_mapping.yml from dir.
func LoadSecurity(dir string) (Security, error) {
	var s Security
	read := func(name string) ([]byte, error) {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("security_dir: %w", err)
		}
		return raw, nil
	}
	raw, err := read("tenants.yml")
	if err != nil {
		return s, err
	}
	if s.Tenants, err = tenants.ParseFile(raw); err != nil {
		return s, err
	}
	if raw, err = read("roles.yml"); err != nil {
		return s, err
	}
	if s.Roles, err = policy.ParseRoles(raw); err != nil {
		return s, fmt.Errorf("roles.yml: %w", err)
	}
	if raw, err = read("roles_mapping.yml"); err != nil {
		return s, err
	}
	if s.Mappings, err = policy.ParseRoleMappings(raw); err != nil {
		return s, fmt.Errorf("roles_mapping.yml: %w", err)
	}
	return s, nil
}

// checkDefaultTenant refuses a default tenant that is not declared, so a
// typo does not turn every request without a tenant into a 403.
func checkDefaultTenant(mt config.Multitenancy, declared map[string]tenants.Tenant) error {
	switch d := strings.ToLower(mt.DefaultTenant); d {
	case "", tenants.Global, tenants.GlobalAlias, tenants.Private, tenants.PrivateAlias:
		if !mt.Enabled && d != "" && d != tenants.Global && d != tenants.GlobalAlias {
			return fmt.Errorf("multitenancy.default_tenant: [%s] needs multitenancy.enabled", mt.DefaultTenant)
		}
		return nil
	}
	if !mt.Enabled {
		return fmt.Errorf("multitenancy.default_tenant: [%s] needs multitenancy.enabled", mt.DefaultTenant)
	}
	if _, ok := declared[mt.DefaultTenant]; !ok {
		return fmt.Errorf("multitenancy.default_tenant: tenant [%s] is not declared in tenants.yml", mt.DefaultTenant)
	}
	return nil
}

// Open builds an instance from a validated configuration. Close releases
// it.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (inst *Instance, err error) {
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sec, err := LoadSecurity(cfg.SecurityDir)
	if err != nil {
		return nil, err
	}
	if err := checkDefaultTenant(cfg.Multitenancy, sec.Tenants); err != nil {
		return nil, err
	}
	engine, err := policy.New(sec.Roles, sec.Mappings)
	if err != nil {
		return nil, err
	}
	keys, err := config.ResolveKeys(cfg.Auth.JWT.SigningKeys)
	if err != nil {
		return nil, err
	}
	verifier, err := auth.NewVerifier(auth.Options{
		SigningKeys:      keys,
		SubjectKey:       cfg.Auth.JWT.SubjectKey,
		RolesKey:         cfg.Auth.JWT.RolesKey,
		RequiredIssuer:   cfg.Auth.JWT.RequiredIssuer,
		RequiredAudience: cfg.Auth.JWT.RequiredAudience,
		ClockSkew:        cfg.Auth.JWT.ClockSkew,
	})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "indices"), 0o750); err != nil {
		return nil, fmt.Errorf("data_dir: %w", err)
	}
	inst = &Instance{Config: cfg, Policy: engine, log: log}
	defer func() {
		if err != nil {
			inst.Close()
		}
	}()
	inst.backend, err = bleve.New(filepath.Join(cfg.DataDir, "indices"), bleve.Options{
		MaxOpen: cfg.Index.MaxOpen, IdleClose: cfg.Index.IdleClose, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	inst.catalog, err = index.OpenCatalog(filepath.Join(cfg.DataDir, "catalog.db"))
	if err != nil {
		return nil, err
	}
	inst.Index, err = index.NewService(ctx, inst.backend, inst.catalog, log)
	if err != nil {
		return nil, err
	}
	resolver := tenants.NewResolver(tenants.Settings{
		Enabled:       cfg.Multitenancy.Enabled,
		EnableGlobal:  cfg.Multitenancy.EnableGlobal,
		EnablePrivate: cfg.Multitenancy.EnablePrivate,
		Default:       cfg.Multitenancy.DefaultTenant,
		Preferred:     cfg.Multitenancy.Preferred,
	}, tenants.NewRegistry(sec.Tenants))
	inst.Gateway, err = gateway.New(gateway.Deps{
		Config: cfg, Auth: verifier, Policy: engine, Resolver: resolver, Index: inst.Index, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	return inst, nil
}

// Run serves until ctx is done, then drains in-flight requests. ready, if
// set, is called with the listening address.
func (i *Instance) Run(ctx context.Context, ready func(net.Addr)) error {
	return i.Gateway.Run(ctx, ready)
}

// Close closes the indices and the catalog.
func (i *Instance) Close() error {
	var errs []error
	if i.backend != nil {
		errs = append(errs, i.backend.Close())
	}
	if i.catalog != nil {
		errs = append(errs, i.catalog.Close())
	}
	return errors.Join(errs...)
}
