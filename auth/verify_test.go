package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testKeys are generated once per test binary.
type testKeys struct {
	secret, otherSecret []byte
	rsa, otherRSA       *rsa.PrivateKey
	ec256, ec384        *ecdsa.PrivateKey
	ed                  ed25519.PrivateKey
}

var keysOnce = sync.OnceValues(func() (*testKeys, error) {
	k := &testKeys{secret: make([]byte, 32), otherSecret: make([]byte, 64)}
	rand.Read(k.secret)
	rand.Read(k.otherSecret)
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return nil, err
	}
	if k.ec256, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		return nil, err
	}
	if k.ec384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		return nil, err
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return nil, err
	}
	return k, nil
})

func keys(t testing.TB) *testKeys {
	t.Helper()
	k, err := keysOnce()
	if err != nil {
		t.Fatalf("generating keys: %v", err)
	}
	return k
}

// pemPublic returns the PKIX PEM of a public key.
func pemPublic(t testing.TB, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func pemCert(t *testing.T, priv *ecdsa.PrivateKey) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "issuer"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func secretKey(b []byte) string { return "base64:" + base64.StdEncoding.EncodeToString(b) }

func sign(t *testing.T, m jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, claims).SignedString(key)
	if err != nil {
		t.Fatalf("signing %s: %v", m.Alg(), err)
	}
	return s
}

// unsigned crafts a token with the given header by hand.
func unsigned(t *testing.T, header map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// claims returns valid claims for alice, changed by mods.
func claims(mods ...func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub":   "alice",
		"roles": []string{"analyst", "reader"},
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	}
	for _, m := range mods {
		m(c)
	}
	return c
}

func set(k string, v any) func(jwt.MapClaims) { return func(c jwt.MapClaims) { c[k] = v } }
func del(k string) func(jwt.MapClaims)        { return func(c jwt.MapClaims) { delete(c, k) } }
func in(d time.Duration) int64                { return time.Now().Add(d).Unix() }

func TestVerify(t *testing.T) {
	k := keys(t)
	rsaPEM := pemPublic(t, &k.rsa.PublicKey)
	hmacOnly := Options{SigningKeys: []string{secretKey(k.secret)}}
	rsaOnly := Options{SigningKeys: []string{rsaPEM}}
	tests := []struct {
		name      string
		opts      Options
		token     func(t *testing.T) string
		wantErr   string // substring of the error; "" for success
		wantName  string
		wantRoles []string
	}{
		{name: "HS256", opts: hmacOnly, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims()) }},
		{name: "HS384", opts: hmacOnly, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodHS384, k.secret, claims()) }},
		{name: "HS512", opts: hmacOnly, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodHS512, k.secret, claims()) }},
		{name: "RS256", opts: rsaOnly, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodRS256, k.rsa, claims()) }},
		{name: "PS256", opts: rsaOnly, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodPS256, k.rsa, claims()) }},
		{
			name:  "RS512 with PKCS1 key",
			opts:  Options{SigningKeys: []string{string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))}},
			token: func(t *testing.T) string { return sign(t, jwt.SigningMethodRS512, k.rsa, claims()) },
		},
		{name: "ES256", opts: Options{SigningKeys: []string{pemPublic(t, &k.ec256.PublicKey)}}, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodES256, k.ec256, claims()) }},
		{name: "ES384 from certificate", opts: Options{SigningKeys: []string{pemCert(t, k.ec384)}}, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodES384, k.ec384, claims()) }},
		{
			name:    "ES384 token for a P-256 key",
			opts:    Options{SigningKeys: []string{pemPublic(t, &k.ec256.PublicKey)}},
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodES384, k.ec384, claims()) },
			wantErr: "algorithm ES384 is not allowed by the configured keys",
		},
		{name: "EdDSA", opts: Options{SigningKeys: []string{pemPublic(t, k.ed.Public())}}, token: func(t *testing.T) string { return sign(t, jwt.SigningMethodEdDSA, k.ed, claims()) }},
		{
			name:  "second key verifies",
			opts:  Options{SigningKeys: []string{secretKey(k.otherSecret), rsaPEM, secretKey(k.secret)}},
			token: func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims()) },
		},
		{
			name: "alg none",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return unsigned(t, map[string]any{"alg": "none", "typ": "JWT"}, claims(), "")
			},
			wantErr: "algorithm none is not allowed by the configured keys",
		},
		{
			name:    "alg None spelled oddly",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return unsigned(t, map[string]any{"alg": "nOnE"}, claims(), "") },
			wantErr: "token algorithm is not supported",
		},
		{
			name:    "HS256 with only an RSA key",
			opts:    rsaOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims()) },
			wantErr: "algorithm HS256 is not allowed by the configured keys",
		},
		{
			name:    "RSA public key used as HMAC secret",
			opts:    rsaOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims()) },
			wantErr: "algorithm HS256 is not allowed by the configured keys",
		},
		{
			name:    "RSA public key used as HMAC secret with an HMAC key configured too",
			opts:    Options{SigningKeys: []string{rsaPEM, secretKey(k.secret)}},
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, []byte(rsaPEM), claims()) },
			wantErr: "signature is invalid",
		},
		{
			name:    "wrong HMAC key",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.otherSecret, claims()) },
			wantErr: "signature is invalid",
		},
		{
			name:    "wrong RSA key",
			opts:    rsaOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodRS256, k.otherRSA, claims()) },
			wantErr: "signature is invalid",
		},
		{
			name: "tampered claims",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				parts := strings.Split(sign(t, jwt.SigningMethodHS256, k.secret, claims()), ".")
				c, _ := json.Marshal(claims(set("sub", "admin")))
				return parts[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + parts[2]
			},
			wantErr: "signature is invalid",
		},
		{name: "malformed", opts: hmacOnly, token: func(*testing.T) string { return "not-a-token" }, wantErr: "token is malformed"},
		{name: "two segments", opts: hmacOnly, token: func(t *testing.T) string {
			s := sign(t, jwt.SigningMethodHS256, k.secret, claims())
			return s[:strings.LastIndex(s, ".")]
		}, wantErr: "token is malformed"},
		{name: "empty", opts: hmacOnly, token: func(*testing.T) string { return "" }, wantErr: "missing token"},
		{name: "huge", opts: hmacOnly, token: func(*testing.T) string { return strings.Repeat("a", maxTokenSize+1) }, wantErr: "token too large"},
		{
			name: "expired",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("exp", in(-time.Minute))))
			},
			wantErr: "token expired",
		},
		{
			name: "expired within skew",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, ClockSkew: 2 * time.Minute},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("exp", in(-time.Minute))))
			},
		},
		{
			name:    "exp missing",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(del("exp"))) },
			wantErr: "missing required claim [exp]",
		},
		{
			name: "exp not a number",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("exp", "tomorrow")))
			},
			wantErr: "token claims are invalid",
		},
		{
			name: "nbf in the future",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, ClockSkew: time.Minute},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("nbf", in(10*time.Minute))))
			},
			wantErr: "token is not valid yet",
		},
		{
			name: "nbf within skew",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, ClockSkew: time.Minute},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("nbf", in(30*time.Second))))
			},
		},
		{
			name: "iat in the future",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, ClockSkew: time.Minute},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("iat", in(10*time.Minute))))
			},
			wantErr: "token is issued in the future",
		},
		{
			name: "iat within skew",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, ClockSkew: time.Minute},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("iat", in(30*time.Second))))
			},
		},
		{
			name: "issuer",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RequiredIssuer: "https://idp"},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("iss", "https://idp")))
			},
		},
		{
			name: "wrong issuer",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RequiredIssuer: "https://idp"},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("iss", "https://evil")))
			},
			wantErr: "token issuer is not accepted",
		},
		{
			name:    "missing issuer",
			opts:    Options{SigningKeys: hmacOnly.SigningKeys, RequiredIssuer: "https://idp"},
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims()) },
			wantErr: "missing required claim [iss]",
		},
		{
			name: "one of the audiences",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RequiredAudience: []string{"gateway", "dashboards"}},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("aud", []string{"other", "dashboards"})))
			},
		},
		{
			name: "audience as a string",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RequiredAudience: []string{"gateway"}},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("aud", "gateway")))
			},
		},
		{
			name: "wrong audience",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RequiredAudience: []string{"gateway"}},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("aud", []string{"other"})))
			},
			wantErr: "token audience is not accepted",
		},
		{
			name:    "missing audience",
			opts:    Options{SigningKeys: hmacOnly.SigningKeys, RequiredAudience: []string{"gateway"}},
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims()) },
			wantErr: "missing required claim [aud]",
		},
		{
			name:    "missing subject",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(del("sub"))) },
			wantErr: "missing subject claim [sub]",
		},
		// Identities are never normalised: a subject that is not exactly a
		// plain name is refused, so " admin" can never become "admin".
		{
			name:    "empty subject",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", ""))) },
			wantErr: "subject claim [sub] is empty",
		},
		{
			name:    "blank subject",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "  "))) },
			wantErr: "subject claim [sub] has leading or trailing whitespace",
		},
		{
			name: "subject with a leading space",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", " admin")))
			},
			wantErr: "subject claim [sub] has leading or trailing whitespace",
		},
		{
			name: "subject with a trailing space",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "admin ")))
			},
			wantErr: "subject claim [sub] has leading or trailing whitespace",
		},
		{
			name: "subject with a leading no-break space",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "\u00a0admin")))
			},
			wantErr: "subject claim [sub] has leading or trailing whitespace",
		},
		{
			name: "subject with NUL",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "admin\x00x")))
			},
			wantErr: "subject claim [sub] contains a control character",
		},
		{
			name: "subject with a trailing newline",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "admin\n")))
			},
			wantErr: "subject claim [sub] contains a control character",
		},
		{
			name: "subject with a C1 control",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "ad\u0085min")))
			},
			wantErr: "subject claim [sub] contains a control character",
		},
		{
			name: "subject with DEL",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "ad\x7fmin")))
			},
			wantErr: "subject claim [sub] contains a control character",
		},
		{
			name: "subject over 256 bytes",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", strings.Repeat("é", 129))))
			},
			wantErr: "subject claim [sub] is longer than 256 bytes",
		},
		{
			name: "subject of 256 bytes",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", strings.Repeat("é", 128))))
			},
			wantName: strings.Repeat("é", 128),
		},
		{
			name: "subject with inner spaces",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", "Jane Doe")))
			},
			wantName: "Jane Doe",
		},
		{
			name: "role with NUL",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("roles", []string{"reader", "admin\x00"})))
			},
			wantErr: "roles claim [roles] contains a control character",
		},
		{
			name: "role with a newline in a comma-separated string",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("roles", "reader,admin\n")))
			},
			wantErr: "roles claim [roles] contains a control character",
		},
		{
			name:    "subject not a string",
			opts:    hmacOnly,
			token:   func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("sub", 42))) },
			wantErr: "subject claim [sub] is not a string",
		},
		{
			name: "dotted paths",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, SubjectKey: "user.login", RolesKey: "realm_access.roles"},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(
					set("user", map[string]any{"login": "bob"}),
					set("realm_access", map[string]any{"roles": []string{"ops", " hr ", ""}}),
				))
			},
			wantName: "bob", wantRoles: []string{"ops", "hr"},
		},
		{
			name: "claim name containing dots",
			opts: Options{SigningKeys: hmacOnly.SigningKeys, RolesKey: "https://example.com/roles"},
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("https://example.com/roles", "x")))
			},
			wantRoles: []string{"x"},
		},
		{
			name: "comma-separated roles",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("roles", " analyst, reader,,  ,hr ")))
			},
			wantRoles: []string{"analyst", "reader", "hr"},
		},
		{
			name:      "no roles",
			opts:      hmacOnly,
			token:     func(t *testing.T) string { return sign(t, jwt.SigningMethodHS256, k.secret, claims(del("roles"))) },
			wantRoles: []string{},
		},
		{
			name: "roles of the wrong type",
			opts: hmacOnly,
			token: func(t *testing.T) string {
				return sign(t, jwt.SigningMethodHS256, k.secret, claims(set("roles", []any{"a", 1})))
			},
			wantErr: "roles claim [roles] must be a string or an array of strings",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.opts)
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			token := tt.token(t)
			p, err := v.Verify(token)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Verify accepted the token: %+v", p)
				}
				if !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("error %v does not wrap ErrUnauthenticated", err)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				assertNoTokenIn(t, err.Error(), token)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			wantName := tt.wantName
			if wantName == "" {
				wantName = "alice"
			}
			wantRoles := tt.wantRoles
			if wantRoles == nil {
				wantRoles = []string{"analyst", "reader"}
			}
			if p.Name != wantName || !slices.Equal(p.BackendRoles, wantRoles) {
				t.Errorf("principal = %+v, want %s %v", p, wantName, wantRoles)
			}
		})
	}
}

// assertNoTokenIn fails if msg contains the token or one of its segments.
func assertNoTokenIn(t *testing.T, msg, token string) {
	t.Helper()
	if token != "" && strings.Contains(msg, token) {
		t.Errorf("error %q contains the token", msg)
	}
	for _, part := range strings.Split(token, ".") {
		if len(part) >= 8 && strings.Contains(msg, part) {
			t.Errorf("error %q contains a token segment", msg)
		}
	}
}

func TestNewVerifierErrors(t *testing.T) {
	k := keys(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	privDER, _ := x509.MarshalPKCS8PrivateKey(k.ec256)
	good := secretKey(k.secret)
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no keys", Options{}, "auth.jwt.signing_keys: at least one key is required"},
		{"garbage at index 1", Options{SigningKeys: []string{good, "hunter2"}}, "auth.jwt.signing_keys[1]: not a PEM public key or base64: secret"},
		{"bad base64", Options{SigningKeys: []string{"base64:!!!"}}, "auth.jwt.signing_keys[0]: base64: secret is not valid"},
		{"short secret", Options{SigningKeys: []string{secretKey([]byte("secret"))}}, "auth.jwt.signing_keys[0]: HMAC secret is 6 bytes"},
		{"private key", Options{SigningKeys: []string{string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))}}, "is a private key"},
		{"weak RSA", Options{SigningKeys: []string{pemPublic(t, &weak.PublicKey)}}, "RSA key has 1024 bits"},
		{"corrupt PEM", Options{SigningKeys: []string{string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("xx")}))}}, "auth.jwt.signing_keys[0]: parsing PUBLIC KEY"},
		{"two PEM blocks", Options{SigningKeys: []string{pemPublic(t, &k.rsa.PublicKey) + pemPublic(t, &k.ec256.PublicKey)}}, "more than one PEM block"},
		{"negative skew", Options{SigningKeys: []string{good}, ClockSkew: -time.Second}, "auth.jwt.clock_skew"},
		{"bad roles path", Options{SigningKeys: []string{good}, RolesKey: "a..b"}, "auth.jwt.roles_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewVerifier(tt.opts)
			if err == nil {
				t.Fatal("NewVerifier accepted the options")
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not wrap ErrConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestSecretEncodings(t *testing.T) {
	secret := make([]byte, 40)
	rand.Read(secret)
	secret[0], secret[1] = 0xfb, 0xff // makes std and URL base64 differ
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		key := "base64:" + enc.EncodeToString(secret)
		got, ok := HMACSecret([]string{"-----BEGIN PUBLIC KEY-----", key})
		if !ok || !slices.Equal(got, secret) {
			t.Errorf("HMACSecret(%q) = %x, %v", key, got, ok)
		}
		if _, err := NewVerifier(Options{SigningKeys: []string{key}}); err != nil {
			t.Errorf("NewVerifier(%q): %v", key, err)
		}
	}
	if _, ok := HMACSecret([]string{pemPublic(t, &keys(t).ec256.PublicKey)}); ok {
		t.Error("HMACSecret found a secret among public keys")
	}
}

func TestMintRoundTrip(t *testing.T) {
	k := keys(t)
	opts := Options{
		SigningKeys:      []string{secretKey(k.secret)},
		SubjectKey:       "preferred_username",
		RolesKey:         "realm_access.roles",
		RequiredIssuer:   "tenantgate",
		RequiredAudience: []string{"tenantgate"},
	}
	v, err := NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{"", "HS256", "HS384", "HS512"} {
		tok, err := Mint(MintOptions{
			Secret: k.secret, Alg: alg, Subject: "carol", Roles: []string{"analyst"},
			TTL: time.Minute, Issuer: "tenantgate", Audience: []string{"tenantgate"},
			SubjectKey: opts.SubjectKey, RolesKey: opts.RolesKey,
		})
		if err != nil {
			t.Fatalf("Mint %s: %v", alg, err)
		}
		p, err := v.Verify(tok)
		if err != nil || p.Name != "carol" || !slices.Equal(p.BackendRoles, []string{"analyst"}) {
			t.Errorf("%s: Verify = %+v, %v", alg, p, err)
		}
	}
	expired, err := Mint(MintOptions{Secret: k.secret, Subject: "carol", TTL: time.Minute, IssuedAt: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustVerifier(t, Options{SigningKeys: opts.SigningKeys}).Verify(expired); err == nil || !strings.Contains(err.Error(), "token expired") {
		t.Errorf("expired minted token: %v", err)
	}
	for name, o := range map[string]MintOptions{
		"short secret":   {Secret: []byte("x"), Subject: "a"},
		"no subject":     {Secret: k.secret},
		"RS256":          {Secret: k.secret, Subject: "a", Alg: "RS256"},
		"negative ttl":   {Secret: k.secret, Subject: "a", TTL: -time.Second},
		"padded subject": {Secret: k.secret, Subject: " a"},
		"NUL subject":    {Secret: k.secret, Subject: "a\x00"},
		"NUL role":       {Secret: k.secret, Subject: "a", Roles: []string{"r\x00"}},
		"clash":          {Secret: k.secret, Subject: "a", SubjectKey: "x", RolesKey: "x.roles"},
	} {
		if _, err := Mint(o); err == nil {
			t.Errorf("%s: Mint succeeded", name)
		}
	}
}

func mustVerifier(t *testing.T, o Options) *Verifier {
	t.Helper()
	v, err := NewVerifier(o)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic YWxhZGRpbjpvcGVuc2VzYW1l", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := BearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestConcurrentVerify(t *testing.T) {
	k := keys(t)
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(k.secret), pemPublic(t, &k.rsa.PublicKey)}})
	hs := sign(t, jwt.SigningMethodHS256, k.secret, claims())
	rs := sign(t, jwt.SigningMethodRS256, k.rsa, claims())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, tok := range []string{hs, rs} {
					if _, err := v.Verify(tok); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
