package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Size caps of a record. Any authenticated caller can put what it likes
// into an audited request (a user name of ten megabytes in a refused
// POST /api/v1/users becomes the record's target), and records are kept
// until purged, so the trail bounds every record before it is queued or
// written: limit applies these caps on both paths, AppendTx and Record.
const (
	// MaxFieldBytes is the largest a string field of a record (actor,
	// tenant, action, target, outcome, reason, client ip, request id, and
	// each actor role) is once written, in bytes. A longer value is cut at
	// a UTF-8 boundary and ends with TruncatedSuffix, the whole within
	// MaxFieldBytes.
	MaxFieldBytes = 512
	// MaxActorRoles is how many actor roles a record holds at most. When
	// the actor held more, the first MaxActorRoles-1 are kept and a last
	// entry, "…[truncated N more]", says how many were left out.
	MaxActorRoles = 64
	// MaxJSONBytes is the largest Before, After or Diff a record keeps, in
	// bytes of JSON. A larger one is replaced with
	// {"truncated":true,"bytes":N}, N being its size.
	MaxJSONBytes = 64 << 10
	// TruncatedSuffix ends a string field cut to MaxFieldBytes.
	TruncatedSuffix = "…[truncated]"
)

// limit applies the size caps to r in place. It never changes the memory
// behind r's fields (the actor roles slice may be the caller's): a capped
// field gets a new value. Applying it twice changes nothing the second
// time.
func limit(r *Record) {
	for _, f := range []*string{&r.Actor, &r.Tenant, &r.Action, &r.Target, &r.Outcome,
		&r.ClientIP, &r.RequestID, &r.Reason} {
		*f = limitString(*f)
	}
	r.ActorRoles = limitRoles(r.ActorRoles)
	r.Before = limitJSON(r.Before)
	r.After = limitJSON(r.After)
	r.Diff = limitJSON(r.Diff)
}

// limitString returns s cut to MaxFieldBytes, TruncatedSuffix included,
// at a UTF-8 boundary; s itself when it fits. The result shares memory
// with s; Record clones it afterwards.
func limitString(s string) string {
	if len(s) <= MaxFieldBytes {
		return s
	}
	end := MaxFieldBytes - len(TruncatedSuffix)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + TruncatedSuffix
}

// limitRoles returns roles capped in number and each in length, in a new
// slice when anything changed, roles itself otherwise.
func limitRoles(roles []string) []string {
	keep := len(roles)
	if keep > MaxActorRoles {
		keep = MaxActorRoles - 1
	}
	changed := keep < len(roles)
	for _, r := range roles[:keep] {
		if len(r) > MaxFieldBytes {
			changed = true
			break
		}
	}
	if !changed {
		return roles
	}
	out := make([]string, 0, keep+1)
	for _, r := range roles[:keep] {
		out = append(out, limitString(r))
	}
	if n := len(roles) - keep; n > 0 {
		out = append(out, fmt.Sprintf("…[truncated %d more]", n))
	}
	return out
}

// limitJSON returns raw, or the object {"truncated":true,"bytes":N} that
// stands for it when it is larger than MaxJSONBytes.
func limitJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) <= MaxJSONBytes {
		return raw
	}
	return json.RawMessage(fmt.Sprintf(`{"truncated":true,"bytes":%d}`, len(raw)))
}

// truncatedMarker reports whether raw is the object limitJSON puts in
// place of a too large value. A Diff replaced by it is no JSON Patch and
// holds nothing to redact.
func truncatedMarker(raw json.RawMessage) bool {
	if len(raw) > 64 {
		return false
	}
	var m struct {
		Truncated bool `json:"truncated"`
		Bytes     int  `json:"bytes"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(&m) == nil && m.Truncated && m.Bytes > MaxJSONBytes && !dec.More()
}
