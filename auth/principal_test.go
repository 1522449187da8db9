package auth

import (
	"slices"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

func TestPrincipalClone(t *testing.T) {
	tests := []struct {
		name string
		p    Principal
	}{
		{"empty", Principal{}},
		{"jwt", Principal{Name: "alice", BackendRoles: []string{"analyst"}, Method: MethodJWT}},
		{"password", Principal{Name: "bob", Groups: []string{"ops", "dev"}, Superadmin: true, Method: MethodPassword}},
		{"api token", Principal{Name: "ci", BackendRoles: []string{"r"}, Groups: []string{"bots"}, Method: MethodAPIToken, TokenID: "abcdefgh2345"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.p.clone()
			if c.Name != tt.p.Name || c.Superadmin != tt.p.Superadmin || c.Method != tt.p.Method || c.TokenID != tt.p.TokenID ||
				!slices.Equal(c.BackendRoles, tt.p.BackendRoles) || !slices.Equal(c.Groups, tt.p.Groups) {
				t.Fatalf("clone = %+v, want %+v", c, tt.p)
			}
			for i := range c.BackendRoles {
				c.BackendRoles[i] = "changed"
			}
			for i := range c.Groups {
				c.Groups[i] = "changed"
			}
			if slices.Contains(tt.p.BackendRoles, "changed") || slices.Contains(tt.p.Groups, "changed") {
				t.Errorf("clone shares memory with the original: %+v", tt.p)
			}
		})
	}
}

// TestVerifyLeavesStoreFieldsEmpty pins down that Verify fills only Name
// and BackendRoles: groups, the superadmin flag and the method are the
// caller's to set.
func TestVerifyLeavesStoreFieldsEmpty(t *testing.T) {
	k := keys(t)
	v := mustVerifier(t, Options{SigningKeys: []string{secretKey(k.secret)}})
	tok := sign(t, jwt.SigningMethodHS256, k.secret, claims(set("groups", []string{"ops"}), set("superadmin", true)))
	for _, pass := range []string{"first", "cached"} {
		p, err := v.Verify(tok)
		if err != nil {
			t.Fatalf("%s Verify: %v", pass, err)
		}
		if p.Groups != nil || p.Superadmin || p.Method != "" || p.TokenID != "" {
			t.Errorf("%s Verify = %+v; Groups, Superadmin, Method and TokenID must be empty", pass, p)
		}
	}
}
