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
	"runtime"
	"strings"
	"time"
)

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

// render turns go test -bench output into Markdown: one table per
// package, one row per benchmark, one column per reported unit.
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
	for _, p := range pkgs {
		if len(p.rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n| benchmark |", p.name)
		for _, u := range p.units {
			fmt.Fprintf(&b, " %s |", u)
		}
		b.WriteString("\n|---|")
		for range p.units {
			b.WriteString("---:|")
		}
		b.WriteString("\n")
		for _, r := range p.rows {
			fmt.Fprintf(&b, "| %s |", strings.TrimPrefix(r.name, "Benchmark"))
			for _, u := range p.units {
				fmt.Fprintf(&b, " %s |", r.metrics[u])
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
