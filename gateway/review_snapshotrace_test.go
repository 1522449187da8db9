package gateway_test

import (
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// TestReviewSnapshotRestoreRacesCreate: an index created (and written,
// writes acknowledged) while a restore without overwrite of the same
// index is staging is not replaced, let alone deleted, by the restore.
func TestReviewSnapshotRestoreRacesCreate(t *testing.T) {
	s, _ := startSnapshotServer(t, 3000)
	su := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/s1?wait_for_completion=true", su, "", map[string]any{"tenant": "stage"}), 200)
	mustStatus(t, s.Do(t, "DELETE", "/logs", alice, "stage", nil), 200)

	mustStatus(t, s.Do(t, "POST", "/_snapshot/local/s1/_restore", alice, "", nil), 200)
	// The index comes back by a write while the restore runs.
	acked := 0
	for i := 0; i < 200; i++ {
		r := s.Do(t, "PUT", "/logs/_doc/w"+string(rune('a'+i%26))+string(rune('a'+i/26))+"?refresh=true", alice, "stage", map[string]any{"n": i})
		if r.Status == 201 || r.Status == 200 {
			acked++
		}
	}
	st := waitSnapshot(t, s, alice, "/_snapshot/local/s1", true)
	rs := st["restore"].(map[string]any)
	t.Logf("restore: %v %v; %d writes acknowledged", rs["state"], rs["reason"], acked)
	r := s.Do(t, "GET", "/logs/_count", alice, "stage", nil)
	t.Logf("count: %d %s", r.Status, r.Body)
	if rs["state"] == "SUCCESS" {
		// The restore won: it replaced an index that had acknowledged writes.
		mustStatus(t, r, 200)
		if n := int(r.JSON(t)["count"].(float64)); n != 3000+acked {
			t.Errorf("restore succeeded; logs holds %d documents, want the snapshot's 3000 plus the %d acknowledged writes, or a refused restore", n, acked)
		}
		return
	}
	mustStatus(t, r, 200)
	if n := int(r.JSON(t)["count"].(float64)); n != acked {
		t.Errorf("restore failed; logs holds %d documents, want the %d acknowledged writes", n, acked)
	}
}
