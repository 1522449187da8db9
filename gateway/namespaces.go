package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"gopkg.in/yaml.v3"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/namespaces"
	"github.com/tenantgate/tenantgate/policy"
)

// Kestra's namespaces API, below /api/v1/{tenant}: namespaces with their
// description, variables and plugin defaults, and their secrets. The
// rules are the namespaces package's; handlers translate, check the
// namespace they act on (kestraScope.Allow) and record changes in the
// audit trail (never a secret value).
//
// A namespace a flow uses, and every ancestor of one (or of a stored
// namespace), exists implicitly: listings show it with "disabled": true,
// as Kestra's NamespaceWithDisabled does, until POST /namespaces creates
// it. Deleting a namespace is refused (409) while flows live in it or
// below it, since they would lose what they inherit from it.

// nsView is a namespace in Kestra's shape (NamespaceWithDisabled):
// Disabled is true for a placeholder, a namespace that only flows (or
// stored descendants) imply.
type nsView struct {
	ID             string                     `json:"id"`
	Description    string                     `json:"description,omitempty"`
	Variables      map[string]any             `json:"variables"`
	PluginDefaults []namespaces.PluginDefault `json:"pluginDefaults"`
	Deleted        bool                       `json:"deleted"`
	Disabled       bool                       `json:"disabled"`
	Created        *time.Time                 `json:"created,omitempty"`
	Updated        *time.Time                 `json:"updated,omitempty"`
}

func viewOfNamespace(n namespaces.Namespace) nsView {
	c, u := n.Created, n.Updated
	return nsView{ID: n.ID, Description: n.Description, Variables: n.Variables, PluginDefaults: n.PluginDefaults,
		Created: &c, Updated: &u}
}

func placeholderView(id string) nsView {
	return nsView{ID: id, Variables: map[string]any{}, PluginDefaults: []namespaces.PluginDefault{}, Disabled: true}
}

// secretView describes a secret, never its value: Namespace is where it
// is defined (the namespace asked for or the ancestor it is inherited
// from).
type secretView struct {
	Key         string    `json:"key"`
	Description string    `json:"description,omitempty"`
	Namespace   string    `json:"namespace"`
	Updated     time.Time `json:"updated"`
}

func viewOfSecret(i namespaces.SecretInfo) secretView {
	return secretView{Key: i.Key, Description: i.Description, Namespace: i.Namespace, Updated: i.Updated}
}

// nsBody is the body of POST /namespaces and PUT /namespaces/{id}.
// Deleted and Disabled are Kestra's read-only fields, accepted when
// false so that a namespace read back can be sent again.
type nsBody struct {
	ID             *string                    `json:"id"`
	Description    *string                    `json:"description"`
	Variables      map[string]any             `json:"variables"`
	PluginDefaults []namespaces.PluginDefault `json:"pluginDefaults"`
	Deleted        bool                       `json:"deleted"`
	Disabled       bool                       `json:"disabled"`
	Created        *time.Time                 `json:"created"`
	Updated        *time.Time                 `json:"updated"`
}

func (b nsBody) changes() (namespaces.Changes, error) {
	if b.Deleted || b.Disabled {
		return namespaces.Changes{}, badRequest("illegal_argument_exception", "namespace: deleted and disabled are read-only")
	}
	return namespaces.Changes{Description: b.Description, Variables: b.Variables, PluginDefaults: b.PluginDefaults}, nil
}

// nsPath returns the namespace id in the path, checked.
func nsPath(c *fiber.Ctx) (string, error) {
	id, err := param(c, "id")
	if err != nil {
		return "", err
	}
	return id, namespaces.ValidateID(id)
}

// allowedNamespace is the namespace of the path ({id}), once the caller
// may do verb on res there (kestraScope.Allow).
func allowedNamespace(c *fiber.Ctx, k *kestraScope, res policy.Resource, verb policy.Verb) (string, error) {
	id, err := nsPath(c)
	if err != nil {
		return "", err
	}
	return id, k.Allow(res, verb, id)
}

// nsRecord records a namespace or secret change in the audit trail.
// before and after are what changed (never a secret value); audit.Diff
// redacts anything named like a secret in variables too.
func (s *Server) nsRecord(c *fiber.Ctx, action, target string, status int, before, after any) {
	k := kestraOf(c)
	rec := audit.Record{Actor: k.caller.principal.Name, ActorRoles: k.caller.roles.Names(), Tenant: k.tenant.Name(),
		Action: action, Target: target, Outcome: audit.OutcomeSuccess, Status: status, ClientIP: c.IP(), RequestID: requestID(c)}
	var err error
	if rec.Before, rec.After, rec.Diff, err = audit.Diff(before, after); err != nil {
		rec.Before, rec.After, rec.Diff = nil, nil, nil
		rec.Reason = "before and after could not be recorded"
	}
	s.trail.Record(rec)
}

// handleCreateNamespace answers POST /api/v1/{tenant}/namespaces
// {"id", "description", "variables", "pluginDefaults"}: 200 with the
// namespace, 409 when it exists, 400 when invalid.
func (s *Server) handleCreateNamespace(c *fiber.Ctx) error {
	k := kestraOf(c)
	var in nsBody
	if err := decodeStrict(c, &in, "namespace"); err != nil {
		return err
	}
	if in.ID == nil {
		return badRequest("illegal_argument_exception", "namespace: id is required")
	}
	id := *in.ID
	if err := namespaces.ValidateID(id); err != nil {
		return err
	}
	if err := k.Allow(policy.ResNamespace, policy.VerbCreate, id); err != nil {
		return err
	}
	ch, err := in.changes()
	if err != nil {
		return err
	}
	ns, err := s.namespaceStore(k).CreateWith(c.UserContext(), id, ch)
	if err != nil {
		return err
	}
	v := viewOfNamespace(*ns)
	s.nsRecord(c, "namespace.create", id, fiber.StatusOK, nil, v)
	return c.JSON(v)
}

// nsListParams are the query parameters of the namespace listings.
var nsListParams = []string{"q", "page", "size", "sort", "existing"}

// handleListNamespaces answers GET /api/v1/{tenant}/namespaces and
// GET …/namespaces/search (q, page, size, sort=id:asc|id:desc,
// existing=true for stored namespaces only) in Kestra's paged shape
// {"results": [...], "total": n}: stored namespaces and placeholders
// (disabled), those the caller may read. search pages by 10 unless told;
// the plain listing returns everything unless told.
func (s *Server) handleListNamespaces(search bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := checkParams(c, nsListParams...); err != nil {
			return err
		}
		k := kestraOf(c)
		def := 0
		if search {
			def = 10
		}
		page, size, err := nsPaging(c, def)
		if err != nil {
			return err
		}
		desc := false
		switch srt := c.Query("sort"); srt {
		case "", "id", "id:asc":
		case "id:desc":
			desc = true
		default:
			return badRequest("illegal_argument_exception", "failed to parse [sort] value [%s]: use id:asc or id:desc", strings.Clone(srt))
		}
		all, err := s.allNamespaces(c.UserContext(), k, c.QueryBool("existing"))
		if err != nil {
			return err
		}
		q := strings.ToLower(c.Query("q"))
		out := make([]nsView, 0, len(all))
		for _, v := range all {
			if !k.Can(policy.ResNamespace, policy.VerbRead, v.ID) {
				continue
			}
			if q != "" && !strings.Contains(v.ID, q) && !strings.Contains(strings.ToLower(v.Description), q) {
				continue
			}
			out = append(out, v)
		}
		if desc {
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
		}
		return c.JSON(fiber.Map{"results": nsPage(out, page, size), "total": len(out)})
	}
}

// nsPaging reads page (1-based) and size; a size of 0 means all.
func nsPaging(c *fiber.Ctx, defSize int) (page, size int, err error) {
	page, size = 1, defSize
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &page}, {"size", &size}} {
		raw := c.Query(p.name)
		if raw == "" {
			continue
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 10000 {
			return 0, 0, badRequest("illegal_argument_exception", "failed to parse [%s] value [%s]: use a whole number from 1 to 10000", p.name, strings.Clone(raw))
		}
		*p.dst = n
	}
	return page, size, nil
}

// nsPage returns page (1-based) of size items of all; size 0 is all.
func nsPage[T any](all []T, page, size int) []T {
	if size == 0 {
		return all
	}
	from := (page - 1) * size
	if from >= len(all) {
		return []T{}
	}
	return all[from:min(from+size, len(all))]
}

// allNamespaces returns the tenant's stored namespaces and, unless
// existingOnly, the placeholders: every namespace a flow uses and every
// ancestor of one or of a stored namespace that is not stored itself.
// Sorted by id.
func (s *Server) allNamespaces(ctx context.Context, k *kestraScope, existingOnly bool) ([]nsView, error) {
	stored, err := s.namespaceStore(k).List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]nsView, 0, len(stored))
	seen := make(map[string]bool, len(stored))
	for _, n := range stored {
		out = append(out, viewOfNamespace(n))
		seen[n.ID] = true
	}
	if existingOnly {
		return out, nil
	}
	add := func(id string) {
		for _, n := range append([]string{id}, namespaces.Ancestors(id)...) {
			if !seen[n] {
				seen[n] = true
				out = append(out, placeholderView(n))
			}
		}
	}
	for _, n := range stored {
		add(n.ID)
	}
	used, err := s.flowStore(k).List(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, f := range used {
		add(f.Namespace)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// handleGetNamespace answers GET /api/v1/{tenant}/namespaces/{id}: the
// stored namespace, or a placeholder (disabled) when flows or stored
// namespaces below it imply it; 404 otherwise.
func (s *Server) handleGetNamespace(c *fiber.Ctx) error {
	k := kestraOf(c)
	id, err := allowedNamespace(c, k, policy.ResNamespace, policy.VerbRead)
	if err != nil {
		return err
	}
	ns, err := s.namespaceStore(k).Get(c.UserContext(), id)
	if err == nil {
		return c.JSON(viewOfNamespace(*ns))
	}
	if !isNotFound(err) {
		return err
	}
	all, lerr := s.allNamespaces(c.UserContext(), k, false)
	if lerr != nil {
		return lerr
	}
	for _, v := range all {
		if v.ID == id {
			return c.JSON(v)
		}
	}
	return err
}

// handleUpdateNamespace answers PUT /api/v1/{tenant}/namespaces/{id}
// {"description", "variables", "pluginDefaults"}: each field given
// replaces the stored one whole; an id in the body must be the path's.
func (s *Server) handleUpdateNamespace(c *fiber.Ctx) error {
	id, err := nsPath(c)
	if err != nil {
		return err
	}
	var in nsBody
	if err := decodeStrict(c, &in, "namespace"); err != nil {
		return err
	}
	if in.ID != nil && *in.ID != id {
		return badRequest("illegal_argument_exception", "the id in the body [%s] differs from the id in the path [%s]: a namespace id cannot change", *in.ID, id)
	}
	ch, err := in.changes()
	if err != nil {
		return err
	}
	return s.changeNamespace(c, id, "namespace.update", ch)
}

// changeNamespace applies ch to the stored namespace id (NAMESPACE
// update), records it and answers with the namespace.
func (s *Server) changeNamespace(c *fiber.Ctx, id, action string, ch namespaces.Changes) error {
	k := kestraOf(c)
	if err := k.Allow(policy.ResNamespace, policy.VerbUpdate, id); err != nil {
		return err
	}
	st := s.namespaceStore(k)
	before, err := st.Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	ns, err := st.Change(c.UserContext(), id, ch)
	if err != nil {
		return err
	}
	v := viewOfNamespace(*ns)
	s.nsRecord(c, action, id, fiber.StatusOK, viewOfNamespace(*before), v)
	return c.JSON(v)
}

// handleDeleteNamespace answers DELETE /api/v1/{tenant}/namespaces/{id}
// with 204. It also deletes the namespace's own secrets (which then
// needs SECRET delete too); descendants keep theirs. While a flow lives
// in the namespace or below it, the answer is 409.
func (s *Server) handleDeleteNamespace(c *fiber.Ctx) error {
	k := kestraOf(c)
	id, err := allowedNamespace(c, k, policy.ResNamespace, policy.VerbDelete)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	st := s.namespaceStore(k)
	before, err := st.Get(ctx, id)
	if err != nil {
		return err
	}
	used, err := s.flowStore(k).List(ctx, id)
	if err != nil {
		return err
	}
	if len(used) > 0 {
		return &Error{Status: fiber.StatusConflict, Type: "illegal_state_exception",
			Reason: fmt.Sprintf("namespace [%s] cannot be deleted: %d flows live in it or below it (first: %s/%s); delete or move them first",
				id, len(used), used[0].Namespace, used[0].ID)}
	}
	seen, err := st.Secrets(ctx, id)
	if err != nil {
		return err
	}
	var own []string
	for _, si := range seen {
		if si.Namespace == id {
			own = append(own, si.Key)
		}
	}
	if len(own) > 0 {
		if err := k.Allow(policy.ResSecret, policy.VerbDelete, id); err != nil {
			return err
		}
	}
	if err := st.Delete(ctx, id); err != nil {
		return err
	}
	s.nsRecord(c, "namespace.delete", id, fiber.StatusNoContent, struct {
		nsView
		Secrets []string `json:"secrets,omitempty"`
	}{viewOfNamespace(*before), own}, nil)
	return c.SendStatus(fiber.StatusNoContent)
}

// handleGetVariables answers GET …/namespaces/{id}/variables with the
// namespace's own variables.
func (s *Server) handleGetVariables(c *fiber.Ctx) error {
	ns, err := s.readNamespace(c)
	if err != nil {
		return err
	}
	return c.JSON(ns.Variables)
}

// handleGetPluginDefaults answers GET …/namespaces/{id}/plugin-defaults
// with the namespace's own plugin defaults.
func (s *Server) handleGetPluginDefaults(c *fiber.Ctx) error {
	ns, err := s.readNamespace(c)
	if err != nil {
		return err
	}
	return c.JSON(ns.PluginDefaults)
}

// readNamespace returns the stored namespace of the path, once the
// caller may read it.
func (s *Server) readNamespace(c *fiber.Ctx) (*namespaces.Namespace, error) {
	k := kestraOf(c)
	id, err := allowedNamespace(c, k, policy.ResNamespace, policy.VerbRead)
	if err != nil {
		return nil, err
	}
	return s.namespaceStore(k).Get(c.UserContext(), id)
}

// handleInherited answers GET …/namespaces/{id}/inherited-variables
// (the variables a flow in the namespace sees: its ancestors' and its
// own, the nearest winning, nested maps merged) and
// …/inherited-plugindefaults (one default per type with the namespace it
// comes from; a forced ancestor's wins). The namespace need not exist.
func (s *Server) handleInherited(defaults bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k := kestraOf(c)
		id, err := allowedNamespace(c, k, policy.ResNamespace, policy.VerbRead)
		if err != nil {
			return err
		}
		e, err := s.namespaceStore(k).Effective(c.UserContext(), id)
		if err != nil {
			return err
		}
		if defaults {
			return c.JSON(e.PluginDefaults)
		}
		return c.JSON(e.Variables)
	}
}

// isJSON reports whether the request body is declared as JSON; anything
// else is read as YAML (of which JSON is a subset).
func isJSON(c *fiber.Ctx) bool {
	return strings.Contains(strings.ToLower(c.Get(fiber.HeaderContentType)), "json")
}

// decodeYAMLOrJSON decodes the body into v: strict JSON when it is
// declared as JSON, else YAML with unknown fields refused.
func decodeYAMLOrJSON(c *fiber.Ctx, v any, what string) error {
	if isJSON(c) {
		return decodeStrict(c, v, what)
	}
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("parse_exception", "%s: a YAML or JSON request body is required", what)
	}
	dec := yaml.NewDecoder(bytes.NewReader(body))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return badRequest("parse_exception", "%s: %s", what, yamlErrorText(err))
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return badRequest("parse_exception", "%s: one YAML document is expected", what)
	}
	return nil
}

// yamlErrorText is a YAML decoding error without the "yaml: " prefix.
func yamlErrorText(err error) string {
	return strings.TrimPrefix(strings.ReplaceAll(err.Error(), "\n", "; "), "yaml: ")
}

// stringKeys returns v with every YAML map (whose keys may be numbers or
// booleans) turned into a map with string keys, as Kestra reads them.
func stringKeys(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = stringKeys(e)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = stringKeys(e)
		}
		return m
	case []any:
		for i, e := range t {
			t[i] = stringKeys(e)
		}
	}
	return v
}

// handlePutVariables answers PUT …/namespaces/{id}/variables with a
// YAML or JSON object (nested): the namespace's variables, replaced.
func (s *Server) handlePutVariables(c *fiber.Ctx) error {
	id, err := nsPath(c)
	if err != nil {
		return err
	}
	var vars map[string]any
	if err := decodeYAMLOrJSON(c, &vars, "variables"); err != nil {
		return err
	}
	if vars == nil {
		vars = map[string]any{}
	}
	vars = stringKeys(vars).(map[string]any)
	return s.changeNamespace(c, id, "namespace.variables", namespaces.Changes{Variables: vars})
}

// handlePutPluginDefaults answers PUT …/namespaces/{id}/plugin-defaults
// with a YAML or JSON list of {type, values, forced}: the namespace's
// plugin defaults, replaced.
func (s *Server) handlePutPluginDefaults(c *fiber.Ctx) error {
	id, err := nsPath(c)
	if err != nil {
		return err
	}
	var in []struct {
		Type   string         `json:"type" yaml:"type"`
		Values map[string]any `json:"values" yaml:"values"`
		Forced bool           `json:"forced" yaml:"forced"`
	}
	if err := decodeYAMLOrJSON(c, &in, "plugin defaults"); err != nil {
		return err
	}
	defs := make([]namespaces.PluginDefault, 0, len(in))
	for _, d := range in {
		vals, _ := stringKeys(d.Values).(map[string]any)
		if vals == nil {
			vals = map[string]any{}
		}
		defs = append(defs, namespaces.PluginDefault{Type: d.Type, Values: vals, Forced: d.Forced})
	}
	return s.changeNamespace(c, id, "namespace.plugin_defaults", namespaces.Changes{PluginDefaults: defs})
}

// secretsEnabled is nil when secrets.encryption_key is configured, and
// otherwise the 503 that says it is not.
func (s *Server) secretsEnabled() error {
	if s.secretsKey.IsZero() {
		return namespaces.ErrNoKey
	}
	return nil
}

// secretBody is the body of PUT …/secrets/{key} (Key absent or equal to
// the path's) and of Kestra's PUT …/secrets (Key required).
type secretBody struct {
	Key         *string `json:"key"`
	Value       *string `json:"value"`
	Description string  `json:"description"`
}

// handlePutSecret answers PUT …/namespaces/{id}/secrets/{key}
// {"value", "description"} and Kestra's PUT …/namespaces/{id}/secrets
// {"key", "value", "description"}: the secret is created (SECRET create)
// or replaced (SECRET update) and described back, never its value. The
// namespace must exist.
func (s *Server) handlePutSecret(c *fiber.Ctx) error {
	k := kestraOf(c)
	if err := s.secretsEnabled(); err != nil {
		return err
	}
	id, err := nsPath(c)
	if err != nil {
		return err
	}
	var in secretBody
	if err := decodeStrict(c, &in, "secret"); err != nil {
		return err
	}
	kestraForm := c.Params("key") == ""
	var key string
	switch {
	case kestraForm && in.Key == nil:
		return badRequest("illegal_argument_exception", "secret: key is required")
	case kestraForm:
		key = *in.Key
	default:
		if key, err = param(c, "key"); err != nil {
			return err
		}
		if in.Key != nil && *in.Key != key {
			return badRequest("illegal_argument_exception", "the key in the body [%s] differs from the key in the path [%s]", *in.Key, key)
		}
	}
	if err := namespaces.ValidateSecretKey(key); err != nil {
		return err
	}
	if in.Value == nil || *in.Value == "" {
		return badRequest("illegal_argument_exception", "secret: value is required and cannot be empty")
	}
	ctx := c.UserContext()
	st := s.namespaceStore(k)
	verb, action := policy.VerbCreate, "secret.create"
	prev, err := st.Secret(ctx, id, key)
	switch {
	case err == nil:
		verb, action = policy.VerbUpdate, "secret.update"
	case !isNotFound(err):
		return err
	}
	if err := k.Allow(policy.ResSecret, verb, id); err != nil {
		return err
	}
	info, err := st.PutSecret(ctx, id, key, *in.Value, in.Description)
	if err != nil {
		return err
	}
	v := viewOfSecret(*info)
	var before any
	if prev != nil {
		before = viewOfSecret(*prev)
	}
	s.nsRecord(c, action, id+"/"+key, fiber.StatusOK, before, v)
	if kestraForm {
		return c.JSON([]secretView{v})
	}
	return c.JSON(v)
}

// isNotFound reports whether err is the namespaces package's not found.
func isNotFound(err error) bool { return errors.Is(err, namespaces.ErrNotFound) }

// handleListSecrets answers GET …/namespaces/{id}/secrets (q, page, size)
// in Kestra's shape {"readOnly": false, "results": [...], "total": n}:
// the secrets the namespace sees, its own and its ancestors', each with
// its description and the namespace it comes from, never a value.
func (s *Server) handleListSecrets(c *fiber.Ctx) error {
	k := kestraOf(c)
	if err := s.secretsEnabled(); err != nil {
		return err
	}
	if err := checkParams(c, "q", "page", "size"); err != nil {
		return err
	}
	id, err := allowedNamespace(c, k, policy.ResSecret, policy.VerbRead)
	if err != nil {
		return err
	}
	page, size, err := nsPaging(c, 10)
	if err != nil {
		return err
	}
	list, err := s.namespaceStore(k).Secrets(c.UserContext(), id)
	if err != nil {
		return err
	}
	q := strings.ToLower(c.Query("q"))
	out := make([]secretView, 0, len(list))
	for _, si := range list {
		if q == "" || strings.Contains(strings.ToLower(si.Key), q) {
			out = append(out, viewOfSecret(si))
		}
	}
	return c.JSON(fiber.Map{"readOnly": false, "results": nsPage(out, page, size), "total": len(out)})
}

// handleInheritedSecrets answers GET …/namespaces/{id}/inherited-secrets
// as Kestra does: {"<ancestor>": ["KEY", …]} for the secrets the
// namespace inherits (those it does not define itself).
func (s *Server) handleInheritedSecrets(c *fiber.Ctx) error {
	k := kestraOf(c)
	if err := s.secretsEnabled(); err != nil {
		return err
	}
	id, err := allowedNamespace(c, k, policy.ResSecret, policy.VerbRead)
	if err != nil {
		return err
	}
	list, err := s.namespaceStore(k).Secrets(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := map[string][]string{}
	for _, si := range list {
		if si.Namespace != id {
			out[si.Namespace] = append(out[si.Namespace], si.Key)
		}
	}
	return c.JSON(out)
}

// handleDeleteSecret answers DELETE …/namespaces/{id}/secrets/{key}: the
// namespace's own secret goes (an inherited one is not found), and the
// answer is Kestra's list of deleted keys.
func (s *Server) handleDeleteSecret(c *fiber.Ctx) error {
	k := kestraOf(c)
	if err := s.secretsEnabled(); err != nil {
		return err
	}
	id, err := nsPath(c)
	if err != nil {
		return err
	}
	key, err := param(c, "key")
	if err != nil {
		return err
	}
	if err := namespaces.ValidateSecretKey(key); err != nil {
		return err
	}
	if err := k.Allow(policy.ResSecret, policy.VerbDelete, id); err != nil {
		return err
	}
	st := s.namespaceStore(k)
	prev, err := st.Secret(c.UserContext(), id, key)
	if err != nil {
		return err
	}
	if err := st.DeleteSecret(c.UserContext(), id, key); err != nil {
		return err
	}
	s.nsRecord(c, "secret.delete", id+"/"+key, fiber.StatusOK, viewOfSecret(*prev), nil)
	return c.JSON([]string{key})
}

// namespaceRoutes registers the namespaces API. /namespaces/search comes
// before /namespaces/{id}, so that "search" is not taken for an id.
func (s *Server) namespaceRoutes() {
	ns, sec := policy.ResNamespace, policy.ResSecret
	read, create, update, del := policy.VerbRead, policy.VerbCreate, policy.VerbUpdate, policy.VerbDelete
	s.kestra(fiber.MethodPost, "/namespaces", ns, create, s.handleCreateNamespace)
	s.kestra(fiber.MethodGet, "/namespaces", ns, read, s.handleListNamespaces(false))
	s.kestra(fiber.MethodGet, "/namespaces/search", ns, read, s.handleListNamespaces(true))
	s.kestra(fiber.MethodGet, "/namespaces/:id", ns, read, s.handleGetNamespace)
	s.kestra(fiber.MethodPut, "/namespaces/:id", ns, update, s.handleUpdateNamespace)
	s.kestra(fiber.MethodDelete, "/namespaces/:id", ns, del, s.handleDeleteNamespace)

	s.kestra(fiber.MethodGet, "/namespaces/:id/variables", ns, read, s.handleGetVariables)
	s.kestra(fiber.MethodPut, "/namespaces/:id/variables", ns, update, s.handlePutVariables)
	s.kestra(fiber.MethodGet, "/namespaces/:id/inherited-variables", ns, read, s.handleInherited(false))
	s.kestra(fiber.MethodGet, "/namespaces/:id/plugin-defaults", ns, read, s.handleGetPluginDefaults)
	s.kestra(fiber.MethodPut, "/namespaces/:id/plugin-defaults", ns, update, s.handlePutPluginDefaults)
	for _, p := range []string{"/namespaces/:id/inherited-plugin-defaults", "/namespaces/:id/inherited-plugindefaults"} {
		s.kestra(fiber.MethodGet, p, ns, read, s.handleInherited(true))
	}

	// The route's verb lets the caller in; the handler checks the
	// namespace, and create or update by whether the secret exists.
	s.kestra(fiber.MethodGet, "/namespaces/:id/secrets", sec, read, s.handleListSecrets)
	s.kestra(fiber.MethodGet, "/namespaces/:id/inherited-secrets", sec, read, s.handleInheritedSecrets)
	s.kestra(fiber.MethodPut, "/namespaces/:id/secrets", sec, create, s.handlePutSecret)
	s.kestra(fiber.MethodPut, "/namespaces/:id/secrets/:key", sec, create, s.handlePutSecret)
	s.kestra(fiber.MethodDelete, "/namespaces/:id/secrets/:key", sec, del, s.handleDeleteSecret)
}
