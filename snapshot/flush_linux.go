//go:build linux && (amd64 || arm64)

package snapshot

import (
	"os"
	"syscall"
)

// flushRange writes the n bytes of f at off to the disk and waits for
// them (sync_file_range(2)): the data only, without the journal commit
// of an fsync, which would make every fsync of the gateway's writes
// meanwhile wait for it. The file's final fsync makes it durable.
func flushRange(f *os.File, off, n int64) error {
	const flags = 1 | 2 | 4 // SYNC_FILE_RANGE_WAIT_BEFORE | _WRITE | _WAIT_AFTER
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		_, _, e := syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n), flags, 0, 0)
		if e != 0 {
			serr = &os.SyscallError{Syscall: "sync_file_range", Err: e}
		}
	}); err != nil {
		return err
	}
	return serr
}
