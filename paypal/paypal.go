// Package paypal takes PayPal payments through the Orders v2 REST API with
// plain net/http: credits.Provider creates an order the payer approves at
// PayPal, and the signed webhook (verified by PayPal's own
// verify-webhook-signature API) captures and settles it.
//
// Our payment id travels as purchase_units[0].custom_id and as the
// PayPal-Request-Id (PayPal's idempotency key) of the calls that create
// or capture the order.
package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/money"
)

// SandboxURL is PayPal's sandbox REST API; production is https://api-m.paypal.com.
const SandboxURL = "https://api-m.sandbox.paypal.com"

// Config configures the client.
type Config struct {
	ClientID, ClientSecret string
	WebhookID              string // the webhook's id in the PayPal app: verifies its events
	APIURL                 string // default SandboxURL
	// ReturnURL and CancelURL, when set, are where PayPal sends the payer
	// back after approving or cancelling at the approval URL.
	ReturnURL, CancelURL string
	HTTPClient           *http.Client // default: a client with a 30 s timeout
	Logger               *slog.Logger
}

// Client is the PayPal provider.
type Client struct {
	cfg  Config
	base string
	hc   *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex // guards the token, and makes one caller fetch it
	token   string
	expires time.Time
}

var _ credits.Provider = (*Client)(nil)

// New returns a client; it does not touch the network.
func New(cfg Config) *Client {
	c := &Client{cfg: cfg, base: strings.TrimSuffix(cfg.APIURL, "/"), hc: cfg.HTTPClient, log: cfg.Logger, now: time.Now}
	if c.base == "" {
		c.base = SandboxURL
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c
}

// Name implements credits.Provider.
func (*Client) Name() string { return "paypal" }

// amount is PayPal's money object: the currency's decimal string.
type amount struct {
	CurrencyCode string `json:"currency_code"`
	Value        string `json:"value"`
}

func amountOf(minor int64, cur string) amount {
	return amount{CurrencyCode: cur, Value: string(money.FormatMinor(minor, cur))}
}

// minor converts a PayPal amount to minor units of cur ("" when it is in
// another currency or not a valid amount).
func (a amount) minor(cur string) (int64, bool) {
	if a.CurrencyCode != cur {
		return 0, false
	}
	micro, err := money.ParsePrice(money.Decimal(a.Value), cur)
	if err != nil {
		return 0, false
	}
	return money.ToMinor(micro, cur)
}

type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// order is the part of an Orders v2 order we read.
type order struct {
	ID            string `json:"id"`
	Status        string `json:"status"`
	Links         []link `json:"links"`
	PurchaseUnits []struct {
		CustomID string  `json:"custom_id"`
		Amount   *amount `json:"amount"`
		Payments struct {
			Captures []capture `json:"captures"`
		} `json:"payments"`
	} `json:"purchase_units"`
}

// capture is a capture, in an order or as a PAYMENT.CAPTURE.* resource.
type capture struct {
	ID            string  `json:"id"`
	Status        string  `json:"status"` // COMPLETED, PENDING, DECLINED, FAILED, ...
	Amount        *amount `json:"amount"`
	CustomID      string  `json:"custom_id"`
	StatusDetails struct {
		Reason string `json:"reason"`
	} `json:"status_details"`
	SupplementaryData struct {
		RelatedIDs struct {
			OrderID string `json:"order_id"`
		} `json:"related_ids"`
	} `json:"supplementary_data"`
}

// Charge implements credits.Provider: an order with intent CAPTURE for the
// payer to approve at the returned URL. Nothing is credited until the
// webhook reports the capture.
func (c *Client) Charge(ctx context.Context, req credits.ChargeRequest) (credits.ChargeResult, error) {
	unit := map[string]any{
		"custom_id": string(req.PaymentID),
		"amount":    amountOf(req.Amount, req.Currency),
	}
	if req.Description != "" {
		unit["description"] = truncate(req.Description, 127)
	}
	body := map[string]any{"intent": "CAPTURE", "purchase_units": []any{unit}}
	if c.cfg.ReturnURL != "" || c.cfg.CancelURL != "" {
		exp := map[string]any{"user_action": "PAY_NOW", "shipping_preference": "NO_SHIPPING"}
		if c.cfg.ReturnURL != "" {
			exp["return_url"] = c.cfg.ReturnURL
		}
		if c.cfg.CancelURL != "" {
			exp["cancel_url"] = c.cfg.CancelURL
		}
		body["payment_source"] = map[string]any{"paypal": map[string]any{"experience_context": exp}}
	}
	var o order
	if err := c.call(ctx, http.MethodPost, "/v2/checkout/orders", string(req.PaymentID), body, &o); err != nil {
		return credits.ChargeResult{}, fmt.Errorf("paypal: creating order: %w", err)
	}
	approve := ""
	for _, rel := range []string{"payer-action", "approve"} {
		for _, l := range o.Links {
			if l.Rel == rel && approve == "" {
				approve = l.Href
			}
		}
	}
	if o.ID == "" || approve == "" {
		return credits.ChargeResult{}, fmt.Errorf("paypal: order %q came back without an approval link", o.ID)
	}
	return credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: o.ID, ApprovalURL: approve}, nil
}

// Lookup implements credits.Provider. PayPal cannot search orders by
// custom_id: with no order id recorded the answer is not found, and a
// retried purchase creates the order again with the same PayPal-Request-Id,
// which PayPal answers with the first one. With the order id, the order is
// read back: COMPLETED with a completed capture has succeeded, VOIDED has
// failed, anything else waits for the payer (the webhook captures it).
func (c *Client) Lookup(ctx context.Context, paymentID gid.ID, orderID string) (credits.ChargeResult, bool, error) {
	if orderID == "" {
		return credits.ChargeResult{}, false, nil
	}
	var o order
	err := c.call(ctx, http.MethodGet, "/v2/checkout/orders/"+url.PathEscape(orderID), "", nil, &o)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return credits.ChargeResult{}, false, nil
	}
	if err != nil {
		return credits.ChargeResult{}, false, fmt.Errorf("paypal: reading order: %w", err)
	}
	if len(o.PurchaseUnits) == 0 || o.PurchaseUnits[0].CustomID != string(paymentID) {
		return credits.ChargeResult{}, false, nil // not our payment's order
	}
	res := credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: o.ID}
	for _, rel := range []string{"payer-action", "approve"} {
		for _, l := range o.Links {
			if l.Rel == rel && res.ApprovalURL == "" {
				res.ApprovalURL = l.Href
			}
		}
	}
	switch o.Status {
	case "COMPLETED":
		for _, cp := range o.PurchaseUnits[0].Payments.Captures {
			if cp.Status == "COMPLETED" && cp.Amount != nil {
				res.Status, res.ApprovalURL = credits.ChargeSucceeded, ""
				res.Currency = cp.Amount.CurrencyCode
				n, ok := cp.Amount.minor(cp.Amount.CurrencyCode)
				if !ok {
					n = -1 // unreadable: never settled as if it matched
				}
				res.Amount = n
			}
		}
	case "VOIDED":
		res.Status, res.ApprovalURL, res.FailureReason = credits.ChargeFailed, "", "paypal: order voided"
	}
	return res, true, nil
}

// captureOrder captures an approved order, idempotently for our payment;
// an order captured before is read back instead.
func (c *Client) captureOrder(ctx context.Context, orderID, requestID string) (order, error) {
	var o order
	err := c.call(ctx, http.MethodPost, "/v2/checkout/orders/"+url.PathEscape(orderID)+"/capture", requestID, nil, &o)
	var ae *apiError
	if errors.As(err, &ae) && ae.has("ORDER_ALREADY_CAPTURED") {
		o = order{}
		err = c.call(ctx, http.MethodGet, "/v2/checkout/orders/"+url.PathEscape(orderID), "", nil, &o)
	}
	return o, err
}

// apiError is PayPal's error answer.
type apiError struct {
	Status  int
	Name    string `json:"name"`
	Message string `json:"message"`
	DebugID string `json:"debug_id"`
	Details []struct {
		Issue string `json:"issue"`
	} `json:"details"`
	// OAuth errors
	OAuthError string `json:"error"`
}

func (e *apiError) Error() string {
	var issues []string
	for _, d := range e.Details {
		issues = append(issues, d.Issue)
	}
	name := e.Name
	if name == "" {
		name = e.OAuthError
	}
	return fmt.Sprintf("HTTP %d %s %s (%s) debug_id %s", e.Status, name, strings.Join(issues, ","), e.Message, e.DebugID)
}

func (e *apiError) has(issue string) bool {
	for _, d := range e.Details {
		if d.Issue == issue {
			return true
		}
	}
	return e.Name == issue
}

// transient says whether a failed call may succeed when retried later.
func transient(err error) bool {
	var ae *apiError
	if !errors.As(err, &ae) {
		return true // network, timeout, a garbled answer
	}
	return ae.Status >= 500 || ae.Status == http.StatusTooManyRequests || ae.Status == http.StatusUnauthorized
}

// call sends a JSON request with a bearer token and decodes the answer
// into out. requestID, when set, is the PayPal-Request-Id. A 401 drops the
// cached token and tries once more with a fresh one.
func (c *Client) call(ctx context.Context, method, path, requestID string, body, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	return c.callRaw(ctx, method, path, requestID, raw, out)
}

func (c *Client) callRaw(ctx context.Context, method, path, requestID string, raw []byte, out any) error {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return err
		}
		var rd io.Reader
		if raw != nil {
			rd = bytes.NewReader(raw)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Prefer", "return=representation")
		}
		if requestID != "" {
			req.Header.Set("PayPal-Request-Id", requestID)
		}
		err = c.do(req, out)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && attempt == 0 {
			c.dropToken(tok)
			continue
		}
		return err
	}
}

// do sends req and decodes a 2xx JSON answer into out, or returns an
// *apiError.
func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		ae := &apiError{Status: resp.StatusCode}
		_ = json.Unmarshal(data, ae)
		return ae
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding %s %s: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// accessToken returns the cached OAuth2 token, fetching a new one with the
// client credentials when it is missing or about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var t struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"` // seconds
	}
	if err := c.do(req, &t); err != nil {
		return "", fmt.Errorf("paypal: getting an access token: %w", err)
	}
	if t.AccessToken == "" {
		return "", errors.New("paypal: the token answer has no access_token")
	}
	life := time.Duration(t.ExpiresIn) * time.Second
	// Renew a little early, so a token never expires in flight.
	life -= min(life/10, 5*time.Minute)
	c.token, c.expires = t.AccessToken, c.now().Add(life)
	return c.token, nil
}

// dropToken forgets tok (PayPal refused it) unless it was renewed already.
func (c *Client) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

var _ credits.Refunder = (*Client)(nil)

// refund is the part of a Payments v2 refund we read, as answered or as a
// PAYMENT.CAPTURE.REFUNDED resource.
type refund struct {
	ID                     string  `json:"id"`
	Status                 string  `json:"status"` // COMPLETED, PENDING, CANCELLED, FAILED
	Amount                 *amount `json:"amount"`
	CustomID               string  `json:"custom_id"`
	SellerPayableBreakdown struct {
		TotalRefundedAmount *amount `json:"total_refunded_amount"`
	} `json:"seller_payable_breakdown"`
	Links []link `json:"links"`
}

// Refund implements credits.Refunder: the order's capture (read back from
// the order, whose id is the payment's reference) is refunded with
// POST /v2/payments/captures/{id}/refund, req.Key as PayPal-Request-Id.
// PayPal refusing it (4xx) or answering FAILED or CANCELLED is a
// *credits.RefundRefused.
func (c *Client) Refund(ctx context.Context, req credits.RefundRequest) (credits.RefundResult, error) {
	var o order
	if err := c.call(ctx, http.MethodGet, "/v2/checkout/orders/"+url.PathEscape(req.ProviderRef), "", nil, &o); err != nil {
		return credits.RefundResult{}, refusedOr(err, "paypal: reading order")
	}
	capID := ""
	for _, u := range o.PurchaseUnits {
		for _, cp := range u.Payments.Captures {
			if cp.Status == "COMPLETED" || cp.Status == "PARTIALLY_REFUNDED" {
				capID = cp.ID
			}
		}
	}
	if capID == "" {
		return credits.RefundResult{}, &credits.RefundRefused{Reason: "paypal: order " + req.ProviderRef + " has no completed capture to refund"}
	}
	body := map[string]any{"amount": amountOf(req.Amount, req.Currency), "custom_id": string(req.PaymentID)}
	if req.Reason != "" {
		body["note_to_payer"] = truncate(req.Reason, 255)
	}
	var r refund
	if err := c.call(ctx, http.MethodPost, "/v2/payments/captures/"+url.PathEscape(capID)+"/refund", req.Key, body, &r); err != nil {
		return credits.RefundResult{}, refusedOr(err, "paypal: refunding capture")
	}
	if r.Status == "FAILED" || r.Status == "CANCELLED" {
		return credits.RefundResult{Ref: r.ID, Status: r.Status}, &credits.RefundRefused{Reason: "paypal: refund " + r.Status}
	}
	return credits.RefundResult{Ref: r.ID, Status: r.Status}, nil
}

// refusedOr is PayPal's definite refusal as a *credits.RefundRefused, any
// other failure as an error of unknown outcome.
func refusedOr(err error, what string) error {
	var ae *apiError
	if errors.As(err, &ae) && !transient(err) {
		return &credits.RefundRefused{Reason: what + ": " + ae.Error()}
	}
	return fmt.Errorf("%s: %w", what, err)
}
