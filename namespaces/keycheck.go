package namespaces

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/secrets"
)

// CheckKey is the start-up check of secrets.encryption_key against the
// secrets stored in every tenant (every ".namespaces" index in the
// catalog of svc, deleted tenants not yet purged included). With no
// secret stored, any key (or none) is fine. Otherwise key must be set
// (an error wrapping ErrNoKey) and be the key every secret was sealed
// with, as told by the fingerprint stored beside each (an error wrapping
// secrets.ErrWrongKey). Nothing is decrypted, and the errors name the
// configuration key, how many secrets are concerned and the first of
// them (tenant, namespace and key), never a value.
func CheckKey(ctx context.Context, svc *index.Service, key secrets.Key) error {
	var names []string
	owner := map[string]string{}
	for _, e := range svc.Catalog().All() {
		if e.Logical == IndexName {
			names = append(names, e.Physical)
			owner[e.Physical] = e.Owner
		}
	}
	if len(names) == 0 {
		return nil
	}
	filter := []any{map[string]any{"term": map[string]any{"kind": kindSecret}}}
	q := map[string]any{"bool": map[string]any{"filter": filter}}
	if !key.IsZero() {
		q["bool"].(map[string]any)["must_not"] = []any{map[string]any{"term": map[string]any{"fingerprint": key.Fingerprint()}}}
	}
	raw, err := json.Marshal(q)
	if err != nil {
		return err
	}
	res, err := svc.Backend().Search(ctx, names, &index.SearchRequest{Query: raw, Size: 1,
		TrackTotalHits: json.RawMessage("true"), Sort: json.RawMessage(`[{"namespace":"asc"},{"key":"asc"}]`)})
	if err != nil {
		return fmt.Errorf("checking secrets.encryption_key against the stored secrets: %w", err)
	}
	if res.Total == 0 || len(res.Hits) == 0 {
		return nil
	}
	var first document
	if err := json.Unmarshal(res.Hits[0].Source, &first); err != nil {
		return fmt.Errorf("checking secrets.encryption_key: decoding a stored secret: %w", err)
	}
	where := fmt.Sprintf("first: tenant %s, namespace %s, key %s", owner[res.Hits[0].Index], first.Namespace, first.Key)
	if key.IsZero() {
		return fmt.Errorf("secrets.encryption_key is not set, but %d namespace secrets are stored (%s): "+
			"configure the key they were sealed with: %w", res.Total, where, ErrNoKey)
	}
	stored := first.Fingerprint
	if stored == "" {
		stored = "none recorded"
	}
	return fmt.Errorf("secrets.encryption_key does not open %d of the stored namespace secrets (%s; "+
		"sealed under key fingerprint %s, configured key's is %s): configure the key they were sealed with: %w",
		res.Total, where, stored, key.Fingerprint(), secrets.ErrWrongKey)
}
