package gateway_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// limitConfig is idConfig with the given failure limits, a 1m window and
// a 5m block.
func limitConfig(t *testing.T, user, ip int) config.Config {
	t.Helper()
	cfg := idConfig(t)
	cfg.Auth.Passwords.FailureLimit, cfg.Auth.Passwords.IPFailureLimit = user, ip
	cfg.Auth.Passwords.FailureWindow, cfg.Auth.Passwords.BlockDuration = time.Minute, 5*time.Minute
	return cfg
}

// signIn tries a password both ways the gateway takes one: HTTP Basic
// (basic true) or POST /auth/login.
func (e *idEnv) signIn(t *testing.T, basic bool, user, pw string) *testserver.Response {
	t.Helper()
	if basic {
		return e.basic(t, user, pw, "GET", "/_plugins/_security/api/account", nil)
	}
	return e.s.Do(t, "POST", "/auth/login", "", "", map[string]string{"username": user, "password": pw})
}

// deniedSignIns returns the audit records of sign-ins the limiter refused.
func (e *idEnv) deniedSignIns(t *testing.T, actor string) []map[string]any {
	t.Helper()
	if err := e.s.Inst.Trail.Flush(); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"action": {"auth.signin"}, "outcome": {"denied"}, "actor": {actor}}
	r := e.do(t, "super", "GET", "/api/v1/audit?"+q.Encode(), nil)
	mustStatus(t, r, 200)
	var page struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		t.Fatalf("audit page: %v: %s", err, r.Body)
	}
	return page.Results
}

// mustBlocked checks a 429 with Retry-After and a clear message.
func mustBlocked(t *testing.T, r *testserver.Response, wantRetry time.Duration) {
	t.Helper()
	mustStatus(t, r, 429)
	if got := r.Header.Get("Retry-After"); got != strconv.Itoa(int(wantRetry/time.Second)) {
		t.Fatalf("Retry-After %q, want %v", got, wantRetry)
	}
	if !strings.Contains(string(r.Body), "too many failed sign-ins") {
		t.Fatalf("429 without a clear message: %s", r.Body)
	}
}

// TestSignInLimitPerUser: after failure_limit wrong passwords the right
// one is refused (429, no bcrypt) until the block expires, through HTTP
// Basic and /auth/login alike; the first refusal alone is audited.
func TestSignInLimitPerUser(t *testing.T) {
	for _, basic := range []bool{true, false} {
		t.Run(map[bool]string{true: "basic", false: "login"}[basic], func(t *testing.T) {
			e := startIdentityWith(t, limitConfig(t, 3, 0))
			for range 3 {
				mustStatus(t, e.signIn(t, basic, "filed", "wrong-password-1"), 401)
			}
			mustBlocked(t, e.signIn(t, basic, "filed", idFiledPassword), 5*time.Minute)
			// Another user from the same address is not blocked.
			if r := e.signIn(t, basic, "root", idRootPassword); r.Status != 200 {
				t.Fatalf("another user: status %d: %s", r.Status, r.Body)
			}
			e.clock.Advance(2 * time.Minute)
			mustBlocked(t, e.signIn(t, !basic, "filed", idFiledPassword), 3*time.Minute)
			if got := e.deniedSignIns(t, "filed"); len(got) != 1 {
				t.Fatalf("%d audit records of refused sign-ins, want the first only: %v", len(got), got)
			} else if got[0]["reason"] != "too many failed sign-ins" || got[0]["status"] != float64(429) {
				t.Fatalf("audit record %v", got[0])
			}
			e.clock.Advance(3 * time.Minute)
			mustStatus(t, e.signIn(t, basic, "filed", idFiledPassword), 200)
			// A new block is audited again.
			for range 3 {
				mustStatus(t, e.signIn(t, basic, "filed", "wrong-password-1"), 401)
			}
			mustBlocked(t, e.signIn(t, basic, "filed", idFiledPassword), 5*time.Minute)
			if got := e.deniedSignIns(t, "filed"); len(got) != 2 {
				t.Fatalf("%d audit records of refused sign-ins after a second block, want 2", len(got))
			}
		})
	}
}

// TestSignInLimitPerIP: failures under many user names, known or not,
// block the address for every name.
func TestSignInLimitPerIP(t *testing.T) {
	e := startIdentityWith(t, limitConfig(t, 0, 4))
	for i, user := range []string{"nobody-1", "filed", "nobody-2", "ghost"} {
		mustStatus(t, e.signIn(t, i%2 == 0, user, "wrong-password-1"), 401)
	}
	mustBlocked(t, e.signIn(t, true, "root", idRootPassword), 5*time.Minute)
	mustBlocked(t, e.signIn(t, false, "root", idRootPassword), 5*time.Minute)
	if got := e.deniedSignIns(t, "root"); len(got) != 1 {
		t.Fatalf("%d audit records of refused sign-ins, want 1", len(got))
	}
	e.clock.Advance(5 * time.Minute)
	mustStatus(t, e.signIn(t, true, "root", idRootPassword), 200)
}

// TestSignInLimitSuccessResets: a right password clears the user's
// failures, so failures spread over successes never block.
func TestSignInLimitSuccessResets(t *testing.T) {
	e := startIdentityWith(t, limitConfig(t, 3, 0))
	for round := range 3 {
		for range 2 {
			mustStatus(t, e.signIn(t, round%2 == 0, "filed", "wrong-password-1"), 401)
		}
		mustStatus(t, e.signIn(t, round%2 == 0, "filed", idFiledPassword), 200)
	}
	// Failures of an earlier window do not count either.
	mustStatus(t, e.signIn(t, true, "filed", "wrong-password-1"), 401)
	mustStatus(t, e.signIn(t, true, "filed", "wrong-password-1"), 401)
	e.clock.Advance(time.Minute)
	mustStatus(t, e.signIn(t, true, "filed", "wrong-password-1"), 401)
	mustStatus(t, e.signIn(t, true, "filed", idFiledPassword), 200)
}

// TestSignInLimitTokensUnaffected: a blocked user and address still
// authenticate with a JWT or an API token.
func TestSignInLimitTokensUnaffected(t *testing.T) {
	e := startIdentityWith(t, limitConfig(t, 2, 2))
	r := e.signIn(t, false, "root", idRootPassword)
	mustStatus(t, r, 200)
	apiToken, _ := r.JSON(t)["token"].(string)
	if apiToken == "" {
		t.Fatalf("sign-in without a token: %s", r.Body)
	}
	for range 2 {
		mustStatus(t, e.signIn(t, true, "root", "wrong-password-1"), 401)
	}
	mustBlocked(t, e.signIn(t, true, "root", idRootPassword), 5*time.Minute)
	mustStatus(t, e.bearer(t, apiToken, "GET", "/_plugins/_security/api/account", nil), 200)
	mustStatus(t, e.s.Do(t, "GET", "/_plugins/_security/api/account", testserver.Token(t, "root"), "", nil), 200)
	// A bad token is a 401 as before, not a 429, and does not count.
	for range 3 {
		mustStatus(t, e.s.Do(t, "GET", "/_plugins/_security/api/account", "tgat_nope_nope", "", nil), 401)
	}
}

// TestSignInLimitsDisabled: limits of 0 never block.
func TestSignInLimitsDisabled(t *testing.T) {
	e := startIdentityWith(t, limitConfig(t, 0, 0))
	for i := range 12 {
		mustStatus(t, e.signIn(t, i%2 == 0, "filed", "wrong-password-1"), 401)
	}
	mustStatus(t, e.signIn(t, true, "filed", idFiledPassword), 200)
	mustStatus(t, e.signIn(t, false, "filed", idFiledPassword), 200)
}
