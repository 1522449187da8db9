package dashboards

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// MaxExport is the most objects an export, import or copy handles
// (OpenSearch Dashboards' savedObjects.maxImportExportSize default).
const MaxExport = 10000

// ExportOptions are the body of POST /api/saved_objects/_export: Types
// or Objects, not both.
type ExportOptions struct {
	Types                 []string
	Objects               []ObjectRef
	IncludeReferencesDeep bool
}

// ExportDetails is the summary line that ends an export.
type ExportDetails struct {
	ExportedCount     int         `json:"exportedCount"`
	MissingRefCount   int         `json:"missingRefCount"`
	MissingReferences []ObjectRef `json:"missingReferences"`
}

// Export returns the objects to export, referenced objects before those
// that reference them, and the summary. Requested objects that do not
// exist are ErrInvalid naming them (OpenSearch Dashboards' 400); missing
// references reached by IncludeReferencesDeep are only reported.
func (c *Client) Export(ctx context.Context, o ExportOptions) ([]Object, *ExportDetails, error) {
	if len(o.Types) > 0 && len(o.Objects) > 0 {
		return nil, nil, invalidf(`Can't specify both "types" and "objects" properties when exporting`)
	}
	if len(o.Types) == 0 && len(o.Objects) == 0 {
		return nil, nil, invalidf(`Either "type" or "objects" are required.`)
	}
	var roots []Object
	if len(o.Types) > 0 {
		for _, t := range o.Types {
			if !Supported(t) {
				return nil, nil, unsupportedType(t)
			}
		}
		res, err := c.Find(ctx, FindOptions{Types: o.Types, PerPage: MaxExport, SortField: "type"})
		if err != nil {
			return nil, nil, err
		}
		if res.Total > MaxExport {
			return nil, nil, invalidf("Can't export more than %d objects", MaxExport)
		}
		roots = res.SavedObjects
		slices.SortStableFunc(roots, func(a, b Object) int { return strings.Compare(a.Type+":"+a.ID, b.Type+":"+b.ID) })
	} else {
		if len(o.Objects) > MaxExport {
			return nil, nil, invalidf("Can't export more than %d objects", MaxExport)
		}
		var missing []string
		for _, r := range o.Objects {
			obj, err := c.Get(ctx, r.Type, r.ID)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
				missing = append(missing, r.Type+"/"+r.ID)
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			roots = append(roots, *obj)
		}
		if len(missing) > 0 {
			return nil, nil, invalidf("Error fetching objects to export: [%s] not found", strings.Join(missing, ", "))
		}
	}
	details := &ExportDetails{MissingReferences: []ObjectRef{}}
	objs := roots
	if o.IncludeReferencesDeep {
		var err error
		objs, details.MissingReferences, err = c.closure(ctx, roots)
		if err != nil {
			return nil, nil, err
		}
	}
	objs = sortObjects(objs)
	for i := range objs {
		objs[i].Score = nil
	}
	details.ExportedCount, details.MissingRefCount = len(objs), len(details.MissingReferences)
	return objs, details, nil
}

// closure adds to roots every object they reference, transitively, and
// returns the references that could not be found.
func (c *Client) closure(ctx context.Context, roots []Object) ([]Object, []ObjectRef, error) {
	seen := map[string]bool{}
	out := make([]Object, 0, len(roots))
	for _, o := range roots {
		if !seen[o.ref().key()] {
			seen[o.ref().key()] = true
			out = append(out, o)
		}
	}
	missing := []ObjectRef{}
	for i := 0; i < len(out); i++ {
		for _, r := range out[i].References {
			ref := ObjectRef{r.Type, r.ID}
			if seen[ref.key()] {
				continue
			}
			seen[ref.key()] = true
			obj, err := c.Get(ctx, r.Type, r.ID)
			if errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
				missing = append(missing, ref)
				continue
			}
			if err != nil {
				return nil, nil, err
			}
			if len(out) >= MaxExport {
				return nil, nil, invalidf("Can't export more than %d objects", MaxExport)
			}
			out = append(out, *obj)
		}
	}
	return out, missing, nil
}

// sortObjects orders objects so that each comes after the objects it
// references (depth first, keeping the given order otherwise), as
// OpenSearch Dashboards' export does.
func sortObjects(objs []Object) []Object {
	byKey := make(map[string]int, len(objs))
	for i, o := range objs {
		byKey[o.ref().key()] = i
	}
	done := make([]bool, len(objs))
	onPath := make([]bool, len(objs))
	out := make([]Object, 0, len(objs))
	var visit func(i int)
	visit = func(i int) {
		if done[i] || onPath[i] {
			return
		}
		onPath[i] = true
		for _, r := range objs[i].References {
			if j, ok := byKey[ObjectRef{r.Type, r.ID}.key()]; ok {
				visit(j)
			}
		}
		onPath[i] = false
		done[i] = true
		out = append(out, objs[i])
	}
	for i := range objs {
		visit(i)
	}
	return out
}

// ReadNDJSON reads an export: one object per line; blank lines and the
// summary line are skipped. A line that is not a JSON object, or an
// object without type or id, fails the whole file.
func ReadNDJSON(r io.Reader) ([]Object, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	var out []Object
	line := 0
	for sc.Scan() {
		line++
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var x struct {
			Type             string          `json:"type"`
			ID               string          `json:"id"`
			Attributes       json.RawMessage `json:"attributes"`
			References       []Reference     `json:"references"`
			MigrationVersion json.RawMessage `json:"migrationVersion"`
			OriginID         string          `json:"originId"`
			ExportedCount    *int            `json:"exportedCount"`
		}
		if err := json.Unmarshal(raw, &x); err != nil {
			return nil, invalidf("line %d of the import file is not a saved object: %v", line, err)
		}
		if x.ExportedCount != nil && x.Type == "" {
			continue
		}
		if x.Type == "" || x.ID == "" {
			return nil, invalidf("line %d of the import file has no type or id", line)
		}
		if len(out) >= MaxExport {
			return nil, invalidf("Can't import more than %d objects", MaxExport)
		}
		out = append(out, Object{Type: x.Type, ID: x.ID, Attributes: x.Attributes, References: x.References,
			MigrationVersion: x.MigrationVersion, OriginID: x.OriginID})
	}
	if err := sc.Err(); err != nil {
		return nil, invalidf("reading the import file: %v", err)
	}
	return out, nil
}

// ImportOptions are the flags of import and copy; both together are
// refused.
type ImportOptions struct {
	Overwrite       bool
	CreateNewCopies bool
}

// ImportMeta is the meta of an import result.
type ImportMeta struct {
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
}

// ImportSuccess is one object written by an import.
type ImportSuccess struct {
	Type          string     `json:"type"`
	ID            string     `json:"id"`
	Meta          ImportMeta `json:"meta"`
	DestinationID string     `json:"destinationId,omitempty"`
	Overwrite     bool       `json:"overwrite,omitempty"`
	CreateNewCopy bool       `json:"createNewCopy,omitempty"`
}

// ImportError is one object an import did not write.
type ImportError struct {
	Type      string          `json:"type"`
	ID        string          `json:"id"`
	Title     string          `json:"title,omitempty"`
	Meta      ImportMeta      `json:"meta"`
	Overwrite bool            `json:"overwrite,omitempty"`
	Error     ImportErrorKind `json:"error"`
}

// ImportErrorKind is the "error" of an ImportError: Type is conflict,
// ambiguous_conflict, unsupported_type, missing_references or unknown.
type ImportErrorKind struct {
	Type          string        `json:"type"`
	DestinationID string        `json:"destinationId,omitempty"`
	Destinations  []Destination `json:"destinations,omitempty"`
	References    []ObjectRef   `json:"references,omitempty"`
	Message       string        `json:"message,omitempty"`
	StatusCode    int           `json:"statusCode,omitempty"`
}

// Destination is one existing object an ambiguous conflict could
// overwrite.
type Destination struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	UpdatedAt string `json:"updatedAt"`
}

// ImportResult is the answer of import, resolve_import_errors and copy.
// SuccessResults and Errors are left out when empty, as OpenSearch
// Dashboards does.
type ImportResult struct {
	Success        bool            `json:"success"`
	SuccessCount   int             `json:"successCount"`
	SuccessResults []ImportSuccess `json:"successResults,omitempty"`
	Errors         []ImportError   `json:"errors,omitempty"`
}

// Retry is one entry of resolve_import_errors' retries.
type Retry struct {
	Type                    string             `json:"type"`
	ID                      string             `json:"id"`
	Overwrite               bool               `json:"overwrite"`
	DestinationID           string             `json:"destinationId,omitempty"`
	ReplaceReferences       []ReplaceReference `json:"replaceReferences"`
	CreateNewCopy           bool               `json:"createNewCopy"`
	IgnoreMissingReferences bool               `json:"ignoreMissingReferences"`
}

// ReplaceReference rewrites references to {Type, From} into {Type, To}.
type ReplaceReference struct {
	Type string `json:"type"`
	From string `json:"from"`
	To   string `json:"to"`
}

// plan is how one object of an import is written.
type plan struct {
	obj           Object
	destID        string // id written, when not obj.ID
	overwrite     bool
	newCopy       bool
	ignoreMissing bool
}

// Import writes the objects of an export into the tenant, as OpenSearch
// Dashboards' import does: unsupported types and objects whose references
// exist neither in the file nor in the tenant are reported and skipped;
// with CreateNewCopies every object gets a new id (references rewritten,
// originId kept); otherwise existing ids are conflicts unless Overwrite,
// and an object whose id is new but whose origin matches objects made
// from it earlier is a conflict naming that destination, or an
// ambiguous_conflict when several match.
func (c *Client) Import(ctx context.Context, objs []Object, o ImportOptions) (*ImportResult, error) {
	if o.Overwrite && o.CreateNewCopies {
		return nil, invalidf("cannot use [overwrite] with [createNewCopies]")
	}
	plans := make([]plan, len(objs))
	for i := range objs {
		plans[i] = plan{obj: objs[i], overwrite: o.Overwrite, newCopy: o.CreateNewCopies}
	}
	return c.run(ctx, plans, o.CreateNewCopies)
}

// ResolveImportErrors imports again only the objects named in retries,
// each with its own overwrite, destinationId, createNewCopy,
// replaceReferences and ignoreMissingReferences.
func (c *Client) ResolveImportErrors(ctx context.Context, objs []Object, retries []Retry, createNewCopies bool) (*ImportResult, error) {
	byKey := map[string]Retry{}
	for _, r := range retries {
		byKey[ObjectRef{r.Type, r.ID}.key()] = r
	}
	var plans []plan
	for _, obj := range objs {
		r, ok := byKey[obj.ref().key()]
		if !ok {
			continue
		}
		for _, rr := range r.ReplaceReferences {
			for k, ref := range obj.References {
				if ref.Type == rr.Type && ref.ID == rr.From {
					obj.References[k].ID = rr.To
				}
			}
		}
		p := plan{obj: obj, overwrite: r.Overwrite, newCopy: createNewCopies || r.CreateNewCopy, ignoreMissing: r.IgnoreMissingReferences}
		if !p.newCopy && r.DestinationID != "" && r.DestinationID != obj.ID {
			p.destID = r.DestinationID
		}
		plans = append(plans, p)
	}
	return c.run(ctx, plans, createNewCopies)
}

// Copy copies objects of src (with the objects they reference, when
// includeReferences) into c, reporting per object like Import.
func (c *Client) Copy(ctx context.Context, src *Client, objects []ObjectRef, includeReferences bool, o ImportOptions) (*ImportResult, error) {
	if o.Overwrite && o.CreateNewCopies {
		return nil, invalidf("cannot use [overwrite] with [createNewCopies]")
	}
	if len(objects) == 0 {
		return nil, invalidf("[request body.objects]: expected at least one object")
	}
	for _, r := range objects {
		if _, err := src.Get(ctx, r.Type, r.ID); err != nil {
			return nil, err
		}
	}
	objs, _, err := src.Export(ctx, ExportOptions{Objects: objects, IncludeReferencesDeep: includeReferences})
	if err != nil {
		return nil, err
	}
	return c.Import(ctx, objs, o)
}

// run carries out an import plan.
func (c *Client) run(ctx context.Context, plans []plan, allNew bool) (*ImportResult, error) {
	res := &ImportResult{}
	fail := func(p plan, k ImportErrorKind) {
		t := p.obj.title()
		res.Errors = append(res.Errors, ImportError{Type: p.obj.Type, ID: p.obj.ID, Title: t,
			Meta: ImportMeta{Title: t, Icon: icons[p.obj.Type]}, Overwrite: p.overwrite && k.Type == "conflict", Error: k})
	}
	// Unsupported types.
	inFile := map[string]bool{}
	var ok []plan
	for _, p := range plans {
		if !Supported(p.obj.Type) {
			fail(p, ImportErrorKind{Type: "unsupported_type"})
			continue
		}
		inFile[p.obj.ref().key()] = true
		ok = append(ok, p)
	}
	// References that are neither in the file nor in the tenant.
	var refs []ObjectRef
	for _, p := range ok {
		for _, r := range p.obj.References {
			if !inFile[ObjectRef{r.Type, r.ID}.key()] {
				refs = append(refs, ObjectRef{r.Type, r.ID})
			}
		}
	}
	have, err := c.existing(ctx, refs)
	if err != nil {
		return nil, err
	}
	plans, ok = ok, nil
	for _, p := range plans {
		var missing []ObjectRef
		seen := map[string]bool{}
		for _, r := range p.obj.References {
			k := ObjectRef{r.Type, r.ID}.key()
			if !inFile[k] && !have[k] && !seen[k] {
				seen[k] = true
				missing = append(missing, ObjectRef{r.Type, r.ID})
			}
		}
		if len(missing) > 0 && !p.ignoreMissing {
			fail(p, ImportErrorKind{Type: "missing_references", References: missing})
			continue
		}
		ok = append(ok, p)
	}
	// Ids: new copies, or conflicts.
	idMap := map[string]string{}
	plans, ok = ok, nil
	for _, p := range plans {
		if p.newCopy {
			p.destID = newUUID()
			if p.obj.OriginID == "" {
				p.obj.OriginID = p.obj.ID
			}
			idMap[p.obj.ref().key()] = p.destID
			ok = append(ok, p)
			continue
		}
		target := p.obj.ID
		if p.destID != "" {
			target = p.destID
			idMap[p.obj.ref().key()] = p.destID
		}
		_, err := c.Get(ctx, p.obj.Type, target)
		switch {
		case err == nil:
			if !p.overwrite {
				fail(p, ImportErrorKind{Type: "conflict"})
				continue
			}
		case errors.Is(err, ErrNotFound):
			overwriteDest := false
			if p.destID == "" {
				dests, err := c.origins(ctx, p.obj)
				if err != nil {
					return nil, err
				}
				switch {
				case len(dests) == 1 && p.overwrite:
					p.destID, overwriteDest = dests[0].ID, true
					idMap[p.obj.ref().key()] = p.destID
				case len(dests) == 1:
					fail(p, ImportErrorKind{Type: "conflict", DestinationID: dests[0].ID})
					continue
				case len(dests) > 1:
					fail(p, ImportErrorKind{Type: "ambiguous_conflict", Destinations: dests})
					continue
				}
			}
			p.overwrite = overwriteDest
		default:
			return nil, err
		}
		ok = append(ok, p)
	}
	if len(ok) == 0 {
		res.Success = len(res.Errors) == 0
		return res, nil
	}
	// Write, with references to re-identified objects rewritten.
	objs := make([]Object, len(ok))
	for i, p := range ok {
		o := p.obj
		// A version from the file or the source tenant is no condition
		// here.
		o.Version, o.Score, o.MissingReferences = "", nil, nil
		if p.destID != "" {
			o.ID = p.destID
		}
		refs := make([]Reference, len(o.References))
		for k, r := range o.References {
			if to, moved := idMap[ObjectRef{r.Type, r.ID}.key()]; moved {
				r.ID = to
			}
			refs[k] = r
		}
		o.References = refs
		objs[i] = o
	}
	if err := c.write(ctx, objs, func(i int) bool { return ok[i].overwrite }); err != nil {
		return nil, err
	}
	for i, p := range ok {
		o := objs[i]
		if o.Error != nil {
			fail(p, ImportErrorKind{Type: "unknown", Message: o.Error.Message, StatusCode: o.Error.StatusCode})
			continue
		}
		t := p.obj.title()
		s := ImportSuccess{Type: o.Type, ID: p.obj.ID, Meta: ImportMeta{Title: t, Icon: icons[o.Type]}, Overwrite: p.overwrite}
		if o.ID != p.obj.ID {
			s.DestinationID = o.ID
		}
		s.CreateNewCopy = p.newCopy && !allNew
		res.SuccessResults = append(res.SuccessResults, s)
	}
	res.SuccessCount = len(res.SuccessResults)
	res.Success = len(res.Errors) == 0
	return res, nil
}

// origins returns the objects of the tenant that were made from o (their
// originId is o's origin) under another id.
func (c *Client) origins(ctx context.Context, o Object) ([]Destination, error) {
	origin := o.OriginID
	if origin == "" {
		origin = o.ID
	}
	ok, err := c.exists(ctx)
	if err != nil || !ok {
		return nil, err
	}
	q, _ := json.Marshal(map[string]any{"bool": map[string]any{"filter": []any{
		map[string]any{"term": map[string]any{"type": o.Type}},
		map[string]any{"term": map[string]any{"originId": origin}},
	}}})
	res, err := c.find(ctx, q, 100)
	if err != nil {
		return nil, err
	}
	var out []Destination
	for _, d := range res {
		if d.ID != o.ID {
			out = append(out, Destination{ID: d.ID, Title: d.title(), UpdatedAt: d.UpdatedAt})
		}
	}
	if origin != o.ID {
		if d, err := c.Get(ctx, o.Type, origin); err == nil {
			out = append(out, Destination{ID: d.ID, Title: d.title(), UpdatedAt: d.UpdatedAt})
		}
	}
	return out, nil
}

// newUUID returns a random (version 4) UUID, the form of OpenSearch
// Dashboards' generated ids.
func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
