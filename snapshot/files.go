package snapshot

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Archive kinds, by file name.
const (
	kindDir = ""
	kindZst = ".tar.zst"
	kindGz  = ".tar.gz"
)

// archiveKind returns the archive kind of a path (kindDir for anything
// that is not a .tar.zst or .tar.gz file name).
func archiveKind(p string) string {
	switch {
	case strings.HasSuffix(p, kindZst):
		return kindZst
	case strings.HasSuffix(p, kindGz):
		return kindGz
	case strings.HasSuffix(p, ".tgz"):
		return kindGz
	}
	return kindDir
}

// tmpMarker is in the name of every snapshot being written.
const tmpMarker = ".tmp-"

// indicesDir is the directory of the index copies inside a snapshot.
const indicesDir = "indices"

// memberName is the slash-separated name of an index file inside a
// snapshot.
func memberName(physical, rel string) string { return indicesDir + "/" + physical + "/" + rel }

// randomSuffix returns 8 random hex digits.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// writeFile writes data to path through wrap and syncs it.
func writeFile(p string, data []byte, wrap WrapWriter) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	var w io.Writer = f
	if wrap != nil {
		w = wrap(p, f)
	}
	_, err = w.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so the names in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// hashTree returns every file under dir with its size and SHA-256,
// sorted by path, and syncs every directory. known holds the files
// already hashed and synced as they were written (by slash-separated
// path): one whose size on disk is still the size written is taken as
// it is. Every other file (those the back-end wrote itself, such as
// Bleve's root bolt file) is read back at lim's rate, hashed and synced,
// by a few workers at once (one when throttled), so hashing one overlaps
// with waiting for the disk on another.
func hashTree(ctx context.Context, dir string, known map[string]FileEntry, lim *limiter) ([]FileEntry, int64, error) {
	var files []FileEntry
	var todo []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if fe, ok := known[filepath.ToSlash(rel)]; ok {
			if info, err := d.Info(); err == nil && info.Size() == fe.Size {
				files = append(files, fe)
				return nil
			}
		}
		todo = append(todo, p)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	workers := hashWorkers
	if lim != nil {
		workers = 1
	}
	hashed := make([]FileEntry, len(todo))
	errs := make([]error, len(todo))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				hashed[i], errs[i] = hashFile(ctx, dir, todo[i], lim)
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	if err := syncTree(dir); err != nil {
		return nil, 0, err
	}
	files = append(files, hashed...)
	var total int64
	for _, f := range files {
		total += f.Size
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, total, nil
}

// hashWorkers is how many files are hashed and synced at once when not
// throttled.
const hashWorkers = 4

// hashFile hashes and syncs one file of the tree at dir, reading it at
// lim's rate.
func hashFile(ctx context.Context, dir, p string, lim *limiter) (FileEntry, error) {
	rel, err := filepath.Rel(dir, p)
	if err != nil {
		return FileEntry{}, err
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return FileEntry{}, err
	}
	h := sha256.New()
	var n int64
	if lim == nil {
		n, err = io.Copy(h, f)
	} else {
		n, err = io.CopyBuffer(h, &pacedReader{ctx: ctx, lim: lim, r: f}, make([]byte, chunkSize))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return FileEntry{Path: filepath.ToSlash(rel), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

// safeRel checks a slash-separated relative path from a manifest or an
// archive: no absolute path, no "..", nothing that leaves its directory.
func safeRel(rel string) error {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.Contains(rel, "\\") || path.Clean(rel) != rel || rel == "." ||
		rel == ".." || strings.HasPrefix(rel, "../") {
		return fmt.Errorf("unsafe path %q: %w", rel, ErrCorrupt)
	}
	return nil
}

// sink copies into a file and a SHA-256 at once, counting the bytes.
type sink struct {
	f   *os.File
	w   io.Writer
	sum hashWriter
	n   int64
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
}

// createSink creates the file p (and its parent directories) for
// writing through wrap.
func createSink(p string, wrap WrapWriter) (*sink, error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	s := &sink{f: f, w: f, sum: sha256.New()}
	if wrap != nil {
		s.w = wrap(p, f)
	}
	return s, nil
}

// Write writes to the file and the hash.
func (s *sink) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.sum.Write(p[:n])
	s.n += int64(n)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

// close syncs and closes the file and returns its SHA-256 in hex.
func (s *sink) close() (string, error) {
	err := s.f.Sync()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return hex.EncodeToString(s.sum.Sum(nil)), err
}

// abort closes the file without caring for errors.
func (s *sink) abort() { _ = s.f.Close() }

// syncTree fsyncs every directory under dir (files are synced as they
// are written).
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

// isNotExist reports a missing file.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// bytesReader returns a reader of b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
