package snapshot

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// maxManifest bounds the size of a manifest read into memory.
const maxManifest = 256 << 20

// ReadManifest reads and checks the manifest of the snapshot at path (a
// directory or a .tar.zst/.tar.gz file): its format version (ErrFormat)
// and checksum (ErrCorrupt), not the files. A snapshot that was not
// written completely is ErrCorrupt, a missing one ErrNotFound.
func ReadManifest(path string) (*Manifest, error) {
	if strings.Contains(filepath.Base(path), tmpMarker) {
		return nil, fmt.Errorf("snapshot %s is incomplete (an interrupted write): %w", path, ErrCorrupt)
	}
	st, err := os.Stat(path)
	if err != nil {
		if isNotExist(err) {
			return nil, fmt.Errorf("snapshot %s: %w", path, ErrNotFound)
		}
		return nil, err
	}
	var raw []byte
	if st.IsDir() {
		raw, err = os.ReadFile(filepath.Join(path, ManifestName))
		if isNotExist(err) {
			return nil, fmt.Errorf("snapshot %s has no %s (incomplete): %w", path, ManifestName, ErrCorrupt)
		}
		if err != nil {
			return nil, err
		}
	} else {
		if archiveKind(path) == kindDir {
			return nil, fmt.Errorf("%s is neither a snapshot directory nor a .tar.zst or .tar.gz file: %w", path, ErrInvalid)
		}
		err = readArchive(path, func(name string, size int64, r io.Reader) error {
			if name != ManifestName {
				return nil
			}
			if size > maxManifest {
				return fmt.Errorf("the manifest is too large: %w", ErrCorrupt)
			}
			raw, err = io.ReadAll(r)
			return err
		})
		if err != nil {
			return nil, err
		}
		if raw == nil {
			return nil, fmt.Errorf("snapshot %s has no %s (incomplete or truncated): %w", path, ManifestName, ErrCorrupt)
		}
	}
	m, err := decodeManifest(raw)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", path, err)
	}
	return m, nil
}

// extract copies the files of the indices sel names (every index when
// sel is nil) from the snapshot at path, whose manifest is m, into the
// directories dest returns for them, checking every file's size and
// SHA-256 against m as it is written, and syncing files and directories.
// progress, when set, gets the bytes of each file written.
func extract(ctx context.Context, path string, m *Manifest, sel map[string]bool, dest func(physical string) (string, error), wrap WrapWriter, progress func(physical string, n int64)) error {
	want := map[string]map[string]FileEntry{}
	for _, ie := range m.Indices {
		if sel != nil && !sel[ie.Physical] {
			continue
		}
		files := map[string]FileEntry{}
		for _, f := range ie.Files {
			files[f.Path] = f
		}
		want[ie.Physical] = files
	}
	dirs := map[string]string{}
	dirOf := func(physical string) (string, error) {
		if d, ok := dirs[physical]; ok {
			return d, nil
		}
		d, err := dest(physical)
		if err != nil {
			return "", err
		}
		dirs[physical] = d
		return d, nil
	}
	done := map[string]bool{}
	copyOne := func(physical string, fe FileEntry, r io.Reader) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, err := dirOf(physical)
		if err != nil {
			return err
		}
		s, err := createSink(filepath.Join(d, filepath.FromSlash(fe.Path)), wrap)
		if err != nil {
			return fmt.Errorf("restoring %s of index %s: %w", fe.Path, physical, err)
		}
		_, err = io.Copy(s, io.LimitReader(r, fe.Size+1))
		if err != nil {
			s.abort()
			return fmt.Errorf("restoring %s of index %s: %w", fe.Path, physical, err)
		}
		sum, err := s.close()
		if err != nil {
			return fmt.Errorf("restoring %s of index %s: %w", fe.Path, physical, err)
		}
		if s.n != fe.Size {
			return fmt.Errorf("file %s of index %s has %d bytes, the manifest says %d (truncated or tampered with): %w", fe.Path, physical, s.n, fe.Size, ErrCorrupt)
		}
		if sum != fe.SHA256 {
			return fmt.Errorf("file %s of index %s does not match its checksum (tampered with or damaged): %w", fe.Path, physical, ErrCorrupt)
		}
		done[memberName(physical, fe.Path)] = true
		if progress != nil {
			progress(physical, fe.Size)
		}
		return nil
	}
	if archiveKind(path) == kindDir {
		for _, ie := range m.Indices {
			if want[ie.Physical] == nil {
				continue
			}
			if _, err := dirOf(ie.Physical); err != nil {
				return err
			}
			for _, fe := range ie.Files {
				f, err := openInside(path, indicesDir+"/"+ie.Physical+"/"+fe.Path)
				if isNotExist(err) {
					return fmt.Errorf("snapshot %s misses file %s of index %s: %w", path, fe.Path, ie.Physical, ErrCorrupt)
				}
				if err != nil {
					return err
				}
				err = copyOne(ie.Physical, fe, f)
				f.Close()
				if err != nil {
					return err
				}
			}
		}
	} else {
		err := readArchive(path, func(name string, size int64, r io.Reader) error {
			rest, ok := strings.CutPrefix(name, indicesDir+"/")
			if !ok {
				return nil
			}
			physical, rel, ok := strings.Cut(rest, "/")
			if !ok {
				return nil
			}
			fe, ok := want[physical][rel]
			if !ok {
				return nil
			}
			if done[name] {
				return fmt.Errorf("snapshot %s holds %s twice: %w", path, name, ErrCorrupt)
			}
			return copyOne(physical, fe, r)
		})
		if err != nil {
			return err
		}
		for physical, files := range want {
			if _, err := dirOf(physical); err != nil {
				return err
			}
			for rel := range files {
				if !done[memberName(physical, rel)] {
					return fmt.Errorf("snapshot %s misses file %s of index %s: %w", path, rel, physical, ErrCorrupt)
				}
			}
		}
	}
	for _, d := range dirs {
		if err := syncTree(d); err != nil {
			return err
		}
	}
	return nil
}

// openInside opens the regular file rel (slash-separated) of the
// snapshot directory root, refusing a symbolic link on the way: a
// snapshot's files are its own, not another tenant's live index files
// or anything else on the server that a link could point at.
func openInside(root, rel string) (*os.File, error) {
	p := root
	for _, part := range strings.Split(rel, "/") {
		p = filepath.Join(p, part)
		st, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		if st.Mode()&os.ModeSymlink != 0 {
			return nil, fmt.Errorf("snapshot %s: %s is a symbolic link: %w", root, rel, ErrCorrupt)
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("snapshot %s: %s is not a regular file: %w", root, rel, ErrCorrupt)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
