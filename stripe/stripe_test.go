package stripe_test

import (
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

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/internal/stripemock"
	"creditgate/stripe"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// recorder sits between the client and stripe-mock and keeps every request
// (method, path, form, Idempotency-Key), so tests see what we send, not
// only what the mock answers.
type recorder struct {
	mu   sync.Mutex
	reqs []sent
}

type sent struct {
	Method, Path, IdempotencyKey, Auth string
	Form                               url.Values
	rawQuery                           string
}

func (rec *recorder) last(t *testing.T) sent {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.reqs) == 0 {
		t.Fatal("no request reached Stripe")
	}
	return rec.reqs[len(rec.reqs)-1]
}

func (rec *recorder) all() []sent {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]sent(nil), rec.reqs...)
}

// mocked returns a client on stripe-mock through a recording proxy.
func mocked(t *testing.T) (*stripe.Client, *recorder) {
	t.Helper()
	target, err := url.Parse(stripemock.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, sent{r.Method, r.URL.Path, r.Header.Get("Idempotency-Key"), r.Header.Get("Authorization"), form, r.URL.RawQuery})
		rec.mu.Unlock()
		out, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.RequestURI(), strings.NewReader(string(body)))
		out.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	return stripe.New(stripe.Config{SecretKey: "sk_test_123", WebhookSecret: "whsec_test", APIURL: proxy.URL, Logger: quiet}), rec
}

func TestChargeCreatesPaymentIntent(t *testing.T) {
	c, rec := mocked(t)
	id := gid.New(gid.Payment)
	res, err := c.Charge(context.Background(), credits.ChargeRequest{PaymentID: id, Method: "CARD", Amount: 5000, Currency: "USD", Description: "credits for Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != credits.ChargeRequiresAction || res.ClientSecret == "" || !strings.HasPrefix(res.ProviderRef, "pi_") {
		t.Fatalf("result %+v, want REQUIRES_ACTION with a client secret and a pi_ reference", res)
	}
	r := rec.last(t)
	want := map[string]string{
		"amount": "5000", "currency": "usd", "automatic_payment_methods[enabled]": "true",
		"metadata[creditgate_payment]": string(id), "description": "credits for Acme",
	}
	if r.Method != http.MethodPost || r.Path != "/v1/payment_intents" || r.IdempotencyKey != string(id) || r.Auth != "Bearer sk_test_123" {
		t.Fatalf("request %s %s key %q auth %q", r.Method, r.Path, r.IdempotencyKey, r.Auth)
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q (form %v)", k, got, v, r.Form)
		}
	}
	for k := range r.Form {
		if k == "confirm" || k == "off_session" {
			t.Errorf("an on-session charge must not send %s", k)
		}
	}
}

func TestVault(t *testing.T) {
	c, rec := mocked(t)
	ctx := context.Background()
	acc := gid.New(gid.Account)

	setup, err := c.SetupCard(ctx, credits.CardSetupRequest{AccountID: acc, Name: "Acme", Email: "billing@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.CustomerRef, "cus_") || !strings.HasPrefix(setup.SetupRef, "seti_") || setup.ClientSecret == "" {
		t.Fatalf("setup %+v", setup)
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[0].Path != "/v1/customers" || reqs[1].Path != "/v1/setup_intents" {
		t.Fatalf("requests %+v, want a customer then a setup intent", reqs)
	}
	if f := reqs[0].Form; f.Get("metadata[creditgate_account]") != string(acc) || f.Get("email") != "billing@acme.test" || f.Get("name") != "Acme" {
		t.Fatalf("customer form %v", f)
	}
	if f := reqs[1].Form; f.Get("usage") != "off_session" || f.Get("customer") != setup.CustomerRef {
		t.Fatalf("setup intent form %v", f)
	}

	// An existing customer is reused.
	n := len(rec.all())
	if _, err := c.SetupCard(ctx, credits.CardSetupRequest{AccountID: acc, CustomerRef: "cus_existing"}); err != nil {
		t.Fatal(err)
	}
	if reqs := rec.all()[n:]; len(reqs) != 1 || reqs[0].Path != "/v1/setup_intents" || reqs[0].Form.Get("customer") != "cus_existing" {
		t.Fatalf("requests %+v, want only a setup intent for cus_existing", reqs)
	}

	// SaveCard without a customer creates one, then attaches.
	n = len(rec.all())
	card, err := c.SaveCard(ctx, credits.SaveCardRequest{AccountID: acc, PaymentMethodRef: "pm_card_visa"})
	if err != nil {
		t.Fatal(err)
	}
	if reqs := rec.all()[n:]; len(reqs) != 2 || reqs[0].Path != "/v1/customers" || reqs[1].Path != "/v1/payment_methods/pm_card_visa/attach" || reqs[1].Form.Get("customer") != card.CustomerRef {
		t.Fatalf("requests %+v, want customer then attach", reqs)
	}
	if card.Ref == "" || card.Brand == "" || len(card.Last4) != 4 || card.ExpMonth < 1 || card.ExpMonth > 12 || card.ExpYear < 2000 {
		t.Fatalf("saved card %+v", card)
	}

	if err := c.RemoveCard(ctx, card.Ref); err != nil {
		t.Fatal(err)
	}
	if r := rec.last(t); r.Path != "/v1/payment_methods/"+card.Ref+"/detach" || r.Method != http.MethodPost {
		t.Fatalf("remove sent %s %s", r.Method, r.Path)
	}

	id := gid.New(gid.Payment)
	res, err := c.ChargeCard(ctx, credits.CardCharge{
		ChargeRequest: credits.ChargeRequest{PaymentID: id, Method: "CARD", Amount: 2500, Currency: "EUR", Description: "auto top-up"},
		CustomerRef:   "cus_existing", CardRef: "pm_card_visa",
	})
	if err != nil {
		t.Fatal(err)
	}
	// stripe-mock answers a canned intent in requires_payment_method (an
	// off-session charge the card refused); TestChargeCardStatuses covers
	// the other answers.
	if res.Status != credits.ChargeFailed || !strings.HasPrefix(res.ProviderRef, "pi_") || res.FailureReason == "" {
		t.Fatalf("off-session charge %+v, want FAILED with stripe-mock's canned requires_payment_method intent", res)
	}
	r := rec.last(t)
	want := map[string]string{
		"amount": "2500", "currency": "eur", "customer": "cus_existing", "payment_method": "pm_card_visa",
		"confirm": "true", "off_session": "true", "metadata[creditgate_payment]": string(id),
	}
	if r.Path != "/v1/payment_intents" || r.IdempotencyKey != string(id) {
		t.Fatalf("charge sent %s with key %q", r.Path, r.IdempotencyKey)
	}
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// stripeError answers every request with a Stripe error object: what
// stripe-mock cannot do (it never declines).
func stripeError(t *testing.T, status int, obj map[string]any) *stripe.Client {
	return stripeAnswers(t, status, map[string]any{"error": obj})
}

// stripeAnswers answers every request with status and body.
func stripeAnswers(t *testing.T, status int, body any) *stripe.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return stripe.New(stripe.Config{SecretKey: "sk_test_123", APIURL: srv.URL, Logger: quiet})
}

// Each PaymentIntent status an off-session charge can answer.
func TestChargeCardStatuses(t *testing.T) {
	charge := credits.CardCharge{
		ChargeRequest: credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: 1000, Currency: "USD"},
		CustomerRef:   "cus_1", CardRef: "pm_1",
	}
	for status, want := range map[string]credits.ChargeStatus{
		"succeeded":               credits.ChargeSucceeded,
		"processing":              credits.ChargeRequiresAction, // the webhook settles it
		"requires_action":         credits.ChargeFailed,         // 3-D Secure: nobody is there to authenticate
		"requires_payment_method": credits.ChargeFailed,
		"canceled":                credits.ChargeFailed,
	} {
		c := stripeAnswers(t, 200, map[string]any{"id": "pi_1", "object": "payment_intent", "status": status, "amount": 1000, "currency": "usd"})
		res, err := c.ChargeCard(context.Background(), charge)
		if err != nil || res.Status != want || res.ProviderRef != "pi_1" {
			t.Errorf("%s: %+v, %v; want status %d", status, res, err, want)
		}
		if want == credits.ChargeFailed && res.FailureReason == "" {
			t.Errorf("%s: no failure reason", status)
		}
	}
}

func TestChargeCardDeclines(t *testing.T) {
	charge := credits.CardCharge{
		ChargeRequest: credits.ChargeRequest{PaymentID: gid.New(gid.Payment), Amount: 1000, Currency: "USD"},
		CustomerRef:   "cus_1", CardRef: "pm_1",
	}
	t.Run("card_declined", func(t *testing.T) {
		c := stripeError(t, 402, map[string]any{
			"type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
			"message": "Your card has insufficient funds.", "payment_intent": map[string]any{"id": "pi_declined", "object": "payment_intent"},
		})
		res, err := c.ChargeCard(context.Background(), charge)
		if err != nil {
			t.Fatalf("a decline is no error: %v", err)
		}
		if res.Status != credits.ChargeFailed || res.ProviderRef != "pi_declined" || res.FailureReason != "card_declined/insufficient_funds: Your card has insufficient funds." {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("authentication_required", func(t *testing.T) {
		c := stripeError(t, 402, map[string]any{
			"type": "card_error", "code": "authentication_required", "message": "This payment requires authentication.",
			"payment_intent": map[string]any{"id": "pi_3ds", "object": "payment_intent"},
		})
		res, err := c.ChargeCard(context.Background(), charge)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != credits.ChargeFailed || res.ProviderRef != "pi_3ds" || !strings.HasPrefix(res.FailureReason, "authentication_required: ") || !strings.Contains(res.FailureReason, "off-session") {
			t.Fatalf("result %+v", res)
		}
	})
	t.Run("api error is an error", func(t *testing.T) {
		c := stripeError(t, 400, map[string]any{"type": "invalid_request_error", "message": "No such customer: 'cus_1'", "param": "customer"})
		if res, err := c.ChargeCard(context.Background(), charge); err == nil || strings.Contains(err.Error(), "sk_test") {
			t.Fatalf("result %+v err %v, want an error without the key", res, err)
		}
	})
	t.Run("remove a card already gone", func(t *testing.T) {
		c := stripeError(t, 404, map[string]any{"type": "invalid_request_error", "code": "resource_missing", "message": "No such PaymentMethod: 'pm_1'"})
		if err := c.RemoveCard(context.Background(), "pm_1"); err != nil {
			t.Fatal(err)
		}
		c = stripeError(t, 400, map[string]any{"type": "invalid_request_error", "message": "The payment method you provided is not attached to a customer so detachment is impossible."})
		if err := c.RemoveCard(context.Background(), "pm_1"); err != nil {
			t.Fatal(err)
		}
	})
}

// Lookup finds the intent of our payment by its id when recorded, else by
// searching our metadata; an intent whose metadata names another payment
// (stripe-mock answers canned ones) is never taken as ours.
func TestLookup(t *testing.T) {
	c, rec := mocked(t)
	id := gid.New(gid.Payment)
	res, found, err := c.Lookup(context.Background(), id, "")
	if err != nil {
		t.Fatal(err)
	}
	r := rec.last(t)
	want := "metadata['creditgate_payment']:'" + string(id) + "'"
	q, _ := url.ParseQuery(r.rawQuery)
	if r.Method != http.MethodGet || r.Path != "/v1/payment_intents/search" || q.Get("query") != want {
		t.Fatalf("request %s %s ?%s, want a search for %s", r.Method, r.Path, r.rawQuery, want)
	}
	if found {
		t.Fatalf("took stripe-mock's canned intent %+v as payment %s's", res, id)
	}
	res, found, err = c.Lookup(context.Background(), id, "pi_123")
	if err != nil {
		t.Fatal(err)
	}
	if r := rec.last(t); r.Method != http.MethodGet || r.Path != "/v1/payment_intents/pi_123" {
		t.Fatalf("request %s %s, want the intent read by its id", r.Method, r.Path)
	}
	if found {
		t.Fatalf("took an intent of another payment: %+v", res)
	}
}
