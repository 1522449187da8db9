package flows

import (
	"bytes"
	"regexp"
)

// Result is the validation of one document of a multi-document stream,
// in the shape of Kestra's POST /flows/validate answer. Outdated and
// Deleted compare the document with the stored flow, so the store fills
// them; this package leaves them false.
type Result struct {
	// Index is the document's position among the non-empty documents,
	// from 0.
	Index int `json:"index"`
	// Flow and Namespace are the document's id and namespace as read,
	// even when invalid (empty when they cannot be read).
	Flow      string `json:"flow,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Constraints is the error text, one violation per line; empty when
	// the document is valid.
	Constraints string `json:"constraints,omitempty"`
	// Outdated means a newer revision of the flow is stored.
	Outdated bool `json:"outdated"`
	// Deleted means the flow exists but its latest revision is deleted.
	Deleted bool `json:"deleted"`
	// DeprecationPaths names the deprecated keys the document uses.
	DeprecationPaths []string `json:"deprecationPaths"`
	// Warnings and Infos are advice that does not make the flow invalid.
	Warnings []string `json:"warnings"`
	Infos    []string `json:"infos"`
	// Violations are the same errors as Constraints, structured.
	Violations []Violation `json:"-"`
	// Parsed is the flow as read (Source is this document's bytes).
	Parsed Flow `json:"-"`
	// SentRevision is the document's own "revision" key, 0 when it has
	// none: Store.Validate compares it with the stored revision.
	SentRevision int `json:"-"`
}

// Valid reports whether the document broke no rule.
func (r Result) Valid() bool { return len(r.Violations) == 0 }

// ValidateAll validates every document of a "---" separated YAML stream
// and returns one Result per non-empty document, each with its own
// errors: one bad document does not hide the others.
func ValidateAll(src []byte) []Result {
	docs := splitDocuments(src)
	out := make([]Result, 0, len(docs))
	for i, doc := range docs {
		f, p := parse(doc)
		r := Result{
			Index:            i,
			Flow:             f.ID,
			Namespace:        f.Namespace,
			DeprecationPaths: append([]string{}, p.deprecation...),
			Warnings:         []string{},
			Infos:            []string{},
			Violations:       p.violations,
			Parsed:           f,
			SentRevision:     p.revision,
		}
		if len(p.violations) > 0 {
			r.Constraints = (&ValidationError{Violations: p.violations}).Error()
		}
		out = append(out, r)
	}
	return out
}

// separator matches a document separator line: "---" at the start of a
// line, alone or followed by blanks or a comment.
var separator = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?\r?$\n?`)

// splitDocuments cuts a YAML stream at its "---" lines and drops the
// documents that hold only blanks and comments. Each document keeps its
// bytes as written (the separator lines excluded).
func splitDocuments(src []byte) [][]byte {
	var docs [][]byte
	start := 0
	for _, loc := range separator.FindAllIndex(src, -1) {
		docs = appendDoc(docs, src[start:loc[0]])
		start = loc[1]
	}
	return appendDoc(docs, src[start:])
}

func appendDoc(docs [][]byte, doc []byte) [][]byte {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) > 0 && line[0] != '#' {
			return append(docs, doc)
		}
	}
	return docs
}
