package credits

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/job"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/ledger"
)

// Top-up invoices: every manual purchase (bank transfer, crypto, online,
// post-paid) bills its request with a CREDIT_TOPUP invoice issued in the
// request's transaction, and the two move together from then on: approval
// (or the provider's confirmation, for ONLINE) pays it, rejection voids it,
// and a post-paid request's invoice stays open until the agency is paid.

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

// Billing describes updateBilling.
type Billing struct {
	AgencyID       *gid.ID
	InvoiceDueDays *int
	BankDetails    *string
	AccountID      *gid.ID
	BillingEmail   *string
}

// CurrencyAmount is an amount in one currency (micro-units).
type CurrencyAmount struct {
	Currency string
	Amount   int64
}

// TopupNumberFormat numbers CREDIT_TOPUP invoices from the agency's own
// sequence: TU-000001, TU-000002, ... (wider past a million).
const TopupNumberFormat = "TU-%06d"

// issueTopup bills req (a manual purchase of acc, charging price) with a
// CREDIT_TOPUP invoice in tx, numbered from the agency's sequence: one
// UPDATE ... RETURNING takes the next number (the row lock orders
// concurrent purchases of one agency) and reads the terms to snapshot. The
// e-mail to the account's billing address is queued in tx too.
func (s *Service) issueTopup(ctx context.Context, tx *ent.Tx, acc *ent.Account, req *ent.CreditRequest, price int64) (*ent.Invoice, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`UPDATE agencies SET invoice_seq = invoice_seq + 1
		WHERE id = ? RETURNING invoice_seq, invoice_due_days, bank_details`), acc.AgencyID)
	if err != nil {
		return nil, fmt.Errorf("numbering invoice: %w", err)
	}
	var (
		seq     int64
		dueDays int
		bank    *string
	)
	found := rows.Next()
	if found {
		err = rows.Scan(&seq, &dueDays, &bank)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("numbering invoice: %w", err)
	}
	if !found {
		return nil, fmt.Errorf("numbering invoice: agency %s not found", acc.AgencyID)
	}
	now := s.clock().UTC()
	c := tx.Invoice.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).
		SetNumber(fmt.Sprintf(TopupNumberFormat, seq)).SetAmount(price).SetCurrency(req.Currency).
		SetKind(invoice.KindCREDIT_TOPUP).SetCreditEligible(false).SetRequestID(req.ID).
		SetCreatedAt(now).SetDueAt(now.AddDate(0, 0, dueDays))
	if bank != nil && *bank != "" {
		c.SetBankDetails(*bank)
	}
	inv, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuing invoice: %w", err)
	}
	if err := s.emitInvoice(ctx, tx, "invoice.issued", inv); err != nil {
		return nil, err
	}
	if acc.BillingEmail != nil && *acc.BillingEmail != "" {
		if err := s.queueInvoiceMail(ctx, tx, inv); err != nil {
			return nil, err
		}
	}
	return inv, nil
}

// queueInvoiceMail queues the e-mail of inv in tx. A mail job is keyed by
// its invoice (account_id names the invoice), so each invoice has its own
// in flight and two invoices of one account never fold into one job.
func (s *Service) queueInvoiceMail(ctx context.Context, tx *ent.Tx, inv *ent.Invoice) error {
	return s.queueJob(ctx, tx, job.KindINVOICE_MAIL, &ent.Account{ID: inv.ID, AgencyID: inv.AgencyID}, inv.Currency, s.clock(), false)
}

// runInvoiceMail e-mails the invoice of j to its account's billing address
// as it is now, then records where and when. The mail goes out before the
// record is written: a crash in between sends it twice rather than never.
func (s *Service) runInvoiceMail(ctx context.Context, j *ent.Job) (jobResult, error) {
	inv, err := s.db.Invoice.Query().Where(invoice.ID(j.AccountID)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if ent.IsNotFound(err) {
		return done("no such invoice"), nil
	}
	if err != nil {
		return jobResult{}, fmt.Errorf("loading invoice: %w", err)
	}
	to := inv.Edges.Account.BillingEmail
	if to == nil || *to == "" {
		return done("no billing email"), nil
	}
	if err := s.mailInvoice(ctx, inv, *to); err != nil {
		return jobResult{}, err
	}
	return done("emailed " + *to), nil
}

// mailInvoice sends inv (loaded with its account and agency) to addr and
// records it on the invoice.
func (s *Service) mailInvoice(ctx context.Context, inv *ent.Invoice, addr string) error {
	link, err := s.documentURL(inv.ID)
	if err != nil {
		return err
	}
	if err := s.mailer.Send(ctx, s.invoiceEmail(inv, addr, link)); err != nil {
		return fmt.Errorf("sending invoice %s: %w", inv.Number, err)
	}
	now := s.clock().UTC()
	if err := s.db.Invoice.UpdateOneID(inv.ID).SetSentTo(addr).SetSentAt(now).Exec(System(ctx)); err != nil {
		return fmt.Errorf("recording invoice %s sent: %w", inv.Number, err)
	}
	inv.SentTo, inv.SentAt = &addr, &now
	return nil
}

// invoiceEmail says what the document says: who bills whom, the number,
// the amount due and when, and where to pay.
func (s *Service) invoiceEmail(inv *ent.Invoice, to, link string) Email {
	acc := inv.Edges.Account
	var b strings.Builder
	fmt.Fprintf(&b, "%s has issued invoice %s to %s.\n\n", acc.Edges.Agency.Name, inv.Number, acc.Name)
	fmt.Fprintf(&b, "Amount due: %s\n", fmtAmount(inv.Amount, inv.Currency))
	fmt.Fprintf(&b, "Currency: %s\n", inv.Currency)
	if inv.DueAt != nil {
		fmt.Fprintf(&b, "Due date: %s\n", inv.DueAt.UTC().Format(time.DateOnly))
	}
	if inv.BankDetails != nil {
		fmt.Fprintf(&b, "\nBank details:\n%s\n", *inv.BankDetails)
	}
	fmt.Fprintf(&b, "\nThe invoice: %s\n", link)
	return Email{
		To:      to,
		Subject: fmt.Sprintf("Invoice %s from %s: %s", inv.Number, acc.Edges.Agency.Name, fmtAmount(inv.Amount, inv.Currency)),
		Text:    b.String(),
	}
}

// topupInvoicePaid turns the open CREDIT_TOPUP invoice of request req PAID
// in tx (none: a request older than invoices); payment names the provider
// payment that paid it, if one did.
func (s *Service) topupInvoicePaid(ctx context.Context, tx *ent.Tx, req gid.ID, pay *gid.ID) error {
	upd := tx.Invoice.Update().Where(invoice.RequestID(req), invoice.StatusEQ(invoice.StatusOPEN)).
		SetStatus(invoice.StatusPAID).SetPaidAt(s.clock().UTC())
	if pay != nil {
		upd.SetPaymentID(*pay)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return fmt.Errorf("paying invoice of request %s: %w", req, err)
	}
	if n == 0 {
		return nil
	}
	inv, err := tx.Invoice.Query().Where(invoice.RequestID(req)).Only(System(ctx))
	if err != nil {
		return fmt.Errorf("loading the invoice of request %s: %w", req, err)
	}
	return s.emitInvoice(ctx, tx, "invoice.paid", inv)
}

// topupInvoiceVoid voids the open CREDIT_TOPUP invoice of a rejected
// request in tx.
func (s *Service) topupInvoiceVoid(ctx context.Context, tx *ent.Tx, req gid.ID, why string) error {
	if why == "" {
		why = "request rejected"
	}
	err := tx.Invoice.Update().Where(invoice.RequestID(req), invoice.StatusEQ(invoice.StatusOPEN)).
		SetStatus(invoice.StatusVOID).SetVoidReason(truncate(why, 1000)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("voiding invoice of request %s: %w", req, err)
	}
	return nil
}

// PayInvoiceOnline pays an invoice by card or PayPal: the purchase
// machinery of buyCredits (buyInstant) with a payment of origin INVOICE.
// What the payment does once the provider confirms it is settleInvoice's.
func (s *Service) PayInvoiceOnline(ctx context.Context, in PayInvoice) (*InvoicePaid, error) {
	v, err := requireRole(ctx, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	if in.Method != creditrequest.MethodCARD && in.Method != creditrequest.MethodPAYPAL {
		return nil, badInput("method: an invoice is paid online by CARD or PAYPAL")
	}
	inv, err := s.db.Invoice.Query().Where(invoice.ID(in.InvoiceID)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("invoice")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading invoice: %w", err))
	}
	acc := inv.Edges.Account
	// Paying a top-up invoice is buying credits: buyCredits' gate. A
	// CHARGE invoice keeps only its rule of saved cards.
	if err := mayBuy(v, acc, in.CardID != nil); err != nil && (inv.Kind == invoice.KindCREDIT_TOPUP || CodeOf(err) == CodeForbidden) {
		return nil, err
	}
	credits := inv.Amount // what lands if the invoice is gone when the money arrives
	if inv.Kind == invoice.KindCREDIT_TOPUP {
		req, err := s.db.CreditRequest.Query().Where(creditrequest.ID(*inv.RequestID)).Only(ctx)
		if err != nil {
			return nil, nothingDone(fmt.Errorf("loading the invoice's request: %w", err))
		}
		credits = req.Amount
	}
	p := purchaseInput{Account: acc.ID, Credits: credits, Price: inv.Amount, Currency: inv.Currency,
		Method: in.Method.String(), Invoice: inv.ID}
	if in.CardID != nil {
		if in.Method != creditrequest.MethodCARD {
			return nil, badInput("cardId: a saved card is charged with method CARD")
		}
		if p.card, err = s.savedCard(ctx, acc, *in.CardID); err != nil {
			return nil, nothingDone(err)
		}
		p.Card = p.card.ID
	}
	m := s.buyInstant(acc, p, ledger.Mutation[*Purchase]{Op: "payInvoice", Key: in.IdempotencyKey, Input: p})
	charge := m.Work
	m.Work = func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Purchase, error) {
		// Refuse before charging what no payment could settle; a retry
		// with the key is answered before this runs.
		if err := s.payable(ctx, tx.Tx, inv.ID); err != nil {
			return ledger.Outcome{}, nil, err
		}
		return charge(ctx, tx)
	}
	pu, err := run(ctx, s, m)
	if err != nil {
		return nil, err
	}
	// The answer as things now stand: the provider may have settled it at
	// once (the sandbox), or it waits for the payer and the webhook.
	out := &InvoicePaid{Status: pu.Status, Payment: pu.Payment}
	if out.Invoice, err = s.db.Invoice.Get(ctx, inv.ID); err != nil {
		return nil, fmt.Errorf("reading invoice %s after its payment: %w", inv.ID, err)
	}
	if inv.RequestID != nil {
		if out.Request, err = s.db.CreditRequest.Get(ctx, *inv.RequestID); err != nil {
			return nil, fmt.Errorf("reading request %s after its payment: %w", *inv.RequestID, err)
		}
	}
	return out, nil
}

// payable says, in tx, why invoice id could not be paid online now.
func (s *Service) payable(ctx context.Context, tx *ent.Tx, id gid.ID) error {
	inv, err := tx.Invoice.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("loading invoice: %w", err)
	}
	if inv.Status != invoice.StatusOPEN {
		return unavailable(CodeAlreadyPaid)
	}
	if inv.RequestID == nil {
		return nil
	}
	req, err := tx.CreditRequest.Get(ctx, *inv.RequestID)
	if err != nil {
		return fmt.Errorf("loading the invoice's request: %w", err)
	}
	return payableOnline(req)
}

// payableOnline refuses to charge for a top-up invoice a payment could not
// settle: an ONLINE request waiting for its payment, or an accepted
// post-paid request not paid yet, are payable; a bank transfer or crypto
// request is settled by the agency on receipt (approveRequest).
func payableOnline(req *ent.CreditRequest) error {
	switch {
	case req.Status == creditrequest.StatusPENDING && req.Method == creditrequest.MethodONLINE:
		return nil
	case req.Status == creditrequest.StatusACCEPTED && req.Method == creditrequest.MethodPOSTPAID && !req.Paid:
		return nil
	case req.Status == creditrequest.StatusPENDING && req.Method == creditrequest.MethodPOSTPAID:
		return newErr(CodeNotEligible, "a post-paid request is paid once the agency has approved it")
	case req.Status == creditrequest.StatusPENDING:
		return newErr(CodeNotEligible, "a %s invoice is settled by the agency on receipt of the payment, not online", req.Method)
	}
	return unavailable(CodeAlreadyPaid)
}

// settleInvoice applies, in settle's transaction tx, a confirmed payment
// of origin INVOICE to its invoice: a CHARGE invoice turns PAID (no credits
// move); a CREDIT_TOPUP invoice turns PAID with its ONLINE request ACCEPTED
// (reviewed by "payment") and the account credited from the provider's
// clearing book, or with its accepted post-paid request settled. ok=false:
// the invoice was no longer payable (paid twice, voided meanwhile), and the
// money is credited as an ordinary purchase instead of being lost. credited
// is the account's posting, if any; o finds the work after a COMMIT of
// unknown outcome.
func (s *Service) settleInvoice(ctx context.Context, tx *ledger.Tx, pay *ent.Payment) (credited *ent.Posting, o ledger.Outcome, ok bool, err error) {
	if pay.InvoiceID == nil {
		return nil, o, false, nil
	}
	inv, err := tx.Invoice.Query().Where(invoice.ID(*pay.InvoiceID)).Only(ctx)
	if err != nil {
		return nil, o, false, fmt.Errorf("loading invoice %s: %w", *pay.InvoiceID, err)
	}
	if inv.Status != invoice.StatusOPEN {
		return nil, o, false, nil
	}
	if inv.Kind == invoice.KindCHARGE {
		n, err := tx.Invoice.Update().Where(invoice.ID(inv.ID), invoice.StatusEQ(invoice.StatusOPEN)).
			SetStatus(invoice.StatusPAID).SetPaidAt(s.clock().UTC()).SetPaymentID(pay.ID).Save(ctx)
		if err != nil {
			return nil, o, false, fmt.Errorf("paying invoice %s: %w", inv.ID, err)
		}
		if n == 1 {
			inv.Status, inv.PaidAt, inv.PaymentID = invoice.StatusPAID, ptr(s.clock().UTC()), &pay.ID
			if err := s.emitInvoice(ctx, tx.Tx, "invoice.paid", inv); err != nil {
				return nil, o, false, err
			}
		}
		return nil, o, n == 1, nil
	}
	req, err := tx.CreditRequest.Query().Where(creditrequest.ID(*inv.RequestID)).WithAccount().Only(ctx)
	if err != nil {
		return nil, o, false, fmt.Errorf("loading request of invoice %s: %w", inv.ID, err)
	}
	if payableOnline(req) != nil {
		return nil, o, false, nil
	}
	book := ledger.Clearing + pay.Provider
	if req.Method == creditrequest.MethodPOSTPAID {
		ps, err := s.settlePostpaid(ctx, tx, req, book, &pay.ID)
		if err != nil || ps == nil {
			return nil, o, false, err
		}
		return nil, ledger.Outcome{Transaction: ps.ID}, true, nil
	}
	_, t, err := s.acceptFrom(ctx, tx, req, "payment", book, &pay.ID)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeConflict {
			return nil, o, false, nil // reviewed meanwhile
		}
		return nil, o, false, err
	}
	return t, ledger.Outcome{Transaction: t.ID}, true, nil
}

// settleAction names what settled a payment in the audit log: the
// provider's webhook, the auto top-up job, or the payment's own answer.
func settleAction(pay *ent.Payment) string {
	switch {
	case pay.Origin == payment.OriginAUTO_TOPUP:
		return "autoTopUp"
	case pay.Provider == "stripe":
		return "stripeWebhook"
	case pay.Provider == "paypal":
		return "paypalWebhook"
	}
	return "payment"
}

// SendInvoice e-mails an invoice (default: to the account's billingEmail)
// now, and records where and when.
func (s *Service) SendInvoice(ctx context.Context, id gid.ID, email *string) (*ent.Invoice, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	inv, err := s.db.Invoice.Query().Where(invoice.ID(id)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("invoice")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading invoice: %w", err))
	}
	var to string
	switch {
	case email != nil && strings.TrimSpace(*email) != "":
		to = *email
	case inv.Edges.Account.BillingEmail != nil:
		to = *inv.Edges.Account.BillingEmail
	default:
		return nil, badInput("email: the account has no billingEmail; give an address")
	}
	addr, err := parseEmail("email", to)
	if err != nil {
		return nil, err
	}
	link, err := s.documentURL(inv.ID)
	if err != nil {
		return nil, err
	}
	if err := s.mailer.Send(ctx, s.invoiceEmail(inv, addr, link)); err != nil {
		return nil, &Error{Code: CodeUnavailable, RetryAfter: unavailableRetry,
			Message: "the mail server did not take the invoice; nothing was recorded: retry", cause: err}
	}
	now := s.clock().UTC()
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if err := tx.Invoice.UpdateOneID(inv.ID).SetSentTo(addr).SetSentAt(now).Exec(ctx); err != nil {
			return fmt.Errorf("recording invoice %s sent: %w", inv.Number, err)
		}
		return s.audit(ctx, tx, Audit{Action: "sendInvoice", AgencyID: inv.AgencyID, AccountID: inv.AccountID, TargetID: inv.ID,
			Summary: fmt.Sprintf("sent invoice %s to %s", inv.Number, addr)})
	})
	if err != nil {
		return nil, err
	}
	inv.SentTo, inv.SentAt = &addr, &now
	return inv, nil
}

// parseEmail accepts one plain address ("Name <a@b>" is reduced to a@b).
func parseEmail(field, s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || len(a.Address) > 254 {
		return "", badInput("%s: not an e-mail address", field)
	}
	return a.Address, nil
}

// UpdateBilling sets an agency's invoice terms or an account's billing
// e-mail (both at once too), in one transaction.
func (s *Service) UpdateBilling(ctx context.Context, in Billing) (*ent.Agency, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	if (in.AccountID == nil) != (in.BillingEmail == nil) {
		return nil, badInput("accountId and billingEmail go together")
	}
	terms := in.InvoiceDueDays != nil || in.BankDetails != nil
	if !terms && in.AccountID == nil {
		return nil, badInput("nothing to update: give invoiceDueDays, bankDetails, or accountId with billingEmail")
	}
	if in.InvoiceDueDays != nil && (*in.InvoiceDueDays < 0 || *in.InvoiceDueDays > 365) {
		return nil, badInput("invoiceDueDays: from 0 to 365")
	}
	var bank string
	if in.BankDetails != nil {
		if bank = strings.TrimSpace(*in.BankDetails); len([]rune(bank)) > 2000 {
			return nil, badInput("bankDetails is longer than 2000 characters")
		}
	}
	var (
		acc   *ent.Account
		email string
	)
	if in.AccountID != nil {
		if acc, err = s.Account(ctx, in.AccountID); err != nil {
			return nil, err
		}
		if in.AgencyID != nil && *in.AgencyID != acc.AgencyID {
			return nil, badInput("accountId: not an account of agencyId")
		}
		if e := strings.TrimSpace(*in.BillingEmail); e != "" {
			if email, err = parseEmail("billingEmail", e); err != nil {
				return nil, err
			}
		}
	}
	var ag *ent.Agency
	switch {
	case acc != nil && !terms:
		ag = acc.Edges.Agency
	case in.AgencyID == nil && acc != nil && v.Role == auth.RoleSystemAdmin:
		ag = acc.Edges.Agency
	default:
		if ag, err = s.agencyFor(ctx, in.AgencyID); err != nil {
			return nil, err
		}
	}
	var changed []string
	err = s.inTxSettings(ctx, ag.ID, terms, func(tx *ent.Tx) error {
		if terms {
			upd := tx.Agency.UpdateOneID(ag.ID)
			if in.InvoiceDueDays != nil {
				upd.SetInvoiceDueDays(*in.InvoiceDueDays)
				changed = append(changed, fmt.Sprintf("invoiceDueDays %d", *in.InvoiceDueDays))
			}
			if in.BankDetails != nil {
				if bank == "" {
					upd.ClearBankDetails()
				} else {
					upd.SetBankDetails(bank)
				}
				changed = append(changed, "bankDetails")
			}
			if ag, err = upd.Save(ctx); err != nil {
				return fmt.Errorf("updating agency billing: %w", err)
			}
		}
		if acc != nil {
			upd := tx.Account.Update().Where(account.ID(acc.ID))
			if email == "" {
				upd.ClearBillingEmail()
				changed = append(changed, "billingEmail of "+string(acc.ID)+" cleared")
			} else {
				upd.SetBillingEmail(email)
				changed = append(changed, "billingEmail of "+string(acc.ID)+" "+email)
			}
			if err := upd.Exec(ctx); err != nil {
				return fmt.Errorf("updating billing email: %w", err)
			}
		}
		a := Audit{Action: "updateBilling", AgencyID: ag.ID, TargetID: ag.ID, Summary: "billing: " + strings.Join(changed, ", ")}
		if acc != nil {
			a.AccountID, a.TargetID = acc.ID, acc.ID
		}
		return s.audit(ctx, tx, a)
	})
	if err != nil {
		return nil, err
	}
	return ag, nil
}

// UnpaidPostpaid sums accepted, unpaid POSTPAID credit of the agency per
// currency: for the agency's admins and system admins; others see none.
func (s *Service) UnpaidPostpaid(ctx context.Context, ag *ent.Agency) ([]CurrencyAmount, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	if v.Role != auth.RoleSystemAdmin && (v.Role != auth.RoleAgencyAdmin || gid.ID(v.AgencyID) != ag.ID) {
		return []CurrencyAmount{}, nil
	}
	var sums []struct {
		Currency string `json:"currency"`
		Sum      int64  `json:"sum"`
	}
	err = s.db.CreditRequest.Query().Where(creditrequest.AgencyID(ag.ID),
		creditrequest.StatusEQ(creditrequest.StatusACCEPTED), creditrequest.MethodEQ(creditrequest.MethodPOSTPAID),
		creditrequest.Paid(false)).
		GroupBy(creditrequest.FieldCurrency).Aggregate(ent.Sum(creditrequest.FieldAmount)).Scan(ctx, &sums)
	if err != nil {
		return nil, fmt.Errorf("summing unpaid post-paid credit: %w", err)
	}
	out := make([]CurrencyAmount, 0, len(sums))
	for _, x := range sums {
		out = append(out, CurrencyAmount{Currency: x.Currency, Amount: x.Sum})
	}
	return out, nil
}

// InvoiceStatus is inv's status as read: OVERDUE for an OPEN invoice past
// its due date.
func (s *Service) InvoiceStatus(inv *ent.Invoice) string {
	if inv.Status == "OPEN" && inv.DueAt != nil && s.clock().After(*inv.DueAt) {
		return "OVERDUE"
	}
	return string(inv.Status)
}

// InvoiceOfRequest is the CREDIT_TOPUP invoice of req, or nil.
func (s *Service) InvoiceOfRequest(ctx context.Context, req *ent.CreditRequest) (*ent.Invoice, error) {
	inv, err := s.db.Invoice.Query().Where(invoice.RequestID(req.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading invoice of request %s: %w", req.ID, err)
	}
	return inv, nil
}

// RequestOfInvoice is the request a CREDIT_TOPUP invoice bills, or nil.
func (s *Service) RequestOfInvoice(ctx context.Context, inv *ent.Invoice) (*ent.CreditRequest, error) {
	if inv.RequestID == nil {
		return nil, nil
	}
	req, err := s.db.CreditRequest.Query().Where(creditrequest.ID(*inv.RequestID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading request of invoice %s: %w", inv.ID, err)
	}
	return req, nil
}

// PaymentOfInvoice is the payment that paid inv online, or nil.
func (s *Service) PaymentOfInvoice(ctx context.Context, inv *ent.Invoice) (*ent.Payment, error) {
	if inv.PaymentID == nil {
		return nil, nil
	}
	pay, err := s.db.Payment.Query().Where(payment.ID(*inv.PaymentID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading payment of invoice %s: %w", inv.ID, err)
	}
	return pay, nil
}

// settlePostpaid marks an accepted, unpaid post-paid request paid in tx
// and clears the receivable against book (where the money came in), with
// its invoice PAID (by payment, if one paid it). nil posting: the request
// was not in that state (the conditional update lost).
func (s *Service) settlePostpaid(ctx context.Context, tx *ledger.Tx, req *ent.CreditRequest, book string, pay *gid.ID) (*ent.Posting, error) {
	n, err := tx.CreditRequest.Update().Where(
		creditrequest.ID(req.ID), creditrequest.StatusEQ(creditrequest.StatusACCEPTED),
		creditrequest.MethodEQ(creditrequest.MethodPOSTPAID), creditrequest.Paid(false),
	).SetPaid(true).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("settling request: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	ps, err := s.post(ctx, tx, ledger.Entry{
		Kind: posting.KindSETTLEMENT, Reference: "settled " + string(req.ID), Currency: req.Currency, AgencyID: req.AgencyID,
		Legs: []ledger.Leg{
			{Book: ledger.Receivables, Amount: req.Amount},
			{Book: book, Amount: -req.Amount},
		},
	})
	if err != nil {
		return nil, err
	}
	if err := s.topupInvoicePaid(ctx, tx.Tx, req.ID, pay); err != nil {
		return nil, err
	}
	req.Paid = true
	tx.Announce(requestEvent(req))
	return ps[0], nil
}
