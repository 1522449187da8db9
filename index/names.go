package index

import (
	"regexp"
	"strconv"
	"strings"
)

// MaxNameBytes is the longest index name OpenSearch accepts.
const MaxNameBytes = 255

// tenantShape matches the suffix the OpenSearch security plugin appends to
// tenant index names ("_1592542611_humanresources"). A logical name ending
// like that could collide with another tenant's physical name.
var tenantShape = regexp.MustCompile(`_-?[0-9]+_[a-z0-9]*$`)

// ValidateName checks a logical index name against OpenSearch's rules and
// tenantgate's own: lower case; none of \ / * ? " < > | , # : or space;
// not starting with _ - +; not . or ..; at most 255 bytes; not shaped
// like a tenant index name (see CheckTenantShape). Names starting with "."
// belong to tenantgate's own indices (.kibana, .flows, …) and are allowed
// only when system is set.
func ValidateName(name string, system bool) error {
	bad := func(reason string) error {
		return &Error{Kind: ErrInvalid, Type: "invalid_index_name_exception", Reason: "Invalid index name [" + name + "], " + reason, Index: name}
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case len(name) > MaxNameBytes:
		return bad("index name is too long, (" + strconv.Itoa(len(name)) + " > 255)")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("must not contain control characters")
	case strings.ContainsAny(name, `\/*?"<>|,# :`):
		return bad(`must not contain the following characters [ , ", *, \, <, |, ,, >, /, ?, #, :]`)
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "+"):
		return bad("must not start with '_', '-', or '+'")
	case strings.HasPrefix(name, ".") && !system:
		return bad("names starting with '.' are reserved for tenantgate's own indices")
	}
	return nil
}

// CheckTenantShape refuses a global-tenant name that ends like a tenant
// index name ("_<number>_<name>"): it could be another tenant's physical
// name. Names in other tenants get that suffix appended, and the suffix
// can be split off unambiguously (the hash and the scrubbed name hold no
// "_"), so they cannot collide that way and need no such rule.
func CheckTenantShape(name string) error {
	if tenantShape.MatchString(name) {
		return &Error{Kind: ErrInvalid, Type: "invalid_index_name_exception", Index: name,
			Reason: "Invalid index name [" + name + "], must not end like a tenant index name (_<number>_<name>) in the global tenant"}
	}
	return nil
}

// MatchPattern reports whether name matches an OpenSearch index pattern
// where * matches any run of characters.
func MatchPattern(pattern, name string) bool {
	if !strings.Contains(pattern, "*") {
		return pattern == name
	}
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return strings.HasSuffix(name, last)
}
