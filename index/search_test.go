package index_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/index"
)

func TestJSONErrorText(t *testing.T) {
	decode := func(body string, dst any) error { return json.Unmarshal([]byte(body), dst) }
	var obj map[string]any
	var typed struct{ Size int }
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"nil means null", nil, "got null"},
		{"syntax", decode(`{"a":secret}`, &obj), "invalid character 's' looking for beginning of value at offset 6"},
		{"type with field", decode(`{"Size":"secret"}`, &typed), "expected int for [Size], got string at offset"},
		{"type at root", decode(`[1]`, &obj), "expected map[string]interface {}, got array at offset"},
		{"empty", io.EOF, "empty body"},
		{"truncated", decode(`{"a":`, &obj), "unexpected end of JSON input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := index.JSONErrorText(c.err)
			if !strings.Contains(got, c.want) {
				t.Errorf("JSONErrorText = %q, want it to contain %q", got, c.want)
			}
			if strings.Contains(got, "secret") {
				t.Errorf("JSONErrorText = %q quotes the input", got)
			}
		})
	}
}
