package paypal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/internal/paypalfake"
	"creditgate/payhook"
	"creditgate/paypal"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func client(f *paypalfake.Fake) *paypal.Client {
	return paypal.New(paypal.Config{
		ClientID: paypalfake.ClientID, ClientSecret: paypalfake.ClientSecret, WebhookID: paypalfake.WebhookID,
		APIURL: f.URL, Logger: quiet,
	})
}

// ledger is an in-memory payhook.Ledger.
type ledger struct {
	mu       sync.Mutex
	payments map[gid.ID]*payhook.Payment
	settled  map[gid.ID]int // credits given (must stay 0 or 1)
	refs     map[gid.ID]string
	reasons  map[gid.ID]string
	err      error // every call fails with it (a database down)
}

func newLedger() *ledger {
	return &ledger{payments: map[gid.ID]*payhook.Payment{}, settled: map[gid.ID]int{}, refs: map[gid.ID]string{}, reasons: map[gid.ID]string{}}
}

func (l *ledger) add(provider string, amount int64, cur string) gid.ID {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := gid.New(gid.Payment)
	l.payments[id] = &payhook.Payment{ID: id, Provider: provider, Status: "PENDING", Amount: amount, Currency: cur}
	return id
}

func (l *ledger) Payment(_ context.Context, id gid.ID) (payhook.Payment, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return payhook.Payment{}, l.err
	}
	p, ok := l.payments[id]
	if !ok {
		return payhook.Payment{}, payhook.ErrUnknownPayment
	}
	return *p, nil
}

func (l *ledger) SettlePayment(_ context.Context, id gid.ID, ref string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	p := l.payments[id]
	if p.Status != "SUCCEEDED" {
		p.Status = "SUCCEEDED"
		l.settled[id]++
	}
	l.refs[id] = ref
	return nil
}

func (l *ledger) FailPayment(_ context.Context, id gid.ID, ref, reason string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	if p := l.payments[id]; p.Status == "PENDING" {
		p.Status, l.reasons[id], l.refs[id] = "FAILED", reason, ref
	}
	return nil
}

func (l *ledger) status(id gid.ID) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.payments[id].Status
}

func TestChargeCreatesOrder(t *testing.T) {
	f := paypalfake.Start(t)
	c := client(f)
	id := gid.New(gid.Payment)
	res, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: id, Method: "PAYPAL", Amount: 123456, Currency: "USD", Description: "credits for Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != credits.ChargeRequiresAction || res.ProviderRef == "" || res.ApprovalURL != "https://www.sandbox.paypal.com/checkoutnow?token="+res.ProviderRef {
		t.Fatalf("result %+v", res)
	}
	reqs := f.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/v1/oauth2/token" || reqs[1].Path != "/v2/checkout/orders" {
		t.Fatalf("requests %v", paths(reqs))
	}
	tok := reqs[0]
	if tok.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || string(tok.Body) != "grant_type=client_credentials" {
		t.Fatalf("token request %s %q", tok.Header.Get("Content-Type"), tok.Body)
	}
	if u, p, ok := (&http.Request{Header: tok.Header}).BasicAuth(); !ok || u != paypalfake.ClientID || p != paypalfake.ClientSecret {
		t.Fatalf("token request not authenticated with the client credentials")
	}
	o := reqs[1]
	if o.Header.Get("Authorization") != "Bearer A21AAFakeToken1" || o.Header.Get("PayPal-Request-Id") != string(id) || o.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("order headers %v", o.Header)
	}
	var body map[string]any
	if err := json.Unmarshal(o.Body, &body); err != nil {
		t.Fatal(err)
	}
	want := `{"intent":"CAPTURE","purchase_units":[{"amount":{"currency_code":"USD","value":"1234.56"},"custom_id":"` + string(id) + `","description":"credits for Acme"}]}`
	if got, _ := json.Marshal(body); string(got) != want {
		t.Fatalf("order body\n %s\nwant\n %s", got, want)
	}

	// Zero- and three-decimal currencies; the token is reused.
	for cur, want := range map[string]string{"JPY": `"value":"1200"`, "BHD": `"value":"1.200"`} {
		amt := map[string]int64{"JPY": 1200, "BHD": 1200}[cur]
		if _, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: amt, Currency: cur}); err != nil {
			t.Fatal(err)
		}
		last := f.Requests()[len(f.Requests())-1]
		if !bytes.Contains(last.Body, []byte(want)) || !bytes.Contains(last.Body, []byte(`"currency_code":"`+cur+`"`)) {
			t.Errorf("%s body %s, want %s", cur, last.Body, want)
		}
	}
	if n := count(f.Requests(), "/v1/oauth2/token"); n != 1 {
		t.Errorf("%d token requests, want 1 (cached)", n)
	}

	// An expired token is renewed once, transparently.
	f.ExpireTokens()
	if _, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: 100, Currency: "USD"}); err != nil {
		t.Fatal(err)
	}
	if n := count(f.Requests(), "/v1/oauth2/token"); n != 2 {
		t.Errorf("%d token requests, want 2 after expiry", n)
	}
}

func TestChargeWithReturnURL(t *testing.T) {
	f := paypalfake.Start(t)
	c := paypal.New(paypal.Config{ClientID: paypalfake.ClientID, ClientSecret: paypalfake.ClientSecret, APIURL: f.URL,
		ReturnURL: "https://app.example/paid", CancelURL: "https://app.example/cancelled", Logger: quiet})
	res, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: 500, Currency: "EUR"})
	if err != nil || res.ApprovalURL == "" {
		t.Fatalf("%+v %v", res, err)
	}
	last := f.Requests()[len(f.Requests())-1]
	if !bytes.Contains(last.Body, []byte(`"return_url":"https://app.example/paid"`)) || !bytes.Contains(last.Body, []byte(`"cancel_url":"https://app.example/cancelled"`)) {
		t.Fatalf("body %s", last.Body)
	}
}

func TestBadCredentials(t *testing.T) {
	f := paypalfake.Start(t)
	c := paypal.New(paypal.Config{ClientID: paypalfake.ClientID, ClientSecret: "wrong", APIURL: f.URL, Logger: quiet})
	_, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: 500, Currency: "USD"})
	if err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("err %v: want an error that does not quote the secret", err)
	}
}

func paths(reqs []paypalfake.Request) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func count(reqs []paypalfake.Request, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Path == path {
			n++
		}
	}
	return n
}

// deliver posts a webhook body with headers to h and returns the status.
func deliver(t *testing.T, h http.Handler, body []byte, hdr http.Header) int {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/paypal", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestWebhook(t *testing.T) {
	f := paypalfake.Start(t)
	c := client(f)
	l := newLedger()
	h := c.Webhook(l)
	ctx := context.Background()
	order := func(amount int64) (gid.ID, string) {
		id := l.add("paypal", amount, "USD")
		res, err := c.Charge(ctx, credits.ChargeRequest{PaymentID: id, Amount: amount, Currency: "USD"})
		if err != nil {
			t.Fatal(err)
		}
		return id, res.ProviderRef
	}

	t.Run("approved captures and settles, replays credit once", func(t *testing.T) {
		id, ord := order(5000)
		ev := f.Approve(t, ord)
		for i := range 3 {
			if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 {
				t.Fatalf("delivery %d: %d", i, code)
			}
		}
		if l.status(id) != "SUCCEEDED" || l.settled[id] != 1 || l.refs[id] != ord {
			t.Fatalf("status %s settled %d ref %s", l.status(id), l.settled[id], l.refs[id])
		}
		var captures []paypalfake.Request
		for _, r := range f.Requests() {
			if r.Path == "/v2/checkout/orders/"+ord+"/capture" {
				captures = append(captures, r)
			}
		}
		if len(captures) != 1 || captures[0].Header.Get("PayPal-Request-Id") != "capture-"+string(id) || !strings.HasPrefix(captures[0].Header.Get("Authorization"), "Bearer ") {
			t.Fatalf("captures %+v", captures)
		}
		// Then PAYMENT.CAPTURE.COMPLETED arrives as well, twice.
		done := f.CaptureEvent(t, ord, "COMPLETED")
		for range 2 {
			if code := deliver(t, h, done, paypalfake.Headers(done)); code != 200 {
				t.Fatalf("capture completed: %d", code)
			}
		}
		if l.settled[id] != 1 {
			t.Fatalf("settled %d times", l.settled[id])
		}
	})

	t.Run("a settle lost after the capture is redone on redelivery", func(t *testing.T) {
		id, ord := order(700)
		ev := f.Approve(t, ord)
		if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 {
			t.Fatal(code)
		}
		l.payments[id].Status = "PENDING" // pretend our settle was lost
		l.settled[id] = 0
		c2 := client(f) // another gateway: its own token, the same PayPal-Request-Id
		if code := deliver(t, c2.Webhook(l), ev, paypalfake.Headers(ev)); code != 200 {
			t.Fatal(code)
		}
		if l.status(id) != "SUCCEEDED" || l.settled[id] != 1 {
			t.Fatalf("status %s settled %d", l.status(id), l.settled[id])
		}
	})

	t.Run("capture completed without approval event", func(t *testing.T) {
		id, ord := order(250)
		ev := f.CaptureEvent(t, ord, "COMPLETED")
		if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 || l.status(id) != "SUCCEEDED" {
			t.Fatalf("%d %s", code, l.status(id))
		}
	})

	for _, kind := range []string{"DENIED", "DECLINED"} {
		t.Run("capture "+kind, func(t *testing.T) {
			id, ord := order(300)
			ev := f.CaptureEvent(t, ord, kind)
			if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 || l.status(id) != "FAILED" || l.reasons[id] == "" {
				t.Fatalf("%d %s %q", code, l.status(id), l.reasons[id])
			}
			// A later completion still settles (the ledger's rule), once.
			ok := f.CaptureEvent(t, ord, "COMPLETED")
			if code := deliver(t, h, ok, paypalfake.Headers(ok)); code != 200 || l.settled[id] != 1 {
				t.Fatalf("%d settled %d", code, l.settled[id])
			}
		})
	}

	t.Run("verification refused", func(t *testing.T) {
		id, ord := order(400)
		ev := f.CaptureEvent(t, ord, "COMPLETED")
		bad := paypalfake.Headers(ev)
		sig := bad.Get("Paypal-Transmission-Sig")
		flip := "A"
		if sig[0] == 'A' {
			flip = "B" // a signature that already began with the replacement would stay valid
		}
		bad.Set("Paypal-Transmission-Sig", flip+sig[1:])
		tampered := bytes.Replace(ev, []byte(`"value": "4.00"`), []byte(`"value": "4000.00"`), 1)
		noHeader := paypalfake.Headers(ev)
		noHeader.Del("Paypal-Transmission-Id")
		before := len(f.Requests())
		for name, d := range map[string]struct {
			body []byte
			h    http.Header
		}{
			"bad signature": {ev, bad}, "tampered body": {tampered, paypalfake.Headers(ev)},
			"missing header": {ev, noHeader}, "no headers": {ev, nil}, "not json": {[]byte("{"), paypalfake.Headers(ev)},
		} {
			if code := deliver(t, h, d.body, d.h); code != 400 {
				t.Errorf("%s: %d, want 400", name, code)
			}
		}
		f.ForceVerification("FAILURE")
		if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 400 {
			t.Errorf("FAILURE: %d", code)
		}
		f.ForceVerification("")
		if l.status(id) != "PENDING" {
			t.Fatalf("status %s", l.status(id))
		}
		for _, r := range f.Requests()[before:] {
			if r.Path != "/v1/notifications/verify-webhook-signature" {
				t.Errorf("a refused delivery made PayPal call %s %s", r.Method, r.Path)
			}
		}
		// And the genuine delivery is still accepted afterwards.
		if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 || l.status(id) != "SUCCEEDED" {
			t.Fatalf("%d %s", code, l.status(id))
		}
	})

	t.Run("the verify request carries the event byte for byte", func(t *testing.T) {
		_, ord := order(100)
		ev := f.CaptureEvent(t, ord, "COMPLETED")
		before := len(f.Requests())
		deliver(t, h, ev, paypalfake.Headers(ev))
		r := f.Requests()[before]
		if r.Path != "/v1/notifications/verify-webhook-signature" || !bytes.Contains(r.Body, ev) {
			t.Fatalf("verify request %s %s", r.Path, r.Body)
		}
		var in map[string]any
		if err := json.Unmarshal(r.Body, &in); err != nil || in["webhook_id"] != paypalfake.WebhookID || in["auth_algo"] != "SHA256withRSA" {
			t.Fatalf("verify body %s (%v)", r.Body, err)
		}
	})

	t.Run("unknown, foreign and mismatched payments are ignored with 200", func(t *testing.T) {
		sandboxPay := l.add("sandbox", 300, "USD")
		_, ord := order(300)
		for name, mutate := range map[string]func(map[string]any){
			"unknown id": func(r map[string]any) { r["custom_id"] = string(gid.New(gid.Payment)) },
			"no id":      func(r map[string]any) { delete(r, "custom_id") },
			"not ours":   func(r map[string]any) { r["custom_id"] = "ORDER-7" },
			"sandbox's":  func(r map[string]any) { r["custom_id"] = string(sandboxPay) },
			"amount":     func(r map[string]any) { r["amount"] = map[string]any{"currency_code": "USD", "value": "3.01"} },
			"currency":   func(r map[string]any) { r["amount"] = map[string]any{"currency_code": "EUR", "value": "3.00"} },
		} {
			var ev map[string]any
			_ = json.Unmarshal(f.CaptureEvent(t, ord, "COMPLETED"), &ev)
			mutate(ev["resource"].(map[string]any))
			body, _ := json.Marshal(ev)
			if code := deliver(t, h, body, paypalfake.Headers(body)); code != 200 {
				t.Errorf("%s: %d, want 200", name, code)
			}
		}
		for id, n := range l.settled {
			if n > 1 {
				t.Errorf("%s settled %d times", id, n)
			}
		}
		if l.status(sandboxPay) != "PENDING" {
			t.Fatalf("the sandbox's payment was touched")
		}
	})

	t.Run("a database error is 500 so PayPal retries", func(t *testing.T) {
		id, ord := order(800)
		ev := f.CaptureEvent(t, ord, "COMPLETED")
		l.err = errors.New("connection refused")
		code := deliver(t, h, ev, paypalfake.Headers(ev))
		l.err = nil
		if code != 500 {
			t.Fatalf("%d, want 500", code)
		}
		if code := deliver(t, h, ev, paypalfake.Headers(ev)); code != 200 || l.status(id) != "SUCCEEDED" {
			t.Fatalf("retry: %d %s", code, l.status(id))
		}
	})

	t.Run("unknown event types are 200", func(t *testing.T) {
		body := []byte(`{"id":"WH-1","event_type":"CUSTOMER.DISPUTE.CREATED","resource":{}}`)
		if code := deliver(t, h, body, paypalfake.Headers(body)); code != 200 {
			t.Fatal(code)
		}
	})
}
