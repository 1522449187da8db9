package dashboards

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/tenants"
)

// ShortURLs creates and resolves short links. It writes nothing but
// objects of type url, which is why the gateway lets read-only members
// of a tenant use it while every other write needs write access.
type ShortURLs struct{ c *Client }

// NewShortURLs returns the short links of one tenant's system view.
func NewShortURLs(store Store) *ShortURLs { return &ShortURLs{c: New(store)} }

// CheckShortURLTarget accepts only relative links into the application:
// a path starting with "/app/", without scheme, host, backslash or
// control characters, so that a short link can never lead off the site.
func CheckShortURLTarget(target string) error {
	bad := invalidf("[request body.url]: must be a relative URL starting with /app/, got [%s]", target)
	if !strings.HasPrefix(target, "/app/") || strings.HasPrefix(target, "//") || len(target) > 8192 {
		return bad
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f || r == '\\' || r == ' ' {
			return bad
		}
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return bad
	}
	return nil
}

// Shorten stores target as a url object and returns its id: the MD5 of
// the target in hex, as OpenSearch Dashboards makes it, so shortening
// the same link twice gives the same id.
func (s *ShortURLs) Shorten(ctx context.Context, target string) (string, error) {
	if err := CheckShortURLTarget(target); err != nil {
		return "", err
	}
	sum := md5.Sum([]byte(target))
	id := hex.EncodeToString(sum[:])
	now := s.c.now().UnixMilli()
	attrs, err := json.Marshal(map[string]any{"url": target, "accessCount": 0, "accessDate": now, "createDate": now})
	if err != nil {
		return "", err
	}
	_, err = s.c.Create(ctx, CreateInput{Type: TypeURL, ID: id, Attributes: attrs}, false)
	if errors.Is(err, ErrConflict) {
		return id, nil
	}
	return id, err
}

// Resolve returns the stored target of short link id and counts the
// access (accessCount, accessDate).
func (s *ShortURLs) Resolve(ctx context.Context, id string) (string, error) {
	o, err := s.c.Get(ctx, TypeURL, id)
	if err != nil {
		return "", err
	}
	var a struct {
		URL         string `json:"url"`
		AccessCount int64  `json:"accessCount"`
	}
	if err := json.Unmarshal(o.Attributes, &a); err != nil {
		return "", err
	}
	if err := CheckShortURLTarget(a.URL); err != nil {
		return "", err
	}
	patch, _ := json.Marshal(map[string]any{TypeURL: map[string]any{"accessCount": a.AccessCount + 1, "accessDate": s.c.now().UnixMilli()}})
	if _, err := s.c.store.Apply(ctx, IndexName, []index.Op{{Type: index.OpUpdate, ID: docID(TypeURL, id), Source: patch}}); err != nil {
		return "", err
	}
	return a.URL, nil
}

// TenantParam is the value of security_tenant that names t in links:
// "global", "private" or the custom tenant's id.
func TenantParam(t tenants.Ref) string {
	switch t.Kind {
	case tenants.KindGlobal:
		return "global"
	case tenants.KindPrivate:
		return "private"
	}
	return t.ID
}

// WithTenant returns target with security_tenant=tenant in its query
// (before any #fragment), replacing a security_tenant it had and keeping
// every other parameter as it was.
func WithTenant(target, tenant string) string {
	frag := ""
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target, frag = target[:i], target[i:]
	}
	path, query, _ := strings.Cut(target, "?")
	var keep []string
	for _, kv := range strings.Split(query, "&") {
		if kv == "" {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		if uk, err := url.QueryUnescape(k); err == nil && uk == "security_tenant" {
			continue
		}
		keep = append(keep, kv)
	}
	keep = append(keep, "security_tenant="+url.QueryEscape(tenant))
	return path + "?" + strings.Join(keep, "&") + frag
}
