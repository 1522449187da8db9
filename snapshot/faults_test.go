package snapshot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/snapshot"
)

// fullDisk is a snapshot.WrapWriter that lets limit bytes through to
// files whose path contains match, then fails as a full disk does.
func fullDisk(match string, limit int64) snapshot.WrapWriter {
	return func(path string, w io.Writer) io.Writer {
		if !strings.Contains(path, match) {
			return w
		}
		return &limitedWriter{w: w, left: limit}
	}
}

type limitedWriter struct {
	w    io.Writer
	left int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.left {
		n, _ := l.w.Write(p[:l.left])
		l.left = 0
		return n, &os.PathError{Op: "write", Path: "disk", Err: syscall.ENOSPC}
	}
	l.left -= int64(len(p))
	return l.w.Write(p)
}

// indexFile returns the path of the largest file of the first index in a
// directory snapshot.
func indexFile(t *testing.T, m *snapshot.Manifest, dir string) string {
	t.Helper()
	ie := m.Indices[0]
	best := ie.Files[0]
	for _, f := range ie.Files {
		if f.Size > best.Size {
			best = f
		}
	}
	return filepath.Join(dir, "indices", ie.Physical, filepath.FromSlash(best.Path))
}

// rewriteManifest edits the manifest of a directory snapshot; with
// reseal the checksum is recomputed as the tool computes it.
func rewriteManifest(t *testing.T, dir string, edit func(string) string, reseal bool) {
	t.Helper()
	p := filepath.Join(dir, snapshot.ManifestName)
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := edit(string(raw))
	if reseal {
		i := strings.LastIndex(s, `"checksum": "`) + len(`"checksum": "`)
		j := i + strings.IndexByte(s[i:], '"')
		body := strings.TrimSuffix(s[:i]+s[j:], "\n")
		sum := sha256.Sum256([]byte(body))
		s = s[:i] + "sha256:" + hex.EncodeToString(sum[:]) + s[j:]
	}
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies a snapshot directory or file.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, raw, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// liveState is what a failed restore must leave as it was: the catalog
// and the document count of the live index, and no staging directory.
func liveState(t *testing.T, s *testserver.Server) string {
	t.Helper()
	var b strings.Builder
	for _, e := range s.Inst.Index.Catalog().All() {
		b.WriteString(e.Physical + " ")
	}
	b.WriteString("| staff=" + itoa(count(t, s, super(t), "human_resources", "staff")))
	ents, err := os.ReadDir(filepath.Join(s.Config.DataDir, "indices"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), "..") {
			b.WriteString(" leftover:" + d.Name())
		}
	}
	return b.String()
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// TestDamagedSnapshots checks that truncated, tampered, incomplete and
// wrong-version snapshots give clear errors in ReadManifest, Verify and
// Restore, that List never shows them as complete, and that a restore
// of one (even with overwrite) leaves the live data as it was.
func TestDamagedSnapshots(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	bulk(t, s, "human_resources", "staff", "s", 0, 30)
	base := t.TempDir()
	good, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: base, Name: "good", Tenant: "human_resources"})
	if err != nil {
		t.Fatal(err)
	}
	zst, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: filepath.Join(base, "good.tar.zst"), Tenant: "human_resources"})
	if err != nil {
		t.Fatal(err)
	}
	// The live index moves on after the snapshot.
	bulk(t, s, "human_resources", "staff", "later", 0, 5)
	live := liveState(t, s)

	cases := []struct {
		name   string
		damage func(t *testing.T, dir string) string // returns the path to use
		want   error
		// listed is set when List shows it as complete: a directory whose
		// files have the right sizes (List does not read them).
		listed bool
	}{
		{"tampered index file", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			f := indexFile(t, good.Manifest, dir)
			raw, _ := os.ReadFile(f)
			raw[len(raw)/2] ^= 0xff
			os.WriteFile(f, raw, 0o600)
			return dir
		}, snapshot.ErrCorrupt, true},
		{"truncated index file", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			f := indexFile(t, good.Manifest, dir)
			st, _ := os.Stat(f)
			os.Truncate(f, st.Size()/2)
			return dir
		}, snapshot.ErrCorrupt, false},
		{"missing index file", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			os.Remove(indexFile(t, good.Manifest, dir))
			return dir
		}, snapshot.ErrCorrupt, false},
		{"tampered manifest", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			rewriteManifest(t, dir, func(s string) string { return strings.Replace(s, `"doc_count": 30`, `"doc_count": 31`, 1) }, false)
			return dir
		}, snapshot.ErrCorrupt, false},
		{"wrong format version", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			rewriteManifest(t, dir, func(s string) string { return strings.Replace(s, `"format_version": 1`, `"format_version": 2`, 1) }, true)
			return dir
		}, snapshot.ErrFormat, false},
		{"missing manifest", func(t *testing.T, dir string) string {
			copyTree(t, good.Path, dir)
			os.Remove(filepath.Join(dir, snapshot.ManifestName))
			return dir
		}, snapshot.ErrCorrupt, false},
		{"interrupted write", func(t *testing.T, dir string) string {
			p := dir + ".tmp-1234"
			copyTree(t, good.Path, p)
			return p
		}, snapshot.ErrCorrupt, false},
		{"truncated archive", func(t *testing.T, dir string) string {
			raw, _ := os.ReadFile(zst.Path)
			p := dir + ".tar.zst"
			os.WriteFile(p, raw[:len(raw)*2/3], 0o600)
			return p
		}, snapshot.ErrCorrupt, false},
		{"archive cut before the manifest", func(t *testing.T, dir string) string {
			raw, _ := os.ReadFile(zst.Path)
			p := dir + ".tar.zst"
			os.WriteFile(p, raw[:len(raw)-40], 0o600)
			return p
		}, snapshot.ErrCorrupt, false},
		{"garbage archive", func(t *testing.T, dir string) string {
			p := dir + ".tar.gz"
			os.WriteFile(p, []byte("this is not a gzip stream"), 0o600)
			return p
		}, snapshot.ErrCorrupt, false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			repo := t.TempDir()
			p := c.damage(t, filepath.Join(repo, "bad"+itoa(i)))
			_, rerr := snapshot.ReadManifest(p)
			_, verr := snapshot.Verify(ctx, p, snapshot.Options{})
			t.Logf("verify: %v", verr)
			if !errors.Is(verr, c.want) {
				t.Errorf("Verify: %v, want %v", verr, c.want)
			}
			for _, opts := range []snapshot.RestoreOptions{{Overwrite: true}, {As: "hr_damaged", Actor: adminActor}} {
				_, err := snapshot.Restore(ctx, p, instanceOf(t, s), opts)
				if !errors.Is(err, c.want) {
					t.Errorf("Restore %+v: %v, want %v", opts, err, c.want)
				}
			}
			if got := liveState(t, s); got != live {
				t.Errorf("live data changed:\n got %s\nwant %s", got, live)
			}
			list, err := snapshot.List(repo)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 1 || list[0].Complete != c.listed {
				t.Errorf("List: %+v, want one entry, complete %v", list, c.listed)
			}
			if rerr != nil && !errors.Is(rerr, c.want) {
				t.Errorf("ReadManifest: %v, want nil or %v", rerr, c.want)
			}
			if len(list) == 1 && !c.listed && !strings.Contains(list[0].Problem, "snapshot") {
				t.Errorf("List gives no clear problem: %q", list[0].Problem)
			}
		})
	}
	t.Run("the good ones still restore over the live index with overwrite", func(t *testing.T) {
		for _, p := range []string{good.Path, zst.Path} {
			if _, err := snapshot.Restore(ctx, p, instanceOf(t, s), snapshot.RestoreOptions{Overwrite: true}); err != nil {
				t.Fatal(err)
			}
			if n := count(t, s, super(t), "human_resources", "staff"); n != 30 {
				t.Fatalf("after restoring %s: %d documents, want the snapshot's 30", p, n)
			}
		}
	})
}

// TestDiskFull fills the disk during create (directory and archive) and
// restore: the error says so, live data is as it was, and nothing
// partial is listed as a good snapshot or left in the data directory.
func TestDiskFull(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	bulk(t, s, "human_resources", "staff", "s", 0, 50)
	live := liveState(t, s)
	for _, c := range []struct {
		name, out, match string
	}{
		{"directory, manifest", "", snapshot.ManifestName},
		{"directory, index copy", "", ".zap"},
		{"zst archive", "full.tar.zst", ".tmp-"},
		{"gz archive", "full.tar.gz", ".tmp-"},
	} {
		t.Run("create "+c.name, func(t *testing.T) {
			repo := t.TempDir()
			out := repo
			if c.out != "" {
				out = filepath.Join(repo, c.out)
			}
			_, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: out, Name: "full", Tenant: "human_resources", Wrap: fullDisk(c.match, 100)})
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("error %v, want ENOSPC", err)
			}
			ents, _ := os.ReadDir(repo)
			if len(ents) != 0 {
				var names []string
				for _, e := range ents {
					names = append(names, e.Name())
				}
				t.Fatalf("left in the repository: %v", names)
			}
			if got := liveState(t, s); got != live {
				t.Fatalf("live data changed:\n got %s\nwant %s", got, live)
			}
		})
	}
	snap, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: t.TempDir(), Name: "ok", Tenant: "human_resources"})
	if err != nil {
		t.Fatal(err)
	}
	bulk(t, s, "human_resources", "staff", "after", 0, 7)
	live = liveState(t, s)
	for _, c := range []struct {
		name string
		opts snapshot.RestoreOptions
	}{
		{"restore with overwrite", snapshot.RestoreOptions{Overwrite: true}},
		{"clone", snapshot.RestoreOptions{As: "hr_full", Actor: adminActor}},
	} {
		t.Run(c.name+" refused before staging", func(t *testing.T) {
			defer snapshot.SetFreeSpace(1 << 20)()
			_, err := snapshot.Restore(ctx, snap.Path, instanceOf(t, s), c.opts)
			if !errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "/") {
				t.Fatalf("error %v, want ENOSPC naming no path", err)
			}
			if got := liveState(t, s); got != live {
				t.Fatalf("live data changed:\n got %s\nwant %s", got, live)
			}
		})
		t.Run(c.name, func(t *testing.T) {
			c.opts.Wrap = fullDisk("", 4096)
			_, err := snapshot.Restore(ctx, snap.Path, instanceOf(t, s), c.opts)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("error %v, want ENOSPC", err)
			}
			if got := liveState(t, s); got != live {
				t.Fatalf("live data changed:\n got %s\nwant %s", got, live)
			}
			if r := s.Do(t, "GET", "/staff/_doc/after-3", super(t), "human_resources", nil); r.Status != 200 {
				t.Fatalf("live index does not answer: %d %s", r.Status, r.Body)
			}
		})
	}
}
