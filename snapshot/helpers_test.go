package snapshot_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/secrets"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

// testKey is the secrets key of the test servers.
var testKey = "base64:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

// start starts a server with a secrets key and a low bcrypt cost.
func start(t *testing.T, mutate ...func(*config.Config)) *testserver.Server {
	t.Helper()
	return testserver.Start(t, append([]func(*config.Config){func(c *config.Config) {
		c.Auth.Passwords.BcryptCost = 4
		c.Secrets.EncryptionKey = testKey
	}}, mutate...)...)
}

// instanceOf is the snapshot Source and Target of a running server.
func instanceOf(t *testing.T, s *testserver.Server) *snapshot.Instance {
	t.Helper()
	var key secrets.Key
	if s.Config.Secrets.EncryptionKey != "" {
		var err error
		if key, err = secrets.ParseKey(s.Config.Secrets.EncryptionKey); err != nil {
			t.Fatal(err)
		}
	}
	return &snapshot.Instance{Index: s.Inst.Index, Store: s.Inst.Store, Admin: s.Inst.Admin, Key: key}
}

// super is a superadmin's token.
func super(t *testing.T) string { return testserver.Token(t, "admin") }

// bulk indexes n documents {"n": i, "msg": "<prefix> i"} with ids
// <prefix>-i into index of tenant through the server's _bulk API.
func bulk(t *testing.T, s *testserver.Server, tenant, idx, prefix string, from, n int) {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "{\"index\":{\"_index\":%q,\"_id\":\"%s-%d\"}}\n{\"n\":%d,\"msg\":\"%s %d\"}\n", idx, prefix, i, i, prefix, i)
	}
	r := s.Do(t, "POST", "/_bulk?refresh=true", super(t), tenant, b.String())
	if r.Status != 200 || strings.Contains(string(r.Body), `"errors":true`) {
		t.Fatalf("bulk into %s/%s: %d %s", tenant, idx, r.Status, r.Body)
	}
}

// count returns the document count of index in tenant through the
// server, or -1 when the index does not exist.
func count(t *testing.T, s *testserver.Server, token, tenant, idx string) int {
	t.Helper()
	r := s.Do(t, "GET", "/"+url.PathEscape(idx)+"/_count", token, tenant, nil)
	if r.Status == 404 {
		return -1
	}
	if r.Status != 200 {
		t.Fatalf("count %s/%s: %d %s", tenant, idx, r.Status, r.Body)
	}
	return int(r.JSON(t)["count"].(float64))
}

// systemPut stores documents in a system index (.kibana) of tenant
// directly through the index service, as the dashboards API does.
func systemPut(t *testing.T, s *testserver.Server, ref tenants.Ref, idx string, ids ...string) {
	t.Helper()
	var ops []index.Op
	for _, id := range ids {
		ops = append(ops, index.Op{Type: index.OpIndex, ID: id, Source: []byte(fmt.Sprintf(`{"type":"dashboard","title":%q}`, id))})
	}
	res, err := s.Inst.Index.SystemView(ref).Apply(context.Background(), idx, ops)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// physicals returns the physical names in a manifest, sorted.
func physicals(m *snapshot.Manifest) []string {
	var out []string
	for _, ie := range m.Indices {
		out = append(out, ie.Physical)
	}
	return out
}

// adminActor is a superadmin restoring.
var adminActor = admin.Actor{Name: "admin", Superadmin: true}
