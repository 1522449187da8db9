package index

import (
	"context"
	"fmt"
	"io"
	"os"
)

// CopyStats describes one copied index: what the copy holds at the point
// in time it was taken.
type CopyStats struct {
	// Files and Bytes count the files written.
	Files int
	Bytes int64
	// DocCount is the number of documents in the copy.
	DocCount uint64
	// SampleID is the id of one document of the copy ("" when it has
	// none), for canary queries against a restored copy.
	SampleID string
}

// Copier is an optional Backend ability: CopyIndex copies one physical
// index into dir (which must not exist, or be empty) consistently at one
// point in time while writes continue. Every write acknowledged before
// the call is in the copy. The copy is a complete index directory that
// Installer.InstallIndex accepts.
type Copier interface {
	CopyIndex(ctx context.Context, physical, dir string, opts CopyOptions) (CopyStats, error)
}

// CopyOptions tune Copier.CopyIndex.
type CopyOptions struct {
	// Writer, when set, is handed every file the copy writes as a stream,
	// just created and empty (rel is its slash-separated path inside
	// dir), and returns what the copy writes that file through and
	// closes in its place: it may throttle, checksum and sync the bytes,
	// and must close f. Files the back-end writes otherwise (a database
	// file it updates in place) are not handed to it: a caller that
	// checksums reads those back.
	Writer func(rel string, f *os.File) io.WriteCloser
}

// Installer is an optional Backend ability: it swaps a copied index
// directory in as a physical index.
type Installer interface {
	// StagingDir returns a new empty directory on the back-end's file
	// system, invisible to the back-end's indices, where the files of an
	// index to install are put. The caller removes it when it does not
	// install it; leftovers of a crash are removed when the back-end
	// opens.
	StagingDir(ctx context.Context) (string, error)
	// InstallIndex makes the index in dir the physical index physical,
	// atomically for readers: they see the old index or the new one,
	// never a half-written one. dir is moved, not copied; it must be on
	// the back-end's file system (see StagingDir). An existing index is
	// replaced only with overwrite (ErrExists otherwise). The index in
	// dir is opened before anything is swapped; an index that does not
	// open is refused and the old one stays.
	InstallIndex(ctx context.Context, physical, dir string, overwrite bool) error
}

// CopyIndex copies the physical index into dir through the back-end's
// Copier. ErrInvalid when the back-end cannot copy indices online.
func (s *Service) CopyIndex(ctx context.Context, physical, dir string, opts CopyOptions) (CopyStats, error) {
	c, ok := s.backend.(Copier)
	if !ok {
		return CopyStats{}, fmt.Errorf("copying index %s: the index back-end cannot copy indices online: %w", physical, ErrInvalid)
	}
	return c.CopyIndex(ctx, physical, dir, opts)
}

// Installer returns the back-end's Installer, or ErrInvalid when it has
// none.
func (s *Service) Installer() (Installer, error) {
	in, ok := s.backend.(Installer)
	if !ok {
		return nil, fmt.Errorf("the index back-end cannot install copied indices: %w", ErrInvalid)
	}
	return in, nil
}

// CheckRestore reports whether restoring the index e (installing a copy
// as e.Physical and registering e in the catalog) would be refused: the
// physical name or the owner's logical name is taken (ErrExists unless
// overwrite allows replacing that very index; ErrConflict when it belongs
// to another tenant or logical name).
func (s *Service) CheckRestore(e Entry, overwrite bool) error {
	if prev, ok := s.catalog.Entry(e.Physical); ok {
		if prev.Owner != e.Owner || prev.Logical != e.Logical {
			return &Error{Kind: ErrConflict, Type: "index_name_collision_exception", Index: e.Physical,
				Reason: fmt.Sprintf("index [%s] is taken by another tenant's index or another logical name", e.Physical)}
		}
		if !overwrite {
			return &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Index: e.Physical,
				Reason: fmt.Sprintf("index [%s] already exists; restore with overwrite to replace it", e.Physical)}
		}
		return nil
	}
	if p, ok := s.catalog.Lookup(e.Owner, e.Logical); ok {
		return &Error{Kind: ErrConflict, Type: "index_name_collision_exception", Index: e.Logical,
			Reason: fmt.Sprintf("index [%s] of this tenant is stored as [%s], not [%s]", e.Logical, p, e.Physical)}
	}
	return nil
}
