package paypal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/payhook"
)

// The transmission headers PayPal signs each webhook delivery with.
var transmissionHeaders = []struct{ header, field string }{
	{"Paypal-Auth-Algo", "auth_algo"},
	{"Paypal-Cert-Url", "cert_url"},
	{"Paypal-Transmission-Id", "transmission_id"},
	{"Paypal-Transmission-Sig", "transmission_sig"},
	{"Paypal-Transmission-Time", "transmission_time"},
}

// event is a webhook event; resource is decoded per event_type.
type event struct {
	ID        string          `json:"id"`
	EventType string          `json:"event_type"`
	Resource  json.RawMessage `json:"resource"`
}

// errVerification is a delivery PayPal does not vouch for.
var errVerification = errors.New("paypal: webhook signature not verified")

// verify asks PayPal whether it sent this delivery
// (POST /v1/notifications/verify-webhook-signature). errVerification means
// no (400); any other error means we could not ask (500, PayPal retries).
func (c *Client) verify(ctx context.Context, h http.Header, body []byte) error {
	fields := map[string]string{"webhook_id": c.cfg.WebhookID}
	for _, th := range transmissionHeaders {
		v := h.Get(th.header)
		if v == "" {
			return errVerification
		}
		fields[th.field] = v
	}
	// webhook_event must be the event exactly as delivered: re-encoding
	// it (even through json.RawMessage, which compacts and escapes) can
	// change the bytes PayPal checks the signature against.
	head, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	var req bytes.Buffer
	req.Write(head[:len(head)-1])
	req.WriteString(`,"webhook_event":`)
	req.Write(bytes.TrimSpace(body))
	req.WriteString("}")
	var out struct {
		VerificationStatus string `json:"verification_status"`
	}
	err = c.callRaw(ctx, http.MethodPost, "/v1/notifications/verify-webhook-signature", "", req.Bytes(), &out)
	if err != nil && !transient(err) {
		return errors.Join(errVerification, err) // PayPal refused the request as malformed
	}
	if err != nil {
		return err
	}
	if out.VerificationStatus != "SUCCESS" {
		return errVerification
	}
	return nil
}

// Webhook serves POST /webhooks/paypal: each delivery is verified with
// PayPal (400 and nothing changes unless it answers SUCCESS), then
//
//	CHECKOUT.ORDER.APPROVED    captures the order and settles on COMPLETED
//	PAYMENT.CAPTURE.COMPLETED  settles (custom_id is our payment id)
//	PAYMENT.CAPTURE.DENIED     fails a PENDING payment
//	PAYMENT.CAPTURE.DECLINED   fails a PENDING payment
//	PAYMENT.CAPTURE.REFUNDED   takes back the credits of the refund (onRefund)
//	PAYMENT.CAPTURE.REVERSED   takes back the credits of the reversal (a chargeback)
//
// and any other event is answered 200. An event naming no payment of ours
// is logged and answered 200; a database error, or PayPal unreachable, is
// 500 so PayPal delivers it again.
func (c *Client) Webhook(l payhook.Ledger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		body, ok := payhook.ReadBody(w, r)
		if !ok {
			return
		}
		var ev event
		if err := json.Unmarshal(body, &ev); err != nil || ev.EventType == "" {
			payhook.Answer(w, http.StatusBadRequest, "not a PayPal event")
			return
		}
		log := c.log.With("event", ev.ID, "type", ev.EventType)
		if err := c.verify(ctx, r.Header, body); err != nil {
			if errors.Is(err, errVerification) {
				log.WarnContext(ctx, "paypal webhook refused: signature not verified", "error", err)
				payhook.Answer(w, http.StatusBadRequest, "signature not verified")
				return
			}
			log.ErrorContext(ctx, "paypal webhook: could not verify the signature", "error", err)
			payhook.Answer(w, http.StatusInternalServerError, "try again")
			return
		}
		var (
			msg string
			err error
		)
		switch ev.EventType {
		case "CHECKOUT.ORDER.APPROVED":
			msg, err = c.onApproved(ctx, l, log, ev.Resource)
		case "PAYMENT.CAPTURE.COMPLETED", "PAYMENT.CAPTURE.DENIED", "PAYMENT.CAPTURE.DECLINED":
			var cp capture
			if json.Unmarshal(ev.Resource, &cp) != nil || cp.ID == "" {
				msg = "ignored: no capture in the event"
				break
			}
			if ev.EventType != "PAYMENT.CAPTURE.COMPLETED" {
				cp.Status = "DECLINED" // whatever the resource says, PayPal did not pay
			}
			msg, err = c.onCapture(ctx, l, log, gid.ID(cp.CustomID), cp.SupplementaryData.RelatedIDs.OrderID, cp)
		case "PAYMENT.CAPTURE.REFUNDED", "PAYMENT.CAPTURE.REVERSED":
			msg, err = c.onRefund(ctx, l, log, ev)
		default:
			msg = "ignored"
		}
		if err != nil {
			log.ErrorContext(ctx, "paypal webhook: recording the event failed", "error", err)
			payhook.Answer(w, http.StatusInternalServerError, "try again")
			return
		}
		log.InfoContext(ctx, "paypal webhook: "+msg)
		payhook.Answer(w, http.StatusOK, msg)
	})
}

// onApproved captures an order the payer approved and records the capture.
func (c *Client) onApproved(ctx context.Context, l payhook.Ledger, log logger, raw json.RawMessage) (string, error) {
	var o order
	if json.Unmarshal(raw, &o) != nil || o.ID == "" || len(o.PurchaseUnits) == 0 {
		return "ignored: no order in the event", nil
	}
	pu := o.PurchaseUnits[0]
	pay, why, err := payhook.CheckPayment(ctx, l, c.Name(), gid.ID(pu.CustomID))
	if err != nil || why != "" {
		if why != "" {
			log.WarnContext(ctx, "paypal webhook: event ignored: "+why, "payment", pu.CustomID, "order", o.ID)
		}
		return "ignored: " + why, err
	}
	if pay.Status == "SUCCEEDED" {
		return "already settled", nil
	}
	if pu.Amount != nil {
		if n, ok := pu.Amount.minor(pay.Currency); !ok || n != pay.Amount {
			log.ErrorContext(ctx, "paypal webhook: approved order's amount does not match the payment: NOT captured",
				"order", o.ID, "payment", pay.ID, "order_amount", pu.Amount.Value, "order_currency", pu.Amount.CurrencyCode)
			return "ignored: amount mismatch", nil
		}
	}
	captured, err := c.captureOrder(ctx, o.ID, "capture-"+string(pay.ID))
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) && !transient(err) {
			if ae.has("INSTRUMENT_DECLINED") || ae.has("PAYER_ACTION_REQUIRED") || ae.has("ORDER_NOT_APPROVED") {
				if err := l.FailPayment(ctx, pay.ID, o.ID, "paypal: capture refused: "+ae.Error()); err != nil {
					return "", err
				}
				return "capture refused", nil
			}
			log.ErrorContext(ctx, "paypal webhook: capture refused", "order", o.ID, "payment", pay.ID, "error", err)
			return "ignored: capture refused", nil
		}
		return "", err
	}
	for _, u := range captured.PurchaseUnits {
		for _, cp := range u.Payments.Captures {
			return c.onCapture(ctx, l, log, pay.ID, o.ID, cp)
		}
	}
	log.WarnContext(ctx, "paypal webhook: order captured without a capture in the answer", "order", o.ID, "status", captured.Status)
	return "captured, waiting for PAYMENT.CAPTURE.COMPLETED", nil
}

type logger interface {
	ErrorContext(ctx context.Context, msg string, args ...any)
	WarnContext(ctx context.Context, msg string, args ...any)
}

// onCapture records a capture of our payment id: COMPLETED settles it
// (the order id is the payment's reference), DECLINED or FAILED fails a
// PENDING one, PENDING waits for PAYMENT.CAPTURE.COMPLETED.
func (c *Client) onCapture(ctx context.Context, l payhook.Ledger, log logger, id gid.ID, orderID string, cp capture) (string, error) {
	pay, why, err := payhook.CheckPayment(ctx, l, c.Name(), id)
	if err != nil || why != "" {
		if why != "" {
			log.WarnContext(ctx, "paypal webhook: event ignored: "+why, "payment", id, "capture", cp.ID)
		}
		return "ignored: " + why, err
	}
	ref := orderID
	if ref == "" {
		ref = cp.ID
	}
	switch cp.Status {
	case "COMPLETED":
		if cp.Amount == nil {
			return "ignored: capture without an amount", nil
		}
		if n, ok := cp.Amount.minor(pay.Currency); !ok || n != pay.Amount {
			log.ErrorContext(ctx, "paypal webhook: capture amount does not match the payment, NOT settled: reconcile by hand",
				"payment", pay.ID, "capture", cp.ID, "capture_amount", cp.Amount.Value, "capture_currency", cp.Amount.CurrencyCode)
			return "ignored: amount mismatch", nil
		}
		if err := l.SettlePayment(ctx, pay.ID, ref); err != nil {
			return "", err
		}
		return "settled", nil
	case "DECLINED", "FAILED":
		reason := "paypal: capture " + cp.Status
		if cp.StatusDetails.Reason != "" {
			reason += " (" + cp.StatusDetails.Reason + ")"
		}
		if err := l.FailPayment(ctx, pay.ID, ref, reason); err != nil {
			return "", err
		}
		return "failed", nil
	default:
		return "capture " + cp.Status + ": waiting", nil
	}
}

// onRefund applies a refund or reversal of a capture of our payment (its
// custom_id). A refund that carries the capture's cumulative refunded
// total applies only the increase over what we recorded; otherwise (a
// reversal) its amount is applied once per resource id.
func (c *Client) onRefund(ctx context.Context, l payhook.Ledger, log logger, ev event) (string, error) {
	rl, ok := l.(payhook.Refunds)
	if !ok {
		return "ignored: refunds are not recorded here", nil
	}
	var r refund
	if json.Unmarshal(ev.Resource, &r) != nil || r.ID == "" {
		return "ignored: no refund in the event", nil
	}
	pay, why, err := payhook.CheckPayment(ctx, l, c.Name(), gid.ID(r.CustomID))
	if err != nil || why != "" {
		if why != "" {
			log.WarnContext(ctx, "paypal webhook: event ignored: "+why, "payment", r.CustomID, "refund", r.ID)
		}
		return "ignored: " + why, err
	}
	ref := credits.ProviderRefund{PaymentID: pay.ID, Provider: c.Name(), Action: "paypalWebhook",
		What: strings.ToLower(ev.EventType) + " " + ev.ID + " (" + r.ID + ")"}
	switch total := r.SellerPayableBreakdown.TotalRefundedAmount; {
	case total != nil:
		n, ok := total.minor(pay.Currency)
		if !ok {
			log.ErrorContext(ctx, "paypal webhook: refund in another currency, NOT applied: reconcile by hand", "payment", pay.ID, "refund", r.ID)
			return "ignored: currency mismatch", nil
		}
		ref.Total, ref.Cumulative, ref.EventID = n, true, ev.ID
	case r.Amount != nil:
		n, ok := r.Amount.minor(pay.Currency)
		if !ok {
			log.ErrorContext(ctx, "paypal webhook: refund in another currency, NOT applied: reconcile by hand", "payment", pay.ID, "refund", r.ID)
			return "ignored: currency mismatch", nil
		}
		ref.Total, ref.EventID = n, strings.ToLower(ev.EventType)+":"+r.ID
	default: // a reversal without an amount takes the whole capture
		ref.Total, ref.EventID = pay.Amount, strings.ToLower(ev.EventType)+":"+r.ID
	}
	applied, err := rl.ApplyRefund(ctx, ref)
	if err != nil {
		return "", err
	}
	if !applied {
		return "already recorded", nil
	}
	return "refund recorded", nil
}
