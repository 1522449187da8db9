package audit

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// openDB opens a bbolt file under dir and, on cleanup, closes it after
// checking bbolt's own consistency and the trail's: every record has its
// tenant index entry and every index entry its record.
func openDB(t *testing.T, path string) *bbolt.DB {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if db.Path() == "" { // closed by the test
			return
		}
		checkDB(t, db)
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

func checkDB(t *testing.T, db *bbolt.DB) {
	t.Helper()
	err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		records, index := tx.Bucket(recordsBucket), tx.Bucket(tenantsBucket)
		if records == nil || index == nil {
			return nil
		}
		n := 0
		err := records.ForEach(func(k, v []byte) error {
			var r Record
			if err := json.Unmarshal(v, &r); err != nil {
				t.Errorf("record %x: %v", k, err)
				return nil
			}
			if index.Get(indexKey(r.Tenant, k)) == nil {
				t.Errorf("record %x of tenant %q is not in the tenant index", k, r.Tenant)
			}
			n++
			return nil
		})
		if err != nil {
			return err
		}
		if got := index.Stats().KeyN; got != n {
			t.Errorf("tenant index has %d entries for %d records", got, n)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// newTrail opens a database in a temporary directory and a Trail on it,
// both closed on cleanup.
func newTrail(t *testing.T, opts Options) (*Trail, *bbolt.DB) {
	t.Helper()
	db := openDB(t, filepath.Join(t.TempDir(), "control.db"))
	return startTrail(t, db, opts), db
}

func startTrail(t *testing.T, db *bbolt.DB, opts Options) *Trail {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	tr, err := NewTrail(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Error(err)
		}
	})
	return tr
}

// testLogger logs to the test's output, shown when it fails or runs with
// -v.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// appendOne appends r in its own committed transaction.
func appendOne(t *testing.T, tr *Trail, db *bbolt.DB, r Record) Record {
	t.Helper()
	err := db.Update(func(tx *bbolt.Tx) error { return tr.AppendTx(tx, &r) })
	if err != nil {
		t.Fatalf("AppendTx(%+v): %v", r, err)
	}
	return r
}

// query runs f and fails the test on error.
func query(t *testing.T, tr *Trail, f Filter) Page {
	t.Helper()
	p, err := tr.Query(f)
	if err != nil {
		t.Fatalf("Query(%+v): %v", f, err)
	}
	return p
}

// rawContains reports whether any stored byte sequence of the trail
// contains s.
func rawContains(t *testing.T, db *bbolt.DB, s string) bool {
	t.Helper()
	found := false
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(recordsBucket).ForEach(func(_, v []byte) error {
			if bytes.Contains(v, []byte(s)) {
				found = true
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func ptr(s string) *string { return &s }
