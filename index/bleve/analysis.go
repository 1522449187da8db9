package bleve

import (
	"fmt"

	// Analyzers the mapping names must be registered with Bleve.
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/simple"
	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/standard"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/whitespace"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// scoringModel is the Bleve scoring model of every index: BM25, like
// OpenSearch, when this Bleve version supports it.
var scoringModel = func() string {
	if _, ok := bindex.SupportedScoringModels[bindex.BM25Scoring]; ok {
		return bindex.BM25Scoring
	}
	return ""
}()

// analyzerNames are the Bleve analyzers every index mapping provides, by
// OpenSearch analyzer name.
var analyzerNames = map[string]string{
	"":           analyzerStandard,
	"standard":   analyzerStandard,
	"simple":     analyzerSimple,
	"whitespace": analyzerWhitespace,
	"keyword":    analyzerKeyword,
	"english":    analyzerEnglish,
	"stop":       analyzerStop,
}

// analyzerFor returns the Bleve analyzer name used to index a field with
// property p: the keyword analyzer for keyword fields, the mapped analyzer
// (standard by default) for text fields. Unknown names fall back to the
// standard analyzer; ParseMapping refuses them before they get here.
func analyzerFor(p *index.Property) string {
	if p == nil {
		return analyzerStandard
	}
	if p.Type == index.TypeKeyword {
		return analyzerKeyword
	}
	if a, ok := analyzerNames[p.Analyzer]; ok {
		return a
	}
	return analyzerStandard
}

// searchAnalyzerFor returns the Bleve analyzer name used to analyze query
// text for a field: search_analyzer when set, else analyzerFor.
func searchAnalyzerFor(p *index.Property) string {
	if p != nil && p.Type == index.TypeText && p.SearchAnalyzer != "" {
		if a, ok := analyzerNames[p.SearchAnalyzer]; ok {
			return a
		}
	}
	return analyzerFor(p)
}

// newIndexMapping returns the static Bleve mapping of every physical
// index: BM25 scoring, tenantgate's custom analyzers, and a disabled
// default mapping so that Bleve never maps a field by itself (documents
// are built in documents.go from the OpenSearch mapping).
func newIndexMapping() *mapping.IndexMappingImpl {
	im := mapping.NewIndexMapping()
	im.ScoringModel = scoringModel
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	im.DefaultAnalyzer = analyzerStandard
	mustAddAnalyzer(im, analyzerStandard, map[string]any{
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name},
	})
	mustAddAnalyzer(im, analyzerWhitespace, map[string]any{
		"type":      "custom",
		"tokenizer": whitespace.Name,
	})
	dm := mapping.NewDocumentDisabledMapping()
	dm.Dynamic = false
	im.DefaultMapping = dm
	return im
}

// mustAddAnalyzer registers a custom analyzer whose configuration is a
// constant of this package; a failure is a programming error.
func mustAddAnalyzer(im *mapping.IndexMappingImpl, name string, cfg map[string]any) {
	if err := im.AddCustomAnalyzer(name, cfg); err != nil {
		panic(fmt.Sprintf("registering analyzer %s: %v", name, err))
	}
}
