package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds what the commands that talk to a running gateway
// share: the connection flags, a small JSON client that turns every
// failure into a message an operator can act on (and never shows the
// credentials), and the --help layout of every subcommand.

// defaultServer is the gateway's URL when neither --server nor
// TENANTGATE_SERVER is set.
const defaultServer = "http://127.0.0.1:5601"

// Environment variables read by the connection flags.
const (
	envServer   = "TENANTGATE_SERVER"
	envToken    = "TENANTGATE_TOKEN"
	envPassword = "TENANTGATE_PASSWORD"
)

// conn holds the connection flags. The flags have no environment
// defaults on purpose: --help prints defaults, and a token from the
// environment must never be printed.
type conn struct {
	server   string
	token    string
	user     string
	password string
	timeout  time.Duration
}

// addConnFlags registers --server, --token, --user, --password and
// --timeout on fs.
func addConnFlags(fs *flag.FlagSet) *conn {
	c := &conn{}
	fs.StringVar(&c.server, "server", "", "the gateway's `URL`; env "+envServer+" (default: "+defaultServer+")")
	fs.StringVar(&c.token, "token", "", "a JWT or an API `token` (tgat_…), sent as a Bearer token; env "+envToken)
	fs.StringVar(&c.user, "user", "", "the `name` of a user to sign in as with HTTP Basic, instead of a token")
	fs.StringVar(&c.password, "password", "", "the `password` of --user; prefer env "+envPassword+
		" (other users can see command lines), or leave both out to be asked on the terminal")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long to wait for each request, as a `duration` (30s, 2m)")
	return c
}

// client is a JSON client of one gateway. authz is the Authorization
// header; it is never part of an error or of any output.
type client struct {
	base  *url.URL
	authz string
	http  *http.Client
}

// client resolves the flags and the environment into a client. Missing
// or contradictory credentials are usage errors.
func (c *conn) client(stderr io.Writer) (*client, error) {
	server := firstOf(c.server, os.Getenv(envServer), defaultServer)
	u, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("--server %q is not an http:// or https:// URL", redactURL(server))}
	}
	if c.timeout <= 0 {
		return nil, usageError{errors.New("--timeout must be positive")}
	}
	cl := &client{base: u, http: &http.Client{Timeout: c.timeout}}
	switch {
	case c.token != "" && c.user != "":
		return nil, usageError{errors.New("--token and --user exclude each other: use a token or a user's password")}
	case c.password != "" && c.user == "":
		return nil, usageError{errors.New("--password needs --user")}
	case c.user != "":
		pw := firstOf(c.password, os.Getenv(envPassword))
		if pw == "" {
			if pw, err = readSecret(stderr, "Password for "+c.user+": "); err != nil {
				return nil, usageError{fmt.Errorf("no password for --user %s (--password, env %s, or a terminal to ask on): %w", c.user, envPassword, err)}
			}
		}
		if strings.Contains(c.user, ":") {
			return nil, usageError{errors.New("--user may not contain ':'")}
		}
		cl.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(c.user+":"+pw))
	default:
		tok := strings.TrimSpace(firstOf(c.token, os.Getenv(envToken)))
		if tok == "" {
			return nil, usageError{fmt.Errorf("no credentials: pass --token (or set %s) with a JWT or an API token, or --user with --password (or %s)", envToken, envPassword)}
		}
		for _, r := range tok {
			if r <= ' ' || r >= 0x7f {
				return nil, usageError{errors.New("the token contains spaces or characters a token cannot have")}
			}
		}
		cl.authz = "Bearer " + tok
	}
	return cl, nil
}

// apiError is a request the server answered with an error status. Message
// is the server's own message.
type apiError struct {
	Method, Path string
	Status       int
	Message      string
}

// Error says what was asked, the status and the server's message, with a
// hint when the credentials were refused.
func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.Path, e.Status, http.StatusText(e.Status), e.Message)
	if e.Status == http.StatusUnauthorized {
		msg += " (check --token or " + envToken + ", or --user and its password)"
	}
	return msg
}

// call sends method path with in (nil: no body) encoded as JSON and
// decodes a JSON answer into out (nil: the body is ignored). A status of
// 300 or more is an *apiError carrying the server's message.
func (c *client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	target := c.base.String() + path
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", c.authz)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.transportError(method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return &apiError{Method: method, Path: path, Status: resp.StatusCode, Message: serverMessage(resp, raw)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: the server at %s answered %d with a body that is not the JSON expected (Content-Type %q, %v): %s; is --server the gateway's URL?",
			method, path, redactURL(c.base.String()), resp.StatusCode, resp.Header.Get("Content-Type"), err, snippet(raw))
	}
	return nil
}

// transportError explains a request that got no answer.
func (c *client) transportError(method, path string, err error) error {
	server := redactURL(c.base.String())
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s %s: interrupted", method, path)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is named below, without credentials
	}
	if ue != nil && ue.Timeout() {
		return fmt.Errorf("%s %s: the gateway at %s did not answer in time (--timeout): %v", method, path, server, err)
	}
	return fmt.Errorf("cannot reach the gateway at %s (%s %s): %v; is it running, and is --server (or %s) right?",
		server, method, path, err, envServer)
}

// serverMessage extracts the message of an error answer in any of the
// gateway's shapes: OpenSearch Dashboards' {"message"}, OpenSearch
// Security's {"status","message"} and OpenSearch's {"error":{"reason"}}.
func serverMessage(resp *http.Response, raw []byte) string {
	var m struct {
		Message string          `json:"message"`
		Reason  string          `json:"reason"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &m) != nil {
		return fmt.Sprintf("the answer is not JSON (Content-Type %q): %s", resp.Header.Get("Content-Type"), snippet(raw))
	}
	if m.Message != "" {
		return m.Message
	}
	var e struct {
		Reason string `json:"reason"`
	}
	if json.Unmarshal(m.Error, &e) == nil && e.Reason != "" {
		return e.Reason
	}
	var s string
	if json.Unmarshal(m.Error, &s) == nil && s != "" {
		return s
	}
	if m.Reason != "" {
		return m.Reason
	}
	return "(no message)"
}

// snippet is the start of a body, on one line, for an error message.
func snippet(raw []byte) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if s == "" {
		return "(empty body)"
	}
	if len(s) > 160 {
		s = s[:160]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return fmt.Sprintf("%q", s)
}

// redactURL hides a password written into a URL.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// command describes a subcommand for its --help: the synopsis after
// "tenantgate " and a paragraph on what it does.
type command struct {
	name     string
	synopsis string
	about    string
	// short maps one-letter aliases to the long flag they stand for
	// ("f" → "file"); --help shows them together.
	short map[string]string
}

// flags returns the subcommand's flag set. Errors are reported by Main,
// once, so the flag package prints nothing itself.
func (cmd command) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("tenantgate "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args. --help prints the help to stdout and returns
// flag.ErrHelp (exit 0); a bad flag is a usage error (exit 2).
// Arguments that are not flags go to positional, and parsing carries on
// after them; a nil positional refuses them.
func (cmd command) parse(fs *flag.FlagSet, args []string, stdout io.Writer, positional func(string) error) error {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				cmd.help(stdout, fs)
				return err
			}
			return usageError{fmt.Errorf("%s: %v (see tenantgate %s --help)", cmd.name, err, cmd.name)}
		}
		args = fs.Args()
		if len(args) == 0 {
			return nil
		}
		if positional == nil {
			return usageError{fmt.Errorf("%s: unexpected argument %q (see tenantgate %s --help)", cmd.name, args[0], cmd.name)}
		}
		if err := positional(args[0]); err != nil {
			return err
		}
		args = args[1:]
	}
}

// help prints the synopsis, the description and every flag with its
// description and default, in the layout of Kestra's and picocli's help.
func (cmd command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: tenantgate %s\n\n%s\n\nFlags:\n", cmd.synopsis, strings.TrimSpace(cmd.about))
	aliasOf := map[string]string{}
	for s, l := range cmd.short {
		aliasOf[l] = s
	}
	type row struct{ key, left, text string }
	var rows []row
	fs.VisitAll(func(f *flag.Flag) {
		if _, isShort := cmd.short[f.Name]; isShort {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		left := "    "
		if s, ok := aliasOf[f.Name]; ok {
			left = "-" + s + ", "
		}
		left += "--" + f.Name
		if arg != "" && !isBool(f) {
			left += " " + strings.ToUpper(arg)
		}
		if !strings.Contains(usage, "(default") && !strings.Contains(usage, "(required)") {
			def := f.DefValue
			if def == "" {
				def = "none"
			}
			usage += " (default: " + def + ")"
		}
		rows = append(rows, row{f.Name, left, usage})
	})
	rows = append(rows, row{"help", "-h, --help", "show this help and exit"})
	sort.Slice(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	const col = 28
	for _, r := range rows {
		lines := wrap(r.text, 76-col)
		if len(r.left)+2 > col-2 {
			fmt.Fprintf(w, "  %s\n", r.left)
		} else {
			fmt.Fprintf(w, "  %-*s", col-2, r.left)
			fmt.Fprintln(w, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%*s%s\n", col, "", l)
		}
	}
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// wrap breaks text into lines of at most width runes, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}
