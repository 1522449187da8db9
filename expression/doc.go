// Package expression renders the templates Kestra users write in task
// properties: "hi from {{ flow.namespace }}", "{{ inputs.name | upper }}",
// "{{ secret('GITHUB_TOKEN') }}". Kestra uses Pebble; this package uses
// gonja (Jinja2), whose syntax is the same for what flows write:
// variables with dotted and bracketed access, filters, if and for.
//
// Render renders one string; RenderValue renders every string inside a
// property value (maps and lists, recursively). The caller gives the
// variables (flow, execution, inputs, vars, namespace, outputs, labels)
// and the functions (secret, which resolves through the namespace store).
// A render function is always there: render(x) renders the string x as a
// template with the same variables, as Kestra's render().
//
// Rules, as Kestra's: an undefined variable fails the render (ErrRender)
// unless a test or filter handles it ("is defined", "default"); a
// syntax error is ErrInvalid with the line and column. Templates cannot
// read files (include, import, extends and from are not available), range
// is capped and the output is limited (Options.MaxOutput), so a flow
// cannot make the worker read the disk or write without end.
//
// Error messages name the expression at fault. They may quote values
// the template evaluated; callers that resolve secrets mask errors as
// everything else they store.
package expression
