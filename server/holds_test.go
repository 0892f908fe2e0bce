package main

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"creditgate/auth"
)

const (
	holdMCreate = `mutation($a: ID!, $amt: Decimal, $k: String) { createHold(input: { accountId: $a, amount: $amt, idempotencyKey: $k }) {
		hold { id status amount captured remaining } balance { available held total } } }`
	holdMCapture = `mutation($h: ID!, $amt: Decimal, $f: Boolean) { captureHold(input: { holdId: $h, amount: $amt, final: $f }) {
		hold { status captured remaining } transaction { kind type amount runningBalance hold { id } } balance { available held total } } }`
	holdMRelease = `mutation($h: ID!) { releaseHold(input: { holdId: $h }) { hold { status remaining } balance { available held total } } }`
	holdQList    = `query($a: ID) { holds(accountId: $a) { totalCount edges { node { id status account { id } transactions { amount } } } } }`
	holdQHistory = `query($a: ID) { history(accountId: $a) { totalCount edges { node { kind amount runningBalance } } } }`
)

// Holds over the API: who may, what each move does to available, held and
// total, the history (captures only, chained on total), and refusals that
// change nothing, on both databases; verify clean at the end.
func TestHoldsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "10")
		a.fund(f.B1, "10")
		svc := keyOf(a, f.AgencyA, auth.ScopeHoldsWrite, auth.ScopeBalancesRead)
		d := authzOK(t, authzCall(t, a, svc, holdMCreate, map[string]any{"a": f.A1, "amt": "4", "k": "hold-1"}))
		authzWant(t, "balance after createHold", authzGet(d, "createHold.balance"), map[string]any{"available": "6.00", "held": "4.00", "total": "10.00"})
		authzWant(t, "hold", authzGet(d, "createHold.hold.remaining"), "4.00")
		hid := authzGet(d, "createHold.hold.id")
		again := authzOK(t, authzCall(t, a, svc, holdMCreate, map[string]any{"a": f.A1, "amt": "4", "k": "hold-1"}))
		authzWant(t, "replayed hold", authzGet(again, "createHold.hold.id"), hid)

		// The keys the refusals use, made and used once (lastUsedAt) first.
		readOnly, writeOnly := keyOf(a, f.AgencyA, auth.ScopeBalancesRead), keyOf(a, f.AgencyA, auth.ScopeHoldsWrite)
		authzOK(t, authzCall(t, a, readOnly, holdQList, map[string]any{"a": f.A1}))
		wantRefused(t, authzCall(t, a, writeOnly, holdQList, map[string]any{"a": f.A1}), "FORBIDDEN")
		before := snapshot(t, a)
		for _, c := range []struct {
			name, token, doc, code string
			vars                   map[string]any
		}{
			{"client", a.client(), holdMCreate, "FORBIDDEN", map[string]any{"a": f.A1, "amt": "1"}},
			{"owner", a.owner(), holdMRelease, "FORBIDDEN", map[string]any{"h": hid}},
			{"no HOLDS_WRITE", readOnly, holdMCapture, "FORBIDDEN", map[string]any{"h": hid}},
			{"no BALANCES_READ", writeOnly, holdQList, "FORBIDDEN", map[string]any{"a": f.A1}},
			{"other agency's account", svc, holdMCreate, "NOT_FOUND", map[string]any{"a": f.B1, "amt": "1"}},
			{"other agency's admin", a.token(auth.RoleAgencyAdmin, f.AgencyB, ""), holdMRelease, "NOT_FOUND", map[string]any{"h": hid}},
			{"more than available", svc, holdMCreate, "INSUFFICIENT_CREDITS", map[string]any{"a": f.A1, "amt": "6.01"}},
			{"more than remains", svc, holdMCapture, "INSUFFICIENT_CREDITS", map[string]any{"h": hid, "amt": "4.000001"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				wantRefused(t, authzCall(t, a, c.token, c.doc, c.vars), c.code)
			})
		}
		wantUnchanged(t, a, before, "refused hold operations")

		// A payment that would need the held credits is refused.
		r := a.gql(a.client(), `mutation($i: ID!) { payInvoiceWithCredit(input: { invoiceId: $i }) { balance { available } } }`, map[string]any{"i": f.InvoiceA1b})
		wantRefused(t, r, "INSUFFICIENT_CREDITS")
		wantUnchanged(t, a, before, "a payment that needs held credits")

		d = authzOK(t, authzCall(t, a, svc, holdMCapture, map[string]any{"h": hid, "amt": "1.5", "f": false}))
		authzWant(t, "partial capture", authzGet(d, "captureHold.transaction"), map[string]any{
			"kind": "USAGE", "type": "OUT", "amount": "1.50", "runningBalance": "8.50", "hold": map[string]any{"id": hid}})
		authzWant(t, "after a partial capture", authzGet(d, "captureHold.balance"), map[string]any{"available": "6.00", "held": "2.50", "total": "8.50"})
		authzWant(t, "hold after a partial capture", authzGet(d, "captureHold.hold"), map[string]any{"status": "ACTIVE", "captured": "1.50", "remaining": "2.50"})

		d = authzOK(t, authzCall(t, a, a.agencyAdmin(), holdMRelease, map[string]any{"h": hid}))
		authzWant(t, "release", authzGet(d, "releaseHold"), map[string]any{
			"hold": map[string]any{"status": "RELEASED", "remaining": "0.00"}, "balance": map[string]any{"available": "8.50", "held": "0.00", "total": "8.50"}})
		before = snapshot(t, a)
		wantRefused(t, authzCall(t, a, svc, holdMRelease, map[string]any{"h": hid}), "CONFLICT")
		wantRefused(t, authzCall(t, a, svc, holdMCapture, map[string]any{"h": hid, "amt": "0.5"}), "CONFLICT")
		wantUnchanged(t, a, before, "moves of a released hold")

		// The client reads its holds and a history of captures only.
		d = authzOK(t, authzCall(t, a, a.client(), holdQList, nil))
		authzWant(t, "holds total", authzGet(d, "holds.totalCount"), float64(1))
		authzWant(t, "its captures", authzGet(d, "holds.edges.0.node.transactions"), []any{map[string]any{"amount": "1.50"}})
		d = authzOK(t, authzCall(t, a, a.client(), holdQHistory, nil))
		authzWant(t, "history", authzGet(d, "history.edges"), []any{
			map[string]any{"node": map[string]any{"kind": "USAGE", "amount": "1.50", "runningBalance": "8.50"}},
			map[string]any{"node": map[string]any{"kind": "PURCHASE", "amount": "10.00", "runningBalance": "10.00"}},
		})
		if err := a.svc.Verify(context.Background(), io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}

// balanceUpdated fires on every hold move (available, held and total),
// on any instance (PostgreSQL: announced in the move's statement).
func TestHoldsLive(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "10")
		c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		c.subscribe("1", `subscription { balanceUpdated { available held total } }`, nil)
		waitSubscribed(t, a, 1)
		next := func(want string) {
			t.Helper()
			ev, err := c.receive("1", 5*time.Second)
			if err != nil {
				t.Fatalf("event: %v", err)
			}
			var got struct {
				BalanceUpdated struct{ Available, Held, Total string }
			}
			if err := json.Unmarshal(ev.Data, &got); err != nil || len(ev.Errors) > 0 {
				t.Fatalf("event: %s %v %v", ev.Data, ev.Errors, err)
			}
			if b := got.BalanceUpdated; b.Available+"/"+b.Held+"/"+b.Total != want {
				t.Fatalf("event %+v, want available/held/total %s", b, want)
			}
		}
		d := authzOK(t, authzCall(t, a, a.sysAdmin(), holdMCreate, map[string]any{"a": a.fx.A1, "amt": "3"}))
		next("7.00/3.00/10.00")
		hid := authzGet(d, "createHold.hold.id")
		authzOK(t, authzCall(t, a, a.sysAdmin(), holdMCapture, map[string]any{"h": hid, "amt": "1", "f": false}))
		next("7.00/2.00/9.00")
		authzOK(t, authzCall(t, a, a.sysAdmin(), holdMRelease, map[string]any{"h": hid}))
		next("9.00/0.00/9.00")
	})
}
