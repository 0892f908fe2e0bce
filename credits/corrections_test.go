package credits_test

import (
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/auditevent"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/money"
)

// audits counts the audit events of action.
func (w *world) audits(action string) int {
	w.t.Helper()
	n, err := w.db.Client.AuditEvent.Query().Where(auditevent.Action(action)).Count(credits.System(w.sys()))
	w.check(err)
	return n
}

// 20 admins reverse one invoice payment at once: exactly one reversal, the
// invoice OPEN once, the balance credited once, one audit event.
func TestRaceReverseInvoicePayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			const racers = 20
			w := newWorld(t, kind)
			acc := w.client("payer")
			w.fund(acc, "100")
			inv := w.invoice(acc, "INV-1", "40")
			paid, err := w.svc.PayInvoiceWithCredit(w.as(auth.RoleClient, "u", acc.ID), inv.ID, nil)
			w.check(err)
			if w.available(acc) != 60*100*cent {
				t.Fatalf("after paying: %d", w.available(acc))
			}
			errs := race(racers, func(i int) error {
				_, err := w.svc.ReverseTransaction(w.admin("admin"), paid.Transaction.ID, "paid by mistake", nil)
				return err
			})
			if got := count(errs); got[""] != 1 || got[credits.CodeConflict] != racers-1 {
				t.Fatalf("outcomes %v: want 1 success and %d CONFLICT", got, racers-1)
			}
			if b := w.available(acc); b != 100*100*cent {
				t.Fatalf("balance %d, want 100.00 back", b)
			}
			n, err := w.db.Client.Posting.Query().Where(posting.KindEQ(posting.KindREVERSAL), posting.AccountIDNotNil()).Count(w.sys())
			w.check(err)
			if n != 1 {
				t.Fatalf("%d reversal postings, want 1", n)
			}
			got, err := w.db.Client.Invoice.Get(w.sys(), inv.ID)
			w.check(err)
			if got.Status != invoice.StatusOPEN || got.PaidAt != nil || got.TransactionID != nil {
				t.Fatalf("invoice %s paid_at %v transaction %v, want OPEN without either", got.Status, got.PaidAt, got.TransactionID)
			}
			if a := w.audits("reverseTransaction"); a != 1 {
				t.Fatalf("%d audit events, want 1", a)
			}
			w.verify()

			// The reopened invoice can be paid again, and that payment
			// reversed in its turn.
			again, err := w.svc.PayInvoiceWithCredit(w.as(auth.RoleClient, "u", acc.ID), inv.ID, nil)
			w.check(err)
			if _, err := w.svc.ReverseTransaction(w.admin("admin"), again.Transaction.ID, "again", nil); err != nil {
				t.Fatal(err)
			}
			w.verify()
		})
	}
}

// Racing reversals of a transaction without an invoice: the unique index
// on reverses_id decides (CONFLICT for the losers), the balance is credited
// once.
func TestRaceReverseAdjustment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			const racers = 10
			w := newWorld(t, kind)
			acc := w.client("c")
			w.fund(acc, "10")
			out, err := w.svc.AdjustBalance(w.admin("admin"), credits.Adjustment{AccountID: acc.ID, Amount: "4", Reason: "fee"})
			w.check(err)
			errs := race(racers, func(i int) error {
				_, err := w.svc.ReverseTransaction(w.admin("admin"), out.Transaction.ID, "fee waived", nil)
				return err
			})
			if got := count(errs); got[""] != 1 || got[credits.CodeConflict] != racers-1 {
				t.Fatalf("outcomes %v: want 1 success and %d CONFLICT", got, racers-1)
			}
			if b := w.available(acc); b != 10*100*cent {
				t.Fatalf("balance %d, want 10.00", b)
			}
			w.verify()
		})
	}
}

// An allocation has two account legs: either may be named, and the
// journal is reversed once. Both legs link to their side of the reversal.
func TestReverseAllocationOncePerJournal(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			w.fund(w.pool, "100")
			acc := w.client("c")
			admin := w.admin("admin")
			al, err := w.svc.AllocateCredits(admin, acc.ID, "30", nil, nil, nil)
			w.check(err)
			poolLeg, err := w.db.Client.Posting.Query().
				Where(posting.JournalID(al.Transaction.JournalID), posting.AccountID(w.pool.ID)).Only(w.sys())
			w.check(err)

			// Spent down to 10: taking 30 back is not covered.
			_, err = w.svc.BuyServiceWithCredit(w.as(auth.RoleClient, "u", acc.ID), w.service("S", "20").ID, nil, 1, nil)
			w.check(err)
			if _, err := w.svc.ReverseTransaction(admin, poolLeg.ID, "wrong client", nil); codeOf(err) != credits.CodeInsufficientCredits {
				t.Fatalf("reversing an allocation that is spent: %v, want INSUFFICIENT_CREDITS", err)
			}
			w.fund(acc, "30")

			c, err := w.svc.ReverseTransaction(admin, poolLeg.ID, "wrong client", nil)
			w.check(err)
			if c.Transaction.Kind != posting.KindREVERSAL || *c.Transaction.AccountID != w.pool.ID || c.Transaction.Amount != 30*100*cent {
				t.Fatalf("answer %+v: want the pool's REVERSAL IN of 30.00", c.Transaction)
			}
			if c.Balance.Available != 100*100*cent {
				t.Fatalf("pool balance after %d, want 100.00", c.Balance.Available)
			}
			if w.available(acc) != 10*100*cent {
				t.Fatalf("client balance %d, want 10.00", w.available(acc))
			}
			if _, err := w.svc.ReverseTransaction(admin, al.Transaction.ID, "again", nil); codeOf(err) != credits.CodeConflict {
				t.Fatalf("reversing the other leg: %v, want CONFLICT", err)
			}
			if _, err := w.svc.ReverseTransaction(admin, poolLeg.ID, "again", nil); codeOf(err) != credits.CodeConflict {
				t.Fatalf("reversing twice: %v, want CONFLICT", err)
			}
			if _, err := w.svc.ReverseTransaction(admin, c.Transaction.ID, "undo the undo", nil); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("reversing a reversal: %v, want BAD_USER_INPUT", err)
			}

			// Each leg links to the reversal on its own account, and back.
			for _, leg := range []*ent.Posting{al.Transaction, poolLeg} {
				r, err := w.svc.ReversalOf(admin, leg)
				w.check(err)
				if r == nil || *r.AccountID != *leg.AccountID || r.Kind != posting.KindREVERSAL || r.Amount != -leg.Amount {
					t.Fatalf("reversal of %s: %+v", leg.ID, r)
				}
				back, err := w.svc.Reversed(admin, r)
				w.check(err)
				if back == nil || back.ID != leg.ID {
					t.Fatalf("%s reverses %+v, want %s", r.ID, back, leg.ID)
				}
				if again, err := w.svc.ReversalOf(admin, r); err != nil || again != nil {
					t.Fatalf("a reversal's reversal: %v %v, want none", again, err)
				}
			}
			if a := w.audits("reverseTransaction"); a != 1 {
				t.Fatalf("%d audit events, want 1", a)
			}
			w.verify()
		})
	}
}

// What a reversal does per kind: debits are credited back, credits taken
// back when covered, provider money refused.
func TestReverseKinds(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("c")
			w.fund(acc, "50")
			admin := w.admin("admin")
			client := w.as(auth.RoleClient, "u", acc.ID)

			purchase, err := w.db.Client.Posting.Query().
				Where(posting.AccountID(acc.ID), posting.KindEQ(posting.KindPURCHASE)).Only(w.sys())
			w.check(err)
			if _, err := w.svc.ReverseTransaction(admin, purchase.ID, "no", nil); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("reversing a PURCHASE: %v, want BAD_USER_INPUT", err)
			}

			sp, err := w.svc.BuyServiceWithCredit(client, w.service("S", "5").ID, nil, 2, nil)
			w.check(err)
			c, err := w.svc.ReverseTransaction(admin, sp.Transaction.ID, "not delivered", nil)
			w.check(err)
			if c.Transaction.Amount != 10*100*cent || c.Balance.Available != 50*100*cent || c.Transaction.Reason == nil || *c.Transaction.Reason != "not delivered" || c.Transaction.Actor != "admin" {
				t.Fatalf("service purchase reversed: %+v, balance %d", c.Transaction, c.Balance.Available)
			}

			in, err := w.svc.AdjustBalance(admin, credits.Adjustment{AccountID: acc.ID, In: true, Amount: "5", Reason: "goodwill"})
			w.check(err)
			out, err := w.svc.AdjustBalance(admin, credits.Adjustment{AccountID: acc.ID, Amount: "55", Reason: "clawback"})
			w.check(err)
			if out.Balance.Available != 0 {
				t.Fatalf("after OUT 55: %d", out.Balance.Available)
			}
			if _, err := w.svc.ReverseTransaction(admin, in.Transaction.ID, "oops", nil); codeOf(err) != credits.CodeInsufficientCredits {
				t.Fatalf("reversing an ADJUSTMENT IN at zero: %v, want INSUFFICIENT_CREDITS", err)
			}
			if c, err = w.svc.ReverseTransaction(admin, out.Transaction.ID, "too much", nil); err != nil || c.Balance.Available != 55*100*cent {
				t.Fatalf("reversing an ADJUSTMENT OUT: %v, %+v", err, c)
			}
			if c, err = w.svc.ReverseTransaction(admin, in.Transaction.ID, "oops", nil); err != nil || c.Balance.Available != 50*100*cent {
				t.Fatalf("reversing an ADJUSTMENT IN: %v, %+v", err, c)
			}

			// A request's credit is taken back like any credit.
			amt := money.Decimal("7")
			p, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			w.check(err)
			rv, err := w.svc.ApproveRequest(admin, p.Request.ID)
			w.check(err)
			if c, err = w.svc.ReverseTransaction(admin, *rv.Request.TransactionID, "transfer bounced", nil); err != nil || c.Balance.Available != 50*100*cent {
				t.Fatalf("reversing REQUEST_APPROVED: %v, %+v", err, c)
			}
			if a := w.audits("reverseTransaction"); a != 4 {
				t.Fatalf("%d audit events, want 4 (one per reversal)", a)
			}
			w.verify()
		})
	}
}

// A service key reverses the USAGE of its agency, with USAGE_WRITE, and
// nothing else.
func TestReverseUsageByService(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("c")
			w.fund(acc, "10")
			sms := w.service("SMS", "0.5")
			svc := func(scopes ...auth.Scope) *auth.Viewer {
				return &auth.Viewer{UserID: "apikey:k", Role: auth.RoleService, AgencyID: string(w.agency.ID), Scopes: scopes}
			}
			key := auth.NewContext(t.Context(), svc(auth.ScopeUsageWrite))
			q := 4
			res, err := w.svc.RecordUsage(key, []credits.UsageEvent{{AccountID: acc.ID, ServiceID: sms.ID, Quantity: &q, IdempotencyKey: "u1"}})
			w.check(err)
			if res[0].Err != nil {
				t.Fatal(res[0].Err)
			}
			usage := res[0].Transaction.ID

			noScope := auth.NewContext(t.Context(), svc(auth.ScopeHoldsWrite))
			if _, err := w.svc.ReverseTransaction(noScope, usage, "r", nil); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("without USAGE_WRITE: %v, want FORBIDDEN", err)
			}
			purchase, err := w.db.Client.Posting.Query().Where(posting.AccountID(acc.ID), posting.KindEQ(posting.KindPURCHASE)).Only(w.sys())
			w.check(err)
			if _, err := w.svc.ReverseTransaction(key, purchase.ID, "r", nil); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("a service reversing a PURCHASE: %v, want FORBIDDEN", err)
			}
			other := auth.NewContext(t.Context(), &auth.Viewer{UserID: "apikey:x", Role: auth.RoleService, AgencyID: "agy_other", Scopes: auth.AllScopes})
			if _, err := w.svc.ReverseTransaction(other, usage, "r", nil); codeOf(err) != credits.CodeNotFound {
				t.Fatalf("another agency's key: %v, want NOT_FOUND", err)
			}
			c, err := w.svc.ReverseTransaction(key, usage, "duplicate event", nil)
			w.check(err)
			if c.Balance.Available != 10*100*cent || c.Transaction.Actor != "apikey:k" {
				t.Fatalf("usage reversed: balance %d actor %q", c.Balance.Available, c.Transaction.Actor)
			}
			w.verify()
		})
	}
}

// Voiding a CREDIT_TOPUP invoice rejects its pending request with it.
func TestVoidTopUpInvoiceRejectsRequest(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("c")
			amt := money.Decimal("20")
			p, err := w.svc.BuyCredits(w.as(auth.RoleClientOwner, "owner", acc.ID), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			w.check(err)
			// The invoice a manual purchase issues: made here, so the test
			// does not depend on how buyCredits issues it.
			inv, err := w.db.Client.Invoice.Query().Where(invoice.RequestID(p.Request.ID)).Only(w.sys())
			if ent.IsNotFound(err) {
				inv, err = w.db.Client.Invoice.Create().SetAgencyID(w.agency.ID).SetAccountID(acc.ID).
					SetNumber("TOP-1").SetAmount(20 * 100 * cent).SetCurrency("USD").SetCreditEligible(false).
					SetKind(invoice.KindCREDIT_TOPUP).SetRequestID(p.Request.ID).Save(w.sys())
			}
			w.check(err)
			if _, err := w.svc.VoidInvoice(w.admin("admin"), inv.ID, "  "); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("empty reason: %v, want BAD_USER_INPUT", err)
			}
			got, err := w.svc.VoidInvoice(w.admin("admin"), inv.ID, "no transfer came")
			w.check(err)
			if got.Status != invoice.StatusVOID || got.VoidReason == nil || *got.VoidReason != "no transfer came" {
				t.Fatalf("voided: %s %v", got.Status, got.VoidReason)
			}
			req, err := w.db.Client.CreditRequest.Get(w.sys(), p.Request.ID)
			w.check(err)
			if req.Status != creditrequest.StatusREJECTED || req.ReviewedBy == nil || *req.ReviewedBy != "admin" ||
				req.RejectionReason == nil || *req.RejectionReason != "no transfer came" {
				t.Fatalf("request %s by %v: %v", req.Status, req.ReviewedBy, req.RejectionReason)
			}
			if _, err := w.svc.VoidInvoice(w.admin("admin"), inv.ID, "again"); codeOf(err) != credits.CodeConflict {
				t.Fatalf("voiding twice: %v, want CONFLICT", err)
			}
			if _, err := w.svc.ApproveRequest(w.admin("admin"), p.Request.ID); codeOf(err) != credits.CodeConflict {
				t.Fatalf("approving the rejected request: %v, want CONFLICT", err)
			}
			// An accepted request's invoice is settled, not voided.
			pp, err := w.svc.BuyCredits(w.admin("admin"), credits.BuyCredits{AccountID: &acc.ID, Amount: &amt, Method: "POSTPAID"})
			w.check(err)
			if pp.Request == nil || pp.Request.Status != creditrequest.StatusACCEPTED {
				t.Fatalf("an agency admin's POSTPAID purchase: %+v, want accepted at once", pp.Request)
			}
			ppInv, err := w.db.Client.Invoice.Query().Where(invoice.RequestID(pp.Request.ID)).Only(w.sys())
			w.check(err)
			if _, err := w.svc.VoidInvoice(w.sys(), ppInv.ID, "forgiven"); codeOf(err) != credits.CodeConflict {
				t.Fatalf("voiding an accepted request's invoice: %v, want CONFLICT", err)
			}
			if a := w.audits("voidInvoice"); a != 1 {
				t.Fatalf("%d audit events, want 1", a)
			}
			w.verify()
		})
	}
}
