package main

import (
	"encoding/json"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Subscriptions over the gateway's WebSocket transport (graph/ws.go), the
// graphql-transport-ws side of the protocol that needs a real schema and
// database; the handshake and keep-alives are tested in graph/ws_test.go.

// A second subscribe under an id still open closes the socket with 4409,
// as graphql-transport-ws says.
func TestWSDuplicateSubscriptionID(t *testing.T) {
	a := newAPI(t, "sqlite")
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", balanceSub, nil)
	waitSubscribed(t, a, 1)
	c.subscribe("1", balanceSub, nil)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		t.Fatal("socket still open after a duplicate subscription id")
	}
	if code := closeStatus(c.err); code != 4409 {
		t.Fatalf("close status %d (%v), want 4409", code, c.err)
	}
	waitSubscribed0(t, a) // closing the socket ended its subscription
}

// complete from the client ends the subscription (its broker entry and
// socket slot are freed, nothing more is sent for it), and its id may be
// used again.
func TestWSCompleteFromClient(t *testing.T) {
	a := newAPI(t, "sqlite") // MaxSubsPerConn 4
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 { // more than the cap: each slot is freed by complete
		c.subscribe("s", balanceSub, nil)
		waitSubscribed(t, a, 1)
		c.send(wsMsg{ID: "s", Type: "complete"})
		waitSubscribed0(t, a)
		if i == 0 {
			a.fund(a.fx.A1, "1")
			if r, err := c.receive("s", 300*time.Millisecond); err != errTimeout {
				t.Fatalf("after complete: %+v %v, want nothing", r, err)
			}
		}
	}
	c.subscribe("s", balanceSub, nil)
	waitSubscribed(t, a, 1)
	a.fund(a.fx.A1, "2")
	r, err := c.receive("s", 5*time.Second)
	var ev balanceEvent
	if err != nil || json.Unmarshal(r.Data, &ev) != nil || ev.BalanceUpdated.Available != a.balance(a.fx.A1) {
		t.Fatalf("reused id: %s %v", r.Data, err)
	}
}

// A stream the server ends is completed: a subscription refused by its
// resolver answers its errors (next) and then complete; one over the
// socket's cap says RATE_LIMITED; the socket stays usable.
func TestWSServerSideCompletion(t *testing.T) {
	a := newAPI(t, "sqlite") // MaxSubsPerConn 4
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("foreign", balanceSub, map[string]any{"a": a.fx.B1})
	r, err := c.receive("foreign", 5*time.Second)
	if err != nil || r.code() != "NOT_FOUND" {
		t.Fatalf("foreign account: %+v %v, want NOT_FOUND", r, err)
	}
	if _, err := c.receive("foreign", 5*time.Second); err != errCompleted {
		t.Fatalf("after the error: %v, want complete", err)
	}
	for i := range 4 {
		c.subscribe(string(rune('a'+i)), balanceSub, nil)
	}
	waitSubscribed(t, a, 4)
	c.subscribe("over", balanceSub, nil)
	if r, err := c.receive("over", 5*time.Second); err != nil || r.code() != "RATE_LIMITED" {
		t.Fatalf("5th subscription: %+v %v, want RATE_LIMITED", r, err)
	}
	if _, err := c.receive("over", 5*time.Second); err != errCompleted {
		t.Fatalf("after RATE_LIMITED: %v, want complete", err)
	}
	a.fund(a.fx.A1, "3")
	for i := range 4 {
		if r, err := c.receive(string(rune('a'+i)), 5*time.Second); err != nil || len(r.Errors) > 0 {
			t.Fatalf("subscription %d after the refusals: %+v %v", i, r, err)
		}
	}
}

// Balance subscriptions hold no goroutine: a socket costs its reading
// goroutine, whatever it subscribes to.
func TestWSNoGoroutinePerSubscription(t *testing.T) {
	a := newAPI(t, "sqlite") // MaxSubsPerConn 4
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("warm", balanceSub, nil)
	waitSubscribed(t, a, 1)
	before := stableGoroutines()
	for _, id := range []string{"1", "2", "3"} {
		c.subscribe(id, balanceSub, nil)
	}
	waitSubscribed(t, a, 4)
	if n := settledGoroutines(before); n > before {
		t.Fatalf("%d goroutines with 4 subscriptions, %d with 1", n, before)
	}
	a.fund(a.fx.A1, "1")
	for _, id := range []string{"warm", "1", "2", "3"} {
		if _, err := c.receive(id, 5*time.Second); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	c.conn.Close(websocket.StatusNormalClosure, "")
	waitSubscribed0(t, a)
}

// stableGoroutines is the goroutine count once it has not changed for
// 200 ms (or after 3 s).
func stableGoroutines() int {
	deadline := time.Now().Add(3 * time.Second)
	n, since := runtime.NumGoroutine(), time.Now()
	for time.Since(since) < 200*time.Millisecond && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		if m := runtime.NumGoroutine(); m != n {
			n, since = m, time.Now()
		}
	}
	return n
}

// settledGoroutines waits (up to 3 s) for the goroutine count to come down
// to want, and returns it.
func settledGoroutines(want int) int {
	deadline := time.Now().Add(3 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitSubscribed0 waits until the broker has no balance subscription.
func waitSubscribed0(t *testing.T, a *testAPI) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := a.broker.Counts(); b == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("balance subscriptions still registered")
}
