package bleve

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// smallIndexMapping is the mapping of the indices of BenchmarkOpenClose:
// a few fields of the common kinds.
const smallIndexMapping = `{"properties":{"title":{"type":"text"},"tag":{"type":"keyword"},"n":{"type":"long"},"at":{"type":"date"}}}`

// createSmallIndices creates n indices under dir, each with 5 documents,
// four at a time, and closes them all.
func createSmallIndices(b *testing.B, dir string, n int) []string {
	b.Helper()
	m, err := index.ParseMapping([]byte(smallIndexMapping))
	if err != nil {
		b.Fatal(err)
	}
	be, err := New(dir, Options{MaxOpen: 8, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	names := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	ctx := context.Background()
	for i := range names {
		names[i] = fmt.Sprintf("logs_%d_tenant%03d", 1000+i, i)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := be.CreateIndex(ctx, names[i], m); err != nil {
				errs[i] = err
				return
			}
			ops := make([]index.Op, 5)
			for j := range ops {
				ops[j] = index.Op{Type: index.OpIndex, ID: fmt.Sprint(j), Source: fmt.Appendf(nil,
					`{"title":"document %d of tenant %d","tag":"t%d","n":%d,"at":"2024-05-0%dT10:00:00Z"}`, j, i, j%3, i*10+j, j+1)}
			}
			res, err := be.Apply(ctx, names[i], ops)
			if err == nil {
				for _, r := range res {
					if r.Err != nil {
						err = r.Err
					}
				}
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return names
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// openFiles returns the number of open file descriptors of the process, or
// -1 where /proc is missing.
func openFiles() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// idleCost is what holding one open, idle index costs.
type idleCost struct {
	heapKB, goroutines, files float64
}

// measureIdle opens every index of names in a fresh Backend over dir and
// returns the increase of live heap (after GC), goroutines and open files,
// divided by the number of indices.
func measureIdle(b *testing.B, dir string, names []string) idleCost {
	b.Helper()
	ctx := context.Background()
	be, err := New(dir, Options{MaxOpen: len(names) + 1, IdleClose: time.Hour, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	g0, f0 := runtime.NumGoroutine(), openFiles()
	for _, name := range names {
		if _, err := be.Mapping(ctx, name); err != nil {
			b.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // let each index's goroutines start
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := float64(len(names))
	c := idleCost{
		heapKB:     (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / 1024 / n,
		goroutines: float64(runtime.NumGoroutine()-g0) / n,
		files:      float64(openFiles()-f0) / n,
	}
	if f0 < 0 {
		c.files = -1
	}
	return c
}

// BenchmarkOpenClose measures what an idle tenant index costs: opening a
// closed index, closing it, and holding it open. Setup creates 200 small
// indices (20 under -short) of 5 documents each and closes them; their
// files stay in the page cache (warm).
//
// One op is one warm open of a closed index through the Backend (the
// Mapping call, which forces the open and does nothing else costly) plus
// its share of closing: each round opens the indices in turn in a fresh
// Backend (MaxOpen above the count, so nothing is evicted) and then
// closes the Backend, which closes every open index.
//
//	open-p50-ms       median time of one warm open (Mapping on a closed index)
//	open-p99-ms       99th percentile of the same
//	close-ms/index    Backend.Close time divided by the indices it closed
//	heap-KB/index     live heap (runtime.ReadMemStats HeapAlloc after GC)
//	                  added per open idle index, all indices open
//	goroutines/index  goroutines added per open index (Bleve's scorch
//	                  introducer, persister and merger)
//	files/index       file descriptors added per open index (root.bolt and
//	                  segment files; -1 without /proc)
//
// heap, goroutines and files are measured once, in setup, with every
// index open at once; mmap'ed segment files are not heap and not counted.
func BenchmarkOpenClose(b *testing.B) {
	n := 200
	if testing.Short() {
		n = 20
	}
	dir := b.TempDir()
	names := createSmallIndices(b, dir, n)
	measureIdle(b, dir, names) // warm-up: every file read once
	idle := measureIdle(b, dir, names)
	b.Run(fmt.Sprintf("indices=%d", n), func(b *testing.B) {
		ctx := context.Background()
		b.StopTimer()
		b.ResetTimer()
		var opens []time.Duration
		var closeTime time.Duration
		for done := 0; done < b.N; {
			be, err := New(dir, Options{MaxOpen: n + 1, IdleClose: time.Hour, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			k := min(n, b.N-done)
			b.StartTimer()
			for _, name := range names[:k] {
				t0 := time.Now()
				_, err := be.Mapping(ctx, name)
				opens = append(opens, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
			}
			t0 := time.Now()
			err = be.Close()
			closeTime += time.Since(t0)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			done += k
		}
		slices.Sort(opens)
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(opens[len(opens)/2]), "open-p50-ms")
		b.ReportMetric(ms(opens[min(len(opens)-1, len(opens)*99/100)]), "open-p99-ms")
		b.ReportMetric(ms(closeTime)/float64(len(opens)), "close-ms/index")
		b.ReportMetric(idle.heapKB, "heap-KB/index")
		b.ReportMetric(idle.goroutines, "goroutines/index")
		b.ReportMetric(idle.files, "files/index")
	})
}
