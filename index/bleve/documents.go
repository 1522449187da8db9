package bleve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/tenantgate/tenantgate/index"
)

// maxIDBytes is the longest document id OpenSearch accepts.
const maxIDBytes = 512

// metadataFields may not appear at the root of a document.
var metadataFields = map[string]bool{
	"_id": true, "_index": true, "_source": true, "_version": true, "_seq_no": true,
	"_primary_term": true, "_field_names": true, "_routing": true, "_ignored": true,
	"_type": true, "_meta": true, "_doc_count": true, "_data_stream_timestamp": true,
}

// Indexing options by field kind (see layout.go). Text fields keep term
// vectors (positions) so that phrase queries work.
const (
	optsText     = bindex.IndexField | bindex.IncludeTermVectors
	optsExact    = bindex.IndexField | bindex.DocValues
	optsMeta     = bindex.StoreField
	optsSource   = bindex.StoreField
	optsFieldNam = bindex.IndexField
)

// errNeedsMapping stops a document build that found an unmapped field
// while working on the shared (immutable) mapping; the build is retried
// on the call's private copy.
var errNeedsMapping = errors.New("document needs a mapping update")

// maxDocDepth is how deeply objects and arrays may nest in a document.
// Deeper documents are refused before they are decoded, whatever the
// mapping says, so that no recursion over a document can grow without
// bound. Mapped objects are limited further by index.MaxMappingDepth.
const maxDocDepth = 100

// decodeSource decodes a document body into maps, keeping numbers as
// json.Number. It must be exactly one JSON object nested at most
// maxDocDepth levels deep.
func decodeSource(id string, raw []byte) (map[string]any, error) {
	if nestingDepth(raw) > maxDocDepth {
		return nil, index.Invalidf("mapper_parsing_exception", "failed to parse document with id '%s': the document is nested deeper than [%d] levels", id, maxDocDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, index.Invalidf("mapper_parsing_exception", "failed to parse document with id '%s': %s", id, index.JSONErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, index.Invalidf("mapper_parsing_exception", "failed to parse document with id '%s': data after the JSON object", id)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, index.Invalidf("mapper_parsing_exception", "failed to parse document with id '%s': the document must be a JSON object, got %s", id, jsonKind(v))
	}
	return obj, nil
}

// nestingDepth returns how deeply objects and arrays nest in the JSON
// text raw (0 for a scalar). It does not validate raw.
func nestingDepth(raw []byte) int {
	depth, deepest := 0, 0
	inString, escaped := false, false
	for _, c := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// mappingUpdate is the mapping one Apply call writes with. It starts as
// the published mapping, which is shared and never changed; the first
// document that needs a new field makes a private copy, which every later
// document of the call extends in place. So a bulk of n documents that add
// fields copies the mapping once, not n times.
type mappingUpdate struct {
	m *index.Mapping
	// owned reports that m is the call's private copy.
	owned bool
	// fields is m.FieldCount(), kept once m is owned.
	fields int
	// changed reports that some document added fields to m.
	changed bool
}

// own makes m the call's private copy.
func (u *mappingUpdate) own() {
	if u.owned {
		return
	}
	u.m, u.owned = u.m.Clone(), true
	u.fields = u.m.FieldCount()
}

// addedField is one field a document build added to the mapping, undone
// if the document fails.
type addedField struct {
	props      *map[string]*index.Property
	name       string
	createdMap bool
}

// docBuilder turns one decoded document into a Bleve document following
// layout.go, adding dynamic fields to the mapping when it is mutable.
type docBuilder struct {
	h       *handle
	id      string
	u       *mappingUpdate
	m       *index.Mapping
	mutable bool
	// added lists the fields this document added, in order; addedCount
	// counts them as index.MaxMappingFields does.
	added      []addedField
	addedCount int
	doc        *document.Document
	fieldNames map[string]struct{}
}

// buildDocument maps src for document id with the mapping of u, adding
// the dynamic fields src needs to u (see mappingUpdate). A bad document
// yields an *index.Error of kind ErrInvalid and leaves u as it was.
func (h *handle) buildDocument(u *mappingUpdate, id string, src map[string]any, raw []byte, version, seqNo int64) (*document.Document, error) {
	b := &docBuilder{h: h, id: id, u: u, m: u.m, mutable: u.owned}
	done := false
	defer func() {
		if !done { // an error, or a panic on its way up
			b.rollback()
		}
	}()
	err := b.build(src, raw, version, seqNo)
	if errors.Is(err, errNeedsMapping) {
		u.own()
		b = &docBuilder{h: h, id: id, u: u, m: u.m, mutable: true}
		err = b.build(src, raw, version, seqNo)
	}
	if err != nil {
		return nil, err
	}
	done = true
	if b.addedCount > 0 {
		u.fields += b.addedCount
		u.changed = true
	}
	return b.doc, nil
}

// rollback removes the fields the document added, newest first.
func (b *docBuilder) rollback() {
	for i := len(b.added) - 1; i >= 0; i-- {
		a := b.added[i]
		delete(*a.props, a.name)
		if a.createdMap {
			*a.props = nil
		}
	}
	b.added, b.addedCount = nil, 0
}

// addField adds the dynamically mapped field p at path to *props,
// enforcing the mapping limits.
func (b *docBuilder) addField(props *map[string]*index.Property, path, name string, p *index.Property) error {
	if err := checkNewDepth(path, p); err != nil {
		return err
	}
	n := p.FieldCount()
	if b.u.fields+b.addedCount+n > index.MaxMappingFields {
		return index.Invalidf("illegal_argument_exception", "Limit of total fields [%d] has been exceeded while adding new fields [%d]", index.MaxMappingFields, b.addedCount+n)
	}
	created := *props == nil
	if created {
		*props = map[string]*index.Property{}
	}
	(*props)[name] = p
	b.added = append(b.added, addedField{props: props, name: name, createdMap: created})
	b.addedCount += n
	return nil
}

// checkNewDepth checks a new field at path (and, for an object from a
// dynamic template, the objects inside it) against index.MaxMappingDepth.
func checkNewDepth(path string, p *index.Property) error {
	if p.Type != index.TypeObject {
		return nil
	}
	if index.ObjectDepth(path) > index.MaxMappingDepth {
		return index.DepthLimitError(path)
	}
	for _, name := range sortedMapKeys(p.Properties) {
		if err := checkNewDepth(path+"."+name, p.Properties[name]); err != nil {
			return err
		}
	}
	return nil
}

func (b *docBuilder) build(src map[string]any, raw []byte, version, seqNo int64) error {
	b.doc = document.NewDocument(b.id)
	b.fieldNames = map[string]struct{}{}
	for _, k := range sortedMapKeys(src) {
		root := k
		if i := strings.IndexByte(k, '.'); i >= 0 {
			root = k[:i]
		}
		if metadataFields[root] {
			return index.Invalidf("mapper_parsing_exception", "Field [%s] is a metadata field and cannot be added inside a document. Use the index API request parameters.", root)
		}
		if err := b.field(&b.m.Properties, b.m.Dynamic, "", k, src[k], nil); err != nil {
			return err
		}
	}
	b.doc.AddField(document.NewTextFieldWithIndexingOptions(fieldSource, nil, raw, optsSource))
	b.doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldVersion, nil, float64(version), optsMeta))
	b.doc.AddField(document.NewNumericFieldWithIndexingOptions(fieldSeqNo, nil, float64(seqNo), optsMeta))
	kw := b.h.analyzer(analyzerKeyword)
	names := make([]string, 0, len(b.fieldNames))
	for n := range b.fieldNames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b.doc.AddField(document.NewTextFieldCustom(fieldFieldNames, nil, []byte(n), optsFieldNam, kw))
	}
	return nil
}

// field maps the value v of key name inside the object whose properties
// are *props (path prefix prefix, dynamic setting dyn, array positions ap).
func (b *docBuilder) field(props *map[string]*index.Property, dyn, prefix, name string, v any, ap []uint64) error {
	if strings.Contains(name, ".") {
		// "a.b": v is shorthand for "a": {"b": v}.
		parts := strings.Split(name, ".")
		for _, p := range parts {
			if p == "" {
				return index.Invalidf("mapper_parsing_exception", "field name [%s%s] cannot contain empty segments", prefix, name)
			}
		}
		inner := v
		for i := len(parts) - 1; i > 0; i-- {
			inner = map[string]any{parts[i]: inner}
		}
		name, v = parts[0], inner
	}
	if name == "" || strings.TrimSpace(name) == "" {
		return index.Invalidf("mapper_parsing_exception", "field name cannot be an empty string (in [%s])", strings.TrimSuffix(prefix, "."))
	}
	path := prefix + name
	if arr, ok := v.([]any); ok {
		for i, el := range arr {
			if err := b.field(props, dyn, prefix, name, el, appendPos(ap, uint64(i))); err != nil {
				return err
			}
		}
		return nil
	}
	p := (*props)[name]
	if v == nil {
		if p == nil || len(p.NullValue) == 0 || p.Type == index.TypeObject {
			return nil
		}
		nv, err := decodeValue(p.NullValue)
		if err != nil {
			return index.Invalidf("mapper_parsing_exception", "bad null_value of field [%s]", path)
		}
		v = nv
	}
	if p == nil {
		switch effectiveDynamic(dyn) {
		case dynamicStrict:
			parent := strings.TrimSuffix(prefix, ".")
			if parent == "" {
				parent = "_doc"
			}
			return &index.Error{Kind: index.ErrInvalid, Type: "strict_dynamic_mapping_exception",
				Reason: fmt.Sprintf("mapping set to strict, dynamic introduction of [%s] within [%s] is not allowed", name, parent)}
		case dynamicFalse:
			return nil
		}
		if !b.mutable {
			return errNeedsMapping
		}
		p = inferProperty(b.m, path, name, v)
		if p == nil {
			return nil
		}
		if err := b.addField(props, path, name, p); err != nil {
			return err
		}
	}
	if obj, ok := v.(map[string]any); ok {
		if p.Type != index.TypeObject {
			return index.Invalidf("mapper_parsing_exception", "failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: an object", path, p.Type, b.id)
		}
		if p.Enabled != nil && !*p.Enabled {
			return nil
		}
		childDyn := dyn
		if p.Dynamic != "" {
			childDyn = p.Dynamic
		}
		for _, k := range sortedMapKeys(obj) {
			if err := b.field(&p.Properties, childDyn, path+".", k, obj[k], ap); err != nil {
				return err
			}
		}
		return nil
	}
	if p.Type == index.TypeObject {
		return index.Invalidf("mapper_parsing_exception", "object mapping for [%s] tried to parse field [%s] as object, but found a concrete value", path, path)
	}
	return b.leaf(path, p, v, ap)
}

// leaf adds the fields of one concrete value (and its multi-fields).
func (b *docBuilder) leaf(path string, p *index.Property, v any, ap []uint64) error {
	indexed := p.Index == nil || *p.Index
	opts := optsExact
	if !indexed {
		opts &^= bindex.IndexField
	}
	if p.DocValues != nil && !*p.DocValues {
		opts &^= bindex.DocValues
	}
	var f document.Field
	switch {
	case p.Type == index.TypeText:
		s, err := coerceString(v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if indexed {
			f = document.NewTextFieldCustom(path, ap, []byte(s), optsText, b.h.analyzer(analyzerFor(p)))
		}
	case p.Type == index.TypeKeyword:
		s, err := coerceString(v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if p.IgnoreAbove > 0 && utf8.RuneCountInString(s) > p.IgnoreAbove {
			return b.multiFields(path, p, v, ap)
		}
		if opts != 0 {
			f = document.NewTextFieldCustom(path, ap, []byte(s), opts, b.h.analyzer(analyzerKeyword))
		}
	case index.IsNumeric(p.Type):
		n, err := coerceNumber(p, v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if opts != 0 {
			f = document.NewNumericFieldWithIndexingOptions(path, ap, n, opts)
		}
	case p.Type == index.TypeDate:
		t, err := parseDate(p, v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if opts != 0 {
			df, err := document.NewDateTimeFieldWithIndexingOptions(path, ap, t, "", opts)
			if err != nil {
				return b.parseError(path, p, v, err)
			}
			f = df
		}
	case p.Type == index.TypeBoolean:
		x, err := coerceBool(v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if opts != 0 {
			f = document.NewBooleanFieldWithIndexingOptions(path, ap, x, opts)
		}
	case p.Type == index.TypeIP:
		ip, err := coerceIP(v)
		if err != nil {
			return b.parseError(path, p, v, err)
		}
		if opts != 0 {
			f = document.NewIPFieldWithIndexingOptions(path, ap, ip, opts)
		}
	default:
		return index.Invalidf("mapper_parsing_exception", "field [%s] has unsupported type [%s]", path, p.Type)
	}
	if f != nil {
		b.doc.AddField(f)
	}
	b.markFieldName(path)
	return b.multiFields(path, p, v, ap)
}

// multiFields indexes v again under each multi-field of p.
func (b *docBuilder) multiFields(path string, p *index.Property, v any, ap []uint64) error {
	if len(p.Fields) == 0 {
		return nil
	}
	for _, name := range sortedMapKeys(p.Fields) {
		if err := b.leaf(path+"."+name, p.Fields[name], v, ap); err != nil {
			return err
		}
	}
	return nil
}

// markFieldName records path and its parents for _field_names.
func (b *docBuilder) markFieldName(path string) {
	for {
		if _, ok := b.fieldNames[path]; ok {
			return
		}
		b.fieldNames[path] = struct{}{}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return
		}
		path = path[:i]
	}
}

func (b *docBuilder) parseError(path string, p *index.Property, v any, cause error) error {
	preview := fmt.Sprint(v)
	if len(preview) > 64 {
		preview = preview[:64] + "…"
	}
	return &index.Error{Kind: index.ErrInvalid, Type: "mapper_parsing_exception",
		Reason: fmt.Sprintf("failed to parse field [%s] of type [%s] in document with id '%s'. Preview of field's value: '%s' (%s)",
			path, p.Type, b.id, strings.ToValidUTF8(preview, ""), causeText(cause))}
}

func causeText(err error) string {
	var ie *index.Error
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return err.Error()
}

func effectiveDynamic(d string) string {
	if d == "" {
		return dynamicTrue
	}
	return d
}

func appendPos(ap []uint64, i uint64) []uint64 {
	out := make([]uint64, len(ap)+1)
	copy(out, ap)
	out[len(ap)] = i
	return out
}

func decodeValue(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Get returns document id of index name with its source byte for byte.
func (b *Backend) Get(ctx context.Context, name, id string) (d *index.Doc, err error) {
	h, release, err := b.acquire(ctx, name)
	if err != nil {
		return nil, err
	}
	defer release()
	defer recoverErr(&err, "reading from index "+name)
	d, err = h.load(id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		e := index.NotFoundf("not_found", "document [%s] not found", id)
		e.Index = name
		return nil, e
	}
	return d, nil
}

// load reads the stored fields of document id, or returns nil if there is
// no such document.
func (h *handle) load(id string) (*index.Doc, error) {
	if id == "" {
		return nil, nil
	}
	bd, err := h.idx.Document(id)
	if err != nil {
		return nil, fmt.Errorf("reading document %q of %q: %w", id, h.name, err)
	}
	return docFromStored(id, bd), nil
}

// docFromStored builds an index.Doc from the stored fields of a Bleve
// document (nil if bd is nil or has no source).
func docFromStored(id string, bd bindex.Document) *index.Doc {
	if bd == nil {
		return nil
	}
	d := &index.Doc{ID: id}
	bd.VisitFields(func(f bindex.Field) {
		switch f.Name() {
		case fieldSource:
			d.Source = append(json.RawMessage(nil), f.Value()...)
		case fieldVersion, fieldSeqNo:
			nf, ok := f.(interface{ Number() (float64, error) })
			if !ok {
				return
			}
			n, err := nf.Number()
			if err != nil {
				return
			}
			if f.Name() == fieldVersion {
				d.Version = int64(n)
			} else {
				d.SeqNo = int64(n)
			}
		}
	})
	if d.Source == nil {
		return nil
	}
	return d
}
