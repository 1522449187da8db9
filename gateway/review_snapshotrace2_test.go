package gateway_test

import (
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
)

// TestReviewSnapshotTwoRestoresOneIndex: two restores of the same
// (deleted) index from two snapshots at once: one wins, the other is
// refused, and the index answers with the winner's documents.
func TestReviewSnapshotTwoRestoresOneIndex(t *testing.T) {
	s, _ := startSnapshotServer(t, 2000)
	su := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/s1?wait_for_completion=true", su, "", map[string]any{"tenant": "stage"}), 200)
	indexDocs(t, s, alice, "stage", "logs", 2000, 2500)
	mustStatus(t, s.Do(t, "PUT", "/_snapshot/local/s2?wait_for_completion=true", su, "", map[string]any{"tenant": "stage"}), 200)
	for round := 0; round < 5; round++ {
		mustStatus(t, s.Do(t, "DELETE", "/logs", alice, "stage", nil), 200)
		mustStatus(t, s.Do(t, "POST", "/_snapshot/local/s1/_restore", alice, "", nil), 200)
		mustStatus(t, s.Do(t, "POST", "/_snapshot/local/s2/_restore", alice, "", nil), 200)
		st1 := waitSnapshot(t, s, alice, "/_snapshot/local/s1", true)["restore"].(map[string]any)
		st2 := waitSnapshot(t, s, alice, "/_snapshot/local/s2", true)["restore"].(map[string]any)
		r := s.Do(t, "GET", "/logs/_count", alice, "stage", nil)
		t.Logf("round %d: s1 %v %v; s2 %v %v; count %d %s", round, st1["state"], st1["reason"], st2["state"], st2["reason"], r.Status, r.Body)
		if r.Status != 200 {
			t.Fatalf("after two restores the index does not answer")
		}
		n := int(r.JSON(t)["count"].(float64))
		switch {
		case st1["state"] == "SUCCESS" && st2["state"] == "SUCCESS":
			t.Errorf("both restores succeeded")
		case st1["state"] == "SUCCESS" && n != 2000, st2["state"] == "SUCCESS" && n != 2500:
			t.Errorf("the index holds %d documents, not the winner's", n)
		case st1["state"] != "SUCCESS" && st2["state"] != "SUCCESS":
			t.Errorf("neither restore succeeded")
		}
	}
}
