package credits

import (
	"context"

	"creditgate/ent"
	"creditgate/ent/creditrequest"
	"creditgate/gid"
)

// PayInvoice describes payInvoice.
type PayInvoice struct {
	InvoiceID      gid.ID
	Method         creditrequest.Method // CARD or PAYPAL
	CardID         *gid.ID
	IdempotencyKey *string
}

// InvoicePaid is the answer of payInvoice.
type InvoicePaid struct {
	Status  PurchaseStatus
	Invoice *ent.Invoice
	Payment *ent.Payment
	Request *ent.CreditRequest
}

// PayInvoiceOnline pays an invoice by card or PayPal.
func (s *Service) PayInvoiceOnline(ctx context.Context, in PayInvoice) (*InvoicePaid, error) {
	return nil, newErr(CodeInternal, "payInvoice is not built yet")
}

// SendInvoice e-mails an invoice (default: to the account's billingEmail).
func (s *Service) SendInvoice(ctx context.Context, id gid.ID, email *string) (*ent.Invoice, error) {
	return nil, newErr(CodeInternal, "sendInvoice is not built yet")
}

// Billing describes updateBilling.
type Billing struct {
	AgencyID       *gid.ID
	InvoiceDueDays *int
	BankDetails    *string
	AccountID      *gid.ID
	BillingEmail   *string
}

// UpdateBilling sets an agency's invoice terms or an account's billing
// e-mail.
func (s *Service) UpdateBilling(ctx context.Context, in Billing) (*ent.Agency, error) {
	return nil, newErr(CodeInternal, "updateBilling is not built yet")
}

// CurrencyAmount is an amount in one currency (micro-units).
type CurrencyAmount struct {
	Currency string
	Amount   int64
}

// UnpaidPostpaid sums accepted, unpaid POSTPAID credit of the agency per
// currency.
func (s *Service) UnpaidPostpaid(ctx context.Context, ag *ent.Agency) ([]CurrencyAmount, error) {
	return nil, nil
}

// InvoiceStatus is inv's status as read: OVERDUE for an OPEN invoice past
// its due date.
func (s *Service) InvoiceStatus(inv *ent.Invoice) string {
	if inv.Status == "OPEN" && inv.DueAt != nil && s.clock().After(*inv.DueAt) {
		return "OVERDUE"
	}
	return string(inv.Status)
}

// InvoiceDocumentURL is a fresh link to inv's printable document.
func (s *Service) InvoiceDocumentURL(ctx context.Context, inv *ent.Invoice) (string, error) {
	return "", newErr(CodeInternal, "invoice documents are not built yet")
}

// InvoiceOfRequest is the CREDIT_TOPUP invoice of req, or nil.
func (s *Service) InvoiceOfRequest(ctx context.Context, req *ent.CreditRequest) (*ent.Invoice, error) {
	return nil, nil
}

// RequestOfInvoice is the request a CREDIT_TOPUP invoice bills, or nil.
func (s *Service) RequestOfInvoice(ctx context.Context, inv *ent.Invoice) (*ent.CreditRequest, error) {
	return nil, nil
}

// PaymentOfInvoice is the payment that paid inv online, or nil.
func (s *Service) PaymentOfInvoice(ctx context.Context, inv *ent.Invoice) (*ent.Payment, error) {
	return nil, nil
}
