package tenants

import "testing"

func TestPhysicalNameVectors(t *testing.T) {
	cases := []struct{ base, tenant, want string }{
		{".kibana", "human_resources", ".kibana_1592542611_humanresources"},
		{".kibana", "bug48", ".kibana_94091256_bug48"},
		{".kibana", "cadm", ".kibana_3045735_cadm"},
		{".kibana", "admin", ".kibana_92668751_admin"},
		{"logs", "human_resources", "logs_1592542611_humanresources"},
	}
	for _, c := range cases {
		t.Run(c.tenant, func(t *testing.T) {
			if got := PhysicalName(c.base, c.tenant); got != c.want {
				t.Fatalf("PhysicalName(%q, %q) = %q, want %q", c.base, c.tenant, got, c.want)
			}
		})
	}
}

func TestJavaHashCodeNegativeAndUTF16(t *testing.T) {
	// Values computed with Java 17's String.hashCode().
	cases := map[string]int32{
		"":                   0,
		"a":                  97,
		"polygenelubricants": -2147483648,
		"executive":          -1090974744,
		"😀":                  1772899, // surrogate pair: 0xD83D*31 + 0xDE00
	}
	for s, want := range cases {
		if got := JavaHashCode(s); got != want {
			t.Errorf("JavaHashCode(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestValidateID(t *testing.T) {
	good := []string{"analysts", "human_resources", "a", "0-team", "x123456789012345678901234567890123456789012345678901234567890123"[:64]}
	for _, id := range good {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	bad := []string{"", "Global", "global", "private", "__user__", "global_tenant", "_x", "-x", "a b", "a.b", "ÄB", string(make([]byte, 65))}
	for _, id := range bad {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) = nil, want error", id)
		}
	}
}
