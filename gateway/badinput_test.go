package gateway_test

import (
	"bufio"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// physicalSuffix ends every physical index name of the analysts tenant;
// clients must only ever see logical names.
var physicalSuffix = tenants.PhysicalName("", "analysts")

// TestBadInputLosesNothing sends malformed requests of every kind and
// checks each gets a 4xx that says what is wrong, and that every
// document acknowledged before is still there, unchanged.
func TestBadInputLosesNothing(t *testing.T) {
	s := testserver.Start(t, func(c *config.Config) { c.Limits.BodyBytes = 64 << 10 })
	tok := testserver.Token(t, "alice", "analyst")
	const tenant = "analysts"
	acked := map[string]string{}
	for i := 0; i < 20; i++ {
		id := fmt.Sprintf("d%d", i)
		src := fmt.Sprintf(`{"n":%d,"msg":"acknowledged %d"}`, i, i)
		mustStatus(t, s.Do(t, "PUT", "/keep/_doc/"+id, tok, tenant, src), 201)
		acked[id] = src
	}
	big := `{"msg":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name, method, path string
		body               string
		status             int
		reason             string
	}{
		{"malformed JSON document", "PUT", "/keep/_doc/d1", `{"n": 1,`, 400, "failed to parse"},
		{"array document", "PUT", "/keep/_doc/d1", `[1,2]`, 400, "JSON object"},
		{"type mismatch", "PUT", "/keep/_doc/d1", `{"n":"not a number"}`, 400, "n"},
		{"malformed search JSON", "POST", "/keep/_search", `{"query":`, 400, "not a JSON object"},
		{"unknown query type", "POST", "/keep/_search", `{"query":{"fuzzy_magic":{"msg":"x"}}}`, 400, "fuzzy_magic"},
		{"named query", "POST", "/keep/_search", `{"query":{"match":{"msg":{"query":"x","_name":"n"}}}}`, 400, "_name"},
		{"named term query", "POST", "/keep/_search", `{"query":{"term":{"msg":"x","_name":"n"}}}`, 400, "_name"},
		{"unknown search key", "POST", "/keep/_search", `{"qeury":{}}`, 400, "qeury"},
		{"size over window", "POST", "/keep/_search", `{"size":10001}`, 400, "Result window is too large"},
		{"from+size over window", "GET", "/keep/_search?from=9990&size=20", "", 400, "Result window is too large"},
		{"unknown parameter", "GET", "/keep/_search?sizee=1", "", 400, "sizee"},
		{"malformed NDJSON action", "POST", "/_bulk", "{\"index\":{\"_index\":\"keep\",\"_id\":\"d1\"}}\n{\"n\":99}\n{\"index\":\n", 400, "line [3]"},
		{"malformed NDJSON source", "POST", "/_bulk", "{\"index\":{\"_index\":\"keep\",\"_id\":\"d1\"}}\n{\"n\":99\n", 400, "line [2]"},
		{"unknown bulk action", "POST", "/_bulk", "{\"upsert\":{\"_index\":\"keep\"}}\n{}\n", 400, "upsert"},
		{"bulk without source", "POST", "/_bulk", "{\"index\":{\"_index\":\"keep\",\"_id\":\"d1\"}}\n", 400, "no source line"},
		{"empty bulk", "POST", "/_bulk", "\n", 400, "no requests"},
		{"upper-case index", "PUT", "/Keep/_doc/1", `{}`, 400, "must be lowercase"},
		{"index with star", "PUT", "/ke*p", `{}`, 400, "must not contain"},
		{"index with leading underscore", "PUT", "/_keep", `{}`, 400, "no handler found for uri [/_keep]"},
		{"unknown endpoint", "GET", "/_stats", "", 400, "no handler found for uri [/_stats] and method [GET]"},
		{"index with leading dash", "PUT", "/-keep", `{}`, 400, "must not start"},
		{"system index", "PUT", "/.kibana/_doc/1", `{}`, 400, "reserved"},
		{"dot dot", "PUT", "/%2E%2E", `{}`, 400, "must not be '.' or '..'"},
		{"overflowing from+size", "GET", "/keep/_search?from=9223372036854775807&size=1", "", 400, "Result window is too large"},
		{"overflowing size in body", "POST", "/keep/_search", `{"from":9223372036854775807,"size":1}`, 400, "Result window is too large"},
		{"invalid UTF-8", "PUT", "/keep/_doc/d1", "{\"msg\":\"\xff\xfe\"}", 400, "UTF-8"},
		{"empty bulk id", "POST", "/_bulk", "{\"index\":{\"_index\":\"keep\",\"_id\":\"\"}}\n{\"n\":1}\n", 200, "must not be empty"},
		{"empty msearch", "POST", "/_msearch", "\n", 400, "no requests"},
		{"bad mapping type", "PUT", "/m1", `{"mappings":{"properties":{"a":{"type":"strang"}}}}`, 400, "strang"},
		{"bad mapping param", "PUT", "/m2", `{"mappings":{"properties":{"a":{"type":"text","colour":"red"}}}}`, 400, "colour"},
		{"analysis settings", "PUT", "/s1", `{"settings":{"analysis":{"analyzer":{"x":{"type":"custom"}}}}}`, 400, "index.analysis.analyzer.x.type"},
		{"unknown setting", "PUT", "/s2", `{"settings":{"index":{"frobnicate":1}}}`, 400, "index.frobnicate"},
		{"template analysis", "PUT", "/_index_template/s3", `{"index_patterns":["s3*"],"template":{"settings":{"index.analysis.filter.f.type":"x"}}}`, 400, "custom analysis"},
		{"script update", "POST", "/keep/_update/d1", `{"script":"ctx._source.n++"}`, 400, "script"},
		{"text sort", "POST", "/keep/_search", `{"sort":[{"msg":"asc"}]}`, 400, "keyword"},
		{"unknown agg", "POST", "/keep/_search", `{"aggs":{"x":{"percentiles_magic":{"field":"n"}}}}`, 400, "percentiles_magic"},
		{"missing index search", "POST", "/nothere/_search", `{}`, 404, "no such index [nothere]"},
		{"missing document source", "GET", "/keep/_source/nope", "", 404, "keep"},
		{"create existing index", "PUT", "/keep", `{}`, 400, "[keep] already exists"},
		{"mapping conflict", "PUT", "/keep/_doc/x", `{"msg":{"an":"object"}}`, 400, "msg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body any
			if c.body != "" {
				body = c.body
			}
			r := s.Do(t, c.method, c.path, tok, tenant, body)
			if r.Status != c.status {
				t.Fatalf("status %d, want %d: %.300s", r.Status, c.status, r.Body)
			}
			if !strings.Contains(string(r.Body), c.reason) {
				t.Fatalf("body %.300s does not say %q", r.Body, c.reason)
			}
			if !strings.Contains(string(r.Body), `"error"`) {
				t.Fatalf("body is not an OpenSearch error: %.300s", r.Body)
			}
			if strings.Contains(string(r.Body), physicalSuffix) {
				t.Fatalf("body shows a physical index name: %.300s", r.Body)
			}
		})
	}
	// Tenant-shaped names are refused in the global tenant only.
	r := s.Do(t, "PUT", "/logs_1592542611_humanresources", tok, "global", `{}`)
	if r.Status != 400 || !strings.Contains(string(r.Body), "tenant index name") {
		t.Errorf("tenant-shaped name in global: %d %s", r.Status, r.Body)
	}
	mustStatus(t, s.Do(t, "PUT", "/logs_2024_01", tok, tenant, `{}`), 200)

	// An oversized body: the client sends the headers and starts the body;
	// the server answers 413 without reading it all.
	status, body := rawRequest(t, s, "PUT", "/keep/_doc/d1", tok, tenant, big)
	if status != 413 || !strings.Contains(body, "limits.body_bytes") {
		t.Errorf("oversized body: %d %s", status, body)
	}
	for id, src := range acked {
		r := s.Do(t, "GET", "/keep/_source/"+id, tok, tenant, nil)
		if r.Status != 200 || string(r.Body) != src {
			t.Errorf("document %s after bad input: %d %s, want %s", id, r.Status, r.Body, src)
		}
	}
	r = s.Do(t, "GET", "/keep/_count", tok, tenant, nil)
	if !strings.Contains(string(r.Body), `"count":20`) {
		t.Errorf("count after bad input: %s", r.Body)
	}
	for _, name := range []string{"m1", "m2"} {
		if r := s.Do(t, "HEAD", "/"+strings.ToLower(name), tok, tenant, nil); r.Status != 404 {
			t.Errorf("index %s exists after a refused create: %d", name, r.Status)
		}
	}
}

// TestAuthenticationFailures checks the 401s: a reason, the
// WWW-Authenticate challenge, and never the token echoed back.
func TestAuthenticationFailures(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
	hmacKey := "base64:" + base64.StdEncoding.EncodeToString(testserver.Secret)

	now := time.Now()
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	good := jwt.MapClaims{"sub": "alice", "roles": []string{"analyst"}, "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	with := func(k string, v any) jwt.MapClaims {
		c := jwt.MapClaims{}
		for kk, vv := range good {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	noneTok := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"admin","exp":%d}`, now.Add(time.Hour).Unix()))) + "."

	hmacServer := testserver.Start(t, func(c *config.Config) {
		c.Auth.JWT.RequiredIssuer = "https://idp.example"
		c.Auth.JWT.RequiredAudience = []string{"tenantgate"}
	})
	rsaServer := testserver.Start(t, func(c *config.Config) { c.Auth.JWT.SigningKeys = []string{pubPEM} })
	_ = hmacKey

	valid := with("iss", "https://idp.example")
	valid["aud"] = "tenantgate"
	cases := []struct {
		name   string
		server *testserver.Server
		header string
	}{
		{"no header", hmacServer, ""},
		{"basic scheme", hmacServer, "Basic YWxpY2U6cGFzcw=="},
		{"garbage token", hmacServer, "Bearer not.a.jwt"},
		{"alg none", hmacServer, "Bearer " + noneTok},
		{"wrong key", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid)},
		{"expired", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims {
			c := with("exp", now.Add(-time.Hour).Unix())
			c["iss"], c["aud"] = "https://idp.example", "tenantgate"
			return c
		}())},
		{"no exp", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims {
			c := with("exp", nil)
			c["iss"], c["aud"] = "https://idp.example", "tenantgate"
			return c
		}())},
		{"nbf in future", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims {
			c := with("nbf", now.Add(time.Hour).Unix())
			c["iss"], c["aud"] = "https://idp.example", "tenantgate"
			return c
		}())},
		{"wrong issuer", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims { c := with("iss", "https://evil.example"); c["aud"] = "tenantgate"; return c }())},
		{"wrong audience", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims { c := with("iss", "https://idp.example"); c["aud"] = "other"; return c }())},
		{"missing subject", hmacServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, func() jwt.MapClaims {
			c := with("sub", nil)
			c["iss"], c["aud"] = "https://idp.example", "tenantgate"
			return c
		}())},
		{"HS token with only an RSA key", rsaServer, "Bearer " + sign(jwt.SigningMethodHS256, testserver.Secret, good)},
		{"HS token signed with the RSA public key", rsaServer, "Bearer " + sign(jwt.SigningMethodHS256, []byte(pubPEM), good)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var headers []string
			if c.header != "" {
				headers = []string{"Authorization", c.header}
			}
			r := c.server.Do(t, "GET", "/_cat/indices", "", "", nil, headers...)
			if r.Status != 401 {
				t.Fatalf("status %d, want 401: %s", r.Status, r.Body)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="tenantgate"` {
				t.Fatalf("WWW-Authenticate = %q", got)
			}
			if !strings.Contains(string(r.Body), `"reason"`) {
				t.Fatalf("no reason: %s", r.Body)
			}
			if tok := strings.TrimPrefix(c.header, "Bearer "); len(tok) > 8 && strings.Contains(string(r.Body), tok[len(tok)-8:]) {
				t.Fatalf("the response echoes the token: %s", r.Body)
			}
		})
	}
	// The same claims, correctly signed, pass: the negatives above fail
	// for the reason they test.
	r := hmacServer.Do(t, "GET", "/_cat/indices", sign(jwt.SigningMethodHS256, testserver.Secret, valid), "", nil)
	mustStatus(t, r, 200)
	r = rsaServer.Do(t, "GET", "/_cat/indices", sign(jwt.SigningMethodRS256, priv, good), "", nil)
	mustStatus(t, r, 200)
}

// TestRestartKeepsEverything writes, stops the server, starts a new one on
// the same data directory and reads everything back.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	cfg := testserver.Config(dir)
	s := testserver.StartConfig(t, cfg)
	tok := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/_index_template/t", tok, "analysts", `{"index_patterns":["ev*"],"template":{"mappings":{"properties":{"k":{"type":"keyword"}}}}}`), 200)
	mustStatus(t, s.Do(t, "PUT", "/events/_doc/1", tok, "analysts", `{"k":"v1","n":1}`), 201)
	mustStatus(t, s.Do(t, "PUT", "/events/_doc/1", tok, "private", `{"k":"mine"}`), 201)
	mustStatus(t, s.Do(t, "POST", "/_bulk", tok, "analysts", "{\"index\":{\"_index\":\"events\",\"_id\":\"2\"}}\n{\"k\":\"v2\",\"n\":2}\n"), 200)
	s.Stop()

	s2 := testserver.StartConfig(t, cfg)
	r := s2.Do(t, "GET", "/events/_source/1", tok, "analysts", nil)
	if r.Status != 200 || string(r.Body) != `{"k":"v1","n":1}` {
		t.Fatalf("after restart: %d %s", r.Status, r.Body)
	}
	r = s2.Do(t, "GET", "/events/_source/1", tok, "private", nil)
	if r.Status != 200 || string(r.Body) != `{"k":"mine"}` {
		t.Fatalf("private after restart: %d %s", r.Status, r.Body)
	}
	r = s2.Do(t, "POST", "/events/_search", tok, "analysts", `{"query":{"term":{"k":"v2"}}}`)
	if r.Status != 200 || get(t, r.JSON(t), "hits.total.value").(float64) != 1 {
		t.Fatalf("search after restart: %d %s", r.Status, r.Body)
	}
	r = s2.Do(t, "GET", "/events/_mapping", tok, "analysts", nil)
	if get(t, r.JSON(t), "events.mappings.properties.k.type") != "keyword" || get(t, r.JSON(t), "events.mappings.properties.n.type") != "long" {
		t.Fatalf("mapping after restart: %s", r.Body)
	}
	mustStatus(t, s2.Do(t, "GET", "/_index_template/t", tok, "analysts", nil), 200)
}

// rawRequest writes a request on a raw connection and reads the status
// line and body of the answer, even when the server answers before it has
// read the whole body (as it does for a 413).
func rawRequest(t *testing.T, s *testserver.Server, method, path, token, tenant, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nsecuritytenant: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		method, path, token, tenant, len(body))
	// Write the body in the background: the server may stop reading.
	go func() { _, _ = io.WriteString(conn, body) }()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
