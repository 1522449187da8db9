package control_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/index"
)

// TestCatalogSharesTheFile keeps the index catalog in the control store's
// file: both survive a restart, and closing the catalog leaves the store
// open.
func TestCatalogSharesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.db")
	st := openAt(t, path)
	cat, err := index.NewCatalog(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	entry := index.Entry{Physical: "logs_123_stage", Owner: "custom:stage", Logical: "logs", Created: at(0)}
	if err := cat.Register(entry); err != nil {
		t.Fatal(err)
	}
	if err := cat.PutTemplate("custom:stage", index.Template{Name: "logs", IndexPatterns: []string{"logs-*"}}); err != nil {
		t.Fatal(err)
	}
	if err := cat.Close(); err != nil {
		t.Fatal(err)
	}
	update(t, st, func(tx *control.Tx) error { return tx.PutTenant(control.Tenant{ID: "stage"}) })
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openAt(t, path)
	cat, err = index.NewCatalog(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := cat.Entry("logs_123_stage"); !ok || got != entry {
		t.Errorf("catalog entry after restart = %+v, %v", got, ok)
	}
	if tpls := cat.Templates("custom:stage"); len(tpls) != 1 || tpls[0].Name != "logs" {
		t.Errorf("templates after restart = %+v", tpls)
	}
	view(t, st, func(tx *control.Tx) error {
		_, err := tx.Tenant("stage")
		return err
	})
	// ApplyFiles does not touch the catalog's buckets.
	if _, err := st.ApplyFiles(control.Security{}, at(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, ok := cat.Entry("logs_123_stage"); !ok {
		t.Error("catalog entry gone after ApplyFiles")
	}
}

// TestMoveCatalog moves an older data directory's catalog.db into the
// control store's file.
func TestMoveCatalog(t *testing.T) {
	dir := t.TempDir()
	oldPath := filepath.Join(dir, "catalog.db")
	entry := index.Entry{Physical: "logs_1_stage", Owner: "custom:stage", Logical: "logs", Created: at(0)}
	old, err := index.OpenCatalog(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(
		old.Register(entry),
		old.PutTemplate("custom:stage", index.Template{Name: "logs", IndexPatterns: []string{"logs-*"}}),
		old.Close(),
	); err != nil {
		t.Fatal(err)
	}

	st := openAt(t, filepath.Join(dir, "control.db"))
	n, err := index.MoveCatalog(st.DB(), oldPath)
	if err != nil || n != 2 {
		t.Fatalf("MoveCatalog = %d, %v; want 2, nil", n, err)
	}
	if _, err := os.Stat(oldPath); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old catalog still at %s: %v", oldPath, err)
	}
	cat, err := index.NewCatalog(st.DB())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := cat.Entry(entry.Physical); !ok || got != entry {
		t.Errorf("moved entry = %+v, %v", got, ok)
	}
	if tpls := cat.Templates("custom:stage"); len(tpls) != 1 {
		t.Errorf("moved templates = %+v", tpls)
	}

	t.Run("nothing to move", func(t *testing.T) {
		if n, err := index.MoveCatalog(st.DB(), oldPath); n != 0 || err != nil {
			t.Errorf("MoveCatalog without a file = %d, %v", n, err)
		}
	})
	t.Run("interrupted before the rename", func(t *testing.T) {
		if err := os.Rename(oldPath+".moved", oldPath); err != nil {
			t.Fatal(err)
		}
		if n, err := index.MoveCatalog(st.DB(), oldPath); n != 0 || err != nil {
			t.Errorf("MoveCatalog again = %d, %v; want 0, nil", n, err)
		}
		if _, err := os.Stat(oldPath + ".moved"); err != nil {
			t.Error(err)
		}
	})
	t.Run("conflict copies nothing", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "catalog.db")
		c, err := index.OpenCatalog(other)
		if err != nil {
			t.Fatal(err)
		}
		if err := errors.Join(
			c.Register(index.Entry{Physical: "a_new_one", Owner: "global", Logical: "a_new_one"}),
			c.Register(index.Entry{Physical: entry.Physical, Owner: "custom:other", Logical: "logs"}),
			c.Close(),
		); err != nil {
			t.Fatal(err)
		}
		n, err := index.MoveCatalog(st.DB(), other)
		if !errors.Is(err, index.ErrConflict) || n != 0 {
			t.Fatalf("MoveCatalog = %d, %v; want 0, ErrConflict", n, err)
		}
		if _, err := os.Stat(other); err != nil {
			t.Errorf("conflicting catalog was renamed: %v", err)
		}
		again, err := index.NewCatalog(st.DB())
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := again.Entry("a_new_one"); ok {
			t.Error("a failed move copied an entry")
		}
	})
}
