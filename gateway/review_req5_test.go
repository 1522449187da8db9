package gateway_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/executions"
	"github.com/tenantgate/tenantgate/instance"
	"github.com/tenantgate/tenantgate/internal/testserver"
)

// Requirements review of issue 5 through the real server: the seed's
// hello_world end to end, templates of a run (vars, inputs, execution,
// outputs of Return), Kestra's DELETE kill, and the isolation matrix of
// two tenants holding the same flow id across flows, executions, logs
// and namespaces.

// seedHelloWorld is the flow of the namespace-management seed, byte for
// byte.
const seedHelloWorld = `id: hello_world
namespace: company.marketing
tasks:
  - id: log_task
    type: io.kestra.plugin.core.log.Log
    message: hi from {{ flow.namespace }}
`

func TestReviewSeedHelloWorldEndToEnd(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-a")
	dave := daveTok(t)
	r := e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", seedHelloWorld, "Content-Type", "application/x-yaml")
	mustStatus(t, r, 200)
	if src := r.JSON(t)["source"]; src != seedHelloWorld {
		t.Fatalf("source not kept byte for byte: %q", src)
	}
	r = e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/hello_world?wait=true", dave, "", nil)
	mustStatus(t, r, 200)
	x := execution(t, r)
	if x.State.Current != executions.StateSuccess || len(x.TaskRunList) != 1 || x.TaskRunList[0].TaskID != "log_task" {
		t.Fatalf("execution %s", r.Body)
	}
	for _, q := range []string{"hi from company.marketing", `"hi from company.marketing"`, "marketing"} {
		t.Run("logs/search q="+q, func(t *testing.T) {
			r := e.s.Do(t, "GET", "/api/v1/t-a/logs/search?q="+url.QueryEscape(q), dave, "", nil)
			mustStatus(t, r, 200)
			rows, total := page(t, r)
			if total != 1 || rows[0]["message"] != "hi from company.marketing" || rows[0]["executionId"] != x.ID || rows[0]["taskId"] != "log_task" {
				t.Fatalf("logs search: %s", r.Body)
			}
		})
	}
}

func TestReviewTemplatesOfARun(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-a")
	dave := daveTok(t)
	flow := `id: templ
namespace: company.marketing
variables:
  greeting: hello
  nested:
    deep: value
inputs:
  - id: who
    type: STRING
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "{{ vars.greeting }} {{ inputs.who }} from {{ flow.id }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "{{ outputs.ret.value }}; exec={{ execution.id }}; deep={{ vars.nested.deep }}"
`
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", flow, "Content-Type", "application/x-yaml"), 200)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/templ?wait=true", dave, "", map[string]any{"who": "Ann"})
	mustStatus(t, r, 200)
	x := execution(t, r)
	if x.State.Current != executions.StateSuccess || len(x.TaskRunList) != 2 || x.TaskRunList[0].Outputs["value"] != "hello Ann from templ" {
		t.Fatalf("execution %s", r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, dave, "", nil)
	mustStatus(t, r, 200)
	if got := field(jsonList(t, r), "message"); strings.Join(got, "|") != "hello Ann from templ; exec="+x.ID+"; deep=value" {
		t.Fatalf("logs %q", got)
	}
	t.Run("an undefined variable fails the run", func(t *testing.T) {
		bad := strings.NewReplacer("id: templ", "id: undef", "vars.nested.deep", "vars.nested.nope").Replace(flow)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", bad, "Content-Type", "application/x-yaml"), 200)
		r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/undef?wait=true", dave, "", map[string]any{"who": "Ann"})
		mustStatus(t, r, 200)
		if x := execution(t, r); x.State.Current != executions.StateFailed {
			t.Fatalf("execution %s", r.Body)
		}
	})
}

func TestReviewKestraDeleteKill(t *testing.T) {
	e := startExecutions(t)
	base := "/api/v1/t-a/executions/"
	r := e.s.Do(t, "POST", base+"company.team/slow", e.dave, "", nil)
	mustStatus(t, r, 200)
	x := e.waitFor(t, "t-a", execution(t, r).ID, executions.StateRunning)
	mustStatus(t, e.s.Do(t, "DELETE", base+x.ID+"/kill?isOnKillCascade=true", e.dave, "", nil), 202)
	e.waitFor(t, "t-a", x.ID, executions.StateKilled)
	mustStatus(t, e.s.Do(t, "DELETE", base+x.ID+"/kill", e.dave, "", nil), 409)
	mustStatus(t, e.s.Do(t, "GET", base+x.ID, e.dave, "", nil), 200) // a kill is not a delete
	mustStatus(t, e.s.Do(t, "DELETE", base+x.ID+"/kill?bogus=1", e.dave, "", nil), 400)
}

// TestReviewIsolationMatrix: t-a (dave) and t-b (erin) each hold
// hello_world in company.marketing, with their own namespace variables.
// Each run sees its own tenant's flow and namespace; flows, executions,
// logs and namespaces of one tenant are invisible from the other, and a
// caller with a role in one tenant only is refused the other.
func TestReviewIsolationMatrix(t *testing.T) {
	e := nsEnv(t, nsKey(t)) // t-a and t-b, dave administers both
	dave := daveTok(t)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/tenants", superTok(t), "", map[string]any{"id": "t-c", "name": "Tenant t-c", "adminUsername": "erin"}), 201)
	erin := erinTok(t)
	flow := func(who string) string {
		return "id: hello_world\nnamespace: company.marketing\ntasks:\n  - id: log_task\n    type: io.kestra.plugin.core.log.Log\n" +
			"    message: \"" + who + " {{ namespace.region }}\"\n"
	}
	type side struct {
		tenant, tok, who, region, id string
	}
	sides := []*side{{tenant: "t-a", tok: dave, who: "acme", region: "eu"}, {tenant: "t-c", tok: erin, who: "globex", region: "us"}}
	for _, s := range sides {
		p := "/api/v1/" + s.tenant
		mustStatus(t, e.s.Do(t, "POST", p+"/flows", s.tok, "", flow(s.who), "Content-Type", "application/x-yaml"), 200)
		mustStatus(t, e.s.Do(t, "POST", p+"/namespaces", s.tok, "", map[string]any{"id": "company.marketing"}), 200)
		mustStatus(t, e.s.Do(t, "PUT", p+"/namespaces/company.marketing/variables", s.tok, "", map[string]any{"region": s.region}), 200)
		r := e.s.Do(t, "POST", p+"/executions/company.marketing/hello_world?wait=true", s.tok, "", nil)
		mustStatus(t, r, 200)
		x := execution(t, r)
		if x.State.Current != executions.StateSuccess {
			t.Fatalf("%s: %s", s.tenant, r.Body)
		}
		s.id = x.ID
	}
	check := func(t *testing.T) {
		for i, s := range sides {
			o := sides[1-i]
			p := "/api/v1/" + s.tenant
			r := e.s.Do(t, "GET", p+"/flows/company.marketing/hello_world?source=true", s.tok, "", nil)
			mustStatus(t, r, 200)
			if src, _ := r.JSON(t)["source"].(string); src != flow(s.who) {
				t.Fatalf("%s flow source %q", s.tenant, src)
			}
			r = e.s.Do(t, "GET", p+"/executions/search?flowId=hello_world", s.tok, "", nil)
			mustStatus(t, r, 200)
			if rows, total := page(t, r); total != 1 || rows[0]["id"] != s.id {
				t.Fatalf("%s executions %s", s.tenant, r.Body)
			}
			mustStatus(t, e.s.Do(t, "GET", p+"/executions/"+o.id, s.tok, "", nil), 404)
			r = e.s.Do(t, "GET", p+"/logs/search", s.tok, "", nil)
			mustStatus(t, r, 200)
			if rows, total := page(t, r); total != 1 || rows[0]["message"] != s.who+" "+s.region {
				t.Fatalf("%s logs %s", s.tenant, r.Body)
			}
			r = e.s.Do(t, "GET", p+"/namespaces/company.marketing/variables", s.tok, "", nil)
			mustStatus(t, r, 200)
			if r.JSON(t)["region"] != s.region {
				t.Fatalf("%s variables %s", s.tenant, r.Body)
			}
			nsWant(t, nsList(t, e.s.Do(t, "GET", p+"/namespaces", s.tok, "", nil)), []string{"company (placeholder)", "company.marketing"})
			// The other tenant's caller is refused here, on every kind of thing.
			for _, path := range []string{"/flows/company.marketing/hello_world", "/flows/search", "/executions/" + s.id, "/executions/search",
				"/logs/" + s.id, "/logs/search", "/namespaces", "/namespaces/company.marketing/variables", "/namespaces/company.marketing/secrets"} {
				mustStatus(t, e.s.Do(t, "GET", p+path, o.tok, "", nil), 403)
			}
			mustStatus(t, e.s.Do(t, "POST", p+"/executions/company.marketing/hello_world", o.tok, "", nil), 403)
			mustStatus(t, e.s.Do(t, "POST", p+"/executions/"+s.id+"/kill", o.tok, "", nil), 403)
		}
	}
	t.Run("each tenant sees its own", check)
	t.Run("deleting one tenant's flow leaves the other's", func(t *testing.T) {
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", strings.Replace(flow("acme"), "hello_world", "gone", 1), "Content-Type", "application/x-yaml"), 200)
		mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-c/flows", erin, "", strings.Replace(flow("globex"), "hello_world", "gone", 1), "Content-Type", "application/x-yaml"), 200)
		mustStatus(t, e.s.Do(t, "DELETE", "/api/v1/t-a/flows/company.marketing/gone", dave, "", nil), 204)
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-a/flows/company.marketing/gone", dave, "", nil), 404)
		mustStatus(t, e.s.Do(t, "GET", "/api/v1/t-c/flows/company.marketing/gone", erin, "", nil), 200)
	})
	top := t
	t.Run("a restart keeps it all apart", func(t *testing.T) {
		e.s.Stop()
		e.s = testserver.StartWith(top, e.cfg, instance.Options{Clock: e.clk.Now})
		check(t)
	})
}

// TestReviewSecretMaskedEverywhere: a secret a flow reads with secret()
// is ****** in a Return's output, in the execution response, in its
// logs (also when a filter fails on it) and in the audit trail. Masking
// replaces the value itself, as Kestra's does: a transformed value
// (upper, base64, a slice) is not recognised.
func TestReviewSecretMaskedEverywhere(t *testing.T) {
	e := nsEnv(t, nsKey(t))
	dave := daveTok(t)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/namespaces", dave, "", map[string]any{"id": "company"}), 200)
	mustStatus(t, e.s.Do(t, "PUT", "/api/v1/t-a/namespaces/company/secrets/DB", dave, "", map[string]any{"value": secretValues[1]}), 200)
	flow := `id: leak
namespace: company.marketing
tasks:
  - id: ret
    type: io.kestra.plugin.core.debug.Return
    format: "pw={{ secret('DB') }}"
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "again {{ outputs.ret.value }} and {{ secret('DB') | upper }} {{ secret('DB') }}"
`
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", flow, "Content-Type", "application/x-yaml"), 200)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/leak?wait=true", dave, "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the execution", r.Body)
	x := execution(t, r)
	if x.State.Current != executions.StateSuccess || x.TaskRunList[0].Outputs["value"] != "pw=******" {
		t.Fatalf("execution %s", r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, dave, "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the logs", r.Body)
	if got := field(jsonList(t, r), "message"); len(got) != 1 || !strings.HasPrefix(got[0], "again pw=****** and ") || !strings.HasSuffix(got[0], " ******") {
		t.Fatalf("logs %q", got)
	}

	bad := strings.NewReplacer("id: leak", "id: leak2", "| upper", "| nonesuch").Replace(flow)
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", bad, "Content-Type", "application/x-yaml"), 200)
	r = e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/leak2?wait=true", dave, "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the failed execution", r.Body)
	if x = execution(t, r); x.State.Current != executions.StateFailed {
		t.Fatalf("execution %s", r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID+"?minLevel=ERROR", dave, "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the failed run's logs", r.Body)
	if len(jsonList(t, r)) == 0 {
		t.Fatalf("no error logged: %s", r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/audit?size=500", superTok(t), "", nil)
	mustStatus(t, r, 200)
	noSecretIn(t, "the audit trail", r.Body)
}

// TestReviewFlowVariablesAreNotRecursive: as in Kestra since 0.14, a
// flow variable holding an expression is plain text in {{ vars.x }} and
// evaluated by render(); a variable the run cannot evaluate does not
// fail tasks that do not render it.
func TestReviewFlowVariablesAreNotRecursive(t *testing.T) {
	e := startAdmin(t)
	e.createTenant(t, "t-a")
	dave := daveTok(t)
	flow := `id: rec
namespace: company.marketing
variables:
  who: "{{ flow.id }}"
  later: "{{ trigger.date }}"
tasks:
  - id: log
    type: io.kestra.plugin.core.log.Log
    message: "raw={{ vars.who }} rendered={{ render(vars.who) }}"
`
	mustStatus(t, e.s.Do(t, "POST", "/api/v1/t-a/flows", dave, "", flow, "Content-Type", "application/x-yaml"), 200)
	r := e.s.Do(t, "POST", "/api/v1/t-a/executions/company.marketing/rec?wait=true", dave, "", nil)
	mustStatus(t, r, 200)
	x := execution(t, r)
	if x.State.Current != executions.StateSuccess {
		t.Fatalf("execution %s", r.Body)
	}
	r = e.s.Do(t, "GET", "/api/v1/t-a/logs/"+x.ID, dave, "", nil)
	mustStatus(t, r, 200)
	if got := field(jsonList(t, r), "message"); strings.Join(got, "|") != "raw={{ flow.id }} rendered=rec" {
		t.Fatalf("logs %q", got)
	}
}
