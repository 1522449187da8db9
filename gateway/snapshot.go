package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/admin"
	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/snapshot"
	"github.com/tenantgate/tenantgate/tenants"
)

// The snapshot API, in OpenSearch's shapes, over the repositories of
// snapshot.repositories. Snapshots run as jobs owned by the server (a
// shutdown cancels and waits for them); wait_for_completion=true waits
// for the job within the request's time limit, otherwise the answer is
// {"accepted": true} and _status follows the job.
//
// Who may do what: a superadmin everything; a tenant's admin the
// snapshots of that one tenant (PUT with {"tenant": id}, and the
// snapshots whose selection is that tenant). Everyone else, and a tenant
// admin asking for anything else (another tenant's snapshot, a pattern,
// a snapshot that does not exist), gets the same 403.

// Snapshot states, as OpenSearch names them.
const (
	stateInProgress = "IN_PROGRESS"
	stateStarted    = "STARTED" // _status's word for a running snapshot
	stateSuccess    = "SUCCESS"
	stateFailed     = "FAILED"
)

// snapshotAPI serves /_snapshot: the server, the instance snapshots read
// and restore into, and the jobs running.
type snapshotAPI struct {
	s    *Server
	inst *snapshot.Instance
	jobs *snapshotJobs
}

// snapshotRoutes registers the snapshot API. Its jobs stop when the
// server shuts down.
func (s *Server) snapshotRoutes(app *fiber.App) {
	api := &snapshotAPI{s: s, inst: s.snapshots, jobs: newSnapshotJobs()}
	app.Hooks().OnShutdown(api.jobs.stop)
	app.Get("/_snapshot", api.handleRepositories)
	app.Get("/_snapshot/:repo/_all", api.handleList)
	app.Get("/_snapshot/:repo/_status", api.handleRunning)
	app.Get("/_snapshot/:repo", api.handleRepositories)
	app.Put("/_snapshot/:repo/:name", api.handleCreate)
	app.Post("/_snapshot/:repo/:name", api.handleCreate)
	app.Get("/_snapshot/:repo/:name", api.handleGet)
	app.Delete("/_snapshot/:repo/:name", api.handleDelete)
	app.Post("/_snapshot/:repo/:name/_restore", api.handleRestore)
	app.Get("/_snapshot/:repo/:name/_status", api.handleStatus)
}

// ---------------------------------------------------------------------------
// Permissions

// Cluster actions of the snapshot API, named as OpenSearch names them, for
// the 403 message.
const (
	actSnapCreate  = "cluster:admin/snapshot/create"
	actSnapGet     = "cluster:admin/snapshot/get"
	actSnapDelete  = "cluster:admin/snapshot/delete"
	actSnapRestore = "cluster:admin/snapshot/restore"
	actSnapStatus  = "cluster:admin/snapshot/status"
	actSnapRepos   = "cluster:admin/repository/get"
)

// snapshotForbidden is the one 403 of the snapshot API: the same for a
// snapshot that does not exist, one of another tenant and one the caller
// may not take.
func snapshotForbidden(action, user string) *Error {
	return &Error{Status: fiber.StatusForbidden, Type: "security_exception",
		Reason: fmt.Sprintf("no permissions for [%s] and User [name=%s]", action, user)}
}

// adminOf reports whether the caller may handle the snapshots of tenant:
// a superadmin always; otherwise tenant must be a live custom tenant the
// caller administers ("" — every tenant or a pattern — and the global
// tenant are superadmins' only).
func (a *snapshotAPI) adminOf(cl *caller, tenant string) bool {
	if cl.superadmin {
		return true
	}
	if tenant == "" || strings.EqualFold(tenant, tenants.Global) || strings.EqualFold(tenant, tenants.GlobalAlias) {
		return false
	}
	if _, live := a.s.resolver.Registry().Get(tenant); !live {
		return false
	}
	return a.s.policy.Allowed(cl.roles, tenant, policy.Admin)
}

// administersAny reports whether the caller administers some tenant, so
// may use the snapshot API at all.
func (a *snapshotAPI) administersAny(cl *caller) bool {
	if cl.superadmin {
		return true
	}
	for _, t := range a.s.resolver.Registry().List(true) {
		if a.s.policy.Allowed(cl.roles, t.Name, policy.Admin) {
			return true
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Requests

// snapshotRequest is what every handler starts from: the caller, the
// repository and (when the route has one) the snapshot name.
type snapshotRequest struct {
	cl   *caller
	repo string
	dir  string
	name string
}

// begin checks that snapshots are available and the caller may use the
// API at all, and resolves the repository (404 when not configured).
func (a *snapshotAPI) begin(c *fiber.Ctx, action string, withName bool, params ...string) (*snapshotRequest, error) {
	if err := checkParams(c, params...); err != nil {
		return nil, err
	}
	cl := callerOf(c)
	if a.inst == nil {
		return nil, &Error{Status: fiber.StatusServiceUnavailable, Type: "unavailable_exception", Reason: "snapshots are not available on this server"}
	}
	if !a.administersAny(cl) {
		return nil, snapshotForbidden(action, cl.principal.Name)
	}
	repo, err := param(c, "repo")
	if err != nil {
		return nil, err
	}
	dir, ok := a.s.cfg.Snapshot.Repository(repo)
	if !ok {
		return nil, &Error{Status: fiber.StatusNotFound, Type: "repository_missing_exception", Reason: fmt.Sprintf("[%s] missing", repo)}
	}
	r := &snapshotRequest{cl: cl, repo: repo, dir: dir}
	if withName {
		if r.name, err = param(c, "name"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

func (r *snapshotRequest) key() string { return r.repo + ":" + r.name }

// validSnapshotName checks a new snapshot's name by OpenSearch's rules,
// plus what tenantgate's layout reserves (a name that reads as a
// temporary or archive file).
func validSnapshotName(repo, name string) error {
	bad := func(why string) error {
		return badRequest("invalid_snapshot_name_exception", "[%s:%s] Invalid snapshot name [%s], %s", repo, name, name, why)
	}
	switch {
	case name == "":
		return bad("cannot be empty")
	case len(name) > 255:
		return bad("must be at most 255 bytes long")
	case strings.ContainsAny(name, " \t\r\n,\"*\\<|?>/#:"):
		return bad(`must not contain whitespace or the following characters [\, /, *, ?, ", <, >, |, ,, #, :]`)
	case strings.HasPrefix(name, "_") || strings.HasPrefix(name, "-") || strings.HasPrefix(name, "."):
		return bad("must not start with '_', '-' or '.'")
	case name != strings.ToLower(name):
		return bad("must be lowercase")
	case strings.Contains(name, ".tmp-") || strings.HasSuffix(name, ".tar.zst") || strings.HasSuffix(name, ".tar.gz"):
		return bad("must not contain '.tmp-' or end with '.tar.zst' or '.tar.gz'")
	}
	return nil
}

// find returns the snapshot r names from the repository's listing.
func (a *snapshotAPI) find(r *snapshotRequest) (snapshot.Info, bool, error) {
	list, err := listRepository(r.dir)
	if err != nil {
		return snapshot.Info{}, false, err
	}
	for _, in := range list {
		if in.Name == r.name {
			return in, true, nil
		}
	}
	return snapshot.Info{}, false, nil
}

// listRepository lists a repository directory; one not created yet is
// empty.
func listRepository(dir string) ([]snapshot.Info, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return snapshot.List(dir)
}

// snapshotTenant is the tenant whose admin may see the snapshot: its
// selection's tenant ("" for a pattern, everything, or an incomplete
// snapshot, which only superadmins see).
func snapshotTenant(in snapshot.Info) string {
	if in.Manifest == nil {
		return ""
	}
	return in.Manifest.Selection.Tenant
}

// lookup finds the snapshot r names, as a running job or on disk, and
// checks the caller may act on it: the one 403 when it does not exist or
// is not theirs (a superadmin gets OpenSearch's 404).
func (a *snapshotAPI) lookup(r *snapshotRequest, action string) (info snapshot.Info, onDisk bool, job *snapshotJob, err error) {
	// The job first: one that ends meanwhile has renamed its snapshot
	// into place before it reports done, so find sees it.
	job = a.jobs.get(r.key())
	info, onDisk, err = a.find(r)
	if err != nil {
		return info, false, nil, err
	}
	tenant := snapshotTenant(info)
	// A snapshot being written, or whose writing failed, exists as its job.
	writing := job != nil && job.kind == jobCreate && (job.running() || job.failed())
	if writing && !info.Complete {
		// What is on disk is the job's temporary directory.
		info, onDisk, tenant = snapshot.Info{}, false, job.tenant
	}
	exists := onDisk || writing
	if !exists {
		if r.cl.superadmin {
			return info, false, nil, snapshotMissing(r)
		}
		return info, false, nil, snapshotForbidden(action, r.cl.principal.Name)
	}
	if !a.adminOf(r.cl, tenant) {
		return info, false, nil, snapshotForbidden(action, r.cl.principal.Name)
	}
	return info, onDisk, job, nil
}

func snapshotMissing(r *snapshotRequest) *Error {
	return &Error{Status: fiber.StatusNotFound, Type: "snapshot_missing_exception", Reason: fmt.Sprintf("[%s] is missing", r.key())}
}

// ---------------------------------------------------------------------------
// Handlers

// handleRepositories answers GET /_snapshot[/{repo}] as OpenSearch does:
// {"local": {"type": "fs", "settings": {"location": …}}}. The directories
// are the server's, so only superadmins see them.
func (a *snapshotAPI) handleRepositories(c *fiber.Ctx) error {
	if err := checkParams(c, "local"); err != nil {
		return err
	}
	cl := callerOf(c)
	if !cl.superadmin {
		return snapshotForbidden(actSnapRepos, cl.principal.Name)
	}
	names := a.s.cfg.Snapshot.RepositoryNames()
	if c.Params("repo") != "" {
		repo, err := param(c, "repo")
		if err != nil {
			return err
		}
		if _, ok := a.s.cfg.Snapshot.Repository(repo); !ok {
			return &Error{Status: fiber.StatusNotFound, Type: "repository_missing_exception", Reason: fmt.Sprintf("[%s] missing", repo)}
		}
		names = []string{repo}
	}
	out := map[string]any{}
	for _, n := range names {
		dir, _ := a.s.cfg.Snapshot.Repository(n)
		out[n] = fiber.Map{"type": "fs", "settings": fiber.Map{"location": dir}}
	}
	return c.JSON(out)
}

// createBody is PUT /_snapshot/{repo}/{name}'s body. indices is a string
// (comma-separated) or an array, as OpenSearch takes it; the OpenSearch
// options tenantgate has no use for are accepted and ignored.
type createBody struct {
	Indices            json.RawMessage `json:"indices"`
	Tenant             string          `json:"tenant"`
	IgnoreUnavailable  *bool           `json:"ignore_unavailable"`
	IncludeGlobalState *bool           `json:"include_global_state"`
	Partial            *bool           `json:"partial"`
}

// indicesPattern turns OpenSearch's indices (a string or an array of
// strings) into a comma-separated pattern.
func indicesPattern(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return strings.TrimSpace(one), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", badRequest("parse_exception", "snapshot: [indices] must be a string or an array of strings")
	}
	for i := range list {
		list[i] = strings.TrimSpace(list[i])
	}
	return strings.Join(slices.DeleteFunc(list, func(s string) bool { return s == "" }), ","), nil
}

// handleCreate answers PUT /_snapshot/{repo}/{name}
// {"indices": ".kibana*"} or {"tenant": "t"} (an empty body takes every
// index).
func (a *snapshotAPI) handleCreate(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapCreate, true, "wait_for_completion")
	if err != nil {
		return err
	}
	var in createBody
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := decodeStrict(c, &in, "snapshot"); err != nil {
			return err
		}
	}
	pattern, err := indicesPattern(in.Indices)
	if err != nil {
		return err
	}
	if pattern == "_all" || pattern == "*" {
		pattern = ""
	}
	tenant := strings.TrimSpace(in.Tenant)
	if !a.adminOf(r.cl, tenant) {
		return snapshotForbidden(actSnapCreate, r.cl.principal.Name)
	}
	if err := validSnapshotName(r.repo, r.name); err != nil {
		return err
	}
	info, exists, err := a.find(r)
	if err != nil {
		return err
	}
	if exists && !r.cl.superadmin && snapshotTenant(info) != tenant {
		// Another tenant's snapshot (or an incomplete one) by that name:
		// the one 403, so that names do not tell what others keep.
		return snapshotForbidden(actSnapCreate, r.cl.principal.Name)
	}
	if exists {
		return badRequest("invalid_snapshot_name_exception", "[%s] Invalid snapshot name [%s], snapshot with the same name already exists", r.key(), r.name)
	}
	if err := os.MkdirAll(r.dir, 0o750); err != nil {
		return fmt.Errorf("creating snapshot repository %s: %w", r.repo, err)
	}
	actor := a.s.actor(c)
	job := &snapshotJob{kind: jobCreate, repo: r.repo, name: r.name, tenant: tenant, pattern: pattern}
	err = a.jobs.start(job, func(ctx context.Context) (*snapshot.Result, error) {
		res, err := snapshot.Create(ctx, a.inst, snapshot.Options{
			Out: r.dir, Name: r.name, Pattern: pattern, Tenant: tenant,
			ToolVersion: Version, Progress: job.setProgress, Clock: a.s.clock,
			MaxBytesPerSec: a.s.cfg.Snapshot.SnapshotBytesPerSec(),
		})
		a.audit(actor, "snapshot.create", tenant, r.key(), res, err, map[string]any{"pattern": pattern, "tenant": tenant})
		return res, err
	})
	if err != nil {
		return err
	}
	if !c.QueryBool("wait_for_completion") {
		return c.JSON(fiber.Map{"accepted": true})
	}
	if err := job.wait(c.UserContext()); err != nil {
		return err
	}
	if job.err != nil {
		return job.err
	}
	info = snapshot.Info{Name: r.name, Path: job.result.Path, Complete: true, Manifest: job.result.Manifest}
	return c.JSON(fiber.Map{"snapshot": a.infoView(info, job)})
}

// handleGet answers GET /_snapshot/{repo}/{name}: {"snapshots": [info]}.
func (a *snapshotAPI) handleGet(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapGet, true, "verbose", "ignore_unavailable")
	if err != nil {
		return err
	}
	info, onDisk, job, err := a.lookup(r, actSnapGet)
	if err != nil {
		return err
	}
	if !onDisk {
		info = snapshot.Info{Name: r.name}
	}
	return c.JSON(fiber.Map{"snapshots": []snapshotInfoView{a.infoView(info, job)}})
}

// handleList answers GET /_snapshot/{repo}/_all: every snapshot the
// caller may see, running ones included, sorted by name.
func (a *snapshotAPI) handleList(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapGet, false, "verbose", "ignore_unavailable")
	if err != nil {
		return err
	}
	list, err := listRepository(r.dir)
	if err != nil {
		return err
	}
	out := []snapshotInfoView{}
	seen := map[string]bool{}
	for _, in := range list {
		seen[in.Name] = true
		job, tenant := a.jobs.get(r.repo+":"+in.Name), snapshotTenant(in)
		if !in.Complete && job != nil && job.kind == jobCreate && (job.running() || job.failed()) {
			tenant = job.tenant // its temporary directory
		}
		if a.adminOf(r.cl, tenant) {
			out = append(out, a.infoView(in, job))
		}
	}
	for _, j := range a.jobs.running(r.repo) {
		if j.kind == jobCreate && !seen[j.name] && a.adminOf(r.cl, j.tenant) {
			out = append(out, a.infoView(snapshot.Info{Name: j.name}, j))
		}
	}
	slices.SortFunc(out, func(x, y snapshotInfoView) int { return strings.Compare(x.Snapshot, y.Snapshot) })
	return c.JSON(fiber.Map{"snapshots": out})
}

// handleDelete answers DELETE /_snapshot/{repo}/{name}. A snapshot being
// written or restored is refused (409).
func (a *snapshotAPI) handleDelete(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapDelete, true)
	if err != nil {
		return err
	}
	info, onDisk, job, err := a.lookup(r, actSnapDelete)
	if err != nil {
		return err
	}
	if job != nil && job.running() {
		return &Error{Status: fiber.StatusConflict, Type: "concurrent_snapshot_execution_exception",
			Reason: fmt.Sprintf("[%s] cannot delete a snapshot while it is being %s", r.key(), job.kindPast())}
	}
	if !onDisk {
		return snapshotMissing(r)
	}
	err = snapshot.Delete(info.Path)
	a.audit(a.s.actor(c), "snapshot.delete", snapshotTenant(info), r.key(), nil, err, nil)
	if err != nil {
		return err
	}
	a.jobs.forget(r.key())
	return c.JSON(fiber.Map{"acknowledged": true})
}

// restoreBody is POST /_snapshot/{repo}/{name}/_restore's body.
type restoreBody struct {
	Tenant             string          `json:"tenant"`
	RenameTenant       string          `json:"rename_tenant"`
	Overwrite          bool            `json:"overwrite"`
	Indices            json.RawMessage `json:"indices"`
	IgnoreUnavailable  *bool           `json:"ignore_unavailable"`
	IncludeGlobalState *bool           `json:"include_global_state"`
	Partial            *bool           `json:"partial"`
}

// handleRestore answers POST /_snapshot/{repo}/{name}/_restore
// {"tenant", "rename_tenant", "overwrite", "indices"}.
func (a *snapshotAPI) handleRestore(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapRestore, true, "wait_for_completion")
	if err != nil {
		return err
	}
	var in restoreBody
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := decodeStrict(c, &in, "restore"); err != nil {
			return err
		}
	}
	pattern, err := indicesPattern(in.Indices)
	if err != nil {
		return err
	}
	info, onDisk, job, err := a.lookup(r, actSnapRestore)
	if err != nil {
		return err
	}
	switch {
	case job != nil && job.kind == jobCreate && job.running():
		return &Error{Status: fiber.StatusConflict, Type: "concurrent_snapshot_execution_exception",
			Reason: fmt.Sprintf("[%s] cannot restore a snapshot that is still being written", r.key())}
	case !onDisk: // its writing failed
		return &Error{Status: fiber.StatusConflict, Type: "snapshot_restore_exception",
			Reason: fmt.Sprintf("[%s] cannot restore a snapshot whose writing failed", r.key())}
	}
	if !info.Complete {
		return &Error{Status: fiber.StatusConflict, Type: "snapshot_restore_exception",
			Reason: fmt.Sprintf("[%s] cannot restore an incomplete snapshot: %s", r.key(), info.Problem)}
	}
	tenant, as := strings.TrimSpace(in.Tenant), strings.TrimSpace(in.RenameTenant)
	// A tenant admin restores their own tenant's snapshot only, and only
	// that tenant (not a narrower or wider selection by another name).
	if !r.cl.superadmin && tenant != "" && tenant != snapshotTenant(info) {
		return snapshotForbidden(actSnapRestore, r.cl.principal.Name)
	}
	if !r.cl.superadmin {
		// Only that tenant's indices, whatever else the manifest lists
		// (the manifest's checksum is no signature).
		tenant = snapshotTenant(info)
	}
	actor := a.s.actor(c)
	if as != "" && !a.s.admin.CanCreateTenants(actor) {
		// A clone creates a tenant: refuse now rather than after staging
		// and installing everything.
		return snapshotForbidden(actSnapRestore, r.cl.principal.Name)
	}
	audTenant := cmpOr(as, cmpOr(tenant, snapshotTenant(info)))
	job = &snapshotJob{kind: jobRestore, repo: r.repo, name: r.name, tenant: audTenant}
	err = a.jobs.start(job, func(ctx context.Context) (*snapshot.Result, error) {
		res, err := snapshot.Restore(ctx, info.Path, a.inst, snapshot.RestoreOptions{
			Tenant: tenant, Pattern: pattern, As: as, Overwrite: in.Overwrite,
			Actor: actor, Progress: job.setProgress,
			MaxBytesPerSec: a.s.cfg.Snapshot.RestoreBytesPerSec(),
		})
		a.audit(actor, "snapshot.restore", audTenant, r.key(), res, err,
			map[string]any{"tenant": tenant, "rename_tenant": as, "overwrite": in.Overwrite, "pattern": pattern})
		return res, err
	})
	if err != nil {
		return err
	}
	if !c.QueryBool("wait_for_completion") {
		return c.JSON(fiber.Map{"accepted": true})
	}
	if err := job.wait(c.UserContext()); err != nil {
		return err
	}
	if job.err != nil {
		return job.err
	}
	return c.JSON(fiber.Map{"snapshot": restoreView(r.name, job.result)})
}

// handleStatus answers GET /_snapshot/{repo}/{name}/_status in
// OpenSearch's shape, with the progress of a running snapshot, and a
// "restore" object (a tenantgate extension) when the snapshot was
// restored or is being restored since the server started.
func (a *snapshotAPI) handleStatus(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapStatus, true, "ignore_unavailable")
	if err != nil {
		return err
	}
	info, onDisk, job, err := a.lookup(r, actSnapStatus)
	if err != nil {
		return err
	}
	if !onDisk {
		info = snapshot.Info{Name: r.name}
	}
	return c.JSON(fiber.Map{"snapshots": []snapshotStatusView{a.statusView(r.repo, info, job)}})
}

// handleRunning answers GET /_snapshot/{repo}/_status: the snapshots being
// written in the repository that the caller may see.
func (a *snapshotAPI) handleRunning(c *fiber.Ctx) error {
	r, err := a.begin(c, actSnapStatus, false, "ignore_unavailable")
	if err != nil {
		return err
	}
	out := []snapshotStatusView{}
	for _, j := range a.jobs.running(r.repo) {
		if j.kind == jobCreate && a.adminOf(r.cl, j.tenant) {
			out = append(out, a.statusView(r.repo, snapshot.Info{Name: j.name}, j))
		}
	}
	return c.JSON(fiber.Map{"snapshots": out})
}

// audit records a snapshot operation that ran (refusals are recorded by
// the error handler): who, which snapshot, the outcome and a summary.
func (a *snapshotAPI) audit(actor admin.Actor, action, tenant, target string, res *snapshot.Result, err error, asked map[string]any) {
	rec := audit.Record{Time: a.s.clock(), Actor: actor.Name, ActorRoles: actor.Roles.Names(), Tenant: tenant,
		Action: action, Target: target, ClientIP: actor.ClientIP, RequestID: actor.RequestID,
		Outcome: audit.OutcomeSuccess, Status: fiber.StatusOK}
	summary := map[string]any{}
	for k, v := range asked {
		if v != "" && v != false {
			summary[k] = v
		}
	}
	if res != nil {
		summary["indices"], summary["bytes"], summary["verified"] = len(res.Indices), res.Bytes, res.Verified
		if res.Tenant != "" {
			summary["created_tenant"] = res.Tenant
		}
	}
	if err != nil {
		status, _, reason, _ := classify(err)
		rec.Outcome, rec.Status, rec.Reason = audit.OutcomeFailure, status, reason
		if status >= 500 {
			a.s.log.Error("snapshot operation failed", "action", action, "snapshot", target, "request_id", actor.RequestID, "err", err)
		}
	}
	if len(summary) > 0 {
		rec.After, _ = json.Marshal(summary)
	}
	a.s.trail.Record(rec)
}

// ---------------------------------------------------------------------------
// Jobs

const (
	jobCreate  = "create"
	jobRestore = "restore"
)

// snapshotJob is one snapshot being written or restored, and its outcome
// once done.
type snapshotJob struct {
	kind, repo, name string
	// tenant is the selected tenant (create), or the tenant restored into
	// (restore); pattern the selected indices.
	tenant, pattern string
	done            chan struct{}

	mu       sync.Mutex
	started  time.Time
	ended    time.Time
	progress snapshot.Progress
	// indices are the indices seen in progress reports, in order; the
	// last one is being worked on until the job ends.
	indices []string
	result  *snapshot.Result
	err     error
}

func (j *snapshotJob) setProgress(p snapshot.Progress) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.progress = p
	if p.Index != "" && !slices.Contains(j.indices, p.Index) {
		j.indices = append(j.indices, p.Index)
	}
}

// state returns a consistent copy of what the job reports.
func (j *snapshotJob) state() (p snapshot.Progress, indices []string, started, ended time.Time, res *snapshot.Result, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.progress, slices.Clone(j.indices), j.started, j.ended, j.result, j.err
}

// failed reports whether the job ended with an error.
func (j *snapshotJob) failed() bool {
	if j.running() {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.err != nil
}

func (j *snapshotJob) running() bool {
	select {
	case <-j.done:
		return false
	default:
		return true
	}
}

// wait waits for the job to end, or for ctx (the request) to end first.
func (j *snapshotJob) wait(ctx context.Context) error {
	select {
	case <-j.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (j *snapshotJob) kindPast() string {
	if j.kind == jobRestore {
		return "restored"
	}
	return "written"
}

// snapshotJobs holds the jobs by repo:name (the last one of each) and
// owns their goroutines: stop cancels them and waits.
type snapshotJobs struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	byKey  map[string]*snapshotJob
}

// finishedKept is how long a finished job's outcome stays for _status.
const finishedKept = 24 * time.Hour

func newSnapshotJobs() *snapshotJobs {
	ctx, cancel := context.WithCancel(context.Background())
	return &snapshotJobs{ctx: ctx, cancel: cancel, byKey: map[string]*snapshotJob{}}
}

// start runs fn as job, unless a job on the same snapshot is running
// (400, as OpenSearch answers a snapshot already in progress).
func (js *snapshotJobs) start(job *snapshotJob, fn func(ctx context.Context) (*snapshot.Result, error)) error {
	js.mu.Lock()
	defer js.mu.Unlock()
	if js.ctx.Err() != nil {
		return &Error{Status: fiber.StatusServiceUnavailable, Type: "unavailable_exception", Reason: "the server is shutting down"}
	}
	key := job.repo + ":" + job.name
	if prev := js.byKey[key]; prev != nil && prev.running() {
		return badRequest("invalid_snapshot_name_exception", "[%s] Invalid snapshot name [%s], a snapshot with the same name is already being %s", key, job.name, prev.kindPast())
	}
	now := time.Now()
	for k, j := range js.byKey {
		if !j.running() && now.Sub(j.ended) > finishedKept {
			delete(js.byKey, k)
		}
	}
	job.done, job.started = make(chan struct{}), now
	js.byKey[key] = job
	js.wg.Add(1)
	go func() {
		defer js.wg.Done()
		res, err := fn(js.ctx)
		job.mu.Lock()
		job.result, job.err, job.ended = res, err, time.Now()
		job.mu.Unlock()
		close(job.done)
	}()
	return nil
}

func (js *snapshotJobs) get(key string) *snapshotJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.byKey[key]
}

func (js *snapshotJobs) forget(key string) {
	js.mu.Lock()
	defer js.mu.Unlock()
	if j := js.byKey[key]; j != nil && !j.running() {
		delete(js.byKey, key)
	}
}

// running returns the running jobs of a repository, sorted by name.
func (js *snapshotJobs) running(repo string) []*snapshotJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	var out []*snapshotJob
	for _, j := range js.byKey {
		if j.repo == repo && j.running() {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(x, y *snapshotJob) int { return strings.Compare(x.name, y.name) })
	return out
}

// stop cancels every job and waits for them (a fiber shutdown hook).
func (js *snapshotJobs) stop() error {
	js.mu.Lock()
	js.cancel()
	js.mu.Unlock()
	js.wg.Wait()
	return nil
}

// ---------------------------------------------------------------------------
// Response shapes

// shardCounts is OpenSearch's {"total", "failed", "successful"}: one
// shard per index here.
type shardCounts struct {
	Total      int `json:"total"`
	Failed     int `json:"failed"`
	Successful int `json:"successful"`
}

// snapshotInfoView is a snapshot in OpenSearch's get-snapshot shape.
// Metadata (OpenSearch's user metadata) carries what tenantgate adds: the
// selection, the source instance, the format and each index's tenant,
// logical name and document count.
type snapshotInfoView struct {
	Snapshot           string         `json:"snapshot"`
	UUID               string         `json:"uuid"`
	Version            string         `json:"version,omitempty"`
	Indices            []string       `json:"indices"`
	DataStreams        []string       `json:"data_streams"`
	IncludeGlobalState bool           `json:"include_global_state"`
	State              string         `json:"state"`
	Reason             string         `json:"reason,omitempty"`
	StartTime          string         `json:"start_time,omitempty"`
	StartTimeInMillis  int64          `json:"start_time_in_millis,omitempty"`
	EndTime            string         `json:"end_time,omitempty"`
	EndTimeInMillis    int64          `json:"end_time_in_millis,omitempty"`
	DurationInMillis   int64          `json:"duration_in_millis"`
	Failures           []any          `json:"failures"`
	Shards             shardCounts    `json:"shards"`
	Metadata           map[string]any `json:"metadata,omitempty"`
}

// osTime is OpenSearch's date format in snapshot answers.
func osTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// snapshotUUID is a stable id of a complete snapshot: the start of its
// manifest's checksum.
func snapshotUUID(m *snapshot.Manifest) string {
	sum := strings.TrimPrefix(m.Checksum, "sha256:")
	if len(sum) > 22 {
		sum = sum[:22]
	}
	return sum
}

// infoView describes a snapshot from its listing entry, or from its job
// while it is being written.
func (a *snapshotAPI) infoView(in snapshot.Info, job *snapshotJob) snapshotInfoView {
	v := snapshotInfoView{Snapshot: in.Name, UUID: "_na_", Indices: []string{}, DataStreams: []string{}, Failures: []any{}}
	if m := in.Manifest; m != nil && in.Complete {
		v.UUID, v.Version, v.State = snapshotUUID(m), m.ToolVersion, stateSuccess
		v.IncludeGlobalState = m.Control != nil
		idx := make([]map[string]any, 0, len(m.Indices))
		for _, e := range m.Indices {
			v.Indices = append(v.Indices, e.Physical)
			idx = append(idx, map[string]any{"physical": e.Physical, "tenant": e.Tenant, "owner": e.Owner,
				"logical": e.Logical, "doc_count": e.DocCount, "size_in_bytes": e.Size})
		}
		v.Shards = shardCounts{Total: len(m.Indices), Successful: len(m.Indices)}
		v.StartTime, v.StartTimeInMillis = osTime(m.Created), m.Created.UnixMilli()
		v.EndTime, v.EndTimeInMillis = v.StartTime, v.StartTimeInMillis
		meta := map[string]any{"format_version": m.FormatVersion, "instance_id": m.InstanceID, "indices": idx}
		if m.Selection.Tenant != "" {
			meta["tenant"] = m.Selection.Tenant
		}
		if m.Selection.Pattern != "" {
			meta["pattern"] = m.Selection.Pattern
		}
		v.Metadata = meta
		if job != nil && job.kind == jobCreate && !job.running() {
			_, _, started, ended, _, _ := job.state()
			v.StartTime, v.StartTimeInMillis = osTime(started), started.UnixMilli()
			v.EndTime, v.EndTimeInMillis = osTime(ended), ended.UnixMilli()
			v.DurationInMillis = ended.Sub(started).Milliseconds()
		}
		return v
	}
	if job != nil && job.kind == jobCreate {
		p, indices, started, ended, _, err := job.state()
		v.StartTime, v.StartTimeInMillis = osTime(started), started.UnixMilli()
		v.Indices = append(v.Indices, indices...)
		v.Shards = shardCounts{Total: p.IndicesTotal, Successful: p.IndicesDone}
		v.State = stateInProgress
		if job.running() {
			v.DurationInMillis = time.Since(started).Milliseconds()
		} else {
			v.State = stateFailed
			v.EndTime, v.EndTimeInMillis = osTime(ended), ended.UnixMilli()
			v.DurationInMillis = ended.Sub(started).Milliseconds()
			if err != nil {
				_, _, v.Reason, _ = classify(err)
				v.Shards.Failed = max(p.IndicesTotal-p.IndicesDone, 1)
			}
		}
		return v
	}
	v.State, v.Reason = stateFailed, cmpOr(in.Problem, "the snapshot is incomplete")
	return v
}

// fileStats is OpenSearch's {"file_count", "size_in_bytes"}.
type fileStats struct {
	FileCount   int   `json:"file_count"`
	SizeInBytes int64 `json:"size_in_bytes"`
}

// statusStats is the "stats" object of _status.
type statusStats struct {
	Incremental       fileStats  `json:"incremental"`
	Processed         *fileStats `json:"processed,omitempty"`
	Total             fileStats  `json:"total"`
	StartTimeInMillis int64      `json:"start_time_in_millis"`
	TimeInMillis      int64      `json:"time_in_millis"`
}

// shardsStats is the "shards_stats" object of _status.
type shardsStats struct {
	Initializing int `json:"initializing"`
	Started      int `json:"started"`
	Finalizing   int `json:"finalizing"`
	Done         int `json:"done"`
	Failed       int `json:"failed"`
	Total        int `json:"total"`
}

// indexStatus is one index of _status.
type indexStatus struct {
	ShardsStats shardsStats            `json:"shards_stats"`
	Stats       statusStats            `json:"stats"`
	Shards      map[string]shardStatus `json:"shards"`
}

type shardStatus struct {
	Stage string      `json:"stage"`
	Stats statusStats `json:"stats"`
}

// restoreStatus is the "restore" object of _status, a tenantgate
// extension: the last restore of the snapshot since the server started.
type restoreStatus struct {
	State                string                 `json:"state"`
	Reason               string                 `json:"reason,omitempty"`
	Tenant               string                 `json:"tenant,omitempty"`
	IndicesDone          int                    `json:"indices_done"`
	IndicesTotal         int                    `json:"indices_total"`
	ProcessedSizeInBytes int64                  `json:"processed_size_in_bytes"`
	TotalSizeInBytes     int64                  `json:"total_size_in_bytes"`
	StartTimeInMillis    int64                  `json:"start_time_in_millis"`
	TimeInMillis         int64                  `json:"time_in_millis"`
	Verified             bool                   `json:"verified"`
	Indices              []snapshot.IndexResult `json:"indices,omitempty"`
}

// snapshotStatusView is one snapshot of _status in OpenSearch's shape.
type snapshotStatusView struct {
	Snapshot           string                 `json:"snapshot"`
	Repository         string                 `json:"repository"`
	UUID               string                 `json:"uuid"`
	State              string                 `json:"state"`
	Reason             string                 `json:"reason,omitempty"`
	IncludeGlobalState bool                   `json:"include_global_state"`
	ShardsStats        shardsStats            `json:"shards_stats"`
	Stats              statusStats            `json:"stats"`
	Indices            map[string]indexStatus `json:"indices"`
	Restore            *restoreStatus         `json:"restore,omitempty"`
}

// statusView describes a snapshot's progress: from its job while it is
// being written, from its manifest once complete.
func (a *snapshotAPI) statusView(repo string, in snapshot.Info, job *snapshotJob) snapshotStatusView {
	v := snapshotStatusView{Snapshot: in.Name, Repository: repo, UUID: "_na_", Indices: map[string]indexStatus{}}
	if m := in.Manifest; m != nil && in.Complete {
		v.UUID, v.State, v.IncludeGlobalState = snapshotUUID(m), stateSuccess, m.Control != nil
		for _, e := range m.Indices {
			st := statusStats{Incremental: fileStats{len(e.Files), e.Size}, Total: fileStats{len(e.Files), e.Size},
				StartTimeInMillis: m.Created.UnixMilli()}
			v.Stats.Incremental.FileCount += len(e.Files)
			v.Stats.Incremental.SizeInBytes += e.Size
			v.Indices[e.Physical] = indexStatus{ShardsStats: shardsStats{Done: 1, Total: 1}, Stats: st,
				Shards: map[string]shardStatus{"0": {Stage: "DONE", Stats: st}}}
		}
		v.Stats.Total = v.Stats.Incremental
		v.Stats.StartTimeInMillis = m.Created.UnixMilli()
		v.ShardsStats = shardsStats{Done: len(m.Indices), Total: len(m.Indices)}
		if job != nil && job.kind == jobCreate {
			_, _, started, ended, _, _ := job.state()
			v.Stats.StartTimeInMillis, v.Stats.TimeInMillis = started.UnixMilli(), ended.Sub(started).Milliseconds()
		}
		if job != nil && job.kind == jobRestore {
			v.Restore = restoreStatusOf(job)
		}
		return v
	}
	if job == nil || job.kind != jobCreate {
		v.State, v.Reason = stateFailed, cmpOr(in.Problem, "the snapshot is incomplete")
		return v
	}
	p, indices, started, ended, _, err := job.state()
	v.State = stateStarted
	v.Stats.StartTimeInMillis = started.UnixMilli()
	v.Stats.TimeInMillis = time.Since(started).Milliseconds()
	if !job.running() {
		v.State, v.Stats.TimeInMillis = stateFailed, ended.Sub(started).Milliseconds()
		if err != nil {
			_, _, v.Reason, _ = classify(err)
		}
	}
	v.Stats.Total = fileStats{SizeInBytes: p.BytesTotal}
	v.Stats.Processed = &fileStats{SizeInBytes: p.BytesDone}
	v.Stats.Incremental = v.Stats.Total
	v.ShardsStats = shardsStats{Done: p.IndicesDone, Total: p.IndicesTotal}
	if job.running() && p.IndicesDone < p.IndicesTotal {
		v.ShardsStats.Started = 1
	}
	v.ShardsStats.Initializing = max(p.IndicesTotal-v.ShardsStats.Done-v.ShardsStats.Started, 0)
	if !job.running() {
		v.ShardsStats.Failed, v.ShardsStats.Started, v.ShardsStats.Initializing = p.IndicesTotal-p.IndicesDone, 0, 0
	}
	for i, name := range indices {
		stage := "DONE"
		if i == len(indices)-1 && job.running() && p.IndicesDone < p.IndicesTotal {
			stage = "STARTED"
		}
		ss := shardsStats{Total: 1}
		if stage == "DONE" {
			ss.Done = 1
		} else {
			ss.Started = 1
		}
		v.Indices[name] = indexStatus{ShardsStats: ss, Shards: map[string]shardStatus{"0": {Stage: stage}}}
	}
	return v
}

// restoreStatusOf reports a restore job.
func restoreStatusOf(job *snapshotJob) *restoreStatus {
	p, _, started, ended, res, err := job.state()
	rs := &restoreStatus{State: stateStarted, Tenant: job.tenant, IndicesDone: p.IndicesDone, IndicesTotal: p.IndicesTotal,
		ProcessedSizeInBytes: p.BytesDone, TotalSizeInBytes: p.BytesTotal, StartTimeInMillis: started.UnixMilli(),
		TimeInMillis: time.Since(started).Milliseconds()}
	if job.running() {
		return rs
	}
	rs.TimeInMillis = ended.Sub(started).Milliseconds()
	if err != nil {
		rs.State = stateFailed
		_, _, rs.Reason, _ = classify(err)
		return rs
	}
	rs.State = stateSuccess
	if res != nil {
		rs.Verified, rs.Indices = res.Verified, res.Indices
		rs.IndicesDone, rs.IndicesTotal = len(res.Indices), len(res.Indices)
		if res.Tenant != "" {
			rs.Tenant = res.Tenant
		}
	}
	return rs
}

// restoreView is the answer of a restore that was waited for:
// OpenSearch's {"snapshot": {"snapshot", "indices", "shards"}}, plus
// whether every restored index was verified, the tenant a clone created
// and each index's outcome.
func restoreView(name string, res *snapshot.Result) fiber.Map {
	indices := make([]string, 0, len(res.Indices))
	for _, ir := range res.Indices {
		indices = append(indices, ir.Physical)
	}
	out := fiber.Map{"snapshot": name, "indices": indices,
		"shards":   shardCounts{Total: len(indices), Successful: len(indices)},
		"verified": res.Verified, "restored": res.Indices}
	if res.Tenant != "" {
		out["tenant"] = res.Tenant
	}
	return out
}
