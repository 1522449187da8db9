package cli

import (
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/auth"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// securityNames lists the names the server holds of one kind
// (tenants, roles, rolesmapping, internalusers), as admin sees them.
func securityNames(t *testing.T, s *testserver.Server, typ string) map[string]map[string]any {
	t.Helper()
	r := s.Do(t, "GET", "/_plugins/_security/api/"+typ, testserver.Token(t, "admin"), "", nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", typ, r.Status, r.Body)
	}
	out := map[string]map[string]any{}
	for k, v := range r.JSON(t) {
		out[k], _ = v.(map[string]any)
	}
	return out
}

// lines returns the lines of out that start with a plan mark.
func planLines(out string) []string {
	var l []string
	for _, line := range strings.Split(out, "\n") {
		if regexp.MustCompile(`^  [+~\-=!] `).MatchString(line) {
			l = append(l, strings.TrimSpace(line))
		}
	}
	return l
}

func wantPlan(t *testing.T, out string, want ...string) {
	t.Helper()
	got := planLines(out)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("plan:\n%s\nwant:\n%s\nwhole output:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out)
	}
}

const tenantsFile = `_meta:
  type: tenants
  config_version: 2
stage:
  description: "Staging"
ops:
  description: "Operations"
`

func TestApplyTenants(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")
	dir := t.TempDir()
	f := writeFile(t, dir, "tenants.yml", tenantsFile)

	t.Run("dry run changes nothing", func(t *testing.T) {
		out, _ := cli(t, s, 0, admin, "apply", "-f", f, "--dry-run")
		wantPlan(t, out, "+ tenant ops", "+ tenant stage")
		if !strings.Contains(out, "Plan: 2 to create, 0 to change, 0 to delete; 0 unchanged.") || !strings.Contains(out, "Dry run: nothing was changed.") {
			t.Fatalf("dry run:\n%s", out)
		}
		if have := securityNames(t, s, "tenants"); have["stage"] != nil || have["ops"] != nil {
			t.Fatalf("a dry run created tenants: %v", have)
		}
	})
	t.Run("apply prints the plan first", func(t *testing.T) {
		out, _ := cli(t, s, 0, admin, "apply", "-f", f)
		plan, created := strings.Index(out, "Plan for "+s.URL), strings.Index(out, "created tenant ops\ncreated tenant stage\n")
		if plan < 0 || created < plan || !strings.Contains(out, "Applied 2 changes.") {
			t.Fatalf("output:\n%s", out)
		}
		have := securityNames(t, s, "tenants")
		if have["stage"]["description"] != "Staging" || have["ops"]["description"] != "Operations" {
			t.Fatalf("tenants on the server: %v", have)
		}
	})
	t.Run("second run changes nothing", func(t *testing.T) {
		out, _ := cli(t, s, 0, admin, "apply", "-f", f)
		if strings.TrimSpace(out) != "No changes: "+s.URL+" matches the files (2 entries)." {
			t.Fatalf("second run:\n%s", out)
		}
	})
	t.Run("a changed description", func(t *testing.T) {
		f2 := writeFile(t, dir, "tenants2.yml", strings.Replace(tenantsFile, `"Operations"`, `"Operations team"`, 1))
		out, _ := cli(t, s, 0, admin, "apply", "-f", f2)
		wantPlan(t, out, "~ tenant ops (description)")
		if !strings.Contains(out, "changed tenant ops") || securityNames(t, s, "tenants")["ops"]["description"] != "Operations team" {
			t.Fatalf("output:\n%s", out)
		}
		cli(t, s, 0, admin, "apply", "-f", f) // back
	})
	t.Run("prune deletes an API tenant, never a reserved one", func(t *testing.T) {
		if r := s.Do(t, "POST", "/api/v1/tenants", admin, "", map[string]string{"id": "scratch", "name": "Scratch"}); r.Status != 201 {
			t.Fatalf("creating scratch: %d %s", r.Status, r.Body)
		}
		out, _ := cli(t, s, 0, admin, "apply", "-f", f, "--prune", "--dry-run")
		wantPlan(t, out,
			"- tenant scratch: soft delete, restorable with tenantgate tenants restore",
			"= tenant analysts: reserved, never pruned",
			"= tenant executive: reserved, never pruned",
			"= tenant human_resources: reserved, never pruned")
		if securityNames(t, s, "tenants")["scratch"] == nil {
			t.Fatal("a dry run pruned")
		}
		out, _ = cli(t, s, 0, admin, "apply", "-f", f, "--prune")
		if !strings.Contains(out, "deleted tenant scratch") {
			t.Fatalf("output:\n%s", out)
		}
		have := securityNames(t, s, "tenants")
		if have["scratch"] != nil || have["analysts"] == nil || have["executive"] == nil || have["stage"] == nil {
			t.Fatalf("after prune: %v", have)
		}
		// Soft: it can be restored.
		cli(t, s, 0, admin, "tenants", "restore", "--tenant", "scratch")
		cli(t, s, 0, admin, "apply", "-f", f, "--prune")
		out, _ = cli(t, s, 0, admin, "apply", "-f", f, "--prune")
		if !strings.HasPrefix(out, "No changes:") {
			t.Fatalf("prune twice:\n%s", out)
		}
	})
	t.Run("a reserved entry that differs is left and reported", func(t *testing.T) {
		g := writeFile(t, dir, "reserved.yml", tenantsFile+"analysts:\n  description: \"changed\"\nnew1:\n  description: \"n\"\n")
		out, errOut := cli(t, s, 1, admin, "apply", "-f", g)
		wantPlan(t, out, "+ tenant new1",
			"! tenant analysts (description): reserved on the server, so left as it is; change the server's security files instead")
		have := securityNames(t, s, "tenants")
		if !strings.Contains(errOut, "1 entries differ from the files but are reserved") || have["new1"] == nil ||
			have["analysts"]["description"] == "changed" {
			t.Fatalf("stderr %s; tenants %v", errOut, have)
		}
	})
	t.Run("the shipped files match the server", func(t *testing.T) {
		out, _ := cli(t, s, 0, admin, "apply", "-f", filepath.Join(testserver.RepoRoot(), "config", "security"))
		if !strings.Contains(out, "No changes:") || !strings.Contains(out, "apply does not set these flags") {
			t.Fatalf("output:\n%s", out)
		}
	})
}

// TestApplyBadFiles checks that a file that does not parse is refused
// with exit 2 before the server is asked anything.
func TestApplyBadFiles(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")
	dir := t.TempDir()
	good := writeFile(t, dir, "tenants.yml", tenantsFile)
	roles := "_meta:\n  type: roles\n  config_version: 2\n"
	cases := []struct {
		name, content string
		want          string
	}{
		{"not YAML", "_meta: [unclosed\n", "is not valid YAML"},
		{"no _meta", "stage:\n  description: x\n", "has no _meta.type"},
		{"unknown type", "_meta:\n  type: actiongroups\n  config_version: 2\n", `_meta.type "actiongroups" is not one apply manages`},
		{"wrong version", "_meta:\n  type: roles\n  config_version: 1\n", "config_version is 1, want 2"},
		{"unknown key", roles + "r:\n  tenant_permission: []\n", "field tenant_permission not found"},
		{"unknown tenant action", roles + "r:\n  tenant_permissions:\n    - tenant_patterns: [stage]\n      allowed_actions: [kibana_all_everything]\n", "kibana_all_everything"},
		{"bad tenant id", "_meta:\n  type: tenants\n  config_version: 2\n\"Bad Id\":\n  description: x\n", "tenants.yml"},
		{"plain password", "_meta:\n  type: internalusers\n  config_version: 2\nu:\n  password: secret123\n", "password in plain text is not accepted"},
		{"hosts", "_meta:\n  type: rolesmapping\n  config_version: 2\nm:\n  hosts: [h]\n", "hosts"},
		{"duplicate", tenantsFile, "tenant ops is in both"},
	}
	before := securityNames(t, s, "tenants")
	dead := httptest.NewServer(nil)
	dead.Close()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad := writeFile(t, t.TempDir(), "bad.yml", c.content)
			for _, server := range []string{s.URL, dead.URL} {
				code, out, errOut := runMain(t, "apply", "-f", good, bad, "--server", server, "--token", admin)
				if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, bad) || strings.Contains(out, "Plan") {
					t.Fatalf("exit %d, want 2 naming %s and %q\nstdout: %s\nstderr: %s", code, bad, c.want, out, errOut)
				}
			}
		})
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no file", []string{"apply", "--prune"}, "name the files with -f"},
		{"missing file", []string{"apply", "-f", filepath.Join(dir, "nope.yml")}, "no such file"},
		{"flag after files", []string{"apply", "-f", good, "--nope"}, "flag provided but not defined: -nope"},
		{"empty folder", []string{"apply", "-f", t.TempDir()}, "holds no .yml or .yaml files"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runMain(t, append(c.args, "--server", s.URL, "--token", admin)...)
			if code != 2 || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %s; want 2 and %q", code, errOut, c.want)
			}
		})
	}
	if after := securityNames(t, s, "tenants"); len(after) != len(before) {
		t.Fatalf("bad files changed the tenants: %v → %v", before, after)
	}
}

// TestApplyForbidden: a user without the permission sees the server's
// message, and apply stops at the first refusal.
func TestApplyForbidden(t *testing.T) {
	s := startAdminServer(t, "")
	alice := testserver.Token(t, "alice", "analyst")
	f := writeFile(t, t.TempDir(), "tenants.yml", tenantsFile)
	out, errOut := cli(t, s, 1, alice, "apply", "-f", f)
	wantPlan(t, out, "+ tenant ops", "+ tenant stage")
	if !strings.Contains(errOut, "apply: tenant ops: PUT /_plugins/_security/api/tenants/ops: 403 Forbidden: no permissions for [tenant] and User [name=alice] on tenant [ops]") ||
		!strings.Contains(errOut, "stopped after 0 of 2 changes") {
		t.Fatalf("stderr: %s", errOut)
	}
	if have := securityNames(t, s, "tenants"); have["ops"] != nil || have["stage"] != nil {
		t.Fatalf("refused changes were made: %v", have)
	}
}

const rolesFile = `_meta:
  type: roles
  config_version: 2
auditor:
  description: "Reads stage"
  cluster_permissions: ["restapi:admin/audit"]
  tenant_permissions:
    - tenant_patterns: ["stage", "ops"]
      allowed_actions: ["kibana_all_read"]
  index_permissions:
    - index_patterns: ["logs-*"]
      allowed_actions: ["read"]
writer@stage:
  tenant: stage
  tenant_permissions:
    - tenant_patterns: ["stage"]
      allowed_actions: ["kibana_all_write"]
`

const mappingsFile = `_meta:
  type: rolesmapping
  config_version: 2
auditor:
  users: ["dave"]
  backend_roles: ["audit", "compliance"]
writer@stage:
  users: ["erin"]
`

func TestApplyRolesAndMappings(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")
	dir := t.TempDir()
	tf := writeFile(t, dir, "tenants.yml", tenantsFile)
	rf := writeFile(t, dir, "roles.yml", rolesFile)
	mf := writeFile(t, dir, "roles_mapping.yml", mappingsFile)

	// Several files after one -f, tenants first, then roles, then mappings.
	out, _ := cli(t, s, 0, admin, "apply", "-f", mf, rf, tf)
	wantPlan(t, out, "+ tenant ops", "+ tenant stage", "+ role auditor", "+ role writer@stage",
		"+ rolesmapping auditor", "+ rolesmapping writer@stage")
	roles := securityNames(t, s, "roles")
	if roles["auditor"]["description"] != "Reads stage" || roles["writer@stage"]["tenant"] != "stage" {
		t.Fatalf("roles on the server: %v", roles)
	}
	if m := securityNames(t, s, "rolesmapping")["auditor"]; m == nil || len(m["backend_roles"].([]any)) != 2 {
		t.Fatalf("mapping on the server: %v", m)
	}

	out, _ = cli(t, s, 0, admin, "apply", "-f", tf, rf, mf)
	if !strings.HasPrefix(out, "No changes: "+s.URL+" matches the files (6 entries).") {
		t.Fatalf("second run:\n%s", out)
	}

	// Key order and the order of names in lists do not matter.
	reordered := strings.NewReplacer(`["stage", "ops"]`, `["ops", "stage"]`,
		"  description: \"Reads stage\"\n  cluster_permissions: [\"restapi:admin/audit\"]\n",
		"  cluster_permissions: [\"restapi:admin/audit\"]\n  description: \"Reads stage\"\n").Replace(rolesFile)
	if reordered == rolesFile {
		t.Fatal("the reordered file is the same")
	}
	rf2 := writeFile(t, dir, "roles2.yml", reordered)
	mf2 := writeFile(t, dir, "roles_mapping2.yml", strings.Replace(mappingsFile, `["audit", "compliance"]`, `["compliance", "audit", "audit"]`, 1))
	if out, _ = cli(t, s, 0, admin, "apply", "-f", rf2, mf2); !strings.HasPrefix(out, "No changes:") {
		t.Fatalf("reordered file:\n%s", out)
	}

	changed := strings.Replace(rolesFile, `allowed_actions: ["kibana_all_read"]`, `allowed_actions: ["kibana_all_write"]`, 1)
	rf3 := writeFile(t, dir, "roles3.yml", changed)
	out, _ = cli(t, s, 0, admin, "apply", "-f", rf3)
	wantPlan(t, out, "~ role auditor (tenant_permissions)")
	cli(t, s, 0, admin, "apply", "-f", rf)

	// Prune: API entries go; reserved ones, the tenants' Admin roles and
	// other tenants' scoped roles stay.
	for _, r := range []struct{ path, body string }{
		{"/_plugins/_security/api/roles/scratch", `{"description":"temporary"}`},
		{"/_plugins/_security/api/rolesmapping/scratch", `{"users":["zed"]}`},
		{"/_plugins/_security/api/roles/viewer@ops", `{"tenant_permissions":[{"tenant_patterns":["ops"],"allowed_actions":["kibana_all_read"]}]}`},
		{"/_plugins/_security/api/roles/old@stage", `{"tenant_permissions":[{"tenant_patterns":["stage"],"allowed_actions":["kibana_all_read"]}]}`},
	} {
		if resp := s.Do(t, "PUT", r.path, admin, "", r.body); resp.Status != 201 {
			t.Fatalf("PUT %s: %d %s", r.path, resp.Status, resp.Body)
		}
	}
	out, _ = cli(t, s, 0, admin, "apply", "-f", tf, rf, mf, "--prune")
	for _, want := range []string{
		"- rolesmapping scratch",
		"- role old@stage: its role mapping goes with it",
		"- role scratch: its role mapping goes with it",
		"= rolesmapping admin@ops: the Admin role of tenant ops, kept with its tenant",
		"= rolesmapping all_access: reserved, never pruned",
		"= role admin@stage: static, never pruned",
		"= role all_access: reserved, never pruned",
		"= role analyst: reserved, never pruned",
		"= role viewer@ops: belongs to tenant ops, of which the files list no roles",
	} {
		if !slices.Contains(planLines(out), want) {
			t.Errorf("the plan lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "- role admin@") || strings.Contains(out, "- rolesmapping admin@") || strings.Contains(out, "- role all_access") {
		t.Fatalf("prune would delete what it must keep:\n%s", out)
	}
	roles = securityNames(t, s, "roles")
	for name, want := range map[string]bool{"scratch": false, "old@stage": false, "viewer@ops": true, "all_access": true, "admin@stage": true, "auditor": true} {
		if (roles[name] != nil) != want {
			t.Errorf("after prune, role %s present: %v, want %v", name, roles[name] != nil, want)
		}
	}
	if maps := securityNames(t, s, "rolesmapping"); maps["scratch"] != nil || maps["admin@stage"] == nil || maps["all_access"] == nil {
		t.Errorf("mappings after prune: %v", maps)
	}
	if out, _ = cli(t, s, 0, admin, "apply", "-f", tf, rf, mf, "--prune"); !strings.HasPrefix(out, "No changes:") {
		t.Fatalf("prune twice:\n%s", out)
	}
}

func TestApplyInternalUsers(t *testing.T) {
	s := startAdminServer(t, "")
	admin := testserver.Token(t, "admin")
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := auth.HashPassword(pw, 4)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	users := func(h string) string {
		return "_meta:\n  type: internalusers\n  config_version: 2\n" +
			"dave:\n  hash: \"" + h + "\"\n  backend_roles: [audit]\n  email: dave@example.com\n  attributes: {team: compliance}\n" +
			"robot:\n  kind: service_account\n  description: \"CI\"\n"
	}
	signIn := func(pw string) int {
		return s.Do(t, "GET", "/api/v1/tenants", "", "", nil, testserver.Basic("dave", pw)...).Status
	}
	f := writeFile(t, dir, "internal_users.yml", users(hash("first-password")))
	out, _ := cli(t, s, 0, admin, "apply", "-f", f)
	wantPlan(t, out, "+ internaluser dave", "+ internaluser robot")
	if strings.Contains(out, "$2a$") {
		t.Fatalf("the output shows a hash:\n%s", out)
	}
	if st := signIn("first-password"); st != 200 {
		t.Fatalf("dave signs in: %d", st)
	}
	if out, _ = cli(t, s, 0, admin, "apply", "-f", f); !strings.HasPrefix(out, "No changes:") {
		t.Fatalf("second run:\n%s", out)
	}

	// A new hash cannot be seen: no change, unless --force-passwords.
	f2 := writeFile(t, dir, "internal_users2.yml", users(hash("second-password")))
	if out, _ = cli(t, s, 0, admin, "apply", "-f", f2); !strings.HasPrefix(out, "No changes:") || signIn("first-password") != 200 {
		t.Fatalf("a changed hash alone:\n%s", out)
	}
	out, _ = cli(t, s, 0, admin, "apply", "-f", f2, "--force-passwords")
	wantPlan(t, out, "~ internaluser dave (hash)")
	if signIn("second-password") != 200 || signIn("first-password") != 401 {
		t.Fatal("--force-passwords did not set the new password")
	}

	// Another change keeps the password (the hash is resent) and a
	// disabled account stays disabled.
	if r := s.Do(t, "PUT", "/_plugins/_security/api/internalusers/robot", admin, "", `{"kind":"service_account","description":"CI","disabled":true}`); r.Status != 200 {
		t.Fatalf("disabling robot: %d %s", r.Status, r.Body)
	}
	f3 := writeFile(t, dir, "internal_users3.yml", strings.NewReplacer("email: dave@example.com", "email: dave@example.org",
		`description: "CI"`, `description: "CI runner"`).Replace(users(hash("second-password"))))
	out, _ = cli(t, s, 0, admin, "apply", "-f", f3)
	wantPlan(t, out, "~ internaluser dave (email)", "~ internaluser robot (description)")
	have := securityNames(t, s, "internalusers")
	if signIn("second-password") != 200 || have["dave"]["email"] != "dave@example.org" || have["robot"]["disabled"] != true {
		t.Fatalf("after an update: %v", have)
	}

	if r := s.Do(t, "PUT", "/_plugins/_security/api/internalusers/zed", admin, "", `{"description":"temporary"}`); r.Status != 201 {
		t.Fatalf("creating zed: %d %s", r.Status, r.Body)
	}
	out, _ = cli(t, s, 0, admin, "apply", "-f", f3, "--prune")
	wantPlan(t, out, "- internaluser zed")
	if have = securityNames(t, s, "internalusers"); have["zed"] != nil || have["dave"] == nil {
		t.Fatalf("after prune: %v", have)
	}
}
