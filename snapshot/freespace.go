package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// errFreeUnknown is diskFree's answer where the platform cannot tell.
var errFreeUnknown = errors.New("free space unknown on this platform")

// freeSpace returns the bytes an unprivileged writer may still write on
// the file system holding dir; a variable so that tests can stand for a
// nearly full disk.
var freeSpace = diskFree

// restoreHeadroom is what a restore leaves free on the back-end's disk
// beyond what it stages: the live gateway keeps writing meanwhile.
func restoreHeadroom(total int64) int64 { return max(64<<20, total/20) }

// checkFreeSpace refuses, before anything is staged, a restore whose
// files would not fit on the back-end's file system with headroom to
// spare, so that a (possibly forged) snapshot cannot fill the disk under
// the live gateway. The error wraps syscall.ENOSPC and names no path.
func checkFreeSpace(ctx context.Context, dst Target, total int64) error {
	dir, err := dst.StagingDir(ctx)
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	free, err := freeSpace(dir)
	if errors.Is(err, errFreeUnknown) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking the free space for the restore: %w", err)
	}
	need := total + restoreHeadroom(total)
	if free < uint64(need) {
		return fmt.Errorf("the restore needs %d MB on the index disk (%d MB of files and %d MB to spare) and %d MB are free: %w",
			need>>20, total>>20, restoreHeadroom(total)>>20, free>>20, syscall.ENOSPC)
	}
	return nil
}
