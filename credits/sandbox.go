package credits

import (
	"context"
	"slices"
	"strings"

	"creditgate/gid"
)

// Sandbox is the built-in provider for development and tests: every charge
// succeeds at once, and it keeps test cards named like Stripe's test payment
// methods, one of which always declines.
type Sandbox struct{}

// sandboxCards are the test cards the sandbox accepts.
var sandboxCards = map[string]SavedCard{
	"pm_card_visa":                            {Brand: "visa", Last4: "4242", ExpMonth: 12, ExpYear: 2034},
	"pm_card_mastercard":                      {Brand: "mastercard", Last4: "4444", ExpMonth: 12, ExpYear: 2034},
	"pm_card_chargeDeclined":                  {Brand: "visa", Last4: "0002", ExpMonth: 12, ExpYear: 2034},
	"pm_card_chargeDeclinedInsufficientFunds": {Brand: "visa", Last4: "9995", ExpMonth: 12, ExpYear: 2034},
}

// sandboxDeclines says why a test card declines ("" when it does not).
var sandboxDeclines = map[string]string{
	"pm_card_chargeDeclined":                  "card_declined: Your card was declined.",
	"pm_card_chargeDeclinedInsufficientFunds": "card_declined: Your card has insufficient funds.",
}

// Name implements Provider and CardVault.
func (Sandbox) Name() string { return "sandbox" }

// Charge implements Provider.
func (Sandbox) Charge(_ context.Context, req ChargeRequest) (ChargeResult, error) {
	return ChargeResult{Status: ChargeSucceeded, ProviderRef: "sandbox_" + string(req.PaymentID)}, nil
}

// Lookup implements Provider: the sandbox keeps nothing, and every charge
// it is asked for succeeds, so it answers as Charge would, at once.
func (Sandbox) Lookup(_ context.Context, id gid.ID, _ string) (ChargeResult, bool, error) {
	return ChargeResult{Status: ChargeSucceeded, ProviderRef: "sandbox_" + string(id)}, true, nil
}

// SetupCard implements CardVault: nothing to confirm in a browser.
func (Sandbox) SetupCard(_ context.Context, req CardSetupRequest) (CardSetup, error) {
	cus := req.CustomerRef
	if cus == "" {
		cus = "cus_sandbox_" + string(req.AccountID)
	}
	seti := "seti_sandbox_" + strings.TrimPrefix(string(gid.New(gid.Card)), gid.Card+"_")
	return CardSetup{CustomerRef: cus, SetupRef: seti, ClientSecret: seti + "_secret_sandbox"}, nil
}

// SaveCard implements CardVault for the test cards.
func (Sandbox) SaveCard(_ context.Context, req SaveCardRequest) (SavedCard, error) {
	c, ok := sandboxCards[req.PaymentMethodRef]
	if !ok {
		names := make([]string, 0, len(sandboxCards))
		for n := range sandboxCards {
			names = append(names, n)
		}
		return SavedCard{}, badInput("paymentMethodId: the sandbox knows only its test cards (%s)", strings.Join(slices.Sorted(slices.Values(names)), ", "))
	}
	c.Ref = req.PaymentMethodRef
	c.CustomerRef = req.CustomerRef
	if c.CustomerRef == "" {
		c.CustomerRef = "cus_sandbox_" + string(req.AccountID)
	}
	return c, nil
}

// RemoveCard implements CardVault.
func (Sandbox) RemoveCard(context.Context, string) error { return nil }

// ChargeCard implements CardVault: test cards succeed or decline as named.
func (Sandbox) ChargeCard(_ context.Context, req CardCharge) (ChargeResult, error) {
	ref := "sandbox_" + string(req.PaymentID)
	if why, ok := sandboxDeclines[req.CardRef]; ok {
		return ChargeResult{Status: ChargeFailed, ProviderRef: ref, FailureReason: why}, nil
	}
	return ChargeResult{Status: ChargeSucceeded, ProviderRef: ref}, nil
}

// Refund implements Refunder: the sandbox gives money back at once.
func (Sandbox) Refund(_ context.Context, req RefundRequest) (RefundResult, error) {
	return RefundResult{Ref: "sandbox_refund_" + req.Key, Status: "succeeded"}, nil
}
