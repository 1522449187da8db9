package bleve

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKQL(t *testing.T) {
	cases := []struct{ in, want string }{
		// empty and free text
		{``, `match_all`},
		{`   `, `match_all`},
		{`hello`, `is(hello)`},
		{`  hello  `, `is(hello)`},
		{`hello world`, `is(hello world)`},
		{`"hello world"`, `is("hello world")`},
		{`*`, `is(*)`},
		{`hel*o`, `is(hel*o)`},
		{`cannot login`, `is(cannot login)`},
		{`nothing`, `is(nothing)`},
		{`orange and android`, `and(is(orange), is(android))`},
		{`order`, `is(order)`},
		// field:value
		{`status:200`, `is(status, 200)`},
		{`status: 200`, `is(status, 200)`},
		{`status : 200`, `is(status, 200)`},
		{`message:"hello world"`, `is(message, "hello world")`},
		{`message:hello world`, `is(message, hello world)`},
		{`"http.url":x`, `is("http.url", x)`},
		{`url.path:/api/v1/users`, `is(url.path, /api/v1/users)`},
		{`client.ip:10.0.0.0/8`, `is(client.ip, 10.0.0.0/8)`},
		{`@timestamp:2023-06-19`, `is(@timestamp, 2023-06-19)`},
		{`event.domain:nginx.access`, `is(event.domain, nginx.access)`},
		{`flag:true`, `is(flag, true)`},
		// wildcards and exists
		{`host:web-*`, `is(host, web-*)`},
		{`host:*-01`, `is(host, *-01)`},
		{`host:*`, `is(host, *)`},
		{`*:*`, `is(*, *)`},
		{`http.*:GET`, `is(http.*, GET)`},
		{`host:"web-*"`, `is(host, "web-*")`},
		// value lists
		{`status:(200 or 404)`, `or(is(status, 200), is(status, 404))`},
		{`status:( 200 OR 404 )`, `or(is(status, 200), is(status, 404))`},
		{`tags:(a and b)`, `and(is(tags, a), is(tags, b))`},
		{`tags:(a and not b)`, `and(is(tags, a), not(is(tags, b)))`},
		{`tags:(a or b and c)`, `or(is(tags, a), and(is(tags, b), is(tags, c)))`},
		{`tags:((a or b) and c)`, `and(or(is(tags, a), is(tags, b)), is(tags, c))`},
		{`tags:("a b" or c*)`, `or(is(tags, "a b"), is(tags, c*))`},
		{`tags:(not a)`, `not(is(tags, a))`},
		// boolean operators and precedence
		{`a:1 and b:2`, `and(is(a, 1), is(b, 2))`},
		{`a:1 AND b:2`, `and(is(a, 1), is(b, 2))`},
		{`a:1 And b:2`, `and(is(a, 1), is(b, 2))`},
		{`a:1 or b:2`, `or(is(a, 1), is(b, 2))`},
		{`a:1 or b:2 and c:3`, `or(is(a, 1), and(is(b, 2), is(c, 3)))`},
		{`a:1 and b:2 or c:3`, `or(and(is(a, 1), is(b, 2)), is(c, 3))`},
		{`(a:1 or b:2) and c:3`, `and(or(is(a, 1), is(b, 2)), is(c, 3))`},
		{`not a:1`, `not(is(a, 1))`},
		{`NOT a:1 and b:2`, `and(not(is(a, 1)), is(b, 2))`},
		{`not (a:1 or b:2)`, `not(or(is(a, 1), is(b, 2)))`},
		{`not (not a:1)`, `not(not(is(a, 1)))`},
		{`not`, `is(not)`},
		{`a:1 and`, `is(a, 1 and)`},
		{`a:1 or or b:2`, `or(is(a, 1), is(or b, 2))`},
		{`a:1 or not b:2`, `or(is(a, 1), not(is(b, 2)))`},
		{`( a:1 )`, `is(a, 1)`},
		{"a:1\tand\nb:2", `and(is(a, 1), is(b, 2))`},
		{`a:1 and b:2 and c:3`, `and(is(a, 1), is(b, 2), is(c, 3))`},
		{`a or b or c`, `or(is(a), is(b), is(c))`},
		// ranges
		{`bytes > 5`, `range(bytes > 5)`},
		{`bytes>5`, `range(bytes > 5)`},
		{`bytes >= 5`, `range(bytes >= 5)`},
		{`bytes < 5`, `range(bytes < 5)`},
		{`bytes <= 5.5`, `range(bytes <= 5.5)`},
		{`@timestamp >= now-15m`, `range(@timestamp >= now-15m)`},
		{`@timestamp < "2023-06-19T17:00:00Z"`, `range(@timestamp < "2023-06-19T17:00:00Z")`},
		{`http.response.status_code >= 300 and event.domain:nginx.access`, `and(range(http.response.status_code >= 300), is(event.domain, nginx.access))`},
		{`bytes > 5 and bytes < 10`, `and(range(bytes > 5), range(bytes < 10))`},
		// escapes
		{`msg:a\:b`, `is(msg, a:b)`},
		{`msg:\(x\)`, `is(msg, (x))`},
		{`msg:\"x\"`, `is(msg, "x")`},
		{`msg:a\\b`, `is(msg, a\b)`},
		{`msg:a\*`, `is(msg, a\*)`},
		{`msg:\or`, `is(msg, or)`},
		{`msg:x \and y`, `is(msg, x and y)`},
		{`msg:\NOT x`, `is(msg, NOT x)`},
		{`msg:"say \"hi\""`, `is(msg, "say \"hi\"")`},
		{`msg:"a\\b"`, `is(msg, "a\\b")`},
		{`msg:"a\qb"`, `is(msg, "a\\qb")`},
		{`msg:"a:b (c)"`, `is(msg, "a:b (c)")`},
		{`field\:name:x`, `is(field:name, x)`},
		{`msg:a\tb`, `is(msg, a	b)`},
		{`msg:héllo wörld`, `is(msg, héllo wörld)`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			n, err := parseKQL(c.in)
			if err != nil {
				t.Fatalf("parseKQL(%q): %v", c.in, err)
			}
			// A literal "*" escaped in the input shows as \* in the tree;
			// the tree prints wildcards as *, so compare on the glob.
			got := n.String()
			if is, ok := n.(kqlIs); ok && strings.Contains(c.in, `\*`) {
				got = "is(" + is.field.String() + ", " + is.value.glob() + ")"
			}
			if got != c.want {
				t.Errorf("parseKQL(%q) = %s, want %s", c.in, got, c.want)
			}
		})
	}
}

func TestParseKQLLiteral(t *testing.T) {
	cases := []struct {
		in       string
		parts    []string
		wildcard bool
		glob     string
	}{
		{`abc`, []string{"abc"}, false, `abc`},
		{`a*c`, []string{"a", "c"}, true, `a*c`},
		{`*`, []string{"", ""}, true, `*`},
		{`a\*c`, []string{"a*c"}, false, `a\*c`},
		{`a?c`, []string{"a?c"}, false, `a\?c`},
		{`a\\*`, []string{`a\`, ""}, true, `a\\*`},
	}
	for _, c := range cases {
		n, err := parseKQL("f:" + c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		v := n.(kqlIs).value
		if strings.Join(v.parts, "|") != strings.Join(c.parts, "|") || v.wildcard() != c.wildcard || v.glob() != c.glob {
			t.Errorf("%q: parts %q wildcard %v glob %q; want %q %v %q", c.in, v.parts, v.wildcard(), v.glob(), c.parts, c.wildcard, c.glob)
		}
	}
}

func TestKQLLiteralMatches(t *testing.T) {
	lit := func(s string) kqlLiteral { return kqlLiteral{parts: strings.Split(s, "*")} }
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"http.*", "http.url", true},
		{"http.*", "http", false},
		{"http.*", "http.request.method", true},
		{"*.keyword", "body.keyword", true},
		{"*", "anything", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "acb", false},
		{"ab*ba", "aba", false},
		{"url", "url", true},
		{"url", "url.path", false},
	}
	for _, c := range cases {
		if got := lit(c.pat).matches(c.s); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
}

func TestParseKQLErrors(t *testing.T) {
	cases := []struct {
		in  string
		pos int
		msg string
	}{
		{`status:`, 7, "expected a field name, a value or [(] but found end of input"},
		{`status:<`, 7, "found [<]"},
		{`(a:1`, 4, "expected AND, OR or [)] but found end of input"},
		{`a:1)`, 3, "expected AND, OR or end of input but found [)]"},
		{`a:(1 or 2`, 9, "expected AND, OR or [)]"},
		{`msg:"open`, 4, "unterminated quoted string"},
		{`a:1 and `, 8, "expected a field name, a value or [(] but found end of input"},
		{`a:1 b:2`, 5, "expected AND, OR or end of input but found [:]"},
		{`not not a:1`, 4, "found [n]"},
		{`foo not bar`, 4, "found [n]"},
		{`bytes >`, 7, "expected a field name, a value or [(]"},
		{`bytes > 5*`, 8, "a range value cannot hold a wildcard"},
		{`* > 5`, 0, "a range needs a field name"},
		{`user:{ name:x }`, 5, "nested field queries"},
		{`msg:a\x`, 5, `[\x] is not a valid escape`},
		{`msg:a\`, 5, "a backslash must escape a character"},
		{`()`, 1, "expected a field name, a value or [(] but found [)]"},
		{`:x`, 0, "found [:]"},
		{strings.Repeat("(", 100) + "a" + strings.Repeat(")", 100), 65, "nested too deeply"},
		{strings.Repeat("not (", 100) + "a" + strings.Repeat(")", 100), 165, "nested too deeply"},
		{"a:\xff", 0, "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			n, err := parseKQL(c.in)
			var se *kqlSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("parseKQL(%q) = %v, %v; want a syntax error", c.in, n, err)
			}
			if se.pos != c.pos || !strings.Contains(se.msg, c.msg) {
				t.Errorf("parseKQL(%q) error = %q at %d, want %q at %d", c.in, se.msg, se.pos, c.msg, c.pos)
			}
		})
	}
}
