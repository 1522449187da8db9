package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// API token layout: "tgat_" + 12-character id + "_" + 43-character secret.
const (
	// APITokenPrefix starts every API token, so that a token is easy to
	// recognise in a header, a log line or a secret scanner's rules.
	APITokenPrefix = "tgat_"
	// APITokenIDLen is the length of a token id: 12 characters of
	// lowercase base32 (a–z, 2–7), 60 random bits.
	APITokenIDLen = 12
	// APITokenSecretLen is the length of a token's secret: 32 random
	// bytes in unpadded base64url.
	APITokenSecretLen = 43
	// APITokenLen is the length of a whole API token.
	APITokenLen = len(APITokenPrefix) + APITokenIDLen + 1 + APITokenSecretLen
)

const (
	apiTokenSecretBytes = 32
	base32Lower         = "abcdefghijklmnopqrstuvwxyz234567"
	base64URL           = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

// APIToken is a newly created API token. Only Token can authenticate, and
// it is shown to its owner once: what is stored is ID, Prefix and Hash.
type APIToken struct {
	// Token is the whole token, "tgat_<id>_<secret>". Never store or log it.
	Token string
	// ID identifies the token among its owner's tokens and in the store.
	ID string
	// Prefix is "tgat_<id>", safe to display so an owner can tell tokens
	// apart; it reveals nothing of the secret.
	Prefix string
	// Hash is the SHA-256 of Token, the only form in which it is kept.
	Hash []byte
}

// NewAPIToken returns a new random API token. The secret has 256 bits of
// entropy, so a plain SHA-256 is a sufficient stored form: unlike a
// password it cannot be guessed, and checking it costs a hash, not a
// bcrypt.
func NewAPIToken() (APIToken, error) {
	var idBytes [APITokenIDLen]byte
	var secret [apiTokenSecretBytes]byte
	if _, err := rand.Read(idBytes[:]); err != nil {
		return APIToken{}, fmt.Errorf("generating token id: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return APIToken{}, fmt.Errorf("generating token secret: %w", err)
	}
	for i, b := range idBytes {
		idBytes[i] = base32Lower[b&31] // 32 divides 256: uniform
	}
	id := string(idBytes[:])
	tok := APITokenPrefix + id + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	return APIToken{
		Token:  tok,
		ID:     id,
		Prefix: APITokenPrefix + id,
		Hash:   HashAPIToken(tok),
	}, nil
}

// ParseAPIToken reports whether s has the shape of an API token and
// returns its id. It only looks at the characters (no decoding, no
// allocation unless s is a token), so the gateway can tell an API token
// from a JWT before choosing how to check it; whether the token is real is
// decided by TokenMatches against the stored hash. The id is a copy and
// does not share memory with s.
func ParseAPIToken(s string) (id string, ok bool) {
	if len(s) != APITokenLen || !strings.HasPrefix(s, APITokenPrefix) {
		return "", false
	}
	rest := s[len(APITokenPrefix):]
	id, secret := rest[:APITokenIDLen], rest[APITokenIDLen:]
	if secret[0] != '_' {
		return "", false
	}
	secret = secret[1:]
	for i := range len(id) {
		if strings.IndexByte(base32Lower, id[i]) < 0 {
			return "", false
		}
	}
	for i := range len(secret) {
		if strings.IndexByte(base64URL, secret[i]) < 0 {
			return "", false
		}
	}
	// 43 characters carry 258 bits for 256: the last character's two low
	// bits are padding and must be zero, so each secret has one spelling.
	if strings.IndexByte(base64URL, secret[len(secret)-1])&3 != 0 {
		return "", false
	}
	return strings.Clone(id), true
}

// HashAPIToken returns the SHA-256 of the whole token s, the form stored
// in place of the token.
func HashAPIToken(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// TokenMatches reports whether presented is the token whose hash is
// storedHash. The hashes are compared in constant time, so the time taken
// says nothing about how much of the hash matched. A storedHash that is
// not a SHA-256 (empty, wrong length) never matches.
func TokenMatches(storedHash []byte, presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	return len(storedHash) == sha256.Size && subtle.ConstantTimeCompare(storedHash, sum[:]) == 1
}

// MaxTokenAge is the longest lifetime ParseMaxAge accepts: ten years of
// 365 days ("3650d", "P3650D", "87600h").
const MaxTokenAge = 3650 * 24 * time.Hour

// maxAgeInputLen bounds the max_age strings ParseMaxAge looks at.
const maxAgeInputLen = 64

// ParseMaxAge parses a token lifetime written as a Go duration ("1h",
// "90m", "24h", "1h30m") or an ISO-8601 duration ("PT1H", "PT30M", "P1D",
// "P1DT2H30M", "P2W"; designators upper or lower case; the smallest
// component may have a decimal fraction, "PT1.5H"). Years and months are
// refused because their length varies, and so are zero, negative
// durations and durations longer than MaxTokenAge; errors wrap
// ErrInvalidMaxAge and quote the value.
//
// The empty string returns (0, nil): no lifetime was given, and the
// caller decides what that means (a default lifetime, or no expiry).
func ParseMaxAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > maxAgeInputLen {
		return 0, &maxAgeError{value: s[:maxAgeInputLen] + "…", problem: "is too long to be a duration"}
	}
	d, problem := parseDuration(s)
	if problem == "" {
		switch {
		case d == 0:
			problem = "must be longer than zero"
		case d < 0:
			problem = "must not be negative"
		case d > MaxTokenAge:
			problem = "is longer than the maximum of 10 years (3650 days)"
		}
	}
	if problem != "" {
		return 0, &maxAgeError{value: s, problem: problem}
	}
	return d, nil
}

// parseDuration parses s as an ISO-8601 duration when it starts with "P"
// (after an optional sign), as a Go duration otherwise. It returns why s
// is not a duration, or "".
func parseDuration(s string) (time.Duration, string) {
	body, neg := strings.CutPrefix(s, "-")
	if !neg {
		body = strings.TrimPrefix(s, "+")
	}
	if !isISODuration(body) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, `is not a duration; write it as "1h" or "90m", or in ISO-8601 as "PT1H", "P1D" or "P2W"`
		}
		return d, ""
	}
	d, problem := parseISODuration(body)
	if neg {
		d = -d
	}
	return d, problem
}

func isISODuration(s string) bool { return s != "" && (s[0] == 'P' || s[0] == 'p') }

// ISO-8601 units, in the order they must appear.
var (
	isoDateUnits = []isoUnit{{'Y', 0}, {'M', 0}, {'W', 7 * 24 * time.Hour}, {'D', 24 * time.Hour}}
	isoTimeUnits = []isoUnit{{'H', time.Hour}, {'M', time.Minute}, {'S', time.Second}}
)

// isoUnit is a designator and its length; 0 marks years and months.
type isoUnit struct {
	designator byte
	length     time.Duration
}

// parseISODuration parses "P[nY][nM][nW][nD][T[nH][nM][nS]]" (years and
// months refused) and returns the duration, capped just above MaxTokenAge,
// or why s is refused.
func parseISODuration(s string) (time.Duration, string) {
	const syntax = `is not an ISO-8601 duration such as "PT1H", "P1D", "P1DT2H30M" or "P2W"`
	date, clock, hasT := strings.Cut(strings.ToUpper(s[1:]), "T")
	if date == "" && (!hasT || clock == "") {
		return 0, syntax
	}
	if hasT && clock == "" {
		return 0, syntax + ` ("T" must be followed by hours, minutes or seconds)`
	}
	var total time.Duration
	fractionSeen := false
	for _, part := range []struct {
		text  string
		units []isoUnit
	}{{date, isoDateUnits}, {clock, isoTimeUnits}} {
		text, units := part.text, part.units
		for text != "" {
			if fractionSeen {
				return 0, syntax + " (only the smallest component may have a fraction)"
			}
			n := strings.IndexFunc(text, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != ',' })
			if n <= 0 {
				return 0, syntax
			}
			number, designator := text[:n], text[n]
			text = text[n+1:]
			i := 0
			for i < len(units) && units[i].designator != designator {
				i++
			}
			if i == len(units) {
				return 0, syntax
			}
			unit := units[i]
			units = units[i+1:] // each unit once, in order
			if unit.length == 0 {
				return 0, `uses years or months, whose length varies; give days or weeks instead ("P365D", "P4W")`
			}
			whole, frac, hasFrac := strings.Cut(strings.ReplaceAll(number, ",", "."), ".")
			if whole == "" || (hasFrac && frac == "") || strings.ContainsRune(frac, '.') {
				return 0, syntax
			}
			fractionSeen = hasFrac
			v, err := componentLength(whole, frac, unit.length)
			if err != nil {
				return 0, syntax
			}
			// Each component is at most MaxTokenAge+1 and there are at
			// most five, so the sum cannot overflow.
			total += v
		}
	}
	return total, ""
}

// componentLength returns whole.frac times unit, or MaxTokenAge+1 when
// that is longer than MaxTokenAge. unit is a whole number of seconds, so
// dividing it by up to 10⁹ for the fraction is exact.
func componentLength(whole, frac string, unit time.Duration) (time.Duration, error) {
	over := MaxTokenAge + 1
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 18 {
		return over, nil
	}
	n, err := strconv.ParseInt("0"+whole, 10, 64)
	if err != nil {
		return 0, err
	}
	if n > int64(MaxTokenAge/unit) {
		return over, nil
	}
	d := time.Duration(n) * unit
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 9 {
		frac = frac[:9] // below a nanosecond
	}
	if frac != "" {
		f, err := strconv.ParseInt(frac, 10, 64)
		if err != nil {
			return 0, err
		}
		scale := time.Duration(1)
		for range len(frac) {
			scale *= 10
		}
		d += unit / scale * time.Duration(f)
	}
	return d, nil
}

// maxAgeError is a refused max_age: the value and what is wrong with it.
type maxAgeError struct{ value, problem string }

func (e *maxAgeError) Error() string {
	return "invalid max_age " + strconv.Quote(e.value) + ": " + e.problem
}

func (e *maxAgeError) Unwrap() error { return ErrInvalidMaxAge }
