package credits_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/idempotencykey"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/gid"
)

// observeMoney records what the service reports as moved, by kind.
func observeMoney(w *world) func() map[posting.Kind]int64 {
	var mu sync.Mutex
	got := map[posting.Kind]int64{}
	w.svc.ObserveMoney(func(kind posting.Kind, _ string, amount int64) {
		mu.Lock()
		defer mu.Unlock()
		got[kind] += amount
	})
	return func() map[posting.Kind]int64 {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(got)
	}
}

// batch queues debits of one balance behind HoldDebits, one at a time so
// their order in the batch is the order given, then releases them as one
// batch and returns each one's result.
type batch struct {
	t       *testing.T
	w       *world
	acc     *ent.Account
	waiting func() int
	release func()
	wg      sync.WaitGroup
	n       int
}

type result struct {
	tx  gid.ID
	err error
}

func newBatch(t *testing.T, w *world, acc *ent.Account) *batch {
	waiting, release := w.svc.HoldDebits(acc.ID)
	return &batch{t: t, w: w, acc: acc, waiting: waiting, release: release}
}

// add queues run and waits until it is queued.
func (b *batch) add(out *result, run func() (gid.ID, error)) {
	b.t.Helper()
	b.n++
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		out.tx, out.err = run()
	}()
	deadline := time.Now().Add(5 * time.Second)
	for b.waiting() < b.n {
		if time.Now().After(deadline) {
			b.t.Fatalf("request %d never queued", b.n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (b *batch) run() {
	b.release()
	b.wg.Wait()
}

func (w *world) payFn(ctx context.Context, inv *ent.Invoice, key *string) func() (gid.ID, error) {
	return func() (gid.ID, error) {
		p, err := w.svc.PayInvoiceWithCredit(ctx, inv.ID, key)
		if err != nil {
			return "", err
		}
		return p.Transaction.ID, nil
	}
}

func (w *world) buyFn(ctx context.Context, svc *ent.Service, qty int, key *string) func() (gid.ID, error) {
	return func() (gid.ID, error) {
		p, err := w.svc.BuyServiceWithCredit(ctx, svc.ID, nil, qty, key)
		if err != nil {
			return "", err
		}
		return p.Transaction.ID, nil
	}
}

// One batch in which requests fail in the middle: each failure undoes only
// its own work, the others commit with a gap-free running-balance chain,
// and idempotent replays inside and across batches answer the same
// transaction.
func TestBatchPartialFailure(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "10")
			sms := w.service("SMS", "1")
			i1 := w.invoice(acc, "I-1", "3")
			i2 := w.invoice(acc, "I-2", "8")
			i3 := w.invoice(acc, "I-3", "5")
			i4 := w.invoice(acc, "I-4", "0.01")
			var sizes []int
			w.svc.SetOnBatch(func(n int) { sizes = append(sizes, n) })
			moved := observeMoney(w)
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			k := strp("k-1")

			r := make([]result, 8)
			b := newBatch(t, w, acc)
			b.add(&r[0], w.payFn(ctx, i1, nil))         // 10 - 3 = 7
			b.add(&r[1], w.payFn(ctx, i1, nil))         // ALREADY_PAID
			b.add(&r[2], w.payFn(ctx, i2, nil))         // 8 > 7: INSUFFICIENT_CREDITS
			b.add(&r[3], w.buyFn(ctx, sms, 2, k))       // 7 - 2 = 5
			b.add(&r[4], w.buyFn(ctx, sms, 2, k))       // replay in the batch: r[3]'s transaction
			b.add(&r[5], w.buyFn(ctx, sms, 3, k))       // same key, other input: CONFLICT
			b.add(&r[6], w.payFn(ctx, i3, strp("k-2"))) // 5 - 5 = 0
			b.add(&r[7], w.payFn(ctx, i4, nil))         // INSUFFICIENT_CREDITS
			b.run()

			if len(sizes) != 1 || sizes[0] != 8 {
				t.Fatalf("batches %v, want one of 8", sizes)
			}
			want := []credits.Code{"", credits.CodeAlreadyPaid, credits.CodeInsufficientCredits, "", "", credits.CodeConflict, "", credits.CodeInsufficientCredits}
			for i, c := range want {
				if got := codeOf(r[i].err); got != c {
					t.Fatalf("request %d: %v (code %q), want %q", i, r[i].err, got, c)
				}
			}
			if r[4].tx != r[3].tx {
				t.Fatalf("replay in the batch answered %s, first answered %s", r[4].tx, r[3].tx)
			}
			if b := w.available(acc); b != 0 {
				t.Fatalf("balance = %d, want 0", b)
			}
			if n := w.historyLen(acc); n != 4 { // funding + 3 debits
				t.Fatalf("history has %d transactions, want 4", n)
			}
			for inv, st := range map[*ent.Invoice]invoice.Status{i1: invoice.StatusPAID, i2: invoice.StatusOPEN, i3: invoice.StatusPAID, i4: invoice.StatusOPEN} {
				got, err := w.db.Client.Invoice.Get(w.sys(), inv.ID)
				w.check(err)
				if got.Status != st {
					t.Fatalf("invoice %s is %s, want %s", inv.Number, got.Status, st)
				}
			}
			// The running balances chain without gaps: 10, 7, 5, 0.
			p, err := w.svc.History(w.sys(), withAgency(acc, w), nil, nil, credits.PageArgs{})
			w.check(err)
			var chain []int64
			for _, e := range p.Items {
				chain = append(chain, *e.RunningBalance)
			}
			if len(chain) != 4 || chain[0] != 0 || chain[1] != 500*cent || chain[2] != 700*cent || chain[3] != 1000*cent {
				t.Fatalf("running balances newest first %v, want [0 500 700 1000]", chain)
			}
			w.verify()

			// Replays across batches: the same transactions, nothing moves.
			again, err := w.buyFn(ctx, sms, 2, k)()
			w.check(err)
			if again != r[3].tx {
				t.Fatalf("replay after the batch answered %s, want %s", again, r[3].tx)
			}
			again, err = w.payFn(ctx, i3, strp("k-2"))()
			w.check(err)
			if again != r[6].tx {
				t.Fatalf("invoice replay after the batch answered %s, want %s", again, r[6].tx)
			}
			if n := w.historyLen(acc); n != 4 {
				t.Fatalf("replays moved money: history has %d transactions", n)
			}
			// Only the committed debits were reported, once each.
			if got := moved(); len(got) != 2 || got[posting.KindINVOICE_PAYMENT] != 800*cent || got[posting.KindSERVICE_PURCHASE] != 200*cent {
				t.Fatalf("money moved %v, want 800 of invoice payments and 200 of services", got)
			}
			w.verify()
		})
	}
}

func withAgency(acc *ent.Account, w *world) *ent.Account {
	acc.Edges.Agency = w.agency
	return acc
}

// A failure just before COMMIT leaves nothing of any request of the batch:
// no posting, no paid invoice, no idempotency record, every caller gets the
// error, and a retry with the same key then pays once.
func TestBatchCommitFailure(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "100")
			sms := w.service("SMS", "1")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			invs := []*ent.Invoice{w.invoice(acc, "I-1", "1"), w.invoice(acc, "I-2", "2"), w.invoice(acc, "I-3", "3")}
			w.svc.SetBeforeCommit(func() error { return errInjected })
			moved := observeMoney(w)

			r := make([]result, 5)
			b := newBatch(t, w, acc)
			b.add(&r[0], w.payFn(ctx, invs[0], strp("p-1")))
			b.add(&r[1], w.buyFn(ctx, sms, 1, strp("s-1")))
			b.add(&r[2], w.payFn(ctx, invs[1], nil))
			b.add(&r[3], w.buyFn(ctx, sms, 1, strp("s-1"))) // replay of r[1] in the batch
			b.add(&r[4], w.payFn(ctx, invs[2], nil))
			b.run()
			for i, res := range r {
				if !errors.Is(res.err, errInjected) {
					t.Fatalf("request %d: %v, want the injected failure", i, res.err)
				}
			}
			if b := w.available(acc); b != 10000*cent {
				t.Fatalf("balance = %d, want 10000", b)
			}
			if n := w.historyLen(acc); n != 1 {
				t.Fatalf("history has %d transactions, want 1", n)
			}
			if n, err := w.db.Client.Invoice.Query().Where(invoice.StatusEQ(invoice.StatusPAID)).Count(w.sys()); err != nil || n != 0 {
				t.Fatalf("%d invoices paid (%v), want 0", n, err)
			}
			if n, err := w.db.Client.IdempotencyKey.Query().Where(idempotencykey.KeyIn("p-1", "s-1")).Count(credits.System(w.sys())); err != nil || n != 0 {
				t.Fatalf("%d idempotency records (%v), want 0", n, err)
			}
			w.verify()

			w.svc.SetBeforeCommit(nil)
			first, err := w.payFn(ctx, invs[0], strp("p-1"))()
			w.check(err)
			again, err := w.payFn(ctx, invs[0], strp("p-1"))()
			w.check(err)
			if first != again || w.available(acc) != 9900*cent {
				t.Fatalf("retry after the failed batch: %s then %s, balance %d; want one payment", first, again, w.available(acc))
			}
			// The failed batch reported nothing; the retry once.
			if got := moved(); len(got) != 1 || got[posting.KindINVOICE_PAYMENT] != 100*cent {
				t.Fatalf("money moved %v, want only the retried payment of 100", got)
			}
			w.verify()
		})
	}
}

// A batch runs without savepoints until a request in it fails; then it runs
// again with them, and so does the lane's next batch; a batch with no
// failure sends the lane back to running without. Every run's results are
// the same as with savepoints from the start, and a rolled-back run leaves
// nothing: no posting, no event, no money reported twice.
func TestBatchSavepointsOnlyAfterFailure(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "10")
			sms := w.service("SMS", "1")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			moved := observeMoney(w)
			var runs []bool
			w.svc.SetOnBatchRun(func(savepoints bool) { runs = append(runs, savepoints) })
			batch := func(fns ...func() (gid.ID, error)) []result {
				r := make([]result, len(fns))
				b := newBatch(t, w, acc)
				for i, fn := range fns {
					b.add(&r[i], fn)
				}
				b.run()
				return r
			}
			wantRuns := func(step string, want ...bool) {
				t.Helper()
				if !slices.Equal(runs, want) {
					t.Fatalf("%s: runs with savepoints %v, want %v", step, runs, want)
				}
				runs = nil
			}

			// All succeed: one run, no savepoints.
			r := batch(w.buyFn(ctx, sms, 1, nil), w.buyFn(ctx, sms, 1, nil))
			if r[0].err != nil || r[1].err != nil {
				t.Fatalf("first batch: %v, %v", r[0].err, r[1].err)
			}
			wantRuns("no failure", false)

			// The second of three fails: rolled back, run again with savepoints.
			r = batch(w.buyFn(ctx, sms, 1, nil), w.buyFn(ctx, sms, 100, nil), w.buyFn(ctx, sms, 2, nil))
			if r[0].err != nil || codeOf(r[1].err) != credits.CodeInsufficientCredits || r[2].err != nil {
				t.Fatalf("second batch: %v, %v, %v", r[0].err, r[1].err, r[2].err)
			}
			wantRuns("a failure", false, true)

			// The lane's next batch starts with savepoints; it fails again.
			r = batch(w.buyFn(ctx, sms, 50, nil), w.buyFn(ctx, sms, 1, nil))
			if codeOf(r[0].err) != credits.CodeInsufficientCredits || r[1].err != nil {
				t.Fatalf("third batch: %v, %v", r[0].err, r[1].err)
			}
			wantRuns("after a failure", true)

			// No failure with savepoints: the next one goes without again.
			batch(w.buyFn(ctx, sms, 1, nil), w.buyFn(ctx, sms, 1, nil))
			wantRuns("after a batch with savepoints and no failure", true)
			batch(w.buyFn(ctx, sms, 1, nil), w.buyFn(ctx, sms, 1, nil))
			wantRuns("back to none", false)

			// 10 - 1 - 1 - 1 - 2 - 1 - 1 - 1 - 1 - 1 = 0: eight purchases, each once.
			if b := w.available(acc); b != 0 {
				t.Fatalf("balance = %d, want 0", b)
			}
			if n := w.historyLen(acc); n != 10 { // funding + 9 purchases
				t.Fatalf("history has %d transactions, want 10", n)
			}
			if got := moved(); len(got) != 1 || got[posting.KindSERVICE_PURCHASE] != 1000*cent {
				t.Fatalf("money moved %v, want 1000 of services", got)
			}
			w.verify()
		})
	}
}

// A request whose caller gave up while it waited is dropped: it writes
// nothing and answers the context's error; the rest of its batch commits.
func TestBatchDropsCancelled(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "10")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			gone, cancel := context.WithCancel(ctx)
			i1, i2, i3 := w.invoice(acc, "I-1", "1"), w.invoice(acc, "I-2", "2"), w.invoice(acc, "I-3", "3")

			r := make([]result, 3)
			b := newBatch(t, w, acc)
			b.add(&r[0], w.payFn(gone, i1, nil))
			b.add(&r[1], w.payFn(ctx, i2, nil))
			b.add(&r[2], w.payFn(gone, i3, nil))
			cancel()
			b.run()
			if !errors.Is(r[0].err, context.Canceled) || !errors.Is(r[2].err, context.Canceled) || r[1].err != nil {
				t.Fatalf("results %v, %v, %v: want canceled, success, canceled", r[0].err, r[1].err, r[2].err)
			}
			if b := w.available(acc); b != 800*cent {
				t.Fatalf("balance = %d, want 800", b)
			}
			w.verify()
		})
	}
}

// Many concurrent debits of one balance are grouped: fewer transactions
// than requests, and the 200-racer outcome still holds.
func TestHotAccountIsGrouped(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "50")
			sms := w.service("SMS", "1")
			var (
				mu      sync.Mutex
				batches int
			)
			w.svc.SetOnBatch(func(int) { mu.Lock(); batches++; mu.Unlock() })
			ctx := w.as(auth.RoleClient, "user", acc.ID)
			errs := race(100, func(int) error {
				_, err := w.svc.BuyServiceWithCredit(ctx, sms.ID, nil, 1, nil)
				return err
			})
			if got := count(errs); got[""] != 50 || got[credits.CodeInsufficientCredits] != 50 {
				t.Fatalf("outcomes %v", got)
			}
			if batches >= 100 {
				t.Fatalf("%d transactions for 100 debits of one balance: nothing was grouped", batches)
			}
			t.Logf("%d transactions for 100 debits", batches)
			w.verify()
		})
	}
}

// A lane's next batch starts while the one before it commits (PostgreSQL):
// the first batch is held just before its COMMIT, its work done; a debit
// of the same balance sent then starts a batch at once instead of
// waiting for that COMMIT, then waits for the balance's lock, and every
// debit lands once, in order, with a gap-free running-balance chain.
func TestLaneHandsOnAtCommit(t *testing.T) {
	w := newWorld(t, "postgres")
	if w.db.Dialect != "postgres" {
		t.Skip("PostgreSQL only: SQLite has one writer")
	}
	acc := w.client("hot")
	w.fund(acc, "50")
	sms := w.service("SMS", "1")
	ctx := w.as(auth.RoleClient, "user", acc.ID)

	var (
		mu      sync.Mutex
		started int
	)
	second := make(chan struct{})
	w.svc.SetOnBatch(func(int) {
		mu.Lock()
		defer mu.Unlock()
		if started++; started == 2 {
			close(second)
		}
	})
	atCommit := make(chan struct{})
	overlapped := make(chan bool, 1)
	var once sync.Once
	w.svc.SetBeforeCommit(func() error {
		once.Do(func() {
			close(atCommit)
			select {
			case <-second:
				overlapped <- true
			case <-time.After(5 * time.Second):
				overlapped <- false
			}
		})
		return nil
	})
	t.Cleanup(func() { w.svc.SetBeforeCommit(nil); w.svc.SetOnBatch(nil) })

	b := newBatch(t, w, acc)
	var first [2]result
	for i := range first {
		b.add(&first[i], w.buyFn(ctx, sms, 1, nil))
	}
	done := make(chan struct{})
	go func() { b.run(); close(done) }()
	<-atCommit
	var late result
	lateDone := make(chan struct{})
	go func() { late.tx, late.err = w.buyFn(ctx, sms, 1, nil)(); close(lateDone) }()
	if !<-overlapped {
		t.Fatal("the lane's next batch did not start while the batch before it was committing")
	}
	<-done
	<-lateDone
	for i, r := range append(first[:], late) {
		if r.err != nil {
			t.Fatalf("debit %d: %v", i, r.err)
		}
	}
	if got := w.available(acc); got != 47_000_000 {
		t.Fatalf("available %d, want 47 after three debits of 1", got)
	}
	w.verify()
}
