package worker

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/tenantgate/tenantgate/flows"
)

// durationPattern is an ISO-8601 duration as Kestra's DURATION inputs
// take it ("PT5M", "P1DT2H", "PT0.5S").
var durationPattern = regexp.MustCompile(`^-?P(?:\d+(?:\.\d+)?[YMWD])*(?:T(?:\d+(?:\.\d+)?[HMS])+)?$`)

// Inputs checks the inputs given for an execution against the flow's
// inputs and returns them typed: an unknown input, a missing required
// one (Kestra's inputs are required unless "required: false") and a value
// of the wrong type are errors wrapping ErrInvalid; an absent input takes
// its "defaults". STRING, EMAIL and URI stay strings; ENUM and SELECT
// must be one of "values", MULTISELECT a list of them; INT and FLOAT are
// numbers (strings are parsed) within "min" and "max"; BOOLEAN and BOOL
// take true/false; DATETIME (RFC 3339), DATE, TIME and DURATION (ISO
// 8601) are checked and kept as strings; JSON and YAML take a value or a
// string to parse; ARRAY a list whose items have "itemType". FILE and
// SECRET inputs are refused: there is no file storage, and a secret input
// would be stored in clear.
func Inputs(defs []flows.Input, given map[string]any) (map[string]any, error) {
	out := map[string]any{}
	known := map[string]bool{}
	for _, d := range defs {
		known[d.ID] = true
	}
	var unknown []string
	for k := range given {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("%w: unknown input %s (the flow declares %s)", ErrInvalid, strings.Join(quoteAll(unknown), ", "), declared(defs))
	}
	for _, d := range defs {
		v, ok := given[d.ID]
		if !ok || v == nil {
			if def, has := d.Properties["defaults"]; has && def != nil {
				v, ok = def, true
			}
		}
		if !ok || v == nil {
			if required(d) {
				return nil, fmt.Errorf("%w: input %q is required", ErrInvalid, d.ID)
			}
			continue
		}
		typed, err := coerce(d, strings.ToUpper(d.Type), v)
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %s", ErrInvalid, d.ID, err)
		}
		out[d.ID] = typed
	}
	return out, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

func declared(defs []flows.Input) string {
	if len(defs) == 0 {
		return "no inputs"
	}
	ids := make([]string, len(defs))
	for i, d := range defs {
		ids[i] = d.ID
	}
	return strings.Join(quoteAll(ids), ", ")
}

// required is Kestra's rule: an input is required unless it says
// "required: false".
func required(d flows.Input) bool {
	r, ok := d.Properties["required"].(bool)
	return !ok || r
}

func coerce(d flows.Input, typ string, v any) (any, error) {
	switch typ {
	case "STRING", "EMAIL", "URI", "":
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		if p, ok := d.Properties["validator"].(string); ok && p != "" {
			re, err := regexp.Compile("^(?:" + p + ")$")
			if err != nil {
				return nil, fmt.Errorf("the flow's validator is not a valid pattern")
			}
			if !re.MatchString(s) {
				return nil, fmt.Errorf("does not match the validator %q", p)
			}
		}
		return s, nil
	case "ENUM", "SELECT":
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		return s, oneOf(d, s)
	case "MULTISELECT":
		items, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("must be a list, not %s", kind(v))
		}
		out := make([]any, len(items))
		for i, it := range items {
			s, err := asString(it)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %s", i, err)
			}
			if err := oneOf(d, s); err != nil {
				return nil, fmt.Errorf("[%d]: %s", i, err)
			}
			out[i] = s
		}
		return out, nil
	case "INT":
		n, err := asInt(v)
		if err != nil {
			return nil, err
		}
		return n, bounds(d, float64(n))
	case "FLOAT":
		f, err := asFloat(v)
		if err != nil {
			return nil, err
		}
		return f, bounds(d, f)
	case "BOOLEAN", "BOOL":
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			if p, err := strconv.ParseBool(strings.TrimSpace(b)); err == nil {
				return p, nil
			}
		}
		return nil, fmt.Errorf("must be true or false")
	case "DATETIME":
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("must be a date and time such as 2024-01-31T12:00:00Z")
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	case "DATE":
		return layout(v, time.DateOnly, "a date such as 2024-01-31")
	case "TIME":
		return layout(v, time.TimeOnly, "a time such as 12:30:00")
	case "DURATION":
		s, err := asString(v)
		if err != nil {
			return nil, err
		}
		if !durationPattern.MatchString(s) || s == "P" || strings.HasSuffix(s, "T") {
			return nil, fmt.Errorf("must be an ISO-8601 duration such as PT5M")
		}
		return s, nil
	case "JSON":
		if s, ok := v.(string); ok {
			var x any
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				return nil, fmt.Errorf("must be JSON")
			}
			return x, nil
		}
		return v, nil
	case "YAML":
		if s, ok := v.(string); ok {
			var x any
			if err := yaml.Unmarshal([]byte(s), &x); err != nil {
				return nil, fmt.Errorf("must be YAML")
			}
			return x, nil
		}
		return v, nil
	case "ARRAY":
		items, ok := v.([]any)
		if !ok {
			if s, isStr := v.(string); isStr && json.Unmarshal([]byte(s), &items) == nil {
				ok = true
			}
		}
		if !ok {
			return nil, fmt.Errorf("must be a list, not %s", kind(v))
		}
		itemType, _ := d.Properties["itemType"].(string)
		out := make([]any, len(items))
		for i, it := range items {
			c, err := coerce(d, strings.ToUpper(itemType), it)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %s", i, err)
			}
			out[i] = c
		}
		return out, nil
	case "FILE":
		return nil, fmt.Errorf("FILE inputs are not supported (there is no file storage)")
	case "SECRET":
		return nil, fmt.Errorf("SECRET inputs are not supported: use a namespace secret and secret()")
	}
	return nil, fmt.Errorf("unknown input type %q", typ)
}

func layout(v any, l, what string) (any, error) {
	s, err := asString(v)
	if err != nil {
		return nil, err
	}
	if _, err := time.Parse(l, s); err != nil {
		return nil, fmt.Errorf("must be %s", what)
	}
	return s, nil
}

func oneOf(d flows.Input, s string) error {
	vals, _ := d.Properties["values"].([]any)
	for _, x := range vals {
		if fmt.Sprint(x) == s {
			return nil
		}
	}
	return fmt.Errorf("must be one of the input's values")
}

func bounds(d flows.Input, f float64) error {
	if lo, err := asFloat(d.Properties["min"]); d.Properties["min"] != nil && err == nil && f < lo {
		return fmt.Errorf("must be at least %v", d.Properties["min"])
	}
	if hi, err := asFloat(d.Properties["max"]); d.Properties["max"] != nil && err == nil && f > hi {
		return fmt.Errorf("must be at most %v", d.Properties["max"])
	}
	return nil
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}

// asString takes strings, and numbers and booleans as their text (form
// fields and YAML scalars), not objects or lists.
func asString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, float64, json.Number:
		return fmt.Sprint(x), nil
	}
	return "", fmt.Errorf("must be a string, not %s", kind(v))
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
	case json.Number:
		return asInt(string(x))
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("must be an integer")
}

func asFloat(v any) (float64, error) {
	switch x := v.(type) {
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case float64:
		return x, nil
	case json.Number:
		return asFloat(string(x))
	case string:
		if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f, nil
		}
	}
	return 0, fmt.Errorf("must be a number")
}
