package bleve

// This file is the contract between the write side (documents.go) and the
// read side (search.go, query.go, aggs.go) of the Bleve back-end: how one
// OpenSearch document becomes Bleve fields. Both sides follow it.
//
// Every leaf value is indexed under its full dotted path ("user.name");
// arrays give several values under the same path. Multi-fields are indexed
// under "<path>.<name>" ("title.keyword"). By field type:
//
//	text     text field, analyzed with analyzerFor(property); indexed with
//	         term positions (phrase queries need them), not stored, no doc
//	         values (like OpenSearch: no sort/aggs).
//	keyword  text field with the "keyword" analyzer (one term, exact);
//	         indexed + doc values. Values longer than ignore_above are
//	         skipped.
//	long, integer, short, byte, double, float
//	         numeric field (float64); indexed + doc values.
//	date     date-time field (parsed with the mapping's format, UTC);
//	         indexed + doc values.
//	boolean  boolean field; indexed + doc values.
//	ip       IP field; indexed + doc values.
//
// Special fields:
//
//	_source       the document exactly as sent, stored only.
//	_version      numeric, stored only (read back with hits and gets;
//	              never queried, and indexing it cost bulk ingest ~10%).
//	_seq_no       numeric, stored only, likewise.
//	_field_names  keyword terms, one per path that holds a non-null value
//	              (leaf paths, their object parents, and multi-fields);
//	              the exists query is a term query on it.
//
// The Bleve index mapping itself is static (BM25 scoring, the analyzers
// below registered, default mapping disabled); the OpenSearch mapping is
// kept beside it and is the source of truth for field types.

const (
	fieldSource     = "_source"
	fieldVersion    = "_version"
	fieldSeqNo      = "_seq_no"
	fieldFieldNames = "_field_names"
)

// Bleve analyzer names registered in every index mapping, by OpenSearch
// analyzer name. OpenSearch's "standard" does not drop stop words, unlike
// Bleve's, so it gets a custom analyzer.
const (
	analyzerStandard   = "os_standard"   // unicode tokenizer + lower case
	analyzerSimple     = "simple"        // letters + lower case (Bleve's)
	analyzerWhitespace = "os_whitespace" // whitespace tokenizer only
	analyzerKeyword    = "keyword"       // the whole value as one term
	analyzerEnglish    = "en"            // Bleve's English analyzer
	analyzerStop       = "standard"      // Bleve's standard: drops English stop words
)
