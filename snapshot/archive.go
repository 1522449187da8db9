package snapshot

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
)

// writeArchive writes the snapshot staged in dir (whose manifest is
// manifest, already encoded as raw) as a tar archive compressed as kind
// into out: a temporary file beside it, synced and renamed, so out
// appears only complete. The index files come first and the manifest
// last, so a truncated archive has none.
func writeArchive(dir, out, kind string, m *Manifest, raw []byte, wrap WrapWriter, progress func(int64)) (err error) {
	tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+tmpMarker+randomSuffix())
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if wrap != nil {
		w = wrap(tmp, f)
	}
	var zw io.WriteCloser
	switch kind {
	case kindZst:
		zw, err = zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return err
		}
	default:
		zw, err = gzip.NewWriterLevel(w, gzip.BestSpeed)
		if err != nil {
			return err
		}
	}
	tw := tar.NewWriter(zw)
	now := m.Created
	if now.IsZero() {
		now = time.Now()
	}
	add := func(name string, size int64, body io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: size, Mode: 0o600, ModTime: now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return err
		}
		n, err := io.Copy(tw, body)
		if err == nil && n != size {
			err = fmt.Errorf("%s changed while it was archived", name)
		}
		return err
	}
	for _, ie := range m.Indices {
		for _, fe := range ie.Files {
			src, err := os.Open(filepath.Join(dir, indicesDir, ie.Physical, filepath.FromSlash(fe.Path)))
			if err != nil {
				return fmt.Errorf("writing %s: %w", out, err)
			}
			err = add(memberName(ie.Physical, fe.Path), fe.Size, src)
			src.Close()
			if err != nil {
				return fmt.Errorf("writing %s: %w", out, err)
			}
			if progress != nil {
				progress(fe.Size)
			}
		}
	}
	if err := add(ManifestName, int64(len(raw)), bytesReader(raw)); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("snapshot %s: %w", out, ErrExists)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fmt.Errorf("writing %s: %w", out, err)
	}
	return syncDir(filepath.Dir(out))
}

// maxZstdWindow is the largest zstd window readArchive accepts.
const maxZstdWindow = 64 << 20

// readArchive calls fn for every regular file of the archive at p in
// order. Damage (a truncated or garbled stream) is ErrCorrupt.
func readArchive(p string, fn func(name string, size int64, r io.Reader) error) error {
	f, err := os.Open(p)
	if err != nil {
		if isNotExist(err) {
			return fmt.Errorf("snapshot %s: %w", p, ErrNotFound)
		}
		return err
	}
	defer f.Close()
	var r io.Reader
	switch archiveKind(p) {
	case kindZst:
		// The decoder's window is what a stream may make it allocate:
		// tenantgate writes with a far smaller one, so a larger one is
		// a crafted archive, refused rather than given 512 MiB.
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return fmt.Errorf("snapshot %s: %v: %w", p, err, ErrCorrupt)
		}
		defer zr.Close()
		r = zr
	default:
		gr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("snapshot %s is not a gzip stream (%v): %w", p, err, ErrCorrupt)
		}
		defer gr.Close()
		r = gr
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("snapshot %s is truncated or damaged (%v): %w", p, err, ErrCorrupt)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		if err := fn(h.Name, h.Size, corruptReader{tr}); err != nil {
			if errors.Is(err, ErrCorrupt) {
				return fmt.Errorf("snapshot %s is truncated or damaged: %w", p, err)
			}
			return err
		}
	}
}

// corruptReader marks every read error but io.EOF as ErrCorrupt: the
// archive, not the destination, failed.
type corruptReader struct{ r io.Reader }

// Read reads from the archive member.
func (c corruptReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return n, err
}
