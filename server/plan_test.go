package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/graph"
)

// TestPreparedHistoryPlanAnswersAsExecutor: history documents with plain
// fields are answered by a prepared plan (graph/plan.go); every answer,
// refusals included, must be byte for byte what gqlgen's generated
// executor answers (a handler without plans), on both databases.
func TestPreparedHistoryPlanAnswersAsExecutor(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "200")
		var sink any
		rdQuery(t, a, a.client(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { transaction { id } } }`,
			map[string]any{"i": fx.InvoiceA1b}, &sink)
		rdQuery(t, a, a.client(), `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId:$s, quantity: 7}) { transaction { id } } }`,
			map[string]any{"s": fx.SMS}, &sink)
		rdQuery(t, a, a.agencyAdmin(), `mutation($to: ID!){ allocateCredits(input:{toAccountId:$to, amount:"12.34", reference:"bonus \"quoted\" <é>"}) { transaction { id } } }`,
			map[string]any{"to": fx.A1}, &sink)

		owner := &auth.Viewer{UserID: "u1", Role: auth.RoleClientOwner, AgencyID: string(fx.AgencyA), AccountID: string(fx.A1), ExpiresAt: time.Now().Add(time.Hour)}
		admin := &auth.Viewer{UserID: "u2", Role: auth.RoleAgencyAdmin, AgencyID: string(fx.AgencyA), ExpiresAt: time.Now().Add(time.Hour)}
		foreign := &auth.Viewer{UserID: "u3", Role: auth.RoleAgencyAdmin, AgencyID: string(fx.AgencyB), ExpiresAt: time.Now().Add(time.Hour)}
		service := &auth.Viewer{UserID: "u4", Role: auth.RoleService, AgencyID: string(fx.AgencyA), Scopes: auth.AllScopes, ExpiresAt: time.Now().Add(time.Hour)}

		all := `id createdAt type kind reference amount currency runningBalance variant quantity actor reason __typename`
		cases := []planCase{
			{"bench", owner, `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`, nil},
			{"every plain field", owner, `query H { history { __typename totalCount pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } edges { __typename cursor node { ` + all + ` } } } }`, nil},
			{"aliases", owner, `{ h: history(first: 2) { n: totalCount e: edges { c: cursor t: node { a: amount b: runningBalance i: id } } p: pageInfo { more: hasNextPage end: endCursor } } }`, nil},
			{"variables", owner, `query($n: Int, $after: String, $c: String) { history(first: $n, after: $after, currency: $c) { totalCount edges { cursor node { id kind } } } }`,
				map[string]any{"n": 1, "after": nil, "c": "USD"}},
			{"type filter", owner, `{ history(type: OUT) { totalCount edges { node { id type amount } } } }`, nil},
			{"admin names the account", admin, `query($a: ID) { history(accountId: $a, first: 3) { totalCount edges { node { id reference quantity } } } }`, map[string]any{"a": fx.A1}},
			{"pageInfo's cursor, no edge's", owner, `{ history(first: 2) { pageInfo { startCursor hasNextPage } edges { node { id } } } }`, nil},
			{"empty page", admin, `query($a: ID) { history(accountId: $a) { totalCount edges { node { id } } pageInfo { startCursor endCursor } } }`, map[string]any{"a": fx.A2}},
			{"too large a page", owner, `{ history(first: 500) { edges { node { id } } } }`, nil},
			{"bad cursor", owner, `{ history(after: "nope") { edges { node { id } } } }`, nil},
			{"foreign account", foreign, `query($a: ID) { history(accountId: $a) { edges { node { id } } } }`, map[string]any{"a": fx.A1}},
			{"role refused", service, `{ history { edges { node { id } } } }`, nil},
			{"I/O field: no plan", owner, `{ history(first: 2) { edges { node { id account { id } reversedBy { id } } } } }`, nil},
		}
		answersAsExecutor(t, a, cases)
	})
}

// TestPreparedBalancePlanAnswersAsExecutor: the same for balance and
// balances, the reads mobile apps make.
func TestPreparedBalancePlanAnswersAsExecutor(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "200")
		eur, half := "EUR", moneyDecimal("0.5")
		if _, err := a.svc.BuyCredits(sys(), credits.BuyCredits{AccountID: &fx.A1, Amount: &half, Currency: &eur, Method: "CARD"}); err != nil {
			t.Fatal(err)
		}

		owner := &auth.Viewer{UserID: "u1", Role: auth.RoleClientOwner, AgencyID: string(fx.AgencyA), AccountID: string(fx.A1), ExpiresAt: time.Now().Add(time.Hour)}
		admin := &auth.Viewer{UserID: "u2", Role: auth.RoleAgencyAdmin, AgencyID: string(fx.AgencyA), ExpiresAt: time.Now().Add(time.Hour)}
		foreign := &auth.Viewer{UserID: "u3", Role: auth.RoleAgencyAdmin, AgencyID: string(fx.AgencyB), ExpiresAt: time.Now().Add(time.Hour)}
		unscoped := &auth.Viewer{UserID: "u4", Role: auth.RoleService, AgencyID: string(fx.AgencyA), ExpiresAt: time.Now().Add(time.Hour)}

		all := `__typename currency available held total owed updatedAt`
		cases := []planCase{
			{"bench", owner, `{ balance { available } }`, nil},
			{"every plain field", owner, `{ balance { ` + all + ` } }`, nil},
			{"aliases", owner, `query B { b: balance(currency: "EUR") { a: available c: currency t: total } }`, nil},
			{"a currency that never moved", owner, `{ balance(currency: "GBP") { currency available held total owed } }`, nil},
			{"never moved, with its instant", owner, `{ balance(currency: "GBP") { available updatedAt } }`, nil},
			{"malformed currency", owner, `{ balance(currency: "usd!") { available } }`, nil},
			{"admin names the account", admin, `query($a: ID) { balance(accountId: $a) { available updatedAt } }`, map[string]any{"a": fx.A1}},
			{"admin without an account", admin, `{ balance { available } }`, nil},
			{"foreign account", foreign, `query($a: ID) { balance(accountId: $a) { available } }`, map[string]any{"a": fx.A1}},
			{"service without its scope", unscoped, `query($a: ID) { balance(accountId: $a) { available } }`, map[string]any{"a": fx.A1}},
			{"balances", owner, `{ balances { ` + all + ` } }`, nil},
			{"balances of a named account", admin, `query($a: ID) { bs: balances(accountId: $a) { currency available } }`, map[string]any{"a": fx.A1}},
			{"balances of an account that never moved", admin, `query($a: ID) { balances(accountId: $a) { currency available } }`, map[string]any{"a": fx.A2}},
			{"balances, foreign", foreign, `query($a: ID) { balances(accountId: $a) { available } }`, map[string]any{"a": fx.A1}},
			{"I/O field: no plan", owner, `{ balance { available account { id } runway { daysLeft } } }`, nil},
		}
		answersAsExecutor(t, a, cases)
	})
}

// planCase is a document some viewer sends.
type planCase struct {
	name   string
	viewer *auth.Viewer
	query  string
	vars   map[string]any
}

// answersAsExecutor checks that a handler with prepared plans answers
// each case byte for byte as one without (no query cache: no plans), twice
// (the second time from the plan cache).
func answersAsExecutor(t *testing.T, a *testAPI, cases []planCase) {
	t.Helper()
	limits := graph.Limits{RateLimit: noRateLimit}
	planned := graph.NewHandler(a.svc, graph.Options{Limits: limits})
	limits.QueryCacheSize = -1
	plain := graph.NewHandler(a.svc, graph.Options{Limits: limits})
	for _, c := range cases {
		for round := range 2 {
			got, want := answer(t, planned, c.viewer, c.query, c.vars), answer(t, plain, c.viewer, c.query, c.vars)
			if !bytes.Equal(got, want) {
				t.Errorf("%s (round %d):\nplan:     %s\nexecutor: %s", c.name, round, got, want)
			}
			if len(want) < 20 {
				t.Errorf("%s: answer %s", c.name, want)
			}
		}
	}
}

// answer posts query to h as v and returns the body.
func answer(t testing.TB, h http.Handler, v *auth.Viewer, query string, vars map[string]any) []byte {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	cp := *v
	req = req.WithContext(auth.NewContext(context.Background(), &cp))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Body.Bytes()
}

// BenchmarkHistoryPage measures a 50-row history page answered in process
// (no HTTP, no token) by gqlgen's generated executor and by the prepared
// plan, on PostgreSQL: the difference over the fields written is what the
// executor costs per field.
func BenchmarkHistoryPage(b *testing.B) {
	a := newAPI(b, "postgres")
	fx := a.fx
	a.fund(fx.A1, "1000")
	for range 60 {
		d := moneyDecimal("0.01")
		if _, err := a.svc.AdjustBalance(sys(), credits.Adjustment{AccountID: fx.A1, In: false, Amount: d, Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	owner := &auth.Viewer{UserID: "u1", Role: auth.RoleClientOwner, AgencyID: string(fx.AgencyA), AccountID: string(fx.A1), ExpiresAt: time.Now().Add(time.Hour)}
	const query = `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`
	for _, c := range []struct {
		name  string
		cache int
	}{{"executor", -1}, {"plan", 0}} {
		h := graph.NewHandler(a.svc, graph.Options{Limits: graph.Limits{QueryCacheSize: c.cache, RateLimit: noRateLimit}})
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if out := answer(b, h, owner, query, nil); !bytes.Contains(out, []byte(`"runningBalance"`)) {
					b.Fatalf("answer %s", out)
				}
			}
		})
	}
}
