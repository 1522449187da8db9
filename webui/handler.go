package webui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Prefix is the URL path under which the UI is served.
const Prefix = "/app"

// Handler serves the UI: the build when it was embedded, the placeholder
// otherwise.
func Handler() http.Handler {
	return newHandler(dist)
}

// Built reports whether the embedded files hold a real build of the UI
// rather than the placeholder.
func Built() bool {
	_, err := fs.Stat(dist, "dist/build/index.html")
	return err == nil
}

type handler struct {
	files fs.FS // root of the build (or of the placeholder)
	index []byte
}

func newHandler(fsys fs.FS) *handler {
	root := "dist/placeholder"
	if _, err := fs.Stat(fsys, "dist/build/index.html"); err == nil {
		root = "dist/build"
	}
	sub, err := fs.Sub(fsys, root)
	if err != nil {
		panic("webui: embedded files: " + err.Error()) // fs.Sub only fails on an invalid path literal
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		panic("webui: embedded index.html: " + err.Error())
	}
	return &handler{files: sub, index: index}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, Prefix) || (len(p) > len(Prefix) && p[len(Prefix)] != '/') {
		http.NotFound(w, r)
		return
	}
	rest := strings.TrimPrefix(p, Prefix)
	setSecurityHeaders(w.Header())
	switch {
	case rest == "" || rest == "/":
		target := Prefix + "/dashboards"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	case strings.HasPrefix(rest, "/assets/"):
		h.serveAsset(w, r, strings.TrimPrefix(rest, "/"))
	default:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(h.index)
		}
	}
}

// serveAsset serves one file under assets/. Vite names them by content
// hash, so they may be cached for good.
func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean(name)
	if !strings.HasPrefix(name, "assets/") || !fs.ValidPath(name) {
		http.NotFound(w, r)
		return
	}
	data, err := fs.ReadFile(h.files, name)
	if err != nil {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", contentType(name))
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(data)
	}
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".woff2":
		return "font/woff2"
	case ".json", ".map":
		return "application/json"
	default:
		return "application/octet-stream"
	}
}

// setSecurityHeaders keeps the UI to its own origin: scripts only from
// /app/assets, API calls only to the gateway, no framing. Styles may be
// inline because ECharts sets them on its elements.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
}
