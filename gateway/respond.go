package gateway

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/index"
)

// jsonBuf builds a JSON response by hand where documents must be copied
// byte for byte (encoding/json would compact a json.RawMessage).
type jsonBuf struct{ bytes.Buffer }

func (b *jsonBuf) raw(s string) *jsonBuf { b.WriteString(s); return b }

// val appends v encoded as JSON (never a raw source).
func (b *jsonBuf) val(v any) *jsonBuf {
	enc, err := json.Marshal(v)
	if err != nil {
		enc = []byte("null")
	}
	b.Write(enc)
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
