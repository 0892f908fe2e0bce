package credits_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/alertrule"
	"creditgate/ent/balance"
	"creditgate/ent/job"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/ent/topuprule"
	"creditgate/gid"
	"creditgate/money"
)

// clock is a test clock the services read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 10, 9, 0, 0, 0, time.UTC)} }
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingVault is the sandbox that counts every charge per payment and can
// be told to fail with an unknown outcome first.
type countingVault struct {
	credits.Sandbox
	mu         sync.Mutex
	charges    map[gid.ID]int
	failNext   atomic.Int32
	processing atomic.Bool // answer like Stripe's "processing": the webhook settles later
}

func newCountingVault() *countingVault { return &countingVault{charges: map[gid.ID]int{}} }

func (v *countingVault) ChargeCard(ctx context.Context, req credits.CardCharge) (credits.ChargeResult, error) {
	if v.failNext.Add(-1) >= 0 {
		return credits.ChargeResult{}, fmt.Errorf("provider unreachable")
	}
	v.mu.Lock()
	v.charges[req.PaymentID]++
	v.mu.Unlock()
	if v.processing.Load() {
		return credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: "pi_" + string(req.PaymentID)}, nil
	}
	return v.Sandbox.ChargeCard(ctx, req)
}

func (v *countingVault) total() (payments, charges int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, n := range v.charges {
		payments++
		charges += n
	}
	return payments, charges
}

// recordingMailer keeps every email.
type recordingMailer struct {
	mu   sync.Mutex
	sent []credits.Email
}

func (m *recordingMailer) Send(_ context.Context, e credits.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, e)
	return nil
}

func (m *recordingMailer) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sent)
}

// auto is a world with a test clock, a counting vault and a recording mailer.
type auto struct {
	*world
	clock  *clock
	vault  *countingVault
	mailer *recordingMailer
}

func newAuto(t *testing.T, kind string) *auto {
	w := newWorld(t, kind)
	a := &auto{world: w, clock: newClock(), vault: newCountingVault(), mailer: &recordingMailer{}}
	a.wire(w.svc)
	return a
}

func (a *auto) wire(s *credits.Service) {
	s.SetClock(a.clock.now)
	s.UseVault(a.vault)
	s.UseMailer(a.mailer)
}

// owner acts as the owner of acc.
func (a *auto) owner(acc *ent.Account) context.Context {
	return a.as("client_owner", "owner-"+string(acc.ID), acc.ID)
}

func (a *auto) card(acc *ent.Account, pm string) *ent.Card {
	a.t.Helper()
	c, err := a.svc.AddCard(a.owner(acc), nil, pm)
	a.check(err)
	return c
}

func (a *auto) rule(acc *ent.Account, c *ent.Card, threshold, amount string, mode topuprule.Mode) *ent.TopUpRule {
	a.t.Helper()
	r, err := a.svc.SetAutoTopUp(a.owner(acc), credits.TopUpSettings{
		Enabled: true, Threshold: money.Decimal(threshold), Amount: money.Decimal(amount), Mode: mode, CardID: c.ID,
	})
	a.check(err)
	return r
}

// spend pays a fresh invoice of amount from acc.
func (a *auto) spend(acc *ent.Account, amount string) error {
	a.t.Helper()
	inv := a.invoice(acc, "INV-"+string(gid.New("x"))[2:14], amount)
	_, err := a.svc.PayInvoiceWithCredit(a.owner(acc), inv.ID, nil)
	return err
}

func (a *auto) runJobs() int {
	a.t.Helper()
	n, err := a.svc.RunDueJobs(context.Background(), "test")
	a.check(err)
	return n
}

func (a *auto) topUpRule(acc *ent.Account) *ent.TopUpRule {
	a.t.Helper()
	r, err := a.svc.DB().TopUpRule.Query().Where(topuprule.AccountID(acc.ID)).Only(a.sys())
	a.check(err)
	return r
}

func (a *auto) autoTopUps(acc *ent.Account) int {
	a.t.Helper()
	n, err := a.svc.DB().Posting.Query().Where(posting.AccountID(acc.ID), posting.KindEQ(posting.KindAUTO_TOPUP)).Count(a.sys())
	a.check(err)
	return n
}

func (a *auto) jobsInFlight(acc *ent.Account) int {
	a.t.Helper()
	n, err := a.svc.DB().Job.Query().Where(job.AccountID(acc.ID), job.StatusNEQ(job.StatusDONE)).Count(credits.System(context.Background()))
	a.check(err)
	return n
}

// A debit below the threshold queues a top-up in its own transaction; the
// worker charges the card and posts an AUTO_TOPUP IN transaction. FIXED adds
// the amount; TOP_UP_TO lifts the balance to it.
func TestAutoTopUp(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			fixed, upTo := a.client("fixed"), a.client("up-to")
			for _, acc := range []*ent.Account{fixed, upTo} {
				a.fund(acc, "20")
			}
			a.rule(fixed, a.card(fixed, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			a.rule(upTo, a.card(upTo, "pm_card_mastercard"), "10", "100", topuprule.ModeTOP_UP_TO)
			if n := a.runJobs(); n != 0 {
				t.Fatalf("ran %d jobs while every balance is above its threshold", n)
			}
			a.check(a.spend(fixed, "9")) // 11: above, nothing queued
			a.check(a.spend(upTo, "15")) // 5: below
			if a.jobsInFlight(fixed) != 0 || a.jobsInFlight(upTo) != 1 {
				t.Fatalf("jobs in flight: fixed %d, up-to %d; want 0 and 1", a.jobsInFlight(fixed), a.jobsInFlight(upTo))
			}
			a.check(a.spend(fixed, "2")) // 9: below
			if n := a.runJobs(); n != 2 {
				t.Fatalf("ran %d jobs, want 2", n)
			}
			if got := a.available(fixed); got != 5900*cent {
				t.Errorf("fixed: balance %d, want 5900 (9 + 50)", got)
			}
			if got := a.available(upTo); got != 10000*cent {
				t.Errorf("top-up-to: balance %d, want 10000", got)
			}
			if a.autoTopUps(fixed) != 1 || a.autoTopUps(upTo) != 1 {
				t.Errorf("AUTO_TOPUP postings: %d and %d, want 1 each", a.autoTopUps(fixed), a.autoTopUps(upTo))
			}
			if r := a.topUpRule(fixed); r.LastTopupAt == nil || r.ConsecutiveFailures != 0 {
				t.Errorf("rule after a top-up: %+v", r)
			}
			if n := a.runJobs(); n != 0 {
				t.Errorf("ran %d more jobs, want none", n)
			}
			a.verify()
		})
	}
}

// A declined card backs off (no retry before the back-off ends), and after
// MaxDeclines declines in a row the rule pauses with the reason recorded and
// the trigger disarmed: later debits queue nothing. Nothing is credited.
func TestAutoTopUpDeclineBacksOffThenPauses(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("declines")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_chargeDeclined"), "10", "50", topuprule.ModeFIXED)
			a.check(a.spend(acc, "15"))
			for attempt := 1; attempt <= 3; attempt++ {
				if n := a.runJobs(); n != 1 {
					t.Fatalf("attempt %d: ran %d jobs, want 1", attempt, n)
				}
				r := a.topUpRule(acc)
				if r.ConsecutiveFailures != attempt || r.LastFailureReason == nil || !strings.Contains(*r.LastFailureReason, "declined") {
					t.Fatalf("attempt %d: rule %+v", attempt, r)
				}
				if attempt < 3 {
					if r.PausedAt != nil || r.RetryAfter == nil || !r.RetryAfter.Equal(a.clock.now().Add(time.Hour)) {
						t.Fatalf("attempt %d: want a one-hour back-off, got %+v", attempt, r)
					}
					a.clock.advance(59 * time.Minute)
					if n := a.runJobs(); n != 0 {
						t.Fatalf("attempt %d: retried %d jobs inside the back-off", attempt, n)
					}
					a.clock.advance(time.Minute)
				}
			}
			r := a.topUpRule(acc)
			if r.PausedAt == nil || r.PauseReason == nil || !strings.Contains(*r.PauseReason, "3 declined") {
				t.Fatalf("rule not paused after 3 declines: %+v", r)
			}
			b, err := a.svc.DB().Balance.Query().Where(balance.AccountID(acc.ID)).Only(a.sys())
			a.check(err)
			if b.TopupBelow != nil {
				t.Errorf("paused rule still armed: topup_below %d", *b.TopupBelow)
			}
			a.check(a.spend(acc, "1"))
			if a.jobsInFlight(acc) != 0 {
				t.Errorf("a debit queued a top-up for a paused rule")
			}
			if got := a.available(acc); got != 400*cent {
				t.Errorf("balance %d, want 400: nothing credited", got)
			}
			failed, err := a.svc.DB().Payment.Query().Where(payment.AccountID(acc.ID), payment.StatusEQ(payment.StatusFAILED)).Count(a.sys())
			a.check(err)
			if failed != 3 {
				t.Errorf("%d failed payments recorded, want 3", failed)
			}
			// Saving the rule again (a new card) clears the pause.
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			if a.runJobs() != 1 || a.available(acc) != 5400*cent {
				t.Errorf("after fixing the card: balance %d, want 5400", a.available(acc))
			}
			a.verify()
		})
	}
}

// Many debits racing below the threshold queue one top-up; several
// workers, each with its own service (as separate gateway instances would
// be), racing over many balances charge every top-up exactly once.
func TestAutoTopUpWorkersNeverChargeTwice(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			const accounts = 12
			accs := make([]*ent.Account, accounts)
			for i := range accs {
				accs[i] = a.client(fmt.Sprintf("c%02d", i))
				a.fund(accs[i], "40")
				a.rule(accs[i], a.card(accs[i], "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			}
			// 20 spends of 2.00 per account at once: the balance crosses the
			// threshold once and stays below, so many debits see it low.
			errs := race(accounts*20, func(i int) error { return a.spend(accs[i%accounts], "2") })
			if c := count(errs); c[""] != accounts*20 {
				t.Fatalf("spends: %v", c)
			}
			for _, acc := range accs {
				if n := a.jobsInFlight(acc); n != 1 {
					t.Fatalf("%s: %d top-ups in flight, want exactly 1", acc.Name, n)
				}
			}
			workers := make([]*credits.Service, 4)
			for i := range workers {
				var d *db.DB
				if kind == "postgres" {
					var err error
					d, err = db.Open(context.Background(), a.db.DSN, db.Options{})
					a.check(err)
					t.Cleanup(func() { d.Close() })
				} else {
					d = a.db
				}
				workers[i] = credits.New(d.Client, d.Dialect, nil)
				a.wire(workers[i])
			}
			ran := make([]int, len(workers))
			errs = race(len(workers), func(i int) error {
				n, err := workers[i].RunDueJobs(context.Background(), fmt.Sprintf("w%d", i))
				ran[i] = n
				return err
			})
			if c := count(errs); c[""] != len(workers) {
				t.Fatalf("workers: %v", c)
			}
			payments, charges := a.vault.total()
			if payments != accounts || charges != accounts {
				t.Fatalf("%d charges over %d payments, want %d each (jobs run per worker: %v)", charges, payments, accounts, ran)
			}
			for _, acc := range accs {
				if got := a.available(acc); got != 5000*cent {
					t.Errorf("%s: balance %d, want 5000 (0 + 50)", acc.Name, got)
				}
			}
			a.verify()
		})
	}
}

// A charge with an unknown outcome (provider unreachable) keeps the payment
// on the job; the retry, and a worker that takes over a job whose worker
// died, charge that same payment (the provider's idempotency key), so it is
// credited once.
func TestAutoTopUpRetriesTheSamePayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("flaky")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			a.check(a.spend(acc, "15"))
			a.vault.failNext.Store(1)
			if _, err := a.svc.RunDueJobs(context.Background(), "test"); err == nil {
				t.Fatal("want the provider's error from the first run")
			}
			j, err := a.svc.DB().Job.Query().Where(job.AccountID(acc.ID)).Only(credits.System(context.Background()))
			a.check(err)
			if j.Status != job.StatusQUEUED || j.PaymentID == nil {
				t.Fatalf("job after an unknown outcome: %+v", j)
			}
			a.clock.advance(2 * time.Minute)
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want the retry", n)
			}
			if payments, charges := a.vault.total(); payments != 1 || charges != 1 {
				t.Fatalf("%d charges of %d payments, want 1 of 1", charges, payments)
			}
			if a.available(acc) != 5500*cent || a.autoTopUps(acc) != 1 {
				t.Fatalf("balance %d with %d top-ups, want 5500 and 1", a.available(acc), a.autoTopUps(acc))
			}
			a.verify()
		})
	}
}

// A charge the provider is still processing is neither a success nor a
// decline: the job waits (without charging again) until the provider's
// webhook settles the payment, and a new debit queues no second top-up.
func TestAutoTopUpWaitsForTheProvider(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("processing")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			a.vault.processing.Store(true)
			a.check(a.spend(acc, "15"))
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want 1", n)
			}
			p, err := a.svc.DB().Payment.Query().Where(payment.AccountID(acc.ID), payment.OriginEQ(payment.OriginAUTO_TOPUP)).Only(a.sys())
			a.check(err)
			if p.Status != payment.StatusPENDING || p.ProviderRef == "" {
				t.Fatalf("payment while the provider processes: %+v", p)
			}
			a.check(a.spend(acc, "1"))
			if a.jobsInFlight(acc) != 1 {
				t.Fatalf("%d top-ups in flight, want the waiting one only", a.jobsInFlight(acc))
			}
			a.clock.advance(time.Minute)
			a.runJobs()
			if payments, charges := a.vault.total(); payments != 1 || charges != 1 {
				t.Fatalf("%d charges of %d payments while waiting, want 1 of 1", charges, payments)
			}
			a.check(a.svc.SettlePayment(a.sys(), p.ID, p.ProviderRef)) // the webhook
			a.clock.advance(time.Minute)
			if n := a.runJobs(); n != 1 || a.jobsInFlight(acc) != 0 {
				t.Fatalf("after the webhook: ran %d jobs, %d still in flight", n, a.jobsInFlight(acc))
			}
			if r := a.topUpRule(acc); r.LastTopupAt == nil || r.ConsecutiveFailures != 0 {
				t.Errorf("rule after the settled top-up: %+v", r)
			}
			if a.available(acc) != 5400*cent || a.autoTopUps(acc) != 1 {
				t.Errorf("balance %d with %d top-ups, want 5400 and 1", a.available(acc), a.autoTopUps(acc))
			}
			a.verify()
		})
	}
}

// Three top-ups of one balance within ten minutes pause the rule (something
// spends in a loop); a monthly cap holds the next top-up until next month.
func TestAutoTopUpRunawayAndMonthlyCap(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			loop := a.client("loop")
			a.fund(loop, "20")
			a.rule(loop, a.card(loop, "pm_card_visa"), "10", "20", topuprule.ModeFIXED)
			for i := range 4 {
				a.check(a.spend(loop, "20"))
				a.runJobs()
				a.clock.advance(time.Minute)
				if i < 3 && a.autoTopUps(loop) != i+1 {
					t.Fatalf("round %d: %d top-ups", i, a.autoTopUps(loop))
				}
			}
			r := a.topUpRule(loop)
			if a.autoTopUps(loop) != 3 || r.PausedAt == nil || !strings.Contains(deref(r.PauseReason), "3 top-ups within") {
				t.Fatalf("want a runaway pause after 3 top-ups; got %d top-ups, rule %+v", a.autoTopUps(loop), r)
			}

			capped := a.client("capped")
			a.fund(capped, "50")
			c := a.card(capped, "pm_card_visa")
			cap := money.Decimal("100")
			_, err := a.svc.SetAutoTopUp(a.owner(capped), credits.TopUpSettings{Enabled: true, Threshold: "10",
				Amount: "40", Mode: topuprule.ModeFIXED, CardID: c.ID, MonthlyCap: &cap})
			a.check(err)
			for _, amount := range []string{"45", "45", "40"} { // 5 +40, 0 +40, 0: capped
				a.check(a.spend(capped, amount))
				a.runJobs()
				a.clock.advance(20 * time.Minute)
			}
			if got := a.autoTopUps(capped); got != 2 {
				t.Fatalf("%d top-ups under a cap of 100 at 40 each, want 2", got)
			}
			r = a.topUpRule(capped)
			if r.RetryAfter == nil || !r.RetryAfter.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)) || !strings.Contains(deref(r.LastFailureReason), "monthly cap") {
				t.Fatalf("rule under its cap: %+v", r)
			}
			spent, err := a.svc.TopUpSpentThisMonth(a.sys(), r)
			a.check(err)
			if spent != 8000*cent {
				t.Errorf("spent this month %d, want 8000", spent)
			}
			a.clock.advance(21 * 24 * time.Hour) // into December
			if a.runJobs() != 1 || a.autoTopUps(capped) != 3 {
				t.Errorf("next month: %d top-ups, want 3", a.autoTopUps(capped))
			}
			a.verify()
		})
	}
}

// The alert email goes out once when the balance falls below the threshold,
// not once per debit; again a day later while still low; and the alert shows
// RECOVERED once the balance is back up.
func TestLowBalanceAlert(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("Acme")
			a.fund(acc, "20")
			_, err := a.svc.SetLowBalanceAlert(a.owner(acc), credits.AlertSettings{Enabled: true, Threshold: "10", Email: "Owner <owner@example.com>"})
			a.check(err)
			for range 5 {
				a.check(a.spend(acc, "3")) // 17, 14, 11, 8, 5
				a.runJobs()
			}
			if n := a.mailer.count(); n != 1 {
				t.Fatalf("%d emails after five debits, the last two below the threshold; want 1", n)
			}
			e := a.mailer.sent[0]
			if e.To != "owner@example.com" || !strings.Contains(e.Subject, "8.00 USD") || !strings.Contains(e.Text, "below your alert threshold of 10.00 USD") {
				t.Errorf("email: %+v", e)
			}
			a.clock.advance(23 * time.Hour)
			a.check(a.spend(acc, "1"))
			a.runJobs()
			if n := a.mailer.count(); n != 1 {
				t.Fatalf("%d emails within the day, want 1", n)
			}
			a.clock.advance(time.Hour)
			a.runJobs()
			if n := a.mailer.count(); n != 2 {
				t.Fatalf("%d emails a day later, want 2", n)
			}
			r, err := a.svc.DB().AlertRule.Query().Where(alertrule.AccountID(acc.ID)).Only(a.sys())
			a.check(err)
			if r.State != alertrule.StateLOW || r.LowSince == nil || r.LastSentAt == nil {
				t.Fatalf("alert while low: %+v", r)
			}
			a.fund(acc, "20") // 24
			a.runJobs()
			r, err = a.svc.DB().AlertRule.Query().Where(alertrule.AccountID(acc.ID)).Only(a.sys())
			a.check(err)
			if r.State != alertrule.StateRECOVERED || r.RecoveredAt == nil {
				t.Fatalf("alert after recovery: %+v", r)
			}
			a.clock.advance(48 * time.Hour)
			a.runJobs()
			if n := a.mailer.count(); n != 2 {
				t.Fatalf("%d emails after recovery, want still 2", n)
			}
			a.check(a.spend(acc, "20")) // 4: low again
			a.runJobs()
			if n := a.mailer.count(); n != 3 {
				t.Fatalf("%d emails after falling low again, want 3", n)
			}
			a.verify()
		})
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
