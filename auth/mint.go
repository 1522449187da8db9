package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultTTL is the lifetime of a minted token when MintOptions.TTL is 0.
const DefaultTTL = time.Hour

// MintOptions describes a token for Mint.
type MintOptions struct {
	// Secret is the HMAC secret (see HMACSecret).
	Secret []byte
	// Alg is HS256 (the default), HS384 or HS512.
	Alg string
	// Subject is the user name; required, and refused when Verify would
	// refuse it (see MaxSubjectBytes).
	Subject string
	// Roles are the backend roles, written as a JSON array.
	Roles []string
	// TTL is the token lifetime; 0 means DefaultTTL.
	TTL time.Duration
	// Issuer and Audience, when set, become the iss and aud claims.
	Issuer   string
	Audience []string
	// SubjectKey and RolesKey name the claims as in Options (dotted paths
	// create nested objects); defaults "sub" and "roles".
	SubjectKey string
	RolesKey   string
	// IssuedAt is the iat claim; zero means now. exp is IssuedAt + TTL.
	IssuedAt time.Time
}

// Mint returns a signed HMAC token for o, for the "tenantgate token"
// command and for tests.
func Mint(o MintOptions) (string, error) {
	var method jwt.SigningMethod
	switch cmpOr(o.Alg, "HS256") {
	case "HS256":
		method = jwt.SigningMethodHS256
	case "HS384":
		method = jwt.SigningMethodHS384
	case "HS512":
		method = jwt.SigningMethodHS512
	default:
		return "", fmt.Errorf("minting: algorithm %q is not HS256, HS384 or HS512", o.Alg)
	}
	if len(o.Secret) < minHMACSecret {
		return "", fmt.Errorf("minting: HMAC secret is %d bytes; at least %d are required", len(o.Secret), minHMACSecret)
	}
	if o.Subject == "" {
		return "", errors.New("minting: subject is required")
	}
	if problem := subjectProblem(o.Subject); problem != "" {
		return "", errors.New("minting: subject " + problem)
	}
	for _, r := range o.Roles {
		if hasControl(r) {
			return "", errors.New("minting: a role name contains a control character")
		}
	}
	if o.TTL < 0 {
		return "", errors.New("minting: ttl must not be negative")
	}
	ttl := o.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	iat := o.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	claims := jwt.MapClaims{
		"iat": iat.Unix(),
		"exp": iat.Add(ttl).Unix(),
	}
	if o.Issuer != "" {
		claims["iss"] = o.Issuer
	}
	if len(o.Audience) > 0 {
		claims["aud"] = o.Audience
	}
	if err := setClaim(claims, cmpOr(o.SubjectKey, DefaultSubjectKey), o.Subject); err != nil {
		return "", err
	}
	roles := o.Roles
	if roles == nil {
		roles = []string{}
	}
	if err := setClaim(claims, cmpOr(o.RolesKey, DefaultRolesKey), roles); err != nil {
		return "", err
	}
	return jwt.NewWithClaims(method, claims).SignedString(o.Secret)
}

// setClaim sets a claim at a dotted path, creating nested objects.
func setClaim(claims map[string]any, path string, value any) error {
	parts := strings.Split(path, ".")
	m := claims
	for i, p := range parts {
		if p == "" {
			return fmt.Errorf("minting: claim path %q has an empty segment", path)
		}
		if i == len(parts)-1 {
			if _, taken := m[p]; taken {
				return fmt.Errorf("minting: claim %q is set twice", path)
			}
			m[p] = value
			return nil
		}
		next, ok := m[p].(map[string]any)
		if !ok {
			if _, taken := m[p]; taken {
				return fmt.Errorf("minting: claim path %q crosses a non-object claim", path)
			}
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	return nil
}
