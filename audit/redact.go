package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wI2L/jsondiff"
)

// Redacted replaces the value of every secret field in the trail.
const Redacted = "***"

// secretSuffixes: a field is secret when its name, lower-cased and with
// '_' and '-' removed, is or ends with one of them. That covers the
// names of our model (password, password_hash, hash, token_hash, secret,
// token) and their variants in other spellings or from other systems
// (PasswordHash, client_secret, api-token, old_password), at the price of
// redacting the odd harmless field such as content_hash.
var secretSuffixes = []string{"password", "hash", "secret", "token"}

func isSecret(key string) bool {
	k := strings.ToLower(key)
	k = strings.ReplaceAll(k, "_", "")
	k = strings.ReplaceAll(k, "-", "")
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// Diff builds the Before, After and Diff of a change's audit record from
// the resource before and after it (nil, or a nil pointer, when the
// resource did not exist before or no longer exists after). It marshals
// both to JSON, computes the RFC 6902 JSON Patch from before to after, and
// redacts secrets in all three: the value of any object key named
// password, hash, password_hash, secret, token or token_hash, at any
// depth, becomes "***" (null and "" are kept, so that setting a first
// password still shows), and so does the value of any patch operation
// whose path goes through such a key. Case, '_' and '-' do not count, and
// names that end in one of these count too (PasswordHash, client_secret,
// api-token). A changed password therefore shows
// as {"op":"replace","path":"/password_hash","value":"***"}.
//
// An absent side is returned as nil; diff is nil only when both sides are
// absent, and "[]" when they are equal.
func Diff(before, after any) (b, a, diff json.RawMessage, err error) {
	bv, err := toValue(before)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("marshaling the resource before the change: %w", err)
	}
	av, err := toValue(after)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("marshaling the resource after the change: %w", err)
	}
	if bv == nil && av == nil {
		return nil, nil, nil, nil
	}
	// The patch is computed on the real values, so a changed secret shows
	// as an operation; its value is redacted below.
	patch, err := jsondiff.CompareWithoutMarshal(bv, av)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("computing the diff: %w", err)
	}
	ops := make([]any, 0, len(patch))
	for _, op := range patch {
		m := map[string]any{"op": op.Type, "path": op.Path}
		switch op.Type {
		case jsondiff.OperationMove, jsondiff.OperationCopy:
			m["from"] = op.From
		}
		switch op.Type {
		case jsondiff.OperationAdd, jsondiff.OperationReplace, jsondiff.OperationTest:
			m["value"] = op.Value
		}
		ops = append(ops, m)
	}
	if diff, err = encode(redactPatch(ops)); err != nil {
		return nil, nil, nil, err
	}
	if bv != nil {
		if b, err = encode(redactValue(bv)); err != nil {
			return nil, nil, nil, err
		}
	}
	if av != nil {
		if a, err = encode(redactValue(av)); err != nil {
			return nil, nil, nil, err
		}
	}
	return b, a, diff, nil
}

// toValue marshals v and decodes it into plain JSON values (numbers as
// json.Number, so large integers survive). nil and JSON null give nil.
func toValue(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decode(raw)
}

func decode(raw []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// encode marshals v without HTML escaping and without the encoder's
// trailing newline.
func encode(v any) (json.RawMessage, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// redactValue returns v with the value of every secret key replaced; it
// does not modify v.
func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if isSecret(k) {
				out[k] = redactLeaf(e)
			} else {
				out[k] = redactValue(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	}
	return v
}

// redactLeaf is what a secret's value becomes: null and "" carry no
// secret and stay, anything else is Redacted.
func redactLeaf(v any) any {
	if v == nil || v == "" {
		return v
	}
	return Redacted
}

// redactPatch redacts the operations of a JSON Patch: the whole value of
// an operation whose path or from goes through a secret key, and the
// secret keys inside any other value.
func redactPatch(ops []any) []any {
	out := make([]any, len(ops))
	for i, o := range ops {
		m, ok := o.(map[string]any)
		if !ok {
			out[i] = redactValue(o)
			continue
		}
		c := make(map[string]any, len(m))
		for k, v := range m {
			c[k] = v
		}
		if v, ok := c["value"]; ok {
			if secretPath(c["path"]) || secretPath(c["from"]) {
				c["value"] = redactLeaf(v)
			} else {
				c["value"] = redactValue(v)
			}
		}
		out[i] = c
	}
	return out
}

// secretPath reports whether a JSON Pointer (RFC 6901) goes through a
// secret key.
func secretPath(p any) bool {
	s, _ := p.(string)
	if s == "" {
		return false
	}
	for _, seg := range strings.Split(strings.TrimPrefix(s, "/"), "/") {
		seg = strings.ReplaceAll(seg, "~1", "/")
		seg = strings.ReplaceAll(seg, "~0", "~")
		if isSecret(seg) {
			return true
		}
	}
	return false
}

// redactJSON redacts a stored document (Before or After). Empty input
// and JSON null give nil.
func redactJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	return encode(redactValue(v))
}

// redactPatchJSON redacts a stored JSON Patch (Diff), which must be an
// array. Empty input and JSON null give nil.
func redactPatchJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	v, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	ops, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("diff is not a JSON Patch array")
	}
	return encode(redactPatch(ops))
}
