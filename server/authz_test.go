package main

// Authorization: the contract's permission matrix, tenant isolation and the
// refusal of bad tokens, end to end through the real gateway on both
// databases. Every helper here is prefixed authz, since other test files of
// this package are written at the same time.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/balance"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/service"
	"creditgate/gid"
	"creditgate/money"
)

// ---------------------------------------------------------------- documents
//
// One document per operation of schema.graphql, shared by the three tests.

const (
	authzQNode      = `query($id: ID!){ node(id: $id) { id } }`
	authzQViewer    = `{ viewer { userId role } }`
	authzQBalance   = `query($a: ID){ balance(accountId: $a) { available currency account { id } } }`
	authzQBalances  = `query($a: ID){ balances(accountId: $a) { currency available account { id } } }`
	authzQHistory   = `query($a: ID){ history(accountId: $a) { totalCount edges { node { id account { id } } } } }`
	authzQRequests  = `query($a: ID){ requests(accountId: $a) { totalCount edges { node { id account { id } } } } }`
	authzQInvoices  = `query($a: ID){ invoices(accountId: $a) { totalCount edges { node { id account { id } } } } }`
	authzQServices  = `query($a: ID){ services(accountId: $a) { id } }`
	authzQPackages  = `{ creditPackages { id } }`
	authzQAgency    = `query($id: ID){ agency(id: $id) { id name } }`
	authzMBuy       = `mutation($a: ID, $p: ID, $amt: Decimal){ buyCredits(input:{accountId: $a, packageId: $p, amount: $amt, method: CARD}) { status transaction { id } balance { available account { id } } } }`
	authzMPay       = `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { invoice { id status } transaction { id amount } balance { available } } }`
	authzMService   = `mutation($s: ID!, $a: ID, $q: Int){ buyServiceWithCredit(input:{serviceId: $s, accountId: $a, quantity: $q}) { transaction { id amount } balance { available } } }`
	authzMApprove   = `mutation($r: ID!){ approveRequest(input:{requestId: $r}) { request { id status } balance { available } } }`
	authzMReject    = `mutation($r: ID!){ rejectRequest(input:{requestId: $r, reason: "no"}) { request { id status } balance { available } } }`
	authzMMarkPaid  = `mutation($r: ID!){ markRequestPaid(input:{requestId: $r}) { request { id status paid } balance { available } } }`
	authzMAllocate  = `mutation($to: ID!, $amt: Decimal!){ allocateCredits(input:{toAccountId: $to, amount: $amt}) { transaction { id } balance { available } poolBalance { available } } }`
	authzMAgency    = `mutation($n: String!){ createAgency(input:{name: $n}) { id name } }`
	authzMAccount   = `mutation($ag: ID, $n: String!){ createAccount(input:{agencyId: $ag, name: $n}) { id name agency { id } } }`
	authzMSettings  = `mutation($ag: ID, $on: Boolean){ updateAgencySettings(input:{agencyId: $ag, creditPaymentsEnabled: $on}) { id creditPaymentsEnabled } }`
	authzMInvoice   = `mutation($a: ID!, $n: String!, $amt: Decimal!){ createInvoice(input:{accountId: $a, number: $n, amount: $amt}) { id status account { id } } }`
	authzMService2  = `mutation($ag: ID, $n: String!, $p: Decimal!){ createService(input:{agencyId: $ag, name: $n, price: $p}) { id name } }`
	authzMPackage   = `mutation($ag: ID, $n: String!, $c: Decimal!, $p: Decimal!){ createCreditPackage(input:{agencyId: $ag, name: $n, credits: $c, price: $p}) { id name } }`
	authzMRates     = `mutation($s: ID!, $r: [ServiceRateInput!]!){ setServiceRates(input:{serviceId: $s, unit: "hour", rates: $r}) { id unit rates { variant price } } }`
	authzQCards     = `query($a: ID){ cards(accountId: $a) { id last4 } }`
	authzQTopUps    = `query($a: ID){ autoTopUps(accountId: $a) { id status card { id } } }`
	authzQAlerts    = `query($a: ID){ lowBalanceAlerts(accountId: $a) { id state } }`
	authzMCardSetup = `mutation($a: ID){ startCardSetup(input:{accountId: $a}) { provider clientSecret } }`
	authzMAddCard   = `mutation($a: ID, $pm: String!){ addCard(input:{accountId: $a, paymentMethodId: $pm}) { card { id brand last4 } } }`
	authzMRmCard    = `mutation($c: ID!){ removeCard(input:{cardId: $c}) { removedCardId } }`
	authzMBuyCard   = `mutation($a: ID, $c: ID){ buyCredits(input:{accountId: $a, amount: "3", method: CARD, cardId: $c}) { status transaction { id amount } balance { available } } }`
	authzMSetTopUp  = `mutation($a: ID, $c: ID!){ setAutoTopUp(input:{accountId: $a, enabled: true, threshold: "10", mode: FIXED, amount: "50", cardId: $c}) { autoTopUp { id status card { id } } } }`
	authzMSetAlert  = `mutation($a: ID){ setLowBalanceAlert(input:{accountId: $a, enabled: true, threshold: "10", email: "owner@example.com"}) { alert { id state } } }`
	authzTypename   = `{ __typename }`
	authzSchemaName = `{ __schema { queryType { name } mutationType { name } } }`
)

var (
	authzClient = auth.RoleClient
	authzOwner  = auth.RoleClientOwner
	authzAdmin  = auth.RoleAgencyAdmin
	authzSys    = auth.RoleSystemAdmin
	// An API key of agency A with every scope (authzToken makes it).
	authzService = auth.RoleService

	// authzAllRoles are the people; SERVICE is allowed only what the
	// contract lists for it (authzReaders, viewer).
	authzAllRoles = []auth.Role{authzClient, authzOwner, authzAdmin, authzSys}
	authzReaders  = []auth.Role{authzClient, authzOwner, authzAdmin, authzSys, authzService}
	// The roles the matrix runs as.
	authzMatrixRoles = []auth.Role{authzClient, authzOwner, authzAdmin, authzSys, authzService}
	authzBuyers      = []auth.Role{authzOwner, authzAdmin, authzSys}
	authzAdmins      = []auth.Role{authzAdmin, authzSys}
	authzOwners      = []auth.Role{authzOwner, authzSys}
	authzSysOnly     = []auth.Role{authzSys}
	// The roles of agency A that the tenant tests act with.
	authzTenantRoles = []auth.Role{authzClient, authzOwner, authzAdmin, authzService}
)

// ---------------------------------------------------------------- helpers

// authzAt is a with its failures reported on t (a subtest), so a helper
// never calls FailNow on a parent test from a subtest's goroutine.
func authzAt(a *testAPI, t testing.TB) *testAPI {
	c := *a
	c.t = t
	return &c
}

// authzToken is the harness token of role (agency A, client A1).
func authzToken(a *testAPI, role auth.Role) string {
	switch role {
	case authzClient:
		return a.client()
	case authzOwner:
		return a.owner()
	case authzAdmin:
		return a.agencyAdmin()
	case authzSys:
		return a.sysAdmin()
	case authzService:
		return keyOf(a, a.fx.AgencyA, auth.AllScopes...)
	}
	a.t.Fatalf("no token for role %q", role)
	return ""
}

// authzCall runs a GraphQL request as token and checks it leaks nothing.
func authzCall(t testing.TB, a *testAPI, token, doc string, vars map[string]any) gqlResponse {
	t.Helper()
	r := authzAt(a, t).gql(token, doc, vars)
	wantNoLeak(t, r)
	return r
}

// authzRaw runs a GraphQL request with a raw Authorization header (none when
// present is false).
func authzRaw(t testing.TB, a *testAPI, header string, present bool, doc string, vars map[string]any) gqlResponse {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": doc, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if present {
		req.Header.Set("Authorization", header)
	}
	r := authzAt(a, t).send(req)
	wantNoLeak(t, r)
	return r
}

// authzData decodes r's data into a generic map (nil when data is null).
func authzData(t testing.TB, r gqlResponse) map[string]any {
	t.Helper()
	if len(r.Data) == 0 || string(r.Data) == "null" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(r.Data, &m); err != nil {
		t.Fatalf("decoding data %s: %v", r.Data, err)
	}
	return m
}

// authzOK asserts r succeeded and returns its data.
func authzOK(t testing.TB, r gqlResponse) map[string]any {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors (HTTP %d): %+v", r.Status, r.Errors)
	}
	d := authzData(t, r)
	if d == nil {
		t.Fatalf("no data (HTTP %d)", r.Status)
	}
	return d
}

// authzGet walks a decoded JSON value along a dotted path ("a.b.0.c").
func authzGet(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// authzStrings collects path (relative to each element) over the list at
// list.
func authzStrings(v any, list, path string) []string {
	items, _ := authzGet(v, list).([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		s, _ := authzGet(it, path).(string)
		out = append(out, s)
	}
	return out
}

func authzWant(t testing.TB, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// authzBuy buys credits as the system; method decides instant or request.
func authzBuy(t testing.TB, a *testAPI, acc gid.ID, amount string, method creditrequest.Method) *credits.Purchase {
	t.Helper()
	d := moneyDecimal(amount)
	p, err := a.svc.BuyCredits(sys(), credits.BuyCredits{AccountID: &acc, Amount: &d, Method: method})
	if err != nil {
		t.Fatalf("fixture: buying %s %s for %s: %v", method, amount, acc, err)
	}
	return p
}

func authzInvoice(t testing.TB, a *testAPI, acc gid.ID, number, amount string) gid.ID {
	t.Helper()
	inv, err := a.svc.CreateInvoice(sys(), credits.NewInvoice{AccountID: acc, Number: number, Amount: moneyDecimal(amount), CreditEligible: true})
	if err != nil {
		t.Fatalf("fixture: invoice %s: %v", number, err)
	}
	return inv.ID
}

// authzPostpaid is an accepted, still unpaid POSTPAID request of acc.
func authzPostpaid(t testing.TB, a *testAPI, acc gid.ID, amount string) gid.ID {
	t.Helper()
	id := authzBuy(t, a, acc, amount, creditrequest.MethodPOSTPAID).Request.ID
	if _, err := a.svc.ApproveRequest(reviewer(), id); err != nil {
		t.Fatalf("fixture: approving %s: %v", id, err)
	}
	return id
}

// authzMinor is a USD Decimal answered by the API, in cents.
func authzMinor(t testing.TB, d any) int64 {
	t.Helper()
	s, _ := d.(string)
	if s == "0.00" {
		return 0 // Parse refuses zero, which is not an amount one may pay
	}
	n, err := money.ParsePrice(money.Decimal(s), "USD")
	if err != nil {
		t.Fatalf("amount %v: %v", d, err)
	}
	return authzCents(t, n)
}

// authzCents is micro-units of USD in cents, the unit the matrix counts
// in; an amount with finer digits fails the test.
func authzCents(t testing.TB, micro int64) int64 {
	t.Helper()
	cents, ok := money.ToMinor(micro, "USD")
	if !ok {
		t.Fatalf("%d micro-units of USD are not whole cents", micro)
	}
	return cents
}

// ---------------------------------------------------------------- 1. matrix

// authzEnv holds the objects of agency A the matrix's mutations act on,
// one per mutation so that they do not interfere.
type authzEnv struct {
	Inv         gid.ID // open invoice of A1, 5.00
	ReqApprove  gid.ID // pending BANK_TRANSFER request of A1, 7.00
	ReqReject   gid.ID // pending BANK_TRANSFER request of A1, 9.00
	ReqPostpaid gid.ID // accepted unpaid POSTPAID request of A1, 4.00
	CardRemove  gid.ID // a card of A1 to remove
	CardRule    gid.ID // a card of A1 for an auto top-up rule
	CardBuy     gid.ID // a card of A1 for one-time top-ups
}

func authzNewEnv(t testing.TB, a *testAPI) authzEnv {
	t.Helper()
	f := a.fx
	a.fund(f.A1, "100")
	return authzEnv{
		Inv:         authzInvoice(t, a, f.A1, "M-PAY", "5"),
		ReqApprove:  authzBuy(t, a, f.A1, "7", creditrequest.MethodBANK_TRANSFER).Request.ID,
		ReqReject:   authzBuy(t, a, f.A1, "9", creditrequest.MethodBANK_TRANSFER).Request.ID,
		ReqPostpaid: authzPostpaid(t, a, f.A1, "4"),
		CardRemove:  authzCard(t, a, f.A1, "pm_card_mastercard"),
		CardRule:    authzCard(t, a, f.A1, "pm_card_chargeDeclined"),
		CardBuy:     authzCard(t, a, f.A1, "pm_card_visa"),
	}
}

// authzCard saves a sandbox test card on acc.
func authzCard(t testing.TB, a *testAPI, acc gid.ID, pm string) gid.ID {
	t.Helper()
	c, err := a.svc.AddCard(sys(), &acc, pm)
	if err != nil {
		t.Fatalf("fixture: card %s on %s: %v", pm, acc, err)
	}
	return c.ID
}

// authzView is what the matrix's allowed mutations are expected to change.
type authzView struct {
	A1, PoolA                                       int64 // USD minor units
	Agencies, AccountsA, InvoicesA1, ServicesA, Pkg int
	EnabledA                                        bool
	Status                                          map[gid.ID]string // env's invoice and requests
}

func authzReadView(t testing.TB, a *testAPI, env authzEnv) authzView {
	t.Helper()
	ctx := credits.System(context.Background())
	c, f := a.svc.DB(), a.fx
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("reading %s: %v", what, err)
		}
	}
	bal := func(acc gid.ID) int64 {
		t.Helper()
		b, err := c.Balance.Query().Where(balance.AccountID(acc), balance.Currency("USD")).Only(ctx)
		if ent.IsNotFound(err) {
			return 0
		}
		check("balance", err)
		return authzCents(t, b.Available)
	}
	var v authzView
	var err error
	v.A1, v.PoolA = bal(f.A1), bal(f.PoolA)
	v.Agencies, err = c.Agency.Query().Count(ctx)
	check("agencies", err)
	v.AccountsA, err = c.Account.Query().Where(account.AgencyID(f.AgencyA)).Count(ctx)
	check("accounts", err)
	v.InvoicesA1, err = c.Invoice.Query().Where(invoice.AccountID(f.A1)).Count(ctx)
	check("invoices", err)
	v.ServicesA, err = c.Service.Query().Where(service.AgencyID(f.AgencyA)).Count(ctx)
	check("services", err)
	v.Pkg, err = c.CreditPackage.Query().Where(creditpackage.AgencyID(f.AgencyA)).Count(ctx)
	check("packages", err)
	ag, err := c.Agency.Get(ctx, f.AgencyA)
	check("agency", err)
	v.EnabledA = ag.CreditPaymentsEnabled
	inv, err := c.Invoice.Get(ctx, env.Inv)
	check("invoice", err)
	v.Status = map[gid.ID]string{env.Inv: string(inv.Status)}
	for _, id := range []gid.ID{env.ReqApprove, env.ReqReject, env.ReqPostpaid} {
		r, err := c.CreditRequest.Get(ctx, id)
		check("request", err)
		v.Status[id] = fmt.Sprintf("%s paid=%t", r.Status, r.Paid)
	}
	return v
}

type authzMatrixCase struct {
	op    string
	doc   string
	allow []auth.Role // who may; the others get FORBIDDEN
	vars  map[string]any
	// check asserts the answer of an allowed call; now is the state after it.
	check func(t *testing.T, role auth.Role, d map[string]any, now authzView)
	// effect turns the state before an allowed call into the state after.
	effect func(v *authzView)
	// restore undoes an allowed call's effect for the operations after it.
	restore func(t *testing.T)
}

// authzMatrixCases: every query and mutation of schema.graphql, on agency A
// and client A1, with what each must answer and change.
func authzMatrixCases(a *testAPI, env authzEnv) []authzMatrixCase {
	f := a.fx
	contains := func(t *testing.T, what string, got []string, want ...gid.ID) {
		t.Helper()
		for _, w := range want {
			if !slices.Contains(got, string(w)) {
				t.Errorf("%s %v lack %s", what, got, w)
			}
		}
	}
	lacks := func(t *testing.T, what string, got []string, bad ...gid.ID) {
		t.Helper()
		for _, b := range bad {
			if slices.Contains(got, string(b)) {
				t.Errorf("%s %v include %s of the other agency", what, got, b)
			}
		}
	}
	allOn := func(t *testing.T, what string, got []string, acc gid.ID) {
		t.Helper()
		for _, g := range got {
			if g != string(acc) {
				t.Errorf("%s: an item is on account %s, want only %s", what, g, acc)
			}
		}
	}
	return []authzMatrixCase{
		// ---- queries: every role reads agency A / its own account A1.
		{op: "node", doc: authzQNode, allow: authzAllRoles, vars: map[string]any{"id": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "node.id", authzGet(d, "node.id"), string(f.A1))
			}},
		{op: "viewer", doc: authzQViewer, allow: authzReaders,
			check: func(t *testing.T, role auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "viewer.role", authzGet(d, "viewer.role"), strings.ToUpper(string(role)))
				if role == authzService {
					if id, _ := authzGet(d, "viewer.userId").(string); !strings.HasPrefix(id, "apikey:key_") {
						t.Errorf("viewer.userId = %q, want apikey:<the key's id>", id)
					}
					return
				}
				authzWant(t, "viewer.userId", authzGet(d, "viewer.userId"), "user-"+string(role))
			}},
		{op: "balance", doc: authzQBalance, allow: authzReaders, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "balance.account.id", authzGet(d, "balance.account.id"), string(f.A1))
				authzWant(t, "balance.available", authzGet(d, "balance.available"), string(money.FormatMinor(now.A1, "USD")))
			}},
		{op: "balances", doc: authzQBalances, allow: authzReaders, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "balances currencies", authzStrings(d, "balances", "currency"), []string{"USD"})
				authzWant(t, "balances.0.available", authzGet(d, "balances.0.available"), string(money.FormatMinor(now.A1, "USD")))
				allOn(t, "balances", authzStrings(d, "balances", "account.id"), f.A1)
			}},
		{op: "history", doc: authzQHistory, allow: authzAllRoles, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				accs := authzStrings(d, "history.edges", "node.account.id")
				if n, _ := authzGet(d, "history.totalCount").(float64); n < 2 || len(accs) < 2 {
					t.Errorf("history of A1 has %v transactions (%d listed), want at least the funding and the post-paid approval", n, len(accs))
				}
				allOn(t, "history", accs, f.A1)
			}},
		{op: "requests", doc: authzQRequests, allow: authzAllRoles, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				contains(t, "requests", authzStrings(d, "requests.edges", "node.id"), env.ReqApprove, env.ReqReject, env.ReqPostpaid)
				allOn(t, "requests", authzStrings(d, "requests.edges", "node.account.id"), f.A1)
			}},
		{op: "invoices", doc: authzQInvoices, allow: authzAllRoles, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				ids := authzStrings(d, "invoices.edges", "node.id")
				contains(t, "invoices", ids, f.InvoiceA1, f.InvoiceA1b, env.Inv)
				lacks(t, "invoices", ids, f.InvoiceB1)
				allOn(t, "invoices", authzStrings(d, "invoices.edges", "node.account.id"), f.A1)
			}},
		{op: "services", doc: authzQServices, allow: authzReaders, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				ids := authzStrings(d, "services", "id")
				contains(t, "services", ids, f.SMS, f.Support)
				lacks(t, "services", ids, f.ServiceB)
			}},
		{op: "creditPackages", doc: authzQPackages, allow: authzAllRoles,
			check: func(t *testing.T, role auth.Role, d map[string]any, _ authzView) {
				ids := authzStrings(d, "creditPackages", "id")
				contains(t, "creditPackages", ids, f.PackageA)
				if role == authzSys {
					contains(t, "creditPackages", ids, f.PackageB)
				} else {
					lacks(t, "creditPackages", ids, f.PackageB)
				}
			}},
		{op: "agency", doc: authzQAgency, allow: authzAllRoles, vars: map[string]any{"id": f.AgencyA},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "agency.id", authzGet(d, "agency.id"), string(f.AgencyA))
				authzWant(t, "agency.name", authzGet(d, "agency.name"), "Agency A")
			}},

		// ---- mutations.
		{op: "buyCredits", doc: authzMBuy, allow: authzBuyers, vars: map[string]any{"a": f.A1, "amt": "10"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "status", authzGet(d, "buyCredits.status"), "COMPLETED")
				authzWant(t, "balance", authzGet(d, "buyCredits.balance.available"), string(money.FormatMinor(now.A1, "USD")))
			},
			effect: func(v *authzView) { v.A1 += 1000 }},
		{op: "payInvoiceWithCredit", doc: authzMPay, allow: authzAllRoles, vars: map[string]any{"i": env.Inv},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "invoice.status", authzGet(d, "payInvoiceWithCredit.invoice.status"), "PAID")
				authzWant(t, "transaction.amount", authzGet(d, "payInvoiceWithCredit.transaction.amount"), "5.00")
				authzWant(t, "balance", authzGet(d, "payInvoiceWithCredit.balance.available"), string(money.FormatMinor(now.A1, "USD")))
			},
			effect: func(v *authzView) { v.A1 -= 500; v.Status[env.Inv] = "PAID" }},
		{op: "buyServiceWithCredit", doc: authzMService, allow: authzAllRoles, vars: map[string]any{"s": f.SMS, "a": f.A1, "q": 2},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "transaction.amount", authzGet(d, "buyServiceWithCredit.transaction.amount"), "0.10")
				authzWant(t, "balance", authzGet(d, "buyServiceWithCredit.balance.available"), string(money.FormatMinor(now.A1, "USD")))
			},
			effect: func(v *authzView) { v.A1 -= 10 }},
		{op: "approveRequest", doc: authzMApprove, allow: authzAdmins, vars: map[string]any{"r": env.ReqApprove},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "request.status", authzGet(d, "approveRequest.request.status"), "ACCEPTED")
			},
			effect: func(v *authzView) { v.A1 += 700; v.Status[env.ReqApprove] = "ACCEPTED paid=true" }},
		{op: "rejectRequest", doc: authzMReject, allow: authzAdmins, vars: map[string]any{"r": env.ReqReject},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "request.status", authzGet(d, "rejectRequest.request.status"), "REJECTED")
			},
			effect: func(v *authzView) { v.Status[env.ReqReject] = "REJECTED paid=false" }},
		{op: "markRequestPaid", doc: authzMMarkPaid, allow: authzAdmins, vars: map[string]any{"r": env.ReqPostpaid},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "request.paid", authzGet(d, "markRequestPaid.request.paid"), true)
			},
			effect: func(v *authzView) { v.Status[env.ReqPostpaid] = "ACCEPTED paid=true" }},
		{op: "allocateCredits", doc: authzMAllocate, allow: authzAdmins, vars: map[string]any{"to": f.A1, "amt": "3"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "balance", authzGet(d, "allocateCredits.balance.available"), string(money.FormatMinor(now.A1, "USD")))
				authzWant(t, "poolBalance", authzGet(d, "allocateCredits.poolBalance.available"), string(money.FormatMinor(now.PoolA, "USD")))
			},
			effect: func(v *authzView) { v.A1 += 300; v.PoolA -= 300 }},
		{op: "createAgency", doc: authzMAgency, allow: authzSysOnly, vars: map[string]any{"n": "Agency C"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "createAgency.name", authzGet(d, "createAgency.name"), "Agency C")
			},
			effect: func(v *authzView) { v.Agencies++ }},
		{op: "createAccount", doc: authzMAccount, allow: authzAdmins, vars: map[string]any{"ag": f.AgencyA, "n": "Client A3"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "createAccount.agency.id", authzGet(d, "createAccount.agency.id"), string(f.AgencyA))
			},
			effect: func(v *authzView) { v.AccountsA++ }},
		{op: "updateAgencySettings", doc: authzMSettings, allow: authzAdmins, vars: map[string]any{"ag": f.AgencyA, "on": false},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "creditPaymentsEnabled", authzGet(d, "updateAgencySettings.creditPaymentsEnabled"), false)
			},
			effect: func(v *authzView) { v.EnabledA = false },
			restore: func(t *testing.T) {
				on := true
				if _, err := a.svc.UpdateAgencySettings(sys(), &f.AgencyA, credits.AgencySettings{CreditPaymentsEnabled: &on}); err != nil {
					t.Fatalf("restoring settings: %v", err)
				}
			}},
		{op: "createInvoice", doc: authzMInvoice, allow: authzAdmins, vars: map[string]any{"a": f.A1, "n": "M-NEW", "amt": "12"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "createInvoice.status", authzGet(d, "createInvoice.status"), "OPEN")
				authzWant(t, "createInvoice.account.id", authzGet(d, "createInvoice.account.id"), string(f.A1))
			},
			effect: func(v *authzView) { v.InvoicesA1++ }},
		{op: "createService", doc: authzMService2, allow: authzAdmins, vars: map[string]any{"ag": f.AgencyA, "n": "Email", "p": "0.01"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "createService.name", authzGet(d, "createService.name"), "Email")
			},
			effect: func(v *authzView) { v.ServicesA++ }},
		{op: "createCreditPackage", doc: authzMPackage, allow: authzAdmins, vars: map[string]any{"ag": f.AgencyA, "n": "Big", "c": "600", "p": "500"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "createCreditPackage.name", authzGet(d, "createCreditPackage.name"), "Big")
			},
			effect: func(v *authzView) { v.Pkg++ }},
		{op: "setServiceRates", doc: authzMRates, allow: authzAdmins,
			vars: map[string]any{"s": f.Support, "r": []map[string]any{{"variant": "weekend", "price": "120"}}},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "setServiceRates.unit", authzGet(d, "setServiceRates.unit"), "hour")
				authzWant(t, "setServiceRates.rates", authzStrings(d, "setServiceRates.rates", "variant"), []string{"", "weekend"})
			}},

		// ---- cards, auto top-up, alerts: the owner's settings.
		{op: "cards", doc: authzQCards, allow: authzBuyers, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				contains(t, "cards", authzStrings(d, "cards", "id"), env.CardRule)
			}},
		{op: "autoTopUps", doc: authzQTopUps, allow: authzBuyers, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				if _, ok := authzGet(d, "autoTopUps").([]any); !ok {
					t.Errorf("autoTopUps: want a list, got %v", d)
				}
			}},
		{op: "lowBalanceAlerts", doc: authzQAlerts, allow: authzBuyers, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				if _, ok := authzGet(d, "lowBalanceAlerts").([]any); !ok {
					t.Errorf("lowBalanceAlerts: want a list, got %v", d)
				}
			}},
		{op: "startCardSetup", doc: authzMCardSetup, allow: authzOwners, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "provider", authzGet(d, "startCardSetup.provider"), "sandbox")
				if s, _ := authzGet(d, "startCardSetup.clientSecret").(string); s == "" {
					t.Error("startCardSetup: no client secret")
				}
			}},
		{op: "addCard", doc: authzMAddCard, allow: authzOwners, vars: map[string]any{"a": f.A1, "pm": "pm_card_visa"},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "addCard.card.last4", authzGet(d, "addCard.card.last4"), "4242")
			}},
		{op: "removeCard", doc: authzMRmCard, allow: authzOwners, vars: map[string]any{"c": env.CardRemove},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "removedCardId", authzGet(d, "removeCard.removedCardId"), string(env.CardRemove))
			}},
		{op: "setAutoTopUp", doc: authzMSetTopUp, allow: authzOwners, vars: map[string]any{"a": f.A1, "c": env.CardRule},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "status", authzGet(d, "setAutoTopUp.autoTopUp.status"), "ACTIVE")
				authzWant(t, "card", authzGet(d, "setAutoTopUp.autoTopUp.card.id"), string(env.CardRule))
			}},
		{op: "buyCredits_with_card", doc: authzMBuyCard, allow: authzOwners, vars: map[string]any{"a": f.A1, "c": env.CardBuy},
			check: func(t *testing.T, _ auth.Role, d map[string]any, now authzView) {
				authzWant(t, "status", authzGet(d, "buyCredits.status"), "COMPLETED")
				authzWant(t, "transaction.amount", authzGet(d, "buyCredits.transaction.amount"), "3.00")
				authzWant(t, "balance", authzGet(d, "buyCredits.balance.available"), string(money.FormatMinor(now.A1, "USD")))
			},
			effect: func(v *authzView) { v.A1 += 300 }},
		{op: "setLowBalanceAlert", doc: authzMSetAlert, allow: authzBuyers, vars: map[string]any{"a": f.A1},
			check: func(t *testing.T, _ auth.Role, d map[string]any, _ authzView) {
				authzWant(t, "state", authzGet(d, "setLowBalanceAlert.alert.state"), "OK")
			}},
	}
}

func TestAuthzMatrix(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			// One API per role: the cases act on distinct objects, in order.
			for _, role := range authzMatrixRoles {
				t.Run(string(role), func(t *testing.T) {
					a := newAPI(t, kind)
					env := authzNewEnv(t, a)
					tok := authzToken(a, role)
					for _, c := range authzMatrixCases(a, env) {
						allowed := slices.Contains(c.allow, role)
						verdict := "forbidden"
						if allowed {
							verdict = "allowed"
						}
						t.Run(c.op+"_"+verdict, func(t *testing.T) {
							if !allowed {
								before := snapshot(t, a)
								r := authzCall(t, a, tok, c.doc, c.vars)
								wantRefused(t, r, "FORBIDDEN")
								wantUnchanged(t, a, before)
								return
							}
							want := authzReadView(t, a, env)
							want.Status = maps.Clone(want.Status)
							if c.effect != nil {
								c.effect(&want)
							}
							d := authzOK(t, authzCall(t, a, tok, c.doc, c.vars))
							got := authzReadView(t, a, env)
							if !reflect.DeepEqual(got, want) {
								t.Errorf("state after %s as %s:\n got %+v\nwant %+v", c.op, role, got, want)
							}
							c.check(t, role, d, got)
							if c.restore != nil {
								c.restore(t)
							}
						})
					}
				})
			}
			t.Run("defaults", func(t *testing.T) { authzDefaults(t, newAPI(t, kind)) })
		})
	}
}

// authzDefaults: what an omitted accountId / agencyId / id means per role.
// A system admin must name the account or agency (BAD_USER_INPUT, nothing
// changed); the lists requests and invoices are the exception.
func authzDefaults(t *testing.T, a *testAPI) {
	f := a.fx
	authzBuy(t, a, f.B1, "5", creditrequest.MethodBANK_TRANSFER)
	authzBuy(t, a, f.A1, "5", creditrequest.MethodBANK_TRANSFER)
	a.fund(f.A1, "50")
	bad := []struct {
		op, doc string
		vars    map[string]any
	}{
		{"balance", authzQBalance, nil},
		{"balances", authzQBalances, nil},
		{"history", authzQHistory, nil},
		{"services", authzQServices, nil},
		{"agency", authzQAgency, nil},
		{"buyCredits", authzMBuy, map[string]any{"amt": "10"}},
		{"buyCredits_package", authzMBuy, map[string]any{"p": f.PackageA}},
		{"buyServiceWithCredit", authzMService, map[string]any{"s": f.SMS, "q": 1}},
		{"createAccount", authzMAccount, map[string]any{"n": "Nowhere"}},
		{"updateAgencySettings", authzMSettings, map[string]any{"on": false}},
		{"createService", authzMService2, map[string]any{"n": "Nowhere", "p": "1"}},
		{"createCreditPackage", authzMPackage, map[string]any{"n": "Nowhere", "c": "1", "p": "1"}},
	}
	for _, c := range bad {
		t.Run("system_admin/"+c.op+"_without_id", func(t *testing.T) {
			before := snapshot(t, a)
			r := authzCall(t, a, a.sysAdmin(), c.doc, c.vars)
			wantRefused(t, r, "BAD_USER_INPUT")
			wantUnchanged(t, a, before)
		})
	}

	list := func(t *testing.T, tok, doc, field string) []string {
		t.Helper()
		return authzStrings(authzOK(t, authzCall(t, a, tok, doc, nil)), field+".edges", "node.account.id")
	}
	t.Run("system_admin/invoices_and_requests_without_id_list_everything", func(t *testing.T) {
		for _, q := range []struct{ doc, field string }{{authzQInvoices, "invoices"}, {authzQRequests, "requests"}} {
			accs := list(t, a.sysAdmin(), q.doc, q.field)
			if !slices.Contains(accs, string(f.A1)) || !slices.Contains(accs, string(f.B1)) {
				t.Errorf("%s of a system admin are on %v, want both agencies' accounts", q.field, accs)
			}
		}
	})
	t.Run("agency_admin/invoices_and_requests_without_id_list_own_agency", func(t *testing.T) {
		for _, q := range []struct{ doc, field string }{{authzQInvoices, "invoices"}, {authzQRequests, "requests"}} {
			accs := list(t, a.agencyAdmin(), q.doc, q.field)
			if !slices.Contains(accs, string(f.A1)) || slices.Contains(accs, string(f.B1)) {
				t.Errorf("%s of agency A's admin are on %v, want A1's and none of B1's", q.field, accs)
			}
		}
	})
	for _, c := range []struct {
		role auth.Role
		want gid.ID
	}{{authzClient, f.A1}, {authzOwner, f.A1}, {authzAdmin, f.PoolA}} {
		t.Run(string(c.role)+"/balance_without_id_is_own_account", func(t *testing.T) {
			d := authzOK(t, authzCall(t, a, authzToken(a, c.role), authzQBalance, nil))
			authzWant(t, "balance.account.id", authzGet(d, "balance.account.id"), string(c.want))
		})
	}
	t.Run("agency_admin/buyCredits_without_id_credits_pool", func(t *testing.T) {
		before := authzAt(a, t).balance(f.PoolA)
		d := authzOK(t, authzCall(t, a, a.agencyAdmin(), authzMBuy, map[string]any{"amt": "10"}))
		authzWant(t, "buyCredits.balance.account.id", authzGet(d, "buyCredits.balance.account.id"), string(f.PoolA))
		if got, want := authzMinor(t, authzAt(a, t).balance(f.PoolA)), authzMinor(t, before)+1000; got != want {
			t.Errorf("pool balance = %d, want %d", got, want)
		}
	})
}

// ---------------------------------------------------------------- 2. tenants

type authzForeignCase struct {
	name string
	doc  string
	// ids are the variables naming the other tenant's objects; the reference
	// answer replaces each with an unknown id of the same type.
	ids   map[string]gid.ID
	extra map[string]any
	allow []auth.Role // roles that may perform the operation at all
	roles []auth.Role // roles that try it (nil: client, client_owner, agency_admin of A)
}

func TestAuthzForeignTenant(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		// Agency B: funded, with a payment and transaction, a pending and an
		// accepted post-paid request, an open and a paid invoice: a leak in
		// any mutation would succeed and show in the snapshot.
		buyB := authzBuy(t, a, f.B1, "100", creditrequest.MethodCARD)
		reqB := authzBuy(t, a, f.B1, "40", creditrequest.MethodBANK_TRANSFER).Request.ID
		postB := authzPostpaid(t, a, f.B1, "20")
		paidB := authzInvoice(t, a, f.B1, "B1-002", "5")
		if _, err := a.svc.PayInvoiceWithCredit(sys(), paidB, nil); err != nil {
			t.Fatalf("fixture: paying %s: %v", paidB, err)
		}
		// A2, the sibling of client A1 in agency A.
		buyA2 := authzBuy(t, a, f.A2, "100", creditrequest.MethodCARD)
		reqA2 := authzBuy(t, a, f.A2, "10", creditrequest.MethodBANK_TRANSFER).Request.ID
		invA2 := authzInvoice(t, a, f.A2, "A2-001", "10")
		balB1 := a.balance(f.B1) // 100 + 20 post-paid - 5 paid invoice
		cardB := authzCard(t, a, f.B1, "pm_card_visa")
		cardA1 := authzCard(t, a, f.A1, "pm_card_visa")
		cardA2 := authzCard(t, a, f.A2, "pm_card_visa")

		node := func(what string, id gid.ID, roles ...auth.Role) authzForeignCase {
			return authzForeignCase{name: "node_" + what, doc: authzQNode, ids: map[string]gid.ID{"id": id}, allow: authzAllRoles, roles: roles}
		}
		onAcc := func(op, doc string, acc gid.ID, what string, roles ...auth.Role) authzForeignCase {
			allow := authzAllRoles
			if doc == authzQBalance || doc == authzQBalances || doc == authzQServices {
				allow = authzReaders // a service key reads its agency's balances and services
			}
			return authzForeignCase{name: op + "_" + what, doc: doc, ids: map[string]gid.ID{"a": acc}, allow: allow, roles: roles}
		}
		clients := []auth.Role{authzClient, authzOwner}
		cases := []authzForeignCase{
			node("Agency_B", f.AgencyB),
			node("Account_B1", f.B1),
			node("Account_poolB", f.PoolB),
			node("CreditTransaction_B", buyB.Transaction.ID),
			node("CreditRequest_B", reqB),
			node("Invoice_B", f.InvoiceB1),
			node("Service_B", f.ServiceB),
			node("CreditPackage_B", f.PackageB),
			node("Payment_B", buyB.Payment.ID),
			onAcc("balance", authzQBalance, f.B1, "B1"),
			onAcc("balances", authzQBalances, f.B1, "B1"),
			onAcc("history", authzQHistory, f.B1, "B1"),
			onAcc("history", authzQHistory, f.PoolB, "poolB"),
			onAcc("requests", authzQRequests, f.B1, "B1"),
			onAcc("invoices", authzQInvoices, f.B1, "B1"),
			onAcc("services", authzQServices, f.B1, "B1"),
			{name: "agency_B", doc: authzQAgency, ids: map[string]gid.ID{"id": f.AgencyB}, allow: authzAllRoles},
			{name: "payInvoiceWithCredit_B_open", doc: authzMPay, ids: map[string]gid.ID{"i": f.InvoiceB1}, allow: authzAllRoles},
			{name: "payInvoiceWithCredit_B_paid", doc: authzMPay, ids: map[string]gid.ID{"i": paidB}, allow: authzAllRoles},
			{name: "buyServiceWithCredit_B_service", doc: authzMService, ids: map[string]gid.ID{"s": f.ServiceB}, extra: map[string]any{"q": 1}, allow: authzAllRoles},
			{name: "buyServiceWithCredit_B_service_on_B1", doc: authzMService, ids: map[string]gid.ID{"s": f.ServiceB, "a": f.B1}, extra: map[string]any{"q": 1}, allow: authzAllRoles},
			{name: "buyServiceWithCredit_A_service_on_B1", doc: authzMService, ids: map[string]gid.ID{"a": f.B1}, extra: map[string]any{"s": f.SMS, "q": 1}, allow: authzAllRoles},
			{name: "buyCredits_for_B1", doc: authzMBuy, ids: map[string]gid.ID{"a": f.B1}, extra: map[string]any{"amt": "10"}, allow: authzBuyers},
			{name: "buyCredits_B_package", doc: authzMBuy, ids: map[string]gid.ID{"p": f.PackageB}, allow: authzBuyers},
			{name: "approveRequest_B_pending", doc: authzMApprove, ids: map[string]gid.ID{"r": reqB}, allow: authzAdmins},
			{name: "approveRequest_B_reviewed", doc: authzMApprove, ids: map[string]gid.ID{"r": postB}, allow: authzAdmins},
			{name: "rejectRequest_B_pending", doc: authzMReject, ids: map[string]gid.ID{"r": reqB}, allow: authzAdmins},
			{name: "markRequestPaid_B_postpaid", doc: authzMMarkPaid, ids: map[string]gid.ID{"r": postB}, allow: authzAdmins},
			{name: "markRequestPaid_B_pending", doc: authzMMarkPaid, ids: map[string]gid.ID{"r": reqB}, allow: authzAdmins},
			{name: "allocateCredits_to_B1", doc: authzMAllocate, ids: map[string]gid.ID{"to": f.B1}, extra: map[string]any{"amt": "5"}, allow: authzAdmins},
			{name: "createAccount_in_B", doc: authzMAccount, ids: map[string]gid.ID{"ag": f.AgencyB}, extra: map[string]any{"n": "Intruder"}, allow: authzAdmins},
			{name: "updateAgencySettings_of_B", doc: authzMSettings, ids: map[string]gid.ID{"ag": f.AgencyB}, extra: map[string]any{"on": false}, allow: authzAdmins},
			{name: "createService_in_B", doc: authzMService2, ids: map[string]gid.ID{"ag": f.AgencyB}, extra: map[string]any{"n": "Intruder", "p": "1"}, allow: authzAdmins},
			{name: "setServiceRates_of_B_service", doc: authzMRates, ids: map[string]gid.ID{"s": f.ServiceB}, extra: map[string]any{"r": []map[string]any{{"variant": "US", "price": "0.01"}}}, allow: authzAdmins},
			{name: "createCreditPackage_in_B", doc: authzMPackage, ids: map[string]gid.ID{"ag": f.AgencyB}, extra: map[string]any{"n": "Intruder", "c": "1", "p": "1"}, allow: authzAdmins},
			{name: "createInvoice_for_B1", doc: authzMInvoice, ids: map[string]gid.ID{"a": f.B1}, extra: map[string]any{"n": "X-1", "amt": "5"}, allow: authzAdmins},
			node("Card_B", cardB, authzOwner, authzAdmin),
			onAcc("cards", authzQCards, f.B1, "B1", authzOwner, authzAdmin),
			onAcc("autoTopUps", authzQTopUps, f.B1, "B1", authzOwner, authzAdmin),
			onAcc("lowBalanceAlerts", authzQAlerts, f.B1, "B1", authzOwner, authzAdmin),
			{name: "startCardSetup_for_B1", doc: authzMCardSetup, ids: map[string]gid.ID{"a": f.B1}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "addCard_to_B1", doc: authzMAddCard, ids: map[string]gid.ID{"a": f.B1}, extra: map[string]any{"pm": "pm_card_mastercard"}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "removeCard_of_B", doc: authzMRmCard, ids: map[string]gid.ID{"c": cardB}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "setAutoTopUp_on_B1", doc: authzMSetTopUp, ids: map[string]gid.ID{"a": f.B1, "c": cardB}, allow: authzOwners, roles: []auth.Role{authzOwner, authzAdmin}},
			{name: "setAutoTopUp_on_A1_with_card_of_B", doc: authzMSetTopUp, ids: map[string]gid.ID{"c": cardB}, extra: map[string]any{"a": f.A1}, allow: authzOwners, roles: []auth.Role{authzOwner, authzAdmin}},
			{name: "setLowBalanceAlert_on_B1", doc: authzMSetAlert, ids: map[string]gid.ID{"a": f.B1}, allow: authzBuyers, roles: []auth.Role{authzOwner, authzAdmin}},
			{name: "setAutoTopUp_on_A1_with_card_of_A2", doc: authzMSetTopUp, ids: map[string]gid.ID{"c": cardA2}, extra: map[string]any{"a": f.A1}, allow: authzOwners, roles: []auth.Role{authzOwner, authzAdmin}},
			{name: "setAutoTopUp_on_A2_with_card_of_A1", doc: authzMSetTopUp, ids: map[string]gid.ID{"a": f.A2}, extra: map[string]any{"c": cardA1}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "buyCredits_on_B1_with_card_of_B", doc: authzMBuyCard, ids: map[string]gid.ID{"a": f.B1, "c": cardB}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "buyCredits_on_A1_with_card_of_B", doc: authzMBuyCard, ids: map[string]gid.ID{"c": cardB}, extra: map[string]any{"a": f.A1}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "buyCredits_on_A1_with_card_of_A2", doc: authzMBuyCard, ids: map[string]gid.ID{"c": cardA2}, extra: map[string]any{"a": f.A1}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			{name: "removeCard_of_A2", doc: authzMRmCard, ids: map[string]gid.ID{"c": cardA2}, allow: authzOwners, roles: []auth.Role{authzOwner}},
			onAcc("cards", authzQCards, f.A2, "A2", authzOwner),

			// The sibling account A2 and agency A's pool, for the client roles of A1.
			node("Account_A2", f.A2, clients...),
			node("Account_poolA", f.PoolA, clients...),
			node("Invoice_A2", invA2, clients...),
			node("CreditRequest_A2", reqA2, clients...),
			node("Payment_A2", buyA2.Payment.ID, clients...),
			node("CreditTransaction_A2", buyA2.Transaction.ID, clients...),
			onAcc("balance", authzQBalance, f.A2, "A2", clients...),
			onAcc("balance", authzQBalance, f.PoolA, "poolA", clients...),
			onAcc("balances", authzQBalances, f.A2, "A2", clients...),
			onAcc("history", authzQHistory, f.A2, "A2", clients...),
			onAcc("requests", authzQRequests, f.A2, "A2", clients...),
			onAcc("invoices", authzQInvoices, f.A2, "A2", clients...),
			onAcc("services", authzQServices, f.A2, "A2", clients...),
			{name: "payInvoiceWithCredit_A2", doc: authzMPay, ids: map[string]gid.ID{"i": invA2}, allow: authzAllRoles, roles: clients},
			{name: "buyServiceWithCredit_on_A2", doc: authzMService, ids: map[string]gid.ID{"a": f.A2}, extra: map[string]any{"s": f.SMS, "q": 1}, allow: authzAllRoles, roles: clients},
			{name: "buyCredits_for_A2", doc: authzMBuy, ids: map[string]gid.ID{"a": f.A2}, extra: map[string]any{"amt": "10"}, allow: authzBuyers, roles: clients},
		}
		count := 0
		for _, c := range cases {
			roles := c.roles
			if roles == nil {
				roles = authzTenantRoles
			}
			for _, role := range roles {
				count++
				want := "NOT_FOUND"
				if !slices.Contains(c.allow, role) {
					want = "FORBIDDEN" // the role may not do this at all, whatever the id
				}
				t.Run(string(role)+"/"+c.name, func(t *testing.T) {
					tok := authzToken(a, role)
					foreign, ghost := map[string]any{}, map[string]any{}
					for k, v := range c.extra {
						foreign[k], ghost[k] = v, v
					}
					for k, id := range c.ids {
						foreign[k], ghost[k] = id, gid.New(id.Prefix())
					}
					before := snapshot(t, a)
					r := authzCall(t, a, tok, c.doc, foreign)
					wantRefused(t, r, want)
					// No hint: exactly the answer for an id that does not exist.
					g := authzCall(t, a, tok, c.doc, ghost)
					if len(r.Errors) > 0 && len(g.Errors) > 0 &&
						(r.code() != g.code() || r.Errors[0].Message != g.Errors[0].Message) {
						t.Errorf("the other tenant's object answers %s %q, an unknown one %s %q: that tells them apart",
							r.code(), r.Errors[0].Message, g.code(), g.Errors[0].Message)
					}
					wantUnchanged(t, a, before)
				})
			}
		}
		t.Logf("%d tenant cases", count)
		// And the objects really are there: the system admin sees them.
		t.Run("system_admin/sees_them", func(t *testing.T) {
			for _, id := range []gid.ID{f.AgencyB, f.B1, buyB.Transaction.ID, reqB, f.InvoiceB1, f.ServiceB, f.PackageB, buyB.Payment.ID, invA2} {
				d := authzOK(t, authzCall(t, a, a.sysAdmin(), authzQNode, map[string]any{"id": id}))
				authzWant(t, "node.id", authzGet(d, "node.id"), string(id))
			}
			if got := authzAt(a, t).balance(f.B1); got != balB1 || got != "115.00" {
				t.Errorf("B1 balance = %s, want %s (115.00)", got, balB1)
			}
		})

		// Claims that do not match each other (an identity provider's
		// mistake) must not widen the scope: a client token whose account
		// is not a client account of its agency is refused as a whole.
		t.Run("mismatched_claims", func(t *testing.T) {
			for _, c := range []struct {
				name, tok, doc string
				vars           map[string]any
			}{
				{"client_of_A_with_account_B1/balance", a.token(authzClient, f.AgencyA, f.B1), authzQBalance, nil},
				{"client_of_A_with_account_B1/history", a.token(authzClient, f.AgencyA, f.B1), authzQHistory, nil},
				{"client_of_A_with_account_B1/payInvoiceWithCredit_B", a.token(authzClient, f.AgencyA, f.B1), authzMPay, map[string]any{"i": f.InvoiceB1}},
				{"client_of_A_with_account_B1/buyServiceWithCredit_A", a.token(authzClient, f.AgencyA, f.B1), authzMService, map[string]any{"s": f.SMS, "q": 1}},
				{"client_owner_of_B_with_account_A1/buyCredits", a.token(authzOwner, f.AgencyB, f.A1), authzMBuy, map[string]any{"amt": "10"}},
				{"client_owner_of_B_with_account_A1/payInvoiceWithCredit_A1", a.token(authzOwner, f.AgencyB, f.A1), authzMPay, map[string]any{"i": f.InvoiceA1}},
			} {
				t.Run(c.name, func(t *testing.T) {
					before := snapshot(t, a)
					wantRefused(t, authzCall(t, a, c.tok, c.doc, c.vars), "UNAUTHENTICATED")
					wantUnchanged(t, a, before)
				})
			}
		})

		// Traversing from one's own objects reaches nothing outside the
		// scope either: a client sees only its own account among the
		// agency's, and the agency's pool account is out of its scope:
		// NOT_FOUND, like node(id:) on it, not an INTERNAL error.
		for _, role := range []auth.Role{authzClient, authzOwner} {
			t.Run(string(role)+"/agency_accounts_lists_only_own", func(t *testing.T) {
				d := authzOK(t, authzCall(t, a, authzToken(a, role), `{ viewer { agency { accounts { totalCount edges { node { id } } } } } }`, nil))
				authzWant(t, "accounts", authzStrings(d, "viewer.agency.accounts.edges", "node.id"), []string{string(f.A1)})
				authzWant(t, "accounts.totalCount", authzGet(d, "viewer.agency.accounts.totalCount"), 1.0)
			})
			t.Run(string(role)+"/agency_poolAccount_is_not_found", func(t *testing.T) {
				for _, q := range []struct {
					doc  string
					vars map[string]any
				}{
					{`{ viewer { agency { poolAccount { id } } } }`, nil},
					{`query($id: ID!){ node(id: $id) { ... on Agency { poolAccount { id } } } }`, map[string]any{"id": f.AgencyA}},
					{`query($id: ID){ agency(id: $id) { poolAccount { id } } }`, map[string]any{"id": f.AgencyA}},
				} {
					r := authzCall(t, a, authzToken(a, role), q.doc, q.vars)
					if strings.Contains(string(r.Data), string(f.PoolA)) {
						t.Errorf("the pool account reached a %s: %s", role, r.Data)
					}
					if r.code() != "NOT_FOUND" {
						t.Errorf("%s reading agency A's poolAccount: want NOT_FOUND, got %q %+v", role, r.code(), r.Errors)
					}
				}
			})
		}
		t.Run("agency_admin/agency_poolAccount_is_own_pool", func(t *testing.T) {
			d := authzOK(t, authzCall(t, a, a.agencyAdmin(), `{ viewer { agency { poolAccount { id } } } }`, nil))
			authzWant(t, "poolAccount.id", authzGet(d, "viewer.agency.poolAccount.id"), string(f.PoolA))
		})
	})
}

// ---------------------------------------------------------------- 3. tokens

// authzB64 is base64url without padding, as in a JWT.
func authzB64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenRejected(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		env := authzNewEnv(t, a)
		a.fund(f.A1, "500") // a bypass of auth would be able to pay

		now := time.Now()
		sign := func(c auth.Claims) string {
			t.Helper()
			tok, err := auth.SignHS256(testSecret, c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		claims := func(mod func(*auth.Claims)) auth.Claims {
			c := auth.Claims{
				RegisteredClaims: jwt.RegisteredClaims{
					Subject:   "user-agency_admin",
					IssuedAt:  jwt.NewNumericDate(now),
					ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
				},
				Role:     auth.RoleAgencyAdmin,
				AgencyID: string(f.AgencyA),
			}
			if mod != nil {
				mod(&c)
			}
			return c
		}
		forged, err := auth.NewToken([]byte("another-secret-0123456789-0123456789"), auth.RoleSystemAdmin, "mallory", "", "", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		valid := a.client()
		parts := strings.Split(valid, ".")
		payload := map[string]any{
			"sub": "user-agency_admin", "role": "agency_admin", "agency_id": string(f.AgencyA),
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}
		sysPayload := map[string]any{"sub": "user-client", "role": "system_admin", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		none := authzB64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + authzB64(payload) + "."

		bad := []struct {
			name    string
			header  string
			present bool
		}{
			{"no_header", "", false},
			{"empty_header", "", true},
			{"bearer_without_token", "Bearer ", true},
			{"basic_scheme", "Basic dXNlcjpwYXNzd29yZA==", true},
			{"token_without_scheme", valid, true},
			{"not_a_jwt", "Bearer not-a-jwt", true},
			{"truncated_signature", "Bearer " + valid[:len(valid)-4], true},
			{"forged_other_secret", "Bearer " + forged, true},
			{"tampered_payload", "Bearer " + parts[0] + "." + authzB64(sysPayload) + "." + parts[2], true},
			{"alg_none", "Bearer " + none, true},
			{"alg_none_with_signature", "Bearer " + none + parts[2], true},
			{"expired", "Bearer " + sign(claims(func(c *auth.Claims) {
				c.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
				c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour))
			})), true},
			{"missing_exp", "Bearer " + sign(claims(func(c *auth.Claims) { c.ExpiresAt = nil })), true},
			{"unknown_role", "Bearer " + sign(claims(func(c *auth.Claims) { c.Role = "superuser" })), true},
			{"uppercase_role", "Bearer " + sign(claims(func(c *auth.Claims) { c.Role = "AGENCY_ADMIN" })), true},
			{"missing_role", "Bearer " + sign(claims(func(c *auth.Claims) { c.Role = "" })), true},
			{"missing_sub", "Bearer " + sign(claims(func(c *auth.Claims) { c.Subject = "" })), true},
			{"agency_admin_without_agency", "Bearer " + sign(claims(func(c *auth.Claims) { c.AgencyID = "" })), true},
			{"client_without_account", "Bearer " + sign(claims(func(c *auth.Claims) { c.Role = auth.RoleClient })), true},
		}
		// The control: the well-formed version of these claims is accepted.
		t.Run("control_valid_token_accepted", func(t *testing.T) {
			d := authzOK(t, authzRaw(t, a, "Bearer "+sign(claims(nil)), true, authzQViewer, nil))
			authzWant(t, "viewer.role", authzGet(d, "viewer.role"), "AGENCY_ADMIN")
		})

		ops := authzMatrixCases(a, env)
		before := snapshot(t, a)
		count := 0
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				for _, op := range ops {
					count++
					mutation := strings.HasPrefix(op.doc, "mutation")
					var snap string
					if mutation {
						snap = snapshot(t, a)
					}
					r := authzRaw(t, a, b.header, b.present, op.doc, op.vars)
					wantRefused(t, r, "UNAUTHENTICATED", op.op)
					for _, e := range r.Errors {
						if tok := strings.TrimPrefix(b.header, "Bearer "); len(tok) > 20 && strings.Contains(e.Message, tok) {
							t.Errorf("%s: the message quotes the token: %q", op.op, e.Message)
						}
					}
					if mutation {
						wantUnchanged(t, a, snap)
					}
				}
			})
		}
		t.Logf("%d rejected-token requests", count)
		wantUnchanged(t, a, before)
		if got := authzReadView(t, a, env).Status[env.Inv]; got != "OPEN" {
			t.Errorf("invoice %s is %s after rejected tokens, want OPEN", env.Inv, got)
		}

		t.Run("introspection_without_token", func(t *testing.T) {
			d := authzOK(t, authzRaw(t, a, "", false, authzTypename, nil))
			authzWant(t, "__typename", authzGet(d, "__typename"), "Query")
			d = authzOK(t, authzRaw(t, a, "", false, authzSchemaName, nil))
			authzWant(t, "__schema.queryType.name", authzGet(d, "__schema.queryType.name"), "Query")
			authzWant(t, "__schema.mutationType.name", authzGet(d, "__schema.mutationType.name"), "Mutation")
		})
		t.Run("introspection_with_rejected_token", func(t *testing.T) {
			d := authzOK(t, authzRaw(t, a, "Bearer "+forged, true, authzTypename, nil))
			authzWant(t, "__typename", authzGet(d, "__typename"), "Query")
		})
		t.Run("typename_does_not_open_a_data_field", func(t *testing.T) {
			r := authzRaw(t, a, "", false, `{ __typename node(id: "`+string(f.A1)+`") { id } }`, nil)
			if r.code() != "UNAUTHENTICATED" {
				t.Fatalf("want UNAUTHENTICATED, got %q %+v", r.code(), r.Errors)
			}
			if n := authzGet(authzData(t, r), "node"); n != nil {
				t.Errorf("node answered without a token: %v", n)
			}
		})
	})
}
