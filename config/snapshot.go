package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
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
