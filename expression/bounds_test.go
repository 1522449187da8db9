package expression_test

import (
	"errors"
	"testing"

	"github.com/tenantgate/tenantgate/expression"
)

// TestRenderBoundsMemoryAndTime renders templates that would, unbounded,
// allocate gigabytes, overflow the stack or loop for hours: each must
// fail with ErrRender (or ErrInvalid), quickly, and leave the process up.
func TestRenderBoundsMemoryAndTime(t *testing.T) {
	bombs := map[string]string{
		"string repeat":          "{{ 'x' * 10000000000 }}",
		"repeat of a repeat":     "{{ ('x' * 100000) * 100000 }}",
		"concatenation doubling": "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
		"plus doubling":          "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s | length }}",
		"list doubling":          "{% set ns = namespace(l=[1,2,3,4]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l | length }}",
		"center":                 "{{ 'x' | center(10000000000) }}",
		"indent":                 "{{ 'a\nb' | indent(width=10000000000) }}",
		"replace growth":         "{{ ('x' * 100000) | replace('x', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') | replace('y', 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz') | length }}",
		"tojson indent":          "{{ inputs | tojson(indent=10000000000) }}",
		"str center method":      "{{ 'x'.center(10000000000) }}",
		"str ljust method":       "{{ 'x'.ljust(10000000000) }}",
		"nested loops":           "{% for a in range(10000) %}{% for b in range(10000) %}{% for c in range(10000) %}{% endfor %}{% endfor %}{% endfor %}",
		"recursive macro":        "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}",
	}
	for name, tpl := range bombs {
		t.Run(name, func(t *testing.T) {
			_, err := expression.Render(tpl, vars(), opts())
			if !errors.Is(err, expression.ErrRender) && !errors.Is(err, expression.ErrInvalid) {
				t.Fatalf("Render(%q) = %v, want ErrRender or ErrInvalid", tpl, err)
			}
		})
	}
}

// TestRenderBoundsKeepOrdinaryArithmetic checks that the bounded
// operators still compute what gonja computes.
func TestRenderBoundsKeepOrdinaryArithmetic(t *testing.T) {
	cases := map[string]string{
		"{{ 6 * 7 }}":                                "42",
		"{{ 1.5 * 2 }}":                              "3.0",
		"{{ inputs.count * 2 }}":                     "6",
		"{{ 'ab' * 3 }}":                             "ababab",
		"{{ 1 + 2 }}":                                "3",
		"{{ 'a' + 'b' }}":                            "ab",
		"{{ [1, 2] + [3] }}":                         "[1, 2, 3]",
		"{{ inputs.name ~ '-' ~ 1 }}":                "ada-1",
		"{{ 'x' | center(5) }}":                      "  x  ",
		"{{ 'a b' | replace(' ', '_') }}":            "a_b",
		"{% for i in range(3) %}{{ i }}{% endfor %}": "012",
	}
	for tpl, want := range cases {
		t.Run(tpl, func(t *testing.T) {
			got, err := expression.Render(tpl, vars(), opts())
			if err != nil || got != want {
				t.Fatalf("Render(%q) = %q, %v; want %q", tpl, got, err, want)
			}
		})
	}
}
