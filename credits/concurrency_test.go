package credits_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/invoice"
	"creditgate/gid"
	"creditgate/money"
)

// race runs n goroutines released together and collects their errors.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

func count(errs []error) tally {
	t := tally{}
	for _, err := range errs {
		t[codeOf(err)]++
	}
	return t
}

// 200 goroutines pay invoices and buy services from one account funded for
// exactly 50 of them: exactly 50 succeed, the rest are refused for
// insufficient credits, the balance ends at zero and the ledger verifies.
func TestRaceSpendOneAccount(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			const racers, affordable = 200, 50
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, fmt.Sprint(affordable)) // 50.00: each spend is 1.00
			sms := w.service("SMS", "0.25")     // 4 units = 1.00
			invoices := make([]*ent.Invoice, racers)
			for i := range racers {
				if i%2 == 0 {
					invoices[i] = w.invoice(acc, fmt.Sprintf("INV-%03d", i), "1")
				}
			}
			ctx := w.as(auth.RoleClient, "user", acc.ID)
			errs := race(racers, func(i int) error {
				if invoices[i] != nil {
					_, err := w.svc.PayInvoiceWithCredit(ctx, invoices[i].ID, nil)
					return err
				}
				_, err := w.svc.BuyServiceWithCredit(ctx, sms.ID, nil, 4, nil)
				return err
			})
			got := count(errs)
			if got[""] != affordable || got[credits.CodeInsufficientCredits] != racers-affordable {
				t.Fatalf("outcomes %v: want %d successes and %d INSUFFICIENT_CREDITS", got, affordable, racers-affordable)
			}
			if b := w.available(acc); b != 0 {
				t.Fatalf("balance = %d, want 0", b)
			}
			paid, err := w.db.Client.Invoice.Query().Where(invoice.StatusEQ(invoice.StatusPAID)).Count(w.sys())
			w.check(err)
			paidOK := 0
			for i, err := range errs {
				if invoices[i] != nil && err == nil {
					paidOK++
				}
			}
			if paid != paidOK {
				t.Fatalf("%d invoices PAID but %d payments succeeded", paid, paidOK)
			}
			if n := w.historyLen(acc); n != affordable+1 {
				t.Fatalf("history has %d transactions, want %d", n, affordable+1)
			}
			w.verify()
		})
	}
}

// Racing payments of one invoice: exactly one pays, the others get
// ALREADY_PAID and pay nothing.
func TestRacePayOneInvoice(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("payer")
			w.fund(acc, "100")
			inv := w.invoice(acc, "INV-1", "30")
			errs := race(20, func(i int) error {
				_, err := w.svc.PayInvoiceWithCredit(w.as(auth.RoleClient, fmt.Sprint("user", i), acc.ID), inv.ID, nil)
				return err
			})
			if got := count(errs); got[""] != 1 || got[credits.CodeAlreadyPaid] != 19 {
				t.Fatalf("outcomes %v: want 1 success and 19 ALREADY_PAID", got)
			}
			if b := w.available(acc); b != 7000*cent {
				t.Fatalf("balance = %d, want 7000", b)
			}
			w.verify()
		})
	}
}

// Concurrent retries of one idempotency key move money once and all get the
// first result; the same key with another input is CONFLICT.
func TestRaceIdempotentRetries(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("retrier")
			w.fund(w.pool, "1000")
			w.fund(acc, "100")
			sms := w.service("SMS", "0.05")
			inv := w.invoice(acc, "INV-1", "10")
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			admin := w.admin("admin")
			key := func(s string) *string { return &s }
			amount := money.Decimal("5")

			ops := []struct {
				name string
				run  func() (gid.ID, error)
			}{
				{"payInvoiceWithCredit", func() (gid.ID, error) {
					p, err := w.svc.PayInvoiceWithCredit(owner, inv.ID, key("k-invoice"))
					if err != nil {
						return "", err
					}
					return p.Transaction.ID, nil
				}},
				{"buyServiceWithCredit", func() (gid.ID, error) {
					p, err := w.svc.BuyServiceWithCredit(owner, sms.ID, nil, 10, key("k-service"))
					if err != nil {
						return "", err
					}
					return p.Transaction.ID, nil
				}},
				{"allocateCredits", func() (gid.ID, error) {
					p, err := w.svc.AllocateCredits(admin, acc.ID, "20", nil, nil, key("k-alloc"))
					if err != nil {
						return "", err
					}
					return p.Transaction.ID, nil
				}},
				{"buyCredits", func() (gid.ID, error) {
					p, err := w.svc.BuyCredits(owner, credits.BuyCredits{Amount: &amount, Method: "CARD", IdempotencyKey: key("k-buy")})
					if err != nil {
						return "", err
					}
					if p.Status != credits.PurchaseCompleted || p.Transaction == nil {
						return "", fmt.Errorf("purchase %s without transaction", p.Status)
					}
					return p.Transaction.ID, nil
				}},
			}
			before := w.historyLen(acc)
			for _, op := range ops {
				ids := make([]gid.ID, 30)
				errs := race(len(ids), func(i int) (err error) {
					ids[i], err = op.run()
					return err
				})
				for i, err := range errs {
					if err != nil {
						t.Fatalf("%s retry %d: %v", op.name, i, err)
					}
					if ids[i] != ids[0] {
						t.Fatalf("%s retry %d answered transaction %s, first answered %s", op.name, i, ids[i], ids[0])
					}
				}
			}
			if n := w.historyLen(acc); n != before+len(ops) {
				t.Fatalf("history grew by %d, want %d (one effect per key)", n-before, len(ops))
			}
			// 100 - 10 (invoice) - 0.50 (10 SMS) + 20 (allocation) + 5 (purchase)
			if b := w.available(acc); b != 11450*cent {
				t.Fatalf("balance = %d, want 11450", b)
			}
			if _, err := w.svc.BuyServiceWithCredit(owner, sms.ID, nil, 11, key("k-service")); codeOf(err) != credits.CodeConflict {
				t.Fatalf("reused key with other input: %v, want CONFLICT", err)
			}
			// A key belongs to its viewer: another user may use the same string.
			other := w.as(auth.RoleClientOwner, "someone-else", acc.ID)
			if _, err := w.svc.BuyServiceWithCredit(other, sms.ID, nil, 10, key("k-service")); err != nil {
				t.Fatalf("same key, other viewer: %v", err)
			}
			w.verify()
		})
	}
}

// Admins racing to review one request: exactly one effect, the rest CONFLICT.
func TestRaceReviewOneRequest(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("requester")
			amount := money.Decimal("75")
			p, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID),
				credits.BuyCredits{Amount: &amount, Method: "BANK_TRANSFER", Reference: strp("BT-1")})
			w.check(err)
			if p.Status != credits.PurchasePendingApproval || w.available(acc) != 0 {
				t.Fatalf("bank transfer: status %s, balance %d; want PENDING_APPROVAL and nothing credited", p.Status, w.available(acc))
			}
			errs := race(20, func(i int) error {
				ctx := w.admin(fmt.Sprint("admin", i))
				if i%2 == 0 {
					_, err := w.svc.ApproveRequest(ctx, p.Request.ID)
					return err
				}
				_, err := w.svc.RejectRequest(ctx, p.Request.ID, strp("no payment received"))
				return err
			})
			got := count(errs)
			if got[""] != 1 || got[credits.CodeConflict] != 19 {
				t.Fatalf("outcomes %v: want 1 success and 19 CONFLICT", got)
			}
			approved := false
			for i, err := range errs {
				approved = approved || (err == nil && i%2 == 0)
			}
			want := int64(0)
			if approved {
				want = 7500 * cent
			}
			if b := w.available(acc); b != want {
				t.Fatalf("balance = %d, want %d (approved: %v)", b, want, approved)
			}
			w.verify()
		})
	}
}

// A settlement webhook delivered many times at once credits once.
func TestRaceSettlePayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("card")
			prov := &deferred{}
			w.svc.UseProvider("CARD", prov)
			amount := money.Decimal("40")
			p, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.BuyCredits{Amount: &amount, Method: "CARD"})
			w.check(err)
			if p.Status != credits.PurchaseRequiresAction || p.Payment.ClientSecret == nil || w.available(acc) != 0 {
				t.Fatalf("deferred card purchase: %+v; want REQUIRES_ACTION with a client secret and nothing credited", p)
			}
			errs := race(10, func(int) error { return w.svc.SettlePayment(w.sys(), p.Payment.ID, "pi_123") })
			if got := count(errs); got[""] != 10 {
				t.Fatalf("settle outcomes %v", got)
			}
			if b := w.available(acc); b != 4000*cent {
				t.Fatalf("balance = %d, want 4000 (credited once)", b)
			}
			w.check(w.svc.FailPayment(w.sys(), p.Payment.ID, "", "late failure"))
			if b := w.available(acc); b != 4000*cent {
				t.Fatalf("a failure after success changed the balance to %d", b)
			}
			w.verify()
		})
	}
}

// deferred is a provider that, like Stripe, needs the payer to confirm.
type deferred struct{}

func (*deferred) Name() string { return "deferred" }
func (*deferred) Charge(_ context.Context, req credits.ChargeRequest) (credits.ChargeResult, error) {
	return credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: "pi_123", ClientSecret: "pi_123_secret"}, nil
}
func (d *deferred) Lookup(ctx context.Context, id gid.ID, _ string) (credits.ChargeResult, bool, error) {
	res, err := d.Charge(ctx, credits.ChargeRequest{PaymentID: id})
	return res, true, err
}

// Allocations from the pool to many clients while those clients spend:
// the lock order keeps it free of deadlocks and the ledger balanced.
func TestRaceAllocateAndSpend(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			w.fund(w.pool, "100")
			sms := w.service("SMS", "1")
			clients := make([]*ent.Account, 8)
			for i := range clients {
				clients[i] = w.client(fmt.Sprint("c", i))
			}
			errs := race(160, func(i int) error {
				c := clients[i%len(clients)]
				if i%2 == 0 {
					_, err := w.svc.AllocateCredits(w.admin("admin"), c.ID, "1", nil, nil, nil)
					return err
				}
				_, err := w.svc.BuyServiceWithCredit(w.as(auth.RoleClient, "u", c.ID), sms.ID, nil, 1, nil)
				return err
			})
			for _, err := range errs {
				if err != nil && codeOf(err) != credits.CodeInsufficientCredits {
					t.Fatalf("unexpected error: %v", err)
				}
			}
			var total int64
			for _, c := range clients {
				total += w.available(c)
			}
			if total+w.available(w.pool) > 10000*cent {
				t.Fatalf("credits appeared: clients %d + pool %d > 10000", total, w.available(w.pool))
			}
			w.verify()
		})
	}
}

func strp(s string) *string { return &s }
