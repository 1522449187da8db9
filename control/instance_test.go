package control_test

import (
	"path/filepath"
	"regexp"
	"testing"
)

// TestInstanceID checks that a data directory gets a random id when its
// store is first opened and keeps it across reopens.
func TestInstanceID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.db")
	st := openAt(t, path)
	id, err := st.InstanceID()
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Fatalf("instance id %q is not 32 hex digits", id)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := openAt(t, path).InstanceID()
	if err != nil || again != id {
		t.Fatalf("after reopening: %q, %v; want %q", again, err, id)
	}
	other, err := openStore(t).InstanceID()
	if err != nil || other == id {
		t.Fatalf("another data directory's id: %q, %v", other, err)
	}
}
