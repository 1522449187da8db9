package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Snapshot configures snapshots (PUT /_snapshot/{repository}/{name} and
// "tenantgate snapshot").
type Snapshot struct {
	// Repositories maps a repository name, as the REST API names it, to
	// the directory that holds its snapshots. A relative directory is
	// relative to the configuration file's directory (to the working
	// directory when there is no file); Load makes it absolute. A
	// directory that does not exist is created when the first snapshot is
	// written into it.
	Repositories map[string]string `yaml:"repositories"`
	// MaxBytesPerSec limits the rate at which a snapshot is copied,
	// checksummed and written (OpenSearch's repository setting
	// max_snapshot_bytes_per_sec), as a byte size such as "40mb"; "0" is
	// unlimited. A throttled snapshot leaves the disk and the cores to
	// the gateway's writes: unthrottled, a snapshot copies as fast as the
	// disk allows and fsynced writes meanwhile wait several times longer.
	MaxBytesPerSec string `yaml:"max_bytes_per_sec"`
	// MaxRestoreBytesPerSec limits the rate at which a restore writes
	// (OpenSearch's max_restore_bytes_per_sec), as a byte size; "0", the
	// default as in OpenSearch, is unlimited.
	MaxRestoreBytesPerSec string `yaml:"max_restore_bytes_per_sec"`
}

// DefaultSnapshotBytesPerSec is snapshot.max_bytes_per_sec's default.
// OpenSearch's default is 40mb. Measured here (BenchmarkSnapshot
// write-latency, on a 2-core VM with an ext4 virtio disk), the p99 of
// concurrent fsynced writes while snapshots ran back to back was, against
// no snapshot: +19% to +23% at 40 MB/s (at the edge of the ≤ 20% target),
// -11% to -9% at 30 MB/s, -14% to +11% at 20 MB/s, and +250% unthrottled.
// 20 MB/s keeps a margin on a busier disk; a 1 GB index then takes about
// 50 s. Set it higher (or "0") where the disk has room to spare.
const DefaultSnapshotBytesPerSec = "20mb"

// SnapshotBytesPerSec returns snapshot.max_bytes_per_sec in bytes per
// second, 0 for unlimited (Validate reports a value that does not parse;
// here it counts as unlimited).
func (s Snapshot) SnapshotBytesPerSec() int64 {
	n, _ := ParseByteSize(s.MaxBytesPerSec)
	return n
}

// RestoreBytesPerSec returns snapshot.max_restore_bytes_per_sec in bytes
// per second, 0 for unlimited.
func (s Snapshot) RestoreBytesPerSec() int64 {
	n, _ := ParseByteSize(s.MaxRestoreBytesPerSec)
	return n
}

// byteUnits are the units of a byte size, OpenSearch's, in powers of
// 1024.
var byteUnits = map[string]int64{
	"b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20, "g": 1 << 30, "gb": 1 << 30,
	"t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50,
}

// byteSize is a number and a unit: "40mb", "1.5gb", "512kb".
var byteSize = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([a-z]+)$`)

// ParseByteSize parses a byte size as OpenSearch writes them: a number
// and a unit (b, kb, mb, gb, tb, pb or k, m, g, t, p, in powers of 1024,
// any case), "0" or "" for zero. "-1", OpenSearch's "unlimited" for some
// settings, is zero too.
func ParseByteSize(v string) (int64, error) {
	v = strings.ToLower(strings.TrimSpace(v))
	switch v {
	case "", "0", "-1":
		return 0, nil
	}
	m := byteSize.FindStringSubmatch(v)
	if m == nil {
		return 0, fmt.Errorf("%q is not a byte size (a number and a unit: b, kb, mb, gb, tb, pb; or 0 for unlimited)", v)
	}
	unit, ok := byteUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q (b, kb, mb, gb, tb, pb)", v, m[2])
	}
	x, err := strconv.ParseFloat(m[1], 64)
	if err != nil || x*float64(unit) >= 1<<62 {
		return 0, fmt.Errorf("%q is not a byte size this can hold", v)
	}
	return int64(x * float64(unit)), nil
}

// repositoryName is what a repository may be called: it goes into URL
// paths, so letters, digits, '.', '_' and '-', not starting with '_'
// (OpenSearch's _all, _status) or another punctuation mark.
var repositoryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Repository returns the directory of the repository named name.
func (s Snapshot) Repository(name string) (string, bool) {
	dir, ok := s.Repositories[name]
	return dir, ok && dir != ""
}

// RepositoryNames returns the names of the repositories, sorted.
func (s Snapshot) RepositoryNames() []string {
	names := make([]string, 0, len(s.Repositories))
	for n := range s.Repositories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// resolve makes every relative repository directory absolute, relative
// to the directory of the configuration file at path (the working
// directory when path is empty).
func (s *Snapshot) resolve(path string) error {
	base := "."
	if path != "" {
		base = filepath.Dir(path)
	}
	for name, dir := range s.Repositories {
		if strings.TrimSpace(dir) == "" || filepath.IsAbs(dir) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(base, dir))
		if err != nil {
			return fmt.Errorf("snapshot.repositories.%s: %w", name, err)
		}
		s.Repositories[name] = abs
	}
	return nil
}

// validate checks the repository names and directories; a directory may
// not be the data directory or lie inside it, where a snapshot would be
// taken of itself or be mistaken for data.
func (s Snapshot) validate(dataDir string) []error {
	var errs []error
	for _, kv := range [][2]string{{"snapshot.max_bytes_per_sec", s.MaxBytesPerSec}, {"snapshot.max_restore_bytes_per_sec", s.MaxRestoreBytesPerSec}} {
		if _, err := ParseByteSize(kv[1]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", kv[0], err))
		}
	}
	data := ""
	if dataDir != "" {
		data, _ = filepath.Abs(dataDir)
	}
	for _, name := range s.RepositoryNames() {
		dir := s.Repositories[name]
		key := "snapshot.repositories." + name
		switch {
		case !repositoryName.MatchString(name):
			errs = append(errs, fmt.Errorf("snapshot.repositories: the name %q must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name))
		case strings.TrimSpace(dir) == "":
			errs = append(errs, fmt.Errorf("%s: the directory must not be empty", key))
		case !filepath.IsAbs(dir):
			errs = append(errs, fmt.Errorf("%s: %q must be an absolute directory (in a configuration file, relative directories are relative to the file)", key, dir))
		case data != "" && within(filepath.Clean(dir), data):
			errs = append(errs, fmt.Errorf("%s: %q is inside data_dir %q: keep snapshots outside the data they back up", key, dir, dataDir))
		}
	}
	return errs
}

// within reports whether path is dir or lies below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
