package bleve

import (
	containerlist "container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// entryState is the life cycle of one index in the Backend.
type entryState int

const (
	// stateOpening: a goroutine is opening or creating the index; others
	// wait.
	stateOpening entryState = iota
	// stateOpen: h is usable; the entry is in the LRU list.
	stateOpen
	// stateClosing: the index is being closed or deleted; others wait
	// and then open it again (or find it gone).
	stateClosing
)

// entry is the Backend's per-name state. All fields are guarded by
// Backend.mu; h is immutable once the entry is open.
type entry struct {
	name     string
	state    entryState
	h        *handle
	pins     int
	lastUsed time.Time
	elem     *containerlist.Element
	// deleting stops new pins while DeleteIndex waits for old ones.
	deleting bool
}

// trashPrefix starts the name a deleted index directory is renamed to
// before removal. validName refuses "..", so no index can be named so.
const trashPrefix = "..deleted-"

// acquire returns the open index name, opening it if needed, pinned so it
// stays open until the returned release func is called (exactly once;
// later calls do nothing). It fails with an index_not_found_exception
// *index.Error if the index does not exist, and with index.ErrClosed after
// Close.
func (b *Backend) acquire(ctx context.Context, name string) (*handle, func(), error) {
	if err := validName(name); err != nil {
		return nil, nil, err
	}
	return b.pin(ctx, name, false, nil)
}

// pin implements acquire; with create it creates the index with mapping m
// instead of opening it.
func (b *Backend) pin(ctx context.Context, name string, create bool, m *index.Mapping) (*handle, func(), error) {
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return nil, nil, index.ErrClosed
		}
		e, ok := b.entries[name]
		if !ok {
			break
		}
		if e.state == stateOpen && !e.deleting {
			if create {
				b.mu.Unlock()
				return nil, nil, existsError(name)
			}
			e.pins++
			b.touchLocked(e)
			b.mu.Unlock()
			return e.h, b.releaser(e), nil
		}
		if err := b.waitLocked(ctx); err != nil {
			b.mu.Unlock()
			return nil, nil, err
		}
	}
	e := &entry{name: name, state: stateOpening, pins: 1}
	b.entries[name] = e
	b.mu.Unlock()

	var h *handle
	var err error
	if create {
		h, err = createHandle(name, b.path(name), m)
	} else {
		h, err = openHandle(name, b.path(name))
	}

	b.mu.Lock()
	if err != nil {
		delete(b.entries, name)
		b.broadcastLocked()
		b.mu.Unlock()
		return nil, nil, err
	}
	e.h, e.state = h, stateOpen
	e.elem = b.lru.PushFront(e)
	b.touchLocked(e)
	victims := b.evictLocked(time.Time{})
	b.broadcastLocked()
	b.mu.Unlock()
	b.closeEntries(victims)
	return h, b.releaser(e), nil
}

// releaser returns the release func of one pin of e.
func (b *Backend) releaser(e *entry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			e.pins--
			var victims []*entry
			if e.pins == 0 {
				e.lastUsed = time.Now()
				if !b.closed {
					victims = b.evictLocked(time.Time{})
				}
				b.broadcastLocked()
			}
			b.mu.Unlock()
			b.closeEntries(victims)
		})
	}
}

// touchLocked marks e as just used.
func (b *Backend) touchLocked(e *entry) {
	e.lastUsed = time.Now()
	if e.elem != nil {
		b.lru.MoveToFront(e.elem)
	}
}

// evictLocked picks the unpinned open entries to close: the least
// recently used ones while more than MaxOpen are open, and those unused
// since idleBefore (if not zero). It marks them closing; the caller closes
// them with closeEntries after unlocking.
func (b *Backend) evictLocked(idleBefore time.Time) []*entry {
	over := b.lru.Len() - b.opts.MaxOpen
	var victims []*entry
	for el := b.lru.Back(); el != nil; {
		e := el.Value.(*entry)
		prev := el.Prev()
		if e.pins == 0 && !e.deleting && (over > 0 || !idleBefore.IsZero() && e.lastUsed.Before(idleBefore)) {
			e.state = stateClosing
			b.lru.Remove(el)
			e.elem = nil
			victims = append(victims, e)
			over--
		}
		el = prev
	}
	return victims
}

// closeEntries closes entries marked closing and forgets them.
func (b *Backend) closeEntries(victims []*entry) error {
	var errs []error
	for _, e := range victims {
		if err := e.h.close(); err != nil {
			b.log.Error("closing index", "index", e.name, "error", err)
			errs = append(errs, err)
		}
		b.mu.Lock()
		if b.entries[e.name] == e {
			delete(b.entries, e.name)
		}
		b.broadcastLocked()
		b.mu.Unlock()
	}
	return errors.Join(errs...)
}

// broadcastLocked wakes every waitLocked.
func (b *Backend) broadcastLocked() {
	close(b.changed)
	b.changed = make(chan struct{})
}

// waitLocked waits, with b.mu released, until some entry changes state or
// ctx ends. It returns with b.mu held.
func (b *Backend) waitLocked(ctx context.Context) error {
	ch := b.changed
	b.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	return err
}

// remove closes the index name (waiting for its pins) and deletes its
// directory.
func (b *Backend) remove(ctx context.Context, name string) error {
	b.mu.Lock()
	for {
		if b.closed {
			b.mu.Unlock()
			return index.ErrClosed
		}
		e, ok := b.entries[name]
		if !ok {
			e = &entry{name: name, state: stateClosing}
			b.entries[name] = e
			b.mu.Unlock()
			return b.finishRemove(e, nil)
		}
		if e.state == stateOpen && e.pins == 0 {
			e.state = stateClosing
			b.lru.Remove(e.elem)
			e.elem = nil
			b.mu.Unlock()
			return b.finishRemove(e, e.h)
		}
		if e.state == stateOpen {
			e.deleting = true
		}
		if err := b.waitLocked(ctx); err != nil {
			if e.deleting && b.entries[name] == e {
				e.deleting = false
				b.broadcastLocked()
			}
			b.mu.Unlock()
			return fmt.Errorf("deleting index %q: %w", name, err)
		}
	}
}

// finishRemove closes h (if open), removes the directory of e and forgets
// e.
func (b *Backend) finishRemove(e *entry, h *handle) error {
	var err error
	if h != nil {
		if cerr := h.close(); cerr != nil {
			b.log.Error("closing index before delete", "index", e.name, "error", cerr)
		}
	}
	err = b.removeDir(e.name)
	b.mu.Lock()
	delete(b.entries, e.name)
	b.broadcastLocked()
	b.mu.Unlock()
	return err
}

// removeDir moves the directory of index name aside (so a crash never
// leaves half an index under its name) and removes it.
func (b *Backend) removeDir(name string) error {
	path := b.path(name)
	if _, err := os.Stat(path); err != nil {
		if os.IsNotExist(err) {
			return notFoundError(name)
		}
		return fmt.Errorf("deleting index %q: %w", name, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	trash := filepath.Join(b.dir, trashPrefix+hex.EncodeToString(rnd[:]))
	if err := os.Rename(path, trash); err != nil {
		return fmt.Errorf("deleting index %q: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		b.log.Warn("removing deleted index files", "index", name, "error", err)
	}
	return nil
}

// removeTrash removes directories of deletions interrupted by a crash.
func (b *Backend) removeTrash() {
	ents, err := os.ReadDir(b.dir)
	if err != nil {
		return
	}
	for _, d := range ents {
		if strings.HasPrefix(d.Name(), trashPrefix) {
			_ = os.RemoveAll(filepath.Join(b.dir, d.Name()))
		}
	}
}

// janitor closes idle indices until Close.
func (b *Backend) janitor() {
	defer close(b.janitorDone)
	interval := min(max(b.opts.IdleClose/4, 5*time.Millisecond), time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stopJanitor:
			return
		case <-t.C:
		}
		b.mu.Lock()
		var victims []*entry
		if !b.closed {
			victims = b.evictLocked(time.Now().Add(-b.opts.IdleClose))
		}
		b.mu.Unlock()
		b.closeEntries(victims)
	}
}

// Close waits for operations in progress, closes every open index and
// stops the janitor. Later calls of any method return index.ErrClosed.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	close(b.stopJanitor)
	for b.busyLocked() {
		_ = b.waitLocked(context.Background())
	}
	var victims []*entry
	for _, e := range b.entries {
		if e.state == stateOpen {
			e.state = stateClosing
			b.lru.Remove(e.elem)
			e.elem = nil
			victims = append(victims, e)
		}
	}
	b.mu.Unlock()
	<-b.janitorDone
	return b.closeEntries(victims)
}

// busyLocked reports whether some index is pinned, opening or closing.
func (b *Backend) busyLocked() bool {
	for _, e := range b.entries {
		if e.pins > 0 || e.state != stateOpen {
			return true
		}
	}
	return false
}
