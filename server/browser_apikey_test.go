//go:build linux

package main

// The dashboard's "API keys" section in headless Chromium: an agency admin
// creates a key, sees its secret once (with a copy button and a warning),
// the key reads a balance through the API, the admin revokes it after a
// confirmation, and the key is refused.

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"creditgate/dbtest"
)

func TestBrowserApiKeys(t *testing.T) {
	browser := startBrowser(t)

	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { browserKeysScenario(t, browser, kind) })
	}
}

func browserKeysScenario(t *testing.T, browser context.Context, kind string) {
	gw := webAPI(t, kind)
	admin := newTab(t, browser, "dashboard-keys", t.ArtifactDir())
	admin.run("opening the dashboard", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(gw.base+"/dashboard/"))
	admin.wait("the demo users", `document.querySelectorAll('#demo-user option').length === 5`)
	admin.click(`#demo-form button[type=submit]`)
	admin.wait("the API keys section", rowText(`#api-keys-table tbody`)+`.includes('No API keys yet')`)

	// Create a key that reads balances.
	admin.fill(`#api-key-name`, "Balance checker")
	admin.click(`#api-key-scopes input[value="BALANCES_READ"]`)
	admin.click(`#api-key-submit`)
	admin.wait("the secret, once", `(document.querySelector('#api-key-secret-value')?.value || '').startsWith('cgk_')`)
	var secret, warning string
	admin.eval(`document.querySelector('#api-key-secret-value').value`, &secret)
	admin.eval(`document.querySelector('#api-key-secret').innerText`, &warning)
	if !strings.Contains(warning, "shown only this once") {
		t.Errorf("the secret comes without its warning: %q", warning)
	}
	admin.wait("the new key listed with its prefix only", rowText(`#api-keys-table tbody tr`)+`.includes('Balance checker') && `+
		rowText(`#api-keys-table tbody tr`)+`.includes('Record usage, Read balances') && !`+rowText(`#api-keys-table tbody`)+`.includes(`+js(secret)+`)`)
	admin.click(`#api-key-copy`) // the clipboard may be refused headless: the page falls back, without errors
	admin.shot("dashboard-api-key")

	// The key reads Acme Coffee's balance through the API.
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
	if acme == "" {
		t.Fatal("no Acme Coffee account in the demo data")
	}
	const q = `query($a: ID!){ balances(accountId: $a) { available currency } }`
	var bal struct {
		Balances []struct{ Available, Currency string }
	}
	gw.api.gql(secret, q, map[string]any{"a": acme}).decode(t, &bal)
	if len(bal.Balances) == 0 || bal.Balances[0].Available == "" {
		t.Fatalf("the key read %+v", bal.Balances)
	}

	// Done: the secret leaves the page, and was never stored by it.
	admin.click(`#api-key-done`)
	admin.wait("the secret gone", `!document.querySelector('#api-key-secret-value') && !document.body.innerText.includes(`+js(secret)+`)`)
	var stored bool
	admin.eval(`[...Object.values(sessionStorage), ...Object.values(localStorage)].some((v) => v.includes(`+js(secret[len(secret)-20:])+`))`, &stored)
	if stored {
		t.Error("the page stored the secret")
	}

	// Revoke, after the confirmation: refused at once.
	admin.click(`#api-keys-table button[data-revoke]`)
	admin.wait("the confirmation", `!!document.querySelector('dialog[open]') && document.querySelector('dialog[open]').innerText.includes('Balance checker')`)
	admin.click(`dialog[open] button[type=submit]`)
	admin.wait("the key revoked", rowText(`#api-keys-table tbody tr`)+`.includes('Revoked') && !document.querySelector('#api-keys-table button[data-revoke]')`)
	if r := gw.api.gql(secret, q, map[string]any{"a": acme}); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("the revoked key answered %+v %s", r.Errors, r.Data)
	}
}
