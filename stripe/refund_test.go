package stripe_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"creditgate/credits"
	"creditgate/gid"
)

// A refund goes to the Refunds API for the payment's PaymentIntent, with
// the amount in minor units and our key as its Idempotency-Key.
func TestRefundCreatesRefund(t *testing.T) {
	c, rec := mocked(t)
	id := gid.New(gid.Payment)
	res, err := c.Refund(context.Background(), credits.RefundRequest{
		PaymentID: id, ProviderRef: "pi_123", Key: "refund-pst_1", Amount: 1250, Currency: "USD", Reason: "asked",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ref == "" || res.Status == "" {
		t.Fatalf("result %+v", res)
	}
	r := rec.last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/refunds" || r.IdempotencyKey != "refund-pst_1" {
		t.Fatalf("request %s %s key %q", r.Method, r.Path, r.IdempotencyKey)
	}
	for k, v := range map[string]string{"payment_intent": "pi_123", "amount": "1250", "metadata[creditgate_payment]": string(id), "reason": "requested_by_customer"} {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	// Without a payment intent there is nothing to refund: refused, not sent.
	n := len(rec.all())
	_, err = c.Refund(context.Background(), credits.RefundRequest{PaymentID: id, Key: "k", Amount: 1, Currency: "USD"})
	var refused *credits.RefundRefused
	if !errors.As(err, &refused) || len(rec.all()) != n {
		t.Fatalf("refund without a reference: %v", err)
	}
}
