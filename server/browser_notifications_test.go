//go:build linux

package main

// The notifications' pages in headless Chromium (#18). The dashboard's
// Webhooks page: an endpoint at a private address refused in words, then
// (private addresses allowed, as make run does) made with two events; its
// secret shown once; a credit request made through the API reaches a test
// receiver signed with that secret (checked by an independent HMAC), and
// the delivery shows in the log; redelivered with the same webhook-id;
// the secret rotated (the next attempt signed with the new one); the
// endpoint disabled, after which nothing is sent. The portal's Statements
// card: a month's figures equal to the API's, the printable statement by
// a fresh link, and the month's CSV downloaded (with the bearer token) and
// read back: header, one row per transaction, the last running balance
// the closing balance.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"creditgate/credits"
	"creditgate/dbtest"
)

func TestBrowserWebhooks(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserWebhooksScenario(t, browser, kind) })
	}
}

// received is one request the test receiver got.
type received struct {
	id, ts, sig string
	body        []byte
}

// receiver answers 200 to every POST and keeps what came.
type receiver struct {
	mu   sync.Mutex
	msgs []received
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.msgs = append(r.msgs, received{req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), req.Header.Get("webhook-signature"), body})
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// signedWith checks m's signature as the Standard Webhooks specification
// says, independently of the gateway's code.
func signedWith(secret string, m received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(m.id + "." + m.ts + "."))
	mac.Write(m.body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(m.sig) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func browserWebhooksScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	recv := &receiver{}
	hooks := httptest.NewServer(recv)
	t.Cleanup(hooks.Close)
	url := hooks.URL + "/hooks"

	// deliver runs the job workers until the receiver holds n messages.
	deliver := func(n int) []received {
		t.Helper()
		for range 20 {
			gw.api.runJobs(t)
			if got := recv.all(); len(got) >= n {
				return got
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("the receiver got %d messages, want %d", len(recv.all()), n)
		return nil
	}
	request := func(ref string) {
		t.Helper()
		gw.api.gql(gw.tokens["client_owner"], `mutation($r: String!) { buyCredits(input:{amount: "25", method: BANK_TRANSFER, reference: $r}) { status } }`,
			map[string]any{"r": ref}).decode(t, &struct{}{})
	}

	admin := newTab(t, browser, "dashboard-webhooks", t.ArtifactDir())
	// press clicks sel with the toast cleared first: a toast (the copy
	// button's stays 6 s) may lie over a button near the bottom right, and
	// would take the click.
	press := func(sel string) {
		t.Helper()
		admin.eval(`document.querySelector('#toast').replaceChildren(), true`, nil)
		admin.click(sel)
	}
	admin.run("opening the dashboard", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/dashboard/"))
	admin.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	admin.click(`#demo-form button[type=submit]`)
	admin.wait("the tabs", `!document.querySelector('#dash-tabs').hidden`)
	admin.click(`#tab-webhooks`)
	admin.wait("the Webhooks page", `!document.querySelector('#webhooks-page').hidden && document.querySelector('#dash-grid').hidden && `+
		rowText(`#webhooks-table tbody`)+`.includes('No webhook endpoints yet')`)

	// A private address is refused (the gateway's default), in words.
	admin.fill(`#webhook-url`, url)
	admin.fill(`#webhook-description`, "CRM")
	admin.click(`#webhook-event-choices input[value="REQUEST_CREATED"]`)
	admin.click(`#webhook-event-choices input[value="REQUEST_REVIEWED"]`)
	admin.click(`#webhook-submit`)
	admin.wait("the refusal", `!!document.querySelector('#webhook-error .message[data-code="BAD_USER_INPUT"]')`)
	var refusal string
	admin.eval(rowText(`#webhook-error`), &refusal)
	if !strings.Contains(refusal, "not valid") || !strings.Contains(strings.ToLower(refusal), "address") {
		t.Errorf("the refusal reads %q: want the headline and why (the address)", refusal)
	}
	admin.shot("webhooks-refused")

	// Allowed as make run allows them (WEBHOOK_ALLOW_PRIVATE): made, its
	// secret shown once.
	gw.api.svc.UseWebhooks(credits.WebhookOptions{AllowPrivate: true})
	admin.click(`#webhook-submit`)
	admin.wait("the secret, once", `(document.querySelector('#webhook-secret-value')?.value || '').startsWith('whsec_')`)
	var secret, warning string
	admin.eval(`document.querySelector('#webhook-secret-value').value`, &secret)
	admin.eval(rowText(`#webhook-secret`), &warning)
	if !strings.Contains(warning, "shown only this once") {
		t.Errorf("the secret comes without its warning: %q", warning)
	}
	row := `#webhooks-table tbody tr[data-id]`
	admin.wait("the endpoint listed", rowText(row)+`.includes(`+js(url)+`) && `+rowText(row)+`.includes('request.created, request.reviewed') && `+
		rowText(row)+`.includes('Enabled') && `+rowText(row)+`.includes(`+js(secret[:12]+"…")+`) && !`+rowText(`#webhooks-table`)+`.includes(`+js(secret)+`)`)
	var epID string
	admin.eval(`document.querySelector(`+js(row)+`).dataset.id`, &epID)
	admin.click(`#webhook-copy`) // the clipboard may be refused headless: the page falls back, without errors
	admin.shot("webhooks-secret")
	press(`#webhook-secret-done`)
	admin.wait("the secret gone", `!document.querySelector('#webhook-secret-value') && !document.body.innerText.includes(`+js(secret)+`)`)

	// An event: a credit request made through the API, delivered by the
	// job workers, signed with the secret.
	request("WH-1")
	first := deliver(1)[0]
	var body struct {
		Type string
		Data map[string]any
	}
	if err := json.Unmarshal(first.body, &body); err != nil || body.Type != "request.created" {
		t.Fatalf("the receiver got %s (%v), want request.created", first.body, err)
	}
	if !signedWith(secret, first) {
		t.Errorf("the delivery is not signed with the secret the page showed: %q", first.sig)
	}

	// In the log: time, event, delivered, 1 attempt, 200, a latency.
	press(row + ` button.show-log`)
	logRow := `#webhook-deliveries tbody tr[data-id]`
	admin.wait("the delivery in the log", `(() => {
		const r = document.querySelector(`+js(logRow)+`);
		if (!r || r.dataset.status !== 'SUCCEEDED' || r.dataset.event !== 'request.created') return false;
		const c = [...r.cells].map((x) => x.innerText.trim());
		return c[1].includes(`+js(first.id)+`) && c[2].startsWith('Delivered') && c[3] === '1' && c[4] === '200' && / ms$/.test(c[5]) && c[6] === '—';
	})()`)
	admin.shot("webhooks-log")

	// Redeliver: sent again with the same webhook-id, 2 attempts.
	press(logRow + ` button.redeliver`)
	admin.wait("the delivery pending again", `document.querySelector(`+js(logRow)+`).dataset.status === 'PENDING'`)
	again := deliver(2)[1]
	if again.id != first.id || !bytes.Equal(again.body, first.body) || !signedWith(secret, again) {
		t.Errorf("the redelivery came as %q %s, want %q with the same body, signed", again.id, again.body, first.id)
	}
	press(`#webhook-log-refresh`)
	admin.wait("2 attempts", `document.querySelector(`+js(logRow)+`).dataset.status === 'SUCCEEDED' && document.querySelector(`+js(logRow)+`).cells[3].innerText.trim() === '2'`)

	// Rotate, after a confirmation: the new secret once, its prefix in
	// the list, the next attempt signed with it.
	press(row + ` button.rotate`)
	admin.wait("the confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes(`+js(secret[:12])+`)`)
	admin.click(`dialog[open] button[type=submit]`)
	admin.wait("the new secret", `document.querySelector('#webhook-secret .secret')?.dataset.why === 'rotated' && `+
		`(document.querySelector('#webhook-secret-value')?.value || '').startsWith('whsec_') && document.querySelector('#webhook-secret-value').value !== `+js(secret))
	var rotated string
	admin.eval(`document.querySelector('#webhook-secret-value').value`, &rotated)
	admin.wait("the new prefix listed", rowText(row)+`.includes(`+js(rotated[:12]+"…")+`)`)
	press(`#webhook-secret-done`)
	press(logRow + ` button.redeliver`)
	if m := deliver(3)[2]; !signedWith(rotated, m) || signedWith(secret, m) {
		t.Errorf("after the rotation the delivery is signed %q: want the new secret only", m.sig)
	}

	// Disable, after a confirmation: the reason shows, redelivery is
	// offered no more, and a new request is not sent.
	press(row + ` button.toggle`)
	admin.wait("the confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes('Disable')`)
	admin.click(`dialog[open] button[type=submit]`)
	admin.wait("the endpoint disabled", `document.querySelector(`+js(row)+`).dataset.enabled === 'false' && `+rowText(row)+`.includes('Disabled') && `+
		rowText(row+` .disabled-reason`)+`.includes('disabled by') && `+rowText(row+` button.toggle`)+` === 'Enable' && `+
		`[...document.querySelectorAll('#webhook-deliveries button.redeliver')].every((b) => b.disabled)`)
	admin.shot("webhooks-disabled")
	request("WH-2")
	for range 3 {
		gw.api.runJobs(t)
	}
	if n := len(recv.all()); n != 3 {
		t.Errorf("the receiver got %d messages after the endpoint was disabled, want still 3", n)
	}
	var ep struct {
		Node struct {
			Enabled    bool
			Deliveries struct{ TotalCount int }
		}
	}
	gw.api.gql(gw.tokens["agency_admin"], `query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { enabled deliveries { totalCount } } } }`,
		map[string]any{"id": epID}).decode(t, &ep)
	if ep.Node.Enabled || ep.Node.Deliveries.TotalCount != 1 {
		t.Errorf("the API says enabled %v with %d deliveries, want disabled with 1", ep.Node.Enabled, ep.Node.Deliveries.TotalCount)
	}
}

func TestBrowserStatements(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserStatementsScenario(t, browser, kind) })
	}
}

type statementFigures struct {
	Currency, Month, OpeningBalance, TotalIn, TotalOut, ClosingBalance string
	TransactionCount                                                   int
}

func browserStatementsScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	owner := gw.tokens["client_owner"]
	statement := func(month string) statementFigures {
		t.Helper()
		var out struct{ Statement statementFigures }
		gw.api.gql(owner, `query($m: String!) { statement(month: $m) { currency month openingBalance totalIn totalOut closingBalance transactionCount } }`,
			map[string]any{"m": month}).decode(t, &out)
		return out.Statement
	}
	now := time.Now().UTC()
	thisMonth := now.Format("2006-01")
	lastMonth := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")

	p := newTab(t, browser, "portal-statements", t.ArtifactDir())
	p.run("opening the portal as the owner", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/portal/#token="+owner))
	figuresAre := func(s statementFigures) string {
		return `(() => {
			const f = document.querySelector('#statement-figures');
			const amt = (id) => document.querySelector('#' + id)?.dataset.amount;
			return f.dataset.month === ` + js(s.Month) + ` && f.dataset.currency === ` + js(s.Currency) + ` &&
				amt('statement-opening') === ` + js(s.OpeningBalance) + ` && amt('statement-in') === ` + js(s.TotalIn) + ` &&
				amt('statement-out') === ` + js(s.TotalOut) + ` && amt('statement-closing') === ` + js(s.ClosingBalance) + ` &&
				document.querySelector('#statement-count')?.dataset.count === ` + js(strconv.Itoa(s.TransactionCount)) + `;
		})()`
	}

	// Last month by default.
	last := statement(lastMonth)
	p.wait("last month's statement", `document.querySelector('#statement-month').value === `+js(lastMonth)+` && `+figuresAre(last))

	// This month: the demo's transactions.
	cur := statement(thisMonth)
	if cur.TransactionCount == 0 {
		t.Fatalf("the demo has no transaction this month: %+v", cur)
	}
	p.eval(`(() => { const i = document.querySelector('#statement-month'); i.value = `+js(thisMonth)+`; i.dispatchEvent(new Event('change')); return true; })()`, nil)
	p.wait("this month's statement", figuresAre(cur))
	var text string
	p.eval(rowText(`#statement-figures`), &text)
	for _, want := range []string{"Opening balance", "In", "Out", "Closing balance", "Transactions", cur.ClosingBalance + " " + cur.Currency} {
		if !strings.Contains(text, want) {
			t.Errorf("the figures read %q, without %q", text, want)
		}
	}
	p.shot("statements")

	// A future month is refused in words.
	next := time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, time.UTC).Format("2006-01")
	p.eval(`(() => { const i = document.querySelector('#statement-month'); i.value = `+js(next)+`; i.dispatchEvent(new Event('change')); return true; })()`, nil)
	p.wait("the refusal", `!!document.querySelector('#statement-error .message[data-code="BAD_USER_INPUT"]') && document.querySelector('#statement-csv').disabled`)
	p.eval(`(() => { const i = document.querySelector('#statement-month'); i.value = `+js(thisMonth)+`; i.dispatchEvent(new Event('change')); return true; })()`, nil)
	p.wait("this month's statement again", figuresAre(cur)+` && !document.querySelector('#statement-error .message')`)

	// The printable statement: a fresh link, opened in a new window
	// (caught here), served without a token.
	p.eval(`window.open = () => { window.__opened = { location: {}, close() {} }; return window.__opened; }, true`, nil)
	p.click(`#statement-open`)
	p.wait("the document's link", `!!(window.__opened && window.__opened.location.href)`)
	var link string
	p.eval(`new URL(window.__opened.location.href, location.href).href`, &link)
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(doc), "Statement "+thisMonth) {
		t.Errorf("the statement at %s answered %d: %.300s", link, resp.StatusCode, doc)
	}

	// Download CSV: the file Chromium saves.
	dir := t.TempDir()
	exe := cdp.WithExecutor(browser, chromedp.FromContext(browser).Browser)
	info, err := target.GetTargetInfo().WithTargetID(chromedp.FromContext(p.ctx).Target.TargetID).Do(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).
		WithBrowserContextID(info.BrowserContextID).WithDownloadPath(dir).Do(exe); err != nil {
		t.Fatal(err)
	}
	p.click(`#statement-csv`)
	file := filepath.Join(dir, "statement-"+thisMonth+"-"+cur.Currency+".csv")
	var raw []byte
	for deadline := time.Now().Add(10 * time.Second); ; {
		if raw, err = os.ReadFile(file); err == nil {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no %s downloaded (the folder holds %v)", file, entries)
		}
		time.Sleep(50 * time.Millisecond)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV: %v\n%s", err, raw)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(exportHeader, ",") {
		t.Fatalf("the CSV's header is %q, want %q", rows[0], exportHeader)
	}
	if got := len(rows) - 1; got != cur.TransactionCount {
		t.Errorf("the CSV has %d rows, want the statement's %d transactions", got, cur.TransactionCount)
	}
	if lastRow := rows[len(rows)-1]; lastRow[5] != cur.ClosingBalance || lastRow[6] != cur.Currency {
		t.Errorf("the CSV's last row %q does not end at the closing balance %s %s", lastRow, cur.ClosingBalance, cur.Currency)
	}
	p.wait("the download's toast", rowText(`#toast`)+`.includes('as CSV')`)
}
