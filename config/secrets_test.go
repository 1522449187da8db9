package config

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateSecretsEncryptionKey(t *testing.T) {
	material := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 32))
	short := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{5}, 31))
	keyFile := filepath.Join(t.TempDir(), "secrets.key")
	if err := os.WriteFile(keyFile, []byte("base64:"+material+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, key string
		want      string // "" when valid
	}{
		{"none configured", "", ""},
		{"base64", "base64:" + material, ""},
		{"file", "file:" + keyFile, ""},
		{"blank", "   ", "secrets.encryption_key: invalid encryption key: empty"},
		{"no prefix", material, "secrets.encryption_key: invalid encryption key: must be"},
		{"31 bytes", "base64:" + short, "secrets.encryption_key: invalid encryption key: decodes to 31 bytes, want exactly 32"},
		{"bad base64", "base64:" + material[:20] + "!!" + material[22:], "secrets.encryption_key: invalid encryption key: not valid standard base64"},
		{"missing file", "file:" + keyFile + ".nope", "secrets.encryption_key: invalid encryption key: reading key file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Default()
			cfg.Auth.JWT.SigningKeys = []string{"base64:c2VjcmV0"}
			cfg.Secrets.EncryptionKey = c.key
			err := cfg.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
			for _, m := range []string{material[:16], short[:16]} {
				if strings.Contains(err.Error(), m) {
					t.Fatalf("Validate() error %q echoes key material", err)
				}
			}
		})
	}
}

func TestSecretsEncryptionKeyHasNoDefaultAndLoads(t *testing.T) {
	if k := Default().Secrets.EncryptionKey; k != "" {
		t.Fatal("secrets.encryption_key has a default")
	}
	p := writeFile(t, "secrets:\n  encryption_key: \"file:/from/yaml\"\n")
	cfg, err := Load(p, []string{"TENANTGATE_SECRETS_ENCRYPTION_KEY=file:/from/env"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Secrets.EncryptionKey != "file:/from/env" {
		t.Fatalf("secrets.encryption_key = %q, want the environment's", cfg.Secrets.EncryptionKey)
	}
	cfg, err = Load(p, nil)
	if err != nil || cfg.Secrets.EncryptionKey != "file:/from/yaml" {
		t.Fatalf("Load = %q, %v; want the file's key", cfg.Secrets.EncryptionKey, err)
	}
}
