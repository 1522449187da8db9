// Package testserver starts a real tenantgate on loopback for tests and
// benchmarks: real configuration, real security files (the example set in
// config/security), real Bleve indices in a temporary directory.
package testserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/index/bleve"
	"github.com/tenantgate/tenantgate/instance"
)

// Secret is the HMAC key of test servers.
var Secret = []byte("tenantgate-test-secret-0123456789abcdef")

// Server is a running tenantgate.
type Server struct {
	URL     string
	Config  config.Config
	Inst    *instance.Instance
	Client  *http.Client
	t       testing.TB
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// RepoRoot returns the repository root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Config returns a test configuration over dataDir with the shipped
// security files.
func Config(dataDir string) config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dataDir
	cfg.SecurityDir = filepath.Join(RepoRoot(), "config", "security")
	cfg.Auth.JWT.SigningKeys = []string{"base64:" + base64.StdEncoding.EncodeToString(Secret)}
	cfg.Server.ShutdownTimeout = 5 * time.Second
	return cfg
}

// Start starts a server on a fresh temporary data directory.
func Start(t testing.TB, mutate ...func(*config.Config)) *Server {
	t.Helper()
	cfg := Config(t.TempDir())
	for _, m := range mutate {
		m(&cfg)
	}
	return StartConfig(t, cfg)
}

// StartConfig starts a server with cfg; it stops when the test ends.
func StartConfig(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	return StartWith(t, cfg, instance.Options{})
}

// StartWith starts a server with cfg and instance hooks (an injectable
// clock, a wrapped audit appender); it stops when the test ends.
func StartWith(t testing.TB, cfg config.Config, opts instance.Options) *Server {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TENANTGATE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := instance.OpenWith(ctx, cfg, log, opts)
	if err != nil {
		cancel()
		t.Fatalf("opening instance: %v", err)
	}
	s := &Server{Config: cfg, Inst: inst, t: t, cancel: cancel, done: make(chan error, 1),
		Client: &http.Client{Timeout: 30 * time.Second}}
	ready := make(chan net.Addr, 1)
	go func() { s.done <- inst.Run(ctx, func(a net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		s.URL = "http://" + a.String()
	case err := <-s.done:
		cancel()
		inst.Close()
		t.Fatalf("server did not start: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Stop drains and stops the server and closes its indices. It is safe to
// call twice.
func (s *Server) Stop() {
	if s.stopped {
		return
	}
	s.stopped = true
	// Close the client's idle connections first: among them may be one
	// dialed for a request that another connection served, on which no
	// request was ever sent. The server does not count such a connection
	// as idle, so a graceful shutdown would wait for it until its
	// deadline ("context deadline exceeded" after many parallel
	// requests).
	s.Client.CloseIdleConnections()
	s.cancel()
	if err := <-s.done; err != nil {
		s.t.Errorf("server stopped with error: %v", err)
	}
	if err := s.Inst.Close(); err != nil {
		s.t.Errorf("closing instance: %v", err)
	}
	s.Client.CloseIdleConnections()
}

// Token mints a valid token for sub with backend roles.
func Token(t testing.TB, sub string, roles ...string) string {
	t.Helper()
	tok, err := auth.Mint(auth.MintOptions{Secret: Secret, Subject: sub, Roles: roles, TTL: time.Hour})
	if err != nil {
		t.Fatalf("minting token: %v", err)
	}
	return tok
}

// Response is a decoded HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Do sends a request. token may be empty; tenant, when not empty, goes in
// the securitytenant header. body may be a string, []byte or any value to
// encode as JSON.
func (s *Server) Do(t testing.TB, method, path, token, tenant string, body any, headers ...string) *Response {
	t.Helper()
	var rd io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
		if strings.Contains(path, "_bulk") || strings.Contains(path, "_msearch") {
			ct = "application/x-ndjson"
		}
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if tenant != "" {
		req.Header.Set("securitytenant", tenant)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// OSDFixtures returns ../shared/fixtures/osd-exports beside the
// repository: real OpenSearch Dashboards exports and the nginx sample.
// Without it a test skips, except under CI (CI set), where ../shared is
// always present and its absence must fail rather than hide the tests.
func OSDFixtures(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(RepoRoot(), "..", "shared", "fixtures", "osd-exports")
	if _, err := os.Stat(filepath.Join(dir, "nginx-sample", "sample.json")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("OpenSearch Dashboards fixtures missing under CI: %v", err)
		}
		t.Skipf("no OpenSearch Dashboards fixtures (CI has them): %v", err)
	}
	return dir
}

// Clock is a settable clock for instance.Options.Clock: tests move time
// forward (token expiry, tenant retention) without sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock reading start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Basic returns the headers argument of Do for HTTP Basic credentials.
func Basic(user, password string) []string {
	return []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))}
}

// OpenIndices opens a real Bleve back-end and catalog in dir (a temporary
// directory when dir is empty), for store tests that need indices but no
// server. They close when the test ends.
func OpenIndices(t testing.TB, dir string) *index.Service {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	b, err := bleve.New(filepath.Join(dir, "indices"), bleve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := index.OpenCatalog(filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := index.NewService(context.Background(), b, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		c.Close()
	})
	return s
}
