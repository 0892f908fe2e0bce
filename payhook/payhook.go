// Package payhook is what the payment providers' webhooks (packages stripe
// and paypal) share: the ledger they settle into, reading a bounded body,
// and answering the provider.
//
// A webhook finds the payment by OUR id, which the provider carries in its
// metadata (Stripe's metadata.creditgate_payment, PayPal's custom_id), and
// checks the payment belongs to that provider and, on success, that the
// amount and currency match before it settles.
package payhook

import (
	"context"
	"creditgate/money"
	"errors"
	"fmt"
	"io"
	"net/http"

	"creditgate/credits"
	"creditgate/ent"
	"creditgate/ent/payment"
	"creditgate/gid"
)

// MaxBody is the largest webhook body read; a larger one is refused with
// 413. Provider events are a few kilobytes.
const MaxBody = 256 << 10

// ErrUnknownPayment is returned by Ledger.Payment for an id we never issued.
var ErrUnknownPayment = errors.New("unknown payment")

// Payment is what a webhook needs to know about one of our payments.
type Payment struct {
	ID       gid.ID
	Provider string // "stripe", "paypal", "sandbox"
	Status   string // PENDING, SUCCEEDED, FAILED
	Amount   int64  // minor units charged
	Currency string // ISO 4217, upper case
	// ProviderRef is the provider's id of the charge as we recorded it
	// ("" before the provider answered).
	ProviderRef string
}

// Ledger settles and fails payments; *credits.Service through FromService.
type Ledger interface {
	// Payment loads one payment, ErrUnknownPayment when there is none;
	// any other error is transient (the provider should retry).
	Payment(ctx context.Context, id gid.ID) (Payment, error)
	// SettlePayment credits the payment exactly once (idempotent).
	SettlePayment(ctx context.Context, id gid.ID, providerRef string) error
	// FailPayment marks a PENDING payment failed.
	FailPayment(ctx context.Context, id gid.ID, providerRef, reason string) error
}

// FromService is the Ledger of the credits domain.
func FromService(svc *credits.Service) Ledger { return serviceLedger{svc} }

type serviceLedger struct{ *credits.Service }

func (l serviceLedger) Payment(ctx context.Context, id gid.ID) (Payment, error) {
	p, err := l.DB().Payment.Query().Where(payment.ID(id)).Only(credits.System(ctx))
	if ent.IsNotFound(err) {
		return Payment{}, ErrUnknownPayment
	}
	if err != nil {
		return Payment{}, fmt.Errorf("loading payment %s: %w", id, err)
	}
	// Providers speak the currency's minor units; a payment's amount is
	// micro-units inside, always whole minor units (it was charged).
	minor, ok := money.ToMinor(p.Amount, p.Currency)
	if !ok {
		return Payment{}, fmt.Errorf("payment %s: amount %d micro-units is not whole minor units of %s", id, p.Amount, p.Currency)
	}
	return Payment{ID: p.ID, Provider: p.Provider, Status: p.Status.String(), Amount: minor, Currency: p.Currency, ProviderRef: p.ProviderRef}, nil
}

// ReadBody reads r's body up to MaxBody. On failure it has answered (413 or
// 400) and returns false.
func ReadBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			Answer(w, http.StatusRequestEntityTooLarge, "body too large")
		} else {
			Answer(w, http.StatusBadRequest, "unreadable body")
		}
		return nil, false
	}
	return body, true
}

// Answer writes a one-line plain-text answer. Providers only look at the
// status: 2xx is delivered, anything else is retried (with backoff) for
// days; 4xx for a signature failure shows up in their dashboard.
func Answer(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
}

// CheckPayment loads the payment named by a provider's event and says
// whether the event may act on it. ok=false with err=nil means: ignore the
// event (answer 200, already logged by the caller from reason), since
// retrying could never help; err != nil is transient (answer 500).
func CheckPayment(ctx context.Context, l Ledger, provider string, id gid.ID) (p Payment, reason string, err error) {
	if id == "" {
		return p, "the event carries no creditgate payment id", nil
	}
	if id.Prefix() != gid.Payment {
		return p, "the event's payment id is not one of ours", nil
	}
	p, err = l.Payment(ctx, id)
	if errors.Is(err, ErrUnknownPayment) {
		return p, "no such payment", nil
	}
	if err != nil {
		return p, "", err
	}
	if p.Provider != provider {
		return p, fmt.Sprintf("the payment belongs to provider %q", p.Provider), nil
	}
	return p, "", nil
}

// Refunds records refunds and disputes made at the provider; a Ledger
// that cannot (a test's) leaves those events ignored.
type Refunds interface {
	// PaymentByRef finds our payment by the provider's reference of the
	// charge (Stripe's PaymentIntent, PayPal's order), ErrUnknownPayment
	// when there is none.
	PaymentByRef(ctx context.Context, provider, ref string) (Payment, error)
	// ApplyRefund applies a refund or dispute once (credits.ApplyProviderRefund);
	// credits.ErrNotSettled means: deliver it again later.
	ApplyRefund(ctx context.Context, r credits.ProviderRefund) (applied bool, err error)
}

func (l serviceLedger) PaymentByRef(ctx context.Context, provider, ref string) (Payment, error) {
	if ref == "" {
		return Payment{}, ErrUnknownPayment
	}
	p, err := l.DB().Payment.Query().Where(payment.Provider(provider), payment.ProviderRef(ref)).
		Order(ent.Asc(payment.FieldCreatedAt)).First(credits.System(ctx))
	if ent.IsNotFound(err) {
		return Payment{}, ErrUnknownPayment
	}
	if err != nil {
		return Payment{}, fmt.Errorf("loading payment of %s %s: %w", provider, ref, err)
	}
	return l.Payment(ctx, p.ID)
}

func (l serviceLedger) ApplyRefund(ctx context.Context, r credits.ProviderRefund) (bool, error) {
	return l.ApplyProviderRefund(ctx, r)
}
