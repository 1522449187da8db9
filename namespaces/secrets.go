package namespaces

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/secrets"
)

// SecretInfo describes a secret a namespace sees, never its value.
type SecretInfo struct {
	Key         string
	Description string
	// Namespace is where the secret is defined: the namespace asked for
	// or its nearest ancestor that has this key.
	Namespace string
	Updated   time.Time
}

// PutSecret creates or replaces the secret key of namespace ns, which
// must exist. Only the ciphertext of value is stored; a value shorter
// than secrets.MinMaskLen (which no Masker hides) is ErrInvalid. A store without an
// encryption key returns ErrNoKey.
func (s *Store) PutSecret(ctx context.Context, ns, key, value, description string) (*SecretInfo, error) {
	if s.key.IsZero() {
		return nil, ErrNoKey
	}
	if err := ValidateID(ns); err != nil {
		return nil, err
	}
	if err := ValidateSecretKey(key); err != nil {
		return nil, err
	}
	if _, err := s.Get(ctx, ns); err != nil {
		return nil, err
	}
	if len(value) < secrets.MinMaskLen {
		// Shorter values are not masked in logs and outputs.
		return nil, fmt.Errorf("%w: a secret value must be at least %d bytes long", ErrInvalid, secrets.MinMaskLen)
	}
	sealed, err := s.key.Seal([]byte(value), secrets.AAD(s.tenant, ns, key))
	if err != nil {
		return nil, fmt.Errorf("sealing secret %s of namespace %s: %w", key, ns, err)
	}
	id := secretDocID(ns, key)
	for range maxRetries {
		cur, seq, err := s.read(ctx, id)
		if err != nil {
			return nil, err
		}
		now := s.stamp()
		doc := &document{Kind: kindSecret, Namespace: ns, Key: key, Description: description, Sealed: sealed,
			Fingerprint: s.key.Fingerprint(), Created: now, Updated: now}
		if cur != nil {
			doc.Created = cur.Created
		}
		err = s.write(ctx, id, doc, cur != nil, seq)
		if errors.Is(err, errLostRace) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return doc.secretInfo()
	}
	return nil, fmt.Errorf("%w: secret %s of namespace %s keeps changing concurrently", ErrConflict, key, ns)
}

// DeleteSecret removes the secret key of namespace ns itself (not an
// inherited one). A missing secret is ErrNotFound.
func (s *Store) DeleteSecret(ctx context.Context, ns, key string) error {
	if err := ValidateID(ns); err != nil {
		return err
	}
	if err := ValidateSecretKey(key); err != nil {
		return err
	}
	res, err := s.ix.Apply(ctx, IndexName, []index.Op{{Type: index.OpDelete, ID: secretDocID(ns, key)}})
	if errors.Is(err, index.ErrNotFound) || (err == nil && res[0].Status == 404) {
		return fmt.Errorf("%w: secret %s of namespace %s", ErrNotFound, key, ns)
	}
	if err == nil {
		err = res[0].Err
	}
	if err != nil {
		return fmt.Errorf("deleting secret %s of namespace %s: %w", key, ns, err)
	}
	return nil
}

// Secret describes the secret key of namespace ns itself (not an
// inherited one), never its value; ErrNotFound when ns has none.
func (s *Store) Secret(ctx context.Context, ns, key string) (*SecretInfo, error) {
	if err := ValidateID(ns); err != nil {
		return nil, err
	}
	if err := ValidateSecretKey(key); err != nil {
		return nil, err
	}
	doc, _, err := s.read(ctx, secretDocID(ns, key))
	if err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: secret %s of namespace %s", ErrNotFound, key, ns)
	}
	return doc.secretInfo()
}

// Secrets lists the secrets namespace ns sees: its own and those of its
// ancestors, the nearest winning for a key, sorted by key. Values are
// never returned. Neither ns nor its ancestors need exist.
func (s *Store) Secrets(ctx context.Context, ns string) ([]SecretInfo, error) {
	if err := ValidateID(ns); err != nil {
		return nil, err
	}
	line := lineage(ns)
	docs, err := s.search(ctx, filter(kindSecret, line), nil)
	if err != nil {
		return nil, err
	}
	depth := make(map[string]int, len(line))
	for i, n := range line {
		depth[n] = i
	}
	best := map[string]*document{}
	for i := range docs {
		d := &docs[i]
		if cur, ok := best[d.Key]; !ok || depth[d.Namespace] < depth[cur.Namespace] {
			best[d.Key] = d
		}
	}
	out := make([]SecretInfo, 0, len(best))
	for _, d := range best {
		info, err := d.secretInfo()
		if err != nil {
			return nil, err
		}
		out = append(out, *info)
	}
	sortSecrets(out)
	return out, nil
}

// SecretValue returns the value of secret key as namespace ns sees it:
// its own, else its nearest ancestor's. A key no namespace of the
// lineage holds is ErrNotFound; a ciphertext the store's key cannot open
// wraps secrets.ErrDecrypt; a store without a key returns ErrNoKey.
func (s *Store) SecretValue(ctx context.Context, ns, key string) (string, error) {
	if s.key.IsZero() {
		return "", ErrNoKey
	}
	if err := ValidateID(ns); err != nil {
		return "", err
	}
	if err := ValidateSecretKey(key); err != nil {
		return "", err
	}
	for _, n := range lineage(ns) {
		doc, _, err := s.read(ctx, secretDocID(n, key))
		if err != nil {
			return "", err
		}
		if doc == nil {
			continue
		}
		plain, err := s.key.Open(doc.Sealed, secrets.AAD(s.tenant, n, key))
		if err != nil {
			if doc.Fingerprint != "" && s.key.CheckFingerprint(doc.Fingerprint) != nil {
				err = fmt.Errorf("%w: %w", secrets.ErrWrongKey, err)
			}
			return "", fmt.Errorf("secret %s of namespace %s: %w", key, n, err)
		}
		return string(plain), nil
	}
	return "", fmt.Errorf("%w: secret %s in namespace %s or its ancestors", ErrNotFound, key, ns)
}

func (d *document) secretInfo() (*SecretInfo, error) {
	u, err := parseTime("secret "+d.Key, d.Updated)
	if err != nil {
		return nil, err
	}
	return &SecretInfo{Key: d.Key, Description: d.Description, Namespace: d.Namespace, Updated: u}, nil
}
