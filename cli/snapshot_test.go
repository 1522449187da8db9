package cli

import (
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/config"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// startSnapshotServer starts a server on dir/data with the repository
// "local" (dir/repo) and the tenant "stage" (administered by alice)
// holding docs documents in "logs", and writes the configuration file
// of that server for the offline commands.
func startSnapshotServer(t *testing.T, docs int) (s *testserver.Server, cfgFile, repo string) {
	t.Helper()
	dir := t.TempDir()
	repo = filepath.Join(dir, "repo")
	cfg := testserver.Config(filepath.Join(dir, "data"))
	cfg.Auth.Passwords.BcryptCost = 4
	cfg.Snapshot.Repositories = map[string]string{"local": repo}
	cfgFile = writeFile(t, dir, "tenantgate.yml", fmt.Sprintf(
		"listen: 127.0.0.1:0\ndata_dir: %s\nsecurity_dir: %s\nauth:\n  jwt:\n    signing_keys: [\"base64:%s\"]\n  passwords:\n    bcrypt_cost: 4\nsnapshot:\n  repositories:\n    local: repo\n",
		cfg.DataDir, cfg.SecurityDir, base64.StdEncoding.EncodeToString(testserver.Secret)))
	s = testserver.StartConfig(t, cfg)
	admin := testserver.Token(t, "admin")
	if r := s.Do(t, "POST", "/api/v1/tenants", admin, "", map[string]string{"id": "stage", "adminUsername": "alice"}); r.Status != 201 {
		t.Fatalf("creating stage: %d %s", r.Status, r.Body)
	}
	var b strings.Builder
	for i := range docs {
		fmt.Fprintf(&b, "{\"index\":{\"_id\":\"d%d\"}}\n{\"n\":%d}\n", i, i)
	}
	if r := s.Do(t, "POST", "/logs/_bulk?refresh=true", admin, "stage", b.String()); r.Status != 200 || strings.Contains(string(r.Body), `"errors":true`) {
		t.Fatalf("indexing: %d %s", r.Status, r.Body)
	}
	return s, cfgFile, repo
}

// offline runs the command line without a server and fails the test
// when the exit code is not want.
func offline(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := runMain(t, args...)
	if code != want {
		t.Fatalf("tenantgate %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
	}
	return out, errOut
}

func TestSnapshotCLIOnline(t *testing.T) {
	s, _, repo := startSnapshotServer(t, 20)
	admin := testserver.Token(t, "admin")
	alice := testserver.Token(t, "alice", "analyst")

	out, errOut := cli(t, s, 0, alice, "snapshot", "create", "--repository", "local", "--name", "n1", "--tenant", "stage")
	if !regexp.MustCompile(`wrote snapshot local:n1: \d+ indices, 20 documents`).MatchString(out) {
		t.Fatalf("create printed %q", out)
	}
	if !strings.Contains(errOut, "snapshot: ") || !strings.Contains(errOut, "indices") {
		t.Fatalf("no progress on stderr: %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(repo, "n1", "manifest.json")); err != nil {
		t.Fatalf("the snapshot is not in the repository: %v", err)
	}

	out, _ = cli(t, s, 0, alice, "snapshot", "list", "--repository", "local")
	if !regexp.MustCompile(`(?m)^n1\s+SUCCESS\s+\d+\s+20\s+.+\s+tenant stage\s`).MatchString(out) {
		t.Fatalf("list:\n%s", out)
	}

	// Writes after the snapshot; restore refuses without --overwrite and
	// brings back the snapshot's documents with it.
	if r := s.Do(t, "POST", "/logs/_bulk?refresh=true", admin, "stage", "{\"index\":{\"_id\":\"late\"}}\n{\"n\":99}\n"); r.Status != 200 {
		t.Fatalf("late write: %d %s", r.Status, r.Body)
	}
	_, errOut = cli(t, s, 1, alice, "snapshot", "restore", "--repository", "local", "--name", "n1")
	if !strings.Contains(errOut, "exists") {
		t.Fatalf("restore over existing indices: %q", errOut)
	}
	if n := countDocs(t, s, "stage", "logs"); n != 21 {
		t.Fatalf("a refused restore changed the index: %d", n)
	}
	out, _ = cli(t, s, 0, alice, "snapshot", "restore", "--repository", "local", "--name", "n1", "--overwrite")
	if !strings.Contains(out, "verified: document counts and canary queries match the manifest") {
		t.Fatalf("restore printed %q", out)
	}
	if n := countDocs(t, s, "stage", "logs"); n != 20 {
		t.Fatalf("after the restore: %d documents, want 20", n)
	}

	// A superadmin clones it.
	out, _ = cli(t, s, 0, admin, "snapshot", "restore", "--repository", "local", "--name", "n1", "--as", "stage_copy")
	if !strings.Contains(out, "cloned into the new tenant stage_copy") {
		t.Fatalf("clone printed %q", out)
	}
	if n := countDocs(t, s, "stage_copy", "logs"); n != 20 {
		t.Fatalf("the clone has %d documents", n)
	}

	// Refusals: the server's messages, exit 1.
	_, errOut = cli(t, s, 1, admin, "snapshot", "create", "--repository", "nope", "--tenant", "stage")
	if !strings.Contains(errOut, "404") || !strings.Contains(errOut, "[nope] missing") {
		t.Fatalf("unknown repository: %q", errOut)
	}
	_, errOut = cli(t, s, 1, alice, "snapshot", "create", "--repository", "local", "--name", "n2")
	if !strings.Contains(errOut, "403") {
		t.Fatalf("alice snapshots everything: %q", errOut)
	}
	_, errOut = cli(t, s, 1, admin, "snapshot", "create", "--repository", "local", "--name", "n1", "--tenant", "stage")
	if !strings.Contains(errOut, "already exists") {
		t.Fatalf("same name: %q", errOut)
	}
}

func TestSnapshotCLIOffline(t *testing.T) {
	s, cfgFile, _ := startSnapshotServer(t, 15)
	out := filepath.Join(t.TempDir(), "backups")

	// While the gateway runs, the data directory is refused, clearly.
	if testing.Short() {
		t.Log("-short: skipping the 5 s wait for the data directory's lock")
	} else {
		_, errOut := offline(t, 1, "snapshot", "create", "--out", out, "--config", cfgFile)
		if !strings.Contains(errOut, "is in use: a running tenantgate holds its control.db") {
			t.Fatalf("a running data directory: %q", errOut)
		}
	}
	s.Stop()

	stdout, errOut := offline(t, 0, "snapshot", "create", "--out", out, "--name", "off1", "--tenant", "stage", "--config", cfgFile)
	if !regexp.MustCompile(`wrote snapshot .*off1: \d+ indices, 15 documents`).MatchString(stdout) {
		t.Fatalf("create printed %q", stdout)
	}
	if !regexp.MustCompile(`snapshot: \w+ \S+: \d+/\d+ indices`).MatchString(errOut) {
		t.Fatalf("no plain progress lines on stderr: %q", errOut)
	}
	// An archive, with the progress bar of a terminal.
	old := stderrTerminal
	stderrTerminal = func(io.Writer) bool { return true }
	archive := filepath.Join(out, "off2.tar.zst")
	_, errOut = offline(t, 0, "snapshot", "create", "--out", archive, "--config", cfgFile)
	stderrTerminal = old
	if !strings.Contains(errOut, "\rsnapshot [") || !strings.Contains(errOut, "#") {
		t.Fatalf("no progress bar on a terminal: %q", errOut)
	}

	stdout, _ = offline(t, 0, "snapshot", "list", out)
	if !regexp.MustCompile(`(?m)^off1\s+complete\s+\d+\s+15\s+.+tenant stage`).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^off2\S*\s+complete\s+`).MatchString(stdout) {
		t.Fatalf("list:\n%s", stdout)
	}
	for _, p := range []string{filepath.Join(out, "off1"), archive} {
		stdout, _ = offline(t, 0, "snapshot", "verify", p)
		if !strings.Contains(stdout, "verified ") || !strings.Contains(stdout, "document counts and canary queries match") {
			t.Fatalf("verify %s printed %q", p, stdout)
		}
	}

	// Restore into the stopped data directory, then start it again: the
	// clone is there and answers.
	stdout, _ = offline(t, 0, "snapshot", "restore", filepath.Join(out, "off1"), "--as", "stage_copy", "--admin-username", "alice", "--config", cfgFile)
	if !strings.Contains(stdout, "cloned into the new tenant stage_copy") || !strings.Contains(stdout, "verified") {
		t.Fatalf("offline restore printed %q", stdout)
	}
	cfg, err := config.Load(cfgFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2 := testserver.StartConfig(t, cfg)
	if n := countDocs(t, s2, "stage_copy", "logs"); n != 15 {
		t.Fatalf("the offline clone has %d documents", n)
	}
	if r := s2.Do(t, "GET", "/logs/_count", testserver.Token(t, "alice", "analyst"), "stage_copy", nil); r.Status != 200 {
		t.Fatalf("alice, the clone's admin, cannot read it: %d %s", r.Status, r.Body)
	}
	s2.Stop()

	// A tampered snapshot fails verify, and list does not call it good
	// once its manifest is broken.
	tamperOneFile(t, filepath.Join(out, "off1", "indices"))
	_, errOut = offline(t, 1, "snapshot", "verify", filepath.Join(out, "off1"))
	if !strings.Contains(errOut, "corrupt") {
		t.Fatalf("verify of a tampered snapshot: %q", errOut)
	}
	if err := os.WriteFile(filepath.Join(out, "off1", "manifest.json"), []byte(`{"format_version":1`), 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, _ = offline(t, 0, "snapshot", "list", out)
	if !regexp.MustCompile(`(?m)^off1\s+incomplete \(`).MatchString(stdout) {
		t.Fatalf("list of a broken manifest:\n%s", stdout)
	}
}

// tamperOneFile flips a byte of the largest file below dir.
func tamperOneFile(t *testing.T, dir string) {
	t.Helper()
	var target string
	var size int64
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Size() > size {
			target, size = p, fi.Size()
		}
		return err
	})
	if err != nil || target == "" {
		t.Fatalf("no file to tamper with below %s: %v", dir, err)
	}
	raw, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(target, raw, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotCLIUsage(t *testing.T) {
	t.Setenv("TENANTGATE_CONFIG", "")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"snapshot"}, "a command is required"},
		{[]string{"snapshot", "nope"}, "unknown command"},
		{[]string{"snapshot", "create"}, "pass --repository REPO"},
		{[]string{"snapshot", "create", "--repository", "r", "--out", "x"}, "excludes --out"},
		{[]string{"snapshot", "list"}, "name a directory"},
		{[]string{"snapshot", "list", "a", "b"}, "one directory"},
		{[]string{"snapshot", "list", "a", "--repository", "r"}, "not both"},
		{[]string{"snapshot", "verify"}, "name the snapshot's directory"},
		{[]string{"snapshot", "restore"}, "name the snapshot's directory"},
		{[]string{"snapshot", "restore", "--repository", "r"}, "needs --name"},
		{[]string{"snapshot", "restore", "x", "--name", "n"}, "--name needs --repository"},
		{[]string{"snapshot", "restore", "--repository", "r", "--name", "n", "--admin-username", "u"}, "offline restores"},
		{[]string{"snapshot", "list", "x", "--output", "yaml"}, "use table or json"},
		{[]string{"snapshot", "create", "--out", "x"}, "pass --config FILE or set TENANTGATE_CONFIG"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, errOut := runMain(t, c.args...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, errOut, c.want)
			}
		})
	}
	if code, out, _ := runMain(t, "snapshot", "create", "--help"); code != 0 || !strings.Contains(out, "--repository") || !strings.Contains(out, "--out") {
		t.Fatalf("create --help: %d %s", code, out)
	}
}
