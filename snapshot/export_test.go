package snapshot

// SetFreeSpace makes restores see free bytes on the index disk until the
// returned function is called.
func SetFreeSpace(free uint64) (restore func()) {
	old := freeSpace
	freeSpace = func(string) (uint64, error) { return free, nil }
	return func() { freeSpace = old }
}
