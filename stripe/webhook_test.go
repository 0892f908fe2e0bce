package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v86/webhook"

	"creditgate/gid"
	"creditgate/payhook"
	"creditgate/stripe"
)

// flakyLedger knows one pending stripe payment and fails with err when set.
type flakyLedger struct {
	id      gid.ID
	err     error
	settled int
}

func (l *flakyLedger) Payment(_ context.Context, id gid.ID) (payhook.Payment, error) {
	if l.err != nil {
		return payhook.Payment{}, l.err
	}
	if id != l.id {
		return payhook.Payment{}, payhook.ErrUnknownPayment
	}
	return payhook.Payment{ID: id, Provider: "stripe", Status: "PENDING", Amount: 1000, Currency: "USD"}, nil
}

func (l *flakyLedger) SettlePayment(context.Context, gid.ID, string) error {
	if l.err != nil {
		return l.err
	}
	l.settled++
	return nil
}

func (l *flakyLedger) FailPayment(context.Context, gid.ID, string, string) error { return l.err }

// A database error answers 500, so Stripe delivers the event again; an
// unknown payment answers 200, so it does not retry forever.
func TestWebhookTransientErrors(t *testing.T) {
	l := &flakyLedger{id: gid.New(gid.Payment)}
	h := stripe.New(stripe.Config{SecretKey: "sk_test_123", WebhookSecret: "whsec_x", Logger: quiet}).Webhook(l)
	send := func(pay gid.ID) int {
		body := []byte(fmt.Sprintf(`{"id":"evt_1","object":"event","api_version":"2026-08-26.dahlia","type":"payment_intent.succeeded",
			"data":{"object":{"id":"pi_1","object":"payment_intent","amount":1000,"currency":"usd","metadata":{"creditgate_payment":%q}}}}`, pay))
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: "whsec_x", Timestamp: time.Now()})
		req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", signed.Header)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	l.err = errors.New("database is down")
	if code := send(l.id); code != 500 {
		t.Fatalf("database down: %d, want 500", code)
	}
	l.err = nil
	if code := send(gid.New(gid.Payment)); code != 200 || l.settled != 0 {
		t.Fatalf("unknown payment: %d settled %d", code, l.settled)
	}
	if code := send(l.id); code != 200 || l.settled != 1 {
		t.Fatalf("retry: %d settled %d", code, l.settled)
	}
}
