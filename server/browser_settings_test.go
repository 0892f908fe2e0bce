//go:build linux

package main

// The portal's "Payment settings" in headless Chromium, as the owner of
// Acme Coffee (459.00 USD in the demo data): add cards (the sandbox's test
// cards), a one-time top-up that completes and one that is declined, an
// auto top-up on a declining card whose failure and retry time show after
// the job worker ran, the same rule saved with a good card topping up, a
// low-balance alert's state, removing a card after a confirmation; history
// references in plain words; a plain client sees none of it. The test
// gateway runs no job workers (webAPI): the test runs the due jobs with
// the service's RunDueJobs, as a worker would.

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"creditgate/dbtest"
)

func TestBrowserSettings(t *testing.T) {
	browser := startBrowser(t)

	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserSettingsScenario(t, browser, kind) })
	}
}

// plainReferenceCases: a transaction's kind and reference as the server
// writes them, and what the portal's history shows.
var plainReferenceCases = []struct{ kind, ref, want string }{
	{"PURCHASE", "CARD sandbox sandbox_pay_0123456789abcdefghjkmnpqrs", "Card payment"},
	{"PURCHASE", "CARD stripe pi_3MtwBwLkdIwHu7ix28a3tqPa", "Card payment"},
	{"PURCHASE", "PAYPAL paypal 5O190127TN364715T", "PayPal payment"},
	{"AUTO_TOPUP", "auto top-up sandbox sandbox_pay_0123456789abcdefghjkmnpqrs", "Auto top-up by card"},
	{"SERVICE_PURCHASE", "SMS message x30 (svc_0123456789abcdefghjkmnpqrs)", "SMS message × 30"},
	{"SERVICE_PURCHASE", "SMS message x30", "SMS message × 30"},
	{"USAGE", "SMS US x3", "SMS US × 3"},
	{"REQUEST_APPROVED", "BANK_TRANSFER BT-7781", "Bank transfer BT-7781"},
	{"REQUEST_APPROVED", "POSTPAID", "Post-paid request"},
	{"SETTLEMENT", "settled req_0123456789abcdefghjkmnpqrs", "Post-paid request paid"},
	{"INVOICE_PAYMENT", "INV-1001", "INV-1001"},
	{"ALLOCATION", "Q3 budget", "Q3 budget"},
	{"ADJUSTMENT", "", ""},
}

// evalAsync returns the value of a JavaScript expression that is a promise.
func (tb *tab) evalAsync(expr string, out any) {
	tb.t.Helper()
	tb.run("evaluating "+expr, chromedp.Evaluate(expr, out, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
}

func browserSettingsScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	dir := t.ArtifactDir()
	runJobs := func(what string, want int) {
		t.Helper()
		n, err := gw.api.svc.RunDueJobs(context.Background(), "browser-test")
		if err != nil {
			t.Fatalf("%s: jobs: %v", what, err)
		}
		if n != want {
			t.Fatalf("%s: ran %d jobs, want %d", what, n, want)
		}
	}

	p := newTab(t, browser, "portal-settings", dir)
	p.run("opening the portal as the owner", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(gw.base+"/portal/#token="+gw.tokens["client_owner"]))
	p.wait("the payment settings", `!document.querySelector('#settings').hidden && `+rowText(`#card-list`)+`.includes('No saved cards')`)
	p.wait("the balance 459.00", balanceIs("459.00"))
	p.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)

	// References in plain words (web/assets/js/references.js).
	var got []string
	cases := "["
	for _, c := range plainReferenceCases {
		cases += "[" + js(c.kind) + "," + js(c.ref) + "],"
	}
	p.evalAsync(`import('/web/assets/js/references.js').then((m) => `+cases+`].map(([k, r]) => m.plainReference(k, r)))`, &got)
	for i, c := range plainReferenceCases {
		if i >= len(got) || got[i] != c.want {
			t.Errorf("plainReference(%s, %q) = %q, want %q", c.kind, c.ref, got, c.want)
		}
	}

	// Add two test cards: one that pays, one that is always declined.
	card := func(last4 string) string { return `#card-list li[data-last4="` + last4 + `"]` }
	p.click(`#card-submit`) // the first test card, Visa 4242, is preselected
	p.wait("the Visa saved", `!!document.querySelector('`+card("4242")+`')`)
	p.eval(`document.querySelector('#card-test').value = 'pm_card_chargeDeclined'`, nil)
	p.click(`#card-submit`)
	p.wait("the declining card saved", `!!document.querySelector('`+card("0002")+`') && document.querySelectorAll('#topup-card option').length === 2`)
	pick := func(sel, last4 string) {
		t.Helper()
		p.eval(`(() => { const s = document.querySelector(`+js(sel)+`);
			s.value = [...s.options].find((o) => o.textContent.includes(`+js(last4)+`)).value; return s.value; })()`, nil)
	}

	// A one-time top-up with the Visa: COMPLETED, the balance and the
	// history follow, the reference in plain words.
	p.fill(`#topup-amount`, "50")
	pick(`#topup-card`, "4242")
	p.click(`#topup-submit`)
	p.wait("the top-up completed", `!!document.querySelector('#topup-result [data-status="COMPLETED"]') && `+balanceIs("509.00"))
	p.wait("the purchase in the history, in plain words", `(() => {
		const r = document.querySelector('#history-table tbody tr[data-id]');
		return !!r && r.cells[3].innerText.trim() === 'Card payment' && r.cells[5].innerText.trim() === '509.00 USD';
	})()`)

	// With the declining card: FAILED, the reason, nothing credited.
	p.fill(`#topup-amount`, "50")
	pick(`#topup-card`, "0002")
	p.click(`#topup-submit`)
	p.wait("the top-up declined", `!!document.querySelector('#topup-result [data-status="FAILED"]') && `+
		rowText(`#topup-result`)+`.includes('declined') && `+rowText(`#topup-result`)+`.includes('nothing was charged')`)
	p.wait("still 509.00", balanceIs("509.00"))

	// Auto top-up to 700.00 below 600.00 on the declining card: the balance
	// (509.00) is below already, so a top-up is queued at once; the worker's
	// decline shows on the rule with its reason and the retry time.
	p.fill(`#auto-threshold`, "600")
	p.click(`#auto-form input[value="TOP_UP_TO"]`)
	p.fill(`#auto-amount`, "700")
	pick(`#auto-card`, "0002")
	p.fill(`#auto-cap`, "1000")
	p.click(`#auto-submit`)
	p.wait("the rule active", `!!document.querySelector('#auto-status [data-status="ACTIVE"]')`)
	runJobs("the declined top-up", 1)
	p.wait("the decline on the rule, with the retry time", `!!document.querySelector('#auto-status [data-status="BACKING_OFF"]') && `+
		rowText(`#auto-last-failure`)+`.includes('Your card was declined') && !!document.querySelector('#auto-last-failure time') && `+
		`!!document.querySelector('#auto-retry[data-retry-after] time')`)
	p.wait("still 509.00 after the decline", balanceIs("509.00"))
	var retry string
	p.eval(`document.querySelector('#auto-retry').dataset.retryAfter`, &retry)
	if at, err := time.Parse(time.RFC3339Nano, retry); err != nil || time.Until(at) < 30*time.Minute {
		t.Errorf("retry after %q: want about an hour from now", retry)
	}
	p.run("scrolling to the settings", chromedp.ScrollIntoView(`#settings`, chromedp.ByQuery))
	p.shot("portal-settings-declined")

	// Saved again with the Visa: the top-up runs at once (the back-off
	// belonged to the declining card) and lifts the balance to 700.00, live.
	pick(`#auto-card`, "4242")
	p.click(`#auto-submit`)
	p.wait("the rule active again", `!!document.querySelector('#auto-status [data-status="ACTIVE"]') && !document.querySelector('#auto-retry')`)
	runJobs("the top-up with the good card", 1)
	p.wait("the balance 700.00 after the auto top-up", balanceIs("700.00"))
	p.wait("the auto top-up in the history, in plain words", `(() => {
		const r = document.querySelector('#history-table tbody tr[data-id]');
		return !!r && r.cells[2].innerText.trim() === 'Auto top-up' && r.cells[3].innerText.trim() === 'Auto top-up by card' &&
			r.cells[4].innerText.trim() === '+191.00 USD';
	})()`)
	p.wait("the top-up on the rule", rowText(`#auto-status`)+`.includes('191.00 USD of 1,000.00 USD') && `+rowText(`#auto-status`)+`.includes('last top-up')`)
	var history string
	p.eval(rowText(`#history-table tbody`), &history)
	if strings.Contains(history, "sandbox") || strings.Contains(history, "pay_") || strings.Contains(history, "svc_") {
		t.Errorf("the history shows internal ids:\n%s", history)
	}

	// A low-balance alert below 800.00: saved, and LOW once its job ran.
	p.fill(`#alert-threshold`, "800")
	p.fill(`#alert-email`, "owner@example.com")
	p.click(`#alert-submit`)
	p.wait("the alert saved with its state", `!!document.querySelector('#alert-state[data-state]') && `+rowText(`#alert-status`)+`.includes('owner@example.com')`)
	runJobs("the alert", 1)
	p.wait("the alert LOW", `!!document.querySelector('#alert-state[data-state="LOW"]')`)

	// Remove the declining card, after a confirmation.
	p.click(card("0002") + ` button`)
	p.wait("the confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes('ending 0002')`)
	p.click(`dialog[open] button[type=submit]`)
	p.wait("the card gone", `!document.querySelector('`+card("0002")+`') && !!document.querySelector('`+card("4242")+`')`)
	p.run("scrolling to the settings", chromedp.ScrollIntoView(`#settings`, chromedp.ByQuery))
	p.shot("portal-settings-full")
	var png []byte
	p.run("a screenshot of the settings", chromedp.Evaluate(`document.querySelector('#toast')?.replaceChildren()`, nil),
		chromedp.Screenshot(`#settings`, &png, chromedp.ByQuery))
	if err := os.WriteFile(filepath.Join(dir, "portal-settings.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}

	// A plain client user sees none of it (and may not buy: the portal's
	// Buy credits says so from canBuyCredits).
	c := newTab(t, browser, "portal-client", dir)
	c.run("opening the portal as a client user", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(gw.base+"/portal/#token="+gw.tokens["client"]))
	c.wait("the client user signed in", `document.querySelector('#who').textContent.includes('Client user') && !!document.querySelector('#big-balance-USD')`)
	c.wait("no payment settings", `document.querySelector('#settings').hidden && !document.querySelector('#buy-forbidden').hidden`)

	if os.Getenv("UPDATE_SCREENSHOTS") != "" && kind == dbtest.Kinds[0] {
		if err := os.WriteFile(filepath.Join("..", "docs", "portal-settings.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
