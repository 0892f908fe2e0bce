package credits_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/auditevent"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/gid"
	"creditgate/money"
)

// topup buys amount by a manual method for acc as ctx's viewer and returns
// the request and its invoice.
func (w *world) topup(ctx context.Context, acc *ent.Account, method, amount string) (*credits.Purchase, *ent.Invoice) {
	w.t.Helper()
	d := money.Decimal(amount)
	p, err := w.svc.BuyCredits(ctx, credits.BuyCredits{AccountID: &acc.ID, Amount: &d, Method: creditrequest.Method(method)})
	w.check(err)
	inv, err := w.svc.DB().Invoice.Query().Where(invoice.RequestID(p.Request.ID)).Only(credits.System(context.Background()))
	w.check(err)
	return p, inv
}

func (w *world) invoiceNow(id gid.ID) *ent.Invoice {
	w.t.Helper()
	inv, err := w.svc.DB().Invoice.Get(credits.System(context.Background()), id)
	w.check(err)
	return inv
}

func (w *world) requestNow(id gid.ID) *ent.CreditRequest {
	w.t.Helper()
	r, err := w.svc.DB().CreditRequest.Get(credits.System(context.Background()), id)
	w.check(err)
	return r
}

func (w *world) auditCount(action string) int {
	w.t.Helper()
	n, err := w.svc.DB().AuditEvent.Query().Where(auditevent.Action(action)).Count(credits.System(context.Background()))
	w.check(err)
	return n
}

func TestTopupInvoicesIssued(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			clk := newClock()
			w.svc.Configure(credits.Automation{Clock: clk.now})
			bank := "IBAN DE00 1234\nBIC TESTDEFF"
			days := 10
			_, err := w.svc.UpdateBilling(w.admin("admin"), credits.Billing{InvoiceDueDays: &days, BankDetails: &bank})
			w.check(err)
			acc := w.client("Acme")
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			for i, m := range []string{"BANK_TRANSFER", "CRYPTO", "ONLINE", "POSTPAID"} {
				p, inv := w.topup(owner, acc, m, "25.50")
				if p.Status != credits.PurchasePendingApproval {
					t.Fatalf("%s: status %s", m, p.Status)
				}
				want := fmt.Sprintf("TU-%06d", i+1)
				if inv.Number != want || inv.Kind != invoice.KindCREDIT_TOPUP || inv.Status != invoice.StatusOPEN ||
					inv.Amount != 2550*cent || inv.Currency != "USD" || inv.CreditEligible ||
					inv.BankDetails == nil || *inv.BankDetails != bank || inv.DueAt == nil ||
					!inv.DueAt.Equal(clk.now().AddDate(0, 0, 10)) || inv.AccountID != acc.ID {
					t.Fatalf("%s: invoice %+v, want %s of 25.50 USD due in 10 days", m, inv, want)
				}
			}
			// A package: the invoice bills its price, the request its credits.
			pkg, err := w.svc.CreateCreditPackage(w.sys(), credits.NewCreditPackage{AgencyID: &w.agency.ID, Name: "Pack", Credits: "110", Price: "100"})
			w.check(err)
			p, err := w.svc.BuyCredits(owner, credits.BuyCredits{AccountID: &acc.ID, PackageID: &pkg.ID, Method: "BANK_TRANSFER"})
			w.check(err)
			inv, err := w.svc.InvoiceOfRequest(w.sys(), p.Request)
			w.check(err)
			if inv.Amount != 100_000_000 || p.Request.Amount != 110_000_000 || inv.Number != "TU-000005" {
				t.Fatalf("package invoice %s %d for request of %d", inv.Number, inv.Amount, p.Request.Amount)
			}
			if n := w.auditCount("buyCredits"); n != 5 {
				t.Fatalf("%d buyCredits audit events, want 5", n)
			}

			// Another agency has its own sequence.
			other, err := w.svc.CreateAgency(w.sys(), credits.NewAgency{Name: "Other", DefaultCurrency: "USD", CreditPaymentsEnabled: true})
			w.check(err)
			oacc, err := w.svc.CreateAccount(w.sys(), &other.ID, "Other client")
			w.check(err)
			_, oinv := w.topup(w.sys(), oacc, "BANK_TRANSFER", "5")
			if oinv.Number != "TU-000001" || oinv.DueAt == nil || !oinv.DueAt.Equal(clk.now().AddDate(0, 0, 14)) || oinv.BankDetails != nil {
				t.Fatalf("other agency's first invoice %+v", oinv)
			}

			// Concurrent purchases take distinct, gapless numbers.
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					d := money.Decimal("1")
					_, errs[i] = w.svc.BuyCredits(owner, credits.BuyCredits{AccountID: &acc.ID, Amount: &d, Method: "BANK_TRANSFER"})
				}()
			}
			wg.Wait()
			for _, err := range errs {
				w.check(err)
			}
			invs, err := w.svc.DB().Invoice.Query().Where(invoice.AgencyID(w.agency.ID), invoice.KindEQ(invoice.KindCREDIT_TOPUP)).All(credits.System(context.Background()))
			w.check(err)
			seen := map[string]bool{}
			for _, inv := range invs {
				seen[inv.Number] = true
			}
			for i := 1; i <= 5+n; i++ {
				if !seen[fmt.Sprintf("TU-%06d", i)] {
					t.Fatalf("number TU-%06d missing among %d invoices: %v", i, len(invs), seen)
				}
			}
			if len(invs) != 5+n {
				t.Fatalf("%d invoices, want %d", len(invs), 5+n)
			}
			w.verify()
		})
	}
}

func TestTopupInvoicesMoveWithRequests(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			w.fund(w.pool, "1000")
			acc := w.client("Acme")
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			admin := w.admin("admin")

			// Bank transfer approved: PAID with the request, credited.
			p, inv := w.topup(owner, acc, "BANK_TRANSFER", "40")
			_, err := w.svc.ApproveRequest(admin, p.Request.ID)
			w.check(err)
			if got := w.invoiceNow(inv.ID); got.Status != invoice.StatusPAID || got.PaidAt == nil {
				t.Fatalf("approved bank transfer: invoice %s", got.Status)
			}
			if w.available(acc) != 40_000_000 {
				t.Fatalf("available %d after approval", w.available(acc))
			}
			w.verify()

			// Crypto rejected: VOID with the reason, nothing credited.
			p, inv = w.topup(owner, acc, "CRYPTO", "15")
			why := "no coins arrived"
			_, err = w.svc.RejectRequest(admin, p.Request.ID, &why)
			w.check(err)
			if got := w.invoiceNow(inv.ID); got.Status != invoice.StatusVOID || got.VoidReason == nil || *got.VoidReason != why {
				t.Fatalf("rejected: invoice %s %v", got.Status, got.VoidReason)
			}
			p, inv = w.topup(owner, acc, "ONLINE", "15")
			_, err = w.svc.RejectRequest(admin, p.Request.ID, nil)
			w.check(err)
			if got := w.invoiceNow(inv.ID); got.VoidReason == nil || *got.VoidReason != "request rejected" {
				t.Fatalf("rejected without a reason: %v", got.VoidReason)
			}
			w.verify()

			// Post-paid: approval credits and leaves the invoice open until
			// markRequestPaid settles both.
			p, inv = w.topup(owner, acc, "POSTPAID", "20")
			_, err = w.svc.ApproveRequest(admin, p.Request.ID)
			w.check(err)
			if got := w.invoiceNow(inv.ID); got.Status != invoice.StatusOPEN {
				t.Fatalf("approved post-paid: invoice %s, want OPEN", got.Status)
			}
			unpaid, err := w.svc.UnpaidPostpaid(admin, w.agency)
			w.check(err)
			if len(unpaid) != 1 || unpaid[0].Amount != 20_000_000 || unpaid[0].Currency != "USD" {
				t.Fatalf("unpaid post-paid %+v", unpaid)
			}
			if none, err := w.svc.UnpaidPostpaid(owner, w.agency); err != nil || len(none) != 0 {
				t.Fatalf("a client reads unpaid post-paid %+v %v", none, err)
			}
			w.verify()
			_, err = w.svc.MarkRequestPaid(admin, p.Request.ID)
			w.check(err)
			if got := w.invoiceNow(inv.ID); got.Status != invoice.StatusPAID {
				t.Fatalf("marked paid: invoice %s", got.Status)
			}
			if unpaid, _ := w.svc.UnpaidPostpaid(admin, w.agency); len(unpaid) != 0 {
				t.Fatalf("unpaid after markRequestPaid %+v", unpaid)
			}
			w.verify()

			// An agency admin's post-paid purchase for a client: accepted at
			// once, its invoice issued and open.
			p, inv = w.topup(admin, acc, "POSTPAID", "30")
			if p.Status != credits.PurchaseCompleted || inv.Status != invoice.StatusOPEN {
				t.Fatalf("credit line: %s, invoice %s", p.Status, inv.Status)
			}
			// Paid online (sandbox): the request is settled, the invoice PAID,
			// nothing credited again.
			before := w.available(acc)
			paid, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD"})
			w.check(err)
			if paid.Status != credits.PurchaseCompleted || paid.Invoice.Status != invoice.StatusPAID || !paid.Request.Paid ||
				paid.Invoice.PaymentID == nil || *paid.Invoice.PaymentID != paid.Payment.ID {
				t.Fatalf("post-paid paid online: %s invoice %s paid %v", paid.Status, paid.Invoice.Status, paid.Request.Paid)
			}
			if w.available(acc) != before {
				t.Fatalf("settling a post-paid debt credited %d", w.available(acc)-before)
			}
			for action, want := range map[string]int{"approveRequest": 2, "rejectRequest": 2, "markRequestPaid": 1, "payInvoice": 1, "payment": 2 /* the pool's funding and the post-paid debt */} {
				if n := w.auditCount(action); n != want {
					t.Fatalf("%d %s audit events, want %d", n, action, want)
				}
			}
			w.verify()

			// Reviewing again moves nothing.
			if _, err := w.svc.RejectRequest(w.admin("admin2"), p.Request.ID, nil); codeOf(err) != credits.CodeConflict {
				t.Fatalf("rejecting an accepted request: %v", err)
			}
		})
	}
}

func TestPayTopupInvoiceOnline(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("Acme")
			owner := w.as(auth.RoleClientOwner, "owner", acc.ID)
			p, inv := w.topup(owner, acc, "ONLINE", "60")

			// Never with credits.
			w.fund(acc, "100")
			if _, err := w.svc.PayInvoiceWithCredit(owner, inv.ID, nil); codeOf(err) != credits.CodeNotEligible {
				t.Fatalf("payInvoiceWithCredit on a top-up invoice: %v, want NOT_ELIGIBLE", err)
			}
			// A client of another account does not see it; a plain client may
			// not pay online.
			other := w.client("Other")
			if _, err := w.svc.PayInvoiceOnline(w.as(auth.RoleClientOwner, "o2", other.ID), credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD"}); codeOf(err) != credits.CodeNotFound {
				t.Fatalf("foreign owner: %v", err)
			}
			if _, err := w.svc.PayInvoiceOnline(w.as(auth.RoleClient, "u", acc.ID), credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD"}); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("plain client: %v", err)
			}
			if _, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: inv.ID, Method: "BANK_TRANSFER"}); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("bank transfer online: %v", err)
			}
			// A bank transfer's invoice is settled by approval, not online.
			_, bt := w.topup(owner, acc, "BANK_TRANSFER", "5")
			if _, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: bt.ID, Method: "CARD"}); codeOf(err) != credits.CodeNotEligible {
				t.Fatalf("bank transfer invoice paid online: %v", err)
			}

			before := w.available(acc)
			key := "pay-topup-1"
			paid, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD", IdempotencyKey: &key})
			w.check(err)
			if paid.Status != credits.PurchaseCompleted || paid.Invoice.Status != invoice.StatusPAID ||
				paid.Request.Status != creditrequest.StatusACCEPTED || paid.Request.ReviewedBy == nil || *paid.Request.ReviewedBy != "payment" ||
				!paid.Request.Paid || paid.Payment.InvoiceID == nil || *paid.Payment.InvoiceID != inv.ID {
				t.Fatalf("paid online: %+v", paid)
			}
			if got := w.available(acc) - before; got != 60_000_000 {
				t.Fatalf("credited %d, want 60", got)
			}
			// A retry with the key moves nothing; without one it is ALREADY_PAID.
			if _, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD", IdempotencyKey: &key}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if _, err := w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: inv.ID, Method: "CARD"}); codeOf(err) != credits.CodeAlreadyPaid {
				t.Fatalf("paying again: %v", err)
			}
			if got := w.available(acc) - before; got != 60_000_000 {
				t.Fatalf("credited %d after retries, want 60", got)
			}
			if r := w.requestNow(p.Request.ID); r.TransactionID == nil {
				t.Fatal("the accepted request has no transaction")
			}
			// A CHARGE invoice paid online: PAID, no credits move.
			charge := w.invoice(acc, "C-1", "12")
			before = w.available(acc)
			paid, err = w.svc.PayInvoiceOnline(owner, credits.PayInvoice{InvoiceID: charge.ID, Method: "PAYPAL"})
			w.check(err)
			if paid.Invoice.Status != invoice.StatusPAID || paid.Request != nil || w.available(acc) != before {
				t.Fatalf("charge paid online: %s, balance moved %d", paid.Invoice.Status, w.available(acc)-before)
			}
			w.verify()
		})
	}
}

func TestTopupInvoiceMailAndDocument(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			clk := newClock()
			mailer := &recordingMailer{}
			w.svc.Configure(credits.Automation{Clock: clk.now})
			w.svc.UseMailer(mailer)
			w.svc.UseInvoiceLinks([]byte("0123456789abcdef0123456789abcdef"), 0, "https://billing.example")
			bank := "IBAN DE00 1234"
			_, err := w.svc.UpdateBilling(w.admin("admin"), credits.Billing{BankDetails: &bank})
			w.check(err)
			acc := w.client("Acme")
			email := "Billing <billing@acme.example>"
			if _, err := w.svc.UpdateBilling(w.admin("admin"), credits.Billing{AccountID: &acc.ID}); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("accountId without billingEmail: %v", err)
			}
			bad := "not an address"
			if _, err := w.svc.UpdateBilling(w.admin("admin"), credits.Billing{AccountID: &acc.ID, BillingEmail: &bad}); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("bad billingEmail: %v", err)
			}
			_, err = w.svc.UpdateBilling(w.admin("admin"), credits.Billing{AccountID: &acc.ID, BillingEmail: &email})
			w.check(err)
			_, inv := w.topup(w.as(auth.RoleClientOwner, "owner", acc.ID), acc, "BANK_TRANSFER", "75")
			if n, err := w.svc.RunDueJobs(context.Background(), "t"); err != nil || n != 1 {
				t.Fatalf("ran %d jobs: %v", n, err)
			}
			if mailer.count() != 1 {
				t.Fatalf("%d mails", mailer.count())
			}
			m := mailer.sent[0]
			for _, want := range []string{inv.Number, "75.00 USD", clk.now().AddDate(0, 0, 14).Format(time.DateOnly), bank, "https://billing.example/invoices/" + string(inv.ID) + "/document?"} {
				if !strings.Contains(m.Text, want) {
					t.Fatalf("mail lacks %q:\n%s", want, m.Text)
				}
			}
			if m.To != "billing@acme.example" {
				t.Fatalf("mail to %q", m.To)
			}
			if got := w.invoiceNow(inv.ID); got.SentTo == nil || *got.SentTo != "billing@acme.example" || got.SentAt == nil {
				t.Fatalf("sent_to %v sent_at %v", got.SentTo, got.SentAt)
			}
			if n, _ := w.svc.RunDueJobs(context.Background(), "t"); n != 0 || mailer.count() != 1 {
				t.Fatalf("mailed again: %d jobs, %d mails", n, mailer.count())
			}

			// The document link, from the mail.
			link := m.Text[strings.Index(m.Text, "https://billing.example"):]
			link = strings.TrimSpace(link)
			u, err := url.Parse(link)
			w.check(err)
			id := strings.Split(u.Path, "/")[2]
			exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
			doc, err := w.svc.InvoiceDocumentFor(context.Background(), id, exp, sig)
			w.check(err)
			if doc.Number != inv.Number || doc.Amount != "75.00" || doc.AccountName != "Acme" || doc.AgencyName != "Agency" || doc.BankDetails != bank || doc.Status != "OPEN" {
				t.Fatalf("document %+v", doc)
			}
			other := w.invoice(acc, "C-1", "3")
			// A different last character (the original may be "A" itself).
			tampered := sig[:len(sig)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(sig, "A")]
			for name, args := range map[string][3]string{
				"tampered sig":      {id, exp, tampered},
				"another id":        {string(other.ID), exp, sig},
				"a later expiry":    {id, exp + "0", sig},
				"no sig":            {id, exp, ""},
				"an unknown id":     {string(gid.New(gid.Invoice)), exp, sig},
				"a non-numeric exp": {id, "soon", sig},
			} {
				if _, err := w.svc.InvoiceDocumentFor(context.Background(), args[0], args[1], args[2]); err != credits.ErrLinkInvalid {
					t.Fatalf("%s: %v, want ErrLinkInvalid", name, err)
				}
			}
			clk.advance(7*24*time.Hour + time.Second)
			if _, err := w.svc.InvoiceDocumentFor(context.Background(), id, exp, sig); err != credits.ErrLinkExpired {
				t.Fatalf("after 7 days: %v, want ErrLinkExpired", err)
			}

			// sendInvoice: to the billing address by default, or to another.
			to := "ap@acme.example"
			sent, err := w.svc.SendInvoice(w.admin("admin"), inv.ID, &to)
			w.check(err)
			if sent.SentTo == nil || *sent.SentTo != to || mailer.count() != 2 || mailer.sent[1].To != to {
				t.Fatalf("sendInvoice: %v, %d mails", sent.SentTo, mailer.count())
			}
			if _, err := w.svc.SendInvoice(w.as(auth.RoleClientOwner, "owner", acc.ID), inv.ID, nil); codeOf(err) != credits.CodeForbidden {
				t.Fatalf("owner sends: %v", err)
			}
			empty := ""
			_, err = w.svc.UpdateBilling(w.admin("admin"), credits.Billing{AccountID: &acc.ID, BillingEmail: &empty})
			w.check(err)
			if _, err := w.svc.SendInvoice(w.admin("admin"), inv.ID, nil); codeOf(err) != credits.CodeBadInput {
				t.Fatalf("no address: %v", err)
			}
			if n := w.auditCount("sendInvoice"); n != 1 {
				t.Fatalf("%d sendInvoice audit events", n)
			}
			if n := w.auditCount("updateBilling"); n != 3 {
				t.Fatalf("%d updateBilling audit events, want 3", n)
			}
			w.verify()
		})
	}
}
