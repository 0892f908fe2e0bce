package stripe

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v86/webhook"

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/payhook"
)

// SignatureHeader carries Stripe's signature: t=<unix>,v1=<hex HMAC-SHA256
// of "<t>.<body>" with the endpoint's signing secret>.
const SignatureHeader = "Stripe-Signature"

// intent is the part of a PaymentIntent the webhook reads. These fields
// mean the same in every Stripe API version.
type intent struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	Amount           int64             `json:"amount"`
	Currency         string            `json:"currency"`
	Status           string            `json:"status"`
	Metadata         map[string]string `json:"metadata"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
	} `json:"last_payment_error"`
	CancellationReason string `json:"cancellation_reason"`
}

// Webhook serves POST /webhooks/stripe: it verifies Stripe-Signature
// (400 and nothing changes when it does not hold, or is older than five
// minutes), then
//
//	payment_intent.succeeded       settles the payment (once, however often delivered)
//	payment_intent.payment_failed  fails a PENDING payment with Stripe's reason
//	payment_intent.canceled        fails a PENDING payment
//	charge.refunded                takes back the credits of amount_refunded's increase (onRefund)
//	charge.dispute.created         takes back the credits of the disputed amount, once per dispute
//
// and answers 200 to any other event. An event naming no payment of ours,
// or a PaymentIntent other than the one recorded on the payment, is
// logged and answered 200 (Stripe would retry it for days in vain); a
// database error is 500, so Stripe retries.
func (c *Client) Webhook(l payhook.Ledger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := payhook.ReadBody(w, r)
		if !ok {
			return
		}
		// The API version of the endpoint is chosen in Stripe's dashboard
		// and may lag the one stripe-go v86 is generated for; refusing
		// such events would make Stripe retry them and then disable the
		// endpoint. The signature is checked all the same, and we decode
		// only fields that every API version spells the same (intent).
		ev, err := webhook.ConstructEventWithOptions(body, r.Header.Get(SignatureHeader), c.webhookSecret,
			webhook.ConstructEventOptions{IgnoreAPIVersionMismatch: true})
		if err != nil {
			c.log.WarnContext(r.Context(), "stripe webhook refused", "error", sigError(err))
			payhook.Answer(w, http.StatusBadRequest, "invalid signature or payload")
			return
		}
		log := c.log.With("event", ev.ID, "type", string(ev.Type))
		switch ev.Type {
		case "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled":
		case "charge.refunded", "charge.dispute.created":
			c.onRefund(w, r, l, log, ev.ID, string(ev.Type), ev.Data.Raw)
			return
		default:
			log.DebugContext(r.Context(), "stripe webhook: event ignored")
			payhook.Answer(w, http.StatusOK, "ignored")
			return
		}
		var pi intent
		if ev.Data == nil || json.Unmarshal(ev.Data.Raw, &pi) != nil || pi.Object != "payment_intent" || pi.ID == "" {
			log.ErrorContext(r.Context(), "stripe webhook: event without a payment intent")
			payhook.Answer(w, http.StatusOK, "ignored: no payment intent")
			return
		}
		ctx := r.Context()
		log = log.With("payment_intent", pi.ID)
		pay, why, err := payhook.CheckPayment(ctx, l, c.Name(), gid.ID(pi.Metadata[MetadataKey]))
		if err != nil {
			log.ErrorContext(ctx, "stripe webhook: loading payment", "error", err)
			payhook.Answer(w, http.StatusInternalServerError, "try again")
			return
		}
		if why != "" {
			log.WarnContext(ctx, "stripe webhook: event ignored: "+why, "payment", pi.Metadata[MetadataKey])
			payhook.Answer(w, http.StatusOK, "ignored: "+why)
			return
		}
		log = log.With("payment", pay.ID)
		if pay.ProviderRef != "" && pay.ProviderRef != pi.ID {
			// Our payment is charged through one PaymentIntent: an event of
			// another may neither settle it nor take its reference. (Two
			// intents for one payment mean its idempotency key was reused
			// after it expired: a person decides, and refunds if need be.)
			log.ErrorContext(ctx, "stripe webhook: the event's payment intent is not the payment's, payment NOT changed: reconcile by hand",
				"payment_provider_ref", pay.ProviderRef)
			payhook.Answer(w, http.StatusOK, "ignored: another payment intent")
			return
		}
		switch ev.Type {
		case "payment_intent.succeeded":
			if pi.Amount != pay.Amount || !strings.EqualFold(pi.Currency, pay.Currency) {
				// Money arrived that does not match what we asked for:
				// crediting either amount could be wrong. A person decides.
				log.ErrorContext(ctx, "stripe webhook: amount mismatch, payment NOT settled: reconcile by hand",
					"stripe_amount", pi.Amount, "stripe_currency", pi.Currency, "amount", pay.Amount, "currency", pay.Currency)
				payhook.Answer(w, http.StatusOK, "ignored: amount mismatch")
				return
			}
			err = l.SettlePayment(ctx, pay.ID, pi.ID)
		case "payment_intent.payment_failed":
			reason := "stripe: payment failed"
			if e := pi.LastPaymentError; e != nil {
				code := e.Code
				if e.DeclineCode != "" {
					code += "/" + e.DeclineCode
				}
				reason = strings.TrimPrefix(code+": "+e.Message, ": ")
			}
			err = l.FailPayment(ctx, pay.ID, pi.ID, reason)
		case "payment_intent.canceled":
			reason := "stripe: payment intent canceled"
			if pi.CancellationReason != "" {
				reason += " (" + pi.CancellationReason + ")"
			}
			err = l.FailPayment(ctx, pay.ID, pi.ID, reason)
		}
		if err != nil {
			log.ErrorContext(ctx, "stripe webhook: recording the event failed", "error", err)
			payhook.Answer(w, http.StatusInternalServerError, "try again")
			return
		}
		log.InfoContext(ctx, "stripe webhook: event recorded")
		payhook.Answer(w, http.StatusOK, "ok")
	})
}

// sigError names why an event was refused without echoing the payload.
func sigError(err error) string {
	for _, known := range []error{webhook.ErrNotSigned, webhook.ErrInvalidHeader, webhook.ErrNoValidSignature, webhook.ErrTooOld} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	return "malformed event"
}

// refunded is the part of a Charge (charge.refunded) or a Dispute
// (charge.dispute.created) the webhook reads; payment_intent is the id
// (events are not expanded).
type refunded struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	Amount         int64  `json:"amount"`
	AmountRefunded int64  `json:"amount_refunded"`
	Currency       string `json:"currency"`
	PaymentIntent  string `json:"payment_intent"`
}

// onRefund applies a refund (the charge's amount_refunded, cumulative:
// only its increase over what we recorded counts, so a replay or an older
// event changes nothing) or a dispute (its amount, once per dispute) to
// the payment of the charge's PaymentIntent.
func (c *Client) onRefund(w http.ResponseWriter, r *http.Request, l payhook.Ledger, log *slog.Logger, evID, typ string, raw []byte) {
	ctx := r.Context()
	rl, ok := l.(payhook.Refunds)
	var obj refunded
	want := map[string]string{"charge.refunded": "charge", "charge.dispute.created": "dispute"}[typ]
	switch {
	case !ok:
		payhook.Answer(w, http.StatusOK, "ignored: refunds are not recorded here")
		return
	case json.Unmarshal(raw, &obj) != nil || obj.Object != want || obj.PaymentIntent == "":
		log.ErrorContext(ctx, "stripe webhook: event without a "+want+" of a payment intent")
		payhook.Answer(w, http.StatusOK, "ignored: no "+want)
		return
	}
	log = log.With("payment_intent", obj.PaymentIntent, want, obj.ID)
	pay, err := rl.PaymentByRef(ctx, c.Name(), obj.PaymentIntent)
	if errors.Is(err, payhook.ErrUnknownPayment) {
		log.WarnContext(ctx, "stripe webhook: event ignored: no payment of ours has this payment intent")
		payhook.Answer(w, http.StatusOK, "ignored: no such payment")
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "stripe webhook: loading payment", "error", err)
		payhook.Answer(w, http.StatusInternalServerError, "try again")
		return
	}
	if !strings.EqualFold(obj.Currency, pay.Currency) {
		log.ErrorContext(ctx, "stripe webhook: currency mismatch, NOT applied: reconcile by hand", "payment", pay.ID, "currency", obj.Currency)
		payhook.Answer(w, http.StatusOK, "ignored: currency mismatch")
		return
	}
	ref := credits.ProviderRefund{PaymentID: pay.ID, Provider: c.Name(), Action: "stripeWebhook"}
	if typ == "charge.refunded" {
		ref.Total, ref.Cumulative, ref.EventID = obj.AmountRefunded, true, evID
		ref.What = "charge.refunded " + evID + " (" + obj.ID + ")"
	} else {
		ref.Total, ref.EventID = obj.Amount, "dispute:"+obj.ID
		ref.What = "charge.dispute.created " + obj.ID
	}
	applied, err := rl.ApplyRefund(ctx, ref)
	if err != nil {
		log.ErrorContext(ctx, "stripe webhook: recording the refund failed", "payment", pay.ID, "error", err)
		payhook.Answer(w, http.StatusInternalServerError, "try again")
		return
	}
	if !applied {
		payhook.Answer(w, http.StatusOK, "already recorded")
		return
	}
	log.InfoContext(ctx, "stripe webhook: refund recorded", "payment", pay.ID)
	payhook.Answer(w, http.StatusOK, "ok")
}
