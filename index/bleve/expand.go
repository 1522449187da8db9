package bleve

// This file caps the term expansion of multi-term queries (prefix,
// wildcard, regexp, fuzzy): Bleve builds one term searcher per matching
// dictionary term, so a prefix matching a million terms builds a million
// searchers before the first document is read, and the request's
// context is not consulted meanwhile. OpenSearch refuses a query that
// rewrites to more than indices.query.bool.max_clause_count (1024)
// clauses with too_many_clauses; expansions are refused the same way
// here, per multi-term query.

import (
	"context"
	"strings"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// maxClauseCount is the most terms one multi-term query (prefix,
// wildcard, regexp, fuzzy) may expand to. OpenSearch rewrites unscored
// multi-term queries without a term limit, so a dashboard's "url:*foo*" on
// a keyword field with many values must keep working; the cap only stops
// pathological expansions. Tests lower it.
var maxClauseCount = 65536

// expansionQuery wraps a multi-term query so that building its searcher
// fails with too_many_clauses past maxClauseCount terms, and checks the
// context before and after the (uninterruptible) expansion.
type expansionQuery struct {
	q     query.Query
	field string
}

// limitExpansion wraps a prefix, regexp or fuzzy query on field.
func limitExpansion(q query.Query, field string) query.Query {
	return &expansionQuery{q: q, field: field}
}

func (q *expansionQuery) SetBoost(b float64) {
	if bq, ok := q.q.(query.BoostableQuery); ok {
		bq.SetBoost(b)
	}
}

func (q *expansionQuery) Boost() float64 {
	if bq, ok := q.q.(query.BoostableQuery); ok {
		return bq.Boost()
	}
	return 1
}

func (q *expansionQuery) Searcher(ctx context.Context, i bindex.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Bleve counts every leaf term searcher against the limit installed
	// here (a fresh counter, so it covers this query's expansion only).
	lctx := search.ContextWithTermSearchersCounter(context.WithValue(ctx, search.MaxTermSearchersKey, maxClauseCount))
	s, err := q.q.Searcher(lctx, i, m, options)
	if err != nil {
		if strings.HasPrefix(err.Error(), "TooManyTermSearchers") || strings.HasPrefix(err.Error(), "TooManyClauses") {
			return nil, tooManyClauses(q.field)
		}
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

func tooManyClauses(field string) error {
	return index.Invalidf("too_many_clauses",
		"a prefix, wildcard, regexp or fuzzy query on [%s] expands to more than %d terms; maxClauseCount is set to %d",
		field, maxClauseCount, maxClauseCount)
}
