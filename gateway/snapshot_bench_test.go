//go:build unix

package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/snapshot"
)

// snapshotBenchDocs is the size of the index the snapshot benchmarks copy.
const snapshotBenchDocs = 50_000

// snapshotFixture is a gateway with one settled index of
// snapshotBenchDocs documents, and the snapshot source over it.
type snapshotFixture struct {
	srv      *testserver.Server
	token    string
	physical string
	dir      string // the index's directory
	src      *snapshot.Instance
}

func newSnapshotFixture(b *testing.B) *snapshotFixture {
	b.Helper()
	all, _ := logDocs()
	docs := all[:snapshotBenchDocs]
	s := testserver.Start(b)
	f := &snapshotFixture{srv: s, token: testserver.Token(b, "alice", "analyst"),
		src: &snapshot.Instance{Index: s.Inst.Index, Store: s.Inst.Store, Admin: s.Inst.Admin}}
	if r := s.Do(b, "PUT", "/"+benchIndex, f.token, benchTenant, `{"mappings":`+logMappingJSON+`}`); r.Status != 200 {
		b.Fatalf("creating the index: %d %s", r.Status, r.Body)
	}
	for lo := 0; lo < len(docs); lo += setupBatch {
		if err := postBulk(s, f.token, "/"+benchIndex+"/_bulk", bulkBody(docs[lo:min(lo+setupBatch, len(docs))], "")); err != nil {
			b.Fatal(err)
		}
	}
	for _, e := range s.Inst.Index.Catalog().All() {
		if e.Logical == benchIndex {
			f.physical = e.Physical
		}
	}
	if f.physical == "" {
		b.Fatalf("index %s is not in the catalog", benchIndex)
	}
	f.dir = filepath.Join(s.Config.DataDir, "indices", f.physical)
	settle(f.dir)
	return f
}

// copyFsync is the baseline: a plain copy of every file below src into
// dst, each file fsynced, then every directory. It returns the bytes
// copied. With skipVanished, a file that disappears meanwhile (a live
// index merging segments) is skipped: such a copy is not an index, only
// the same I/O.
func copyFsync(src, dst string, skipVanished bool) (int64, error) {
	var total int64
	var dirs []string
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if skipVanished && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			dirs = append(dirs, target)
			return os.MkdirAll(target, 0o750)
		}
		in, err := os.Open(p)
		if skipVanished && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		n, err := io.Copy(out, in)
		total += n
		if err == nil {
			err = out.Sync()
		}
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return total, err
	}
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return total, err
		}
	}
	return total, syncDir(filepath.Dir(dst))
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// BenchmarkSnapshot measures snapshots of a settled 50k-document index
// (web-log documents, as BenchmarkSearch):
//
//   - throughput/max_bytes_per_sec=0: each iteration takes one
//     unthrottled snapshot of the index (snapshot.Create: Bleve's online
//     copy, every file's SHA-256 computed as it is written, the
//     manifest, fsync and rename) and one plain copy of the index's files
//     with an fsync of each file and directory, alternating which goes
//     first. snapshot-MB/s and copy-MB/s are the bytes of the index's
//     files over the time each took; ratio-% is snapshot over copy (the
//     target is ≥ 80). ns/op is one snapshot plus one copy.
//   - write-latency/max_bytes_per_sec=R: one writer indexes single
//     documents through the gateway (POST /logs/_doc) in alternating
//     stretches of 100 writes: with no snapshot running, then while a
//     loop takes snapshots of the index back to back, throttled to R
//     (snapshot.Options.MaxBytesPerSec): first at the default of
//     snapshot.max_bytes_per_sec (the target row), then unthrottled (0)
//     for comparison. p99-idle-µs and p99-snap-µs are the p99 write
//     latency of each (p50 likewise); p99-worse-% how much worse the
//     second is (the target is ≤ 20). It makes at least 2,000 writes, so
//     each p99 rests on about a thousand samples; ns/op is one write;
//     background-runs counts the snapshots taken. The snapshots are
//     removed between the stretches, not during them (see writesDuring).
//   - write-latency-copy: the same with plain copies + fsync of the
//     index's files in the background instead of snapshots, unthrottled,
//     for comparison: what any copy of the index costs the writer here.
func BenchmarkSnapshot(b *testing.B) {
	f := newSnapshotFixture(b)
	ctx := context.Background()
	work := b.TempDir()

	// Throughput unthrottled: what the snapshot code costs against a
	// plain copy, with nothing paced.
	b.Run("throughput/max_bytes_per_sec=0", func(b *testing.B) {
		var snapTime, copyTime time.Duration
		var snapBytes, copyBytes int64
		for i := 0; i < b.N; i++ {
			snap := func() {
				t0 := time.Now()
				res, err := snapshot.Create(ctx, f.src, snapshot.Options{Out: work, Name: fmt.Sprintf("t%d", i), Pattern: f.physical, MaxBytesPerSec: 0})
				if err != nil {
					b.Fatal(err)
				}
				snapTime += time.Since(t0)
				snapBytes += res.Bytes
			}
			plain := func() {
				t0 := time.Now()
				n, err := copyFsync(f.dir, filepath.Join(work, fmt.Sprintf("c%d", i)), false)
				if err != nil {
					b.Fatal(err)
				}
				copyTime += time.Since(t0)
				copyBytes += n
			}
			if i%2 == 0 {
				snap()
				plain()
			} else {
				plain()
				snap()
			}
			b.StopTimer()
			_ = os.RemoveAll(filepath.Join(work, fmt.Sprintf("t%d", i)))
			_ = os.RemoveAll(filepath.Join(work, fmt.Sprintf("c%d", i)))
			b.StartTimer()
		}
		snapRate := float64(snapBytes) / (1 << 20) / snapTime.Seconds()
		copyRate := float64(copyBytes) / (1 << 20) / copyTime.Seconds()
		b.ReportMetric(float64(snapBytes)/float64(b.N)/(1<<20), "MB")
		b.ReportMetric(snapRate, "snapshot-MB/s")
		b.ReportMetric(copyRate, "copy-MB/s")
		b.ReportMetric(100*snapRate/copyRate, "ratio-%")
	})

	// Write latency while snapshots run at the default throttle
	// (snapshot.max_bytes_per_sec), then unthrottled for comparison.
	def, err := config.ParseByteSize(config.DefaultSnapshotBytesPerSec)
	if err != nil {
		b.Fatal(err)
	}
	for _, rate := range []struct {
		name  string
		bytes int64
	}{{config.DefaultSnapshotBytesPerSec, def}, {"0", 0}} {
		b.Run("write-latency/max_bytes_per_sec="+rate.name, func(b *testing.B) {
			writesDuring(b, f, func(n int) (string, error) {
				name := fmt.Sprintf("w%d", n)
				_, err := snapshot.Create(ctx, f.src, snapshot.Options{Out: work, Name: name, Pattern: f.physical, MaxBytesPerSec: rate.bytes})
				return filepath.Join(work, name), err
			})
		})
	}
	// The same with plain copies + fsync of the index's files in the
	// background instead of snapshots: what any copy of the index costs
	// the writer on this disk, for comparison.
	b.Run("write-latency-copy", func(b *testing.B) {
		writesDuring(b, f, func(n int) (string, error) {
			dst := filepath.Join(work, fmt.Sprintf("wc%d", n))
			_, err := copyFsync(f.dir, dst, true)
			return dst, err
		})
	})
}

// writesDuring measures single-document writes through the gateway in
// alternating stretches of 100: without op, then while op runs back to
// back in a loop (n counts its runs). See BenchmarkSnapshot.
//
// op returns what it wrote, which the writer removes between the
// stretches, then syncs the file systems, while it measures nothing:
// removing a snapshot is no part of taking one, and on a file system
// mounted with discard (as here) the removal's journal commit and
// discards would stall the fsyncs of whichever writes came next.
func writesDuring(b *testing.B, f *snapshotFixture, op func(n int) (string, error)) {
	all, _ := logDocs()
	// The background loop holds gate while it runs op; the writer
	// holds it through the stretches without, so op does not run
	// then (it waits for the one in progress first).
	var gate sync.Mutex
	var stop atomic.Bool
	var taken atomic.Int64
	done := make(chan error, 1)
	var leftMu sync.Mutex
	var left []string
	clean := func() {
		leftMu.Lock()
		defer leftMu.Unlock()
		for _, p := range left {
			_ = os.RemoveAll(p)
		}
		left = nil
		syscall.Sync()
	}
	defer clean()
	gate.Lock()
	go func() {
		for n := 0; ; n++ {
			gate.Lock()
			if stop.Load() {
				gate.Unlock()
				done <- nil
				return
			}
			out, err := op(n)
			leftMu.Lock()
			left = append(left, out)
			leftMu.Unlock()
			gate.Unlock()
			if err != nil {
				done <- err
				return
			}
			taken.Add(1)
		}
	}()
	idle, during := load{}, load{}
	const stretch = 100
	// At least minWrites writes, so that each p99 rests on about a
	// thousand samples however few iterations the benchmark asks for;
	// ns/op is reported per write.
	const minWrites = 2000
	n := b.N
	if n > 1 {
		n = max(n, minWrites)
	}
	snapping := false
	b.ResetTimer()
	for i := 0; i < n; i++ {
		if i%stretch == 0 && i > 0 {
			if snapping {
				gate.Lock()
				b.StopTimer()
				clean()
				b.StartTimer()
			} else {
				gate.Unlock()
			}
			snapping = !snapping
		}
		d := all[i%len(all)]
		t0 := time.Now()
		r := f.srv.Do(b, "POST", "/"+benchIndex+"/_doc", f.token, benchTenant, d.raw)
		lat := time.Since(t0)
		if r.Status != 201 {
			b.Fatalf("write: %d %s", r.Status, r.Body)
		}
		if snapping {
			during.lat = append(during.lat, lat)
		} else {
			idle.lat = append(idle.lat, lat)
		}
	}
	b.StopTimer()
	var sum time.Duration
	for _, l := range append(idle.lat, during.lat...) {
		sum += l
	}
	perWrite := sum / time.Duration(n)
	stop.Store(true)
	if !snapping {
		gate.Unlock()
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(perWrite.Nanoseconds()), "ns/op")
	if len(during.lat) == 0 {
		return // a warm-up run of one write
	}
	p99i, p99s := idle.pct(99), during.pct(99)
	b.ReportMetric(micros(idle.pct(50)), "p50-idle-µs")
	b.ReportMetric(micros(during.pct(50)), "p50-snap-µs")
	b.ReportMetric(micros(p99i), "p99-idle-µs")
	b.ReportMetric(micros(p99s), "p99-snap-µs")
	b.ReportMetric(100*(float64(p99s)/float64(p99i)-1), "p99-worse-%")
	b.ReportMetric(float64(taken.Load()), "background-runs")
}
