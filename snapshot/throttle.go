package snapshot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// limiter paces bytes to a rate (OpenSearch's max_snapshot_bytes_per_sec
// and max_restore_bytes_per_sec): each byte is paid for in time, and a
// caller that is ahead of the rate waits. Up to limiterBurst of unused
// time is credited, so short pauses do not slow the average. A nil
// *limiter lets everything through.
type limiter struct {
	rate float64 // bytes per second
	mu   sync.Mutex
	next time.Time // when the bytes let through so far are paid for
}

// limiterBurst is the most unused time a limiter credits.
const limiterBurst = 50 * time.Millisecond

// newLimiter returns a limiter of bytesPerSec, nil for 0 or less
// (unlimited).
func newLimiter(bytesPerSec int64) *limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	return &limiter{rate: float64(bytesPerSec)}
}

// wait blocks until n more bytes may pass at the limiter's rate, or ctx
// is done.
func (l *limiter) wait(ctx context.Context, n int) error {
	if l == nil || n <= 0 {
		return nil
	}
	l.mu.Lock()
	now := time.Now()
	if floor := now.Add(-limiterBurst); l.next.Before(floor) {
		l.next = floor
	}
	l.next = l.next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
	d := l.next.Sub(now)
	l.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sizes of the throttled I/O.
const (
	// chunkSize is the most bytes written in one go: the copy's buffers,
	// and the step in which a throttled writer is paced.
	chunkSize = 256 << 10
	// throttledSyncEvery is how many bytes a throttled writer writes to a
	// file between two flushes (flushRange), so that its dirty pages
	// reach the disk at the paced rate in small steps instead of in one
	// burst when the file is synced (which would stall the fsyncs of the
	// gateway's writes meanwhile).
	throttledSyncEvery = 1 << 20
)

// pacedWriter writes through w at the limiter's rate, in chunks of at
// most chunkSize, flushing what it wrote to f (when it is set) every
// throttledSyncEvery bytes.
type pacedWriter struct {
	ctx      context.Context
	lim      *limiter
	w        io.Writer
	f        *os.File
	off      int64 // bytes written so far
	unsynced int64 // of which not flushed yet
}

// Write writes p at the limiter's rate.
func (pw *pacedWriter) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		c := p[done:min(len(p), done+chunkSize)]
		if err := pw.lim.wait(pw.ctx, len(c)); err != nil {
			return done, err
		}
		n, err := pw.w.Write(c)
		done += n
		if err != nil {
			return done, err
		}
		pw.off += int64(n)
		if pw.unsynced += int64(n); pw.f != nil && pw.unsynced >= throttledSyncEvery {
			if err := flushRange(pw.f, pw.off-pw.unsynced, pw.unsynced); err != nil {
				return done, err
			}
			pw.unsynced = 0
		}
	}
	return done, nil
}

// pacedReader reads from r at the limiter's rate.
type pacedReader struct {
	ctx context.Context
	lim *limiter
	r   io.Reader
}

// Read reads at most chunkSize bytes, then waits until they may pass.
func (pr *pacedReader) Read(p []byte) (int, error) {
	n, err := pr.r.Read(p[:min(len(p), chunkSize)])
	if werr := pr.lim.wait(pr.ctx, n); werr != nil {
		return n, werr
	}
	return n, err
}

// pacedWrap returns a WrapWriter that paces what inner (nil: the file
// itself) writes to lim's rate; inner itself when lim is nil.
func pacedWrap(ctx context.Context, lim *limiter, inner WrapWriter) WrapWriter {
	if lim == nil {
		return inner
	}
	return func(p string, w io.Writer) io.Writer {
		f, _ := w.(*os.File)
		if inner != nil {
			w = inner(p, w)
		}
		return &pacedWriter{ctx: ctx, lim: lim, w: w, f: f}
	}
}

// copyFiles receives the files an index copy streams
// (index.CopyOptions.Writer): each is written at the limiter's rate and
// hashed on a goroutine of its own while the copy goes on; when the copy
// closes it, that goroutine finishes the hash, syncs and closes it, so
// the copy of the next file overlaps the hashing and syncing of the
// last. wait collects the files' entries.
type copyFiles struct {
	ctx  context.Context
	lim  *limiter
	wrap WrapWriter
	// sem bounds the files being finished (hashed to the end and synced)
	// at once: fewer when throttled, so a throttled snapshot does not
	// take every core.
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	sums map[string]FileEntry
	errs []error
	// files are the files handed out, for wait to end any the copy did
	// not close.
	files []*copyFile
}

func newCopyFiles(ctx context.Context, lim *limiter, wrap WrapWriter) *copyFiles {
	workers := hashWorkers
	if lim != nil {
		workers = 1
	}
	return &copyFiles{ctx: ctx, lim: lim, wrap: wrap, sem: make(chan struct{}, workers), sums: map[string]FileEntry{}}
}

// chunkPool holds the copy's buffers.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// release puts a buffer back into chunkPool.
func release(b *[]byte) {
	*b = (*b)[:cap(*b)]
	chunkPool.Put(b)
}

// cmpErr returns a unless it is nil, else b.
func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// writer is index.CopyOptions.Writer.
func (c *copyFiles) writer(rel string, f *os.File) io.WriteCloser {
	cf := &copyFile{c: c, rel: rel, f: f, w: f, chunks: make(chan *[]byte, 8)}
	if c.wrap != nil {
		cf.w = c.wrap(f.Name(), f)
	}
	c.files = append(c.files, cf)
	c.wg.Add(1)
	go cf.hash()
	return cf
}

// wait waits until every file is finished and returns their entries by
// slash-separated path, or the errors. Call it when the copy has
// returned: a file it left open is ended as failed.
func (c *copyFiles) wait() (map[string]FileEntry, error) {
	for _, cf := range c.files {
		if !cf.closed {
			cf.err = cmpErr(cf.err, errors.New("the copy did not close "+cf.rel))
			_ = cf.Close()
		}
	}
	c.wg.Wait()
	return c.sums, errors.Join(c.errs...)
}

// copyFile is one file of a copy.
type copyFile struct {
	c        *copyFiles
	rel      string
	f        *os.File
	w        io.Writer
	chunks   chan *[]byte
	n        int64
	unsynced int64
	err      error
	closed   bool
}

// hash hashes the chunks written, then syncs and closes the file and
// records it.
func (cf *copyFile) hash() {
	defer cf.c.wg.Done()
	h := sha256.New()
	for b := range cf.chunks {
		h.Write(*b)
		release(b)
	}
	cf.c.sem <- struct{}{}
	err := cf.err
	if serr := cf.f.Sync(); err == nil {
		err = serr
	}
	if cerr := cf.f.Close(); err == nil {
		err = cerr
	}
	<-cf.c.sem
	cf.c.mu.Lock()
	defer cf.c.mu.Unlock()
	if err != nil {
		cf.c.errs = append(cf.c.errs, err)
		return
	}
	cf.c.sums[cf.rel] = FileEntry{Path: cf.rel, Size: cf.n, SHA256: hex.EncodeToString(h.Sum(nil))}
}

// put writes the chunk *b (a chunkPool buffer, which the hashing
// goroutine returns to the pool).
func (cf *copyFile) put(b *[]byte) error {
	if cf.err != nil {
		release(b)
		return cf.err
	}
	if err := cf.c.lim.wait(cf.c.ctx, len(*b)); err != nil {
		cf.err = err
		release(b)
		return err
	}
	n, err := cf.w.Write(*b)
	if err == nil && n < len(*b) {
		err = io.ErrShortWrite
	}
	*b = (*b)[:n]
	cf.n += int64(n)
	cf.chunks <- b
	if err == nil && cf.c.lim != nil {
		if cf.unsynced += int64(n); cf.unsynced >= throttledSyncEvery {
			err = flushRange(cf.f, cf.n-cf.unsynced, cf.unsynced)
			cf.unsynced = 0
		}
	}
	cf.err = err
	return err
}

// Write writes p (copied into the copy's buffers).
func (cf *copyFile) Write(p []byte) (int, error) {
	done := 0
	for done < len(p) {
		b := chunkPool.Get().(*[]byte)
		k := copy(*b, p[done:])
		*b = (*b)[:k]
		if err := cf.put(b); err != nil {
			return done, err
		}
		done += k
	}
	return done, nil
}

// ReadFrom copies r into the file through the copy's buffers (io.Copy
// calls it, saving a copy of every byte).
func (cf *copyFile) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		b := chunkPool.Get().(*[]byte)
		k, rerr := io.ReadFull(r, *b)
		*b = (*b)[:k]
		if k > 0 {
			if err := cf.put(b); err != nil {
				return total, err
			}
			total += int64(k)
		} else {
			release(b)
		}
		switch {
		case rerr == io.EOF || rerr == io.ErrUnexpectedEOF:
			return total, nil
		case rerr != nil:
			return total, rerr
		}
	}
}

// Close ends the file: its hashing goroutine syncs and closes it.
func (cf *copyFile) Close() error {
	if cf.closed {
		return nil
	}
	cf.closed = true
	close(cf.chunks)
	return cf.err
}
