//go:build unix

package snapshot

import "syscall"

// diskFree returns the bytes available to an unprivileged writer on the
// file system holding dir.
func diskFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
