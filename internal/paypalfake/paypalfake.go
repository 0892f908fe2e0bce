// Package paypalfake is a local stand-in for PayPal's REST API in tests:
// it speaks the documented request and response shapes of the calls
// creditgate makes (OAuth2 client-credentials token, Orders v2 create, get
// and capture, verify-webhook-signature), records every request, and
// produces webhook deliveries signed so that its verify endpoint vouches
// for them, and only for them.
package paypalfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake accepts.
const (
	ClientID     = "fake-client-id"
	ClientSecret = "fake-client-secret"
	WebhookID    = "WH-FAKE-1"
)

// Request is one request the fake received.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// Fake is a running fake PayPal.
type Fake struct {
	URL string

	mu        sync.Mutex
	reqs      []Request
	tokens    map[string]bool
	orders    map[string]map[string]any
	byRequest map[string][]byte // PayPal-Request-Id → the answer given
	seq       int
	verdict   string // forced verification_status, "" to check the signature
	// refuseRefunds makes capture refunds answer 422.
	refuseRefunds bool
}

var signingKey = []byte("paypal-fake-signing-key")

// Start runs a fake for the test.
func Start(t testing.TB) *Fake {
	f := &Fake{tokens: map[string]bool{}, orders: map[string]map[string]any{}, byRequest: map[string][]byte{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Requests returns the requests received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// ForceVerification makes verify-webhook-signature answer status
// ("FAILURE"); "" returns to checking signatures.
func (f *Fake) ForceVerification(status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verdict = status
}

// ExpireTokens forgets every token issued, as PayPal does when they expire.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body})

	if r.Method == http.MethodPost && r.URL.Path == "/v1/oauth2/token" {
		id, secret, ok := r.BasicAuth()
		if !ok || id != ClientID || secret != ClientSecret || string(body) != "grant_type=client_credentials" {
			writeJSON(w, 401, map[string]any{"error": "invalid_client", "error_description": "Client Authentication failed"})
			return
		}
		f.seq++
		tok := fmt.Sprintf("A21AAFakeToken%d", f.seq)
		f.tokens[tok] = true
		writeJSON(w, 200, map[string]any{
			"scope": "https://uri.paypal.com/services/payments/payment", "access_token": tok,
			"token_type": "Bearer", "app_id": "APP-80W284485P519543T", "expires_in": 32400, "nonce": "2026-11-22T00:00:00ZFake",
		})
		return
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || !f.tokens[tok] {
		writeJSON(w, 401, map[string]any{"error": "invalid_token", "error_description": "Token signature verification failed"})
		return
	}
	if rid := r.Header.Get("PayPal-Request-Id"); rid != "" {
		if prev, ok := f.byRequest[r.URL.Path+" "+rid]; ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			_, _ = w.Write(prev)
			return
		}
	}
	status, answer := f.route(r, body)
	raw, _ := json.Marshal(answer)
	if rid := r.Header.Get("PayPal-Request-Id"); rid != "" && status/100 == 2 {
		f.byRequest[r.URL.Path+" "+rid] = raw
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}

func (f *Fake) route(r *http.Request, body []byte) (int, any) {
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v2/checkout/orders":
		return f.createOrder(body)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v2/checkout/orders/") && strings.HasSuffix(r.URL.Path, "/capture"):
		return f.capture(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/checkout/orders/"), "/capture"))
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v2/checkout/orders/"):
		o, ok := f.orders[strings.TrimPrefix(r.URL.Path, "/v2/checkout/orders/")]
		if !ok {
			return 404, apiError("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
		}
		return 200, o
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/v2/payments/captures/") && strings.HasSuffix(r.URL.Path, "/refund"):
		return f.refund(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v2/payments/captures/"), "/refund"), body)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/notifications/verify-webhook-signature":
		return f.verify(body)
	}
	return 404, apiError("NOT_FOUND", "")
}

func apiError(name, issue string) map[string]any {
	e := map[string]any{"name": name, "message": "fake error", "debug_id": "fakedebug"}
	if issue != "" {
		e["details"] = []any{map[string]any{"issue": issue, "description": issue}}
	}
	return e
}

func (f *Fake) createOrder(body []byte) (int, any) {
	var in struct {
		Intent        string           `json:"intent"`
		PurchaseUnits []map[string]any `json:"purchase_units"`
		PaymentSource map[string]any   `json:"payment_source"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Intent != "CAPTURE" || len(in.PurchaseUnits) != 1 {
		return 400, apiError("INVALID_REQUEST", "MALFORMED_REQUEST_JSON")
	}
	f.seq++
	id := fmt.Sprintf("5O190127TN36%05dT", f.seq)
	status, rel := "CREATED", "approve"
	if in.PaymentSource != nil {
		status, rel = "PAYER_ACTION_REQUIRED", "payer-action"
	}
	o := map[string]any{
		"id": id, "intent": "CAPTURE", "status": status, "purchase_units": in.PurchaseUnits,
		"create_time": time.Now().UTC().Format(time.RFC3339),
		"links": []any{
			map[string]any{"href": f.URL + "/v2/checkout/orders/" + id, "rel": "self", "method": "GET"},
			map[string]any{"href": "https://www.sandbox.paypal.com/checkoutnow?token=" + id, "rel": rel, "method": "GET"},
			map[string]any{"href": f.URL + "/v2/checkout/orders/" + id, "rel": "update", "method": "PATCH"},
			map[string]any{"href": f.URL + "/v2/checkout/orders/" + id + "/capture", "rel": "capture", "method": "POST"},
		},
	}
	f.orders[id] = o
	return 201, o
}

func (f *Fake) capture(id string) (int, any) {
	o, ok := f.orders[id]
	switch {
	case !ok:
		return 404, apiError("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
	case o["status"] == "COMPLETED":
		return 422, apiError("UNPROCESSABLE_ENTITY", "ORDER_ALREADY_CAPTURED")
	case o["status"] != "APPROVED":
		return 422, apiError("UNPROCESSABLE_ENTITY", "ORDER_NOT_APPROVED")
	}
	pu := o["purchase_units"].([]map[string]any)[0]
	f.seq++
	pu["payments"] = map[string]any{"captures": []any{map[string]any{
		"id": fmt.Sprintf("3C679366HH9081%05d", f.seq), "status": "COMPLETED", "amount": pu["amount"],
		"custom_id": pu["custom_id"], "final_capture": true,
		"seller_protection": map[string]any{"status": "ELIGIBLE"},
	}}}
	o["status"] = "COMPLETED"
	return 201, o
}

// captureOf finds a capture by id, with its order.
func (f *Fake) captureOf(id string) (map[string]any, map[string]any) {
	for _, o := range f.orders {
		pu := o["purchase_units"].([]map[string]any)[0]
		pays, _ := pu["payments"].(map[string]any)
		if pays == nil {
			continue
		}
		for _, c := range pays["captures"].([]any) {
			if cp := c.(map[string]any); cp["id"] == id {
				return cp, o
			}
		}
	}
	return nil, nil
}

// refund refunds part or all of a capture (Payments v2); RefuseRefunds
// makes it answer 422 instead.
func (f *Fake) refund(id string, body []byte) (int, any) {
	cp, _ := f.captureOf(id)
	if cp == nil {
		return 404, apiError("RESOURCE_NOT_FOUND", "INVALID_RESOURCE_ID")
	}
	if f.refuseRefunds {
		return 422, apiError("UNPROCESSABLE_ENTITY", "CAPTURE_FULLY_REFUNDED")
	}
	var in struct {
		Amount *struct {
			Value        string `json:"value"`
			CurrencyCode string `json:"currency_code"`
		} `json:"amount"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return 400, apiError("INVALID_REQUEST", "MALFORMED_REQUEST_JSON")
	}
	amt := cp["amount"]
	if in.Amount != nil {
		amt = map[string]any{"value": in.Amount.Value, "currency_code": in.Amount.CurrencyCode}
	}
	f.seq++
	return 201, map[string]any{
		"id": fmt.Sprintf("1JU08902781%05d", f.seq), "status": "COMPLETED", "amount": amt,
		"links": []any{map[string]any{"href": f.URL + "/v2/payments/captures/" + id, "rel": "up", "method": "GET"}},
	}
}

// RefuseRefunds makes capture refunds answer 422 (on) or succeed (off).
func (f *Fake) RefuseRefunds(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refuseRefunds = on
}

// RefundedEvent returns the PAYMENT.CAPTURE.REFUNDED event PayPal delivers
// for a refund of value at the order's capture, total being the capture's
// cumulative refunded amount (seller_payable_breakdown.total_refunded_amount).
func (f *Fake) RefundedEvent(t testing.TB, orderID, refundID, value, total string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[orderID]
	if !ok {
		t.Fatalf("paypalfake: no order %s", orderID)
	}
	pu := o["purchase_units"].([]map[string]any)[0]
	cur := pu["amount"].(map[string]any)["currency_code"]
	capID := "CAP-" + orderID
	if pays, _ := pu["payments"].(map[string]any); pays != nil {
		capID = pays["captures"].([]any)[0].(map[string]any)["id"].(string)
	}
	return event("PAYMENT.CAPTURE.REFUNDED", "refund", map[string]any{
		"id": refundID, "status": "COMPLETED", "custom_id": pu["custom_id"],
		"amount": map[string]any{"value": value, "currency_code": cur},
		"seller_payable_breakdown": map[string]any{
			"total_refunded_amount": map[string]any{"value": total, "currency_code": cur},
		},
		"links": []any{
			map[string]any{"href": f.URL + "/v2/payments/refunds/" + refundID, "rel": "self", "method": "GET"},
			map[string]any{"href": f.URL + "/v2/payments/captures/" + capID, "rel": "up", "method": "GET"},
		},
	})
}

// Approve plays the payer approving the order at PayPal and returns the
// CHECKOUT.ORDER.APPROVED event PayPal then delivers.
func (f *Fake) Approve(t testing.TB, orderID string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[orderID]
	if !ok {
		t.Fatalf("paypalfake: no order %s", orderID)
	}
	o["status"] = "APPROVED"
	o["payer"] = map[string]any{"payer_id": "FAKEPAYER", "email_address": "buyer@example.com"}
	return event("CHECKOUT.ORDER.APPROVED", "checkout-order", o)
}

// CaptureEvent returns a PAYMENT.CAPTURE.* event (COMPLETED, DENIED,
// DECLINED) for the order's capture, made up if it was never captured.
func (f *Fake) CaptureEvent(t testing.TB, orderID, kind string) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.orders[orderID]
	if !ok {
		t.Fatalf("paypalfake: no order %s", orderID)
	}
	pu := o["purchase_units"].([]map[string]any)[0]
	status := map[string]string{"COMPLETED": "COMPLETED", "DENIED": "DECLINED", "DECLINED": "DECLINED"}[kind]
	return event("PAYMENT.CAPTURE."+kind, "capture", map[string]any{
		"id": "CAP-" + orderID, "status": status, "amount": pu["amount"], "custom_id": pu["custom_id"],
		"final_capture":      true,
		"supplementary_data": map[string]any{"related_ids": map[string]any{"order_id": orderID}},
	})
}

var eventSeq struct {
	sync.Mutex
	n int
}

func event(typ, resourceType string, resource any) []byte {
	eventSeq.Lock()
	eventSeq.n++
	n := eventSeq.n
	eventSeq.Unlock()
	// Indented, like PayPal's deliveries: re-encoding it would change bytes.
	raw, _ := json.MarshalIndent(map[string]any{
		"id": fmt.Sprintf("WH-FAKE%06d", n), "event_version": "1.0", "create_time": time.Now().UTC().Format(time.RFC3339),
		"resource_type": resourceType, "resource_version": "2.0", "event_type": typ,
		"summary": "fake " + typ, "resource": resource,
	}, "", "  ")
	return raw
}

// Headers are the transmission headers PayPal sends with body; the fake's
// verify endpoint vouches for exactly these bytes under WebhookID.
func Headers(body []byte) http.Header {
	h := http.Header{}
	id := fmt.Sprintf("tx-%d", time.Now().UnixNano())
	ts := time.Now().UTC().Format(time.RFC3339)
	h.Set("Paypal-Transmission-Id", id)
	h.Set("Paypal-Transmission-Time", ts)
	h.Set("Paypal-Transmission-Sig", sign(id, ts, WebhookID, body))
	h.Set("Paypal-Cert-Url", "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-fake")
	h.Set("Paypal-Auth-Algo", "SHA256withRSA")
	return h
}

// sign stands in for PayPal's RSA signature over
// "<transmission id>|<time>|<webhook id>|<crc32 of the body>".
func sign(id, ts, webhookID string, body []byte) string {
	m := hmac.New(sha256.New, signingKey)
	fmt.Fprintf(m, "%s|%s|%s|%d", id, ts, webhookID, crc32.ChecksumIEEE(body))
	return hex.EncodeToString(m.Sum(nil))
}

func (f *Fake) verify(body []byte) (int, any) {
	var in struct {
		AuthAlgo         string          `json:"auth_algo"`
		CertURL          string          `json:"cert_url"`
		TransmissionID   string          `json:"transmission_id"`
		TransmissionSig  string          `json:"transmission_sig"`
		TransmissionTime string          `json:"transmission_time"`
		WebhookID        string          `json:"webhook_id"`
		WebhookEvent     json.RawMessage `json:"webhook_event"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.AuthAlgo == "" || in.CertURL == "" || in.TransmissionID == "" ||
		in.TransmissionSig == "" || in.TransmissionTime == "" || in.WebhookID == "" || len(in.WebhookEvent) == 0 {
		return 400, apiError("VALIDATION_ERROR", "MISSING_REQUIRED_PARAMETER")
	}
	status := "FAILURE"
	if hmac.Equal([]byte(in.TransmissionSig), []byte(sign(in.TransmissionID, in.TransmissionTime, in.WebhookID, in.WebhookEvent))) && in.WebhookID == WebhookID {
		status = "SUCCESS"
	}
	if f.verdict != "" {
		status = f.verdict
	}
	return 200, map[string]any{"verification_status": status}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
