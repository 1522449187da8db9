package bleve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// openCount returns the number of open indices.
func (b *Backend) openCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lru.Len()
}

func (b *Backend) isOpen(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, ok := b.entries[name]
	return ok && e.state == stateOpen
}

func TestLRUEviction(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, Options{MaxOpen: 2, IdleClose: time.Hour})
	for i := range 4 {
		mustCreate(t, b, fmt.Sprintf("i%d", i), "")
	}
	if n := b.openCount(); n != 2 {
		t.Fatalf("open = %d, want 2", n)
	}
	// i2 and i3 are open; touching i2 makes i3 the least recently used.
	_, rel2, err := b.acquire(ctx, "i2")
	if err != nil {
		t.Fatal(err)
	}
	rel2()
	_, rel0, err := b.acquire(ctx, "i0")
	if err != nil {
		t.Fatal(err)
	}
	if !b.isOpen("i2") || b.isOpen("i3") || !b.isOpen("i0") {
		t.Errorf("wrong index evicted: i0=%v i2=%v i3=%v", b.isOpen("i0"), b.isOpen("i2"), b.isOpen("i3"))
	}
	// Pinned indices are never evicted: with i0 and i1 pinned, opening i2
	// exceeds the bound until one is released.
	h1, rel1, err := b.acquire(ctx, "i1")
	if err != nil {
		t.Fatal(err)
	}
	_, relx, err := b.acquire(ctx, "i3")
	if err != nil {
		t.Fatal(err)
	}
	if !b.isOpen("i0") || !b.isOpen("i1") {
		t.Fatal("a pinned index was closed")
	}
	if _, err := h1.idx.DocCount(); err != nil {
		t.Fatalf("pinned handle unusable: %v", err)
	}
	rel0()
	rel1()
	relx()
	rel1() // a second release is harmless
	if n := b.openCount(); n > 2 {
		t.Errorf("open after release = %d, want ≤ 2", n)
	}
}

func TestIdleClose(t *testing.T) {
	b := newTestBackend(t, Options{MaxOpen: 8, IdleClose: 50 * time.Millisecond})
	mustCreate(t, b, "idle", "")
	mustApply(t, b, "idle", indexOp("1", `{"a":1}`))
	waitFor(t, "idle index to close", func() bool { return b.openCount() == 0 })
	d, err := b.Get(context.Background(), "idle", "1")
	if err != nil || string(d.Source) != `{"a":1}` {
		t.Fatalf("Get after idle close = %v, %v", d, err)
	}
	// A pinned index stays open however long it is idle.
	_, release, err := b.acquire(context.Background(), "idle")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if !b.isOpen("idle") {
		t.Error("pinned index closed as idle")
	}
	release()
	waitFor(t, "released index to close", func() bool { return b.openCount() == 0 })
}

func TestAcquireMissing(t *testing.T) {
	b := newTestBackend(t, Options{})
	_, _, err := b.acquire(context.Background(), "nope")
	var ie *index.Error
	if !errors.As(err, &ie) || !errors.Is(err, index.ErrNotFound) || ie.Type != "index_not_found_exception" || ie.Reason != "no such index [nope]" {
		t.Fatalf("acquire missing = %v", err)
	}
	if _, err := os.Stat(b.path("nope")); !os.IsNotExist(err) {
		t.Error("acquire created a directory")
	}
}

func TestDeleteWaitsForPins(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "del", "")
	_, release, err := b.acquire(context.Background(), "del")
	if err != nil {
		t.Fatal(err)
	}
	// With the pin held, a delete with a short deadline fails cleanly.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := b.DeleteIndex(ctx, "del"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("DeleteIndex while pinned = %v", err)
	}
	if ok, _ := b.Exists(context.Background(), "del"); !ok {
		t.Fatal("failed delete removed the index")
	}
	done := make(chan error, 1)
	go func() { done <- b.DeleteIndex(context.Background(), "del") }()
	time.Sleep(20 * time.Millisecond)
	release()
	if err := <-done; err != nil {
		t.Fatalf("DeleteIndex after release: %v", err)
	}
	if ok, _ := b.Exists(context.Background(), "del"); ok {
		t.Fatal("index exists after delete")
	}
}

// TestConcurrentOpenClose hammers a few indices from many goroutines with
// MaxOpen 1, so opens, evictions, deletes and creates of the same names
// interleave. Run with -race.
func TestConcurrentOpenClose(t *testing.T) {
	b := newTestBackend(t, Options{MaxOpen: 1, IdleClose: 20 * time.Millisecond})
	names := []string{"x0", "x1", "x2"}
	for _, n := range names {
		mustCreate(t, b, n, "")
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				name := names[(g+i)%len(names)]
				switch i % 5 {
				case 0:
					if _, err := b.Apply(context.Background(), name, []index.Op{indexOp(fmt.Sprint(g), `{"g":1}`)}); err != nil && !errors.Is(err, index.ErrNotFound) {
						t.Error(err)
					}
				case 1:
					if g == 0 {
						_ = b.DeleteIndex(context.Background(), name)
						_ = b.CreateIndex(context.Background(), name, nil)
					}
				default:
					if _, err := b.Stats(context.Background(), name); err != nil && !errors.Is(err, index.ErrNotFound) {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestNoLeaks opens and closes many indices repeatedly and checks that
// goroutines and file descriptors return to their starting level.
func TestNoLeaks(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	dir := t.TempDir()
	const indices = 300
	b, err := New(dir, Options{MaxOpen: 8})
	if err != nil {
		t.Fatal(err)
	}
	for i := range indices {
		if err := b.CreateIndex(context.Background(), fmt.Sprintf("leak%03d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	baseG, baseFD := settledGoroutines(0), countFDs(t)
	for round := range 3 {
		b, err := New(dir, Options{MaxOpen: 8})
		if err != nil {
			t.Fatal(err)
		}
		for i := range indices {
			name := fmt.Sprintf("leak%03d", i)
			if _, err := b.Apply(context.Background(), name, []index.Op{indexOp(fmt.Sprint(round), `{"r":1}`)}); err != nil {
				t.Fatalf("round %d %s: %v", round, name, err)
			}
			if n := b.openCount(); n > 8 {
				t.Fatalf("open = %d, want ≤ 8", n)
			}
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	}
	const slack = 3
	if g := settledGoroutines(baseG + slack); g > baseG+slack {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Errorf("goroutines %d, started with %d\n%s", g, baseG, buf[:n])
	}
	if fd := countFDs(t); fd > baseFD+slack {
		t.Errorf("open fds %d, started with %d", fd, baseFD)
	}
}

// settledGoroutines polls runtime.NumGoroutine for a short while until it
// is at most target (0: until it stops falling) and returns it.
func settledGoroutines(target int) int {
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if target > 0 && m <= target || target == 0 && m == n {
			return m
		}
		n = m
	}
	return n
}
