package control_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"go.etcd.io/bbolt"

	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

// kind describes one record type through closures, so the same CRUD
// checks run against every accessor family.
type kind struct {
	name string
	// put stores a record with key and description desc.
	put func(tx *control.Tx, key, desc string) error
	// get returns the key and description of the record key.
	get  func(tx *control.Tx, key string) (string, string, error)
	del  func(tx *control.Tx, key string) error
	list func(tx *control.Tx) ([]string, error)
}

func keys[T any](recs []T, err error, key func(T) string) ([]string, error) {
	out := []string{}
	for _, r := range recs {
		out = append(out, key(r))
	}
	return out, err
}

func kinds(t *testing.T) []kind {
	t.Helper()
	return []kind{
		{
			name: "tenant",
			put: func(tx *control.Tx, k, d string) error {
				return tx.PutTenant(control.Tenant{ID: k, Name: k, Description: d})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.Tenant(k)
				return r.ID, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteTenant(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.Tenants()
				return keys(r, err, func(r control.Tenant) string { return r.ID })
			},
		},
		{
			name: "user",
			put: func(tx *control.Tx, k, d string) error {
				return tx.PutUser(control.User{Name: k, Description: d})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.User(k)
				return r.Name, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteUser(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.Users()
				return keys(r, err, func(r control.User) string { return r.Name })
			},
		},
		{
			name: "group",
			put: func(tx *control.Tx, k, d string) error {
				return tx.PutGroup(control.Group{Name: k, Description: d})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.Group(k)
				return r.Name, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteGroup(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.Groups()
				return keys(r, err, func(r control.Group) string { return r.Name })
			},
		},
		{
			name: "role",
			put: func(tx *control.Tx, k, d string) error {
				return tx.PutRole(control.Role{Name: k, Role: policy.Role{Description: d}})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.Role(k)
				if err == nil && r.Role.Name != r.Name {
					t.Errorf("Role(%q): Role.Name = %q", k, r.Role.Name)
				}
				return r.Name, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteRole(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.Roles()
				return keys(r, err, func(r control.Role) string { return r.Name + "|" + r.Role.Name })
			},
		},
		{
			name: "mapping",
			put: func(tx *control.Tx, k, d string) error {
				return tx.PutMapping(control.RoleMapping{Name: k, RoleMapping: policy.RoleMapping{Description: d}})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.Mapping(k)
				return r.Name, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteMapping(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.Mappings()
				return keys(r, err, func(r control.RoleMapping) string { return r.Name })
			},
		},
		{
			name: "token",
			put: func(tx *control.Tx, k, d string) error {
				if _, err := tx.User("owner"); errors.Is(err, control.ErrNotFound) {
					if err := tx.PutUser(control.User{Name: "owner"}); err != nil {
						return err
					}
				}
				return tx.PutToken(control.Token{ID: k, Owner: "owner", Description: d, Hash: []byte{1}})
			},
			get: func(tx *control.Tx, k string) (string, string, error) {
				r, err := tx.Token(k)
				return r.ID, r.Description, err
			},
			del: func(tx *control.Tx, k string) error { return tx.DeleteToken(k) },
			list: func(tx *control.Tx) ([]string, error) {
				r, err := tx.AllTokens()
				return keys(r, err, func(r control.Token) string { return r.ID })
			},
		},
	}
}

func TestCRUD(t *testing.T) {
	for _, k := range kinds(t) {
		t.Run(k.name, func(t *testing.T) {
			st := openStore(t)
			update(t, st, func(tx *control.Tx) error {
				for _, key := range []string{"bravo", "alpha", "charlie"} {
					if err := k.put(tx, key, "v1 "+key); err != nil {
						return err
					}
				}
				return nil
			})
			wantList := func(want ...string) {
				t.Helper()
				view(t, st, func(tx *control.Tx) error {
					got, err := k.list(tx)
					if err != nil {
						return err
					}
					if k.name == "role" {
						for i, w := range want {
							want[i] = w + "|" + w
						}
					}
					if !slices.Equal(got, want) {
						t.Errorf("list = %q, want %q", got, want)
					}
					return nil
				})
			}
			wantList("alpha", "bravo", "charlie")

			update(t, st, func(tx *control.Tx) error { return k.put(tx, "alpha", "v2") })
			view(t, st, func(tx *control.Tx) error {
				key, desc, err := k.get(tx, "alpha")
				if err != nil {
					return err
				}
				if key != "alpha" || desc != "v2" {
					t.Errorf("get after overwrite = %q, %q; want alpha, v2", key, desc)
				}
				return nil
			})

			update(t, st, func(tx *control.Tx) error { return k.del(tx, "alpha") })
			err := st.View(func(tx *control.Tx) error {
				_, _, err := k.get(tx, "alpha")
				return err
			})
			if !errors.Is(err, control.ErrNotFound) {
				t.Errorf("get after delete: %v, want ErrNotFound", err)
			}
			err = st.Update(func(tx *control.Tx) error { return k.del(tx, "alpha") })
			if !errors.Is(err, control.ErrNotFound) {
				t.Errorf("second delete: %v, want ErrNotFound", err)
			}
			wantList("bravo", "charlie")

			err = st.View(func(tx *control.Tx) error { return k.put(tx, "delta", "ro") })
			if !errors.Is(err, bbolt.ErrTxNotWritable) {
				t.Errorf("put in a read-only transaction: %v, want ErrTxNotWritable", err)
			}
		})
	}
}

func TestEmptyListsAreEmptyNotNil(t *testing.T) {
	st := openStore(t)
	view(t, st, func(tx *control.Tx) error {
		ten, _ := tx.Tenants()
		users, _ := tx.Users()
		groups, _ := tx.Groups()
		roles, _ := tx.Roles()
		maps, _ := tx.Mappings()
		toks, _ := tx.AllTokens()
		of, _ := tx.TokensOf("nobody")
		for name, n := range map[string]bool{
			"tenants": ten == nil, "users": users == nil, "groups": groups == nil, "roles": roles == nil,
			"mappings": maps == nil, "tokens": toks == nil, "tokens of": of == nil,
		} {
			if n {
				t.Errorf("%s: nil, want an empty list", name)
			}
		}
		return nil
	})
}

// fullRecords returns one record of each type with every field set.
func fullRecords(t *testing.T) (control.Tenant, control.User, control.Group, control.Role, control.RoleMapping, control.Token, control.Tenancy) {
	meta := control.Meta{Source: control.SourceAPI, Created: at(0), Updated: at(1)}
	deleted := at(2)
	ten := control.Tenant{ID: "stage", Name: "Staging", Description: "pre-prod",
		Flags: control.Flags{Hidden: true, Static: true}, Meta: meta,
		DeletedAt: &deleted, DeletedBy: "john@doe.com", Locked: true, Frozen: true}
	user := control.User{Name: "john@doe.com", Kind: control.KindUser,
		FirstName: "John", LastName: "Doe", Email: "john@doe.com", Description: "ops",
		Groups: []string{"ops", "dev"}, BackendRoles: []string{"admin"}, Attributes: map[string]string{"team": "a"},
		Superadmin: true, Tenant: "stage", PasswordHash: bcryptHash(t), Disabled: true,
		Flags: control.Flags{Reserved: true}, Meta: meta}
	group := control.Group{Name: "ops", Description: "operators", Flags: control.Flags{Hidden: true}, Meta: meta}
	role := control.Role{Name: "admin@stage", Meta: meta, Role: policy.Role{
		Name: "admin@stage", Description: "stage admins", Tenant: "stage", Static: true,
		ClusterPermissions: []string{"restapi:admin/roles"},
		IndexPermissions:   []policy.IndexPermission{{IndexPatterns: []string{"logs-*"}, AllowedActions: []string{"read"}}},
		TenantPermissions:  []policy.TenantPermission{{TenantPatterns: []string{"stage"}, AllowedActions: []string{policy.TenantWrite}}},
	}}
	mapping := control.RoleMapping{Name: "admin@stage", Meta: meta, RoleMapping: policy.RoleMapping{
		Description: "who", Users: []string{"john@doe.com"}, BackendRoles: []string{"ops"},
		Groups: []string{"ops"}, AndBackendRoles: []string{"a", "b"},
	}}
	token := control.Token{ID: "abcdefghijkl", Owner: "john@doe.com", Name: "ci", Description: "pipeline",
		Prefix: "tgat_abcdefghijkl", Hash: []byte{0xde, 0xad, 0xbe, 0xef}, Created: at(0), Expires: at(48), LastUsed: at(3)}
	tenancy := control.Tenancy{MultitenancyEnabled: true, DefaultTenant: "stage", PreferredTenants: []string{"stage", "global"}}
	return ten, user, group, role, mapping, token, tenancy
}

func putAll(tx *control.Tx, ten control.Tenant, user control.User, group control.Group, role control.Role, mapping control.RoleMapping, token control.Token, tenancy control.Tenancy) error {
	for _, err := range []error{
		tx.PutTenant(ten), tx.PutUser(user), tx.PutGroup(group), tx.PutRole(role),
		tx.PutMapping(mapping), tx.PutToken(token), tx.PutTenancy(tenancy),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkAll reads every record back and compares it field by field.
func checkAll(t *testing.T, st *control.Store, ten control.Tenant, user control.User, group control.Group, role control.Role, mapping control.RoleMapping, token control.Token, tenancy control.Tenancy) {
	t.Helper()
	view(t, st, func(tx *control.Tx) error {
		got := map[string][2]any{}
		g1, err1 := tx.Tenant(ten.ID)
		got["tenant"] = [2]any{g1, ten}
		g2, err2 := tx.User(user.Name)
		got["user"] = [2]any{g2, user}
		g3, err3 := tx.Group(group.Name)
		got["group"] = [2]any{g3, group}
		g4, err4 := tx.Role(role.Name)
		got["role"] = [2]any{g4, role}
		g5, err5 := tx.Mapping(mapping.Name)
		got["mapping"] = [2]any{g5, mapping}
		g6, err6 := tx.Token(token.ID)
		got["token"] = [2]any{g6, token}
		g7, err7 := tx.Tenancy()
		got["tenancy"] = [2]any{g7, tenancy}
		if err := errors.Join(err1, err2, err3, err4, err5, err6, err7); err != nil {
			return err
		}
		for name, p := range got {
			if !reflect.DeepEqual(p[0], p[1]) {
				t.Errorf("%s:\n got %+v\nwant %+v", name, p[0], p[1])
			}
		}
		return nil
	})
}

func TestRecordsRoundTrip(t *testing.T) {
	st := openStore(t)
	ten, user, group, role, mapping, token, tenancy := fullRecords(t)
	update(t, st, func(tx *control.Tx) error {
		return putAll(tx, ten, user, group, role, mapping, token, tenancy)
	})
	checkAll(t, st, ten, user, group, role, mapping, token, tenancy)
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.db")
	st := openAt(t, path)
	ten, user, group, role, mapping, token, tenancy := fullRecords(t)
	update(t, st, func(tx *control.Tx) error {
		return putAll(tx, ten, user, group, role, mapping, token, tenancy)
	})
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(*control.Tx) error { return nil }); !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		t.Fatalf("View after Close: %v, want ErrDatabaseNotOpen", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode %v, want 0600", perm)
	}

	st = openAt(t, path)
	checkAll(t, st, ten, user, group, role, mapping, token, tenancy)
	view(t, st, func(tx *control.Tx) error {
		toks, err := tx.TokensOf(user.Name)
		if err != nil {
			return err
		}
		if len(toks) != 1 || toks[0].ID != token.ID {
			t.Errorf("TokensOf after reopen = %+v", toks)
		}
		return nil
	})
}

func TestUpdateErrorRollsBack(t *testing.T) {
	st := openStore(t)
	boom := errors.New("boom")
	err := st.Update(func(tx *control.Tx) error {
		if err := tx.PutTenant(control.Tenant{ID: "stage"}); err != nil {
			return err
		}
		if err := tx.PutUser(control.User{Name: "john"}); err != nil {
			return err
		}
		if err := tx.PutToken(control.Token{ID: "tok", Owner: "john", Hash: []byte{1}}); err != nil {
			return err
		}
		if err := tx.PutTenancy(control.Tenancy{DefaultTenant: "stage"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the closure's error", err)
	}
	view(t, st, func(tx *control.Tx) error {
		ten, _ := tx.Tenants()
		users, _ := tx.Users()
		toks, _ := tx.AllTokens()
		of, _ := tx.TokensOf("john")
		if len(ten)+len(users)+len(toks)+len(of) != 0 {
			t.Errorf("after rollback: tenants %v, users %v, tokens %v, tokens of john %v", ten, users, toks, of)
		}
		tc, err := tx.Tenancy()
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(tc, control.DefaultTenancy()) {
			t.Errorf("tenancy after rollback = %+v", tc)
		}
		return nil
	})
	// A failed accessor inside the closure rolls back what came before.
	err = st.Update(func(tx *control.Tx) error {
		if err := tx.PutGroup(control.Group{Name: "ops"}); err != nil {
			return err
		}
		return tx.PutGroup(control.Group{Name: "a/b"})
	})
	if !errors.Is(err, control.ErrInvalid) {
		t.Fatalf("Update = %v, want ErrInvalid", err)
	}
	view(t, st, func(tx *control.Tx) error {
		if _, err := tx.Group("ops"); !errors.Is(err, control.ErrNotFound) {
			t.Errorf("group ops after rollback: %v, want ErrNotFound", err)
		}
		return nil
	})
}

func TestStoredJSONIsSnakeCase(t *testing.T) {
	st := openStore(t)
	ten, user, group, role, mapping, token, tenancy := fullRecords(t)
	update(t, st, func(tx *control.Tx) error {
		return putAll(tx, ten, user, group, role, mapping, token, tenancy)
	})
	tests := []struct {
		bucket, key string
		want        []string
	}{
		{"tenants", "stage", []string{"id", "name", "description", "reserved", "hidden", "static", "source", "created", "updated", "deleted_at", "deleted_by", "locked", "frozen"}},
		{"users", "john@doe.com", []string{"name", "kind", "first_name", "last_name", "email", "groups", "backend_roles", "attributes", "superadmin", "tenant", "password_hash", "disabled", "reserved", "source"}},
		{"groups", "ops", []string{"name", "description", "hidden", "source"}},
		{"roles", "admin@stage", []string{"name", "tenant", "cluster_permissions", "index_permissions", "tenant_permissions", "reserved", "source", "created"}},
		{"rolesmapping", "admin@stage", []string{"name", "users", "backend_roles", "groups", "and_backend_roles", "source"}},
		{"tokens", "abcdefghijkl", []string{"id", "owner", "name", "description", "prefix", "hash", "created", "expires", "last_used"}},
		{"settings", "tenancy", []string{"multitenancy_enabled", "private_tenant_enabled", "default_tenant", "preferred_tenants"}},
	}
	for _, tc := range tests {
		t.Run(tc.bucket, func(t *testing.T) {
			var fields map[string]json.RawMessage
			err := st.DB().View(func(tx *bbolt.Tx) error {
				return json.Unmarshal(tx.Bucket([]byte(tc.bucket)).Get([]byte(tc.key)), &fields)
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.want {
				if _, ok := fields[f]; !ok {
					t.Errorf("field %q missing from %v", f, fields)
				}
			}
			for f := range fields {
				for _, r := range f {
					if r >= 'A' && r <= 'Z' {
						t.Errorf("field %q is not snake_case", f)
					}
				}
			}
		})
	}
}

func TestPutValidation(t *testing.T) {
	hash := bcryptHash(t)
	tests := []struct {
		name string
		put  func(*control.Tx) error
		want error
	}{
		{"tenant bad id", func(tx *control.Tx) error { return tx.PutTenant(control.Tenant{ID: "Stage"}) }, tenants.ErrInvalid},
		{"tenant reserved id", func(tx *control.Tx) error { return tx.PutTenant(control.Tenant{ID: "global"}) }, control.ErrInvalid},
		{"tenant empty id", func(tx *control.Tx) error { return tx.PutTenant(control.Tenant{}) }, control.ErrInvalid},
		{"user empty name", func(tx *control.Tx) error { return tx.PutUser(control.User{}) }, control.ErrInvalid},
		{"user slash", func(tx *control.Tx) error { return tx.PutUser(control.User{Name: "a/b"}) }, control.ErrInvalid},
		{"user unknown kind", func(tx *control.Tx) error { return tx.PutUser(control.User{Name: "a", Kind: "robot"}) }, control.ErrInvalid},
		{"user bad hash", func(tx *control.Tx) error { return tx.PutUser(control.User{Name: "a", PasswordHash: "secret"}) }, control.ErrInvalid},
		{"service account with password", func(tx *control.Tx) error {
			return tx.PutUser(control.User{Name: "ci", Kind: control.KindServiceAccount, PasswordHash: hash})
		}, control.ErrInvalid},
		{"group control char", func(tx *control.Tx) error { return tx.PutGroup(control.Group{Name: "a\nb"}) }, control.ErrInvalid},
		{"role names disagree", func(tx *control.Tx) error {
			return tx.PutRole(control.Role{Name: "a", Role: policy.Role{Name: "b"}})
		}, control.ErrInvalid},
		{"role no name", func(tx *control.Tx) error { return tx.PutRole(control.Role{}) }, control.ErrInvalid},
		{"mapping trailing space", func(tx *control.Tx) error {
			return tx.PutMapping(control.RoleMapping{Name: "a "})
		}, control.ErrInvalid},
		{"token unknown owner", func(tx *control.Tx) error {
			return tx.PutToken(control.Token{ID: "t1", Owner: "ghost", Hash: []byte{1}})
		}, control.ErrNotFound},
		{"token no owner", func(tx *control.Tx) error {
			return tx.PutToken(control.Token{ID: "t1", Hash: []byte{1}})
		}, control.ErrNotFound},
		{"token no hash", func(tx *control.Tx) error {
			return tx.PutToken(control.Token{ID: "t1", Owner: "john"})
		}, control.ErrInvalid},
		{"token no id", func(tx *control.Tx) error {
			return tx.PutToken(control.Token{Owner: "john", Hash: []byte{1}})
		}, control.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			update(t, st, func(tx *control.Tx) error { return tx.PutUser(control.User{Name: "john"}) })
			err := st.Update(tc.put)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPutUserDefaultsKind(t *testing.T) {
	st := openStore(t)
	update(t, st, func(tx *control.Tx) error {
		return errors.Join(
			tx.PutUser(control.User{Name: "john", PasswordHash: bcryptHash(t)}),
			tx.PutUser(control.User{Name: "ci", Kind: control.KindServiceAccount}),
		)
	})
	view(t, st, func(tx *control.Tx) error {
		users, err := tx.Users()
		if err != nil {
			return err
		}
		got := map[string]string{}
		for _, u := range users {
			got[u.Name] = u.Kind
		}
		want := map[string]string{"john": control.KindUser, "ci": control.KindServiceAccount}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("kinds = %v, want %v", got, want)
		}
		return nil
	})
}

func TestRoleNameFromPolicyRole(t *testing.T) {
	st := openStore(t)
	update(t, st, func(tx *control.Tx) error {
		return tx.PutRole(control.Role{Role: policy.Role{Name: "reader"}})
	})
	view(t, st, func(tx *control.Tx) error {
		r, err := tx.Role("reader")
		if err != nil {
			return err
		}
		if r.Name != "reader" || r.Role.Name != "reader" {
			t.Errorf("Role = %q / %q", r.Name, r.Role.Name)
		}
		return nil
	})
}

func TestTokensOf(t *testing.T) {
	st := openStore(t)
	tok := func(id, owner string) control.Token {
		return control.Token{ID: id, Owner: owner, Name: id, Hash: []byte(id)}
	}
	// Owners "a" and "ab" would share a key prefix without the length
	// in front of the owner.
	update(t, st, func(tx *control.Tx) error {
		return errors.Join(
			tx.PutUser(control.User{Name: "a"}),
			tx.PutUser(control.User{Name: "ab"}),
			tx.PutUser(control.User{Name: "ci", Kind: control.KindServiceAccount}),
			tx.PutToken(tok("t3", "a")),
			tx.PutToken(tok("t1", "a")),
			tx.PutToken(tok("bt2", "a")),
			tx.PutToken(tok("x", "ab")),
			tx.PutToken(tok("c1", "ci")),
		)
	})
	ids := func(owner string) []string {
		t.Helper()
		var out []string
		view(t, st, func(tx *control.Tx) error {
			toks, err := tx.TokensOf(owner)
			for _, tk := range toks {
				if tk.Owner != owner {
					t.Errorf("TokensOf(%q) returned a token of %q", owner, tk.Owner)
				}
				out = append(out, tk.ID)
			}
			return err
		})
		return out
	}
	tests := []struct {
		name  string
		owner string
		want  []string
	}{
		{"sorted by id", "a", []string{"bt2", "t1", "t3"}},
		{"prefix owner kept apart", "ab", []string{"x"}},
		{"service account", "ci", []string{"c1"}},
		{"no tokens", "nobody", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.owner); !slices.Equal(got, tc.want) {
				t.Errorf("TokensOf(%q) = %q, want %q", tc.owner, got, tc.want)
			}
		})
	}

	t.Run("after DeleteToken", func(t *testing.T) {
		update(t, st, func(tx *control.Tx) error { return tx.DeleteToken("t1") })
		if got := ids("a"); !slices.Equal(got, []string{"bt2", "t3"}) {
			t.Errorf("TokensOf(a) = %q", got)
		}
		view(t, st, func(tx *control.Tx) error {
			if _, err := tx.Token("t1"); !errors.Is(err, control.ErrNotFound) {
				t.Errorf("Token(t1) after delete: %v", err)
			}
			return nil
		})
		if n := indexEntries(t, st); n != 4 {
			t.Errorf("owner index has %d entries, want 4", n)
		}
	})
	t.Run("owner change re-indexes", func(t *testing.T) {
		update(t, st, func(tx *control.Tx) error { return tx.PutToken(tok("t3", "ab")) })
		if got := ids("a"); !slices.Equal(got, []string{"bt2"}) {
			t.Errorf("TokensOf(a) = %q", got)
		}
		if got := ids("ab"); !slices.Equal(got, []string{"t3", "x"}) {
			t.Errorf("TokensOf(ab) = %q", got)
		}
		if n := indexEntries(t, st); n != 4 {
			t.Errorf("owner index has %d entries, want 4", n)
		}
	})
	t.Run("DeleteUser revokes the user's tokens", func(t *testing.T) {
		update(t, st, func(tx *control.Tx) error { return tx.DeleteUser("ab") })
		update(t, st, func(tx *control.Tx) error { return tx.PutUser(control.User{Name: "ab"}) })
		if got := ids("ab"); got != nil {
			t.Errorf("TokensOf(ab) after delete and re-create = %q", got)
		}
		view(t, st, func(tx *control.Tx) error {
			all, err := tx.AllTokens()
			got, _ := keys(all, err, func(tk control.Token) string { return tk.ID })
			if !slices.Equal(got, []string{"bt2", "c1"}) {
				t.Errorf("AllTokens = %q", got)
			}
			return err
		})
		if n := indexEntries(t, st); n != 2 {
			t.Errorf("owner index has %d entries, want 2", n)
		}
	})
}

// indexEntries counts the keys of the tokens-by-owner index.
func indexEntries(t *testing.T, st *control.Store) int {
	t.Helper()
	n := 0
	err := st.DB().View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("tokens_by_owner")).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTenancy(t *testing.T) {
	st := openStore(t)
	view(t, st, func(tx *control.Tx) error {
		got, err := tx.Tenancy()
		want := control.Tenancy{MultitenancyEnabled: true, PrivateTenantEnabled: true, GlobalTenantEnabled: true, DefaultTenant: "global", PreferredTenants: []string{}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("default tenancy = %+v, want %+v", got, want)
		}
		if _, stored, _ := tx.StoredTenancy(); stored {
			t.Error("StoredTenancy reports stored settings before any PutTenancy")
		}
		return err
	})
	update(t, st, func(tx *control.Tx) error {
		return tx.PutTenancy(control.Tenancy{MultitenancyEnabled: true, DefaultTenant: "stage"})
	})
	view(t, st, func(tx *control.Tx) error {
		got, err := tx.Tenancy()
		want := control.Tenancy{MultitenancyEnabled: true, DefaultTenant: "stage", PreferredTenants: []string{}}
		if _, stored, _ := tx.StoredTenancy(); !stored {
			t.Error("StoredTenancy reports defaults after PutTenancy")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("tenancy = %+v, want %+v", got, want)
		}
		return err
	})
}

func TestOpenRefusesGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "control.db")
	if err := os.WriteFile(path, []byte("not a bbolt file, not at all, long enough to have a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, err := control.Open(path); err == nil {
		st.Close()
		t.Fatal("Open accepted a file that is not a bbolt database")
	}
}
