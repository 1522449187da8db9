package policy

import (
	"fmt"
	"slices"
	"testing"
)

func TestRolesForGroups(t *testing.T) {
	e := newTestEngine(t, testRoles, testMappings+`
ops_team:
  groups: [ops]
eng_team:
  groups: ["eng-*", "r?d"]
mixed:
  users: [zoe]
  groups: [finance]
`)
	tests := []struct {
		user    string
		backend []string
		groups  []string
		want    []string
	}{
		{"gil", nil, nil, []string{"private_like"}},
		{"gil", nil, []string{"ops"}, []string{"ops_team", "private_like"}},
		{"gil", nil, []string{"opsx"}, []string{"private_like"}},
		{"gil", nil, []string{"eng-backend"}, []string{"eng_team", "private_like"}},
		{"gil", nil, []string{"eng-"}, []string{"eng_team", "private_like"}},
		{"gil", nil, []string{"eng"}, []string{"private_like"}},
		{"gil", nil, []string{"rnd"}, []string{"eng_team", "private_like"}},
		{"gil", nil, []string{"ops", "eng-x", "finance"}, []string{"eng_team", "mixed", "ops_team", "private_like"}},
		{"zoe", nil, []string{"finance"}, []string{"mixed", "private_like"}},
		{"gil", []string{"analyst"}, []string{"ops"}, []string{"analyst", "ops_team", "private_like"}},
		// A group name is not a backend role and vice versa.
		{"gil", []string{"ops"}, []string{"analyst"}, []string{"private_like"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.user, tt.backend, tt.groups), func(t *testing.T) {
			if got := e.RolesForGroups(tt.user, tt.backend, tt.groups).Names(); !slices.Equal(got, tt.want) {
				t.Errorf("RolesForGroups = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("RolesFor is RolesForGroups without groups", func(t *testing.T) {
		for _, tt := range tests {
			if a, b := e.RolesFor(tt.user, tt.backend), e.RolesForGroups(tt.user, tt.backend, nil); a != b {
				t.Errorf("RolesFor(%s, %v) = %v, RolesForGroups(…, nil) = %v", tt.user, tt.backend, a, b)
			}
		}
	})
	t.Run("group grants decide", func(t *testing.T) {
		e := newTestEngine(t, testRoles, "analyst:\n  groups: [analysts]\n")
		r := e.RolesForGroups("gil", nil, []string{"analysts"})
		if !e.Allowed(r, "analysts", Write) || e.Allowed(e.RolesFor("gil", nil), "analysts", Read) {
			t.Error("group mapping does not decide")
		}
	})
	t.Run("parsed from YAML", func(t *testing.T) {
		m, err := ParseRoleMappings([]byte(mappingHeader + "r:\n  groups: [a, \"b*\"]\n"))
		if err != nil || !slices.Equal(m["r"].Groups, []string{"a", "b*"}) {
			t.Errorf("ParseRoleMappings = %+v, %v", m, err)
		}
	})
}
