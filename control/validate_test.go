package control_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/control"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"analyst", true},
		{"admin@stage", true},
		{"john@doe.com", true},
		{"Kibana User", true},
		{"équipe-ops_1.2", true},
		{strings.Repeat("a", control.MaxNameLength), true},
		{"", false},
		{strings.Repeat("a", control.MaxNameLength+1), false},
		{" lead", false},
		{"trail ", false},
		{"tab\tinside", false},
		{"new\nline", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"c1\u0085", false},
		{"bidi\u202eevil", false},
		{"zero\u200bwidth", false},
		{"a/b", false},
		{"/", false},
		{".", false},
		{"..", false},
		{"...", true},
		{"*", false},
		{"kibana_*", false},
		{"who?", false},
		{"_meta", false},
		{"_meta_data", true},
		{"bad\xffutf8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := control.ValidateName("role", tc.name)
			if tc.ok && err != nil {
				t.Fatalf("ValidateName(%q) = %v, want nil", tc.name, err)
			}
			if !tc.ok {
				if !errors.Is(err, control.ErrInvalid) {
					t.Fatalf("ValidateName(%q) = %v, want ErrInvalid", tc.name, err)
				}
				if !strings.Contains(err.Error(), "role name") {
					t.Errorf("error %q does not say what kind of name", err)
				}
			}
		})
	}
}
