//go:build linux

package main

// The agency-wide live streams in the browser: the dashboard follows 30
// client accounts changing at once on its one agencyBalanceUpdated
// subscription, and the portal follows the credit-payments switch
// (agencyUpdated): Buy credits goes and comes back without a reload.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/demo"
	"creditgate/gid"
	"creditgate/money"
)

func TestBrowserAgencyStreams(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserAgencyStreamsScenario(t, browser, kind) })
	}
}

func browserAgencyStreamsScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	svc := gw.api.svc
	sys := auth.NewContext(context.Background(), &auth.Viewer{UserID: "browser-test", Role: auth.RoleSystemAdmin})
	f, err := demo.Load(sys, svc)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	clients := make([]gid.ID, n)
	for i := range clients {
		acc, err := svc.CreateAccount(sys, &f.AgencyID, fmt.Sprintf("Client %02d", i+1))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = acc.ID
	}

	admin := newTab(t, browser, "dashboard-agency-stream", t.ArtifactDir())
	admin.run("opening the dashboard", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/dashboard/"))
	admin.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	admin.click(`#demo-form button[type=submit]`)
	admin.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	admin.wait("the 30 new clients listed", fmt.Sprintf(`document.querySelectorAll('#accounts-table tr[data-name^="Client "]').length === %d`, n))
	admin.eval(`window.__noReload = true`, nil)
	oneBalanceSubscription := func(when string) {
		t.Helper()
		gauge := func(field string) string {
			return metricAt(t, gw.base, `creditgate_subscriptions_open{type="`+field+`"}`)
		}
		// The gauge counts the operation as it starts; the broker holds it
		// a moment later: give it that moment.
		var perAccount, agencyWide int
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			perAccount, _ = gw.api.broker.Counts()
			agencyWide, _ = gw.api.broker.AgencyCounts()
			if agencyWide == 1 || time.Now().After(deadline) {
				break
			}
		}
		if got := gauge("agencyBalanceUpdated"); got != "1" || agencyWide != 1 {
			t.Fatalf("%s: the dashboard holds %q agencyBalanceUpdated subscriptions (broker: %d), want exactly 1", when, got, agencyWide)
		}
		if got := gauge("balanceUpdated"); (got != "" && got != "0") || perAccount != 0 {
			t.Fatalf("%s: the dashboard holds %q balanceUpdated subscriptions (broker: %d), want none", when, got, perAccount)
		}
	}
	waitMetricAt(t, gw.base, `creditgate_subscriptions_open{type="agencyBalanceUpdated"}`, "1")
	oneBalanceSubscription("once the dashboard is live")

	// Every client is credited twice, all at once from six goroutines:
	// the dashboard shows each one's final balance.
	want := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 2*n; i += 6 {
				amount := money.Decimal(fmt.Sprintf("%d.%02d", i%n+1, i/n+1))
				acc := clients[i%n]
				if _, err := svc.BuyCredits(sys, credits.BuyCredits{AccountID: &acc, Amount: &amount, Method: "CARD"}); err != nil {
					errs <- fmt.Errorf("crediting %s: %w", acc, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range clients {
		// i+1 + 0.01, then i+1 + 0.02.
		want[i] = fmt.Sprintf("%d.03 USD", 2*(i+1))
	}
	for i := range clients {
		row := rowText(fmt.Sprintf(`#accounts-table tr[data-name="Client %02d"]`, i+1))
		admin.wait(fmt.Sprintf("Client %02d at %s", i+1, want[i]), row+`.includes(`+js(want[i])+`) && window.__noReload === true`)
	}
	admin.shot("dashboard-agency-stream")
	oneBalanceSubscription("after 60 changes")

	// The portal of Acme Coffee (the picker's default) while the agency
	// admin turns credit payments off, then on again.
	client := newTab(t, browser, "portal-agency-switch", t.ArtifactDir())
	client.run("opening the portal", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/portal/"))
	client.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	client.click(`#demo-form button[type=submit]`)
	client.wait("the balance", `!!document.querySelector('#balance-USD')`)
	client.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	client.wait("Buy credits open", `document.querySelector('#buy-forbidden').hidden && !document.querySelector('#buy-submit').disabled`)
	client.eval(`window.__noReload = true`, nil)
	waitMetricAt(t, gw.base, `creditgate_subscriptions_open{type="agencyUpdated"}`, "1")
	adminCtx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "browser-agency-admin", Role: auth.RoleAgencyAdmin, AgencyID: string(f.AgencyID)})
	set := func(on bool) {
		t.Helper()
		if _, err := svc.UpdateAgencySettings(adminCtx, nil, credits.AgencySettings{CreditPaymentsEnabled: &on}); err != nil {
			t.Fatal(err)
		}
	}
	set(false)
	client.wait("Buy credits closed, the balance widget gone", `!document.querySelector('#buy-forbidden').hidden && document.querySelector('#buy-submit').disabled && `+
		`!document.querySelector('#balance-USD') && window.__noReload === true`)
	client.shot("portal-payments-off")
	set(true)
	client.wait("Buy credits open again", `document.querySelector('#buy-forbidden').hidden && !document.querySelector('#buy-submit').disabled && `+
		`!!document.querySelector('#balance-USD') && window.__noReload === true`)
}
