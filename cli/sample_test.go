package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/internal/testserver"
	"github.com/tenantgate/tenantgate/sample"
)

func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func countDocs(t *testing.T, s *testserver.Server, tenant, index string) int {
	t.Helper()
	r := s.Do(t, "GET", "/"+index+"/_count", testserver.Token(t, "admin"), tenant, nil)
	if r.Status != 200 {
		t.Fatalf("count %s: %d %s", index, r.Status, r.Body)
	}
	return int(r.JSON(t)["count"].(float64))
}

func TestSampleLoadWeblogs(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 3000 documents")
	}
	s := testserver.Start(t)
	t.Setenv("TENANTGATE_TOKEN", testserver.Token(t, "alice", "analyst"))
	code, out, errOut := runMain(t, "sample", "load", "--tenant", "analysts", "--server", s.URL, "--batch", "800")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	set, err := sample.Weblogs(sample.WeblogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	objects, _ := sample.ParseExport(set.Objects)
	for _, want := range []string{
		fmt.Sprintf("loaded %d documents into sample_weblogs", len(set.Docs)),
		fmt.Sprintf("imported %d saved objects", len(objects)),
		"dashboard: " + s.URL + "/app/dashboards/view/sample-weblogs-dashboard?security_tenant=analysts",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := countDocs(t, s, "analysts", "sample_weblogs"); n != len(set.Docs) {
		t.Errorf("%d documents in the tenant, want %d", n, len(set.Docs))
	}
	r := s.Do(t, "GET", "/api/saved_objects/dashboard/sample-weblogs-dashboard", testserver.Token(t, "admin"), "analysts", nil)
	if r.Status != 200 {
		t.Fatalf("dashboard: %d %s", r.Status, r.Body)
	}
	var dash struct {
		Attributes struct{ Title string } `json:"attributes"`
	}
	if err := json.Unmarshal(r.Body, &dash); err != nil || dash.Attributes.Title != "[Sample] Web logs" {
		t.Errorf("dashboard %s: %v", r.Body, err)
	}
	// Only the tenant asked for: the global tenant has no sample.
	if r := s.Do(t, "GET", "/sample_weblogs/_count", testserver.Token(t, "admin"), "global", nil); r.Status != 404 {
		t.Errorf("global tenant: %d %s", r.Status, r.Body)
	}
	// Loading again overwrites.
	if code, out, errOut := runMain(t, "sample", "load", "--tenant", "analysts", "--server", s.URL); code != 0 {
		t.Fatalf("second load: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := countDocs(t, s, "analysts", "sample_weblogs"); n != len(set.Docs) {
		t.Errorf("after a second load: %d documents, want %d", n, len(set.Docs))
	}
}

func TestSampleLoadNginx(t *testing.T) {
	dir := testserver.OSDFixtures(t)
	s := testserver.Start(t)
	code, out, errOut := runMain(t, "sample", "load", "--set", "nginx", "--tenant", "analysts", "--server", s.URL,
		"--token", testserver.Token(t, "admin"), "--fixtures", dir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	for _, want := range []string{"note: merged the component templates communication, http", "loaded 990 documents into ss4o_logs-nginx-sample-sample",
		"imported 12 saved objects", "/app/dashboards/view/nginx-dashboard-1.0.0?security_tenant=analysts"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := countDocs(t, s, "analysts", "ss4o_logs-nginx-sample-sample"); n != 990 {
		t.Errorf("%d documents, want 990", n)
	}
}

func TestSampleLoadUsageAndErrors(t *testing.T) {
	t.Setenv("TENANTGATE_TOKEN", "")
	code, _, errOut := runMain(t, "sample", "load", "--help")
	if code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, flag := range []string{"-tenant", "-set", "-server", "-token", "-fixtures", "TENANTGATE_TOKEN", "weblogs", "nginx"} {
		if !strings.Contains(errOut, flag) {
			t.Errorf("--help lacks %q:\n%s", flag, errOut)
		}
	}
	if code, out, _ := runMain(t, "help"); code != 0 || !strings.Contains(out, "tenantgate sample load") {
		t.Errorf("help: exit %d, %s", code, out)
	}
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"sample"}, 2, `the subcommand is "load"`},
		{[]string{"sample", "unload"}, 2, `the subcommand is "load"`},
		{[]string{"sample", "load", "--token", "x"}, 2, "--tenant is required"},
		{[]string{"sample", "load", "--tenant", "analysts"}, 2, "a token is required"},
		{[]string{"sample", "load", "--tenant", "analysts", "--token", "x", "--set", "flights"}, 2, `unknown sample set "flights"`},
		{[]string{"sample", "load", "--tenant", "analysts", "--token", "x", "--set", "nginx"}, 2, "needs the fixtures folder"},
		{[]string{"sample", "load", "--tenant", "analysts", "--token", "x", "--batch", "0"}, 2, "--batch must be positive"},
	}
	for _, c := range cases {
		code, _, errOut := runMain(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, errOut, c.code, c.msg)
		}
	}
}

// TestSampleLoadRefused: a read-only member cannot load, and says why.
func TestSampleLoadRefused(t *testing.T) {
	s := testserver.Start(t)
	code, _, errOut := runMain(t, "sample", "load", "--tenant", "analysts", "--server", s.URL, "--token", testserver.Token(t, "bob"))
	if code != 1 || !strings.Contains(errOut, "403") || !strings.Contains(errOut, "security_exception") {
		t.Errorf("read-only member: exit %d, %s", code, errOut)
	}
}
