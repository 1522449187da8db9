package index

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Entry is one physical index in the catalog: which tenant owns it and
// under which logical name.
type Entry struct {
	Physical string `json:"physical"`
	// Owner is tenants.Ref.Owner() of the owning tenant.
	Owner   string    `json:"owner"`
	Logical string    `json:"logical"`
	Created time.Time `json:"created"`
}

// Template is an index template of one tenant (PUT /_index_template).
type Template struct {
	Name          string          `json:"-"`
	IndexPatterns []string        `json:"index_patterns"`
	Priority      int             `json:"priority"`
	Mappings      *Mapping        `json:"mappings,omitempty"`
	Settings      json.RawMessage `json:"settings,omitempty"`
	Meta          json.RawMessage `json:"_meta,omitempty"`
	Version       *int64          `json:"version,omitempty"`
}

var (
	bucketIndices   = []byte("indices")
	bucketTemplates = []byte("templates")
)

// Catalog maps physical index names to their owning tenant and logical
// name, and keeps each tenant's index templates. It is durable (bbolt,
// fsync on every change) and cached in memory for lookups on the request
// path. Tenants are never recovered by parsing physical names.
type Catalog struct {
	db *bolt.DB
	// ownsDB is set when the catalog opened db and Close must close it.
	ownsDB bool

	// writeMu serialises changes, which fsync; mu guards the in-memory
	// maps and is held only briefly, never across disk I/O, so lookups on
	// the request path never wait for another tenant's fsync.
	writeMu    sync.Mutex
	mu         sync.RWMutex
	byPhysical map[string]Entry
	byOwner    map[string]map[string]string // owner → logical → physical
	templates  map[string]map[string]Template
}

// OpenCatalog opens (or creates) the catalog database at path. Close
// closes it.
func OpenCatalog(path string) (*Catalog, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening catalog %s: %w", path, err)
	}
	c, err := NewCatalog(db)
	if err != nil {
		db.Close()
		return nil, err
	}
	c.ownsDB = true
	return c, nil
}

// NewCatalog keeps the catalog in db, a database shared with other
// stores (the control-plane store's file): it creates its buckets
// "indices" and "templates" there if needed and loads them. Close does
// not close db; its owner does.
func NewCatalog(db *bolt.DB) (*Catalog, error) {
	c := &Catalog{db: db, byPhysical: map[string]Entry{}, byOwner: map[string]map[string]string{}, templates: map[string]map[string]Template{}}
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketIndices, bucketTemplates} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketIndices).ForEach(func(k, v []byte) error {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("catalog entry %q: %w", k, err)
			}
			c.add(e)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketTemplates).ForEach(func(k, v []byte) error {
			owner, name, ok := splitKey(k)
			if !ok {
				return fmt.Errorf("catalog template key %q is malformed", k)
			}
			var t Template
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("catalog template %q: %w", k, err)
			}
			t.Name = name
			c.setTemplate(owner, t)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Close closes the database when the catalog opened it (OpenCatalog);
// a catalog from NewCatalog leaves the shared database open.
func (c *Catalog) Close() error {
	if !c.ownsDB {
		return nil
	}
	return c.db.Close()
}

// MoveCatalog moves the catalog an older data directory keeps in its own
// file at path (OpenCatalog) into db, where NewCatalog keeps it: it copies
// every index entry and template in one transaction, then renames the file
// to path+".moved" so the move happens once. Call it before NewCatalog. A
// missing file is nothing to move (0, nil). A record db already holds with
// other content is an ErrConflict and nothing is copied; the same content
// is skipped, so a move interrupted before the rename can run again. It
// returns how many records it copied.
func MoveCatalog(db *bolt.DB, path string) (int, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	old, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		return 0, fmt.Errorf("opening catalog %s: %w", path, err)
	}
	copied := 0
	err = old.View(func(src *bolt.Tx) error {
		return db.Update(func(dst *bolt.Tx) error {
			for _, name := range [][]byte{bucketIndices, bucketTemplates} {
				from := src.Bucket(name)
				if from == nil {
					continue
				}
				to, err := dst.CreateBucketIfNotExists(name)
				if err != nil {
					return err
				}
				err = from.ForEach(func(k, v []byte) error {
					if have := to.Get(k); have != nil {
						if bytes.Equal(have, v) {
							return nil
						}
						return fmt.Errorf("catalog %s: %s %q differs from the one in the shared database: %w", path, name, k, ErrConflict)
					}
					copied++
					return to.Put(k, v)
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if cerr := old.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("moving catalog %s: %w", path, err)
	}
	if err := os.Rename(path, path+".moved"); err != nil {
		return copied, fmt.Errorf("moving catalog %s: %w", path, err)
	}
	return copied, nil
}

// templateKey is the owner's length (4 bytes, big endian), the owner, and
// the template name: no byte of either can be taken for the other.
func templateKey(owner, name string) []byte {
	k := make([]byte, 4, 4+len(owner)+len(name))
	binary.BigEndian.PutUint32(k, uint32(len(owner)))
	return append(append(k, owner...), name...)
}

func splitKey(k []byte) (string, string, bool) {
	if len(k) < 4 {
		return "", "", false
	}
	n := int(binary.BigEndian.Uint32(k))
	if n > len(k)-4 {
		return "", "", false
	}
	return string(k[4 : 4+n]), string(k[4+n:]), true
}

func (c *Catalog) add(e Entry) {
	c.byPhysical[e.Physical] = e
	m := c.byOwner[e.Owner]
	if m == nil {
		m = map[string]string{}
		c.byOwner[e.Owner] = m
	}
	m[e.Logical] = e.Physical
}

func (c *Catalog) setTemplate(owner string, t Template) {
	m := c.templates[owner]
	if m == nil {
		m = map[string]Template{}
		c.templates[owner] = m
	}
	m[t.Name] = t
}

// Register records a new physical index. It fails with ErrExists when the
// owner already has that logical name, and with ErrConflict when the
// physical name belongs to another tenant (a private tenant named like a
// custom tenant, or a hash collision).
func (c *Catalog) Register(e Entry) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	prev, taken := c.byPhysical[e.Physical]
	_, named := c.byOwner[e.Owner][e.Logical]
	c.mu.RUnlock()
	if taken {
		if prev.Owner == e.Owner && prev.Logical == e.Logical {
			return &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Reason: "index [" + e.Logical + "] already exists", Index: e.Logical}
		}
		return &Error{Kind: ErrConflict, Type: "index_name_collision_exception",
			Reason: fmt.Sprintf("index [%s] maps to the physical index [%s], which belongs to another tenant; rename the index or the tenant", e.Logical, e.Physical), Index: e.Logical}
	}
	if named {
		return &Error{Kind: ErrExists, Type: "resource_already_exists_exception", Reason: "index [" + e.Logical + "] already exists", Index: e.Logical}
	}
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndices).Put([]byte(e.Physical), raw)
	}); err != nil {
		return fmt.Errorf("registering index %s: %w", e.Physical, err)
	}
	c.mu.Lock()
	c.add(e)
	c.mu.Unlock()
	return nil
}

// Unregister forgets a physical index.
func (c *Catalog) Unregister(physical string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	e, ok := c.byPhysical[physical]
	c.mu.RUnlock()
	if !ok {
		return nil
	}
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndices).Delete([]byte(physical))
	}); err != nil {
		return fmt.Errorf("unregistering index %s: %w", physical, err)
	}
	c.mu.Lock()
	delete(c.byPhysical, physical)
	delete(c.byOwner[e.Owner], e.Logical)
	c.mu.Unlock()
	return nil
}

// Lookup returns the physical name of owner's logical index.
func (c *Catalog) Lookup(owner, logical string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.byOwner[owner][logical]
	return p, ok
}

// Entry returns the catalog entry of a physical index.
func (c *Catalog) Entry(physical string) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.byPhysical[physical]
	return e, ok
}

// List returns owner's indices sorted by logical name.
func (c *Catalog) List(owner string) []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Entry, 0, len(c.byOwner[owner]))
	for _, p := range c.byOwner[owner] {
		out = append(out, c.byPhysical[p])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Logical < out[j].Logical })
	return out
}

// All returns every entry sorted by physical name.
func (c *Catalog) All() []Entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Entry, 0, len(c.byPhysical))
	for _, e := range c.byPhysical {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Physical < out[j].Physical })
	return out
}

// PutTemplate creates or replaces one of owner's index templates.
func (c *Catalog) PutTemplate(owner string, t Template) error {
	raw, err := json.Marshal(t)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTemplates).Put(templateKey(owner, t.Name), raw)
	}); err != nil {
		return fmt.Errorf("storing template %s: %w", t.Name, err)
	}
	c.mu.Lock()
	c.setTemplate(owner, t)
	c.mu.Unlock()
	return nil
}

// DeleteTemplate removes one of owner's templates; ErrNotFound if absent.
func (c *Catalog) DeleteTemplate(owner, name string) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.mu.RLock()
	_, ok := c.templates[owner][name]
	c.mu.RUnlock()
	if !ok {
		return NotFoundf("resource_not_found_exception", "index template matching [%s] not found", name)
	}
	if err := c.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketTemplates).Delete(templateKey(owner, name))
	}); err != nil {
		return fmt.Errorf("deleting template %s: %w", name, err)
	}
	c.mu.Lock()
	delete(c.templates[owner], name)
	c.mu.Unlock()
	return nil
}

// Templates returns owner's templates sorted by name.
func (c *Catalog) Templates(owner string) []Template {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]Template, 0, len(c.templates[owner]))
	for _, t := range c.templates[owner] {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
