package control_test

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/tenantgate/tenantgate/control"
)

// openStore opens a store in a fresh temporary directory.
func openStore(t *testing.T) *control.Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "control.db"))
}

// openAt opens the store at path. On cleanup it checks the file's
// consistency and closes the store, unless the test closed it already.
func openAt(t *testing.T, path string) *control.Store {
	t.Helper()
	st, err := control.Open(path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		err := st.DB().View(func(tx *bbolt.Tx) error {
			for err := range tx.Check() {
				t.Errorf("consistency check: %v", err)
			}
			return nil
		})
		if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
			return
		}
		if err != nil {
			t.Errorf("consistency check: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// update runs fn in a read-write transaction and fails the test on error.
func update(t *testing.T, st *control.Store, fn func(*control.Tx) error) {
	t.Helper()
	if err := st.Update(fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// view runs fn in a read-only transaction and fails the test on error.
func view(t *testing.T, st *control.Store, fn func(*control.Tx) error) {
	t.Helper()
	if err := st.View(fn); err != nil {
		t.Fatalf("View: %v", err)
	}
}

var (
	hashOnce sync.Once
	hash     string
)

// bcryptHash returns a valid bcrypt hash (computed once, at the lowest
// cost).
func bcryptHash(t *testing.T) string {
	t.Helper()
	hashOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
		if err != nil {
			panic(err)
		}
		hash = string(h)
	})
	return hash
}

// at returns a fixed instant, d after a reference time, in UTC.
func at(d time.Duration) time.Time {
	return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).Add(d)
}
