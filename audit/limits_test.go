package audit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
)

func TestLimitStringCutsAtAUTF8Boundary(t *testing.T) {
	cut := MaxFieldBytes - len(TruncatedSuffix)
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"short", "alice", "alice"},
		{"exactly the cap", strings.Repeat("a", MaxFieldBytes), strings.Repeat("a", MaxFieldBytes)},
		{"one byte over", strings.Repeat("a", MaxFieldBytes+1), strings.Repeat("a", cut) + TruncatedSuffix},
		{"huge", strings.Repeat("a", 10<<20), strings.Repeat("a", cut) + TruncatedSuffix},
		// "€" is three bytes; cut-1 bytes of "a" then euros put a rune
		// across the cut, which must go whole.
		{"rune across the cut", strings.Repeat("a", cut-1) + strings.Repeat("€", 200),
			strings.Repeat("a", cut-1) + TruncatedSuffix},
		{"rune ending at the cut", strings.Repeat("a", cut-3) + strings.Repeat("€", 200),
			strings.Repeat("a", cut-3) + "€" + TruncatedSuffix},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := limitString(tt.in)
			if got != tt.want {
				t.Fatalf("limitString = %q (%d bytes), want %q (%d bytes)", got, len(got), tt.want, len(tt.want))
			}
			if len(got) > MaxFieldBytes || !utf8.ValidString(got) {
				t.Fatalf("result is %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
			if again := limitString(got); again != got {
				t.Fatalf("a second cut changed %q into %q", got, again)
			}
		})
	}
}

// hugeRecord is a record whose every field is far over its cap, roles
// included; secret holds a password that must not survive either.
func hugeRecord() Record {
	big := func(c string) string { return strings.Repeat(c, 1<<20) }
	roles := make([]string, 1000)
	for i := range roles {
		roles[i] = fmt.Sprintf("role-%d", i)
	}
	roles[0] = big("r")
	blob := `{"name":"` + big("n") + `","password":"hunter2"}`
	return Record{
		Actor: big("a"), ActorRoles: roles, Tenant: big("t"), Action: "user." + big("c"),
		Target: big("x"), Outcome: OutcomeFailure, Status: 400, ClientIP: big("1"), RequestID: big("q"),
		Before: json.RawMessage(blob), After: json.RawMessage(blob),
		Diff:   json.RawMessage(`[{"op":"replace","path":"/name","value":"` + big("d") + `"}]`),
		Reason: big("w"),
	}
}

func TestTrailCapsRecordSizes(t *testing.T) {
	paths := []struct {
		name  string
		write func(t *testing.T, tr *Trail, db *bbolt.DB, r Record)
	}{
		{"AppendTx", func(t *testing.T, tr *Trail, db *bbolt.DB, r Record) { appendOne(t, tr, db, r) }},
		{"Record", func(t *testing.T, tr *Trail, _ *bbolt.DB, r Record) {
			tr.Record(r)
			if err := tr.Flush(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			tr, db := newTrail(t, Options{FlushInterval: time.Hour})
			in := hugeRecord()
			callerRoles := slices.Clone(in.ActorRoles)
			p.write(t, tr, db, in)
			if !slices.Equal(in.ActorRoles, callerRoles) {
				t.Fatal("the caller's actor roles slice was changed")
			}
			if tr.Failures() != 0 || tr.Dropped() != 0 {
				t.Fatalf("failures %d, dropped %d, want the record written", tr.Failures(), tr.Dropped())
			}

			page := query(t, tr, Filter{})
			if page.Total != 1 {
				t.Fatalf("%d records, want 1", page.Total)
			}
			got := page.Results[0]
			fields := map[string]string{"actor": got.Actor, "tenant": got.Tenant, "action": got.Action,
				"target": got.Target, "client_ip": got.ClientIP, "request_id": got.RequestID, "reason": got.Reason,
				"first role": got.ActorRoles[0]}
			for name, v := range fields {
				if len(v) > MaxFieldBytes || !strings.HasSuffix(v, TruncatedSuffix) {
					t.Errorf("%s is %d bytes ending %q, want at most %d ending %q",
						name, len(v), v[max(0, len(v)-20):], MaxFieldBytes, TruncatedSuffix)
				}
			}
			if got.Outcome != OutcomeFailure || got.Status != 400 {
				t.Errorf("outcome %q status %d, want failure 400", got.Outcome, got.Status)
			}
			if len(got.ActorRoles) != MaxActorRoles || got.ActorRoles[1] != "role-1" ||
				got.ActorRoles[MaxActorRoles-1] != fmt.Sprintf("…[truncated %d more]", 1000-(MaxActorRoles-1)) {
				t.Errorf("actor roles %d: %q … %q, want %d ending with how many were left out",
					len(got.ActorRoles), got.ActorRoles[1], got.ActorRoles[len(got.ActorRoles)-1], MaxActorRoles)
			}
			for name, raw := range map[string]json.RawMessage{"before": got.Before, "after": got.After, "diff": got.Diff} {
				var m struct {
					Truncated bool `json:"truncated"`
					Bytes     int  `json:"bytes"`
				}
				if err := json.Unmarshal(raw, &m); err != nil || !m.Truncated || m.Bytes <= MaxJSONBytes {
					t.Errorf("%s = %.80s (%v), want {\"truncated\":true,\"bytes\":N>%d}", name, raw, err, MaxJSONBytes)
				}
			}
			if rawContains(t, db, "hunter2") {
				t.Error("the password of the truncated before/after is stored")
			}
			size := 0
			err := db.View(func(tx *bbolt.Tx) error {
				return tx.Bucket(recordsBucket).ForEach(func(_, v []byte) error { size += len(v); return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			// 8 capped strings and 64 capped roles, plus JSON: far under
			// the 8 MiB that went in.
			if limit := (8 + MaxActorRoles) * (MaxFieldBytes + 16) * 2; size > limit {
				t.Fatalf("stored record is %d bytes, want at most %d", size, limit)
			}
		})
	}
}

func TestTrailKeepsRecordsUnderTheCaps(t *testing.T) {
	tr, db := newTrail(t, Options{})
	roles := make([]string, MaxActorRoles)
	for i := range roles {
		roles[i] = strings.Repeat("r", MaxFieldBytes)
	}
	before := json.RawMessage(`{"name":"` + strings.Repeat("n", MaxJSONBytes-20) + `"}`)
	r := appendOne(t, tr, db, Record{Actor: strings.Repeat("é", MaxFieldBytes/2), ActorRoles: roles,
		Action: "user.update", Target: "bob", Outcome: OutcomeSuccess, Before: before})
	got := query(t, tr, Filter{}).Results[0]
	if got.Actor != r.Actor || len(got.Actor) != MaxFieldBytes {
		t.Errorf("actor of %d bytes changed to %d bytes", MaxFieldBytes, len(got.Actor))
	}
	if !slices.Equal(got.ActorRoles, roles) {
		t.Errorf("%d roles at the cap changed", len(roles))
	}
	if string(got.Before) != string(before) {
		t.Errorf("before of %d bytes changed to %.80s", len(before), got.Before)
	}
}
