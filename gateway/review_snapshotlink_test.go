package gateway_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/tenants"
)

// TestReviewSnapshotSymlinkRefused: a snapshot directory whose index file
// is a symbolic link (to anything: another snapshot, another tenant's live
// index files) is refused by restore.
func TestReviewSnapshotSymlinkRefused(t *testing.T) {
	s, repo := startSnapshotServer(t, 5)
	su := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/s1?wait_for_completion=true", su, "", map[string]any{"tenant": "stage"}), 200)
	dst := filepath.Join(repo, "linked")
	copyTree(t, filepath.Join(repo, "s1"), dst)
	stageLogs := tenants.CustomRef("stage").Physical("logs")
	// Every file of the index becomes a link to the same file elsewhere.
	elsewhere := t.TempDir()
	idx := filepath.Join(dst, "indices", stageLogs)
	copyTree(t, idx, elsewhere)
	if err := os.RemoveAll(idx); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, idx); err != nil {
		t.Fatal(err)
	}
	indexDocs(t, s, alice, "stage", "logs", 5, 7)
	r := s.Do(t, "POST", "/_snapshot/local/linked/_restore?wait_for_completion=true", alice, "", map[string]any{"overwrite": true})
	if r.Status == 200 {
		t.Errorf("a snapshot with a symbolic link restored: %s", r.Body)
	}
	if got := countDocs(t, s, alice, "stage", "logs"); got != 7 {
		t.Errorf("stage's logs holds %d documents, want its own 7", got)
	}
}
