package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// KeySize is the length in bytes of an encryption key (AES-256).
const KeySize = 32

// Version is the format version byte that starts every ciphertext Seal
// returns: version, 12-byte nonce, then the AES-GCM ciphertext and tag.
const Version byte = 1

const (
	nonceSize = 12
	tagSize   = 16
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = 1 + nonceSize + tagSize

	fingerprintLabel = "tenantgate secrets key fingerprint v1"
	fingerprintBytes = 8
	aadLabel         = "tenantgate secret v1"
)

// Key is a parsed encryption key. Its zero value holds no key: Seal and
// Open return ErrNoKey. A Key is safe for concurrent use; printing it shows
// only its fingerprint.
type Key struct {
	aead        cipher.AEAD
	fingerprint string
}

// ParseKey parses the value of secrets.encryption_key: "base64:<32 bytes>"
// (standard base64, padded or not) or "file:<path>" naming a file whose
// content, surrounding white space aside, is such a "base64:" value.
// Errors wrap ErrInvalidKey, say what is wrong and never echo the key.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if path, ok := strings.CutPrefix(s, "file:"); ok {
		if path == "" {
			return Key{}, fmt.Errorf("%w: file: names no file", ErrInvalidKey)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return Key{}, fmt.Errorf("%w: reading key file: %w", ErrInvalidKey, err)
		}
		v := strings.TrimSpace(string(raw))
		if !strings.HasPrefix(v, "base64:") {
			return Key{}, fmt.Errorf("%w: key file %s must hold a \"base64:<32 bytes>\" value", ErrInvalidKey, path)
		}
		k, err := parseBase64(v)
		if err != nil {
			return Key{}, fmt.Errorf("key file %s: %w", path, err)
		}
		return k, nil
	}
	if s == "" {
		return Key{}, fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if !strings.HasPrefix(s, "base64:") {
		return Key{}, fmt.Errorf("%w: must be \"base64:<32 bytes>\" or \"file:<path>\"", ErrInvalidKey)
	}
	return parseBase64(s)
}

func parseBase64(s string) (Key, error) {
	enc := strings.TrimSpace(strings.TrimPrefix(s, "base64:"))
	if enc == "" {
		return Key{}, fmt.Errorf("%w: nothing after \"base64:\"", ErrInvalidKey)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(enc)
	}
	if err != nil {
		// The decoder's error names only an offset, but say it plainly.
		return Key{}, fmt.Errorf("%w: not valid standard base64 after \"base64:\"", ErrInvalidKey)
	}
	defer clear(raw)
	if len(raw) != KeySize {
		return Key{}, fmt.Errorf("%w: decodes to %d bytes, want exactly %d", ErrInvalidKey, len(raw), KeySize)
	}
	return newKey(raw)
}

// newKey builds a Key from raw key bytes; it keeps no copy of them beyond
// the cipher's own key schedule.
func newKey(raw []byte) (Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte(fingerprintLabel))
	fp := hex.EncodeToString(mac.Sum(nil)[:fingerprintBytes])
	return Key{aead: aead, fingerprint: fp}, nil
}

// IsZero reports whether k holds no key (secrets.encryption_key was not
// configured).
func (k Key) IsZero() bool { return k.aead == nil }

// String shows the key's fingerprint, never its material, so a Key that
// ends up in a log line or an error reveals nothing.
func (k Key) String() string {
	if k.IsZero() {
		return "secrets.Key(none)"
	}
	return "secrets.Key(" + k.fingerprint + ")"
}

// GoString is String, for %#v.
func (k Key) GoString() string { return k.String() }

// AAD returns the additional data that binds a sealed secret to where it
// is stored: the tenant, the namespace and the secret's key. Each part is
// length-prefixed, so ("a.b", "c") and ("a", "b.c") differ.
func AAD(tenant, namespace, key string) []byte {
	b := make([]byte, 0, len(aadLabel)+12+len(tenant)+len(namespace)+len(key))
	b = append(b, aadLabel...)
	for _, p := range []string{tenant, namespace, key} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// Seal encrypts plaintext with AES-256-GCM under a fresh random nonce,
// authenticating aad (from AAD) and the version byte with it. The result
// is Version, the nonce, then the ciphertext and tag: Overhead bytes more
// than plaintext.
func (k Key) Seal(plaintext, aad []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, ErrNoKey
	}
	out := make([]byte, 1+nonceSize, Overhead+len(plaintext))
	out[0] = Version
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, fmt.Errorf("secrets: reading a random nonce: %w", err)
	}
	return k.aead.Seal(out, out[1:], plaintext, header(out[0], aad)), nil
}

// Open decrypts what Seal returned for the same aad. A wrong key, another
// aad, an unknown version byte or any changed or missing byte gives an
// error wrapping ErrDecrypt.
func (k Key) Open(ciphertext, aad []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, ErrNoKey
	}
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrDecrypt, len(ciphertext))
	}
	if ciphertext[0] != Version {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrDecrypt, ciphertext[0])
	}
	nonce, sealed := ciphertext[1:1+nonceSize], ciphertext[1+nonceSize:]
	plain, err := k.aead.Open(nil, nonce, sealed, header(ciphertext[0], aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// header is the data GCM authenticates: the version byte, then aad.
func header(version byte, aad []byte) []byte {
	h := make([]byte, 0, 1+len(aad))
	h = append(h, version)
	return append(h, aad...)
}

// Fingerprint returns a short identifier of the key: the first 8 bytes, in
// hex, of HMAC-SHA256 of a fixed label under the key. It is not a hash of
// the key and reveals nothing about it; store it beside the secrets and
// check it with CheckFingerprint at start-up. The zero Key's is "".
func (k Key) Fingerprint() string { return k.fingerprint }

// CheckFingerprint compares a stored fingerprint with k's, in constant
// time. A mismatch wraps ErrWrongKey; the zero Key gives ErrNoKey.
func (k Key) CheckFingerprint(stored string) error {
	if k.IsZero() {
		return ErrNoKey
	}
	if !hmac.Equal([]byte(strings.TrimSpace(stored)), []byte(k.fingerprint)) {
		return fmt.Errorf("%w (stored fingerprint %.32q, configured key's %q)", ErrWrongKey, stored, k.fingerprint)
	}
	return nil
}

var _ fmt.Stringer = Key{}
