package flows

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Query asks Search for current, non-deleted flows.
type Query struct {
	// Q is full text over id, namespace, description and source: a flow
	// matches when one of those fields holds every word of Q, or when
	// its id or namespace contains Q as written (any case), so "hello"
	// finds "hello_world". Empty matches every flow.
	Q string
	// Namespace filters on the dot boundary ("company" covers
	// "company.marketing", not "companyx"); empty covers all.
	Namespace string
	// ExactNamespace makes Namespace match only itself, not its
	// children (Kestra's EQUALS namespace filter).
	ExactNamespace bool
	// ID, when set, is the only flow id that matches.
	ID string
	// Labels must all be on the flow, key and value equal.
	Labels []Label
	// Sort orders the results, first field first. Empty means by
	// relevance when Q is set, else by namespace then id.
	Sort []Sort
	// Page (from 1) and Size page through the results; Size 0 returns
	// them all.
	Page, Size int
	// Allow, when set, keeps only the flows of the namespaces it
	// accepts, before paging, so Total counts what the caller may see.
	Allow func(namespace string) bool
}

// Sort is one sort key of Query: a field of SortFields and a direction.
type Sort struct {
	Field string
	Desc  bool
}

// SortFields are the fields Search can sort on.
var SortFields = []string{"id", "namespace", "revision", "updated", "description", "disabled"}

// ParseSort reads a sort key as Kestra writes it, "field" or
// "field:asc" / "field:desc". An unknown field or direction is ErrInvalid.
func ParseSort(s string) (Sort, error) {
	field, dir, _ := strings.Cut(s, ":")
	if !slices.Contains(SortFields, field) {
		return Sort{}, fmt.Errorf("%w: cannot sort flows by %q (sort by %s)", ErrInvalid, field, strings.Join(SortFields, ", "))
	}
	switch strings.ToLower(dir) {
	case "", "asc":
		return Sort{Field: field}, nil
	case "desc":
		return Sort{Field: field, Desc: true}, nil
	}
	return Sort{}, fmt.Errorf("%w: sort direction %q is neither asc nor desc", ErrInvalid, dir)
}

// Page is one page of Search results and the number of flows matching
// in all.
type Page struct {
	Results []Stored
	Total   int
}

// Search returns the current, non-deleted flows matching q. The index
// finds the candidates; labels, the namespace boundary and Allow are
// checked on each one before paging.
func (s *Store) Search(ctx context.Context, q Query) (Page, error) {
	ok, err := s.ix.Exists(ctx, IndexName)
	if err != nil {
		return Page{}, err
	}
	if !ok {
		return Page{Results: []Stored{}}, nil
	}
	raw, err := json.Marshal(searchQuery(q))
	if err != nil {
		return Page{}, err
	}
	var sortBy json.RawMessage
	if q.Q == "" {
		sortBy = json.RawMessage(`[{"namespace":"asc"},{"id":"asc"}]`)
	}
	docs, err := s.search(ctx, raw, sortBy)
	if err != nil {
		return Page{}, err
	}
	all := make([]Stored, 0, len(docs))
	for i := range docs {
		d := &docs[i]
		if d.Deleted || !NamespaceCovers(q.Namespace, d.Namespace) || !hasLabels(d.Labels, q.Labels) ||
			(q.ExactNamespace && d.Namespace != q.Namespace) || (q.ID != "" && d.ID != q.ID) {
			continue
		}
		if q.Allow != nil && !q.Allow(d.Namespace) {
			continue
		}
		st, err := d.stored()
		if err != nil {
			return Page{}, err
		}
		all = append(all, *st)
	}
	if len(q.Sort) > 0 {
		slices.SortStableFunc(all, func(a, b Stored) int { return compareBy(q.Sort, a, b) })
	}
	out := Page{Total: len(all), Results: all}
	if q.Size > 0 {
		from := (max(q.Page, 1) - 1) * q.Size
		from = min(from, len(all))
		out.Results = all[from:min(from+q.Size, len(all))]
	}
	return out, nil
}

// searchQuery is the index query of q: the filters the index can apply
// and, with Q, the full-text part.
func searchQuery(q Query) map[string]any {
	filter := []any{
		map[string]any{"term": map[string]any{"kind": kindCurrent}},
		map[string]any{"term": map[string]any{"deleted": false}},
	}
	if q.ID != "" {
		filter = append(filter, map[string]any{"term": map[string]any{"id": q.ID}})
	}
	if q.Namespace != "" && q.ExactNamespace {
		filter = append(filter, map[string]any{"term": map[string]any{"namespace": q.Namespace}})
	} else if q.Namespace != "" {
		filter = append(filter, map[string]any{"bool": map[string]any{"should": []any{
			map[string]any{"term": map[string]any{"namespace": q.Namespace}},
			map[string]any{"prefix": map[string]any{"namespace": q.Namespace + "."}},
		}, "minimum_should_match": 1}})
	}
	for _, l := range q.Labels {
		filter = append(filter,
			map[string]any{"term": map[string]any{"labels.key": l.Key}},
			map[string]any{"term": map[string]any{"labels.value": l.Value}})
	}
	b := map[string]any{"filter": filter}
	if text := strings.TrimSpace(q.Q); text != "" {
		contains := "*" + escapeWildcard(text) + "*"
		b["must"] = []any{map[string]any{"bool": map[string]any{"should": []any{
			map[string]any{"multi_match": map[string]any{"query": text, "operator": "and",
				"fields": []string{"id.text", "namespace.text", "description", "source"}}},
			map[string]any{"wildcard": map[string]any{"id": map[string]any{"value": contains, "case_insensitive": true}}},
			map[string]any{"wildcard": map[string]any{"namespace": map[string]any{"value": contains, "case_insensitive": true}}},
		}, "minimum_should_match": 1}}}
	}
	return map[string]any{"bool": b}
}

// escapeWildcard quotes the characters a wildcard pattern gives a
// meaning to.
func escapeWildcard(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasLabels reports whether every wanted label is among have.
func hasLabels(have, want []Label) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func compareBy(keys []Sort, a, b Stored) int {
	for _, k := range keys {
		var c int
		switch k.Field {
		case "id":
			c = cmp.Compare(a.ID, b.ID)
		case "namespace":
			c = cmp.Compare(a.Namespace, b.Namespace)
		case "revision":
			c = cmp.Compare(a.Revision, b.Revision)
		case "updated":
			c = a.Updated.Compare(b.Updated)
		case "description":
			c = cmp.Compare(a.Description, b.Description)
		case "disabled":
			c = cmp.Compare(boolInt(a.Disabled), boolInt(b.Disabled))
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Validate validates every document of a multi-document stream like
// ValidateAll and compares each valid one with the stored flow, as
// Kestra does: Outdated when the document names a revision that is not
// the next one (its "revision" key differs from the latest stored
// revision + 1), Deleted when the flow's latest revision deleted it.
// known, when set, limits the comparison to the namespaces it accepts,
// so validation tells nothing about flows the caller may not read.
// Nothing is saved.
func (s *Store) Validate(ctx context.Context, src []byte, known func(namespace string) bool) ([]Result, error) {
	results := ValidateAll(src)
	for i := range results {
		r := &results[i]
		if r.Flow == "" || r.Namespace == "" || (known != nil && !known(r.Namespace)) {
			continue
		}
		cur, err := s.Latest(ctx, r.Namespace, r.Flow)
		if errors.Is(err, ErrNotFound) {
			if r.SentRevision != 0 {
				r.Outdated = r.SentRevision != 1
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		r.Deleted = cur.Deleted
		if r.SentRevision != 0 {
			r.Outdated = r.SentRevision != cur.Revision+1
		}
	}
	return results, nil
}

// Latest returns the latest revision of the flow namespace/id, even when
// that revision deleted it (Deleted set). A flow that never existed is
// ErrNotFound.
func (s *Store) Latest(ctx context.Context, namespace, id string) (*Stored, error) {
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
	return cur.stored()
}

// Put creates the flow of src or, when it exists, updates it: what an
// import does with each flow. A deleted flow is created again with the
// next revision; an identical source makes no revision. created tells
// which it was.
func (s *Store) Put(ctx context.Context, src []byte) (st *Stored, created bool, err error) {
	f, err := parseSource(src)
	if err != nil {
		return nil, false, err
	}
	for range maxRetries {
		st, err = s.Create(ctx, src)
		if !errors.Is(err, ErrConflict) {
			return st, err == nil, err
		}
		st, err = s.Update(ctx, f.Namespace, f.ID, src)
		if !errors.Is(err, ErrNotFound) {
			return st, false, err
		}
		// deleted between the two calls: create again
	}
	return nil, false, conflict(f.Namespace, f.ID)
}
