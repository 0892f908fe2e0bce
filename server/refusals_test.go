package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent/creditrequest"
	"creditgate/graph"
)

// Refusals made before an operation runs (issue 13): they answer their
// code and "data": null on every transport, and change nothing; the cost
// model lets the pages' own documents through at 100 a page; the
// per-address limit sees through trusted proxies only; SSE streams follow
// the sockets' rules; NUL characters and length limits are input errors.

// getGQL sends a query as GET.
func (a *testAPI) getGQL(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	q := url.Values{"query": {query}}
	if vars != nil {
		b, _ := json.Marshal(vars)
		q.Set("variables", string(b))
	}
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/graphql?"+q.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

// ---------------------------------------------------------------- SSE client

type sseEvent struct {
	Event string
	Resp  result
}

type sseStream struct {
	events chan sseEvent // closed when the stream ends
	cancel context.CancelFunc
}

// openSSE starts a subscription over Server-Sent Events.
func openSSE(t *testing.T, a *testAPI, token, query string, vars map[string]any) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(httpGQLBody(query, vars)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SSE answered %d", resp.StatusCode)
	}
	s := &sseStream{events: make(chan sseEvent, 64), cancel: cancel}
	go func() {
		defer close(s.events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				_ = json.Unmarshal([]byte(strings.TrimSpace(strings.TrimPrefix(line, "data:"))), &ev.Resp)
			case line == "" && ev.Event != "":
				s.events <- ev
				ev = sseEvent{}
			}
		}
	}()
	return s
}

// next is the stream's next event; ok is false when it ended or timed out.
func (s *sseStream) next(timeout time.Duration) (sseEvent, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(timeout):
		return sseEvent{}, false
	}
}

// wantSSERefused reads a stream refused before it started: one event with
// code and "data": null, then the end.
func wantSSERefused(t *testing.T, s *sseStream, code, what string) {
	t.Helper()
	ev, ok := s.next(5 * time.Second)
	if !ok || ev.Event != "next" {
		t.Fatalf("%s: event %+v (%v), want an error", what, ev, ok)
	}
	wantRefusedEarly(t, ev.Resp.response(), code, what)
	if ev, ok := s.next(5 * time.Second); ok && ev.Event != "complete" {
		t.Fatalf("%s: then %+v, want the stream to end", what, ev)
	}
}

// ---------------------------------------------------------------- point 6

// Without a token, or with a bad one, nothing runs and the answer is the
// error with "data": null, over POST, GET, SSE and WebSocket alike; so are
// the limits' refusals.
func TestRefusalsAnswerDataNull(t *testing.T) {
	eachDBLimited(t, graph.Limits{RateLimit: graph.RateLimit{SubjectRate: 0.01, SubjectBurst: 1, IPRate: -1}}, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "10")
		before := snapshot(t, a)
		expired, err := auth.NewToken(testSecret, auth.RoleClient, "gone", string(a.fx.AgencyA), string(a.fx.A1), -time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, tok := range []string{"", "not-a-jwt", expired} {
			what := fmt.Sprintf("token %.12q", tok)
			wantRefusedEarly(t, a.gql(tok, `{ balance { available } }`, nil), "UNAUTHENTICATED", "POST balance, "+what)
			wantRefusedEarly(t, a.gql(tok, `{ viewer { userId } balance { available } history { totalCount } }`, nil), "UNAUTHENTICATED", "POST three fields, "+what)
			wantRefusedEarly(t, a.gql(tok, `{ __typename balance { available } }`, nil), "UNAUTHENTICATED", "POST __typename and balance, "+what)
			wantRefusedEarly(t, a.getGQL(tok, `{ balance { available } }`, nil), "UNAUTHENTICATED", "GET balance, "+what)
			wantRefusedEarly(t, a.gql(tok, spendSMS, map[string]any{"s": a.fx.SMS}), "UNAUTHENTICATED", "POST spend, "+what)
			wantRefusedEarly(t, a.gql(tok, `query Q { ...F } fragment F on Query { balance { available } }`, nil), "UNAUTHENTICATED", "a fragment's field, "+what)
			wantSSERefused(t, openSSE(t, a, tok, balanceSub, nil), "UNAUTHENTICATED", "SSE subscription, "+what)
		}
		// The token's own reason is the message.
		if r := a.gql(expired, `{ balance { available } }`, nil); !strings.Contains(r.Errors[0].Message, "expired") {
			t.Fatalf("expired token: %q", r.Errors[0].Message)
		}
		// Introspection alone needs no token.
		wantOK(t, a.gql("", `{ __typename }`, nil))

		// The limits' refusals: depth, fields, complexity, rate limit.
		wantRefusedEarly(t, a.gql(a.client(), chain(13), nil), "BAD_USER_INPUT", "too deep")
		wantRefusedEarly(t, a.getGQL(a.client(), chain(13), nil), "BAD_USER_INPUT", "too deep over GET")
		var many strings.Builder
		for i := range 600 {
			fmt.Fprintf(&many, "b%d: balance { available } ", i)
		}
		wantRefusedEarly(t, a.gql(a.client(), "{ "+many.String()+"}", nil), "BAD_USER_INPUT", "too many fields")
		costly := `{ history(first: 100) { edges { node { account { agency { accounts(first: 100) { edges { node { id } } } } } } } } }`
		wantRefusedEarly(t, a.gql(a.agencyAdmin(), costly, nil), "BAD_USER_INPUT", "too costly")
		wantUnchanged(t, a, before, "refusals before execution")
		history := a.historyCount(t)
		wantOK(t, a.gql(a.client(), spendSMS, map[string]any{"s": a.fx.SMS}))
		if a1, h := a.balance(a.fx.A1), a.historyCount(t); a1 != "9.95" || h != history+1 {
			t.Fatalf("the one spend that ran: A1 %s with %d transactions, want 9.95 and %d", a1, h, history+1)
		}
		before = snapshot(t, a) // with the one spend that ran
		wantRefusedEarly(t, a.gql(a.client(), spendSMS, map[string]any{"s": a.fx.SMS}), "RATE_LIMITED", "rate limited")
		wantUnchanged(t, a, before, "a rate-limited spend")

		// Over a WebSocket: an operation refused before it runs answers
		// its error and data null.
		c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
		if err != nil {
			t.Fatal(err)
		}
		deep := "subscription { balanceUpdated { " + nest([]string{"account", "agency", "poolAccount", "agency", "poolAccount", "agency", "poolAccount", "agency", "poolAccount", "agency", "poolAccount"}, "id") + " } }"
		c.subscribe("deep", deep, nil)
		r, err := c.receive("deep", 5*time.Second)
		if err != nil {
			t.Fatalf("deep subscription over WebSocket: %v", err)
		}
		wantRefusedEarly(t, r.response(), "BAD_USER_INPUT", "deep subscription over WebSocket")
		c.subscribe("nul", balanceSub, map[string]any{"c": "US\x00"})
		r, err = c.receive("nul", 5*time.Second)
		if err != nil {
			t.Fatalf("NUL in a subscription's variable: %v", err)
		}
		wantRefusedEarly(t, r.response(), "BAD_USER_INPUT", "NUL in a subscription's variable")
	})
}

// ---------------------------------------------------------------- point 7

// webDocuments are the queries the portal and the dashboard send, read
// from their sources (web/assets/js), the shared REQ selection filled in.
func webDocuments(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	reqSel := regexp.MustCompile(`const REQ = '([^']*)'`)
	doc := regexp.MustCompile("(\\w+): `(query[^`]*)`")
	for _, page := range []string{"portal", "dashboard"} {
		raw, err := os.ReadFile("../web/assets/js/" + page + ".js")
		if err != nil {
			t.Fatal(err)
		}
		src := string(raw)
		req := ""
		if m := reqSel.FindStringSubmatch(src); m != nil {
			req = m[1]
		}
		for _, m := range doc.FindAllStringSubmatch(src, -1) {
			d := strings.ReplaceAll(m[2], "${REQ}", req)
			if strings.Contains(d, "${") {
				t.Fatalf("%s.%s: unresolved %s", page, m[1], d)
			}
			docs[page+"."+m[1]] = d
		}
	}
	for _, want := range []string{"portal.history", "portal.requests", "portal.invoices", "dashboard.pending", "dashboard.accounts"} {
		if docs[want] == "" {
			t.Fatalf("no %s document found in web/assets/js (found %d)", want, len(docs))
		}
	}
	return docs
}

// The pages' own documents, at 100 a page and with one more level of
// objects under each row, are accepted and answer 100 rows; a list inside
// a page of 100 is still refused.
func TestComplexityAdmitsThePagesAtFullSize(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx, ctx := a.fx, sys()
		for i := range 100 {
			a.fund(fx.A1, "1")
			amt := moneyDecimal("5")
			ref := fmt.Sprintf("wire %d", i)
			if _, err := a.svc.BuyCredits(ctx, credits.BuyCredits{AccountID: &fx.A1, Amount: &amt, Method: creditrequest.MethodBANK_TRANSFER, Reference: &ref}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.svc.CreateInvoice(ctx, credits.NewInvoice{AccountID: fx.A1, Number: fmt.Sprintf("P-%03d", i), Amount: "3", CreditEligible: true}); err != nil {
				t.Fatal(err)
			}
		}
		// One more level of objects under each row, added after a field
		// the row selects.
		const acct, txn = ` account { id name kind }`, ` transaction { id createdAt type kind reference amount currency runningBalance }`
		deeper := map[string][2]string{
			"portal.history":     {"runningBalance", acct},
			"portal.requests":    {"rejectionReason", acct + txn},
			"portal.invoices":    {"paidAt", acct + txn},
			"dashboard.pending":  {"rejectionReason", acct + txn},
			"dashboard.recent":   {"rejectionReason", acct + txn},
			"dashboard.accounts": {"updatedAt }", " agency { id name }"},
		}
		full := regexp.MustCompile(`first: \d+`)
		for name, d := range webDocuments(t) {
			tok := a.owner()
			if strings.HasPrefix(name, "dashboard.") {
				tok = a.agencyAdmin()
			}
			variants := map[string]string{"as sent": d}
			if r, ok := deeper[name]; ok {
				if !strings.Contains(d, r[0]) {
					t.Fatalf("%s no longer selects %q: update the test", name, r[0])
				}
				variants["one level deeper"] = strings.Replace(d, r[0], r[0]+r[1], 1)
			}
			for how, d := range variants {
				d = full.ReplaceAllString(d, "first: 100")
				var vars map[string]any
				if strings.Contains(d, "$first") {
					vars = map[string]any{"first": 100}
				}
				r := a.gql(tok, d, vars)
				if len(r.Errors) > 0 {
					t.Fatalf("%s (%s, 100 a page): %+v\n%s", name, how, r.Errors, d)
				}
				// The pages of history, requests and invoices are full.
				var rows map[string]struct{ Edges []json.RawMessage }
				_ = json.Unmarshal(r.Data, &rows)
				for _, field := range []string{"history", "requests", "invoices"} {
					if c, ok := rows[field]; ok && len(c.Edges) != 100 {
						t.Fatalf("%s (%s): %s answered %d rows, want 100", name, how, field, len(c.Edges))
					}
				}
			}
		}

		// Hostile nesting is still refused: a list inside a page of 100,
		// and the pages' rows fanning out to their agency's accounts.
		before := snapshot(t, a)
		for _, q := range []string{
			`{ requests(first: 100) { edges { node { account { agency { accounts(first: 100) { edges { node { id } } } } } } } } }`,
			`{ invoices(first: 100) { edges { node { account { agency { accounts { edges { node { name } } } } } } } } }`,
			`{ agency { accounts(first: 100) { edges { node { agency { accounts(first: 100) { totalCount } } } } } } }`,
			`mutation($s: ID!) { buyServiceWithCredit(input: {serviceId: $s}) { transaction { account { agency { accounts(first: 100) { edges { node { agency { accounts(first: 100) { totalCount } } } } } } } } } }`,
		} {
			tok := a.agencyAdmin()
			if strings.HasPrefix(q, "mutation") {
				tok = a.client()
			}
			wantRefusedEarly(t, a.gql(tok, q, map[string]any{"s": fx.SMS}), "BAD_USER_INPUT", q)
		}
		wantUnchanged(t, a, before, "refused costly operations")
	})
}

// ---------------------------------------------------------------- point 8

// Behind trusted proxies the per-address bucket is the client's, found
// from the right of X-Forwarded-For (or in Forwarded); an untrusted peer's
// headers are ignored (TestRateLimitPerIP).
func TestRateLimitBehindTrustedProxy(t *testing.T) {
	cfg := Config{
		Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4,
		GraphQL:        graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: 0.01, IPBurst: 1}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")},
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			a := newAPIWith(t, kind, cfg)
			a.fund(a.fx.A1, "10")
			vars := map[string]any{"s": a.fx.SMS, "a": a.fx.A1}
			spend := func(h http.Header) (gqlResponse, http.Header) {
				t.Helper()
				r, hdr, err := limitedPost(a.srv.URL, a.sysAdmin(), spendSMS, vars, h)
				if err != nil {
					t.Fatal(err)
				}
				return r, hdr
			}
			xff := func(v string) http.Header { return http.Header{"X-Forwarded-For": {v}} }
			// Each client behind the proxy has its own bucket of one.
			for _, h := range []http.Header{
				xff("203.0.113.7"),
				xff("203.0.113.8, 10.1.2.3"), // through a second trusted proxy
				{"Forwarded": {`for=198.51.100.1;proto=https, for="10.0.0.9:443"`}},
				{"Forwarded": {`for="[2001:db8:cafe::17]:4711"`}},
				nil, // the proxy's own requests: its address
			} {
				wantOK(t, func() gqlResponse { r, _ := spend(h); return r }())
			}
			// Their second spend is refused, however the headers dress it.
			before := snapshot(t, a)
			for _, h := range []http.Header{
				xff("203.0.113.7"),
				xff("203.0.113.8"),
				xff("192.0.2.1, 203.0.113.7"), // a forged left part does not buy a bucket
				xff("203.0.113.7, 10.9.9.9, 127.0.0.1"),
				{"Forwarded": {"for=198.51.100.1"}},
				{"Forwarded": {`for="[2001:db8:cafe::99]"`}}, // the same /64
				nil,
				// A hop that does not parse ends the walk at the proxy:
				// its (spent) bucket.
				xff("unknown"),
				xff("203.0.113.50, garbage"),
				{"Forwarded": {"for=_hidden"}},
			} {
				r, hdr := spend(h)
				wantRateLimited(t, r, hdr)
			}
			wantUnchanged(t, a, before)
			// X-Forwarded-For is preferred to Forwarded when both came.
			wantOK(t, func() gqlResponse {
				r, _ := spend(http.Header{"X-Forwarded-For": {"192.0.2.99"}, "Forwarded": {"for=198.51.100.1"}})
				return r
			}())
		})
	}
}

func TestLoadConfigTrustedProxies(t *testing.T) {
	cfg, err := loadConfig(httpEnv(map[string]string{"TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,fd00::/8,::ffff:172.16.0.0/108"}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.TrustedProxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.168.1.7/32 fd00::/8 172.16.0.0/12" {
		t.Fatalf("TrustedProxies %v", got)
	}
	if cfg, _ := loadConfig(httpEnv(nil)); len(cfg.TrustedProxies) != 0 {
		t.Fatalf("default TrustedProxies %v, want none", cfg.TrustedProxies)
	}
	_, err = loadConfig(httpEnv(map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8,proxy.local,10.0.0.0/33"}))
	if err == nil || !strings.Contains(err.Error(), `TRUSTED_PROXIES entry "proxy.local"`) || !strings.Contains(err.Error(), `TRUSTED_PROXIES entry "10.0.0.0/33"`) {
		t.Fatalf("bad entries: %v", err)
	}
}

// ---------------------------------------------------------------- point 12

// An SSE stream ends when its token expires, saying so; streams count in
// the token's cap of connections with its sockets, and free their slot
// when they end.
func TestSSEFollowsTheSocketRules(t *testing.T) {
	open := `creditgate_subscriptions_open{type="balanceUpdated"}`
	eachDB(t, func(t *testing.T, a *testAPI) { // MaxConnsPerToken 3
		// Expiry: live until then, then UNAUTHENTICATED and the end.
		short, err := auth.NewToken(testSecret, auth.RoleClientOwner, "short-sse", string(a.fx.AgencyA), string(a.fx.A1), 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		s := openSSE(t, a, short, balanceSub, nil)
		waitMetric(t, a, open, "1")
		a.fund(a.fx.A1, "5")
		if ev, ok := s.next(5 * time.Second); !ok || ev.Event != "next" || !strings.Contains(string(ev.Resp.Data), "available") {
			t.Fatalf("before expiry: %+v %v, want a balance event", ev, ok)
		}
		ev, ok := s.next(10 * time.Second)
		if !ok || ev.Event != "next" {
			t.Fatalf("at expiry: %+v %v, want UNAUTHENTICATED token expired", ev, ok)
		}
		wantRefused(t, ev.Resp.response(), "UNAUTHENTICATED", "at expiry")
		if !strings.Contains(ev.Resp.Errors[0].Message, "token expired") {
			t.Fatalf("at expiry: %+v, want UNAUTHENTICATED token expired", ev)
		}
		if ev, ok := s.next(5 * time.Second); ok && ev.Event != "complete" {
			t.Fatalf("after expiry: %+v", ev)
		}
		if _, ok := s.next(5 * time.Second); ok {
			t.Fatal("the stream stayed open after its token expired")
		}
		if took := time.Since(start); took > 6*time.Second {
			t.Fatalf("the stream ended %s after opening with a 2 s token", took)
		}
		waitMetric(t, a, open, "0")

		// The cap: two streams and a socket fill the token's three slots.
		tok := a.owner()
		s1 := openSSE(t, a, tok, balanceSub, nil)
		s2 := openSSE(t, a, tok, balanceSub, nil)
		waitMetric(t, a, open, "2")
		ws, err := dialWS(t, a.srv.URL, protoTransportWS, tok)
		if err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, a)
		wantSSERefused(t, openSSE(t, a, tok, balanceSub, nil), "RATE_LIMITED", "a 4th connection as SSE")
		if _, err := dialWS(t, a.srv.URL, protoTransportWS, tok); closeStatus(err) != 4429 {
			t.Fatalf("a 4th connection as WebSocket: %v, want close 4429", err)
		}
		// Another subject is not affected; queries over SSE are not counted.
		other := openSSE(t, a, a.client(), balanceSub, nil)
		waitMetric(t, a, open, "3")
		q := openSSE(t, a, tok, `{ balance { available } }`, nil)
		if ev, ok := q.next(5 * time.Second); !ok || len(ev.Resp.Errors) > 0 {
			t.Fatalf("a query over SSE with a full cap: %+v %v", ev, ok)
		}
		wantUnchanged(t, a, before, "refused streams")

		// Closing a stream or the socket frees its slot.
		s1.cancel()
		waitMetric(t, a, open, "2")
		s3 := openSSE(t, a, tok, balanceSub, nil)
		waitMetric(t, a, open, "3")
		ws.conn.Close(websocket.StatusNormalClosure, "")
		deadline := time.Now().Add(5 * time.Second)
		for {
			c, err := dialWS(t, a.srv.URL, protoTransportWS, tok)
			if err == nil {
				c.conn.Close(websocket.StatusNormalClosure, "")
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the closed socket's slot was not freed: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		s2.cancel()
		s3.cancel()
		other.cancel()
		waitMetric(t, a, open, "0")
	})
}

// ---------------------------------------------------------------- point 13

// A NUL character in any string input is BAD_USER_INPUT before anything
// runs, on both databases (PostgreSQL refuses it in text), wherever it is:
// a variable, nested in an input object or a list, or written in the
// document.
func TestNULInStringInputs(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "100")
		before := snapshot(t, a)
		admin, owner := a.agencyAdmin(), a.owner()
		nul := "x\x00y"
		cases := []struct {
			name, token, query string
			vars               map[string]any
		}{
			{"invoice number", admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": nul, "amt": "5"}},
			{"invoice number inline", admin, `mutation($a: ID!){ createInvoice(input:{accountId:$a, number:"A\u0000B", amount:"5"}) { id } }`, map[string]any{"a": fx.A1}},
			{"currency", admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": "N-1", "amt": "5", "cur": "US\x00"}},
			{"reference", owner, `mutation($r: String){ buyCredits(input:{amount:"1", method:BANK_TRANSFER, reference:$r}) { status } }`, map[string]any{"r": nul}},
			{"idempotency key", a.client(), `mutation($k: String, $s: ID!){ buyServiceWithCredit(input:{serviceId:$s, idempotencyKey:$k}) { transaction { id } } }`, map[string]any{"k": nul, "s": fx.SMS}},
			{"whole input object", a.client(), `mutation($in: BuyServiceWithCreditInput!){ buyServiceWithCredit(input:$in) { transaction { id } } }`, map[string]any{"in": map[string]any{"serviceId": fx.SMS, "idempotencyKey": "k\x00"}}},
			{"account name", admin, `mutation($n: String!){ createAccount(input:{name:$n}) { id } }`, map[string]any{"n": nul}},
			{"service name", admin, `mutation($n: String!){ createService(input:{name:$n, price:"1"}) { id } }`, map[string]any{"n": nul}},
			{"agency name", a.sysAdmin(), `mutation($n: String!){ createAgency(input:{name:$n}) { id } }`, map[string]any{"n": nul}},
			{"an ID", a.client(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { invoice { id } } }`, map[string]any{"i": string(fx.InvoiceA1) + "\x00"}},
			{"a query's argument", owner, `query($c: String){ balance(currency: $c) { available } }`, map[string]any{"c": "USD\x00"}},
			{"a skipped field's variable", owner, `query($c: String, $d: String){ balance(currency: $c) { available } b: balance(currency: $d) @skip(if: true) { available } }`, map[string]any{"c": "USD", "d": nul}},
			{"a variable's default", owner, `query($c: String = "U\u0000"){ balance(currency: $c) { available } }`, nil},
			{"a directive's argument", owner, `query { balance { available @include(if: true) } b: balance(currency: "\u0000") @skip(if: true) { available } }`, nil},
		}
		for _, c := range cases {
			r := a.gql(c.token, c.query, c.vars)
			wantRefusedEarly(t, r, "BAD_USER_INPUT", c.name)
			if !strings.Contains(r.Errors[0].Message, "NUL") {
				t.Fatalf("%s: message %q does not say what is wrong", c.name, r.Errors[0].Message)
			}
		}
		wantUnchanged(t, a, before, "inputs with NUL")
		// Other control characters and non-ASCII text are fine.
		var inv struct{ CreateInvoice struct{ Number string } }
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": "Ünï\tcode", "amt": "5"}, &inv)
		if inv.CreateInvoice.Number != "Ünï\tcode" {
			t.Fatalf("invoice number %q", inv.CreateInvoice.Number)
		}
	})
}

// The token limit answers BAD_USER_INPUT with "data": null, as the README
// says and the other limits do, over POST and GET.
func TestTokenLimitIsBadUserInput(t *testing.T) {
	a := newAPI(t, "sqlite")
	doc := "{ " + strings.Repeat("__typename ", 16000) + "}"
	r := a.gql(a.client(), doc, nil)
	wantRefusedEarly(t, r, "BAD_USER_INPUT", "16,000 tokens over POST")
	if r.Status != http.StatusOK || !strings.Contains(r.Errors[0].Message, "15000 tokens") {
		t.Fatalf("POST: %d %+v", r.Status, r.Errors)
	}
	r = a.getGQL(a.client(), doc, nil)
	wantRefusedEarly(t, r, "BAD_USER_INPUT", "16,000 tokens over GET")
	// Under the limit, the field limit answers (and a syntax error is
	// still a parse failure).
	wantRefusedEarly(t, a.gql(a.client(), "{ "+strings.Repeat("__typename ", 14000)+"}", nil), "BAD_USER_INPUT", "14,000 fields")
	if r := a.gql(a.client(), "{ balance {", nil); r.code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("syntax error: %+v", r.Errors)
	}
}

// Length limits count characters: names of 200, invoice numbers of 100,
// references of 500 and idempotency keys of 200 characters in any script
// are accepted, one more is refused and changes nothing.
func TestLengthLimitsCountCharacters(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		admin, owner := a.agencyAdmin(), a.owner()
		a.fund(fx.A1, "100")
		before := snapshot(t, a)
		name := func(n int) string { return strings.Repeat("é", n) }   // 2 bytes each
		number := func(n int) string { return strings.Repeat("€", n) } // 3 bytes each
		key := func(n int) string { return strings.Repeat("鍵", n) }    // 3 bytes each
		refQ := `mutation($r: String){ buyCredits(input:{amount:"1", method:BANK_TRANSFER, reference:$r}) { request { reference } } }`
		keyQ := `mutation($k: String, $to: ID!){ allocateCredits(input:{toAccountId:$to, amount:"1", idempotencyKey:$k}) { transaction { id } } }`
		rejectQ := `mutation($r: ID!, $why: String){ rejectRequest(input:{requestId:$r, reason:$why}) { request { status rejectionReason } } }`

		// One character too many: refused, nothing changes.
		for _, c := range []struct {
			what, token, query string
			vars               map[string]any
		}{
			{"account name of 201", admin, `mutation($n: String!){ createAccount(input:{name:$n}) { id } }`, map[string]any{"n": name(201)}},
			{"service name of 201", admin, `mutation($n: String!){ createService(input:{name:$n, price:"1"}) { id } }`, map[string]any{"n": name(201)}},
			{"invoice number of 101", admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(101), "amt": "5"}},
			{"reference of 501", owner, refQ, map[string]any{"r": name(501)}},
			{"idempotency key of 201", admin, keyQ, map[string]any{"k": key(201), "to": fx.A1}},
		} {
			wantRefused(t, a.gql(c.token, c.query, c.vars), "BAD_USER_INPUT", c.what)
		}
		wantUnchanged(t, a, before, "over-long text")

		// At the limit: accepted, and read back whole.
		var acc struct{ CreateAccount struct{ Name string } }
		rdQuery(t, a, admin, `mutation($n: String!){ createAccount(input:{name:$n}) { name } }`, map[string]any{"n": name(200)}, &acc)
		var svc struct{ CreateService struct{ Name string } }
		rdQuery(t, a, admin, `mutation($n: String!){ createService(input:{name:$n, price:"1"}) { name } }`, map[string]any{"n": name(200)}, &svc)
		var pkg struct{ CreateCreditPackage struct{ Name string } }
		rdQuery(t, a, admin, `mutation($n: String!){ createCreditPackage(input:{name:$n, credits:"1", price:"1"}) { name } }`, map[string]any{"n": name(200)}, &pkg)
		var agency struct{ CreateAgency struct{ Name string } }
		rdQuery(t, a, a.sysAdmin(), `mutation($n: String!){ createAgency(input:{name:$n}) { name } }`, map[string]any{"n": name(200)}, &agency)
		var inv struct{ CreateInvoice struct{ Number string } }
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(100), "amt": "5"}, &inv)
		var req struct {
			BuyCredits struct {
				Request struct{ ID, Reference string }
			}
		}
		rdQuery(t, a, owner, `mutation($r: String){ buyCredits(input:{amount:"1", method:BANK_TRANSFER, reference:$r}) { request { id reference } } }`, map[string]any{"r": name(500)}, &req)
		var rej struct {
			RejectRequest struct {
				Request struct{ Status, RejectionReason string }
			}
		}
		rdQuery(t, a, admin, rejectQ, map[string]any{"r": req.BuyCredits.Request.ID, "why": number(1000)}, &rej)
		var first, again struct {
			AllocateCredits struct{ Transaction struct{ ID string } }
		}
		rdQuery(t, a, admin, keyQ, map[string]any{"k": key(200), "to": fx.A1}, &first)
		rdQuery(t, a, admin, keyQ, map[string]any{"k": key(200), "to": fx.A1}, &again)
		if acc.CreateAccount.Name != name(200) || svc.CreateService.Name != name(200) || pkg.CreateCreditPackage.Name != name(200) ||
			agency.CreateAgency.Name != name(200) || inv.CreateInvoice.Number != number(100) || req.BuyCredits.Request.Reference != name(500) ||
			rej.RejectRequest.Request.RejectionReason != number(1000) || first.AllocateCredits.Transaction.ID == "" ||
			first.AllocateCredits.Transaction.ID != again.AllocateCredits.Transaction.ID {
			t.Fatalf("text at the limit: %+v %+v %+v %+v %+v %+v %+v %+v %+v", acc, svc, pkg, agency, inv, req, rej, first, again)
		}
		var req2 struct {
			BuyCredits struct{ Request struct{ ID string } }
		}
		rdQuery(t, a, owner, `mutation{ buyCredits(input:{amount:"1", method:BANK_TRANSFER}) { request { id } } }`, nil, &req2)
		wantRefused(t, a.gql(admin, rejectQ, map[string]any{"r": req2.BuyCredits.Request.ID, "why": number(1001)}), "BAD_USER_INPUT", "rejection reason of 1001")
		var still struct{ Node struct{ Status string } }
		rdQuery(t, a, admin, `query($i: ID!){ node(id: $i) { ... on CreditRequest { status } } }`, map[string]any{"i": req2.BuyCredits.Request.ID}, &still)
		if still.Node.Status != "PENDING" {
			t.Fatalf("a refused rejection left the request %s", still.Node.Status)
		}
	})
}
