package index

import (
	"context"
	"encoding/json"
)

// Backend stores and searches physical indices. It knows nothing about
// tenants: callers go through a View, which maps logical names to physical
// ones. Every method takes a context first. Implementations must be safe
// for concurrent use. When a write method returns without error the write
// is durable (on disk).
type Backend interface {
	// CreateIndex creates a physical index with the given mapping (nil
	// means an empty, fully dynamic mapping). ErrExists if it exists.
	CreateIndex(ctx context.Context, name string, m *Mapping) error
	// DeleteIndex removes the index and its files. ErrNotFound if absent.
	DeleteIndex(ctx context.Context, name string) error
	// Exists reports whether the physical index exists.
	Exists(ctx context.Context, name string) (bool, error)
	// Mapping returns the current mapping, including fields added
	// dynamically by writes.
	Mapping(ctx context.Context, name string) (*Mapping, error)
	// Apply runs write operations against one index in order and returns
	// one result per operation. A failing operation never stops the
	// others; its OpResult carries the error. The returned error is for
	// failures of the whole call (index missing, backend closed).
	Apply(ctx context.Context, name string, ops []Op) ([]OpResult, error)
	// Get returns one document. ErrNotFound if the index or document is
	// absent.
	Get(ctx context.Context, name, id string) (*Doc, error)
	// Search runs one search over one or more physical indices.
	Search(ctx context.Context, names []string, req *SearchRequest) (*SearchResult, error)
	// Stats returns document count and size of one index.
	Stats(ctx context.Context, name string) (Stats, error)
	// Close closes every open index. Later calls return ErrClosed.
	Close() error
}

// OpType is the kind of a write operation.
type OpType int

// The write operations of the document and bulk APIs.
const (
	// OpIndex creates or replaces a document.
	OpIndex OpType = iota
	// OpCreate creates a document and fails with a conflict if it exists.
	OpCreate
	// OpUpdate merges Source (a partial document) into an existing one.
	OpUpdate
	// OpDelete deletes a document.
	OpDelete
)

// String returns the bulk action name ("index", "create", …).
func (t OpType) String() string {
	switch t {
	case OpIndex:
		return "index"
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return "unknown"
}

// Op is one write operation.
type Op struct {
	Type OpType
	// ID is the document id; never empty (the View generates ids).
	ID string
	// Source is the document (index, create) or the partial document to
	// merge (update). Kept byte for byte for index and create.
	Source json.RawMessage
	// Upsert is the document to create when an update finds none.
	Upsert json.RawMessage
	// DocAsUpsert creates the document from Source when it is missing.
	DocAsUpsert bool
	// IfSeqNo and IfPrimaryTerm, when set, make the operation conditional
	// (optimistic concurrency, as OpenSearch's if_seq_no and
	// if_primary_term): it fails with a version conflict unless the
	// document exists with that sequence number. The primary term is
	// always 1 on a single node.
	IfSeqNo       *int64
	IfPrimaryTerm *int64
}

// OpResult is the outcome of one Op, in OpenSearch's terms.
type OpResult struct {
	ID string
	// Result is "created", "updated", "deleted", "not_found" or "noop".
	Result  string
	Version int64
	SeqNo   int64
	// Status is the HTTP status of this item (201, 200, 404, 409, 400).
	Status int
	// Err is set when the item failed; usually an *Error.
	Err error
}

// Doc is a stored document.
type Doc struct {
	ID      string
	Source  json.RawMessage
	Version int64
	SeqNo   int64
}

// Stats describes one physical index.
type Stats struct {
	DocCount  uint64
	SizeBytes uint64
}
