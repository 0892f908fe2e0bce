package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/gid"
	"creditgate/money"
)

// benchDB is the database the bench drops and recreates: BENCH_DB names
// another, so two people benchmarking on one server do not destroy each
// other's runs. Only a plain identifier is accepted (it is spliced into DDL).
var benchDB = envOr("BENCH_DB", "creditgate_bench")

var plainIdent = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

var jwtSecret = []byte("bench-secret-0123456789-0123456789-abcdef")

// env is a seeded bench database with a running gateway.
type env struct {
	dsn     string // the bench database
	sql     *sql.DB
	svc     *credits.Service
	closeDB func()
	gateway *exec.Cmd
	url     string
	tmp     string
	apq     bool   // the load generator sends persisted query hashes
	pprof   string // the gateway's pprof address, when profiling

	floor *floorServer // started by the first scenario that has one

	spread  []*client // one per funded account
	hot     *client
	service gid.ID
	// serviceToken is a service's JWT (role service) of the bench agency:
	// what records usage.
	serviceToken string
	spreadInvs   []invoiceRef // round-robin over accounts
	hotInvs      []invoiceRef
}

type client struct {
	account gid.ID
	token   string
}

type invoiceRef struct {
	id    gid.ID
	token string
}

func setup(ctx context.Context, o options) (*env, error) {
	e := &env{apq: o.apq}
	var err error
	if e.dsn, err = freshDatabase(ctx, o.adminURL); err != nil {
		return nil, err
	}
	d, err := db.Open(ctx, e.dsn, db.Options{})
	if err != nil {
		return nil, err
	}
	e.sql, e.closeDB = d.SQL, func() { d.Close() }
	e.svc = credits.New(d.Client, d.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))
	start := time.Now()
	if err := e.seed(ctx, d.Client, o.accounts, invoicesNeeded(o)); err != nil {
		e.close()
		return nil, fmt.Errorf("seeding: %w", err)
	}
	if err := e.seedCeiling(ctx, o.accounts); err != nil {
		e.close()
		return nil, fmt.Errorf("seeding the ceiling tables: %w", err)
	}
	// PostgreSQL allows 100 connections: keep few here, so the gateway's
	// pool and 64 pgbench clients fit beside this process.
	e.sql.SetMaxIdleConns(1)
	e.sql.SetMaxOpenConns(2)
	log.Printf("seeded %d accounts, %d + %d invoices in %s", o.accounts, len(e.spreadInvs), len(e.hotInvs), time.Since(start).Round(time.Millisecond))
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			e.close()
			return nil, err
		}
		if e.pprof, err = freeAddr(); err != nil {
			e.close()
			return nil, err
		}
	}
	if err := e.startGateway(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// freshDatabase drops and creates the bench database next to adminURL's.
func freshDatabase(ctx context.Context, adminURL string) (string, error) {
	if !plainIdent.MatchString(benchDB) {
		return "", fmt.Errorf("BENCH_DB %q: use lower-case letters, digits and _", benchDB)
	}
	adm, err := sql.Open("postgres", adminURL)
	if err != nil {
		return "", err
	}
	defer adm.Close()
	if _, err := adm.ExecContext(ctx, `DROP DATABASE IF EXISTS `+benchDB+` WITH (FORCE)`); err != nil {
		return "", fmt.Errorf("dropping %s: %w", benchDB, err)
	}
	if _, err := adm.ExecContext(ctx, `CREATE DATABASE `+benchDB); err != nil {
		return "", fmt.Errorf("creating %s: %w", benchDB, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + benchDB
	return u.String(), nil
}

// invoicesNeeded is how many invoices each of the spread and hot sets must
// hold for the write scenarios to run at up to maxWriteRate tx/s at every
// client level and round without running out.
func invoicesNeeded(o options) int {
	const maxWriteRate = 5000
	secs := max(1, int(o.duration.Round(time.Second).Seconds()))
	return o.rounds * len(o.clients) * secs * maxWriteRate
}

func (e *env) seed(ctx context.Context, c *ent.Client, n, invoices int) error {
	sys := auth.NewContext(ctx, &auth.Viewer{UserID: "bench", Role: auth.RoleSystemAdmin})
	ag, err := e.svc.CreateAgency(sys, credits.NewAgency{Name: "Bench Agency", DefaultCurrency: "USD", CreditPaymentsEnabled: true})
	if err != nil {
		return err
	}
	svc, err := e.svc.CreateService(sys, credits.NewService{AgencyID: &ag.ID, Name: "SMS", Price: "0.01", CreditEligible: true})
	if err != nil {
		return err
	}
	e.service = svc.ID
	ids := make([]gid.ID, 0, n+1)
	for len(ids) < n+1 {
		batch := make([]*ent.AccountCreate, 0, 1000)
		for i := len(ids); i < min(n+1, len(ids)+1000); i++ {
			batch = append(batch, c.Account.Create().SetAgencyID(ag.ID).SetName(fmt.Sprint("client ", i)).SetKind(account.KindCLIENT))
		}
		accs, err := c.Account.CreateBulk(batch...).Save(sys)
		if err != nil {
			return err
		}
		for _, a := range accs {
			ids = append(ids, a.ID)
		}
	}
	// Fund every account through the domain (sandbox card purchases), so
	// the ledger the gateway starts from is one it wrote itself.
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan int)
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				// The hot account gets 100,000 in 50 purchases: a full
				// history page even when no write scenario ran first.
				amount, times := money.Decimal("10"), 1
				if i == 0 {
					amount, times = "2000", 50
				}
				for range times {
					if _, err := e.svc.BuyCredits(sys, credits.BuyCredits{AccountID: &ids[i], Amount: &amount, Method: "CARD"}); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
				if i > 0 && i <= seededHolds {
					if err := e.seedHold(sys, ids[i]); err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if e.serviceToken, err = auth.NewToken(jwtSecret, auth.RoleService, "bench-usage", string(ag.ID), "", 6*time.Hour); err != nil {
		return err
	}
	token := func(acc gid.ID) (string, error) {
		return auth.NewToken(jwtSecret, auth.RoleClient, "bench-"+string(acc), string(ag.ID), string(acc), 6*time.Hour)
	}
	for i, id := range ids {
		t, err := token(id)
		if err != nil {
			return err
		}
		cl := &client{account: id, token: t}
		if i == 0 {
			e.hot = cl
		} else {
			e.spread = append(e.spread, cl)
		}
	}
	// Invoices of 0.01: a few per spread account, round-robin, and as many
	// on the hot account; enough for every run at the configured rates.
	var spec []invoiceSpec
	for round := range (invoices + len(e.spread) - 1) / len(e.spread) {
		for _, cl := range e.spread {
			spec = append(spec, invoiceSpec{cl, fmt.Sprintf("S-%d", round)})
		}
	}
	for i := range invoices {
		spec = append(spec, invoiceSpec{e.hot, fmt.Sprintf("H-%d", i)})
	}
	for len(spec) > 0 {
		batch := spec[:min(len(spec), 2000)]
		spec = spec[len(batch):]
		creates := make([]*ent.InvoiceCreate, len(batch))
		for i, s := range batch {
			creates[i] = c.Invoice.Create().SetAgencyID(ag.ID).SetAccountID(s.cl.account).
				SetNumber(string(s.cl.account) + "-" + s.number).SetAmount(1).SetCurrency("USD")
		}
		invs, err := c.Invoice.CreateBulk(creates...).Save(sys)
		if err != nil {
			return err
		}
		for i, inv := range invs {
			ref := invoiceRef{id: inv.ID, token: batch[i].cl.token}
			if batch[i].cl == e.hot {
				e.hotInvs = append(e.hotInvs, ref)
			} else {
				e.spreadInvs = append(e.spreadInvs, ref)
			}
		}
	}
	return nil
}

// seededHolds is how many spread accounts start with a hold, set aside
// and released: a database in service has holds, and the statistics
// gathered before a scenario (settle) on an empty holds table let the
// gateway's connections plan their reads of a hold by id as scans of a
// table that hold-hot then grows under them (6,267 scans reading 1.5
// million rows in one hold-hot run at 8 clients).
const seededHolds = 500

func (e *env) seedHold(sys context.Context, acc gid.ID) error {
	amount := money.Decimal("0.01")
	h, err := e.svc.CreateHold(sys, credits.NewHoldInput{AccountID: acc, Amount: &amount})
	if err != nil {
		return fmt.Errorf("seeding a hold: %w", err)
	}
	if _, err := e.svc.ReleaseHold(sys, h.Hold.ID); err != nil {
		return fmt.Errorf("releasing a seeded hold: %w", err)
	}
	return nil
}

type invoiceSpec struct {
	cl     *client
	number string
}

// startGateway builds the gateway and starts it on the bench database.
func (e *env) startGateway(ctx context.Context) error {
	var err error
	if e.tmp, err = os.MkdirTemp("", "creditgate-bench"); err != nil {
		return err
	}
	bin := filepath.Join(e.tmp, "creditgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./server")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the gateway: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(),
		"DATABASE_URL="+e.dsn, "JWT_SECRET="+string(jwtSecret), "LISTEN_ADDR=127.0.0.1:0",
		"APP_ENV=development", "DB_MAX_CONNS=24",
		// Every simulated client shares 127.0.0.1: the per-address and
		// per-token limits would measure themselves, not the gateway;
		// so would the service token's (usage and holds).
		"RATE_LIMIT_IP=off", "RATE_LIMIT_SUBJECT=off", "RATE_LIMIT_SERVICE=off",
	)
	if e.pprof != "" {
		cmd.Env = append(cmd.Env, "PPROF_ADDR="+e.pprof)
	}
	if v := os.Getenv("BENCH_GATEWAY_ENV"); v != "" { // e.g. "DEBIT_LANES=8 DB_MAX_CONNS=16"
		cmd.Env = append(cmd.Env, strings.Fields(v)...)
	}
	// The gateway logs every request: read through a pipe, that cost this
	// process CPU per request, counted as the load generator's. A file
	// costs it nothing; it is read for the address now and for errors at
	// the end (gatewayErrors).
	logf, err := os.Create(filepath.Join(e.tmp, "gateway.log"))
	if err != nil {
		return err
	}
	defer logf.Close() // the gateway holds its own descriptor
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return err
	}
	e.gateway = cmd
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		b, err := os.ReadFile(logf.Name())
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if i := strings.Index(line, "url="); i >= 0 && strings.Contains(line, "listening") {
				e.url = strings.Fields(line[i+4:])[0]
				return nil
			}
		}
	}
	b, _ := os.ReadFile(logf.Name())
	return fmt.Errorf("the gateway did not start within 30 s; its log ends:\n%s", b[max(0, len(b)-2000):])
}

// gatewayErrors logs the gateway's level=ERROR lines.
func (e *env) gatewayErrors() {
	f, err := os.Open(filepath.Join(e.tmp, "gateway.log"))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "level=ERROR") {
			log.Printf("gateway: %s", line)
		}
	}
}

func (e *env) close() {
	if e.floor != nil {
		e.floor.close()
	}
	if e.gateway != nil && e.gateway.Process != nil {
		_ = e.gateway.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = e.gateway.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = e.gateway.Process.Kill()
		}
	}
	if e.closeDB != nil {
		e.closeDB()
	}
	if e.tmp != "" {
		e.gatewayErrors()
		os.RemoveAll(e.tmp)
	}
}

// settle runs VACUUM (ANALYZE) on the bench database before each
// scenario, both sides' tables alike, standing in for autovacuum. A
// production server runs autovacuum; this machine's PostgreSQL has it off
// (conf.d/90-ci.conf), so without this nothing ever gathers statistics or
// clears dead rows, and a scenario is measured against tables that the
// ones before it grew to millions of rows behind the planner's back:
// usage-batch at 8 clients, run after the payment scenarios, cost 15,290
// µs of PostgreSQL a call, against about 8,150 on a fresh database.
func (e *env) settle(ctx context.Context) error {
	start := time.Now()
	if _, err := e.sql.ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil {
		return fmt.Errorf("VACUUM (ANALYZE) before a scenario: %w", err)
	}
	log.Printf("VACUUM (ANALYZE) took %v", time.Since(start).Round(time.Millisecond))
	return nil
}

// verify checks every ledger invariant after the runs.
func (e *env) verify(ctx context.Context) error {
	var out strings.Builder
	if err := e.svc.Verify(ctx, &out); err != nil {
		return fmt.Errorf("verify after the runs: %w\n%s", err, out.String())
	}
	log.Printf("verify passed:\n%s", out.String())
	return nil
}

// freeAddr picks a free local TCP address.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cpuProfile records the gateway's CPU profile for about d into dir.
func (e *env) cpuProfile(ctx context.Context, dir, scenario string, clients int, d time.Duration) error {
	secs := max(1, int(d.Seconds())-1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", e.pprof, secs), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", scenario, clients)))
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
