// Package stripe takes card payments and keeps cards on file through
// Stripe, with the official client (github.com/stripe/stripe-go/v86): it
// implements credits.Provider and credits.CardVault, and serves Stripe's
// signed webhook.
//
// A purchase creates a PaymentIntent carrying our payment id in its
// metadata (creditgate_payment) and as its Idempotency-Key; the browser
// confirms it with the client secret; payment_intent.succeeded settles the
// payment, found by that metadata, never by the PaymentIntent's id alone.
package stripe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	sg "github.com/stripe/stripe-go/v86"

	"creditgate/credits"
	"creditgate/gid"
)

// MetadataKey names our payment id in a PaymentIntent's metadata.
const MetadataKey = "creditgate_payment"

// accountKey names our account id in a Customer's metadata.
const accountKey = "creditgate_account"

// Config configures the client.
type Config struct {
	SecretKey     string // sk_… or rk_…
	WebhookSecret string // whsec_…: verifies Stripe-Signature
	// APIURL overrides https://api.stripe.com (stripe-mock in tests).
	APIURL     string
	HTTPClient *http.Client // default: a client with a 30 s timeout
	Logger     *slog.Logger
}

// Client is the Stripe provider and card vault.
type Client struct {
	sc            *sg.Client
	webhookSecret string
	log           *slog.Logger
}

var (
	_ credits.Provider  = (*Client)(nil)
	_ credits.CardVault = (*Client)(nil)
)

// New returns a client; it does not touch the network.
func New(cfg Config) *Client {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	bc := &sg.BackendConfig{
		HTTPClient: hc,
		// stripe-go's own logger would print request failures to stderr;
		// we log what matters, through slog, without secrets.
		LeveledLogger:     &sg.LeveledLogger{Level: sg.LevelNull},
		MaxNetworkRetries: sg.Int64(2), // safe: every write carries an Idempotency-Key or is itself idempotent
	}
	if cfg.APIURL != "" {
		bc.URL = sg.String(strings.TrimSuffix(cfg.APIURL, "/"))
	}
	return &Client{
		sc:            sg.NewClient(cfg.SecretKey, sg.WithBackends(sg.NewBackendsWithConfig(bc))),
		webhookSecret: cfg.WebhookSecret,
		log:           log,
	}
}

// Name implements credits.Provider and credits.CardVault.
func (*Client) Name() string { return "stripe" }

// Charge implements credits.Provider: a PaymentIntent the browser confirms
// (Stripe.js / Payment Element) with the client secret. Nothing is
// credited until payment_intent.succeeded arrives.
func (c *Client) Charge(ctx context.Context, req credits.ChargeRequest) (credits.ChargeResult, error) {
	p := &sg.PaymentIntentCreateParams{
		Amount:                  sg.Int64(req.Amount),
		Currency:                sg.String(strings.ToLower(req.Currency)),
		AutomaticPaymentMethods: &sg.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: sg.Bool(true)},
	}
	pi, declinedRes, err := c.createIntent(ctx, p, req, "creating payment intent")
	if pi == nil {
		return declinedRes, err
	}
	switch pi.Status {
	case sg.PaymentIntentStatusSucceeded:
		return credits.ChargeResult{Status: credits.ChargeSucceeded, ProviderRef: pi.ID}, nil
	case sg.PaymentIntentStatusCanceled:
		return credits.ChargeResult{Status: credits.ChargeFailed, ProviderRef: pi.ID, FailureReason: "stripe: payment intent canceled"}, nil
	}
	return credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: pi.ID, ClientSecret: pi.ClientSecret}, nil
}

// Lookup implements credits.Provider: the PaymentIntent of our payment, by
// its id when we recorded it (read-after-write consistent), else found by
// our payment id in its metadata with the Search API. Search lags writes
// (under a minute, up to an hour in an outage), so not found is only "not
// yet searchable" for a young intent: a retry then creates the intent with
// the same Idempotency-Key, which Stripe answers with the first one for 24
// hours. An intent whose metadata names another payment is never taken.
func (c *Client) Lookup(ctx context.Context, paymentID gid.ID, providerRef string) (credits.ChargeResult, bool, error) {
	var pi *sg.PaymentIntent
	if providerRef != "" {
		got, err := c.sc.V1PaymentIntents.Retrieve(ctx, providerRef, nil)
		var se *sg.Error
		if errors.As(err, &se) && se.Code == sg.ErrorCodeResourceMissing {
			return credits.ChargeResult{}, false, nil
		}
		if err != nil {
			return credits.ChargeResult{}, false, fmt.Errorf("stripe: reading payment intent: %w", describe(err))
		}
		if got.Metadata[MetadataKey] == string(paymentID) {
			pi = got
		}
	} else {
		p := &sg.PaymentIntentSearchParams{SearchParams: sg.SearchParams{
			Query: fmt.Sprintf("metadata['%s']:'%s'", MetadataKey, paymentID), Limit: sg.Int64(10), Single: true,
		}}
		for got, err := range c.sc.V1PaymentIntents.Search(ctx, p).All(ctx) {
			if err != nil {
				return credits.ChargeResult{}, false, fmt.Errorf("stripe: searching payment intents: %w", describe(err))
			}
			if got.Metadata[MetadataKey] != string(paymentID) {
				continue
			}
			// One intent per payment (the Idempotency-Key); should there be
			// more, the one that took the money wins.
			if pi == nil || got.Status == sg.PaymentIntentStatusSucceeded {
				pi = got
			}
		}
	}
	if pi == nil {
		return credits.ChargeResult{}, false, nil
	}
	res := credits.ChargeResult{ProviderRef: pi.ID, Amount: pi.Amount, Currency: strings.ToUpper(string(pi.Currency))}
	switch pi.Status {
	case sg.PaymentIntentStatusSucceeded:
		res.Status = credits.ChargeSucceeded
	case sg.PaymentIntentStatusCanceled:
		res.Status, res.FailureReason = credits.ChargeFailed, "stripe: payment intent canceled"
		if pi.CancellationReason != "" {
			res.FailureReason += " (" + string(pi.CancellationReason) + ")"
		}
	default:
		// Waiting for the payer or processing: the webhook settles it.
		res.Status, res.ClientSecret = credits.ChargeRequiresAction, pi.ClientSecret
	}
	return res, true, nil
}

// SetupCard implements credits.CardVault: a SetupIntent for off-session
// use on the customer, created first when the account has none.
func (c *Client) SetupCard(ctx context.Context, req credits.CardSetupRequest) (credits.CardSetup, error) {
	cus, err := c.customer(ctx, req.CustomerRef, req.AccountID, req.Name, req.Email)
	if err != nil {
		return credits.CardSetup{}, err
	}
	p := &sg.SetupIntentCreateParams{
		Customer:                sg.String(cus),
		Usage:                   sg.String(string(sg.SetupIntentUsageOffSession)),
		AutomaticPaymentMethods: &sg.SetupIntentCreateAutomaticPaymentMethodsParams{Enabled: sg.Bool(true)},
		Metadata:                map[string]string{accountKey: string(req.AccountID)},
	}
	si, err := c.sc.V1SetupIntents.Create(ctx, p)
	if err != nil {
		return credits.CardSetup{}, fmt.Errorf("stripe: creating setup intent: %w", describe(err))
	}
	return credits.CardSetup{CustomerRef: cus, SetupRef: si.ID, ClientSecret: si.ClientSecret}, nil
}

// SaveCard implements credits.CardVault: attach the confirmed payment
// method to the customer and read back brand, last four digits and expiry.
func (c *Client) SaveCard(ctx context.Context, req credits.SaveCardRequest) (credits.SavedCard, error) {
	if req.PaymentMethodRef == "" {
		return credits.SavedCard{}, errors.New("stripe: no payment method to save")
	}
	cus, err := c.customer(ctx, req.CustomerRef, req.AccountID, req.Name, req.Email)
	if err != nil {
		return credits.SavedCard{}, err
	}
	pm, err := c.sc.V1PaymentMethods.Attach(ctx, req.PaymentMethodRef, &sg.PaymentMethodAttachParams{Customer: sg.String(cus)})
	if err != nil {
		return credits.SavedCard{}, fmt.Errorf("stripe: attaching payment method: %w", describe(err))
	}
	if pm.Card == nil {
		return credits.SavedCard{}, fmt.Errorf("stripe: payment method %s is a %s, not a card", pm.ID, pm.Type)
	}
	return credits.SavedCard{
		CustomerRef: cus, Ref: pm.ID, Brand: string(pm.Card.Brand), Last4: pm.Card.Last4,
		ExpMonth: int(pm.Card.ExpMonth), ExpYear: int(pm.Card.ExpYear),
	}, nil
}

// RemoveCard implements credits.CardVault: detach; a payment method that is
// gone or no longer attached is no error.
func (c *Client) RemoveCard(ctx context.Context, cardRef string) error {
	_, err := c.sc.V1PaymentMethods.Detach(ctx, cardRef, nil)
	var se *sg.Error
	if errors.As(err, &se) && (se.Code == sg.ErrorCodeResourceMissing ||
		(se.Type == sg.ErrorTypeInvalidRequest && strings.Contains(se.Msg, "not attached"))) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stripe: detaching payment method: %w", describe(err))
	}
	return nil
}

// ChargeCard implements credits.CardVault: an off-session PaymentIntent
// confirmed at once on the saved card, idempotent on our payment id. A
// decline, or a bank that wants the cardholder to authenticate, is
// ChargeFailed with the reason; an error means the outcome is unknown.
func (c *Client) ChargeCard(ctx context.Context, req credits.CardCharge) (credits.ChargeResult, error) {
	p := &sg.PaymentIntentCreateParams{
		Amount:        sg.Int64(req.Amount),
		Currency:      sg.String(strings.ToLower(req.Currency)),
		Customer:      sg.String(req.CustomerRef),
		PaymentMethod: sg.String(req.CardRef),
		Confirm:       sg.Bool(true),
		OffSession:    sg.Bool(true),
	}
	pi, declinedRes, err := c.createIntent(ctx, p, req.ChargeRequest, "charging saved card")
	if pi == nil {
		return declinedRes, err
	}
	switch pi.Status {
	case sg.PaymentIntentStatusSucceeded:
		return credits.ChargeResult{Status: credits.ChargeSucceeded, ProviderRef: pi.ID}, nil
	case sg.PaymentIntentStatusProcessing, sg.PaymentIntentStatusRequiresCapture:
		// The webhook settles it.
		return credits.ChargeResult{Status: credits.ChargeRequiresAction, ProviderRef: pi.ID}, nil
	case sg.PaymentIntentStatusRequiresAction:
		return credits.ChargeResult{Status: credits.ChargeFailed, ProviderRef: pi.ID, FailureReason: reasonAuthRequired}, nil
	default:
		reason := "stripe: payment intent " + string(pi.Status)
		if pi.LastPaymentError != nil {
			reason = failureReason(pi.LastPaymentError)
		}
		return credits.ChargeResult{Status: credits.ChargeFailed, ProviderRef: pi.ID, FailureReason: reason}, nil
	}
}

// createIntent creates a PaymentIntent carrying our payment id in its
// metadata and as the idempotency key, so a retried charge is the same
// charge. A card error comes back as a failed charge (pi nil, err nil); any
// other error means the outcome is unknown.
func (c *Client) createIntent(ctx context.Context, p *sg.PaymentIntentCreateParams, req credits.ChargeRequest, what string) (*sg.PaymentIntent, credits.ChargeResult, error) {
	p.Metadata = map[string]string{MetadataKey: string(req.PaymentID)}
	if req.Description != "" {
		p.Description = sg.String(req.Description)
	}
	p.SetIdempotencyKey(string(req.PaymentID))
	pi, err := c.sc.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		if res, ok := declined(err); ok {
			return nil, res, nil
		}
		return nil, credits.ChargeResult{}, fmt.Errorf("stripe: %s: %w", what, describe(err))
	}
	return pi, credits.ChargeResult{}, nil
}

const reasonAuthRequired = "authentication_required: the card's bank asks the cardholder to authenticate this payment; " +
	"it cannot be charged off-session, ask them to buy credits with the card once"

// declined turns a Stripe card error (a decline, authentication required)
// into a failed charge.
func declined(err error) (credits.ChargeResult, bool) {
	var se *sg.Error
	if !errors.As(err, &se) || se.Type != sg.ErrorTypeCard {
		return credits.ChargeResult{}, false
	}
	res := credits.ChargeResult{Status: credits.ChargeFailed, FailureReason: failureReason(se)}
	if se.PaymentIntent != nil {
		res.ProviderRef = se.PaymentIntent.ID
	}
	return res, true
}

// failureReason is "code: message" of a Stripe error (no card data: Stripe's
// messages name the problem, never the number).
func failureReason(se *sg.Error) string {
	if se.Code == sg.ErrorCodeAuthenticationRequired {
		return reasonAuthRequired
	}
	code := string(se.Code)
	if se.DeclineCode != "" {
		code += "/" + string(se.DeclineCode)
	}
	if code == "" {
		code = string(se.Type)
	}
	if se.Msg == "" {
		return code
	}
	return code + ": " + se.Msg
}

// describe shortens a Stripe API error to type, code, message and request
// id (stripe-go's Error() is the whole JSON object).
func describe(err error) error {
	var se *sg.Error
	if !errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("%s (%s %s, HTTP %d, request %s)", se.Msg, se.Type, se.Code, se.HTTPStatusCode, se.RequestID)
}

// customer returns ref, or creates a customer for the account.
func (c *Client) customer(ctx context.Context, ref string, acc gid.ID, name, email string) (string, error) {
	if ref != "" {
		return ref, nil
	}
	p := &sg.CustomerCreateParams{Metadata: map[string]string{accountKey: string(acc)}}
	if name != "" {
		p.Name = sg.String(name)
	}
	if email != "" {
		p.Email = sg.String(email)
	}
	cus, err := c.sc.V1Customers.Create(ctx, p)
	if err != nil {
		return "", fmt.Errorf("stripe: creating customer: %w", describe(err))
	}
	return cus.ID, nil
}

var _ credits.Refunder = (*Client)(nil)

// Refund implements credits.Refunder with the Refunds API: a refund of the
// payment's PaymentIntent, idempotent on req.Key. Stripe refusing it (the
// charge refunded or disputed already, an amount beyond what is left) is
// a *credits.RefundRefused; so is a refund that comes back failed or
// canceled. A pending refund is accepted: Stripe completes it.
func (c *Client) Refund(ctx context.Context, req credits.RefundRequest) (credits.RefundResult, error) {
	if req.ProviderRef == "" {
		return credits.RefundResult{}, &credits.RefundRefused{Reason: "stripe: the payment has no payment intent to refund"}
	}
	p := &sg.RefundCreateParams{
		PaymentIntent: sg.String(req.ProviderRef),
		Amount:        sg.Int64(req.Amount),
		Reason:        sg.String(string(sg.RefundReasonRequestedByCustomer)),
		Metadata:      map[string]string{MetadataKey: string(req.PaymentID)},
	}
	p.SetIdempotencyKey(req.Key)
	r, err := c.sc.V1Refunds.Create(ctx, p)
	if err != nil {
		var se *sg.Error
		if errors.As(err, &se) && se.HTTPStatusCode >= 400 && se.HTTPStatusCode < 500 &&
			se.HTTPStatusCode != http.StatusTooManyRequests && se.HTTPStatusCode != http.StatusUnauthorized && se.HTTPStatusCode != http.StatusConflict {
			return credits.RefundResult{}, &credits.RefundRefused{Reason: "stripe: " + failureReason(se)}
		}
		return credits.RefundResult{}, fmt.Errorf("stripe: creating refund: %w", describe(err))
	}
	if r.Status == sg.RefundStatusFailed || r.Status == sg.RefundStatusCanceled {
		why := "stripe: refund " + string(r.Status)
		if r.FailureReason != "" {
			why += " (" + string(r.FailureReason) + ")"
		}
		return credits.RefundResult{Ref: r.ID, Status: string(r.Status)}, &credits.RefundRefused{Reason: why}
	}
	return credits.RefundResult{Ref: r.ID, Status: string(r.Status)}, nil
}
