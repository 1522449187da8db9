package bleve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// newTestBackend returns a Backend over a temporary directory, closed when
// the test ends.
func newTestBackend(t *testing.T, opts Options) *Backend {
	t.Helper()
	return openTestBackend(t, t.TempDir(), opts)
}

func openTestBackend(t *testing.T, dir string, opts Options) *Backend {
	t.Helper()
	b, err := New(dir, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// mustCreate creates index name with the mapping given as JSON ("" for
// none).
func mustCreate(t *testing.T, b *Backend, name, mappingJSON string) {
	t.Helper()
	var m *index.Mapping
	if mappingJSON != "" {
		var err error
		if m, err = index.ParseMapping([]byte(mappingJSON)); err != nil {
			t.Fatalf("ParseMapping: %v", err)
		}
	}
	if err := b.CreateIndex(context.Background(), name, m); err != nil {
		t.Fatalf("CreateIndex(%s): %v", name, err)
	}
}

// mustApply runs ops and fails the test on a whole-call error.
func mustApply(t *testing.T, b *Backend, name string, ops ...index.Op) []index.OpResult {
	t.Helper()
	res, err := b.Apply(context.Background(), name, ops)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

func indexOp(id, src string) index.Op {
	return index.Op{Type: index.OpIndex, ID: id, Source: json.RawMessage(src)}
}

func mappingJSON(t *testing.T, b *Backend, name string) string {
	t.Helper()
	m, err := b.Mapping(context.Background(), name)
	if err != nil {
		t.Fatalf("Mapping: %v", err)
	}
	raw, _ := json.Marshal(m)
	return string(raw)
}

func TestIndexLifecycle(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, Options{})
	if ok, err := b.Exists(ctx, "logs"); err != nil || ok {
		t.Fatalf("Exists before create = %v, %v", ok, err)
	}
	mustCreate(t, b, "logs", `{"properties":{"msg":{"type":"text"}}}`)
	if ok, err := b.Exists(ctx, "logs"); err != nil || !ok {
		t.Fatalf("Exists after create = %v, %v", ok, err)
	}
	err := b.CreateIndex(ctx, "logs", nil)
	var ie *index.Error
	if !errors.Is(err, index.ErrExists) || !errors.As(err, &ie) || ie.Type != "resource_already_exists_exception" {
		t.Fatalf("second create: %v", err)
	}
	if got := mappingJSON(t, b, "logs"); got != `{"properties":{"msg":{"type":"text"}}}` {
		t.Errorf("mapping = %s", got)
	}
	if err := b.DeleteIndex(ctx, "logs"); err != nil {
		t.Fatalf("DeleteIndex: %v", err)
	}
	if ok, _ := b.Exists(ctx, "logs"); ok {
		t.Fatal("exists after delete")
	}
	if _, err := os.Stat(filepath.Join(b.dir, "logs")); !os.IsNotExist(err) {
		t.Fatalf("directory still there: %v", err)
	}
	err = b.DeleteIndex(ctx, "logs")
	if !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	_, err = b.Get(ctx, "logs", "1")
	if !errors.As(err, &ie) || ie.Type != "index_not_found_exception" || ie.Reason != "no such index [logs]" {
		t.Fatalf("Get on missing index: %v", err)
	}
	// Recreating after a delete starts empty.
	mustCreate(t, b, "logs", "")
	if got := mappingJSON(t, b, "logs"); got != `{}` {
		t.Errorf("mapping after recreate = %s", got)
	}
}

func TestInvalidNames(t *testing.T) {
	b := newTestBackend(t, Options{})
	for _, name := range []string{"", ".", "..", "a/b", `a\b`, "a..b", "../x", "x\x00y"} {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			if err := b.CreateIndex(context.Background(), name, nil); !errors.Is(err, index.ErrInvalid) {
				t.Errorf("CreateIndex = %v, want ErrInvalid", err)
			}
			if _, _, err := b.acquire(context.Background(), name); !errors.Is(err, index.ErrInvalid) {
				t.Errorf("acquire = %v, want ErrInvalid", err)
			}
			if err := b.DeleteIndex(context.Background(), name); !errors.Is(err, index.ErrInvalid) {
				t.Errorf("DeleteIndex = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestCreateRejectsBadMapping(t *testing.T) {
	b := newTestBackend(t, Options{})
	m := &index.Mapping{Properties: map[string]*index.Property{"x": {Type: "nope"}}}
	if err := b.CreateIndex(context.Background(), "bad", m); !errors.Is(err, index.ErrInvalid) {
		t.Fatalf("CreateIndex = %v, want ErrInvalid", err)
	}
	if ok, _ := b.Exists(context.Background(), "bad"); ok {
		t.Fatal("bad index was created")
	}
}

func TestCreateRejectsBadDateFormat(t *testing.T) {
	b := newTestBackend(t, Options{})
	m, err := index.ParseMapping([]byte(`{"properties":{"d":{"type":"date","format":"yyyy-MM-dd||qqq"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.CreateIndex(context.Background(), "bad", m); !errors.Is(err, index.ErrInvalid) {
		t.Fatalf("CreateIndex = %v, want ErrInvalid", err)
	}
}

func TestRecoverErr(t *testing.T) {
	f := func() (err error) {
		defer recoverErr(&err, "doing x")
		panic("boom")
	}
	if err := f(); err == nil || err.Error() != "doing x: internal error: boom" {
		t.Fatalf("err = %v", err)
	}
}

func TestGetByteForByte(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "docs", "")
	sources := map[string]string{
		"spacing": "{ \"b\" :1,\n\t\"a\":  [ 1 , 2 ]   }",
		"unicode": `{"name":"Zoë \u00e9 日本語 🎉","esc":"\"quoted\"\\n"}`,
		"order":   `{"z":1,"a":2,"m":{"y":1,"b":2}}`,
		"numbers": `{"big":12345678901234567890,"f":1.50,"e":1e3}`,
	}
	for id, src := range sources {
		res := mustApply(t, b, "docs", indexOp(id, src))
		if res[0].Err != nil {
			t.Fatalf("index %s: %v", id, res[0].Err)
		}
	}
	for id, src := range sources {
		t.Run(id, func(t *testing.T) {
			d, err := b.Get(context.Background(), "docs", id)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if string(d.Source) != src {
				t.Errorf("source = %q, want %q", d.Source, src)
			}
			if d.Version != 1 || d.ID != id {
				t.Errorf("doc = %+v", d)
			}
		})
	}
	_, err := b.Get(context.Background(), "docs", "missing")
	if !errors.Is(err, index.ErrNotFound) {
		t.Fatalf("Get missing doc: %v", err)
	}
}

func TestRestartKeepsDocsMappingAndSeqNo(t *testing.T) {
	dir := t.TempDir()
	b, err := New(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, b, "r", `{"properties":{"n":{"type":"long"}}}`)
	mustApply(t, b, "r", indexOp("1", `{"n": 1, "tag": "x"}`), indexOp("2", `{"n":2}`))
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := b.Get(context.Background(), "r", "1"); !errors.Is(err, index.ErrClosed) {
		t.Fatalf("Get after Close = %v, want ErrClosed", err)
	}
	b2 := openTestBackend(t, dir, Options{})
	d, err := b2.Get(context.Background(), "r", "1")
	if err != nil || string(d.Source) != `{"n": 1, "tag": "x"}` || d.Version != 1 || d.SeqNo != 0 {
		t.Fatalf("Get after restart = %+v, %v", d, err)
	}
	m, _ := b2.Mapping(context.Background(), "r")
	if p, ok := m.Lookup("tag.keyword"); !ok || p.Type != index.TypeKeyword {
		t.Errorf("dynamic field lost on restart: %s", mappingJSON(t, b2, "r"))
	}
	res := mustApply(t, b2, "r", indexOp("1", `{"n":3}`))
	if res[0].SeqNo != 2 || res[0].Version != 2 || res[0].Result != "updated" {
		t.Errorf("after restart: %+v", res[0])
	}
	st, err := b2.Stats(context.Background(), "r")
	if err != nil || st.DocCount != 2 || st.SizeBytes == 0 {
		t.Errorf("Stats = %+v, %v", st, err)
	}
}

func TestConcurrentApply(t *testing.T) {
	b := newTestBackend(t, Options{MaxOpen: 2})
	names := []string{"c0", "c1", "c2"}
	for _, n := range names {
		mustCreate(t, b, n, "")
	}
	const writers, perWriter = 6, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				name := names[(w+i)%len(names)]
				// Each writer adds its own field so mapping updates race.
				src := fmt.Sprintf(`{"w%d":%d,"shared":"s"}`, w, i)
				res, err := b.Apply(context.Background(), name, []index.Op{indexOp(fmt.Sprintf("%d-%d", w, i), src)})
				if err != nil || res[0].Err != nil {
					t.Errorf("Apply: %v %v", err, res)
					return
				}
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, n := range names {
		st, err := b.Stats(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		total += st.DocCount
		m, _ := b.Mapping(context.Background(), n)
		for w := range writers {
			if _, ok := m.Lookup(fmt.Sprintf("w%d", w)); !ok {
				t.Errorf("%s: mapping lost field w%d: %s", n, w, mappingJSON(t, b, n))
			}
		}
	}
	if total != writers*perWriter {
		t.Errorf("total docs = %d, want %d", total, writers*perWriter)
	}
	// seq_no is unique and monotonic per index.
	res := mustApply(t, b, "c0", indexOp("last", `{}`))
	if res[0].SeqNo != int64(writers*perWriter/len(names)) {
		t.Errorf("seq_no after %d writes = %d", writers*perWriter/len(names), res[0].SeqNo)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
