package tenants

import (
	"errors"
	"testing"
)

func TestResolve(t *testing.T) {
	reg := NewRegistry(map[string]Tenant{"analysts": {Name: "analysts"}, "executive": {Name: "executive"}})
	on := Settings{Enabled: true, EnableGlobal: true, EnablePrivate: true, Default: "global"}
	cases := []struct {
		name      string
		settings  Settings
		requested string
		want      Ref
		err       error
	}{
		{"empty is default", on, "", GlobalRef, nil},
		{"global", on, "global", GlobalRef, nil},
		{"Global any case", on, "Global", GlobalRef, nil},
		{"global_tenant", on, "global_tenant", GlobalRef, nil},
		{"private", on, "private", PrivateRef("alice"), nil},
		{"__user__", on, "__user__", PrivateRef("alice"), nil},
		{"custom", on, "analysts", CustomRef("analysts"), nil},
		{"unknown is forbidden", on, "nope", Ref{}, ErrForbidden},
		{"bad name is invalid", on, "Bad Name", Ref{}, ErrInvalid},
		{"default private", Settings{Enabled: true, EnableGlobal: true, EnablePrivate: true, Default: "private"}, "", PrivateRef("alice"), nil},
		{"default custom", Settings{Enabled: true, EnableGlobal: true, EnablePrivate: true, Default: "executive"}, "", CustomRef("executive"), nil},
		{"global disabled", Settings{Enabled: true, EnablePrivate: true, Default: "private"}, "global", Ref{}, ErrForbidden},
		{"private disabled", Settings{Enabled: true, EnableGlobal: true, Default: "global"}, "private", Ref{}, ErrForbidden},
		{"multitenancy off: custom", Settings{Enabled: false, Default: "global"}, "analysts", Ref{}, ErrForbidden},
		{"multitenancy off: global", Settings{Enabled: false, Default: "global"}, "", GlobalRef, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := NewResolver(c.settings, reg).Resolve(c.requested, "alice")
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("Resolve(%q) error = %v, want %v", c.requested, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Resolve(%q) = %+v, %v; want %+v", c.requested, got, err, c.want)
			}
		})
	}
}

func TestRefPhysicalAndOwner(t *testing.T) {
	if got := PrivateRef("admin").Physical(".kibana"); got != ".kibana_92668751_admin" {
		t.Fatalf("private admin = %q", got)
	}
	if got := GlobalRef.Physical(".kibana"); got != ".kibana" {
		t.Fatalf("global = %q", got)
	}
	// Same physical name, different owners: the catalog tells them apart.
	a, b := PrivateRef("analysts"), CustomRef("analysts")
	if a.Physical("logs") != b.Physical("logs") || a.Owner() == b.Owner() {
		t.Fatalf("private/custom analysts: %q %q / %q %q", a.Physical("logs"), a.Owner(), b.Physical("logs"), b.Owner())
	}
}

func TestParseFile(t *testing.T) {
	good := []byte("_meta:\n  type: tenants\n  config_version: 2\nanalysts:\n  description: A\n  reserved: true\nexecutive: {}\n")
	got, err := ParseFile(good)
	if err != nil || len(got) != 2 || got["analysts"].Description != "A" || !got["analysts"].Reserved {
		t.Fatalf("ParseFile = %+v, %v", got, err)
	}
	bad := map[string]string{
		"no meta":     "analysts: {}\n",
		"wrong type":  "_meta: {type: roles, config_version: 2}\n",
		"bad id":      "_meta: {type: tenants, config_version: 2}\nBad: {}\n",
		"unknown key": "_meta: {type: tenants, config_version: 2}\nx:\n  descr: y\n",
		"not yaml":    "[",
	}
	for name, body := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseFile([]byte(body)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("ParseFile error = %v, want ErrInvalid", err)
			}
		})
	}
}
