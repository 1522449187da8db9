package control

import (
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Bucket names. Other packages keep their own buckets in the same file
// (index.Catalog: "indices", "templates"; audit.Trail: "audit") and must
// not use these.
var (
	bucketTenants       = []byte("tenants")
	bucketUsers         = []byte("users")
	bucketGroups        = []byte("groups")
	bucketRoles         = []byte("roles")
	bucketMappings      = []byte("rolesmapping")
	bucketTokens        = []byte("tokens")
	bucketTokensByOwner = []byte("tokens_by_owner")
	bucketSettings      = []byte("settings")

	allBuckets = [][]byte{
		bucketTenants, bucketUsers, bucketGroups, bucketRoles,
		bucketMappings, bucketTokens, bucketTokensByOwner, bucketSettings,
	}
)

// openTimeout bounds the wait for the file lock another process holds.
const openTimeout = 5 * time.Second

// Store is the control-plane store: one bbolt file holding tenants,
// users and service accounts, groups, roles, role mappings, API tokens
// and the tenancy settings. It is safe for concurrent use; bbolt allows
// one writing transaction at a time and any number of readers.
type Store struct {
	db *bbolt.DB
}

// Open opens the store at path, creating the file (mode 0600) and its
// buckets when they do not exist. It waits at most 5 seconds for another
// process to release the file.
func Open(path string) (*Store, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: openTimeout})
	if err != nil {
		return nil, fmt.Errorf("opening control store %s: %w", path, err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return fmt.Errorf("creating bucket %s: %w", b, err)
			}
		}
		return ensureInstanceID(tx)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening control store %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the file. Transactions still running are waited for.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the underlying database, so other packages can keep their
// own buckets in the same file and join its transactions through
// Tx.Bolt. They must not touch the store's buckets.
func (s *Store) DB() *bbolt.DB { return s.db }

// Update runs fn in a read-write transaction. When fn returns an error
// (or panics) nothing it wrote is kept and the error is returned as is;
// otherwise the transaction is committed and synced to disk.
func (s *Store) Update(fn func(*Tx) error) error {
	return s.db.Update(func(tx *bbolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// View runs fn in a read-only transaction that sees one consistent state
// of the store. Writes in it fail.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(tx *bbolt.Tx) error { return fn(&Tx{tx: tx}) })
}

// Tx is a transaction of the store, valid only inside the Update or View
// closure that received it.
type Tx struct {
	tx *bbolt.Tx
}

// Bolt returns the underlying bbolt transaction, so another package (the
// audit trail) can write its own buckets in the same transaction.
func (t *Tx) Bolt() *bbolt.Tx { return t.tx }
