package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// userVar is the variable a tenant pattern may contain; it is replaced by
// the user name of the caller. userVarAlt is OpenSearch's older spelling.
const (
	userVar    = "${user.name}"
	userVarAlt = "${user_name}"
)

// pattern is a compiled tenant or index pattern.
type pattern struct {
	raw   string // with userVarAlt rewritten to userVar
	templ bool   // contains userVar
	wild  bool   // contains '*' or '?'
}

// exact reports whether the pattern matches exactly one literal name.
func (p pattern) exact() bool { return !p.templ && !p.wild }

// compilePattern compiles a tenant or index pattern; kind ("tenant" or
// "index") names it in errors.
func compilePattern(kind, s string) (pattern, error) {
	if s == "" {
		return pattern{}, fmt.Errorf("empty %s pattern", kind)
	}
	raw := strings.ReplaceAll(s, userVarAlt, userVar)
	rest := strings.ReplaceAll(raw, userVar, "")
	if strings.Contains(rest, "${") {
		return pattern{}, fmt.Errorf("%s pattern %q: unsupported variable (only %s is supported)", kind, s, userVar)
	}
	return pattern{
		raw:   raw,
		templ: len(rest) != len(raw),
		wild:  strings.ContainsAny(raw, "*?"),
	}, nil
}

// matches reports whether name matches p for the given user. A templated
// pattern never matches for an empty user name or one containing wildcard
// characters, so a user name cannot widen a pattern.
func (p pattern) matches(name, user string) bool {
	if !p.templ {
		if !p.wild {
			return name == p.raw
		}
		return globMatch(name, p.raw)
	}
	if user == "" || strings.ContainsAny(user, "*?") {
		return false
	}
	return globMatch(name, strings.ReplaceAll(p.raw, userVar, user))
}

// globMatch reports whether the whole of name matches pat, where '*'
// matches any run of characters (including none) and '?' exactly one
// character (rune). There is no escape character and no other special
// character. It runs in O(len(name)*len(pat)) time at worst and does not
// allocate.
func globMatch(name, pat string) bool {
	var n, p int           // positions in name and pat
	starP, starN := -1, -1 // position after the last '*' in pat, and where it resumed in name
	for n < len(name) {
		if p < len(pat) {
			switch c := pat[p]; c {
			case '*':
				p++
				starP, starN = p, n
				continue
			case '?':
				_, size := utf8.DecodeRuneInString(name[n:])
				p++
				n += size
				continue
			default:
				if name[n] == c {
					p++
					n++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last '*' swallow one more character and retry.
		_, size := utf8.DecodeRuneInString(name[starN:])
		starN += size
		p, n = starP, starN
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}
