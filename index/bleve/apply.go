package bleve

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/blevesearch/bleve/v2"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// Apply runs ops against index name in order, in one durable Bleve batch.
// Later ops see the effect of earlier ones on the same id. A failing op
// writes nothing and does not stop the others.
//
// Versions and sequence numbers: every op that writes (index, create, an
// update that changes the document, a delete of an existing document)
// takes the next sequence number of the index; failed ops, noop updates
// and deletes of missing documents take none. A document's version starts
// at 1 and grows by one per write. A delete leaves no tombstone, so
// indexing an id again after deleting it starts over at version 1
// (OpenSearch would continue from the deleted version while it keeps the
// tombstone); optimistic concurrency uses if_seq_no, which is unaffected.
func (b *Backend) Apply(ctx context.Context, name string, ops []index.Op) (res []index.OpResult, err error) {
	h, release, err := b.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	defer release()
	h.writeMu.Lock()
	defer h.writeMu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			res = nil
		}
	}()
	defer recoverErr(&err, "writing to index "+name)

	w := &writer{h: h, mu: &mappingUpdate{m: h.mapping()}, seq: h.seqNo, batch: h.idx.NewBatch(), pending: map[string]docState{}}
	// One reader serves every lookup of this call: writes are serialized
	// by writeMu and earlier ops of the call are in w.pending.
	adv, err := h.idx.Advanced()
	if err != nil {
		return nil, fmt.Errorf("opening reader of %q: %w", name, err)
	}
	if w.reader, err = adv.Reader(); err != nil {
		return nil, fmt.Errorf("opening reader of %q: %w", name, err)
	}
	defer w.reader.Close()
	res = make([]index.OpResult, len(ops))
	for i, op := range ops {
		res[i] = w.apply(op)
		if res[i].Err != nil {
			aboutIndex(res[i].Err, name)
		}
	}
	if w.seq == h.seqNo && !w.mu.changed {
		return res, nil
	}
	if w.mu.changed {
		raw, err := encodeMapping(w.mu.m)
		if err != nil {
			return nil, fmt.Errorf("storing mapping of %q: %w", name, err)
		}
		w.batch.SetInternal(internalMapping, raw)
	}
	w.batch.SetInternal(internalSeqNo, []byte(strconv.FormatInt(w.seq, 10)))
	if err := h.idx.Batch(w.batch); err != nil {
		return nil, fmt.Errorf("writing batch to index %q: %w", name, err)
	}
	h.seqNo = w.seq
	if w.mu.changed {
		h.current.Store(w.mu.m)
	}
	return res, nil
}

// encodeMapping encodes m for storage inside the index, and checks that
// loadState can read it back: a mapping that could not be decoded would
// make the index impossible to open.
func encodeMapping(m *index.Mapping) ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding mapping: %w", err)
	}
	if err := json.Unmarshal(raw, new(index.Mapping)); err != nil {
		return nil, fmt.Errorf("mapping would not decode: %w", err)
	}
	return raw, nil
}

// docState is what Apply knows of one document: read from the index or
// written earlier in the same call.
type docState struct {
	exists  bool
	version int64
	seqNo   int64
	source  []byte
}

// writer collects the ops of one Apply call.
type writer struct {
	h       *handle
	mu      *mappingUpdate
	seq     int64
	batch   *bleve.Batch
	reader  bindex.IndexReader
	pending map[string]docState
}

func (w *writer) apply(op index.Op) (r index.OpResult) {
	r.ID = op.ID
	defer func() {
		if p := recover(); p != nil {
			r = failedOp(op.ID, fmt.Errorf("%s [%s]: internal error: %v", op.Type, op.ID, p), 500)
		}
	}()
	if op.ID == "" {
		return failedOp(op.ID, index.Invalidf("illegal_argument_exception", "document id is missing"), 400)
	}
	if len(op.ID) > maxIDBytes {
		return failedOp(op.ID, index.Invalidf("illegal_argument_exception", "id [%.32s…] is too long, must be no longer than %d bytes but was: %d", op.ID, maxIDBytes, len(op.ID)), 400)
	}
	cur, err := w.lookup(op.ID)
	if err != nil {
		return failedOp(op.ID, err, 500)
	}
	if err := checkConditions(op, cur); err != nil {
		return failedOp(op.ID, err, 409)
	}
	switch op.Type {
	case index.OpIndex, index.OpCreate:
		if op.Type == index.OpCreate && cur.exists {
			return failedOp(op.ID, &index.Error{Kind: index.ErrConflict, Type: "version_conflict_engine_exception",
				Reason: fmt.Sprintf("[%s]: version conflict, document already exists (current version [%d])", op.ID, cur.version)}, 409)
		}
		return w.write(op.ID, op.Source, cur)
	case index.OpUpdate:
		if !cur.exists {
			switch {
			case op.Upsert != nil:
				return w.write(op.ID, op.Upsert, cur)
			case op.DocAsUpsert:
				return w.write(op.ID, op.Source, cur)
			}
			return failedOp(op.ID, index.NotFoundf("document_missing_exception", "[%s]: document missing", op.ID), 404)
		}
		merged, changed, err := mergeSource(cur.source, op.Source)
		if err != nil {
			return failedOp(op.ID, index.Invalidf("mapper_parsing_exception", "failed to parse the update of document with id '%s': %v", op.ID, err), 400)
		}
		if !changed {
			return index.OpResult{ID: op.ID, Result: "noop", Version: cur.version, SeqNo: cur.seqNo, Status: 200}
		}
		return w.write(op.ID, merged, cur)
	case index.OpDelete:
		if !cur.exists {
			// Nothing to write: no sequence number is used up and, if
			// no other op writes, no batch is written. SeqNo reports the
			// last one handed out. Version is 1, as OpenSearch reports
			// for a missing document.
			return index.OpResult{ID: op.ID, Result: "not_found", Version: 1, SeqNo: w.seq, Status: 404}
		}
		w.seq++
		w.batch.Delete(op.ID)
		w.pending[op.ID] = docState{}
		return index.OpResult{ID: op.ID, Result: "deleted", Version: cur.version + 1, SeqNo: w.seq, Status: 200}
	}
	return failedOp(op.ID, index.Invalidf("illegal_argument_exception", "unknown operation %d", op.Type), 400)
}

// write indexes source as the new content of document id.
func (w *writer) write(id string, source []byte, cur docState) index.OpResult {
	src, err := decodeSource(id, source)
	if err != nil {
		return failedOp(id, err, 400)
	}
	version := int64(1)
	if cur.exists {
		version = cur.version + 1
	}
	seq := w.seq + 1
	doc, err := w.h.buildDocument(w.mu, id, src, source, version, seq)
	if err != nil {
		return failedOp(id, err, 400)
	}
	if err := w.batch.IndexAdvanced(doc); err != nil {
		return failedOp(id, fmt.Errorf("indexing document %q: %w", id, err), 500)
	}
	w.seq = seq
	w.pending[id] = docState{exists: true, version: version, seqNo: seq, source: source}
	res := index.OpResult{ID: id, Result: "created", Version: version, SeqNo: seq, Status: 201}
	if cur.exists {
		res.Result, res.Status = "updated", 200
	}
	return res
}

// lookup returns the current state of document id.
func (w *writer) lookup(id string) (docState, error) {
	if st, ok := w.pending[id]; ok {
		return st, nil
	}
	bd, err := w.reader.Document(id)
	if err != nil {
		return docState{}, fmt.Errorf("reading document %q of %q: %w", id, w.h.name, err)
	}
	d := docFromStored(id, bd)
	if d == nil {
		return docState{}, nil
	}
	return docState{exists: true, version: d.Version, seqNo: d.SeqNo, source: d.Source}, nil
}

// checkConditions enforces if_seq_no / if_primary_term.
func checkConditions(op index.Op, cur docState) error {
	if op.IfSeqNo == nil && op.IfPrimaryTerm == nil {
		return nil
	}
	wantSeq, wantTerm := int64(-2), int64(1)
	if op.IfSeqNo != nil {
		wantSeq = *op.IfSeqNo
	}
	if op.IfPrimaryTerm != nil {
		wantTerm = *op.IfPrimaryTerm
	}
	if !cur.exists {
		return &index.Error{Kind: index.ErrConflict, Type: "version_conflict_engine_exception",
			Reason: fmt.Sprintf("[%s]: version conflict, required seqNo [%d], primary term [%d]. but no document was found", op.ID, wantSeq, wantTerm)}
	}
	if wantSeq != cur.seqNo || wantTerm != 1 {
		return &index.Error{Kind: index.ErrConflict, Type: "version_conflict_engine_exception",
			Reason: fmt.Sprintf("[%s]: version conflict, required seqNo [%d], primary term [%d]. current document has seqNo [%d] and primary term [1]", op.ID, wantSeq, wantTerm, cur.seqNo)}
	}
	return nil
}

func failedOp(id string, err error, status int) index.OpResult {
	return index.OpResult{ID: id, Status: status, Err: err}
}
