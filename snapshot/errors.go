package snapshot

import "errors"

// Sentinel errors. Wrap them with %w and match them with errors.Is.
var (
	// ErrNotFound means the snapshot, or an index or tenant it should
	// hold, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the snapshot, or an index or tenant a restore
	// would create, already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid means the request is malformed (bad name, pattern or
	// option combination).
	ErrInvalid = errors.New("invalid request")
	// ErrCorrupt means the snapshot is incomplete, truncated, tampered
	// with or misses a file: its content does not match its manifest.
	ErrCorrupt = errors.New("snapshot is corrupt")
	// ErrFormat means the snapshot has a format version this tool does
	// not read.
	ErrFormat = errors.New("unsupported snapshot format")
	// ErrNoKey means a clone would have to re-seal namespace secrets but
	// no secrets.encryption_key is configured.
	ErrNoKey = errors.New("no secrets key")
	// ErrVerify means an index does not answer as its manifest says
	// (document count or canary query) after it was opened or restored.
	ErrVerify = errors.New("verification failed")
)
