package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditgate/auth"
)

const balanceSub = `subscription($a: ID, $c: String) { balanceUpdated(accountId: $a, currency: $c) { available currency account { id } } }`

type balanceEvent struct {
	BalanceUpdated struct {
		Available, Currency string
		Account             struct{ ID string }
	}
}

// Subscribe over each protocol, change the balance over HTTP, receive the
// balance after that commit, in order.
func TestLiveBalanceBothProtocols(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		for _, proto := range []string{protoTransportWS, protoLegacyWS} {
			t.Run(proto, func(t *testing.T) {
				c, err := dialWS(t, a.srv.URL, proto, a.owner())
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				c.subscribe("1", balanceSub, nil)
				waitSubscribed(t, a, 1)
				before := a.balance(a.fx.A1)
				for i, amount := range []string{"5", "7.25"} {
					r := a.gql(a.owner(), `mutation($x: Decimal!){ buyCredits(input:{amount:$x, method:CARD}) { status balance { available } } }`, map[string]any{"x": amount})
					var out struct {
						BuyCredits struct{ Balance struct{ Available string } }
					}
					r.decode(t, &out)
					ev, err := c.receive("1", 5*time.Second)
					if err != nil {
						t.Fatalf("event %d: %v", i, err)
					}
					var got balanceEvent
					if err := json.Unmarshal(ev.Data, &got); err != nil || len(ev.Errors) > 0 {
						t.Fatalf("event %d: %s %v %v", i, ev.Data, ev.Errors, err)
					}
					if got.BalanceUpdated.Available != out.BuyCredits.Balance.Available || got.BalanceUpdated.Account.ID != string(a.fx.A1) {
						t.Fatalf("event %d = %+v, want balance %s of %s (was %s)", i, got, out.BuyCredits.Balance.Available, a.fx.A1, before)
					}
				}
			})
		}
	})
}

// waitSubscribed waits until the broker has n balance subscriptions: the
// subscription is registered asynchronously after the socket's subscribe.
func waitSubscribed(t *testing.T, a *testAPI, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if b, r := a.broker.Counts(); b+r >= n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("subscription not registered")
}

// A missing, forged or expired token is refused with close code 4403 on
// both protocols, and the socket is gone.
func TestLiveRefusesBadTokens(t *testing.T) {
	a := newAPI(t, "sqlite")
	forged, _ := auth.NewToken([]byte("another-secret-0123456789-0123456789"), auth.RoleClientOwner, "x", string(a.fx.AgencyA), string(a.fx.A1), time.Hour)
	expired, _ := auth.SignHS256(testSecret, claimsExpired(a))
	for _, proto := range []string{protoTransportWS, protoLegacyWS} {
		for name, tok := range map[string]string{"missing": "", "forged": forged, "expired": expired, "garbage": "not-a-jwt"} {
			t.Run(proto+"/"+name, func(t *testing.T) {
				_, err := dialWS(t, a.srv.URL, proto, tok)
				if code := closeStatus(err); code != 4403 {
					t.Fatalf("close status %d (%v), want 4403", code, err)
				}
			})
		}
	}
}

func claimsExpired(a *testAPI) auth.Claims {
	c := auth.Claims{Role: auth.RoleClientOwner, AgencyID: string(a.fx.AgencyA), AccountID: string(a.fx.A1)}
	c.Subject = "late"
	c.ExpiresAt = jwtTime(time.Now().Add(-time.Hour))
	return c
}

// Another tenant's account is NOT_FOUND, and none of its events arrive.
func TestLiveForeignAccount(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
		if err != nil {
			t.Fatal(err)
		}
		c.subscribe("1", balanceSub, map[string]any{"a": a.fx.B1})
		r, err := c.receive("1", 5*time.Second)
		if err != nil {
			t.Fatalf("foreign subscription: %+v %v, want NOT_FOUND", r, err)
		}
		wantRefused(t, r.response(), "NOT_FOUND", "foreign subscription")
		a.fund(a.fx.B1, "3")
		if r, err := c.receive("1", 300*time.Millisecond); err != errTimeout && err != errCompleted {
			t.Fatalf("received %+v %v after NOT_FOUND", r, err)
		}
	})
}

// Agency dashboards see their agency's requests arrive, and only those.
func TestLiveCreditRequests(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		admin, err := dialWS(t, a.srv.URL, protoTransportWS, a.agencyAdmin())
		if err != nil {
			t.Fatal(err)
		}
		admin.subscribe("p", `subscription { creditRequestUpdated(status: PENDING) { id status amount reference account { name } } }`, nil)
		admin.subscribe("all", `subscription { creditRequestUpdated { id status } }`, nil)
		waitSubscribed(t, a, 2)
		ownerB := a.token(auth.RoleClientOwner, a.fx.AgencyB, a.fx.B1)
		a.gql(ownerB, `mutation { buyCredits(input:{amount:"9", method:BANK_TRANSFER}) { status } }`, nil).decode(t, &struct{}{})
		var created struct {
			BuyCredits struct{ Request struct{ ID string } }
		}
		a.gql(a.owner(), `mutation { buyCredits(input:{amount:"12.5", method:BANK_TRANSFER, reference:"BT-1"}) { request { id } } }`, nil).decode(t, &created)
		id := created.BuyCredits.Request.ID

		type reqEvent struct {
			CreditRequestUpdated struct {
				ID, Status, Amount, Reference string
				Account                       struct{ Name string }
			}
		}
		for _, sub := range []string{"p", "all"} {
			r, err := admin.receive(sub, 5*time.Second)
			var ev reqEvent
			if err != nil || json.Unmarshal(r.Data, &ev) != nil || ev.CreditRequestUpdated.ID != id || ev.CreditRequestUpdated.Status != "PENDING" {
				t.Fatalf("%s: %s %v, want the new PENDING request %s (and not agency B's)", sub, r.Data, err, id)
			}
		}
		a.gql(a.agencyAdmin(), `mutation($r: ID!) { approveRequest(input:{requestId:$r}) { request { status } } }`, map[string]any{"r": id}).decode(t, &struct{}{})
		r, err := admin.receive("all", 5*time.Second)
		if err != nil || !json.Valid(r.Data) || !strings.Contains(string(r.Data), "ACCEPTED") {
			t.Fatalf("approval event: %s %v", r.Data, err)
		}
		if r, err := admin.receive("p", 300*time.Millisecond); err != errTimeout {
			t.Fatalf("PENDING filter let through %s %v", r.Data, err)
		}
	})
}

// Caps: subscriptions per socket and sockets per token, each with a clear error.
func TestLiveLimits(t *testing.T) {
	a := newAPI(t, "sqlite") // MaxSubsPerConn 4, MaxConnsPerToken 3
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		c.subscribe(fmt.Sprint(i), balanceSub, nil)
	}
	waitSubscribed(t, a, 4)
	c.subscribe("4", balanceSub, nil)
	r, err := c.receive("4", 5*time.Second)
	if err != nil {
		t.Fatalf("5th subscription: %+v %v, want RATE_LIMITED", r, err)
	}
	wantRefused(t, r.response(), "RATE_LIMITED", "5th subscription")
	for range 2 {
		if _, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner()); err != nil {
			t.Fatalf("2nd/3rd socket: %v", err)
		}
	}
	if _, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner()); closeStatus(err) != 4429 {
		t.Fatalf("4th socket: %v, want close 4429", err)
	}
}

// A socket closes when its token expires.
func TestLiveClosesAtTokenExpiry(t *testing.T) {
	a := newAPI(t, "sqlite")
	tok, err := auth.NewToken(testSecret, auth.RoleClientOwner, "short", string(a.fx.AgencyA), string(a.fx.A1), 1500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dialWS(t, a.srv.URL, protoTransportWS, tok)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", balanceSub, nil)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("socket still open 10 s after its token expired")
	}
}

// When the listener's connection drops, notifications sent meanwhile are
// lost; after reconnecting it re-reads what subscribers watch, so the
// subscriber still ends with the latest balance.
func TestLiveResyncAfterListenerReconnect(t *testing.T) {
	a := newAPI(t, "postgres")
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe("1", balanceSub, nil)
	waitSubscribed(t, a, 1)
	app := "listener_" + searchPath(t, a.db.DSN)
	var killed int
	if err := a.db.SQL.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminating the listener: killed %d, %v", killed, err)
	}
	a.fund(a.fx.A1, "4.56") // committed while the listener may be away
	want := a.balance(a.fx.A1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := c.receive("1", time.Until(deadline))
		if err != nil {
			t.Fatalf("never received the latest balance %s: %v", want, err)
		}
		var ev balanceEvent
		if json.Unmarshal(r.Data, &ev) == nil && ev.BalanceUpdated.Available == want {
			if a.resyncs.Load() == 0 {
				t.Fatal("the listener never re-read balances after its connection was killed")
			}
			return
		}
	}
}

func searchPath(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("search_path")
}
