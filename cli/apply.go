package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/control"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/tenants"
)

var applyCommand = command{
	name:     "apply",
	synopsis: "apply -f FILE [-f FILE …] [--prune] [--dry-run] [--force-passwords] [connection flags]",
	short:    map[string]string{"f": "file"},
	about: `Makes a running gateway match security files in OpenSearch Security format,
told apart by their _meta.type: tenants (tenants.yml), roles (roles.yml),
rolesmapping (roles_mapping.yml) and internalusers (internal_users.yml).
Several files may follow one -f ("apply -f tenants.yml roles.yml"); a folder
stands for the files in it that have one of those types.

Every file is checked first; a file that does not parse changes nothing.
Then the server's entries of the types the files cover are fetched
(/_plugins/_security/api/…), compared with the files, and the plan is
printed before anything is changed:
  + created   ~ changed (with the fields that differ)   - deleted (--prune)
  = kept (never pruned)   ! cannot be changed (reserved on the server)
Then the plan is applied with PUT and DELETE, tenants first and deletions
last. Running apply again prints "No changes".

The comparison ignores what files do not decide: reserved, hidden and
static (set only by the server's own security files), server bookkeeping,
the order of keys and of names in lists, and empty values. --prune deletes
entries of the covered types that the files do not list, except reserved,
static and hidden ones, tenants' Admin roles and mappings (admin@TENANT),
tenant-scoped roles and mappings (NAME@TENANT) of tenants the files list
none of, and tenants' service accounts. Deleting a tenant is a soft delete:
"tenantgate tenants restore" brings it back within the retention window.

Passwords: the server never shows password hashes, so apply cannot tell
when a hash in internal_users.yml changed. A user's hash is sent when the
user is created and whenever apply changes the user for another reason; to
set changed passwords, use --force-passwords, which resends the hash of
every user that has one in the files. Make hashes with "tenantgate hash".

Exit codes: 0 done (or nothing to do), 1 the server refused a change or
could not be reached, or reserved entries differ from the files, 2 a file or
flag is wrong (nothing was changed).`,
}

// resourceKind is one type of security file and the API that serves it.
type resourceKind struct {
	// typ is the files' _meta.type and the last segment of the API path.
	typ string
	// noun names one entry in the plan.
	noun string
	// fields are the fields the files decide, the only ones compared.
	fields []string
	// parse validates a file and returns its entries.
	parse func([]byte) (map[string]entry, error)
	// keep are fields the files cannot express that a PUT would clear:
	// an update sends the server's values back.
	keep []string
}

// path is the API path of the kind's collection, or of one entry.
func (k *resourceKind) path(name ...string) string {
	p := "/_plugins/_security/api/" + k.typ
	for _, n := range name {
		p += "/" + url.PathEscape(n)
	}
	return p
}

// entry is one entry of a file: the body to PUT (without secrets), the
// password hash of an internal user, and where it was read.
type entry struct {
	body    map[string]any
	hash    string
	file    string
	flagged bool // the file sets reserved, hidden or static, which apply ignores
}

// putBody is what PUT sends: the body and, for internal users, the hash.
func (e entry) putBody() map[string]any {
	if e.hash == "" {
		return e.body
	}
	return withField(e.body, "hash", e.hash)
}

// withField returns a copy of body with key set to v.
func withField(body map[string]any, key string, v any) map[string]any {
	b := make(map[string]any, len(body)+1)
	for k, val := range body {
		b[k] = val
	}
	b[key] = v
	return b
}

// kinds are the resource kinds in the order their changes are applied;
// deletions go in the opposite order.
var kinds = []*resourceKind{
	{typ: "tenants", noun: "tenant", fields: []string{"description"}, parse: parseTenantsFile},
	{typ: "roles", noun: "role", fields: []string{"description", "tenant", "cluster_permissions", "index_permissions", "tenant_permissions"}, parse: parseRolesFile},
	{typ: "rolesmapping", noun: "rolesmapping", fields: []string{"description", "users", "backend_roles", "groups", "and_backend_roles", "hosts"}, parse: parseMappingsFile},
	{typ: "internalusers", noun: "internaluser", fields: []string{"description", "backend_roles", "attributes", "groups", "email", "first_name", "last_name", "superadmin", "kind"}, parse: parseUsersFile,
		keep: []string{"disabled", "tenant"}},
}

func kindOf(typ string) *resourceKind {
	for _, k := range kinds {
		if k.typ == typ {
			return k
		}
	}
	return nil
}

// put sets key in m when val is not empty.
func put[V comparable](m map[string]any, key string, val V) {
	var zero V
	if val != zero {
		m[key] = val
	}
}

func putList[V any](m map[string]any, key string, val []V) {
	if len(val) > 0 {
		m[key] = val
	}
}

func parseTenantsFile(raw []byte) (map[string]entry, error) {
	ts, err := tenants.ParseFile(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]entry, len(ts))
	for name, t := range ts {
		out[name] = entry{body: map[string]any{"description": t.Description}, flagged: t.Reserved || t.Hidden || t.Static}
	}
	return out, nil
}

func parseRolesFile(raw []byte) (map[string]entry, error) {
	roles, err := policy.ParseRoles(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]entry, len(roles))
	for name, r := range roles {
		b := map[string]any{}
		put(b, "description", r.Description)
		put(b, "tenant", r.Tenant)
		putList(b, "cluster_permissions", r.ClusterPermissions)
		var ips []map[string]any
		for _, ip := range r.IndexPermissions {
			m := map[string]any{}
			putList(m, "index_patterns", ip.IndexPatterns)
			putList(m, "allowed_actions", ip.AllowedActions)
			put(m, "dls", ip.Dls)
			putList(m, "fls", ip.Fls)
			putList(m, "masked_fields", ip.MaskedFields)
			ips = append(ips, m)
		}
		putList(b, "index_permissions", ips)
		var tps []map[string]any
		for _, tp := range r.TenantPermissions {
			m := map[string]any{}
			putList(m, "tenant_patterns", tp.TenantPatterns)
			putList(m, "allowed_actions", tp.AllowedActions)
			tps = append(tps, m)
		}
		putList(b, "tenant_permissions", tps)
		out[name] = entry{body: b, flagged: r.Reserved || r.Hidden || r.Static}
	}
	return out, nil
}

func parseMappingsFile(raw []byte) (map[string]entry, error) {
	ms, err := policy.ParseRoleMappings(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]entry, len(ms))
	for name, m := range ms {
		b := map[string]any{}
		put(b, "description", m.Description)
		putList(b, "users", m.Users)
		putList(b, "backend_roles", m.BackendRoles)
		putList(b, "groups", m.Groups)
		putList(b, "and_backend_roles", m.AndBackendRoles)
		putList(b, "hosts", m.Hosts)
		out[name] = entry{body: b, flagged: m.Reserved || m.Hidden}
	}
	return out, nil
}

func parseUsersFile(raw []byte) (map[string]entry, error) {
	us, err := control.ParseInternalUsers(raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]entry, len(us))
	for name, u := range us {
		b := map[string]any{}
		put(b, "description", u.Description)
		putList(b, "backend_roles", u.BackendRoles)
		if len(u.Attributes) > 0 {
			b["attributes"] = u.Attributes
		}
		putList(b, "groups", u.Groups)
		put(b, "email", u.Email)
		put(b, "first_name", u.FirstName)
		put(b, "last_name", u.LastName)
		put(b, "superadmin", u.Superadmin)
		// Always sent: the server keeps an account's kind when none is
		// given, so a file that says "user" for a service account must say
		// so and be refused rather than silently differ forever.
		b["kind"] = firstOf(u.Kind, control.KindUser)
		out[name] = entry{body: b, hash: u.PasswordHash, flagged: u.Reserved || u.Hidden || u.Static}
	}
	return out, nil
}

// desired is what the files say, by kind and name.
type desired map[*resourceKind]map[string]entry

// loadFiles reads and validates every file (folders stand for their
// .yml and .yaml files of a known type). Any problem is a usage error.
func loadFiles(paths []string, stdout io.Writer) (desired, error) {
	want := desired{}
	flagged := 0
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, usageError{fmt.Errorf("apply: %w", err)}
		}
		files := []string{p}
		if st.IsDir() {
			files = nil
			for _, pat := range []string{"*.yml", "*.yaml"} {
				m, _ := filepath.Glob(filepath.Join(p, pat))
				files = append(files, m...)
			}
			sort.Strings(files)
			if len(files) == 0 {
				return nil, usageError{fmt.Errorf("apply: folder %s holds no .yml or .yaml files", p)}
			}
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return nil, usageError{fmt.Errorf("apply: %w", err)}
			}
			var head struct {
				Meta struct {
					Type string `yaml:"type"`
				} `yaml:"_meta"`
			}
			if err := yaml.Unmarshal(raw, &head); err != nil {
				return nil, usageError{fmt.Errorf("apply: %s is not valid YAML: %v", f, err)}
			}
			k := kindOf(head.Meta.Type)
			if k == nil {
				if st.IsDir() {
					fmt.Fprintf(stdout, "note: skipping %s: not a file of tenants, roles, rolesmapping or internalusers\n", f)
					continue
				}
				if head.Meta.Type == "" {
					return nil, usageError{fmt.Errorf("apply: %s has no _meta.type; security files start with _meta: {type: tenants|roles|rolesmapping|internalusers, config_version: 2}", f)}
				}
				return nil, usageError{fmt.Errorf("apply: %s: _meta.type %q is not one apply manages (tenants, roles, rolesmapping, internalusers)", f, head.Meta.Type)}
			}
			entries, err := k.parse(raw)
			if err != nil {
				return nil, usageError{fmt.Errorf("apply: %s: %w", f, err)}
			}
			if want[k] == nil {
				want[k] = map[string]entry{}
			}
			for _, name := range sortedKeys(entries) {
				e := entries[name]
				if old, dup := want[k][name]; dup {
					return nil, usageError{fmt.Errorf("apply: %s %s is in both %s and %s", k.noun, name, old.file, f)}
				}
				e.file = f
				if e.flagged {
					flagged++
				}
				want[k][name] = e
			}
		}
	}
	if len(want) == 0 {
		return nil, usageError{errors.New("apply: the files hold no tenants, roles, rolesmapping or internalusers")}
	}
	if flagged > 0 {
		fmt.Fprintf(stdout, "note: %d entries of the files set reserved, hidden or static; apply does not set these flags (only the server's own security files do)\n", flagged)
	}
	return want, nil
}

// current is the server's state, by kind and name, as generic JSON.
type current map[*resourceKind]map[string]map[string]any

// fetch gets the server's entries of every kind the files cover.
func fetch(ctx context.Context, c *client, want desired) (current, error) {
	have := current{}
	for _, k := range kinds {
		if want[k] == nil {
			continue
		}
		var got map[string]map[string]any
		if err := c.call(ctx, "GET", k.path(), nil, &got); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				return nil, fmt.Errorf("apply: reading the server's %s: %w (this server does not serve the %s API)", k.typ, err, k.typ)
			}
			return nil, fmt.Errorf("apply: reading the server's %s: %w", k.typ, err)
		}
		have[k] = got
	}
	return have, nil
}

// Plan operations.
const (
	opCreate = '+'
	opUpdate = '~'
	opDelete = '-'
	opKeep   = '='
	opRefuse = '!'
)

// step is one line of the plan.
type step struct {
	kind   *resourceKind
	op     byte
	name   string
	fields []string // changed fields (opUpdate, opRefuse)
	note   string
	body   map[string]any // what PUT sends
}

func (s step) String() string {
	line := fmt.Sprintf("%c %s %s", s.op, s.kind.noun, s.name)
	if len(s.fields) > 0 {
		line += " (" + strings.Join(s.fields, ", ") + ")"
	}
	if s.note != "" {
		line += ": " + s.note
	}
	return line
}

// plan is what apply will do: changes in the order they are made, and
// entries it leaves alone on purpose.
type plan struct {
	changes   []step
	left      []step // opKeep and opRefuse
	unchanged int
}

// makePlan compares the files with the server.
func makePlan(want desired, have current, prune, forcePasswords bool) plan {
	var p plan
	for _, k := range kinds {
		for _, name := range sortedKeys(want[k]) {
			e := want[k][name]
			cur, exists := have[k][name]
			if !exists {
				p.changes = append(p.changes, step{kind: k, op: opCreate, name: name, body: e.putBody()})
				continue
			}
			fields := k.diff(e.body, cur)
			if forcePasswords && e.hash != "" {
				fields = append(fields, "hash")
			}
			switch {
			case len(fields) == 0:
				p.unchanged++
			case isSet(cur, "reserved") || isSet(cur, "static"):
				p.left = append(p.left, step{kind: k, op: opRefuse, name: name, fields: fields,
					note: "reserved on the server, so left as it is; change the server's security files instead"})
			default:
				body := e.putBody()
				for _, f := range k.keep {
					if v, ok := cur[f]; ok {
						body = withField(body, f, v)
					}
				}
				p.changes = append(p.changes, step{kind: k, op: opUpdate, name: name, fields: fields, body: body})
			}
		}
	}
	if !prune {
		return p
	}
	for _, k := range slices.Backward(kinds) {
		if want[k] == nil {
			continue
		}
		scopes := map[string]bool{}
		for name := range want[k] {
			scopes[scopeOf(name)] = true
		}
		for _, name := range sortedKeys(have[k]) {
			if _, listed := want[k][name]; listed {
				continue
			}
			cur := have[k][name]
			keep := func(note string) { p.left = append(p.left, step{kind: k, op: opKeep, name: name, note: note}) }
			switch scope := scopeOf(name); {
			case isSet(cur, "reserved"):
				keep("reserved, never pruned")
			case isSet(cur, "static"):
				keep("static, never pruned")
			case isSet(cur, "hidden"):
				keep("hidden, never pruned")
			case (k.typ == "roles" || k.typ == "rolesmapping") && name == admin.AdminRoleName(scope):
				keep("the Admin role of tenant " + scope + ", kept with its tenant")
			case scope != "" && !scopes[scope]:
				keep("belongs to tenant " + scope + ", of which the files list no " + k.typ)
			case k.typ == "internalusers" && strField(cur, "tenant") != "":
				keep("a service account of tenant " + strField(cur, "tenant") + ", kept with its tenant")
			default:
				note := ""
				switch k.typ {
				case "tenants":
					note = "soft delete, restorable with tenantgate tenants restore"
				case "roles":
					note = "its role mapping goes with it"
				}
				p.changes = append(p.changes, step{kind: k, op: opDelete, name: name, note: note})
			}
		}
	}
	return p
}

// scopeOf is the tenant of a tenant-scoped role or mapping
// ("reader@stage" → "stage"), or "".
func scopeOf(name string) string {
	if i := strings.LastIndexByte(name, '@'); i >= 0 {
		return name[i+1:]
	}
	return ""
}

func isSet(m map[string]any, key string) bool {
	b, _ := m[key].(bool)
	return b
}

func strField(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// diff returns the fields the files decide whose values differ between
// want and have, after normalising both.
func (k *resourceKind) diff(want, have map[string]any) []string {
	w := canon(generic(want))
	wm, _ := w.(map[string]any)
	hm, _ := canon(have).(map[string]any)
	var out []string
	for _, f := range k.fields {
		a, b := wm[f], hm[f]
		if k.typ == "internalusers" && f == "kind" {
			a, b = userKind(a), userKind(b)
		}
		if !reflect.DeepEqual(a, b) {
			out = append(out, f)
		}
	}
	return out
}

// userKind makes the default kind and no kind the same.
func userKind(v any) any {
	if v == control.KindUser {
		return nil
	}
	return v
}

// generic turns typed values into what encoding/json decodes into any.
func generic(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return out
}

// canon normalises generic JSON for comparison: empty strings, false,
// zero, empty lists and empty objects are the same as absent; lists of
// strings are sets (sorted, without repeats); other lists keep their
// order.
func canon(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, val := range x {
			if c := canon(val); c != nil {
				out[k] = c
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		var out []any
		strs := true
		for _, e := range x {
			c := canon(e)
			if c == nil {
				continue
			}
			if _, ok := c.(string); !ok {
				strs = false
			}
			out = append(out, c)
		}
		if len(out) == 0 {
			return nil
		}
		if strs {
			sort.Slice(out, func(i, j int) bool { return out[i].(string) < out[j].(string) })
			out = slices.Compact(out)
		}
		return out
	case string:
		if x == "" {
			return nil
		}
	case bool:
		if !x {
			return nil
		}
	case float64:
		if x == 0 {
			return nil
		}
	case nil:
		return nil
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// print writes the plan.
func (p plan) print(w io.Writer, server string) {
	if len(p.changes) == 0 {
		fmt.Fprintf(w, "No changes: %s matches the files (%d entries).\n", server, p.unchanged)
	} else {
		fmt.Fprintf(w, "Plan for %s:\n", server)
		for _, s := range p.changes {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if len(p.left) > 0 {
		fmt.Fprintln(w, "Left as they are:")
		for _, s := range p.left {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	if len(p.changes) > 0 {
		n := map[byte]int{}
		for _, s := range p.changes {
			n[s.op]++
		}
		fmt.Fprintf(w, "Plan: %d to create, %d to change, %d to delete; %d unchanged.\n",
			n[opCreate], n[opUpdate], n[opDelete], p.unchanged)
	}
}

// refused counts the entries the plan cannot change.
func (p plan) refused() int {
	n := 0
	for _, s := range p.left {
		if s.op == opRefuse {
			n++
		}
	}
	return n
}

// apply makes the plan's changes in order and stops at the first error.
func (p plan) apply(ctx context.Context, c *client, w io.Writer) error {
	for i, s := range p.changes {
		var err error
		verb := ""
		switch s.op {
		case opCreate, opUpdate:
			verb = map[byte]string{opCreate: "created", opUpdate: "changed"}[s.op]
			err = c.call(ctx, "PUT", s.kind.path(s.name), s.body, nil)
		case opDelete:
			verb = "deleted"
			err = c.call(ctx, "DELETE", s.kind.path(s.name), nil, nil)
		}
		if err != nil {
			return fmt.Errorf("apply: %s %s: %w (stopped after %d of %d changes)", s.kind.noun, s.name, err, i, len(p.changes))
		}
		fmt.Fprintf(w, "%s %s %s\n", verb, s.kind.noun, s.name)
	}
	return nil
}

// fileList collects the values of -f and --file.
type fileList []string

func (f *fileList) String() string { return strings.Join(*f, " ") }

func (f *fileList) Set(v string) error {
	*f = append(*f, v)
	return nil
}

// applyCmd runs "tenantgate apply".
func applyCmd(args []string, stdout, stderr io.Writer) error {
	fs := applyCommand.flags()
	var files fileList
	fs.Var(&files, "file", "a security `file` (tenants, roles, rolesmapping or internalusers) or a folder of them; repeat -f or list several files after it (required)")
	fs.Var(&files, "f", "")
	prune := fs.Bool("prune", false, "delete entries of the covered types that the files do not list (reserved ones never)")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	force := fs.Bool("force-passwords", false, "resend the hash of every internal user that has one in the files (the server never shows hashes, so a changed one cannot be seen)")
	cn := addConnFlags(fs)
	err := applyCommand.parse(fs, args, stdout, func(arg string) error {
		if strings.HasPrefix(arg, "-") {
			return usageError{fmt.Errorf("apply: unexpected argument %q", arg)}
		}
		return files.Set(arg)
	})
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usageError{errors.New("apply: name the files with -f (see tenantgate apply --help)")}
	}
	want, err := loadFiles(files, stdout)
	if err != nil {
		return err
	}
	c, err := cn.client(stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	have, err := fetch(ctx, c, want)
	if err != nil {
		return err
	}
	p := makePlan(want, have, *prune, *force)
	server := redactURL(c.base.String())
	p.print(stdout, server)
	refusal := func() error {
		if n := p.refused(); n > 0 {
			return fmt.Errorf("apply: %d entries differ from the files but are reserved on the server (marked !); they were left as they are", n)
		}
		return nil
	}
	if *dryRun {
		fmt.Fprintln(stdout, "Dry run: nothing was changed.")
		return refusal()
	}
	if len(p.changes) > 0 {
		if err := p.apply(ctx, c, stdout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Applied %d changes.\n", len(p.changes))
	}
	return refusal()
}
