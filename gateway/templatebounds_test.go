package gateway_test

import (
	"testing"

	"github.com/tenantgate/tenantgate/executions"
)

// TestTemplateBombsFailTheTaskNotTheServer runs flows whose templates
// would, unbounded, allocate gigabytes or recurse until the stack
// overflows (fatal errors that take the whole server down): each
// execution fails and the server keeps answering.
func TestTemplateBombsFailTheTaskNotTheServer(t *testing.T) {
	e := startExecutions(t)
	bombs := map[string]string{
		"repeat":    `{{ 'x' * 10000000000 }}`,
		"center":    `{{ 'x' | center(10000000000) }}`,
		"doubling":  `{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}`,
		"recursion": `{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}`,
	}
	for name, tpl := range bombs {
		t.Run(name, func(t *testing.T) {
			flow := "id: bomb_" + name + "\nnamespace: company.team\ntasks:\n  - id: boom\n    type: io.kestra.plugin.core.log.Log\n    message: \"" + tpl + "\"\n"
			mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", e.dave, "", flow, "Content-Type", "application/x-yaml"), 200)
			x := e.run(t, "t-a", "company.team", "bomb_"+name, "", nil)
			if x.State.Current != executions.StateFailed {
				t.Fatalf("the execution is %s, want FAILED", x.State.Current)
			}
			mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/flows/company.team/bomb_"+name, e.dave, "", nil), 200)
		})
	}
}
