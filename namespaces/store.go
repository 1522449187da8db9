package namespaces

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/secrets"
)

// IndexName is the logical name of the namespaces index in every tenant.
const IndexName = ".namespaces"

// Indices is what the store needs from storage: one tenant's indices by
// logical name. *index.View of the system kind implements it.
type Indices interface {
	CreateIndex(ctx context.Context, logical string, m *index.Mapping) error
	Apply(ctx context.Context, logical string, ops []index.Op) ([]index.OpResult, error)
	Get(ctx context.Context, logical, id string) (*index.Doc, error)
	Search(ctx context.Context, expr string, req *index.SearchRequest) (*index.SearchResult, error)
}

var _ Indices = (*index.View)(nil)

// Document kinds in the namespaces index.
const (
	kindNamespace = "namespace"
	kindSecret    = "secret"
)

const (
	maxRetries = 5
	pageSize   = 1000
)

// Mapping returns the explicit mapping of a .namespaces index. Dynamic
// is false: variables, plugin defaults and ciphertexts stay in _source
// and are never indexed.
func Mapping() *index.Mapping {
	kw := func() *index.Property { return &index.Property{Type: index.TypeKeyword} }
	return &index.Mapping{Dynamic: "false", Properties: map[string]*index.Property{
		"kind":        kw(),
		"namespace":   kw(),
		"key":         kw(),
		"fingerprint": kw(),
		"description": {Type: index.TypeText},
		"created":     {Type: index.TypeDate},
		"updated":     {Type: index.TypeDate},
	}}
}

// document is the JSON shape of both document kinds.
type document struct {
	Kind           string          `json:"kind"`
	Namespace      string          `json:"namespace"`
	Key            string          `json:"key,omitempty"`
	Description    string          `json:"description,omitempty"`
	Variables      map[string]any  `json:"variables,omitempty"`
	PluginDefaults []PluginDefault `json:"pluginDefaults,omitempty"`
	// Sealed is the ciphertext of a secret (base64 in JSON).
	Sealed []byte `json:"sealed,omitempty"`
	// Fingerprint is secrets.Key.Fingerprint of the key that sealed a
	// secret, so that start-up (CheckKey) tells a wrong key from
	// corrupt data without decrypting anything.
	Fingerprint string `json:"fingerprint,omitempty"`
	Created     string `json:"created"`
	Updated     string `json:"updated"`
}

func namespaceDocID(ns string) string   { return "ns|" + ns }
func secretDocID(ns, key string) string { return "secret|" + ns + "|" + key }

// Store keeps the namespaces and secrets of one tenant. It is safe for
// concurrent use: changes are conditional on the document's sequence
// number.
type Store struct {
	ix     Indices
	tenant string
	key    secrets.Key
	now    func() time.Time
	ready  atomic.Bool
}

// NewStore returns the store over ix, one tenant's system view. tenant
// is the tenant's name, bound into every sealed secret; key encrypts
// secrets (the zero Key disables them); now is the clock (nil means
// time.Now).
func NewStore(ix Indices, tenant string, key secrets.Key, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{ix: ix, tenant: tenant, key: key, now: now}
}

func (s *Store) ensure(ctx context.Context) error {
	if s.ready.Load() {
		return nil
	}
	err := s.ix.CreateIndex(ctx, IndexName, Mapping())
	if err != nil && !errors.Is(err, index.ErrExists) {
		return fmt.Errorf("creating %s: %w", IndexName, err)
	}
	s.ready.Store(true)
	return nil
}

func (s *Store) stamp() string { return s.now().UTC().Format(time.RFC3339Nano) }

// read returns the document id and its sequence number; nil when absent
// (or when the index does not exist yet).
func (s *Store) read(ctx context.Context, id string) (*document, int64, error) {
	d, err := s.ix.Get(ctx, IndexName, id)
	if errors.Is(err, index.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading %s: %w", id, err)
	}
	var doc document
	if err := json.Unmarshal(d.Source, &doc); err != nil {
		return nil, 0, fmt.Errorf("decoding %s: %w", id, err)
	}
	return &doc, d.SeqNo, nil
}

var errLostRace = errors.New("namespace changed concurrently")

// write stores doc under id: created when prev is false, else replaced
// on condition that it is still at seq.
func (s *Store) write(ctx context.Context, id string, doc *document, prev bool, seq int64) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", id, err)
	}
	op := index.Op{Type: index.OpCreate, ID: id, Source: raw}
	if prev {
		term := int64(1)
		op = index.Op{Type: index.OpIndex, ID: id, Source: raw, IfSeqNo: &seq, IfPrimaryTerm: &term}
	}
	res, err := s.ix.Apply(ctx, IndexName, []index.Op{op})
	if err != nil {
		return fmt.Errorf("writing %s: %w", id, err)
	}
	if err := res[0].Err; err != nil {
		if errors.Is(err, index.ErrConflict) || errors.Is(err, index.ErrExists) || res[0].Status == 409 {
			return errLostRace
		}
		return fmt.Errorf("writing %s: %w", id, err)
	}
	return nil
}

// Create stores a new namespace with a description. An existing one is
// ErrConflict; a bad id is ErrInvalid.
func (s *Store) Create(ctx context.Context, id, description string) (*Namespace, error) {
	return s.CreateWith(ctx, id, Changes{Description: &description})
}

// Changes are what a write sets on a namespace: each nil field is left
// as it is (empty on a new namespace), each non-nil one replaces the
// stored value whole (an empty map or list clears it).
type Changes struct {
	Description    *string
	Variables      map[string]any
	PluginDefaults []PluginDefault
}

// clean checks c and returns it with JSON-only copies of the variables
// and plugin defaults, which share nothing with the caller's: variables
// must encode as a JSON object, and every plugin default needs a type
// given once (ErrInvalid otherwise).
func (c Changes) clean() (Changes, error) {
	if c.Variables != nil {
		raw, err := json.Marshal(c.Variables)
		if err != nil {
			return c, fmt.Errorf("%w: variables: %v", ErrInvalid, err)
		}
		c.Variables = nil
		if err := json.Unmarshal(raw, &c.Variables); err != nil {
			return c, fmt.Errorf("%w: variables: %v", ErrInvalid, err)
		}
	}
	if c.PluginDefaults != nil {
		if err := validateDefaults(c.PluginDefaults); err != nil {
			return c, err
		}
		raw, err := json.Marshal(c.PluginDefaults)
		if err != nil {
			return c, fmt.Errorf("%w: plugin defaults: %v", ErrInvalid, err)
		}
		clean := []PluginDefault{}
		if err := json.Unmarshal(raw, &clean); err != nil {
			return c, fmt.Errorf("%w: plugin defaults: %v", ErrInvalid, err)
		}
		c.PluginDefaults = clean
	}
	return c, nil
}

// apply sets c's non-nil fields on d.
func (c Changes) apply(d *document) {
	if c.Description != nil {
		d.Description = *c.Description
	}
	if c.Variables != nil {
		d.Variables = c.Variables
	}
	if c.PluginDefaults != nil {
		d.PluginDefaults = c.PluginDefaults
	}
}

// CreateWith stores a new namespace with what c sets, in one write. An
// existing one is ErrConflict; a bad id or bad changes are ErrInvalid.
func (s *Store) CreateWith(ctx context.Context, id string, c Changes) (*Namespace, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	c, err := c.clean()
	if err != nil {
		return nil, err
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	now := s.stamp()
	doc := &document{Kind: kindNamespace, Namespace: id, Created: now, Updated: now}
	c.apply(doc)
	if err := s.write(ctx, namespaceDocID(id), doc, false, 0); err != nil {
		if errors.Is(err, errLostRace) {
			return nil, fmt.Errorf("%w: namespace %s already exists", ErrConflict, id)
		}
		return nil, err
	}
	return doc.namespace()
}

// Get returns the namespace id; ErrNotFound when it does not exist.
func (s *Store) Get(ctx context.Context, id string) (*Namespace, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	doc, _, err := s.read(ctx, namespaceDocID(id))
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: namespace %s", ErrNotFound, id)
	}
	return doc.namespace()
}

// modify applies change to the stored namespace id and saves it,
// reading again when a concurrent change wins.
func (s *Store) modify(ctx context.Context, id string, change func(*document)) (*Namespace, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	for range maxRetries {
		doc, seq, err := s.read(ctx, namespaceDocID(id))
		if err != nil {
			return nil, err
		}
		if doc == nil {
			return nil, fmt.Errorf("%w: namespace %s", ErrNotFound, id)
		}
		change(doc)
		doc.Updated = s.stamp()
		err = s.write(ctx, namespaceDocID(id), doc, true, seq)
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return doc.namespace()
	}
	return nil, fmt.Errorf("%w: namespace %s keeps changing concurrently", ErrConflict, id)
}

// Change applies c to the stored namespace id in one write and returns
// the result; ErrNotFound when it does not exist.
func (s *Store) Change(ctx context.Context, id string, c Changes) (*Namespace, error) {
	c, err := c.clean()
	if err != nil {
		return nil, err
	}
	return s.modify(ctx, id, c.apply)
}

// Update replaces the description of namespace id.
func (s *Store) Update(ctx context.Context, id, description string) (*Namespace, error) {
	return s.Change(ctx, id, Changes{Description: &description})
}

// PutVariables replaces the variables of namespace id. They must encode
// as JSON objects (ErrInvalid otherwise); nil clears them.
func (s *Store) PutVariables(ctx context.Context, id string, vars map[string]any) (*Namespace, error) {
	if vars == nil {
		vars = map[string]any{}
	}
	return s.Change(ctx, id, Changes{Variables: vars})
}

// PutPluginDefaults replaces the plugin defaults of namespace id. Each
// needs a type, and a type appears at most once (ErrInvalid otherwise);
// nil clears them.
func (s *Store) PutPluginDefaults(ctx context.Context, id string, defs []PluginDefault) (*Namespace, error) {
	if defs == nil {
		defs = []PluginDefault{}
	}
	return s.Change(ctx, id, Changes{PluginDefaults: defs})
}

// Delete removes namespace id and its own secrets (its descendants
// keep theirs). A missing namespace is ErrNotFound.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	docs, err := s.search(ctx, filter(kindSecret, []string{id}), nil)
	if err != nil {
		return err
	}
	ops := make([]index.Op, 0, len(docs)+1)
	for _, d := range docs {
		ops = append(ops, index.Op{Type: index.OpDelete, ID: secretDocID(d.Namespace, d.Key)})
	}
	ops = append(ops, index.Op{Type: index.OpDelete, ID: namespaceDocID(id)})
	res, err := s.ix.Apply(ctx, IndexName, ops)
	if err != nil {
		return fmt.Errorf("deleting namespace %s: %w", id, err)
	}
	for _, r := range res {
		if r.Err != nil && r.Status != 404 {
			return fmt.Errorf("deleting namespace %s: %w", id, r.Err)
		}
	}
	return nil
}

// List returns every namespace of the tenant, sorted by id.
func (s *Store) List(ctx context.Context) ([]Namespace, error) {
	docs, err := s.search(ctx, filter(kindNamespace, nil), json.RawMessage(`[{"namespace":"asc"}]`))
	if err != nil {
		return nil, err
	}
	out := make([]Namespace, 0, len(docs))
	for i := range docs {
		ns, err := docs[i].namespace()
		if err != nil {
			return nil, err
		}
		out = append(out, *ns)
	}
	return out, nil
}

// Effective returns what namespace id inherits from itself and its
// ancestors (see the package documentation). Neither id nor its
// ancestors need exist.
func (s *Store) Effective(ctx context.Context, id string) (*Effective, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	line := lineage(id)
	levels := make([]*Namespace, len(line))
	for i, ns := range line {
		doc, _, err := s.read(ctx, namespaceDocID(ns))
		if err != nil {
			return nil, err
		}
		if doc == nil {
			continue
		}
		n, err := doc.namespace()
		if err != nil {
			return nil, err
		}
		// Farthest ancestor first.
		levels[len(line)-1-i] = n
	}
	return effective(id, levels), nil
}

// filter is a query on the document kind and, when given, a namespace
// among namespaces.
func filter(kind string, namespaces []string) json.RawMessage {
	f := []any{map[string]any{"term": map[string]any{"kind": kind}}}
	if len(namespaces) > 0 {
		should := make([]any, len(namespaces))
		for i, ns := range namespaces {
			should[i] = map[string]any{"term": map[string]any{"namespace": ns}}
		}
		f = append(f, map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}})
	}
	q, _ := json.Marshal(map[string]any{"bool": map[string]any{"filter": f}})
	return q
}

// search reads every document matching q, in pages, in the order of
// sortBy.
func (s *Store) search(ctx context.Context, q, sortBy json.RawMessage) ([]document, error) {
	return index.AllSources[document](ctx, s.ix, IndexName, q, sortBy, pageSize)
}

func parseTime(what, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: bad time %q: %w", what, v, err)
	}
	return t, nil
}

func (d *document) namespace() (*Namespace, error) {
	c, err := parseTime("namespace "+d.Namespace, d.Created)
	if err != nil {
		return nil, err
	}
	u, err := parseTime("namespace "+d.Namespace, d.Updated)
	if err != nil {
		return nil, err
	}
	vars := d.Variables
	if vars == nil {
		vars = map[string]any{}
	}
	defs := d.PluginDefaults
	if defs == nil {
		defs = []PluginDefault{}
	}
	return &Namespace{ID: d.Namespace, Description: d.Description, Variables: vars, PluginDefaults: defs, Created: c, Updated: u}, nil
}

// sortSecrets sorts by key.
func sortSecrets(s []SecretInfo) { sort.Slice(s, func(i, j int) bool { return s[i].Key < s[j].Key }) }
