package worker_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/flows"
	"github.com/tenantgate/tenantgate/worker"
)

func input(id, typ string, props ...any) flows.Input {
	p := map[string]any{"id": id, "type": typ}
	for i := 0; i+1 < len(props); i += 2 {
		p[props[i].(string)] = props[i+1]
	}
	return flows.Input{ID: id, Type: typ, Properties: p}
}

func TestInputs(t *testing.T) {
	ok := []struct {
		name  string
		def   flows.Input
		given any
		want  any
	}{
		{"string", input("x", "STRING"), "hi", "hi"},
		{"string from a number", input("x", "STRING"), float64(3), "3"},
		{"string matching its validator", input("x", "STRING", "validator", "[a-z]+"), "abc", "abc"},
		{"int", input("x", "INT"), float64(42), int64(42)},
		{"int from a string", input("x", "INT"), " 42 ", int64(42)},
		{"int within bounds", input("x", "INT", "min", 1, "max", 10), "10", int64(10)},
		{"float", input("x", "FLOAT"), "2.5", 2.5},
		{"boolean", input("x", "BOOLEAN"), true, true},
		{"bool from a string", input("x", "BOOL"), "false", false},
		{"datetime normalised to UTC", input("x", "DATETIME"), "2024-01-31T13:00:00+01:00", "2024-01-31T12:00:00Z"},
		{"date", input("x", "DATE"), "2024-01-31", "2024-01-31"},
		{"time", input("x", "TIME"), "12:30:00", "12:30:00"},
		{"duration", input("x", "DURATION"), "PT5M", "PT5M"},
		{"duration with days", input("x", "DURATION"), "P1DT2H", "P1DT2H"},
		{"json object", input("x", "JSON"), map[string]any{"a": float64(1)}, map[string]any{"a": float64(1)}},
		{"json from a string", input("x", "JSON"), `{"a":[1]}`, map[string]any{"a": []any{float64(1)}}},
		{"yaml from a string", input("x", "YAML"), "a: 1", map[string]any{"a": 1}},
		{"enum", input("x", "ENUM", "values", []any{"a", "b"}), "b", "b"},
		{"multiselect", input("x", "MULTISELECT", "values", []any{"a", "b"}), []any{"a", "b"}, []any{"a", "b"}},
		{"array of ints", input("x", "ARRAY", "itemType", "INT"), []any{"1", float64(2)}, []any{int64(1), int64(2)}},
		{"lower-case type", input("x", "string"), "hi", "hi"},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := worker.Inputs([]flows.Input{c.def}, map[string]any{"x": c.given})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["x"], c.want) {
				t.Fatalf("got %#v, want %#v", got["x"], c.want)
			}
		})
	}
	bad := []struct {
		name     string
		defs     []flows.Input
		given    map[string]any
		contains string
	}{
		{"unknown input", []flows.Input{input("x", "STRING")}, map[string]any{"x": "a", "y": "b"}, `unknown input "y" (the flow declares "x")`},
		{"input to a flow without inputs", nil, map[string]any{"y": "b"}, "no inputs"},
		{"required missing", []flows.Input{input("x", "STRING")}, nil, `"x" is required`},
		{"required null", []flows.Input{input("x", "STRING")}, map[string]any{"x": nil}, `"x" is required`},
		{"string from an object", []flows.Input{input("x", "STRING")}, map[string]any{"x": map[string]any{}}, "must be a string"},
		{"validator", []flows.Input{input("x", "STRING", "validator", "[a-z]+")}, map[string]any{"x": "ab1"}, "validator"},
		{"int from a fraction", []flows.Input{input("x", "INT")}, map[string]any{"x": 1.5}, "integer"},
		{"int below min", []flows.Input{input("x", "INT", "min", 2)}, map[string]any{"x": 1}, "at least 2"},
		{"float above max", []flows.Input{input("x", "FLOAT", "max", 1.5)}, map[string]any{"x": "2"}, "at most 1.5"},
		{"boolean", []flows.Input{input("x", "BOOLEAN")}, map[string]any{"x": "yes please"}, "true or false"},
		{"datetime", []flows.Input{input("x", "DATETIME")}, map[string]any{"x": "yesterday"}, "date and time"},
		{"duration", []flows.Input{input("x", "DURATION")}, map[string]any{"x": "5 minutes"}, "ISO-8601"},
		{"json", []flows.Input{input("x", "JSON")}, map[string]any{"x": "{nope"}, "JSON"},
		{"enum", []flows.Input{input("x", "ENUM", "values", []any{"a"})}, map[string]any{"x": "z"}, "one of"},
		{"array item", []flows.Input{input("x", "ARRAY", "itemType", "INT")}, map[string]any{"x": []any{"1", "z"}}, "[1]: must be an integer"},
		{"file", []flows.Input{input("x", "FILE")}, map[string]any{"x": "f"}, "not supported"},
		{"secret", []flows.Input{input("x", "SECRET")}, map[string]any{"x": "f"}, "not supported"},
		{"unknown type", []flows.Input{input("x", "BLOB")}, map[string]any{"x": "f"}, `unknown input type "BLOB"`},
	}
	for _, c := range bad {
		t.Run("refuses "+c.name, func(t *testing.T) {
			_, err := worker.Inputs(c.defs, c.given)
			if !errors.Is(err, worker.ErrInvalid) || !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("error %v, want ErrInvalid mentioning %q", err, c.contains)
			}
		})
	}
	t.Run("defaults and optional inputs", func(t *testing.T) {
		defs := []flows.Input{input("a", "INT", "defaults", 5), input("b", "STRING", "required", false), input("c", "STRING", "defaults", "d")}
		got, err := worker.Inputs(defs, map[string]any{"c": "given"})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"a": int64(5), "c": "given"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	})
}
