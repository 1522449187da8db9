// Package auth authenticates requests: JSON Web Tokens, API tokens and
// passwords.
//
// The gateway builds one Verifier from the configuration and calls Verify
// with the bearer token of each request:
//
//	v, err := auth.NewVerifier(auth.Options{SigningKeys: cfg.SigningKeys})
//	...
//	tok, ok := auth.BearerToken(c.Get("Authorization"))
//	p, err := v.Verify(tok) // p.Name, p.BackendRoles
//
// A signing key is either "base64:<secret>" for HMAC (HS256, HS384,
// HS512) or a PEM public key or certificate: RSA (RS256/384/512 and
// PS256/384/512), ECDSA (ES256, ES384 or ES512, following the curve) or
// Ed25519 (EdDSA). A token is accepted only if its algorithm belongs to a
// configured key ("none" never does) and one of those keys verifies it, so
// an RSA public key can never be misused as an HMAC secret. exp is
// required; nbf and iat are checked with Options.ClockSkew of leeway; iss
// and aud are checked when configured.
//
// The user name comes from the claim named by Options.SubjectKey ("sub")
// and the backend roles from Options.RolesKey ("roles"); both may be
// dotted paths into nested claims ("realm_access.roles"). Roles may be a
// JSON array of strings or one comma-separated string.
//
// Identities are taken exactly as signed, never normalised: a subject that
// is empty, longer than MaxSubjectBytes, contains a control character
// (NUL included) or has leading or trailing whitespace is refused, as is a
// token with a role name containing a control character. Otherwise
// " admin" would become "admin".
//
// A Verifier remembers the last 10,000 or so tokens it verified, keyed by
// their SHA-256 (the token itself is never stored), with the principal and
// the token's exp, nbf and iat. A token seen again skips the signature
// check but not the clock: it is refused as soon as it expires, with the
// same skew as a full check. Only tokens that passed every check are
// remembered, so invalid tokens cannot crowd out valid ones.
//
// Verify's errors wrap ErrUnauthenticated with a reason fit for the client
// ("token expired"); they never echo the token. Mint issues HMAC tokens for
// the "tenantgate token" command and for tests.
//
// # API tokens
//
// An API token is "tgat_<id>_<secret>": a 12-character lowercase base32
// id and 32 random bytes in unpadded base64url. NewAPIToken returns the
// token, to show its owner once, with what is stored instead: the id, a
// displayable prefix ("tgat_<id>") and the token's SHA-256. A bearer
// token for which ParseAPIToken returns true is an API token (a JWT never
// has that shape); the gateway looks its id up and calls TokenMatches,
// which compares hashes in constant time, then checks expiry itself:
//
//	if id, ok := auth.ParseAPIToken(tok); ok {
//		rec, err := store.Token(id) // rec.Hash, rec.Expires
//		if err != nil || !auth.TokenMatches(rec.Hash, tok) || expired(rec) { ... 401 }
//	}
//
// ParseMaxAge reads a token lifetime as a Go duration ("1h") or an
// ISO-8601 one ("PT1H", "P1D", "P2W"), between a nanosecond and
// MaxTokenAge (ten years); years and months are refused because their
// length varies. Errors wrap ErrInvalidMaxAge.
//
// # Passwords
//
// HashPassword makes a bcrypt hash (8 to 72 bytes; errors wrap
// ErrInvalidPassword) and CheckPassword checks one. BasicCredentials reads
// an HTTP Basic header. Sign-in looks the user up and, when there is no
// user or no password hash, calls DummyCheck so that the failure takes as
// long as a wrong password. A PasswordCache in front of CheckPassword
// makes HTTP Basic on every request cost one bcrypt per user and TTL:
//
//	user, pw, ok := auth.BasicCredentials(c.Get("Authorization"))
//	u, err := store.User(user)
//	if err != nil || u.PasswordHash == "" {
//		auth.DummyCheck(pw) // then 401
//	} else if !cache.Check(user, pw, u.PasswordHash) { ... 401 }
//
// The cache keeps an HMAC of user name, password and stored hash, never
// the password, so a changed password misses at once.
//
// Verify fills a Principal's Name and BackendRoles; the caller adds what
// the control store knows (Groups, Superadmin) and how the caller signed
// in (Method, TokenID).
package auth
