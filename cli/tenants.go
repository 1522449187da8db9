package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// tenantsUsage is the help of "tenantgate tenants".
const tenantsUsage = `Usage: tenantgate tenants COMMAND [flags]

Manages the tenants of a running gateway through its API (/api/v1/tenants).

Commands:
  create    create a tenant and map an admin to its Admin role
  list      list tenants (--deleted adds those that can be restored)
  get       show one tenant
  update    change a tenant's name or description
  delete    delete a tenant; it can be restored until the retention window ends
  restore   bring back a deleted tenant
  purge     remove a deleted tenant for good, before its retention window ends
  lock      refuse every request to a tenant (423), superadmins excepted
  unlock    end a lock
  freeze    serve reads, refuse writes (423)
  unfreeze  end a freeze

Run "tenantgate tenants COMMAND --help" for a command's flags. Every command
takes --server (or TENANTGATE_SERVER) and --token (or TENANTGATE_TOKEN), or
--user with --password (or TENANTGATE_PASSWORD). Exit codes: 0 done, 1 the
server refused or could not be reached, 2 a usage error.
`

// tenantView is a tenant as /api/v1/tenants answers it.
type tenantView struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Description     string     `json:"description"`
	Deleted         bool       `json:"deleted"`
	DeletedAt       *time.Time `json:"deletedAt"`
	RestorableUntil *time.Time `json:"restorableUntil"`
	Locked          bool       `json:"locked"`
	Frozen          bool       `json:"frozen"`
	Reserved        bool       `json:"reserved"`
	Hidden          bool       `json:"hidden"`
	Created         time.Time  `json:"created"`
	Updated         time.Time  `json:"updated"`
}

// state is the tenant's state in one word or a few.
func (t tenantView) state() string {
	var s []string
	if t.Deleted {
		s = append(s, "deleted")
	}
	if t.Locked {
		s = append(s, "locked")
	}
	if t.Frozen {
		s = append(s, "frozen")
	}
	if len(s) == 0 {
		return "active"
	}
	return strings.Join(s, ",")
}

// tenantOps are the POST /api/v1/tenants/{id}/<op> commands and what
// they print when done.
var tenantOps = map[string]struct{ about, done string }{
	"restore":  {"Restores a deleted tenant, with everything it had, within the retention window (POST /api/v1/tenants/ID/restore).", "restored"},
	"lock":     {"Locks a tenant: every request to it is refused with 423, a superadmin's excepted (POST /api/v1/tenants/ID/lock).", "locked"},
	"unlock":   {"Unlocks a locked tenant (POST /api/v1/tenants/ID/unlock).", "unlocked"},
	"freeze":   {"Freezes a tenant: reads are served, writes refused with 423 (POST /api/v1/tenants/ID/freeze).", "frozen"},
	"unfreeze": {"Unfreezes a frozen tenant (POST /api/v1/tenants/ID/unfreeze).", "unfrozen"},
}

// tenantsCmd runs "tenantgate tenants COMMAND".
func tenantsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, tenantsUsage)
		return usageError{errors.New("tenants: a command is required")}
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, tenantsUsage)
		return nil
	case "create":
		return tenantsCreate(args, stdout, stderr)
	case "list":
		return tenantsList(args, stdout, stderr)
	case "get":
		return tenantsGet(args, stdout, stderr)
	case "update":
		return tenantsUpdate(args, stdout, stderr)
	case "delete":
		return tenantsDelete(args, stdout, stderr)
	case "purge":
		return tenantsPurge(args, stdout, stderr)
	}
	if op, ok := tenantOps[sub]; ok {
		return tenantsOp(sub, op.about, op.done, args, stdout, stderr)
	}
	return usageError{fmt.Errorf("tenants: unknown command %q (see tenantgate tenants --help)", sub)}
}

// tenantFlag registers the required --tenant flag.
func tenantFlag(fs *flag.FlagSet) *string {
	return fs.String("tenant", "", "the tenant's `id` (required)")
}

// outputFlag registers --output.
func outputFlag(fs *flag.FlagSet, def string) *string {
	return fs.String("output", def, "output `format`: "+def+" or json")
}

// requireTenant checks --tenant.
func requireTenant(cmd string, id string) error {
	if id == "" {
		return usageError{fmt.Errorf("tenants %s: --tenant is required", cmd)}
	}
	return nil
}

// signalContext is cancelled by SIGINT and SIGTERM.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
}

func tenantPath(id string, op ...string) string {
	p := "/api/v1/tenants/" + url.PathEscape(id)
	for _, o := range op {
		p += "/" + o
	}
	return p
}

func tenantsCreate(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants create",
		synopsis: "tenants create --tenant ID [--name NAME] [--description TEXT] [--admin-username USER] [connection flags]",
		about: `Creates a tenant (POST /api/v1/tenants) and its Admin role. A creator who
is not a superadmin is mapped to the Admin role; a superadmin names the
tenant's admin with --admin-username (as in Kestra). It needs the
restapi:admin/tenants/create permission.`}
	fs := cmd.flags()
	id := tenantFlag(fs)
	name := fs.String("name", "", "the tenant's display `name` (default: the tenant id)")
	desc := fs.String("description", "", "the tenant's description, free `text`")
	adminUser := fs.String("admin-username", "", "an existing `user` to map to the tenant's Admin role (a superadmin's way to name the tenant's admin)")
	output := outputFlag(fs, "text")
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant("create", *id); err != nil {
		return err
	}
	c, err := prepare(cn, *output, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	var raw json.RawMessage
	in := map[string]string{"id": *id, "name": *name, "description": *desc, "adminUsername": *adminUser}
	if err := c.call(ctx, "POST", "/api/v1/tenants", in, &raw); err != nil {
		return fmt.Errorf("tenants create: %w", err)
	}
	if *output == "json" {
		return printJSON(stdout, raw)
	}
	var t tenantView
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("tenants create: decoding the answer: %w", err)
	}
	fmt.Fprintf(stdout, "created tenant %s (%s)\n", t.ID, t.Name)
	if *adminUser != "" {
		fmt.Fprintf(stdout, "%s administers it (role admin@%s)\n", *adminUser, t.ID)
	}
	return nil
}

func tenantsList(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants list",
		synopsis: "tenants list [--deleted] [--output table|json] [connection flags]",
		about: `Lists the tenants the caller may see (GET /api/v1/tenants): every tenant
for callers with restapi:admin/tenants, otherwise those they may read.`}
	fs := cmd.flags()
	deleted := fs.Bool("deleted", false, "also list deleted tenants that can still be restored")
	output := outputFlag(fs, "table")
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	c, err := prepare(cn, *output, stderr, "table")
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	path := "/api/v1/tenants"
	if *deleted {
		path += "?deleted=true"
	}
	var raw json.RawMessage
	if err := c.call(ctx, "GET", path, nil, &raw); err != nil {
		return fmt.Errorf("tenants list: %w", err)
	}
	if *output == "json" {
		return printJSON(stdout, raw)
	}
	var list []tenantView
	if err := json.Unmarshal(raw, &list); err != nil {
		return fmt.Errorf("tenants list: decoding the answer: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATE\tRESERVED\tDESCRIPTION")
	for _, t := range list {
		state := t.state()
		if t.RestorableUntil != nil {
			state += " (restorable until " + t.RestorableUntil.UTC().Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", t.ID, t.Name, state, t.Reserved, oneLine(t.Description))
	}
	return tw.Flush()
}

func tenantsGet(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants get",
		synopsis: "tenants get --tenant ID [--output text|json] [connection flags]",
		about:    `Shows one tenant (GET /api/v1/tenants/ID).`}
	fs := cmd.flags()
	id := tenantFlag(fs)
	output := outputFlag(fs, "text")
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant("get", *id); err != nil {
		return err
	}
	c, err := prepare(cn, *output, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	var raw json.RawMessage
	if err := c.call(ctx, "GET", tenantPath(*id), nil, &raw); err != nil {
		return fmt.Errorf("tenants get: %w", err)
	}
	if *output == "json" {
		return printJSON(stdout, raw)
	}
	var t tenantView
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("tenants get: decoding the answer: %w", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", t.ID)
	fmt.Fprintf(tw, "name:\t%s\n", t.Name)
	fmt.Fprintf(tw, "description:\t%s\n", oneLine(t.Description))
	fmt.Fprintf(tw, "state:\t%s\n", t.state())
	fmt.Fprintf(tw, "reserved:\t%t\n", t.Reserved)
	if t.Hidden {
		fmt.Fprintf(tw, "hidden:\t%t\n", t.Hidden)
	}
	fmt.Fprintf(tw, "created:\t%s\n", t.Created.UTC().Format(time.RFC3339))
	fmt.Fprintf(tw, "updated:\t%s\n", t.Updated.UTC().Format(time.RFC3339))
	return tw.Flush()
}

func tenantsUpdate(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants update",
		synopsis: "tenants update --tenant ID [--name NAME] [--description TEXT] [connection flags]",
		about: `Changes a tenant's display name or description (PUT /api/v1/tenants/ID);
flags left out keep their value. Tenants from the server's tenants.yml
are reserved and cannot be changed.`}
	fs := cmd.flags()
	id := tenantFlag(fs)
	fs.String("name", "", "the new display `name` (default: unchanged)")
	fs.String("description", "", "the new description, free `text` (default: unchanged)")
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant("update", *id); err != nil {
		return err
	}
	in := map[string]string{} // only the flags given: the others keep their value
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "name" || f.Name == "description" {
			in[f.Name] = f.Value.String()
		}
	})
	if len(in) == 0 {
		return usageError{errors.New("tenants update: nothing to change: pass --name or --description")}
	}
	c, err := prepare(cn, "", stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	var t tenantView
	if err := c.call(ctx, "PUT", tenantPath(*id), in, &t); err != nil {
		return fmt.Errorf("tenants update: %w", err)
	}
	fmt.Fprintf(stdout, "updated tenant %s (%s)\n", t.ID, t.Name)
	return nil
}

func tenantsDelete(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants delete",
		synopsis: "tenants delete --tenant ID [connection flags]",
		about: `Deletes a tenant (DELETE /api/v1/tenants/ID). It disappears at once from
every listing and request, and "tenantgate tenants restore" brings it back,
intact, until the server's retention window (tenants.retention) ends; then
its dashboards, indices and roles are purged. Audit records are kept.`}
	fs := cmd.flags()
	id := tenantFlag(fs)
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant("delete", *id); err != nil {
		return err
	}
	c, err := prepare(cn, "", stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	var t tenantView
	if err := c.call(ctx, "DELETE", tenantPath(*id), nil, &t); err != nil {
		return fmt.Errorf("tenants delete: %w", err)
	}
	fmt.Fprintf(stdout, "deleted tenant %s\n", *id)
	if t.RestorableUntil != nil {
		window := ""
		if t.DeletedAt != nil {
			window = " for " + humanDuration(t.RestorableUntil.Sub(*t.DeletedAt)) + ","
		}
		fmt.Fprintf(stdout, "it can be restored%s until %s: tenantgate tenants restore --tenant %s\n",
			window, t.RestorableUntil.UTC().Format(time.RFC3339), *id)
	}
	return nil
}

// stdinTerminal reports whether standard input is a terminal, someone
// who can answer a question. Tests replace it.
var stdinTerminal = func() bool {
	f, ok := stdin.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func tenantsPurge(args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants purge",
		synopsis: "tenants purge --tenant ID [--yes] [connection flags]",
		about: `Purges a deleted tenant now (POST /api/v1/tenants/ID/purge), without
waiting for the end of its retention window: its indices (dashboards and
data), tenant-scoped roles and mappings and service accounts are removed
for good and it can no longer be restored. Audit records are kept. A live tenant is refused (409): delete it
first. On a terminal it asks you to type the tenant id to confirm; without
a terminal it needs --yes. It needs the restapi:admin/tenants permission.`}
	fs := cmd.flags()
	id := tenantFlag(fs)
	yes := fs.Bool("yes", false, "purge without asking for confirmation (required when standard input is not a terminal)")
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant("purge", *id); err != nil {
		return err
	}
	c, err := prepare(cn, "", stderr)
	if err != nil {
		return err
	}
	if !*yes {
		if !stdinTerminal() {
			return usageError{fmt.Errorf("tenants purge: standard input is not a terminal, so nobody can confirm: pass --yes to purge tenant %s for good", *id)}
		}
		fmt.Fprintf(stderr, "Purging tenant %s removes its data for good; it cannot be restored afterwards.\nType the tenant id to confirm: ", *id)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("tenants purge: reading the confirmation: %w", err)
		}
		if strings.TrimSpace(line) != *id {
			return fmt.Errorf("tenants purge: the confirmation %q is not the tenant id %q: nothing was purged", strings.TrimSpace(line), *id)
		}
	}
	ctx, stop := signalContext()
	defer stop()
	var out struct {
		ID     string `json:"id"`
		Purged bool   `json:"purged"`
	}
	if err := c.call(ctx, "POST", tenantPath(*id, "purge"), nil, &out); err != nil {
		return fmt.Errorf("tenants purge: %w", err)
	}
	if !out.Purged {
		return fmt.Errorf("tenants purge: the server did not confirm the purge of tenant %s", *id)
	}
	fmt.Fprintf(stdout, "purged tenant %s\n", *id)
	return nil
}

func tenantsOp(op, about, done string, args []string, stdout, stderr io.Writer) error {
	cmd := command{name: "tenants " + op,
		synopsis: "tenants " + op + " --tenant ID [connection flags]",
		about:    about + " It needs the restapi:admin/tenants permission."}
	fs := cmd.flags()
	id := tenantFlag(fs)
	cn := addConnFlags(fs)
	if err := cmd.parse(fs, args, stdout, nil); err != nil {
		return err
	}
	if err := requireTenant(op, *id); err != nil {
		return err
	}
	c, err := prepare(cn, "", stderr)
	if err != nil {
		return err
	}
	ctx, stop := signalContext()
	defer stop()
	var t tenantView
	if err := c.call(ctx, "POST", tenantPath(*id, op), nil, &t); err != nil {
		return fmt.Errorf("tenants %s: %w", op, err)
	}
	fmt.Fprintf(stdout, "%s tenant %s (now %s)\n", done, *id, t.state())
	return nil
}

// prepare checks --output (one of formats or "json"; "" skips the check)
// and builds the client.
func prepare(cn *conn, output string, stderr io.Writer, formats ...string) (*client, error) {
	if output != "" {
		if len(formats) == 0 {
			formats = []string{"text"}
		}
		if output != "json" && !slices.Contains(formats, output) {
			return nil, usageError{fmt.Errorf("--output %q: use %s or json", output, strings.Join(formats, ", "))}
		}
	}
	return cn.client(stderr)
}

// printJSON prints a JSON answer indented.
func printJSON(w io.Writer, raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// oneLine keeps a description on one table row.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// humanDuration writes a retention window the way people say it:
// "7 days", "36h0m0s".
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d == day:
		return "1 day"
	case d > 0 && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	}
	return d.String()
}
