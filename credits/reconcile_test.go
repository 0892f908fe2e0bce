package credits_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/invoice"
	"creditgate/ent/payment"
	"creditgate/gid"
	"creditgate/money"
)

// crashAfterCharge makes the next purchase die after its provider answered
// and before the answer is recorded, and returns the payment left behind.
func crashAfterCharge(t *testing.T, w *world, acc *ent.Account, amount string, key *string) *ent.Payment {
	t.Helper()
	var crashed gid.ID
	w.svc.SetAfterCharge(func(id gid.ID) error { crashed = id; return errInjected })
	d := money.Decimal(amount)
	_, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.BuyCredits{Amount: &d, Method: "CARD", IdempotencyKey: key})
	w.svc.SetAfterCharge(nil)
	if !errors.Is(err, errInjected) || crashed == "" {
		t.Fatalf("purchase: %v, want the injected crash", err)
	}
	pay := w.payment(crashed)
	if pay.Status != payment.StatusPENDING || pay.ProviderRef != "" || w.available(acc) != 0 {
		t.Fatalf("after the crash: %s ref %q balance %d; want PENDING, no reference, nothing credited", pay.Status, pay.ProviderRef, w.available(acc))
	}
	return pay
}

func (w *world) payment(id gid.ID) *ent.Payment {
	w.t.Helper()
	p, err := w.svc.DB().Payment.Query().Where(payment.ID(id)).Only(w.sys())
	w.check(err)
	return p
}

// A purchase whose process died between its payment row and its
// settlement: a retry with the same key answers the real outcome at once
// (COMPLETED, credited exactly once), and so does every retry after it.
func TestRetryAfterCrashCompletes(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("crash")
			key := strp("buy-after-crash")
			pay := crashAfterCharge(t, w, acc, "25", key)

			d := money.Decimal("25")
			var first *credits.Purchase
			for i := range 3 {
				start := time.Now()
				p, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.BuyCredits{Amount: &d, Method: "CARD", IdempotencyKey: key})
				w.check(err)
				if took := time.Since(start); took > 2*time.Second {
					t.Fatalf("retry %d took %s", i, took)
				}
				if p.Status != credits.PurchaseCompleted || p.Transaction == nil || p.Payment.ID != pay.ID ||
					p.Payment.Status != payment.StatusSUCCEEDED || p.Balance.Available != 2500*cent {
					t.Fatalf("retry %d: %+v, want COMPLETED with its transaction and 25.00", i, p)
				}
				if first == nil {
					first = p
				} else if p.Transaction.ID != first.Transaction.ID {
					t.Fatalf("retry %d answered transaction %s, the first %s", i, p.Transaction.ID, first.Transaction.ID)
				}
			}
			if got := w.payment(pay.ID); got.TransactionID == nil || *got.TransactionID != first.Transaction.ID || got.ProviderRef != "sandbox_"+string(pay.ID) {
				t.Fatalf("payment row %+v, want the transaction answered and the sandbox's reference", got)
			}
			if w.available(acc) != 2500*cent || w.historyLen(acc) != 1 {
				t.Fatalf("balance %d, %d transactions; want 2500 credited once", w.available(acc), w.historyLen(acc))
			}
			w.verify()
		})
	}
}

// The job workers reconcile a payment left stale by a crash with no retry:
// not while it may still be in flight, then once, and never twice.
func TestReconcileJobCompletesStalePayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("stale")
			pay := crashAfterCharge(t, w, acc, "40", nil)
			now := time.Now()
			w.svc.SetClock(func() time.Time { return now })
			_, err := w.svc.RunDueJobs(context.Background(), "w1")
			w.check(err)
			if got := w.payment(pay.ID); got.Status != payment.StatusPENDING || w.available(acc) != 0 {
				t.Fatalf("a fresh payment was reconciled: %s, balance %d", got.Status, w.available(acc))
			}
			now = now.Add(5 * time.Minute)
			_, err = w.svc.RunDueJobs(context.Background(), "w1")
			w.check(err)
			got := w.payment(pay.ID)
			if got.Status != payment.StatusSUCCEEDED || got.TransactionID == nil || w.available(acc) != 4000*cent {
				t.Fatalf("after the job: %s, balance %d; want SUCCEEDED and 40.00 credited", got.Status, w.available(acc))
			}
			now = now.Add(time.Hour)
			_, err = w.svc.RunDueJobs(context.Background(), "w2")
			w.check(err)
			if w.available(acc) != 4000*cent || w.historyLen(acc) != 1 {
				t.Fatalf("balance %d, %d transactions; want 40.00 credited once", w.available(acc), w.historyLen(acc))
			}
			w.verify()
		})
	}
}

// ghost is a provider that lost every charge: it knows none.
type ghost struct{ deferred }

func (*ghost) Name() string { return "deferred" }
func (*ghost) Lookup(context.Context, gid.ID, string) (credits.ChargeResult, bool, error) {
	return credits.ChargeResult{}, false, nil
}

// A stale payment its provider never got is failed after a while, and
// nothing is credited.
func TestReconcileJobFailsPaymentTheProviderNeverGot(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("ghost")
			w.svc.UseProvider("CARD", &ghost{})
			pay := crashAfterCharge(t, w, acc, "10", nil)
			now := time.Now()
			w.svc.SetClock(func() time.Time { return now.Add(5 * time.Minute) })
			_, err := w.svc.RunDueJobs(context.Background(), "w1")
			w.check(err)
			if got := w.payment(pay.ID); got.Status != payment.StatusPENDING {
				t.Fatalf("failed too soon: %s", got.Status)
			}
			w.svc.SetClock(func() time.Time { return now.Add(2 * time.Hour) })
			_, err = w.svc.RunDueJobs(context.Background(), "w1")
			w.check(err)
			if got := w.payment(pay.ID); got.Status != payment.StatusFAILED || got.FailureReason == nil || w.available(acc) != 0 {
				t.Fatalf("after giving up: %s %v, balance %d; want FAILED with a reason, nothing credited", got.Status, got.FailureReason, w.available(acc))
			}
			w.verify()
		})
	}
}

// A COMMIT whose answer is lost (the connection drops after the server
// committed) answers the success it was, with the transaction written:
// buyCredits (both of its transactions), payInvoiceWithCredit,
// buyServiceWithCredit and allocateCredits, with and without a key.
func TestCommitLostAnswersTheTruth(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("lost")
			// Made before commits are lost: the admin mutations are no money
			// mutations, and a lost COMMIT answer is their error.
			inv := w.invoice(acc, "INV-LOST", "12")
			sms := w.service("SMS", "1")
			lost := 0
			w.svc.SetCommitLost(func() error { lost++; return errors.New("read tcp: connection reset by peer") })
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			for _, key := range []*string{nil, strp("buy-lost")} {
				d := money.Decimal("30")
				p, err := w.svc.BuyCredits(owner, credits.BuyCredits{Amount: &d, Method: "CARD", IdempotencyKey: key})
				w.check(err)
				if p.Status != credits.PurchaseCompleted || p.Transaction == nil || p.Payment.Status != payment.StatusSUCCEEDED {
					t.Fatalf("buyCredits: %+v, want COMPLETED", p)
				}
				if row := w.payment(p.Payment.ID); row.TransactionID == nil || *row.TransactionID != p.Transaction.ID {
					t.Fatalf("buyCredits answered transaction %s, the payment has %v", p.Transaction.ID, row.TransactionID)
				}
			}
			if w.available(acc) != 6000*cent || w.historyLen(acc) != 2 {
				t.Fatalf("balance %d, %d transactions; want 60.00 in two", w.available(acc), w.historyLen(acc))
			}

			ip, err := w.svc.PayInvoiceWithCredit(owner, inv.ID, nil)
			w.check(err)
			row, err := w.svc.DB().Invoice.Query().Where(invoice.ID(inv.ID)).Only(w.sys())
			w.check(err)
			if row.Status != invoice.StatusPAID || row.TransactionID == nil || *row.TransactionID != ip.Transaction.ID || ip.Balance.Available != 4800*cent {
				t.Fatalf("payInvoiceWithCredit: %+v (invoice %s %v)", ip, row.Status, row.TransactionID)
			}

			for _, key := range []*string{nil, strp("svc-lost")} {
				sp, err := w.svc.BuyServiceWithCredit(owner, sms.ID, nil, 3, key)
				w.check(err)
				if sp.Transaction == nil || sp.Transaction.Amount != -300*cent {
					t.Fatalf("buyServiceWithCredit: %+v", sp)
				}
			}
			w.fund(w.pool, "10") // its commits are lost too, and land
			al, err := w.svc.AllocateCredits(w.admin("admin"), acc.ID, "5", nil, nil, strp("alloc-lost"))
			w.check(err)
			if al.Transaction == nil || al.Balance.Available != 4700*cent || al.PoolBalance.Available != 500*cent {
				t.Fatalf("allocateCredits: %+v", al)
			}
			w.svc.SetCommitLost(nil)
			if lost < 8 {
				t.Fatalf("only %d commits were lost: the hook did not run", lost)
			}
			if w.available(acc) != 4700*cent || w.available(w.pool) != 500*cent {
				t.Fatalf("balances %d and %d, want 4700 and 500", w.available(acc), w.available(w.pool))
			}
			w.verify()
		})
	}
}

// A COMMIT that failed for real (nothing committed) is still an error, and
// an INTERNAL one: never claimed as nothing done.
func TestCommitFailedStaysAnError(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("failed")
			w.fund(acc, "10")
			sms := w.service("SMS", "1")
			w.svc.SetBeforeCommit(func() error { return errInjected })
			_, err := w.svc.BuyServiceWithCredit(w.as(auth.RoleClient, "u", acc.ID), sms.ID, nil, 1, nil)
			w.svc.SetBeforeCommit(nil)
			if !errors.Is(err, errInjected) || codeOf(err) != credits.CodeInternal {
				t.Fatalf("%v (%s), want the injected failure as INTERNAL", err, codeOf(err))
			}
			if w.available(acc) != 1000*cent {
				t.Fatalf("balance %d", w.available(acc))
			}
			w.verify()
		})
	}
}

// A database that refuses connections before anything was done is
// UNAVAILABLE with a retryAfter; errors of unknown outcome are not.
func TestUnreachableDatabaseIsUnavailable(t *testing.T) {
	sqldb, err := sql.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	svc := credits.New(db.NewClient(entsql.OpenDB(dialect.Postgres, sqldb)), dialect.Postgres, nil)
	ctx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "sys", Role: auth.RoleSystemAdmin})
	acc := gid.New(gid.Account)
	d := money.Decimal("5")
	_, err = svc.BuyCredits(ctx, credits.BuyCredits{AccountID: &acc, Amount: &d, Method: "CARD", IdempotencyKey: strp("k")})
	if codeOf(err) != credits.CodeUnavailable || credits.RetryAfter(err) < 1 {
		t.Fatalf("buyCredits on a refused database: %v (%s, retry after %d), want UNAVAILABLE with retryAfter", err, codeOf(err), credits.RetryAfter(err))
	}
	_, err = svc.AllocateCredits(ctx, acc, "5", nil, nil, nil)
	if codeOf(err) != credits.CodeUnavailable {
		t.Fatalf("allocateCredits on a refused database: %v (%s), want UNAVAILABLE", err, codeOf(err))
	}
	if c := codeOf(errors.New("committing: read tcp: connection reset by peer")); c != credits.CodeInternal {
		t.Fatalf("a bare connection error is %s: only what knows nothing was done may say UNAVAILABLE", c)
	}
}
