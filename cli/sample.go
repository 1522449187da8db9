package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tenantgate/tenantgate/sample"
)

const sampleUsage = `Usage:
  tenantgate sample load --tenant TENANT [--set weblogs|nginx] [--server URL] [--token TOKEN] [--fixtures DIR]

Loads a sample data set into a tenant of a running gateway: its index
template, its documents (POST /_bulk in batches) and its saved objects
(POST /api/saved_objects/_import?overwrite=true), then prints the
dashboard's URL. Loading again overwrites the same documents and objects.

Sets:
  weblogs   generated web server logs of the last 7 days and the dashboard "[Sample] Web logs"
  nginx     the OpenSearch catalog's 990 nginx logs and "Nginx Logs Overview" (needs --fixtures)

Flags:
`

// sampleCmd runs "tenantgate sample load".
func sampleCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "load" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, strings.SplitN(sampleUsage, "\nFlags:", 2)[0])
			return nil
		}
		return usageError{errors.New("sample: the subcommand is \"load\" (tenantgate sample load --tenant TENANT)")}
	}
	fs := newFlags("sample load", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sampleUsage)
		fs.PrintDefaults()
	}
	tenant := fs.String("tenant", "", "the tenant to load into (required)")
	set := fs.String("set", "weblogs", "the data set: weblogs or nginx")
	server := fs.String("server", "http://127.0.0.1:5601", "the gateway's URL")
	token := fs.String("token", "", "bearer token of a user who may write in the tenant (or TENANTGATE_TOKEN)")
	fixtures := fs.String("fixtures", "", "folder of OpenSearch Dashboards exports holding nginx-1.0.0.ndjson and nginx-sample/ (for --set nginx)")
	batch := fs.Int("batch", sample.DefaultBatchSize, "documents per _bulk request")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError{errors.New("sample load: --tenant is required")}
	}
	if *token == "" {
		*token = os.Getenv("TENANTGATE_TOKEN")
	}
	if *token == "" {
		return usageError{errors.New("sample load: a token is required (--token or TENANTGATE_TOKEN; mint one with tenantgate token)")}
	}
	if *batch <= 0 {
		return usageError{errors.New("sample load: --batch must be positive")}
	}
	s, err := sample.Open(*set, sample.Options{FixturesDir: *fixtures})
	if errors.Is(err, sample.ErrInvalid) {
		return usageError{fmt.Errorf("sample load: %w", err)}
	}
	if err != nil {
		return err
	}
	for _, n := range s.Notes {
		fmt.Fprintf(stdout, "note: %s\n", n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	c := &sample.Client{Server: *server, Token: *token, Tenant: *tenant, BatchSize: *batch,
		HTTP: &http.Client{Timeout: 2 * time.Minute}}
	res, err := c.Load(ctx, s)
	if res != nil && res.Docs > 0 {
		fmt.Fprintf(stdout, "loaded %d documents into %s (index template %s) in tenant %s\n", res.Docs, res.Index, res.Template, *tenant)
	}
	if err != nil {
		return fmt.Errorf("sample load: %w", err)
	}
	fmt.Fprintf(stdout, "imported %d saved objects\n", res.Objects)
	fmt.Fprintf(stdout, "dashboard: %s%s\n", strings.TrimRight(*server, "/"), res.DashboardURL)
	return nil
}
