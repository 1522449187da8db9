package namespaces

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxIDLength is the longest namespace id, as Kestra's flow namespaces.
const MaxIDLength = 150

// MaxSecretKeyLength is the longest secret key.
const MaxSecretKeyLength = 255

var (
	idPattern        = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	secretKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
)

// Namespace is one namespace of a tenant as the store keeps it.
type Namespace struct {
	ID             string
	Description    string
	Variables      map[string]any
	PluginDefaults []PluginDefault
	Created        time.Time
	Updated        time.Time
}

// PluginDefault gives default property values to the tasks whose type
// is Type or starts with it (Kestra's prefix rule: "io.kestra.plugin.aws"
// covers every AWS task). A forced default overrides the task's own
// values and cannot be replaced by a descendant namespace.
type PluginDefault struct {
	Type   string         `json:"type"`
	Values map[string]any `json:"values"`
	Forced bool           `json:"forced"`
}

// Matches reports whether d applies to tasks of type taskType: the same
// type, or a type it is a prefix of.
func (d PluginDefault) Matches(taskType string) bool {
	return strings.HasPrefix(taskType, d.Type)
}

// ValidateID checks a namespace id: lower-case letters, digits, ".",
// "_" and "-", starting with a letter or digit, at most MaxIDLength
// characters. The error wraps ErrInvalid.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: namespace id is required", ErrInvalid)
	case len(id) > MaxIDLength:
		return fmt.Errorf("%w: namespace id must be at most %d characters", ErrInvalid, MaxIDLength)
	case !idPattern.MatchString(id):
		return fmt.Errorf("%w: namespace id %q must match %q", ErrInvalid, id, idPattern.String())
	}
	return nil
}

// ValidateSecretKey checks a secret key: letters, digits, "_", "." and
// "-", starting with a letter, digit or "_", at most MaxSecretKeyLength
// characters. The error wraps ErrInvalid.
func ValidateSecretKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: secret key is required", ErrInvalid)
	case len(key) > MaxSecretKeyLength:
		return fmt.Errorf("%w: secret key must be at most %d characters", ErrInvalid, MaxSecretKeyLength)
	case !secretKeyPattern.MatchString(key):
		return fmt.Errorf("%w: secret key %q must match %q", ErrInvalid, key, secretKeyPattern.String())
	}
	return nil
}

// Ancestors returns the ancestors of namespace id, nearest first:
// "company.marketing" then "company" for "company.marketing.emea".
// Empty segments (".." or a trailing dot) give no ancestor.
func Ancestors(id string) []string {
	var out []string
	for i := len(id) - 1; i > 0; i-- {
		if id[i] == '.' && id[i-1] != '.' {
			out = append(out, id[:i])
		}
	}
	return out
}

// lineage is id then its ancestors, nearest first.
func lineage(id string) []string { return append([]string{id}, Ancestors(id)...) }

func validateDefaults(defs []PluginDefault) error {
	for i, d := range defs {
		if strings.TrimSpace(d.Type) == "" {
			return fmt.Errorf("%w: pluginDefaults[%d].type is required", ErrInvalid, i)
		}
		for j := range i {
			if defs[j].Type == d.Type {
				return fmt.Errorf("%w: pluginDefaults[%d].type %q is given twice", ErrInvalid, i, d.Type)
			}
		}
	}
	return nil
}
