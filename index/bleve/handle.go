package bleve

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/tenantgate/tenantgate/index"
)

// Keys of the values tenantgate keeps inside each Bleve index with
// SetInternal.
var (
	internalMapping = []byte("_tenantgate_mapping")
	internalSeqNo   = []byte("_tenantgate_seq_no")
)

// handle is one open physical index. The Backend hands it out pinned
// through acquire; it stays open until every pin is released.
type handle struct {
	// name is the physical index name; idx.Name() returns it too.
	name string
	path string
	idx  bleve.Index

	// analyzers holds the Bleve analyzers of the index mapping by Bleve
	// analyzer name (analyzerStandard, analyzerKeyword, …).
	analyzers map[string]analysis.Analyzer

	// current is the published OpenSearch mapping. It is never mutated:
	// a dynamic update stores a new pointer.
	current atomic.Pointer[index.Mapping]

	// writeMu serializes writes (Apply): versions, seq_no and mapping
	// updates are read-modify-write.
	writeMu sync.Mutex
	// seqNo is the last sequence number handed out; guarded by writeMu.
	seqNo int64
}

// mapping returns the current OpenSearch mapping. The result is shared
// and must not be modified; use Clone to change it.
func (h *handle) mapping() *index.Mapping {
	return h.current.Load()
}

// analyzer returns the Bleve analyzer with the given name (as returned by
// analyzerFor), or nil if the index mapping has none.
func (h *handle) analyzer(name string) analysis.Analyzer {
	if a, ok := h.analyzers[name]; ok {
		return a
	}
	return h.idx.Mapping().AnalyzerNamed(name)
}

// createHandle creates a new Bleve index at path with mapping m and
// returns it open. It fails with ErrExists if path exists.
func createHandle(name, path string, m *index.Mapping) (h *handle, err error) {
	defer recoverErr(&err, "creating index "+name)
	if _, err := os.Stat(path); err == nil {
		return nil, existsError(name)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("creating index %q: %w", name, err)
	}
	if m == nil {
		m = &index.Mapping{}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding mapping of %q: %w", name, err)
	}
	idx, err := bleve.New(path, newIndexMapping())
	if err != nil {
		if errors.Is(err, bleve.ErrorIndexPathExists) {
			return nil, existsError(name)
		}
		return nil, fmt.Errorf("creating index %q: %w", name, err)
	}
	b := idx.NewBatch()
	b.SetInternal(internalMapping, raw)
	b.SetInternal(internalSeqNo, []byte("-1"))
	if err := idx.Batch(b); err != nil {
		_ = idx.Close()
		_ = os.RemoveAll(path)
		return nil, fmt.Errorf("storing mapping of %q: %w", name, err)
	}
	return newHandle(name, path, idx, m.Clone(), -1), nil
}

// openHandle opens the existing Bleve index at path. It fails with an
// index_not_found_exception if there is none.
func openHandle(name, path string) (h *handle, err error) {
	defer recoverErr(&err, "opening index "+name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, notFoundError(name)
	}
	idx, err := bleve.Open(path)
	if err != nil {
		if errors.Is(err, bleve.ErrorIndexPathDoesNotExist) {
			return nil, notFoundError(name)
		}
		return nil, fmt.Errorf("opening index %q: %w", name, err)
	}
	m, seq, err := loadState(idx)
	if err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("opening index %q: %w", name, err)
	}
	return newHandle(name, path, idx, m, seq), nil
}

// loadState reads the mapping and the sequence number kept inside idx. A
// missing mapping (a crash right after creation) is an empty one.
func loadState(idx bleve.Index) (*index.Mapping, int64, error) {
	m := &index.Mapping{}
	raw, err := idx.GetInternal(internalMapping)
	if err != nil {
		return nil, 0, fmt.Errorf("reading mapping: %w", err)
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, m); err != nil {
			return nil, 0, fmt.Errorf("decoding mapping: %w", err)
		}
	}
	seq := int64(-1)
	raw, err = idx.GetInternal(internalSeqNo)
	if err != nil {
		return nil, 0, fmt.Errorf("reading seq_no: %w", err)
	}
	if len(raw) > 0 {
		if seq, err = strconv.ParseInt(string(raw), 10, 64); err != nil {
			return nil, 0, fmt.Errorf("decoding seq_no: %w", err)
		}
	}
	return m, seq, nil
}

func newHandle(name, path string, idx bleve.Index, m *index.Mapping, seq int64) *handle {
	idx.SetName(name)
	h := &handle{name: name, path: path, idx: idx, seqNo: seq, analyzers: map[string]analysis.Analyzer{}}
	for _, a := range analyzerNames {
		if an := idx.Mapping().AnalyzerNamed(a); an != nil {
			h.analyzers[a] = an
		}
	}
	h.current.Store(m)
	return h
}

// close closes the Bleve index.
func (h *handle) close() (err error) {
	defer recoverErr(&err, "closing index "+h.name)
	return h.idx.Close()
}

// recoverErr turns a panic (inside Bleve) into an error. Use it deferred.
func recoverErr(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: internal error: %v", what, r)
	}
}

func notFoundError(name string) *index.Error {
	e := index.NotFoundf("index_not_found_exception", "no such index [%s]", name)
	e.Index = name
	return e
}

func existsError(name string) *index.Error {
	return &index.Error{Kind: index.ErrExists, Type: "resource_already_exists_exception",
		Reason: fmt.Sprintf("index [%s] already exists", name), Index: name}
}
