package config

import (
	"fmt"
	"os"
	"strings"
)

// ResolveKeys returns the signing keys with every "file:<path>" entry
// replaced by the file's content (itself "base64:…" or a PEM key), so
// secrets can live outside the configuration file.
func ResolveKeys(keys []string) ([]string, error) {
	out := make([]string, 0, len(keys))
	for i, k := range keys {
		path, ok := strings.CutPrefix(strings.TrimSpace(k), "file:")
		if !ok {
			out = append(out, k)
			continue
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("auth.jwt.signing_keys[%d]: reading key file: %w", i, err)
		}
		v := strings.TrimSpace(string(raw))
		if v == "" {
			return nil, fmt.Errorf("auth.jwt.signing_keys[%d]: key file %s is empty", i, path)
		}
		out = append(out, v)
	}
	return out, nil
}
