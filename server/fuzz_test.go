package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/graph"
)

// FuzzGraphQLHandler feeds arbitrary documents and variables, as JSON
// POSTs, GETs and raw bodies, through the whole HTTP handler (routes(): the
// middleware, auth with a client token, GraphQL, the domain, SQLite) and
// checks that nothing panics, nothing answers 5xx or INTERNAL, every answer
// is JSON whose errors all carry extensions.code, nothing is logged at
// Error, and whatever a mutation did leaves the ledger's invariants intact.
//
//	go test ./server -run '^$' -fuzz FuzzGraphQLHandler -fuzztime 10s
func FuzzGraphQLHandler(f *testing.F) {
	a := newAPI(f, "sqlite")
	a.fund(a.fx.A1, "500")
	errs := &fuzzErrorLog{}
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	sockets := graph.NewSockets()
	f.Cleanup(sockets.CloseAll)
	h := routes(Config{Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4}, a.db, a.svc, verifier, sockets, slog.New(errs))
	token := a.client()

	vars := func(m map[string]any) string { b, _ := json.Marshal(m); return string(b) }
	deep := strings.Repeat("{ node(id: \"x\") ", 200) + strings.Repeat("}", 200)
	for _, s := range []struct {
		mode        uint8
		query, vars string
	}{
		{0, `{ balance { available currency } }`, `{}`},
		{0, `query($n: Int){ history(first: $n) { totalCount edges { node { amount runningBalance } } } }`, `{"n": 5}`},
		{1, `{ services { name price buyWithCredit { available reason } } }`, ``},
		{0, `{ invoices(status: OPEN) { edges { node { id number amount } } } }`, `null`},
		{0, `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { invoice { status } balance { available } } }`, vars(map[string]any{"i": a.fx.InvoiceA1b})},
		{0, `mutation($s: ID!, $q: Int!){ buyServiceWithCredit(input:{serviceId: $s, quantity: $q}) { balance { available } } }`, vars(map[string]any{"s": a.fx.SMS, "q": 3})},
		{0, `mutation($s: ID!, $q: Int!){ buyServiceWithCredit(input:{serviceId: $s, quantity: $q}) { balance { available } } }`, `{"s": "svc_x", "q": 9223372036854775807}`},
		{0, `mutation { buyCredits(input:{amount: "1e3", method: CARD}) { status } }`, `{}`},
		{0, `mutation($k: String){ payInvoiceWithCredit(input:{invoiceId: "inv_", idempotencyKey: $k}) { invoice { id } } }`, `{"k": "\u0000"}`},
		{1, `mutation { buyCredits(input:{amount: "5", method: CARD}) { status } }`, `{}`},
		{0, `{ node(id: "acc_AAAA") { id ... on Account { name } } }`, `{`},
		{0, `{ balance { available } }`, `{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`},
		{0, `{ __typename }`, `"not an object"`},
		{0, `{ __schema { types { name fields { name } } } }`, `{}`},
		{0, deep, `{}`},
		{0, strings.Repeat("{", 5000), `{}`},
		{0, `query { ` + strings.Repeat("a: __typename ", 2000) + `}`, `{}`},
		{2, `{"query": "{ balance { available } }", "variables": {"x": 1e400}}`, ``},
		{2, `{"query": `, ``},
		{2, `[{"query": "{ __typename }"}]`, ``},
		{2, ``, ``},
		{0, "{ balance(currency: \"\xff\xfe\") { available } }", `{}`},
		{0, `query Q { a: __typename } query Q { b: __typename }`, `{}`},
		{0, `fragment F on Query { ...F } { ...F }`, `{}`},
	} {
		f.Add(s.mode, s.query, s.vars)
	}

	f.Fuzz(func(t *testing.T, mode uint8, query, vars string) {
		var req *http.Request
		switch mode % 3 {
		case 0: // a JSON POST whose variables are spliced in raw (malformed JSON included)
			q, _ := json.Marshal(query)
			body := `{"query":` + string(q)
			if vars != "" {
				body += `,"variables":` + vars
			}
			body += "}"
			req = httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		case 1: // GET
			v := url.Values{"query": {query}}
			if vars != "" {
				v.Set("variables", vars)
			}
			req = httptest.NewRequest(http.MethodGet, "/graphql?"+v.Encode(), nil)
		case 2: // a raw JSON body
			req = httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(query)))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		// A subscription sent as a plain POST waits for its first event;
		// the deadline ends it.
		ctx, cancel := context.WithTimeout(req.Context(), 3*time.Second)
		defer cancel()
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req.WithContext(ctx))

		body := rr.Body.String()
		if rr.Code >= 500 {
			t.Fatalf("status %d for mode %d query %q vars %q: %s", rr.Code, mode%3, query, vars, body)
		}
		if ctx.Err() == nil {
			if strings.Contains(body, `"code":"INTERNAL"`) {
				t.Fatalf("INTERNAL for mode %d query %q vars %q: %s", mode%3, query, vars, body)
			}
			if e := errs.take(); e != "" {
				t.Fatalf("logged at Error for mode %d query %q vars %q: %s", mode%3, query, vars, e)
			}
		}
		errs.take()
		// Every error carries extensions.code (the contract), refusals made
		// before GraphQL included.
		var out struct {
			Errors []struct {
				Message    string
				Extensions map[string]any
			}
		}
		if err := json.Unmarshal(rr.Body.Bytes(), &out); err != nil && ctx.Err() == nil {
			t.Fatalf("status %d, body not JSON for mode %d query %q vars %q: %q", rr.Code, mode%3, query, vars, body)
		}
		for _, e := range out.Errors {
			if c, _ := e.Extensions["code"].(string); c == "" {
				t.Fatalf("error without a code for mode %d query %q vars %q: %s", mode%3, query, vars, body)
			}
		}
		if strings.Contains(strings.ToLower(query), "mutation") {
			if err := a.svc.Verify(context.Background(), io.Discard); err != nil {
				t.Fatalf("ledger broken after mode %d query %q vars %q: %v", mode%3, query, vars, err)
			}
		}
	})
}

// fuzzErrorLog is a slog.Handler that keeps records at Error and above.
type fuzzErrorLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *fuzzErrorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }

func (l *fuzzErrorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		l.buf.WriteString(" " + a.String())
		return true
	})
	l.buf.WriteString("\n")
	return nil
}

func (l *fuzzErrorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *fuzzErrorLog) WithGroup(string) slog.Handler      { return l }

// take returns what was logged since the last call.
func (l *fuzzErrorLog) take() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	l.buf.Reset()
	return s
}
