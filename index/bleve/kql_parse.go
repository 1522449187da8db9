package bleve

// This file parses KQL, the "kuery" language of OpenSearch Dashboards
// (called DQL there), into a small syntax tree. It follows the PEG grammar
// of OpenSearch Dashboards (src/plugins/data/common/opensearch_query/kuery/
// grammar/kuery.peg):
//
//	start       = Space* OrQuery? Space*
//	OrQuery     = AndQuery (Or AndQuery)*              Or  = Space+ 'or'i Space+
//	AndQuery    = NotQuery (And NotQuery)*             And = Space+ 'and'i Space+
//	NotQuery    = Not SubQuery / SubQuery              Not = 'not'i Space+
//	SubQuery    = '(' Space* OrQuery Space* ')' / Expression
//	Expression  = Field Space* RangeOp Space* Literal  (range)
//	            / Field Space* ':' Space* ListOfValues (field:value)
//	            / Value                                (free text)
//	ListOfValues = '(' Space* OrValues Space* ')' / Value, with the same
//	               or/and/not structure as queries
//	Value       = QuotedString / UnquotedLiteral
//
// Unquoted literals may hold spaces (they are trimmed) and stop at a
// special character ( \ ( ) : < > " * { } ) or a keyword; "*" in an
// unquoted literal is a wildcard. A backslash escapes a special
// character, a keyword (\or) or whitespace (\t, \r, \n). Nested field
// queries (field:{ ... }) are refused.
//
// One deliberate difference: "not" only starts a negation at the start of
// a word, so "cannot login" is one value (the Dashboards grammar would
// stop the literal at "can").

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// kqlNode is a node of a parsed KQL query.
type kqlNode interface {
	String() string
}

// kqlOr matches when any child matches.
type kqlOr struct{ children []kqlNode }

// kqlAnd matches when every child matches.
type kqlAnd struct{ children []kqlNode }

// kqlNot matches when its child does not.
type kqlNot struct{ child kqlNode }

// kqlIs is field:value, or a value without a field (field nil).
type kqlIs struct {
	field *kqlLiteral
	value kqlLiteral
}

// kqlRange is field <op> value with op one of < <= > >=.
type kqlRange struct {
	field kqlLiteral
	op    string
	value kqlLiteral
}

// kqlMatchAll is the empty query.
type kqlMatchAll struct{}

// kqlLiteral is a value or field name. parts holds the text between
// wildcards: one part means no wildcard, ["a", ""] is "a*".
type kqlLiteral struct {
	parts  []string
	quoted bool
}

// wildcard reports whether the literal has an unescaped "*".
func (l kqlLiteral) wildcard() bool { return len(l.parts) > 1 }

// text is the literal with its wildcards written as "*".
func (l kqlLiteral) text() string { return strings.Join(l.parts, "*") }

// isStar reports whether the literal is exactly one wildcard.
func (l kqlLiteral) isStar() bool {
	return len(l.parts) == 2 && l.parts[0] == "" && l.parts[1] == ""
}

// glob is the literal as a pattern for wildcardToRegexp: "*" for the
// wildcards, escaped "\", "*" and "?" for literal ones.
func (l kqlLiteral) glob() string {
	esc := make([]string, len(l.parts))
	for i, p := range l.parts {
		var b strings.Builder
		for _, r := range p {
			if r == '\\' || r == '*' || r == '?' {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		esc[i] = b.String()
	}
	return strings.Join(esc, "*")
}

// matches reports whether s matches the literal as a pattern (wildcards
// match any characters, dots included).
func (l kqlLiteral) matches(s string) bool {
	if !l.wildcard() {
		return s == l.parts[0]
	}
	first, last := l.parts[0], l.parts[len(l.parts)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, p := range l.parts[1 : len(l.parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return true
}

func (l kqlLiteral) String() string {
	if l.quoted {
		return fmt.Sprintf("%q", l.text())
	}
	return l.text()
}

func (n kqlOr) String() string     { return "or(" + joinNodes(n.children) + ")" }
func (n kqlAnd) String() string    { return "and(" + joinNodes(n.children) + ")" }
func (n kqlNot) String() string    { return "not(" + n.child.String() + ")" }
func (kqlMatchAll) String() string { return "match_all" }
func (n kqlRange) String() string  { return fmt.Sprintf("range(%s %s %s)", n.field, n.op, n.value) }
func (n kqlIs) String() string {
	if n.field == nil {
		return "is(" + n.value.String() + ")"
	}
	return "is(" + n.field.String() + ", " + n.value.String() + ")"
}

func joinNodes(ns []kqlNode) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.String()
	}
	return strings.Join(s, ", ")
}

// kqlSyntaxError is a KQL syntax error at a character offset.
type kqlSyntaxError struct {
	pos int
	msg string
}

func (e *kqlSyntaxError) Error() string { return fmt.Sprintf("%s at position %d", e.msg, e.pos) }

// maxKQLDepth bounds nesting (parentheses, not) so a hostile query cannot
// exhaust the stack.
const maxKQLDepth = 64

// parseKQL parses a KQL query. An empty query is kqlMatchAll.
func parseKQL(s string) (kqlNode, error) {
	if !utf8.ValidString(s) {
		return nil, &kqlSyntaxError{pos: 0, msg: "the query is not valid UTF-8"}
	}
	p := &kqlParser{s: []rune(s)}
	p.spaces()
	if p.eof() {
		return kqlMatchAll{}, nil
	}
	n, err := p.orQuery(0)
	if err != nil {
		return nil, err
	}
	p.spaces()
	if !p.eof() {
		return nil, p.errExpected("AND, OR or end of input")
	}
	return n, nil
}

type kqlParser struct {
	s   []rune
	pos int
}

func (p *kqlParser) eof() bool { return p.pos >= len(p.s) }

func (p *kqlParser) peek() rune {
	if p.eof() {
		return 0
	}
	return p.s[p.pos]
}

func isKQLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }

func isKQLSpecial(r rune) bool { return strings.ContainsRune(`\():<>"*{}`, r) }

func (p *kqlParser) spaces() {
	for !p.eof() && isKQLSpace(p.s[p.pos]) {
		p.pos++
	}
}

// errExpected describes what the parser wanted and what it found.
func (p *kqlParser) errExpected(want string) error {
	found := "end of input"
	if !p.eof() {
		found = fmt.Sprintf("[%c]", p.s[p.pos])
	}
	return &kqlSyntaxError{pos: p.pos, msg: fmt.Sprintf("expected %s but found %s", want, found)}
}

// wordAt reports whether the case-insensitive word w is at i, followed by
// at least one space.
func (p *kqlParser) wordAt(i int, w string) bool {
	if i+len(w) >= len(p.s) {
		return false
	}
	for k, c := range w {
		r := p.s[i+k]
		if r != c && r != c-'a'+'A' {
			return false
		}
	}
	return isKQLSpace(p.s[i+len(w)])
}

// binaryAt returns the length of " or " (or " and ") at i, spaces
// included, or 0.
func (p *kqlParser) binaryAt(i int, w string) int {
	j := i
	for j < len(p.s) && isKQLSpace(p.s[j]) {
		j++
	}
	if j == i || !p.wordAt(j, w) {
		return 0
	}
	j += len(w)
	for j < len(p.s) && isKQLSpace(p.s[j]) {
		j++
	}
	return j - i
}

// keyword consumes " or " / " and " when it is next.
func (p *kqlParser) keyword(w string) bool {
	if n := p.binaryAt(p.pos, w); n > 0 {
		p.pos += n
		return true
	}
	return false
}

// not consumes "not " when it is next.
func (p *kqlParser) not() bool {
	if p.wordAt(p.pos, "not") {
		p.pos += 3
		p.spaces()
		return true
	}
	return false
}

func (p *kqlParser) checkDepth(depth int) error {
	if depth > maxKQLDepth {
		return &kqlSyntaxError{pos: p.pos, msg: "the query is nested too deeply"}
	}
	return nil
}

// joined parses one or more items separated by keyword. A single item is
// returned as is; several are combined with join.
func (p *kqlParser) joined(keyword string, item func() (kqlNode, error), join func([]kqlNode) kqlNode) (kqlNode, error) {
	var out []kqlNode
	for {
		n, err := item()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if !p.keyword(keyword) {
			break
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return join(out), nil
}

func kqlOrOf(children []kqlNode) kqlNode  { return kqlOr{children: children} }
func kqlAndOf(children []kqlNode) kqlNode { return kqlAnd{children: children} }

func (p *kqlParser) orQuery(depth int) (kqlNode, error) {
	return p.joined("or", func() (kqlNode, error) { return p.andQuery(depth) }, kqlOrOf)
}

func (p *kqlParser) andQuery(depth int) (kqlNode, error) {
	return p.joined("and", func() (kqlNode, error) { return p.notQuery(depth) }, kqlAndOf)
}

func (p *kqlParser) notQuery(depth int) (kqlNode, error) {
	if err := p.checkDepth(depth); err != nil {
		return nil, err
	}
	if p.not() {
		n, err := p.subQuery(depth + 1)
		if err != nil {
			return nil, err
		}
		return kqlNot{child: n}, nil
	}
	return p.subQuery(depth)
}

func (p *kqlParser) subQuery(depth int) (kqlNode, error) {
	if p.peek() == '(' {
		return p.parenthesized(func() (kqlNode, error) { return p.orQuery(depth + 1) })
	}
	return p.expression()
}

// parenthesized parses "(" inner ")", with the parser on the "(".
func (p *kqlParser) parenthesized(inner func() (kqlNode, error)) (kqlNode, error) {
	p.pos++
	p.spaces()
	n, err := inner()
	if err != nil {
		return nil, err
	}
	p.spaces()
	if p.peek() != ')' {
		return nil, p.errExpected("AND, OR or [)]")
	}
	p.pos++
	return n, nil
}

func (p *kqlParser) expression() (kqlNode, error) {
	start := p.pos
	lit, err := p.literal()
	if err != nil {
		return nil, err
	}
	afterLit := p.pos
	p.spaces()
	switch r := p.peek(); r {
	case '<', '>':
		p.pos++
		op := string(r)
		if p.peek() == '=' {
			p.pos++
			op += "="
		}
		p.spaces()
		vpos := p.pos
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		if v.wildcard() {
			return nil, &kqlSyntaxError{pos: vpos, msg: "a range value cannot hold a wildcard"}
		}
		if lit.wildcard() && lit.isStar() {
			return nil, &kqlSyntaxError{pos: start, msg: "a range needs a field name"}
		}
		return kqlRange{field: lit, op: op, value: v}, nil
	case ':':
		p.pos++
		p.spaces()
		if p.peek() == '{' {
			return nil, &kqlSyntaxError{pos: p.pos, msg: "nested field queries (field:{ ... }) are not supported by tenantgate"}
		}
		field := lit
		return p.listOfValues(&field, 0)
	}
	p.pos = afterLit
	return kqlIs{value: lit}, nil
}

// listOfValues parses the value side of field:value, distributing the
// field over a parenthesized list of values.
func (p *kqlParser) listOfValues(field *kqlLiteral, depth int) (kqlNode, error) {
	if err := p.checkDepth(depth); err != nil {
		return nil, err
	}
	if p.peek() != '(' {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		return kqlIs{field: field, value: v}, nil
	}
	return p.parenthesized(func() (kqlNode, error) { return p.orValues(field, depth+1) })
}

func (p *kqlParser) orValues(field *kqlLiteral, depth int) (kqlNode, error) {
	return p.joined("or", func() (kqlNode, error) { return p.andValues(field, depth) }, kqlOrOf)
}

func (p *kqlParser) andValues(field *kqlLiteral, depth int) (kqlNode, error) {
	return p.joined("and", func() (kqlNode, error) {
		if p.not() {
			c, err := p.listOfValues(field, depth+1)
			if err != nil {
				return nil, err
			}
			return kqlNot{child: c}, nil
		}
		return p.listOfValues(field, depth)
	}, kqlAndOf)
}

// literal parses a quoted string or an unquoted literal.
func (p *kqlParser) literal() (kqlLiteral, error) {
	if p.peek() == '"' {
		return p.quoted()
	}
	return p.unquoted()
}

func (p *kqlParser) quoted() (kqlLiteral, error) {
	start := p.pos
	p.pos++
	var b strings.Builder
	for !p.eof() {
		r := p.s[p.pos]
		if r == '"' {
			p.pos++
			return kqlLiteral{parts: []string{b.String()}, quoted: true}, nil
		}
		if r == '\\' && p.pos+1 < len(p.s) {
			switch n := p.s[p.pos+1]; n {
			case '\\', '"':
				b.WriteRune(n)
				p.pos += 2
				continue
			case 't', 'r', 'n':
				b.WriteRune(map[rune]rune{'t': '\t', 'r': '\r', 'n': '\n'}[n])
				p.pos += 2
				continue
			}
		}
		b.WriteRune(r)
		p.pos++
	}
	return kqlLiteral{}, &kqlSyntaxError{pos: start, msg: "unterminated quoted string"}
}

func (p *kqlParser) unquoted() (kqlLiteral, error) {
	start := p.pos
	var parts []string
	var b strings.Builder
	for !p.eof() {
		r := p.s[p.pos]
		if r == '\\' {
			if p.pos+1 >= len(p.s) {
				return kqlLiteral{}, &kqlSyntaxError{pos: p.pos, msg: "a backslash must escape a character"}
			}
			n := p.s[p.pos+1]
			switch {
			case n == 't' || n == 'r' || n == 'n':
				b.WriteRune(map[rune]rune{'t': '\t', 'r': '\r', 'n': '\n'}[n])
				p.pos += 2
				continue
			case isKQLSpecial(n):
				b.WriteRune(n)
				p.pos += 2
				continue
			}
			if kw := p.escapedKeyword(p.pos + 1); kw != "" {
				b.WriteString(kw)
				p.pos += 1 + len(kw)
				continue
			}
			return kqlLiteral{}, &kqlSyntaxError{pos: p.pos, msg: fmt.Sprintf("[\\%c] is not a valid escape (escape one of \\():<>\"*{} or a keyword)", n)}
		}
		if r == '*' {
			parts = append(parts, b.String())
			b.Reset()
			p.pos++
			continue
		}
		if isKQLSpecial(r) {
			break
		}
		if isKQLSpace(r) && (p.binaryAt(p.pos, "or") > 0 || p.binaryAt(p.pos, "and") > 0) {
			break
		}
		if (p.pos == start || isKQLSpace(p.s[p.pos-1])) && p.wordAt(p.pos, "not") {
			break
		}
		b.WriteRune(r)
		p.pos++
	}
	parts = append(parts, b.String())
	// Trim the literal's surrounding spaces (escaped ones are kept by
	// the grammar too, but escaped whitespace at the edges is rare
	// enough not to track).
	parts[0] = strings.TrimLeft(parts[0], " \t\r\n")
	parts[len(parts)-1] = strings.TrimRight(parts[len(parts)-1], " \t\r\n")
	if len(parts) == 1 && parts[0] == "" {
		p.pos = start
		return kqlLiteral{}, p.errExpected("a field name, a value or [(]")
	}
	return kqlLiteral{parts: parts}, nil
}

// escapedKeyword returns the keyword (or, and, not in its original case)
// at i, or "".
func (p *kqlParser) escapedKeyword(i int) string {
	for _, w := range []string{"and", "not", "or"} {
		if i+len(w) > len(p.s) {
			continue
		}
		if strings.EqualFold(string(p.s[i:i+len(w)]), w) {
			return string(p.s[i : i+len(w)])
		}
	}
	return ""
}
