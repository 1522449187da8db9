package gateway_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

// forgeManifest rewrites the manifest of the snapshot directory dir with
// edit and a checksum that holds again, as anyone who can write into the
// repository can.
func forgeManifest(t *testing.T, dir string, edit func(m *snapshot.Manifest)) {
	t.Helper()
	m, err := snapshot.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	m.Checksum = ""
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	body = bytes.Replace(body, []byte(`"checksum": ""`), []byte(`"checksum": "sha256:`+hex.EncodeToString(sum[:])+`"`), 1)
	if err := os.WriteFile(filepath.Join(dir, snapshot.ManifestName), append(body, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies the snapshot directory src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReviewSnapshotForgedManifestStaysInTenant: a tenant's admin
// restoring a snapshot of their tenant whose manifest was forged to hold
// another tenant's indices (or names squatting on them) writes nothing of
// the other tenant.
func TestReviewSnapshotForgedManifestStaysInTenant(t *testing.T) {
	s, repo := startSnapshotServer(t, 5)
	su := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst") // stage's admin
	mustStatus(t, s.Do(t, "POST", "/api/v1/tenants", su, "", map[string]string{"id": "other", "adminUsername": "bob"}), 201)
	bob := testserver.Token(t, "bob")
	indexDocs(t, s, bob, "other", "logs", 0, 3)
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/other-1?wait_for_completion=true", su, "", map[string]any{"tenant": "other"}), 200)
	indexDocs(t, s, bob, "other", "logs", 3, 9) // other's data moves on

	otherLogs := tenants.CustomRef("other").Physical("logs")
	otherSecret := tenants.CustomRef("other").Physical("secret")
	cases := []struct {
		name string
		edit func(m *snapshot.Manifest)
	}{
		{"selection says stage, indices are other's", func(m *snapshot.Manifest) {
			m.Selection.Tenant, m.Control = "stage", nil
		}},
		{"owner says stage, physical name is other's", func(m *snapshot.Manifest) {
			m.Selection.Tenant, m.Control = "stage", nil
			for i := range m.Indices {
				m.Indices[i].Owner, m.Indices[i].Tenant, m.Indices[i].Logical = "custom:stage", "stage", "secret"
				m.Indices[i].Physical = otherSecret
			}
		}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "forged-" + string(rune('a'+i))
			dst := filepath.Join(repo, name)
			copyTree(t, filepath.Join(repo, "other-1"), dst)
			if tc.name != cases[0].name {
				// The index directory goes by its physical name.
				if err := os.Rename(filepath.Join(dst, "indices", otherLogs), filepath.Join(dst, "indices", otherSecret)); err != nil {
					t.Fatal(err)
				}
			}
			forgeManifest(t, dst, tc.edit)
			r := s.Do(t, "POST", "/_snapshot/local/"+name+"/_restore?wait_for_completion=true", alice, "", map[string]any{"overwrite": true})
			if r.Status == 200 {
				t.Errorf("alice restored a forged snapshot: %s", r.Body)
			}
			if got := countDocs(t, s, bob, "other", "logs"); got != 9 {
				t.Errorf("other's logs holds %d documents after alice's restore, want its own 9", got)
			}
			// other's future index "secret" is not taken.
			mustStatus(t, s.Do(t, "PUT", "/secret", bob, "other", nil), 200)
			mustStatus(t, s.Do(t, "DELETE", "/secret", bob, "other", nil), 200)
		})
	}
}
