package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"creditgate/credits"
	"creditgate/ent/payment"
	"creditgate/gid"
	"creditgate/graph"
	"creditgate/internal/paypalfake"
	"creditgate/internal/stripemock"
)

// The gateway with real payment providers: Stripe pointed at the official
// stripe-mock, PayPal at a local fake of its documented API. Webhooks go
// through the whole HTTP handler, signed the way the providers sign them;
// after every scenario the ledger verification must pass.

const testWebhookSecret = "whsec_creditgate_test_0123456789"

// withPayments points the harness API at a gateway configured with p
// (providers registered on the same domain service), for a.gql and a.srv.
func withPayments(t *testing.T, a *testAPI, p PaymentsConfig) {
	t.Helper()
	a.srv = httpServer(t, a, Config{
		Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4,
		GraphQL:  graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}},
		Payments: p,
	}, nil)
}

type purchase struct {
	Status  string
	Payment struct {
		ID, Provider, ProviderRef, Status, Amount, Currency string
		ClientSecret, ApprovalURL                           *string
	}
	Transaction *struct{ ID string }
	Balance     struct{ Available string }
}

// buy buys amount of credits for client A1 as its owner.
func (a *testAPI) buy(t *testing.T, method, amount string) purchase {
	t.Helper()
	var out struct{ BuyCredits purchase }
	a.gql(a.owner(), `mutation($m: PaymentMethod!, $x: Decimal!){ buyCredits(input:{amount:$x, method:$m}) {
		status transaction { id } balance { available }
		payment { id provider providerRef status amount currency clientSecret approvalUrl: approvalUrl }
	} }`, map[string]any{"m": method, "x": amount}).decode(t, &out)
	return out.BuyCredits
}

// paymentRow reads a payment as the system.
func (a *testAPI) paymentRow(t *testing.T, id string) (status, reason string) {
	t.Helper()
	p, err := a.svc.DB().Payment.Query().Where(payment.ID(gid.ID(id))).Only(credits.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if p.FailureReason != nil {
		reason = *p.FailureReason
	}
	return p.Status.String(), reason
}

// historyCount is the number of transactions in A1's USD history.
func (a *testAPI) historyCount(t *testing.T) int {
	t.Helper()
	var out struct{ History struct{ TotalCount int } }
	a.gql(a.sysAdmin(), `query($a: ID!){ history(accountId: $a, currency: "USD") { totalCount } }`, map[string]any{"a": a.fx.A1}).decode(t, &out)
	return out.History.TotalCount
}

// verifyLedger runs every ledger invariant check.
func verifyLedger(t *testing.T, a *testAPI) {
	t.Helper()
	var out bytes.Buffer
	if err := a.svc.Verify(context.Background(), &out); err != nil {
		t.Fatalf("ledger verification: %v\n%s", err, out.String())
	}
}

// stripeSignature signs body as Stripe does: t=<unix>,v1=<hex HMAC-SHA256
// of "<t>.<body>" keyed with the endpoint secret> (computed here, not with
// the library that verifies it).
func stripeSignature(body []byte, secret string, at time.Time) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.%s", at.Unix(), body)
	return fmt.Sprintf("t=%d,v1=%s", at.Unix(), hex.EncodeToString(m.Sum(nil)))
}

var stripeEventSeq struct {
	sync.Mutex
	n int
}

// stripeEvent is a payment_intent.* event as Stripe delivers it.
func stripeEvent(typ, pay, pi string, amount int64, mutate func(obj map[string]any)) []byte {
	stripeEventSeq.Lock()
	stripeEventSeq.n++
	n := stripeEventSeq.n
	stripeEventSeq.Unlock()
	status := map[string]string{
		"payment_intent.succeeded": "succeeded", "payment_intent.payment_failed": "requires_payment_method",
		"payment_intent.canceled": "canceled",
	}[typ]
	obj := map[string]any{
		"id": pi, "object": "payment_intent", "amount": amount, "amount_received": amount, "currency": "usd",
		"status": status, "metadata": map[string]any{"creditgate_payment": pay}, "livemode": false,
		"client_secret": pi + "_secret_x", "automatic_payment_methods": map[string]any{"enabled": true},
	}
	if typ == "payment_intent.payment_failed" {
		obj["last_payment_error"] = map[string]any{
			"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined.",
		}
	}
	if typ == "payment_intent.canceled" {
		obj["cancellation_reason"] = "abandoned"
	}
	if mutate != nil {
		mutate(obj)
	}
	body, _ := json.MarshalIndent(map[string]any{
		"id": fmt.Sprintf("evt_test_%06d", n), "object": "event", "api_version": "2026-08-26.dahlia",
		"created": time.Now().Unix(), "type": typ, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": obj},
	}, "", "  ")
	return body
}

// postHook delivers a webhook and returns the status.
func postHook(t *testing.T, url string, body []byte, hdr http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, _ := httpDo(t, req)
	return resp.StatusCode
}

func stripeHeader(sig string) http.Header { return http.Header{"Stripe-Signature": {sig}} }

// deliverStripe signs and delivers body now and wants 200.
func deliverStripe(t *testing.T, a *testAPI, body []byte) {
	t.Helper()
	if code := postHook(t, a.srv.URL+"/webhooks/stripe", body, stripeHeader(stripeSignature(body, testWebhookSecret, time.Now()))); code != 200 {
		t.Fatalf("stripe webhook answered %d, want 200", code)
	}
}

func TestStripePayments(t *testing.T) {
	mock := stripemock.Start(t)
	eachDB(t, func(t *testing.T, a *testAPI) {
		withPayments(t, a, PaymentsConfig{StripeSecretKey: "sk_test_123", StripeWebhookSecret: testWebhookSecret, StripeAPIURL: mock})
		hook := a.srv.URL + "/webhooks/stripe"
		credited := 0.0 // A1's balance in USD, as the test expects it
		wantBalance := func(t *testing.T) {
			t.Helper()
			if got, want := a.balance(a.fx.A1), fmt.Sprintf("%.2f", credited); got != want {
				t.Fatalf("balance %s, want %s", got, want)
			}
		}
		// buy50 buys 50.00 by card: REQUIRES_ACTION, nothing credited yet.
		buy50 := func(t *testing.T) purchase {
			t.Helper()
			p := a.buy(t, "CARD", "50")
			if p.Status != "REQUIRES_ACTION" || p.Payment.Provider != "stripe" || p.Payment.Status != "PENDING" ||
				p.Payment.ClientSecret == nil || *p.Payment.ClientSecret == "" || !strings.HasPrefix(p.Payment.ProviderRef, "pi_") ||
				p.Transaction != nil || p.Payment.Amount != "50.00" {
				t.Fatalf("purchase %+v", p)
			}
			wantBalance(t)
			return p
		}
		t.Cleanup(func() { verifyLedger(t, a) })

		t.Run("buy by card requires action and credits nothing until the webhook", func(t *testing.T) {
			n := a.historyCount(t)
			p := buy50(t)
			if a.historyCount(t) != n {
				t.Fatal("history moved before the webhook")
			}
			deliverStripe(t, a, stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			credited += 50
			wantBalance(t)
			if st, _ := a.paymentRow(t, p.Payment.ID); st != "SUCCEEDED" || a.historyCount(t) != n+1 {
				t.Fatalf("status %s history %d", st, a.historyCount(t))
			}
			verifyLedger(t, a)
		})

		t.Run("succeeded replayed 5 times credits once, balanceUpdated fires once", func(t *testing.T) {
			p := buy50(t)
			n := a.historyCount(t)
			ws, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
			if err != nil {
				t.Fatal(err)
			}
			ws.subscribe("b", balanceSub, nil)
			waitSubscribed(t, a, 1)
			ev := stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil)
			var wg sync.WaitGroup
			codes := make([]int, 5)
			for i := range codes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodPost, hook, bytes.NewReader(ev))
					req.Header.Set("Stripe-Signature", stripeSignature(ev, testWebhookSecret, time.Now()))
					resp, err := http.DefaultClient.Do(req)
					if err == nil {
						codes[i] = resp.StatusCode
						resp.Body.Close()
					}
				}()
			}
			wg.Wait()
			for i, c := range codes {
				if c != 200 {
					t.Fatalf("delivery %d answered %d", i, c)
				}
			}
			credited += 50
			wantBalance(t)
			if got := a.historyCount(t); got != n+1 {
				t.Fatalf("history grew by %d, want 1", got-n)
			}
			got, err := ws.receive("b", 5*time.Second)
			if err != nil || len(got.Errors) > 0 {
				t.Fatalf("balanceUpdated: %v %v", err, got.Errors)
			}
			var evt balanceEvent
			_ = json.Unmarshal(got.Data, &evt)
			if evt.BalanceUpdated.Available != fmt.Sprintf("%.2f", credited) {
				t.Fatalf("balanceUpdated %+v, want %.2f", evt, credited)
			}
			if extra, err := ws.receive("b", 700*time.Millisecond); err == nil {
				t.Fatalf("balanceUpdated fired again: %s", extra.Data)
			}
			verifyLedger(t, a)
		})

		t.Run("failed then succeeded credits once and ends SUCCEEDED", func(t *testing.T) {
			p := buy50(t)
			deliverStripe(t, a, stripeEvent("payment_intent.payment_failed", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			if st, why := a.paymentRow(t, p.Payment.ID); st != "FAILED" || why != "card_declined/generic_decline: Your card was declined." {
				t.Fatalf("after failure: %s %q", st, why)
			}
			wantBalance(t)
			ok := stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil)
			deliverStripe(t, a, ok)
			deliverStripe(t, a, ok)
			credited += 50
			wantBalance(t)
			deliverStripe(t, a, stripeEvent("payment_intent.payment_failed", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			if st, why := a.paymentRow(t, p.Payment.ID); st != "SUCCEEDED" || why != "" {
				t.Fatalf("end: %s %q", st, why)
			}
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("succeeded then failed or canceled stays SUCCEEDED", func(t *testing.T) {
			p := buy50(t)
			deliverStripe(t, a, stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			credited += 50
			deliverStripe(t, a, stripeEvent("payment_intent.payment_failed", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			deliverStripe(t, a, stripeEvent("payment_intent.canceled", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			if st, _ := a.paymentRow(t, p.Payment.ID); st != "SUCCEEDED" {
				t.Fatalf("status %s", st)
			}
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("canceled fails the payment", func(t *testing.T) {
			p := buy50(t)
			deliverStripe(t, a, stripeEvent("payment_intent.canceled", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			if st, why := a.paymentRow(t, p.Payment.ID); st != "FAILED" || !strings.Contains(why, "canceled") {
				t.Fatalf("%s %q", st, why)
			}
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("bad signatures are 400 and change nothing", func(t *testing.T) {
			p := buy50(t)
			ev := stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil)
			other := stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 9999999, nil)
			before := snapshot(t, a)
			now := time.Now()
			for name, d := range map[string]struct {
				body []byte
				hdr  http.Header
			}{
				"missing header":       {ev, nil},
				"empty header":         {ev, stripeHeader("")},
				"garbage header":       {ev, stripeHeader("not a signature")},
				"wrong secret":         {ev, stripeHeader(stripeSignature(ev, "whsec_someone_else", now))},
				"signature of another": {ev, stripeHeader(stripeSignature(other, testWebhookSecret, now))},
				"tampered body":        {other, stripeHeader(stripeSignature(ev, testWebhookSecret, now))},
				"stale timestamp":      {ev, stripeHeader(stripeSignature(ev, testWebhookSecret, now.Add(-10*time.Minute)))},
				"v0 scheme only":       {ev, stripeHeader(strings.Replace(stripeSignature(ev, testWebhookSecret, now), "v1=", "v0=", 1))},
				"signed non-event": {[]byte(`{"object":"payment_intent"}`),
					stripeHeader(stripeSignature([]byte(`{"object":"payment_intent"}`), testWebhookSecret, now))},
			} {
				if code := postHook(t, hook, d.body, d.hdr); code != 400 {
					t.Errorf("%s: %d, want 400", name, code)
				}
			}
			wantUnchanged(t, a, before)
			wantBalance(t)
			// The genuine delivery still works afterwards.
			deliverStripe(t, a, ev)
			credited += 50
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("events naming no payment of ours are 200 and change nothing", func(t *testing.T) {
			p := buy50(t)
			sandboxPay := must[*credits.Purchase](t)(a.svc.BuyCredits(sys(), credits.BuyCredits{AccountID: &a.fx.A2, Amount: ptr(moneyDecimal("5")), Method: "PAYPAL"}))
			before := snapshot(t, a)
			for name, ev := range map[string][]byte{
				"no metadata": stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, func(o map[string]any) {
					o["metadata"] = map[string]any{}
				}),
				"unknown payment":   stripeEvent("payment_intent.succeeded", string(gid.New(gid.Payment)), p.Payment.ProviderRef, 5000, nil),
				"not a payment id":  stripeEvent("payment_intent.succeeded", string(a.fx.A1), p.Payment.ProviderRef, 5000, nil),
				"another provider":  stripeEvent("payment_intent.succeeded", string(sandboxPay.Payment.ID), "pi_x", 500, nil),
				"amount mismatch":   stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5001, nil),
				"currency mismatch": stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, func(o map[string]any) { o["currency"] = "eur" }),
				"unhandled type":    bytes.Replace(stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil), []byte(`"payment_intent.succeeded"`), []byte(`"charge.refunded"`), 1),
				"not an intent": stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, func(o map[string]any) {
					o["object"] = "charge"
				}),
				"older API version": bytes.Replace(stripeEvent("payment_intent.created", p.Payment.ID, p.Payment.ProviderRef, 5000, nil), []byte(`"2026-08-26.dahlia"`), []byte(`"2024-06-20"`), 1),
			} {
				t.Run(name, func(t *testing.T) { deliverStripe(t, a, ev) })
			}
			wantUnchanged(t, a, before)
			verifyLedger(t, a)
		})

		t.Run("an event of another payment intent neither settles nor takes the payment", func(t *testing.T) {
			p := buy50(t)
			before := snapshot(t, a)
			for _, typ := range []string{"payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled"} {
				deliverStripe(t, a, stripeEvent(typ, p.Payment.ID, "pi_not_the_payments_own", 5000, nil))
			}
			wantUnchanged(t, a, before)
			if st, _ := a.paymentRow(t, p.Payment.ID); st != "PENDING" {
				t.Fatalf("status %s, want PENDING", st)
			}
			wantBalance(t)
			// The payment's own intent still settles it.
			deliverStripe(t, a, stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil))
			credited += 50
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("an event from an endpoint on an older API version still settles", func(t *testing.T) {
			p := buy50(t)
			deliverStripe(t, a, bytes.Replace(stripeEvent("payment_intent.succeeded", p.Payment.ID, p.Payment.ProviderRef, 5000, nil),
				[]byte(`"2026-08-26.dahlia"`), []byte(`"2025-03-31.basil"`), 1))
			credited += 50
			wantBalance(t)
			verifyLedger(t, a)
		})

		t.Run("GET and a huge body are refused", func(t *testing.T) {
			resp, _ := httpDo(t, httpGet(t, hook))
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("GET: %d", resp.StatusCode)
			}
			big := bytes.Repeat([]byte("x"), 300<<10)
			if code := postHook(t, hook, big, stripeHeader(stripeSignature(big, testWebhookSecret, time.Now()))); code != http.StatusRequestEntityTooLarge {
				t.Fatalf("huge body: %d", code)
			}
		})
	})
}

func ptr[T any](v T) *T { return &v }

func TestPayPalPayments(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := paypalfake.Start(t)
		withPayments(t, a, PaymentsConfig{
			PayPalClientID: paypalfake.ClientID, PayPalClientSecret: paypalfake.ClientSecret,
			PayPalWebhookID: paypalfake.WebhookID, PayPalAPIURL: f.URL,
		})
		hook := a.srv.URL + "/webhooks/paypal"
		t.Cleanup(func() { verifyLedger(t, a) })
		buy := func(t *testing.T) purchase {
			t.Helper()
			before := a.balance(a.fx.A1)
			p := a.buy(t, "PAYPAL", "20")
			if p.Status != "REQUIRES_ACTION" || p.Payment.Provider != "paypal" || p.Payment.ApprovalURL == nil ||
				*p.Payment.ApprovalURL != "https://www.sandbox.paypal.com/checkoutnow?token="+p.Payment.ProviderRef || p.Balance.Available != before {
				t.Fatalf("purchase %+v", p)
			}
			return p
		}
		deliver := func(t *testing.T, ev []byte, want int) {
			t.Helper()
			if code := postHook(t, hook, ev, paypalfake.Headers(ev)); code != want {
				t.Fatalf("paypal webhook answered %d, want %d", code, want)
			}
		}

		t.Run("approved captures and credits; completed replayed credits once", func(t *testing.T) {
			before, n := a.balance(a.fx.A1), a.historyCount(t)
			p := buy(t)
			if a.historyCount(t) != n {
				t.Fatal("credited before approval")
			}
			deliver(t, f.Approve(t, p.Payment.ProviderRef), 200)
			if st, _ := a.paymentRow(t, p.Payment.ID); st != "SUCCEEDED" {
				t.Fatalf("status %s", st)
			}
			want := addUSD(t, before, "20.00")
			if got := a.balance(a.fx.A1); got != want {
				t.Fatalf("balance %s, want %s", got, want)
			}
			done := f.CaptureEvent(t, p.Payment.ProviderRef, "COMPLETED")
			for range 3 {
				deliver(t, done, 200)
			}
			if got := a.balance(a.fx.A1); got != want || a.historyCount(t) != n+1 {
				t.Fatalf("balance %s history +%d", got, a.historyCount(t)-n)
			}
			verifyLedger(t, a)
		})

		t.Run("completed without an approval event credits once", func(t *testing.T) {
			before := a.balance(a.fx.A1)
			p := buy(t)
			done := f.CaptureEvent(t, p.Payment.ProviderRef, "COMPLETED")
			for range 5 {
				deliver(t, done, 200)
			}
			if got, want := a.balance(a.fx.A1), addUSD(t, before, "20.00"); got != want {
				t.Fatalf("balance %s, want %s", got, want)
			}
			verifyLedger(t, a)
		})

		t.Run("denied fails, nothing credited", func(t *testing.T) {
			before := a.balance(a.fx.A1)
			p := buy(t)
			deliver(t, f.CaptureEvent(t, p.Payment.ProviderRef, "DENIED"), 200)
			if st, why := a.paymentRow(t, p.Payment.ID); st != "FAILED" || why == "" || a.balance(a.fx.A1) != before {
				t.Fatalf("%s %q %s", st, why, a.balance(a.fx.A1))
			}
			verifyLedger(t, a)
		})

		t.Run("verification FAILURE is 400 and changes nothing", func(t *testing.T) {
			p := buy(t)
			ev := f.Approve(t, p.Payment.ProviderRef)
			done := f.CaptureEvent(t, p.Payment.ProviderRef, "COMPLETED")
			snap := snapshot(t, a)
			f.ForceVerification("FAILURE")
			deliver(t, ev, 400)
			deliver(t, done, 400)
			f.ForceVerification("")
			forged := paypalfake.Headers(done)
			forged.Set("Paypal-Transmission-Sig", strings.Repeat("0", 64))
			if code := postHook(t, hook, done, forged); code != 400 {
				t.Fatalf("forged: %d", code)
			}
			if code := postHook(t, hook, done, nil); code != 400 {
				t.Fatalf("unsigned: %d", code)
			}
			wantUnchanged(t, a, snap)
			for _, r := range f.Requests() {
				if strings.HasSuffix(r.Path, "/capture") && strings.Contains(r.Path, p.Payment.ProviderRef) {
					t.Fatal("an unverified event captured the order")
				}
			}
			verifyLedger(t, a)
		})

		t.Run("stripe is not configured here: 404", func(t *testing.T) {
			if code := postHook(t, a.srv.URL+"/webhooks/stripe", []byte(`{}`), nil); code != 404 {
				t.Fatalf("%d", code)
			}
		})
	})
}

// addUSD adds two USD amounts exactly.
func addUSD(t *testing.T, x, y string) string {
	t.Helper()
	var a, b, c, d int64
	if _, err := fmt.Sscanf(x, "%d.%d", &a, &b); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscanf(y, "%d.%d", &c, &d); err != nil {
		t.Fatal(err)
	}
	cents := a*100 + b + c*100 + d
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// Without provider settings the sandbox stays in charge and neither
// webhook route exists.
func TestPaymentsDefaultSandbox(t *testing.T) {
	a := newAPI(t, "sqlite")
	for _, path := range []string{"/webhooks/stripe", "/webhooks/paypal"} {
		if code := postHook(t, a.srv.URL+path, []byte(`{}`), stripeHeader("t=1,v1=00")); code != 404 {
			t.Errorf("%s: %d, want 404", path, code)
		}
	}
	for _, m := range []string{"CARD", "PAYPAL"} {
		if p := a.buy(t, m, "5"); p.Status != "COMPLETED" || p.Payment.Provider != "sandbox" {
			t.Errorf("%s: %+v", m, p)
		}
	}
	verifyLedger(t, a)
}

func TestLoadPaymentsConfig(t *testing.T) {
	strong := "Zq8v1Lr0Xk3Jm9Pw2Ns7Tb4Hc6Yd5Fg1e"
	for _, c := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"stripe key without webhook secret in production", map[string]string{"APP_ENV": "production", "JWT_SECRET": strong, "STRIPE_SECRET_KEY": "sk_live_x"},
			[]string{"STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY in production: without it no card payment would ever be credited"}},
		{"paypal without webhook id in production", map[string]string{"APP_ENV": "production", "JWT_SECRET": strong, "PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "s"},
			[]string{"PAYPAL_WEBHOOK_ID is required with PAYPAL_CLIENT_ID in production: without it no PayPal payment would ever be credited"}},
		{"webhook secret without key", map[string]string{"STRIPE_WEBHOOK_SECRET": "whsec_x"},
			[]string{"STRIPE_WEBHOOK_SECRET or STRIPE_API_URL is set without STRIPE_SECRET_KEY"}},
		{"half a paypal client", map[string]string{"PAYPAL_CLIENT_ID": "id"},
			[]string{"PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET go together"}},
		{"paypal webhook without client", map[string]string{"PAYPAL_WEBHOOK_ID": "WH-1"},
			[]string{"PAYPAL_WEBHOOK_ID or PAYPAL_API_URL is set without PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET"}},
		{"bad urls", map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_API_URL": "localhost:12111", "PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "s", "PAYPAL_API_URL": "ftp://x"},
			[]string{`STRIPE_API_URL="localhost:12111": want an http(s) URL`, `PAYPAL_API_URL="ftp://x": want an http(s) URL`}},
		{"plain http in production", map[string]string{"APP_ENV": "production", "JWT_SECRET": strong,
			"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_API_URL": "http://stripe-mock:12111"},
			[]string{"STRIPE_API_URL must be an https:// URL in production"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadConfig(httpEnv(c.env))
			if err == nil {
				t.Fatalf("accepted %v", c.env)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("problems:\n%v\nwant:\n%s", err, strings.Join(c.want, "\n"))
			}
		})
	}
	// Development: a key without its webhook secret starts (with a warning).
	cfg, err := loadConfig(httpEnv(map[string]string{"STRIPE_SECRET_KEY": "sk_test_x", "PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "s"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Payments.PayPalAPIURL != "https://api-m.sandbox.paypal.com" {
		t.Fatalf("PayPal API default %q", cfg.Payments.PayPalAPIURL)
	}
	// Production with everything set is fine.
	if _, err := loadConfig(httpEnv(map[string]string{"APP_ENV": "production", "JWT_SECRET": strong,
		"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
		"PAYPAL_CLIENT_ID": "id", "PAYPAL_CLIENT_SECRET": "s", "PAYPAL_WEBHOOK_ID": "WH-1", "PAYPAL_API_URL": "https://api-m.paypal.com"})); err != nil {
		t.Fatal(err)
	}
}
