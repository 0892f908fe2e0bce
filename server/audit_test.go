package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
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

// auditCall is one call of a mutation for the audit test: what it sends,
// as whom, and what its audit event must say.
type auditCall struct {
	token string
	vars  map[string]any
	// The event's agency and account ("": none); target, when set, is the
	// id acted on (else any non-empty one, or one found at targetAt in
	// the answer: a dotted path).
	agency, account gid.ID
	target          gid.ID
	targetAt        string
	// The agency or account made is the target (createAgency, createAccount).
	agencyIsTarget, accountIsTarget bool
	// also are the actions of the call's other transactions, one event
	// each: an instant payment records its charge, calls the provider
	// outside any transaction, then settles ("payment", as a provider's
	// webhook would).
	also []string
}

// auditRow is one mutation of the schema: a successful call (prepared
// fresh, so it may set up what it needs first) and a refused one.
type auditRow struct {
	query  string
	ok     func(t *testing.T, a *testAPI) auditCall
	refuse func(t *testing.T, a *testAPI) (token string, vars map[string]any, code string)
}

// as is a domain context for fixtures: the role's test user.
func asRole(role auth.Role, agency, account gid.ID) context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{UserID: "prep-" + string(role), Role: role,
		AgencyID: string(agency), AccountID: string(account)})
}

func auditRows() map[string]auditRow {
	pre := func(a *testAPI) (f *fixture, owner, admin context.Context) {
		f = a.fx
		return f, asRole(auth.RoleClientOwner, f.AgencyA, f.A1), asRole(auth.RoleAgencyAdmin, f.AgencyA, "")
	}
	forbidden := func(tok func(a *testAPI) string, vars func(a *testAPI) map[string]any) func(t *testing.T, a *testAPI) (string, map[string]any, string) {
		return func(t *testing.T, a *testAPI) (string, map[string]any, string) { return tok(a), vars(a), "FORBIDDEN" }
	}
	owner := func(a *testAPI) string { return a.owner() }
	admin := func(a *testAPI) string { return a.agencyAdmin() }
	client := func(a *testAPI) string { return a.client() }
	service := func(a *testAPI) string { return a.token(auth.RoleService, a.fx.AgencyA, "") }
	dec := func(s string) *money.Decimal { d := money.Decimal(s); return &d }
	request := func(t *testing.T, a *testAPI, method creditrequest.Method) *ent.CreditRequest {
		_, o, _ := pre(a)
		p, err := a.svc.BuyCredits(o, credits.BuyCredits{Amount: dec("25"), Method: method})
		if err != nil || p.Request == nil {
			t.Fatalf("preparing a %s request: %v", method, err)
		}
		return p.Request
	}
	card := func(t *testing.T, a *testAPI) *ent.Card {
		_, o, _ := pre(a)
		c, err := a.svc.AddCard(o, nil, "pm_card_visa")
		if err != nil {
			t.Fatalf("preparing a card: %v", err)
		}
		return c
	}
	hold := func(t *testing.T, a *testAPI) *ent.Hold {
		f, _, ad := pre(a)
		a.fund(f.A1, "50")
		h, err := a.svc.CreateHold(ad, credits.NewHoldInput{AccountID: f.A1, Amount: dec("5")})
		if err != nil {
			t.Fatalf("preparing a hold: %v", err)
		}
		return h.Hold
	}
	vars := func(kv ...any) func(a *testAPI) map[string]any {
		return func(a *testAPI) map[string]any {
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				v := kv[i+1]
				if f, ok := v.(func(f *fixture) gid.ID); ok {
					v = f(a.fx)
				}
				m[kv[i].(string)] = v
			}
			return m
		}
	}
	a1 := func(f *fixture) gid.ID { return f.A1 }
	agA := func(f *fixture) gid.ID { return f.AgencyA }
	sms := func(f *fixture) gid.ID { return f.SMS }
	invA1 := func(f *fixture) gid.ID { return f.InvoiceA1 }

	return map[string]auditRow{
		"setServiceRates": {
			query: `mutation($s: ID!, $p: Decimal!){ setServiceRates(input:{serviceId: $s, rates: [{variant: "", price: $p}, {variant: "intl", price: "0.2"}]}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("s", sms, "p", "0.06")(a), agency: a.fx.AgencyA, target: a.fx.SMS}
			},
			refuse: forbidden(owner, vars("s", sms, "p", "0.06")),
		},
		"buyCredits": {
			query: `mutation($a: ID){ buyCredits(input:{accountId: $a, amount: "10", method: CARD}) { status transaction { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.owner(), vars: vars()(a), agency: a.fx.AgencyA, account: a.fx.A1, also: []string{"payment"}}
			},
			refuse: forbidden(client, vars()),
		},
		"payInvoiceWithCredit": {
			query: `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { invoice { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "200")
				return auditCall{token: a.owner(), vars: vars("i", invA1)(a), agency: a.fx.AgencyA, account: a.fx.A1, target: a.fx.InvoiceA1}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"i": a.fx.InvoiceB1}, "NOT_FOUND"
			},
		},
		"buyServiceWithCredit": {
			query: `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId: $s, quantity: 2}) { transaction { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "10")
				return auditCall{token: a.owner(), vars: vars("s", sms)(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "buyServiceWithCredit.transaction.id"}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"s": a.fx.Support}, "NOT_ELIGIBLE"
			},
		},
		"approveRequest": {
			query: `mutation($r: ID!){ approveRequest(input:{requestId: $r}) { request { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				r := request(t, a, "BANK_TRANSFER")
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"r": r.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: r.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"r": request(t, a, "BANK_TRANSFER").ID}, "FORBIDDEN"
			},
		},
		"rejectRequest": {
			query: `mutation($r: ID!){ rejectRequest(input:{requestId: $r, reason: "no"}) { request { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				r := request(t, a, "BANK_TRANSFER")
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"r": r.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: r.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"r": request(t, a, "BANK_TRANSFER").ID}, "FORBIDDEN"
			},
		},
		"markRequestPaid": {
			query: `mutation($r: ID!){ markRequestPaid(input:{requestId: $r}) { request { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				r := request(t, a, "POSTPAID")
				if _, err := a.svc.ApproveRequest(asRole(auth.RoleAgencyAdmin, a.fx.AgencyA, ""), r.ID); err != nil {
					t.Fatalf("approving: %v", err)
				}
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"r": r.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: r.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"r": request(t, a, "POSTPAID").ID}, "FORBIDDEN"
			},
		},
		"allocateCredits": {
			query: `mutation($a: ID!){ allocateCredits(input:{toAccountId: $a, amount: "5"}) { transaction { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("a", a1)(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "allocateCredits.transaction.id"}
			},
			refuse: forbidden(owner, vars("a", a1)),
		},
		"createAgency": {
			query: `mutation{ createAgency(input:{name: "Agency C"}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.sysAdmin(), vars: vars()(a), targetAt: "createAgency.id", agencyIsTarget: true}
			},
			refuse: forbidden(admin, vars()),
		},
		"createAccount": {
			query: `mutation{ createAccount(input:{name: "Client A3"}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars()(a), agency: a.fx.AgencyA, targetAt: "createAccount.id", accountIsTarget: true}
			},
			refuse: forbidden(owner, vars()),
		},
		"updateAgencySettings": {
			query: `mutation{ updateAgencySettings(input:{creditPaymentsEnabled: true}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars()(a), agency: a.fx.AgencyA, target: a.fx.AgencyA}
			},
			refuse: forbidden(owner, vars()),
		},
		"createInvoice": {
			query: `mutation($a: ID!, $m: Decimal!){ createInvoice(input:{accountId: $a, number: "AUD-1", amount: $m}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("a", a1, "m", "5")(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "createInvoice.id"}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.agencyAdmin(), vars("a", a1, "m", "-1")(a), "BAD_USER_INPUT"
			},
		},
		"createService": {
			query: `mutation{ createService(input:{name: "Voice", price: "0.5"}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars()(a), agency: a.fx.AgencyA, targetAt: "createService.id"}
			},
			refuse: forbidden(owner, vars()),
		},
		"createCreditPackage": {
			query: `mutation($p: Decimal!){ createCreditPackage(input:{name: "Big", credits: "500", price: $p}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("p", "450")(a), agency: a.fx.AgencyA, targetAt: "createCreditPackage.id"}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.agencyAdmin(), vars("p", "4.505")(a), "BAD_USER_INPUT"
			},
		},
		"startCardSetup": {
			query: `mutation{ startCardSetup(input:{}) { setupIntentId } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.owner(), vars: vars()(a), agency: a.fx.AgencyA, account: a.fx.A1, target: a.fx.A1}
			},
			refuse: forbidden(client, vars()),
		},
		"addCard": {
			query: `mutation{ addCard(input:{paymentMethodId: "pm_card_visa"}) { card { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.owner(), vars: vars()(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "addCard.card.id"}
			},
			refuse: forbidden(admin, vars()),
		},
		"removeCard": {
			query: `mutation($c: ID!){ removeCard(input:{cardId: $c}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				c := card(t, a)
				return auditCall{token: a.owner(), vars: map[string]any{"c": c.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: c.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.agencyAdmin(), map[string]any{"c": card(t, a).ID}, "FORBIDDEN"
			},
		},
		"setAutoTopUp": {
			query: `mutation($c: ID!){ setAutoTopUp(input:{enabled: true, threshold: "5", mode: FIXED, amount: "20", cardId: $c}) { autoTopUp { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "50") // above the threshold: no top-up runs
				return auditCall{token: a.owner(), vars: map[string]any{"c": card(t, a).ID}, agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "setAutoTopUp.autoTopUp.id"}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.agencyAdmin(), map[string]any{"c": card(t, a).ID}, "FORBIDDEN"
			},
		},
		"setLowBalanceAlert": {
			query: `mutation($e: String!){ setLowBalanceAlert(input:{enabled: true, threshold: "5", email: $e}) { alert { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "50")
				return auditCall{token: a.owner(), vars: vars("e", "owner@example.com")(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "setLowBalanceAlert.alert.id"}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), vars("e", "not an address")(a), "BAD_USER_INPUT"
			},
		},
		"createApiKey": {
			query: `mutation{ createApiKey(input:{name: "sms sender", scopes: [USAGE_WRITE]}) { apiKey { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars()(a), agency: a.fx.AgencyA, targetAt: "createApiKey.apiKey.id"}
			},
			refuse: forbidden(owner, vars()),
		},
		"revokeApiKey": {
			query: `mutation($k: ID!){ revokeApiKey(input:{apiKeyId: $k}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				_, _, ad := pre(a)
				k, _, err := a.svc.CreateAPIKey(ad, credits.NewAPIKey{Name: "k", Scopes: []auth.Scope{auth.ScopeUsageWrite}})
				if err != nil {
					t.Fatal(err)
				}
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"k": k.ID}, agency: a.fx.AgencyA, target: k.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				k, _, err := a.svc.CreateAPIKey(asRole(auth.RoleAgencyAdmin, a.fx.AgencyA, ""), credits.NewAPIKey{Name: "k", Scopes: []auth.Scope{auth.ScopeUsageWrite}})
				if err != nil {
					t.Fatal(err)
				}
				return a.owner(), map[string]any{"k": k.ID}, "FORBIDDEN"
			},
		},
		"createWebhookEndpoint": {
			query: `mutation{ createWebhookEndpoint(input:{url: "https://93.184.216.34/hooks", events: [BALANCE_LOW]}) { endpoint { id } secret } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars()(a), agency: a.fx.AgencyA, targetAt: "createWebhookEndpoint.endpoint.id"}
			},
			refuse: forbidden(owner, vars()),
		},
		"updateWebhookEndpoint": {
			query: `mutation($e: ID!){ updateWebhookEndpoint(input:{endpointId: $e, enabled: false}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				ep := webhookEndpointOf(t, a)
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"e": ep.ID}, agency: a.fx.AgencyA, target: ep.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.client(), map[string]any{"e": webhookEndpointOf(t, a).ID}, "FORBIDDEN"
			},
		},
		"rotateWebhookSecret": {
			query: `mutation($e: ID!){ rotateWebhookSecret(input:{endpointId: $e}) { secret } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				ep := webhookEndpointOf(t, a)
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"e": ep.ID}, agency: a.fx.AgencyA, target: ep.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"e": webhookEndpointOf(t, a).ID}, "FORBIDDEN"
			},
		},
		"redeliverWebhook": {
			query: `mutation($d: ID!){ redeliverWebhook(input:{deliveryId: $d}) { id status } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				d := webhookDeliveryOf(t, a)
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"d": d.ID}, agency: a.fx.AgencyA, target: d.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"d": webhookDeliveryOf(t, a).ID}, "FORBIDDEN"
			},
		},
		"recordUsage": {
			query: `mutation($a: ID!, $s: ID!, $k: String!){ recordUsage(input:{events: [{accountId: $a, serviceId: $s, quantity: 3, idempotencyKey: $k}]}) { results { transaction { id } error { code } } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "10")
				return auditCall{token: service(a), vars: vars("a", a1, "s", sms, "k", "use-1")(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "recordUsage.results.0.transaction.id"}
			},
			refuse: forbidden(client, vars("a", a1, "s", sms, "k", "use-2")),
		},
		"createHold": {
			query: `mutation($a: ID!){ createHold(input:{accountId: $a, amount: "2"}) { hold { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "10")
				return auditCall{token: service(a), vars: vars("a", a1)(a), agency: a.fx.AgencyA, account: a.fx.A1, targetAt: "createHold.hold.id"}
			},
			refuse: forbidden(client, vars("a", a1)),
		},
		"captureHold": {
			query: `mutation($h: ID!){ captureHold(input:{holdId: $h, amount: "1", final: false}) { hold { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				h := hold(t, a)
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"h": h.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: h.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.client(), map[string]any{"h": hold(t, a).ID}, "FORBIDDEN"
			},
		},
		"releaseHold": {
			query: `mutation($h: ID!){ releaseHold(input:{holdId: $h}) { hold { id } } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				h := hold(t, a)
				return auditCall{token: service(a), vars: map[string]any{"h": h.ID}, agency: a.fx.AgencyA, account: a.fx.A1, target: h.ID}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"h": hold(t, a).ID}, "FORBIDDEN"
			},
		},
		"adjustBalance": {
			query: `mutation($a: ID!){ adjustBalance(input:{accountId: $a, type: IN, amount: "1", reason: "goodwill"}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("a", a1)(a), agency: a.fx.AgencyA, account: a.fx.A1}
			},
			refuse: forbidden(owner, vars("a", a1)),
		},
		"reclaimCredits": {
			query: `mutation($a: ID!){ reclaimCredits(input:{fromAccountId: $a, amount: "1", reason: "unused"}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				a.fund(a.fx.A1, "10")
				return auditCall{token: a.agencyAdmin(), vars: vars("a", a1)(a), agency: a.fx.AgencyA, account: a.fx.A1}
			},
			refuse: forbidden(owner, vars("a", a1)),
		},
		"reverseTransaction": {
			query: `mutation($x: ID!){ reverseTransaction(input:{transactionId: $x, reason: "mistake"}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"x": auditSpent(t, a)}, agency: a.fx.AgencyA, account: a.fx.A1}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"x": auditSpent(t, a)}, "FORBIDDEN"
			},
		},
		"refundPayment": {
			query: `mutation($p: ID!){ refundPayment(input:{paymentId: $p, amount: "1", reason: "asked"}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: map[string]any{"p": auditPaid(t, a)}, agency: a.fx.AgencyA, account: a.fx.A1}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.owner(), map[string]any{"p": auditPaid(t, a)}, "FORBIDDEN"
			},
		},
		"voidInvoice": {
			query: `mutation($i: ID!){ voidInvoice(input:{invoiceId: $i, reason: "sent twice"}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("i", invA1)(a), agency: a.fx.AgencyA, account: a.fx.A1, target: a.fx.InvoiceA1}
			},
			refuse: forbidden(owner, vars("i", invA1)),
		},
		"payInvoice": {
			query: `mutation($i: ID!){ payInvoice(input:{invoiceId: $i, method: CARD}) { __typename } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				i := auditOnlineInvoice(t, a)
				return auditCall{token: a.owner(), vars: map[string]any{"i": i}, agency: a.fx.AgencyA, account: a.fx.A1, also: []string{"payment"}}
			},
			refuse: func(t *testing.T, a *testAPI) (string, map[string]any, string) {
				return a.client(), map[string]any{"i": auditOnlineInvoice(t, a)}, "FORBIDDEN"
			},
		},
		"sendInvoice": {
			query: `mutation($i: ID!){ sendInvoice(input:{invoiceId: $i, email: "billing@example.com"}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("i", invA1)(a), agency: a.fx.AgencyA, account: a.fx.A1, target: a.fx.InvoiceA1}
			},
			refuse: forbidden(owner, vars("i", invA1)),
		},
		"updateBilling": {
			query: `mutation($a: ID){ updateBilling(input:{agencyId: $a, invoiceDueDays: 14}) { id } }`,
			ok: func(t *testing.T, a *testAPI) auditCall {
				return auditCall{token: a.agencyAdmin(), vars: vars("a", agA)(a), agency: a.fx.AgencyA, target: a.fx.AgencyA}
			},
			refuse: forbidden(owner, vars("a", agA)),
		},
	}
}

// spent is a SERVICE_PURCHASE of client A1, to reverse.
func auditSpent(t *testing.T, a *testAPI) gid.ID {
	t.Helper()
	a.fund(a.fx.A1, "10")
	p, err := a.svc.BuyServiceWithCredit(asRole(auth.RoleClientOwner, a.fx.AgencyA, a.fx.A1), a.fx.SMS, nil, 1, nil)
	if err != nil {
		t.Fatalf("preparing a purchase: %v", err)
	}
	return p.Transaction.ID
}

// paid is a settled card payment of client A1, to refund.
func auditPaid(t *testing.T, a *testAPI) gid.ID {
	t.Helper()
	d := money.Decimal("20")
	p, err := a.svc.BuyCredits(asRole(auth.RoleClientOwner, a.fx.AgencyA, a.fx.A1), credits.BuyCredits{Amount: &d, Method: "CARD"})
	if err != nil || p.Payment == nil {
		t.Fatalf("preparing a payment: %v", err)
	}
	return p.Payment.ID
}

// onlineInvoice is the CREDIT_TOPUP invoice of an ONLINE request of A1.
func auditOnlineInvoice(t *testing.T, a *testAPI) gid.ID {
	t.Helper()
	d := money.Decimal("15")
	p, err := a.svc.BuyCredits(asRole(auth.RoleClientOwner, a.fx.AgencyA, a.fx.A1), credits.BuyCredits{Amount: &d, Method: "ONLINE"})
	if err != nil || p.Request == nil {
		t.Fatalf("preparing an ONLINE request: %v", err)
	}
	inv, err := a.svc.DB().Invoice.Query().Where(invoice.RequestID(p.Request.ID)).Only(credits.System(context.Background()))
	if err != nil {
		t.Fatalf("the ONLINE request's invoice: %v", err)
	}
	return inv.ID
}

// auditIDs are the ids of every audit event, read as the system.
func auditIDs(t *testing.T, a *testAPI) []gid.ID {
	t.Helper()
	ids, err := a.svc.DB().AuditEvent.Query().IDs(credits.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// newAudit are the events written since before.
func newAudit(t *testing.T, a *testAPI, before []gid.ID) []*ent.AuditEvent {
	t.Helper()
	evs, err := a.svc.DB().AuditEvent.Query().Where(auditevent.IDNotIn(before...)).All(credits.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// gqlReq is gql that also answers the request id the gateway gave it.
func (a *testAPI) gqlReq(token, query string, vars map[string]any) (gqlResponse, string) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	var out gqlResponse
	out.Status = resp.StatusCode
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		a.t.Fatalf("response %d is not JSON: %v", resp.StatusCode, err)
	}
	return out, resp.Header.Get("X-Request-Id")
}

// at reads a dotted path ("a.results.0.id") in a response's data.
func dataAt(t *testing.T, data json.RawMessage, path string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := int(p[0] - '0')
			if i >= len(x) {
				t.Fatalf("%s: no element %s in %s", path, p, data)
			}
			v = x[i]
		default:
			t.Fatalf("%s: nothing at %s in %s", path, p, data)
		}
	}
	s, _ := v.(string)
	return s
}

// schemaMutations are the Mutation fields of the served schema.
func schemaMutations(t *testing.T, a *testAPI) []string {
	t.Helper()
	var out struct {
		Schema struct {
			MutationType struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	a.gql(a.sysAdmin(), `{ __schema { mutationType { fields { name } } } }`, nil).decode(t, &out)
	var names []string
	for _, f := range out.Schema.MutationType.Fields {
		names = append(names, f.Name)
	}
	if len(names) < 30 {
		t.Fatalf("introspection found only %d mutations: %v", len(names), names)
	}
	return names
}

// TestAuditEveryMutation: every mutation of the schema has a row here (a
// new mutation without one fails); a successful call leaves exactly one
// new audit event, in its transaction, saying the mutation, who (actor,
// role), whose (agency, account), what (target), and the request's id and
// client address; a refused call leaves none.
func TestAuditEveryMutation(t *testing.T) {
	rows := auditRows()
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { auditEveryMutation(t, kind, rows) })
	}
}

func auditEveryMutation(t *testing.T, kind string, rows map[string]auditRow) {
	{
		names := schemaMutations(t, newAPI(t, kind))
		for _, name := range names {
			if _, ok := rows[name]; !ok {
				t.Errorf("mutation %s has no row in the audit test", name)
			}
		}
		for name := range rows {
			if !slices.Contains(names, name) {
				t.Errorf("the audit test has a row for %s, which the schema does not have", name)
			}
		}
		for _, name := range names {
			row, ok := rows[name]
			if !ok {
				continue
			}
			t.Run(name, func(t *testing.T) {
				// Each mutation on a fresh world: fixtures of one do not
				// meet another's.
				a := newAPI(t, kind)
				c := row.ok(t, a)
				before := auditIDs(t, a)
				r, rid := a.gqlReq(c.token, row.query, c.vars)
				if len(r.Errors) > 0 {
					t.Fatalf("%s failed: %+v", name, r.Errors)
				}
				evs := newAudit(t, a, before)
				var actions []string
				var e *ent.AuditEvent
				for _, ev := range evs {
					actions = append(actions, ev.Action)
					if ev.Action == name {
						e = ev
					}
					if ev.RequestID == nil || *ev.RequestID != rid {
						t.Errorf("%s: event %s of another request %v", name, ev.Action, derefAny(ev.RequestID))
					}
				}
				slices.Sort(actions)
				wantActions := append([]string{name}, c.also...)
				slices.Sort(wantActions)
				if !slices.Equal(actions, wantActions) || e == nil {
					t.Fatalf("%s wrote audit events %v, want %v: %+v", name, actions, wantActions, evs)
				}
				v := viewerOfToken(t, c.token)
				want := func(what string, got *gid.ID, w gid.ID) {
					t.Helper()
					if (w == "" && got != nil) || (w != "" && (got == nil || *got != w)) {
						t.Errorf("%s: %s %v, want %q", name, what, derefAny(got), w)
					}
				}
				if e.Action != name || e.Actor != v.UserID || e.Role == nil || *e.Role != string(v.Role) {
					t.Errorf("%s: action %q by %q as %v, want %q by %q as %s", name, e.Action, e.Actor, derefAny(e.Role), name, v.UserID, v.Role)
				}
				if c.targetAt != "" {
					c.target = gid.ID(dataAt(t, r.Data, c.targetAt))
				}
				if c.agencyIsTarget {
					c.agency = c.target
				}
				if c.accountIsTarget {
					c.account = c.target
				}
				want("agency", e.AgencyID, c.agency)
				if !c.agencyIsTarget { // a new agency's event names its pool
					want("account", e.AccountID, c.account)
				}
				switch {
				case c.target != "":
					want("target", e.TargetID, c.target)
				case e.TargetID == nil || *e.TargetID == "":
					t.Errorf("%s: no target", name)
				}
				if e.RequestID == nil || *e.RequestID != rid || rid == "" {
					t.Errorf("%s: request id %v, want %q (X-Request-Id)", name, derefAny(e.RequestID), rid)
				}
				if e.ClientAddress == nil || *e.ClientAddress != "127.0.0.1" {
					t.Errorf("%s: client address %v, want 127.0.0.1", name, derefAny(e.ClientAddress))
				}
				if strings.TrimSpace(e.Summary) == "" {
					t.Errorf("%s: empty summary", name)
				}
				if strings.Contains(e.Summary, auth.KeyPrefix) || strings.Contains(strings.ToLower(e.Summary), "secret") {
					t.Errorf("%s: the summary may hold a secret: %q", name, e.Summary)
				}

				tok, vars, code := row.refuse(t, a)
				before = auditIDs(t, a)
				wantRefused(t, a.gql(tok, row.query, vars), code, name+" refused")
				if evs := newAudit(t, a, before); len(evs) != 0 {
					t.Errorf("%s refused wrote %d audit events: %+v", name, len(evs), evs)
				}
			})
		}
	}
}

func derefAny[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// viewerOfToken is who a test token names.
func viewerOfToken(t *testing.T, token string) *auth.Viewer {
	t.Helper()
	ver, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	v, err := ver.Verify(token)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const auditLogQ = `query($ag: ID, $acc: ID, $act: String, $first: Int, $after: String){
	auditLog(agencyId: $ag, accountId: $acc, action: $act, first: $first, after: $after) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { cursor node { id at actor role action agency { id } account { id } targetId requestId clientAddress summary } }
	} }`

type auditPage struct {
	AuditLog struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				ID, At, Actor, Action, Summary string
				Role                           *string
				Agency, Account                *struct{ ID gid.ID }
				TargetID                       *gid.ID
			}
		}
	}
}

// TestAuditLogReads: newest first, keyset pages that add up to the whole
// log, filters by agency, account and action; an agency admin sees its
// agency's events only (naming another agency or its account is
// NOT_FOUND); client roles and services are FORBIDDEN, and node(aud_) is
// NOT_FOUND to them.
func TestAuditLogReads(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		admin := a.agencyAdmin()
		for i := range 5 {
			a.gql(admin, `mutation($n: String!){ createAccount(input:{name: $n}) { id } }`, map[string]any{"n": "Extra " + string(rune('a'+i))}).decode(t, &struct{}{})
		}
		a.gql(a.token(auth.RoleAgencyAdmin, f.AgencyB, ""), `mutation{ createService(input:{name: "B voice", price: "1"}) { id } }`, nil).decode(t, &struct{}{})
		a.gql(admin, `mutation($a: ID!){ allocateCredits(input:{toAccountId: $a, amount: "3"}) { transaction { id } } }`, map[string]any{"a": f.A2}).decode(t, &struct{}{})

		read := func(tok string, vars map[string]any) auditPage {
			t.Helper()
			var p auditPage
			a.gql(tok, auditLogQ, vars).decode(t, &p)
			return p
		}
		all := read(a.sysAdmin(), map[string]any{"first": 100})
		if all.AuditLog.TotalCount < 8 || len(all.AuditLog.Edges) != all.AuditLog.TotalCount {
			t.Fatalf("system admin: %d of %d events", len(all.AuditLog.Edges), all.AuditLog.TotalCount)
		}
		for i := 1; i < len(all.AuditLog.Edges); i++ {
			// As instants: RFC 3339 text drops trailing zeros (".568Z"
			// sorts after ".568811Z").
			prev, err1 := time.Parse(time.RFC3339Nano, all.AuditLog.Edges[i-1].Node.At)
			next, err2 := time.Parse(time.RFC3339Nano, all.AuditLog.Edges[i].Node.At)
			if err1 != nil || err2 != nil {
				t.Fatalf("at: %v %v", err1, err2)
			}
			if prev.Before(next) {
				t.Fatalf("not newest first: %s before %s", all.AuditLog.Edges[i-1].Node.At, all.AuditLog.Edges[i].Node.At)
			}
		}
		if n := all.AuditLog.Edges[0].Node; n.Action != "allocateCredits" || n.Account == nil || n.Account.ID != f.A2 || n.Role == nil || *n.Role != "AGENCY_ADMIN" {
			t.Fatalf("newest event %+v, want the allocation to A2 by the agency admin", n)
		}

		// Pages of 2 walk the agency admin's whole log, once each.
		mine := read(admin, map[string]any{"first": 100})
		var seen []string
		var after any
		for {
			p := read(admin, map[string]any{"first": 2, "after": after})
			if p.AuditLog.TotalCount != mine.AuditLog.TotalCount || len(p.AuditLog.Edges) > 2 {
				t.Fatalf("page: %d events of total %d, want at most 2 of %d", len(p.AuditLog.Edges), p.AuditLog.TotalCount, mine.AuditLog.TotalCount)
			}
			for _, e := range p.AuditLog.Edges {
				seen = append(seen, e.Node.ID)
			}
			if !p.AuditLog.PageInfo.HasNextPage {
				break
			}
			after = *p.AuditLog.PageInfo.EndCursor
		}
		var want []string
		for _, e := range mine.AuditLog.Edges {
			want = append(want, e.Node.ID)
			if e.Node.Agency == nil || e.Node.Agency.ID != f.AgencyA {
				t.Errorf("agency A's admin sees event %s of agency %+v", e.Node.ID, e.Node.Agency)
			}
		}
		if !slices.Equal(seen, want) || len(want) < 6 {
			t.Fatalf("paged %v, want %v", seen, want)
		}
		if mine.AuditLog.TotalCount >= all.AuditLog.TotalCount {
			t.Fatalf("agency A's admin sees %d of %d events: agency B's too", mine.AuditLog.TotalCount, all.AuditLog.TotalCount)
		}

		// Filters.
		byAction := read(admin, map[string]any{"act": "createAccount"})
		if byAction.AuditLog.TotalCount != 7 { // the seed's A1 and A2, and 5
			t.Fatalf("createAccount events of agency A: %d, want 7", byAction.AuditLog.TotalCount)
		}
		byAccount := read(admin, map[string]any{"acc": f.A2})
		if byAccount.AuditLog.TotalCount != 2 || byAccount.AuditLog.Edges[0].Node.Action != "allocateCredits" ||
			byAccount.AuditLog.Edges[1].Node.Action != "createAccount" {
			t.Fatalf("A2's events: %+v", byAccount.AuditLog)
		}
		byAgency := read(a.sysAdmin(), map[string]any{"ag": f.AgencyB, "act": "createService"})
		if byAgency.AuditLog.TotalCount != 2 { // the seed's and the test's
			t.Fatalf("createService events of agency B: %d, want 2", byAgency.AuditLog.TotalCount)
		}
		if own := read(admin, map[string]any{"ag": f.AgencyA}); own.AuditLog.TotalCount != mine.AuditLog.TotalCount {
			t.Fatalf("naming its own agency: %d events, want %d", own.AuditLog.TotalCount, mine.AuditLog.TotalCount)
		}
		wantRefused(t, a.gql(admin, auditLogQ, map[string]any{"ag": f.AgencyB}), "NOT_FOUND", "another agency's log")
		wantRefused(t, a.gql(admin, auditLogQ, map[string]any{"acc": f.B1}), "NOT_FOUND", "another agency's account")
		wantRefused(t, a.gql(admin, auditLogQ, map[string]any{"first": 101}), "BAD_USER_INPUT", "a page over 100")

		// Nobody else reads it, nor any of its events.
		bEvent := byAgency.AuditLog.Edges[0].Node.ID
		for who, c := range map[string]struct{ tok, node string }{
			// node is closed to services altogether (@hasRole).
			"client": {a.client(), "NOT_FOUND"}, "client_owner": {a.owner(), "NOT_FOUND"},
			"service": {a.token(auth.RoleService, f.AgencyA, ""), "FORBIDDEN"}, "platform service": {a.token(auth.RoleService, "", ""), "FORBIDDEN"},
		} {
			wantRefused(t, a.gql(c.tok, auditLogQ, nil), "FORBIDDEN", who)
			wantRefused(t, a.gql(c.tok, `query($id: ID!){ node(id: $id) { id } }`, map[string]any{"id": all.AuditLog.Edges[0].Node.ID}), c.node, who+" node")
		}
		wantRefused(t, a.gql(admin, `query($id: ID!){ node(id: $id) { id } }`, map[string]any{"id": bEvent}), "NOT_FOUND", "agency A's admin, node of B's event")
		var node struct{ Node struct{ ID, Action string } }
		a.gql(a.token(auth.RoleAgencyAdmin, f.AgencyB, ""), `query($id: ID!){ node(id: $id) { id ... on AuditEvent { action } } }`, map[string]any{"id": bEvent}).decode(t, &node)
		if node.Node.ID != bEvent || node.Node.Action != "createService" {
			t.Fatalf("agency B's admin, node of its event: %+v", node)
		}
	})
}

// TestAuditLogAppendOnly: no API edits or deletes an event: the only
// field of the schema that mentions the audit is the auditLog query.
func TestAuditLogAppendOnly(t *testing.T) {
	a := newAPI(t, dbtest.Kinds[0])
	for _, m := range schemaMutations(t, a) {
		if strings.Contains(strings.ToLower(m), "audit") {
			t.Errorf("mutation %s touches the audit log", m)
		}
	}
	var out struct {
		Schema struct {
			QueryType        struct{ Fields []struct{ Name string } }
			SubscriptionType *struct{ Fields []struct{ Name string } }
		} `json:"__schema"`
	}
	a.gql(a.sysAdmin(), `{ __schema { queryType { fields { name } } subscriptionType { fields { name } } } }`, nil).decode(t, &out)
	var audits []string
	for _, f := range out.Schema.QueryType.Fields {
		if strings.Contains(strings.ToLower(f.Name), "audit") {
			audits = append(audits, f.Name)
		}
	}
	if !slices.Equal(audits, []string{"auditLog"}) {
		t.Fatalf("query fields about the audit: %v, want [auditLog]", audits)
	}
}

// TestAuditRecordUsageOnePerCall: a recordUsage call of several events,
// some refused, is one audit event (not one per usage event); a replay of
// the whole call writes none.
func TestAuditRecordUsageOnePerCall(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "10")
		tok := a.token(auth.RoleService, f.AgencyA, "")
		evs := []map[string]any{
			{"accountId": f.A1, "serviceId": f.SMS, "idempotencyKey": "u1"},
			{"accountId": f.A1, "serviceId": f.SMS, "quantity": 4, "idempotencyKey": "u2"},
			{"accountId": f.A1, "serviceId": f.ServiceB, "idempotencyKey": "u3"},                // another agency's: refused
			{"accountId": f.A1, "serviceId": f.SMS, "quantity": 100000, "idempotencyKey": "u4"}, // not covered: refused
		}
		q := `mutation($e: [UsageEventInput!]!){ recordUsage(input:{events: $e}) { results { replayed transaction { id } error { code } } } }`
		before := auditIDs(t, a)
		var out struct {
			RecordUsage struct {
				Results []struct {
					Replayed    bool
					Transaction *struct{ ID gid.ID }
					Error       *struct{ Code string }
				}
			}
		}
		a.gql(tok, q, map[string]any{"e": evs}).decode(t, &out)
		if r := out.RecordUsage.Results; r[0].Transaction == nil || r[1].Transaction == nil || r[2].Error == nil || r[3].Error == nil {
			t.Fatalf("results %+v, want two charged and two refused", r)
		}
		got := newAudit(t, a, before)
		if len(got) != 1 || got[0].Action != "recordUsage" || got[0].AccountID == nil || *got[0].AccountID != f.A1 ||
			got[0].TargetID == nil || *got[0].TargetID != out.RecordUsage.Results[0].Transaction.ID {
			t.Fatalf("audit events %+v, want one recordUsage event of A1 naming the first transaction", got)
		}
		if a.db.Dialect == "postgres" && !strings.Contains(got[0].Summary, "recorded 4 usage events (2 ok, 2 refused") {
			t.Fatalf("summary %q", got[0].Summary)
		}
		before = auditIDs(t, a)
		a.gql(tok, q, map[string]any{"e": evs[:2]}).decode(t, &out)
		if !out.RecordUsage.Results[0].Replayed || !out.RecordUsage.Results[1].Replayed {
			t.Fatalf("replay %+v", out.RecordUsage.Results)
		}
		if got := newAudit(t, a, before); len(got) != 0 {
			t.Fatalf("a replayed call wrote %d audit events", len(got))
		}
	})
}
