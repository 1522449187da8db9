package gateway

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// jsonBuf builds a JSON response by hand where documents must be copied
// byte for byte (encoding/json would compact a json.RawMessage).
type jsonBuf struct{ bytes.Buffer }

func (b *jsonBuf) raw(s string) *jsonBuf { b.WriteString(s); return b }

// val appends v encoded as JSON (never a raw source). The common scalar
// types skip encoding/json's reflection: responses are built on every
// request.
func (b *jsonBuf) val(v any) *jsonBuf {
	switch t := v.(type) {
	case string:
		b.str(t)
		return b
	case int:
		b.Buffer.Write(strconv.AppendInt(b.AvailableBuffer(), int64(t), 10))
		return b
	case int64:
		b.Buffer.Write(strconv.AppendInt(b.AvailableBuffer(), t, 10))
		return b
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
		return b
	case *float64:
		if t == nil {
			b.WriteString("null")
			return b
		}
		if !math.IsInf(*t, 0) && !math.IsNaN(*t) {
			b.Buffer.Write(appendFloat(b.AvailableBuffer(), *t))
			return b
		}
	}
	enc, err := json.Marshal(v)
	if err != nil {
		enc = []byte("null")
	}
	b.Write(enc)
	return b
}

// str appends s as a JSON string, escaped as encoding/json escapes it
// (HTML-sensitive characters included).
func (b *jsonBuf) str(s string) {
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			if r == utf8.RuneError {
				b.WriteString(`\ufffd`)
			} else {
				b.WriteString(`\u202`)
				b.WriteByte(hexDigits[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

const hexDigits = "0123456789abcdef"

// appendFloat formats f as encoding/json does: plain decimals between
// 1e-6 and 1e21, exponent form outside, without a leading zero in the
// exponent.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// source appends a stored document exactly as it was sent.
func (b *jsonBuf) source(src json.RawMessage) *jsonBuf {
	if len(src) == 0 {
		b.WriteString("null")
		return b
	}
	b.Write(src)
	return b
}

func sendJSON(c *fiber.Ctx, status int, b *jsonBuf) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

// param returns a path parameter, unescaped and copied (Fiber reuses the
// memory behind c.Params after the handler returns).
func param(c *fiber.Ctx, name string) (string, error) {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil {
		return "", badRequest("illegal_argument_exception", "path parameter [%s] is not valid percent-encoding", name)
	}
	return strings.Clone(v), nil
}

// shards is the _shards object of a single-shard index.
const shards = `{"total":1,"successful":1,"failed":0}`

// writeResult appends the body of a document write response.
func writeResult(b *jsonBuf, logical string, r index.OpResult) {
	b.raw(`{"_index":`).val(logical).raw(`,"_id":`).val(r.ID).raw(`,"_version":`).val(r.Version).
		raw(`,"result":`).val(r.Result).raw(`,"_shards":` + shards + `,"_seq_no":`).val(r.SeqNo).
		raw(`,"_primary_term":1}`)
}

// checkParams refuses query parameters the route does not know, as
// OpenSearch does, so that a typo is not silently ignored.
func checkParams(c *fiber.Ctx, allowed ...string) error {
	var bad string
	c.Context().QueryArgs().VisitAll(func(k, _ []byte) {
		if bad != "" {
			return
		}
		key := string(k)
		switch key {
		case "security_tenant", "pretty", "human", "error_trace", "filter_path", "format", "timeout", "master_timeout", "cluster_manager_timeout":
			return
		}
		for _, a := range allowed {
			if a == key {
				return
			}
		}
		bad = key
	})
	if bad != "" {
		return badRequest("illegal_argument_exception", "request [%s] contains unrecognized parameter: [%s]", c.Path(), bad)
	}
	return nil
}
