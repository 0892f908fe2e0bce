package credits

import (
	"context"

	"creditgate/ent"
	"creditgate/gid"
	"creditgate/money"
)

// The events' data, one shape per object, so that every event about a
// request (or invoice, payment ...) reads the same: ids, amounts as
// decimal strings with their currency.

func dec(micro int64, cur string) money.Decimal { return money.Format(micro, cur) }

func (s *Service) emitRequest(ctx context.Context, tx *ent.Tx, typ string, r *ent.CreditRequest) error {
	d := map[string]any{"requestId": r.ID, "status": r.Status, "method": r.Method,
		"amount": dec(r.Amount, r.Currency), "currency": r.Currency, "paid": r.Paid}
	if r.Reference != nil {
		d["reference"] = *r.Reference
	}
	if r.ReviewedBy != nil {
		d["reviewedBy"] = *r.ReviewedBy
	}
	if r.RejectionReason != nil {
		d["rejectionReason"] = *r.RejectionReason
	}
	if r.TransactionID != nil {
		d["transactionId"] = *r.TransactionID
	}
	return s.emit(ctx, tx, Event{Type: typ, AgencyID: r.AgencyID, AccountID: r.AccountID, Data: d})
}

func (s *Service) emitInvoice(ctx context.Context, tx *ent.Tx, typ string, inv *ent.Invoice) error {
	if !s.wanted(inv.AgencyID, typ) {
		return nil // its data not built: every payment tells of its invoice
	}
	d := map[string]any{"invoiceId": inv.ID, "number": inv.Number, "status": inv.Status,
		"amount": dec(inv.Amount, inv.Currency), "currency": inv.Currency}
	if inv.Kind != "" {
		d["kind"] = inv.Kind
	}
	if inv.RequestID != nil {
		d["requestId"] = *inv.RequestID
	}
	if inv.PaymentID != nil {
		d["paymentId"] = *inv.PaymentID
	}
	if inv.TransactionID != nil {
		d["transactionId"] = *inv.TransactionID
	}
	if inv.DueAt != nil {
		d["dueAt"] = inv.DueAt.UTC()
	}
	return s.emitWanted(ctx, tx, Event{Type: typ, AgencyID: inv.AgencyID, AccountID: inv.AccountID, Data: d})
}

// emitPayment tells of pay; more adds to its data (a refund's amount).
func (s *Service) emitPayment(ctx context.Context, tx *ent.Tx, typ string, pay *ent.Payment, more map[string]any) error {
	d := map[string]any{"paymentId": pay.ID, "method": pay.Method, "provider": pay.Provider,
		"amount": dec(pay.Amount, pay.Currency), "credits": dec(pay.Credits, pay.Currency), "currency": pay.Currency,
		"refunded": dec(pay.Refunded, pay.Currency)}
	if pay.TransactionID != nil {
		d["transactionId"] = *pay.TransactionID
	}
	if pay.InvoiceID != nil {
		d["invoiceId"] = *pay.InvoiceID
	}
	for k, v := range more {
		d[k] = v
	}
	return s.emit(ctx, tx, Event{Type: typ, AgencyID: pay.AgencyID, AccountID: pay.AccountID, Data: d})
}

// emitBalance tells of a balance's available amount; more adds to it.
func (s *Service) emitBalance(ctx context.Context, tx *ent.Tx, typ string, agency, acc gid.ID, cur string, available int64, more map[string]any) error {
	d := map[string]any{"currency": cur, "available": dec(available, cur)}
	for k, v := range more {
		d[k] = v
	}
	return s.emit(ctx, tx, Event{Type: typ, AgencyID: agency, AccountID: acc, Data: d})
}

// wantsEvent says whether emitting typ may write anything, for callers
// that would read more just to say it.
func (s *Service) wantsEvent(agency gid.ID, typ string) bool {
	return s.hooks().cache.wants(s, agency, typ)
}
