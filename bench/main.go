// Command bench measures the gateway against the raw-SQL ceiling of this
// machine: each scenario runs through a real gateway (HTTP, JWT, GraphQL,
// the domain, PostgreSQL) and then as a pgbench script doing the minimum
// SQL the same request needs, alternately (A B A B …); every figure is
// reported beside the ceiling's throughput and latencies, with the CPU time
// per request of PostgreSQL, the gateway and the load generator.
//
//	go run ./bench [-scenarios pay-spread,pay-hot] [-clients 1,8,32,64] [-duration 4s] [-rounds 3]
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"
)

type options struct {
	adminURL  string
	scenarios []string
	clients   []int
	duration  time.Duration
	rounds    int
	accounts  int
	out       string
	apq       bool   // send persisted query hashes, as mobile clients do
	profile   string // directory for a gateway CPU profile of each figure's first round
}

func main() {
	// The same binary, re-executed, is the floor server (floor.go).
	if answer := os.Getenv(floorEnv); answer != "" {
		if err := serveFloor(answer); err != nil {
			fmt.Fprintln(os.Stderr, "bench floor server:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	var scen, clients string
	flag.StringVar(&o.adminURL, "db", envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL URL of a database from which a fresh bench database is created")
	flag.StringVar(&scen, "scenarios", "pay-spread,pay-hot,buy-service-spread,buy-service-hot,read-balance,read-history,usage-single,usage-batch,hold-hot", "scenarios to run")
	flag.StringVar(&clients, "clients", "1,8,32,64", "concurrent clients for write scenarios")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of each run")
	flag.IntVar(&o.rounds, "rounds", 3, "A/B rounds per figure (median reported)")
	flag.IntVar(&o.accounts, "accounts", 10000, "funded client accounts for the spread scenarios")
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "Markdown report")
	flag.BoolVar(&o.apq, "apq", true, "send automatic persisted query hashes instead of query text (as mobile clients do)")
	flag.StringVar(&o.profile, "cpuprofile", "", "directory: write a gateway CPU profile (pprof) of each figure's first round there")
	flag.Parse()
	o.scenarios = strings.Split(scen, ",")
	for _, c := range strings.Split(clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 {
			log.Fatalf("-clients: %q is not a positive number", c)
		}
		o.clients = append(o.clients, n)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, o options) error {
	env, err := setup(ctx, o)
	if err != nil {
		return err
	}
	defer env.close()
	// Every seeded client is seen once before anything is measured, as a
	// running gateway's clients have been: a token's first request checks
	// its account in the database (once per process), which would
	// otherwise be charged to whichever scenario first meets the token.
	if _, err := env.loadGateway(ctx, scenarios["read-balance"], 64, 2*time.Second); err != nil {
		return fmt.Errorf("warming up: %w", err)
	}
	// So is every account a service records usage for: recordUsage's first
	// event for an account reads the account from the database (once per
	// process, credits/usagecache.go), which a running gateway did long
	// before; unwarmed, a third of usage-single's calls paid that read.
	// Three seconds of usage-batch (about 300 calls of 100 consecutive
	// accounts at 8 clients here) pass over all 10,000 at least twice.
	if slices.ContainsFunc(o.scenarios, func(s string) bool { return strings.HasPrefix(s, "usage-") }) {
		if _, err := env.loadGateway(ctx, scenarios["usage-batch"], 8, 3*time.Second); err != nil {
			return fmt.Errorf("warming up: %w", err)
		}
	}

	var (
		rows    []row
		refused []string // errors a scenario does not accept
	)
	for _, s := range o.scenarios {
		sc, ok := scenarios[s]
		if !ok {
			return fmt.Errorf("unknown scenario %q", s)
		}
		levels := o.clients
		if sc.read {
			levels = []int{64}
		}
		for _, c := range levels {
			r, err := measure(ctx, env, sc, s, c, o)
			if err != nil {
				return fmt.Errorf("%s at %d clients: %w", s, c, err)
			}
			log.Printf("%-20s %3d clients: %s", s, c, r.summary())
			rows = append(rows, r)
			if sc.accept != "" {
				for _, g := range r.gateway {
					for code, n := range g.errors {
						if code != sc.accept {
							refused = append(refused, fmt.Sprintf("%s at %d clients: %d %s", s, c, n, code))
						}
					}
				}
			}
		}
	}
	if err := env.verify(ctx); err != nil {
		return err
	}
	if err := report(rows, o); err != nil {
		return err
	}
	if len(refused) > 0 {
		return fmt.Errorf("errors other than the scenario accepts: %s", strings.Join(refused, "; "))
	}
	return nil
}

// measure alternates gateway and ceiling runs and keeps the medians; a
// scenario with a floor runs against the floor server too, after them in
// each round (G C F G C F …), so each ceiling still follows its gateway run.
func measure(ctx context.Context, env *env, sc scenario, name string, clients int, o options) (row, error) {
	r := row{scenario: name, clients: clients}
	if err := env.settle(ctx); err != nil {
		return r, err
	}
	if sc.read {
		// A read scenario is measured warm, as its ceiling is (pgbench reads
		// from PostgreSQL's buffer cache): one unmeasured run first admits
		// every seeded token and fills the gateway's balance cache, the
		// steady state of mobile apps polling their balance.
		if _, err := env.loadGateway(ctx, sc, clients, o.duration); err != nil {
			return r, fmt.Errorf("warming up: %w", err)
		}
	}
	var floor *floorServer
	if sc.floor {
		var err error
		if floor, err = env.floorFor(ctx); err != nil {
			return r, err
		}
		// Its first connections and heap, unmeasured, as the gateway's
		// were by its warm-up.
		if _, err := env.loadFloor(ctx, floor, sc, clients, min(o.duration, time.Second)); err != nil {
			return r, fmt.Errorf("warming up: %w", err)
		}
	}
	for round := range o.rounds {
		var prof chan error
		if round == 0 && o.profile != "" {
			prof = make(chan error, 1)
			go func() { prof <- env.cpuProfile(ctx, o.profile, name, clients, o.duration) }()
		}
		g, err := env.loadGateway(ctx, sc, clients, o.duration)
		if prof != nil {
			if err := <-prof; err != nil {
				log.Printf("profiling %s at %d clients: %v", name, clients, err)
			}
		}
		if err != nil {
			return r, err
		}
		r.gateway = append(r.gateway, g)
		c, err := env.pgbench(ctx, sc, clients, o.duration)
		if err != nil {
			return r, err
		}
		r.ceiling = append(r.ceiling, c)
		if floor != nil {
			f, err := env.loadFloor(ctx, floor, sc, clients, o.duration)
			if err != nil {
				return r, err
			}
			r.floor = append(r.floor, f)
		}
	}
	return r, nil
}
