package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// List returns the snapshots in the repository directory dir (snapshot
// directories and .tar.zst/.tar.gz files), sorted by name. Each is
// Complete only when its manifest parses, has a format version this
// package reads and its checksum holds; the others (an interrupted or
// failed write, a truncated archive, a damaged manifest) are listed with
// the Problem. In a snapshot directory every file must exist with the
// size the manifest gives; their content is not read (Verify does that,
// and checks archives' files).
func List(dir string) ([]Info, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if isNotExist(err) {
			return nil, fmt.Errorf("repository %s: %w", dir, ErrNotFound)
		}
		return nil, err
	}
	out := []Info{}
	for _, d := range ents {
		name := d.Name()
		p := filepath.Join(dir, name)
		kind := archiveKind(name)
		if !d.IsDir() && kind == kindDir && !strings.Contains(name, tmpMarker) {
			continue
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			continue
		}
		if strings.HasPrefix(name, "tenantgate-verify-") {
			continue
		}
		in := Info{Name: displayName(name), Path: p}
		if m, err := ReadManifest(p); err != nil {
			in.Problem = err.Error()
			if errors.Is(err, ErrInvalid) {
				continue
			}
		} else if d.IsDir() {
			if err := statFiles(p, m); err != nil {
				in.Problem = err.Error()
			} else {
				in.Complete, in.Manifest = true, m
			}
		} else {
			in.Complete, in.Manifest = true, m
		}
		out = append(out, in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// displayName is the snapshot name a directory entry stands for.
func displayName(base string) string {
	base = strings.TrimPrefix(base, ".")
	if i := strings.Index(base, tmpMarker); i >= 0 {
		base = base[:i]
	}
	for _, suf := range []string{kindZst, kindGz, ".tgz"} {
		base = strings.TrimSuffix(base, suf)
	}
	return base
}

// Delete removes the snapshot at path: a snapshot directory (one with a
// manifest, or one left by an interrupted write) or archive file.
// Anything else is refused with ErrInvalid, so a mistyped path does not
// remove an unrelated directory.
func Delete(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		if isNotExist(err) {
			return fmt.Errorf("snapshot %s: %w", path, ErrNotFound)
		}
		return err
	}
	if !st.IsDir() {
		if archiveKind(path) == kindDir && !strings.Contains(filepath.Base(path), tmpMarker) {
			return fmt.Errorf("%s is not a snapshot: %w", path, ErrInvalid)
		}
		return os.Remove(path)
	}
	if _, err := os.Stat(filepath.Join(path, ManifestName)); err != nil && !strings.Contains(filepath.Base(path), tmpMarker) {
		if _, ierr := os.Stat(filepath.Join(path, indicesDir)); ierr != nil {
			return fmt.Errorf("%s is not a snapshot directory: %w", path, ErrInvalid)
		}
	}
	// Rename first so a crash does not leave a half-removed snapshot that
	// still looks complete.
	trash := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+tmpMarker+"deleted-"+randomSuffix())
	if err := os.Rename(path, trash); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// statFiles checks that every file the manifest lists exists in the
// snapshot directory dir with its size.
func statFiles(dir string, m *Manifest) error {
	for _, ie := range m.Indices {
		for _, f := range ie.Files {
			st, err := os.Stat(filepath.Join(dir, indicesDir, ie.Physical, filepath.FromSlash(f.Path)))
			switch {
			case isNotExist(err):
				return fmt.Errorf("snapshot %s misses file %s of index %s: %w", dir, f.Path, ie.Physical, ErrCorrupt)
			case err != nil:
				return err
			case st.Size() != f.Size:
				return fmt.Errorf("file %s of index %s has %d bytes, the manifest says %d (truncated or tampered with): %w", f.Path, ie.Physical, st.Size(), f.Size, ErrCorrupt)
			}
		}
	}
	return nil
}
