package tenants

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Reserved tenant ids that can never name a custom tenant.
const (
	Global       = "global"
	Private      = "private"
	PrivateAlias = "__user__"
	GlobalAlias  = "global_tenant"
)

// MaxIDLength is the longest tenant id accepted.
const MaxIDLength = 64

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidateID checks a custom tenant id: ^[a-z0-9][a-z0-9_-]*$, at most 64
// characters, and not one of the reserved names.
func ValidateID(id string) error {
	switch {
	case id == "":
		return invalidf("tenant id must not be empty")
	case len(id) > MaxIDLength:
		return invalidf("tenant id [%s] is longer than %d characters", id, MaxIDLength)
	case !idPattern.MatchString(id):
		return invalidf("tenant id [%s] must match ^[a-z0-9][a-z0-9_-]*$", id)
	case IsReserved(id):
		return invalidf("tenant id [%s] is reserved", id)
	}
	return nil
}

// IsReserved reports whether id is one of the reserved tenant names: the
// global and private tenants' names, and the first path segments of
// instance-level API routes (/api/v1/tenants, /api/v1/users, …), which
// would hide a tenant's /api/v1/{tenant}/… routes.
func IsReserved(id string) bool {
	switch strings.ToLower(id) {
	case Global, Private, PrivateAlias, GlobalAlias,
		"tenants", "users", "service-accounts", "groups", "audit", "auth":
		return true
	}
	return false
}

// JavaHashCode returns Java's String.hashCode() of s: s[0]*31^(n-1) + … +
// s[n-1] over UTF-16 code units, in signed 32-bit arithmetic. The
// OpenSearch security plugin uses it in tenant index names.
func JavaHashCode(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// Scrub lower-cases name and removes every character outside [a-z0-9], as
// the OpenSearch security plugin does for index names.
func Scrub(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PhysicalName returns the physical index name for a logical base name in
// a tenant whose raw name (custom tenant id or, for a private tenant, the
// user name) is rawTenant: "<base>_<hashCode(rawTenant)>_<scrubbed>".
// The global tenant keeps plain names; callers pass base unchanged there.
func PhysicalName(base, rawTenant string) string {
	return base + "_" + strconv.FormatInt(int64(JavaHashCode(rawTenant)), 10) + "_" + Scrub(rawTenant)
}
