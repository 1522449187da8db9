package gateway

import (
	"bytes"
	"fmt"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/tenantgate/tenantgate/dashboards"
	"github.com/tenantgate/tenantgate/index"
	"github.com/tenantgate/tenantgate/sample"
)

// sampleBatch is how many sample documents one Apply call writes.
const sampleBatch = 500

// sampleDataResult is the answer of POST /api/sample_data/{set}.
type sampleDataResult struct {
	Set     string `json:"set"`
	Index   string `json:"index"`
	Docs    int    `json:"docs"`
	Objects int    `json:"objects"`
	// Dashboard is the id of the set's dashboard; URL opens it over the
	// time span of the loaded documents.
	Dashboard string         `json:"dashboard"`
	URL       string         `json:"url"`
	Time      sampleDataTime `json:"time"`
}

type sampleDataTime struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// handleSampleData is POST /api/sample_data/{set} (tenantgate's extension;
// set is "weblogs"): it loads the generated web logs, their index template
// and saved objects into the request's tenant, in process, through the
// tenant's index view and saved objects. Documents have fixed ids and
// objects are imported with overwrite, so loading again replaces the set
// (with timestamps ending at the current minute) instead of adding to it.
func (s *Server) handleSampleData(c *fiber.Ctx) error {
	if err := checkParams(c); err != nil {
		return err
	}
	name, err := param(c, "set")
	if err != nil {
		return err
	}
	if name != "weblogs" {
		return &Error{Status: fiber.StatusNotFound, Type: "not_found",
			Reason: fmt.Sprintf("unknown sample data set [%s] (known: weblogs)", name)}
	}
	now := time.Now().UTC().Truncate(time.Minute)
	set, err := sample.Weblogs(sample.WeblogOptions{Now: now})
	if err != nil {
		return err
	}
	sc := scopeOf(c)
	ctx := c.UserContext()
	tmpl, err := parseTemplate(set.TemplateName, set.Template)
	if err != nil {
		return fmt.Errorf("the %s sample's index template: %w", set.Name, err)
	}
	if err := sc.view.PutTemplate(ctx, tmpl); err != nil {
		return err
	}
	res := sampleDataResult{Set: set.Name, Index: set.Index, Dashboard: set.DashboardID,
		Time: sampleDataTime{
			From: now.AddDate(0, 0, -sample.DefaultWeblogDays).Format(time.RFC3339),
			To:   now.Format(time.RFC3339),
		}}
	for start := 0; start < len(set.Docs); start += sampleBatch {
		end := min(start+sampleBatch, len(set.Docs))
		ops := make([]index.Op, 0, end-start)
		for i := start; i < end; i++ {
			ops = append(ops, index.Op{Type: index.OpIndex, ID: set.IDs[i], Source: set.Docs[i]})
		}
		results, err := sc.view.Apply(ctx, set.Index, ops)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Err != nil {
				return fmt.Errorf("indexing sample document %s: %w", r.ID, r.Err)
			}
		}
		res.Docs += len(results)
	}
	objs, err := dashboards.ReadNDJSON(bytes.NewReader(set.Objects))
	if err != nil {
		return fmt.Errorf("the %s sample's saved objects: %w", set.Name, err)
	}
	imp, err := s.savedObjects(c).Import(ctx, objs, dashboards.ImportOptions{Overwrite: true})
	if err != nil {
		return err
	}
	if !imp.Success {
		return fmt.Errorf("importing the %s sample's saved objects: %d imported, errors %+v", set.Name, imp.SuccessCount, imp.Errors)
	}
	res.Objects = imp.SuccessCount
	g := fmt.Sprintf("(time:(from:'%s',to:'%s'))", res.Time.From, res.Time.To)
	res.URL = fmt.Sprintf("/app/dashboards/view/%s?security_tenant=%s&_g=%s",
		url.PathEscape(set.DashboardID), url.QueryEscape(dashboards.TenantParam(sc.tenant)), url.QueryEscape(g))
	return sendObject(c, fiber.StatusOK, res)
}
