package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/tenants"
)

// sizer is an optional Source ability: the size of an index before it is
// copied, for progress reports.
type sizer interface {
	IndexSize(ctx context.Context, physical string) (int64, error)
}

// IndexSize returns the size on disk of one physical index.
func (i *Instance) IndexSize(ctx context.Context, physical string) (int64, error) {
	st, err := i.Index.Backend().Stats(ctx, physical)
	return int64(st.SizeBytes), err
}

// ValidateName checks a snapshot name: 1 to 255 bytes of lower-case
// letters, digits, '-', '_' and '.', not starting with '.', '-' or '_',
// and not the name of a file being written.
func ValidateName(name string) error {
	bad := func(why string) error { return fmt.Errorf("snapshot name [%s] %s: %w", name, why, ErrInvalid) }
	switch {
	case name == "":
		return bad("must not be empty")
	case len(name) > 255:
		return bad("is longer than 255 bytes")
	case strings.ContainsFunc(name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}):
		return bad("must hold only lower-case letters, digits, '-', '_' and '.'")
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "_"):
		return bad("must not start with '.', '-' or '_'")
	case strings.Contains(name, tmpMarker) || strings.Contains(name, ".."):
		return bad("must not contain '" + tmpMarker + "' or '..'")
	}
	return nil
}

// ownerOf returns the catalog owner of a tenant selection: "global" for
// the global tenant, "custom:<id>" for a custom tenant.
func ownerOf(tenant string) (string, error) {
	switch tenant {
	case tenants.Global, tenants.GlobalAlias:
		return tenants.GlobalRef.Owner(), nil
	}
	if err := tenants.ValidateID(tenant); err != nil {
		return "", fmt.Errorf("%v: %w", err, ErrInvalid)
	}
	return tenants.CustomRef(tenant).Owner(), nil
}

// tenantOf returns the custom tenant id of an owner ("" for others).
func tenantOf(owner string) string {
	id, _ := strings.CutPrefix(owner, "custom:")
	if id == owner {
		return ""
	}
	return id
}

// matchAny reports whether name matches one of the comma-separated
// patterns ("" matches everything).
func matchAny(patterns, name string) bool {
	if strings.TrimSpace(patterns) == "" || patterns == "_all" {
		return true
	}
	for _, p := range strings.Split(patterns, ",") {
		if p = strings.TrimSpace(p); p != "" && index.MatchPattern(p, name) {
			return true
		}
	}
	return false
}

// Create writes a snapshot of the indices src holds that opts selects,
// each copied consistently with the back-end's online copy while writes
// continue: every write acknowledged before Create was called is in it.
// The snapshot is written under a temporary name, every file and
// directory synced, the manifest last, then renamed: it appears under its
// final name only when complete, and a failure (a full disk among them)
// removes what was written. A custom tenant's snapshot carries its
// control-plane records. An existing snapshot of that name is ErrExists;
// a selection that matches nothing is ErrNotFound.
func Create(ctx context.Context, src Source, opts Options) (res *Result, err error) {
	start := time.Now()
	clock := opts.Clock
	if clock == nil {
		clock = time.Now
	}
	if opts.Out == "" {
		return nil, fmt.Errorf("no output directory or file: %w", ErrInvalid)
	}
	kind := archiveKind(opts.Out)
	name := opts.Name
	if name == "" {
		if kind != kindDir {
			name = strings.TrimSuffix(strings.TrimSuffix(filepath.Base(opts.Out), kind), ".tgz")
		} else {
			name = "snapshot-" + strings.ToLower(clock().UTC().Format("20060102t150405z"))
		}
	}
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	final := opts.Out
	if kind == kindDir {
		final = filepath.Join(opts.Out, name)
	}
	if _, err := os.Lstat(final); err == nil {
		return nil, fmt.Errorf("snapshot %s: %w", final, ErrExists)
	}
	sel, ctrl, err := selectSource(ctx, src, opts.Pattern, opts.Tenant)
	if err != nil {
		return nil, err
	}
	id, err := src.InstanceID(ctx)
	if err != nil {
		return nil, err
	}
	parent := opts.Out
	if kind != kindDir {
		parent = filepath.Dir(opts.Out)
	}
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", final, err)
	}
	prefix := name
	if kind != kindDir {
		prefix = "." + filepath.Base(opts.Out)
	}
	tmp, err := os.MkdirTemp(parent, prefix+tmpMarker+"*")
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", final, err)
	}
	defer func() {
		if err != nil || kind != kindDir {
			_ = os.RemoveAll(tmp)
		}
	}()

	m := &Manifest{FormatVersion: FormatVersion, ToolVersion: cmpOr(opts.ToolVersion, "unknown"), Name: name,
		Created: clock().UTC(), InstanceID: id, Selection: Selection{Pattern: opts.Pattern, Tenant: opts.Tenant}, Control: ctrl,
		Indices: []IndexEntry{}}
	res = &Result{Path: final, Manifest: m}
	p := Progress{Phase: "copy", IndicesTotal: len(sel)}
	if sz, ok := src.(sizer); ok {
		for _, e := range sel {
			if n, err := sz.IndexSize(ctx, e.Physical); err == nil {
				p.BytesTotal += n
			}
		}
	}
	report := func() {
		if opts.Progress != nil {
			opts.Progress(p)
		}
	}
	if err := os.Mkdir(filepath.Join(tmp, indicesDir), 0o750); err != nil {
		return nil, err
	}
	lim := newLimiter(opts.MaxBytesPerSec)
	for _, e := range sel {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p.Index = e.Physical
		report()
		dir := filepath.Join(tmp, indicesDir, e.Physical)
		// The copy's files are paced, hashed and synced as the back-end
		// writes them; hashTree reads back only the others.
		cf := newCopyFiles(ctx, lim, opts.Wrap)
		st, err := src.CopyIndex(ctx, e.Physical, dir, index.CopyOptions{Writer: cf.writer})
		known, werr := cf.wait()
		if werr != nil {
			// The file's own error (a full disk): the back-end's
			// error only quotes it.
			err = werr
		}
		if err != nil {
			return nil, fmt.Errorf("snapshot of index %s: %w", e.Physical, err)
		}
		files, size, err := hashTree(ctx, dir, known, lim)
		if err != nil {
			return nil, fmt.Errorf("snapshot of index %s: %w", e.Physical, err)
		}
		ie := IndexEntry{Physical: e.Physical, Owner: e.Owner, Tenant: tenantOf(e.Owner), Logical: e.Logical, Created: e.Created,
			DocCount: st.DocCount, SampleID: st.SampleID, Size: size, Files: files}
		if e.Logical == namespacesIndex {
			if ie.Secrets, err = src.CountSecrets(ctx, e.Physical); err != nil {
				return nil, err
			}
		}
		m.Indices = append(m.Indices, ie)
		res.Indices = append(res.Indices, IndexResult{Physical: e.Physical, Owner: e.Owner, Logical: e.Logical, DocCount: st.DocCount, Size: size})
		res.Bytes += size
		p.IndicesDone++
		p.BytesDone += size
		p.BytesTotal = max(p.BytesTotal, p.BytesDone)
		report()
	}
	raw, err := encodeManifest(m)
	if err != nil {
		return nil, err
	}
	p.Phase, p.Index = "write", ""
	report()
	if kind == kindDir {
		if err := writeFile(filepath.Join(tmp, ManifestName), raw, opts.Wrap); err != nil {
			return nil, fmt.Errorf("writing the manifest of %s: %w", final, err)
		}
		if err := syncTree(tmp); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", final, err)
		}
		if _, err := os.Lstat(final); err == nil {
			return nil, fmt.Errorf("snapshot %s: %w", final, ErrExists)
		}
		if err := os.Rename(tmp, final); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", final, err)
		}
		if err := syncDir(parent); err != nil {
			return nil, fmt.Errorf("snapshot %s: %w", final, err)
		}
	} else {
		p.BytesDone = 0
		if err := writeArchive(tmp, final, kind, m, raw, pacedWrap(ctx, lim, opts.Wrap), func(n int64) { p.BytesDone += n; report() }); err != nil {
			return nil, err
		}
	}
	res.Verified = false
	res.Duration = time.Since(start)
	p.Phase = "done"
	report()
	return res, nil
}

// namespacesIndex is the logical name of a tenant's namespaces index
// (namespaces.IndexName), which holds its sealed secrets.
const namespacesIndex = ".namespaces"

// selectSource returns the catalog entries a snapshot holds, and the
// control-plane records of a custom tenant selection.
func selectSource(ctx context.Context, src Source, pattern, tenant string) ([]index.Entry, *Control, error) {
	owner := ""
	if tenant != "" {
		var err error
		if owner, err = ownerOf(tenant); err != nil {
			return nil, nil, err
		}
	}
	all, err := src.Entries(ctx)
	if err != nil {
		return nil, nil, err
	}
	var sel []index.Entry
	for _, e := range all {
		if (owner == "" || e.Owner == owner) && matchAny(pattern, e.Physical) {
			sel = append(sel, e)
		}
	}
	var ctrl *Control
	if id := tenantOf(owner); id != "" {
		if ctrl, err = src.Control(ctx, id); err != nil {
			return nil, nil, err
		}
	}
	if len(sel) == 0 && ctrl == nil {
		what := "any index"
		if pattern != "" {
			what = "the pattern [" + pattern + "]"
		}
		return nil, nil, fmt.Errorf("no index matches %s: %w", what, ErrNotFound)
	}
	return sel, ctrl, nil
}

// cmpOr returns a unless it is empty, else b.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
