package instance

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/config"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.SecurityDir = filepath.Join(filepath.Dir(file), "..", "config", "security")
	cfg.Auth.JWT.SigningKeys = []string{"base64:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
	return cfg
}

func TestOpenRefusesBadSetups(t *testing.T) {
	cases := map[string]struct {
		mutate func(*config.Config)
		want   string
	}{
		"undeclared default tenant": {func(c *config.Config) { c.Multitenancy.DefaultTenant = "analystz" }, "multitenancy.default_tenant: tenant [analystz]"},
		"custom default without multitenancy": {func(c *config.Config) {
			c.Multitenancy.DefaultTenant = "analysts"
			c.Multitenancy.Enabled = false
		}, "needs multitenancy.enabled"},
		"missing security dir": {func(c *config.Config) { c.SecurityDir = "/nonexistent" }, "security_dir"},
		"missing key file":     {func(c *config.Config) { c.Auth.JWT.SigningKeys = []string{"file:/nonexistent"} }, "signing_keys[0]"},
		"short HMAC key":       {func(c *config.Config) { c.Auth.JWT.SigningKeys = []string{"base64:c2hvcnQ="} }, "signing_keys[0]"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			c.mutate(&cfg)
			inst, err := Open(context.Background(), cfg, nil)
			if err == nil {
				inst.Close()
				t.Fatalf("Open succeeded, want an error naming %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error = %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestOpenCustomDefaultTenant(t *testing.T) {
	cfg := testConfig(t)
	cfg.Multitenancy.DefaultTenant = "analysts"
	inst, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
}
