package credits

import (
	"context"

	"creditgate/ent"
	"creditgate/gid"
	"creditgate/money"
)

// Refund describes refundPayment.
type Refund struct {
	PaymentID      gid.ID
	Amount         *money.Decimal // provider money; nil: all not refunded yet
	Reason         *string
	IdempotencyKey *string
}

// RefundPayment takes a payment's credits back and refunds it through its
// provider.
func (s *Service) RefundPayment(ctx context.Context, in Refund) (*Correction, error) {
	return nil, newErr(CodeInternal, "refundPayment is not built yet")
}

// PaymentOf is the provider payment behind p, or nil.
func (s *Service) PaymentOf(ctx context.Context, p *ent.Posting) (*ent.Payment, error) {
	return nil, nil
}
