package auth

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"
)

func newToken(t *testing.T) APIToken {
	t.Helper()
	tok, err := NewAPIToken()
	if err != nil {
		t.Fatalf("NewAPIToken: %v", err)
	}
	return tok
}

func TestNewAPITokenRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := newToken(t)
		if len(tok.Token) != APITokenLen {
			t.Fatalf("token %q has %d characters, want %d", tok.Token, len(tok.Token), APITokenLen)
		}
		if want := APITokenPrefix + tok.ID; tok.Prefix != want || !strings.HasPrefix(tok.Token, want+"_") {
			t.Fatalf("token %q, id %q, prefix %q: prefix is not tgat_<id> or does not start the token", tok.Token, tok.ID, tok.Prefix)
		}
		if strings.Contains(tok.Prefix, tok.Token[len(tok.Prefix)+1:]) {
			t.Fatalf("prefix %q contains the secret", tok.Prefix)
		}
		id, ok := ParseAPIToken(tok.Token)
		if !ok || id != tok.ID {
			t.Fatalf("ParseAPIToken(%q) = %q, %v; want %q, true", tok.Token, id, ok, tok.ID)
		}
		if sum := sha256.Sum256([]byte(tok.Token)); !bytes.Equal(tok.Hash, sum[:]) || !bytes.Equal(HashAPIToken(tok.Token), sum[:]) {
			t.Fatalf("Hash of %q is not its SHA-256", tok.Token)
		}
		if !TokenMatches(tok.Hash, tok.Token) {
			t.Fatalf("TokenMatches(Hash, Token) = false for %q", tok.Token)
		}
		if seen[tok.ID] || seen[tok.Token] {
			t.Fatalf("token or id repeated: %q", tok.Token)
		}
		seen[tok.ID], seen[tok.Token] = true, true
	}
}

func TestParseAPIToken(t *testing.T) {
	const (
		id     = "abcdefgh2345"
		secret = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_w" // 43 chars, last has zero low bits
	)
	valid := APITokenPrefix + id + "_" + secret
	jwt := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlMTIz"
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"valid", valid, true},
		{"secret of dashes and underscores", APITokenPrefix + id + "_" + strings.Repeat("_", 42) + "-", false}, // '-' is 62: low bits set
		{"secret ending in A", APITokenPrefix + "zzzzzzzzzzzz_" + strings.Repeat("-", 42) + "A", true},
		{"empty", "", false},
		{"prefix only", APITokenPrefix, false},
		{"JWT", jwt, false},
		{"JWT of token length", jwt[:APITokenLen], false},
		{"upper-case prefix", "TGAT_" + id + "_" + secret, false},
		{"other prefix", "tgak_" + id + "_" + secret, false},
		{"dash after prefix", "tgat-" + id + "_" + secret, false},
		{"no prefix", id + "_" + secret + "xxxxx", false},
		{"id too short", APITokenPrefix + id[:11] + "_" + secret + "A", false},
		{"id too long", APITokenPrefix + id + "a_" + secret[:42], false},
		{"upper-case id", APITokenPrefix + strings.ToUpper(id) + "_" + secret, false},
		{"id with 1", APITokenPrefix + "abcdefgh2341_" + secret, false},
		{"id with 0", APITokenPrefix + "0bcdefgh2345_" + secret, false},
		{"id with 8", APITokenPrefix + "abcdefgh2348_" + secret, false},
		{"dash instead of separator", APITokenPrefix + id + "-" + secret, false},
		{"secret too short", APITokenPrefix + id + "_" + secret[:42], false},
		{"secret too long", APITokenPrefix + id + "_" + secret + "A", false},
		{"padded secret", APITokenPrefix + id + "_" + secret[:42] + "=", false},
		{"standard base64 plus", APITokenPrefix + id + "_+" + secret[1:], false},
		{"standard base64 slash", APITokenPrefix + id + "_/" + secret[1:], false},
		{"dot in secret", APITokenPrefix + id + "_." + secret[1:], false},
		{"non-canonical last character", APITokenPrefix + id + "_" + secret[:42] + "x", false},
		{"trailing newline", valid[:APITokenLen-1] + "\n", false},
		{"space inside", APITokenPrefix + id + "_ " + secret[1:], false},
		{"non-ASCII", APITokenPrefix + "é" + id[2:] + "_" + secret, false},
		{"bearer prefix kept", "Bearer " + valid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseAPIToken(tt.token)
			if ok != tt.ok {
				t.Fatalf("ParseAPIToken(%q) ok = %v, want %v", tt.token, ok, tt.ok)
			}
			if ok && got != tt.token[len(APITokenPrefix):len(APITokenPrefix)+APITokenIDLen] {
				t.Errorf("ParseAPIToken(%q) id = %q", tt.token, got)
			}
			if !ok && got != "" {
				t.Errorf("ParseAPIToken(%q) returned id %q with false", tt.token, got)
			}
		})
	}
}

func TestTokenMatches(t *testing.T) {
	tok := newToken(t)
	other := newToken(t)
	flipped := []byte(tok.Token)
	flipped[len(flipped)-2] ^= 1
	tests := []struct {
		name      string
		stored    []byte
		presented string
		want      bool
	}{
		{"same token", tok.Hash, tok.Token, true},
		{"other token", tok.Hash, other.Token, false},
		{"one secret bit changed", tok.Hash, string(flipped), false},
		{"prefix only", tok.Hash, tok.Prefix, false},
		{"empty presented", tok.Hash, "", false},
		{"nil stored hash", nil, tok.Token, false},
		{"nil stored hash, empty token", nil, "", false},
		{"empty stored hash", []byte{}, "", false},
		{"truncated stored hash", tok.Hash[:16], tok.Token, false},
		{"stored token instead of hash", []byte(tok.Token), tok.Token, false},
		{"hash of the id", HashAPIToken(tok.ID), tok.Token, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TokenMatches(tt.stored, tt.presented); got != tt.want {
				t.Errorf("TokenMatches = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSecretsComparedInConstantTime checks that the functions comparing
// a presented secret with a stored one call subtle.ConstantTimeCompare and
// use neither == on strings nor bytes.Equal, which return at the first
// differing byte.
func TestSecretsComparedInConstantTime(t *testing.T) {
	tests := []struct{ file, fn string }{
		{"apitoken.go", "TokenMatches"},
		{"password.go", "Check"},
	}
	fset := token.NewFileSet()
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			f, err := parser.ParseFile(fset, tt.file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			var body *ast.BlockStmt
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == tt.fn {
					body = fd.Body
				}
			}
			if body == nil {
				t.Fatalf("%s not found in %s", tt.fn, tt.file)
			}
			constantTime := false
			ast.Inspect(body, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				pkg, _ := sel.X.(*ast.Ident)
				switch {
				case pkg != nil && pkg.Name == "subtle" && sel.Sel.Name == "ConstantTimeCompare":
					constantTime = true
				case pkg != nil && pkg.Name == "bytes" && (sel.Sel.Name == "Equal" || sel.Sel.Name == "Compare"):
					t.Errorf("%s uses bytes.%s", tt.fn, sel.Sel.Name)
				}
				return true
			})
			if !constantTime {
				t.Errorf("%s does not call subtle.ConstantTimeCompare", tt.fn)
			}
		})
	}
}

func TestParseMaxAge(t *testing.T) {
	const day = 24 * time.Hour
	valid := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1h", time.Hour},
		{"90m", 90 * time.Minute},
		{"24h", day},
		{"1h30m", 90 * time.Minute},
		{"1.5h", 90 * time.Minute},
		{"+1h", time.Hour},
		{"300ms", 300 * time.Millisecond},
		{"87600h", MaxTokenAge},
		{"PT1H", time.Hour},
		{"PT30M", 30 * time.Minute},
		{"PT90S", 90 * time.Second},
		{"P1D", day},
		{"P1DT2H30M", day + 2*time.Hour + 30*time.Minute},
		{"P2W", 14 * day},
		{"P1W2D", 9 * day},
		{"P1DT1H1M1S", day + time.Hour + time.Minute + time.Second},
		{"pt1h", time.Hour},
		{"p1dt2h", day + 2*time.Hour},
		{"+PT1H", time.Hour},
		{"PT1.5H", 90 * time.Minute},
		{"PT0,5M", 30 * time.Second},
		{"PT0.000000001S", time.Nanosecond},
		{"PT0.0000000019S", time.Nanosecond}, // below a nanosecond is dropped
		{"PT1M0.25S", time.Minute + 250*time.Millisecond},
		{"P0DT1H", time.Hour},
		{"P007D", 7 * day},
		{"P3650D", MaxTokenAge},
		{"P521W3D", MaxTokenAge},
		{"P3649DT24H", MaxTokenAge},
	}
	for _, tt := range valid {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMaxAge(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseMaxAge(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
	invalid := []struct {
		in, want string // want: part of the message
	}{
		{"0", "longer than zero"},
		{"0s", "longer than zero"},
		{"PT0S", "longer than zero"},
		{"P0D", "longer than zero"},
		{"-1h", "negative"},
		{"-PT1H", "negative"},
		{"-P1D", "negative"},
		{"87601h", "10 years"},
		{"P3651D", "10 years"},
		{"P3650DT1S", "10 years"},
		{"P522W", "10 years"},
		{"P3650DT0.000000001S", "10 years"},
		{"P99999999999999999999999D", "10 years"},
		{"PT99999999999999999999H", "10 years"},
		{"P1Y", "years or months"},
		{"P1M", "years or months"},
		{"P1Y2M", "years or months"},
		{"P0Y1D", "years or months"},
		{"3650d", "not a duration"},
		{"1 h", "not a duration"},
		{"1H", "not a duration"},
		{"h", "not a duration"},
		{"forever", "not a duration"},
		{"P", "ISO-8601"},
		{"PT", "ISO-8601"},
		{"P1DT", `"T" must be followed`},
		{"P1", "ISO-8601"},
		{"PD", "ISO-8601"},
		{"PT1D", "ISO-8601"},
		{"PT1W", "ISO-8601"},
		{"P1H", "ISO-8601"},
		{"P1D1W", "ISO-8601"},
		{"P1D1D", "ISO-8601"},
		{"PT1S1M", "ISO-8601"},
		{"PT1H1H", "ISO-8601"},
		{"PT1HT1M", "ISO-8601"},
		{"PT.5H", "ISO-8601"},
		{"PT1.H", "ISO-8601"},
		{"PT1.5.5H", "ISO-8601"},
		{"PT1.5H30M", "smallest component"},
		{"P1.5DT1H", "smallest component"},
		{"PT-1H", "ISO-8601"},
		{"P1D ", "ISO-8601"},
		{"PT1Hé", "ISO-8601"},
		{"--PT1H", "not a duration"},
		{strings.Repeat("1", 100) + "h", "too long"},
	}
	for _, tt := range invalid {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMaxAge(tt.in)
			if err == nil {
				t.Fatalf("ParseMaxAge(%q) = %v, want an error", tt.in, got)
			}
			if !errors.Is(err, ErrInvalidMaxAge) {
				t.Errorf("error %v does not wrap ErrInvalidMaxAge", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "invalid max_age ") {
				t.Errorf("error %q does not start with the field", err)
			}
		})
	}
}
