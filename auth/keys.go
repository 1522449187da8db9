package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
)

// minHMACSecret is the shortest HMAC secret accepted, in bytes (RFC 7518
// section 3.2 requires at least the hash size; 32 bytes covers HS256).
const minHMACSecret = 32

// minRSABits is the smallest RSA modulus accepted.
const minRSABits = 2048

// secretPrefix marks an HMAC secret in Options.SigningKeys.
const secretPrefix = "base64:"

// configError is an ErrConfig naming the configuration key at fault.
type configError struct {
	key string
	msg string
}

func (e *configError) Error() string { return e.key + ": " + e.msg }
func (e *configError) Unwrap() error { return ErrConfig }

func configErrorf(key, format string, args ...any) error {
	return &configError{key: key, msg: fmt.Sprintf(format, args...)}
}

// verificationKey is one parsed signing key and the algorithms it serves.
type verificationKey struct {
	algs     []string
	material any // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

// parseKey parses one entry of Options.SigningKeys; name is its
// configuration key for error messages.
func parseKey(name, s string) (verificationKey, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, secretPrefix); ok {
		secret, err := decodeSecret(rest)
		if err != nil {
			return verificationKey{}, configErrorf(name, "base64: secret is not valid standard or URL base64")
		}
		if len(secret) < minHMACSecret {
			return verificationKey{}, configErrorf(name, "HMAC secret is %d bytes; at least %d are required", len(secret), minHMACSecret)
		}
		return verificationKey{algs: []string{"HS256", "HS384", "HS512"}, material: secret}, nil
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return verificationKey{}, configErrorf(name, "not a PEM public key or base64: secret")
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return verificationKey{}, configErrorf(name, "more than one PEM block; configure one key per entry")
	}
	var pub any
	var err error
	switch {
	case block.Type == "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case block.Type == "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case block.Type == "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = cert.PublicKey
		}
	case strings.Contains(block.Type, "PRIVATE KEY"):
		return verificationKey{}, configErrorf(name, "PEM block %q is a private key; configure the public key", block.Type)
	default:
		return verificationKey{}, configErrorf(name, "unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return verificationKey{}, configErrorf(name, "parsing %s: %v", block.Type, err)
	}
	return publicKey(name, pub)
}

func publicKey(name string, pub any) (verificationKey, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return verificationKey{}, configErrorf(name, "RSA key has %d bits; at least %d are required", k.N.BitLen(), minRSABits)
		}
		return verificationKey{algs: []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}, material: k}, nil
	case *ecdsa.PublicKey:
		var alg string
		switch k.Curve {
		case elliptic.P256():
			alg = "ES256"
		case elliptic.P384():
			alg = "ES384"
		case elliptic.P521():
			alg = "ES512"
		default:
			return verificationKey{}, configErrorf(name, "unsupported ECDSA curve %s", k.Curve.Params().Name)
		}
		return verificationKey{algs: []string{alg}, material: k}, nil
	case ed25519.PublicKey:
		return verificationKey{algs: []string{"EdDSA"}, material: k}, nil
	}
	return verificationKey{}, configErrorf(name, "unsupported public key type %T", pub)
}

// decodeSecret decodes standard or URL base64, padded or not.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

// HMACSecret returns the secret of the first "base64:" entry of keys, and
// false if there is none (or it does not decode), so the token command can
// refuse clearly when only public keys are configured.
func HMACSecret(keys []string) ([]byte, bool) {
	for _, k := range keys {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(k), secretPrefix); ok {
			b, err := decodeSecret(rest)
			if err != nil || len(b) == 0 {
				return nil, false
			}
			return b, true
		}
	}
	return nil, false
}
