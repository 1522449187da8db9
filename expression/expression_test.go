package expression_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/tenantgate/tenantgate/expression"
)

var errNoSecret = errors.New("no such secret")

func vars() map[string]any {
	return map[string]any{
		"flow":      map[string]any{"id": "hello_world", "namespace": "company.marketing", "revision": 3},
		"execution": map[string]any{"id": "4wjtkzwVGBM9yKnjm3yv8r", "startDate": "2024-01-01T00:00:00Z"},
		"inputs":    map[string]any{"name": "ada", "count": 3, "ok": true, "list": []any{"a", "b"}},
		"vars":      map[string]any{"greeting": "hello {{ inputs.name }}", "loop": "{{ render(vars.loop) }}"},
		"namespace": map[string]any{"github": map[string]any{"token": "{{ secret('GITHUB_TOKEN') }}", "user": "octo"}},
		"outputs":   map[string]any{"first": map[string]any{"value": "one"}},
		"labels":    map[string]any{"team": "growth"},
	}
}

func opts() expression.Options {
	return expression.Options{Funcs: map[string]expression.Func{
		"secret": func(args []any) (any, error) {
			if len(args) != 1 {
				return nil, fmt.Errorf("secret takes one key")
			}
			if args[0] == "GITHUB_TOKEN" {
				return "ghp_s3cr3t", nil
			}
			return nil, fmt.Errorf("%w: %v", errNoSecret, args[0])
		},
	}}
}

func TestRender(t *testing.T) {
	cases := []struct {
		name, tpl, want string
	}{
		{"plain text unchanged", "no template here", "no template here"},
		{"flow namespace (the seed's hello_world)", "hi from {{ flow.namespace }}", "hi from company.marketing"},
		{"flow id", "{{ flow.id }}", "hello_world"},
		{"flow revision", "rev {{ flow.revision }}", "rev 3"},
		{"execution id", "{{ execution.id }}", "4wjtkzwVGBM9yKnjm3yv8r"},
		{"input", "Hello {{ inputs.name }}", "Hello ada"},
		{"bracket access", "{{ inputs['name'] }}", "ada"},
		{"arithmetic on an int input", "{{ inputs.count + 1 }}", "4"},
		{"nested namespace variable", "{{ namespace.github.user }}", "octo"},
		{"outputs of an earlier task", "{{ outputs.first.value }}", "one"},
		{"label", "{{ labels.team }}", "growth"},
		{"secret", "token={{ secret('GITHUB_TOKEN') }}", "token=ghp_s3cr3t"},
		{"secret with double quotes", `{{ secret("GITHUB_TOKEN") }}`, "ghp_s3cr3t"},
		{"render of a variable holding an expression", "{{ render(vars.greeting) }}", "hello ada"},
		{"render of a nested variable holding a secret", "{{ render(namespace.github.token) }}", "ghp_s3cr3t"},
		{"variable not rendered without render()", "{{ vars.greeting }}", "hello {{ inputs.name }}"},
		{"filter", "{{ flow.id | upper }}", "HELLO_WORLD"},
		{"default filter on an undefined input", "{{ inputs.missing | default('none') }}", "none"},
		{"is defined", "{% if inputs.missing is defined %}yes{% else %}no{% endif %}", "no"},
		{"for loop", "{% for x in inputs.list %}{{ x }};{% endfor %}", "a;b;"},
		{"range", "{% for i in range(3) %}{{ i }}{% endfor %}", "012"},
		{"range with break", "{% for i in range(100) %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}", "01"},
		{"toJson", "{{ inputs.list | toJson }}", `["a","b"]`},
		{"comment", "a{# note #}b", "ab"},
		{"set", "{% set x = inputs.name ~ '!' %}{{ x }}", "ada!"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := expression.Render(c.tpl, vars(), opts())
			if err != nil {
				t.Fatalf("Render(%q): %v", c.tpl, err)
			}
			if got != c.want {
				t.Fatalf("Render(%q) = %q, want %q", c.tpl, got, c.want)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	cases := []struct {
		name, tpl string
		is        error
		contains  string
	}{
		{"undefined top-level variable", "{{ nope }}", expression.ErrRender, `"nope"`},
		{"undefined input", "{{ inputs.missing }}", expression.ErrRender, "missing"},
		{"undefined nested namespace variable", "{{ namespace.github.nope }}", expression.ErrRender, "nope"},
		{"missing secret", "{{ secret('NOPE') }}", errNoSecret, "secret(): no such secret: NOPE"},
		{"missing secret inside render()", "{{ render(\"{{ secret('NOPE') }}\") }}", errNoSecret, "NOPE"},
		{"unclosed expression", "{{ flow.id", expression.ErrInvalid, "Line: 1 Col: 11"},
		{"bad if", "{% if %}x{% endif %}", expression.ErrInvalid, "if"},
		{"unknown tag", "{% frobnicate %}", expression.ErrInvalid, "frobnicate"},
		{"unknown filter", "{{ flow.id | nosuch }}", expression.ErrInvalid, "unknown filter 'nosuch' (line 1, column 14)"},
		{"unknown filter in a block", "{% if true %}{{ flow.id | upper | center(3) | nope(1) }}{% endif %}", expression.ErrInvalid, "unknown filter 'nope'"},
		{"include is not available", "{% include '/etc/passwd' %}", expression.ErrInvalid, "include"},
		{"import is not available", "{% import 'x' as y %}", expression.ErrInvalid, "import"},
		{"extends is not available", "{% extends '/etc/hosts' %}", expression.ErrInvalid, "extends"},
		{"range is capped", "{% for i in range(100000000) %}{% endfor %}", expression.ErrRender, "range is limited"},
		{"output is capped", "{% for i in range(100) %}{% for j in range(200) %}{{ 'x' * 100 }}{% endfor %}{% endfor %}", expression.ErrRender, "output longer than"},
		{"render() recursion is bounded", "{{ render(vars.loop) }}", expression.ErrRender, "nested more than"},
		{"syntax error inside render()", "{{ render('{{ x') }}", expression.ErrInvalid, "expected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := expression.Render(c.tpl, vars(), opts())
			if err == nil {
				t.Fatalf("Render(%q) = %q, want an error", c.tpl, got)
			}
			if !errors.Is(err, c.is) {
				t.Fatalf("Render(%q) error %q is not %v", c.tpl, err, c.is)
			}
			if !strings.Contains(err.Error(), c.contains) {
				t.Fatalf("Render(%q) error %q does not mention %q", c.tpl, err, c.contains)
			}
		})
	}
}

func TestRenderValue(t *testing.T) {
	in := map[string]any{
		"message": []any{"one {{ flow.id }}", "two {{ inputs.count }}"},
		"level":   "INFO",
		"nested":  map[string]any{"n": 4, "s": "{{ inputs.name }}"},
	}
	got, err := expression.RenderValue(in, vars(), opts())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"message": []any{"one hello_world", "two 3"},
		"level":   "INFO",
		"nested":  map[string]any{"n": 4, "s": "ada"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RenderValue = %#v, want %#v", got, want)
	}
	if in["nested"].(map[string]any)["s"] != "{{ inputs.name }}" {
		t.Fatal("RenderValue modified its input")
	}
	_, err = expression.RenderValue(map[string]any{"a": []any{"ok", "{{ nope }}"}}, vars(), opts())
	if !errors.Is(err, expression.ErrRender) || !strings.HasPrefix(err.Error(), "a: [1]: ") {
		t.Fatalf("error %v should be ErrRender and name the path a: [1]", err)
	}
}

func TestRenderVariablesHideBuiltins(t *testing.T) {
	// gonja has a namespace() function; Kestra's namespace variables win.
	got, err := expression.Render("{{ namespace.github.user }}", vars(), expression.Options{})
	if err != nil || got != "octo" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestRenderConcurrently(t *testing.T) {
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				want := fmt.Sprintf("%d-%d hello_world", i, j)
				got, err := expression.Render(fmt.Sprintf("%d-%d {{ flow.id }}{%% for x in range(2) %%}{%% endfor %%}", i, j), vars(), opts())
				if err != nil || got != want {
					t.Errorf("got %q, %v; want %q", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
