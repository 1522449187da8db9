// Package snapshot writes, lists, verifies and restores snapshots of
// tenantgate's indices: the format and the operations, no HTTP.
//
// A snapshot is a directory <repo>/<name> (or one .tar.zst or .tar.gz
// file) holding manifest.json and indices/<physical>/…, a consistent copy
// of each selected physical index taken with the back-end's online copy
// (index.Copier) while writes continue. The manifest is written last,
// and everything is written under a temporary name, synced and renamed,
// so a crash never leaves something List shows as complete. Each file
// of a copy is checksummed as the back-end writes it (one pass), on a
// goroutine of its own, and synced.
//
// Options.MaxBytesPerSec and RestoreOptions.MaxBytesPerSec pace every
// byte copied, checksummed or written (OpenSearch's
// max_snapshot_bytes_per_sec and max_restore_bytes_per_sec); a throttled
// copy also flushes its files to the disk as it goes and finishes them
// one at a time, so it leaves the disk and the cores to the gateway's
// writes.
//
// Create reads from a Source and Restore writes to a Target; Instance is
// both, over a running instance's services or over a stopped data
// directory opened with instance.Open:
//
//	src := &snapshot.Instance{Index: inst.Index, Store: inst.Store, Admin: inst.Admin, Key: key}
//	res, err := snapshot.Create(ctx, src, snapshot.Options{Out: "/backups", Name: "nightly", Tenant: "human_resources"})
//	…
//	res, err = snapshot.Restore(ctx, "/backups/nightly", src, snapshot.RestoreOptions{As: "hr_copy", Actor: actor})
package snapshot
