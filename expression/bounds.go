package expression

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
	"unsafe"

	controlstructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/tokens"
)

// Templates are written by flow authors and rendered inside the server,
// so what one render may cost is bounded: gonja repeats strings (x * n),
// concatenates (+, ~), pads (center, indent) and loops without limits,
// and an allocation past the machine's memory is a fatal error that no
// recover catches. bound rewrites a parsed template so that the binary
// operators *, + and ~ and the iterables of for loops go through checks
// (the functions in boundFuncs), and the filters that can grow a value
// check their arguments first (boundFilters).

// MaxValue is the longest string, in bytes, an operator or filter may
// produce while rendering.
const MaxValue = 4 << 20

// MaxItems is the most items a list built while rendering may hold.
const MaxItems = 100000

// MaxIterations is the most loop iterations one render (with its nested
// render() calls) may run.
const MaxIterations = 100000

// Names of the checked operations; the lexer cannot produce them, so a
// template cannot shadow them.
const (
	fnMul  = "tg:mul"
	fnAdd  = "tg:add"
	fnCat  = "tg:cat"
	fnIter = "tg:iter"
)

var errTooBig = errors.New("value too large")

// bound rewrites tpl's tree in place (see above); it fails when an
// operator cannot be rewritten.
func bound(tpl *exec.Template) error {
	w := &rewriter{seen: map[uintptr]bool{}}
	w.visit(reflect.ValueOf(tpl.Root()))
	return w.err
}

type rewriter struct {
	seen map[uintptr]bool
	err  error
}

var (
	binaryType = reflect.TypeOf(&nodes.BinaryExpression{})
	forType    = reflect.TypeOf(&controlstructures.ForControlStructure{})
	filterType = reflect.TypeOf(&nodes.FilterCall{})
)

// replacement returns the call that stands for a checked binary
// expression, or nil for other nodes.
func replacement(n *nodes.BinaryExpression) nodes.Expression {
	var fn string
	switch n.Operator.Token.Type {
	case tokens.Multiply:
		fn = fnMul
	case tokens.Addition:
		fn = fnAdd
	case tokens.Tilde:
		fn = fnCat
	default:
		return nil
	}
	return call(fn, n.Operator.Token, n.Left, n.Right)
}

func call(fn string, at *tokens.Token, args ...nodes.Expression) *nodes.Call {
	name := &tokens.Token{Type: tokens.Name, Val: fn}
	if at != nil {
		name.Pos, name.Line, name.Col = at.Pos, at.Line, at.Col
	}
	return &nodes.Call{Location: name, Func: &nodes.Name{Name: name}, Args: args, Kwargs: map[string]nodes.Expression{}}
}

func (w *rewriter) visit(v reflect.Value) {
	if w.err != nil {
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if e.Type() == binaryType {
			w.visit(e)
			if !v.CanSet() {
				w.err = fmt.Errorf("%w: an operator cannot be bounded here", ErrInvalid)
				return
			}
			if r := replacement(e.Interface().(*nodes.BinaryExpression)); r != nil {
				v.Set(reflect.ValueOf(r))
			}
			return
		}
		w.visit(e)
	case reflect.Pointer:
		if v.IsNil() || w.seen[v.Pointer()] {
			return
		}
		w.seen[v.Pointer()] = true
		if v.Type() == filterType && v.CanInterface() {
			// An unknown filter is a template error, said plainly (gonja
			// says it only when rendering, with its node's Go dump).
			if fc := v.Interface().(*nodes.FilterCall); !environment.Filters.Exists(fc.Name) {
				line, col := 0, 0
				if fc.Token != nil {
					line, col = fc.Token.Line, fc.Token.Col
				}
				w.err = fmt.Errorf("%w: unknown filter '%s' (line %d, column %d)", ErrInvalid, fc.Name, line, col)
				return
			}
		}
		if v.Type() == forType && v.CanInterface() {
			f := v.Interface().(*controlstructures.ForControlStructure)
			w.visit(reflect.ValueOf(f).Elem())
			if f.ObjectEvaluator != nil {
				f.ObjectEvaluator = call(fnIter, f.ObjectEvaluator.Position(), f.ObjectEvaluator)
			}
			return
		}
		w.visit(v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() && f.CanAddr() {
				// gonja keeps some expressions (set's) in unexported
				// fields: reach them through their address.
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			w.visit(f)
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			w.visit(v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			val := it.Value()
			if val.Kind() == reflect.Interface && !val.IsNil() && val.Elem().Type() == binaryType {
				if !v.CanInterface() {
					w.err = fmt.Errorf("%w: an operator cannot be bounded here", ErrInvalid)
					return
				}
				w.visit(val.Elem())
				if r := replacement(val.Elem().Interface().(*nodes.BinaryExpression)); r != nil {
					v.SetMapIndex(it.Key(), reflect.ValueOf(r))
				}
				continue
			}
			w.visit(val)
		}
	}
}

// boundFuncs are the checked operations of one render; iterations counts
// loop iterations across it and its nested render() calls.
func boundFuncs(iterations *int) map[string]any {
	two := func(name string, p *exec.VarArgs) (*exec.Value, *exec.Value, error) {
		if len(p.Args) != 2 || len(p.KwArgs) > 0 {
			return nil, nil, fmt.Errorf("%s takes two operands", name)
		}
		return p.Args[0], p.Args[1], nil
	}
	return map[string]any{
		fnMul: func(p *exec.VarArgs) (any, error) {
			l, r, err := two("*", p)
			if err != nil {
				return nil, err
			}
			switch {
			case l.IsFloat() || r.IsFloat():
				return l.Float() * r.Float(), nil
			case l.IsString():
				s, n := l.String(), r.Integer()
				if n <= 0 || s == "" {
					return "", nil
				}
				if n > MaxValue/len(s) {
					return nil, fmt.Errorf("%w: %d repetitions of %d bytes is more than %d bytes", errTooBig, n, len(s), MaxValue)
				}
				return strings.Repeat(s, n), nil
			}
			return l.Integer() * r.Integer(), nil
		},
		fnAdd: func(p *exec.VarArgs) (any, error) {
			l, r, err := two("+", p)
			if err != nil {
				return nil, err
			}
			switch {
			case l.IsList():
				if !r.IsList() {
					return nil, fmt.Errorf("unable to concatenate list to %s", r.String())
				}
				if l.Len()+r.Len() > MaxItems {
					return nil, fmt.Errorf("%w: a list of more than %d items", errTooBig, MaxItems)
				}
				out := make([]any, 0, l.Len()+r.Len())
				for _, x := range []*exec.Value{l, r} {
					rv := reflect.ValueOf(x.Interface())
					for i := 0; i < rv.Len(); i++ {
						out = append(out, rv.Index(i).Interface())
					}
				}
				return out, nil
			case l.IsFloat() || r.IsFloat():
				return l.Float() + r.Float(), nil
			case l.IsString() || r.IsString():
				return concat(l.String(), r.String())
			}
			return l.Integer() + r.Integer(), nil
		},
		fnCat: func(p *exec.VarArgs) (any, error) {
			l, r, err := two("~", p)
			if err != nil {
				return nil, err
			}
			return concat(l.String(), r.String())
		},
		fnIter: func(p *exec.VarArgs) (any, error) {
			if len(p.Args) != 1 {
				return nil, errors.New("for takes one iterable")
			}
			v := p.Args[0]
			if v.IsList() || v.IsDict() || v.IsString() {
				*iterations += v.Len()
				if *iterations > MaxIterations {
					return nil, fmt.Errorf("%w: loops run more than %d iterations in all", errTooBig, MaxIterations)
				}
			}
			return v.Interface(), nil
		},
	}
}

func concat(a, b string) (string, error) {
	if len(a)+len(b) > MaxValue {
		return "", fmt.Errorf("%w: a string of more than %d bytes", errTooBig, MaxValue)
	}
	return a + b, nil
}

// intArg returns the integer argument at position pos or named name, and
// whether there is one.
func intArg(p *exec.VarArgs, pos int, name string) (int, bool) {
	var v *exec.Value
	if pos < len(p.Args) {
		v = p.Args[pos]
	} else if kv, ok := p.KwArgs[name]; ok {
		v = kv
	}
	if v == nil || !v.IsInteger() {
		return 0, false
	}
	return v.Integer(), true
}

// strArg is intArg for strings.
func strArg(p *exec.VarArgs, pos int, name string) (string, bool) {
	var v *exec.Value
	if pos < len(p.Args) {
		v = p.Args[pos]
	} else if kv, ok := p.KwArgs[name]; ok {
		v = kv
	}
	if v == nil || !v.IsString() {
		return "", false
	}
	return v.String(), true
}

// growth checks, before a filter runs, what it would produce.
var growth = map[string]func(in *exec.Value, p *exec.VarArgs) error{
	"center": func(in *exec.Value, p *exec.VarArgs) error {
		if w, ok := intArg(p, 0, "width"); ok && w > MaxValue {
			return errTooBig
		}
		return nil
	},
	"indent": func(in *exec.Value, p *exec.VarArgs) error {
		lines := strings.Count(in.String(), "\n") + 1
		width := 4
		if w, ok := intArg(p, 0, "width"); ok {
			width = w
		} else if s, ok := strArg(p, 0, "width"); ok {
			width = len(s)
		}
		if width > MaxValue || width*lines > MaxValue-len(in.String()) {
			return errTooBig
		}
		return nil
	},
	"replace": func(in *exec.Value, p *exec.VarArgs) error {
		s := in.String()
		old, _ := strArg(p, 0, "old")
		repl, _ := strArg(p, 1, "new")
		n := strings.Count(s, old)
		if old == "" {
			n = utf8.RuneCountInString(s) + 1
		}
		if c, ok := intArg(p, 2, "count"); ok && c >= 0 && c < n {
			n = c
		}
		if grow := len(repl) - len(old); grow > 0 && n > 0 && (grow > MaxValue || n > (MaxValue-len(s))/grow) {
			return errTooBig
		}
		return nil
	},
	"tojson": func(in *exec.Value, p *exec.VarArgs) error {
		if w, ok := intArg(p, 0, "indent"); ok && w > 16 {
			return errTooBig
		}
		return nil
	},
	"wordwrap": func(in *exec.Value, p *exec.VarArgs) error {
		if s, ok := strArg(p, 3, "wrapstring"); ok && len(s) > 16 {
			return errTooBig
		}
		return nil
	},
	"batch": func(in *exec.Value, p *exec.VarArgs) error {
		if n, ok := intArg(p, 0, "linecount"); ok && n > MaxItems {
			return errTooBig
		}
		return nil
	},
	"slice": func(in *exec.Value, p *exec.VarArgs) error {
		if n, ok := intArg(p, 0, "slices"); ok && n > MaxItems {
			return errTooBig
		}
		return nil
	},
	"join": func(in *exec.Value, p *exec.VarArgs) error {
		sep, _ := strArg(p, 0, "d")
		if !in.IsList() {
			return nil
		}
		total := len(sep) * in.Len()
		rv := reflect.ValueOf(in.Interface())
		for i := 0; i < rv.Len() && total <= MaxValue; i++ {
			if s, ok := rv.Index(i).Interface().(string); ok {
				total += len(s)
			}
		}
		if total > MaxValue {
			return errTooBig
		}
		return nil
	},
}

// boundFilter wraps filter f: it refuses what growth says is too large,
// and any string result longer than MaxValue.
func boundFilter(name string, f exec.FilterFunction) exec.FilterFunction {
	check := growth[name]
	return func(e *exec.Evaluator, in *exec.Value, p *exec.VarArgs) *exec.Value {
		if check != nil && !in.IsError() {
			if err := check(in, p); err != nil {
				return exec.AsValue(fmt.Errorf("%s: %w: the result would be more than %d bytes or %d items", name, errTooBig, MaxValue, MaxItems))
			}
		}
		out := f(e, in, p)
		if out != nil && out.IsString() && out.Len() > MaxValue {
			return exec.AsValue(fmt.Errorf("%s: %w: a string of more than %d bytes", name, errTooBig, MaxValue))
		}
		return out
	}
}

// unboundedStrMethods are the string methods left out: each pads or
// repeats by an argument (Kestra's Pebble has none of them).
var unboundedStrMethods = []string{"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format"}

// strMethodNames are the string methods kept.
var strMethodNames = []string{"capitalize", "capwords", "casefold", "count", "encode", "endswith", "find",
	"isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "islower", "isnumeric", "isprintable", "isspace",
	"istitle", "isupper", "lower", "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rpartition",
	"rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper"}

// boundMethods returns gonja's methods without unboundedStrMethods.
func boundMethods(all exec.Methods) exec.Methods {
	str := map[string]exec.Method[string]{}
	for _, name := range strMethodNames {
		if m, ok := all.Str.Get(name); ok {
			str[name] = m
		}
	}
	all.Str = exec.NewMethodSet(str)
	return all
}
