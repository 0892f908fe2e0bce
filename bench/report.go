package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"
)

// row is one scenario at one concurrency: every round's gateway run and
// the ceiling measured beside it, and the floor server's runs for a
// scenario that has one.
type row struct {
	scenario string
	clients  int
	gateway  []runResult
	ceiling  []ceilingResult
	floor    []runResult
}

func (r row) median() runResult      { return medianRun(r.gateway) }
func (r row) floorMedian() runResult { return medianRun(r.floor) }

// medianRun picks the run with the median throughput (its latencies and
// CPU go with it).
func medianRun(runs []runResult) runResult {
	runs = append([]runResult(nil), runs...)
	sort.Slice(runs, func(i, j int) bool { return runs[i].tps() < runs[j].tps() })
	return runs[len(runs)/2]
}

func (r row) ceilingMedian() ceilingResult {
	c := append([]ceilingResult(nil), r.ceiling...)
	sort.Slice(c, func(i, j int) bool { return c[i].tps < c[j].tps })
	return c[len(c)/2]
}

// ratio is the median of per-round ratios (each to the ceiling beside it).
func (r row) ratio() float64 {
	return medianRatio(len(r.gateway), func(i int) float64 { return r.gateway[i].tps() / r.ceiling[i].tps })
}

// floorRatio is ratio for the floor server's runs.
func (r row) floorRatio() float64 {
	return medianRatio(len(r.floor), func(i int) float64 { return r.floor[i].tps() / r.ceiling[i].tps })
}

// gatewayToFloor is the median of each round's gateway tx/s over its floor's.
func (r row) gatewayToFloor() float64 {
	return medianRatio(len(r.floor), func(i int) float64 { return r.gateway[i].tps() / r.floor[i].tps() })
}

// medianRatio is the median of round(i) over n rounds.
func medianRatio(n int, round func(i int) float64) float64 {
	ratios := make([]float64, n)
	for i := range ratios {
		ratios[i] = round(i)
	}
	sort.Float64s(ratios)
	return ratios[len(ratios)/2]
}

func (r row) errors() string { return errorsOf(r.gateway) }

// errorsOf sums the runs' errors by code.
func errorsOf(runs []runResult) string {
	total := map[string]int{}
	for _, g := range runs {
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
	m, c := r.median(), r.ceilingMedian()
	s := fmt.Sprintf("%7.0f tx/s  p50 %6s  p99 %6s  errors %s  ceiling %6.0f tx/s  p50 %6s  p99 %6s  ratio %.2f",
		m.tps(), ms(m.p50), ms(m.p99), r.errors(), c.tps, ms(c.p50), ms(c.p99), r.ratio())
	if len(r.floor) > 0 {
		f := r.floorMedian()
		s += fmt.Sprintf("  floor %6.0f tx/s  p50 %6s  p99 %6s  ratio %.2f", f.tps(), ms(f.p50), ms(f.p99), r.floorRatio())
	}
	return s
}

// ms shows a latency in milliseconds, to 10 µs below 1 ms.
func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
}

// perRequest is CPU time per successful request, in µs.
func perRequest(d time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(n))
}

// cpuCells are the CPU table's cells after the scenario and clients.
func cpuCells(run string, tps float64, u cpuUse, n int) string {
	gw := "–"
	if run != "pgbench" { // the gateway, or the floor server
		gw = perRequest(u.gateway, n)
	}
	return fmt.Sprintf("%s | %.0f | %.0f%% | %s | %s | %s | %s | %s", run, tps, 100*u.busy,
		perRequest(u.machine, n), perRequest(u.pg, n), gw, perRequest(u.client, n),
		perRequest(u.machine-u.pg-u.gateway-u.client, n))
}

const legend = `Columns: **tx/s** is successful requests per second through the gateway (closed loop: each client sends its next request when the previous one is answered; a usage-batch request records 100 events, and a hold-hot unit is a hold's lifecycle of 6 mutations, createHold and 5 captures, as is its ceiling's script); **p50**/**p99** are their latencies as the load generator sees them; **ceiling** is the pgbench script doing the least SQL the same request needs (a write as one transaction; read-balance one wallet row, read-history one account's newest 50 postings) on tables of the same shape, with the same clients, and **ceiling p50/p99** are the latencies pgbench logged for each of its transactions (but each client's first, which starts a cold backend and prepares the statements, while the gateway's pool is warm); **ratio** is gateway tx/s over ceiling tx/s.

The CPU table says what bounds each figure, for the median run of each side: CPU time in µs per successful request (per transaction for the ceiling), measured from the kernel's counters over the run (a ceiling run's include pgbench opening its connections). **machine busy** is the share of all %d cores' time that was not idle; **machine** is all cores' busy time; **PostgreSQL** is every postgres process (backends, background writers, and the backends that exited during the run); **gateway** is the gateway process; **client** is the load generator (this process: HTTP client, JSON, latency bookkeeping) or pgbench; **rest** is the machine's remainder: the kernel's interrupt work and anything else running on the host (other benchmarks on a shared machine show up here, and in PostgreSQL if they use the same server); the kernel samples the machine's busy time at each clock tick while it keeps each process's time exactly, so with short bursts of work (lock waits on a hot account) rest can come out a little below zero. A machine busy near 100%% means the cores, not the gateway's design, bound the throughput at that concurrency, and the columns say who spent them.
`

const floorLegend = `**HTTP floor**: the same load (clients, requests, duration) against a plain net/http server in a process of its own, without middleware, that reads each request's body and answers the bytes the gateway answered to one balance read, over the same keep-alive HTTP/1.1 on loopback: what the HTTP layer alone costs this machine. Its runs alternate with the others (gateway, ceiling, floor in each round). **ratio** is floor tx/s over the ceiling of the same round; **gateway/floor** the gateway's tx/s over the floor's, in the same round; **server** and **client** are CPU µs per request of the floor process and the load generator (in the CPU table, the floor row's gateway column is the floor server).
`

func report(rows []row, o options) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# creditgate benchmark\n\n%s\n\n", machine())
	fmt.Fprintf(&b, "Each figure is the median of %d rounds of %s; gateway and pgbench ceiling runs alternate (A B A B ...), and the ratio is the median of each round's gateway tx/s over the ceiling measured right after it. All %d seeded accounts verified after the runs.\n\n", o.rounds, o.duration, o.accounts)
	fmt.Fprintf(&b, legend+"\n", runtime.NumCPU())
	b.WriteString("| scenario | clients | tx/s | p50 | p99 | errors | ceiling tx/s | ceiling p50 | ceiling p99 | ratio |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		m, c := r.median(), r.ceilingMedian()
		fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %.0f | %s | %s | %.2f |\n", r.scenario, r.clients, m.tps(), ms(m.p50), ms(m.p99), r.errors(), c.tps, ms(c.p50), ms(c.p99), r.ratio())
	}
	if i := slices.IndexFunc(rows, func(r row) bool { return len(r.floor) > 0 }); i >= 0 {
		b.WriteString("\n" + floorLegend + "\n| scenario | clients | floor tx/s | p50 | p99 | errors | ratio | gateway/floor | server µs | client µs |\n|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n")
		for _, r := range rows[i:] {
			if len(r.floor) == 0 {
				continue
			}
			f := r.floorMedian()
			fmt.Fprintf(&b, "| %s | %d | %.0f | %s | %s | %s | %.2f | %.2f | %s | %s |\n", r.scenario, r.clients, f.tps(), ms(f.p50), ms(f.p99),
				errorsOf(r.floor), r.floorRatio(), r.gatewayToFloor(), perRequest(f.cpu.gateway, f.ok), perRequest(f.cpu.client, f.ok))
		}
	}
	b.WriteString("\nCPU µs per request:\n\n| scenario | clients | run | tx/s | machine busy | machine | PostgreSQL | gateway | client | rest |\n|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		m, c := r.median(), r.ceilingMedian()
		fmt.Fprintf(&b, "| %s | %d | %s |\n", r.scenario, r.clients, cpuCells("gateway", m.tps(), m.cpu, m.ok))
		fmt.Fprintf(&b, "| %s | %d | %s |\n", r.scenario, r.clients, cpuCells("pgbench", c.tps, c.cpu, c.n))
		if len(r.floor) > 0 {
			f := r.floorMedian()
			fmt.Fprintf(&b, "| %s | %d | %s |\n", r.scenario, r.clients, cpuCells("floor", f.tps(), f.cpu, f.ok))
		}
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
