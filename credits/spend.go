package credits

import (
	"context"
	"errors"
	"fmt"
	"github.com/lib/pq"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/ent/service"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// InvoicePayment is the answer to payInvoiceWithCredit.
type InvoicePayment struct {
	Invoice     *ent.Invoice
	Transaction *ent.Posting
	Balance     *ent.Balance
}

var spenders = []auth.Role{auth.RoleClient, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin}

// PayInvoiceWithCredit pays the whole invoice from the account's balance, or
// nothing. Marking it PAID is a conditional update, so of two racing
// payments the loser gets ALREADY_PAID and pays nothing. Payments from one
// balance are grouped (group.go).
func (s *Service) PayInvoiceWithCredit(ctx context.Context, id gid.ID, idemKey *string) (*InvoicePayment, error) {
	if _, err := requireRole(ctx, spenders...); err != nil {
		return nil, err
	}
	// The balance	// The balance to debit: a client's own (an invoice of another account
	// is NOT_FOUND below), else the account of the invoice, which must be
	// in the viewer's scope. The rules are applied in the transaction, by
	// the conditional update.
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	acct, agencyID := gid.ID(v.AccountID), gid.ID(v.AgencyID)
	if !v.IsClient() {
		pre, err := s.db.Invoice.Query().Where(invoice.ID(id)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, notFound("invoice")
		}
		if err != nil {
			return nil, nothingDone(fmt.Errorf("loading invoice: %w", err))
		}
		acct, agencyID = pre.AccountID, pre.AgencyID
	}
	gate := invoiceToPay{id: id, acct: acct, agency: agencyID}
	return run(ctx, s, ledger.Mutation[*InvoicePayment]{
		Op: "payInvoiceWithCredit", Key: idemKey, Input: id, Debit: acct,
		Gate: &ledger.Gate{Name: invoicesPaidGate, Key: string(id), Value: gate},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *InvoicePayment, error) {
			inv, paid, err := s.payInvoice(ctx, tx, gate)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			// The event first, naming the transaction to come: it rides
			// along with the ledger's statement (and goes if that fails).
			tid := gid.New(gid.Posting)
			if err := s.audit(ctx, tx.Tx, Audit{Action: "payInvoiceWithCredit", AgencyID: inv.AgencyID, AccountID: inv.AccountID, TargetID: id,
				// Concatenated: Sprintf's boxed arguments, for the same text.
				Summary: "paid invoice " + string(id) + " " + inv.Number + " with " + fmtAmount(inv.Amount, inv.Currency) + " of credit (" + string(tid) + ")"}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			// The account is only a stub for the ledger: the invoice's, the
			// transaction's and the balance's account are loaded if the
			// client asks.
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: posting.KindINVOICE_PAYMENT, Reference: inv.Number, Currency: inv.Currency, AgencyID: inv.AgencyID, ID: tid,
				Legs: []ledger.Leg{
					{Account: &ent.Account{ID: inv.AccountID, AgencyID: inv.AgencyID}, Amount: -inv.Amount},
					{Book: ledger.Revenue, Amount: inv.Amount},
				},
				Link: &ledger.Link{Table: invoice.Table, ID: id, Also: paid},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			t, bal := ps[0], balanceLeft(tx, ps[0])
			t.Edges.Account, bal.Edges.Account = nil, nil
			inv.TransactionID = &t.ID
			inv.Edges.Transaction = t
			return ledger.Outcome{Invoice: id, Transaction: t.ID}, &InvoicePayment{Invoice: inv, Transaction: t, Balance: bal}, nil
		},
		Replay: s.invoiceOutcome,
	})
}

// invoiceToPay is an invoice a payment turns PAID, with the scope its
// payer may pay in: the invoice must be of account acct of agency agency.
type invoiceToPay struct{ id, acct, agency gid.ID }

// invoicesPaidGate names the statement a set-based batch of invoice
// payments runs once for all of them (ledger/gate.go).
const invoicesPaidGate = "invoices-paid"

// payInvoice readies the invoice for its payment. In a set-based batch
// its row is locked with the other payments' in one statement
// (lockInvoicesToPay) and turns PAID in the ledger's statement, with its
// link to the transaction: paid is then the columns that UPDATE also sets
// (ledger.Link.Also). Else it turns PAID alone (markInvoicePaid, which
// also says why an invoice cannot be paid) and paid is nil.
func (s *Service) payInvoice(ctx context.Context, tx *ledger.Tx, p invoiceToPay) (inv *ent.Invoice, paid []ledger.Column, err error) {
	row, ok, err := tx.Gated(invoicesPaidGate, string(p.id), func(values []any) (map[string]any, error) {
		return s.lockInvoicesToPay(ctx, tx.Tx, values)
	})
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		inv, err := s.markInvoicePaid(ctx, tx.Tx, p.id, p.acct, p.agency)
		return inv, nil, err
	}
	inv = row.(*ent.Invoice)
	paid = []ledger.Column{
		{Name: invoice.FieldStatus, Type: "varchar", Value: invoice.StatusPAID.String()},
		{Name: invoice.FieldPaidAt, Type: "timestamptz", Value: *inv.PaidAt},
	}
	return inv, paid, s.emitInvoice(ctx, tx.Tx, "invoice.paid", inv)
}

// lockInvoicesToPay is markInvoicePaid's test for several invoices
// (invoiceToPay values) in one statement, on PostgreSQL (where set-based
// batches run): it locks the invoices their payments may pay, as an
// UPDATE would (FOR NO KEY UPDATE: a payment racing for one waits, and
// then finds it PAID), and returns them by id as they will be once PAID.
// It writes nothing: each turns PAID in the ledger's statement that links
// it to its transaction, one new version of the row where an UPDATE here
// and the link's would make two (each with an entry in every index of
// invoices, and the second checking the account's foreign key again). Each
// row's conditions are its own payment's; an invoice it does not return is
// paid alone, which says why.
func (s *Service) lockInvoicesToPay(ctx context.Context, tx *ent.Tx, values []any) (map[string]any, error) {
	ids, accts, ags := make([]string, len(values)), make([]string, len(values)), make([]string, len(values))
	for i, v := range values {
		p := v.(invoiceToPay)
		ids[i], accts[i], ags[i] = string(p.id), string(p.acct), string(p.agency)
	}
	now := s.clock().UTC()
	rows, err := tx.QueryContext(ctx, `SELECT invoices.id, invoices.account_id, invoices.agency_id, invoices.created_at, invoices.number, invoices.amount, invoices.currency
		FROM unnest($1::varchar[], $2::varchar[], $3::varchar[]) AS x(id, acct, ag) JOIN invoices ON invoices.id = x.id
		WHERE (invoices.account_id = x.acct AND invoices.agency_id = x.ag
		AND invoices.status = $4 AND invoices.credit_eligible = $5
		AND EXISTS (SELECT 1 FROM agencies WHERE agencies.id = invoices.agency_id AND credit_payments_enabled = $6)) IS TRUE
		FOR NO KEY UPDATE OF invoices`,
		pq.Array(ids), pq.Array(accts), pq.Array(ags), invoice.StatusOPEN.String(), true, true)
	if err != nil {
		return nil, fmt.Errorf("locking %d invoices to pay: %w", len(values), err)
	}
	paid := make(map[string]any, len(values))
	for rows.Next() {
		inv := &ent.Invoice{Status: invoice.StatusPAID, CreditEligible: true, PaidAt: &now}
		if err := rows.Scan(&inv.ID, &inv.AccountID, &inv.AgencyID, &inv.CreatedAt, &inv.Number, &inv.Amount, &inv.Currency); err != nil {
			rows.Close()
			return nil, fmt.Errorf("locking %d invoices to pay: %w", len(values), err)
		}
		inv.CreatedAt = inv.CreatedAt.UTC()
		paid[string(inv.ID)] = inv
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("locking %d invoices to pay: %w", len(values), err)
	}
	return paid, nil
}

// markInvoicePaid turns the OPEN, credit-eligible invoice of account acct
// of agency ag (the viewer's scope), which takes credit payments, PAID in one conditional
// statement that returns it; when that matches nothing, the invoice is read
// in the viewer's scope to say why, in invoiceGate's order. The rules are
// one IS TRUE test, which no index can serve, so the row is always found
// by its primary key: otherwise PostgreSQL may pick the (agency, status,
// ...) index and walk every open invoice of the agency.
func (s *Service) markInvoicePaid(ctx context.Context, tx *ent.Tx, id, acct, ag gid.ID) (*ent.Invoice, error) {
	now := s.clock().UTC()
	rows, err := tx.QueryContext(ctx, s.rebind(`UPDATE invoices SET status = ?, paid_at = ?
		WHERE id = ? AND (account_id = ? AND agency_id = ? AND status = ? AND credit_eligible = ?
		AND EXISTS (SELECT 1 FROM agencies WHERE agencies.id = invoices.agency_id AND credit_payments_enabled = ?)) IS TRUE
		RETURNING created_at, number, amount, currency`),
		invoice.StatusPAID.String(), now, id, acct, ag, invoice.StatusOPEN.String(), true, true)
	if err != nil {
		return nil, fmt.Errorf("marking invoice paid: %w", err)
	}
	inv := &ent.Invoice{ID: id, AccountID: acct, AgencyID: ag, Status: invoice.StatusPAID, CreditEligible: true, PaidAt: &now}
	found := rows.Next()
	if found {
		err = rows.Scan(&inv.CreatedAt, &inv.Number, &inv.Amount, &inv.Currency)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("marking invoice paid: %w", err)
	}
	if found {
		inv.CreatedAt = inv.CreatedAt.UTC()
		return inv, s.emitInvoice(ctx, tx, "invoice.paid", inv)
	}
	cur, err := tx.Invoice.Query().Where(invoice.ID(id), invoice.AccountID(acct), invoice.AgencyID(ag)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("invoice")
	}
	if err != nil {
		return nil, fmt.Errorf("loading invoice: %w", err)
	}
	agc, err := tx.Agency.Query().Where(agency.ID(cur.AgencyID)).Select(agency.FieldCreditPaymentsEnabled).Only(System(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading agency: %w", err)
	}
	if reason := invoiceGate(agc, cur); reason != "" {
		return nil, unavailable(reason)
	}
	return nil, unavailable(CodeAlreadyPaid)
}

func (s *Service) invoiceOutcome(ctx context.Context, o ledger.Outcome) (*InvoicePayment, error) {
	inv, err := s.db.Invoice.Query().Where(invoice.ID(o.Invoice)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).WithTransaction().Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading invoice: %w", err)
	}
	// The key's own transaction: the invoice's may be gone since (a
	// reversal reopens the invoice and unlinks it).
	tx := inv.Edges.Transaction
	if o.Transaction != "" && (tx == nil || tx.ID != o.Transaction) {
		if tx, err = s.db.Posting.Query().Where(posting.ID(o.Transaction)).Only(ctx); err != nil {
			return nil, fmt.Errorf("loading the transaction of a replayed payment: %w", err)
		}
	}
	if tx == nil {
		return nil, fmt.Errorf("replaying the payment of invoice %s: no transaction recorded", o.Invoice)
	}
	tx.Edges.Account = inv.Edges.Account
	bal, err := s.balanceIn(ctx, inv.Edges.Account, inv.Currency)
	if err != nil {
		return nil, err
	}
	return &InvoicePayment{Invoice: inv, Transaction: tx, Balance: bal}, nil
}

// ServicePurchase is the answer to buyServiceWithCredit.
type ServicePurchase struct {
	Transaction *ent.Posting
	Balance     *ent.Balance
}

// BuyServiceWithCredit charges price × quantity to the account: metered
// usage (an SMS) draws credits down the same way.
func (s *Service) BuyServiceWithCredit(ctx context.Context, serviceID gid.ID, accountID *gid.ID, quantity int, idemKey *string) (*ServicePurchase, error) {
	if _, err := requireRole(ctx, spenders...); err != nil {
		return nil, err
	}
	if quantity < 1 {
		return nil, badInput("quantity must be at least 1")
	}
	acc, svc, ok, err := s.ownAccountService(ctx, accountID, serviceID)
	if !ok {
		if acc, err = s.Account(ctx, accountID); err != nil {
			return nil, nothingDone(err)
		}
		svc, err = s.db.Service.Query().Where(service.ID(serviceID), service.AgencyID(acc.AgencyID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, notFound("service")
		}
		if err != nil {
			return nil, nothingDone(fmt.Errorf("loading service: %w", err))
		}
	} else if err != nil {
		return nil, nothingDone(err)
	}
	if reason := serviceGate(acc.Edges.Agency, svc); reason != "" {
		return nil, unavailable(reason)
	}
	total, err := money.MulQuantity(svc.Price, int64(quantity))
	if err != nil {
		return nil, badInput("quantity: %v", err)
	}
	return run(ctx, s, ledger.Mutation[*ServicePurchase]{
		Op: "buyServiceWithCredit", Key: idemKey, Debit: acc.ID,
		Input: struct {
			S, A gid.ID
			Q    int
		}{svc.ID, acc.ID, quantity},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ServicePurchase, error) {
			tid := gid.New(gid.Posting) // named first: the event rides along with the ledger's statement
			if err := s.audit(ctx, tx.Tx, Audit{Action: "buyServiceWithCredit", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: tid,
				Summary: fmt.Sprintf("bought %s x%d for %s of credit", svc.Name, quantity, fmtAmount(total, svc.Currency))}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: posting.KindSERVICE_PURCHASE, Reference: fmt.Sprintf("%s x%d", svc.Name, quantity), // the service is in Detail
				Currency: svc.Currency, AgencyID: svc.AgencyID, ID: tid,
				Legs: []ledger.Leg{
					{Account: acc, Amount: -total},
					{Book: ledger.Revenue, Amount: total},
				},
				Detail: &ledger.Detail{ServiceID: svc.ID, Quantity: quantity},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: ps[0].ID}, &ServicePurchase{Transaction: ps[0], Balance: balanceLeft(tx, ps[0])}, nil
		},
		Replay: func(ctx context.Context, o ledger.Outcome) (*ServicePurchase, error) {
			return s.transactionOutcome(ctx, o.Transaction)
		},
	})
}

func (s *Service) transactionOutcome(ctx context.Context, id gid.ID) (*ServicePurchase, error) {
	p, err := s.db.Posting.Query().Where(posting.ID(id)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading transaction: %w", err)
	}
	bal, err := s.balanceIn(ctx, p.Edges.Account, p.Currency)
	if err != nil {
		return nil, err
	}
	return &ServicePurchase{Transaction: p, Balance: bal}, nil
}

// unavailable turns an availability reason into the mutation's error.
func unavailable(reason Code) *Error {
	msg := map[Code]string{
		CodeCreditPaymentsDisabled: "the agency has turned credit payments off",
		CodeNotEligible:            "this cannot be paid with credits",
		CodeAlreadyPaid:            "the invoice is not open",
		CodeInsufficientCredits:    "the balance does not cover the amount",
	}[reason]
	return newErr(reason, "%s", msg)
}

// Allocation is the answer to allocateCredits.
type Allocation struct {
	Transaction *ent.Posting // IN on the client account
	Balance     *ent.Balance // the client's
	PoolBalance *ent.Balance
}

// AllocateCredits moves credits from the agency pool to one of its client
// accounts: OUT on the pool and IN on the client, one journal.
func (s *Service) AllocateCredits(ctx context.Context, to gid.ID, amount money.Decimal, cur *string, reference *string, idemKey *string) (*Allocation, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, &to)
	if err != nil {
		return nil, nothingDone(err) // reads only, so far
	}
	if acc.Kind != account.KindCLIENT {
		return nil, badInput("toAccountId: credits are allocated to client accounts")
	}
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	n, err := parseAmount("amount", amount, c)
	if err != nil {
		return nil, err
	}
	ref := "allocation"
	if reference != nil && *reference != "" {
		if len([]rune(*reference)) > 500 {
			return nil, badInput("reference is longer than 500 characters")
		}
		ref = *reference
	}
	pool, err := s.PoolAccount(ctx, acc.Edges.Agency)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*Allocation]{
		Op: "allocateCredits", Key: idemKey,
		Input: struct {
			To     gid.ID
			Amount int64
			Cur    string
			Ref    string
		}{acc.ID, n, c, ref},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Allocation, error) {
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: posting.KindALLOCATION, Reference: ref, Currency: c, AgencyID: acc.AgencyID,
				Legs: []ledger.Leg{
					{Account: acc, Amount: n},
					{Account: pool, Amount: -n},
				},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "allocateCredits", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: ps[0].ID,
				Summary: fmt.Sprintf("allocated %s from the pool to %s", fmtAmount(n, c), acc.ID)}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: ps[0].ID},
				&Allocation{Transaction: ps[0], Balance: balanceLeft(tx, ps[0]), PoolBalance: balanceLeft(tx, ps[1])}, nil
		},
		Replay: func(ctx context.Context, o ledger.Outcome) (*Allocation, error) {
			sp, err := s.transactionOutcome(ctx, o.Transaction)
			if err != nil {
				return nil, err
			}
			poolBal, err := s.balanceIn(ctx, pool, sp.Transaction.Currency)
			if err != nil {
				return nil, err
			}
			return &Allocation{Transaction: sp.Transaction, Balance: sp.Balance, PoolBalance: poolBal}, nil
		},
	})
}
