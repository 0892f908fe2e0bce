package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/coder/websocket"

	"creditgate/dbtest"
	"creditgate/gid"
	"creditgate/graph"
)

// Query limits, persisted queries, mutation rate limits and operation
// metrics. Every refusal carries extensions.code and changes nothing.

// newLimitedAPI is a gateway with limits of the test's own (zero fields
// take the defaults; the harness's newAPI turns the rate limits off).
func newLimitedAPI(t *testing.T, kind string, l graph.Limits) *testAPI {
	t.Helper()
	return newAPIWith(t, kind, Config{Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4, GraphQL: l})
}

// eachDBLimited runs fn against a gateway with limits l on every database kind.
func eachDBLimited(t *testing.T, l graph.Limits, fn func(t *testing.T, a *testAPI)) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, newLimitedAPI(t, kind, l)) })
	}
}

// noRateLimit turns both buckets off, for tests about something else.
var noRateLimit = graph.RateLimit{SubjectRate: -1, IPRate: -1}

func wantOK(t *testing.T, r gqlResponse) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
}

// nest wraps leaf in fields, outermost first.
func nest(fields []string, leaf string) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f + " { ")
	}
	b.WriteString(leaf)
	b.WriteString(strings.Repeat(" }", len(fields)))
	return b.String()
}

// chain is viewer { account { agency { poolAccount { agency … } } } }
// with depth levels counting the leaf: single objects, so only the depth
// grows, not the cost.
func chain(depth int) string {
	fields := []string{"viewer", "account"}
	for i := 0; len(fields) < depth-1; i++ {
		fields = append(fields, []string{"agency", "poolAccount"}[i%2])
	}
	return "{ " + nest(fields, "id") + " }"
}

const spendSMS = `mutation($s: ID!, $a: ID, $k: String) { buyServiceWithCredit(input: {serviceId: $s, accountId: $a, idempotencyKey: $k}) { transaction { id } } }`

func TestLimitDepth(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.fund(a.fx.A1, "10")
	before := snapshot(t, a)

	wantOK(t, a.gql(a.agencyAdmin(), chain(12), nil))
	wantRefusedSaying(t, a.gql(a.agencyAdmin(), chain(13), nil), "BAD_USER_INPUT", "query depth 13 exceeds the limit of 12")

	// The nesting lists invite: agency → accounts → agency → accounts …
	deep := "query($g: ID!) { " + nest([]string{"agency(id: $g)", "accounts", "edges", "node", "agency", "accounts", "edges", "node", "agency", "accounts", "edges", "node", "agency", "accounts"}, "totalCount") + " }"
	wantRefusedSaying(t, a.gql(a.agencyAdmin(), deep, map[string]any{"g": a.fx.AgencyA}), "BAD_USER_INPUT", "query depth 15 exceeds the limit of 12")

	// A mutation too deep does not run.
	sel := nest([]string{"transaction", "account", "agency", "poolAccount", "agency", "poolAccount", "agency", "poolAccount", "agency", "poolAccount", "agency"}, "id")
	m := `mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { ` + sel + ` } }`
	wantRefusedSaying(t, a.gql(a.client(), m, map[string]any{"s": a.fx.SMS}), "BAD_USER_INPUT", "exceeds the limit of 12")
	wantUnchanged(t, a, before)

	// Fragments count where they are spread.
	frag := `query { ...V } fragment V on Query { viewer { ...A } } fragment A on Viewer { account { ...G } }
		fragment G on Account { agency { poolAccount { agency { poolAccount { agency { poolAccount { agency { poolAccount { agency { poolAccount { id } } } } } } } } } } }`
	wantRefusedSaying(t, a.gql(a.client(), frag, nil), "BAD_USER_INPUT", "query depth 13")

	// GraphiQL's introspection (nine nested ofType) is not a deep query.
	graphiql := introspection.Query[:strings.Index(introspection.Query, "fragment TypeRef")] +
		"fragment TypeRef on __Type { " + nest(slices.Repeat([]string{"kind name ofType"}, 9), "kind name") + " }"
	wantOK(t, a.gql("", graphiql, nil))
}

func TestLimitComplexity(t *testing.T) {
	a := newAPI(t, "sqlite")
	for range 6 {
		a.fund(a.fx.A1, "1")
	}
	before := snapshot(t, a)
	// Each history entry asks for its agency's accounts (20 a page by
	// default): first: 100 costs 100 × that. Objects count, scalars do
	// not: an account row is its edge and its node (2), a page of 20 of
	// them 1 + 20 × 2 = 41, with the agency, account, node and edge above
	// it 45 a history row.
	q := `query($a: ID!, $n: Int) { history(accountId: $a, first: $n) { edges { node { id amount account { agency { accounts { edges { node { name } } } } } } } } }`
	r := a.gql(a.agencyAdmin(), q, map[string]any{"a": a.fx.A1, "n": 100})
	wantRefusedSaying(t, r, "BAD_USER_INPUT", "complexity 4501, which exceeds the limit of 2000")

	var out struct {
		History struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	a.gql(a.agencyAdmin(), q, map[string]any{"a": a.fx.A1, "n": 5}).decode(t, &out)
	if len(out.History.Edges) != 5 {
		t.Fatalf("first: 5 answered %d edges", len(out.History.Edges))
	}
	// The boundary: 1 + 45 × 45 is over, 1 + 44 × 45 is not (the inner
	// accounts, without first, count a default page of 20).
	wantRefusedSaying(t, a.gql(a.agencyAdmin(), q, map[string]any{"a": a.fx.A1, "n": 45}), "BAD_USER_INPUT", "complexity 2026")
	wantOK(t, a.gql(a.agencyAdmin(), q, map[string]any{"a": a.fx.A1, "n": 44}))

	// A full page of plain history is fine.
	full := `query($a: ID!) { history(accountId: $a, first: 100) { edges { cursor node { id createdAt type kind reference amount currency runningBalance account { id name } } } pageInfo { hasNextPage endCursor } totalCount } }`
	wantOK(t, a.gql(a.agencyAdmin(), full, map[string]any{"a": a.fx.A1}))

	// A costly payload refuses the mutation before it runs.
	m := `mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { transaction { account { agency { accounts(first: 100) { edges { node { agency { accounts(first: 100) { totalCount } } } } } } } } } }`
	wantRefusedSaying(t, a.gql(a.client(), m, map[string]any{"s": a.fx.SMS}), "BAD_USER_INPUT", "exceeds the limit of 2000")
	wantUnchanged(t, a, before)
}

func TestLimitFields(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.fund(a.fx.A1, "10")
	before := snapshot(t, a)
	aliases := func(n int, sel string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "a%d: %s ", i, sel)
		}
		return b.String()
	}
	wantOK(t, a.gql(a.client(), "{ "+aliases(400, "__typename")+"}", nil))
	wantRefusedSaying(t, a.gql(a.client(), "{ "+aliases(600, "__typename")+"}", nil), "BAD_USER_INPUT", "selects 600 fields")

	// 600 aliased balances in a mutation's payload: refused, nothing spent.
	m := `mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } ` + aliases(600, "balance { available }") + `} }`
	wantRefusedSaying(t, a.gql(a.client(), m, map[string]any{"s": a.fx.SMS}), "BAD_USER_INPUT", "more than the limit of 500")
	// The same mutation 600 times in one operation.
	m = `mutation($s: ID!) { ` + aliases(600, "buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } }") + `}`
	wantRefusedSaying(t, a.gql(a.client(), m, map[string]any{"s": a.fx.SMS}), "BAD_USER_INPUT", "more than the limit of 500")
	wantUnchanged(t, a, before)

	// A fragment counts each time it is spread.
	frag := "{ " + aliases(300, "viewer { ...F }") + "} fragment F on Viewer { userId role }"
	wantRefusedSaying(t, a.gql(a.client(), frag, nil), "BAD_USER_INPUT", "selects 900 fields")
}

// An operation still running when its time is up is cancelled and answers
// INTERNAL saying so (with the request id), promptly; a mutation cancelled
// so moves nothing.
func TestLimitTimeout(t *testing.T) {
	// A deadline already past when the resolvers start: every database
	// call is refused at once, on both databases.
	eachDBLimited(t, graph.Limits{Timeout: time.Nanosecond, RateLimit: noRateLimit}, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "10")
		wantTimedOut(t, a.gql(a.client(), `{ balance { available } }`, nil), "1ns")
		wantTimedOut(t, a.gql(a.client(), spendSMS, map[string]any{"s": a.fx.SMS}), "1ns")
		var got string
		if err := a.db.SQL.QueryRow(`SELECT COUNT(*) FROM postings WHERE kind = 'SERVICE_PURCHASE'`).Scan(&got); err != nil || got != "0" {
			t.Fatalf("a timed-out spend posted %s transactions (%v)", got, err)
		}
	})

	// A real wait: another transaction holds A1's balance row, the spend
	// waits on the lock, and the deadline cancels the wait. (PostgreSQL
	// only: SQLite's busy wait for its database lock does not watch the
	// context; it ends at the driver's busy_timeout.)
	t.Run("postgres lock wait", func(t *testing.T) {
		a := newLimitedAPI(t, "postgres", graph.Limits{Timeout: 300 * time.Millisecond, RateLimit: noRateLimit})
		a.fund(a.fx.A1, "10")
		before := snapshot(t, a)
		release := holdBalanceLock(t, a, a.fx.A1)
		start := time.Now()
		r := a.gql(a.client(), spendSMS, map[string]any{"s": a.fx.SMS})
		took := time.Since(start)
		release()
		if took > 3*time.Second {
			t.Fatalf("the operation took %s with a 300ms timeout", took)
		}
		wantTimedOut(t, r, "300ms")
		wantUnchanged(t, a, before)
		// Unblocked, the same spend goes through in time.
		wantOK(t, a.gql(a.client(), spendSMS, map[string]any{"s": a.fx.SMS}))
	})
}

func wantTimedOut(t *testing.T, r gqlResponse, limit string) {
	t.Helper()
	wantRefused(t, r, "INTERNAL", "timed out after "+limit)
	if !strings.Contains(r.Errors[0].Message, "did not finish within "+limit) {
		t.Fatalf("message %q, want it to say it timed out after %s", r.Errors[0].Message, limit)
	}
	if id, _ := r.Errors[0].Extensions["requestId"].(string); id == "" || !strings.Contains(r.Errors[0].Message, id) {
		t.Fatalf("the timeout names no request id: %+v", r.Errors[0])
	}
}

// holdBalanceLock starts a transaction that has written A1's balance rows
// and keeps it open until release: PostgreSQL holds the rows, SQLite the
// whole database.
func holdBalanceLock(t *testing.T, a *testAPI, acc gid.ID) (release func()) {
	t.Helper()
	ctx := context.Background()
	conn, err := a.db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	begin, update := "BEGIN", "UPDATE balances SET seq = seq WHERE account_id = $1"
	if a.db.Dialect == dialect.SQLite {
		begin, update = "BEGIN IMMEDIATE", "UPDATE balances SET seq = seq WHERE account_id = ?"
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		t.Fatal(err)
	}
	res, err := conn.ExecContext(ctx, update, string(acc))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("no balance row to lock")
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "ROLLBACK")
			_ = conn.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// apq POSTs a request with the persisted-query extension; query may be "".
func (a *testAPI) apq(token, hash, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body := map[string]any{
		"variables":  vars,
		"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}},
	}
	if query != "" {
		body["query"] = query
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return a.send(req)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestPersistedQueries(t *testing.T) {
	a := newAPI(t, "sqlite")
	a.fund(a.fx.A1, "10")
	q := `query Balance { balance { available currency } }`
	h := sha(q)

	r := a.apq(a.client(), h, "", nil)
	if r.code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %+v, want PersistedQueryNotFound", r.Errors)
	}
	var first, second struct {
		Balance struct{ Available, Currency string }
	}
	a.apq(a.client(), h, q, nil).decode(t, &first)
	a.apq(a.client(), h, "", nil).decode(t, &second)
	if first.Balance.Available != "10.00" || second != first {
		t.Fatalf("hash+query answered %+v, hash alone %+v", first, second)
	}

	// A hash that is not the query's is refused.
	wantRefusedSaying(t, a.apq(a.client(), sha("something else"), q, nil), "BAD_USER_INPUT", "hash does not match")

	// A mutation by hash: unknown, nothing runs; registered, it runs.
	before := snapshot(t, a)
	hm := sha(spendSMS)
	vars := map[string]any{"s": a.fx.SMS}
	if r := a.apq(a.client(), hm, "", vars); r.code() != "PERSISTED_QUERY_NOT_FOUND" {
		t.Fatalf("unknown mutation hash: %+v", r.Errors)
	}
	wantUnchanged(t, a, before)
	wantOK(t, a.apq(a.client(), hm, spendSMS, vars))
	wantOK(t, a.apq(a.client(), hm, "", vars))
	if got := a.balance(a.fx.A1); got != "9.90" {
		t.Fatalf("balance after two spends by hash: %s, want 9.90", got)
	}
}

// limitedPost is a.gql for goroutines: it reports instead of failing.
func limitedPost(url, token, query string, vars map[string]any, header http.Header) (gqlResponse, http.Header, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return gqlResponse{}, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	out.Status = resp.StatusCode
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, resp.Header, fmt.Errorf("response %d: %s", resp.StatusCode, raw)
	}
	return out, resp.Header, nil
}

// wantRateLimited checks a refusal: RATE_LIMITED, a numeric retryAfter of
// at least a second, and the same in Retry-After.
func wantRateLimited(t *testing.T, r gqlResponse, h http.Header) {
	t.Helper()
	wantRefusedEarly(t, r, "RATE_LIMITED")
	after, ok := r.Errors[0].Extensions["retryAfter"].(float64)
	if !ok || after < 1 || after != float64(int(after)) {
		t.Fatalf("retryAfter %#v, want whole seconds ≥ 1", r.Errors[0].Extensions["retryAfter"])
	}
	if got := h.Get("Retry-After"); got != strconv.Itoa(int(after)) {
		t.Fatalf("Retry-After %q, want %v", got, after)
	}
}

// A burst of mutations with one token: the bucket's worth run, the rest
// are RATE_LIMITED and move nothing; another token is not affected, and
// queries are not limited.
func TestRateLimitPerSubject(t *testing.T) {
	eachDBLimited(t, graph.Limits{RateLimit: graph.RateLimit{SubjectRate: 0.01, SubjectBurst: 3, IPRate: -1}}, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "10")
		history := a.historyCount(t)

		const n = 10
		var wg sync.WaitGroup
		res := make([]gqlResponse, n)
		hdr := make([]http.Header, n)
		errs := make([]error, n)
		tok := a.client()
		for i := range n {
			wg.Go(func() {
				res[i], hdr[i], errs[i] = limitedPost(a.srv.URL, tok, spendSMS, map[string]any{"s": a.fx.SMS}, nil)
			})
		}
		wg.Wait()
		ok := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if len(res[i].Errors) == 0 {
				ok++
				continue
			}
			wantRateLimited(t, res[i], hdr[i])
		}
		if ok != 3 {
			t.Fatalf("%d of %d mutations ran, want the burst of 3", ok, n)
		}
		if a1, h := a.balance(a.fx.A1), a.historyCount(t); a1 != "9.85" || h != history+3 {
			t.Fatalf("after the burst: A1 %s with %d transactions, want A1 9.85 and 3 more transactions than %d", a1, h, history)
		}

		// Queries are not metered; another subject has its own bucket.
		if got := a.balance(a.fx.A1); got != "9.85" {
			t.Fatalf("balance %s", got)
		}
		wantOK(t, a.gql(a.owner(), spendSMS, map[string]any{"s": a.fx.SMS}))

		// Every root field counts: two spends with one token left are
		// refused whole, and more than a burst in one operation is never
		// allowed.
		wantOK(t, a.gql(a.owner(), spendSMS, map[string]any{"s": a.fx.SMS}))
		two := `mutation($s: ID!) { a: buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } } b: buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } } }`
		before := snapshot(t, a)
		r, h, err := limitedPost(a.srv.URL, a.owner(), two, map[string]any{"s": a.fx.SMS}, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantRateLimited(t, r, h)
		wantUnchanged(t, a, before)
		four := strings.Replace(two, "{ a:", "{ c: buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } } d: buyServiceWithCredit(input: {serviceId: $s}) { transaction { id } } a:", 1)
		wantRefusedSaying(t, a.gql(a.sysAdmin(), four, map[string]any{"s": a.fx.SMS}), "BAD_USER_INPUT", "at most 3 mutations")
		wantUnchanged(t, a, before)
	})
}

// The address has its own bucket, whichever tokens it uses; a forged
// X-Forwarded-For does not buy a new one.
func TestRateLimitPerIP(t *testing.T) {
	a := newLimitedAPI(t, "sqlite", graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: 0.01, IPBurst: 3}})
	a.fund(a.fx.A1, "10")
	vars := map[string]any{"s": a.fx.SMS, "a": a.fx.A1}
	for _, tok := range []string{a.client(), a.owner(), a.agencyAdmin()} {
		wantOK(t, a.gql(tok, spendSMS, vars))
	}
	before := snapshot(t, a)
	for _, h := range []http.Header{nil, {"X-Forwarded-For": {"203.0.113.7"}}, {"X-Real-Ip": {"203.0.113.8"}}} {
		r, hdr, err := limitedPost(a.srv.URL, a.sysAdmin(), spendSMS, vars, h)
		if err != nil {
			t.Fatal(err)
		}
		wantRateLimited(t, r, hdr)
	}
	wantUnchanged(t, a, before)
	if got := a.balance(a.fx.A1); got != "9.85" {
		t.Fatalf("A1 %s after three spends, want 9.85", got)
	}
}

// metricValue reads one sample from /metrics ("" when absent).
func metricValue(t *testing.T, a *testAPI, series string) string {
	t.Helper()
	resp, err := http.Get(a.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// metricFloat reads one sample as a number (0 when absent).
func metricFloat(t *testing.T, a *testAPI, series string) float64 {
	t.Helper()
	v := metricValue(t, a, series)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", series, v, err)
	}
	return f
}

func TestOperationMetrics(t *testing.T) {
	a := newAPI(t, "sqlite")
	purchases := `creditgate_money_moved_micro_total{currency="USD",kind="PURCHASE"}`
	services := `creditgate_money_moved_micro_total{currency="USD",kind="SERVICE_PURCHASE"}`
	movedBefore := map[string]float64{purchases: metricFloat(t, a, purchases), services: metricFloat(t, a, services)}
	a.fund(a.fx.A1, "10") // through the domain, not GraphQL: counted too
	spend := strings.Replace(spendSMS, "mutation(", "mutation Spend(", 1)
	vars := map[string]any{"s": a.fx.SMS, "k": "metrics-1"}
	wantOK(t, a.gql(a.client(), spend, vars))
	wantOK(t, a.gql(a.client(), spend, vars)) // a replay moves nothing
	vars["k"] = "metrics-2"
	wantOK(t, a.gql(a.client(), spend, vars))
	wantOK(t, a.gql(a.owner(), `mutation Buy { buyCredits(input: {amount: "12.5", method: CARD}) { status } }`, nil))
	if r := a.gql(a.client(), "query Deep "+chain(13), nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("deep query: %+v", r.Errors)
	}
	a.gql(a.client(), "{ nope", nil)

	for series, want := range map[string]string{
		`creditgate_graphql_operations_total{operation="Spend",outcome="ok",type="mutation"}`:                      "3",
		`creditgate_graphql_operations_total{operation="Deep",outcome="BAD_USER_INPUT",type="query"}`:              "1",
		`creditgate_graphql_operations_total{operation="anonymous",outcome="GRAPHQL_PARSE_FAILED",type="unknown"}`: "1",
		`creditgate_graphql_operation_seconds_count{type="mutation"}`:                                              "4",
	} {
		if got := metricValue(t, a, series); got != want {
			t.Errorf("%s = %q, want %s", series, got, want)
		}
	}
	// Money moved: the funding, two spends (not the replay) and the purchase.
	for series, want := range map[string]float64{purchases: (1000 + 1250) * 10_000, services: 10 * 10_000} {
		if got := metricFloat(t, a, series) - movedBefore[series]; got != want {
			t.Errorf("%s grew by %v, want %v", series, got, want)
		}
	}

	// Open subscriptions, by field, back to zero when the socket closes.
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.client())
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", balanceSub, nil)
	open := `creditgate_subscriptions_open{type="balanceUpdated"}`
	waitMetric(t, a, open, "1")
	c.conn.Close(websocket.StatusNormalClosure, "")
	waitMetric(t, a, open, "0")
}

func waitMetric(t *testing.T, a *testAPI, series, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := metricValue(t, a, series)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, want %s", series, got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Oversized documents are refused before gqlgen's (quadratic) validation
// runs, and a subscription sent as a plain POST is refused at once rather
// than holding the request open until an event.
func TestDocumentGuard(t *testing.T) {
	a := newAPI(t, "sqlite")
	huge := "{" + strings.Repeat(" __typename", 7000) + " }"
	start := time.Now()
	r := a.gql(a.client(), huge, nil)
	if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Errors[0].Message, "7000 fields") {
		t.Fatalf("7000 fields: %+v", r.Errors)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("refusing 7000 fields took %s: validation ran first", d)
	}
	sub := `subscription { balanceUpdated { available } }`
	wantStreamRefused(t, a, sub, "subscription over plain POST")

	// Once the same document has been parsed and cached for a stream, the
	// guard skips its parse but still refuses it as a plain POST.
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(httpGQLBody(sub, nil)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+a.client())
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE subscription: %v %v", resp, err)
	}
	cancel()
	resp.Body.Close()
	wantStreamRefused(t, a, sub, "cached subscription over plain POST")
}

// wantStreamRefused sends a subscription as a plain POST: it must be refused
// at once, not held open until an event.
func wantStreamRefused(t *testing.T, a *testAPI, sub, what string) {
	t.Helper()
	done := make(chan gqlResponse, 1)
	go func() { done <- a.gql(a.client(), sub, nil) }()
	select {
	case r := <-done:
		wantRefusedSaying(t, r, "BAD_USER_INPUT", "WebSocket", what)
	case <-time.After(5 * time.Second):
		t.Fatalf("%s hung instead of being refused", what)
	}
}
