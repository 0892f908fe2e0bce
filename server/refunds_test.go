package main

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/internal/paypalfake"
	"creditgate/internal/stripemock"
)

// Refunds and disputes through the API and the providers' webhooks; the
// ledger is verified after every scenario.

const refundMutation = `mutation($p: ID!, $x: Decimal, $k: String){ refundPayment(input:{paymentId:$p, amount:$x, reason:"customer asked", idempotencyKey:$k}) {
	transaction { type kind amount reason payment { id } }
	balance { available owed }
	payment { id refunded }
} }`

type refundAnswer struct {
	RefundPayment struct {
		Transaction struct {
			Type, Kind, Amount, Reason string
			Payment                    struct{ ID string }
		}
		Balance struct{ Available, Owed string }
		Payment struct{ ID, Refunded string }
	}
}

func (a *testAPI) refund(t *testing.T, token, pay, amount string) gqlResponse {
	t.Helper()
	vars := map[string]any{"p": pay}
	if amount != "" {
		vars["x"] = amount
	}
	return a.gql(token, refundMutation, vars)
}

// owedOf reads A1's USD balance with what it owes.
func (a *testAPI) owedOf(t *testing.T) (available, owed string) {
	t.Helper()
	var out struct {
		Balance struct{ Available, Owed string }
	}
	a.gql(a.sysAdmin(), `query($a: ID!){ balance(accountId: $a, currency: "USD") { available owed } }`, map[string]any{"a": a.fx.A1}).decode(t, &out)
	return out.Balance.Available, out.Balance.Owed
}

// spendA1 spends amount of A1's credits on SMS (0.05 each) as its owner.
func (a *testAPI) spendA1(t *testing.T, amount int) {
	t.Helper()
	a.gql(a.owner(), `mutation($s: ID!, $q: Int!){ buyServiceWithCredit(input:{serviceId:$s, quantity:$q}) { transaction { id } } }`,
		map[string]any{"s": a.fx.SMS, "q": amount * 20}).decode(t, &struct{}{})
}

func TestRefundPaymentSandbox(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		t.Cleanup(func() { verifyLedger(t, a) })
		p := a.buy(t, "CARD", "100")
		if p.Status != "COMPLETED" {
			t.Fatalf("purchase %+v", p)
		}
		pay := p.Payment.ID

		t.Run("refused to clients, owners and other agencies", func(t *testing.T) {
			before := snapshot(t, a)
			wantRefused(t, a.refund(t, a.owner(), pay, "1"), "FORBIDDEN")
			wantRefused(t, a.refund(t, a.client(), pay, "1"), "FORBIDDEN")
			wantRefused(t, a.refund(t, a.token(auth.RoleAgencyAdmin, a.fx.AgencyB, ""), pay, "1"), "NOT_FOUND")
			wantRefused(t, a.refund(t, a.agencyAdmin(), pay, "100.01"), "BAD_USER_INPUT")
			wantRefused(t, a.refund(t, a.agencyAdmin(), pay, "0.001"), "BAD_USER_INPUT")
			wantUnchanged(t, a, before)
		})

		t.Run("partial then whole", func(t *testing.T) {
			var out refundAnswer
			a.refund(t, a.agencyAdmin(), pay, "40").decode(t, &out)
			r := out.RefundPayment
			if r.Transaction.Type != "OUT" || r.Transaction.Kind != "REFUND" || r.Transaction.Amount != "40.00" ||
				r.Transaction.Reason != "customer asked" || r.Transaction.Payment.ID != pay ||
				r.Payment.Refunded != "40.00" || r.Balance.Available != "60.00" || r.Balance.Owed != "0.00" {
				t.Fatalf("partial refund %+v", r)
			}
			verifyLedger(t, a)
			before := snapshot(t, a)
			wantRefused(t, a.refund(t, a.agencyAdmin(), pay, "60.01"), "BAD_USER_INPUT")
			wantUnchanged(t, a, before)
			a.refund(t, a.sysAdmin(), pay, "").decode(t, &out)
			if r := out.RefundPayment; r.Transaction.Amount != "60.00" || r.Payment.Refunded != "100.00" || r.Balance.Available != "0.00" {
				t.Fatalf("whole refund %+v", r)
			}
			wantRefused(t, a.refund(t, a.agencyAdmin(), pay, ""), "BAD_USER_INPUT")
			verifyLedger(t, a)
		})

		t.Run("spent credits are INSUFFICIENT_CREDITS and nothing changes", func(t *testing.T) {
			p := a.buy(t, "CARD", "50")
			a.spendA1(t, 30)
			before := snapshot(t, a)
			wantRefused(t, a.refund(t, a.agencyAdmin(), p.Payment.ID, ""), "INSUFFICIENT_CREDITS")
			wantUnchanged(t, a, before)
			verifyLedger(t, a)
		})
	})
}

var stripeChargeSeq struct {
	sync.Mutex
	n int
}

// stripeChargeEvent is a charge.refunded (the charge, with its cumulative
// amount_refunded) or charge.dispute.created (the dispute) event.
func stripeChargeEvent(typ, pi string, amount, refunded int64) []byte {
	stripeChargeSeq.Lock()
	stripeChargeSeq.n++
	n := stripeChargeSeq.n
	stripeChargeSeq.Unlock()
	obj := map[string]any{
		"id": fmt.Sprintf("ch_test_%06d", n), "object": "charge", "amount": amount, "amount_refunded": refunded,
		"currency": "usd", "payment_intent": pi, "refunded": refunded == amount, "status": "succeeded", "livemode": false,
	}
	if typ == "charge.dispute.created" {
		obj = map[string]any{"id": fmt.Sprintf("dp_test_%06d", n), "object": "dispute", "amount": amount, "currency": "usd",
			"charge": fmt.Sprintf("ch_test_%06d", n), "payment_intent": pi, "status": "needs_response", "reason": "fraudulent"}
	}
	body, _ := json.MarshalIndent(map[string]any{
		"id": fmt.Sprintf("evt_refund_%06d", n), "object": "event", "api_version": "2026-08-26.dahlia",
		"created": time.Now().Unix(), "type": typ, "livemode": false, "pending_webhooks": 1,
		"data": map[string]any{"object": obj},
	}, "", "  ")
	return body
}

// history is A1's newest USD transactions.
func (a *testAPI) historyA1(t *testing.T, n int) []struct{ Kind, Type, Amount string } {
	t.Helper()
	var out struct {
		History struct {
			Edges []struct {
				Node struct{ Kind, Type, Amount string }
			}
		}
	}
	a.gql(a.sysAdmin(), `query($a: ID!, $n: Int){ history(accountId: $a, currency: "USD", first: $n) { edges { node { kind type amount } } } }`,
		map[string]any{"a": a.fx.A1, "n": n}).decode(t, &out)
	var rows []struct{ Kind, Type, Amount string }
	for _, e := range out.History.Edges {
		rows = append(rows, e.Node)
	}
	return rows
}

func TestStripeRefunds(t *testing.T) {
	mock := stripemock.Start(t)
	eachDB(t, func(t *testing.T, a *testAPI) {
		withPayments(t, a, PaymentsConfig{StripeSecretKey: "sk_test_123", StripeWebhookSecret: testWebhookSecret, StripeAPIURL: mock})
		t.Cleanup(func() { verifyLedger(t, a) })
		// buyStripe buys amount by card and settles it by webhook.
		buyStripe := func(t *testing.T, amount string, minor int64) purchase {
			t.Helper()
			p := a.buy(t, "CARD", amount)
			if p.Status != "REQUIRES_ACTION" {
				t.Fatalf("purchase %+v", p)
			}
			deliverStripe(t, a, stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, minor, nil))
			return p
		}

		t.Run("charge.refunded for half-spent credits: REFUND of the half, the rest owed, paid by the next purchase", func(t *testing.T) {
			p := buyStripe(t, "100", 10000)
			a.spendA1(t, 50)
			ev := stripeChargeEvent("charge.refunded", p.Payment.ProviderRef, 10000, 10000)
			var wg sync.WaitGroup
			for range 5 { // the same event five times at once
				wg.Add(1)
				go func() {
					defer wg.Done()
					deliverStripe(t, a, ev)
				}()
			}
			wg.Wait()
			if av, owed := a.owedOf(t); av != "0.00" || owed != "50.00" {
				t.Fatalf("after the refund: available %s owed %s, want 0.00 and 50.00", av, owed)
			}
			if h := a.historyA1(t, 1); h[0].Kind != "REFUND" || h[0].Amount != "50.00" || h[0].Type != "OUT" {
				t.Fatalf("newest transaction %+v", h[0])
			}
			verifyLedger(t, a)
			before := snapshot(t, a)
			deliverStripe(t, a, ev) // replayed
			wantUnchanged(t, a, before)
			n := a.historyCount(t)
			deliverStripe(t, a, stripeChargeEvent("charge.refunded", p.Payment.ProviderRef, 10000, 4000)) // an older total
			if av, owed := a.owedOf(t); av != "0.00" || owed != "50.00" || a.historyCount(t) != n {
				t.Fatalf("an older total moved something: available %s owed %s", av, owed)
			}

			buyStripe(t, "80", 8000)
			h := a.historyA1(t, 2)
			if h[1].Kind != "PURCHASE" || h[1].Amount != "80.00" || h[0].Kind != "REFUND" || h[0].Amount != "50.00" {
				t.Fatalf("the purchase and its payoff: %+v", h)
			}
			if av, owed := a.owedOf(t); av != "30.00" || owed != "0.00" {
				t.Fatalf("after the purchase: available %s owed %s, want 30.00 and 0.00", av, owed)
			}
			verifyLedger(t, a)
		})

		t.Run("a dispute takes its amount once", func(t *testing.T) {
			av0, _ := a.owedOf(t)
			p := buyStripe(t, "10", 1000)
			ev := stripeChargeEvent("charge.dispute.created", p.Payment.ProviderRef, 1000, 0)
			deliverStripe(t, a, ev)
			deliverStripe(t, a, ev)
			if av, owed := a.owedOf(t); av != av0 || owed != "0.00" {
				t.Fatalf("after the dispute: available %s (was %s) owed %s", av, av0, owed)
			}
			verifyLedger(t, a)
		})

		t.Run("refundPayment through stripe-mock", func(t *testing.T) {
			p := buyStripe(t, "40", 4000)
			av0, _ := a.owedOf(t)
			var out refundAnswer
			a.refund(t, a.agencyAdmin(), p.Payment.ID, "15").decode(t, &out)
			if r := out.RefundPayment; r.Transaction.Amount != "15.00" || r.Payment.Refunded != "15.00" {
				t.Fatalf("refund %+v", r)
			}
			if av, _ := a.owedOf(t); av != addUSD(t, av0, "-15.00") {
				t.Fatalf("available %s, was %s", av, av0)
			}
			// Stripe's own charge.refunded for it changes nothing more.
			n, av1 := a.historyCount(t), addUSD(t, av0, "-15.00")
			deliverStripe(t, a, stripeChargeEvent("charge.refunded", p.Payment.ProviderRef, 4000, 1500))
			if av, _ := a.owedOf(t); av != av1 || a.historyCount(t) != n {
				t.Fatalf("stripe's event of our refund moved money: available %s, want %s", av, av1)
			}
			verifyLedger(t, a)
		})
	})
}

func TestPayPalRefunds(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := paypalfake.Start(t)
		withPayments(t, a, PaymentsConfig{
			PayPalClientID: paypalfake.ClientID, PayPalClientSecret: paypalfake.ClientSecret,
			PayPalWebhookID: paypalfake.WebhookID, PayPalAPIURL: f.URL,
		})
		t.Cleanup(func() { verifyLedger(t, a) })
		hook := a.srv.URL + "/webhooks/paypal"
		deliver := func(t *testing.T, ev []byte) {
			t.Helper()
			if code := postHook(t, hook, ev, paypalfake.Headers(ev)); code != 200 {
				t.Fatalf("paypal webhook answered %d", code)
			}
		}
		buyPayPal := func(t *testing.T, amount string) purchase {
			t.Helper()
			p := a.buy(t, "PAYPAL", amount)
			deliver(t, f.Approve(t, p.Payment.ProviderRef))
			if st, _ := a.paymentRow(t, p.Payment.ID); st != "SUCCEEDED" {
				t.Fatalf("payment %s", st)
			}
			return p
		}

		p := buyPayPal(t, "20")
		a.spendA1(t, 10)
		ev := f.RefundedEvent(t, p.Payment.ProviderRef, "REF-1", "20.00", "20.00")
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() { defer wg.Done(); deliver(t, ev) }()
		}
		wg.Wait()
		if av, owed := a.owedOf(t); av != "0.00" || owed != "10.00" {
			t.Fatalf("after PAYMENT.CAPTURE.REFUNDED: available %s owed %s, want 0.00 and 10.00", av, owed)
		}
		verifyLedger(t, a)
		before := snapshot(t, a)
		deliver(t, ev)
		wantUnchanged(t, a, before)

		p2 := buyPayPal(t, "25")
		if av, owed := a.owedOf(t); av != "15.00" || owed != "0.00" {
			t.Fatalf("after the next purchase: available %s owed %s, want 15.00 and 0.00", av, owed)
		}
		verifyLedger(t, a)

		// refundPayment through PayPal's capture refund.
		var out refundAnswer
		a.refund(t, a.agencyAdmin(), p2.Payment.ID, "5").decode(t, &out)
		if r := out.RefundPayment; r.Transaction.Amount != "5.00" || r.Payment.Refunded != "5.00" || r.Balance.Available != "10.00" {
			t.Fatalf("refund %+v", r)
		}
		sent := false
		for _, r := range f.Requests() {
			sent = sent || (r.Method == "POST" && len(r.Path) > len("/v2/payments/captures/") && r.Path[len(r.Path)-len("/refund"):] == "/refund")
		}
		if !sent {
			t.Fatal("no capture refund reached PayPal")
		}
		// PayPal refuses: NOT_ELIGIBLE saying why, the credits are back.
		f.RefuseRefunds(true)
		wantRefused(t, a.refund(t, a.agencyAdmin(), p2.Payment.ID, "5"), "NOT_ELIGIBLE")
		if av, _ := a.owedOf(t); av != "10.00" {
			t.Fatalf("after the refusal: available %s, want 10.00", av)
		}
		verifyLedger(t, a)
	})
}
