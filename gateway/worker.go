package gateway

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/audit"
	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/policy"
	"github.com/tenantgate/tenantgate/worker"
)

// The worker API lets an external worker run the tasks the built-in
// worker does not (every type but Log and Return), in one tenant:
//
//	POST /api/v1/{tenant}/worker/claim
//	     {"workerId": "w1", "types": ["io.kestra.plugin.scripts"], "max": 5}
//	  → 200 {"jobs": [{"executionId", "taskRunId", "taskId", "type",
//	         "namespace", "flowId", "flowRevision", "properties"}]}
//	POST /api/v1/{tenant}/worker/executions/{id}/taskruns/{taskRunId}
//	     {"workerId": "w1", "state": "SUCCESS", "outputs": {…},
//	      "logs": [{"level": "INFO", "message": "…", "timestamp": "…"}]}
//	  → 204
//
// Both need EXECUTION update: a claim hands out only task runs of
// namespaces where the caller has it, a report needs it on the
// execution's namespace. A claimed task run is held by workerId until it
// reports a terminal state (RUNNING renews the hold; a hold not renewed
// for ten minutes may be claimed by another worker). Claimed properties
// are rendered, secret() values included, because the worker needs them;
// everything a worker reports is masked before it is stored.

// workerRoutes registers the worker API.
func (s *Server) workerRoutes() {
	s.kestra(fiber.MethodPost, "/worker/claim", policy.ResExecution, policy.VerbUpdate, s.handleWorkerClaim)
	s.kestra(fiber.MethodPost, "/worker/executions/:id/taskruns/:taskRunId", policy.ResExecution, policy.VerbUpdate, s.handleWorkerReport)
}

func (s *Server) workerRunner() (*worker.Runner, error) {
	if s.runner == nil {
		return nil, &Error{Status: fiber.StatusServiceUnavailable, Type: "unavailable_exception", Reason: "this server runs no executions"}
	}
	return s.runner, nil
}

// handleWorkerClaim answers POST /worker/claim.
func (s *Server) handleWorkerClaim(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	var in struct {
		WorkerID string   `json:"workerId"`
		Types    []string `json:"types"`
		Max      int      `json:"max"`
	}
	if err := decodeStrict(c, &in, "worker claim"); err != nil {
		return err
	}
	if in.Max < 0 || in.Max > worker.MaxClaim {
		return badRequest("illegal_argument_exception", "max must be between 1 and %d", worker.MaxClaim)
	}
	r, err := s.workerRunner()
	if err != nil {
		return err
	}
	k := kestraOf(c)
	allow := func(ns string) bool { return k.Can(policy.ResExecution, policy.VerbUpdate, ns) }
	jobs, err := r.Claim(c.UserContext(), k.tenant, in.WorkerID, in.Types, in.Max, allow)
	if err != nil {
		return err
	}
	if len(jobs) > 0 {
		ids := make([]string, len(jobs))
		for i, j := range jobs {
			ids[i] = j.ExecutionID + "/" + j.TaskRunID
		}
		// Never the properties: they may hold secret values.
		s.workerRecord(c, "worker.claim", "worker:"+in.WorkerID, fiber.StatusOK, map[string]any{"taskRuns": ids})
	}
	return c.JSON(fiber.Map{"jobs": jobs})
}

// handleWorkerReport answers POST /worker/executions/{id}/taskruns/{taskRunId}.
func (s *Server) handleWorkerReport(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	id, err := param(c, "id")
	if err != nil {
		return err
	}
	trID, err := param(c, "taskRunId")
	if err != nil {
		return err
	}
	var in struct {
		WorkerID string           `json:"workerId"`
		State    string           `json:"state"`
		Outputs  map[string]any   `json:"outputs"`
		Logs     []worker.LogLine `json:"logs"`
	}
	if err := decodeStrict(c, &in, "task run report"); err != nil {
		return err
	}
	state, err := executions.ParseState(in.State)
	if err != nil {
		return err
	}
	r, err := s.workerRunner()
	if err != nil {
		return err
	}
	k := kestraOf(c)
	e, err := executions.NewStore(k.view, s.now).Get(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := k.Allow(policy.ResExecution, policy.VerbUpdate, e.Namespace); err != nil {
		return err
	}
	if err := r.Report(c.UserContext(), k.tenant, id, trID, worker.Report{WorkerID: strings.TrimSpace(in.WorkerID),
		State: state, Outputs: in.Outputs, Logs: in.Logs}); err != nil {
		return err
	}
	if state.Terminal() {
		s.workerRecord(c, "worker.report", "execution:"+id+"/taskrun:"+trID, fiber.StatusNoContent,
			map[string]any{"state": state, "workerId": in.WorkerID})
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// workerRecord records a claim that handed out task runs, or a task run's
// end, in the audit trail (never properties, outputs or log lines).
func (s *Server) workerRecord(c *fiber.Ctx, action, target string, status int, after any) {
	k := kestraOf(c)
	rec := audit.Record{Actor: k.caller.principal.Name, ActorRoles: k.caller.roles.Names(), Tenant: k.tenant.Name(),
		Action: action, Target: target, Outcome: audit.OutcomeSuccess, Status: status, ClientIP: c.IP(), RequestID: requestID(c)}
	if raw, err := json.Marshal(after); err == nil {
		rec.After = raw
	}
	s.trail.Record(rec)
}
