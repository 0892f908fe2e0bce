package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/gid"
)

// The agency-wide live streams (issue #18, item 4): agencyBalanceUpdated
// and agencyUpdated, over a real WebSocket.

const (
	agencyBalanceSub = `subscription($g: ID) { agencyBalanceUpdated(agencyId: $g) { available currency account { id } } }`
	agencySub        = `subscription($g: ID) { agencyUpdated(agencyId: $g) { id creditPaymentsEnabled defaultCurrency invoiceDueDays } }`
)

type agencyBalanceEvent struct {
	AgencyBalanceUpdated struct {
		Available, Currency string
		Account             struct{ ID string }
	}
}

type agencyEvent struct {
	AgencyUpdated struct {
		ID                    string
		CreditPaymentsEnabled bool
		DefaultCurrency       string
		InvoiceDueDays        int
	}
}

// waitAgencySubs waits until the broker holds this many agency-wide
// balance and settings subscriptions (registered asynchronously after the
// socket's subscribe).
func waitAgencySubs(t *testing.T, a *testAPI, balances, settings int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, s := a.broker.AgencyCounts()
		if b == balances && s == settings {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("agency subscriptions: %d balance, %d settings; want %d and %d", b, s, balances, settings)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receiveAgencyBalances reads n events of sub and returns the newest
// balance of each account.
func receiveAgencyBalances(t *testing.T, c *wsClient, sub string, n int) map[string]string {
	t.Helper()
	got := map[string]string{}
	for i := range n {
		r, err := c.receive(sub, 5*time.Second)
		var ev agencyBalanceEvent
		if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil {
			t.Fatalf("agency balance event %d/%d: %s %+v %v (so far %v)", i+1, n, r.Data, r.Errors, err, got)
		}
		got[ev.AgencyBalanceUpdated.Account.ID] = ev.AgencyBalanceUpdated.Available
	}
	return got
}

// noEvent fails if sub delivers anything within a short while.
func noEvent(t *testing.T, c *wsClient, sub, what string) {
	t.Helper()
	if r, err := c.receive(sub, 300*time.Millisecond); err != errTimeout {
		t.Fatalf("%s: received %s %+v %v", what, r.Data, r.Errors, err)
	}
}

// An agency admin's one subscription receives the changes of every account
// of its agency (clients and pool) and none of another agency's; a system
// admin names the agency.
func TestAgencyBalanceUpdated(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		admin, err := dialWS(t, a.srv.URL, protoTransportWS, a.agencyAdmin())
		if err != nil {
			t.Fatal(err)
		}
		admin.subscribe("all", agencyBalanceSub, nil)
		root, err := dialWS(t, a.srv.URL, protoTransportWS, a.sysAdmin())
		if err != nil {
			t.Fatal(err)
		}
		root.subscribe("b", agencyBalanceSub, map[string]any{"g": f.AgencyB})
		waitAgencySubs(t, a, 2, 0)

		a.fund(f.B1, "3")
		a.fund(f.A1, "5")
		a.fund(f.A2, "7")
		var alloc struct {
			AllocateCredits struct {
				Balance     struct{ Available string }
				PoolBalance struct{ Available string }
			}
		}
		a.gql(a.agencyAdmin(), `mutation($a: ID!){ allocateCredits(input:{toAccountId:$a, amount:"2"}) { balance { available } poolBalance { available } } }`,
			map[string]any{"a": f.A1}).decode(t, &alloc)

		// A1 funded and allocated to, A2 funded, the pool allocated from:
		// four changes, each with the balance it left.
		got := receiveAgencyBalances(t, admin, "all", 4)
		want := map[string]string{
			string(f.A1):    alloc.AllocateCredits.Balance.Available,
			string(f.A2):    a.balance(f.A2),
			string(f.PoolA): alloc.AllocateCredits.PoolBalance.Available,
		}
		if len(got) != len(want) {
			t.Fatalf("agency A's stream: %v, want %v (nothing of agency B's %s)", got, want, f.B1)
		}
		for acc, w := range want {
			if got[acc] != w {
				t.Fatalf("agency A's stream: %s at %s, want %s (all: %v)", acc, got[acc], w, got)
			}
		}
		noEvent(t, admin, "all", "agency A's stream after its four changes")

		if got := receiveAgencyBalances(t, root, "b", 1); len(got) != 1 || got[string(f.B1)] != a.balance(f.B1) {
			t.Fatalf("system admin's stream of agency B: %v, want only %s at %s", got, f.B1, a.balance(f.B1))
		}
		noEvent(t, root, "b", "agency B's stream after B1's change")
	})
}

// Clients may not watch the agency's balances; an agency admin may not
// watch another agency's; a system admin must name one. Nothing is
// subscribed for any of them.
func TestAgencyBalanceUpdatedRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		for _, c := range []struct {
			name, token, code string
			agency            any
		}{
			{"client owner", a.owner(), "FORBIDDEN", nil},
			{"client", a.client(), "FORBIDDEN", nil},
			{"client naming its agency", a.owner(), "FORBIDDEN", f.AgencyA},
			{"agency admin of another agency", a.agencyAdmin(), "NOT_FOUND", f.AgencyB},
			{"agency admin, unknown agency", a.agencyAdmin(), "NOT_FOUND", gid.New(gid.Agency)},
			{"system admin without agencyId", a.sysAdmin(), "BAD_USER_INPUT", nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				ws, err := dialWS(t, a.srv.URL, protoTransportWS, c.token)
				if err != nil {
					t.Fatal(err)
				}
				ws.subscribe("1", agencyBalanceSub, map[string]any{"g": c.agency})
				r, err := ws.receive("1", 5*time.Second)
				if err != nil {
					t.Fatalf("%+v %v, want %s", r, err, c.code)
				}
				wantRefused(t, r.response(), c.code, c.name)
				if b, s := a.broker.AgencyCounts(); b+s != 0 {
					t.Fatalf("refused, yet the broker holds %d agency subscriptions", b+s)
				}
				a.fund(f.A1, "1")
				if r, err := ws.receive("1", 300*time.Millisecond); err != errTimeout && err != errCompleted {
					t.Fatalf("received %+v %v after %s", r, err, c.code)
				}
			})
		}
	})
}

// The credit-payments switch flipped by an agency admin, and the billing
// terms, reach the agency's clients' agencyUpdated at once; another
// agency's client hears nothing, and may not watch agency A.
func TestAgencyUpdated(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		client, err := dialWS(t, a.srv.URL, protoTransportWS, a.client())
		if err != nil {
			t.Fatal(err)
		}
		client.subscribe("ag", agencySub, nil)
		client.subscribe("named", agencySub, map[string]any{"g": f.AgencyA})
		ownerB := a.token(auth.RoleClientOwner, f.AgencyB, f.B1)
		other, err := dialWS(t, a.srv.URL, protoTransportWS, ownerB)
		if err != nil {
			t.Fatal(err)
		}
		other.subscribe("own", agencySub, nil)
		other.subscribe("foreign", agencySub, map[string]any{"g": f.AgencyA})
		r, err := other.receive("foreign", 5*time.Second)
		if err != nil {
			t.Fatalf("another agency's agencyUpdated: %+v %v, want NOT_FOUND", r, err)
		}
		wantRefused(t, r.response(), "NOT_FOUND", "another agency's agencyUpdated")
		waitAgencySubs(t, a, 0, 3)

		next := func(sub string) agencyEvent {
			t.Helper()
			r, err := client.receive(sub, 5*time.Second)
			var ev agencyEvent
			if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil {
				t.Fatalf("agencyUpdated %s: %s %+v %v", sub, r.Data, r.Errors, err)
			}
			if ev.AgencyUpdated.ID != string(f.AgencyA) {
				t.Fatalf("agencyUpdated %s: agency %s, want %s", sub, ev.AgencyUpdated.ID, f.AgencyA)
			}
			return ev
		}
		a.gql(a.agencyAdmin(), `mutation { updateAgencySettings(input:{creditPaymentsEnabled:false}) { id } }`, nil).decode(t, &struct{}{})
		for _, sub := range []string{"ag", "named"} {
			if ev := next(sub); ev.AgencyUpdated.CreditPaymentsEnabled {
				t.Fatalf("%s after the switch was turned off: %+v", sub, ev)
			}
		}
		a.gql(a.agencyAdmin(), `mutation { updateBilling(input:{invoiceDueDays:21}) { id } }`, nil).decode(t, &struct{}{})
		if ev := next("ag"); ev.AgencyUpdated.InvoiceDueDays != 21 || ev.AgencyUpdated.CreditPaymentsEnabled {
			t.Fatalf("after updateBilling: %+v, want invoiceDueDays 21, payments off", ev)
		}
		next("named")
		a.gql(a.sysAdmin(), `mutation($g: ID!) { updateAgencySettings(input:{agencyId:$g, creditPaymentsEnabled:true}) { id } }`,
			map[string]any{"g": f.AgencyA}).decode(t, &struct{}{})
		if ev := next("ag"); !ev.AgencyUpdated.CreditPaymentsEnabled {
			t.Fatalf("after a system admin turned the switch on: %+v", ev)
		}
		next("named")
		// A billing e-mail is the account's, not a setting of the agency.
		a.gql(a.agencyAdmin(), `mutation($a: ID!) { updateBilling(input:{accountId:$a, billingEmail:"bills@example.com"}) { id } }`,
			map[string]any{"a": f.A1}).decode(t, &struct{}{})
		noEvent(t, client, "ag", "after a billing e-mail changed")
		noEvent(t, other, "own", "agency B's client after agency A's changes")
	})
}

// Two gateway processes on one PostgreSQL schema: a balance changed and
// the switch flipped through A reach the subscribers on B.
func TestAgencyStreamsOnSecondProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and starts two processes")
	}
	h, instA, instB := e2eTwoInstances(t)
	f := h.fx
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("instance A stderr:\n%s", instA.log())
			t.Logf("instance B stderr:\n%s", instB.log())
		}
	})
	admin := h.agencyAdmin()
	client := e2eToken(t, auth.RoleClient, "e2e-client-a1", f.AgencyA, f.A1)
	dash, err := dialWS(t, instB.url, protoTransportWS, admin)
	if err != nil {
		t.Fatalf("dialing B: %v", err)
	}
	dash.subscribe("bal", agencyBalanceSub, nil)
	portal, err := dialWS(t, instB.url, protoTransportWS, client)
	if err != nil {
		t.Fatalf("dialing B: %v", err)
	}
	portal.subscribe("ag", agencySub, nil)
	waitMetricAt(t, instB.url, `creditgate_subscriptions_open{type="agencyBalanceUpdated"}`, "1")
	waitMetricAt(t, instB.url, `creditgate_subscriptions_open{type="agencyUpdated"}`, "1")
	// The gauge counts a subscription just before the broker holds it.
	time.Sleep(100 * time.Millisecond)

	var out struct {
		AllocateCredits struct{ Balance struct{ Available string } }
	}
	instA.gql(t, admin, `mutation($a: ID!){ allocateCredits(input:{toAccountId:$a, amount:"4"}) { balance { available } } }`,
		map[string]any{"a": f.A2}).decode(t, &out)
	changed := time.Now()
	got := map[string]string{}
	for len(got) < 2 { // A2's and the pool's
		r, err := dash.receive("bal", 2*time.Second)
		var ev agencyBalanceEvent
		if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil {
			t.Fatalf("B's agency stream after the allocation through A: %s %+v %v (so far %v)", r.Data, r.Errors, err, got)
		}
		got[ev.AgencyBalanceUpdated.Account.ID] = ev.AgencyBalanceUpdated.Available
	}
	if got[string(f.A2)] != out.AllocateCredits.Balance.Available || got[string(f.PoolA)] == "" {
		t.Fatalf("B's agency stream: %v, want %s at %s and the pool", got, f.A2, out.AllocateCredits.Balance.Available)
	}
	t.Logf("allocation A -> B's agency stream in %v", time.Since(changed))

	instA.gql(t, admin, `mutation { updateAgencySettings(input:{creditPaymentsEnabled:false}) { id } }`, nil).decode(t, &struct{}{})
	flipped := time.Now()
	r, err := portal.receive("ag", 2*time.Second)
	var ev agencyEvent
	if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil || ev.AgencyUpdated.CreditPaymentsEnabled || ev.AgencyUpdated.ID != string(f.AgencyA) {
		t.Fatalf("B's client after the switch was turned off through A: %s %+v %v", r.Data, r.Errors, err)
	}
	t.Logf("switch A -> B's portal in %v", time.Since(flipped))
	instA.alive(t)
	instB.alive(t)
}

// metricAt is one series of a gateway's /metrics at base, or "".
func metricAt(t *testing.T, base, series string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body); m != nil {
		return string(m[1])
	}
	return ""
}

// waitMetricAt waits until a gateway's /metrics shows series at want.
func waitMetricAt(t *testing.T, base, series, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for metricAt(t, base, series) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s at %s never reached %s", series, base, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The agency streams follow balanceUpdated's rules: over Server-Sent Events
// too, ending with UNAUTHENTICATED when the token expires (its slot freed),
// and counted against the socket's cap of subscriptions.
func TestAgencyStreamsExpiryAndCap(t *testing.T) {
	open := `creditgate_subscriptions_open{type="agencyBalanceUpdated"}`
	eachDB(t, func(t *testing.T, a *testAPI) {
		short, err := auth.NewToken(testSecret, auth.RoleAgencyAdmin, "short-dashboard", string(a.fx.AgencyA), "", 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		s := openSSE(t, a, short, agencyBalanceSub, nil)
		waitMetric(t, a, open, "1")
		waitAgencySubs(t, a, 1, 0)
		a.fund(a.fx.A2, "6")
		ev, ok := s.next(5 * time.Second)
		var got agencyBalanceEvent
		if !ok || ev.Event != "next" || json.Unmarshal(ev.Resp.Data, &got) != nil || got.AgencyBalanceUpdated.Account.ID != string(a.fx.A2) {
			t.Fatalf("over SSE: %+v %v, want A2's balance", ev, ok)
		}
		ev, ok = s.next(10 * time.Second)
		if !ok || ev.Event != "next" {
			t.Fatalf("at expiry: %+v %v, want UNAUTHENTICATED", ev, ok)
		}
		wantRefused(t, ev.Resp.response(), "UNAUTHENTICATED", "at expiry")
		waitMetric(t, a, open, "0")
		waitAgencySubs(t, a, 0, 0)

		c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner()) // 4 subscriptions per socket here
		if err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			c.subscribe(string(rune('a'+i)), agencySub, nil)
		}
		waitAgencySubs(t, a, 0, 4)
		c.subscribe("e", agencySub, nil)
		r, err := c.receive("e", 5*time.Second)
		if err != nil {
			t.Fatalf("5th subscription: %+v %v, want RATE_LIMITED", r, err)
		}
		wantRefused(t, r.response(), "RATE_LIMITED", "5th subscription")
		if _, s := a.broker.AgencyCounts(); s != 4 {
			t.Fatalf("%d agencyUpdated subscriptions after the refused 5th, want 4", s)
		}
	})
}

// After the listener's connection drops, what agency streams watch is
// re-read: the dashboard ends with the latest balance and the portal with
// the latest settings, whatever was announced while the listener was away.
func TestAgencyStreamsResyncAfterListenerReconnect(t *testing.T) {
	a := newAPI(t, "postgres")
	dash, err := dialWS(t, a.srv.URL, protoTransportWS, a.agencyAdmin())
	if err != nil {
		t.Fatal(err)
	}
	dash.subscribe("bal", agencyBalanceSub, nil)
	portal, err := dialWS(t, a.srv.URL, protoTransportWS, a.client())
	if err != nil {
		t.Fatal(err)
	}
	portal.subscribe("ag", agencySub, nil)
	waitAgencySubs(t, a, 1, 1)
	app := "listener_" + searchPath(t, a.db.DSN)
	var killed int
	if err := a.db.SQL.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the listener: killed %d, %v", killed, err)
	}
	a.fund(a.fx.A2, "4.56") // committed while the listener may be away
	a.gql(a.agencyAdmin(), `mutation { updateAgencySettings(input:{creditPaymentsEnabled:false}) { id } }`, nil).decode(t, &struct{}{})
	want := a.balance(a.fx.A2)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := dash.receive("bal", time.Until(deadline))
		if err != nil {
			t.Fatalf("the dashboard never received A2's latest balance %s: %v", want, err)
		}
		var ev agencyBalanceEvent
		if json.Unmarshal(r.Data, &ev) == nil && ev.AgencyBalanceUpdated.Account.ID == string(a.fx.A2) && ev.AgencyBalanceUpdated.Available == want {
			break
		}
	}
	for {
		r, err := portal.receive("ag", time.Until(deadline))
		if err != nil {
			t.Fatalf("the portal never heard the switch turned off: %v", err)
		}
		var ev agencyEvent
		if json.Unmarshal(r.Data, &ev) == nil && !ev.AgencyUpdated.CreditPaymentsEnabled {
			break
		}
	}
	if a.resyncs.Load() == 0 {
		t.Fatal("the listener never re-read after its connection was killed")
	}
}
