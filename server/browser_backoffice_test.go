//go:build linux

package main

// The back office in headless Chromium. The dashboard: an agency admin
// adjusts a client's balance with a reason (the dialog refuses to go on
// without one, and so does the API), sees a refusal in words, reverses the
// adjustment, and finds both on the Activity page. The portal: the client
// owner reads the reason on the corrected rows, the reversed marker, and
// what is owed. Then a top-up invoice: an ONLINE purchase issues it, the
// portal opens its document and pays it by (sandbox) card.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"creditgate/auth"
	"creditgate/dbtest"
	"creditgate/ent/account"
	"creditgate/ent/balance"
)

func TestBrowserBackoffice(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserBackofficeScenario(t, browser, kind) })
	}
}

// signIn opens page ("portal" or "dashboard") as the picker's default demo
// user and waits until it is live.
func signIn(t *testing.T, browser context.Context, gw webGateway, page, name string) *tab {
	tb := newTab(t, browser, name, t.ArtifactDir())
	tb.run("opening the "+page, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/"+page+"/"))
	tb.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	tb.click(`#demo-form button[type=submit]`)
	tb.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	return tb
}

// dialogStep: the open correction dialog shows its input or its
// confirmation step.
func dialogStep(step string) string {
	return `!!document.querySelector('dialog[open] .step[data-step="` + step + `"]:not([hidden])')`
}

func browserBackofficeScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	admin := signIn(t, browser, gw, "dashboard", "dashboard-backoffice")
	acmeRow := `#accounts-table tr[data-name="Acme Coffee"]`
	admin.wait("Acme Coffee's balance", rowText(acmeRow)+`.includes('459.00 USD')`)
	admin.eval(`window.__noReload = true`, nil)

	// Acme's back office: its balance and history.
	admin.click(acmeRow + ` button.manage`)
	admin.wait("Acme's back office", `!document.querySelector('#client').hidden && `+
		rowText(`#client-title`)+`.includes('Acme Coffee') && `+
		`document.querySelector('#client-balance-USD')?.dataset.available === '459.00' && `+
		`document.querySelectorAll('#client-history tbody tr[data-id]').length > 0`)

	// Adjust, 1: no reason, no next step (and nothing sent).
	admin.click(`#client-adjust`)
	admin.wait("the adjust dialog", dialogStep("input"))
	admin.fill(`#correction-amount`, "25")
	admin.click(`#correction-next`)
	admin.wait("the dialog asking for a reason", rowText(`dialog[open] .dialog-error`)+`.includes('Give a reason') && `+dialogStep("input"))

	// 2: more than the balance, OUT: the API's refusal, in words, in the
	// dialog (which stays open).
	admin.click(`dialog[open] input[name="type"][value="OUT"]`)
	admin.fill(`#correction-amount`, "100000")
	admin.fill(`#correction-reason`, "typo")
	admin.click(`#correction-next`)
	admin.wait("the confirmation of the OUT adjustment", dialogStep("confirm")+` && `+rowText(`dialog[open] .step[data-step="confirm"]`)+`.includes('Remove 100,000 USD from Acme Coffee')`)
	admin.click(`#correction-confirm`)
	admin.wait("INSUFFICIENT_CREDITS in words", `!!document.querySelector('dialog[open] .message[data-code="INSUFFICIENT_CREDITS"]') && `+
		rowText(`dialog[open] .message`)+`.includes('does not cover')`)
	admin.shot("dashboard-adjust-refused")

	// 3: back, IN 25.00 with a reason: confirmed, credited.
	admin.click(`#correction-back`)
	admin.wait("the input step again", dialogStep("input"))
	admin.click(`dialog[open] input[name="type"][value="IN"]`)
	admin.fill(`#correction-amount`, "25")
	admin.fill(`#correction-reason`, "goodwill for the outage")
	admin.click(`#correction-next`)
	admin.wait("the confirmation", dialogStep("confirm")+` && `+rowText(`dialog[open] .step[data-step="confirm"]`)+`.includes('Add 25 USD to Acme Coffee') && `+
		rowText(`dialog[open] .step[data-step="confirm"]`)+`.includes('goodwill for the outage')`)
	admin.shot("dashboard-adjust-confirm")
	admin.click(`#correction-confirm`)
	admin.wait("the adjustment in Acme's history", `!document.querySelector('dialog[open]') && `+
		rowText(`#client-history tbody tr[data-kind="ADJUSTMENT"]`)+`.includes('goodwill for the outage') && `+
		rowText(`#client-history tbody tr[data-kind="ADJUSTMENT"]`)+`.includes('+25.00 USD') && `+
		`document.querySelector('#client-balance-USD')?.dataset.available === '484.00'`)
	admin.wait("Acme's balance in the accounts table", rowText(acmeRow)+`.includes('484.00 USD') && window.__noReload === true`)

	// The API refuses an adjustment without a reason too.
	var accs struct {
		Agency struct {
			Accounts struct {
				Edges []struct{ Node struct{ ID, Name string } }
			}
		}
	}
	gw.api.gql(gw.tokens["agency_admin"], `{ agency { accounts(first: 50) { edges { node { id name } } } } }`, nil).decode(t, &accs)
	acme := ""
	for _, e := range accs.Agency.Accounts.Edges {
		if e.Node.Name == "Acme Coffee" {
			acme = e.Node.ID
		}
	}
	if r := gw.api.gql(gw.tokens["agency_admin"], `mutation($a: ID!) { adjustBalance(input: {accountId: $a, type: IN, amount: "1", reason: ""}) { balance { available } } }`,
		map[string]any{"a": acme}); r.code() != "BAD_USER_INPUT" {
		t.Errorf("adjustBalance without a reason answered %q %s", r.code(), r.Data)
	}

	// Reverse the adjustment, with a reason: marked reversed, the
	// REVERSAL listed with its reason, the balance back.
	admin.click(`#client-history tbody tr[data-kind="ADJUSTMENT"] button.reverse`)
	admin.wait("the reverse dialog", dialogStep("input"))
	admin.click(`#correction-next`)
	admin.wait("the dialog asking for a reason", rowText(`dialog[open] .dialog-error`)+`.includes('Give a reason')`)
	admin.fill(`#correction-reason`, "credited to the wrong account")
	admin.click(`#correction-next`)
	admin.wait("the confirmation", dialogStep("confirm")+` && `+rowText(`dialog[open] .step[data-step="confirm"]`)+`.includes('25.00 USD is taken back from Acme Coffee')`)
	admin.click(`#correction-confirm`)
	admin.wait("the reversal", `!document.querySelector('dialog[open]') && `+
		`!!document.querySelector('#client-history tbody tr.reversed[data-kind="ADJUSTMENT"]') && `+
		`!document.querySelector('#client-history tbody tr[data-kind="ADJUSTMENT"] button.reverse') && `+
		rowText(`#client-history tbody tr[data-kind="REVERSAL"]`)+`.includes('credited to the wrong account') && `+
		`document.querySelector('#client-balance-USD')?.dataset.available === '459.00'`)
	admin.shot("dashboard-backoffice")

	// The Activity page: both corrections, by the admin, newest first; the
	// filter narrows it to one action.
	admin.click(`#tab-activity`)
	activityRow := func(action string) string {
		return rowText(`#activity-table tbody tr[data-action="` + action + `"]`)
	}
	admin.wait("the corrections in the audit log", `!document.querySelector('#activity-page').hidden && document.querySelector('#dash-grid').hidden && `+
		activityRow("adjustBalance")+`.includes('Agency admin') && `+activityRow("reverseTransaction")+`.includes('Agency admin') && `+
		`document.querySelector('#activity-table tbody tr[data-id]').dataset.action === 'reverseTransaction'`)
	var adjustLine string
	admin.eval(activityRow("adjustBalance"), &adjustLine)
	if !strings.Contains(adjustLine, "25.00") {
		t.Errorf("the adjustment's audit line reads %q, want its amount", adjustLine)
	}
	admin.shot("dashboard-activity")
	admin.run("filtering by adjustBalance", chromedp.SetValue(`#activity-action`, "adjustBalance", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#activity-action').dispatchEvent(new Event('change'))`, nil))
	admin.wait("only adjustBalance", `[...document.querySelectorAll('#activity-table tbody tr[data-id]')].length > 0 && `+
		`[...document.querySelectorAll('#activity-table tbody tr[data-id]')].every((r) => r.dataset.action === 'adjustBalance')`)
	admin.click(`#tab-overview`)
	admin.wait("the overview again", `!document.querySelector('#dash-grid').hidden && document.querySelector('#activity-page').hidden`)

	// What is owed (a provider-side refund the balance could not cover):
	// set here as the refund webhook leaves it, 12.50 USD.
	sys := auth.NewContext(context.Background(), &auth.Viewer{UserID: "browser-test", Role: auth.RoleSystemAdmin})
	db := gw.api.svc.DB()
	acc, err := db.Account.Query().Where(account.Name("Acme Coffee")).Only(sys)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Balance.Update().Where(balance.AccountID(acc.ID), balance.Currency("USD")).SetOwed(12_500_000).Exec(sys); err != nil {
		t.Fatal(err)
	}

	// The portal: the reason on the adjusted row, the reversed marker, the
	// reversal's reason, and what is owed.
	client := signIn(t, browser, gw, "portal", "portal-backoffice")
	client.wait("the balance 459.00", balanceIs("459.00"))
	client.wait("the corrected rows", `!!document.querySelector('#history-table tbody tr.reversed[data-kind="ADJUSTMENT"]') && `+
		rowText(`#history-table tbody tr[data-kind="ADJUSTMENT"]`)+`.includes('goodwill for the outage') && `+
		rowText(`#history-table tbody tr[data-kind="ADJUSTMENT"]`)+`.includes('Reversed') && `+
		rowText(`#history-table tbody tr[data-kind="REVERSAL"]`)+`.includes('credited to the wrong account') && `+
		rowText(`#history-table tbody tr[data-kind="REVERSAL"]`)+`.includes('Reversal')`)
	client.wait("what is owed", rowText(`#owed-USD`)+`.includes('12.50 USD owed')`)
	client.shot("portal-backoffice")
}

func TestBrowserTopupInvoice(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserTopupInvoiceScenario(t, browser, kind) })
	}
}

// An ONLINE purchase on the portal issues an invoice, shown under the
// request; the portal opens its document and pays it by sandbox card: the
// invoice PAID, the request ACCEPTED, the credits on the balance.
func browserTopupInvoiceScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	client := signIn(t, browser, gw, "portal", "portal-invoice")
	client.wait("the balance 459.00", balanceIs("459.00"))
	client.eval(`window.__noReload = true`, nil)

	client.click(`#pkg-custom`)
	client.fill(`#custom-amount`, "40")
	client.click(`#methods input[value="ONLINE"]`)
	client.fill(`#buy-reference`, "PO-ONLINE-1")
	client.click(`#buy-submit`)
	invRow := `#requests-table tr.invoice-row`
	client.wait("the request's invoice", `!!document.querySelector('#requests-table tr[data-method="ONLINE"][data-status="PENDING"]') && `+
		rowText(invRow)+`.includes('40.00 USD due') && `+rowText(invRow)+`.includes('Open') && `+
		`!!document.querySelector('`+invRow+` button.pay-online')`)
	var number string
	client.eval(`document.querySelector('`+invRow+`').dataset.invoice`, &number)
	if number == "" {
		t.Fatal("the invoice row names no invoice number")
	}
	client.wait("no credit yet", balanceIs("459.00"))
	client.shot("portal-invoice")

	// Open invoice: a fresh link, opened in a new window (caught here),
	// that serves the document without a token.
	client.eval(`window.open = () => { window.__opened = { location: {}, close() {} }; return window.__opened; }, true`, nil)
	client.click(invRow + ` button.open-invoice`)
	client.wait("the document's link", `!!(window.__opened && window.__opened.location.href)`)
	var url string
	client.eval(`new URL(window.__opened.location.href, location.href).href`, &url)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(doc), number) {
		t.Errorf("the invoice document at %s answered %d without %s", url, resp.StatusCode, number)
	}

	// Pay online by card: the sandbox completes it at once.
	client.click(invRow + ` button.pay-online`)
	client.wait("the confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes(`+js(number)+`)`)
	client.click(`dialog[open] button[type=submit]`)
	client.wait("the invoice paid", rowText(`#requests-result`)+`.includes('is paid') && `+
		`!!document.querySelector('#requests-table tr[data-method="ONLINE"][data-status="ACCEPTED"]') && `+
		`document.querySelector('`+invRow+`').dataset.status === 'PAID' && !document.querySelector('`+invRow+` button.pay-online')`)
	client.wait("the balance 499.00", balanceIs("499.00")+` && window.__noReload === true`)
	client.shot("portal-invoice-paid")
}

func TestBrowserBackofficeActions(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserBackofficeActionsScenario(t, browser, kind) })
	}
}

// The other corrections in the dashboard, each with a reason and a
// confirmation: a partial refund of a card purchase, a reclaim into the
// pool, a voided invoice; the unpaid post-paid total; the billing terms and
// a client's billing e-mail.
func browserBackofficeActionsScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	var accs struct {
		Agency struct {
			Accounts struct {
				Edges []struct{ Node struct{ ID, Name string } }
			}
		}
	}
	gw.api.gql(gw.tokens["agency_admin"], `{ agency { accounts(first: 50) { edges { node { id name } } } } }`, nil).decode(t, &accs)
	acme := ""
	for _, e := range accs.Agency.Accounts.Edges {
		if e.Node.Name == "Acme Coffee" {
			acme = e.Node.ID
		}
	}
	// A card purchase of 100.00 by the client owner (459.00 -> 559.00),
	// and a post-paid credit line of 80.00 the agency extends to Acme
	// (accepted at once, unpaid: 639.00).
	var bought struct{ BuyCredits struct{ Status string } }
	gw.api.gql(gw.tokens["client_owner"], `mutation { buyCredits(input: {amount: "100", currency: "USD", method: CARD}) { status } }`, nil).decode(t, &bought)
	if bought.BuyCredits.Status != "COMPLETED" {
		t.Fatalf("the card purchase is %s", bought.BuyCredits.Status)
	}
	gw.api.gql(gw.tokens["agency_admin"], `mutation($a: ID!) { buyCredits(input: {accountId: $a, amount: "80", method: POSTPAID, reference: "PP-1"}) { status } }`,
		map[string]any{"a": acme}).decode(t, &bought)

	admin := signIn(t, browser, gw, "dashboard", "dashboard-actions")
	admin.wait("the unpaid post-paid total", `document.querySelector('#unpaid-postpaid .amount[data-currency="USD"]')?.dataset.amount === '80.00'`)
	acmeRow := `#accounts-table tr[data-name="Acme Coffee"]`
	admin.wait("Acme Coffee's balance", rowText(acmeRow)+`.includes('639.00 USD')`)
	admin.click(acmeRow + ` button.manage`)
	admin.wait("Acme's back office", `document.querySelector('#client-balance-USD')?.dataset.available === '639.00' && `+
		`!!document.querySelector('#client-history tbody tr[data-kind="PURCHASE"] button.refund') && `+
		`!document.querySelector('#client-history tbody tr[data-kind="PURCHASE"] button.reverse')`)

	// confirmCorrection goes through an open correction dialog: the
	// reason, Continue, the confirmation (which must say want), Confirm.
	confirmCorrection := func(reason, want string) {
		t.Helper()
		admin.wait("the dialog", dialogStep("input"))
		admin.fill(`#correction-reason`, reason)
		admin.click(`#correction-next`)
		admin.wait("the confirmation saying "+want, dialogStep("confirm")+` && `+rowText(`dialog[open] .step[data-step="confirm"]`)+`.includes(`+js(want)+`)`)
		admin.click(`#correction-confirm`)
		admin.wait("the dialog closed", `!document.querySelector('dialog[open]')`)
	}

	// Refund 30.00 of the card payment: the REFUND with its reason.
	admin.click(`#client-history tbody tr[data-kind="PURCHASE"] button.refund`)
	admin.wait("the refund dialog", dialogStep("input"))
	admin.fill(`#correction-amount`, "30")
	confirmCorrection("customer cancelled part of the order", "goes back to the payer")
	admin.wait("the refund in the history", rowText(`#client-history tbody tr[data-kind="REFUND"]`)+`.includes('customer cancelled part of the order') && `+
		rowText(`#client-history tbody tr[data-kind="PURCHASE"]`)+`.includes('30.00 USD refunded') && `+
		`!document.querySelector('#client-history tbody tr[data-kind="REFUND"] button.refund') && `+
		`document.querySelector('#client-balance-USD')?.dataset.available === '609.00'`)

	// Reclaim 9.00 into the pool (9,250.00 -> 9,259.00).
	admin.click(`#client-reclaim`)
	admin.wait("the reclaim dialog", dialogStep("input"))
	admin.fill(`#correction-amount`, "9")
	confirmCorrection("unused campaign budget", "back to the agency's pool")
	admin.wait("the reclaim", `document.querySelector('#client-balance-USD')?.dataset.available === '600.00' && `+
		rowText(`#client-history tbody tr[data-kind="ALLOCATION"][data-type="OUT"]`)+`.includes('unused campaign budget') && `+
		`document.querySelector('#pool-USD')?.dataset.available === '9259.00'`)

	// Void INV-1003.
	admin.click(`#client-invoices tr[data-number="INV-1003"] button.void`)
	confirmCorrection("billed twice", "nobody can pay it any more")
	admin.wait("INV-1003 void", `!!document.querySelector('#client-invoices tr[data-number="INV-1003"][data-status="VOID"]') && `+
		rowText(`#client-invoices tr[data-number="INV-1003"]`)+`.includes('billed twice')`)
	admin.shot("dashboard-corrections")

	// Billing: the terms, and Acme's billing e-mail.
	admin.fill(`#billing-due-days`, "30")
	admin.fill(`#billing-bank`, "IBAN DE00 1234 5678")
	admin.click(`#billing-submit`)
	admin.fill(`#client-billing-email`, "ap@acme.example")
	admin.click(`#client-billing-submit`)
	var billing struct {
		Agency struct {
			InvoiceDueDays int
			BankDetails    *string
			Accounts       struct {
				Edges []struct {
					Node struct{ Name, BillingEmail string }
				}
			}
		}
	}
	poll := func() bool {
		gw.api.gql(gw.tokens["agency_admin"], `{ agency { invoiceDueDays bankDetails accounts(first: 50) { edges { node { name billingEmail } } } } }`, nil).decode(t, &billing)
		email := ""
		for _, e := range billing.Agency.Accounts.Edges {
			if e.Node.Name == "Acme Coffee" {
				email = e.Node.BillingEmail
			}
		}
		return billing.Agency.InvoiceDueDays == 30 && billing.Agency.BankDetails != nil && *billing.Agency.BankDetails == "IBAN DE00 1234 5678" && email == "ap@acme.example"
	}
	admin.wait("the saved billing e-mail's toast", `document.querySelector('#toast').innerText.includes('ap@acme.example')`)
	if !poll() {
		t.Errorf("the billing settings read %+v", billing.Agency)
	}

	// The activity page lists each correction.
	admin.click(`#tab-activity`)
	for _, action := range []string{"refundPayment", "reclaimCredits", "voidInvoice", "updateBilling"} {
		admin.wait("the "+action+" event", `!!document.querySelector('#activity-table tbody tr[data-action="`+action+`"]')`)
	}
}
