package webui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	built := fstest.MapFS{
		"dist/placeholder/index.html":  {Data: []byte("UI not built")},
		"dist/build/index.html":        {Data: []byte("<html>app</html>")},
		"dist/build/assets/index-1.js": {Data: []byte("console.log(1)")},
	}
	placeholder := fstest.MapFS{"dist/placeholder/index.html": {Data: []byte("UI not built")}}
	tests := []struct {
		name, method, path string
		fsys               fstest.MapFS
		status             int
		body, location     string
		cache, ctype       string
	}{
		{"redirect", "GET", "/app", built, 302, "", "/app/dashboards", "", ""},
		{"redirect keeps query", "GET", "/app/?security_tenant=analysts", built, 302, "", "/app/dashboards?security_tenant=analysts", "", ""},
		{"spa route", "GET", "/app/dashboards/view/x", built, 200, "<html>app</html>", "", "no-cache", "text/html; charset=utf-8"},
		{"asset", "GET", "/app/assets/index-1.js", built, 200, "console.log(1)", "", "public, max-age=31536000, immutable", "text/javascript; charset=utf-8"},
		{"missing asset", "GET", "/app/assets/nope.js", built, 404, "", "", "no-store", ""},
		{"traversal", "GET", "/app/assets/../../go.mod", built, 404, "", "", "", ""},
		{"head", "HEAD", "/app/dashboards", built, 200, "", "", "no-cache", ""},
		{"post refused", "POST", "/app/dashboards", built, 405, "", "", "", ""},
		{"other prefix", "GET", "/application", built, 404, "", "", "", ""},
		{"placeholder", "GET", "/app/dashboards", placeholder, 200, "UI not built", "", "no-cache", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			newHandler(tc.fsys).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status = %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.body != "" && !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body = %q, want it to contain %q", rec.Body, tc.body)
			}
			if got := rec.Header().Get("Location"); got != tc.location {
				t.Errorf("Location = %q, want %q", got, tc.location)
			}
			if tc.cache != "" && rec.Header().Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", rec.Header().Get("Cache-Control"), tc.cache)
			}
			if tc.ctype != "" && rec.Header().Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", rec.Header().Get("Content-Type"), tc.ctype)
			}
			if tc.status == http.StatusOK && rec.Header().Get("Content-Security-Policy") == "" {
				t.Error("no Content-Security-Policy")
			}
		})
	}
}

func TestEmbeddedIndex(t *testing.T) {
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/app/dashboards", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
		t.Fatalf("embedded index: status %d, %d bytes", rec.Code, rec.Body.Len())
	}
}
