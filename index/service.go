package index

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/tenants"
)

// Service ties a Backend to the Catalog and hands out tenant-scoped Views.
type Service struct {
	backend Backend
	catalog *Catalog
	log     *slog.Logger
	// createLocks serialise the creation of one logical index, so that
	// two concurrent first writes create it once; other indices, in this
	// tenant or others, are created in parallel (striped by name).
	createLocks [64]sync.Mutex
	// restoring holds the physical names a restore has reserved
	// (ReserveRestore) until it has registered them or given up.
	restoring sync.Map
}

// createLock returns the lock that serialises creating logical in owner.
func (s *Service) createLock(owner, logical string) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(owner))
	h.Write([]byte{0})
	h.Write([]byte(logical))
	return &s.createLocks[h.Sum32()%uint32(len(s.createLocks))]
}

// NewService returns a service over backend and catalog. Catalog entries
// whose physical index is gone (a crash between registering and creating)
// are dropped.
func NewService(ctx context.Context, b Backend, c *Catalog, log *slog.Logger) (*Service, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{backend: b, catalog: c, log: log}
	for _, e := range c.All() {
		ok, err := b.Exists(ctx, e.Physical)
		if err != nil {
			return nil, fmt.Errorf("checking index %s: %w", e.Physical, err)
		}
		if !ok {
			log.Warn("dropping catalog entry without index", "physical", e.Physical, "owner", e.Owner)
			if err := c.Unregister(e.Physical); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Backend returns the back-end (for health checks and benchmarks).
func (s *Service) Backend() Backend { return s.backend }

// Catalog returns the catalog.
func (s *Service) Catalog() *Catalog { return s.catalog }

// View returns the data API's view of tenant t: logical names starting
// with "." are refused.
func (s *Service) View(t tenants.Ref) *View { return &View{s: s, t: t} }

// SystemView returns tenantgate's own view of tenant t, where names such
// as ".kibana" are allowed.
func (s *Service) SystemView(t tenants.Ref) *View { return &View{s: s, t: t, system: true} }

// View is one tenant's window on the indices: every method takes logical
// names and reaches only that tenant's physical indices. It is the single
// place where tenant scoping happens.
type View struct {
	s      *Service
	t      tenants.Ref
	system bool
}

// Tenant returns the tenant of the view.
func (v *View) Tenant() tenants.Ref { return v.t }

// IndexInfo describes one logical index of a tenant.
type IndexInfo struct {
	Name      string
	Physical  string
	Created   time.Time
	DocCount  uint64
	SizeBytes uint64
}

func (v *View) validate(logical string) error {
	if err := ValidateName(logical, v.system); err != nil {
		return err
	}
	if v.t.Kind == tenants.KindGlobal {
		return CheckTenantShape(logical)
	}
	return nil
}

// physical returns the registered physical name of logical, or an
// index_not_found error.
func (v *View) physical(logical string) (string, error) {
	if err := v.validate(logical); err != nil {
		return "", err
	}
	p, ok := v.s.catalog.Lookup(v.t.Owner(), logical)
	if !ok {
		return "", notFoundIndex(logical)
	}
	return p, nil
}

func notFoundIndex(logical string) error {
	return &Error{Kind: ErrNotFound, Type: "index_not_found_exception", Reason: "no such index [" + logical + "]", Index: logical}
}

// CreateIndex creates logical with mapping m merged over the mappings of
// the tenant's matching index templates (highest priority first wins).
func (v *View) CreateIndex(ctx context.Context, logical string, m *Mapping) error {
	if err := v.validate(logical); err != nil {
		return err
	}
	mu := v.s.createLock(v.t.Owner(), logical)
	mu.Lock()
	defer mu.Unlock()
	return v.createLocked(ctx, logical, m)
}

func (v *View) createLocked(ctx context.Context, logical string, m *Mapping) error {
	physical := v.t.Physical(logical)
	if len(physical) > MaxNameBytes {
		return &Error{Kind: ErrInvalid, Type: "invalid_index_name_exception", Reason: fmt.Sprintf("Invalid index name [%s], its name in this tenant is longer than %d bytes", logical, MaxNameBytes), Index: logical}
	}
	merged, err := v.templateMapping(logical)
	if err != nil {
		return err
	}
	if merged == nil {
		merged = &Mapping{}
	}
	if m != nil {
		if err := merged.Merge(m); err != nil {
			return err
		}
	}
	if err := v.s.catalog.Register(Entry{Physical: physical, Owner: v.t.Owner(), Logical: logical, Created: time.Now().UTC()}); err != nil {
		return err
	}
	if err := v.s.backend.CreateIndex(ctx, physical, merged); err != nil {
		err = scrub(err, physical, logical)
		if uerr := v.s.catalog.Unregister(physical); uerr != nil {
			v.s.log.Error("unregistering index after failed create", "physical", physical, "err", uerr)
		}
		return err
	}
	return nil
}

// templateMapping merges the mappings of every template matching logical,
// lowest priority first so the highest priority wins on conflicts.
func (v *View) templateMapping(logical string) (*Mapping, error) {
	var matching []Template
	for _, t := range v.s.catalog.Templates(v.t.Owner()) {
		for _, p := range t.IndexPatterns {
			if MatchPattern(p, logical) {
				matching = append(matching, t)
				break
			}
		}
	}
	if len(matching) == 0 {
		return nil, nil
	}
	sort.SliceStable(matching, func(i, j int) bool { return matching[i].Priority > matching[j].Priority })
	// OpenSearch applies only the highest-priority composable template.
	best := matching[0]
	if best.Mappings == nil {
		return &Mapping{}, nil
	}
	return best.Mappings.Clone(), nil
}

// DeleteIndex deletes logical and its documents.
func (v *View) DeleteIndex(ctx context.Context, logical string) error {
	p, err := v.physical(logical)
	if err != nil {
		return err
	}
	if err := v.s.backend.DeleteIndex(ctx, p); err != nil && !errors.Is(err, ErrNotFound) {
		return scrub(err, p, logical)
	}
	return v.s.catalog.Unregister(p)
}

// Exists reports whether logical exists in the tenant.
func (v *View) Exists(ctx context.Context, logical string) (bool, error) {
	if err := v.validate(logical); err != nil {
		return false, err
	}
	_, ok := v.s.catalog.Lookup(v.t.Owner(), logical)
	return ok, nil
}

// Info returns one index's description.
func (v *View) Info(ctx context.Context, logical string) (IndexInfo, error) {
	p, err := v.physical(logical)
	if err != nil {
		return IndexInfo{}, err
	}
	e, _ := v.s.catalog.Entry(p)
	st, err := v.s.backend.Stats(ctx, p)
	if err != nil {
		return IndexInfo{}, scrub(err, p, logical)
	}
	return IndexInfo{Name: logical, Physical: p, Created: e.Created, DocCount: st.DocCount, SizeBytes: st.SizeBytes}, nil
}

// Mapping returns the current mapping of logical.
func (v *View) Mapping(ctx context.Context, logical string) (*Mapping, error) {
	p, err := v.physical(logical)
	if err != nil {
		return nil, err
	}
	m, err := v.s.backend.Mapping(ctx, p)
	return m, scrub(err, p, logical)
}

// List returns the tenant's indices (system ones only in a system view).
func (v *View) List(ctx context.Context) ([]IndexInfo, error) {
	var out []IndexInfo
	for _, e := range v.s.catalog.List(v.t.Owner()) {
		if strings.HasPrefix(e.Logical, ".") && !v.system {
			continue
		}
		st, err := v.s.backend.Stats(ctx, e.Physical)
		if err != nil {
			return nil, fmt.Errorf("stats of %s: %w", e.Logical, err)
		}
		out = append(out, IndexInfo{Name: e.Logical, Physical: e.Physical, Created: e.Created, DocCount: st.DocCount, SizeBytes: st.SizeBytes})
	}
	return out, nil
}

// ExpandOptions are OpenSearch's index-expression options
// (ignore_unavailable, allow_no_indices, expand_wildcards).
type ExpandOptions struct {
	// IgnoreUnavailable skips named indices that do not exist instead of
	// failing with index_not_found.
	IgnoreUnavailable bool
	// NoWildcards makes patterns match nothing (expand_wildcards=none,
	// or only closed/hidden indices, which tenantgate does not have).
	NoWildcards bool
	// RequireMatch fails when the whole expression matches no index
	// (allow_no_indices=false).
	RequireMatch bool
}

// Expand turns an index expression (a comma list of names and patterns
// with *, or _all) into the tenant's matching indices. A named index that
// does not exist is an index_not_found error; a pattern may match none.
func (v *View) Expand(expr string) ([]Entry, error) { return v.ExpandWith(expr, ExpandOptions{}) }

// ExpandWith is Expand with OpenSearch's expression options.
func (v *View) ExpandWith(expr string, o ExpandOptions) ([]Entry, error) {
	if expr == "" || expr == "_all" {
		expr = "*"
	}
	owner := v.t.Owner()
	var all []Entry
	seen := map[string]bool{}
	var out []Entry
	for _, part := range strings.Split(expr, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "*") {
			p, err := v.physical(part)
			if err != nil {
				if o.IgnoreUnavailable && errors.Is(err, ErrNotFound) {
					continue
				}
				return nil, err
			}
			if !seen[p] {
				seen[p] = true
				e, _ := v.s.catalog.Entry(p)
				out = append(out, e)
			}
			continue
		}
		if strings.HasPrefix(part, "-") || strings.ContainsAny(part, `\/?"<>| #:`) {
			return nil, Invalidf("invalid_index_name_exception", "Invalid index expression [%s]", part)
		}
		if o.NoWildcards {
			continue
		}
		if all == nil {
			all = v.s.catalog.List(owner)
		}
		for _, e := range all {
			// Patterns reach system indices only when they start with ".".
			if strings.HasPrefix(e.Logical, ".") && (!v.system || !strings.HasPrefix(part, ".")) {
				continue
			}
			if MatchPattern(part, e.Logical) && !seen[e.Physical] {
				seen[e.Physical] = true
				out = append(out, e)
			}
		}
	}
	if len(out) == 0 && o.RequireMatch {
		return nil, &Error{Kind: ErrNotFound, Type: "index_not_found_exception", Reason: "no such index [" + expr + "]", Index: expr}
	}
	return out, nil
}

// Apply runs write operations on logical, creating the index (with the
// tenant's templates) when it does not exist yet, as OpenSearch does.
// Operations without an id get a generated one.
func (v *View) Apply(ctx context.Context, logical string, ops []Op) ([]OpResult, error) {
	if err := v.validate(logical); err != nil {
		return nil, err
	}
	p, ok := v.s.catalog.Lookup(v.t.Owner(), logical)
	if !ok {
		if onlyDeletes(ops) {
			return nil, notFoundIndex(logical)
		}
		mu := v.s.createLock(v.t.Owner(), logical)
		mu.Lock()
		p, ok = v.s.catalog.Lookup(v.t.Owner(), logical)
		if !ok {
			if err := v.createLocked(ctx, logical, nil); err != nil {
				mu.Unlock()
				return nil, err
			}
			p, _ = v.s.catalog.Lookup(v.t.Owner(), logical)
		}
		mu.Unlock()
	}
	for i := range ops {
		if ops[i].ID == "" {
			ops[i].ID = NewID()
		}
	}
	res, err := v.s.backend.Apply(ctx, p, ops)
	if errors.Is(err, ErrNotFound) {
		// The catalog names an index before the back-end has finished
		// creating it (createLocked registers first, to claim the name):
		// a write that found the entry meanwhile waits for the creation,
		// which holds the create lock, and tries once more. A missing
		// index applies nothing, so the retry cannot apply twice.
		mu := v.s.createLock(v.t.Owner(), logical)
		mu.Lock()
		p2, ok := v.s.catalog.Lookup(v.t.Owner(), logical)
		mu.Unlock()
		if ok {
			p = p2
			res, err = v.s.backend.Apply(ctx, p, ops)
		}
	}
	if err != nil {
		return nil, scrub(err, p, logical)
	}
	for i := range res {
		res[i].Err = scrub(res[i].Err, p, logical)
	}
	return res, nil
}

func onlyDeletes(ops []Op) bool {
	for _, op := range ops {
		if op.Type != OpDelete {
			return false
		}
	}
	return true
}

// Get returns one document of logical.
func (v *View) Get(ctx context.Context, logical, id string) (*Doc, error) {
	p, err := v.physical(logical)
	if err != nil {
		return nil, err
	}
	d, err := v.s.backend.Get(ctx, p, id)
	return d, scrub(err, p, logical)
}

// Search runs req over the indices that expr names in this tenant. Hits
// carry logical index names.
func (v *View) Search(ctx context.Context, expr string, req *SearchRequest) (*SearchResult, error) {
	entries, err := v.Expand(expr)
	if err != nil {
		return nil, err
	}
	return v.SearchEntries(ctx, entries, req)
}

// SearchEntries runs req over indices that Expand or ExpandWith returned
// for this view.
func (v *View) SearchEntries(ctx context.Context, entries []Entry, req *SearchRequest) (*SearchResult, error) {
	if len(entries) == 0 {
		return &SearchResult{TotalRelation: "eq", Hits: []Hit{}}, nil
	}
	names := make([]string, len(entries))
	logical := make(map[string]string, len(entries))
	for i, e := range entries {
		if e.Owner != v.t.Owner() {
			return nil, fmt.Errorf("index %q does not belong to %s", e.Physical, v.t)
		}
		names[i] = e.Physical
		logical[e.Physical] = e.Logical
	}
	res, err := v.s.backend.Search(ctx, names, req)
	if err != nil {
		for p, l := range logical {
			err = scrub(err, p, l)
		}
		return nil, err
	}
	for i, f := range res.Shards.Failures {
		l := logical[f.Index]
		res.Shards.Failures[i].Index = l
		if f.Reason != nil {
			if e, ok := scrub(f.Reason, f.Index, l).(*Error); ok {
				res.Shards.Failures[i].Reason = e
			}
		}
	}
	for i := range res.Hits {
		if l, ok := logical[res.Hits[i].Index]; ok {
			res.Hits[i].Index = l
		} else {
			// Never show a physical name the tenant does not own.
			return nil, fmt.Errorf("search returned a hit from unexpected index %q", res.Hits[i].Index)
		}
	}
	return res, nil
}

// PutTemplate stores an index template of the tenant.
func (v *View) PutTemplate(ctx context.Context, t Template) error {
	if err := ValidateName(t.Name, false); err != nil {
		return Invalidf("invalid_index_template_exception", "index_template [%s] invalid, cause [%s]", t.Name, err.Error())
	}
	if len(t.IndexPatterns) == 0 {
		return Invalidf("action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
	}
	for _, p := range t.IndexPatterns {
		if strings.HasPrefix(p, ".") || strings.ContainsAny(p, `\/?"<>| ,#:`) || p == "" {
			return Invalidf("invalid_index_template_exception", "index_template [%s] invalid, cause [index pattern [%s] is not allowed]", t.Name, p)
		}
	}
	return v.s.catalog.PutTemplate(v.t.Owner(), t)
}

// Templates returns the tenant's templates whose name matches pattern
// ("" or "*" for all).
func (v *View) Templates(pattern string) []Template {
	var out []Template
	for _, t := range v.s.catalog.Templates(v.t.Owner()) {
		if pattern == "" || MatchPattern(pattern, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// DeleteTemplate deletes one of the tenant's templates.
func (v *View) DeleteTemplate(ctx context.Context, name string) error {
	return v.s.catalog.DeleteTemplate(v.t.Owner(), name)
}

// scrub rewrites a back-end error about physical index physical so that
// it names the logical index instead: clients see only logical names.
func scrub(err error, physical, logical string) error {
	var e *Error
	if err == nil || !errors.As(err, &e) || physical == logical {
		return err
	}
	if e.Index != physical && !strings.Contains(e.Reason, physical) {
		return err
	}
	cp := *e
	if cp.Index == physical {
		cp.Index = logical
	}
	cp.Reason = strings.ReplaceAll(cp.Reason, physical, logical)
	return &cp
}

// NewID returns a random 20-character document id like OpenSearch's.
func NewID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
