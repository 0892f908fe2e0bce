package credits_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/money"
)

// A failure after the balance update and every other write, just before
// COMMIT, leaves no trace: balance, history, invoice and idempotency key
// are as before, and a retry with the same key then succeeds.
func TestFailureBeforeCommitLeavesNoTrace(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("victim")
			w.fund(w.pool, "100")
			w.fund(acc, "50")
			inv := w.invoice(acc, "INV-1", "20")
			sms := w.service("SMS", "1")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			key := "retry-me"
			balance, history := w.available(acc), w.historyLen(acc)
			poolBalance := w.available(w.pool)

			w.svc.SetBeforeCommit(func() error { return errInjected })
			attempts := map[string]func() error{
				"payInvoiceWithCredit": func() error { _, err := w.svc.PayInvoiceWithCredit(ctx, inv.ID, &key); return err },
				"buyServiceWithCredit": func() error { _, err := w.svc.BuyServiceWithCredit(ctx, sms.ID, nil, 3, nil); return err },
				"allocateCredits": func() error {
					_, err := w.svc.AllocateCredits(w.admin("a"), acc.ID, "5", nil, nil, nil)
					return err
				},
			}
			for name, attempt := range attempts {
				if err := attempt(); err == nil || !strings.Contains(err.Error(), errInjected.Error()) {
					t.Fatalf("%s with injected failure: %v", name, err)
				}
			}
			w.svc.SetBeforeCommit(nil)

			if b, h := w.available(acc), w.historyLen(acc); b != balance || h != history {
				t.Fatalf("after failures: balance %d (was %d), history %d (was %d)", b, balance, h, history)
			}
			if b := w.available(w.pool); b != poolBalance {
				t.Fatalf("pool moved to %d (was %d)", b, poolBalance)
			}
			got, err := w.db.Client.Invoice.Get(w.sys(), inv.ID)
			w.check(err)
			if got.Status != invoice.StatusOPEN || got.TransactionID != nil || got.PaidAt != nil {
				t.Fatalf("invoice after failure: %+v", got)
			}
			if _, err := w.svc.PayInvoiceWithCredit(ctx, inv.ID, &key); err != nil {
				t.Fatalf("retry after a failed attempt: %v", err)
			}
			if b := w.available(acc); b != balance-2000*cent {
				t.Fatalf("balance after retry = %d, want %d", b, balance-2000*cent)
			}
			w.verify()
		})
	}
}

// Bank transfer and post-paid requests credit nothing until approved; an
// approved post-paid request reads unpaid until it is marked paid.
func TestRequestLifecycle(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("requester")
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			buy := func(method creditrequest.Method, amount string) *credits.Purchase {
				d := money.Decimal(amount)
				p, err := w.svc.BuyCredits(owner, credits.BuyCredits{Amount: &d, Method: method, Reference: strp("ref-" + amount)})
				w.check(err)
				if p.Status != credits.PurchasePendingApproval || p.Request.Status != creditrequest.StatusPENDING {
					t.Fatalf("%s: %s/%s, want PENDING_APPROVAL/PENDING", method, p.Status, p.Request.Status)
				}
				return p
			}
			bank, crypto, postpaid := buy("BANK_TRANSFER", "10"), buy("CRYPTO", "20"), buy("POSTPAID", "30")
			if b := w.available(acc); b != 0 {
				t.Fatalf("pending requests credited %d", b)
			}

			r, err := w.svc.ApproveRequest(w.admin("alice"), bank.Request.ID)
			w.check(err)
			if !r.Request.Paid || r.Request.ReviewedBy == nil || *r.Request.ReviewedBy != "alice" || r.Request.TransactionID == nil || r.Balance.Available != 1000*cent {
				t.Fatalf("approved bank transfer: %+v balance %d", r.Request, r.Balance.Available)
			}
			r, err = w.svc.RejectRequest(w.admin("bob"), crypto.Request.ID, strp("wrong wallet"))
			w.check(err)
			if r.Request.Status != creditrequest.StatusREJECTED || r.Request.RejectionReason == nil || r.Balance.Available != 1000*cent {
				t.Fatalf("rejected crypto: %+v balance %d", r.Request, r.Balance.Available)
			}
			r, err = w.svc.ApproveRequest(w.admin("alice"), postpaid.Request.ID)
			w.check(err)
			if r.Request.Paid || r.Balance.Available != 4000*cent {
				t.Fatalf("approved post-paid: paid %v balance %d, want unpaid and 4000", r.Request.Paid, r.Balance.Available)
			}
			if _, err := w.svc.MarkRequestPaid(w.admin("alice"), bank.Request.ID); codeOf(err) != credits.CodeConflict {
				t.Fatalf("marking a bank transfer paid: %v, want CONFLICT", err)
			}
			r, err = w.svc.MarkRequestPaid(w.admin("alice"), postpaid.Request.ID)
			w.check(err)
			if !r.Request.Paid || r.Balance.Available != 4000*cent {
				t.Fatalf("settled post-paid: paid %v balance %d", r.Request.Paid, r.Balance.Available)
			}
			if _, err := w.svc.MarkRequestPaid(w.admin("alice"), postpaid.Request.ID); codeOf(err) != credits.CodeConflict {
				t.Fatalf("settling twice: %v, want CONFLICT", err)
			}
			if _, err := w.svc.ApproveRequest(w.admin("alice"), crypto.Request.ID); codeOf(err) != credits.CodeConflict {
				t.Fatalf("approving a rejected request: %v, want CONFLICT", err)
			}
			if _, err := w.svc.ApproveRequest(owner, bank.Request.ID); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("owner approving: %v, want FORBIDDEN", err)
			}
			w.verify()
		})
	}
}

// Invoices and services honour the agency's switch and eligibility.
func TestSpendingGates(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("spender")
			w.fund(acc, "10")
			ctx := w.as(auth.RoleClient, "u", acc.ID)
			big := w.invoice(acc, "BIG", "11")
			if _, err := w.svc.PayInvoiceWithCredit(ctx, big.ID, nil); codeOf(err) != credits.CodeInsufficientCredits {
				t.Fatalf("invoice over balance: %v", err)
			}
			ineligible, err := w.svc.CreateInvoice(w.sys(), credits.NewInvoice{AccountID: acc.ID, Number: "NE", Amount: "1", CreditEligible: false})
			w.check(err)
			if _, err := w.svc.PayInvoiceWithCredit(ctx, ineligible.ID, nil); codeOf(err) != credits.CodeNotEligible {
				t.Fatalf("ineligible invoice: %v", err)
			}
			off := false
			_, err = w.svc.UpdateAgencySettings(w.admin("a"), nil, credits.AgencySettings{CreditPaymentsEnabled: &off})
			w.check(err)
			small := w.invoice(acc, "SMALL", "1")
			if _, err := w.svc.PayInvoiceWithCredit(ctx, small.ID, nil); codeOf(err) != credits.CodeCreditPaymentsDisabled {
				t.Fatalf("payments disabled: %v", err)
			}
			if b := w.available(acc); b != 1000*cent {
				t.Fatalf("refused payments moved the balance to %d", b)
			}
			w.verify()
		})
	}
}

// verify must catch corruption, not just report success.
func TestVerifyDetectsCorruption(t *testing.T) {
	corruptions := map[string]string{
		"balance drift":        `UPDATE balances SET available = available + 1`,
		"broken chain":         `UPDATE postings SET running_balance = running_balance + 1 WHERE seq = 1 AND account_id IS NOT NULL`,
		"unbalanced journal":   `UPDATE postings SET amount = amount + 1 WHERE account_id IS NULL`,
		"paid without posting": `UPDATE invoices SET status = 'PAID'`,
	}
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, "postgres")
			acc := w.client("c")
			w.fund(acc, "10")
			w.invoice(acc, "INV", "1")
			w.verify()
			if _, err := w.db.SQL.ExecContext(context.Background(), corrupt); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := w.svc.Verify(context.Background(), &out); err == nil || !strings.Contains(out.String(), "FAIL") {
				t.Fatalf("verify passed a corrupted ledger (%s):\n%s", name, out.String())
			}
		})
	}
}
