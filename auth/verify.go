package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Default claim keys.
const (
	// DefaultSubjectKey is the claim holding the user name.
	DefaultSubjectKey = "sub"
	// DefaultRolesKey is the claim holding the backend roles.
	DefaultRolesKey = "roles"
)

// maxTokenSize bounds the tokens Verify looks at, in bytes.
const maxTokenSize = 32 << 10

// Principal is an authenticated caller.
type Principal struct {
	// Name is the user name: the subject claim of a JWT, the user name of
	// a password sign-in, the owner of an API token.
	Name string
	// BackendRoles are the roles from the roles claim, matched against
	// backend_roles in roles_mapping.yml.
	BackendRoles []string
	// Groups are the groups of a user or service account known to the
	// control store, matched against the groups of role mappings. Verify
	// leaves it empty.
	Groups []string
	// Superadmin is the user's superadmin flag from the control store.
	// Verify leaves it false.
	Superadmin bool
	// Method is how the caller authenticated: MethodJWT, MethodPassword
	// or MethodAPIToken. Verify leaves it empty; the caller sets it.
	Method string
	// TokenID is the id of the API token used when Method is
	// MethodAPIToken, and empty otherwise.
	TokenID string
}

// Authentication methods, the values of Principal.Method.
const (
	// MethodJWT is a bearer JSON Web Token checked by Verify.
	MethodJWT = "jwt"
	// MethodPassword is a user name and password (HTTP Basic or the UI
	// sign-in) checked against the stored bcrypt hash.
	MethodPassword = "password"
	// MethodAPIToken is a bearer API token ("tgat_…") checked against its
	// stored hash.
	MethodAPIToken = "api_token"
)

// clone returns a copy of p that shares no memory with it.
func (p Principal) clone() Principal {
	p.BackendRoles = slices.Clone(p.BackendRoles)
	p.Groups = slices.Clone(p.Groups)
	return p
}

// Options configures a Verifier. The configuration keys named in errors
// are those of tenantgate's config file (auth.jwt.*).
type Options struct {
	// SigningKeys are the keys tokens may be signed with: "base64:<secret>"
	// (standard or URL base64) for HMAC, or a PEM public key ("PUBLIC KEY"
	// or "RSA PUBLIC KEY") or certificate for RSA, ECDSA or Ed25519.
	SigningKeys []string
	// SubjectKey is the claim holding the user name; a dotted path reaches
	// into nested objects. Default "sub".
	SubjectKey string
	// RolesKey is the claim holding the backend roles, an array of strings
	// or a comma-separated string; a dotted path reaches into nested
	// objects ("realm_access.roles"). Default "roles".
	RolesKey string
	// RequiredIssuer, when set, must equal the iss claim.
	RequiredIssuer string
	// RequiredAudience, when set, must share at least one value with the
	// aud claim.
	RequiredAudience []string
	// ClockSkew is the leeway applied to exp, nbf and iat.
	ClockSkew time.Duration
}

// Verifier checks bearer tokens. It is safe for concurrent use.
//
// A Verifier remembers up to 10,000 tokens it has verified, keyed by their
// SHA-256 (never the token itself), so the gateway does not check the
// signature of the same token on every request. A remembered token is
// still checked against the clock on every use (exp, nbf and iat, with the
// configured skew): it stops being accepted the moment it expires.
type Verifier struct {
	subjectKey string
	rolesKey   string
	parser     *jwt.Parser
	required   []string                         // claims the parser requires: exp, and iss/aud when configured
	byAlg      map[string][]jwt.VerificationKey // algorithm → keys, in configuration order
	skew       time.Duration
	now        func() time.Time // time.Now; tests replace it
	cache      *tokenCache      // verified tokens; nil disables caching
}

// NewVerifier checks opts and returns a Verifier. Errors wrap ErrConfig
// and name the configuration key at fault
// ("auth.jwt.signing_keys[1]: not a PEM public key or base64: secret").
func NewVerifier(opts Options) (*Verifier, error) {
	if len(opts.SigningKeys) == 0 {
		return nil, configErrorf("auth.jwt.signing_keys", "at least one key is required")
	}
	if opts.ClockSkew < 0 {
		return nil, configErrorf("auth.jwt.clock_skew", "must not be negative")
	}
	v := &Verifier{
		subjectKey: cmpOr(opts.SubjectKey, DefaultSubjectKey),
		rolesKey:   cmpOr(opts.RolesKey, DefaultRolesKey),
		byAlg:      map[string][]jwt.VerificationKey{},
		required:   []string{"exp"},
		skew:       opts.ClockSkew,
		now:        time.Now,
		cache:      newTokenCache(verifiedCacheSize),
	}
	if err := checkClaimPath("auth.jwt.subject_key", v.subjectKey); err != nil {
		return nil, err
	}
	if err := checkClaimPath("auth.jwt.roles_key", v.rolesKey); err != nil {
		return nil, err
	}
	for i, s := range opts.SigningKeys {
		k, err := parseKey(fmt.Sprintf("auth.jwt.signing_keys[%d]", i), s)
		if err != nil {
			return nil, err
		}
		for _, alg := range k.algs {
			v.byAlg[alg] = append(v.byAlg[alg], k.material)
		}
	}
	methods := make([]string, 0, len(v.byAlg))
	for alg := range v.byAlg {
		methods = append(methods, alg)
	}
	slices.Sort(methods)
	popts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(opts.ClockSkew),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	}
	if opts.RequiredIssuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.RequiredIssuer))
		v.required = append(v.required, "iss")
	}
	if len(opts.RequiredAudience) > 0 {
		// Any one of the audiences suffices (jwt v5.3 semantics).
		popts = append(popts, jwt.WithAudience(opts.RequiredAudience...))
		v.required = append(v.required, "aud")
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func checkClaimPath(key, path string) error {
	if slices.Contains(strings.Split(path, "."), "") {
		return configErrorf(key, "claim path %q has an empty segment", path)
	}
	return nil
}

// knownAlgs are the JWS algorithm names an error message may repeat; any
// other alg header is reported without its value.
var knownAlgs = []string{
	"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}

// Verify checks token (without the "Bearer " prefix) and returns the
// principal it names. Errors wrap ErrUnauthenticated with a reason safe to
// show the client. A token verified before is answered from the cache
// after checking its times again.
func (v *Verifier) Verify(token string) (Principal, error) {
	if token == "" {
		return Principal{}, deny("missing token")
	}
	if len(token) > maxTokenSize {
		return Principal{}, deny("token too large")
	}
	if v.cache == nil {
		e, err := v.check(token)
		return e.principal, err
	}
	key := sumToken(token)
	if e, ok := v.cache.get(&key); ok {
		if e.validAt(v.now(), v.skew) {
			return e.principal.clone(), nil
		}
		// Expired, or not yet valid by this clock: forget it and let the
		// full check give the exact reason.
		v.cache.remove(&key)
	}
	e, err := v.check(token)
	if err != nil {
		return Principal{}, err
	}
	v.cache.put(&key, e)
	return e.principal.clone(), nil
}

// check verifies token in full and returns its principal and the times a
// cache hit must check again.
func (v *Verifier) check(token string) (verified, error) {
	alg, ok := headerAlg(token)
	if !ok {
		return verified{}, deny("token is malformed")
	}
	if _, ok := v.byAlg[alg]; !ok {
		if slices.Contains(knownAlgs, alg) {
			return verified{}, deny(fmt.Sprintf("algorithm %s is not allowed by the configured keys", alg))
		}
		return verified{}, deny("token algorithm is not supported")
	}
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		keys := v.byAlg[t.Method.Alg()]
		if len(keys) == 0 { // unreachable: WithValidMethods checked it
			return nil, errors.New("no key for algorithm")
		}
		return jwt.VerificationKeySet{Keys: keys}, nil
	})
	if err != nil {
		return verified{}, deny(v.reason(err, claims))
	}
	p, err := v.principal(claims)
	if err != nil {
		return verified{}, err
	}
	e := verified{principal: p}
	// The parser has validated these claims, so they are well-formed.
	if exp, _ := claims.GetExpirationTime(); exp != nil {
		e.exp = exp.Time
	}
	if nbf, _ := claims.GetNotBefore(); nbf != nil {
		e.nbf = nbf.Time
	}
	if iat, _ := claims.GetIssuedAt(); iat != nil {
		e.iat = iat.Time
	}
	return e, nil
}

// headerAlg returns the alg of the token's JOSE header.
func headerAlg(token string) (string, bool) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", false
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", false
	}
	return h.Alg, true
}

// reason turns a jwt error into a short client-safe reason. The jwt
// library's messages are not passed through, so nothing from the token can
// leak into them.
func (v *Verifier) reason(err error, claims jwt.MapClaims) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token is malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "signature is invalid"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token could not be verified"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		for _, c := range v.required {
			if claims[c] == nil {
				return "missing required claim [" + c + "]"
			}
		}
		return "missing required claim"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token is not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token is issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token issuer is not accepted"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token audience is not accepted"
	}
	return "token claims are invalid"
}

// principal extracts the user name and backend roles from verified claims.
func (v *Verifier) principal(claims jwt.MapClaims) (Principal, error) {
	raw, _ := lookupClaim(claims, v.subjectKey)
	if raw == nil {
		return Principal{}, deny("missing subject claim [" + v.subjectKey + "]")
	}
	name, isString := raw.(string)
	if !isString {
		return Principal{}, deny("subject claim [" + v.subjectKey + "] is not a string")
	}
	if problem := subjectProblem(name); problem != "" {
		return Principal{}, deny("subject claim [" + v.subjectKey + "] " + problem)
	}
	rolesRaw, _ := lookupClaim(claims, v.rolesKey)
	roles, err := parseRoles(rolesRaw)
	if err != "" {
		return Principal{}, deny("roles claim [" + v.rolesKey + "] " + err)
	}
	return Principal{Name: name, BackendRoles: roles}, nil
}

// lookupClaim finds a claim by its full name first ("https://x/roles"),
// then as a dotted path into nested objects ("realm_access.roles").
func lookupClaim(claims map[string]any, path string) (any, bool) {
	if v, ok := claims[path]; ok {
		return v, true
	}
	var cur any = claims
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// parseRoles accepts nothing, an array of strings or a comma-separated
// string; names are trimmed and empty ones dropped. It returns why the
// claim is refused, or "": a role name containing a control character
// refuses the whole token rather than being dropped or cleaned.
func parseRoles(raw any) ([]string, string) {
	const wrongType = "must be a string or an array of strings"
	var names []string
	switch r := raw.(type) {
	case nil:
	case string:
		names = strings.Split(r, ",")
	case []any:
		names = make([]string, 0, len(r))
		for _, e := range r {
			s, ok := e.(string)
			if !ok {
				return nil, wrongType
			}
			names = append(names, s)
		}
	default:
		return nil, wrongType
	}
	var out []string
	for _, s := range names {
		if hasControl(s) {
			return nil, "contains a control character"
		}
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, ""
}

// BearerToken returns the token of an Authorization header of the form
// "Bearer <token>" (scheme case-insensitive), and false for anything else.
func BearerToken(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
