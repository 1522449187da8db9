package snapshot_test

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/tenantgate/tenantgate/snapshot"
)

// TestZstdWindowBounded re-compresses a good snapshot with a zstd stream
// that asks for a 256 MiB decoder window (memory a crafted archive could
// make every list, verify or restore allocate): it is refused as corrupt
// and listed as incomplete, while the same bytes with a small window read
// fine.
func TestZstdWindowBounded(t *testing.T) {
	src := start(t)
	bulk(t, src, "human_resources", "staff", "s", 0, 10)
	dir := t.TempDir()
	res, err := snapshot.Create(context.Background(), instanceOf(t, src),
		snapshot.Options{Out: filepath.Join(dir, "hr.tar.gz"), Name: "hr", Tenant: "human_resources", ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	recompress := func(name string, window int) string {
		t.Helper()
		in, err := os.Open(res.Path)
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		gr, err := gzip.NewReader(in)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		out, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw, err := zstd.NewWriter(out, zstd.WithWindowSize(window), zstd.WithSingleSegment(false))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(zw, gr); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := snapshot.ReadManifest(recompress("small.tar.zst", 1<<20)); err != nil {
		t.Fatalf("a small window: %v", err)
	}
	// The same stream, its frame header's window descriptor raised to
	// 2^28 bytes (exponent 18): Frame_Header_Descriptor at byte 4 (no
	// single-segment flag), Window_Descriptor at byte 5.
	big := recompress("big.tar.zst", 1<<20)
	raw, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	if raw[4]&0x20 != 0 {
		t.Fatalf("the encoder wrote a single-segment frame (descriptor %#x)", raw[4])
	}
	raw[5] = 18 << 3
	if err := os.WriteFile(big, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.ReadManifest(big); !errors.Is(err, snapshot.ErrCorrupt) {
		t.Fatalf("a 256 MiB window: %v, want ErrCorrupt", err)
	}
	infos, err := snapshot.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range infos {
		if in.Path == big && in.Complete {
			t.Fatalf("List shows the crafted archive as complete: %+v", in)
		}
	}
}
