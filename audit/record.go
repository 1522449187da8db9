package audit

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"time"
)

// Outcomes of an audited event.
const (
	// OutcomeSuccess is an event that did what was asked.
	OutcomeSuccess = "success"
	// OutcomeFailure is an event that failed: bad credentials, a conflict,
	// an invalid request, a store error.
	OutcomeFailure = "failure"
	// OutcomeDenied is an event refused for lack of permission.
	OutcomeDenied = "denied"
)

// Actions recorded on the request path (the admin actions, such as
// "tenant.create", are named by the admin package).
const (
	// ActionSignIn is a password sign-in, successful or not.
	ActionSignIn = "auth.signin"
	// ActionAuthFailed is a request refused with 401.
	ActionAuthFailed = "auth.failed"
	// ActionAccessDenied is a request refused with 403.
	ActionAccessDenied = "access.denied"
	// ActionAdminRefused is a write to an administration API refused
	// before it reached the administration rules (a malformed body, an
	// unknown route), which record everything else themselves.
	ActionAdminRefused = "admin.refused"
)

// Record is one audit event. Its JSON form (snake_case) is both how it is
// stored and how the audit API returns it. The Trail caps its sizes before
// it keeps it: MaxFieldBytes per string, MaxActorRoles roles, and
// MaxJSONBytes for each of Before, After and Diff.
type Record struct {
	// ID is assigned by the Trail when the record is written: 32 lower-case
	// hex digits that sort like the record's time (then its order of
	// writing), unique within the trail.
	ID string `json:"id"`
	// Time is when the event happened, in UTC; the Trail's clock fills it
	// in when it is zero.
	Time time.Time `json:"time"`
	// Actor is the user or service account that acted ("" when unknown,
	// for example a 401 without credentials).
	Actor string `json:"actor"`
	// ActorRoles are the security roles the actor held.
	ActorRoles []string `json:"actor_roles,omitempty"`
	// Tenant is the tenant the event concerns, "" for instance-level
	// events.
	Tenant string `json:"tenant"`
	// Action is what was attempted, dotted: "tenant.create",
	// "auth.failed".
	Action string `json:"action"`
	// Target names the resource acted on (tenant id, user name, role …).
	Target string `json:"target,omitempty"`
	// Outcome is OutcomeSuccess, OutcomeFailure or OutcomeDenied.
	Outcome string `json:"outcome"`
	// Status is the HTTP status the request got, when there was one.
	Status int `json:"status,omitempty"`
	// ClientIP is the client's address.
	ClientIP string `json:"client_ip,omitempty"`
	// RequestID is the gateway's request id, to find the matching log
	// lines.
	RequestID string `json:"request_id,omitempty"`
	// Before is the resource before the change (absent for a creation),
	// with secrets redacted.
	Before json.RawMessage `json:"before,omitempty"`
	// After is the resource after the change (absent for a deletion), with
	// secrets redacted.
	After json.RawMessage `json:"after,omitempty"`
	// Diff is the RFC 6902 JSON Patch that turns Before into After, with
	// secret values redacted.
	Diff json.RawMessage `json:"diff,omitempty"`
	// Reason says why an event failed or was denied.
	Reason string `json:"reason,omitempty"`
}

// The trail stores times as unsigned nanoseconds since the Unix epoch, so
// it can hold 1970 up to 2262.
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Unix(0, math.MaxInt64)
)

// check validates a record, its time stamped, before it is written.
func check(r *Record) error {
	switch r.Outcome {
	case OutcomeSuccess, OutcomeFailure, OutcomeDenied:
	default:
		return invalidf("outcome %q is not one of success, failure, denied", r.Outcome)
	}
	if r.Action == "" {
		return invalidf("record has no action")
	}
	if strings.IndexByte(r.Tenant, 0) >= 0 {
		return invalidf("tenant name contains a NUL byte")
	}
	if r.Time.Before(minTime) || r.Time.After(maxTime) {
		return invalidf("time %s is outside 1970–2262", r.Time.Format(time.RFC3339))
	}
	return nil
}

// clone returns a copy of r that shares no memory with it. Record uses it
// because callers on the request path hand over strings whose bytes Fiber
// reuses once the handler returns.
func (r *Record) clone() *Record {
	c := &Record{
		Time:      r.Time,
		Actor:     strings.Clone(r.Actor),
		Tenant:    strings.Clone(r.Tenant),
		Action:    strings.Clone(r.Action),
		Target:    strings.Clone(r.Target),
		Outcome:   strings.Clone(r.Outcome),
		Status:    r.Status,
		ClientIP:  strings.Clone(r.ClientIP),
		RequestID: strings.Clone(r.RequestID),
		Before:    bytes.Clone(r.Before),
		After:     bytes.Clone(r.After),
		Diff:      bytes.Clone(r.Diff),
		Reason:    strings.Clone(r.Reason),
	}
	if r.ActorRoles != nil {
		c.ActorRoles = slices.Clone(r.ActorRoles)
		for i, s := range c.ActorRoles {
			c.ActorRoles[i] = strings.Clone(s)
		}
	}
	return c
}

// Keys. A record is stored in the records bucket under its 16-byte key:
// the big-endian Unix nanoseconds of its time, then the big-endian bucket
// sequence number, so keys sort by time and never repeat, across
// restarts too. The tenant index holds tenant + 0x00 + key with an empty
// value; tenant names cannot contain NUL, so one tenant's prefix never
// covers another's keys.
const keyLen = 16

// nanos returns t as stored, clamped to what a key can hold.
func nanos(t time.Time) uint64 {
	switch {
	case t.Before(minTime):
		return 0
	case t.After(maxTime):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

func recordKey(t time.Time, seq uint64) []byte {
	k := make([]byte, keyLen)
	binary.BigEndian.PutUint64(k, nanos(t))
	binary.BigEndian.PutUint64(k[8:], seq)
	return k
}

// timeKey is the smallest key of instant t.
func timeKey(t time.Time) []byte {
	k := make([]byte, keyLen)
	binary.BigEndian.PutUint64(k, nanos(t))
	return k
}

// tenantPrefix is the tenant index prefix of tenant's records.
func tenantPrefix(tenant string) []byte {
	p := make([]byte, 0, len(tenant)+1+keyLen)
	p = append(p, tenant...)
	return append(p, 0)
}

func indexKey(tenant string, key []byte) []byte {
	return append(tenantPrefix(tenant), key...)
}
