package bleve

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

// fill indexes docs n..m-1 into name.
func fill(t *testing.T, b *Backend, name string, from, to int) {
	t.Helper()
	var ops []index.Op
	for i := from; i < to; i++ {
		ops = append(ops, indexOp(fmt.Sprintf("d%d", i), fmt.Sprintf(`{"n":%d,"tag":"v%d"}`, i, i)))
	}
	for _, r := range mustApply(t, b, name, ops...) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

func docCount(t *testing.T, b *Backend, name string) uint64 {
	t.Helper()
	st, err := b.Stats(context.Background(), name)
	if err != nil {
		t.Fatalf("Stats(%s): %v", name, err)
	}
	return st.DocCount
}

// TestCopyIndex copies an index while a writer goes on: the copy holds
// every write acknowledged before the copy began, its mapping and seq_no
// travel with it, and it installs as another index that answers.
func TestCopyIndex(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "src", `{"properties":{"tag":{"type":"keyword"}}}`)
	fill(t, b, "src", 0, 100)

	var acked atomic.Int64
	acked.Store(100)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res, err := b.Apply(ctx, "src", []index.Op{indexOp(fmt.Sprintf("d%d", i), fmt.Sprintf(`{"n":%d}`, i))})
			if err != nil || res[0].Err != nil {
				t.Errorf("write %d: %v %v", i, err, res)
				return
			}
			acked.Store(int64(i + 1))
		}
	}()
	before := acked.Load()
	dir := filepath.Join(t.TempDir(), "copy")
	st, err := b.CopyIndex(ctx, "src", dir, index.CopyOptions{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.DocCount < uint64(before) || st.Files == 0 || st.Bytes == 0 || st.SampleID == "" {
		t.Fatalf("copy stats %+v, %d documents acknowledged before", st, before)
	}
	if _, err := b.CopyIndex(ctx, "src", dir, index.CopyOptions{}); !errors.Is(err, index.ErrExists) {
		t.Fatalf("copy into a non-empty directory: %v", err)
	}
	if _, err := b.CopyIndex(ctx, "missing", filepath.Join(t.TempDir(), "x"), index.CopyOptions{}); !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("copy of a missing index: %v", err)
	}

	stage, err := b.StagingDir(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(stage); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, stage); err != nil {
		t.Fatal(err)
	}
	if err := b.InstallIndex(ctx, "restored", stage, false); err != nil {
		t.Fatal(err)
	}
	if n := docCount(t, b, "restored"); n != st.DocCount {
		t.Fatalf("installed copy holds %d documents, the copy %d", n, st.DocCount)
	}
	for i := range before {
		if _, err := b.Get(ctx, "restored", fmt.Sprintf("d%d", i)); err != nil {
			t.Fatalf("document d%d acknowledged before the copy: %v", i, err)
		}
	}
	if got, want := mappingJSON(t, b, "restored"), mappingJSON(t, b, "src"); got != want {
		t.Fatalf("mapping of the copy %s, source %s", got, want)
	}
	res := mustApply(t, b, "restored", indexOp("fresh", `{"n":-1}`))
	if res[0].SeqNo != int64(st.DocCount) {
		t.Fatalf("first write to the copy got seq_no %d, want %d (the seq_no travels with the copy)", res[0].SeqNo, st.DocCount)
	}
}

// TestInstallIndex checks the refusals of InstallIndex and that readers
// during an overwrite see the old index or the new one, never an error
// or a mix.
func TestInstallIndex(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "live", "")
	fill(t, b, "live", 0, 10)
	copyOf := func() string {
		dir, err := b.StagingDir(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CopyIndex(ctx, "live", dir, index.CopyOptions{}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	ten := copyOf()
	fill(t, b, "live", 10, 25)

	junk, _ := b.StagingDir(ctx)
	t.Run("refusals keep the live index", func(t *testing.T) {
		os.WriteFile(filepath.Join(junk, "index_meta.json"), []byte("{not json"), 0o600)
		cases := []struct {
			name, dir string
			overwrite bool
			want      error
		}{
			{"existing without overwrite", ten, false, index.ErrExists},
			{"not an index", junk, true, nil},
			{"bad name", ten, true, index.ErrInvalid},
		}
		for _, c := range cases {
			name := "live"
			if c.name == "bad name" {
				name = "../escape"
			}
			err := b.InstallIndex(ctx, name, c.dir, c.overwrite)
			if err == nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
			if n := docCount(t, b, "live"); n != 25 {
				t.Fatalf("%s: live index holds %d documents, want 25", c.name, n)
			}
		}
		if _, err := os.Stat(ten); err != nil {
			t.Fatalf("a refused install consumed the copy: %v", err)
		}
	})

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var seen sync.Map
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := b.Search(ctx, []string{"live"}, &index.SearchRequest{CountOnly: true})
				if err != nil {
					t.Errorf("search during install: %v", err)
					return
				}
				seen.Store(res.Total, true)
			}
		}()
	}
	if err := b.InstallIndex(ctx, "live", ten, true); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	seen.Range(func(k, _ any) bool {
		if n := k.(int64); n != 10 && n != 25 {
			t.Errorf("a reader saw %d documents, neither the old 25 nor the new 10", n)
		}
		return true
	})
	if n := docCount(t, b, "live"); n != 10 {
		t.Fatalf("after install: %d documents, want 10", n)
	}
	// The copy was moved in; the old index's directory is gone.
	ents, _ := os.ReadDir(b.dir)
	for _, d := range ents {
		if d.Name() != "live" && d.Name() != filepath.Base(junk) {
			t.Errorf("left behind: %s", d.Name())
		}
	}
}

// TestStagingLeftoversRemovedOnOpen checks that staging directories of a
// crash are removed when the Backend opens.
func TestStagingLeftoversRemovedOnOpen(t *testing.T) {
	dir := t.TempDir()
	b, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	stage, err := b.StagingDir(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	openTestBackend(t, dir, Options{})
	if _, err := os.Stat(stage); !os.IsNotExist(err) {
		t.Fatalf("staging directory %s survived a reopen: %v", stage, err)
	}
}
