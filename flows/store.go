package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tenantgate/tenantgate/index"
)

// IndexName is the logical name of the flows index in every tenant; the
// view makes it ".flows_<hash>_<name>" for a custom or private tenant and
// ".flows" for the global one.
const IndexName = ".flows"

// Indices is what the flow store needs from storage: one tenant's
// indices by logical name. *index.View of the system kind (index.Service's
// SystemView, which allows ".flows") implements it.
type Indices interface {
	Exists(ctx context.Context, logical string) (bool, error)
	CreateIndex(ctx context.Context, logical string, m *index.Mapping) error
	Apply(ctx context.Context, logical string, ops []index.Op) ([]index.OpResult, error)
	Get(ctx context.Context, logical, id string) (*index.Doc, error)
	Search(ctx context.Context, expr string, req *index.SearchRequest) (*index.SearchResult, error)
}

var _ Indices = (*index.View)(nil)

// Document kinds in the flows index: one "current" document per flow
// and one "revision" document per revision.
const (
	kindCurrent  = "current"
	kindRevision = "revision"
)

// maxRetries bounds how often a save re-reads the flow after losing a
// race with a concurrent save before giving up with ErrConflict.
const maxRetries = 5

// pageSize is how many hits List and Revisions read per search.
const pageSize = 1000

// Mapping returns the explicit mapping of a .flows index: dynamic false
// at the root so inputs, tasks and other parts of the YAML never grow
// the mapping. Keyword fields (kind, key, id, namespace, labels) filter
// and sort; text fields (id.text, namespace.text, description, source)
// serve full-text search. The source stays byte for byte in _source;
// indexing it as text only feeds the inverted index.
func Mapping() *index.Mapping {
	kw := func() *index.Property { return &index.Property{Type: index.TypeKeyword} }
	withText := func() *index.Property {
		return &index.Property{Type: index.TypeKeyword, Fields: map[string]*index.Property{"text": {Type: index.TypeText}}}
	}
	return &index.Mapping{Dynamic: "false", Properties: map[string]*index.Property{
		"kind":        kw(),
		"key":         kw(),
		"id":          withText(),
		"namespace":   withText(),
		"revision":    {Type: index.TypeLong},
		"deleted":     {Type: index.TypeBoolean},
		"disabled":    {Type: index.TypeBoolean},
		"description": {Type: index.TypeText},
		"labels":      {Type: index.TypeObject, Properties: map[string]*index.Property{"key": kw(), "value": kw()}},
		"updated":     {Type: index.TypeDate},
		"source":      {Type: index.TypeText},
	}}
}

// Stored is one revision of a flow as the store keeps it: the flow read
// from its source (Revision set), whether this revision deleted the
// flow, and when it was saved.
type Stored struct {
	Flow
	Deleted bool
	Updated time.Time
}

// document is the JSON shape of both document kinds.
type document struct {
	Kind        string  `json:"kind"`
	Key         string  `json:"key"`
	ID          string  `json:"id"`
	Namespace   string  `json:"namespace"`
	Revision    int     `json:"revision"`
	Deleted     bool    `json:"deleted"`
	Disabled    bool    `json:"disabled"`
	Description string  `json:"description,omitempty"`
	Labels      []Label `json:"labels,omitempty"`
	Updated     string  `json:"updated"`
	Source      string  `json:"source"`
}

// Store keeps the flows of one tenant in its ".flows" index: a current
// document per flow ("<namespace>|<id>") and a document per revision
// ("<namespace>|<id>|<revision>"). Namespaces and ids cannot hold "|",
// and their length limits keep ids far below the index's 512 bytes.
// It is safe for concurrent use: saves are conditional on the current
// document's sequence number.
type Store struct {
	ix  Indices
	now func() time.Time
	// ready is set once this store has made sure .flows exists.
	ready atomic.Bool
}

// NewStore returns the flow store over ix, one tenant's system view.
// now is the clock (nil means time.Now).
func NewStore(ix Indices, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{ix: ix, now: now}
}

func flowKey(namespace, id string) string { return namespace + "|" + id }

func revisionID(namespace, id string, rev int) string {
	return flowKey(namespace, id) + "|" + strconv.Itoa(rev)
}

// ensure creates the tenant's .flows with its mapping before the first
// write of this store. It calls CreateIndex rather than Exists: the view
// serialises creation, so a concurrent first write waits until the
// index is really there instead of seeing it registered but not yet
// created.
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

// current reads the current document of a flow; nil (and no error)
// when the flow never existed. seq is its sequence number.
func (s *Store) current(ctx context.Context, namespace, id string) (*document, int64, error) {
	d, err := s.ix.Get(ctx, IndexName, flowKey(namespace, id))
	if errors.Is(err, index.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading flow %s.%s: %w", namespace, id, err)
	}
	var doc document
	if err := json.Unmarshal(d.Source, &doc); err != nil {
		return nil, 0, fmt.Errorf("decoding flow %s.%s: %w", namespace, id, err)
	}
	return &doc, d.SeqNo, nil
}

// parseSource parses src and refuses bytes that JSON could not keep
// byte for byte.
func parseSource(src []byte) (Flow, error) {
	if !utf8.Valid(src) {
		return Flow{}, &ValidationError{Violations: []Violation{{Message: "the flow source is not valid UTF-8"}}}
	}
	return Parse(src)
}

// Create stores a new flow from its YAML source, as revision 1. A flow
// with the same namespace and id that exists is ErrConflict; a deleted
// one is re-created with the next revision. An invalid source is
// ErrInvalid (a *ValidationError).
func (s *Store) Create(ctx context.Context, src []byte) (*Stored, error) {
	f, err := parseSource(src)
	if err != nil {
		return nil, err
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	for range maxRetries {
		cur, seq, err := s.current(ctx, f.Namespace, f.ID)
		if err != nil {
			return nil, err
		}
		if cur != nil && !cur.Deleted {
			return nil, conflict(f.Namespace, f.ID)
		}
		var prev *document
		rev := 1
		if cur != nil {
			prev, rev = cur, cur.Revision+1
		}
		out, err := s.save(ctx, f, rev, false, prev, seq)
		if errors.Is(err, errLostRace) {
			continue
		}
		return out, err
	}
	return nil, conflict(f.Namespace, f.ID)
}

// Update saves a new source for the flow namespace/id. The source must
// name the same namespace and id (ErrInvalid otherwise: they cannot
// change). An identical source creates no revision and returns the
// current one; any other source becomes the next revision. A missing or
// deleted flow is ErrNotFound.
func (s *Store) Update(ctx context.Context, namespace, id string, src []byte) (*Stored, error) {
	f, err := parseSource(src)
	if err != nil {
		return nil, err
	}
	var vs []Violation
	if f.ID != id {
		vs = append(vs, Violation{Path: "id", Message: fmt.Sprintf("flow id cannot be changed (from %q to %q)", id, f.ID)})
	}
	if f.Namespace != namespace {
		vs = append(vs, Violation{Path: "namespace", Message: fmt.Sprintf("flow namespace cannot be changed (from %q to %q)", namespace, f.Namespace)})
	}
	if len(vs) > 0 {
		return nil, &ValidationError{Violations: vs}
	}
	for range maxRetries {
		cur, seq, err := s.current(ctx, namespace, id)
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.Deleted {
			return nil, notFound(namespace, id)
		}
		if cur.Source == string(src) {
			return cur.stored()
		}
		out, err := s.save(ctx, f, cur.Revision+1, false, cur, seq)
		if errors.Is(err, errLostRace) {
			continue
		}
		return out, err
	}
	return nil, conflict(namespace, id)
}

// Delete marks the flow namespace/id deleted with a new revision that
// keeps its last source. A missing or already deleted flow is
// ErrNotFound.
func (s *Store) Delete(ctx context.Context, namespace, id string) (*Stored, error) {
	for range maxRetries {
		cur, seq, err := s.current(ctx, namespace, id)
		if err != nil {
			return nil, err
		}
		if cur == nil || cur.Deleted {
			return nil, notFound(namespace, id)
		}
		f, _ := parse([]byte(cur.Source))
		out, err := s.save(ctx, f, cur.Revision+1, true, cur, seq)
		if errors.Is(err, errLostRace) {
			continue
		}
		return out, err
	}
	return nil, conflict(namespace, id)
}

// errLostRace means the current document changed between reading and
// writing it; the caller reads again.
var errLostRace = errors.New("flow changed concurrently")

// save writes revision rev of f: first the current document, on
// condition that it is still at seq (or still absent when prev is nil),
// then the revision documents. The revision document of prev is written
// again as well, so a crash between the two writes of an earlier save
// loses no revision.
func (s *Store) save(ctx context.Context, f Flow, rev int, deleted bool, prev *document, seq int64) (*Stored, error) {
	doc := document{Kind: kindCurrent, Key: flowKey(f.Namespace, f.ID), ID: f.ID, Namespace: f.Namespace, Revision: rev,
		Deleted: deleted, Disabled: f.Disabled, Description: f.Description, Labels: f.Labels,
		Updated: s.now().UTC().Format(time.RFC3339Nano), Source: string(f.Source)}
	cur, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	op := index.Op{Type: index.OpCreate, ID: doc.Key, Source: cur}
	if prev != nil {
		term := int64(1)
		op = index.Op{Type: index.OpIndex, ID: doc.Key, Source: cur, IfSeqNo: &seq, IfPrimaryTerm: &term}
	}
	res, err := s.ix.Apply(ctx, IndexName, []index.Op{op})
	if err != nil {
		return nil, fmt.Errorf("saving flow %s.%s: %w", f.Namespace, f.ID, err)
	}
	if err := res[0].Err; err != nil {
		if errors.Is(err, index.ErrConflict) || errors.Is(err, index.ErrExists) || res[0].Status == 409 {
			return nil, errLostRace
		}
		return nil, fmt.Errorf("saving flow %s.%s: %w", f.Namespace, f.ID, err)
	}
	ops := make([]index.Op, 0, 2)
	if prev != nil {
		p := *prev
		p.Kind = kindRevision
		raw, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		ops = append(ops, index.Op{Type: index.OpIndex, ID: revisionID(p.Namespace, p.ID, p.Revision), Source: raw})
	}
	doc.Kind = kindRevision
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	ops = append(ops, index.Op{Type: index.OpIndex, ID: revisionID(doc.Namespace, doc.ID, rev), Source: raw})
	res, err = s.ix.Apply(ctx, IndexName, ops)
	if err == nil {
		for _, r := range res {
			if r.Err != nil {
				err = r.Err
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("saving revision %d of flow %s.%s: %w", rev, f.Namespace, f.ID, err)
	}
	return doc.stored()
}

// stored turns a document back into a Stored flow. Its source passed
// validation when it was saved; it is read without validating again so
// that a later, stricter rule never hides a stored flow.
func (d *document) stored() (*Stored, error) {
	f, _ := parse([]byte(d.Source))
	f.Revision = d.Revision
	t, err := time.Parse(time.RFC3339Nano, d.Updated)
	if err != nil {
		return nil, fmt.Errorf("flow %s.%s revision %d: bad update time: %w", d.Namespace, d.ID, d.Revision, err)
	}
	return &Stored{Flow: f, Deleted: d.Deleted, Updated: t}, nil
}

// Get returns the flow namespace/id at revision rev, 0 meaning the
// current one. A missing flow, a deleted one (rev 0), a revision that
// does not exist and the revision that deleted the flow are all
// ErrNotFound.
func (s *Store) Get(ctx context.Context, namespace, id string, rev int) (*Stored, error) {
	if ok, err := s.ix.Exists(ctx, IndexName); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, notFound(namespace, id)
	}
	cur, _, err := s.current(ctx, namespace, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, notFound(namespace, id)
	}
	doc := cur
	if rev != 0 && rev != cur.Revision {
		d, err := s.ix.Get(ctx, IndexName, revisionID(namespace, id, rev))
		if errors.Is(err, index.ErrNotFound) {
			return nil, fmt.Errorf("%w: flow %s.%s has no revision %d", ErrNotFound, namespace, id, rev)
		}
		if err != nil {
			return nil, fmt.Errorf("reading flow %s.%s revision %d: %w", namespace, id, rev, err)
		}
		doc = &document{}
		if err := json.Unmarshal(d.Source, doc); err != nil {
			return nil, fmt.Errorf("decoding flow %s.%s revision %d: %w", namespace, id, rev, err)
		}
	}
	if doc.Deleted {
		return nil, notFound(namespace, id)
	}
	return doc.stored()
}

// Revisions returns every revision of the flow namespace/id, oldest
// first, the one that deleted it included. A flow that never existed is
// ErrNotFound.
func (s *Store) Revisions(ctx context.Context, namespace, id string) ([]Stored, error) {
	if ok, err := s.ix.Exists(ctx, IndexName); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, notFound(namespace, id)
	}
	cur, _, err := s.current(ctx, namespace, id)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, notFound(namespace, id)
	}
	q, _ := json.Marshal(map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"term": map[string]any{"kind": kindRevision}},
		map[string]any{"term": map[string]any{"key": flowKey(namespace, id)}},
	}}})
	docs, err := s.search(ctx, q, json.RawMessage(`[{"revision":"asc"}]`))
	if err != nil {
		return nil, err
	}
	// The current revision is there even if its revision document was
	// lost to a crash between the two writes of a save.
	if n := len(docs); n == 0 || docs[n-1].Revision < cur.Revision {
		docs = append(docs, *cur)
	}
	out := make([]Stored, 0, len(docs))
	for i := range docs {
		st, err := docs[i].stored()
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, nil
}

// List returns the current, non-deleted flows whose namespace is
// covered by namespace on the dot boundary ("" covers all), sorted by
// namespace then id.
func (s *Store) List(ctx context.Context, namespace string) ([]Stored, error) {
	ok, err := s.ix.Exists(ctx, IndexName)
	if err != nil {
		return nil, err
	}
	if !ok {
		return []Stored{}, nil
	}
	filter := []any{
		map[string]any{"term": map[string]any{"kind": kindCurrent}},
		map[string]any{"term": map[string]any{"deleted": false}},
	}
	if namespace != "" {
		filter = append(filter, map[string]any{"bool": map[string]any{"should": []any{
			map[string]any{"term": map[string]any{"namespace": namespace}},
			map[string]any{"prefix": map[string]any{"namespace": namespace + "."}},
		}, "minimum_should_match": 1}})
	}
	q, _ := json.Marshal(map[string]any{"bool": map[string]any{"filter": filter}})
	docs, err := s.search(ctx, q, json.RawMessage(`[{"namespace":"asc"},{"id":"asc"}]`))
	if err != nil {
		return nil, err
	}
	out := make([]Stored, 0, len(docs))
	for i := range docs {
		if docs[i].Deleted || !NamespaceCovers(namespace, docs[i].Namespace) {
			continue
		}
		st, err := docs[i].stored()
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// search reads every document matching q, in pages, in the order of
// sortBy.
func (s *Store) search(ctx context.Context, q, sortBy json.RawMessage) ([]document, error) {
	return index.AllSources[document](ctx, s.ix, IndexName, q, sortBy, pageSize)
}

func notFound(namespace, id string) error {
	return fmt.Errorf("%w: %s.%s", ErrNotFound, namespace, id)
}

func conflict(namespace, id string) error {
	return fmt.Errorf("%w: %s.%s", ErrConflict, namespace, id)
}
