//go:build linux

package main

// The portal's runway in headless Chromium, as the owner of Acme Coffee:
// next to the balance, "about N days left at your current usage" with the
// API's daysLeft, updated after a purchase spends credits.

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"creditgate/dbtest"
)

func TestBrowserRunway(t *testing.T) {
	browser := startBrowser(t)
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			gw := webAPI(t, kind)
			owner := gw.tokens["client_owner"]
			daysLeft := func() *int {
				t.Helper()
				var out struct {
					Balance struct{ Runway *struct{ DaysLeft int } }
				}
				gw.api.gql(owner, `{ balance { runway { daysLeft } } }`, nil).decode(t, &out)
				if out.Balance.Runway == nil {
					return nil
				}
				return &out.Balance.Runway.DaysLeft
			}
			hint := func(days int) string {
				return fmt.Sprintf(`%s === 'about %d days left at your current usage'`, rowText(`#runway-USD`), days)
			}
			p := newTab(t, browser, "portal-runway", t.ArtifactDir())
			p.run("opening the portal as the owner", chromedp.EmulateViewport(1280, 900),
				chromedp.Navigate(gw.base+"/portal/#token="+owner))
			p.wait("the balance", `!!document.querySelector('#big-balance-USD')`)
			p.wait("the live connection", `document.querySelector('#live-status').dataset.state === 'live'`)
			before := daysLeft()
			if d := before; d != nil {
				p.wait("the runway of the demo's spending", hint(*d))
			} else {
				p.wait("no runway without spending", `!document.querySelector('#runway-USD')`)
			}

			var svc struct {
				Services []struct {
					ID            string
					BuyWithCredit struct{ Available bool }
				}
			}
			gw.api.gql(owner, `{ services { id buyWithCredit { available } } }`, nil).decode(t, &svc)
			var id string
			for _, s := range svc.Services {
				if s.BuyWithCredit.Available {
					id = s.ID
					break
				}
			}
			if id == "" {
				t.Fatal("the demo has no service to buy with credits")
			}
			gw.api.gql(owner, `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId: $s, quantity: 500}) { transaction { id } } }`,
				map[string]any{"s": id}).decode(t, &struct{}{})
			d := daysLeft()
			if d == nil || (before != nil && *before == *d) {
				t.Fatalf("runway %v after spending, %v before: want it shorter", d, before)
			}
			p.wait("the runway after spending", hint(*d))
			p.shot("runway")
		})
	}
}
