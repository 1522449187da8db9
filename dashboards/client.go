package dashboards

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tenantgate/tenantgate/index"
)

// Get returns one saved object; ErrNotFound if it (or the tenant's
// .kibana) does not exist.
func (c *Client) Get(ctx context.Context, typ, id string) (*Object, error) {
	if !Supported(typ) {
		return nil, unsupportedType(typ)
	}
	doc, err := c.store.Get(ctx, IndexName, docID(typ, id))
	if errors.Is(err, index.ErrNotFound) {
		return nil, notFound(typ, id)
	}
	if err != nil {
		return nil, err
	}
	o, err := decodeDoc(doc.ID, doc.Source, doc.SeqNo)
	if err != nil {
		return nil, err
	}
	if o.Type != typ {
		return nil, notFound(typ, id)
	}
	return o, nil
}

// CreateInput is an object to create: the body of POST
// /api/saved_objects/{type}/{id} or one item of _bulk_create. An empty ID
// gets a generated one.
type CreateInput struct {
	Type             string          `json:"type"`
	ID               string          `json:"id,omitempty"`
	Attributes       json.RawMessage `json:"attributes"`
	References       []Reference     `json:"references,omitempty"`
	MigrationVersion json.RawMessage `json:"migrationVersion,omitempty"`
	// Version makes an overwrite conditional on the stored version.
	Version  string `json:"version,omitempty"`
	OriginID string `json:"originId,omitempty"`
}

// Create stores one object. Without overwrite an existing object is a
// conflict; with it the object is replaced (conditionally when
// in.Version is set). Malformed attributes (a dashboard panel whose
// panelRefName is not in references, …) are ErrInvalid. References to
// objects missing from the tenant do not fail the call, because clients
// create objects in any order (OpenSearch Dashboards accepts them too);
// they are listed in the result's MissingReferences.
func (c *Client) Create(ctx context.Context, in CreateInput, overwrite bool) (*Object, error) {
	out, err := c.BulkCreate(ctx, []CreateInput{in}, overwrite)
	if err != nil {
		return nil, err
	}
	if e := out[0].Error; e != nil {
		return nil, bulkItemErr(in.Type, in.ID, e)
	}
	return &out[0], nil
}

// bulkItemErr turns an ItemError back into an *Error for single calls.
func bulkItemErr(typ, id string, e *ItemError) error {
	switch e.StatusCode {
	case 404:
		return notFound(typ, id)
	case 409:
		return conflict(typ, id)
	}
	return invalidf("%s", e.Message)
}

// BulkCreate stores objects; each item fails on its own (conflict,
// unsupported type, invalid attributes) with an Error in its result.
func (c *Client) BulkCreate(ctx context.Context, in []CreateInput, overwrite bool) ([]Object, error) {
	objs := make([]Object, len(in))
	for i, x := range in {
		objs[i] = Object{Type: x.Type, ID: x.ID, Attributes: x.Attributes, References: x.References,
			MigrationVersion: x.MigrationVersion, OriginID: x.OriginID, Version: x.Version}
		if objs[i].ID == "" {
			objs[i].ID = newUUID()
		}
	}
	if err := c.write(ctx, objs, func(int) bool { return overwrite }); err != nil {
		return nil, err
	}
	if err := c.markMissing(ctx, objs); err != nil {
		return nil, err
	}
	return objs, nil
}

// write validates and stores objs in one bulk call, each created or (when
// overwrite(i)) replaced; a set Version makes the write conditional.
// Results replace objs in place: stored objects get UpdatedAt and
// Version, failed ones an Error.
func (c *Client) write(ctx context.Context, objs []Object, overwrite func(int) bool) error {
	now := c.timestamp()
	var ops []index.Op
	var at []int
	for i := range objs {
		o := &objs[i]
		o.UpdatedAt = now
		err := validate(o)
		var op index.Op
		if err == nil {
			op, err = c.op(o, overwrite(i))
		}
		if err != nil {
			if ie, ok := itemError(err); ok {
				o.Error = &ie
				continue
			}
			return err
		}
		ops = append(ops, op)
		at = append(at, i)
	}
	if len(ops) == 0 {
		return nil
	}
	if err := c.ensure(ctx); err != nil {
		return err
	}
	res, err := c.store.Apply(ctx, IndexName, ops)
	if err != nil {
		return err
	}
	for k, r := range res {
		o := &objs[at[k]]
		switch {
		case r.Err == nil:
			o.Version = EncodeVersion(r.SeqNo, 1)
		case errors.Is(r.Err, index.ErrConflict) || errors.Is(r.Err, index.ErrExists) || r.Status == 409:
			o.Error = &ItemError{409, "Conflict", conflict(o.Type, o.ID).Message}
		case errors.Is(r.Err, index.ErrNotFound):
			o.Error = &ItemError{404, "Not Found", notFound(o.Type, o.ID).Message}
		case errors.Is(r.Err, index.ErrInvalid):
			o.Error = &ItemError{400, "Bad Request", fmt.Sprintf("[%s/%s] %v", o.Type, o.ID, r.Err)}
		default:
			return fmt.Errorf("writing %s/%s: %w", o.Type, o.ID, r.Err)
		}
	}
	return nil
}

// op returns the write of o: create, or index when overwriting,
// conditional on o.Version when it is set.
func (c *Client) op(o *Object, overwrite bool) (index.Op, error) {
	src, err := encodeDoc(o)
	if err != nil {
		return index.Op{}, err
	}
	op := index.Op{Type: index.OpCreate, ID: docID(o.Type, o.ID), Source: src}
	if overwrite {
		op.Type = index.OpIndex
	}
	if o.Version != "" {
		seq, term, err := DecodeVersion(o.Version)
		if err != nil {
			return op, err
		}
		op.Type, op.IfSeqNo, op.IfPrimaryTerm = index.OpIndex, &seq, &term
	}
	return op, nil
}

// markMissing sets MissingReferences on every stored object that
// references objects the tenant does not have.
func (c *Client) markMissing(ctx context.Context, objs []Object) error {
	var refs []ObjectRef
	for _, o := range objs {
		if o.Error == nil {
			for _, r := range o.References {
				refs = append(refs, ObjectRef{r.Type, r.ID})
			}
		}
	}
	have, err := c.existing(ctx, refs)
	if err != nil {
		return err
	}
	for i := range objs {
		if objs[i].Error != nil {
			continue
		}
		seen := map[string]bool{}
		for _, r := range objs[i].References {
			ref := ObjectRef{r.Type, r.ID}
			if !have[ref.key()] && !seen[ref.key()] {
				seen[ref.key()] = true
				objs[i].MissingReferences = append(objs[i].MissingReferences, ref)
			}
		}
	}
	return nil
}

// existing returns which of refs exist in the tenant, by key "type:id".
func (c *Client) existing(ctx context.Context, refs []ObjectRef) (map[string]bool, error) {
	have := map[string]bool{}
	for _, r := range refs {
		if _, done := have[r.key()]; done {
			continue
		}
		_, err := c.Get(ctx, r.Type, r.ID)
		switch {
		case err == nil:
			have[r.key()] = true
		case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvalid):
			have[r.key()] = false
		default:
			return nil, err
		}
	}
	return have, nil
}

// UpdateInput is the body of PUT /api/saved_objects/{type}/{id} or one
// item of _bulk_update.
type UpdateInput struct {
	Type       string          `json:"type"`
	ID         string          `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
	// References replace the stored ones when not nil.
	References *[]Reference `json:"references,omitempty"`
	// Version, when set, must be the stored version (else a conflict).
	Version string `json:"version,omitempty"`
}

// Update merges attributes into an existing object (objects merged
// recursively, everything else replaced, as OpenSearch's partial update
// does), replaces its references when given, validates the result and
// stores it if nobody changed it meanwhile. The result carries the
// attributes sent, as OpenSearch Dashboards answers.
func (c *Client) Update(ctx context.Context, in UpdateInput) (*Object, error) {
	out, err := c.BulkUpdate(ctx, []UpdateInput{in})
	if err != nil {
		return nil, err
	}
	if e := out[0].Error; e != nil {
		return nil, bulkItemErr(in.Type, in.ID, e)
	}
	return &out[0], nil
}

// BulkUpdate updates objects; each item fails on its own.
func (c *Client) BulkUpdate(ctx context.Context, in []UpdateInput) ([]Object, error) {
	out := make([]Object, len(in))
	var merged []Object
	var at []int
	for i, u := range in {
		out[i] = Object{Type: u.Type, ID: u.ID}
		m, err := c.merge(ctx, u)
		if err != nil {
			ie, ok := itemError(err)
			if !ok {
				return nil, err
			}
			out[i].Error = &ie
			continue
		}
		merged = append(merged, *m)
		at = append(at, i)
	}
	if err := c.write(ctx, merged, func(int) bool { return true }); err != nil {
		return nil, err
	}
	if err := c.markMissing(ctx, merged); err != nil {
		return nil, err
	}
	for k, m := range merged {
		i := at[k]
		if m.Error == nil {
			m.Attributes = in[i].Attributes
			m.MigrationVersion = nil
		}
		out[i] = m
	}
	return out, nil
}

// merge reads the stored object and applies u to it. The stored version
// (or u.Version, which must equal it) becomes the write's condition.
func (c *Client) merge(ctx context.Context, u UpdateInput) (*Object, error) {
	if !Supported(u.Type) {
		return nil, unsupportedType(u.Type)
	}
	cur, err := c.Get(ctx, u.Type, u.ID)
	if err != nil {
		return nil, err
	}
	if u.Version != "" {
		if _, _, err := DecodeVersion(u.Version); err != nil {
			return nil, err
		}
		if u.Version != cur.Version {
			return nil, conflict(u.Type, u.ID)
		}
	}
	attrs, err := mergeJSON(cur.Attributes, u.Attributes)
	if err != nil {
		return nil, invalidf("[request body.attributes]: expected a plain object value for [%s/%s]", u.Type, u.ID)
	}
	cur.Attributes = attrs
	if u.References != nil {
		cur.References = *u.References
	}
	return cur, nil
}

// mergeJSON merges the object patch into base: keys of objects on both
// sides merge recursively, anything else in patch replaces.
func mergeJSON(base, patch json.RawMessage) (json.RawMessage, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil || p == nil {
		return nil, errors.New("patch is not an object")
	}
	var b map[string]json.RawMessage
	if err := json.Unmarshal(base, &b); err != nil || b == nil {
		b = map[string]json.RawMessage{}
	}
	for k, v := range p {
		if old, ok := b[k]; ok && isObject(old) && isObject(v) {
			m, err := mergeJSON(old, v)
			if err != nil {
				return nil, err
			}
			b[k] = m
			continue
		}
		b[k] = v
	}
	return json.Marshal(b)
}

func isObject(raw json.RawMessage) bool {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}

// Delete deletes one object.
func (c *Client) Delete(ctx context.Context, typ, id string) error {
	if !Supported(typ) {
		return unsupportedType(typ)
	}
	ok, err := c.exists(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return notFound(typ, id)
	}
	res, err := c.store.Apply(ctx, IndexName, []index.Op{{Type: index.OpDelete, ID: docID(typ, id)}})
	if err != nil {
		return err
	}
	if r := res[0]; r.Err != nil || r.Result == "not_found" {
		if r.Err == nil || errors.Is(r.Err, index.ErrNotFound) {
			return notFound(typ, id)
		}
		return fmt.Errorf("deleting %s/%s: %w", typ, id, r.Err)
	}
	return nil
}

// BulkGetInput is one item of _bulk_get.
type BulkGetInput struct {
	Type   string   `json:"type"`
	ID     string   `json:"id"`
	Fields []string `json:"fields,omitempty"`
}

// BulkGet returns the objects in order; missing ones carry a 404 Error.
func (c *Client) BulkGet(ctx context.Context, in []BulkGetInput) ([]Object, error) {
	out := make([]Object, len(in))
	for i, x := range in {
		o, err := c.Get(ctx, x.Type, x.ID)
		if err != nil {
			ie, ok := itemError(err)
			if !ok {
				return nil, err
			}
			out[i] = Object{Type: x.Type, ID: x.ID, Error: &ie}
			continue
		}
		if len(x.Fields) > 0 {
			o.Attributes = pickFields(o.Attributes, x.Fields)
		}
		out[i] = *o
	}
	return out, nil
}

// pickFields keeps only the named top-level attributes.
func pickFields(attrs json.RawMessage, fields []string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(attrs, &m) != nil {
		return attrs
	}
	keep := map[string]json.RawMessage{}
	for _, f := range fields {
		if v, ok := m[f]; ok {
			keep[f] = v
		}
	}
	out, _ := json.Marshal(keep)
	return out
}
