package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenantgate/tenantgate/secrets"
)

// Config is the whole configuration.
type Config struct {
	// Listen is the address the HTTP gateway listens on.
	Listen string `yaml:"listen"`
	// DataDir holds indices and the catalog.
	DataDir string `yaml:"data_dir"`
	// SecurityDir holds tenants.yml, roles.yml and roles_mapping.yml.
	SecurityDir  string       `yaml:"security_dir"`
	Auth         Auth         `yaml:"auth"`
	Multitenancy Multitenancy `yaml:"multitenancy"`
	Index        Index        `yaml:"index"`
	Limits       Limits       `yaml:"limits"`
	Server       Server       `yaml:"server"`
	Tenants      Tenants      `yaml:"tenants"`
	Audit        Audit        `yaml:"audit"`
	Secrets      Secrets      `yaml:"secrets"`
	Snapshot     Snapshot     `yaml:"snapshot"`
}

// Secrets configures the encryption of namespace secrets at rest.
type Secrets struct {
	// EncryptionKey is "base64:<32 bytes>" or "file:<path>" naming a file
	// that holds such a value (see secrets.ParseKey). It has no default:
	// empty means no key is configured, and a server with stored secrets
	// then refuses to start.
	EncryptionKey string `yaml:"encryption_key"`
}

// Tenants configures tenant administration.
type Tenants struct {
	// Retention is how long a deleted tenant can be restored; after it,
	// the tenant is purged.
	Retention time.Duration `yaml:"retention"`
	// PurgeInterval is how often tenants past their retention are purged.
	PurgeInterval time.Duration `yaml:"purge_interval"`
}

// Audit configures the audit trail.
type Audit struct {
	// FailClosed refuses (503) a change whose audit record cannot be
	// written, so nothing changes unaudited.
	FailClosed bool `yaml:"fail_closed"`
}

// Auth configures authentication.
type Auth struct {
	JWT JWT `yaml:"jwt"`
	// Passwords configures password sign-in (HTTP Basic and the UI).
	Passwords Passwords `yaml:"passwords"`
	// APITokens configures API tokens.
	APITokens APITokens `yaml:"api_tokens"`
}

// Passwords configures password sign-in of internal users.
type Passwords struct {
	// Enabled accepts HTTP Basic credentials and the UI's password
	// sign-in.
	Enabled bool `yaml:"enabled"`
	// BcryptCost is the cost of new password hashes (4–31).
	BcryptCost int `yaml:"bcrypt_cost"`
	// FailureLimit is the number of failed password attempts for one
	// user name within FailureWindow that blocks further attempts for
	// that name for BlockDuration; 0 disables the limit.
	FailureLimit int `yaml:"failure_limit"`
	// IPFailureLimit is the number of failed password attempts from one
	// client address within FailureWindow that blocks further attempts
	// from it for BlockDuration; 0 disables the limit.
	IPFailureLimit int `yaml:"ip_failure_limit"`
	// FailureWindow is how long a failed attempt counts toward a limit.
	FailureWindow time.Duration `yaml:"failure_window"`
	// BlockDuration is how long a blocked user name or address is
	// refused (429) before its password is checked.
	BlockDuration time.Duration `yaml:"block_duration"`
}

// APITokens configures API tokens.
type APITokens struct {
	// DefaultMaxAge is the lifetime of a token created without max_age.
	DefaultMaxAge time.Duration `yaml:"default_max_age"`
	// MaxAge is the longest lifetime a token may be given.
	MaxAge time.Duration `yaml:"max_age"`
	// SessionMaxAge is the lifetime of the token the UI's password
	// sign-in creates.
	SessionMaxAge time.Duration `yaml:"session_max_age"`
}

// JWT configures bearer-token verification.
type JWT struct {
	// SigningKeys are tried in turn: "base64:<HMAC secret>", a PEM public
	// key, or "file:<path>" naming a file that holds either.
	SigningKeys []string `yaml:"signing_keys"`
	// SubjectKey is the claim (dotted path allowed) naming the user.
	SubjectKey string `yaml:"subject_key"`
	// RolesKey is the claim (dotted path allowed) holding backend roles.
	RolesKey         string   `yaml:"roles_key"`
	RequiredIssuer   string   `yaml:"required_issuer"`
	RequiredAudience []string `yaml:"required_audience"`
	// ClockSkew is the leeway for exp, nbf and iat.
	ClockSkew time.Duration `yaml:"clock_skew"`
}

// Multitenancy configures tenants, as OpenSearch Dashboards does.
type Multitenancy struct {
	Enabled       bool `yaml:"enabled"`
	EnableGlobal  bool `yaml:"enable_global"`
	EnablePrivate bool `yaml:"enable_private"`
	// DefaultTenant is used when a request names no tenant: "global",
	// "private" or a custom tenant id.
	DefaultTenant string `yaml:"default_tenant"`
	// Preferred tenants come first in tenant lists.
	Preferred []string `yaml:"preferred"`
}

// Index configures the embedded index back-end.
type Index struct {
	// MaxOpen is the number of Bleve indices kept open at once (LRU).
	MaxOpen int `yaml:"max_open"`
	// IdleClose closes an index unused for this long.
	IdleClose time.Duration `yaml:"idle_close"`
}

// Limits bounds requests.
type Limits struct {
	// BodyBytes is the largest request body accepted.
	BodyBytes int `yaml:"body_bytes"`
	// MaxResultWindow bounds from+size of a search.
	MaxResultWindow int `yaml:"max_result_window"`
}

// Server holds HTTP server timeouts.
type Server struct {
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`
	// RequestTimeout bounds the work of one request (its context); a
	// request's own "timeout" parameter can only shorten it.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// ShutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Default returns the configuration used when a key is not set.
func Default() Config {
	return Config{
		Listen:      "127.0.0.1:5601",
		DataDir:     "./data",
		SecurityDir: "./config/security",
		Auth: Auth{
			JWT: JWT{
				SubjectKey: "sub",
				RolesKey:   "roles",
				ClockSkew:  30 * time.Second,
			},
			Passwords: Passwords{Enabled: true, BcryptCost: 12, FailureLimit: 10, IPFailureLimit: 50,
				FailureWindow: time.Minute, BlockDuration: 5 * time.Minute},
			APITokens: APITokens{DefaultMaxAge: 30 * 24 * time.Hour, MaxAge: 365 * 24 * time.Hour, SessionMaxAge: 8 * time.Hour},
		},
		Multitenancy: Multitenancy{
			Enabled:       true,
			EnableGlobal:  true,
			EnablePrivate: true,
			DefaultTenant: "global",
		},
		Index:  Index{MaxOpen: 256, IdleClose: 10 * time.Minute},
		Limits: Limits{BodyBytes: 100 << 20, MaxResultWindow: 10000},
		Server: Server{
			ReadTimeout:     30 * time.Second,
			WriteTimeout:    60 * time.Second,
			IdleTimeout:     120 * time.Second,
			RequestTimeout:  60 * time.Second,
			ShutdownTimeout: 20 * time.Second,
		},
		Tenants:  Tenants{Retention: 7 * 24 * time.Hour, PurgeInterval: time.Hour},
		Snapshot: Snapshot{MaxBytesPerSec: DefaultSnapshotBytesPerSec, MaxRestoreBytesPerSec: "0"},
	}
}

// Load reads the YAML file at path (none when path is empty) over the
// defaults, then applies environment overrides from environ (os.Environ()
// form). Unknown keys are errors. It does not validate: call Validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("reading config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	if err := cfg.Snapshot.resolve(path); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Validate checks the configuration and names the offending key. It
// parses secrets.encryption_key (reading its file when it is "file:"),
// so a key that cannot be used stops the server at start.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port (%v)", err)
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if c.SecurityDir == "" {
		bad("security_dir", "must not be empty")
	}
	if len(c.Auth.JWT.SigningKeys) == 0 {
		bad("auth.jwt.signing_keys", "at least one key is required")
	}
	for i, k := range c.Auth.JWT.SigningKeys {
		if strings.TrimSpace(k) == "" {
			bad(fmt.Sprintf("auth.jwt.signing_keys[%d]", i), "must not be empty")
		}
	}
	if c.Auth.JWT.SubjectKey == "" {
		bad("auth.jwt.subject_key", "must not be empty")
	}
	if c.Auth.JWT.ClockSkew < 0 || c.Auth.JWT.ClockSkew > 10*time.Minute {
		bad("auth.jwt.clock_skew", "must be between 0 and 10m")
	}
	mt := c.Multitenancy
	switch d := mt.DefaultTenant; {
	case d == "" || d == "global" || d == "global_tenant":
		if mt.Enabled && !mt.EnableGlobal {
			bad("multitenancy.default_tenant", "is the global tenant, which multitenancy.enable_global disables")
		}
	case d == "private" || d == "__user__":
		if !mt.EnablePrivate {
			bad("multitenancy.default_tenant", "is the private tenant, which multitenancy.enable_private disables")
		}
	}
	if c.Auth.Passwords.BcryptCost < 4 || c.Auth.Passwords.BcryptCost > 31 {
		bad("auth.passwords.bcrypt_cost", "must be between 4 and 31")
	}
	if pw := c.Auth.Passwords; pw.FailureLimit < 0 {
		bad("auth.passwords.failure_limit", "must not be negative (0 disables it)")
	}
	if pw := c.Auth.Passwords; pw.IPFailureLimit < 0 {
		bad("auth.passwords.ip_failure_limit", "must not be negative (0 disables it)")
	}
	if pw := c.Auth.Passwords; pw.FailureLimit > 0 || pw.IPFailureLimit > 0 {
		if pw.FailureWindow <= 0 {
			bad("auth.passwords.failure_window", "must be positive while a failure limit is set")
		}
		if pw.BlockDuration <= 0 {
			bad("auth.passwords.block_duration", "must be positive while a failure limit is set")
		}
	}
	at := c.Auth.APITokens
	if at.MaxAge <= 0 {
		bad("auth.api_tokens.max_age", "must be positive")
	}
	if at.DefaultMaxAge <= 0 || at.DefaultMaxAge > at.MaxAge {
		bad("auth.api_tokens.default_max_age", "must be positive and at most auth.api_tokens.max_age")
	}
	if at.SessionMaxAge <= 0 || at.SessionMaxAge > at.MaxAge {
		bad("auth.api_tokens.session_max_age", "must be positive and at most auth.api_tokens.max_age")
	}
	if c.Tenants.Retention < 0 {
		bad("tenants.retention", "must not be negative")
	}
	if c.Tenants.PurgeInterval <= 0 {
		bad("tenants.purge_interval", "must be positive")
	}
	if c.Index.MaxOpen < 1 {
		bad("index.max_open", "must be at least 1")
	}
	if c.Index.IdleClose <= 0 {
		bad("index.idle_close", "must be positive")
	}
	if c.Limits.BodyBytes < 1024 {
		bad("limits.body_bytes", "must be at least 1024")
	}
	if c.Limits.MaxResultWindow < 1 {
		bad("limits.max_result_window", "must be at least 1")
	}
	if c.Secrets.EncryptionKey != "" {
		// ParseKey's errors never contain the key, so they can be shown.
		if _, err := secrets.ParseKey(c.Secrets.EncryptionKey); err != nil {
			bad("secrets.encryption_key", "%v", err)
		}
	}
	errs = append(errs, c.Snapshot.validate(c.DataDir)...)
	for key, d := range map[string]time.Duration{
		"server.read_timeout": c.Server.ReadTimeout, "server.write_timeout": c.Server.WriteTimeout,
		"server.idle_timeout": c.Server.IdleTimeout, "server.shutdown_timeout": c.Server.ShutdownTimeout,
		"server.request_timeout": c.Server.RequestTimeout,
	} {
		if d <= 0 {
			bad(key, "must be positive")
		}
	}
	return errors.Join(errs...)
}
