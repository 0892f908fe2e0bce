package credits_test

import (
	"context"
	"sync"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/auditevent"
	"creditgate/ent/balance"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/money"
)

// refuser charges at once and refuses every refund: a provider saying no.
type refuser struct{}

func (refuser) Name() string { return "refuser" }
func (refuser) Charge(_ context.Context, r credits.ChargeRequest) (credits.ChargeResult, error) {
	return credits.ChargeResult{Status: credits.ChargeSucceeded, ProviderRef: "ref_" + string(r.PaymentID)}, nil
}
func (refuser) Lookup(context.Context, gid.ID, string) (credits.ChargeResult, bool, error) {
	return credits.ChargeResult{}, false, nil
}
func (refuser) Refund(context.Context, credits.RefundRequest) (credits.RefundResult, error) {
	return credits.RefundResult{}, &credits.RefundRefused{Reason: "charge_disputed: the charge is disputed"}
}

// buy buys amount by method as the system and returns its payment.
func (w *world) buy(acc *ent.Account, method, amount string) *ent.Payment {
	w.t.Helper()
	d := money.Decimal(amount)
	p, err := w.svc.BuyCredits(w.sys(), credits.BuyCredits{AccountID: &acc.ID, Amount: &d, Method: "CARD"})
	if method != "CARD" {
		p, err = w.svc.BuyCredits(w.sys(), credits.BuyCredits{AccountID: &acc.ID, Amount: &d, Method: "PAYPAL"})
	}
	w.check(err)
	if p.Status != credits.PurchaseCompleted {
		w.t.Fatalf("purchase %s", p.Status)
	}
	return p.Payment
}

func (w *world) refund(pay *ent.Payment, amount string) (*credits.Correction, error) {
	r := credits.Refund{PaymentID: pay.ID, Reason: strp("customer asked")}
	if amount != "" {
		d := money.Decimal(amount)
		r.Amount = &d
	}
	return w.svc.RefundPayment(w.admin("admin-1"), r)
}

func (w *world) owed(acc *ent.Account) int64 {
	w.t.Helper()
	b, err := w.svc.DB().Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency("USD")).Only(w.sys())
	w.check(err)
	return b.Owed
}

func (w *world) spend(acc *ent.Account, number, amount string) {
	w.t.Helper()
	inv := w.invoice(acc, number, amount)
	_, err := w.svc.PayInvoiceWithCredit(w.sys(), inv.ID, nil)
	w.check(err)
}

// Partial then whole refund through the sandbox: the credits go in
// proportion, the last refund takes the rest; nothing more can be
// refunded; a refusing provider gives the credits back.
func TestRefundPayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("acme")
			pay := w.buy(acc, "CARD", "100")

			c, err := w.refund(pay, "30")
			w.check(err)
			if c.Transaction.Kind != posting.KindREFUND || c.Transaction.Amount != -3000*cent || c.Balance.Available != 7000*cent ||
				c.Payment.Refunded != 3000*cent || c.Transaction.PaymentID == nil || *c.Transaction.PaymentID != pay.ID ||
				c.Transaction.Reason == nil || *c.Transaction.Reason != "customer asked" || c.Transaction.Actor != "admin-1" {
				t.Fatalf("first refund: %+v %+v", c.Transaction, c.Payment)
			}
			w.verify()
			if _, err := w.refund(pay, "70.01"); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("refund beyond what is left: %v, want BAD_USER_INPUT", err)
			}
			c, err = w.refund(pay, "") // the rest
			w.check(err)
			if c.Transaction.Amount != -7000*cent || c.Balance.Available != 0 || c.Payment.Refunded != 10000*cent {
				t.Fatalf("whole refund: %+v", c.Transaction)
			}
			if _, err := w.refund(pay, ""); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("refund of a refunded payment: %v, want BAD_USER_INPUT", err)
			}
			got, err := w.svc.PaymentOf(w.sys(), c.Transaction)
			w.check(err)
			if got == nil || got.ID != pay.ID {
				t.Fatalf("PaymentOf the refund: %v", got)
			}
			w.verify()

			// Spent credits: INSUFFICIENT_CREDITS, nothing recorded.
			pay2 := w.buy(acc, "CARD", "10")
			w.spend(acc, "INV-1", "5")
			if _, err := w.refund(pay2, ""); codeOf(err) != credits.CodeInsufficientCredits {
				t.Fatalf("refund of spent credits: %v, want INSUFFICIENT_CREDITS", err)
			}
			if p := w.payment(pay2.ID); p.Refunded != 0 {
				t.Fatalf("refused refund recorded %d", p.Refunded)
			}
			w.verify()

			// Clients may not; another agency's admin does not see it.
			if _, err := w.svc.RefundPayment(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.Refund{PaymentID: pay2.ID}); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("owner: %v, want FORBIDDEN", err)
			}
			other, err := w.svc.CreateAgency(w.sys(), credits.NewAgency{Name: "Other", DefaultCurrency: "USD", CreditPaymentsEnabled: true})
			w.check(err)
			octx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "x", Role: auth.RoleAgencyAdmin, AgencyID: string(other.ID)})
			if _, err := w.svc.RefundPayment(octx, credits.Refund{PaymentID: pay2.ID}); codeOf(err) != credits.CodeNotFound {
				t.Fatalf("other agency: %v, want NOT_FOUND", err)
			}

			// The provider refuses: the credits are back, refunded is not.
			w.svc.UseProvider("PAYPAL", refuser{})
			pay3 := w.buy(acc, "PAYPAL", "20")
			before := w.available(acc)
			_, err = w.refund(pay3, "20")
			if codeOf(err) != credits.CodeNotEligible || err == nil {
				t.Fatalf("refused refund: %v, want NOT_ELIGIBLE saying why", err)
			}
			if w.available(acc) != before || w.payment(pay3.ID).Refunded != 0 {
				t.Fatalf("after the refusal: balance %d (was %d), refunded %d", w.available(acc), before, w.payment(pay3.ID).Refunded)
			}
			w.verify()
		})
	}
}

// A refund made at the provider for a payment whose credits are half
// spent: REFUND of the half, the other half owed; replays and concurrent
// deliveries apply once; the next credits (an allocation, a purchase) pay
// what is owed first.
func TestProviderRefundOwed(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("acme")
			pay := w.buy(acc, "CARD", "100")
			w.spend(acc, "INV-1", "50")
			ev := credits.ProviderRefund{PaymentID: pay.ID, Provider: "sandbox", Total: 10000, Cumulative: true,
				EventID: "evt_1", What: "charge.refunded evt_1", Action: "stripeWebhook"}
			var wg sync.WaitGroup
			applied := make(chan bool, 5)
			for range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := w.svc.ApplyProviderRefund(context.Background(), ev)
					if err != nil {
						t.Error(err)
					}
					applied <- ok
				}()
			}
			wg.Wait()
			close(applied)
			n := 0
			for ok := range applied {
				if ok {
					n++
				}
			}
			if n != 1 || w.available(acc) != 0 || w.owed(acc) != 5000*cent || w.payment(pay.ID).Refunded != 10000*cent {
				t.Fatalf("applied %d times; balance %d owed %d refunded %d", n, w.available(acc), w.owed(acc), w.payment(pay.ID).Refunded)
			}
			w.verify()
			// Another event with an older or equal total changes nothing.
			ev.EventID, ev.Total = "evt_0", 4000
			if ok, err := w.svc.ApplyProviderRefund(context.Background(), ev); err != nil || ok {
				t.Fatalf("older total: %v %v", ok, err)
			}

			// An allocation of 20 pays 20 of the 50 owed.
			w.fund(w.pool, "100")
			_, err := w.svc.AllocateCredits(w.sys(), acc.ID, "20", nil, nil, nil)
			w.check(err)
			if w.available(acc) != 0 || w.owed(acc) != 3000*cent {
				t.Fatalf("after allocating 20: balance %d owed %d", w.available(acc), w.owed(acc))
			}
			w.verify()
			// A purchase of 40 shows in full, pays the 30 left, 10 lands.
			n0 := w.historyLen(acc)
			p := w.buy(acc, "CARD", "40")
			if p.Edges.Transaction == nil || p.Edges.Transaction.Amount != 4000*cent {
				t.Fatalf("purchase transaction %+v", p.Edges.Transaction)
			}
			if w.available(acc) != 1000*cent || w.owed(acc) != 0 || w.historyLen(acc) != n0+2 {
				t.Fatalf("after buying 40: balance %d owed %d history +%d", w.available(acc), w.owed(acc), w.historyLen(acc)-n0)
			}
			w.verify()
			// Nothing is owed now: the next credit lands in full.
			w.fund(acc, "5")
			if w.available(acc) != 1500*cent {
				t.Fatalf("balance %d", w.available(acc))
			}
			// A dispute applies once under its id, within what is left.
			pay2 := w.buy(acc, "CARD", "10")
			d := credits.ProviderRefund{PaymentID: pay2.ID, Provider: "sandbox", Total: 1000, EventID: "dp_1", What: "dispute dp_1", Action: "stripeWebhook"}
			for range 2 {
				if _, err := w.svc.ApplyProviderRefund(context.Background(), d); err != nil {
					t.Fatal(err)
				}
			}
			if w.available(acc) != 1500*cent || w.payment(pay2.ID).Refunded != 1000*cent {
				t.Fatalf("after the dispute: balance %d refunded %d", w.available(acc), w.payment(pay2.ID).Refunded)
			}
			if n, err := w.svc.DB().AuditEvent.Query().Where(auditevent.Action("stripeWebhook")).Count(w.sys()); err != nil || n != 2 {
				t.Fatalf("audit events %d %v", n, err)
			}
			w.verify()
		})
	}
}
