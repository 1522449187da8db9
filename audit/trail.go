package audit

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"
)

// Bucket names in the control-plane file. The records bucket maps a
// record's key to its JSON; the tenant index maps tenant + 0x00 + key to
// nothing.
var (
	recordsBucket = []byte("audit")
	tenantsBucket = []byte("audit_by_tenant")
)

// Defaults of Options.
const (
	// DefaultBatchSize is how many queued records one write holds at most.
	DefaultBatchSize = 256
	// DefaultFlushInterval is how long a queued record waits at most
	// before it is written.
	DefaultFlushInterval = 200 * time.Millisecond
	// DefaultQueueSize is how many records can wait to be written before
	// Record starts dropping them.
	DefaultQueueSize = 8192
)

// Options configure a Trail. The zero value is usable.
type Options struct {
	// Logger receives write failures of queued records (default
	// slog.Default()).
	Logger *slog.Logger
	// Clock stamps records whose Time is zero (default time.Now).
	Clock func() time.Time
	// BatchSize is how many queued records one write holds at most
	// (default DefaultBatchSize).
	BatchSize int
	// FlushInterval is how long a queued record waits at most before it is
	// written (default DefaultFlushInterval).
	FlushInterval time.Duration
	// QueueSize is how many records may wait to be written; Record drops
	// what does not fit (default DefaultQueueSize).
	QueueSize int
}

// Appender writes an audit record inside a caller's bbolt write
// transaction, so that a change and its record commit or roll back
// together. *Trail implements it. It exists so that callers can be given
// a wrapper instead, for example one that refuses every append to test
// audit.fail_closed, or one that counts appends.
type Appender interface {
	// AppendTx adds r to the trail in tx; see Trail.AppendTx.
	AppendTx(tx *bbolt.Tx, r *Record) error
}

var _ Appender = (*Trail)(nil)

// Trail is the audit trail in a bbolt database it shares with the
// control-plane store. It is safe for concurrent use. It owns one
// goroutine, which writes queued records; Close stops it.
type Trail struct {
	db   *bbolt.DB
	log  *slog.Logger
	now  func() time.Time
	opts Options

	// mu guards closed against Record sending on a queue nobody reads
	// any more.
	mu     sync.RWMutex
	closed bool

	queue    chan *Record
	flushReq chan chan error
	stop     chan struct{}
	done     chan struct{}
	closeErr error

	dropped  atomic.Uint64
	failures atomic.Uint64
}

// NewTrail opens the trail in db, creating its buckets when they do not
// exist, and starts the goroutine that writes queued records. The Trail
// does not own db: Close the Trail before closing the database.
func NewTrail(db *bbolt.DB, opts Options) (*Trail, error) {
	if db == nil {
		return nil, invalidf("no database")
	}
	if opts.BatchSize < 0 || opts.FlushInterval < 0 || opts.QueueSize < 0 {
		return nil, invalidf("negative batch size, flush interval or queue size")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.QueueSize == 0 {
		opts.QueueSize = DefaultQueueSize
	}
	err := db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(recordsBucket); err != nil {
			return err
		}
		_, err := tx.CreateBucketIfNotExists(tenantsBucket)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("creating the audit buckets: %w", err)
	}
	t := &Trail{
		db:       db,
		log:      opts.Logger,
		now:      opts.Clock,
		opts:     opts,
		queue:    make(chan *Record, opts.QueueSize),
		flushReq: make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go t.run()
	return t, nil
}

// AppendTx adds r to the trail inside tx, the caller's write transaction
// on the Trail's database: if tx rolls back, so does the record. It
// assigns r.ID (any ID the caller set is replaced: the trail is
// append-only), sets r.Time from the clock when it is zero and converts it
// to UTC, applies the size caps (MaxFieldBytes, MaxActorRoles,
// MaxJSONBytes), and redacts secrets in r.Before, r.After and r.Diff again (see
// Diff), updating r in place. It returns an error wrapping ErrInvalid when
// r is malformed, and the store's error when the write fails; the caller
// decides whether that aborts its change (audit.fail_closed).
func (t *Trail) AppendTx(tx *bbolt.Tx, r *Record) error {
	if r == nil {
		return invalidf("nil record")
	}
	if tx.DB() != t.db {
		return invalidf("transaction is not on the audit trail's database")
	}
	if err := t.prepare(r); err != nil {
		return err
	}
	return put(tx, r)
}

// prepare caps r's sizes, checks it, stamps its time and redacts it. It
// is the one place both paths go through; Record also caps before it
// queues, so the queue holds no more than the trail will write.
func (t *Trail) prepare(r *Record) error {
	limit(r)
	if r.Time.IsZero() {
		r.Time = t.now()
	}
	r.Time = r.Time.Round(0).UTC()
	if err := check(r); err != nil {
		return err
	}
	var err error
	if r.Before, err = redactJSON(r.Before); err != nil {
		return invalidf("before: %v", err)
	}
	if r.After, err = redactJSON(r.After); err != nil {
		return invalidf("after: %v", err)
	}
	if truncatedMarker(r.Diff) {
		return nil
	}
	if r.Diff, err = redactPatchJSON(r.Diff); err != nil {
		return invalidf("diff: %v", err)
	}
	return nil
}

// put writes a prepared record and its tenant index entry.
func put(tx *bbolt.Tx, r *Record) error {
	records, index, err := buckets(tx)
	if err != nil {
		return err
	}
	seq, err := records.NextSequence()
	if err != nil {
		return fmt.Errorf("numbering the audit record: %w", err)
	}
	key := recordKey(r.Time, seq)
	r.ID = hex.EncodeToString(key)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the audit record: %w", err)
	}
	if err := records.Put(key, data); err != nil {
		return fmt.Errorf("writing the audit record: %w", err)
	}
	if err := index.Put(indexKey(r.Tenant, key), []byte{}); err != nil {
		return fmt.Errorf("indexing the audit record: %w", err)
	}
	return nil
}

// buckets returns the trail's buckets in a write transaction, creating
// them if the database lost them.
func buckets(tx *bbolt.Tx) (records, index *bbolt.Bucket, err error) {
	if records = tx.Bucket(recordsBucket); records == nil {
		if records, err = tx.CreateBucket(recordsBucket); err != nil {
			return nil, nil, fmt.Errorf("creating the audit bucket: %w", err)
		}
	}
	if index = tx.Bucket(tenantsBucket); index == nil {
		if index, err = tx.CreateBucket(tenantsBucket); err != nil {
			return nil, nil, fmt.Errorf("creating the audit index: %w", err)
		}
	}
	return records, index, nil
}

// Record queues r to be written asynchronously, for events on the request
// path (sign-ins, 401s, 403s). It never blocks and never fails: when the
// queue is full, or the Trail is closed, the record is dropped and counted
// (Dropped); a malformed record is logged and counted as a failure
// (Failures). Its Time is taken when Record is called if it is zero. r is
// copied, strings included, so the caller may reuse its memory (as Fiber
// does with header and parameter values) as soon as Record returns.
// Records queued are on disk once Flush or Close returns, or within
// FlushInterval otherwise. The size caps apply as in AppendTx.
func (t *Trail) Record(r Record) {
	limit(&r)
	c := r.clone()
	if c.Time.IsZero() {
		c.Time = t.now()
	}
	if err := check(c); err != nil {
		t.failures.Add(1)
		t.log.Error("audit record refused", "action", c.Action, "err", err)
		return
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		t.dropped.Add(1)
		return
	}
	select {
	case t.queue <- c:
	default:
		t.dropped.Add(1)
	}
}

// Dropped returns how many records Record dropped because the queue was
// full or the Trail closed.
func (t *Trail) Dropped() uint64 { return t.dropped.Load() }

// Failures returns how many records Record accepted but could not write:
// malformed ones and those of batches the store refused. Errors of
// AppendTx are returned to its caller and not counted here.
func (t *Trail) Failures() uint64 { return t.failures.Load() }

// Flush returns once every record queued by Record before the call is on
// disk, with the error of the writes it waited for, or ErrClosed after
// Close. Do not call it inside a transaction on the Trail's database: the
// write it waits for needs that database's write lock.
func (t *Trail) Flush() error {
	reply := make(chan error, 1)
	select {
	case t.flushReq <- reply:
	case <-t.done:
		return ErrClosed
	}
	return <-reply
}

// Close writes every queued record, stops the Trail's goroutine and
// returns the error of that last write. Record drops what comes after.
// Close does not close the database. Calling it again returns the same
// result.
func (t *Trail) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.done
		return t.closeErr
	}
	t.closed = true
	t.mu.Unlock()
	close(t.stop)
	<-t.done
	return t.closeErr
}

// run is the Trail's goroutine: it collects queued records and writes them
// when BatchSize are waiting, FlushInterval after the first of them came,
// on Flush and on Close.
func (t *Trail) run() {
	defer close(t.done)
	batch := make([]*Record, 0, t.opts.BatchSize)
	timer := time.NewTimer(t.opts.FlushInterval)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case r := <-t.queue:
			if len(batch) == 0 {
				timer.Reset(t.opts.FlushInterval)
			}
			batch = append(batch, r)
			if len(batch) >= t.opts.BatchSize {
				timer.Stop()
				_ = t.write(batch)
				batch = batch[:0]
			}
		case <-timer.C:
			_ = t.write(batch)
			batch = batch[:0]
		case reply := <-t.flushReq:
			timer.Stop()
			reply <- t.drain(batch)
			batch = batch[:0]
		case <-t.stop:
			// Record cannot queue any more (closed is set under the lock
			// it holds while sending), so draining empties the queue.
			t.closeErr = t.drain(batch)
			return
		}
	}
}

// drain writes batch and the records waiting in the queue when it is
// called, BatchSize at a time, and returns the first error. Records queued
// meanwhile wait for the next write, so a flood cannot keep Flush from
// returning.
func (t *Trail) drain(batch []*Record) error {
	var first error
	for pending := len(t.queue); ; {
		for ; pending > 0 && len(batch) < t.opts.BatchSize; pending-- {
			batch = append(batch, <-t.queue)
		}
		if len(batch) == 0 {
			return first
		}
		if err := t.write(batch); err != nil && first == nil {
			first = err
		}
		batch = batch[:0]
	}
}

// write stores a batch of queued records in one transaction. A record
// that cannot be prepared (before, after or diff that are not JSON) is
// logged, counted and left out. A failed batch is logged and counted, not
// retried: a store that refuses writes must not make the queue, and the
// memory behind it, grow without end.
func (t *Trail) write(batch []*Record) error {
	defer clear(batch)
	ok := make([]*Record, 0, len(batch))
	for _, r := range batch {
		if err := t.prepare(r); err != nil {
			t.failures.Add(1)
			t.log.Error("audit record refused", "action", r.Action, "err", err)
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) == 0 {
		return nil
	}
	err := t.db.Update(func(tx *bbolt.Tx) error {
		for _, r := range ok {
			if err := put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.failures.Add(uint64(len(ok)))
		t.log.Error("audit records lost", "count", len(ok), "err", err)
		return fmt.Errorf("writing %d audit records: %w", len(ok), err)
	}
	return nil
}
