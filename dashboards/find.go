package dashboards

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/tenantgate/tenantgate/index"
)

// MaxFindWindow is the most objects one find considers (OpenSearch's
// default index.max_result_window); page*per_page beyond it is refused.
const MaxFindWindow = 10000

// FindOptions are the parameters of GET /api/saved_objects/_find.
type FindOptions struct {
	Types []string
	// Search uses simple_query_string syntax ("dash*" for a prefix).
	Search string
	// SearchFields are attribute names, optionally boosted ("title^3");
	// empty means every searchable field of the types.
	SearchFields []string
	// DefaultSearchOperator is "OR" (default) or "AND".
	DefaultSearchOperator string
	Page, PerPage         int
	// SortField is an attribute of the (single) type or a root field
	// (type, updated_at); text attributes sort by their keyword
	// sub-field. SortOrder is "asc" (default) or "desc".
	SortField, SortOrder string
	// HasReference keeps objects that reference any of these.
	HasReference []ObjectRef
	// Fields limits the attributes returned.
	Fields []string
}

// FindResult is the answer of find, in OpenSearch Dashboards' shape.
type FindResult struct {
	Page         int      `json:"page"`
	PerPage      int      `json:"per_page"`
	Total        int      `json:"total"`
	SavedObjects []Object `json:"saved_objects"`
}

// Find searches the tenant's saved objects. Unknown types find nothing,
// as in OpenSearch Dashboards.
func (c *Client) Find(ctx context.Context, o FindOptions) (*FindResult, error) {
	if o.Page <= 0 {
		o.Page = 1
	}
	if o.PerPage < 0 {
		return nil, invalidf("[request query.per_page]: Value must be equal to or greater than [0].")
	}
	// Compare without multiplying first: page * per_page may overflow.
	if o.PerPage > 0 && o.Page > MaxFindWindow/o.PerPage {
		return nil, invalidf("[request query.page]: page * per_page must not exceed %d", MaxFindWindow)
	}
	res := &FindResult{Page: o.Page, PerPage: o.PerPage, SavedObjects: []Object{}}
	var types []string
	for _, t := range o.Types {
		if Supported(t) && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	if len(types) == 0 {
		return res, nil
	}
	ok, err := c.exists(ctx)
	if err != nil || !ok {
		return res, err
	}
	req := &index.SearchRequest{From: (o.Page - 1) * o.PerPage, Size: o.PerPage, SeqNoPrimaryTerm: true, TrackTotalHits: json.RawMessage("true")}
	if req.Query, err = findQuery(types, o); err != nil {
		return nil, err
	}
	if req.Sort, err = findSort(types, o); err != nil {
		return nil, err
	}
	if len(o.HasReference) > 0 {
		// References are a plain array of objects, so a term query can
		// match the type of one reference and the id of another: fetch
		// the whole window and filter exactly here.
		req.From, req.Size = 0, MaxFindWindow
	}
	sr, err := c.store.Search(ctx, IndexName, req)
	if err != nil {
		return nil, err
	}
	res.Total = int(sr.Total)
	objs, err := decodeHits(sr.Hits, func(h index.Hit, obj *Object) bool {
		obj.Score = h.Score
		if len(o.HasReference) > 0 && !referencesAny(obj, o.HasReference) {
			return false
		}
		if len(o.Fields) > 0 {
			obj.Attributes = pickFields(obj.Attributes, o.Fields)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if len(o.HasReference) > 0 {
		res.Total = len(objs)
		from := min((o.Page-1)*o.PerPage, len(objs))
		objs = objs[from:min(from+o.PerPage, len(objs))]
	}
	res.SavedObjects = objs
	return res, nil
}

func referencesAny(o *Object, refs []ObjectRef) bool {
	for _, r := range o.References {
		for _, want := range refs {
			if r.Type == want.Type && r.ID == want.ID {
				return true
			}
		}
	}
	return false
}

// findQuery builds the search: the types, the search string over the
// search fields, and a coarse has_reference filter.
func findQuery(types []string, o FindOptions) (json.RawMessage, error) {
	filter := []any{map[string]any{"terms": map[string]any{"type": types}}}
	if len(o.HasReference) > 0 {
		ids := make([]string, len(o.HasReference))
		for i, r := range o.HasReference {
			ids[i] = r.ID
		}
		filter = append(filter, map[string]any{"terms": map[string]any{"references.id": ids}})
	}
	b := map[string]any{"filter": filter}
	if s := strings.TrimSpace(o.Search); s != "" {
		var fields []string
		for _, t := range types {
			if len(o.SearchFields) == 0 {
				for _, f := range searchable[t] {
					fields = append(fields, t+"."+f)
				}
				continue
			}
			for _, f := range o.SearchFields {
				fields = append(fields, t+"."+f)
			}
		}
		if len(fields) == 0 {
			return nil, invalidf("[request query.search]: the types %v have no searchable fields", types)
		}
		op := strings.ToUpper(o.DefaultSearchOperator)
		switch op {
		case "":
			op = "OR"
		case "OR", "AND":
		default:
			return nil, invalidf("[request query.default_search_operator]: types that failed validation: must be OR or AND")
		}
		b["must"] = []any{map[string]any{"simple_query_string": map[string]any{
			"query": s, "fields": fields, "default_operator": op, "lenient": true}}}
	}
	return json.Marshal(map[string]any{"bool": b})
}

// findSort returns the sort of a find, nil for relevance.
func findSort(types []string, o FindOptions) (json.RawMessage, error) {
	if o.SortField == "" {
		return nil, nil
	}
	order := strings.ToLower(o.SortOrder)
	switch order {
	case "":
		order = "asc"
	case "asc", "desc":
	default:
		return nil, invalidf("[request query.sort_order]: must be asc or desc")
	}
	m := Mapping()
	field := ""
	if len(types) == 1 {
		if p, ok := m.Lookup(types[0] + "." + o.SortField); ok && p.Type != index.TypeObject {
			field = types[0] + "." + o.SortField
			if p.Type == index.TypeText {
				if _, ok := p.Fields["keyword"]; !ok {
					return nil, invalidf("Unable to sort by text field %s", o.SortField)
				}
				field += ".keyword"
			}
		}
	}
	if field == "" {
		p, ok := m.Lookup(o.SortField)
		if !ok || p.Type == index.TypeObject || p.Type == index.TypeText {
			if len(types) > 1 {
				return nil, invalidf("Unable to sort multiple types by field %s, not a root property", o.SortField)
			}
			return nil, invalidf("Unknown sort field %s", o.SortField)
		}
		field = o.SortField
	}
	return json.Marshal([]any{map[string]any{field: map[string]any{"order": order}}, map[string]any{"_id": "asc"}})
}

// find returns up to size objects matching the query q.
func (c *Client) find(ctx context.Context, q json.RawMessage, size int) ([]Object, error) {
	sr, err := c.store.Search(ctx, IndexName, &index.SearchRequest{Query: q, Size: size, SeqNoPrimaryTerm: true})
	if err != nil {
		return nil, err
	}
	return decodeHits(sr.Hits, nil)
}

// decodeHits turns search hits into Objects. keep, when not nil, may
// adjust each decoded object and reports whether to include it.
func decodeHits(hits []index.Hit, keep func(h index.Hit, obj *Object) bool) ([]Object, error) {
	out := make([]Object, 0, len(hits))
	for _, h := range hits {
		var seq int64
		if h.SeqNo != nil {
			seq = *h.SeqNo
		}
		obj, err := decodeDoc(h.ID, h.Source, seq)
		if err != nil {
			return nil, err
		}
		if keep != nil && !keep(h, obj) {
			continue
		}
		out = append(out, *obj)
	}
	return out, nil
}
