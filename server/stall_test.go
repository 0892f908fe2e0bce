package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/graph"
	"creditgate/money"
)

// stallRig is the gateway over a PostgreSQL reached through a proxy that
// can stall: accounts that pay invoices and buy a service, each attempt
// with its own idempotency key, every acknowledged one remembered.
type stallRig struct {
	t     *testing.T
	proxy *dbtest.Proxy
	db    *db.DB
	svc   *credits.Service
	h     http.Handler
	ag    *ent.Agency
	sms   gid.ID
	accs  []gid.ID

	mu       sync.Mutex
	invoices map[gid.ID][]gid.ID // open invoices by account
	attempts map[string]stallOp  // by idempotency key
	acked    map[string]gid.ID   // key: the transaction of an acknowledged payment
	seq      int
}

type stallOp struct {
	acc     gid.ID
	invoice gid.ID // "": a service purchase
}

// Each payment costs 1.00 (in micro-units): an invoice of 1.00 or 20 SMS at 0.05.
const stallOpMicro = 1_000000

func newStallRig(t *testing.T, accounts, invoicesEach int) *stallRig {
	t.Helper()
	ctx := context.Background()
	proxy := dbtest.NewProxy(t, dbtest.PostgresURL())
	d, err := db.Open(ctx, proxy.URL(dbtest.NewPostgresSchema(t)), db.Options{MaxOpenConns: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := credits.New(d.Client, d.Dialect, log)
	verifier, err := auth.NewVerifier(ctx, auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	h := routes(Config{GraphQL: graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}}}, d, svc, verifier, graph.NewSockets(), log)
	r := &stallRig{t: t, proxy: proxy, db: d, svc: svc, h: h,
		invoices: map[gid.ID][]gid.ID{}, attempts: map[string]stallOp{}, acked: map[string]gid.ID{}}
	s := sys()
	r.ag = must[*ent.Agency](t)(svc.CreateAgency(s, credits.NewAgency{Name: "Stall", DefaultCurrency: "USD", CreditPaymentsEnabled: true}))
	r.sms = must[*ent.Service](t)(svc.CreateService(s, credits.NewService{AgencyID: &r.ag.ID, Name: "SMS", Price: "0.05", CreditEligible: true})).ID
	for i := range accounts {
		acc := must[*ent.Account](t)(svc.CreateAccount(s, &r.ag.ID, fmt.Sprintf("Client %d", i))).ID
		amt := money.Decimal("1000")
		if _, err := svc.BuyCredits(s, credits.BuyCredits{AccountID: &acc, Amount: &amt, Method: "CARD"}); err != nil {
			t.Fatal(err)
		}
		for j := range invoicesEach {
			inv := must[*ent.Invoice](t)(svc.CreateInvoice(s, credits.NewInvoice{AccountID: acc, Number: fmt.Sprintf("S%d-%03d", i, j), Amount: "1", CreditEligible: true}))
			r.invoices[acc] = append(r.invoices[acc], inv.ID)
		}
		r.accs = append(r.accs, acc)
	}
	return r
}

// next makes a new attempt on account i: an open invoice every other time
// while there are any, else a service purchase.
func (r *stallRig) next(i int) (string, stallOp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	key := fmt.Sprintf("stall-%d", r.seq)
	o := stallOp{acc: r.accs[i%len(r.accs)]}
	if invs := r.invoices[o.acc]; r.seq%2 == 0 && len(invs) > 0 {
		o.invoice, r.invoices[o.acc] = invs[0], invs[1:]
	}
	r.attempts[key] = o
	return key, o
}

// pay runs one attempt as the account's owner, within timeout.
func (r *stallRig) pay(key string, o stallOp, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ctx = auth.NewContext(ctx, &auth.Viewer{UserID: "owner-" + string(o.acc), Role: auth.RoleClientOwner, AgencyID: string(r.ag.ID), AccountID: string(o.acc)})
	var tx gid.ID
	if o.invoice != "" {
		p, err := r.svc.PayInvoiceWithCredit(ctx, o.invoice, &key)
		if err != nil {
			return err
		}
		tx = p.Transaction.ID
	} else {
		p, err := r.svc.BuyServiceWithCredit(ctx, r.sms, nil, 20, &key)
		if err != nil {
			return err
		}
		tx = p.Transaction.ID
	}
	r.mu.Lock()
	r.acked[key] = tx
	r.mu.Unlock()
	return nil
}

type stallResult struct {
	start, end time.Time
	err        error
}

// load runs workers, each paying one attempt after another until stop.
func (r *stallRig) load(workers int, timeout time.Duration, stop <-chan struct{}) []stallResult {
	var mu sync.Mutex
	var out []stallResult
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				key, o := r.next(w)
				start := time.Now()
				err := r.pay(key, o, timeout)
				mu.Lock()
				out = append(out, stallResult{start, time.Now(), err})
				mu.Unlock()
				time.Sleep(25 * time.Millisecond) // a steady stream, not a benchmark
			}
		})
	}
	wg.Wait()
	return out
}

func (r *stallRig) readyz() int {
	rec := httptest.NewRecorder()
	r.h.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	return rec.Code
}

// The issue: a proxy between gateway and PostgreSQL stops forwarding on its
// connections (no RST) while new ones work. Before, each debit lane's
// leader blocked for good in lib/pq's read, every payment hung, and
// /readyz said 200. Now: the dead connections are found within seconds,
// the lanes and payments recover on new connections; while the database
// stalls entirely every operation returns within its timeout and /readyz
// answers 503, then 200 once the network heals; a reset is absorbed; and at
// the end every acknowledged payment is in the ledger, every attempt
// retried with its key took effect exactly once, and verify is clean.
func TestPaymentsSurviveADatabaseStall(t *testing.T) {
	r := newStallRig(t, 8, 200)

	// Warm up: every lane busy, the pool's connections open and prepared.
	stop := make(chan struct{})
	time.AfterFunc(700*time.Millisecond, func() { close(stop) })
	for _, res := range r.load(16, 10*time.Second, stop) {
		if res.err != nil {
			t.Fatalf("warm-up payment: %v", res.err)
		}
	}
	if code := r.readyz(); code != http.StatusOK {
		t.Fatalf("readyz before the stall: %d", code)
	}

	// 1. The proxy stalls every open connection; new ones work. Payments
	// under GraphQL's 10 s operation timeout keep coming.
	const opTimeout = 10 * time.Second
	r.proxy.StallExisting()
	stalled := time.Now()
	stop = make(chan struct{})
	time.AfterFunc(7*time.Second, func() { close(stop) })
	results := r.load(16, opTimeout, stop)
	var failed, lateOK int
	var firstOK, lastFail time.Duration
	var slowest time.Duration
	for _, res := range results {
		took := res.end.Sub(res.start)
		slowest = max(slowest, took)
		if took > opTimeout+1500*time.Millisecond {
			t.Errorf("a payment took %v under a %v timeout", took, opTimeout)
		}
		if res.err != nil {
			failed++
			lastFail = max(lastFail, res.end.Sub(stalled))
			continue
		}
		if d := res.end.Sub(stalled); firstOK == 0 || d < firstOK {
			firstOK = d
		}
		if res.start.Sub(stalled) > 5*time.Second {
			lateOK++
		}
	}
	t.Logf("stall of old connections: %d payments, %d failed (the last at +%v), first success at +%v, slowest %v; %d connections found dead",
		len(results), failed, lastFail.Round(time.Millisecond), firstOK.Round(time.Millisecond), slowest.Round(time.Millisecond), r.db.StalledConns())
	for _, res := range results {
		if res.err != nil && res.start.Sub(stalled) > 5*time.Second {
			t.Errorf("a payment started %v after the stall failed: %v", res.start.Sub(stalled), res.err)
		}
	}
	if lateOK == 0 {
		t.Fatal("no payment succeeded more than 5 s after the stall: the lanes did not recover")
	}
	if r.db.StalledConns() == 0 {
		t.Fatal("no connection was found dead")
	}
	if code := r.readyz(); code != http.StatusOK {
		t.Fatalf("readyz after recovering: %d", code)
	}

	// 2. The database stalls entirely: old and new connections accepted
	// but never answered. Every operation (payments grouped in lanes,
	// queued behind them, a read) returns within its timeout; /readyz 503.
	const short = 2 * time.Second
	const margin = 1200 * time.Millisecond
	r.proxy.StallAll()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var slow []string
	var slowest2 time.Duration
	check := func(what string, took time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		slowest2 = max(slowest2, took)
		if err == nil {
			slow = append(slow, what+" succeeded through a stalled database")
		}
		if took > short+margin {
			slow = append(slow, fmt.Sprintf("%s took %v under a %v timeout (%v)", what, took, short, err))
		}
	}
	for i := range 24 {
		wg.Go(func() {
			key, o := r.next(i)
			start := time.Now()
			err := r.pay(key, o, short)
			check("payment "+key, time.Since(start), err)
		})
	}
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), short)
		defer cancel()
		acc := &ent.Account{ID: r.accs[0], AgencyID: r.ag.ID}
		acc.Edges.Agency = r.ag
		start := time.Now()
		_, err := r.svc.Balance(auth.NewContext(ctx, &auth.Viewer{UserID: "test-setup", Role: auth.RoleSystemAdmin}), acc, nil)
		check("balance read", time.Since(start), err)
	})
	readyStart := time.Now()
	code := r.readyz()
	readyTook := time.Since(readyStart)
	wg.Wait()
	for _, s := range slow {
		t.Error(s)
	}
	t.Logf("full stall: 24 payments and a read under a %v timeout all failed, the slowest after %v; /readyz answered %d in %v",
		short, slowest2.Round(time.Millisecond), code, readyTook.Round(time.Millisecond))
	if code == http.StatusOK {
		t.Fatal("/readyz answered 200 while the database stalled")
	}

	// 3. The network heals (the stalled connections stay stalled, never
	// reset): /readyz is 200 again within seconds, payments work.
	r.proxy.Heal()
	healed := time.Now()
	for r.readyz() != http.StatusOK {
		if time.Since(healed) > 10*time.Second {
			t.Fatal("/readyz not 200 within 10 s of the network healing")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("/readyz 200 again %v after the network healed", time.Since(healed).Round(time.Millisecond))
	r.mustPay(16, "after healing")

	// 4. Every connection reset: absorbed.
	r.proxy.Drop()
	r.mustPay(16, "after a reset")

	r.settle()
}

// mustPay makes n payments at once; every one must succeed.
func (r *stallRig) mustPay(n int, when string) {
	r.t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			key, o := r.next(i)
			errs <- r.pay(key, o, 10*time.Second)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			r.t.Errorf("payment %s: %v", when, err)
		}
	}
}

// settle retries every attempt that was not acknowledged with its own key,
// then checks the ledger: each acknowledged payment is there, each attempt
// took effect exactly once (so each balance is what was funded less 1.00
// per attempt), and verify is clean.
func (r *stallRig) settle() {
	t := r.t
	t.Helper()
	r.mu.Lock()
	var retry []string
	for key := range r.attempts {
		if _, ok := r.acked[key]; !ok {
			retry = append(retry, key)
		}
	}
	r.mu.Unlock()
	for _, key := range retry {
		if err := r.pay(key, r.attempts[key], 10*time.Second); err != nil {
			t.Fatalf("retrying %s with its key: %v", key, err)
		}
	}
	ctx := credits.System(context.Background())
	per := map[gid.ID]int64{}
	for key, tx := range r.acked {
		o := r.attempts[key]
		p, err := r.svc.DB().Posting.Get(ctx, tx)
		if err != nil {
			t.Fatalf("acknowledged payment %s (transaction %s) is not in the ledger: %v", key, tx, err)
		}
		if p.AccountID == nil || *p.AccountID != o.acc || p.Amount != -stallOpMicro {
			t.Fatalf("acknowledged payment %s: posting %+v", key, p)
		}
		per[o.acc]++
	}
	if len(r.acked) != len(r.attempts) {
		t.Fatalf("%d attempts, %d acknowledged after retries", len(r.attempts), len(r.acked))
	}
	for _, acc := range r.accs {
		a := &ent.Account{ID: acc, AgencyID: r.ag.ID}
		a.Edges.Agency = r.ag
		b, err := r.svc.Balance(sys(), a, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1000*1_000000 - per[acc]*stallOpMicro; b.Available != want {
			t.Errorf("account %s: available %d, want %d (1000.00 less %d payments of 1.00)", acc, b.Available, want, per[acc])
		}
	}
	var out bytes.Buffer
	if err := r.svc.Verify(context.Background(), &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	t.Logf("%d payments attempted (%d retried with their key after the faults), all in the ledger exactly once; verify clean", len(r.attempts), len(retry))
}
