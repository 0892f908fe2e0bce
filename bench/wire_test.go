package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeGateway answers the bench's documents the way the gateway does,
// APQ included, and records every request body as it arrived.
type fakeGateway struct {
	t         *testing.T
	mu        sync.Mutex
	bodies    [][]byte
	persisted map[string]string // hash -> query
	closeNext bool              // answer the next request with Connection: close
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		g.t.Errorf("reading the request: %v", err)
		return
	}
	g.mu.Lock()
	g.bodies = append(g.bodies, raw)
	closing := g.closeNext
	g.closeNext = false
	g.mu.Unlock()
	if closing {
		w.Header().Set("Connection", "close")
	}
	if r.Method != http.MethodPost || r.URL.Path != "/graphql" || r.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
		http.Error(w, "not a GraphQL request", http.StatusBadRequest)
		return
	}
	var req struct {
		Query      string
		Variables  map[string]any
		Extensions struct {
			PersistedQuery *struct {
				Version    int
				Sha256Hash string
			}
		}
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if pq := req.Extensions.PersistedQuery; pq != nil {
		g.mu.Lock()
		if req.Query == "" {
			req.Query = g.persisted[pq.Sha256Hash]
		} else {
			g.persisted[pq.Sha256Hash] = req.Query
		}
		g.mu.Unlock()
		if req.Query == "" {
			answer(w, `{"errors":[{"message":"PersistedQueryNotFound","extensions":{"code":"PERSISTED_QUERY_NOT_FOUND"}}],"data":null}`, false)
			return
		}
	}
	switch req.Query {
	case historyQuery:
		// Longer than net/http's write buffer: sent chunked.
		nodes := make([]string, 50)
		for i := range nodes {
			nodes[i] = fmt.Sprintf(`{"node":{"id":"pst_%04d","type":"DEBIT","amount":"-0.01","runningBalance":"99.99","createdAt":"2026-12-05T21:00:00.000000Z"}}`, i)
		}
		answer(w, `{"data":{"history":{"edges":[`+strings.Join(nodes, ",")+`]}}}`, true)
	case balanceQuery:
		answer(w, `{"data":{"balance":{"available":"10.00"}}}`, false)
	case payMutation:
		switch req.Variables["i"] {
		case "inv_poor": // an error, chunked
			answer(w, `{"errors":[{"message":"insufficient credits","path":["payInvoiceWithCredit"],"extensions":{"code":"INSUFFICIENT_CREDITS"}}],"data":null}`, true)
		case "inv_nocode":
			answer(w, `{"errors":[{"message":"something"}],"data":null}`, false)
		case "inv_crash":
			http.Error(w, "internal error", http.StatusInternalServerError)
		default:
			answer(w, `{"data":{"payInvoiceWithCredit":{"transaction":{"id":"txn_1","runningBalance":"9.99"}}}}`, false)
		}
	case holdMutation:
		answer(w, `{"data":{"createHold":{"hold":{"id":"hld_7"}}}}`, false)
	case captureMutation:
		if req.Variables["h"] != "hld_7" {
			answer(w, `{"errors":[{"message":"no such hold","extensions":{"code":"NOT_FOUND"}}],"data":null}`, false)
			return
		}
		answer(w, `{"data":{"captureHold":{"transaction":{"id":"txn_2","runningBalance":"9.98"}}}}`, false)
	default:
		answer(w, `{"data":{}}`, false)
	}
}

// answer writes body as JSON; chunked sends it in two flushed parts, so
// it goes out with Transfer-Encoding: chunked.
func answer(w http.ResponseWriter, body string, chunked bool) {
	w.Header().Set("Content-Type", "application/json")
	if !chunked {
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		io.WriteString(w, body)
		return
	}
	io.WriteString(w, body[:len(body)/2])
	w.(http.Flusher).Flush()
	io.WriteString(w, body[len(body)/2:])
}

func newFake(t *testing.T, apq bool) (*env, *fakeGateway, *httptest.Server) {
	g := &fakeGateway{t: t, persisted: map[string]string{}}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	e := &env{
		url: srv.URL, apq: apq, service: "svc_1", serviceToken: "tok-service",
		hot:    &client{account: "acc_hot", token: "tok-hot"},
		spread: []*client{{account: "acc_1", token: "tok-1"}, {account: "acc_2", token: "tok-2"}},
	}
	return e, g, srv
}

func (g *fakeGateway) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]string, len(g.bodies))
	for i, b := range g.bodies {
		out[i] = string(b)
	}
	g.bodies = nil
	return out
}

// marshalled is a body as the net/http load generator built it.
func marshalled(t *testing.T, query string, vars map[string]any, withQuery, withHash bool) string {
	body := map[string]any{"variables": vars}
	if withQuery {
		body["query"] = query
	}
	if withHash {
		sum := sha256.Sum256([]byte(query))
		body["extensions"] = map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWireAPQAndErrors(t *testing.T) {
	e, g, srv := newFake(t, true)
	ctx := context.Background()
	w, err := newWireConn(ctx, e.url)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	pay := func(inv string) (string, error) {
		vars := appendString([]byte(`{"i":`), inv)
		return e.send(w, call{token: "tok-1", doc: payDoc, vars: append(vars, '}')}, nil)
	}

	// An unknown hash: the gateway asks for the query, which is sent once.
	if code, err := pay("inv_1"); code != "" || err != nil {
		t.Fatalf("first payment: %q, %v", code, err)
	}
	payVars := map[string]any{"i": "inv_1"}
	want := []string{
		marshalled(t, payMutation, payVars, false, true),
		marshalled(t, payMutation, payVars, true, true),
	}
	if got := g.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("APQ exchange:\n got %q\nwant %q", got, want)
	}
	// A known hash: sent alone.
	if code, err := pay("inv_2"); code != "" || err != nil {
		t.Fatalf("second payment: %q, %v", code, err)
	}
	if got, want := g.take(), []string{marshalled(t, payMutation, map[string]any{"i": "inv_2"}, false, true)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("known hash:\n got %q\nwant %q", got, want)
	}

	for inv, want := range map[string]string{
		"inv_poor":   "INSUFFICIENT_CREDITS", // chunked
		"inv_nocode": "unknown",
		"inv_crash":  "HTTP 500",
	} {
		if code, err := pay(inv); code != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", inv, code, err, want)
		}
	}

	// A chunked answer without errors (the 50-row history page), then a
	// short one on the same connection.
	pre := e.prebuild(scenario{op: "history"}, w.host)
	for range 2 {
		if code, err := e.send(w, call{token: e.hot.token, doc: historyDoc, pre: pre.history}, nil); code != "" || err != nil {
			t.Fatalf("history: %q, %v", code, err)
		}
	}
	if !strings.HasSuffix(string(w.body), `"createdAt":"2026-12-05T21:00:00.000000Z"}}]}}}`) || strings.Count(string(w.body), `"node"`) != 50 {
		t.Fatalf("history body: %s", w.body)
	}

	g.take()

	// The hold's id is decoded from createHold's answer and sent with
	// every capture (the fake refuses any other id).
	code, _, err := e.holdLifecycle(w, nil)
	if code != "" || err != nil {
		t.Fatalf("hold lifecycle: %q, %v", code, err)
	}
	// createHold and the first capture: hash, then query; the rest: hash.
	bodies := g.take()
	if len(bodies) != 2+2+holdCaptures-1 {
		t.Fatalf("hold lifecycle sent %d requests: %q", len(bodies), bodies)
	}
	last := bodies[len(bodies)-1]
	if want := marshalled(t, captureMutation, map[string]any{"h": "hld_7", "x": captureAmount, "f": true}, false, true); last != want {
		t.Fatalf("final capture:\n got %s\nwant %s", last, want)
	}

	// The gateway closing the connection, by Connection: close or while
	// it is idle, costs a new connection, not an error.
	g.mu.Lock()
	g.closeNext = true
	g.mu.Unlock()
	for i := range 3 {
		if code, err := pay(fmt.Sprint("inv_c", i)); code != "" || err != nil {
			t.Fatalf("after Connection: close (%d): %q, %v", i, code, err)
		}
		srv.CloseClientConnections()
	}
	if got := len(g.take()); got != 3 {
		t.Fatalf("%d requests reached the gateway for 3 payments", got)
	}

	// A gateway gone is a transport error.
	srv.Close()
	if _, err := pay("inv_gone"); err == nil {
		t.Fatal("a payment to a closed gateway succeeded")
	}
}

// The bodies are byte for byte those json.Marshal made of the same maps.
func TestWireBodiesAsMarshalled(t *testing.T) {
	for _, apq := range []bool{true, false} {
		t.Run(fmt.Sprint("apq=", apq), func(t *testing.T) {
			e, g, _ := newFake(t, apq)
			ctx := context.Background()
			w, err := newWireConn(ctx, e.url)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			e.spreadInvs = []invoiceRef{{id: "inv_1", token: "tok-1"}}
			spreadNext.Store(0)
			accountNext.Store(0)
			usageKey.Store(41)
			cases := []struct {
				sc    scenario
				query string
				vars  map[string]any
			}{
				{scenarios["pay-spread"], payMutation, map[string]any{"i": "inv_1"}},
				{scenarios["buy-service-spread"], serviceMutation, map[string]any{"s": "svc_1"}},
				{scenarios["usage-single"], usageMutation, map[string]any{"ev": []map[string]any{
					{"accountId": "acc_1", "serviceId": "svc_1", "idempotencyKey": "bench-42"},
				}}},
				{scenarios["read-balance"], balanceQuery, nil},
				{scenarios["read-history"], historyQuery, nil},
			}
			for _, c := range cases {
				accountNext.Store(0)
				call, err := e.request(c.sc, e.prebuild(c.sc, w.host), nil)
				if err != nil {
					t.Fatal(err)
				}
				g.persisted = map[string]string{} // the hash unknown: the query follows it
				if _, err := e.send(w, call, nil); err != nil {
					t.Fatal(err)
				}
				want := []string{marshalled(t, c.query, c.vars, true, false)}
				if apq {
					want = []string{marshalled(t, c.query, c.vars, false, true), marshalled(t, c.query, c.vars, true, true)}
				}
				if got := g.take(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s:\n got %q\nwant %q", c.query, got, want)
				}
			}
		})
	}
}

// Strings outside the bench's plain ASCII are escaped as json.Marshal does.
func TestAppendString(t *testing.T) {
	for _, s := range []string{"", "acc_01HX", "bench-1", "a\"b\\c", "<&>", "é\n\t"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("%q: %s, want %s", s, got, want)
		}
	}
}
