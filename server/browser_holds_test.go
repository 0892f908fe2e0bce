//go:build linux

package main

// The portal's balance shows credits set aside by holds, live: a service
// (here the domain, as a system admin) holds credits of the demo client's
// account, captures part of them and releases the rest, and the portal's
// balance follows each change without a reload (balanceUpdated fires on
// hold changes), the held line appearing and going.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/account"
	"creditgate/money"
)

func TestBrowserHolds(t *testing.T) {
	browser := startBrowser(t)

	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserHoldsScenario(t, browser, kind) })
	}
}

func browserHoldsScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	sys := auth.NewContext(context.Background(), &auth.Viewer{UserID: "browser-test", Role: auth.RoleSystemAdmin})
	acme, err := gw.api.svc.DB().Account.Query().Where(account.Name("Acme Coffee")).Only(sys)
	if err != nil {
		t.Fatal(err)
	}

	// The client owner of Acme Coffee (the picker's default) signs in: no
	// hold, no held line.
	client := newTab(t, browser, "portal-holds", t.ArtifactDir())
	client.run("opening the portal", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/portal/"))
	client.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	client.click(`#demo-form button[type=submit]`)
	client.wait("the balance 459.00", balanceIs("459.00"))
	client.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
	// "live" is the socket's acknowledgement; the balance subscriptions
	// go out after it, one per currency, and the server starts each on its
	// own. A hold made before the broker holds the USD one would be
	// announced to nobody (CI saw the page stay at 459.00 when this waited
	// for any balance subscription: the SGD one had joined first): wait for
	// that one.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if slices.Contains(gw.api.broker.Watched()[acme.ID], "USD") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the portal's USD balance subscription never reached the broker")
		}
	}
	client.eval(`window.__noReload = true`, nil)
	var held bool
	client.eval(`!!document.querySelector('#held-USD')`, &held)
	if held {
		t.Fatal("the portal shows held credits before any hold")
	}

	// heldIs: the big balance's held line reads text (none when text is "").
	heldIs := func(text string) string {
		if text == "" {
			return `!document.querySelector('#held-USD') && window.__noReload === true`
		}
		return rowText(`#held-USD`) + `.trim() === ` + js(text) + ` && window.__noReload === true`
	}

	// A hold of 25.50 USD: available down, the held line appears.
	amount, cur := money.Decimal("25.50"), "USD"
	h, err := gw.api.svc.CreateHold(sys, credits.NewHoldInput{AccountID: acme.ID, Amount: &amount, Currency: &cur})
	if err != nil {
		t.Fatal(err)
	}
	client.wait("25.50 USD held", heldIs("25.50 USD held")+` && `+balanceIs("433.50"))
	client.shot("portal-held")

	// A partial capture of 5.00: held down, available unchanged.
	part, final := money.Decimal("5.00"), false
	if _, err := gw.api.svc.CaptureHold(sys, h.Hold.ID, &part, &final, nil, nil); err != nil {
		t.Fatal(err)
	}
	client.wait("20.50 USD held after a capture", heldIs("20.50 USD held")+` && `+balanceIs("433.50"))

	// Released: the rest goes back to available, the held line goes.
	if _, err := gw.api.svc.ReleaseHold(sys, h.Hold.ID); err != nil {
		t.Fatal(err)
	}
	client.wait("no held line after the release", heldIs("")+` && `+balanceIs("454.00"))
}
