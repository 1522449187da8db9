package gateway

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// TestPanicBecomesA500 checks that a panic inside a handler answers that
// request with a 500 carrying the request id, and that the server goes
// on serving.
func TestPanicBecomesA500(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := auth.NewVerifier(auth.Options{SigningKeys: []string{"base64:" + base64.StdEncoding.EncodeToString(secret)}})
	if err != nil {
		t.Fatal(err)
	}
	engine, err := policy.New(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	dir := t.TempDir()
	backend, err := bleve.New(filepath.Join(dir, "indices"), bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	store, err := control.Open(filepath.Join(dir, "control.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	trail, err := audit.NewTrail(store.DB(), audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trail.Close()
	catalog, err := index.NewCatalog(store.DB())
	if err != nil {
		t.Fatal(err)
	}
	svc, err := index.NewService(context.Background(), backend, catalog, nil)
	if err != nil {
		t.Fatal(err)
	}
	resolver := tenants.NewResolver(tenants.Settings{Enabled: true, EnableGlobal: true, EnablePrivate: true, Default: "global"}, tenants.NewRegistry(nil))
	adm, err := admin.New(admin.Options{Store: store, Trail: trail, Policy: engine, Resolver: resolver, Index: svc,
		Defaults: control.DefaultTenancy()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Config: cfg, Auth: v, Policy: engine, Index: svc, Resolver: resolver, Admin: adm, Trail: trail,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	// Four segments: no API route has as many, so these are reached.
	s.app.Get("/test/boom/x/y", func(c *fiber.Ctx) error { panic("boom") })
	s.app.Get("/test/fine/x/y", func(c *fiber.Ctx) error { return c.SendString("fine") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	defer s.Shutdown(time.Second)
	tok, err := auth.Mint(auth.MintOptions{Secret: secret, Subject: "alice", TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string, string) {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header.Get("X-Request-Id")
	}
	status, body, id := get("/test/boom/x/y")
	if status != 500 || !strings.Contains(body, "request id "+id) || strings.Contains(body, "boom") {
		t.Fatalf("panic answered %d %s (id %s)", status, body, id)
	}
	if status, body, _ := get("/test/fine/x/y"); status != 200 || body != "fine" {
		t.Fatalf("after the panic: %d %s", status, body)
	}
}
