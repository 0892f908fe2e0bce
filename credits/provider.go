package credits

import (
	"context"

	"creditgate/gid"
)

// A Provider takes instant payments (card, PayPal). Charge is called outside
// any database transaction, since it may cross the network. A provider that
// settles at once answers ChargeSucceeded; one that needs the payer (3-D
// Secure, PayPal approval) answers ChargeRequiresAction and confirms later
// through a signed webhook that calls Service.SettlePayment, which credits
// exactly once however often it is called.
//
// Lookup asks the provider what became of a charge whose answer we lost
// (the process died after Charge, or before it recorded the answer): by
// providerRef when we have one, else by our payment id, which the charge
// carries (metadata, custom_id) and is its idempotency key. found=false
// means the provider holds no charge for the payment (as far as it can
// tell: a provider that cannot search says so too, and a Charge with the
// same payment id is then the way to ask). An error means no answer.
type Provider interface {
	Name() string
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
	Lookup(ctx context.Context, paymentID gid.ID, providerRef string) (res ChargeResult, found bool, err error)
}

// ChargeRequest asks a provider for money.
type ChargeRequest struct {
	PaymentID   gid.ID // ours: providers carry it in their metadata so a webhook finds the payment
	Method      string // CARD or PAYPAL
	Amount      int64  // minor units
	Currency    string
	Description string
}

// ChargeStatus is a provider's first answer.
type ChargeStatus int

const (
	ChargeSucceeded ChargeStatus = iota
	ChargeRequiresAction
	ChargeFailed
)

// ChargeResult is a provider's answer to Charge.
type ChargeResult struct {
	Status        ChargeStatus
	ProviderRef   string
	ClientSecret  string // Stripe: confirms the PaymentIntent in the browser
	ApprovalURL   string // PayPal: where the payer approves the order
	FailureReason string
	// Lookup only: what the provider holds, in minor units (0: not told).
	// A succeeded charge of another amount is never settled.
	Amount   int64
	Currency string
}

// A CardVault keeps cards on file with a provider and charges them without
// the payer present (auto top-up). Stripe implements it with a Customer,
// SetupIntents and off-session PaymentIntents; the sandbox with test cards.
type CardVault interface {
	Name() string
	// SetupCard begins saving a card: Stripe creates a SetupIntent for
	// off-session use on the customer (creating the customer when
	// CustomerRef is empty); the browser confirms it with ClientSecret and
	// then calls addCard with the resulting payment method.
	SetupCard(ctx context.Context, req CardSetupRequest) (CardSetup, error)
	// SaveCard attaches a confirmed payment method to the customer (creating
	// the customer when CustomerRef is empty) and returns its details.
	SaveCard(ctx context.Context, req SaveCardRequest) (SavedCard, error)
	// RemoveCard detaches a saved card; removing one already gone is no error.
	RemoveCard(ctx context.Context, cardRef string) error
	// ChargeCard charges a saved card off-session. It must be idempotent on
	// req.PaymentID (Stripe: the Idempotency-Key), since a job that crashed
	// mid-charge retries it. A decline (or a bank asking for authentication)
	// answers ChargeFailed with the reason, not an error; ChargeRequiresAction
	// with a ProviderRef means still processing: the provider's webhook
	// settles or fails the payment. An error means the outcome is unknown.
	ChargeCard(ctx context.Context, req CardCharge) (ChargeResult, error)
}

// CardSetupRequest asks a vault to start saving a card.
type CardSetupRequest struct {
	AccountID   gid.ID
	CustomerRef string // empty: create the customer
	Name, Email string // for the customer the provider creates
}

// CardSetup is what the browser needs to confirm a card.
type CardSetup struct {
	CustomerRef  string
	SetupRef     string // Stripe: seti_…
	ClientSecret string
}

// SaveCardRequest attaches a confirmed payment method to a customer.
type SaveCardRequest struct {
	AccountID        gid.ID
	CustomerRef      string // empty: create the customer
	PaymentMethodRef string // Stripe: pm_…; sandbox: a test card such as pm_card_visa
	Name, Email      string
}

// SavedCard describes a card on file. Only the brand, last four digits and
// expiry are ever stored or shown.
type SavedCard struct {
	CustomerRef string
	Ref         string // the provider's payment method id
	Brand       string
	Last4       string
	ExpMonth    int
	ExpYear     int
}

// CardCharge charges a saved card.
type CardCharge struct {
	ChargeRequest
	CustomerRef string
	CardRef     string
}

// A Refunder gives money back through the provider that took it (Stripe
// refunds, PayPal capture refunds, the sandbox at once). It is kept apart
// from Provider so that a provider that cannot refund (and the tests'
// doubles) need not say so: refundPayment answers NOT_ELIGIBLE for it.
//
// Refund must be idempotent on req.Key (Stripe's Idempotency-Key, PayPal's
// PayPal-Request-Id): a retried refund is the same refund. A refusal (the
// charge already refunded, disputed, too old) is an *RefundRefused; any
// other error means the outcome is unknown.
type Refunder interface {
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// RefundRequest asks a provider to give back part or all of a payment.
type RefundRequest struct {
	PaymentID   gid.ID // ours
	ProviderRef string // the charge as recorded on the payment (Stripe: pi_…; PayPal: the order id)
	Key         string // idempotency key, derived from our REFUND posting
	Amount      int64  // minor units
	Currency    string
	Reason      string
}

// RefundResult is a provider's answer to a refund it accepted.
type RefundResult struct {
	Ref    string // the provider's id of the refund
	Status string // as the provider says it (succeeded, pending, COMPLETED ...)
}

// RefundRefused is a refund the provider declined, with its reason.
type RefundRefused struct{ Reason string }

func (e *RefundRefused) Error() string { return e.Reason }
