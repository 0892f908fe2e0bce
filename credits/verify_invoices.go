package credits

import "context"

// checkTopupInvoices: a CREDIT_TOPUP invoice moves with its request. PAID
// exactly when the request is ACCEPTED and paid (approval, the provider's
// confirmation, a post-paid settlement); VOID only for a REJECTED request;
// and a payment of origin INVOICE that credited nothing paid its invoice.
func (s *Service) checkTopupInvoices(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'invoice ' || i.id || ' is ' || i.status || ' but its request ' || COALESCE(r.id, '(none)') || ' is ' || COALESCE(r.status, '-')
		FROM invoices i LEFT JOIN credit_requests r ON r.id = i.request_id
		WHERE i.kind = 'CREDIT_TOPUP' AND (r.id IS NULL
		   OR (i.status = 'PAID') <> (r.status = 'ACCEPTED' AND r.paid IS TRUE)
		   OR (i.status = 'VOID' AND r.status <> 'REJECTED'))
		UNION ALL
		SELECT 'payment ' || p.id || ' of invoice ' || COALESCE(p.invoice_id, '(none)') || ' credited nothing and paid no invoice'
		FROM payments p
		WHERE p.origin = 'INVOICE' AND p.status = 'SUCCEEDED' AND p.transaction_id IS NULL
		  AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = p.invoice_id AND i.payment_id = p.id AND i.status = 'PAID')`)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM invoices WHERE kind = 'CREDIT_TOPUP'`)
}
