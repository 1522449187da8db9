package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// startAdminServer starts a test server with cheap bcrypt and, when
// internalUsers is not empty, a copy of the example security files plus
// that internal_users.yml.
func startAdminServer(t *testing.T, internalUsers string) *testserver.Server {
	t.Helper()
	return testserver.Start(t, func(c *config.Config) {
		c.Auth.Passwords.BcryptCost = 4
		if internalUsers == "" {
			return
		}
		dir := t.TempDir()
		for _, f := range []string{"tenants.yml", "roles.yml", "roles_mapping.yml"} {
			raw, err := os.ReadFile(filepath.Join(c.SecurityDir, f))
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, dir, f, string(raw))
		}
		writeFile(t, dir, "internal_users.yml", internalUsers)
		c.SecurityDir = dir
	})
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// noTerminal makes standard input an empty reader, not a terminal, for
// the test.
func noTerminal(t *testing.T) {
	old := stdin
	stdin = strings.NewReader("")
	t.Cleanup(func() { stdin = old })
}

// cli runs the command line against s as user (a JWT with backend roles)
// and fails the test when the exit code is not want.
func cli(t *testing.T, s *testserver.Server, want int, token string, args ...string) (stdout, stderr string) {
	t.Helper()
	args = append(args, "--server", s.URL, "--token", token)
	code, out, errOut := runMain(t, args...)
	if code != want {
		t.Fatalf("tenantgate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args[:len(args)-4], " "), code, want, out, errOut)
	}
	if strings.Contains(out+errOut, token) {
		t.Fatalf("the output shows the token:\n%s\n%s", out, errOut)
	}
	return out, errOut
}

// tenantOnServer reads a tenant through the API as admin.
func tenantOnServer(t *testing.T, s *testserver.Server, id string) (int, map[string]any) {
	t.Helper()
	r := s.Do(t, "GET", "/api/v1/tenants/"+id, testserver.Token(t, "admin"), "", nil)
	if r.Status != 200 {
		return r.Status, nil
	}
	return r.Status, r.JSON(t)
}

func TestTenantsLifecycle(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")

	out, _ := cli(t, s, 0, admin, "tenants", "create", "--tenant", "stage", "--name", "Staging",
		"--description", "pre-production", "--admin-username", "alice")
	if !strings.Contains(out, "created tenant stage (Staging)") || !strings.Contains(out, "alice administers it") {
		t.Fatalf("create printed %q", out)
	}
	if st, got := tenantOnServer(t, s, "stage"); st != 200 || got["name"] != "Staging" || got["description"] != "pre-production" {
		t.Fatalf("tenant on the server: %d %v", st, got)
	}
	// alice was mapped to the Admin role: she may now read the tenant.
	if r := s.Do(t, "GET", "/api/v1/tenants/stage", testserver.Token(t, "alice"), "", nil); r.Status != 200 {
		t.Fatalf("the admin-username cannot see her tenant: %d %s", r.Status, r.Body)
	}

	out, _ = cli(t, s, 0, admin, "tenants", "list")
	if !regexp.MustCompile(`(?m)^stage\s+Staging\s+active\s+false\s+pre-production$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^analysts\s+analysts\s+active\s+true\s`).MatchString(out) ||
		!strings.HasPrefix(out, "ID") {
		t.Fatalf("list:\n%s", out)
	}
	out, _ = cli(t, s, 0, admin, "tenants", "list", "--output", "json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 4 {
		t.Fatalf("list --output json: %v\n%s", err, out)
	}

	out, _ = cli(t, s, 0, admin, "tenants", "get", "--tenant", "stage")
	for _, want := range []string{"id:", "stage", "name:", "Staging", "description:", "pre-production", "state:", "active"} {
		if !strings.Contains(out, want) {
			t.Fatalf("get lacks %q:\n%s", want, out)
		}
	}

	ops := []struct {
		op, printed, field string
		value              bool
	}{
		{"lock", "locked tenant stage (now locked)", "locked", true},
		{"unlock", "unlocked tenant stage (now active)", "locked", false},
		{"freeze", "frozen tenant stage (now frozen)", "frozen", true},
		{"unfreeze", "unfrozen tenant stage (now active)", "frozen", false},
	}
	for _, c := range ops {
		t.Run(c.op, func(t *testing.T) {
			out, _ := cli(t, s, 0, admin, "tenants", c.op, "--tenant", "stage")
			if strings.TrimSpace(out) != c.printed {
				t.Fatalf("printed %q, want %q", out, c.printed)
			}
			if _, got := tenantOnServer(t, s, "stage"); got[c.field] != c.value {
				t.Fatalf("%s on the server is %v, want %v", c.field, got[c.field], c.value)
			}
		})
	}

	out, _ = cli(t, s, 0, admin, "tenants", "update", "--tenant", "stage", "--description", "staging area")
	if _, got := tenantOnServer(t, s, "stage"); !strings.Contains(out, "updated tenant stage") || got["description"] != "staging area" || got["name"] != "Staging" {
		t.Fatalf("update printed %q; on the server %v", out, got)
	}

	out, _ = cli(t, s, 0, admin, "tenants", "delete", "--tenant", "stage")
	if !regexp.MustCompile(`can be restored for 7 days, until \d{4}-\d\d-\d\dT.*: tenantgate tenants restore --tenant stage`).MatchString(out) {
		t.Fatalf("delete printed %q", out)
	}
	if st, _ := tenantOnServer(t, s, "stage"); st != 404 {
		t.Fatalf("deleted tenant: %d", st)
	}
	if out, _ = cli(t, s, 0, admin, "tenants", "list"); strings.Contains(out, "stage") {
		t.Fatalf("a deleted tenant is listed:\n%s", out)
	}
	if out, _ = cli(t, s, 0, admin, "tenants", "list", "--deleted"); !regexp.MustCompile(`(?m)^stage\s+Staging\s+deleted \(restorable until `).MatchString(out) {
		t.Fatalf("list --deleted:\n%s", out)
	}
	_, errOut := cli(t, s, 1, admin, "tenants", "get", "--tenant", "stage")
	if !strings.Contains(errOut, "404 Not Found: tenant [stage] not found") {
		t.Fatalf("get of a deleted tenant: %s", errOut)
	}

	out, _ = cli(t, s, 0, admin, "tenants", "restore", "--tenant", "stage")
	if strings.TrimSpace(out) != "restored tenant stage (now active)" {
		t.Fatalf("restore printed %q", out)
	}
	if st, got := tenantOnServer(t, s, "stage"); st != 200 || got["description"] != "staging area" {
		t.Fatalf("restored tenant: %d %v", st, got)
	}

	_, errOut = cli(t, s, 1, admin, "tenants", "create", "--tenant", "stage")
	if !strings.Contains(errOut, "409 Conflict: tenant [stage] already exists") {
		t.Fatalf("second create: %s", errOut)
	}
}

// terminal makes standard input a terminal on which someone types answer,
// for the test.
func terminal(t *testing.T, answer string) {
	oldIn, oldTerm := stdin, stdinTerminal
	stdin, stdinTerminal = strings.NewReader(answer), func() bool { return true }
	t.Cleanup(func() { stdin, stdinTerminal = oldIn, oldTerm })
}

// TestTenantsPurge purges deleted tenants with and without a terminal,
// and is refused for a live one with the server's message.
func TestTenantsPurge(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")
	for _, id := range []string{"stage", "qa"} {
		cli(t, s, 0, admin, "tenants", "create", "--tenant", id)
	}
	// deletedTenant reports whether id is listed among deleted tenants.
	deletedTenant := func(t *testing.T, id string) bool {
		t.Helper()
		out, _ := cli(t, s, 0, admin, "tenants", "list", "--deleted")
		return regexp.MustCompile(`(?m)^` + id + `\s.*deleted`).MatchString(out)
	}

	t.Run("live tenant", func(t *testing.T) {
		r := s.Do(t, "POST", "/api/v1/tenants/stage/purge", admin, "", nil)
		if r.Status != 409 {
			t.Fatalf("purge of a live tenant through the API: %d %s", r.Status, r.Body)
		}
		msg, _ := r.JSON(t)["message"].(string)
		if msg == "" {
			t.Fatalf("409 without a message: %s", r.Body)
		}
		_, errOut := cli(t, s, 1, admin, "tenants", "purge", "--tenant", "stage", "--yes")
		if !strings.Contains(errOut, "409 Conflict: "+msg) {
			t.Fatalf("purge of a live tenant printed %q, want the server's %q", errOut, msg)
		}
		if st, _ := tenantOnServer(t, s, "stage"); st != 200 {
			t.Fatalf("live tenant after a refused purge: %d", st)
		}
	})

	for _, id := range []string{"stage", "qa"} {
		cli(t, s, 0, admin, "tenants", "delete", "--tenant", id)
	}
	t.Run("no terminal without --yes", func(t *testing.T) {
		noTerminal(t)
		_, errOut := cli(t, s, 2, admin, "tenants", "purge", "--tenant", "stage")
		if !strings.Contains(errOut, "not a terminal") || !strings.Contains(errOut, "--yes") {
			t.Fatalf("stderr %q", errOut)
		}
		if !deletedTenant(t, "stage") {
			t.Fatal("stage was purged without confirmation")
		}
	})
	t.Run("wrong confirmation", func(t *testing.T) {
		terminal(t, "qa\n")
		_, errOut := cli(t, s, 1, admin, "tenants", "purge", "--tenant", "stage")
		if !strings.Contains(errOut, "Type the tenant id to confirm") || !strings.Contains(errOut, "nothing was purged") {
			t.Fatalf("stderr %q", errOut)
		}
		if !deletedTenant(t, "stage") {
			t.Fatal("stage was purged on a wrong confirmation")
		}
	})
	t.Run("confirmed on the terminal", func(t *testing.T) {
		terminal(t, "stage\n")
		out, _ := cli(t, s, 0, admin, "tenants", "purge", "--tenant", "stage")
		if strings.TrimSpace(out) != "purged tenant stage" {
			t.Fatalf("printed %q", out)
		}
		if deletedTenant(t, "stage") {
			t.Fatal("stage is still listed as deleted")
		}
		if !deletedTenant(t, "qa") {
			t.Fatal("purging stage touched qa")
		}
		_, errOut := cli(t, s, 1, admin, "tenants", "restore", "--tenant", "stage")
		if !strings.Contains(errOut, "404 Not Found") {
			t.Fatalf("restore of a purged tenant: %q", errOut)
		}
	})
	t.Run("--yes without a terminal", func(t *testing.T) {
		noTerminal(t)
		out, _ := cli(t, s, 0, admin, "tenants", "purge", "--tenant", "qa", "--yes")
		if strings.TrimSpace(out) != "purged tenant qa" {
			t.Fatalf("printed %q", out)
		}
		if deletedTenant(t, "qa") {
			t.Fatal("qa is still listed as deleted")
		}
	})
}

// TestTenantsHelp checks that --help lists every flag with a description
// and a default, and never shows a token from the environment.
func TestTenantsHelp(t *testing.T) {
	t.Setenv(envToken, "secret-token-from-the-environment")
	t.Setenv(envPassword, "secret-password-from-the-environment")
	conn := []string{"server", "token", "user", "password", "timeout"}
	cases := []struct {
		args  []string
		flags []string
	}{
		{[]string{"tenants", "create"}, append([]string{"tenant", "name", "description", "admin-username", "output"}, conn...)},
		{[]string{"tenants", "list"}, append([]string{"deleted", "output"}, conn...)},
		{[]string{"tenants", "get"}, append([]string{"tenant", "output"}, conn...)},
		{[]string{"tenants", "update"}, append([]string{"tenant", "name", "description"}, conn...)},
		{[]string{"tenants", "delete"}, append([]string{"tenant"}, conn...)},
		{[]string{"tenants", "restore"}, append([]string{"tenant"}, conn...)},
		{[]string{"tenants", "purge"}, append([]string{"tenant", "yes"}, conn...)},
		{[]string{"tenants", "lock"}, append([]string{"tenant"}, conn...)},
		{[]string{"tenants", "unlock"}, append([]string{"tenant"}, conn...)},
		{[]string{"tenants", "freeze"}, append([]string{"tenant"}, conn...)},
		{[]string{"tenants", "unfreeze"}, append([]string{"tenant"}, conn...)},
		{[]string{"apply"}, append([]string{"file", "prune", "dry-run", "force-passwords"}, conn...)},
		{[]string{"hash"}, []string{"password-stdin", "cost"}},
	}
	// A flag's row: "  --name ARG   text" or "  -f, --name ARG" with the
	// text on the next lines; the text runs until the next flag's row.
	row := regexp.MustCompile(`(?m)^  (?:-\w, |    )--([a-z-]+)`)
	for _, c := range cases {
		for _, h := range []string{"--help", "-h"} {
			t.Run(strings.Join(c.args, "_")+h, func(t *testing.T) {
				code, out, errOut := runMain(t, append(c.args, h)...)
				if code != 0 || errOut != "" {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
				if !strings.HasPrefix(out, "Usage: tenantgate "+strings.Join(c.args, " ")) {
					t.Fatalf("help does not start with the usage line:\n%s", out)
				}
				if strings.Contains(out, "secret-") {
					t.Fatalf("help shows a secret from the environment:\n%s", out)
				}
				_, flagsPart, _ := strings.Cut(out, "\nFlags:\n")
				locs := row.FindAllStringSubmatchIndex(flagsPart, -1)
				text := map[string]string{}
				for i, l := range locs {
					end := len(flagsPart)
					if i+1 < len(locs) {
						end = locs[i+1][0]
					}
					text[flagsPart[l[2]:l[3]]] = strings.Join(strings.Fields(flagsPart[l[1]:end]), " ")
				}
				want := append([]string{"help"}, c.flags...)
				if len(text) != len(want) {
					t.Errorf("help lists %d flags, want %d (%v):\n%s", len(text), len(want), want, out)
				}
				for _, f := range want {
					d, ok := text[f]
					switch {
					case !ok:
						t.Errorf("--%s is not listed:\n%s", f, out)
					case f == "help":
					case len(d) < 20:
						t.Errorf("--%s has no description: %q", f, d)
					case !strings.Contains(d, "(default") && !strings.Contains(d, "(required)"):
						t.Errorf("--%s shows no default: %q", f, d)
					}
				}
			})
		}
	}
	t.Run("defaults", func(t *testing.T) {
		_, out, _ := runMain(t, "tenants", "create", "--help")
		out = strings.Join(strings.Fields(out), " ")
		for _, want := range []string{"(default: " + defaultServer + ")", "(default: 30s)", "--tenant ID the tenant's id (required)", "-h, --help",
			"--name NAME the tenant's display name (default: the tenant id)", "--token TOKEN a JWT", "--password PASSWORD the password of --user"} {
			if !strings.Contains(out, want) {
				t.Errorf("help lacks %q:\n%s", want, out)
			}
		}
		_, out, _ = runMain(t, "apply", "--help")
		if !strings.Contains(out, "\n  -f, --file FILE ") || !strings.Contains(out, "\n      --prune  ") {
			t.Errorf("apply help:\n%s", out)
		}
	})
	t.Run("command list", func(t *testing.T) {
		code, out, _ := runMain(t, "tenants", "--help")
		for _, sub := range []string{"create", "list", "get", "update", "delete", "restore", "purge", "lock", "unlock", "freeze", "unfreeze"} {
			if code != 0 || !regexp.MustCompile(`(?m)^  `+sub+`\s`).MatchString(out) {
				t.Errorf("tenants --help lacks %s:\n%s", sub, out)
			}
		}
		_, out, _ = runMain(t, "help")
		for _, want := range []string{"tenantgate tenants create|list", "tenantgate apply -f FILE", "tenantgate hash"} {
			if !strings.Contains(out, want) {
				t.Errorf("usage lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestTenantsErrors(t *testing.T) {
	s := startAdminServer(t, "")
	t.Setenv(envToken, "")
	t.Setenv(envServer, "")
	t.Setenv(envPassword, "")
	noTerminal(t)
	admin := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		if r.URL.Path == "/api/v1/tenants/x" {
			w.WriteHeader(http.StatusBadGateway)
		}
		w.Write([]byte("<html><body>a proxy page</body></html>"))
	}))
	defer html.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no subcommand", []string{"tenants"}, 2, []string{"a command is required"}},
		{"unknown subcommand", []string{"tenants", "rename"}, 2, []string{`unknown command "rename"`}},
		{"no tenant", []string{"tenants", "get", "--server", s.URL, "--token", admin}, 2, []string{"--tenant is required"}},
		{"unknown flag", []string{"tenants", "list", "--nope"}, 2, []string{"flag provided but not defined: -nope", "tenants list --help"}},
		{"extra argument", []string{"tenants", "get", "--tenant", "a", "b"}, 2, []string{`unexpected argument "b"`}},
		{"bad output", []string{"tenants", "list", "--output", "yaml", "--token", admin}, 2, []string{`--output "yaml"`}},
		{"no credentials", []string{"tenants", "list", "--server", s.URL}, 2, []string{"no credentials", envToken}},
		{"token and user", []string{"tenants", "list", "--token", admin, "--user", "bob"}, 2, []string{"exclude each other"}},
		{"password without user", []string{"tenants", "list", "--password", "pw-on-the-command-line"}, 2, []string{"--password needs --user"}},
		{"user without password off a terminal", []string{"tenants", "list", "--user", "bob", "--server", s.URL}, 2, []string{"no password for --user bob", "not a terminal"}},
		{"bad server", []string{"tenants", "list", "--server", "127.0.0.1:5601", "--token", admin}, 2, []string{"not an http:// or https:// URL"}},
		{"nothing to update", []string{"tenants", "update", "--tenant", "a", "--token", admin}, 2, []string{"pass --name or --description"}},
		{"unreachable", []string{"tenants", "list", "--server", dead.URL, "--token", admin}, 1, []string{"cannot reach the gateway at " + dead.URL, "is it running"}},
		{"bad token", []string{"tenants", "list", "--server", s.URL, "--token", "not-a-jwt"}, 1, []string{"401 Unauthorized", "check --token"}},
		{"forbidden", []string{"tenants", "create", "--tenant", "mine", "--server", s.URL, "--token", alice}, 1,
			[]string{"403 Forbidden: no permissions for [restapi:admin/tenants/create] and User [name=alice]"}},
		{"forbidden delete", []string{"tenants", "delete", "--tenant", "analysts", "--server", s.URL, "--token", alice}, 1,
			[]string{"403 Forbidden: no permissions for [restapi:admin/tenants] and User [name=alice]"}},
		{"reserved", []string{"tenants", "delete", "--tenant", "analysts", "--server", s.URL, "--token", admin}, 1,
			[]string{"403 Forbidden: Resource 'analysts' is reserved."}},
		{"not found", []string{"tenants", "lock", "--tenant", "nope", "--server", s.URL, "--token", admin}, 1, []string{"404 Not Found: tenant [nope] not found"}},
		{"invalid id", []string{"tenants", "create", "--tenant", "Bad Id", "--server", s.URL, "--token", admin}, 1, []string{"400 Bad Request"}},
		{"not JSON", []string{"tenants", "list", "--server", html.URL, "--token", admin}, 1, []string{"not the JSON expected", "text/html", "a proxy page", "is --server the gateway's URL?"}},
		{"error not JSON", []string{"tenants", "get", "--tenant", "x", "--server", html.URL, "--token", admin}, 1, []string{"502 Bad Gateway: the answer is not JSON", "a proxy page"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := runMain(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, secret := range []string{admin, alice, "pw-on-the-command-line"} {
				if strings.Contains(out+errOut, secret) {
					t.Fatalf("the output shows a secret:\n%s%s", out, errOut)
				}
			}
		})
	}
	if st, _ := tenantOnServer(t, s, "mine"); st != 404 {
		t.Fatalf("a refused create made the tenant: %d", st)
	}
}

// TestTenantsEnvironment uses TENANTGATE_SERVER and TENANTGATE_TOKEN.
func TestTenantsEnvironment(t *testing.T) {
	s := startAdminServer(t, "")
	t.Setenv(envServer, s.URL+"/")
	t.Setenv(envToken, testserver.Token(t, "admin"))
	code, out, errOut := runMain(t, "tenants", "create", "--tenant", "fromenv")
	if code != 0 || !strings.Contains(out, "created tenant fromenv (fromenv)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	// A flag wins over the environment.
	code, _, errOut = runMain(t, "tenants", "list", "--token", "not-a-jwt")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Fatalf("--token over %s: exit %d %s", envToken, code, errOut)
	}
}

// TestHashAndBasic hashes a password with "tenantgate hash", signs in
// with it over HTTP Basic through the CLI, and checks that a wrong one is
// refused with the server's message and never printed.
func TestHashAndBasic(t *testing.T) {
	const pw = "correct horse battery"
	noTerminal(t)

	stdin = strings.NewReader(pw + "\nnext line\n")
	code, out, errOut := runMain(t, "hash", "--password-stdin", "--cost", "4")
	hash := strings.TrimSpace(out)
	if code != 0 || !auth.CheckPassword(hash, pw) || strings.Contains(out+errOut, pw) {
		t.Fatalf("hash: exit %d %q %q", code, out, errOut)
	}

	for _, c := range []struct {
		name, in string
		args     []string
		want     string
	}{
		{"not a terminal", pw, nil, "not a terminal; pass --password-stdin"},
		{"empty", "\n", []string{"--password-stdin"}, "holds no password"},
		{"too short", "short\n", []string{"--password-stdin"}, "shorter than 8 bytes"},
		{"bad cost", pw, []string{"--password-stdin", "--cost", "99"}, "bcrypt cost 99"},
		{"password flag", pw, []string{"--password", pw}, "flag provided but not defined: -password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdin = strings.NewReader(c.in)
			code, out, errOut := runMain(t, append([]string{"hash"}, c.args...)...)
			if code != 2 || !strings.Contains(errOut, c.want) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, c.want)
			}
		})
	}

	s := startAdminServer(t, "_meta:\n  type: internalusers\n  config_version: 2\ncarol:\n  hash: \""+hash+"\"\n  superadmin: true\n")
	t.Setenv(envToken, "")
	t.Setenv(envPassword, "")
	code, out, errOut = runMain(t, "tenants", "create", "--tenant", "basic", "--server", s.URL, "--user", "carol", "--password", pw)
	if code != 0 || !strings.Contains(out, "created tenant basic") {
		t.Fatalf("create with --user: exit %d\n%s%s", code, out, errOut)
	}
	t.Setenv(envPassword, pw)
	code, out, errOut = runMain(t, "tenants", "get", "--tenant", "basic", "--server", s.URL, "--user", "carol")
	if code != 0 || !strings.Contains(out, "basic") {
		t.Fatalf("get with %s: exit %d\n%s%s", envPassword, code, out, errOut)
	}
	t.Setenv(envPassword, "wrong password")
	code, out, errOut = runMain(t, "tenants", "list", "--server", s.URL, "--user", "carol")
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized") || strings.Contains(out+errOut, "wrong password") {
		t.Fatalf("a wrong password: exit %d\n%s%s", code, out, errOut)
	}
}
