package executions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/index"
)

// Logical index names in every tenant; the view makes them
// ".executions_<hash>_<name>" and ".logs_<hash>_<name>" for a custom or
// private tenant and plain for the global one.
const (
	IndexName    = ".executions"
	LogIndexName = ".logs"
)

// Indices is what the store needs from storage: one tenant's indices by
// logical name. *index.View of the system kind (index.Service's
// SystemView) implements it.
type Indices interface {
	Exists(ctx context.Context, logical string) (bool, error)
	CreateIndex(ctx context.Context, logical string, m *index.Mapping) error
	Apply(ctx context.Context, logical string, ops []index.Op) ([]index.OpResult, error)
	Get(ctx context.Context, logical, id string) (*index.Doc, error)
	Search(ctx context.Context, expr string, req *index.SearchRequest) (*index.SearchResult, error)
}

var _ Indices = (*index.View)(nil)

const (
	// maxRetries bounds how often Update re-reads an execution after
	// losing a race with a concurrent update.
	maxRetries = 20
	// pageSize is how many hits internal listings read per search.
	pageSize = 1000
	// BatchSize is how many documents one purge or delete step removes
	// in one write.
	BatchSize = 500
	// MaxWindow is the deepest hit a page may reach (page × size).
	MaxWindow = 10000
	// DefaultSize is the page size when a query names none (Kestra's).
	DefaultSize = 10
)

func kw() *index.Property { return &index.Property{Type: index.TypeKeyword} }

func withText() *index.Property {
	return &index.Property{Type: index.TypeKeyword, Fields: map[string]*index.Property{"text": {Type: index.TypeText}}}
}

// Mapping returns the explicit mapping of an .executions index. Dynamic
// is false so inputs, outputs and task runs never grow the mapping; the
// keyword fields filter and sort, the ".text" fields serve full-text
// search. labelPairs holds "key:value" for each label, so a label filter
// matches a key and its value in the same label.
func Mapping() *index.Mapping {
	return &index.Mapping{Dynamic: "false", Properties: map[string]*index.Property{
		"id":           withText(),
		"namespace":    withText(),
		"flowId":       withText(),
		"flowRevision": {Type: index.TypeLong},
		"state": {Type: index.TypeObject, Properties: map[string]*index.Property{
			"current":   kw(),
			"startDate": {Type: index.TypeDate},
			"endDate":   {Type: index.TypeDate},
		}},
		"labels":     {Type: index.TypeObject, Properties: map[string]*index.Property{"key": withText(), "value": withText()}},
		"labelPairs": kw(),
	}}
}

// LogMapping returns the explicit mapping of a .logs index. order is a
// per-process increasing number that keeps lines written at the same
// instant in the order they were appended.
func LogMapping() *index.Mapping {
	return &index.Mapping{Dynamic: "false", Properties: map[string]*index.Property{
		"namespace":   withText(),
		"flowId":      withText(),
		"executionId": kw(),
		"taskId":      kw(),
		"taskRunId":   kw(),
		"timestamp":   {Type: index.TypeDate},
		"level":       kw(),
		// message.words splits on every non-letter ("simple"), so that
		// "marketing" finds "hi from company.marketing", which the
		// standard analyzer keeps as one word, as Kestra's log search
		// finds a part of a message.
		"message": {Type: index.TypeText, Fields: map[string]*index.Property{"words": {Type: index.TypeText, Analyzer: "simple"}}},
		"order":   {Type: index.TypeLong},
	}}
}

// document is the stored shape of an execution: the execution and the
// fields derived from it for searching.
type document struct {
	Execution
	LabelPairs []string `json:"labelPairs,omitempty"`
}

func newDocument(e *Execution) document {
	d := document{Execution: *e}
	for _, l := range e.Labels {
		d.LabelPairs = append(d.LabelPairs, l.Key+":"+l.Value)
	}
	return d
}

// logDocument is the stored shape of a log line.
type logDocument struct {
	LogEntry
	Order int64 `json:"order"`
}

// lastOrder is the last order handed out in this process.
var lastOrder atomic.Int64

// nextOrder returns a number greater than every earlier one in this
// process and, through the wall clock (microseconds, exact in a float),
// greater than those of earlier runs.
func nextOrder() int64 {
	for {
		last := lastOrder.Load()
		next := time.Now().UnixMicro()
		if next <= last {
			next = last + 1
		}
		if lastOrder.CompareAndSwap(last, next) {
			return next
		}
	}
}

// Store keeps the executions and logs of one tenant in its ".executions"
// and ".logs" indices: one document per execution (its id is the
// document id) and one per log line. It is safe for concurrent use:
// updates are conditional on the document's sequence number.
type Store struct {
	ix  Indices
	now func() time.Time
	// ready and logsReady are set once this store has made sure each
	// index exists with its mapping.
	ready, logsReady atomic.Bool
}

// NewStore returns the store over ix, one tenant's system view. now is
// the clock (nil means time.Now).
func NewStore(ix Indices, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{ix: ix, now: now}
}

// Now returns the store's clock reading, in UTC.
func (s *Store) Now() time.Time { return s.now().UTC() }

func (s *Store) ensure(ctx context.Context, name string, m func() *index.Mapping, ready *atomic.Bool) error {
	if ready.Load() {
		return nil
	}
	// CreateIndex rather than Exists: the view serialises creation, so a
	// concurrent first write waits until the index is really there.
	if err := s.ix.CreateIndex(ctx, name, m()); err != nil && !errors.Is(err, index.ErrExists) {
		return fmt.Errorf("creating %s: %w", name, err)
	}
	ready.Store(true)
	return nil
}

func (s *Store) ensureExecutions(ctx context.Context) error {
	return s.ensure(ctx, IndexName, Mapping, &s.ready)
}

func (s *Store) ensureLogs(ctx context.Context) error {
	return s.ensure(ctx, LogIndexName, LogMapping, &s.logsReady)
}

func notFound(id string) error { return fmt.Errorf("%w: %s", ErrNotFound, id) }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// check refuses an execution the store cannot keep.
func check(e *Execution) error {
	switch {
	case !ValidID(e.ID):
		return invalid("bad execution id %q: letters, digits, _ and -, not all lower case (NewID makes one)", e.ID)
	case e.Namespace == "" || e.FlowID == "":
		return invalid("an execution needs a namespace and a flow id")
	case !e.State.Current.Valid():
		return invalid("unknown state %q", e.State.Current)
	}
	return nil
}

// Create stores a new execution. An empty id gets a new one (NewID), a
// zero state starts as CREATED now, and a nil task run list becomes
// empty. An id that exists is ErrConflict; a malformed execution is
// ErrInvalid. It returns the execution as stored.
func (s *Store) Create(ctx context.Context, e Execution) (*Execution, error) {
	if e.ID == "" {
		e.ID = NewID()
	}
	if e.State.Current == "" {
		e.State = NewStateInfo(StateCreated, s.Now())
	}
	if e.TaskRunList == nil {
		e.TaskRunList = []TaskRun{}
	}
	if err := check(&e); err != nil {
		return nil, err
	}
	if err := s.ensureExecutions(ctx); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(newDocument(&e))
	if err != nil {
		return nil, fmt.Errorf("encoding execution %s: %w", e.ID, err)
	}
	res, err := s.ix.Apply(ctx, IndexName, []index.Op{{Type: index.OpCreate, ID: e.ID, Source: raw}})
	if err != nil {
		return nil, fmt.Errorf("saving execution %s: %w", e.ID, err)
	}
	if err := res[0].Err; err != nil {
		if errors.Is(err, index.ErrConflict) || errors.Is(err, index.ErrExists) || res[0].Status == 409 {
			return nil, fmt.Errorf("%w: execution %s already exists", ErrConflict, e.ID)
		}
		return nil, fmt.Errorf("saving execution %s: %w", e.ID, err)
	}
	return &e, nil
}

// read returns the execution id and its sequence number.
func (s *Store) read(ctx context.Context, id string) (*Execution, int64, error) {
	if id == "" {
		return nil, 0, notFound(id)
	}
	d, err := s.ix.Get(ctx, IndexName, id)
	if errors.Is(err, index.ErrNotFound) {
		return nil, 0, notFound(id)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading execution %s: %w", id, err)
	}
	var doc document
	if err := json.Unmarshal(d.Source, &doc); err != nil {
		return nil, 0, fmt.Errorf("decoding execution %s: %w", id, err)
	}
	return &doc.Execution, d.SeqNo, nil
}

// Get returns the execution id; a missing one is ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Execution, error) {
	e, _, err := s.read(ctx, id)
	return e, err
}

// Update reads the execution id, lets fn change it and writes it back on
// condition that nobody wrote it in between; when somebody did, it reads
// again and calls fn again (so fn must only change the execution it is
// given). An error from fn is returned as it is and nothing is written.
// The id, namespace and flow id cannot change. It returns the execution
// as written.
func (s *Store) Update(ctx context.Context, id string, fn func(*Execution) error) (*Execution, error) {
	for range maxRetries {
		e, seq, err := s.read(ctx, id)
		if err != nil {
			return nil, err
		}
		ns, flow := e.Namespace, e.FlowID
		if err := fn(e); err != nil {
			return nil, err
		}
		if e.ID != id || e.Namespace != ns || e.FlowID != flow {
			return nil, invalid("the id, namespace and flow of execution %s cannot change", id)
		}
		if err := check(e); err != nil {
			return nil, err
		}
		raw, err := json.Marshal(newDocument(e))
		if err != nil {
			return nil, fmt.Errorf("encoding execution %s: %w", id, err)
		}
		term := int64(1)
		res, err := s.ix.Apply(ctx, IndexName, []index.Op{{Type: index.OpIndex, ID: id, Source: raw, IfSeqNo: &seq, IfPrimaryTerm: &term}})
		if err != nil {
			return nil, fmt.Errorf("saving execution %s: %w", id, err)
		}
		if err := res[0].Err; err != nil {
			if errors.Is(err, index.ErrConflict) || res[0].Status == 409 {
				continue
			}
			return nil, fmt.Errorf("saving execution %s: %w", id, err)
		}
		return e, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrConflict, id)
}

// Delete removes the execution id and every log line of it. A missing
// execution is ErrNotFound.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, _, err := s.read(ctx, id); err != nil {
		return err
	}
	if _, err := s.deleteLogsWhere(ctx, termQuery("executionId", id)); err != nil {
		return err
	}
	res, err := s.ix.Apply(ctx, IndexName, []index.Op{{Type: index.OpDelete, ID: id}})
	if err != nil {
		return fmt.Errorf("deleting execution %s: %w", id, err)
	}
	if err := res[0].Err; err != nil {
		if errors.Is(err, index.ErrNotFound) || res[0].Status == 404 {
			return notFound(id)
		}
		return fmt.Errorf("deleting execution %s: %w", id, err)
	}
	return nil
}

// Query selects executions for Search. Empty fields select everything.
type Query struct {
	// Namespace covers itself and its children, on the dot boundary.
	Namespace string
	// Namespaces, when not nil, restricts the results to these exact
	// namespaces (the gateway's permission filter); an empty, non-nil
	// list selects nothing.
	Namespaces []string
	FlowID     string
	// States selects executions currently in one of them.
	States []State
	// StartDate and EndDate bound the execution's start date (inclusive).
	StartDate, EndDate *time.Time
	// Labels are "key:value" pairs that must all be on the execution.
	Labels []string
	// Q is full text over the id, namespace, flow id and labels.
	Q string
	// Page is 1-based (0 means 1); Size 0 means DefaultSize.
	Page, Size int
	// Sort is a list of "field:asc|desc"; the default is
	// "state.startDate:desc".
	Sort []string
}

// sortFields are the fields a Query may sort on.
var sortFields = map[string]string{
	"id": "id", "namespace": "namespace", "flowId": "flowId", "flowRevision": "flowRevision",
	"state.current": "state.current", "state.startDate": "state.startDate", "state.endDate": "state.endDate",
}

// logSortFields are the fields a LogQuery may sort on.
var logSortFields = map[string]string{
	"timestamp": "timestamp", "level": "level", "namespace": "namespace", "flowId": "flowId",
	"executionId": "executionId", "taskId": "taskId",
}

// sortSpec turns "field:dir" items into an OpenSearch sort, with tie
// breakers appended so pages are stable.
func sortSpec(items []string, fields map[string]string, def string, tie []any) (json.RawMessage, error) {
	if len(items) == 0 {
		items = []string{def}
	}
	var out []any
	for _, it := range items {
		for _, part := range strings.Split(it, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			name, dir, _ := strings.Cut(part, ":")
			field, ok := fields[name]
			if !ok {
				return nil, invalid("cannot sort on %q", name)
			}
			switch dir = strings.ToLower(dir); dir {
			case "":
				dir = "asc"
			case "asc", "desc":
			default:
				return nil, invalid("bad sort order %q for %q", dir, name)
			}
			out = append(out, map[string]any{field: map[string]any{"order": dir, "missing": "_last"}})
		}
	}
	out = append(out, tie...)
	return json.Marshal(out)
}

func termQuery(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

// namespaceFilter matches field on the dot boundary below ns.
func namespaceFilter(field, ns string) map[string]any {
	return map[string]any{"bool": map[string]any{"should": []any{
		termQuery(field, ns),
		map[string]any{"prefix": map[string]any{field: ns + "."}},
	}, "minimum_should_match": 1}}
}

// The dates the index can compare (nanoseconds since 1970 in an int64),
// a day inside the limits.
var (
	minDate = time.Unix(0, math.MinInt64).Add(24 * time.Hour).UTC()
	maxDate = time.Unix(0, math.MaxInt64).Add(-24 * time.Hour).UTC()
)

// clampDate brings t within the dates the index can compare; a bound
// past them ("before 2999") selects the same documents.
func clampDate(t time.Time) string {
	switch {
	case t.Before(minDate):
		t = minDate
	case t.After(maxDate):
		t = maxDate
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func dateRange(field string, from, to *time.Time) map[string]any {
	r := map[string]any{}
	if from != nil {
		r["gte"] = clampDate(*from)
	}
	if to != nil {
		r["lte"] = clampDate(*to)
	}
	return map[string]any{"range": map[string]any{field: r}}
}

func stringsOf[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// page checks page and size and returns from and size.
func page(p, size int) (int, int, error) {
	if p < 0 || size < 0 {
		return 0, 0, invalid("page and size must not be negative")
	}
	if p == 0 {
		p = 1
	}
	if size == 0 {
		size = DefaultSize
	}
	if p*size > MaxWindow {
		return 0, 0, invalid("page × size must be at most %d", MaxWindow)
	}
	return (p - 1) * size, size, nil
}

func fullText(q string, fields ...string) map[string]any {
	return map[string]any{"multi_match": map[string]any{"query": q, "fields": fields, "operator": "and"}}
}

// maxContains is the longest text searched for inside namespaces and
// flow ids (longer ones are matched as full text only): namespaces and
// flow ids are short, and the index refuses wildcards past its limits.
const maxContains = 64

// contains matches the keyword field holding text anywhere, so "team"
// finds the namespace "company.team" (one token to the analyzer).
func contains(field, text string) map[string]any {
	esc := strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`).Replace(strings.TrimSpace(text))
	return map[string]any{"wildcard": map[string]any{field: map[string]any{"value": "*" + esc + "*", "case_insensitive": true}}}
}

// filter builds the query of q.
func (q *Query) filter() (json.RawMessage, error) {
	var must []any
	filter := []any{}
	if q.Namespace != "" {
		filter = append(filter, namespaceFilter("namespace", q.Namespace))
	}
	if q.Namespaces != nil {
		filter = append(filter, map[string]any{"terms": map[string]any{"namespace": append([]string{}, q.Namespaces...)}})
	}
	if q.FlowID != "" {
		filter = append(filter, termQuery("flowId", q.FlowID))
	}
	if len(q.States) > 0 {
		for _, st := range q.States {
			if !st.Valid() {
				return nil, invalid("unknown state %q", st)
			}
		}
		filter = append(filter, map[string]any{"terms": map[string]any{"state.current": stringsOf(q.States)}})
	}
	if q.StartDate != nil || q.EndDate != nil {
		filter = append(filter, dateRange("state.startDate", q.StartDate, q.EndDate))
	}
	for _, l := range q.Labels {
		if !strings.Contains(l, ":") {
			return nil, invalid("a label filter is key:value, not %q", l)
		}
		filter = append(filter, termQuery("labelPairs", l))
	}
	if strings.TrimSpace(q.Q) != "" {
		should := []any{
			termQuery("id", q.Q),
			fullText(q.Q, "id.text", "namespace.text", "flowId.text", "labels.key.text", "labels.value.text"),
		}
		if len(q.Q) <= maxContains {
			should = append(should, contains("namespace", q.Q), contains("flowId", q.Q))
		}
		must = append(must, map[string]any{"bool": map[string]any{"should": should, "minimum_should_match": 1}})
	}
	b := map[string]any{"filter": filter}
	if must != nil {
		b["must"] = must
	}
	return json.Marshal(map[string]any{"bool": b})
}

// Search returns one page of the executions q selects and how many it
// selects in all. A bad state, label, sort or page is ErrInvalid.
func (s *Store) Search(ctx context.Context, q Query) ([]Execution, int64, error) {
	from, size, err := page(q.Page, q.Size)
	if err != nil {
		return nil, 0, err
	}
	query, err := q.filter()
	if err != nil {
		return nil, 0, err
	}
	sortBy, err := sortSpec(q.Sort, sortFields, "state.startDate:desc", []any{map[string]any{"id": "asc"}})
	if err != nil {
		return nil, 0, err
	}
	return searchPage(ctx, s.ix, IndexName, "execution", query, sortBy, from, size, func(d document) Execution { return d.Execution })
}

// searchPage runs one page of a search of index name, decodes each hit
// as a D and returns what pick takes from it, with the total. A missing
// index is an empty page; what names a hit in errors.
func searchPage[D, T any](ctx context.Context, ix Indices, name, what string, query, sortBy json.RawMessage, from, size int, pick func(D) T) ([]T, int64, error) {
	res, err := ix.Search(ctx, name, &index.SearchRequest{Query: query, Sort: sortBy, From: from, Size: size, TrackTotalHits: json.RawMessage("true")})
	if errors.Is(err, index.ErrNotFound) {
		return []T{}, 0, nil
	}
	if err != nil {
		return nil, 0, searchErr(what+"s", err)
	}
	out := make([]T, 0, len(res.Hits))
	for _, h := range res.Hits {
		var d D
		if err := json.Unmarshal(h.Source, &d); err != nil {
			return nil, 0, fmt.Errorf("decoding %s %s: %w", what, h.ID, err)
		}
		out = append(out, pick(d))
	}
	return out, res.Total, nil
}

// searchErr wraps a failed search; a query the index refuses (a
// full-text query over its limits) is ErrInvalid.
func searchErr(what string, err error) error {
	if errors.Is(err, index.ErrInvalid) {
		return fmt.Errorf("%w: searching %s: %w", ErrInvalid, what, err)
	}
	return fmt.Errorf("searching %s: %w", what, err)
}

// Active returns every execution that is not in a terminal state, oldest
// first: the ones a worker resumes at start.
func (s *Store) Active(ctx context.Context) ([]Execution, error) {
	var terminal []string
	for _, st := range States {
		if st.Terminal() {
			terminal = append(terminal, string(st))
		}
	}
	q, _ := json.Marshal(map[string]any{"bool": map[string]any{"must_not": []any{
		map[string]any{"terms": map[string]any{"state.current": terminal}},
	}}})
	docs, err := index.AllSources[document](ctx, s.ix, IndexName, q, json.RawMessage(`[{"state.startDate":"asc"},{"id":"asc"}]`), pageSize)
	if err != nil {
		return nil, err
	}
	out := make([]Execution, 0, len(docs))
	for _, d := range docs {
		if !d.State.Current.Terminal() {
			out = append(out, d.Execution)
		}
	}
	return out, nil
}

// Namespaces returns the distinct namespaces of the tenant's executions
// (logs when logs is true), for permission filters.
func (s *Store) Namespaces(ctx context.Context, logs bool) ([]string, error) {
	name := IndexName
	if logs {
		name = LogIndexName
	}
	res, err := s.ix.Search(ctx, name, &index.SearchRequest{Size: 0,
		Aggs: json.RawMessage(`{"ns":{"terms":{"field":"namespace","size":10000}}}`)})
	if errors.Is(err, index.ErrNotFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing namespaces of %s: %w", name, err)
	}
	var aggs struct {
		NS struct {
			Buckets []struct {
				Key string `json:"key"`
			} `json:"buckets"`
		} `json:"ns"`
	}
	if err := json.Unmarshal(res.Aggregations, &aggs); err != nil {
		return nil, fmt.Errorf("decoding namespaces of %s: %w", name, err)
	}
	out := make([]string, 0, len(aggs.NS.Buckets))
	for _, b := range aggs.NS.Buckets {
		out = append(out, b.Key)
	}
	return out, nil
}

// AppendLogs stores log lines, in the order given. A line without a
// timestamp gets the store's clock, one without a level is INFO; a line
// with an unknown level, or without execution id, namespace or flow id,
// is ErrInvalid (and nothing is written).
func (s *Store) AppendLogs(ctx context.Context, entries ...LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	ops := make([]index.Op, 0, len(entries))
	for _, e := range entries {
		if e.Timestamp.IsZero() {
			e.Timestamp = s.Now()
		}
		e.Timestamp = e.Timestamp.UTC()
		if e.Level == "" {
			e.Level = LevelInfo
		}
		if e.Level.Rank() < 0 {
			return invalid("unknown log level %q", e.Level)
		}
		if e.ExecutionID == "" || e.Namespace == "" || e.FlowID == "" {
			return invalid("a log line needs an execution id, a namespace and a flow id")
		}
		raw, err := json.Marshal(logDocument{LogEntry: e, Order: nextOrder()})
		if err != nil {
			return fmt.Errorf("encoding log line: %w", err)
		}
		ops = append(ops, index.Op{Type: index.OpIndex, Source: raw})
	}
	if err := s.ensureLogs(ctx); err != nil {
		return err
	}
	for len(ops) > 0 {
		n := min(len(ops), BatchSize)
		res, err := s.ix.Apply(ctx, LogIndexName, ops[:n])
		if err != nil {
			return fmt.Errorf("saving log lines: %w", err)
		}
		for _, r := range res {
			if r.Err != nil {
				return fmt.Errorf("saving log line: %w", r.Err)
			}
		}
		ops = ops[n:]
	}
	return nil
}

// LogQuery selects log lines. Empty fields select everything.
type LogQuery struct {
	// Namespace covers itself and its children, on the dot boundary.
	Namespace string
	// Namespaces, when not nil, restricts the results to these exact
	// namespaces (the gateway's permission filter).
	Namespaces  []string
	FlowID      string
	ExecutionID string
	TaskID      string
	TaskRunID   string
	// MinLevel selects lines at this level or above.
	MinLevel Level
	// Q is full text over the message (and namespace and flow id).
	Q string
	// StartDate and EndDate bound the line's timestamp (inclusive).
	StartDate, EndDate *time.Time
	// Page is 1-based (0 means 1); Size 0 means DefaultSize.
	Page, Size int
	// Sort is a list of "field:asc|desc"; the default is "timestamp:asc"
	// (then the order of appending).
	Sort []string
}

func levelsFrom(min Level) ([]string, error) {
	r := min.Rank()
	if r < 0 {
		return nil, invalid("unknown log level %q", min)
	}
	return stringsOf(Levels[r:]), nil
}

func (q *LogQuery) filter() (json.RawMessage, error) {
	filter := []any{}
	var must []any
	if q.Namespace != "" {
		filter = append(filter, namespaceFilter("namespace", q.Namespace))
	}
	if q.Namespaces != nil {
		filter = append(filter, map[string]any{"terms": map[string]any{"namespace": append([]string{}, q.Namespaces...)}})
	}
	for field, v := range map[string]string{"flowId": q.FlowID, "executionId": q.ExecutionID, "taskId": q.TaskID, "taskRunId": q.TaskRunID} {
		if v != "" {
			filter = append(filter, termQuery(field, v))
		}
	}
	if q.MinLevel != "" {
		lv, err := levelsFrom(q.MinLevel)
		if err != nil {
			return nil, err
		}
		filter = append(filter, map[string]any{"terms": map[string]any{"level": lv}})
	}
	if q.StartDate != nil || q.EndDate != nil {
		filter = append(filter, dateRange("timestamp", q.StartDate, q.EndDate))
	}
	if strings.TrimSpace(q.Q) != "" {
		must = append(must, fullText(q.Q, "message", "message.words", "namespace.text", "flowId.text"))
	}
	b := map[string]any{"filter": filter}
	if must != nil {
		b["must"] = must
	}
	return json.Marshal(map[string]any{"bool": b})
}

var logTie = []any{map[string]any{"order": "asc"}}

// SearchLogs returns one page of the log lines q selects and how many it
// selects in all. A bad level, sort or page is ErrInvalid.
func (s *Store) SearchLogs(ctx context.Context, q LogQuery) ([]LogEntry, int64, error) {
	from, size, err := page(q.Page, q.Size)
	if err != nil {
		return nil, 0, err
	}
	query, err := q.filter()
	if err != nil {
		return nil, 0, err
	}
	sortBy, err := sortSpec(q.Sort, logSortFields, "timestamp:asc", logTie)
	if err != nil {
		return nil, 0, err
	}
	return searchPage(ctx, s.ix, LogIndexName, "log line", query, sortBy, from, size, func(d logDocument) LogEntry { return d.LogEntry })
}

// Logs returns every log line of the execution executionID that q
// selects (its page and size are ignored), oldest first.
func (s *Store) Logs(ctx context.Context, executionID string, q LogQuery) ([]LogEntry, error) {
	q.ExecutionID = executionID
	if executionID == "" {
		return nil, notFound(executionID)
	}
	query, err := q.filter()
	if err != nil {
		return nil, err
	}
	docs, err := index.AllSources[logDocument](ctx, s.ix, LogIndexName, query,
		json.RawMessage(`[{"timestamp":"asc"},{"order":"asc"}]`), pageSize)
	if err != nil {
		return nil, err
	}
	out := make([]LogEntry, len(docs))
	for i := range docs {
		out[i] = docs[i].LogEntry
	}
	return out, nil
}

// PurgeQuery selects what PurgeExecutions and PurgeLogs remove.
type PurgeQuery struct {
	// Namespace covers itself and its children, on the dot boundary.
	Namespace string
	// Namespaces, when not nil, restricts the purge to these exact
	// namespaces (the gateway's permission filter).
	Namespaces []string
	FlowID     string
	// StartDate (optional) and EndDate (required) bound the execution's
	// end date, or the log line's timestamp (inclusive). Executions that
	// have not ended are never purged.
	StartDate *time.Time
	EndDate   time.Time
	// States selects executions by state (terminal ones only; empty
	// means every terminal state).
	States []State
	// Levels selects log lines by level (empty means all).
	Levels []Level
	// Logs makes PurgeExecutions remove the log lines of the executions
	// it removes as well (Kestra's purgeLog).
	Logs bool
}

// PurgeResult counts what a purge removed.
type PurgeResult struct {
	Executions int `json:"executionsCount"`
	Logs       int `json:"logsCount"`
}

// PurgeExecutions removes, in batches of BatchSize, the finished
// executions q selects (and their logs when q.Logs). A zero EndDate or
// a non-terminal state is ErrInvalid.
func (s *Store) PurgeExecutions(ctx context.Context, q PurgeQuery) (PurgeResult, error) {
	var out PurgeResult
	if q.EndDate.IsZero() {
		return out, invalid("endDate is required")
	}
	filter := []any{dateRange("state.endDate", q.StartDate, &q.EndDate)}
	states := q.States
	if len(states) == 0 {
		for _, st := range States {
			if st.Terminal() {
				states = append(states, st)
			}
		}
	}
	for _, st := range states {
		if !st.Terminal() {
			return out, invalid("only finished executions are purged, not %s ones", st)
		}
	}
	filter = append(filter, map[string]any{"terms": map[string]any{"state.current": stringsOf(states)}})
	if q.Namespace != "" {
		filter = append(filter, namespaceFilter("namespace", q.Namespace))
	}
	if q.Namespaces != nil {
		filter = append(filter, map[string]any{"terms": map[string]any{"namespace": append([]string{}, q.Namespaces...)}})
	}
	if q.FlowID != "" {
		filter = append(filter, termQuery("flowId", q.FlowID))
	}
	query, _ := json.Marshal(map[string]any{"bool": map[string]any{"filter": filter}})
	for {
		res, err := s.ix.Search(ctx, IndexName, &index.SearchRequest{Query: query, Size: BatchSize,
			Sort: json.RawMessage(`[{"id":"asc"}]`), Source: json.RawMessage(`false`)})
		if errors.Is(err, index.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("searching executions to purge: %w", err)
		}
		if len(res.Hits) == 0 {
			return out, nil
		}
		ops := make([]index.Op, 0, len(res.Hits))
		for _, h := range res.Hits {
			if q.Logs {
				n, err := s.deleteLogsWhere(ctx, termQuery("executionId", h.ID))
				out.Logs += n
				if err != nil {
					return out, err
				}
			}
			ops = append(ops, index.Op{Type: index.OpDelete, ID: h.ID})
		}
		n, err := s.apply(ctx, IndexName, ops)
		out.Executions += n
		if err != nil {
			return out, err
		}
		if n == 0 {
			return out, nil // the search keeps finding deleted documents
		}
	}
}

// PurgeLogs removes, in batches of BatchSize, the log lines q selects
// (namespace, flow, levels, timestamp up to EndDate). A zero EndDate or
// an unknown level is ErrInvalid. Executions stay.
func (s *Store) PurgeLogs(ctx context.Context, q PurgeQuery) (int, error) {
	if q.EndDate.IsZero() {
		return 0, invalid("endDate is required")
	}
	filter := []any{dateRange("timestamp", q.StartDate, &q.EndDate)}
	if len(q.Levels) > 0 {
		for _, l := range q.Levels {
			if l.Rank() < 0 {
				return 0, invalid("unknown log level %q", l)
			}
		}
		filter = append(filter, map[string]any{"terms": map[string]any{"level": stringsOf(q.Levels)}})
	}
	if q.Namespace != "" {
		filter = append(filter, namespaceFilter("namespace", q.Namespace))
	}
	if q.Namespaces != nil {
		filter = append(filter, map[string]any{"terms": map[string]any{"namespace": append([]string{}, q.Namespaces...)}})
	}
	if q.FlowID != "" {
		filter = append(filter, termQuery("flowId", q.FlowID))
	}
	return s.deleteLogsWhere(ctx, map[string]any{"bool": map[string]any{"filter": filter}})
}

// deleteLogsWhere deletes the log lines matching query in batches and
// returns how many it deleted.
func (s *Store) deleteLogsWhere(ctx context.Context, query map[string]any) (int, error) {
	raw, _ := json.Marshal(query)
	total := 0
	for {
		res, err := s.ix.Search(ctx, LogIndexName, &index.SearchRequest{Query: raw, Size: BatchSize,
			Sort: json.RawMessage(`[{"order":"asc"}]`), Source: json.RawMessage(`false`)})
		if errors.Is(err, index.ErrNotFound) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("searching logs to delete: %w", err)
		}
		if len(res.Hits) == 0 {
			return total, nil
		}
		ops := make([]index.Op, len(res.Hits))
		for i, h := range res.Hits {
			ops[i] = index.Op{Type: index.OpDelete, ID: h.ID}
		}
		n, err := s.apply(ctx, LogIndexName, ops)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// apply runs delete ops and counts the documents really deleted.
func (s *Store) apply(ctx context.Context, name string, ops []index.Op) (int, error) {
	res, err := s.ix.Apply(ctx, name, ops)
	if err != nil {
		return 0, fmt.Errorf("deleting from %s: %w", name, err)
	}
	n := 0
	for _, r := range res {
		switch {
		case r.Err == nil:
			n++
		case errors.Is(r.Err, index.ErrNotFound) || r.Status == 404:
		default:
			return n, fmt.Errorf("deleting from %s: %w", name, r.Err)
		}
	}
	return n, nil
}

// ParseLabels reads labels written "key:value" (Kestra's labels query
// parameter). A pair without ":" or with an empty key is ErrInvalid.
func ParseLabels(pairs []string) ([]flows.Label, error) {
	out := make([]flows.Label, 0, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, ":")
		if !ok || k == "" {
			return nil, invalid("a label is key:value, not %q", p)
		}
		out = append(out, flows.Label{Key: k, Value: v})
	}
	return out, nil
}
