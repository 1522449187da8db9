package bleve

// This file bounds the cost of regexp and wildcard queries before Bleve
// sees them. Bleve (scorch) compiles a regexp into a vellum DFA by subset
// construction, visiting all 256 bytes from every state, without looking
// at the request's context; the only bound is vellum's 10,000 states, and
// reaching it takes seconds (a 4 KB pattern took over 20 s). OpenSearch
// refuses such patterns up front (index.max_regex_length, Lucene's
// determinize work limit), and so does this file: it compiles the
// pattern to the same byte-level program vellum builds and runs the same
// subset construction, but only over the byte classes the program
// distinguishes (a handful for most patterns, never more than 256), and
// stops as soon as the automaton grows past the limits below. The state
// count is therefore vellum's own, computed for a fraction of its cost.

import (
	"encoding/binary"
	"errors"
	"regexp/syntax"
	"strconv"
	"unicode"

	"github.com/blevesearch/vellum/utf8"

	"github.com/tenantgate/tenantgate/index"
)

const (
	// maxRegexLength is OpenSearch's index.max_regex_length default: the
	// longest regexp or wildcard pattern accepted, in bytes.
	maxRegexLength = 1000

	// maxWildcards bounds the * and ? of one wildcard pattern. Measured
	// with vellum on 2 cores (AMD EPYC): "*a" repeated 20 times compiles
	// in 25 ms, 32 times in 65 ms, 80 times in 400 ms; but "*a" followed
	// by only 10 "?" takes 0.4 s (and fails at vellum's 10,000 states), so
	// no count of wildcards alone bounds the cost. maxDeterminizeWork
	// does; this limit refuses early, with a message a user understands,
	// patterns that could only pass it in degenerate shapes.
	maxWildcards = 32

	// maxDeterminizedStates is vellum's own state limit: past it Bleve
	// fails the search (a 500) after up to seconds of work.
	maxDeterminizedStates = 10000

	// maxDeterminizeWork bounds the work of the subset construction:
	// instructions visited per byte (vellum visits, for each state, the
	// state's instructions for each of the 256 bytes), plus 1,000 per
	// state. vellum spends 5-7 ns per step, so 10M is ~50 ms: the
	// costliest accepted pattern of each shape in
	// BenchmarkAutomatonAtLimit compiles in 19-54 ms (2 cores, AMD EPYC),
	// and the estimate costs 1-4 ms of it (up to ~70 ms when refusing
	// patterns with large Unicode classes such as \pL).
	maxDeterminizeWork = 10_000_000

	// maxProgramSize bounds the byte-level program (instructions). 1,000
	// bytes of pattern compile to at most a few thousand instructions
	// except with counted repetitions ({n,m}) and large Unicode classes.
	maxProgramSize = 20_000

	// maxQueryDeterminizeWork bounds the work of all the automata of one
	// query on one index: a pattern searched on every field (query_string
	// or KQL without a field) is compiled once per field. About 100 ms.
	maxQueryDeterminizeWork = 2 * maxDeterminizeWork
)

// errTooComplex is returned by checkRegexp when the pattern's automaton
// is over the limits; the caller names the pattern in the client error.
var errTooComplex = errors.New("too complex")

// tooComplex is the client error for a pattern over the determinize
// limits, as OpenSearch's TooComplexToDeterminizeException.
func tooComplex(what, pattern, detail string) error {
	return index.Invalidf("too_complex_to_determinize_exception",
		"Determinizing automaton of %s [%s] would require more than %d states or %d effort: %s",
		what, shorten(pattern), maxDeterminizedStates, maxDeterminizeWork, detail)
}

// tooLong is the client error for a pattern longer than maxRegexLength,
// as OpenSearch words it for regexp queries.
func tooLong(what string, n int) error {
	return index.Invalidf("too_complex_to_determinize_exception",
		"The length of %s [%d] used in the query has exceeded the allowed maximum of [%d]. "+
			"This maximum can be set by changing the [index.max_regex_length] index level setting.",
		what, n, maxRegexLength)
}

// shorten keeps error messages small when the pattern is long.
func shorten(s string) string {
	if len(s) <= 100 {
		return s
	}
	cut := 100
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

// checkWildcard refuses a wildcard pattern (Lucene syntax, before its
// translation to a regexp) that is too long or has too many wildcards.
func checkWildcard(pattern string) error {
	if len(pattern) > maxRegexLength {
		return tooLong("wildcard pattern", len(pattern))
	}
	n, esc := 0, false
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '*' || c == '?':
			n++
		}
	}
	if n > maxWildcards {
		return index.Invalidf("too_complex_to_determinize_exception",
			"wildcard pattern [%s] has %d wildcard characters (* and ?), more than the allowed maximum of [%d]",
			shorten(pattern), n, maxWildcards)
	}
	return nil
}

// checkRegexp refuses a regexp (the one handed to Bleve) whose automaton
// would be too costly to build. what names the user's pattern, orig.
// It returns the work vellum will spend on it.
func checkRegexp(re, what, orig string) (int, error) {
	if len(orig) > maxRegexLength {
		return 0, tooLong(what, len(orig))
	}
	_, work, err := determinizeCost(re)
	if errors.Is(err, errTooComplex) {
		return 0, tooComplex(what, orig, err.Error())
	}
	if err != nil {
		return 0, index.Invalidf("illegal_argument_exception", "invalid %s [%s]: %v", what, shorten(orig), err)
	}
	return work, nil
}

// regexpCheck is a memoized checkRegexp result.
type regexpCheck struct {
	work int
	err  error
}

// isLimitErr reports a refusal by the limits of this file, which lenient
// queries do not skip.
func isLimitErr(err error) bool {
	var ie *index.Error
	return errors.As(err, &ie) && ie.Type == "too_complex_to_determinize_exception"
}

// Byte-level program, as vellum's regexp compiler builds it.
type nfaOp uint8

const (
	nfaMatch nfaOp = iota
	nfaJmp
	nfaSplit
	nfaRange
)

type nfaInst struct {
	op      nfaOp
	lo, hi  byte
	to, to2 uint32 // jump target; split targets
}

type nfaCompiler struct {
	insts []nfaInst
}

type complexErr string

func (e complexErr) Error() string { return string(e) }
func (e complexErr) Unwrap() error { return errTooComplex }

func (c *nfaCompiler) emit(i nfaInst) (uint32, error) {
	if len(c.insts) >= maxProgramSize {
		return 0, complexErr("the program has more than 20000 instructions")
	}
	c.insts = append(c.insts, i)
	return uint32(len(c.insts) - 1), nil
}

func (c *nfaCompiler) top() uint32 { return uint32(len(c.insts)) }

// compile mirrors vellum/regexp's compiler (same instructions in the
// same order), so that the subset construction below finds the states
// vellum would. Constructs vellum refuses are refused with its errors.
func (c *nfaCompiler) compile(ast *syntax.Regexp) error {
	if ast.Flags&syntax.NonGreedy > 1 {
		return errors.New("lazy quantifiers are not allowed")
	}
	switch ast.Op {
	case syntax.OpEndLine, syntax.OpBeginLine, syntax.OpBeginText, syntax.OpEndText:
		return errors.New("zero width assertions not allowed")
	case syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return errors.New("word boundaries are not allowed")
	case syntax.OpEmptyMatch:
		return nil
	case syntax.OpLiteral:
		for _, r := range ast.Rune {
			cls := []rune{r, r}
			if ast.Flags&syntax.FoldCase != 0 {
				for r1 := unicode.SimpleFold(r); r1 != r; r1 = unicode.SimpleFold(r1) {
					cls = append(cls, r1, r1)
				}
				if err := c.class(cls); err != nil {
					return err
				}
				continue
			}
			seqs, err := utf8.NewSequences(r, r)
			if err != nil {
				return err
			}
			for _, s := range seqs {
				if err := c.ranges(s); err != nil {
					return err
				}
			}
		}
	case syntax.OpAnyChar:
		return c.class([]rune{0, unicode.MaxRune})
	case syntax.OpAnyCharNotNL:
		return c.class([]rune{0, 0x09, 0x0B, unicode.MaxRune})
	case syntax.OpCharClass:
		return c.class(ast.Rune)
	case syntax.OpCapture:
		return c.compile(ast.Sub[0])
	case syntax.OpConcat:
		for _, sub := range ast.Sub {
			if err := c.compile(sub); err != nil {
				return err
			}
		}
	case syntax.OpAlternate:
		if err := c.alternate(len(ast.Sub), func(i int) error { return c.compile(ast.Sub[i]) }); err != nil {
			return err
		}
	case syntax.OpQuest:
		split, err := c.emit(nfaInst{op: nfaSplit})
		if err != nil {
			return err
		}
		j1 := c.top()
		if err := c.compile(ast.Sub[0]); err != nil {
			return err
		}
		c.insts[split].to, c.insts[split].to2 = j1, c.top()
	case syntax.OpStar:
		j1 := c.top()
		split, err := c.emit(nfaInst{op: nfaSplit})
		if err != nil {
			return err
		}
		j2 := c.top()
		if err := c.compile(ast.Sub[0]); err != nil {
			return err
		}
		jmp, err := c.emit(nfaInst{op: nfaJmp})
		if err != nil {
			return err
		}
		c.insts[jmp].to = j1
		c.insts[split].to, c.insts[split].to2 = j2, c.top()
	case syntax.OpPlus:
		j1 := c.top()
		if err := c.compile(ast.Sub[0]); err != nil {
			return err
		}
		split, err := c.emit(nfaInst{op: nfaSplit})
		if err != nil {
			return err
		}
		c.insts[split].to, c.insts[split].to2 = j1, c.top()
	case syntax.OpRepeat:
		for i := 0; i < ast.Min; i++ {
			if err := c.compile(ast.Sub[0]); err != nil {
				return err
			}
		}
		if ast.Max == -1 {
			star := *ast
			star.Op = syntax.OpStar
			return c.compile(&star)
		}
		var splits, starts []uint32
		for i := ast.Min; i < ast.Max; i++ {
			split, err := c.emit(nfaInst{op: nfaSplit})
			if err != nil {
				return err
			}
			splits = append(splits, split)
			starts = append(starts, c.top())
			if err := c.compile(ast.Sub[0]); err != nil {
				return err
			}
		}
		for i, s := range splits {
			c.insts[s].to, c.insts[s].to2 = starts[i], c.top()
		}
	}
	return nil
}

// alternate compiles n alternatives, alt(0) to alt(n-1): each but the
// last behind a split that may skip it, followed by a jump past the rest.
func (c *nfaCompiler) alternate(n int, alt func(i int) error) error {
	var jmps []uint32
	for i := 0; i < n; i++ {
		last := i == n-1
		var split uint32
		if !last {
			var err error
			if split, err = c.emit(nfaInst{op: nfaSplit}); err != nil {
				return err
			}
		}
		j1 := c.top()
		if err := alt(i); err != nil {
			return err
		}
		if !last {
			j, err := c.emit(nfaInst{op: nfaJmp})
			if err != nil {
				return err
			}
			jmps = append(jmps, j)
			c.insts[split].to, c.insts[split].to2 = j1, c.top()
		}
	}
	for _, j := range jmps {
		c.insts[j].to = c.top()
	}
	return nil
}

// class compiles a character class given as lo, hi rune pairs.
func (c *nfaCompiler) class(rs []rune) error {
	return c.alternate(len(rs)/2, func(i int) error { return c.classRange(rs[2*i], rs[2*i+1]) })
}

func (c *nfaCompiler) classRange(lo, hi rune) error {
	seqs, err := utf8.NewSequences(lo, hi)
	if err != nil {
		return err
	}
	return c.alternate(len(seqs), func(i int) error { return c.ranges(seqs[i]) })
}

func (c *nfaCompiler) ranges(s utf8.Sequence) error {
	for _, r := range s {
		if _, err := c.emit(nfaInst{op: nfaRange, lo: r.Start, hi: r.End}); err != nil {
			return err
		}
	}
	return nil
}

// determinizeCost compiles re as vellum would and runs vellum's subset
// construction over byte classes. It returns the number of DFA states
// and the work vellum would spend (instructions visited, times 256
// bytes), or an error wrapping errTooComplex as soon as either passes
// its limit.
func determinizeCost(re string) (states, work int, err error) {
	parsed, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return 0, 0, err
	}
	c := &nfaCompiler{}
	if err := c.compile(parsed); err != nil {
		return 0, 0, err
	}
	if _, err := c.emit(nfaInst{op: nfaMatch}); err != nil {
		return 0, 0, err
	}
	insts := c.insts

	// Byte classes: bytes no range boundary separates behave alike.
	var cut [257]bool
	cut[0] = true
	for _, in := range insts {
		if in.op == nfaRange {
			cut[in.lo], cut[int(in.hi)+1] = true, true
		}
	}
	var reps []byte
	var width [256]int // bytes in the class a representative stands for
	for b := 0; b < 256; b++ {
		if cut[b] {
			reps = append(reps, byte(b))
		}
		width[reps[len(reps)-1]]++
	}

	// Sets keep vellum's insertion order: it keys states by the ordered
	// list of their range and match instructions.
	inSet := make([]int, len(insts)) // generation marks
	gen := 0
	var set []uint32
	var add func(ip uint32)
	add = func(ip uint32) {
		if inSet[ip] == gen {
			return
		}
		inSet[ip] = gen
		set = append(set, ip)
		switch insts[ip].op {
		case nfaJmp:
			add(insts[ip].to)
		case nfaSplit:
			add(insts[ip].to)
			add(insts[ip].to2)
		}
	}
	cache := map[string]int{}
	var stateInsts [][]uint32 // index 0 is the dead state
	stateInsts = append(stateInsts, nil)
	var key []byte
	intern := func() (int, bool) {
		var kept []uint32
		for _, ip := range set {
			if op := insts[ip].op; op == nfaRange || op == nfaMatch {
				kept = append(kept, ip)
			}
		}
		if len(kept) == 0 {
			return 0, false
		}
		key = key[:0]
		for _, ip := range kept {
			key = binary.LittleEndian.AppendUint32(key, ip)
		}
		if s, ok := cache[string(key)]; ok {
			return s, false
		}
		stateInsts = append(stateInsts, kept)
		cache[string(key)] = len(stateInsts) - 1
		return len(stateInsts) - 1, true
	}

	gen++
	set = set[:0]
	add(0)
	start, _ := intern()
	stack := []int{start}
	if start == 0 {
		stack = nil
	}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		from := stateInsts[s]
		for _, b := range reps {
			gen++
			set = set[:0]
			for _, ip := range from {
				if in := insts[ip]; in.op == nfaRange && in.lo <= b && b <= in.hi {
					add(ip + 1)
				}
			}
			// vellum, per byte: the state's instructions copied and run,
			// then the new set's closure and key.
			work += (len(from) + len(set)) * width[b]
			if ns, isNew := intern(); isNew {
				stack = append(stack, ns)
				// and per new state, allocating its 256 transitions.
				work += 1000
			}
			if len(stateInsts)-1 > maxDeterminizedStates {
				return len(stateInsts) - 1, work, complexErr("it has more than " + strconv.Itoa(maxDeterminizedStates) + " states")
			}
			if work > maxDeterminizeWork {
				return len(stateInsts) - 1, work, complexErr("it needs more than " + strconv.Itoa(maxDeterminizeWork) + " steps")
			}
		}
	}
	return len(stateInsts) - 1, work, nil
}
