package bleve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/blevesearch/bleve/v2"
	bleveindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

var (
	_ index.Copier    = (*Backend)(nil)
	_ index.Installer = (*Backend)(nil)
)

// onlineCopier is Bleve's online copy of an index (bleve's indexImpl has
// it; the bleve.Index interface does not declare it).
type onlineCopier interface {
	CopyTo(d bleveindex.Directory) error
}

// stagingPrefix starts the names of StagingDir's directories. It starts
// with trashPrefix, so the directories of a crash are removed when the
// Backend opens, and validName refuses it, so no index is named so.
const stagingPrefix = trashPrefix + "staging-"

// CopyIndex copies the index name into dir with Bleve's online copy: a
// consistent point-in-time copy of the index's current snapshot (its
// segments, the root bolt with the mapping and seq_no tenantgate keeps
// inside, and the index metadata) while writes go on. The index is pinned
// meanwhile, so it is not closed under the copy. dir must not exist or be
// empty; on failure it is removed. The stats count the copy's files and
// documents, read back from the copy opened read-only.
//
// With opts.Writer, every file Bleve streams into the copy (segments and
// the index metadata) is written through it; Bleve's root bolt file is
// not, as Bleve opens it by name and writes it as a database.
func (b *Backend) CopyIndex(ctx context.Context, name, dir string, opts index.CopyOptions) (st index.CopyStats, err error) {
	if err := validName(name); err != nil {
		return st, err
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return st, fmt.Errorf("copying index %q: %s is not empty: %w", name, dir, index.ErrExists)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return st, fmt.Errorf("copying index %q: %w", name, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if err := ctx.Err(); err != nil {
		return st, err
	}
	h, release, err := b.acquire(ctx, name)
	if err != nil {
		return st, err
	}
	err = func() (err error) {
		defer release()
		defer recoverErr(&err, "copying index "+name)
		c, ok := h.idx.(onlineCopier)
		if !ok {
			return fmt.Errorf("this Bleve index cannot be copied online: %w", index.ErrInvalid)
		}
		return c.CopyTo(copyDir{dir: dir, writer: opts.Writer})
	}()
	if err != nil {
		return st, fmt.Errorf("copying index %q: %w", name, err)
	}
	if st.DocCount, st.SampleID, err = inspectCopy(dir); err != nil {
		return st, fmt.Errorf("copying index %q: the copy does not open: %w", name, err)
	}
	err = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st.Files++
		st.Bytes += info.Size()
		return nil
	})
	return st, err
}

// copyDir is the bleveindex.Directory of a copy: Bleve's
// FileSystemDirectory, with the files streamed into it handed to writer.
type copyDir struct {
	dir    string
	writer func(rel string, f *os.File) io.WriteCloser
}

// GetWriter creates the file rel (slash- or OS-separated, relative to the
// copy's directory) and its parent directories. Bleve requires the
// *os.File itself for its bolt files, which it opens again by name.
func (d copyDir) GetWriter(rel string) (io.WriteCloser, error) {
	p := filepath.Join(d.dir, filepath.FromSlash(rel))
	if !within(p, d.dir) {
		return nil, fmt.Errorf("copy file %q is outside the copy", rel)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if d.writer == nil || strings.HasSuffix(p, ".bolt") {
		return f, nil
	}
	return d.writer(filepath.ToSlash(rel), f), nil
}

// within reports whether p lies below dir.
func within(p, dir string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != "." && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
}

// inspectCopy opens the index at dir read-only and returns its document
// count and the id of one document, checking that tenantgate's state
// inside it reads.
func inspectCopy(dir string) (n uint64, sample string, err error) {
	defer recoverErr(&err, "opening index copy")
	idx, err := bleve.OpenUsing(dir, map[string]any{"read_only": true})
	if err != nil {
		return 0, "", err
	}
	defer func() {
		if cerr := idx.Close(); err == nil {
			err = cerr
		}
	}()
	if _, _, err := loadState(idx); err != nil {
		return 0, "", err
	}
	if n, err = idx.DocCount(); err != nil {
		return 0, "", err
	}
	if n > 0 {
		req := bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), 1, 0, false)
		res, err := idx.Search(req)
		if err != nil {
			return 0, "", err
		}
		if len(res.Hits) > 0 {
			sample = res.Hits[0].ID
		}
	}
	return n, sample, nil
}

// StagingDir returns a new empty directory inside the Backend's
// directory, for an index to install with InstallIndex.
func (b *Backend) StagingDir(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp(b.dir, stagingPrefix+"*")
	if err != nil {
		return "", fmt.Errorf("creating a staging directory: %w", err)
	}
	return dir, nil
}

// InstallIndex makes the index in dir the index name. It first opens dir
// read-only (an index that does not open, or lacks tenantgate's state, is
// refused); then it waits for the operations in progress on name, stops
// new ones, closes it, moves its directory aside, moves dir in and syncs
// the Backend's directory. Operations that waited open the new index: a
// reader sees the old index or the new one, never a mix. When moving dir
// in fails the old index is put back. An existing index is replaced only
// with overwrite.
func (b *Backend) InstallIndex(ctx context.Context, name, dir string, overwrite bool) error {
	if err := validName(name); err != nil {
		return err
	}
	if _, _, err := inspectCopy(dir); err != nil {
		return fmt.Errorf("installing index %q: %s does not hold an index that opens: %w", name, dir, err)
	}
	e, h, err := b.claim(ctx, name)
	if err != nil {
		return fmt.Errorf("installing index %q: %w", name, err)
	}
	defer func() {
		b.mu.Lock()
		delete(b.entries, e.name)
		b.broadcastLocked()
		b.mu.Unlock()
	}()
	// The claimed entry is forgotten when done, so its handle is closed
	// in every case; the next operation opens the index again.
	if h != nil {
		if cerr := h.close(); cerr != nil {
			b.log.Error("closing index before install", "index", name, "error", cerr)
		}
	}
	path := b.path(name)
	_, statErr := os.Stat(path)
	exists := statErr == nil
	if exists && !overwrite {
		return existsError(name)
	}
	var aside string
	if exists {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		aside = filepath.Join(b.dir, trashPrefix+hex.EncodeToString(rnd[:]))
		if err := os.Rename(path, aside); err != nil {
			return fmt.Errorf("installing index %q: %w", name, err)
		}
	}
	if err := os.Rename(dir, path); err != nil {
		if aside != "" {
			if rerr := os.Rename(aside, path); rerr != nil {
				b.log.Error("putting the old index back after a failed install", "index", name, "error", rerr)
			}
		}
		return fmt.Errorf("installing index %q: %w", name, err)
	}
	if err := syncDir(b.dir); err != nil {
		b.log.Warn("syncing the index directory after install", "index", name, "error", err)
	}
	if aside != "" {
		if err := os.RemoveAll(aside); err != nil {
			b.log.Warn("removing the replaced index", "index", name, "error", err)
		}
	}
	return nil
}

// claim waits until the index name is neither pinned nor opening nor
// closing, stopping new pins meanwhile, and returns its entry marked
// closing (with its open handle, or nil when it was not open). The
// caller closes the handle and forgets the entry when done.
func (b *Backend) claim(ctx context.Context, name string) (*entry, *handle, error) {
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return nil, nil, index.ErrClosed
		}
		e, ok := b.entries[name]
		if !ok {
			e = &entry{name: name, state: stateClosing}
			b.entries[name] = e
			b.mu.Unlock()
			return e, nil, nil
		}
		if e.state == stateOpen && e.pins == 0 {
			e.state = stateClosing
			b.lru.Remove(e.elem)
			e.elem = nil
			e.deleting = false
			b.mu.Unlock()
			return e, e.h, nil
		}
		if e.state == stateOpen {
			e.deleting = true
		}
		if err := b.waitLocked(ctx); err != nil {
			if e.deleting && b.entries[name] == e {
				e.deleting = false
				b.broadcastLocked()
			}
			b.mu.Unlock()
			return nil, nil, err
		}
	}
}

// syncDir fsyncs a directory, so renames in it are durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, os.ErrInvalid) {
		return nil
	}
	return err
}
