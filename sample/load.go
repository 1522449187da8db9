package sample

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// DefaultBatchSize is how many documents one _bulk request carries.
const DefaultBatchSize = 500

// Client loads sets into one tenant of a running gateway over HTTP.
type Client struct {
	// Server is the gateway's base URL (http://127.0.0.1:5601).
	Server string
	// Token is the bearer token; Tenant goes in the securitytenant header.
	Token  string
	Tenant string
	// HTTP is the client to use (default http.DefaultClient).
	HTTP *http.Client
	// BatchSize is the number of documents per _bulk request.
	BatchSize int
}

// Result says what Load did.
type Result struct {
	Set      string
	Index    string
	Template string
	// Docs is the number of documents indexed.
	Docs int
	// Objects is the number of saved objects imported.
	Objects int
	// DashboardURL opens the set's dashboard in the tenant.
	DashboardURL string
}

// Load creates the set's index template, indexes its documents in
// batches and imports its saved objects (overwriting earlier copies).
// When the gateway has no import endpoint, the result holds the
// documents and the error wraps ErrImportUnavailable.
func (c *Client) Load(ctx context.Context, s *Set) (*Result, error) {
	res := &Result{Set: s.Name, Index: s.Index, Template: s.TemplateName,
		DashboardURL: fmt.Sprintf("/app/dashboards/view/%s?security_tenant=%s", url.PathEscape(s.DashboardID), url.QueryEscape(c.Tenant))}
	if _, err := c.do(ctx, http.MethodPut, "/_index_template/"+url.PathEscape(s.TemplateName), "application/json", s.Template, nil); err != nil {
		return res, err
	}
	batch := c.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	for start := 0; start < len(s.Docs); start += batch {
		end := min(start+batch, len(s.Docs))
		n, err := c.bulk(ctx, s, start, end)
		res.Docs += n
		if err != nil {
			return res, err
		}
	}
	n, err := c.importObjects(ctx, s)
	res.Objects = n
	return res, err
}

func (c *Client) bulk(ctx context.Context, s *Set, start, end int) (int, error) {
	var b bytes.Buffer
	for i := start; i < end; i++ {
		action, err := json.Marshal(map[string]any{"index": map[string]string{"_index": s.Index, "_id": s.IDs[i]}})
		if err != nil {
			return 0, err
		}
		b.Write(action)
		b.WriteByte('\n')
		b.Write(bytes.TrimSpace(s.Docs[i]))
		b.WriteByte('\n')
	}
	var out struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int             `json:"status"`
			ID     string          `json:"_id"`
			Error  json.RawMessage `json:"error"`
		} `json:"items"`
	}
	if _, err := c.do(ctx, http.MethodPost, "/_bulk?refresh=true", "application/x-ndjson", b.Bytes(), &out); err != nil {
		return 0, err
	}
	ok := 0
	var first string
	for _, item := range out.Items {
		for _, r := range item {
			if r.Status < 300 {
				ok++
			} else if first == "" {
				first = fmt.Sprintf("document %s: %s", r.ID, r.Error)
			}
		}
	}
	if out.Errors || ok != end-start {
		return ok, fmt.Errorf("%w: POST /_bulk: %d of %d documents failed, first: %s", ErrServer, end-start-ok, end-start, first)
	}
	return ok, nil
}

// importResult is the answer of POST /api/saved_objects/_import.
type importResult struct {
	Success      bool `json:"success"`
	SuccessCount int  `json:"successCount"`
	Errors       []struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
	} `json:"errors"`
}

func (c *Client) importObjects(ctx context.Context, s *Set) (int, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", s.Name+".ndjson")
	if err != nil {
		return 0, err
	}
	if _, err := fw.Write(s.Objects); err != nil {
		return 0, err
	}
	if err := mw.Close(); err != nil {
		return 0, err
	}
	var out importResult
	status, err := c.do(ctx, http.MethodPost, "/api/saved_objects/_import?overwrite=true", mw.FormDataContentType(), body.Bytes(), &out)
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		return 0, fmt.Errorf("%w (POST /api/saved_objects/_import answered %d): the documents are loaded, the dashboard is not", ErrImportUnavailable, status)
	}
	if err != nil {
		return 0, err
	}
	if !out.Success {
		var errs []string
		for _, e := range out.Errors {
			errs = append(errs, fmt.Sprintf("%s %s: %s", e.Type, e.ID, e.Error.Type))
		}
		return out.SuccessCount, fmt.Errorf("%w: importing saved objects: %d imported, failed: %s", ErrServer, out.SuccessCount, strings.Join(errs, "; "))
	}
	return out.SuccessCount, nil
}

// do sends one request and decodes a JSON answer into out. A status of
// 300 or more is an error naming the call and OpenSearch's reason.
func (c *Client) do(ctx context.Context, method, path, contentType string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.Server, "/")+path, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("osd-xsrf", "true")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Tenant != "" {
		req.Header.Set("securitytenant", c.Tenant)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%w: %s %s: %d %s", ErrServer, method, path, resp.StatusCode, reason(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%w: %s %s: the answer is not the expected JSON: %v", ErrServer, method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// reason extracts the error reason of an OpenSearch or OpenSearch
// Dashboards error body, or returns the body's start.
func reason(raw []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(raw, &e) == nil {
		var os struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(e.Error, &os) == nil && os.Reason != "" {
			return os.Type + ": " + os.Reason
		}
		if e.Message != "" {
			return e.Message
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
