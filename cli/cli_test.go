package cli

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/auth"
)

func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

func writeConfig(t *testing.T, dir string, keys ...string) string {
	t.Helper()
	quoted := make([]string, len(keys))
	for i, k := range keys {
		b, _ := json.Marshal(k)
		quoted[i] = string(b)
	}
	cfg := fmt.Sprintf("listen: 127.0.0.1:0\ndata_dir: %s\nsecurity_dir: %s\nauth:\n  jwt:\n    signing_keys: [%s]\nserver:\n  shutdown_timeout: 10s\n",
		filepath.Join(dir, "data"), filepath.Join(repoRoot(), "config", "security"), strings.Join(quoted, ", "))
	p := filepath.Join(dir, "tenantgate.yml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(args, &o, &e)
	return code, o.String(), e.String()
}

func TestKeygenAndToken(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "k")
	if code, _, errOut := run("keygen", "--out", keyFile); code != 0 {
		t.Fatalf("keygen: %d %s", code, errOut)
	}
	if code, _, errOut := run("keygen", "--out", keyFile); code == 0 || !strings.Contains(errOut, "exists") {
		t.Fatalf("keygen over an existing file: %d %s", code, errOut)
	}
	cfg := writeConfig(t, dir, "file:"+keyFile)
	code, out, errOut := run("token", "--config", cfg, "--sub", "alice", "--roles", "analyst, reader", "--ttl", "5m")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errOut)
	}
	raw, _ := os.ReadFile(keyFile)
	v, err := auth.NewVerifier(auth.Options{SigningKeys: []string{strings.TrimSpace(string(raw))}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(strings.TrimSpace(out))
	if err != nil || p.Name != "alice" || strings.Join(p.BackendRoles, ",") != "analyst,reader" {
		t.Fatalf("minted token verifies as %+v, %v", p, err)
	}
}

func TestTokenErrors(t *testing.T) {
	dir := t.TempDir()
	pemOnly := writeConfig(t, dir, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no sub", []string{"token", "--config", pemOnly}, 2, "--sub is required"},
		{"no HMAC key", []string{"token", "--config", pemOnly, "--sub", "a"}, 1, "no HMAC key"},
		{"bad ttl", []string{"token", "--config", pemOnly, "--sub", "a", "--ttl", "-1s"}, 2, "--ttl"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"token", "--nope"}, 2, "nope"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := run(c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, c.code, c.want)
			}
		})
	}
}

// TestServeBinary builds the real binary, serves, writes, and checks that
// SIGTERM drains a request that is still being received, exits 0, and that
// the data is there after a restart.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "tenantgate")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tenantgate")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	secret := "base64:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	cfg := writeConfig(t, dir, secret)
	out, err := exec.Command(bin, "token", "--config", cfg, "--sub", "alice", "--roles", "analyst").Output()
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	tok := strings.TrimSpace(string(out))

	start := func() (*exec.Cmd, string, *bytes.Buffer) {
		cmd := exec.Command(bin, "serve", "--config", cfg)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		addr := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				line := sc.Text()
				logs.WriteString(line + "\n")
				var m map[string]any
				if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "tenantgate listening" {
					addr <- m["addr"].(string)
				}
			}
			close(addr)
		}()
		select {
		case a, ok := <-addr:
			if !ok {
				t.Fatalf("server exited early:\n%s", logs.String())
			}
			return cmd, a, &logs
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("server did not start:\n%s", logs.String())
		}
		return nil, "", nil
	}
	cmd, addr, logs := start()
	req, _ := http.NewRequest("PUT", "http://"+addr+"/logs/_doc/1", strings.NewReader(`{"msg":"before"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("securitytenant", "analysts")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("write: %v %v", err, resp)
	}
	resp.Body.Close()

	// A request whose body is still arriving when SIGTERM comes must be
	// served, not cut.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"msg":"in flight during shutdown"}`
	fmt.Fprintf(conn, "PUT /logs/_doc/2 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nsecuritytenant: analysts\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", tok, len(body), body[:10])
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatalf("finishing the in-flight body: %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, "201") {
		t.Fatalf("in-flight request: %q %v\n%s", status, err, logs.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "tenantgate stopped") {
		t.Fatalf("no clean stop in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), tok[len(tok)-20:]) {
		t.Fatal("the log contains the token")
	}

	cmd, addr, logs = start()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	for _, id := range []string{"1", "2"} {
		req, _ = http.NewRequest("GET", "http://"+addr+"/logs/_source/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("securitytenant", "analysts")
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(got), "msg") {
			t.Fatalf("document %s after restart: %d %s\n%s", id, resp.StatusCode, got, logs.String())
		}
	}
}
