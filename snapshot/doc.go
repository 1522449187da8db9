// Package snapshot writes, lists, verifies and restores snapshots of
// tenantgate's indices: the format and the operations, no HTTP.
//
// A snapshot is a directory <repo>/<name> (or one .tar.zst or .tar.gz
// file) holding manifest.json and indices/<physical>/…, a consistent copy
// of each selected physical index taken with the back-end's online copy
// (index.Copier) while writes continue. The manifest is written last,
// and everything is written under a temporary name, synced and renamed,
// so a crash never leaves something List shows as complete.
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
