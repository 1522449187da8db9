package snapshot_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/snapshot"
)

// TestThrottle takes a snapshot and restores it with MaxBytesPerSec set
// to about one second's worth of the snapshot's bytes: each takes at
// least half a second (a 2x margin; nothing bounds it from above on a
// shared machine), and the throttled snapshot verifies and restores as
// an unthrottled one does. A throttled snapshot whose context ends stops
// with the context's error and leaves nothing in the repository.
func TestThrottle(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	s := start(t)
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		bulk(t, s, "human_resources", "staff", "s", i*500, 500)
	}
	free, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: t.TempDir(), Name: "free", Tenant: "human_resources"})
	if err != nil {
		t.Fatal(err)
	}
	size := free.Bytes
	if size < 64<<10 {
		t.Fatalf("the snapshot holds %d bytes: too few to measure a rate", size)
	}
	const min = 500 * time.Millisecond // half of size at size bytes per second

	repo := t.TempDir()
	t0 := time.Now()
	snap, err := snapshot.Create(ctx, instanceOf(t, s), snapshot.Options{Out: repo, Name: "slow", Tenant: "human_resources", MaxBytesPerSec: size})
	took := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("create: %d bytes at max %d bytes/s in %v", snap.Bytes, size, took)
	if took < min {
		t.Fatalf("a snapshot of %d bytes at max %d bytes/s took %v, want at least %v", snap.Bytes, size, took, min)
	}
	if _, err := snapshot.Verify(ctx, snap.Path, snapshot.Options{}); err != nil {
		t.Fatalf("verify the throttled snapshot: %v", err)
	}

	dst := start(t)
	t0 = time.Now()
	rr, err := snapshot.Restore(ctx, snap.Path, instanceOf(t, dst), snapshot.RestoreOptions{MaxBytesPerSec: size})
	took = time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("restore: %d bytes at max %d bytes/s in %v", snap.Bytes, size, took)
	if took < min {
		t.Fatalf("a restore of %d bytes at max %d bytes/s took %v, want at least %v", snap.Bytes, size, took, min)
	}
	if !rr.Verified {
		t.Fatalf("restore not verified: %+v", rr)
	}
	if n := count(t, dst, super(t), "human_resources", "staff"); n != 2000 {
		t.Fatalf("restored staff holds %d documents, want 2000", n)
	}

	t.Run("context ends", func(t *testing.T) {
		repo := t.TempDir()
		cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err := snapshot.Create(cctx, instanceOf(t, s), snapshot.Options{Out: repo, Name: "cut", Tenant: "human_resources", MaxBytesPerSec: 1024})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want the context's", err)
		}
		// At 1 KB/s the snapshot would take minutes: the context ended it.
		if took := time.Since(t0); took > 30*time.Second {
			t.Fatalf("the cut snapshot took %v", took)
		}
		if ents, _ := os.ReadDir(repo); len(ents) != 0 {
			t.Fatalf("left in the repository: %d entries", len(ents))
		}
	})
}
