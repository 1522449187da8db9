package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "tenantgate.yml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileAndEnv(t *testing.T) {
	p := writeFile(t, `
listen: 127.0.0.1:9999
auth:
  jwt:
    signing_keys: ["base64:c2VjcmV0"]
    clock_skew: 5s
multitenancy:
  preferred: [analysts]
`)
	cfg, err := Load(p, []string{
		"TENANTGATE_DATA_DIR=/tmp/x",
		"TENANTGATE_AUTH_JWT_REQUIRED_AUDIENCE=a, b",
		"TENANTGATE_MULTITENANCY_ENABLE_PRIVATE=false",
		"TENANTGATE_INDEX_IDLE_CLOSE=1m",
		"OTHER=ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9999" || cfg.DataDir != "/tmp/x" {
		t.Fatalf("listen/data_dir = %q/%q", cfg.Listen, cfg.DataDir)
	}
	if cfg.Auth.JWT.ClockSkew != 5*time.Second || cfg.Auth.JWT.SubjectKey != "sub" {
		t.Fatalf("jwt = %+v", cfg.Auth.JWT)
	}
	if got := strings.Join(cfg.Auth.JWT.RequiredAudience, "|"); got != "a|b" {
		t.Fatalf("audience = %q", got)
	}
	if cfg.Multitenancy.EnablePrivate || !cfg.Multitenancy.EnableGlobal {
		t.Fatalf("multitenancy = %+v", cfg.Multitenancy)
	}
	if cfg.Index.IdleClose != time.Minute || cfg.Index.MaxOpen != 256 {
		t.Fatalf("index = %+v", cfg.Index)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := map[string]struct {
		file string
		env  []string
		want string
	}{
		"unknown key":  {file: "listenn: x\n", want: "listenn"},
		"bad yaml":     {file: "listen: [\n", want: "config"},
		"bad duration": {env: []string{"TENANTGATE_AUTH_JWT_CLOCK_SKEW=soon"}, want: "auth.jwt.clock_skew"},
		"bad bool":     {env: []string{"TENANTGATE_MULTITENANCY_ENABLED=maybe"}, want: "multitenancy.enabled"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			path := ""
			if c.file != "" {
				path = writeFile(t, c.file)
			}
			_, err := Load(path, c.env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load error = %v, want one naming %q", err, c.want)
			}
		})
	}
}

func TestValidateNamesKey(t *testing.T) {
	cases := map[string]struct {
		mutate func(*Config)
		want   string
	}{
		"no keys":      {func(c *Config) { c.Auth.JWT.SigningKeys = nil }, "auth.jwt.signing_keys: at least one key is required"},
		"listen":       {func(c *Config) { c.Listen = "nope" }, "listen: must be host:port"},
		"max open":     {func(c *Config) { c.Index.MaxOpen = 0 }, "index.max_open"},
		"body":         {func(c *Config) { c.Limits.BodyBytes = 1 }, "limits.body_bytes"},
		"window":       {func(c *Config) { c.Limits.MaxResultWindow = 0 }, "limits.max_result_window"},
		"private off":  {func(c *Config) { c.Multitenancy.DefaultTenant = "private"; c.Multitenancy.EnablePrivate = false }, "multitenancy.default_tenant"},
		"global off":   {func(c *Config) { c.Multitenancy.EnableGlobal = false }, "multitenancy.default_tenant"},
		"empty key":    {func(c *Config) { c.Auth.JWT.SigningKeys = []string{" "} }, "auth.jwt.signing_keys[0]"},
		"neg timeout":  {func(c *Config) { c.Server.ReadTimeout = 0 }, "server.read_timeout"},
		"skew too big": {func(c *Config) { c.Auth.JWT.ClockSkew = time.Hour }, "auth.jwt.clock_skew"},
		"neg failures": {func(c *Config) { c.Auth.Passwords.FailureLimit = -1 }, "auth.passwords.failure_limit"},
		"neg ip fails": {func(c *Config) { c.Auth.Passwords.IPFailureLimit = -1 }, "auth.passwords.ip_failure_limit"},
		"no window":    {func(c *Config) { c.Auth.Passwords.FailureWindow = 0 }, "auth.passwords.failure_window"},
		"no block": {func(c *Config) {
			c.Auth.Passwords.IPFailureLimit, c.Auth.Passwords.FailureLimit, c.Auth.Passwords.BlockDuration = 1, 0, 0
		}, "auth.passwords.block_duration"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			cfg.Auth.JWT.SigningKeys = []string{"base64:c2VjcmV0"}
			c.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
}

func TestFailureLimitsOffNeedNoWindow(t *testing.T) {
	cfg := Default()
	cfg.Auth.JWT.SigningKeys = []string{"base64:c2VjcmV0"}
	cfg.Auth.Passwords.FailureLimit, cfg.Auth.Passwords.IPFailureLimit = 0, 0
	cfg.Auth.Passwords.FailureWindow, cfg.Auth.Passwords.BlockDuration = 0, 0
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() with the failure limits off = %v", err)
	}
}

func TestDefaultIsLoopback(t *testing.T) {
	if !strings.HasPrefix(Default().Listen, "127.0.0.1:") {
		t.Fatalf("default listen %q is not loopback", Default().Listen)
	}
	if len(Default().Auth.JWT.SigningKeys) != 0 {
		t.Fatal("no secret may be a default")
	}
}

func TestResolveKeys(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "k")
	if err := os.WriteFile(p, []byte("base64:c2VjcmV0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ResolveKeys([]string{"base64:aW5saW5l", "file:" + p})
	if err != nil || len(got) != 2 || got[0] != "base64:aW5saW5l" || got[1] != "base64:c2VjcmV0" {
		t.Fatalf("ResolveKeys = %q, %v", got, err)
	}
	if _, err := ResolveKeys([]string{"file:" + filepath.Join(dir, "missing")}); err == nil || !strings.Contains(err.Error(), "signing_keys[0]") {
		t.Fatalf("missing file error = %v", err)
	}
}
