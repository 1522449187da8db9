package control

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest name, in bytes, ValidateName accepts.
const MaxNameLength = 256

// ValidateName checks the name of a user, service account, group, role,
// role mapping or token; kind ("user", "group", "role", …) only names it
// in the error. A name is 1 to MaxNameLength bytes of UTF-8 with:
//
//   - no control characters, and no invisible format characters (bidi
//     overrides, zero-width spaces) that would make two names look alike;
//   - no leading or trailing white space;
//   - no '/', and not "." or "..": names are URL path segments;
//   - no '*' or '?': role mappings and the policy engine take them as
//     wildcards, so such a name could not be matched exactly;
//   - not "_meta", the key of the YAML security files' header.
//
// '@' is allowed: tenant-scoped roles are named "<role>@<tenant>", and
// user names are often e-mail addresses. Errors wrap ErrInvalid.
func ValidateName(kind, name string) error {
	switch {
	case name == "":
		return invalidf("%s name must not be empty", kind)
	case len(name) > MaxNameLength:
		return invalidf("%s name is longer than %d bytes", kind, MaxNameLength)
	case !utf8.ValidString(name):
		return invalidf("%s name %q is not valid UTF-8", kind, name)
	case name == "." || name == "..":
		return invalidf("%s name %q is not allowed", kind, name)
	case name == "_meta":
		return invalidf("%s name %q is reserved for the files' header", kind, name)
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return invalidf("%s name %q must not start or end with white space", kind, name)
	}
	if strings.IndexFunc(name, isControlOrFormat) >= 0 {
		return invalidf("%s name %q must not contain control or format characters", kind, name)
	}
	if c := strings.IndexAny(name, "/*?"); c >= 0 {
		return invalidf("%s name %q must not contain %q", kind, name, name[c])
	}
	return nil
}

func isControlOrFormat(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r)
}
