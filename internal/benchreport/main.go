// Command benchreport runs the project's Go benchmarks and writes their
// results as Markdown tables, with the machine and the command that
// produced them. `make bench` calls it.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/config"
)

// target is one performance goal and the benchmark row and metric that
// measure it.
type target struct {
	// goal says what is promised, for the reader.
	goal string
	// row matches benchmark names without "Benchmark" and the -GOMAXPROCS
	// suffix (path.Match syntax: "*" stops at "/").
	row    string
	metric string
	// cmp is ">=" or "<="; empty means no target, the row is shown for
	// information.
	cmp   string
	limit float64
	note  string
}

// targets are the goals BENCHMARKS.md checks, in the order shown.
var targets = []target{
	{goal: "Search through the gateway on a 100k-doc tenant keeps ≥ 95% of in-process back-end throughput",
		row: "Search/docs=100k/gateway", metric: "ratio-%", cmp: ">=", limit: 95},
	{goal: "CPU the gateway adds per search request ≤ 30 µs (100k-doc tenant)",
		row: "Search/docs=100k/gateway", metric: "added-cpu-µs", cmp: "<=", limit: 30,
		note: "includes the in-process client; http-floor's cpu-µs/req is HTTP alone"},
	{goal: "CPU the gateway adds per search request ≤ 30 µs (1k-doc tenant)",
		row: "Search/docs=1k/gateway", metric: "added-cpu-µs", cmp: "<=", limit: 30,
		note: "includes the in-process client; http-floor's cpu-µs/req is HTTP alone"},
	{goal: "Search through the gateway on a 1k-doc tenant, share of back-end throughput",
		row: "Search/docs=1k/gateway", metric: "ratio-%"},
	{goal: "Bulk ingest through POST /_bulk keeps ≥ 90% of raw Bleve docs/s",
		row: "Bulk/gateway", metric: "ratio-%", cmp: ">=", limit: 90},
	{goal: "Bulk ingest through Backend.Apply in-process, share of raw Bleve docs/s",
		row: "Bulk/backend", metric: "ratio-%"},
	{goal: "Warm open of a closed tenant index: p99 ≤ 20 ms",
		row: "OpenClose/indices=*", metric: "open-p99-ms", cmp: "<=", limit: 20},
	{goal: "Live heap per open idle tenant index ≤ 100 KB",
		row: "OpenClose/indices=*", metric: "heap-KB/index", cmp: "<=", limit: 100},
	{goal: "Authorization decision p99 ≤ 50 µs, cached, 10 tenants",
		row: "Allowed/tenants=10/cached", metric: "p99-ns", cmp: "<=", limit: 50000},
	{goal: "Authorization decision p99 ≤ 50 µs, cached, 100k tenants (flat)",
		row: "Allowed/tenants=100k/cached", metric: "p99-ns", cmp: "<=", limit: 50000},
	{goal: "A cached authorization decision allocates nothing (100k tenants)",
		row: "Allowed/tenants=100k/cached", metric: "allocs/op", cmp: "<=", limit: 0},
	{goal: "Authorization decision p99 ≤ 50 µs, first decision (cache miss), 10 tenants",
		row: "Allowed/tenants=10/uncached", metric: "p99-ns", cmp: "<=", limit: 50000},
	{goal: "Authorization decision p99 ≤ 50 µs, first decision (cache miss), 100k tenants",
		row: "Allowed/tenants=100k/uncached", metric: "p99-ns", cmp: "<=", limit: 50000},
	{goal: "API-token authentication ≤ 5 µs per request (under an uncached HS256 JWT's ~7 µs)",
		row: "Authenticate/api-token", metric: "ns/op", cmp: "<=", limit: 5000},
	{goal: "Password (HTTP Basic) authentication with a warm cache ≤ 5 µs per request (no bcrypt)",
		row: "Authenticate/password-cached", metric: "ns/op", cmp: "<=", limit: 5000},
	{goal: "Snapshot throughput, unthrottled (snapshot.max_bytes_per_sec 0), ≥ 80% of a plain copy + fsync of the same index files",
		row: "Snapshot/throughput/max_bytes_per_sec=0", metric: "ratio-%", cmp: ">=", limit: 80,
		note: "snapshot-MB/s and copy-MB/s in the gateway section"},
	{goal: "p99 write latency while snapshots run at the default snapshot.max_bytes_per_sec ≤ 20% worse than without",
		row: "Snapshot/write-latency/max_bytes_per_sec=" + config.DefaultSnapshotBytesPerSec, metric: "p99-worse-%", cmp: "<=", limit: 20,
		note: "snapshots back to back during the measured stretches"},
	{goal: "p99 write latency while unthrottled snapshots run, worse than without",
		row: "Snapshot/write-latency/max_bytes_per_sec=0", metric: "p99-worse-%",
		note: "for comparison; write-latency-copy: the same with plain copies + fsync"},
}

// procSuffix is the -GOMAXPROCS suffix go test appends to benchmark names.
var procSuffix = regexp.MustCompile(`-\d+$`)

// benchFunc returns the benchmark function a benchmark line belongs to
// ("Search" for "BenchmarkSearch/docs=1k/gateway-2").
func benchFunc(name string) string {
	name = strings.TrimPrefix(name, "Benchmark")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return procSuffix.ReplaceAllString(name, "")
}

// rowName returns a benchmark name as targets match it.
func rowName(benchmark string) string {
	return procSuffix.ReplaceAllString(strings.TrimPrefix(benchmark, "Benchmark"), "")
}

func main() {
	out := flag.String("out", "BENCHMARKS.md", "Markdown file to write")
	benchtime := flag.String("benchtime", "1s", "go test -benchtime")
	pattern := flag.String("bench", ".", "go test -bench pattern")
	pkgs := flag.String("pkgs", "./...", "packages to benchmark")
	flag.Parse()

	args := []string{"test", "-run", "^$", "-bench", *pattern, "-benchmem", "-benchtime", *benchtime, "-timeout", "60m", *pkgs}
	cmd := exec.Command("go", args...)
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(os.Stdout, &buf)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport: go test failed:", err)
		os.Exit(1)
	}
	md := render(buf.String(), "go "+strings.Join(args, " "), time.Since(start))
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", *out)
}

// render turns go test -bench output into Markdown: a Targets section,
// then per package one table per benchmark function, one row per
// (sub-)benchmark, one column per unit its rows report.
func render(output, command string, took time.Duration) string {
	type row struct {
		name    string
		metrics map[string]string
	}
	type pkg struct {
		name  string
		units []string
		rows  []row
	}
	var pkgs []*pkg
	var cur *pkg
	cpu := ""
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "pkg: "):
			cur = &pkg{name: strings.TrimPrefix(line, "pkg: ")}
			pkgs = append(pkgs, cur)
		case strings.HasPrefix(line, "cpu: "):
			cpu = strings.TrimPrefix(line, "cpu: ")
		case strings.HasPrefix(line, "Benchmark") && cur != nil:
			f := strings.Fields(line)
			if len(f) < 4 {
				continue
			}
			r := row{name: f[0], metrics: map[string]string{}}
			for i := 2; i+1 < len(f); i += 2 {
				unit := f[i+1]
				if _, seen := r.metrics[unit]; !seen && !contains(cur.units, unit) {
					cur.units = append(cur.units, unit)
				}
				r.metrics[unit] = f[i]
			}
			cur.rows = append(cur.rows, r)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nWritten by `make bench` on %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Machine: %d cores (GOMAXPROCS %d), %s, %s/%s, %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), cpu, runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "- Command: `%s` (took %s)\n", command, took.Round(time.Second))
	b.WriteString("- The machine is shared and noisy: compare rows of one run (gateway against in-process Bleve), not runs against each other.\n")
	b.WriteString("- Column meanings are in each benchmark's doc comment; `ns/op` is per benchmark iteration, which the benchmark itself defines.\n\n")
	var all []row
	for _, p := range pkgs {
		all = append(all, p.rows...)
	}
	writeTargets(&b, func(pattern, metric string) (string, string, bool) {
		for _, r := range all {
			if ok, _ := path.Match(pattern, rowName(r.name)); ok {
				v, has := r.metrics[metric]
				return rowName(r.name), v, has
			}
		}
		return "", "", false
	})
	for _, p := range pkgs {
		if len(p.rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n", p.name)
		// One table per benchmark function, so that each has only the
		// columns its rows report.
		for len(p.rows) > 0 {
			fn := benchFunc(p.rows[0].name)
			var rows []row
			var units []string
			rest := p.rows[:0:0]
			for _, r := range p.rows {
				if benchFunc(r.name) != fn {
					rest = append(rest, r)
					continue
				}
				rows = append(rows, r)
				for _, u := range p.units {
					if _, ok := r.metrics[u]; ok && !contains(units, u) {
						units = append(units, u)
					}
				}
			}
			p.rows = rest
			fmt.Fprintf(&b, "### %s\n\n| benchmark |", fn)
			for _, u := range units {
				fmt.Fprintf(&b, " %s |", u)
			}
			b.WriteString("\n|---|")
			for range units {
				b.WriteString("---:|")
			}
			b.WriteString("\n")
			for _, r := range rows {
				fmt.Fprintf(&b, "| %s |", strings.TrimPrefix(r.name, "Benchmark"))
				for _, u := range units {
					fmt.Fprintf(&b, " %s |", r.metrics[u])
				}
				b.WriteString("\n")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// writeTargets writes the Targets section: each goal, the row and metric
// measuring it, the measured value and whether the goal is met.
func writeTargets(b *strings.Builder, lookup func(pattern, metric string) (row, value string, ok bool)) {
	b.WriteString("## Targets\n\n| goal | row | metric | target | measured | |\n|---|---|---|---:|---:|---|\n")
	for _, t := range targets {
		row, v, ok := lookup(t.row, t.metric)
		if row == "" {
			row = t.row
		}
		want, verdict := "—", "information"
		if t.cmp != "" {
			want = t.cmp + " " + strconv.FormatFloat(t.limit, 'f', -1, 64)
		}
		switch {
		case !ok:
			v, verdict = "—", "not run"
		case t.cmp != "":
			x, err := strconv.ParseFloat(v, 64)
			met := err == nil && (t.cmp == ">=" && x >= t.limit || t.cmp == "<=" && x <= t.limit)
			verdict = "**missed**"
			if met {
				verdict = "met"
			}
		}
		if t.note != "" {
			verdict += " (" + t.note + ")"
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s |\n", t.goal, row, t.metric, want, v, verdict)
	}
	b.WriteString("\nOne run on a shared machine: a row a few percent from its target may land on either side in the next run.\n\n")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
