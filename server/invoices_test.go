package main

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/credits"
	"creditgate/ent/auditevent"
	"creditgate/gid"
	"creditgate/internal/stripemock"
	"creditgate/mail"
	"creditgate/mail/mailtest"
)

// Top-up invoices through the API: issued with the request, paid online,
// moved with the request's review, e-mailed, and printable by a signed
// link that works without a token until it expires.

type topupInvoice struct {
	ID, Number, Kind, Status, Amount string
	DueAt                            *string
	DocumentURL                      string
	SentTo                           *string
	Request                          *struct {
		ID, Status string
		Paid       bool
		ReviewedBy *string
	}
	Payment *struct{ ID, Status string }
}

const topupInvoiceFields = `id number kind status amount dueAt documentUrl sentTo request { id status paid reviewedBy } payment { id status }`

// buyTopup buys amount by method for client A1 as token and returns the
// request's invoice.
func (a *testAPI) buyTopup(t *testing.T, token, method, amount string) topupInvoice {
	t.Helper()
	var out struct {
		BuyCredits struct {
			Status  string
			Request struct{ Invoice *topupInvoice }
		}
	}
	a.gql(token, `mutation($m: PaymentMethod!, $x: Decimal!, $a: ID){ buyCredits(input:{accountId: $a, amount: $x, method: $m}) {
		status request { invoice { `+topupInvoiceFields+` } } } }`,
		map[string]any{"m": method, "x": amount, "a": a.fx.A1}).decode(t, &out)
	if out.BuyCredits.Request.Invoice == nil {
		t.Fatalf("buyCredits %s: no invoice", method)
	}
	return *out.BuyCredits.Request.Invoice
}

func (a *testAPI) invoiceByID(t *testing.T, id string) topupInvoice {
	t.Helper()
	var out struct{ Node topupInvoice }
	a.gql(a.sysAdmin(), `query($id: ID!){ node(id: $id) { ... on Invoice { `+topupInvoiceFields+` } } }`, map[string]any{"id": id}).decode(t, &out)
	return out.Node
}

func (a *testAPI) auditCount(t *testing.T, action string) int {
	t.Helper()
	n, err := a.svc.DB().AuditEvent.Query().Where(auditevent.Action(action)).Count(credits.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// getDocument GETs a document link (root-relative or absolute).
func (a *testAPI) getDocument(t *testing.T, link string) (int, string) {
	t.Helper()
	if strings.HasPrefix(link, "/") {
		link = a.srv.URL + link
	}
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	resp, body := httpDo(t, req)
	return resp.StatusCode, string(body)
}

const payInvoiceMutation = `mutation($i: ID!, $m: PaymentMethod!){ payInvoice(input:{invoiceId: $i, method: $m}) {
	status invoice { id status } payment { id status providerRef } request { status paid reviewedBy } } }`

type payInvoiceAnswer struct {
	PayInvoice struct {
		Status  string
		Invoice struct{ ID, Status string }
		Payment struct{ ID, Status, ProviderRef string }
		Request *struct {
			Status     string
			Paid       bool
			ReviewedBy *string
		}
	}
}

func TestTopupInvoicesAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f, owner, admin := a.fx, a.owner(), a.agencyAdmin()
		clk := &testClock{t: time.Now()}
		a.svc.Configure(credits.Automation{Clock: clk.now})

		inv := a.buyTopup(t, owner, "ONLINE", "60")
		if inv.Kind != "CREDIT_TOPUP" || inv.Status != "OPEN" || inv.Amount != "60.00" || inv.Number != "TU-000001" ||
			inv.DueAt == nil || inv.Request == nil || inv.Request.Status != "PENDING" {
			t.Fatalf("issued %+v", inv)
		}

		// Refusals change nothing.
		before := snapshot(t, a)
		wantRefused(t, a.gql(owner, `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { invoice { id } } }`,
			map[string]any{"i": inv.ID}), "NOT_ELIGIBLE", "payInvoiceWithCredit of a top-up invoice")
		wantRefused(t, a.gql(a.client(), payInvoiceMutation, map[string]any{"i": inv.ID, "m": "CARD"}), "FORBIDDEN", "a plain client pays")
		wantRefused(t, a.gql(a.token("agency_admin", f.AgencyB, ""), payInvoiceMutation, map[string]any{"i": inv.ID, "m": "CARD"}), "NOT_FOUND", "another agency pays")
		wantRefused(t, a.gql(owner, `mutation($i: ID!){ sendInvoice(input:{invoiceId: $i, email: "x@example.com"}) { id } }`,
			map[string]any{"i": inv.ID}), "FORBIDDEN", "an owner sends")
		wantRefused(t, a.gql(owner, `mutation{ updateBilling(input:{invoiceDueDays: 3}) { id } }`, nil), "FORBIDDEN", "an owner updates billing")
		wantRefused(t, a.gql(admin, `mutation($a: ID!){ updateBilling(input:{accountId: $a}) { id } }`,
			map[string]any{"a": f.A1}), "BAD_USER_INPUT", "accountId without billingEmail")
		wantRefused(t, a.gql(admin, `mutation{ updateBilling(input:{invoiceDueDays: 400}) { id } }`, nil), "BAD_USER_INPUT", "400 days")
		wantRefused(t, a.gql(admin, `mutation($a: ID!){ updateBilling(input:{accountId: $a, billingEmail: "x@example.com"}) { id } }`,
			map[string]any{"a": f.B1}), "NOT_FOUND", "another agency's account")
		wantRefused(t, a.gql(admin, `mutation($i: ID!){ sendInvoice(input:{invoiceId: $i}) { id } }`,
			map[string]any{"i": inv.ID}), "BAD_USER_INPUT", "no billing e-mail")
		wantUnchanged(t, a, before, "refused invoice operations")

		// payInvoice by card (sandbox): paid, accepted by "payment", credited.
		was := a.balance(f.A1)
		var paid payInvoiceAnswer
		a.gql(owner, payInvoiceMutation, map[string]any{"i": inv.ID, "m": "CARD"}).decode(t, &paid)
		p := paid.PayInvoice
		if p.Status != "COMPLETED" || p.Invoice.Status != "PAID" || p.Payment.Status != "SUCCEEDED" || p.Request == nil ||
			p.Request.Status != "ACCEPTED" || !p.Request.Paid || p.Request.ReviewedBy == nil || *p.Request.ReviewedBy != "payment" {
			t.Fatalf("payInvoice: %+v", p)
		}
		if got, want := a.balance(f.A1), addUSD(t, was, "60.00"); got != want {
			t.Fatalf("balance %s, want %s", got, want)
		}
		if got := a.invoiceByID(t, inv.ID); got.Payment == nil || got.Payment.ID != p.Payment.ID {
			t.Fatalf("invoice.payment %+v", got.Payment)
		}
		verifyLedger(t, a)

		// Post-paid: the agency's credit line is unpaid until markRequestPaid.
		unpaid := func() []struct{ Currency, Amount string } {
			t.Helper()
			var out struct {
				Agency struct {
					UnpaidPostpaid []struct{ Currency, Amount string }
				}
			}
			a.gql(admin, `query($id: ID!){ agency(id: $id) { unpaidPostpaid { currency amount } } }`, map[string]any{"id": f.AgencyA}).decode(t, &out)
			return out.Agency.UnpaidPostpaid
		}
		if u := unpaid(); len(u) != 0 {
			t.Fatalf("unpaid before %+v", u)
		}
		pp := a.buyTopup(t, admin, "POSTPAID", "30")
		if pp.Status != "OPEN" || pp.Request.Status != "ACCEPTED" || pp.Request.Paid {
			t.Fatalf("credit line: %+v", pp)
		}
		if u := unpaid(); len(u) != 1 || u[0].Currency != "USD" || u[0].Amount != "30.00" {
			t.Fatalf("unpaid after the credit line %+v", u)
		}
		var ownerView struct {
			Agency struct{ UnpaidPostpaid []struct{ Amount string } }
		}
		a.gql(owner, `query($id: ID!){ agency(id: $id) { unpaidPostpaid { amount } } }`, map[string]any{"id": f.AgencyA}).decode(t, &ownerView)
		if len(ownerView.Agency.UnpaidPostpaid) != 0 {
			t.Fatalf("an owner reads unpaid post-paid %+v", ownerView)
		}
		verifyLedger(t, a)
		a.gql(a.sysAdmin(), `mutation($r: ID!){ markRequestPaid(input:{requestId: $r}) { request { paid } } }`,
			map[string]any{"r": pp.Request.ID}).decode(t, &struct{}{})
		if u := unpaid(); len(u) != 0 {
			t.Fatalf("unpaid after markRequestPaid %+v", u)
		}
		if got := a.invoiceByID(t, pp.ID); got.Status != "PAID" || !got.Request.Paid {
			t.Fatalf("post-paid invoice after markRequestPaid: %+v", got)
		}
		verifyLedger(t, a)

		// Bank transfer approved and crypto rejected move their invoices.
		bt := a.buyTopup(t, owner, "BANK_TRANSFER", "10")
		cr := a.buyTopup(t, owner, "CRYPTO", "11")
		if bt.Number != "TU-000003" || cr.Number != "TU-000004" {
			t.Fatalf("numbers %s %s", bt.Number, cr.Number)
		}
		a.gql(admin, `mutation($r: ID!){ approveRequest(input:{requestId: $r}) { request { status } } }`, map[string]any{"r": bt.Request.ID}).decode(t, &struct{}{})
		a.gql(admin, `mutation($r: ID!){ rejectRequest(input:{requestId: $r, reason: "nothing arrived"}) { request { status } } }`, map[string]any{"r": cr.Request.ID}).decode(t, &struct{}{})
		if got := a.invoiceByID(t, bt.ID); got.Status != "PAID" {
			t.Fatalf("approved: %s", got.Status)
		}
		if got := a.invoiceByID(t, cr.ID); got.Status != "VOID" {
			t.Fatalf("rejected: %s", got.Status)
		}
		verifyLedger(t, a)

		// The document: no token needed; a tampered or transplanted
		// signature and an expired link fail without saying more.
		doc := a.invoiceByID(t, bt.ID).DocumentURL
		code, body := a.getDocument(t, doc)
		if code != 200 || !strings.Contains(body, bt.Number) || !strings.Contains(body, "10.00 USD") ||
			!strings.Contains(body, "Client A1") || !strings.Contains(body, "Agency A") || !strings.Contains(body, "@media print") {
			t.Fatalf("document %d:\n%s", code, body)
		}
		u, _ := url.Parse(doc)
		q := u.Query()
		sig := q.Get("sig")
		for name, link := range map[string]string{
			"tampered sig":         strings.Replace(doc, "sig="+url.QueryEscape(sig), "sig="+url.QueryEscape(flip(sig)), 1),
			"another id, same sig": strings.Replace(doc, bt.ID, cr.ID, 1),
			"an unknown id":        strings.Replace(doc, bt.ID, string(gid.New(gid.Invoice)), 1),
			"no sig":               u.Path,
		} {
			if code, body := a.getDocument(t, link); code != 404 || strings.Contains(body, bt.Number) {
				t.Fatalf("%s: %d %s", name, code, body)
			}
		}
		clk.advance(7*24*time.Hour + time.Minute)
		if code, body := a.getDocument(t, doc); code != 410 || strings.Contains(body, bt.Number) {
			t.Fatalf("expired link: %d %s", code, body)
		}
		if code, _ := a.getDocument(t, a.invoiceByID(t, bt.ID).DocumentURL); code != 200 {
			t.Fatalf("a fresh link: %d", code)
		}
		verifyLedger(t, a)
	})
}

// flip changes sig's first character.
func flip(sig string) string {
	if sig[0] == 'A' {
		return "B" + sig[1:]
	}
	return "A" + sig[1:]
}

// An ONLINE request paid by card through Stripe: credited when the signed
// payment_intent.succeeded arrives, once however often it is delivered.
func TestTopupInvoiceStripeWebhook(t *testing.T) {
	mock := stripemock.Start(t)
	eachDB(t, func(t *testing.T, a *testAPI) {
		withPayments(t, a, PaymentsConfig{StripeSecretKey: "sk_test_123", StripeWebhookSecret: testWebhookSecret, StripeAPIURL: mock})
		f, owner := a.fx, a.owner()
		inv := a.buyTopup(t, owner, "ONLINE", "50")
		was := a.balance(f.A1)
		var paid payInvoiceAnswer
		a.gql(owner, payInvoiceMutation, map[string]any{"i": inv.ID, "m": "CARD"}).decode(t, &paid)
		p := paid.PayInvoice
		if p.Status != "REQUIRES_ACTION" || p.Invoice.Status != "OPEN" || p.Request.Status != "PENDING" || p.Payment.ProviderRef == "" {
			t.Fatalf("payInvoice through Stripe: %+v", p)
		}
		if a.balance(f.A1) != was {
			t.Fatal("credited before the provider confirmed")
		}
		ev := stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil)
		var wg sync.WaitGroup
		codes := make([]int, 5)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/webhooks/stripe", bytes.NewReader(ev))
				req.Header.Set("Stripe-Signature", stripeSignature(ev, testWebhookSecret, time.Now()))
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					codes[i] = resp.StatusCode
					resp.Body.Close()
				}
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 200 {
				t.Fatalf("delivery %d answered %d", i, c)
			}
		}
		if got, want := a.balance(f.A1), addUSD(t, was, "50.00"); got != want {
			t.Fatalf("balance %s, want %s (credited once)", got, want)
		}
		got := a.invoiceByID(t, inv.ID)
		if got.Status != "PAID" || got.Payment == nil || got.Payment.ID != p.Payment.ID || got.Request.Status != "ACCEPTED" ||
			got.Request.ReviewedBy == nil || *got.Request.ReviewedBy != "payment" || !got.Request.Paid {
			t.Fatalf("after the webhook: %+v", got)
		}
		if n := a.auditCount(t, "stripeWebhook"); n != 1 {
			t.Fatalf("%d stripeWebhook audit events, want 1", n)
		}
		verifyLedger(t, a)
	})
}

// The invoice e-mail reaches a real SMTP server with what the payer needs,
// and its link opens the document.
func TestTopupInvoiceEmail(t *testing.T) {
	smtp := mailtest.Start(t)
	eachDB(t, func(t *testing.T, a *testAPI) {
		smtp.Reset(t)
		sender, err := mail.FromURL(smtp.URL(), "creditgate <billing@example.com>", nil)
		if err != nil {
			t.Fatal(err)
		}
		a.svc.UseMailer(mailer{sender})
		f, admin := a.fx, a.agencyAdmin()
		a.gql(admin, `mutation{ updateBilling(input:{invoiceDueDays: 30, bankDetails: "IBAN GB00 TEST 1234\nBIC TESTGB22"}) { invoiceDueDays bankDetails } }`, nil).decode(t, &struct{}{})
		a.gql(admin, `mutation($a: ID!){ updateBilling(input:{accountId: $a, billingEmail: "ap@client-a1.example"}) { id } }`,
			map[string]any{"a": f.A1}).decode(t, &struct{}{})
		inv := a.buyTopup(t, a.owner(), "BANK_TRANSFER", "120")
		a.runJobs(t)
		msgs := smtp.WaitFor(t, 1, 5*time.Second)
		m := msgs[0]
		due, _ := time.Parse(time.RFC3339, *inv.DueAt)
		if len(m.To) != 1 || m.To[0].Address != "ap@client-a1.example" || !strings.Contains(m.Subject, inv.Number) {
			t.Fatalf("mail to %v: %q", m.To, m.Subject)
		}
		for _, want := range []string{inv.Number, "120.00 USD", "Due date: " + due.UTC().Format(time.DateOnly), "IBAN GB00 TEST 1234", "BIC TESTGB22", "/invoices/" + inv.ID + "/document?"} {
			if !strings.Contains(m.Text, want) {
				t.Fatalf("mail lacks %q:\n%s", want, m.Text)
			}
		}
		if got := a.invoiceByID(t, inv.ID); got.SentTo == nil || *got.SentTo != "ap@client-a1.example" {
			t.Fatalf("sentTo %v", got.SentTo)
		}
		link := m.Text[strings.Index(m.Text, "/invoices/"):]
		link = strings.Fields(link)[0]
		if code, body := a.getDocument(t, link); code != 200 || !strings.Contains(body, "IBAN GB00 TEST 1234") {
			t.Fatalf("the mailed link: %d\n%s", code, body)
		}
		// sendInvoice again, to another address.
		var sent struct{ SendInvoice struct{ SentTo string } }
		a.gql(admin, `mutation($i: ID!){ sendInvoice(input:{invoiceId: $i, email: "boss@client-a1.example"}) { sentTo } }`,
			map[string]any{"i": inv.ID}).decode(t, &sent)
		if sent.SendInvoice.SentTo != "boss@client-a1.example" {
			t.Fatalf("sendInvoice: %+v", sent)
		}
		if msgs = smtp.WaitFor(t, 2, 5*time.Second); msgs[1].To[0].Address != "boss@client-a1.example" && msgs[0].To[0].Address != "boss@client-a1.example" {
			t.Fatalf("second mail to %v / %v", msgs[0].To, msgs[1].To)
		}
		verifyLedger(t, a)
	})
}
