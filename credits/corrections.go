package credits

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// Corrections: nothing is edited or deleted; each correction is a
// transaction of its own, with a reason and an actor, on the ledger's one
// path, and one audit event.

// adjustmentsBook is the counter-account of adjustments: what the agency
// (or the platform) gave or took by hand.
const adjustmentsBook = "adjustments"

// maxReason is the longest reason a correction keeps (postings.reason).
const maxReason = 1000

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

// AdjustBalance corrects a balance with an ADJUSTMENT: agency admins
// those of their client accounts (an agency does not correct its own
// pool: the platform does), system admins any. OUT never goes below zero.
func (s *Service) AdjustBalance(ctx context.Context, in Adjustment) (*Correction, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	why, err := cleanName("reason", in.Reason, maxReason)
	if err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, &in.AccountID)
	if err != nil {
		return nil, nothingDone(err)
	}
	if acc.Kind == account.KindAGENCY && v.Role != auth.RoleSystemAdmin {
		return nil, newErr(CodeForbidden, "an agency's own pool is adjusted by the platform")
	}
	c, err := currencyFor(acc.Edges.Agency, in.Currency)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	n, err := parseAmount("amount", in.Amount, c)
	if err != nil {
		return nil, err
	}
	signed, sign := n, "+"
	if !in.In {
		signed, sign = -n, "-"
	}
	return run(ctx, s, ledger.Mutation[*Correction]{
		Op: "adjustBalance", Key: in.IdempotencyKey,
		Input: struct {
			Acc    gid.ID
			Amount int64
			Cur    string
			Reason string
		}{acc.ID, signed, c, why},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Correction, error) {
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: posting.KindADJUSTMENT, Reference: "adjustment", Currency: c, AgencyID: acc.AgencyID, Reason: why,
				Legs: []ledger.Leg{
					{Account: acc, Amount: signed},
					{Book: adjustmentsBook, Amount: -signed},
				},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			t := ps[0]
			if err := s.audit(ctx, tx.Tx, Audit{
				Action: "adjustBalance", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: t.ID,
				Summary: fmt.Sprintf("adjusted %s %s%s: %s", acc.ID, sign, fmtAmount(n, c), why),
			}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: t.ID}, &Correction{Transaction: t, Balance: balanceLeft(tx, t)}, nil
		},
		Replay: s.correctionOutcome,
	})
}

// correctionOutcome rebuilds a correction's answer from its stored
// outcome: the transaction, the balance as it is now, and the invoice.
func (s *Service) correctionOutcome(ctx context.Context, o ledger.Outcome) (*Correction, error) {
	sp, err := s.transactionOutcome(ctx, o.Transaction)
	if err != nil {
		return nil, err
	}
	c := &Correction{Transaction: sp.Transaction, Balance: sp.Balance}
	if o.Invoice != "" {
		if c.Invoice, err = s.db.Invoice.Get(ctx, o.Invoice); err != nil {
			return nil, fmt.Errorf("loading invoice: %w", err)
		}
	}
	return c, nil
}

// Reclaim describes reclaimCredits.
type Reclaim struct {
	From           gid.ID
	Amount         money.Decimal
	Currency       *string
	Reason         *string
	IdempotencyKey *string
}

// ReclaimCredits moves credits from a client account back to its pool:
// allocateCredits the other way (ALLOCATION, OUT on the client, IN on the
// pool), covered by the client's available credits.
func (s *Service) ReclaimCredits(ctx context.Context, in Reclaim) (*Correction, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	var why string
	if in.Reason != nil {
		why = strings.TrimSpace(*in.Reason)
		if len([]rune(why)) > maxReason {
			return nil, badInput("reason is longer than %d characters", maxReason)
		}
	}
	acc, err := s.Account(ctx, &in.From)
	if err != nil {
		return nil, nothingDone(err)
	}
	if acc.Kind != account.KindCLIENT {
		return nil, badInput("fromAccountId: credits are reclaimed from client accounts")
	}
	c, err := currencyFor(acc.Edges.Agency, in.Currency)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	n, err := parseAmount("amount", in.Amount, c)
	if err != nil {
		return nil, err
	}
	pool, err := s.PoolAccount(ctx, acc.Edges.Agency)
	if err != nil {
		return nil, nothingDone(err)
	}
	return run(ctx, s, ledger.Mutation[*Correction]{
		Op: "reclaimCredits", Key: in.IdempotencyKey,
		Input: struct {
			From   gid.ID
			Amount int64
			Cur    string
			Reason string
		}{acc.ID, n, c, why},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Correction, error) {
			ps, err := s.post(ctx, tx, ledger.Entry{
				Kind: posting.KindALLOCATION, Reference: "reclaimed to pool", Currency: c, AgencyID: acc.AgencyID, Reason: why,
				Legs: []ledger.Leg{
					{Account: acc, Amount: -n},
					{Account: pool, Amount: n},
				},
			})
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			summary := fmt.Sprintf("reclaimed %s from %s to the pool", fmtAmount(n, c), acc.ID)
			if why != "" {
				summary += ": " + why
			}
			if err := s.audit(ctx, tx.Tx, Audit{
				Action: "reclaimCredits", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: ps[0].ID, Summary: summary,
			}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: ps[0].ID}, &Correction{
				Transaction: ps[0], Balance: balanceLeft(tx, ps[0]), PoolBalance: balanceLeft(tx, ps[1]),
			}, nil
		},
		Replay: func(ctx context.Context, o ledger.Outcome) (*Correction, error) {
			c, err := s.correctionOutcome(ctx, o)
			if err != nil {
				return nil, err
			}
			if c.PoolBalance, err = s.balanceIn(ctx, pool, c.Transaction.Currency); err != nil {
				return nil, err
			}
			return c, nil
		},
	})
}

// ReverseTransaction undoes a transaction once with a REVERSAL: the mirror
// of its whole journal (every leg, account or book, with the opposite
// amount), so what it credited is taken back (only if available covers
// it) and what it debited is credited back. A reversed INVOICE_PAYMENT
// reopens its invoice in the same transaction.
//
// "Once" is per journal: an allocation has two account legs, and either
// may be named, so the REVERSAL always names the journal's canonical leg
// (canonicalLeg) in reverses_id, whose unique index refuses a second
// reversal even when two race past the check below.
func (s *Service) ReverseTransaction(ctx context.Context, id gid.ID, reason string, idemKey *string) (*Correction, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin, auth.RoleService)
	if err != nil {
		return nil, err
	}
	if err := requireScope(ctx, ScopeUsageWrite); err != nil {
		return nil, err
	}
	why, err := cleanName("reason", reason, maxReason)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*Correction]{
		Op: "reverseTransaction", Key: idemKey,
		Input: struct {
			ID     gid.ID
			Reason string
		}{id, why},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Correction, error) {
			return s.reverse(ctx, tx, v, id, why)
		},
		Replay: s.correctionOutcome,
	})
}

func (s *Service) reverse(ctx context.Context, tx *ledger.Tx, v *auth.Viewer, id gid.ID, why string) (ledger.Outcome, *Correction, error) {
	none := ledger.Outcome{}
	p, err := tx.Posting.Query().Where(posting.ID(id), posting.AccountIDNotNil()).Only(ctx)
	if ent.IsNotFound(err) {
		return none, nil, notFound("transaction")
	}
	if err != nil {
		return none, nil, fmt.Errorf("loading transaction: %w", err)
	}
	if v.Role == auth.RoleService && p.Kind != posting.KindUSAGE {
		// The scope already narrowed it to the key's agency.
		return none, nil, newErr(CodeForbidden, "a service reverses only usage")
	}
	if err := reversible(p.Kind); err != nil {
		return none, nil, err
	}
	// The journal is read whole, outside the viewer's scope: a leg on a
	// platform book, or (for a client's allocation) on the pool, is the
	// other side of a movement the viewer may see.
	sys := System(ctx)
	legs, err := tx.Posting.Query().Where(posting.JournalID(p.JournalID)).Order(ent.Asc(posting.FieldID)).All(sys)
	if err != nil {
		return none, nil, fmt.Errorf("loading journal: %w", err)
	}
	var ids []gid.ID
	for _, l := range legs {
		if l.AccountID != nil {
			ids = append(ids, *l.AccountID)
		}
	}
	accs, err := tx.Account.Query().Where(account.IDIn(ids...)).WithAgency().All(sys)
	if err != nil {
		return none, nil, fmt.Errorf("loading accounts: %w", err)
	}
	byID := map[gid.ID]*ent.Account{}
	for _, a := range accs {
		byID[a.ID] = a
	}
	canon := canonicalLeg(legs, byID)
	reversed, err := tx.Posting.Query().Where(posting.ReversesID(canon.ID)).Exist(sys)
	if err != nil {
		return none, nil, fmt.Errorf("checking reversals: %w", err)
	}
	if reversed {
		return none, nil, alreadyReversed()
	}
	var inv *ent.Invoice
	if p.Kind == posting.KindINVOICE_PAYMENT {
		if inv, err = s.reopenInvoice(ctx, tx.Tx, canon.ID); err != nil {
			return none, nil, err
		}
	}
	// The canonical leg's mirror first: the ledger names the reversed
	// posting on the first account leg.
	slices.SortStableFunc(legs, func(a, b *ent.Posting) int {
		switch {
		case a == canon:
			return -1
		case b == canon:
			return 1
		}
		return 0
	})
	mirror := make([]ledger.Leg, len(legs))
	for i, l := range legs {
		mirror[i] = ledger.Leg{Book: l.Book, Amount: -l.Amount}
		if l.AccountID != nil {
			mirror[i].Account = byID[*l.AccountID]
		}
	}
	ref := "reversal of " + string(p.Kind)
	if p.Reference != "" {
		ref = truncate("reversal: "+p.Reference, 500)
	}
	ps, err := s.post(ctx, tx, ledger.Entry{
		Kind: posting.KindREVERSAL, Reference: ref, Currency: p.Currency, AgencyID: p.AgencyID,
		Legs: mirror, Reason: why, Reverses: canon.ID,
	})
	if uniqueViolation(err) {
		return none, nil, alreadyReversed()
	}
	if err != nil {
		return none, nil, err
	}
	var t *ent.Posting
	for i, l := range legs {
		if l.AccountID != nil && *l.AccountID == *p.AccountID {
			t = ps[i]
			break
		}
	}
	if err := s.audit(ctx, tx.Tx, Audit{
		Action: "reverseTransaction", AgencyID: p.AgencyID, AccountID: *p.AccountID, TargetID: p.ID,
		Summary: fmt.Sprintf("reversed %s (%s %s) with %s: %s", p.ID, p.Kind, fmtSigned(p.Amount, p.Currency), t.ID, why),
	}); err != nil {
		return none, nil, err
	}
	o := ledger.Outcome{Transaction: t.ID}
	if inv != nil {
		o.Invoice = inv.ID
	}
	return o, &Correction{Transaction: t, Balance: balanceLeft(tx, t), Invoice: inv}, nil
}

// reversible refuses what a reversal does not undo.
func reversible(k posting.Kind) error {
	switch k {
	case posting.KindREVERSAL:
		return badInput("a reversal is not reversed: correct it with an adjustment")
	case posting.KindPURCHASE, posting.KindAUTO_TOPUP:
		// Money came in through a provider: it goes back the same way,
		// with the credits.
		return badInput("a %s is not reversed: refund the payment instead", k)
	case posting.KindREFUND:
		return badInput("a refund is not reversed: the money went back to the payer")
	}
	// REQUEST_APPROVED is reversed like any credit: taken back if available
	// covers it. The request stays ACCEPTED (what was decided then), and
	// the reversal, with its reason, says it was undone.
	return nil
}

// canonicalLeg is the account posting of a journal that its reversal
// names: the client account's leg (an allocation's or a reclaim's, the one
// the client's history shows), else the first.
func canonicalLeg(legs []*ent.Posting, accs map[gid.ID]*ent.Account) *ent.Posting {
	var first *ent.Posting
	for _, l := range legs {
		if l.AccountID == nil {
			continue
		}
		if a := accs[*l.AccountID]; a != nil && a.Kind == account.KindCLIENT {
			return l
		}
		if first == nil {
			first = l
		}
	}
	return first
}

// reopenInvoice turns the invoice paid by transaction t OPEN again, in one
// conditional statement: of racing reversals exactly one matches.
func (s *Service) reopenInvoice(ctx context.Context, tx *ent.Tx, t gid.ID) (*ent.Invoice, error) {
	inv, err := tx.Invoice.Query().Where(invoice.TransactionID(t)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, alreadyReversed()
	}
	if err != nil {
		return nil, fmt.Errorf("loading invoice: %w", err)
	}
	n, err := tx.Invoice.Update().
		Where(invoice.ID(inv.ID), invoice.TransactionID(t), invoice.StatusEQ(invoice.StatusPAID)).
		SetStatus(invoice.StatusOPEN).ClearPaidAt().ClearTransactionID().Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("reopening invoice: %w", err)
	}
	if n == 0 {
		return nil, alreadyReversed()
	}
	inv.Status, inv.PaidAt, inv.TransactionID = invoice.StatusOPEN, nil, nil
	return inv, nil
}

func alreadyReversed() *Error {
	return newErr(CodeConflict, "this transaction was already reversed")
}

// uniqueViolation says whether err is a unique index refusing a row
// (PostgreSQL 23505; SQLite's SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY).
func uniqueViolation(err error) bool {
	var (
		sqe interface{ SQLState() string } // lib/pq
		lte interface{ Code() int }        // modernc.org/sqlite
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &sqe):
		return sqe.SQLState() == "23505"
	case errors.As(err, &lte):
		return lte.Code() == 2067 || lte.Code() == 1555
	}
	return false
}

// fmtSigned is an amount with its direction: "+5.00 USD", "-5.00 USD".
func fmtSigned(micro int64, cur string) string {
	if micro < 0 {
		return "-" + fmtAmount(-micro, cur)
	}
	return "+" + fmtAmount(micro, cur)
}

// VoidInvoice turns an OPEN (or OVERDUE) invoice VOID with a reason. A
// paid one is reversed first (CONFLICT). Voiding a CREDIT_TOPUP invoice
// rejects its pending request in the same transaction, by the rules of a
// review (mayReview); one whose request was decided is CONFLICT. An invoice to an agency's own pool is the platform's
// bill: only a system admin voids it.
func (s *Service) VoidInvoice(ctx context.Context, id gid.ID, reason string) (*ent.Invoice, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	why, err := cleanName("reason", reason, maxReason)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*ent.Invoice]{
		Op: "voidInvoice",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ent.Invoice, error) {
			inv, err := s.voidInvoice(ctx, tx, v, id, why)
			// Nothing moved: the outcome is empty, as for rejectRequest.
			return ledger.Outcome{}, inv, err
		},
	})
}

func (s *Service) voidInvoice(ctx context.Context, tx *ledger.Tx, v *auth.Viewer, id gid.ID, why string) (*ent.Invoice, error) {
	inv, err := tx.Invoice.Query().Where(invoice.ID(id)).WithAccount(withAgency).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("invoice")
	}
	if err != nil {
		return nil, fmt.Errorf("loading invoice: %w", err)
	}
	acc := inv.Edges.Account
	if acc.Kind == account.KindAGENCY && v.Role != auth.RoleSystemAdmin {
		return nil, newErr(CodeForbidden, "an invoice to the agency itself is voided by the platform")
	}
	switch inv.Status {
	case invoice.StatusPAID:
		return nil, newErr(CodeConflict, "the invoice is paid: reverse (or refund) its payment first")
	case invoice.StatusVOID:
		return nil, newErr(CodeConflict, "the invoice is already void")
	}
	var req *ent.CreditRequest
	if inv.RequestID != nil {
		req, err = tx.CreditRequest.Query().Where(creditrequest.ID(*inv.RequestID)).WithAccount(withAgency).Only(System(ctx))
		if err != nil {
			return nil, fmt.Errorf("loading the invoice's request: %w", err)
		}
		// The invoice and its request move together: an accepted request's
		// invoice is settled (markRequestPaid, payInvoice), not voided.
		if req.Status != creditrequest.StatusPENDING {
			return nil, newErr(CodeConflict, "the invoice's credit request was already %s", strings.ToLower(req.Status.String()))
		}
		if err := mayReview(v, req); err != nil {
			return nil, err
		}
	}
	n, err := tx.Invoice.Update().Where(invoice.ID(id), invoice.StatusEQ(invoice.StatusOPEN)).
		SetStatus(invoice.StatusVOID).SetVoidReason(why).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("voiding invoice: %w", err)
	}
	if n == 0 {
		return nil, newErr(CodeConflict, "the invoice is no longer open")
	}
	summary := fmt.Sprintf("voided %s %s (%s): %s", inv.ID, inv.Number, fmtAmount(inv.Amount, inv.Currency), why)
	if req != nil {
		n, err := tx.CreditRequest.Update().
			Where(creditrequest.ID(req.ID), creditrequest.StatusEQ(creditrequest.StatusPENDING)).
			SetStatus(creditrequest.StatusREJECTED).SetReviewedAt(s.clock().UTC()).SetReviewedBy(v.UserID).
			SetRejectionReason(why).Save(ctx)
		if err != nil {
			return nil, fmt.Errorf("rejecting the invoice's request: %w", err)
		}
		if n == 0 {
			return nil, alreadyReviewed()
		}
		reqAcc := req.Edges.Account
		if req, err = tx.CreditRequest.Get(System(ctx), req.ID); err != nil {
			return nil, fmt.Errorf("loading the invoice's request: %w", err)
		}
		req.Edges.Account = reqAcc
		tx.Announce(requestEvent(req))
		if err := s.emitRequest(ctx, tx.Tx, "request.reviewed", req); err != nil {
			return nil, err
		}
		summary += "; rejected " + string(req.ID)
	}
	if err := s.audit(ctx, tx.Tx, Audit{
		Action: "voidInvoice", AgencyID: inv.AgencyID, AccountID: inv.AccountID, TargetID: inv.ID, Summary: summary,
	}); err != nil {
		return nil, err
	}
	inv.Status, inv.VoidReason = invoice.StatusVOID, &why
	return inv, nil
}

// ReversalOf is the REVERSAL of p on p's account, or nil. The reversal
// names the canonical leg of p's journal, which is p itself unless p is
// one of an allocation's two legs.
func (s *Service) ReversalOf(ctx context.Context, p *ent.Posting) (*ent.Posting, error) {
	if p.AccountID == nil || p.Kind == posting.KindREVERSAL {
		return nil, nil
	}
	sys := System(ctx)
	legs := []gid.ID{p.ID}
	if p.Kind == posting.KindALLOCATION {
		ids, err := s.db.Posting.Query().Where(posting.JournalID(p.JournalID), posting.AccountIDNotNil()).IDs(sys)
		if err != nil {
			return nil, fmt.Errorf("loading journal: %w", err)
		}
		legs = ids
	}
	r, err := s.db.Posting.Query().Where(posting.ReversesIDIn(legs...)).Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading reversal: %w", err)
	}
	return s.legOn(ctx, r.JournalID, *p.AccountID)
}

// Reversed is the posting p reverses, on p's account, or nil.
func (s *Service) Reversed(ctx context.Context, p *ent.Posting) (*ent.Posting, error) {
	if p.Kind != posting.KindREVERSAL || p.AccountID == nil {
		return nil, nil
	}
	target := p.ReversesID
	if target == nil { // the other leg of an allocation's reversal
		named, err := s.db.Posting.Query().Where(posting.JournalID(p.JournalID), posting.ReversesIDNotNil()).Only(System(ctx))
		if err != nil {
			return nil, fmt.Errorf("loading reversal: %w", err)
		}
		target = named.ReversesID
	}
	orig, err := s.db.Posting.Query().Where(posting.ID(*target)).Only(System(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading reversed transaction: %w", err)
	}
	return s.legOn(ctx, orig.JournalID, *p.AccountID)
}

// legOn is the posting of journal j on account acc, in the viewer's scope.
func (s *Service) legOn(ctx context.Context, j, acc gid.ID) (*ent.Posting, error) {
	p, err := s.db.Posting.Query().Where(posting.JournalID(j), posting.AccountID(acc)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading transaction: %w", err)
	}
	return p, nil
}
