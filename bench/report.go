package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// row is one scenario at one concurrency: every round's gateway run and
// the ceiling measured beside it.
type row struct {
	scenario string
	clients  int
	gateway  []runResult
	ceiling  []float64
}

// median picks the run with the median throughput (its latencies go with it).
func (r row) median() runResult {
	runs := append([]runResult(nil), r.gateway...)
	sort.Slice(runs, func(i, j int) bool { return runs[i].tps() < runs[j].tps() })
	return runs[len(runs)/2]
}

func (r row) ceilingMedian() float64 {
	if len(r.ceiling) == 0 {
		return 0
	}
	c := append([]float64(nil), r.ceiling...)
	sort.Float64s(c)
	return c[len(c)/2]
}

// ratio is the median of per-round ratios (each to the ceiling beside it).
func (r row) ratio() float64 {
	if len(r.ceiling) == 0 {
		return 0
	}
	ratios := make([]float64, len(r.gateway))
	for i, g := range r.gateway {
		ratios[i] = g.tps() / r.ceiling[i]
	}
	sort.Float64s(ratios)
	return ratios[len(ratios)/2]
}

func (r row) errors() string {
	total := map[string]int{}
	for _, g := range r.gateway {
		for k, v := range g.errors {
			total[k] += v
		}
	}
	if len(total) == 0 {
		return "0"
	}
	var parts []string
	for k, v := range total {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func (r row) summary() string {
	m := r.median()
	s := fmt.Sprintf("%7.0f tx/s  p50 %6s  p99 %6s  errors %s", m.tps(), ms(m.p50), ms(m.p99), r.errors())
	if c := r.ceilingMedian(); c > 0 {
		s += fmt.Sprintf("  ceiling %6.0f tx/s  ratio %.2f", c, r.ratio())
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

func report(rows []row, o options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# creditgate benchmark\n\n%s\n\n", machine())
	fmt.Fprintf(&b, "Each figure is the median of %d rounds of %s; gateway and pgbench ceiling runs alternate (A B A B ...), and the ratio is the median of each round's gateway tx/s over the ceiling measured right after it. All %d seeded accounts verified after the runs.\n\n", o.rounds, o.duration, o.accounts)
	b.WriteString("| scenario | clients | tx/s | p50 | p99 | errors | ceiling tx/s | ratio |\n|---|---:|---:|---:|---:|---|---:|---:|\n")
	for _, r := range rows {
		m := r.median()
		c, ratio := "", ""
		if v := r.ceilingMedian(); v > 0 {
			c, ratio = fmt.Sprintf("%.0f", v), fmt.Sprintf("%.2f", r.ratio())
		}
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %s | %s |\n", r.scenario, r.clients, m.tps(), ms(m.p50), ms(m.p99), r.errors(), c, ratio)
	}
	fmt.Print("\n" + b.String())
	return os.WriteFile(o.out, []byte(b.String()), 0o644)
}

func machine() string {
	cpu := "unknown CPU"
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	pg := "PostgreSQL"
	if out, err := exec.Command("pgbench", "--version").Output(); err == nil {
		pg = strings.TrimSpace(string(out))
	}
	return fmt.Sprintf("Machine: %d cores (%s), %s, %s, %s; %s.", runtime.NumCPU(), cpu, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, pg, time.Now().UTC().Format("2006-01-02"))
}
