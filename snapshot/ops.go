package snapshot

import (
	"context"
	"errors"
)

var errNotYet = errors.New("snapshot: not implemented yet")

// Create writes a snapshot of the indices src holds that opts selects,
// each copied consistently while writes continue: every write
// acknowledged before Create was called is in it. The snapshot appears
// under its final name only when complete.
func Create(ctx context.Context, src Source, opts Options) (*Result, error) {
	return nil, errNotYet
}

// List returns the snapshots in the repository directory dir (snapshot
// directories and .tar.zst/.tar.gz files), sorted by name, marking those
// that are not complete (an interrupted write, a manifest that does not
// parse or whose checksum fails).
func List(dir string) ([]Info, error) {
	return nil, errNotYet
}

// ReadManifest reads and checks the manifest of the snapshot at path (a
// directory or archive): format version and checksum, not the files.
func ReadManifest(path string) (*Manifest, error) {
	return nil, errNotYet
}

// Verify checks the snapshot at path: the manifest, every file's size
// and SHA-256, then opens every index from a temporary copy and runs the
// canary queries (the document count, and the sample document found by
// its id).
func Verify(ctx context.Context, path string, opts Options) (*Result, error) {
	return nil, errNotYet
}

// Restore restores the snapshot at path into dst: it refuses existing
// indices unless opts.Overwrite, checks every file, stages the indices on
// dst's file system, swaps them in atomically, registers them and the
// control-plane records, and verifies the restored indices against the
// manifest. A refused or failed restore leaves live data as it was
// (except indices an Overwrite already replaced).
func Restore(ctx context.Context, path string, dst Target, opts RestoreOptions) (*Result, error) {
	return nil, errNotYet
}

// Delete removes the snapshot at path (directory or archive).
func Delete(path string) error {
	return errNotYet
}
