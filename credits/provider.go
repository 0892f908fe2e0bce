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
type Provider interface {
	Name() string
	Charge(ctx context.Context, req ChargeRequest) (ChargeResult, error)
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
}

// Sandbox is the built-in provider for development and tests: every charge
// succeeds at once.
type Sandbox struct{}

// Name implements Provider.
func (Sandbox) Name() string { return "sandbox" }

// Charge implements Provider.
func (Sandbox) Charge(_ context.Context, req ChargeRequest) (ChargeResult, error) {
	return ChargeResult{Status: ChargeSucceeded, ProviderRef: "sandbox_" + string(req.PaymentID)}, nil
}
