package bleve

import (
	containerlist "container/list"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

var _ index.Backend = (*Backend)(nil)

// Options tune a Backend. Zero values mean the defaults.
type Options struct {
	// MaxOpen bounds the number of open indices (default 256). When all
	// open indices are in use the bound is exceeded until one is released.
	MaxOpen int
	// IdleClose closes an index unused for this long (default 10m).
	IdleClose time.Duration
	// Logger receives close errors and similar events (default
	// slog.Default()).
	Logger *slog.Logger
}

// Backend is the embedded index.Backend: each physical index is a Bleve
// index in the directory <dir>/<name>. It is safe for concurrent use.
type Backend struct {
	dir  string
	opts Options
	log  *slog.Logger

	mu sync.Mutex
	// entries holds every index that is opening, open or closing.
	entries map[string]*entry
	// lru orders the open entries, most recently used first.
	lru *containerlist.List
	// changed is closed and replaced whenever an entry changes state, so
	// waiters can re-check (a broadcast that works with select).
	changed chan struct{}
	closed  bool

	stopJanitor chan struct{}
	janitorDone chan struct{}
}

// New returns a Backend that keeps its indices under dir, creating dir if
// needed, and starts its idle-close janitor. Call Close to stop it.
func New(dir string, opts Options) (*Backend, error) {
	if opts.MaxOpen <= 0 {
		opts.MaxOpen = 256
	}
	if opts.IdleClose <= 0 {
		opts.IdleClose = 10 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating index directory: %w", err)
	}
	b := &Backend{
		dir:         dir,
		opts:        opts,
		log:         opts.Logger,
		entries:     map[string]*entry{},
		lru:         containerlist.New(),
		changed:     make(chan struct{}),
		stopJanitor: make(chan struct{}),
		janitorDone: make(chan struct{}),
	}
	b.removeTrash()
	go b.janitor()
	return b, nil
}

// validName refuses physical names that could escape the data directory
// or are not portable directory names.
func validName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || strings.Contains(name, "..") {
		e := index.Invalidf("invalid_index_name_exception", "invalid index name [%s]", name)
		e.Index = name
		return e
	}
	return nil
}

func (b *Backend) path(name string) string { return filepath.Join(b.dir, name) }

// CreateIndex creates a physical index with mapping m (nil means empty and
// fully dynamic). The mapping is validated as OpenSearch would.
func (b *Backend) CreateIndex(ctx context.Context, name string, m *index.Mapping) (err error) {
	if err := validName(name); err != nil {
		return err
	}
	defer func() { aboutIndex(err, name) }()
	if m != nil {
		raw, err := json.Marshal(m)
		if err != nil {
			return index.Invalidf("mapper_parsing_exception", "mapping cannot be encoded: %v", err)
		}
		if m, err = index.ParseMapping(raw); err != nil {
			return err
		}
		for _, fp := range m.Paths() {
			if fp.Property.Type != index.TypeDate || fp.Property.Format == "" {
				continue
			}
			if err := checkDateFormat(fp.Property.Format); err != nil {
				return index.Invalidf("mapper_parsing_exception", "failed to parse mapping: %v for field [%s]", err, fp.Path)
			}
		}
	}
	_, release, err := b.pin(ctx, name, true, m)
	if err != nil {
		return err
	}
	release()
	return nil
}

// DeleteIndex closes the index, waiting for operations in progress, and
// removes its directory.
func (b *Backend) DeleteIndex(ctx context.Context, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	return b.remove(ctx, name)
}

// Exists reports whether the physical index exists.
func (b *Backend) Exists(ctx context.Context, name string) (bool, error) {
	if err := validName(name); err != nil {
		return false, err
	}
	b.mu.Lock()
	closed := b.closed
	e := b.entries[name]
	b.mu.Unlock()
	if closed {
		return false, index.ErrClosed
	}
	if e != nil && e.state == stateOpen {
		return true, nil
	}
	_, err := os.Stat(b.path(name))
	if err == nil {
		return true, nil
	}
	if os.IsNotExist(err) {
		return false, nil
	}
	return false, fmt.Errorf("checking index %q: %w", name, err)
}

// Mapping returns a copy of the current mapping of the index.
func (b *Backend) Mapping(ctx context.Context, name string) (*index.Mapping, error) {
	h, release, err := b.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	defer release()
	return h.mapping().Clone(), nil
}

// Stats returns the document count and the size on disk of the index.
func (b *Backend) Stats(ctx context.Context, name string) (st index.Stats, err error) {
	h, release, err := b.acquire(ctx, name)
	if err != nil {
		return st, err
	}
	defer release()
	defer recoverErr(&err, "stats of index "+name)
	n, err := h.idx.DocCount()
	if err != nil {
		return st, fmt.Errorf("counting documents of %q: %w", name, err)
	}
	st.DocCount = n
	err = filepath.WalkDir(h.path, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			// Segments come and go while scorch merges.
			return nil
		}
		if info, ierr := d.Info(); ierr == nil && !d.IsDir() {
			st.SizeBytes += uint64(info.Size())
		}
		return nil
	})
	return st, err
}
