package auth

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures Verify on one valid token, as the gateway pays
// it on every request: cached (the token was verified before; the cost is
// hashing the token and re-checking its times) and uncached (signature,
// claims and subject checked in full). One op is one Verify.
func BenchmarkVerify(b *testing.B) {
	k := keys(b)
	rsaPEM := pemPublic(b, &k.rsa.PublicKey)
	for _, alg := range []struct {
		name   string
		method jwt.SigningMethod
		key    any
		opts   Options
	}{
		{"HS256", jwt.SigningMethodHS256, k.secret, Options{SigningKeys: []string{secretKey(k.secret)}}},
		{"RS256", jwt.SigningMethodRS256, k.rsa, Options{SigningKeys: []string{rsaPEM}}},
	} {
		tok, err := jwt.NewWithClaims(alg.method, claims()).SignedString(alg.key)
		if err != nil {
			b.Fatal(err)
		}
		for _, mode := range []string{"cached", "uncached"} {
			b.Run(alg.name+"/"+mode, func(b *testing.B) {
				v, err := NewVerifier(alg.opts)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "uncached" {
					v.cache = nil
				}
				if _, err := v.Verify(tok); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := v.Verify(tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
