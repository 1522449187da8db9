// Package webui serves tenantgate's web UI under /app: a single-page
// application (webui/app, built with Vite) embedded in the binary.
//
// The embedded directory is webui/dist. A clean clone holds only
// dist/placeholder/index.html, a page saying the UI is not built, so that
// go build, go vet and go test work without npm. `make ui` builds the
// front-end into dist/build (ignored by git); when dist/build/index.html is
// in the embedded files, Handler serves it, otherwise the placeholder.
//
// Routes (all GET/HEAD, none authenticated: the UI is static, every API call
// it makes carries the user's bearer token):
//
//	/app, /app/        302 to /app/dashboards (query string kept)
//	/app/assets/...    the build's hashed assets, cached for a year
//	/app/...           index.html (client-side routing), never cached
package webui
