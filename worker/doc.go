// Package worker runs Kestra-style executions inside tenantgate.
//
// A Runner creates executions (Create: the flow is looked up in the
// tenant, its inputs checked and typed against the flow's inputs) and
// runs them on a small pool of goroutines it owns: CREATED, RUNNING, then
// each task in order, one task run each. Two task types run in process:
// io.kestra.plugin.core.log.Log (message, a string or a list; level,
// INFO by default) writes log lines, and io.kestra.plugin.core.debug.Return
// (format) sets the output "value". Their properties are rendered with
// the expression package after plugin defaults are applied (the flow's
// pluginDefaults, then the namespace's inherited ones). Every other task
// type waits for an external worker, which claims it (Claim: the task run
// is marked as held by that worker and handed over with its rendered
// properties) and reports on it (Report: state, outputs, log lines). A
// failed task fails the execution after the flow's errors tasks have run;
// Kill moves an execution to KILLING then KILLED.
//
// The render context is what Kestra gives: flow {id, namespace,
// revision}, execution {id, startDate}, inputs, vars (the flow's
// variables, rendered), namespace (the namespace's inherited variables,
// not rendered: use render()), outputs of earlier tasks
// (outputs.<taskId>.value), labels, task {id, type}, taskrun {id}, and
// secret('KEY'), which resolves through the namespace store.
//
// Secret values never reach storage: every value of a secret the
// execution's namespace can see, and every value secret() resolved, is
// added to the execution's secrets.Masker, and log lines, outputs,
// inputs and error messages, whether the runner or an external worker
// wrote them, are masked ("******") before they are stored. The one
// place a secret value leaves the process is a claimed Job's rendered
// properties: the external worker needs them to do the task.
//
// State lives in the tenant's indices (executions.Store), so Start, after
// a restart, resumes every execution of every tenant that had not
// finished; an external task that was waiting keeps waiting. The tenant
// scoping is the tenant's system view, as for every store.
package worker
