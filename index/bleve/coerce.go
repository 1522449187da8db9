package bleve

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/index"
)

// defaultDateFormat is the format of a date field that names none, as in
// OpenSearch.
const defaultDateFormat = "strict_date_optional_time||epoch_millis"

// Limits of the integer field types.
var intRanges = map[string][2]float64{
	index.TypeByte:    {math.MinInt8, math.MaxInt8},
	index.TypeShort:   {math.MinInt16, math.MaxInt16},
	index.TypeInteger: {math.MinInt32, math.MaxInt32},
	index.TypeLong:    {math.MinInt64, math.MaxInt64},
}

// coerceAllowed reports whether p accepts values of another JSON type
// (coerce defaults to true).
func coerceAllowed(p *index.Property) bool { return p.Coerce == nil || *p.Coerce }

// coerceNumber converts a JSON value (json.Number, float64, string) into
// the numeric type of p: integers are truncated and range-checked, floats
// rounded to float32 precision.
func coerceNumber(p *index.Property, v any) (float64, error) {
	var f float64
	var err error
	fromString := false
	switch x := v.(type) {
	case json.Number:
		f, err = strconv.ParseFloat(string(x), 64)
	case float64:
		f = x
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case string:
		if !coerceAllowed(p) {
			return 0, fmt.Errorf("strings are not accepted (coerce is false)")
		}
		fromString = true
		f, err = strconv.ParseFloat(strings.TrimSpace(x), 64)
	default:
		return 0, fmt.Errorf("expected a number, got %s", jsonKind(v))
	}
	if err != nil {
		return 0, fmt.Errorf("not a number")
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("[%s] supports only finite values", p.Type)
	}
	if r, ok := intRanges[p.Type]; ok {
		if f != math.Trunc(f) && !coerceAllowed(p) && !fromString {
			return 0, fmt.Errorf("value has a decimal part (coerce is false)")
		}
		f = math.Trunc(f)
		if f < r[0] || f > r[1] {
			return 0, fmt.Errorf("value out of range for [%s]", p.Type)
		}
		return f, nil
	}
	if p.Type == index.TypeFloat {
		if math.Abs(f) > math.MaxFloat32 {
			return 0, fmt.Errorf("value out of range for [float]")
		}
		return float64(float32(f)), nil
	}
	return f, nil
}

// coerceString converts a JSON value into the string of a text or keyword
// field: strings as they are, numbers and booleans in their JSON form.
func coerceString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return string(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("expected a string, got %s", jsonKind(v))
}

// coerceBool converts a JSON value into a boolean: true, false, "true",
// "false" (and "" as false, as OpenSearch does).
func coerceBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		switch x {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
		return false, fmt.Errorf("only [true] or [false] are allowed")
	}
	return false, fmt.Errorf("expected a boolean, got %s", jsonKind(v))
}

// coerceIP parses an IPv4 or IPv6 address.
func coerceIP(v any) (net.IP, error) {
	s, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("expected an IP address string, got %s", jsonKind(v))
	}
	ip := net.ParseIP(strings.TrimSpace(s))
	if ip == nil {
		return nil, fmt.Errorf("'%s' is not an IP string literal", s)
	}
	return ip, nil
}

// parseDate parses a date field value with the format(s) of p (the
// default "strict_date_optional_time||epoch_millis" when p has none). v is
// a string, or a number (float64 or json.Number) read as epoch_millis, or
// as epoch_second when that is the only epoch format named. The result is
// in UTC. Errors are *index.Error of type parse_exception.
func parseDate(p *index.Property, v any) (time.Time, error) {
	format := defaultDateFormat
	if p != nil && p.Format != "" {
		format = p.Format
	}
	formats := strings.Split(format, "||")
	var num float64
	isNum := true
	switch x := v.(type) {
	case float64:
		num = x
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, dateError(string(x), format)
		}
		num = f
	case int64:
		num = float64(x)
	case int:
		num = float64(x)
	case string:
		isNum = false
		for _, f := range formats {
			if t, ok := parseDateFormat(strings.TrimSpace(f), x); ok {
				return t, nil
			}
		}
		return time.Time{}, dateError(x, format)
	default:
		return time.Time{}, dateError(fmt.Sprint(v), format)
	}
	if isNum {
		unit := "epoch_millis"
		hasMillis, hasSecond := false, false
		for _, f := range formats {
			switch strings.TrimSpace(f) {
			case "epoch_millis":
				hasMillis = true
			case "epoch_second":
				hasSecond = true
			}
		}
		if hasSecond && !hasMillis {
			unit = "epoch_second"
		}
		if t, ok := fromEpoch(num, unit); ok {
			return t, nil
		}
	}
	return time.Time{}, dateError(fmt.Sprint(v), format)
}

func dateError(v, format string) *index.Error {
	return index.Invalidf("parse_exception", "failed to parse date field [%s] with format [%s]", v, format)
}

// checkDateFormat reports an error if a format names a built-in format or
// pattern that parseDate does not understand.
func checkDateFormat(format string) error {
	for _, f := range strings.Split(format, "||") {
		f = strings.TrimSpace(f)
		switch f {
		case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos", "epoch_millis", "epoch_second":
			continue
		}
		if _, ok := namedLayouts[f]; ok {
			continue
		}
		if _, err := javaDateLayout(f); err != nil || f == "" {
			return fmt.Errorf("invalid date format [%s]", f)
		}
	}
	return nil
}

// fromEpoch converts a number of milliseconds or seconds into a time.
func fromEpoch(n float64, unit string) (time.Time, bool) {
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return time.Time{}, false
	}
	ms := n
	if unit == "epoch_second" {
		ms = n * 1000
	}
	// Beyond ±292 million years time.Duration arithmetic overflows.
	if math.Abs(ms) > 9e15 {
		return time.Time{}, false
	}
	sec := math.Floor(ms / 1000)
	nsec := (ms - sec*1000) * 1e6
	return time.Unix(int64(sec), int64(math.Round(nsec))).UTC(), true
}

// isoDate matches strict_date_optional_time: a date, optionally a time
// after 'T', optionally a zone after the time.
var isoDate = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$`)

// parseDateFormat parses s with one named format or pattern.
func parseDateFormat(format, s string) (time.Time, bool) {
	switch format {
	case "strict_date_optional_time", "date_optional_time", "strict_date_optional_time_nanos":
		return parseISO(s)
	case "epoch_millis", "epoch_second":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		return fromEpoch(f, format)
	}
	layout, ok := namedLayouts[format]
	if !ok {
		var err error
		if layout, err = javaDateLayout(format); err != nil {
			return time.Time{}, false
		}
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// namedLayouts are the other built-in OpenSearch formats, as Go layouts.
var namedLayouts = map[string]string{
	"strict_date":                       "2006-01-02",
	"date":                              "2006-01-02",
	"strict_date_time":                  "2006-01-02T15:04:05.000Z07:00",
	"date_time":                         "2006-01-02T15:04:05.000Z07:00",
	"strict_date_time_no_millis":        "2006-01-02T15:04:05Z07:00",
	"date_time_no_millis":               "2006-01-02T15:04:05Z07:00",
	"strict_date_hour_minute_second":    "2006-01-02T15:04:05",
	"date_hour_minute_second":           "2006-01-02T15:04:05",
	"strict_date_hour_minute":           "2006-01-02T15:04",
	"basic_date":                        "20060102",
	"strict_year_month_day":             "2006-01-02",
	"year_month_day":                    "2006-01-02",
	"strict_year_month":                 "2006-01",
	"year_month":                        "2006-01",
	"strict_year":                       "2006",
	"year":                              "2006",
	"strict_date_hour_minute_second_ms": "2006-01-02T15:04:05.000",
}

// parseISO parses strict_date_optional_time.
func parseISO(s string) (time.Time, bool) {
	m := isoDate.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	year, month, day := num(1, 0), num(2, 1), num(3, 1)
	hour, minute, sec := num(4, 0), num(5, 0), num(6, 0)
	nsec := 0
	if m[7] != "" {
		frac := m[7] + strings.Repeat("0", 9-len(m[7]))
		nsec, _ = strconv.Atoi(frac)
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		digits := strings.ReplaceAll(z[1:], ":", "")
		zh, _ := strconv.Atoi(digits[:2])
		zm := 0
		if len(digits) == 4 {
			zm, _ = strconv.Atoi(digits[2:])
		}
		if zh > 18 || zm > 59 {
			return time.Time{}, false
		}
		off := zh*3600 + zm*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day {
		return time.Time{}, false // 2015-02-30
	}
	return t.UTC(), true
}

// javaDateLayout turns a Java date pattern ("yyyy/MM/dd HH:mm:ss") into a Go
// layout. It supports the common letters only.
func javaDateLayout(pattern string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(pattern); {
		c := pattern[i]
		j := i
		for j < len(pattern) && pattern[j] == c {
			j++
		}
		n := j - i
		switch {
		case c == '\'':
			end := strings.IndexByte(pattern[i+1:], '\'')
			if end < 0 {
				return "", fmt.Errorf("unterminated quote in %q", pattern)
			}
			b.WriteString(pattern[i+1 : i+1+end])
			i += end + 2
			continue
		case c == 'y' || c == 'u':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case c == 'M':
			switch n {
			case 1:
				b.WriteString("1")
			case 2:
				b.WriteString("01")
			case 3:
				b.WriteString("Jan")
			default:
				b.WriteString("January")
			}
		case c == 'd':
			b.WriteString(javaPad(n, "2", "02"))
		case c == 'H':
			b.WriteString("15")
		case c == 'h':
			b.WriteString(javaPad(n, "3", "03"))
		case c == 'm':
			b.WriteString(javaPad(n, "4", "04"))
		case c == 's':
			b.WriteString(javaPad(n, "5", "05"))
		case c == 'S':
			b.WriteString(strings.Repeat("0", n))
		case c == 'a':
			b.WriteString("PM")
		case c == 'E':
			if n >= 4 {
				b.WriteString("Monday")
			} else {
				b.WriteString("Mon")
			}
		case c == 'Z':
			b.WriteString("-0700")
		case c == 'X' || c == 'x':
			if n >= 3 {
				b.WriteString("Z07:00")
			} else {
				b.WriteString("Z0700")
			}
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			return "", fmt.Errorf("unsupported date pattern letter %q in %q", c, pattern)
		default:
			b.WriteString(pattern[i:j])
		}
		i = j
	}
	return b.String(), nil
}

// pad picks the Go layout element for a Java letter repeated n times.
func javaPad(n int, one, two string) string {
	if n == 1 {
		return one
	}
	return two
}

// jsonKind names the JSON type of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64, int, int64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("%T", v)
}
