package gateway

import (
	"encoding/json"
	"math"
	"testing"
)

// TestJSONBufMatchesEncodingJSON checks the fast paths of jsonBuf.val
// against encoding/json on awkward values.
func TestJSONBufMatchesEncodingJSON(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	values := []any{
		"", "plain", "quote\" backslash\\ slash/", "<script>&amp;</script>", "tab\tnl\nret\r\x00\x1f\x7f",
		"h\u00e9llo \u2028 \u2029 \U0001F600", "bad \xff utf8", int(-5), int64(1 << 60), true, false,
		f(0), f(1.5), f(-2.25e-10), f(1e21), f(1e20), f(1e-7), f(-1.5e-7), f(0.000001), f(123456789), (*float64)(nil), f(math.Inf(1)),
		[]any{1, "a"}, map[string][]string{"f": {"<em>x</em>"}},
	}
	for _, v := range values {
		var b jsonBuf
		b.val(v)
		want, err := json.Marshal(v)
		if err != nil {
			want = []byte("null")
		}
		if b.String() != string(want) {
			t.Errorf("val(%#v) = %s, want %s", v, b.String(), want)
		}
	}
}
