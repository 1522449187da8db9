package bleve

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

func TestCoerceIntoMappedTypes(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "c", `{"properties":{
		"l":{"type":"long"},"i":{"type":"integer"},"s":{"type":"short"},"by":{"type":"byte"},
		"d":{"type":"double"},"f":{"type":"float"},"nc":{"type":"long","coerce":false},
		"b":{"type":"boolean"},"k":{"type":"keyword"},"t":{"type":"text"},"ip":{"type":"ip"},
		"dt":{"type":"date"},"ds":{"type":"date","format":"epoch_second"},
		"dc":{"type":"date","format":"yyyy/MM/dd HH:mm:ss||yyyy-MM-dd"},
		"nv":{"type":"keyword","null_value":"NULL"}}}`)
	cases := []struct {
		field string
		value string
		ok    bool
	}{
		{"l", `"5"`, true}, {"l", `5.7`, true}, {"l", `"abc"`, false}, {"l", `true`, false},
		{"l", `9223372036854775807`, true},
		{"i", `2147483647`, true}, {"i", `2147483648`, false},
		{"s", `32767`, true}, {"s", `40000`, false},
		{"by", `-128`, true}, {"by", `128`, false},
		{"d", `"1.5"`, true}, {"f", `1e39`, false},
		{"nc", `"5"`, false}, {"nc", `5.5`, false}, {"nc", `5`, true},
		{"b", `"true"`, true}, {"b", `"false"`, true}, {"b", `"yes"`, false}, {"b", `1`, false},
		{"k", `5`, true}, {"k", `true`, true}, {"k", `{"x":1}`, false},
		{"t", `1.25`, true},
		{"ip", `"::1"`, true}, {"ip", `"10.0.0.300"`, false},
		{"dt", `"2015-01-01"`, true}, {"dt", `1420070400000`, true}, {"dt", `"1420070400000"`, true},
		{"dt", `"2015-02-30"`, false}, {"dt", `"01/02/2015"`, false},
		{"ds", `1420070400`, true}, {"ds", `"1420070400"`, true},
		{"dc", `"2015/01/01 12:10:30"`, true}, {"dc", `"2015-01-01"`, true}, {"dc", `"2015-01-01T00:00:00Z"`, false},
		{"nv", `null`, true},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s=%s", c.field, c.value), func(t *testing.T) {
			r := mustApply(t, b, "c", indexOp(fmt.Sprint(i), fmt.Sprintf(`{%q:%s}`, c.field, c.value)))[0]
			if (r.Err == nil) != c.ok {
				t.Errorf("ok = %v, want %v (%v)", r.Err == nil, c.ok, r.Err)
			}
			if r.Err != nil && r.Status != 400 {
				t.Errorf("status %d", r.Status)
			}
		})
	}
}

func TestCoerceNumber(t *testing.T) {
	no := false
	cases := []struct {
		typ    string
		coerce *bool
		in     any
		want   float64
		ok     bool
	}{
		{index.TypeLong, nil, json.Number("5"), 5, true},
		{index.TypeLong, nil, "5", 5, true},
		{index.TypeLong, nil, " 7 ", 7, true},
		{index.TypeLong, nil, json.Number("5.7"), 5, true},
		{index.TypeLong, nil, json.Number("-5.7"), -5, true},
		{index.TypeInteger, nil, "5.9", 5, true},
		{index.TypeLong, &no, "5", 0, false},
		{index.TypeLong, &no, json.Number("5.7"), 0, false},
		{index.TypeByte, nil, json.Number("127"), 127, true},
		{index.TypeByte, nil, json.Number("-129"), 0, false},
		{index.TypeFloat, nil, json.Number("0.1"), float64(float32(0.1)), true},
		{index.TypeDouble, nil, json.Number("0.1"), 0.1, true},
		{index.TypeDouble, nil, "NaN", 0, false},
		{index.TypeDouble, nil, true, 0, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%v", c.typ, c.in), func(t *testing.T) {
			got, err := coerceNumber(&index.Property{Type: c.typ, Coerce: c.coerce}, c.in)
			if (err == nil) != c.ok || c.ok && got != c.want {
				t.Errorf("got %v, %v; want %v ok=%v", got, err, c.want, c.ok)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	cases := []struct {
		format string
		in     any
		want   time.Time
		ok     bool
	}{
		{"", "2015-01-01", utc(2015, 1, 1, 0, 0, 0, 0), true},
		{"", "2015-01-01T12:10:30Z", utc(2015, 1, 1, 12, 10, 30, 0), true},
		{"", "2015-01-01T12:10:30.123+01:00", utc(2015, 1, 1, 11, 10, 30, 123e6), true},
		{"", "2015-01-01T12:10", utc(2015, 1, 1, 12, 10, 0, 0), true},
		{"", "2015-01", utc(2015, 1, 1, 0, 0, 0, 0), true},
		{"", "2015", utc(2015, 1, 1, 0, 0, 0, 0), true},
		{"", "2015-01-01T12:10:30-0530", utc(2015, 1, 1, 17, 40, 30, 0), true},
		{"", "1420070400001", utc(2015, 1, 1, 0, 0, 0, 1e6), true},
		{"", float64(1420070400001), utc(2015, 1, 1, 0, 0, 0, 1e6), true},
		{"", json.Number("-1000"), utc(1969, 12, 31, 23, 59, 59, 0), true},
		{"", "2015-1-1", time.Time{}, false},
		{"", "2015-01-01 12:10:30", time.Time{}, false},
		{"", "garbage", time.Time{}, false},
		{"date_optional_time", "2015-06-30", utc(2015, 6, 30, 0, 0, 0, 0), true},
		{"epoch_second", float64(1420070400), utc(2015, 1, 1, 0, 0, 0, 0), true},
		{"epoch_second", "1420070400.5", utc(2015, 1, 1, 0, 0, 0, 5e8), true},
		{"epoch_millis", "2015-01-01", time.Time{}, false},
		{"yyyy-MM-dd", "2015-03-04", utc(2015, 3, 4, 0, 0, 0, 0), true},
		{"yyyy/MM/dd HH:mm:ss", "2015/03/04 05:06:07", utc(2015, 3, 4, 5, 6, 7, 0), true},
		{"yyyy-MM-dd HH:mm:ss||epoch_millis", "2015-03-04 05:06:07", utc(2015, 3, 4, 5, 6, 7, 0), true},
		{"yyyy-MM-dd HH:mm:ss||epoch_millis", float64(0), utc(1970, 1, 1, 0, 0, 0, 0), true},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2015-03-04T05:06:07.089+0100", utc(2015, 3, 4, 4, 6, 7, 89e6), true},
		{"strict_date", "2015-03-04", utc(2015, 3, 4, 0, 0, 0, 0), true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%v", c.format, c.in), func(t *testing.T) {
			got, err := parseDate(&index.Property{Type: index.TypeDate, Format: c.format}, c.in)
			if (err == nil) != c.ok || c.ok && !got.Equal(c.want) {
				t.Errorf("got %v, %v; want %v ok=%v", got, err, c.want, c.ok)
			}
			if c.ok && got.Location() != time.UTC {
				t.Errorf("location %v, want UTC", got.Location())
			}
		})
	}
	if _, err := parseDate(nil, "2015-01-01"); err != nil {
		t.Errorf("nil property: %v", err)
	}
}

func TestMergeSource(t *testing.T) {
	cases := []struct{ src, partial, want string }{
		{`{"a":1,"b":{"c":1,"d":2}}`, `{"b":{"d":3,"e":4}}`, `{"a":1,"b":{"c":1,"d":3,"e":4}}`},
		{`{"a":1}`, `{"a":1}`, `{"a":1}`},
		{`{"a": [1, 2]}`, `{"a":[1,2]}`, `{"a": [1, 2]}`},
		{`{"a":[1,2]}`, `{"a":[3]}`, `{"a":[3]}`},
		{`{"a":{"x":1}}`, `{"a":5}`, `{"a":5}`},
		{`{"a":5}`, `{"a":{"x":1}}`, `{"a":{"x":1}}`},
		{`{"z":1,"a":2}`, `{"b":3}`, `{"z":1,"a":2,"b":3}`},
		{`{"a":null}`, `{"a":null}`, `{"a":null}`},
	}
	for _, c := range cases {
		t.Run(c.src+"+"+c.partial, func(t *testing.T) {
			got, changed, err := mergeSource([]byte(c.src), []byte(c.partial))
			if err != nil || string(got) != c.want || changed != (c.want != c.src) {
				t.Errorf("got %s changed=%v err=%v, want %s", got, changed, err, c.want)
			}
		})
	}
}

func TestUpdateRoundTrip(t *testing.T) {
	b := newTestBackend(t, Options{})
	mustCreate(t, b, "u", `{"properties":{"n":{"type":"long"}}}`)
	mustApply(t, b, "u", indexOp("1", `{"n":1}`))
	r := mustApply(t, b, "u", index.Op{Type: index.OpUpdate, ID: "1", Source: json.RawMessage(`{"n":"x"}`)})[0]
	if r.Status != 400 {
		t.Fatalf("bad update: %+v", r)
	}
	d, _ := b.Get(context.Background(), "u", "1")
	if string(d.Source) != `{"n":1}` || d.Version != 1 {
		t.Errorf("doc changed by a failed update: %s v%d", d.Source, d.Version)
	}
}
