package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"creditgate/credits"
	"creditgate/payhook"
	"creditgate/paypal"
	"creditgate/stripe"
)

// PaymentsConfig selects the payment providers. With none set, the
// built-in sandbox takes CARD and PAYPAL and settles at once.
type PaymentsConfig struct {
	StripeSecretKey     string // STRIPE_SECRET_KEY: CARD goes to Stripe, which keeps saved cards
	StripeWebhookSecret string // STRIPE_WEBHOOK_SECRET (whsec_…)
	StripeAPIURL        string // STRIPE_API_URL: stripe-mock in tests; default Stripe's API
	// STRIPE_PUBLISHABLE_KEY (pk_…): the portal adds cards with Stripe.js.
	StripePublishableKey string

	PayPalClientID     string // PAYPAL_CLIENT_ID + PAYPAL_CLIENT_SECRET: PAYPAL goes to PayPal
	PayPalClientSecret string
	PayPalWebhookID    string // PAYPAL_WEBHOOK_ID
	PayPalAPIURL       string // PAYPAL_API_URL, default PayPal's sandbox
	PayPalReturnURL    string // PAYPAL_RETURN_URL, PAYPAL_CANCEL_URL: where PayPal sends the payer back
	PayPalCancelURL    string
}

// loadPayments reads the provider settings and reports every problem.
func loadPayments(getenv func(string) string, production bool) (PaymentsConfig, []string) {
	p := PaymentsConfig{
		StripeSecretKey:      getenv("STRIPE_SECRET_KEY"),
		StripeWebhookSecret:  getenv("STRIPE_WEBHOOK_SECRET"),
		StripeAPIURL:         getenv("STRIPE_API_URL"),
		StripePublishableKey: getenv("STRIPE_PUBLISHABLE_KEY"),
		PayPalClientID:       getenv("PAYPAL_CLIENT_ID"),
		PayPalClientSecret:   getenv("PAYPAL_CLIENT_SECRET"),
		PayPalWebhookID:      getenv("PAYPAL_WEBHOOK_ID"),
		PayPalAPIURL:         or(getenv("PAYPAL_API_URL"), paypal.SandboxURL),
		PayPalReturnURL:      getenv("PAYPAL_RETURN_URL"),
		PayPalCancelURL:      getenv("PAYPAL_CANCEL_URL"),
	}
	var problems []string
	switch {
	case p.StripeSecretKey == "" && (p.StripeWebhookSecret != "" || p.StripeAPIURL != ""):
		problems = append(problems, "STRIPE_WEBHOOK_SECRET or STRIPE_API_URL is set without STRIPE_SECRET_KEY")
	case p.StripeSecretKey != "" && p.StripeWebhookSecret == "" && production:
		problems = append(problems, "STRIPE_WEBHOOK_SECRET is required with STRIPE_SECRET_KEY in production: without it no card payment would ever be credited")
	}
	switch pk := p.StripePublishableKey; {
	case pk != "" && p.StripeSecretKey == "":
		problems = append(problems, "STRIPE_PUBLISHABLE_KEY is set without STRIPE_SECRET_KEY")
	case pk != "" && !strings.HasPrefix(pk, "pk_test_") && !strings.HasPrefix(pk, "pk_live_"):
		problems = append(problems, "STRIPE_PUBLISHABLE_KEY: want a publishable key, pk_test_… or pk_live_…")
	}
	switch {
	case (p.PayPalClientID == "") != (p.PayPalClientSecret == ""):
		problems = append(problems, "PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET go together")
	case p.PayPalClientID == "" && (p.PayPalWebhookID != "" || getenv("PAYPAL_API_URL") != ""):
		problems = append(problems, "PAYPAL_WEBHOOK_ID or PAYPAL_API_URL is set without PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET")
	case p.PayPalClientID != "" && p.PayPalWebhookID == "" && production:
		problems = append(problems, "PAYPAL_WEBHOOK_ID is required with PAYPAL_CLIENT_ID in production: without it no PayPal payment would ever be credited")
	}
	for _, u := range []struct{ name, val string }{
		{"STRIPE_API_URL", p.StripeAPIURL}, {"PAYPAL_API_URL", p.PayPalAPIURL},
		{"PAYPAL_RETURN_URL", p.PayPalReturnURL}, {"PAYPAL_CANCEL_URL", p.PayPalCancelURL},
	} {
		if u.val == "" {
			continue
		}
		pu, err := url.Parse(u.val)
		switch {
		case err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "":
			problems = append(problems, fmt.Sprintf("%s=%q: want an http(s) URL", u.name, u.val))
		case production && pu.Scheme != "https":
			problems = append(problems, fmt.Sprintf("%s must be an https:// URL in production", u.name))
		}
	}
	return p, problems
}

// payments are the configured providers' webhook handlers; nil: the
// provider is not configured and its route answers 404.
type payments struct {
	stripeHook, paypalHook http.Handler
}

// usePayments routes CARD and PAYPAL to the configured providers (the
// sandbox otherwise) and returns their webhooks.
func usePayments(cfg PaymentsConfig, svc *credits.Service, log *slog.Logger) payments {
	var out payments
	ledger := payhook.FromService(svc)
	if cfg.StripeSecretKey != "" {
		sc := stripe.New(stripe.Config{
			SecretKey: cfg.StripeSecretKey, WebhookSecret: cfg.StripeWebhookSecret,
			APIURL: cfg.StripeAPIURL, Logger: log,
		})
		svc.UseProvider("CARD", sc)
		svc.UseVault(sc)
		if cfg.StripeWebhookSecret != "" {
			out.stripeHook = sc.Webhook(ledger)
		} else {
			log.Warn("STRIPE_SECRET_KEY is set without STRIPE_WEBHOOK_SECRET: card payments will never be credited")
		}
	}
	if cfg.PayPalClientID != "" {
		pc := paypal.New(paypal.Config{
			ClientID: cfg.PayPalClientID, ClientSecret: cfg.PayPalClientSecret, WebhookID: cfg.PayPalWebhookID,
			APIURL: cfg.PayPalAPIURL, ReturnURL: cfg.PayPalReturnURL, CancelURL: cfg.PayPalCancelURL, Logger: log,
		})
		svc.UseProvider("PAYPAL", pc)
		if cfg.PayPalWebhookID != "" {
			out.paypalHook = pc.Webhook(ledger)
		} else {
			log.Warn("PAYPAL_CLIENT_ID is set without PAYPAL_WEBHOOK_ID: PayPal payments will never be credited")
		}
	}
	return out
}
