package gateway

import (
	"bytes"
	"encoding/json"
)

// aggDef is one requested aggregation: its type and sub-aggregations.
type aggDef struct {
	typ  string
	subs map[string]aggDef
}

// parseAggDefs reads the names and types of a request's aggregations.
// The back-end has already validated them; anything unreadable here is
// simply left untyped.
func parseAggDefs(raw json.RawMessage) map[string]aggDef {
	var m map[string]map[string]json.RawMessage
	if len(raw) == 0 || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	out := make(map[string]aggDef, len(m))
	for name, body := range m {
		var d aggDef
		for k, v := range body {
			switch k {
			case "aggs", "aggregations":
				d.subs = parseAggDefs(v)
			case "meta":
			default:
				d.typ = k
			}
		}
		out[name] = d
	}
	return out
}

// typedKeys renames every aggregation in an OpenSearch aggregations
// object to "<type>#<name>", as OpenSearch does with typed_keys=true, so
// that typed clients (opensearch-java, …) can decode them.
func typedKeys(aggs json.RawMessage, defs map[string]aggDef) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(aggs, &m); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(m))
	for name, body := range m {
		d, ok := defs[name]
		if !ok {
			out[name] = body
			continue
		}
		typed, err := typeBody(body, d)
		if err != nil {
			return nil, err
		}
		out[typeName(d.typ, body)+"#"+name] = typed
	}
	return json.Marshal(out)
}

// typeBody types the sub-aggregations inside the buckets of one result.
func typeBody(body json.RawMessage, d aggDef) (json.RawMessage, error) {
	if len(d.subs) == 0 {
		return body, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, err
	}
	if bucketsRaw, ok := obj["buckets"]; ok {
		typed, err := typeBuckets(bucketsRaw, d.subs)
		if err != nil {
			return nil, err
		}
		obj["buckets"] = typed
	} else {
		// Single-bucket aggregations (filter, missing) hold their
		// sub-aggregations next to doc_count.
		sub, err := typeBucket(body, d.subs)
		if err != nil {
			return nil, err
		}
		return sub, nil
	}
	return json.Marshal(obj)
}

// typeBuckets types each bucket of an array or keyed object of buckets.
func typeBuckets(raw json.RawMessage, subs map[string]aggDef) (json.RawMessage, error) {
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		for i, b := range list {
			t, err := typeBucket(b, subs)
			if err != nil {
				return nil, err
			}
			list[i] = t
		}
		return json.Marshal(list)
	}
	var keyed map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keyed); err != nil {
		return nil, err
	}
	for k, b := range keyed {
		t, err := typeBucket(b, subs)
		if err != nil {
			return nil, err
		}
		keyed[k] = t
	}
	return json.Marshal(keyed)
}

// typeBucket renames the sub-aggregation results inside one bucket.
func typeBucket(raw json.RawMessage, subs map[string]aggDef) (json.RawMessage, error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	for name, d := range subs {
		body, ok := b[name]
		if !ok {
			continue
		}
		typed, err := typeBody(body, d)
		if err != nil {
			return nil, err
		}
		delete(b, name)
		b[typeName(d.typ, body)+"#"+name] = typed
	}
	return json.Marshal(b)
}

// typeName is the typed_keys prefix of an aggregation result. Terms
// results are named by the type of their keys, as in OpenSearch.
func typeName(typ string, body json.RawMessage) string {
	if typ != "terms" {
		return typ
	}
	var r struct {
		Buckets []struct {
			Key json.RawMessage `json:"key"`
		} `json:"buckets"`
	}
	if json.Unmarshal(body, &r) != nil || len(r.Buckets) == 0 {
		return "sterms"
	}
	k := bytes.TrimSpace(r.Buckets[0].Key)
	switch {
	case len(k) > 0 && k[0] == '"':
		return "sterms"
	case bytes.ContainsAny(k, ".eE"):
		return "dterms"
	}
	return "lterms"
}
