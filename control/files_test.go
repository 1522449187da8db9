package control_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// security returns a small set of security files' content.
func security(t *testing.T) control.Security {
	return control.Security{
		Tenants: map[string]tenants.Tenant{
			"analysts":  {Name: "analysts", Description: "Analysts", Reserved: true},
			"executive": {Name: "executive", Description: "Executives", Hidden: true},
		},
		Roles: map[string]policy.Role{
			"analyst": {Name: "analyst", Description: "reads analysts",
				TenantPermissions: []policy.TenantPermission{{TenantPatterns: []string{"analysts"}, AllowedActions: []string{policy.TenantRead}}}},
			"secret": {Name: "secret", Hidden: true},
		},
		Mappings: map[string]policy.RoleMapping{
			"analyst": {BackendRoles: []string{"analyst"}, Groups: []string{"ops"}},
		},
		Users: map[string]control.User{
			"admin": {PasswordHash: bcryptHash(t), Superadmin: true, BackendRoles: []string{"admin"}},
			"ci":    {Kind: control.KindServiceAccount, Flags: control.Flags{Hidden: true}},
		},
	}
}

// snapshot returns every record of the store's buckets, raw, by bucket
// and key.
func snapshot(t *testing.T, st *control.Store) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := st.DB().View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			m := map[string]string{}
			out[string(name)] = m
			return b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil })
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func apply(t *testing.T, st *control.Store, sec control.Security, now time.Time) int {
	t.Helper()
	n, err := st.ApplyFiles(sec, now)
	if err != nil {
		t.Fatalf("ApplyFiles: %v", err)
	}
	return n
}

func TestApplyFilesCreatesReservedFileRecords(t *testing.T) {
	st := openStore(t)
	if n := apply(t, st, security(t), at(0)); n != 7 {
		t.Errorf("first apply: %d changes, want 7", n)
	}
	fileMeta := control.Meta{Source: control.SourceFile, Created: at(0), Updated: at(0)}
	view(t, st, func(tx *control.Tx) error {
		ten, err := tx.Tenant("executive")
		if err != nil {
			return err
		}
		wantTen := control.Tenant{ID: "executive", Name: "executive", Description: "Executives",
			Flags: control.Flags{Reserved: true, Hidden: true}, Meta: fileMeta}
		if !reflect.DeepEqual(ten, wantTen) {
			t.Errorf("tenant:\n got %+v\nwant %+v", ten, wantTen)
		}
		role, err := tx.Role("secret")
		if err != nil {
			return err
		}
		if !role.Reserved || !role.Hidden || role.Meta != fileMeta {
			t.Errorf("role secret = %+v", role)
		}
		m, err := tx.Mapping("analyst")
		if err != nil {
			return err
		}
		if !m.Reserved || m.Meta != fileMeta || !reflect.DeepEqual(m.Groups, []string{"ops"}) {
			t.Errorf("mapping analyst = %+v", m)
		}
		admin, err := tx.User("admin")
		if err != nil {
			return err
		}
		if admin.Kind != control.KindUser || !admin.Reserved || admin.Hidden || !admin.Superadmin || admin.Meta != fileMeta {
			t.Errorf("user admin = %+v", admin)
		}
		ci, err := tx.User("ci")
		if err != nil {
			return err
		}
		if ci.Kind != control.KindServiceAccount || !ci.Reserved || !ci.Hidden {
			t.Errorf("service account ci = %+v", ci)
		}
		return nil
	})
}

func TestApplyFilesIsIdempotent(t *testing.T) {
	st := openStore(t)
	apply(t, st, security(t), at(0))
	before := snapshot(t, st)
	if n := apply(t, st, security(t), at(time.Hour)); n != 0 {
		t.Errorf("second apply: %d changes, want 0", n)
	}
	if after := snapshot(t, st); !reflect.DeepEqual(before, after) {
		t.Errorf("second apply changed the store:\nbefore %v\nafter  %v", before, after)
	}
	// A time in another zone is stored in UTC and changes nothing either.
	if n := apply(t, st, security(t), at(2*time.Hour).In(time.FixedZone("X", 3600))); n != 0 {
		t.Errorf("third apply: %d changes, want 0", n)
	}
}

func TestApplyFilesUpdatesChangedEntriesOnly(t *testing.T) {
	st := openStore(t)
	apply(t, st, security(t), at(0))
	sec := security(t)
	r := sec.Roles["analyst"]
	r.Description = "reads analysts, more"
	sec.Roles["analyst"] = r
	if n := apply(t, st, sec, at(time.Hour)); n != 1 {
		t.Errorf("apply after one change: %d changes, want 1", n)
	}
	view(t, st, func(tx *control.Tx) error {
		analyst, err := tx.Role("analyst")
		if err != nil {
			return err
		}
		if analyst.Description != "reads analysts, more" || !analyst.Created.Equal(at(0)) || !analyst.Updated.Equal(at(time.Hour)) {
			t.Errorf("changed role: %+v", analyst)
		}
		secret, err := tx.Role("secret")
		if err != nil {
			return err
		}
		if !secret.Updated.Equal(at(0)) {
			t.Errorf("unchanged role got Updated %v", secret.Updated)
		}
		return nil
	})
}

func TestApplyFilesLeavesAPIRecordsAlone(t *testing.T) {
	st := openStore(t)
	apiMeta := control.Meta{Source: control.SourceAPI, Created: at(-time.Hour), Updated: at(-time.Hour)}
	update(t, st, func(tx *control.Tx) error {
		return errors.Join(
			tx.PutTenant(control.Tenant{ID: "stage", Name: "Staging", Meta: apiMeta, Locked: true}),
			tx.PutRole(control.Role{Name: "admin@stage", Role: policy.Role{Tenant: "stage"}, Meta: apiMeta}),
			tx.PutMapping(control.RoleMapping{Name: "admin@stage", RoleMapping: policy.RoleMapping{Users: []string{"john"}}, Meta: apiMeta}),
			tx.PutUser(control.User{Name: "john", Meta: apiMeta}),
			tx.PutToken(control.Token{ID: "tok", Owner: "john", Hash: []byte{1}}),
			tx.PutGroup(control.Group{Name: "ops", Meta: apiMeta}),
			tx.PutTenancy(control.Tenancy{DefaultTenant: "stage"}),
		)
	})
	before := snapshot(t, st)
	apply(t, st, security(t), at(0))
	// Dropping every file entry must not touch them either.
	apply(t, st, control.Security{}, at(time.Hour))
	after := snapshot(t, st)
	for bucket, recs := range before {
		for key, raw := range recs {
			if after[bucket][key] != raw {
				t.Errorf("%s/%s changed:\nbefore %s\nafter  %s", bucket, key, raw, after[bucket][key])
			}
		}
	}
}

func TestApplyFilesTakesOverAPIRecords(t *testing.T) {
	st := openStore(t)
	apiMeta := control.Meta{Source: control.SourceAPI, Created: at(-time.Hour), Updated: at(-time.Hour)}
	update(t, st, func(tx *control.Tx) error {
		return errors.Join(
			tx.PutTenant(control.Tenant{ID: "analysts", Name: "Old", Meta: apiMeta, Locked: true}),
			tx.PutRole(control.Role{Name: "analyst", Role: policy.Role{Description: "api"}, Meta: apiMeta}),
			tx.PutUser(control.User{Name: "admin", Email: "a@b.c", Meta: apiMeta}),
		)
	})
	apply(t, st, security(t), at(0))
	view(t, st, func(tx *control.Tx) error {
		ten, err := tx.Tenant("analysts")
		if err != nil {
			return err
		}
		// The lock is operational state, kept through the takeover.
		if ten.Source != control.SourceFile || !ten.Reserved || !ten.Locked || ten.Name != "analysts" ||
			!ten.Created.Equal(at(-time.Hour)) || !ten.Updated.Equal(at(0)) {
			t.Errorf("taken-over tenant = %+v", ten)
		}
		role, err := tx.Role("analyst")
		if err != nil {
			return err
		}
		if role.Source != control.SourceFile || !role.Reserved || role.Description != "reads analysts" ||
			!role.Created.Equal(at(-time.Hour)) {
			t.Errorf("taken-over role = %+v", role)
		}
		user, err := tx.User("admin")
		if err != nil {
			return err
		}
		if user.Source != control.SourceFile || user.Email != "" || !user.Superadmin {
			t.Errorf("taken-over user = %+v", user)
		}
		return nil
	})
	// Once taken over, a file entry that leaves the files is deleted.
	sec := security(t)
	delete(sec.Roles, "analyst")
	if n := apply(t, st, sec, at(time.Hour)); n != 1 {
		t.Errorf("apply without analyst: %d changes, want 1", n)
	}
}

func TestApplyFilesRemovesDroppedEntries(t *testing.T) {
	st := openStore(t)
	apply(t, st, security(t), at(0))
	update(t, st, func(tx *control.Tx) error {
		return tx.PutToken(control.Token{ID: "ci-token", Owner: "ci", Hash: []byte{1}})
	})

	sec := security(t)
	delete(sec.Tenants, "executive")
	delete(sec.Roles, "secret")
	delete(sec.Mappings, "analyst")
	delete(sec.Users, "ci")
	if n := apply(t, st, sec, at(time.Hour)); n != 4 {
		t.Errorf("apply after dropping four entries: %d changes, want 4", n)
	}
	view(t, st, func(tx *control.Tx) error {
		if _, err := tx.Role("secret"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("role secret: %v, want ErrNotFound", err)
		}
		if _, err := tx.Token("ci-token"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("token of ci: %v, want ErrNotFound", err)
		}
		if _, err := tx.Role("analyst"); err != nil {
			t.Errorf("role analyst, still in the files: %v", err)
		}
		if _, err := tx.Mapping("analyst"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("mapping analyst: %v, want ErrNotFound", err)
		}
		if _, err := tx.User("ci"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("user ci: %v, want ErrNotFound", err)
		}
		if toks, _ := tx.TokensOf("ci"); len(toks) != 0 {
			t.Errorf("tokens of deleted ci: %v", toks)
		}
		// A tenant that leaves tenants.yml is soft-deleted, not purged.
		ten, err := tx.Tenant("executive")
		if err != nil {
			return err
		}
		if ten.DeletedAt == nil || !ten.DeletedAt.Equal(at(time.Hour)) || ten.DeletedBy != "tenants.yml" {
			t.Errorf("dropped tenant = %+v, want soft-deleted at %v", ten, at(time.Hour))
		}
		return nil
	})
	if n := apply(t, st, sec, at(2*time.Hour)); n != 0 {
		t.Errorf("second apply after dropping: %d changes, want 0", n)
	}
	// Putting the tenant back restores it.
	if n := apply(t, st, security(t), at(3*time.Hour)); n != 4 {
		t.Errorf("apply with the entries back: %d changes, want 4", n)
	}
	view(t, st, func(tx *control.Tx) error {
		ten, err := tx.Tenant("executive")
		if err != nil {
			return err
		}
		if ten.DeletedAt != nil || ten.DeletedBy != "" || !ten.Created.Equal(at(0)) {
			t.Errorf("restored tenant = %+v", ten)
		}
		return nil
	})
}

func TestApplyFilesErrorChangesNothing(t *testing.T) {
	st := openStore(t)
	apply(t, st, security(t), at(0))
	before := snapshot(t, st)
	tests := []struct {
		name   string
		change func(*control.Security)
	}{
		{"bad user name", func(s *control.Security) { s.Users["a/b"] = control.User{} }},
		{"bad user kind", func(s *control.Security) { s.Users["robot"] = control.User{Kind: "robot"} }},
		{"bad tenant id", func(s *control.Security) { s.Tenants["Bad"] = tenants.Tenant{} }},
		{"bad role name", func(s *control.Security) { s.Roles["x?"] = policy.Role{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sec := security(t)
			delete(sec.Roles, "secret") // would be a change if anything were kept
			r := sec.Roles["analyst"]
			r.Description = "changed"
			sec.Roles["analyst"] = r
			tc.change(&sec)
			n, err := st.ApplyFiles(sec, at(time.Hour))
			if !errors.Is(err, control.ErrInvalid) || n != 0 {
				t.Fatalf("ApplyFiles = %d, %v; want 0, ErrInvalid", n, err)
			}
			if after := snapshot(t, st); !reflect.DeepEqual(before, after) {
				t.Errorf("a failed apply changed the store")
			}
		})
	}
}

// TestApplyShippedFiles applies the security files that ship with
// tenantgate, twice.
func TestApplyShippedFiles(t *testing.T) {
	dir := filepath.Join("..", "config", "security")
	read := func(name string) []byte {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	var sec control.Security
	var err error
	if sec.Tenants, err = tenants.ParseFile(read("tenants.yml")); err != nil {
		t.Fatal(err)
	}
	if sec.Roles, err = policy.ParseRoles(read("roles.yml")); err != nil {
		t.Fatal(err)
	}
	if sec.Mappings, err = policy.ParseRoleMappings(read("roles_mapping.yml")); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	want := len(sec.Tenants) + len(sec.Roles) + len(sec.Mappings)
	if n := apply(t, st, sec, at(0)); n != want {
		t.Errorf("first apply: %d changes, want %d", n, want)
	}
	if n := apply(t, st, sec, at(time.Minute)); n != 0 {
		t.Errorf("second apply: %d changes, want 0", n)
	}
	view(t, st, func(tx *control.Tx) error {
		roles, err := tx.Roles()
		if len(roles) != len(sec.Roles) {
			t.Errorf("%d roles stored, %d in roles.yml", len(roles), len(sec.Roles))
		}
		for _, r := range roles {
			file := sec.Roles[r.Name]
			file.Reserved = true
			if !reflect.DeepEqual(r.Role, file) {
				t.Errorf("role %s:\n got %+v\nwant %+v", r.Name, r.Role, file)
			}
		}
		return err
	})
}

const usersHeader = "_meta:\n  type: internalusers\n  config_version: 2\n"

func TestParseInternalUsers(t *testing.T) {
	hash := bcryptHash(t)
	doc := usersHeader + `
admin:
  hash: "` + hash + `"
  reserved: true
  backend_roles: [admin]
  description: Demo admin user
  attributes: {team: ops, level: 3}
  opendistro_security_roles: []
  superadmin: true
  groups: [ops]
  email: admin@example.com
  first_name: Ada
  last_name: Min
ci:
  kind: service_account
  hidden: true
  static: true
empty:
`
	got, err := control.ParseInternalUsers([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]control.User{
		"admin": {Name: "admin", Kind: control.KindUser, PasswordHash: hash,
			BackendRoles: []string{"admin"}, Description: "Demo admin user",
			Attributes: map[string]string{"team": "ops", "level": "3"}, Superadmin: true,
			Groups: []string{"ops"}, Email: "admin@example.com", FirstName: "Ada", LastName: "Min",
			Flags: control.Flags{Reserved: true}},
		"ci":    {Name: "ci", Kind: control.KindServiceAccount, Flags: control.Flags{Hidden: true, Static: true}},
		"empty": {Name: "empty", Kind: control.KindUser},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseInternalUsers:\n got %+v\nwant %+v", got, want)
	}

	// Only the header: no users.
	got, err = control.ParseInternalUsers([]byte(usersHeader))
	if err != nil || len(got) != 0 {
		t.Errorf("header only: %v, %v", got, err)
	}
}

func TestParseInternalUsersErrors(t *testing.T) {
	hash := bcryptHash(t)
	tests := []struct {
		name string
		doc  string
		want string // part of the error message
	}{
		{"empty", "", "empty document"},
		{"not yaml", "a: [", "internal_users.yml"},
		{"no meta", "admin:\n  hash: x\n", "_meta"},
		{"wrong type", "_meta: {type: roles, config_version: 2}\n", "_meta"},
		{"wrong version", "_meta: {type: internalusers, config_version: 1}\n", "_meta"},
		{"plain password", usersHeader + "admin:\n  password: admin\n", "use hash"},
		{"unknown field", usersHeader + "admin:\n  colour: red\n", "colour"},
		{"malformed hash", usersHeader + "admin:\n  hash: notbcrypt\n", "bcrypt"},
		{"service account with hash", usersHeader + "ci:\n  kind: service_account\n  hash: \"" + hash + "\"\n", "service account"},
		{"unknown kind", usersHeader + "bot:\n  kind: robot\n", "robot"},
		{"bad user name", usersHeader + "\"a/b\":\n  hash: \"" + hash + "\"\n", "must not contain"},
		{"bad group", usersHeader + "admin:\n  groups: [\"a/b\"]\n", "group name"},
		{"security roles", usersHeader + "admin:\n  opendistro_security_roles: [all_access]\n", "roles_mapping.yml"},
		{"duplicate user", usersHeader + "admin: {}\nadmin: {}\n", "already defined"},
		{"attributes not strings", usersHeader + "admin:\n  attributes: {a: [1]}\n", "internal_users.yml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := control.ParseInternalUsers([]byte(tc.doc))
			if !errors.Is(err, control.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestParsedUsersApply(t *testing.T) {
	users, err := control.ParseInternalUsers([]byte(usersHeader + "admin:\n  hash: \"" + bcryptHash(t) + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if n := apply(t, st, control.Security{Users: users}, at(0)); n != 1 {
		t.Errorf("first apply: %d, want 1", n)
	}
	if n := apply(t, st, control.Security{Users: users}, at(time.Hour)); n != 0 {
		t.Errorf("second apply: %d, want 0", n)
	}
	raw := snapshot(t, st)["users"]["admin"]
	if !bytes.Contains([]byte(raw), []byte(`"password_hash":"$2`)) {
		t.Errorf("stored user has no hash: %s", raw)
	}
}

func TestApplyFilesKeepsLockAndFreezeOfFileTenants(t *testing.T) {
	st := openStore(t)
	apply(t, st, security(t), at(0))
	update(t, st, func(tx *control.Tx) error {
		ten, err := tx.Tenant("analysts")
		if err != nil {
			return err
		}
		ten.Locked, ten.Frozen = true, true
		return tx.PutTenant(ten)
	})
	if n := apply(t, st, security(t), at(time.Hour)); n != 0 {
		t.Errorf("re-apply after a lock: %d changes, want 0", n)
	}
	view(t, st, func(tx *control.Tx) error {
		ten, err := tx.Tenant("analysts")
		if err == nil && (!ten.Locked || !ten.Frozen) {
			t.Errorf("the lock and freeze of a file tenant did not survive re-applying the files: %+v", ten)
		}
		return err
	})
}
