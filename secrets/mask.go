package secrets

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask is what a Masker puts in place of a secret value.
const Mask = "******"

// MinMaskLen is the shortest value, in bytes, a Masker masks. Shorter
// values are ignored: masking every "a" or "42" in a log would make it
// unreadable and, by where the masks fall, reveal the value anyway. Secrets
// that short are not secret; reject them where they are set if needed.
const MinMaskLen = 4

// Masker replaces the secret values it knows with Mask. Every byte of text
// covered by an occurrence of any value is hidden, so overlapping values
// ("abcdef" and "defghi" in "abcdefghi") leave nothing of either, and a
// run of adjacent or overlapping occurrences becomes one Mask (the number
// of repetitions is hidden too). For each value it also masks its JSON
// string form (quotes, backslashes, control characters and, as
// encoding/json writes them by default, <, > and & escaped), so values
// that went through a JSON encoder are caught as well.
//
// The zero Masker is ready and masks nothing. A Masker is safe for
// concurrent use: Add may run while Mask does.
type Masker struct {
	mu     sync.Mutex               // serialises Add
	values atomic.Pointer[[]string] // longest first, deduplicated
}

// NewMasker returns a Masker for values (see Add).
func NewMasker(values ...string) *Masker {
	m := &Masker{}
	m.Add(values...)
	return m
}

// Add makes m mask values too. Values shorter than MinMaskLen bytes are
// ignored.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur []string
	if p := m.values.Load(); p != nil {
		cur = *p
	}
	next := slices.Clone(cur)
	for _, v := range values {
		if len(v) < MinMaskLen {
			continue
		}
		for _, form := range forms(v) {
			if !slices.Contains(next, form) {
				next = append(next, form)
			}
		}
	}
	if len(next) == len(cur) {
		return
	}
	slices.SortStableFunc(next, func(a, b string) int { return len(b) - len(a) })
	m.values.Store(&next)
}

// forms returns v and its JSON-escaped forms that differ from it.
func forms(v string) []string {
	out := []string{v}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) == nil {
		add(strings.TrimSuffix(strings.TrimSuffix(buf.String(), "\n"), `"`)[1:])
	}
	if b, err := json.Marshal(v); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	return out
}

// Len returns how many distinct strings (values and their JSON forms) m
// masks.
func (m *Masker) Len() int {
	if p := m.values.Load(); p != nil {
		return len(*p)
	}
	return 0
}

// Mask returns s with every occurrence of every value hidden (see Masker).
// It returns s itself when nothing matched.
func (m *Masker) Mask(s string) string {
	spans := m.spans(s)
	if spans == nil {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp[0]])
		b.WriteString(Mask)
		last = sp[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// MaskBytes is Mask for a byte slice. It returns b itself when nothing
// matched, and a new slice otherwise; b is never modified.
func (m *Masker) MaskBytes(b []byte) []byte {
	if m.Len() == 0 {
		return b
	}
	spans := m.spans(string(b))
	if spans == nil {
		return b
	}
	out := make([]byte, 0, len(b))
	last := 0
	for _, sp := range spans {
		out = append(out, b[last:sp[0]]...)
		out = append(out, Mask...)
		last = sp[1]
	}
	return append(out, b[last:]...)
}

// spans returns the merged, sorted [start, end) ranges of s covered by an
// occurrence of one of m's values, or nil when there is none. Adjacent
// ranges merge, so a value repeated back to back becomes one Mask.
func (m *Masker) spans(s string) [][2]int {
	p := m.values.Load()
	if p == nil {
		return nil
	}
	var found [][2]int
	for _, v := range *p {
		for i := 0; i <= len(s)-len(v); {
			j := strings.Index(s[i:], v)
			if j < 0 {
				break
			}
			found = append(found, [2]int{i + j, i + j + len(v)})
			i += j + 1 // overlapping occurrences of the same value too
		}
	}
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b [2]int) int { return a[0] - b[0] })
	merged := found[:1]
	for _, sp := range found[1:] {
		last := &merged[len(merged)-1]
		if sp[0] <= last[1] {
			last[1] = max(last[1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}
