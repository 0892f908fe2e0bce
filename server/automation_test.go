package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/credits"
	"creditgate/mail"
	"creditgate/mail/mailtest"
)

// testClock is a clock the job worker reads, so a test can cross a
// back-off or a day without waiting.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// runJobs runs the due jobs as a gateway's worker would.
func (a *testAPI) runJobs(t testing.TB) int {
	t.Helper()
	n, err := a.svc.RunDueJobs(context.Background(), "test-worker")
	if err != nil {
		t.Fatalf("jobs: %v", err)
	}
	return n
}

func (a *testAPI) verifyLedger(t testing.TB) {
	t.Helper()
	var out bytes.Buffer
	if err := a.svc.Verify(context.Background(), &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
}

// The owner saves a card and an auto top-up rule through the API; a payment
// that takes the balance below the threshold queues the top-up, the worker
// charges the card, the history shows an AUTO_TOPUP IN transaction with its
// running balance, and balanceUpdated pushes the new balance over a real
// WebSocket.
func TestAutoTopUpThroughTheAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f, owner := a.fx, a.owner()
		a.fund(f.A1, "130") // the 120.00 invoice leaves 10.00
		var added struct {
			AddCard struct {
				Card struct{ ID, Brand, Last4 string }
			}
		}
		a.gql(owner, `mutation { addCard(input:{paymentMethodId: "pm_card_visa"}) { card { id brand last4 } } }`, nil).decode(t, &added)
		if added.AddCard.Card.Last4 != "4242" || added.AddCard.Card.Brand != "visa" {
			t.Fatalf("addCard: %+v", added)
		}
		var set struct {
			SetAutoTopUp struct {
				AutoTopUp struct{ Status, Threshold, Amount string }
			}
		}
		a.gql(owner, `mutation($c: ID!) { setAutoTopUp(input:{enabled: true, threshold: "25", mode: TOP_UP_TO, amount: "100", cardId: $c, monthlyCap: "500"}) {
			autoTopUp { status threshold amount } } }`, map[string]any{"c": added.AddCard.Card.ID}).decode(t, &set)
		if s := set.SetAutoTopUp.AutoTopUp; s.Status != "ACTIVE" || s.Threshold != "25.00" || s.Amount != "100.00" {
			t.Fatalf("setAutoTopUp: %+v", s)
		}

		ws, err := dialWS(t, a.srv.URL, protoTransportWS, owner)
		if err != nil {
			t.Fatal(err)
		}
		ws.subscribe("b", `subscription { balanceUpdated { available } }`, nil)
		waitSubscribed(t, a, 1)

		a.gql(owner, `mutation($i: ID!) { payInvoiceWithCredit(input:{invoiceId: $i}) { balance { available } } }`,
			map[string]any{"i": f.InvoiceA1}).decode(t, &struct{}{})
		if n := a.runJobs(t); n != 1 {
			t.Fatalf("ran %d jobs, want the top-up", n)
		}
		seen := []string{}
		for len(seen) == 0 || seen[len(seen)-1] != "100.00" {
			r, err := ws.receive("b", 5*time.Second)
			if err != nil {
				t.Fatalf("balanceUpdated after %v: %v", seen, err)
			}
			var d struct{ BalanceUpdated struct{ Available string } }
			if err := json.Unmarshal(r.Data, &d); err != nil {
				t.Fatal(err)
			}
			seen = append(seen, d.BalanceUpdated.Available)
		}
		var h struct {
			History struct {
				Edges []struct {
					Node struct{ Type, Kind, Amount, RunningBalance string }
				}
			}
			AutoTopUps []struct {
				Status, SpentThisMonth string
				LastTopUpAt            *string
			}
		}
		a.gql(owner, `{ history(first: 1) { edges { node { type kind amount runningBalance } } } autoTopUps { status spentThisMonth lastTopUpAt } }`, nil).decode(t, &h)
		if len(h.History.Edges) != 1 {
			t.Fatalf("history: %+v", h)
		}
		if n := h.History.Edges[0].Node; n.Type != "IN" || n.Kind != "AUTO_TOPUP" || n.Amount != "90.00" || n.RunningBalance != "100.00" {
			t.Errorf("newest transaction: %+v, want IN AUTO_TOPUP 90.00 → 100.00", n)
		}
		if r := h.AutoTopUps[0]; r.Status != "ACTIVE" || r.SpentThisMonth != "90.00" || r.LastTopUpAt == nil {
			t.Errorf("auto top-up after the charge: %+v", r)
		}
		a.verifyLedger(t)
	})
}

// A declining card: the failure shows on the rule (status BACKING_OFF, the
// reason), and after three declines the rule is PAUSED with the reason.
func TestAutoTopUpDeclineShowsOnTheRule(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		clk := &testClock{t: time.Now()}
		a.svc.Configure(credits.Automation{Clock: clk.now})
		f, owner := a.fx, a.owner()
		a.fund(f.A1, "130")
		var added struct {
			AddCard struct{ Card struct{ ID string } }
		}
		a.gql(owner, `mutation { addCard(input:{paymentMethodId: "pm_card_chargeDeclined"}) { card { id } } }`, nil).decode(t, &added)
		a.gql(owner, `mutation($a: ID, $c: ID!) { setAutoTopUp(input:{accountId: $a, enabled: true, threshold: "25", mode: FIXED, amount: "50", cardId: $c}) { autoTopUp { id } } }`,
			map[string]any{"a": f.A1, "c": added.AddCard.Card.ID}).decode(t, &struct{}{})
		a.gql(owner, `mutation($i: ID!) { payInvoiceWithCredit(input:{invoiceId: $i}) { balance { available } } }`,
			map[string]any{"i": f.InvoiceA1}).decode(t, &struct{}{})
		type rule struct {
			Status              string
			ConsecutiveFailures int
			PauseReason         *string
			LastFailure         *struct{ Reason string }
		}
		read := func() rule {
			var d struct{ AutoTopUps []rule }
			a.gql(owner, `{ autoTopUps { status consecutiveFailures pauseReason lastFailure { reason } } }`, nil).decode(t, &d)
			return d.AutoTopUps[0]
		}
		for i := 1; i <= 3; i++ {
			if n := a.runJobs(t); n != 1 {
				t.Fatalf("attempt %d: ran %d jobs", i, n)
			}
			r := read()
			if r.ConsecutiveFailures != i || r.LastFailure == nil || !strings.Contains(r.LastFailure.Reason, "declined") {
				t.Fatalf("attempt %d: %+v", i, r)
			}
			want := "BACKING_OFF"
			if i == 3 {
				want = "PAUSED"
			}
			if r.Status != want {
				t.Fatalf("attempt %d: status %s, want %s", i, r.Status, want)
			}
			clk.advance(time.Hour)
		}
		if r := read(); r.PauseReason == nil || !strings.Contains(*r.PauseReason, "3 declined") {
			t.Errorf("pause reason: %+v", r)
		}
		if got := a.balance(f.A1); got != "10.00" {
			t.Errorf("balance %s, want 10.00: nothing credited", got)
		}
		a.verifyLedger(t)
	})
}

// The alert email reaches a real SMTP server once when the balance falls
// below the threshold, not once per debit; once more a day later while it is
// still low; and the alert shows RECOVERED when the balance is back up.
func TestLowBalanceAlertEmail(t *testing.T) {
	smtp := mailtest.Start(t)
	eachDB(t, func(t *testing.T, a *testAPI) {
		smtp.Reset(t)
		sender, err := mail.FromURL(smtp.URL(), "creditgate <alerts@example.com>", nil)
		if err != nil {
			t.Fatal(err)
		}
		a.svc.UseMailer(mailer{sender})
		clk := &testClock{t: time.Now()}
		a.svc.Configure(credits.Automation{Clock: clk.now})
		f, owner := a.fx, a.owner()
		a.fund(f.A1, "40")
		var set struct {
			SetLowBalanceAlert struct{ Alert struct{ State string } }
		}
		a.gql(owner, `mutation { setLowBalanceAlert(input:{enabled: true, threshold: "15", email: "owner@client-a1.example"}) { alert { state } } }`, nil).decode(t, &set)
		if set.SetLowBalanceAlert.Alert.State != "OK" {
			t.Fatalf("setLowBalanceAlert: %+v", set)
		}
		spend := func(q int) {
			t.Helper()
			a.gql(owner, `mutation($s: ID!, $q: Int) { buyServiceWithCredit(input:{serviceId: $s, quantity: $q}) { balance { available } } }`,
				map[string]any{"s": f.SMS, "q": q}).decode(t, &struct{}{})
			a.runJobs(t)
		}
		spend(400) // 20.00 left: above
		spend(200) // 10.00: below, the email
		spend(20)  // 9.00
		spend(20)  // 8.00
		msgs := smtp.WaitFor(t, 1, 5*time.Second)
		clk.advance(12 * time.Hour)
		spend(20) // 7.00
		if msgs = smtp.Messages(t); len(msgs) != 1 {
			t.Fatalf("%d emails while low on the first day, want 1", len(msgs))
		}
		m := msgs[0]
		if len(m.To) != 1 || m.To[0].Address != "owner@client-a1.example" || m.From.Address != "alerts@example.com" {
			t.Errorf("email from %q to %v", m.From, m.To)
		}
		if !strings.Contains(m.Subject, "Low credit balance: 10.00 USD left on Client A1") || !strings.Contains(m.Text, "below your alert threshold of 15.00 USD") ||
			!strings.Contains(m.Text, "about 10 days left at your current usage") { // 10.00 at the 30.00 of SMS spent
			t.Errorf("email: %q\n%s", m.Subject, m.Text)
		}
		clk.advance(12 * time.Hour)
		a.runJobs(t)
		if msgs = smtp.WaitFor(t, 2, 5*time.Second); len(msgs) != 2 || !strings.Contains(msgs[1].Subject, "7.00 USD") {
			t.Fatalf("a day later: %d emails, want 2 (the second at 7.00 USD)", len(msgs))
		}
		a.fund(f.A1, "50")
		a.runJobs(t)
		var d struct{ LowBalanceAlerts []struct{ State string } }
		a.gql(owner, `{ lowBalanceAlerts { state } }`, nil).decode(t, &d)
		if d.LowBalanceAlerts[0].State != "RECOVERED" {
			t.Errorf("state after the balance is back up: %+v", d)
		}
		clk.advance(48 * time.Hour)
		a.runJobs(t)
		if msgs = smtp.Messages(t); len(msgs) != 2 {
			t.Errorf("%d emails after recovery, want still 2", len(msgs))
		}
		a.verifyLedger(t)
	})
}
