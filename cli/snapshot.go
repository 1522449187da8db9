package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/gateway"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/snapshot"
)

// snapshotUsage is the help of "tenantgate snapshot".
const snapshotUsage = `Usage: tenantgate snapshot COMMAND [flags]

Takes, lists, verifies and restores snapshots of tenantgate's indices (and,
for a tenant's snapshot, its tenant, roles and role mappings).

Commands:
  create    take a snapshot, while the gateway keeps serving
  list      list the snapshots of a directory or a server's repository
  verify    check a snapshot's files and open its indices
  restore   restore a snapshot, or clone a tenant's snapshot as a new tenant

Online, create, list and restore go through a running gateway's snapshot
API (/_snapshot) into a repository of its snapshot.repositories: pass
--repository with --server (or TENANTGATE_SERVER) and --token (or
TENANTGATE_TOKEN), or --user. Offline, they work on a stopped data
directory: pass --config (or TENANTGATE_CONFIG) and --out DIR|FILE, or the
snapshot's path. Run "tenantgate snapshot COMMAND --help" for the flags.
Exit codes: 0 done, 1 failed, 2 a usage error.
`

// snapshotCmd runs "tenantgate snapshot COMMAND".
func snapshotCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, snapshotUsage)
		return usageError{errors.New("snapshot: a command is required")}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, snapshotUsage)
		return nil
	case "create":
		return snapshotCreate(args, stdout, stderr)
	case "list":
		return snapshotList(args, stdout, stderr)
	case "verify":
		return snapshotVerify(args, stdout, stderr)
	case "restore":
		return snapshotRestore(args, stdout, stderr)
	}
	return usageError{fmt.Errorf("snapshot: unknown command %q (see tenantgate snapshot --help)", sub)}
}

// offlineFlags are the flags of the commands that open a stopped data
// directory.
type offlineFlags struct {
	config  string
	dataDir string
}

func addOfflineFlags(fs *flag.FlagSet) *offlineFlags {
	o := &offlineFlags{}
	fs.StringVar(&o.config, "config", "", "offline: the configuration `file` of the stopped gateway (or TENANTGATE_CONFIG)")
	fs.StringVar(&o.dataDir, "data-dir", "", "offline: the data `directory`, instead of the configuration's data_dir")
	return o
}

// given reports whether an offline flag was set.
func (o *offlineFlags) given() bool { return o.config != "" || o.dataDir != "" }

// openOffline opens the stopped data directory the flags name. A data
// directory a running gateway holds is refused with a message that says
// so: bbolt's file lock on control.db tells.
func (o *offlineFlags) openOffline(ctx context.Context, stderr io.Writer) (*instance.Instance, error) {
	if o.config == "" && os.Getenv("TENANTGATE_CONFIG") == "" {
		return nil, usageError{errors.New("offline, the stopped gateway's configuration is needed (its keys, security files and data_dir): pass --config FILE or set TENANTGATE_CONFIG")}
	}
	cfg, err := loadConfig(o.config)
	if err != nil {
		return nil, err
	}
	if o.dataDir != "" {
		cfg.DataDir = o.dataDir
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "control.db")); err != nil {
		return nil, fmt.Errorf("data directory %s: no control.db in it (%v): is data_dir (or --data-dir) right?", cfg.DataDir, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	inst, err := instance.Open(ctx, cfg, log)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("the data directory %s is in use: a running tenantgate holds its control.db; stop it first, or run this command online against it with --repository and --server/--token", cfg.DataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("opening the data directory %s: %w", cfg.DataDir, err)
	}
	return inst, nil
}

// snapshotsOf is the snapshot source and target over an opened instance.
func snapshotsOf(inst *instance.Instance) (*snapshot.Instance, error) {
	var key secrets.Key
	if k := inst.Config.Secrets.EncryptionKey; k != "" {
		var err error
		if key, err = secrets.ParseKey(k); err != nil {
			return nil, fmt.Errorf("secrets.encryption_key: %w", err)
		}
	}
	return &snapshot.Instance{Index: inst.Index, Store: inst.Store, Admin: inst.Admin, Key: key}, nil
}

// offlineActor is who acts in the audit trail of an offline command.
var offlineActor = admin.Actor{Name: "tenantgate-cli", Superadmin: true}

// recordOffline writes the audit record of an offline operation.
func recordOffline(inst *instance.Instance, action, tenant, target string, err error) {
	rec := audit.Record{Time: time.Now(), Actor: offlineActor.Name, Tenant: tenant, Action: action, Target: target,
		Outcome: audit.OutcomeSuccess, Reason: "offline, with tenantgate snapshot"}
	if err != nil {
		rec.Outcome, rec.Reason = audit.OutcomeFailure, "offline, with tenantgate snapshot: "+err.Error()
	}
	inst.Trail.Record(rec)
}

// snapshotPath is /_snapshot/{repo}[/{name}[/op]].
func snapshotPath(repo string, parts ...string) string {
	p := "/_snapshot/" + url.PathEscape(repo)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// pollEvery is how often an online command asks for a job's progress.
var pollEvery = 300 * time.Millisecond

// ---------------------------------------------------------------------------
// create

func snapshotCreate(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "snapshot create",
		synopsis: "snapshot create (--repository REPO [--name NAME] [connection flags] | --out DIR|FILE [--name NAME] --config FILE) [--pattern P] [--tenant T]",
		about: `Takes a snapshot: a consistent copy of each selected index, taken while
writes continue, plus a manifest with every file's checksum. --pattern
selects indices by physical name (".kibana*", "*_humanresources", comma-
separated); --tenant every index of one tenant, with its tenant, roles and
role mappings; neither takes everything (superadmins only; a tenant's admin
snapshots their tenant).

Online (--repository): the gateway writes REPO/NAME (PUT /_snapshot/REPO/NAME).
Offline (--out): writes DIR/NAME, or one FILE ending in .tar.zst or .tar.gz,
from a stopped data directory. Progress goes to standard error.`}
	fs := cmd.flags()
	repo := fs.String("repository", "", "online: the server's snapshot `repository` (snapshot.repositories)")
	out := fs.String("out", "", "offline: the `directory` to write the snapshot into, or an archive file (.tar.zst, .tar.gz)")
	name := fs.String("name", "", "the snapshot's `name` (default: snapshot-<UTC time>)")
	pattern := fs.String("pattern", "", "select indices by physical name: a `pattern` with * (comma-separated)")
	tenant := fs.String("tenant", "", "select every index of one `tenant` (a custom tenant id, or global)")
	off := addOfflineFlags(fs)
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	switch {
	case *repo != "" && (*out != "" || off.given()):
		return usageError{errors.New("snapshot create: --repository (online) excludes --out, --config and --data-dir (offline)")}
	case *repo == "" && *out == "":
		return usageError{errors.New("snapshot create: pass --repository REPO to snapshot through a running gateway, or --out DIR|FILE with --config to snapshot a stopped data directory")}
	}
	ctx, stop := signalContext()
	defer stop()
	if *repo != "" {
		c, err := cn.client(stderr)
		if err != nil {
			return err
		}
		n := *name
		if n == "" {
			n = "snapshot-" + time.Now().UTC().Format("20060102-150405")
		}
		return createOnline(ctx, c, *repo, n, *pattern, *tenant, stdout, stderr)
	}
	inst, err := off.openOffline(ctx, stderr)
	if err != nil {
		return err
	}
	defer inst.Close()
	src, err := snapshotsOf(inst)
	if err != nil {
		return err
	}
	pp := newProgressPrinter(stderr, "snapshot")
	res, err := snapshot.Create(ctx, src, snapshot.Options{Out: *out, Name: *name, Pattern: *pattern, Tenant: *tenant,
		ToolVersion: gateway.Version, Progress: pp.update, MaxBytesPerSec: inst.Config.Snapshot.SnapshotBytesPerSec()})
	pp.finish()
	target := *out
	if res != nil {
		target = res.Path
	}
	recordOffline(inst, "snapshot.create", *tenant, target, err)
	if err != nil {
		return fmt.Errorf("snapshot create: %w", err)
	}
	var docs uint64
	for _, ir := range res.Indices {
		docs += ir.DocCount
	}
	fmt.Fprintf(stdout, "wrote snapshot %s: %d indices, %d documents, %s in %s\n",
		res.Path, len(res.Indices), docs, humanBytes(res.Bytes), res.Duration.Round(time.Millisecond))
	return nil
}

// createOnline starts a snapshot through the API and follows its
// progress until it ends.
func createOnline(ctx context.Context, c *client, repo, name, pattern, tenant string, stdout, stderr io.Writer) error {
	body := map[string]any{}
	if pattern != "" {
		body["indices"] = pattern
	}
	if tenant != "" {
		body["tenant"] = tenant
	}
	var accepted struct {
		Accepted bool `json:"accepted"`
	}
	if err := c.call(ctx, "PUT", snapshotPath(repo, name), body, &accepted); err != nil {
		return fmt.Errorf("snapshot create: %w", err)
	}
	pp := newProgressPrinter(stderr, "snapshot")
	st, err := follow(ctx, c, repo, name, pp, func(s statusAnswer) (snapshot.Progress, bool) {
		return s.progress(), s.State != "STARTED" && s.State != "IN_PROGRESS"
	})
	pp.finish()
	if err != nil {
		return fmt.Errorf("snapshot create: %w", err)
	}
	if st.State != "SUCCESS" {
		return fmt.Errorf("snapshot create: snapshot %s:%s %s: %s", repo, name, strings.ToLower(st.State), firstOf(st.Reason, "no reason given"))
	}
	var got struct {
		Snapshots []snapshotAnswer `json:"snapshots"`
	}
	if err := c.call(ctx, "GET", snapshotPath(repo, name), nil, &got); err != nil || len(got.Snapshots) != 1 {
		return fmt.Errorf("snapshot create: the snapshot was written, but reading it back failed: %v", err)
	}
	s := got.Snapshots[0]
	fmt.Fprintf(stdout, "wrote snapshot %s:%s: %d indices, %d documents, %s\n", repo, name, len(s.Indices), s.docs(), humanBytes(st.Stats.Total.SizeInBytes))
	return nil
}

// statusAnswer is the part of one _status entry the CLI reads.
type statusAnswer struct {
	State  string `json:"state"`
	Reason string `json:"reason"`
	Shards struct {
		Done  int `json:"done"`
		Total int `json:"total"`
	} `json:"shards_stats"`
	Stats struct {
		Processed *struct {
			SizeInBytes int64 `json:"size_in_bytes"`
		} `json:"processed"`
		Total struct {
			SizeInBytes int64 `json:"size_in_bytes"`
		} `json:"total"`
	} `json:"stats"`
	Indices map[string]struct {
		Shards map[string]struct {
			Stage string `json:"stage"`
		} `json:"shards"`
	} `json:"indices"`
	Restore *struct {
		State                string                 `json:"state"`
		Reason               string                 `json:"reason"`
		Tenant               string                 `json:"tenant"`
		IndicesDone          int                    `json:"indices_done"`
		IndicesTotal         int                    `json:"indices_total"`
		ProcessedSizeInBytes int64                  `json:"processed_size_in_bytes"`
		TotalSizeInBytes     int64                  `json:"total_size_in_bytes"`
		Verified             bool                   `json:"verified"`
		Indices              []snapshot.IndexResult `json:"indices"`
	} `json:"restore"`
}

// progress is the snapshot's progress as a snapshot.Progress.
func (s statusAnswer) progress() snapshot.Progress {
	p := snapshot.Progress{Phase: "copy", IndicesDone: s.Shards.Done, IndicesTotal: s.Shards.Total, BytesTotal: s.Stats.Total.SizeInBytes}
	p.BytesDone = p.BytesTotal
	if s.Stats.Processed != nil {
		p.BytesDone = s.Stats.Processed.SizeInBytes
	}
	for name, ix := range s.Indices {
		if ix.Shards["0"].Stage == "STARTED" {
			p.Index = name
		}
	}
	return p
}

// snapshotAnswer is the part of a get-snapshot entry the CLI reads.
type snapshotAnswer struct {
	Snapshot  string   `json:"snapshot"`
	State     string   `json:"state"`
	Reason    string   `json:"reason"`
	Indices   []string `json:"indices"`
	StartTime string   `json:"start_time"`
	Metadata  struct {
		Tenant  string `json:"tenant"`
		Pattern string `json:"pattern"`
		Indices []struct {
			DocCount uint64 `json:"doc_count"`
			Size     int64  `json:"size_in_bytes"`
		} `json:"indices"`
	} `json:"metadata"`
}

func (s snapshotAnswer) docs() (n uint64) {
	for _, ix := range s.Metadata.Indices {
		n += ix.DocCount
	}
	return n
}

func (s snapshotAnswer) size() (n int64) {
	for _, ix := range s.Metadata.Indices {
		n += ix.Size
	}
	return n
}

// follow polls GET …/_status, feeding pp, until done says the job ended;
// it returns the last answer.
func follow(ctx context.Context, c *client, repo, name string, pp *progressPrinter, done func(statusAnswer) (snapshot.Progress, bool)) (statusAnswer, error) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		var got struct {
			Snapshots []statusAnswer `json:"snapshots"`
		}
		if err := c.call(ctx, "GET", snapshotPath(repo, name, "_status"), nil, &got); err != nil {
			return statusAnswer{}, err
		}
		if len(got.Snapshots) != 1 {
			return statusAnswer{}, fmt.Errorf("the server's _status of %s:%s names %d snapshots, not one", repo, name, len(got.Snapshots))
		}
		st := got.Snapshots[0]
		p, end := done(st)
		pp.update(p)
		if end {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("interrupted; the server goes on: follow it with GET %s", snapshotPath(repo, name, "_status"))
		case <-t.C:
		}
	}
}

// ---------------------------------------------------------------------------
// list

func snapshotList(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "snapshot list",
		synopsis: "snapshot list (DIR | --repository REPO [connection flags]) [--output table|json]",
		about: `Lists the snapshots of a directory (on this machine), or of a server's
repository (GET /_snapshot/REPO/_all: those the caller may see). A snapshot
that is not complete (an interrupted write, a manifest that does not parse
or whose checksum fails) is listed as incomplete, never as good; "snapshot
verify" checks the files too.`}
	fs := cmd.flags()
	repo := fs.String("repository", "", "online: the server's snapshot `repository`")
	output := outputFlag(fs, "table")
	cn := addConnFlags(fs)
	var dir string
	err := cmd.parse(fs, args, stdout, oneArg("snapshot list", "directory", &dir))
	if err != nil {
		return err
	}
	if *output != "table" && *output != "json" {
		return usageError{fmt.Errorf("--output %q: use table or json", *output)}
	}
	switch {
	case *repo != "" && dir != "":
		return usageError{errors.New("snapshot list: a directory (on this machine) or --repository (on a server), not both")}
	case *repo == "" && dir == "":
		return usageError{errors.New("snapshot list: name a directory, or --repository REPO of a running gateway")}
	}
	ctx, stop := signalContext()
	defer stop()
	if *repo != "" {
		c, err := cn.client(stderr)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := c.call(ctx, "GET", snapshotPath(*repo, "_all"), nil, &raw); err != nil {
			return fmt.Errorf("snapshot list: %w", err)
		}
		if *output == "json" {
			return printJSON(stdout, raw)
		}
		var got struct {
			Snapshots []snapshotAnswer `json:"snapshots"`
		}
		if err := json.Unmarshal(raw, &got); err != nil {
			return fmt.Errorf("snapshot list: decoding the answer: %w", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSTATE\tINDICES\tDOCS\tSIZE\tSELECTION\tCREATED")
		for _, s := range got.Snapshots {
			state := s.State
			if s.Reason != "" && s.State != "SUCCESS" {
				state += " (" + oneLine(s.Reason) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", s.Snapshot, state, len(s.Indices), s.docs(), humanBytes(s.size()),
				selection(s.Metadata.Tenant, s.Metadata.Pattern), s.StartTime)
		}
		return tw.Flush()
	}
	list, err := snapshot.List(dir)
	if err != nil {
		return fmt.Errorf("snapshot list: %w", err)
	}
	if *output == "json" {
		raw, err := json.Marshal(list)
		if err != nil {
			return err
		}
		return printJSON(stdout, raw)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tINDICES\tDOCS\tSIZE\tSELECTION\tCREATED")
	for _, in := range list {
		if !in.Complete || in.Manifest == nil {
			fmt.Fprintf(tw, "%s\tincomplete (%s)\t-\t-\t-\t-\t-\n", in.Name, oneLine(firstOf(in.Problem, "no valid manifest")))
			continue
		}
		m := in.Manifest
		var docs uint64
		var size int64
		for _, e := range m.Indices {
			docs, size = docs+e.DocCount, size+e.Size
		}
		fmt.Fprintf(tw, "%s\tcomplete\t%d\t%d\t%s\t%s\t%s\n", in.Name, len(m.Indices), docs, humanBytes(size),
			selection(m.Selection.Tenant, m.Selection.Pattern), m.Created.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// selection describes what a snapshot was asked to hold.
func selection(tenant, pattern string) string {
	switch {
	case tenant != "" && pattern != "":
		return "tenant " + tenant + ", " + pattern
	case tenant != "":
		return "tenant " + tenant
	case pattern != "":
		return pattern
	}
	return "everything"
}

// ---------------------------------------------------------------------------
// verify

func snapshotVerify(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "snapshot verify",
		synopsis: "snapshot verify DIR|FILE",
		about: `Verifies a snapshot on this machine: its manifest (format version and
checksum), the size and SHA-256 of every file, then opens every index from
a temporary copy and runs the canary queries (the document count and the
sample document found by its id). It needs no gateway and changes nothing.`}
	fs := cmd.flags()
	var path string
	err := cmd.parse(fs, args, stdout, oneArg("snapshot verify", "snapshot", &path))
	if err != nil {
		return err
	}
	if path == "" {
		return usageError{errors.New("snapshot verify: name the snapshot's directory or archive")}
	}
	ctx, stop := signalContext()
	defer stop()
	pp := newProgressPrinter(stderr, "verify")
	res, err := snapshot.Verify(ctx, path, snapshot.Options{Progress: pp.update})
	pp.finish()
	if err != nil {
		return fmt.Errorf("snapshot verify: %s: %w", path, err)
	}
	for _, ir := range res.Indices {
		fmt.Fprintf(stdout, "ok  %s  %d documents  %s\n", ir.Physical, ir.DocCount, humanBytes(ir.Size))
	}
	fmt.Fprintf(stdout, "verified %s: %d indices, %s: every file's checksum, document counts and canary queries match the manifest\n",
		res.Path, len(res.Indices), humanBytes(res.Bytes))
	return nil
}

// ---------------------------------------------------------------------------
// restore

func snapshotRestore(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "snapshot restore",
		synopsis: "snapshot restore (DIR|FILE --config FILE | --repository REPO --name NAME [connection flags]) [--tenant T] [--as NEW] [--overwrite]",
		about: `Restores a snapshot. It refuses to replace an existing index unless
--overwrite; a running gateway swaps each index in atomically (readers see
the old index or the new one). --tenant restores one tenant's indices only.
--as clones a tenant's snapshot as the new tenant NEW: its indices under
NEW's names, its namespaces' secrets sealed again for NEW; roles that named
the source tenant are not copied, and the restoring admin (offline:
--admin-username) gets NEW's Admin role. Afterwards every restored index
is checked against the manifest (document count and canary queries).

Online: POST /_snapshot/REPO/NAME/_restore. Offline: the snapshot's path
and the stopped gateway's --config.`}
	fs := cmd.flags()
	repo := fs.String("repository", "", "online: the server's snapshot `repository`")
	name := fs.String("name", "", "online: the snapshot's `name` in the repository")
	tenant := fs.String("tenant", "", "restore only this `tenant`'s indices")
	as := fs.String("as", "", "clone the snapshot's tenant as this new `tenant`")
	overwrite := fs.Bool("overwrite", false, "replace indices that exist (and, for a superadmin, the tenant's records)")
	adminUser := fs.String("admin-username", "", "offline, with --as: the `user` to map to the new tenant's Admin role")
	off := addOfflineFlags(fs)
	cn := addConnFlags(fs)
	var path string
	err := cmd.parse(fs, args, stdout, oneArg("snapshot restore", "snapshot", &path))
	if err != nil {
		return err
	}
	switch {
	case *repo != "" && (path != "" || off.given()):
		return usageError{errors.New("snapshot restore: --repository (online) excludes a snapshot path, --config and --data-dir (offline)")}
	case *repo != "" && *name == "":
		return usageError{errors.New("snapshot restore: --repository needs --name")}
	case *repo != "" && *adminUser != "":
		return usageError{errors.New("snapshot restore: online, the caller gets the new tenant's Admin role: --admin-username is for offline restores")}
	case *repo == "" && path == "":
		return usageError{errors.New("snapshot restore: name the snapshot's directory or archive (offline, with --config), or --repository and --name of a running gateway")}
	case *repo == "" && *name != "":
		return usageError{errors.New("snapshot restore: --name needs --repository; offline, name the snapshot's path")}
	}
	ctx, stop := signalContext()
	defer stop()
	if *repo != "" {
		c, err := cn.client(stderr)
		if err != nil {
			return err
		}
		return restoreOnline(ctx, c, *repo, *name, *tenant, *as, *overwrite, stdout, stderr)
	}
	inst, err := off.openOffline(ctx, stderr)
	if err != nil {
		return err
	}
	defer inst.Close()
	dst, err := snapshotsOf(inst)
	if err != nil {
		return err
	}
	pp := newProgressPrinter(stderr, "restore")
	res, err := snapshot.Restore(ctx, path, dst, snapshot.RestoreOptions{Tenant: *tenant, As: *as, Overwrite: *overwrite,
		Actor: offlineActor, AdminUsername: *adminUser, Progress: pp.update, MaxBytesPerSec: inst.Config.Snapshot.RestoreBytesPerSec()})
	pp.finish()
	recordOffline(inst, "snapshot.restore", firstOf(*as, *tenant), path, err)
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	printRestored(stdout, path, res.Indices, res.Verified, res.Tenant)
	if !res.Verified {
		return errors.New("snapshot restore: the restored indices do not all match the manifest")
	}
	return nil
}

// restoreOnline starts a restore through the API and follows it.
func restoreOnline(ctx context.Context, c *client, repo, name, tenant, as string, overwrite bool, stdout, stderr io.Writer) error {
	body := map[string]any{"overwrite": overwrite}
	if tenant != "" {
		body["tenant"] = tenant
	}
	if as != "" {
		body["rename_tenant"] = as
	}
	if err := c.call(ctx, "POST", snapshotPath(repo, name, "_restore"), body, nil); err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	pp := newProgressPrinter(stderr, "restore")
	st, err := follow(ctx, c, repo, name, pp, func(s statusAnswer) (snapshot.Progress, bool) {
		if s.Restore == nil {
			return snapshot.Progress{}, true
		}
		r := s.Restore
		return snapshot.Progress{Phase: "restore", IndicesDone: r.IndicesDone, IndicesTotal: r.IndicesTotal,
			BytesDone: r.ProcessedSizeInBytes, BytesTotal: r.TotalSizeInBytes}, r.State != "STARTED"
	})
	pp.finish()
	if err != nil {
		return fmt.Errorf("snapshot restore: %w", err)
	}
	r := st.Restore
	if r == nil {
		return fmt.Errorf("snapshot restore: the server does not report the restore of %s:%s", repo, name)
	}
	if r.State != "SUCCESS" {
		return fmt.Errorf("snapshot restore: %s:%s: %s", repo, name, firstOf(r.Reason, "failed"))
	}
	printRestored(stdout, repo+":"+name, r.Indices, r.Verified, as)
	if !r.Verified {
		return errors.New("snapshot restore: the restored indices do not all match the manifest")
	}
	return nil
}

// printRestored says what a restore did and what its check found.
func printRestored(w io.Writer, from string, indices []snapshot.IndexResult, verified bool, clone string) {
	for _, ir := range indices {
		mark := "ok "
		if !ir.Verified {
			mark = "BAD"
		}
		fmt.Fprintf(w, "%s %s (%s)  %d documents\n", mark, ir.Physical, ir.Logical, ir.DocCount)
	}
	if clone != "" {
		fmt.Fprintf(w, "cloned into the new tenant %s\n", clone)
	}
	if verified {
		fmt.Fprintf(w, "restored %d indices from %s; verified: document counts and canary queries match the manifest\n", len(indices), from)
		return
	}
	fmt.Fprintf(w, "restored %d indices from %s; NOT verified: see the indices marked BAD\n", len(indices), from)
}

// ---------------------------------------------------------------------------
// Progress

// stderrTerminal reports whether w is a terminal, where progress is a bar
// redrawn in place. Tests replace it.
var stderrTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressPrinter shows progress on standard error: a bar redrawn in
// place on a terminal; otherwise a plain line when an index starts, and
// at most every plainEvery in between.
type progressPrinter struct {
	w     io.Writer
	verb  string
	tty   bool
	last  time.Time
	index string
	drawn bool
	width int
}

// plainEvery is the longest gap between two plain progress lines while
// the work goes on.
const plainEvery = 2 * time.Second

func newProgressPrinter(w io.Writer, verb string) *progressPrinter {
	return &progressPrinter{w: w, verb: verb, tty: stderrTerminal(w)}
}

func (p *progressPrinter) update(pr snapshot.Progress) {
	if pr.IndicesTotal == 0 && pr.BytesTotal == 0 {
		return
	}
	now := time.Now()
	newIndex := pr.Index != "" && pr.Index != p.index
	if pr.Index != "" {
		p.index = pr.Index
	}
	if p.tty {
		if !newIndex && now.Sub(p.last) < 100*time.Millisecond && pr.IndicesDone < pr.IndicesTotal {
			return
		}
		p.last = now
		line := fmt.Sprintf("%s %s %s / %s  %d/%d indices  %s", p.verb, bar(pr.BytesDone, pr.BytesTotal, 24),
			humanBytes(pr.BytesDone), humanBytes(pr.BytesTotal), pr.IndicesDone, pr.IndicesTotal, p.index)
		pad := max(p.width-len(line), 0)
		fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
		p.width, p.drawn = len(line), true
		return
	}
	if !newIndex && now.Sub(p.last) < plainEvery {
		return
	}
	p.last = now
	phase := firstOf(pr.Phase, p.verb)
	fmt.Fprintf(p.w, "%s: %s %s: %d/%d indices, %s of %s\n", p.verb, phase, firstOf(p.index, "-"),
		pr.IndicesDone, pr.IndicesTotal, humanBytes(pr.BytesDone), humanBytes(pr.BytesTotal))
}

// finish ends the bar's line.
func (p *progressPrinter) finish() {
	if p.tty && p.drawn {
		fmt.Fprintln(p.w)
	}
}

// bar draws [#####-----] for done of total.
func bar(done, total int64, width int) string {
	n := 0
	if total > 0 {
		n = int(min(done, total) * int64(width) / total)
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

// humanBytes writes a size in B, KB, MB, GB (powers of 1024).
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), []string{"KB", "MB", "GB", "TB"}
	i := -1
	for v >= unit && i < len(suffix)-1 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %s", v, suffix[i])
}

// oneArg is the positional-argument handler of a command that takes at
// most one (what it is: "directory", "snapshot"): it stores it in dst and
// refuses a second as a usage error.
func oneArg(command, what string, dst *string) func(string) error {
	return func(arg string) error {
		if *dst != "" {
			return usageError{fmt.Errorf("%s: one %s, not %q and %q", command, what, *dst, arg)}
		}
		*dst = arg
		return nil
	}
}
