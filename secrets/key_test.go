package secrets

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func keyText(fill byte, n int) string {
	return "base64:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, n))
}

func mustKey(t *testing.T, s string) Key {
	t.Helper()
	k, err := ParseKey(s)
	if err != nil {
		t.Fatalf("ParseKey: %v", err)
	}
	return k
}

func TestParseKey(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	if err := os.WriteFile(good, []byte(keyText(7, 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short.key")
	if err := os.WriteFile(short, []byte(keyText(7, 31)), 0o600); err != nil {
		t.Fatal(err)
	}
	bare := filepath.Join(dir, "bare.key")
	if err := os.WriteFile(bare, bytes.Repeat([]byte{'k'}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	unpadded := "base64:" + base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	cases := []struct {
		name, in string
		want     string // "" for success, else a phrase the error must contain
	}{
		{"base64", keyText(7, 32), ""},
		{"unpadded", unpadded, ""},
		{"surrounding space", "  " + keyText(7, 32) + "\n", ""},
		{"file", "file:" + good, ""},
		{"empty", "", "empty"},
		{"no prefix", base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)), `"base64:<32 bytes>" or "file:<path>"`},
		{"bad base64", "base64:not*base64!!", "not valid standard base64"},
		{"nothing after prefix", "base64:", `nothing after "base64:"`},
		{"31 bytes", keyText(7, 31), "decodes to 31 bytes, want exactly 32"},
		{"33 bytes", keyText(7, 33), "decodes to 33 bytes, want exactly 32"},
		{"16 bytes", keyText(7, 16), "decodes to 16 bytes"},
		{"file missing", "file:" + filepath.Join(dir, "nope.key"), "reading key file"},
		{"file empty path", "file:", "names no file"},
		{"file short key", "file:" + short, "decodes to 31 bytes"},
		{"file without base64 prefix", "file:" + bare, "must hold a \"base64:<32 bytes>\""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.in)
			if c.want == "" {
				if err != nil || k.IsZero() {
					t.Fatalf("ParseKey = %v, %v; want a key", k, err)
				}
				if k.Fingerprint() != mustKey(t, keyText(7, 32)).Fingerprint() {
					t.Fatalf("fingerprint %s differs from the same key's written another way", k.Fingerprint())
				}
				return
			}
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseKey error = %v, want ErrInvalidKey saying %q", err, c.want)
			}
			if !k.IsZero() {
				t.Fatal("a refused key is not the zero Key")
			}
			// Never echo key material: neither the text given nor the base64 part.
			enc := strings.TrimPrefix(strings.TrimSpace(c.in), "base64:")
			if len(enc) >= 8 && !strings.HasPrefix(c.in, "file:") && strings.Contains(err.Error(), enc) {
				t.Fatalf("error %q echoes the key", err)
			}
			if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 24))) {
				t.Fatalf("error %q echoes key material", err)
			}
		})
	}
}

func TestKeyNeverPrintsMaterial(t *testing.T) {
	k := mustKey(t, keyText(9, 32))
	material := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k)} {
		if strings.Contains(s, material) || strings.Contains(s, string(bytes.Repeat([]byte{9}, 8))) {
			t.Fatalf("printed key %q contains its material", s)
		}
		if !strings.Contains(s, k.Fingerprint()) {
			t.Fatalf("printed key %q does not show its fingerprint", s)
		}
	}
	if got := fmt.Sprint(Key{}); got != "secrets.Key(none)" {
		t.Fatalf("zero key prints %q", got)
	}
}

func TestSealOpen(t *testing.T) {
	k := mustKey(t, keyText(1, 32))
	other := mustKey(t, keyText(2, 32))
	aad := AAD("analysts", "company.marketing", "DB_PASSWORD")
	plain := []byte("correct horse battery staple ✓")
	sealed, err := k.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != len(plain)+Overhead || sealed[0] != Version {
		t.Fatalf("sealed is %d bytes starting %d; want %d starting %d", len(sealed), sealed[0], len(plain)+Overhead, Version)
	}
	if bytes.Contains(sealed, plain[:8]) {
		t.Fatal("ciphertext contains the plaintext")
	}
	again, _ := k.Seal(plain, aad)
	if bytes.Equal(sealed[1:1+nonceSize], again[1:1+nonceSize]) || bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same value share a nonce")
	}

	t.Run("round trip", func(t *testing.T) {
		got, err := k.Open(sealed, aad)
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("Open = %q, %v", got, err)
		}
		empty, err := k.Seal(nil, aad)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := k.Open(empty, aad); err != nil || len(got) != 0 {
			t.Fatalf("Open(empty) = %q, %v", got, err)
		}
	})

	flip := func(i int) []byte {
		b := bytes.Clone(sealed)
		b[i] ^= 0x01
		return b
	}
	cases := []struct {
		name       string
		key        Key
		ciphertext []byte
		aad        []byte
	}{
		{"wrong key", other, sealed, aad},
		{"version byte changed", k, flip(0), aad},
		{"version byte zero", k, append([]byte{0}, sealed[1:]...), aad},
		{"nonce changed", k, flip(1), aad},
		{"nonce last byte changed", k, flip(nonceSize), aad},
		{"ciphertext changed", k, flip(1 + nonceSize), aad},
		{"tag changed", k, flip(len(sealed) - 1), aad},
		{"truncated", k, sealed[:len(sealed)-1], aad},
		{"too short", k, sealed[:Overhead-1], aad},
		{"empty", k, nil, aad},
		{"extended", k, append(bytes.Clone(sealed), 0), aad},
		{"another secret key", k, sealed, AAD("analysts", "company.marketing", "DB_USER")},
		{"another namespace", k, sealed, AAD("analysts", "company", "DB_PASSWORD")},
		{"another tenant", k, sealed, AAD("executive", "company.marketing", "DB_PASSWORD")},
		{"no aad", k, sealed, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.key.Open(c.ciphertext, c.aad)
			if !errors.Is(err, ErrDecrypt) || got != nil {
				t.Fatalf("Open = %q, %v; want ErrDecrypt", got, err)
			}
			if strings.Contains(err.Error(), string(plain[:8])) {
				t.Fatalf("error %q contains the plaintext", err)
			}
		})
	}
}

func TestAADIsUnambiguous(t *testing.T) {
	pairs := [][2][3]string{
		{{"a", "b.c", "d"}, {"a.b", "c", "d"}},
		{{"ab", "", "c"}, {"a", "b", "c"}},
		{{"t", "ns", "k"}, {"t", "nsk", ""}},
	}
	for _, p := range pairs {
		x, y := AAD(p[0][0], p[0][1], p[0][2]), AAD(p[1][0], p[1][1], p[1][2])
		if bytes.Equal(x, y) {
			t.Fatalf("AAD%v == AAD%v", p[0], p[1])
		}
	}
	if !bytes.Equal(AAD("t", "n", "k"), AAD("t", "n", "k")) {
		t.Fatal("AAD is not deterministic")
	}
}

func TestZeroKey(t *testing.T) {
	var k Key
	if !k.IsZero() || k.Fingerprint() != "" {
		t.Fatal("zero Key is not zero")
	}
	if _, err := k.Seal([]byte("x"), nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Seal = %v, want ErrNoKey", err)
	}
	if _, err := k.Open(make([]byte, 64), nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("Open = %v, want ErrNoKey", err)
	}
	if err := k.CheckFingerprint("abc"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("CheckFingerprint = %v, want ErrNoKey", err)
	}
}

func TestFingerprint(t *testing.T) {
	k := mustKey(t, keyText(3, 32))
	fp := k.Fingerprint()
	if len(fp) != 2*fingerprintBytes || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q is not %d hex digits", fp, 2*fingerprintBytes)
	}
	if fp != mustKey(t, keyText(3, 32)).Fingerprint() {
		t.Fatal("fingerprint is not stable for the same key")
	}
	other := mustKey(t, keyText(4, 32))
	if other.Fingerprint() == fp {
		t.Fatal("two keys share a fingerprint")
	}
	// Not a plain hash of the key.
	raw := bytes.Repeat([]byte{3}, 32)
	for _, h := range []string{fmt.Sprintf("%x", sha256Sum(raw))} {
		if strings.HasPrefix(h, fp) {
			t.Fatal("fingerprint is the key's SHA-256")
		}
	}
	cases := []struct {
		name, stored string
		want         error
	}{
		{"same key", fp, nil},
		{"same key, stored with newline", fp + "\n", nil},
		{"other key", other.Fingerprint(), ErrWrongKey},
		{"empty", "", ErrWrongKey},
		{"prefix", fp[:8], ErrWrongKey},
		{"upper case", strings.ToUpper(fp) + "X", ErrWrongKey},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := k.CheckFingerprint(c.stored)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("CheckFingerprint(%q) = %v, want %v", c.stored, err, c.want)
			}
		})
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
