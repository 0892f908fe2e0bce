//go:build linux

package main

// Browser tests: the portal and the dashboard (package web) in headless
// Chromium, driven with chromedp, against a real gateway on each database
// with the demo data. Chromium comes from Debian (apt-get install
// chromium); without it the tests skip, except under CI (CI=true), where
// they fail. Screenshots of each screen land in the test's artifact
// directory (go test -artifacts -outputdir DIR keeps them); with
// UPDATE_SCREENSHOTS=1 the portal's and the dashboard's are copied to
// docs/ (make screenshots).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"creditgate/auth"
	"creditgate/dbtest"
	"creditgate/demo"
	"creditgate/graph"
)

// chromiumPath finds the browser, or skips (fails under CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM_PATH"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	msg := "Chromium is not installed (apt-get install -y chromium, or set CHROMIUM_PATH): the browser tests need it"
	if v := os.Getenv("CI"); v != "" && v != "false" && v != "0" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// startBrowser starts headless Chromium for t, with a profile of its own,
// and ends it (and every helper process it started) when t ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	// Not t.TempDir: Chromium's helper processes may still write to its
	// profile for a moment after it exits, failing TempDir's cleanup.
	profile, err := os.MkdirTemp("", "creditgate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 10 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // root in CI
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			// Its own process group, so that nothing Chromium signals to
			// its group reaches the test binary and the cleanup can end
			// every helper process; killed with the test binary (what
			// chromedp does by default on Linux).
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		}),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		// cdproto predates some events of this Chromium; chromedp says
		// so for each one. Everything else is worth reading.
		if !strings.HasPrefix(format, "unhandled") {
			t.Logf("chromedp: "+format, args...)
		}
	}))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Run(browser); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	if p := chromedp.FromContext(browser).Browser.Process(); p != nil {
		pgid := p.Pid
		// Registered after cancelBrowser, so it runs before it (LIFO):
		// close the browser politely, then end whatever is left.
		t.Cleanup(func() {
			cancelBrowser()
			cancelAlloc()
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		})
	}
	return browser
}

func TestBrowser(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserScenario(t, browser, kind) })
	}
}

// webAPI starts a gateway with the web pages on and the demo data loaded,
// its demo users offered by the sign-in picker.
// webGateway is a gateway serving the pages, and an "embedding
// application" on another origin allowed to frame them.
type webGateway struct {
	base   string            // the gateway's URL
	embed  string            // the embedding application's URL
	tokens map[string]string // demo role -> token
	api    *testAPI          // the gateway's API, for calls made outside the pages
}

func webAPI(t *testing.T, kind string) webGateway {
	var gw webGateway
	// The embedding application frames the portal and hands it a token
	// by postMessage once the portal says it is ready.
	embed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>An embedding application</title>
<iframe id="portal" src="%[1]s/portal/" style="width:1100px;height:700px"></iframe>
<script>
addEventListener('message', (ev) => {
  if (ev.origin !== %[2]q || !ev.data || ev.data.type !== 'creditgate:ready') return;
  document.getElementById('portal').contentWindow.postMessage({type: 'creditgate:token', token: %[3]q}, %[2]q);
});
</script>`, gw.base, gw.base, gw.tokens["client_owner"])
	}))
	t.Cleanup(embed.Close)
	gw.embed = embed.URL
	cfg := Config{
		WebEmbedOrigins: []string{embed.URL},
		Introspect:      true, WebUI: true, MaxConnsPerToken: 10, MaxSubsPerConn: 20,
		GraphQL: graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}},
	}
	a := newAPIWith(t, kind, cfg)
	gw.api = a
	f, err := demo.Load(context.Background(), a.svc)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := demo.Tokens(f, testSecret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// A second server over the same domain and broker, whose routes offer
	// the demo users (they exist only once the data is loaded).
	cfg.DemoUsers = demoUsers(toks)
	gw.tokens = map[string]string{}
	for _, u := range cfg.DemoUsers {
		if _, ok := gw.tokens[u.Role]; !ok {
			gw.tokens[u.Role] = u.Token
		}
	}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	sockets := graph.NewSockets()
	srv := httptest.NewServer(routes(cfg, a.db, a.svc, verifier, sockets, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(func() { sockets.CloseAll(); srv.Close() })
	gw.base = srv.URL
	return gw
}

// tab is one page in its own browser context (separate storage), with
// its JavaScript errors collected.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
	dir  string

	mu     sync.Mutex
	errors []string
}

func newTab(t *testing.T, browser context.Context, name, dir string) *tab {
	// chromedp.WithNewBrowserContext opens its tab without a window, which
	// headless Chromium refuses ("no browser is open"): ask for a window.
	exe := cdp.WithExecutor(browser, chromedp.FromContext(browser).Browser)
	bctx, err := target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exe)
	if err != nil {
		t.Fatalf("creating a browser context: %v", err)
	}
	tid, err := target.CreateTarget("about:blank").WithBrowserContextID(bctx).WithNewWindow(true).Do(exe)
	if err != nil {
		t.Fatalf("opening a window: %v", err)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithTargetID(tid))
	t.Cleanup(func() {
		cancel()
		_ = target.DisposeBrowserContext(bctx).Do(exe)
	})
	// Attach with the context itself: the context of the first Run owns the
	// tab, and a timeout on it would close the tab when it ends.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("attaching to the window: %v", err)
	}
	tb := &tab{t: t, name: name, ctx: ctx, dir: dir}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			tb.addError(ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				tb.addError("console.error: " + strings.Join(parts, " "))
			}
		}
	})
	t.Cleanup(func() {
		tb.mu.Lock()
		defer tb.mu.Unlock()
		for _, e := range tb.errors {
			t.Errorf("%s: JavaScript error: %s", name, e)
		}
	})
	return tb
}

func (tb *tab) addError(s string) {
	tb.mu.Lock()
	tb.errors = append(tb.errors, s)
	tb.mu.Unlock()
}

func (tb *tab) run(what string, actions ...chromedp.Action) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.fail(what, err)
	}
}

// fail saves a screenshot of the page as it is and stops the test.
func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	var png []byte
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	var body string
	_ = chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100), chromedp.Evaluate(`document.body.innerText`, &body))
	name := filepath.Join(tb.dir, tb.name+"-failure.png")
	_ = os.WriteFile(name, png, 0o644)
	if len(body) > 3000 {
		body = body[:3000]
	}
	tb.t.Fatalf("%s: %s: %v\nscreenshot: %s\npage text:\n%s", tb.name, what, err, name, body)
}

// wait polls a JavaScript expression until it is true.
func (tb *tab) wait(what, expr string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Poll(expr, nil, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		tb.fail("waiting for "+what, err)
	}
}

// eval returns a JavaScript expression's value.
func (tb *tab) eval(expr string, out any) {
	tb.t.Helper()
	tb.run("evaluating "+expr, chromedp.Evaluate(expr, out))
}

// click clicks the first node sel matches. A live update may re-render
// its table between chromedp finding the node and clicking it; the click
// then never reached the page ("Could not find node"), so it is tried again
// on the new node.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
		err = chromedp.Run(ctx, chromedp.Click(sel, chromedp.ByQuery))
		cancel()
		if err == nil || !strings.Contains(err.Error(), "Could not find node") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		tb.fail("clicking "+sel, err)
	}
}

// fill empties a field and types value into it, key by key. A live update
// may re-render the field's table between finding the node and typing into
// it (the page keeps a field's value across re-renders, but the node being
// typed into is gone): then it types again, until the field holds value.
func (tb *tab) fill(sel, value string) {
	tb.t.Helper()
	var err error
	for range 5 {
		ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
		var got string
		err = chromedp.Run(ctx,
			chromedp.Evaluate(`document.querySelector(`+js(sel)+`).value = ''`, nil),
			chromedp.SendKeys(sel, value, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector(`+js(sel)+`).value`, &got))
		cancel()
		if err == nil && got == value {
			return
		}
		if err == nil {
			err = fmt.Errorf("the field holds %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.fail("typing into "+sel, err)
}

// shot saves a full-page screenshot as name.png in the artifact directory.
func (tb *tab) shot(name string) string {
	tb.t.Helper()
	var png []byte
	tb.run("screenshot "+name,
		// The toast would hide part of the page.
		chromedp.Evaluate(`document.querySelector('#toast')?.replaceChildren()`, nil),
		chromedp.FullScreenshot(&png, 100))
	path := filepath.Join(tb.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	return path
}

// js quotes s as a JavaScript string literal.
func js(s string) string { return fmt.Sprintf("%q", s) }

// balanceIs: the top-bar widget shows available credits in USD.
func balanceIs(available string) string {
	return `document.querySelector('#balance-USD')?.dataset.available === ` + js(available)
}

// rowText is the text of the first row matching sel, or "".
func rowText(sel string) string {
	return `(document.querySelector(` + js(sel) + `)?.innerText || '')`
}

func browserScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	base := gw.base
	dir := t.ArtifactDir()
	client := newTab(t, browser, "portal", dir)
	admin := newTab(t, browser, "dashboard", dir)

	// The agency admin opens the dashboard and signs in as the demo agency
	// admin (the picker preselects that role).
	admin.run("opening the dashboard", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/dashboard/"))
	admin.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	admin.click(`#demo-form button[type=submit]`)
	admin.wait("the demo's pending request", `!!document.querySelector('#pending-table tr[data-reference="BT-7781"]')`)
	admin.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	admin.eval(`window.__noReload = true`, nil)

	// The client owner of Acme Coffee signs in on the portal.
	client.run("opening the portal", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/portal/"))
	client.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	var picked string
	client.eval(`document.querySelector('#demo-user').selectedOptions[0].textContent`, &picked)
	if picked != "client owner (Acme Coffee)" {
		t.Fatalf("the portal's picker preselects %q", picked)
	}
	client.shot("signin")
	client.click(`#demo-form button[type=submit]`)
	client.wait("the balance 459.00", balanceIs("459.00"))
	client.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	client.wait("the history", `document.querySelectorAll('#history-table tbody tr[data-id]').length > 0`)
	client.eval(`window.__noReload = true`, nil)

	// The demo's SMS rate card under its service: the price per
	// destination and the SMS the balance (459.00 USD) pays for at each;
	// the other card is in SGD (100.00 SGD allocated to Acme).
	smsRate := func(card, variant string) string {
		return rowText(`#services-table tr[data-rate-card="` + card + `"] tr[data-variant="` + variant + `"]`)
	}
	client.wait("the SMS rate card", rowText(`#services-table tr[data-rate-card="SMS"] h3`)+` === 'SMS pricing'`)
	for _, c := range []struct{ card, variant, price, left string }{
		{"SMS", "US", "0.0075 USD", "61,200"},
		{"SMS", "SG", "0.035 USD", "13,114"},
		{"SMS", "IN", "0.0025 USD", "183,600"},
		{"SMS", "", "0.01 USD", "45,900"},
		{"SMS (Singapore sender)", "SG", "0.042 SGD", "2,380"},
	} {
		client.wait("the rate "+c.card+" "+c.variant, smsRate(c.card, c.variant)+`.includes('`+c.price+`') && `+
			smsRate(c.card, c.variant)+`.includes('`+c.left+`')`)
	}
	var destinations []string
	client.eval(`[...document.querySelectorAll('#services-table tr[data-rate-card="SMS"] tbody tr')].map((r) => r.cells[0].innerText.trim())`, &destinations)
	if strings.Join(destinations, " ") != "BR DE GB IN SG US Other destinations" {
		t.Errorf("the SMS rate card lists %q, want the destinations by name, then the default rate", destinations)
	}
	client.shot("portal-rates")
	var token string
	client.eval(`sessionStorage.getItem('creditgate.token.portal') || ''`, &token)
	if token == "" {
		t.Fatal("the portal keeps no token in sessionStorage")
	}

	// 1. Buy the Starter package by card: credited at once, the widget and
	// the history follow without a reload.
	client.click(`#packages input[data-name="Starter"]`)
	client.click(`#methods input[value="CARD"]`)
	client.click(`#buy-submit`)
	client.wait("the balance 559.00 after the purchase", balanceIs("559.00")+` && window.__noReload === true`)
	client.wait("the purchase in the history", rowText(`#history-table tbody tr[data-id]`)+`.includes('Purchase') && `+
		rowText(`#history-table tbody tr[data-id]`)+`.includes('559.00 USD')`)
	client.shot("portal")

	// A bad amount from the server's point of view (three decimals in USD)
	// is explained, not swallowed.
	client.click(`#pkg-custom`)
	client.fill(`#custom-amount`, "1.005")
	client.click(`#buy-submit`)
	client.wait("the BAD_USER_INPUT message", `!!document.querySelector('#buy-error .message[data-code="BAD_USER_INPUT"]')`)
	client.shot("portal-error")

	// 2. A bank transfer: a pending request on the portal, and on the
	// dashboard in the other browser context, live.
	client.fill(`#custom-amount`, "200")
	client.click(`#methods input[value="BANK_TRANSFER"]`)
	client.fill(`#buy-reference`, "BT-E2E-1")
	client.click(`#buy-submit`)
	client.wait("the pending request on the portal", rowText(`#requests-table tbody tr[data-status="PENDING"]`)+`.includes('BT-E2E-1')`)
	client.wait("no credit yet", balanceIs("559.00"))
	admin.wait("the new request on the dashboard", `!!document.querySelector('#pending-table tr[data-reference="BT-E2E-1"]') && window.__noReload === true`)
	admin.shot("dashboard")

	// 3. The admin approves it: the client's widget follows, live (the
	// client did nothing).
	admin.click(`#pending-table tr[data-reference="BT-E2E-1"] button.approve`)
	admin.wait("the approval's confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes('200.00 USD')`)
	admin.click(`dialog[open] button[type=submit]`)
	admin.wait("the request leaving the pending list", `!document.querySelector('#pending-table tr[data-reference="BT-E2E-1"]')`)
	client.wait("the balance 759.00 after the approval", balanceIs("759.00")+` && window.__noReload === true`)
	client.wait("the request accepted", rowText(`#requests-table tbody tr[data-status="ACCEPTED"]`)+`.includes('BT-E2E-1')`)
	admin.wait("Acme's balance on the dashboard", rowText(`#accounts-table tr[data-name="Acme Coffee"]`)+`.includes('759.00 USD')`)

	// The agency asks the platform for credit on its pool: the dashboard
	// lists it, live, but offers no review (the platform reviews it).
	gw.api.gql(gw.tokens["agency_admin"], `mutation { buyCredits(input:{amount: "5000", method: BANK_TRANSFER, reference: "POOL-TOPUP"}) { status } }`, nil).decode(t, &struct{}{})
	admin.wait("the pool's request, not reviewable by the agency", `!!document.querySelector('#pending-table tr[data-reference="POOL-TOPUP"] [data-review="none"]') && `+
		`!document.querySelector('#pending-table tr[data-reference="POOL-TOPUP"] button.approve') && `+
		rowText(`#pending-table tr[data-reference="POOL-TOPUP"]`)+`.includes('Awaiting the platform')`)

	// A crypto purchase rejected with a reason: nothing is credited and
	// the client reads the reason.
	client.click(`#pkg-custom`)
	client.fill(`#custom-amount`, "50")
	client.click(`#methods input[value="CRYPTO"]`)
	client.fill(`#buy-reference`, "0xE2E")
	client.click(`#buy-submit`)
	admin.wait("the crypto request", `!!document.querySelector('#pending-table tr[data-reference="0xE2E"]')`)
	admin.click(`#pending-table tr[data-reference="0xE2E"] button.reject`)
	admin.wait("the reject dialog", `!!document.querySelector('dialog[open] textarea')`)
	admin.fill(`dialog[open] textarea`, "no transfer received")
	admin.shot("dashboard-reject")
	admin.click(`dialog[open] button[type=submit]`)
	client.wait("the rejection with its reason", rowText(`#requests-table tbody tr[data-status="REJECTED"]`)+`.includes('no transfer received')`)
	client.wait("still 759.00", balanceIs("759.00"))

	// 4. Pay invoice INV-1001 (120.00): PAID, and the OUT row with the
	// running balance 639.00 on top of the history.
	client.click(`#invoices-table tr[data-number="INV-1001"] button.pay-credit`)
	client.wait("the confirmation", `!!document.querySelector('dialog[open]')`)
	client.click(`dialog[open] button[type=submit]`)
	client.wait("INV-1001 paid", `!!document.querySelector('#invoices-table tr[data-number="INV-1001"][data-status="PAID"]')`)
	client.wait("the balance 639.00", balanceIs("639.00"))
	client.wait("the OUT row", `(() => {
		const rows = [...document.querySelectorAll('#history-table tbody tr[data-id]')];
		if (rows.length < 2) return false;
		const cells = [...rows[0].cells].map((c) => c.innerText.trim());
		return rows[0].dataset.type === 'OUT' && cells[1] === 'Out' && cells[2] === 'Invoice payment' &&
			cells[3] === 'INV-1001' && cells[4] === '−120.00 USD' && cells[5] === '639.00 USD' &&
			rows[1].cells[5].innerText.trim() === '759.00 USD';
	})()`)
	var notPaid string
	client.eval(rowText(`#invoices-table tr[data-number="INV-1003"]`), &notPaid)
	if !strings.Contains(notPaid, "cannot be paid with credits") {
		t.Errorf("INV-1003 (not eligible) reads %q", notPaid)
	}

	// Buy 30 SMS with credits: 1.50 USD.
	client.fill(`#services-table tr[data-name="SMS message"] input`, "30")
	client.click(`#services-table tr[data-name="SMS message"] button`)
	client.wait("the balance 637.50", balanceIs("637.50"))
	client.wait("the units left", rowText(`#services-table tr[data-name="SMS message"]`)+`.includes('12,750')`)
	client.wait("the SMS left to US at 637.50", smsRate("SMS", "US")+`.includes('85,000')`)
	client.shot("portal-after")

	// 5. Credit payments off: after a reload (the token survives it, in
	// sessionStorage), Pay with Credit is gone and the reason shows.
	admin.click(`#payments-switch`)
	admin.wait("the switch off", `document.querySelector('#payments-switch').getAttribute('aria-checked') === 'false'`)
	client.run("reloading the portal", chromedp.Reload())
	client.wait("the invoices", `!!document.querySelector('#invoices-table tr[data-number="INV-1002"]')`)
	client.wait("no Pay with Credit", `!document.querySelector('#invoices-table button.pay-credit') && `+
		rowText(`#invoices-table tr[data-number="INV-1002"]`)+`.includes('Credit payments are turned off by your agency')`)
	client.wait("no Buy with Credit", `!document.querySelector('#services-table button')`)
	client.wait("no Buy credits either (Account.canBuyCredits)", `!document.querySelector('#buy-forbidden').hidden && document.querySelector('#buy-submit').disabled && `+
		`document.querySelector('#buy-forbidden').textContent.includes('turned credit payments off')`)
	client.shot("portal-credit-payments-off")

	// Production sign-in, 1: a token in the URL fragment (a client user,
	// who may not buy credits), taken and removed from the address bar.
	link := newTab(t, browser, "fragment", dir)
	link.run("opening the portal with #token", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/portal/#token="+gw.tokens["client"]))
	link.wait("the signed-in client user", `document.querySelector('#who').textContent.includes('Client user') && location.hash === ''`)
	link.wait("Buy Credits turned off for a client user", `!document.querySelector('#buy-forbidden').hidden && document.querySelector('#buy-submit').disabled && `+
		`document.querySelector('#buy-forbidden').textContent.includes('Only the account owner')`)

	// 2: postMessage from an embedding application on another origin
	// (WEB_EMBED_ORIGINS), the portal in its iframe.
	host := newTab(t, browser, "embedded", dir)
	host.run("opening the embedding application", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.embed))
	var frames []*cdp.Node
	host.run("finding the iframe", chromedp.Nodes("iframe#portal", &frames, chromedp.ByQuery))
	ctx, cancel := context.WithTimeout(host.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Poll(`document.querySelector('#who')?.textContent.includes('Client owner') && !!document.querySelector('#big-balance-USD')`,
		nil, chromedp.WithPollingInFrame(frames[0]), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		host.fail("the portal signed in by postMessage in its frame", err)
	}
	host.shot("portal-embedded")

	// A phone screen.
	client.run("a phone viewport", chromedp.EmulateViewport(390, 844), chromedp.ScrollIntoView("body", chromedp.ByQuery))
	client.shot("portal-phone-full")
	var phone []byte
	client.run("a screenful", chromedp.Evaluate(`window.scrollTo(0, 0)`, nil), chromedp.CaptureScreenshot(&phone))
	if err := os.WriteFile(filepath.Join(dir, "portal-phone.png"), phone, 0o644); err != nil {
		t.Fatal(err)
	}
	var wide bool
	client.eval(`document.documentElement.scrollWidth > 390`, &wide)
	if wide {
		t.Error("the portal is wider than a phone screen")
	}
	for _, sec := range []string{"history", "invoices", "buy"} {
		var png []byte
		client.run("screenshot of #"+sec, chromedp.Screenshot("#"+sec, &png, chromedp.ByQuery))
		if err := os.WriteFile(filepath.Join(dir, "portal-phone-"+sec+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	admin.run("a phone viewport", chromedp.EmulateViewport(390, 844))
	admin.shot("dashboard-phone")

	if os.Getenv("UPDATE_SCREENSHOTS") != "" && kind == dbtest.Kinds[0] {
		for _, n := range []string{"portal", "dashboard", "portal-phone"} {
			b, err := os.ReadFile(filepath.Join(dir, n+".png"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join("..", "docs", n+".png"), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
