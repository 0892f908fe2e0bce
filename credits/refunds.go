package credits

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// Refunds and disputes. Money that goes back to a payer takes its credits
// with it: the credits removed are the refunded share of the payment's
// credits, computed on the cumulative refunded amount (creditsFor), so
// partial refunds add up exactly and the last one takes the rest.
//
// refundPayment removes the credits first (REFUND, all or nothing) and
// then asks the provider; if the provider refuses, a REVERSAL of that
// REFUND gives them back. A refund or dispute made at the provider arrives
// by webhook (ApplyProviderRefund): it takes what available covers and
// records the rest as owed, which the next credit into the balance pays
// off first (payOwed, from the ledger's Moved hook).

// Refund describes refundPayment.
type Refund struct {
	PaymentID      gid.ID
	Amount         *money.Decimal // provider money; nil: all not refunded yet
	Reason         *string
	IdempotencyKey *string
}

// refundInput is the validated refund, also its idempotency fingerprint.
type refundInput struct {
	Payment gid.ID `json:"p"`
	Amount  int64  `json:"a"`
	Reason  string `json:"r,omitempty"`
}

// creditsFor is the credits that refunded (of amount) takes back from a
// payment that credited credits: floor(credits × refunded / amount), in
// 128-bit arithmetic, and all of them once refunded reaches amount.
func creditsFor(credits, amount, refunded int64) int64 {
	if refunded <= 0 || credits <= 0 || amount <= 0 {
		return 0
	}
	if refunded >= amount {
		return credits
	}
	hi, lo := bits.Mul64(uint64(credits), uint64(refunded))
	q, _ := bits.Div64(hi, lo, uint64(amount)) // < credits: fits, hi < amount
	return int64(q)
}

// RefundPayment takes a payment's credits back and refunds it through its
// provider.
func (s *Service) RefundPayment(ctx context.Context, in Refund) (*Correction, error) {
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	pay, err := s.db.Payment.Query().Where(payment.ID(in.PaymentID)).WithAccount().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("payment")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading payment: %w", err))
	}
	if pay.Status != payment.StatusSUCCEEDED {
		return nil, badInput("payment %s is %s: only a succeeded payment can be refunded", pay.ID, pay.Status)
	}
	left := pay.Amount - pay.Refunded
	if left <= 0 {
		return nil, badInput("payment %s is refunded in full", pay.ID)
	}
	p := refundInput{Payment: pay.ID, Amount: left}
	if in.Amount != nil {
		if p.Amount, err = parsePrice("amount", *in.Amount, pay.Currency); err != nil {
			return nil, err
		}
		if p.Amount > left {
			return nil, badInput("amount: %s is more than the %s left to refund", fmtAmount(p.Amount, pay.Currency), fmtAmount(left, pay.Currency))
		}
	}
	if in.Reason != nil {
		p.Reason = strings.TrimSpace(*in.Reason)
		if len([]rune(p.Reason)) > 1000 {
			return nil, badInput("reason is longer than 1000 characters")
		}
	}
	prov, err := s.refunder(pay)
	if err != nil {
		return nil, err
	}
	acc := pay.Edges.Account
	return run(ctx, s, ledger.Mutation[*Correction]{
		Op: "refundPayment", Key: in.IdempotencyKey, Input: p,
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Correction, error) {
			t, after, err := s.takeRefund(ctx, tx, pay, p.Amount, p.Reason)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			t.Edges.Account = acc
			bal := balanceLeft(tx, t)
			if err := s.audit(ctx, tx.Tx, Audit{Action: "refundPayment", AgencyID: pay.AgencyID, AccountID: pay.AccountID, TargetID: pay.ID,
				Summary: fmt.Sprintf("refunded %s of payment %s: %s credits removed", fmtAmount(p.Amount, pay.Currency), pay.ID, fmtAmount(-t.Amount, t.Currency))}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			if err := s.emitPayment(ctx, tx.Tx, "payment.refunded", after, map[string]any{
				"refundAmount": dec(p.Amount, pay.Currency), "creditsRemoved": dec(-t.Amount, t.Currency), "transactionId": t.ID, "reason": p.Reason,
			}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			after.Edges.Account = acc
			return ledger.Outcome{Transaction: t.ID, Payment: pay.ID}, &Correction{Transaction: t, Balance: bal, Payment: after}, nil
		},
		Replay: func(ctx context.Context, o ledger.Outcome) (*Correction, error) {
			return s.refundAnswer(ctx, o)
		},
		// The credits are out and the refund recorded: now the provider.
		Then: func(ctx context.Context, c *Correction) (*Correction, error) {
			minor, err := minorOf(p.Amount, pay.Currency)
			if err != nil {
				return nil, err
			}
			_, err = prov.Refund(ctx, RefundRequest{
				PaymentID: pay.ID, ProviderRef: pay.ProviderRef, Key: "refund-" + string(c.Transaction.ID),
				Amount: minor, Currency: pay.Currency, Reason: p.Reason,
			})
			if err == nil {
				return c, nil
			}
			// Refused, or no answer: give the credits back. Should the
			// provider have refunded all the same, its webhook reports the
			// new total and takes them again, so the ledger never keeps a
			// refund the provider did not make.
			var refused *RefundRefused
			why := pay.Provider + " did not answer the refund: " + err.Error()
			if errors.As(err, &refused) {
				why = pay.Provider + " refused the refund: " + refused.Reason
			}
			s.log.WarnContext(ctx, "refundPayment: provider refund failed, giving the credits back", "payment", pay.ID, "error", err)
			if gerr := s.giveBack(ctx, pay, c.Transaction, p.Amount, why); gerr != nil {
				return nil, fmt.Errorf("refund of payment %s failed at %s (%v) and the credits could not be given back: %w", pay.ID, pay.Provider, err, gerr)
			}
			return nil, newErr(CodeNotEligible, "%s; the credits are back", truncate(why, 500))
		},
	})
}

// refunder is the provider that refunds pay: the one it was paid through,
// which must still be configured.
func (s *Service) refunder(pay *ent.Payment) (Refunder, error) {
	var cands []any
	for _, p := range s.providers {
		cands = append(cands, p)
	}
	cands = append(cands, s.vault, sandboxProvider)
	for _, c := range cands {
		n, ok := c.(interface{ Name() string })
		if !ok || n.Name() != pay.Provider {
			continue
		}
		switch w := c.(type) {
		case tracedVault:
			c = w.v
		case tracedProvider:
			c = w.p
		}
		if r, ok := c.(Refunder); ok {
			if p, ok := c.(Provider); ok {
				return traceProvider(p).(Refunder), nil
			}
			return r, nil
		}
	}
	return nil, newErr(CodeNotEligible, "payment %s was made through %s, which cannot refund here", pay.ID, pay.Provider)
}

// takeRefund records amount (provider money) more refunded on pay and
// posts the REFUND of its credits, all or nothing; it returns the posting
// and the payment as it is now.
func (s *Service) takeRefund(ctx context.Context, tx *ledger.Tx, pay *ent.Payment, amount int64, reason string) (*ent.Posting, *ent.Payment, error) {
	now, ok, err := s.addRefunded(ctx, tx, pay.ID, amount, -1)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, badInput("amount: more than what is left to refund of payment %s", pay.ID)
	}
	credits := creditsFor(now.Credits, now.Amount, now.Refunded) - creditsFor(now.Credits, now.Amount, now.Refunded-amount)
	if credits <= 0 {
		return nil, nil, badInput("amount: %s takes back no credits of payment %s", fmtAmount(amount, pay.Currency), pay.ID)
	}
	ps, err := s.post(ctx, tx, refundEntry(pay, -credits, reason))
	if err != nil {
		return nil, nil, err
	}
	return ps[0], now, nil
}

// refundEntry is a REFUND of credits (negative: out of the account) to
// the provider's clearing book, linked to pay.
func refundEntry(pay *ent.Payment, credits int64, reason string) ledger.Entry {
	return ledger.Entry{
		Kind: posting.KindREFUND, Reference: "refund " + pay.Provider + " " + pay.ProviderRef,
		Currency: pay.Currency, AgencyID: pay.AgencyID, PaymentID: pay.ID, Reason: reason,
		Legs: []ledger.Leg{
			{Account: pay.Edges.Account, Amount: credits},
			{Book: ledger.Clearing + pay.Provider, Amount: -credits},
		},
	}
}

// addRefunded adds delta to pay's refunded with a conditional update:
// never above its amount (nor below zero), and, with expect >= 0, only if
// refunded is still expect. ok=false: the condition did not hold. It
// returns the payment as updated, with its account.
func (s *Service) addRefunded(ctx context.Context, tx *ledger.Tx, id gid.ID, delta, expect int64) (*ent.Payment, bool, error) {
	q := `UPDATE payments SET refunded = refunded + ?, updated_at = ?
		WHERE id = ? AND status = 'SUCCEEDED' AND refunded + ? <= amount AND refunded + ? >= 0`
	args := []any{delta, s.clock().UTC(), id, delta, delta}
	if expect >= 0 {
		q += ` AND refunded = ?`
		args = append(args, expect)
	}
	res, err := tx.ExecContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, false, fmt.Errorf("recording refund of payment %s: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return nil, false, err
	}
	pay, err := tx.Payment.Query().Where(payment.ID(id)).WithAccount().Only(System(ctx))
	if err != nil {
		return nil, false, fmt.Errorf("loading payment %s: %w", id, err)
	}
	return pay, true, nil
}

// giveBack undoes a refund the provider did not make, in a transaction of
// its own: refunded goes back down and a REVERSAL of the REFUND returns
// its credits, with why as its reason.
func (s *Service) giveBack(ctx context.Context, pay *ent.Payment, refund *ent.Posting, amount int64, why string) error {
	_, err := run(ctx, s, ledger.Mutation[struct{}]{
		Op: "refundPayment.giveBack",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, struct{}, error) {
			now, ok, err := s.addRefunded(ctx, tx, pay.ID, -amount, -1)
			if err != nil {
				return ledger.Outcome{}, struct{}{}, err
			}
			if !ok {
				return ledger.Outcome{}, struct{}{}, fmt.Errorf("payment %s: refunded is below the %s to give back", pay.ID, fmtAmount(amount, pay.Currency))
			}
			e := refundEntry(now, -refund.Amount, truncate(why, 1000))
			e.Kind, e.Reverses = posting.KindREVERSAL, refund.ID
			e.Reference = "refund not made: " + pay.Provider + " " + pay.ProviderRef
			ps, err := s.post(ctx, tx, e)
			if err != nil {
				return ledger.Outcome{}, struct{}{}, err
			}
			return ledger.Outcome{Transaction: ps[0].ID}, struct{}{}, nil
		},
	})
	return err
}

// refundAnswer rebuilds refundPayment's answer from what it stored: the
// REFUND, or the refusal if it was given back.
func (s *Service) refundAnswer(ctx context.Context, o ledger.Outcome) (*Correction, error) {
	sys := System(ctx)
	t, err := s.db.Posting.Query().Where(posting.ID(o.Transaction)).WithAccount().Only(sys)
	if err != nil {
		return nil, fmt.Errorf("loading refund %s: %w", o.Transaction, err)
	}
	back, err := s.db.Posting.Query().Where(posting.ReversesID(t.ID), posting.KindEQ(posting.KindREVERSAL)).First(sys)
	if err != nil && !ent.IsNotFound(err) {
		return nil, fmt.Errorf("loading give-back of %s: %w", t.ID, err)
	}
	if back != nil {
		why := "the provider did not make the refund"
		if back.Reason != nil {
			why = *back.Reason
		}
		return nil, newErr(CodeNotEligible, "%s; the credits are back", why)
	}
	pay, err := s.db.Payment.Query().Where(payment.ID(o.Payment)).WithAccount().Only(sys)
	if err != nil {
		return nil, fmt.Errorf("loading payment %s: %w", o.Payment, err)
	}
	bal, err := s.balanceIn(ctx, t.Edges.Account, t.Currency)
	if err != nil {
		return nil, err
	}
	return &Correction{Transaction: t, Balance: bal, Payment: pay}, nil
}

// PaymentOf is the provider payment behind p, or nil.
func (s *Service) PaymentOf(ctx context.Context, p *ent.Posting) (*ent.Payment, error) {
	q := s.db.Payment.Query()
	switch {
	case p.PaymentID != nil:
		q.Where(payment.ID(*p.PaymentID))
	case p.Kind == posting.KindPURCHASE || p.Kind == posting.KindAUTO_TOPUP:
		q.Where(payment.TransactionID(p.ID))
	default:
		return nil, nil
	}
	pay, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("loading payment: %w", err)
	}
	return pay, nil
}

// ProviderRefund is a refund or dispute a provider reports by webhook.
type ProviderRefund struct {
	PaymentID gid.ID
	Provider  string
	// Total is the cumulative amount refunded (minor units), as Stripe's
	// amount_refunded and PayPal's total_refunded_amount say: only the
	// increase over what is recorded is applied, so a replay or an older
	// event changes nothing. Without Cumulative, Total is an amount of its
	// own (a dispute), applied once under EventID.
	Total      int64
	Cumulative bool
	// EventID is the provider's id of what happened (the event, or the
	// dispute): it is applied at most once.
	EventID string
	What    string // "charge.refunded evt_…": the REFUND's reason and the audit summary
	Action  string // the audit action: "stripeWebhook", "paypalWebhook"
}

// ErrNotSettled is a refund reported for a payment not settled yet: the
// provider should deliver it again later.
var ErrNotSettled = errors.New("the payment is not settled yet")

// ApplyProviderRefund applies a refund or dispute made at the provider:
// a REFUND of what available covers, the rest recorded as owed. It is
// applied at most once per event and never beyond the payment's amount;
// applied=false means it changed nothing (a replay, an older total).
func (s *Service) ApplyProviderRefund(ctx context.Context, r ProviderRefund) (applied bool, err error) {
	key := r.EventID
	if key == "" {
		return false, fmt.Errorf("a provider refund needs its event id")
	}
	ctx = System(ctx)
	return run(ctx, s, ledger.Mutation[bool]{
		Op: "providerRefund", Key: &key, Scope: "webhook:" + r.Provider, Input: r,
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, bool, error) {
			return s.applyProviderRefund(ctx, tx, r)
		},
		Replay: func(context.Context, ledger.Outcome) (bool, error) { return false, nil },
	})
}

func (s *Service) applyProviderRefund(ctx context.Context, tx *ledger.Tx, r ProviderRefund) (ledger.Outcome, bool, error) {
	var none ledger.Outcome
	for range 5 { // a concurrent change of refunded: read it again
		pay, err := tx.Payment.Query().Where(payment.ID(r.PaymentID)).WithAccount().Only(ctx)
		if err != nil {
			return none, false, fmt.Errorf("loading payment %s: %w", r.PaymentID, err)
		}
		if pay.Provider != r.Provider {
			return none, false, nil
		}
		if pay.Status != payment.StatusSUCCEEDED {
			return none, false, ErrNotSettled
		}
		micro, err := money.FromMinor(r.Total, pay.Currency)
		if err != nil {
			return none, false, fmt.Errorf("payment %s: %w", pay.ID, err)
		}
		target := pay.Refunded + micro
		if r.Cumulative {
			target = micro
		}
		target = min(target, pay.Amount)
		if target <= pay.Refunded {
			return none, false, nil // a replay, an older total, or all refunded already
		}
		delta := target - pay.Refunded
		now, ok, err := s.addRefunded(ctx, tx, pay.ID, delta, pay.Refunded)
		if err != nil {
			return none, false, err
		}
		if !ok {
			continue
		}
		due := creditsFor(now.Credits, now.Amount, now.Refunded) - creditsFor(now.Credits, now.Amount, now.Refunded-delta)
		acc := now.Edges.Account
		available, _, found, err := s.ledger.Lock(ctx, tx, acc, now.Currency)
		if err != nil {
			return none, false, err
		}
		if !found {
			available = 0
		}
		take := min(due, available)
		o := ledger.Outcome{Payment: pay.ID}
		if take > 0 {
			ps, err := s.post(ctx, tx, refundEntry(now, -take, truncate(r.What, 1000)))
			if err != nil {
				return none, false, err
			}
			o.Transaction = ps[0].ID
		}
		if owed := due - take; owed > 0 {
			if !found {
				return none, false, fmt.Errorf("payment %s: no balance to record %s owed on", pay.ID, fmtAmount(owed, now.Currency))
			}
			if err := s.ledger.Owe(ctx, tx, acc, now.Currency, owed); err != nil {
				return none, false, err
			}
		}
		err = s.audit(ctx, tx.Tx, Audit{Action: r.Action, AgencyID: pay.AgencyID, AccountID: pay.AccountID, TargetID: pay.ID,
			Summary: fmt.Sprintf("%s: %s refunded of payment %s at %s; %s credits taken, %s owed",
				r.What, fmtAmount(delta, pay.Currency), pay.ID, pay.Provider, fmtAmount(take, pay.Currency), fmtAmount(due-take, pay.Currency))})
		if err == nil {
			err = s.emitPayment(ctx, tx.Tx, "payment.refunded", now, map[string]any{
				"refundAmount": dec(delta, pay.Currency), "creditsRemoved": dec(take, pay.Currency), "owed": dec(due-take, pay.Currency), "reason": r.What,
			})
		}
		return o, true, err
	}
	return none, false, fmt.Errorf("payment %s: refunded keeps changing", r.PaymentID)
}

// moved is the ledger's Moved hook: a credit into a balance that owes
// pays what it owes first; then what the movement calls for is queued.
func (s *Service) moved(ctx context.Context, tx *ledger.Tx, acc *ent.Account, cur string, amount int64, m ledger.Moved) error {
	if amount > 0 && m.Owed > 0 {
		paid, err := s.payOwed(ctx, tx, acc, cur, min(m.Owed, amount))
		if err != nil {
			return err
		}
		if paid > 0 {
			return nil // the payoff's own movement queued what the final balance calls for
		}
	}
	return s.queueTriggered(ctx, tx, acc, cur, amount, m)
}

// owedShare is what one payment's refunds still owe a balance.
type owedShare struct {
	pay   *ent.Payment
	owed  int64 // credits due for its refunds less the REFUNDs taken
	taken int64
}

// owedShares lists, oldest first, the payments of acc in cur whose
// refunds took fewer credits than they are due: what owed is made of.
func (s *Service) owedShares(ctx context.Context, tx *ent.Tx, acc gid.ID, cur string) ([]owedShare, error) {
	ctx = System(ctx)
	pays, err := tx.Payment.Query().Where(payment.AccountID(acc), payment.Currency(cur), payment.RefundedGT(0)).
		Order(ent.Asc(payment.FieldCreatedAt), ent.Asc(payment.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("loading refunded payments: %w", err)
	}
	var out []owedShare
	for _, p := range pays {
		taken, err := s.refundTaken(ctx, tx, p.ID)
		if err != nil {
			return nil, err
		}
		if d := creditsFor(p.Credits, p.Amount, p.Refunded) - taken; d > 0 {
			out = append(out, owedShare{pay: p, owed: d, taken: taken})
		}
	}
	return out, nil
}

// refundTakenSQL sums, per payment, the credits its REFUNDs took from the
// account, net of the REVERSALs that gave them back.
const refundTakenSQL = `
	SELECT q.payment_id, COALESCE(-SUM(q.amount), 0) FROM postings q
	WHERE q.account_id IS NOT NULL AND q.payment_id IS NOT NULL AND (q.kind = 'REFUND'
	   OR (q.kind = 'REVERSAL' AND q.reverses_id IN (SELECT r.id FROM postings r WHERE r.kind = 'REFUND')))`

func (s *Service) refundTaken(ctx context.Context, tx *ent.Tx, pay gid.ID) (int64, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(refundTakenSQL+` AND q.payment_id = ? GROUP BY q.payment_id`), pay)
	if err != nil {
		return 0, fmt.Errorf("summing refunds of %s: %w", pay, err)
	}
	defer rows.Close()
	var (
		id    string
		taken int64
	)
	if rows.Next() {
		if err := rows.Scan(&id, &taken); err != nil {
			return 0, err
		}
	}
	return taken, rows.Err()
}

// payOwed pays up to amount of what the balance owes, oldest refund
// first: a REFUND per payment, linked to it, right after the credit (the
// credit shows its full amount; the chain stays exact), and owed down by
// as much. The balance row is locked by the credit, so nothing else pays
// or adds to owed meanwhile.
func (s *Service) payOwed(ctx context.Context, tx *ledger.Tx, acc *ent.Account, cur string, amount int64) (int64, error) {
	shares, err := s.owedShares(ctx, tx.Tx, acc.ID, cur)
	if err != nil {
		return 0, err
	}
	var paid int64
	for _, sh := range shares {
		x := min(sh.owed, amount-paid)
		if x <= 0 {
			break
		}
		sh.pay.Edges.Account = acc
		e := refundEntry(sh.pay, -x, "owed: paid off from the next credit")
		e.Actor = ledger.System
		if _, err := s.post(ctx, tx, e); err != nil {
			return paid, err
		}
		paid += x
	}
	if paid > 0 {
		if err := s.ledger.Owe(ctx, tx, acc, cur, -paid); err != nil {
			return paid, fmt.Errorf("paying off owed of %s: %w", acc.ID, err)
		}
	}
	return paid, nil
}
