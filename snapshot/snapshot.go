package snapshot

import (
	"context"
	"io"
	"time"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/secrets"
)

// Source is what Create reads: the catalog, an online copy of one index
// and a tenant's control-plane records. Instance implements it.
type Source interface {
	// InstanceID returns the persistent id of the data directory.
	InstanceID(ctx context.Context) (string, error)
	// Entries returns every catalog entry, sorted by physical name.
	Entries(ctx context.Context) ([]index.Entry, error)
	// CopyIndex copies one physical index consistently into dir, which
	// does not exist yet, handing the files it streams to opts.Writer.
	CopyIndex(ctx context.Context, physical, dir string, opts index.CopyOptions) (index.CopyStats, error)
	// CountSecrets returns how many sealed secrets the .namespaces index
	// physical holds.
	CountSecrets(ctx context.Context, physical string) (int, error)
	// Control returns the control-plane records of custom tenant id:
	// ErrNotFound when there is no such live tenant.
	Control(ctx context.Context, id string) (*Control, error)
}

// Target is what Restore writes to. Instance implements it.
type Target interface {
	// IndexService returns the index service: Restore checks and registers
	// catalog entries through it and verifies restored indices through
	// its back-end.
	IndexService() *index.Service
	// StagingDir returns a new empty directory on the index back-end's
	// file system (index.Installer.StagingDir).
	StagingDir(ctx context.Context) (string, error)
	// Install swaps the index in dir in as physical (index.Installer).
	Install(ctx context.Context, physical, dir string, overwrite bool) error
	// RestoreControl writes a tenant's control-plane records: the tenant
	// and the roles and mappings missing from the store, or all of them
	// with overwrite.
	RestoreControl(ctx context.Context, c *Control, overwrite bool) error
	// CreateTenant creates custom tenant id for a clone, through the
	// admin service's create-tenant path (its Admin role mapped to
	// adminUser), with name and description taken from from.
	CreateTenant(ctx context.Context, a admin.Actor, from control.Tenant, id, adminUser string) error
	// SecretsKey returns the configured secrets key (the zero Key when
	// none), to re-seal namespace secrets for a clone.
	SecretsKey() secrets.Key
}

// Progress reports how far a Create, Verify or Restore has come.
type Progress struct {
	// Phase is "copy", "write", "verify", "stage", "install" or "done".
	Phase string
	// Index is the physical index being worked on.
	Index        string
	IndicesDone  int
	IndicesTotal int
	BytesDone    int64
	BytesTotal   int64
}

// WrapWriter wraps every file the package writes itself (the manifest,
// an archive, the files Restore stages, the copies Verify opens), for
// tests that stand for a full disk and for throttling. path is the file
// being written.
type WrapWriter func(path string, w io.Writer) io.Writer

// Options tune Create.
type Options struct {
	// Out is the repository directory the snapshot <Out>/<Name> is
	// written into, or the path of a .tar.zst or .tar.gz file.
	Out string
	// Name is the snapshot's name in a repository directory; "" means
	// "snapshot-<UTC time>". For an archive it defaults to the file's
	// base name.
	Name string
	// Pattern selects indices by physical name (comma-separated, *
	// wildcard), "" every index.
	Pattern string
	// Tenant selects every index of one tenant (a custom tenant id, or
	// "global"), and for a custom tenant adds its control-plane records.
	Tenant string
	// ToolVersion is recorded in the manifest.
	ToolVersion string
	// Progress, when set, is called as the work goes on, from the calling
	// goroutine.
	Progress func(Progress)
	// Wrap, when set, wraps the writers of the files Create writes,
	// the index copies' among them.
	Wrap WrapWriter
	// MaxBytesPerSec limits the rate at which Create copies, checksums
	// and writes bytes (OpenSearch's max_snapshot_bytes_per_sec, the
	// configuration's snapshot.max_bytes_per_sec); 0 is unlimited. A
	// throttled Create also syncs its files as it goes and hashes and
	// syncs on one goroutine, so that it leaves the disk and the cores to
	// the gateway's writes.
	MaxBytesPerSec int64
	// Clock replaces time.Now for the manifest's time.
	Clock func() time.Time
}

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Tenant restores only that tenant's indices (custom tenant id or
	// "global").
	Tenant string
	// Pattern restores only the indices whose physical name in the
	// snapshot matches.
	Pattern string
	// As clones the snapshot's one custom tenant into the new tenant As:
	// physical names are recomputed, the tenant is created with the
	// Actor's authority, AdminUsername gets its Admin role, roles that
	// named the source tenant are not copied, and namespace secrets are
	// re-sealed for the new tenant.
	As string
	// Overwrite replaces existing indices (and control records); without
	// it Restore refuses when any of them exists.
	Overwrite bool
	// Actor is who restores (for the tenant a clone creates).
	Actor admin.Actor
	// AdminUsername is mapped to a clone's Admin role; "" means the
	// Actor's name.
	AdminUsername string
	Progress      func(Progress)
	Wrap          WrapWriter
	// MaxBytesPerSec limits the rate at which Restore writes the restored
	// files (OpenSearch's max_restore_bytes_per_sec, the configuration's
	// snapshot.max_restore_bytes_per_sec); 0 is unlimited.
	MaxBytesPerSec int64
}

// IndexResult is the outcome of one index of a Create, Verify or Restore.
type IndexResult struct {
	// Physical is the index's name where it was written (for a clone,
	// the new tenant's physical name); Source its name in the snapshot.
	Physical string `json:"physical"`
	Source   string `json:"source,omitempty"`
	Owner    string `json:"owner"`
	Logical  string `json:"logical"`
	DocCount uint64 `json:"doc_count"`
	Size     int64  `json:"size"`
	// Verified is set when the document count and the canary query
	// matched the manifest.
	Verified bool `json:"verified"`
}

// Result is the outcome of Create, Verify or Restore.
type Result struct {
	// Path is the snapshot's directory or archive.
	Path     string        `json:"path"`
	Manifest *Manifest     `json:"-"`
	Indices  []IndexResult `json:"indices"`
	Bytes    int64         `json:"bytes"`
	Duration time.Duration `json:"duration"`
	// Verified is set when every index was verified.
	Verified bool `json:"verified"`
	// Tenant is the tenant a clone created.
	Tenant string `json:"tenant,omitempty"`
	// ControlRestored is set when a restore wrote the snapshot's
	// control-plane records (tenant, roles, mappings): only a
	// superadmin's restore of a tenant snapshot does.
	ControlRestored bool `json:"control_restored,omitempty"`
}

// Info is one entry of List.
type Info struct {
	Name string `json:"name"`
	Path string `json:"path"`
	// Complete is set when the manifest parses, has a known format
	// version and its checksum holds; the files are not checked (Verify
	// does). Manifest is nil when it is not complete.
	Complete bool      `json:"complete"`
	Manifest *Manifest `json:"manifest,omitempty"`
	// Problem says why the snapshot is not complete.
	Problem string `json:"problem,omitempty"`
}
