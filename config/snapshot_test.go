package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSnapshotRepositoriesResolve(t *testing.T) {
	p := writeFile(t, `
auth:
  jwt:
    signing_keys: ["base64:c2VjcmV0"]
snapshot:
  repositories:
    local: ./backups
    nas: /mnt/nas/tenantgate
`)
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(p), "backups"); cfg.Snapshot.Repositories["local"] != want {
		t.Fatalf("local = %q, want %q (relative to the config file)", cfg.Snapshot.Repositories["local"], want)
	}
	if dir, ok := cfg.Snapshot.Repository("nas"); !ok || dir != "/mnt/nas/tenantgate" {
		t.Fatalf("nas = %q %v", dir, ok)
	}
	if _, ok := cfg.Snapshot.Repository("other"); ok {
		t.Fatal("an undeclared repository was found")
	}
	if got := strings.Join(cfg.Snapshot.RepositoryNames(), ","); got != "local,nas" {
		t.Fatalf("names = %q", got)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}

	// The environment replaces the map; its relative directories are
	// relative to the file too.
	cfg, err = Load(p, []string{"TENANTGATE_SNAPSHOT_REPOSITORIES=a=/x/a, b=rel"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Snapshot.Repositories) != 2 || cfg.Snapshot.Repositories["a"] != "/x/a" ||
		cfg.Snapshot.Repositories["b"] != filepath.Join(filepath.Dir(p), "rel") {
		t.Fatalf("from the environment: %v", cfg.Snapshot.Repositories)
	}
	if _, err := Load(p, []string{"TENANTGATE_SNAPSHOT_REPOSITORIES=nonsense"}); err == nil || !strings.Contains(err.Error(), "snapshot.repositories") {
		t.Fatalf("a malformed variable: %v", err)
	}
}

func TestSnapshotRepositoriesValidate(t *testing.T) {
	cases := map[string]struct {
		repos map[string]string
		want  string
	}{
		"underscore name": {map[string]string{"_all": "/b"}, `the name "_all"`},
		"slash in name":   {map[string]string{"a/b": "/b"}, `the name "a/b"`},
		"empty dir":       {map[string]string{"local": " "}, "snapshot.repositories.local: the directory must not be empty"},
		"relative dir":    {map[string]string{"local": "rel"}, "snapshot.repositories.local: \"rel\" must be an absolute directory"},
		"data dir":        {map[string]string{"local": "/srv/data"}, "inside data_dir"},
		"in data dir":     {map[string]string{"local": "/srv/data/snaps"}, "inside data_dir"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := Default()
			cfg.Auth.JWT.SigningKeys = []string{"base64:c2VjcmV0"}
			cfg.DataDir = "/srv/data"
			cfg.Snapshot.Repositories = c.repos
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want %q", err, c.want)
			}
		})
	}
	cfg := Default()
	cfg.Auth.JWT.SigningKeys = []string{"base64:c2VjcmV0"}
	cfg.DataDir = "/srv/data"
	cfg.Snapshot.Repositories = map[string]string{"beside": "/srv/data-snapshots", "x.y-z_1": "/srv/b"}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("a sibling of data_dir and a dotted name: %v", err)
	}
}

func TestParseByteSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "0"}, {in: ""}, {in: "-1"},
		{in: "40mb", want: 40 << 20}, {in: "40MB", want: 40 << 20}, {in: "40m", want: 40 << 20},
		{in: "512kb", want: 512 << 10}, {in: "1.5gb", want: 3 << 29}, {in: "100b", want: 100},
		{in: " 2 tb ", want: 2 << 40},
		{in: "40", bad: true}, {in: "mb", bad: true}, {in: "40xb", bad: true}, {in: "-5mb", bad: true},
		{in: "1e3mb", bad: true}, {in: "99999999pb", bad: true},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseByteSize(c.in)
			switch {
			case c.bad && err == nil:
				t.Fatalf("ParseByteSize(%q) = %d, want an error", c.in, got)
			case !c.bad && (err != nil || got != c.want):
				t.Fatalf("ParseByteSize(%q) = %d, %v, want %d", c.in, got, err, c.want)
			}
		})
	}
}

// TestSnapshotRates: the defaults (20mb for snapshots, unlimited
// restores), the file, the environment, and Validate naming the key at
// fault.
func TestSnapshotRates(t *testing.T) {
	cfg := Default()
	if got := cfg.Snapshot.SnapshotBytesPerSec(); got != 20<<20 {
		t.Fatalf("default snapshot rate %d, want 20 MB/s", got)
	}
	if got := cfg.Snapshot.RestoreBytesPerSec(); got != 0 {
		t.Fatalf("default restore rate %d, want unlimited", got)
	}
	p := writeFile(t, `
auth:
  jwt:
    signing_keys: ["base64:c2VjcmV0"]
snapshot:
  max_bytes_per_sec: 10mb
  max_restore_bytes_per_sec: 1gb
`)
	cfg, err := Load(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Snapshot.SnapshotBytesPerSec() != 10<<20 || cfg.Snapshot.RestoreBytesPerSec() != 1<<30 {
		t.Fatalf("from the file: %d, %d", cfg.Snapshot.SnapshotBytesPerSec(), cfg.Snapshot.RestoreBytesPerSec())
	}
	cfg, err = Load(p, []string{"TENANTGATE_SNAPSHOT_MAX_BYTES_PER_SEC=0", "TENANTGATE_SNAPSHOT_MAX_RESTORE_BYTES_PER_SEC=20mb"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Snapshot.SnapshotBytesPerSec() != 0 || cfg.Snapshot.RestoreBytesPerSec() != 20<<20 {
		t.Fatalf("from the environment: %d, %d", cfg.Snapshot.SnapshotBytesPerSec(), cfg.Snapshot.RestoreBytesPerSec())
	}
	for _, key := range []string{"max_bytes_per_sec", "max_restore_bytes_per_sec"} {
		cfg, err := Load(p, []string{EnvName("snapshot."+key) + "=fast"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "snapshot."+key+`: "fast" is not a byte size`) {
			t.Fatalf("Validate with %s=fast: %v", key, err)
		}
	}
}
