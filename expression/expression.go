package expression

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	"github.com/nikolalohinski/gonja/v2/config"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/loaders"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// DefaultMaxOutput is the output limit when Options.MaxOutput is 0.
const DefaultMaxOutput = 1 << 20

// MaxRange is the most numbers range() returns.
const MaxRange = 10000

// maxDepth bounds how deep render() may nest.
const maxDepth = 8

// Func is a function templates may call: it gets the positional
// arguments (strings, ints, floats, bools, maps and lists) and returns a
// value or an error, which fails the render (wrapped in ErrRender).
type Func func(args []any) (any, error)

// Options are the functions and limits of a render.
type Options struct {
	// Funcs are the functions templates may call, by name ("secret").
	// A name here hides a variable of the same name.
	Funcs map[string]Func
	// MaxOutput is the longest output in bytes (DefaultMaxOutput when 0).
	MaxOutput int
}

// rootID names the one template a render loads; nothing else loads.
const rootID = "/expression"

// allowed are the control structures templates may use: every one of
// Jinja's except those that load other templates (include, import,
// from, extends) and trans.
// macro and call are left out too: a macro that calls itself recurses
// until the stack overflows, which no recover catches.
var allowed = []string{"autoescape", "block", "filter", "for", "if", "raw", "set", "with", "do", "break", "continue"}

// filterNames are gonja's filters templates may use, each wrapped by
// boundFilter; a filter not listed here is not available.
var filterNames = []string{"abs", "attr", "batch", "capitalize", "center", "default", "d", "dictsort", "e", "escape",
	"filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent", "int", "join", "items", "last",
	"length", "count", "list", "lower", "map", "max", "min", "pprint", "random", "rejectattr", "reject", "replace",
	"reverse", "round", "safe", "selectattr", "select", "slice", "sort", "string", "striptags", "sum", "title",
	"tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr"}

// environment is built once; renders never change it (functions and
// variables go in each render's own context).
var environment = newEnvironment()

func newEnvironment() *exec.Environment {
	cs := map[string]parser.ControlStructureParser{}
	for _, name := range allowed {
		if p, ok := builtins.ControlStructures.Get(name); ok {
			cs[name] = p
		}
	}
	fs := map[string]exec.FilterFunction{}
	for _, name := range filterNames {
		if f, ok := builtins.Filters.Get(name); ok {
			fs[name] = boundFilter(name, f)
		}
	}
	// Kestra's JSON filters.
	for _, name := range []string{"toJson", "json"} {
		fs[name] = boundFilter(name, filterJSON)
	}
	filters := exec.NewFilterSet(fs)
	globals := exec.EmptyContext().Update(builtins.GlobalFunctions)
	// gonja's range returns a channel fed by a goroutine that leaks when a
	// loop breaks early, and has no bound.
	globals.Set("range", rangeFunction)
	return &exec.Environment{
		Context:           globals,
		Filters:           filters,
		Tests:             builtins.Tests,
		ControlStructures: exec.NewControlStructureSet(cs),
		Methods:           boundMethods(builtins.Methods),
	}
}

func filterJSON(_ *exec.Evaluator, in *exec.Value, _ *exec.VarArgs) *exec.Value {
	if in.IsError() {
		return in
	}
	b, err := json.Marshal(in.Interface())
	if err != nil {
		return exec.AsValue(fmt.Errorf("toJson: %w", err))
	}
	return exec.AsValue(string(b))
}

func rangeFunction(params *exec.VarArgs) ([]int, error) {
	ints := make([]int, len(params.Args))
	for i, a := range params.Args {
		if !a.IsInteger() {
			return nil, exec.ErrInvalidCall(errors.New("expected signature is [start, ]stop[, step] where all arguments are integers"))
		}
		ints[i] = a.Integer()
	}
	start, stop, step := 0, 0, 1
	switch len(ints) {
	case 1:
		stop = ints[0]
	case 2:
		start, stop = ints[0], ints[1]
	case 3:
		start, stop, step = ints[0], ints[1], ints[2]
	default:
		return nil, exec.ErrInvalidCall(errors.New("expected signature is [start, ]stop[, step] where all arguments are integers"))
	}
	if step == 0 {
		return nil, exec.ErrInvalidCall(errors.New("step cannot be 0"))
	}
	var out []int
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		if len(out) == MaxRange {
			return nil, exec.ErrInvalidCall(fmt.Errorf("range is limited to %d numbers", MaxRange))
		}
		out = append(out, i)
	}
	return out, nil
}

// render is one call of Render, with what nested render() calls share.
type render struct {
	vars  map[string]any
	opts  Options
	depth int
	// err is the first error a function returned: gonja keeps only its
	// message, so it is kept here for errors.Is.
	err error
	// iterations counts loop iterations, shared with nested renders.
	iterations *int
}

// Render renders template with vars (the top-level names: flow,
// execution, inputs, vars, namespace, outputs, labels, ...) and the
// functions of o. A string without "{{", "{%" or "{#" is returned as is.
func Render(template string, vars map[string]any, o Options) (string, error) {
	r := &render{vars: vars, opts: o, iterations: new(int)}
	return r.render(template)
}

// IsTemplate reports whether s holds template syntax ("{{", "{%" or
// "{#"); Render returns other strings unchanged.
func IsTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}

func (r *render) render(src string) (string, error) {
	if !IsTemplate(src) {
		return src, nil
	}
	if r.depth > maxDepth {
		return "", fmt.Errorf("%w: render() nested more than %d deep", ErrRender, maxDepth)
	}
	cfg := config.New()
	cfg.StrictUndefined = true
	loader, err := loaders.NewMemoryLoader(map[string]string{rootID: src})
	if err != nil {
		return "", fmt.Errorf("loading template: %w", err)
	}
	tpl, err := exec.NewTemplate(rootID, cfg, loader, environment)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "failed to parse template '"+src+"': ")
		return "", fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	if err := bound(tpl); err != nil {
		return "", err
	}
	data := make(map[string]any, len(r.vars)+len(r.opts.Funcs)+5)
	for k, v := range r.vars {
		data[k] = v
	}
	for name, fn := range r.opts.Funcs {
		data[name] = r.wrap(name, fn)
	}
	data["render"] = r.renderFunction
	for name, fn := range boundFuncs(r.iterations) {
		data[name] = fn
	}
	max := r.opts.MaxOutput
	if max <= 0 {
		max = DefaultMaxOutput
	}
	out := &limitWriter{max: max}
	if err := tpl.Execute(out, exec.NewContext(data)); err != nil {
		if r.err != nil {
			if errors.Is(r.err, ErrRender) || errors.Is(r.err, ErrInvalid) {
				return "", r.err // from a nested render()
			}
			return "", fmt.Errorf("%w: %w", ErrRender, r.err)
		}
		if out.over {
			return "", fmt.Errorf("%w: output longer than %d bytes", ErrRender, max)
		}
		return "", fmt.Errorf("%w: %s", ErrRender, strings.TrimPrefix(err.Error(), "unable to execute template: "))
	}
	return out.b.String(), nil
}

// wrap adapts fn to gonja's calling convention and keeps its first error.
func (r *render) wrap(name string, fn Func) func(*exec.VarArgs) (any, error) {
	return func(params *exec.VarArgs) (any, error) {
		if len(params.KwArgs) > 0 {
			return nil, fmt.Errorf("%s() takes no keyword arguments", name)
		}
		args := make([]any, len(params.Args))
		for i, a := range params.Args {
			args[i] = a.Interface()
		}
		v, err := fn(args)
		if err != nil {
			err = fmt.Errorf("%s(): %w", name, err)
			if r.err == nil {
				r.err = err
			}
			return nil, err
		}
		return v, nil
	}
}

// renderFunction is render(x): x rendered as a template with the same
// variables (Kestra's render, for variables that hold expressions).
func (r *render) renderFunction(params *exec.VarArgs) (any, error) {
	if len(params.Args) != 1 || len(params.KwArgs) > 0 {
		return nil, exec.ErrInvalidCall(errors.New("render() takes one argument"))
	}
	a := params.Args[0]
	if !a.IsString() {
		return a.Interface(), nil
	}
	nested := &render{vars: r.vars, opts: r.opts, depth: r.depth + 1, iterations: r.iterations}
	out, err := nested.render(a.String())
	if err != nil {
		if r.err == nil {
			r.err = err
		}
		return nil, err
	}
	return out, nil
}

// RenderValue renders every string in v: v itself when it is a string,
// and the values (not the keys) of maps and the items of lists, at any
// depth. Other values are returned as they are; v is not modified.
func RenderValue(v any, vars map[string]any, o Options) (any, error) {
	switch x := v.(type) {
	case string:
		return Render(x, vars, o)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, item := range x {
			r, err := RenderValue(item, vars, o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			r, err := RenderValue(item, vars, o)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// limitWriter keeps at most max bytes and fails past them.
type limitWriter struct {
	b    strings.Builder
	max  int
	over bool
}

var errTooLong = errors.New("output too long")

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.max {
		w.over = true
		return 0, errTooLong
	}
	return w.b.Write(p)
}

var _ io.Writer = (*limitWriter)(nil)
