package bleve

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// sourceObject is a JSON object that keeps its key order and the raw
// bytes of its values.
type sourceObject struct {
	keys []string
	vals map[string]json.RawMessage
}

// parseObject reads a JSON object, keeping key order. A repeated key keeps
// its first position and its last value.
func parseObject(raw []byte) (*sourceObject, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	o := &sourceObject{vals: map[string]json.RawMessage{}}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k := kt.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if _, seen := o.vals[k]; !seen {
			o.keys = append(o.keys, k)
		}
		o.vals[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return o, nil
}

// encode writes the object as compact JSON in key order.
func (o *sourceObject) encode() []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(o.vals[k])
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// mergeSource merges the partial document into src as the update API does:
// objects merge recursively, anything else replaces. It returns the merged
// document and whether it differs from src; when it does not, src is
// returned unchanged.
func mergeSource(src, partial []byte) ([]byte, bool, error) {
	base, err := parseObject(src)
	if err != nil {
		return nil, false, fmt.Errorf("stored source: %w", err)
	}
	upd, err := parseObject(partial)
	if err != nil {
		return nil, false, fmt.Errorf("partial document: %w", err)
	}
	changed, err := mergeObject(base, upd)
	if err != nil || !changed {
		return src, false, err
	}
	return base.encode(), true, nil
}

func mergeObject(base, upd *sourceObject) (bool, error) {
	changed := false
	for _, k := range upd.keys {
		nv := upd.vals[k]
		old, ok := base.vals[k]
		if !ok {
			base.keys = append(base.keys, k)
			base.vals[k] = compactJSON(nv)
			changed = true
			continue
		}
		if rawIsObject(old) && rawIsObject(nv) {
			bo, err := parseObject(old)
			if err != nil {
				return false, err
			}
			uo, err := parseObject(nv)
			if err != nil {
				return false, err
			}
			c, err := mergeObject(bo, uo)
			if err != nil {
				return false, err
			}
			if c {
				base.vals[k] = bo.encode()
				changed = true
			}
			continue
		}
		if !rawJSONEqual(old, nv) {
			base.vals[k] = compactJSON(nv)
			changed = true
		}
	}
	return changed, nil
}

func rawIsObject(raw []byte) bool {
	t := bytes.TrimLeft(raw, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

func compactJSON(raw []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return raw
	}
	return buf.Bytes()
}

// rawJSONEqual compares two JSON values by meaning (numbers by their text).
func rawJSONEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, err1 := decodeValue(a)
	vb, err2 := decodeValue(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return decodedEqual(va, vb)
}

func decodedEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !decodedEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !decodedEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}
