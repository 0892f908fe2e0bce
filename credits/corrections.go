package credits

import (
	"context"

	"creditgate/ent"
	"creditgate/gid"
	"creditgate/money"
)

// Correction is the answer of a correction (adjustBalance, reclaimCredits,
// reverseTransaction, refundPayment).
type Correction struct {
	Transaction *ent.Posting // on the corrected account
	Balance     *ent.Balance // the account's, right after it
	PoolBalance *ent.Balance // reclaimCredits: the pool's after it
	Payment     *ent.Payment // refundPayment
	Invoice     *ent.Invoice // a reversed INVOICE_PAYMENT: OPEN again
}

// Adjustment describes adjustBalance.
type Adjustment struct {
	AccountID      gid.ID
	In             bool // IN adds, OUT removes
	Amount         money.Decimal
	Currency       *string
	Reason         string
	IdempotencyKey *string
}

// AdjustBalance corrects a balance with an ADJUSTMENT.
func (s *Service) AdjustBalance(ctx context.Context, in Adjustment) (*Correction, error) {
	return nil, newErr(CodeInternal, "adjustBalance is not built yet")
}

// Reclaim describes reclaimCredits.
type Reclaim struct {
	From           gid.ID
	Amount         money.Decimal
	Currency       *string
	Reason         *string
	IdempotencyKey *string
}

// ReclaimCredits moves credits from a client account back to its pool.
func (s *Service) ReclaimCredits(ctx context.Context, in Reclaim) (*Correction, error) {
	return nil, newErr(CodeInternal, "reclaimCredits is not built yet")
}

// ReverseTransaction undoes a transaction once.
func (s *Service) ReverseTransaction(ctx context.Context, id gid.ID, reason string, idemKey *string) (*Correction, error) {
	return nil, newErr(CodeInternal, "reverseTransaction is not built yet")
}

// VoidInvoice turns an open invoice VOID.
func (s *Service) VoidInvoice(ctx context.Context, id gid.ID, reason string) (*ent.Invoice, error) {
	return nil, newErr(CodeInternal, "voidInvoice is not built yet")
}

// ReversalOf is the REVERSAL of p, or nil.
func (s *Service) ReversalOf(ctx context.Context, p *ent.Posting) (*ent.Posting, error) {
	return nil, nil
}

// Reversed is the posting p reverses, or nil.
func (s *Service) Reversed(ctx context.Context, p *ent.Posting) (*ent.Posting, error) {
	return nil, nil
}
