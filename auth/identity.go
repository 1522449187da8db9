package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSubjectBytes is the longest user name (subject claim) accepted, in
// bytes.
const MaxSubjectBytes = 256

// subjectProblem returns why name cannot be a user name, or "" when it
// can. Identities are never normalised (trimmed, case-folded): a name that
// is not exactly what it looks like is refused, so that " admin" or
// "admin\x00" can never become, or be shown as, "admin".
func subjectProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case len(name) > MaxSubjectBytes:
		return "is longer than 256 bytes"
	case hasControl(name):
		return "contains a control character"
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "has leading or trailing whitespace"
	}
	return ""
}

// hasControl reports whether s contains a control character (Unicode
// category Cc: C0 including NUL, DEL, and C1).
func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}
