package audit

import (
	"encoding/hex"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"
	"unsafe"

	"go.etcd.io/bbolt"
)

func TestAppendTxCommitsWithTheTransaction(t *testing.T) {
	c := newClock()
	tr, db := newTrail(t, Options{Clock: c.Now})
	errRollback := errors.New("rollback")

	err := db.Update(func(tx *bbolt.Tx) error {
		r := Record{Actor: "alice", Action: "tenant.create", Target: "stage", Tenant: "stage", Outcome: OutcomeSuccess}
		if err := tr.AppendTx(tx, &r); err != nil {
			t.Fatal(err)
		}
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("Update = %v, want the rollback", err)
	}
	if p := query(t, tr, Filter{}); p.Total != 0 || len(p.Results) != 0 {
		t.Fatalf("after rollback: %+v, want no records", p)
	}

	r := appendOne(t, tr, db, Record{ID: "forged", Actor: "alice", Action: "tenant.create", Target: "stage",
		Tenant: "stage", Outcome: OutcomeSuccess})
	if len(r.ID) != 32 || r.ID == "forged" {
		t.Fatalf("ID = %q, want 32 hex digits assigned by the trail", r.ID)
	}
	if _, err := hex.DecodeString(r.ID); err != nil {
		t.Fatalf("ID %q is not hex: %v", r.ID, err)
	}
	if !r.Time.Equal(c.Now()) || r.Time.Location() != time.UTC {
		t.Fatalf("Time = %v, want the clock's %v in UTC", r.Time, c.Now())
	}
	p := query(t, tr, Filter{})
	if p.Total != 1 || p.Results[0].ID != r.ID || p.Results[0].Actor != "alice" {
		t.Fatalf("after commit: %+v, want the record %s", p, r.ID)
	}
}

func TestAppendTxKeepsCallerTimeAndOrdersIDs(t *testing.T) {
	tr, db := newTrail(t, Options{})
	at := time.Date(2025, 5, 6, 7, 8, 9, 10, time.FixedZone("CEST", 2*3600))
	var ids []string
	for range 3 {
		r := appendOne(t, tr, db, Record{Action: "x", Outcome: OutcomeSuccess, Time: at})
		if !r.Time.Equal(at) {
			t.Fatalf("Time = %v, want %v", r.Time, at)
		}
		ids = append(ids, r.ID)
	}
	earlier := appendOne(t, tr, db, Record{Action: "x", Outcome: OutcomeSuccess, Time: at.Add(-time.Nanosecond)})
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("IDs of the same instant not increasing: %v", ids)
		}
	}
	if earlier.ID >= ids[0] {
		t.Fatalf("ID of an earlier record %s sorts after %s", earlier.ID, ids[0])
	}
}

func TestAppendTxRefusesMalformedRecords(t *testing.T) {
	tr, db := newTrail(t, Options{})
	other := openDB(t, filepath.Join(t.TempDir(), "other.db"))
	ok := Record{Action: "user.update", Outcome: OutcomeSuccess}
	cases := []struct {
		name string
		edit func(*Record)
		db   *bbolt.DB
	}{
		{"unknown outcome", func(r *Record) { r.Outcome = "ok" }, db},
		{"no outcome", func(r *Record) { r.Outcome = "" }, db},
		{"no action", func(r *Record) { r.Action = "" }, db},
		{"NUL in tenant", func(r *Record) { r.Tenant = "a\x00b" }, db},
		{"before 1970", func(r *Record) { r.Time = time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC) }, db},
		{"after 2262", func(r *Record) { r.Time = time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC) }, db},
		{"before not JSON", func(r *Record) { r.Before = []byte("{") }, db},
		{"after not JSON", func(r *Record) { r.After = []byte("{} {}") }, db},
		{"diff not a patch", func(r *Record) { r.Diff = []byte(`{"op":"add"}`) }, db},
		{"transaction of another database", func(*Record) {}, other},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ok
			c.edit(&r)
			err := c.db.Update(func(tx *bbolt.Tx) error { return tr.AppendTx(tx, &r) })
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("AppendTx = %v, want ErrInvalid", err)
			}
		})
	}
	if err := db.Update(func(tx *bbolt.Tx) error { return tr.AppendTx(tx, nil) }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("AppendTx(nil) = %v, want ErrInvalid", err)
	}
	if p := query(t, tr, Filter{}); p.Total != 0 {
		t.Fatalf("%d records written, want none", p.Total)
	}
}

func TestAppendTxInReadOnlyTransactionFails(t *testing.T) {
	tr, db := newTrail(t, Options{})
	err := db.View(func(tx *bbolt.Tx) error {
		return tr.AppendTx(tx, &Record{Action: "x", Outcome: OutcomeSuccess})
	})
	if err == nil {
		t.Fatal("AppendTx in a read-only transaction succeeded")
	}
}

func TestRecordIsWrittenOnFlush(t *testing.T) {
	c := newClock()
	tr, _ := newTrail(t, Options{Clock: c.Now, BatchSize: 16, FlushInterval: time.Hour})
	const goroutines, each = 8, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure, Status: 401,
					ClientIP: "10.0.0.1", Actor: string(rune('a' + g)), Target: string(rune('0' + i%10))})
			}
		})
	}
	wg.Wait()
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	p := query(t, tr, Filter{Size: MaxPageSize})
	if p.Total != goroutines*each || tr.Dropped() != 0 || tr.Failures() != 0 {
		t.Fatalf("Total %d, Dropped %d, Failures %d; want %d, 0, 0", p.Total, tr.Dropped(), tr.Failures(), goroutines*each)
	}
	if r := p.Results[0]; !r.Time.Equal(c.Now()) || r.Action != ActionAuthFailed || r.Status != 401 {
		t.Fatalf("record %+v", r)
	}
}

func TestRecordIsWrittenWithinFlushInterval(t *testing.T) {
	tr, _ := newTrail(t, Options{FlushInterval: 10 * time.Millisecond})
	tr.Record(Record{Action: ActionAccessDenied, Outcome: OutcomeDenied, Status: 403})
	deadline := time.Now().Add(5 * time.Second)
	for query(t, tr, Filter{}).Total == 0 {
		if time.Now().After(deadline) {
			t.Fatal("queued record not written by the flush timer")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRecordCopiesCallerMemory(t *testing.T) {
	tr, _ := newTrail(t, Options{FlushInterval: time.Hour})
	// Fiber hands out strings backed by buffers it reuses; simulate one.
	buf := []byte("alice")
	actor := unsafe.String(&buf[0], len(buf))
	roles := []string{"admin"}
	tr.Record(Record{Actor: actor, ActorRoles: roles, Action: ActionSignIn, Outcome: OutcomeSuccess})
	copy(buf, "mallo")
	roles[0] = "nobody"
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	r := query(t, tr, Filter{}).Results[0]
	if r.Actor != "alice" || r.ActorRoles[0] != "admin" {
		t.Fatalf("stored actor %q roles %v, want alice [admin]", r.Actor, r.ActorRoles)
	}
}

func TestRecordDropsWithoutBlockingWhenTheQueueIsFull(t *testing.T) {
	tr, db := newTrail(t, Options{QueueSize: 2, BatchSize: 1, FlushInterval: time.Hour})
	// Hold the write lock: the Trail's goroutine takes one record and
	// blocks writing it, two more fill the queue, the rest are dropped.
	tx, err := db.Begin(true)
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	start := time.Now()
	for range n {
		tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Record blocked for %v", d)
	}
	dropped := tr.Dropped()
	if dropped < n-3 {
		t.Fatalf("Dropped = %d, want at least %d", dropped, n-3)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if total := query(t, tr, Filter{}).Total; uint64(total)+dropped != n {
		t.Fatalf("written %d + dropped %d, want %d", total, dropped, n)
	}
}

func TestRecordCountsMalformedRecordsAsFailures(t *testing.T) {
	tr, _ := newTrail(t, Options{})
	tr.Record(Record{Action: "x", Outcome: "maybe"})
	tr.Record(Record{Action: "x", Outcome: OutcomeSuccess, Before: []byte("{")})
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	if tr.Failures() != 2 || query(t, tr, Filter{}).Total != 0 {
		t.Fatalf("Failures = %d, want 2 and nothing written", tr.Failures())
	}
}

func TestCloseFlushesAndStops(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, filepath.Join(dir, "control.db"))
	tr, err := NewTrail(db, Options{FlushInterval: time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if err := tr.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close = %v, want ErrClosed", err)
	}
	tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
	if tr.Dropped() != 1 {
		t.Fatalf("Dropped after Close = %d, want 1", tr.Dropped())
	}
	if p := query(t, tr, Filter{}); p.Total != 10 {
		t.Fatalf("Total = %d, want the 10 queued before Close", p.Total)
	}
}

func TestFailedBatchIsCountedAndReported(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "control.db"))
	tr, err := NewTrail(db, Options{FlushInterval: time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
	tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(); err == nil {
		t.Fatal("Flush on a closed database succeeded")
	}
	if tr.Failures() != 2 {
		t.Fatalf("Failures = %d, want 2", tr.Failures())
	}
}

func TestRecordsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrail(db, Options{FlushInterval: time.Hour, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	first := appendOne(t, tr, db, Record{Actor: "alice", Action: "role.update", Target: "r", Tenant: "a", Outcome: OutcomeSuccess,
		After: []byte(`{"name":"r"}`)})
	tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure, Tenant: "a"})
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, path)
	tr = startTrail(t, db, Options{})
	p := query(t, tr, Filter{Tenant: ptr("a")})
	if p.Total != 2 || p.Results[1].ID != first.ID || string(p.Results[1].After) != `{"name":"r"}` {
		t.Fatalf("after restart: %+v", p)
	}
	// The sequence in the ID goes on, so IDs never repeat even when the
	// clock does.
	again := appendOne(t, tr, db, Record{Action: "x", Outcome: OutcomeSuccess, Time: first.Time})
	if again.ID <= first.ID {
		t.Fatalf("ID after restart %s does not sort after %s", again.ID, first.ID)
	}
}

func TestNewTrailRejectsBadOptions(t *testing.T) {
	db := openDB(t, filepath.Join(t.TempDir(), "control.db"))
	for _, o := range []Options{{BatchSize: -1}, {FlushInterval: -time.Second}, {QueueSize: -1}} {
		if _, err := NewTrail(db, o); !errors.Is(err, ErrInvalid) {
			t.Errorf("NewTrail(%+v) = %v, want ErrInvalid", o, err)
		}
	}
	if _, err := NewTrail(nil, Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("NewTrail(nil) = %v, want ErrInvalid", err)
	}
}

func TestFlushReturnsDuringAFlood(t *testing.T) {
	tr, _ := newTrail(t, Options{BatchSize: 8, QueueSize: 64, FlushInterval: time.Hour})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					tr.Record(Record{Action: ActionAuthFailed, Outcome: OutcomeFailure})
				}
			}
		})
	}
	defer wg.Wait()
	defer close(stop)
	done := make(chan error, 1)
	go func() { done <- tr.Flush() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Flush did not return while records kept coming")
	}
}
