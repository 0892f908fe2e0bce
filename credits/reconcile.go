package credits

import (
	"context"
	"fmt"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/creditrequest"
	"creditgate/ent/payment"
	"creditgate/gid"
)

// Reconciling instant payments whose provider's answer was lost.
//
// A card or PayPal purchase commits its PENDING payment before it calls the
// provider, then records the answer. If the process dies in between (or the
// provider could not be reached, or the settlement failed after the charge),
// the payment stays PENDING with no provider reference, or with the reason
// "charged but not credited". Such a payment is reconciled by asking the
// provider (Provider.Lookup, by our payment id, which is the charge's
// idempotency key):
//
//   - on a retry of the purchase with the same idempotency key, at once: if
//     the provider never got the charge, the retry makes it now (the same
//     charge: a provider answers one idempotency key once), so the retry
//     answers the real outcome instead of waiting for one that never comes;
//   - by the job workers, for payments left alone for reconcileAfter: each
//     is claimed like a job (FOR UPDATE SKIP LOCKED on PostgreSQL; bumping
//     updated_at is the lease, so another instance leaves it for
//     reconcileAfter). A payment the provider still does not know after
//     reconcileGiveUp is FAILED: nobody was ever given a way to pay it (the
//     client secret or approval URL died with the process), and a late
//     webhook can still settle a FAILED payment.

const (
	reconcileAfter  = 2 * time.Minute  // a purchase's own attempt is over by then (provider timeouts are 30 s)
	reconcileGiveUp = 30 * time.Minute // the provider never got the charge: fail the payment
	reconcileEvery  = 30 * time.Second // how often an instance looks for stale payments
	reconcileBatch  = 100              // at most this many per look
)

// resumePurchase answers a retried buyCredits from its payment. A payment
// still PENDING without the provider's answer (or charged but not
// credited) is reconciled first: the retry gets the real outcome.
func (s *Service) resumePurchase(ctx context.Context, id gid.ID) (*Purchase, error) {
	pay, err := s.loadPayment(ctx, id)
	if err != nil {
		return nil, nothingDone(err) // a replay: this request has done nothing yet
	}
	if !stuck(pay) {
		return s.purchaseOf(ctx, id)
	}
	bal, err := s.balanceIn(ctx, pay.Edges.Account, pay.Currency)
	if err != nil {
		return nil, nothingDone(err)
	}
	res, found, err := s.askProvider(ctx, pay, true)
	if err == nil && found {
		return s.answerCharge(ctx, pay, bal, res)
	}
	if err == nil {
		err = fmt.Errorf("%s knows no charge for payment %s", pay.Provider, pay.ID)
	}
	// The provider could not tell. The first attempt may still be talking to
	// it: give it a moment to record its answer.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if now, lerr := s.loadPayment(ctx, id); lerr == nil && (now.Status != pay.Status || now.ProviderRef != pay.ProviderRef) {
			return s.purchaseOf(ctx, id)
		}
	}
	s.log.WarnContext(ctx, "buyCredits retry: the provider could not be asked about the payment", "payment", id, "provider", pay.Provider, "error", err)
	return nil, &Error{Code: CodeUnavailable, RetryAfter: 5, cause: err,
		Message: "the payment provider cannot be asked about this payment now; nothing more was done: retry with the same idempotencyKey"}
}

// stuck says whether a payment waits for an answer nobody will deliver: a
// purchase PENDING with no provider reference, or charged but not credited.
func stuck(p *ent.Payment) bool {
	return p.Status == payment.StatusPENDING && p.Origin == payment.OriginPURCHASE &&
		(p.ProviderRef == "" || p.FailureReason != nil)
}

// askProvider asks the payment's provider what became of its charge. When
// the provider holds none and charge is set, it makes the charge now, with
// the same payment id (idempotency key): the same charge, never a second.
func (s *Service) askProvider(ctx context.Context, pay *ent.Payment, charge bool) (ChargeResult, bool, error) {
	if pay.CardID != nil {
		return s.askVault(ctx, pay)
	}
	prov := s.provider(creditrequest.Method(pay.Method.String()))
	if prov.Name() != pay.Provider {
		return ChargeResult{}, false, fmt.Errorf("payment %s was made with %s, which is not configured for %s", pay.ID, pay.Provider, pay.Method)
	}
	res, found, err := prov.Lookup(ctx, pay.ID, pay.ProviderRef)
	if err != nil {
		return res, false, fmt.Errorf("asking %s about payment %s: %w", prov.Name(), pay.ID, err)
	}
	if found || !charge || pay.ProviderRef != "" {
		return res, found, nil
	}
	name := ""
	if pay.Edges.Account != nil {
		name = pay.Edges.Account.Name
	}
	price, err := minorOf(pay.Amount, pay.Currency)
	if err != nil {
		return res, false, err
	}
	res, err = prov.Charge(ctx, ChargeRequest{
		PaymentID: pay.ID, Method: pay.Method.String(), Amount: price, Currency: pay.Currency,
		Description: "credits for " + name,
	})
	if err != nil {
		return res, false, fmt.Errorf("charging through %s: %w", prov.Name(), err)
	}
	return res, true, nil
}

// reconcileStale reconciles the payments left stale, at most every
// reconcileEvery per instance, and returns how many it looked at.
func (s *Service) reconcileStale(ctx context.Context) (int, error) {
	now := s.clock()
	s.sweepMu.Lock()
	if !s.lastSweep.IsZero() && now.Sub(s.lastSweep) < reconcileEvery && now.After(s.lastSweep) {
		s.sweepMu.Unlock()
		return 0, nil
	}
	s.lastSweep = now
	s.sweepMu.Unlock()
	var (
		n       int
		lastErr error
	)
	for n < reconcileBatch && ctx.Err() == nil {
		id, err := s.claimStalePayment(ctx, now)
		if err != nil {
			return n, err
		}
		if id == "" {
			break
		}
		n++
		if err := s.reconcilePayment(ctx, id, now); err != nil {
			s.log.WarnContext(ctx, "reconciling a payment failed; trying again later", "payment", id, "error", err)
			lastErr = err
		}
	}
	return n, lastErr
}

// claimStalePayment takes the next stale payment of a configured provider
// and leases it for reconcileAfter, or answers "".
func (s *Service) claimStalePayment(ctx context.Context, now time.Time) (gid.ID, error) {
	names := map[string]bool{Sandbox{}.Name(): true}
	for _, p := range s.providers {
		names[p.Name()] = true
	}
	args := []any{now.UTC()}
	marks := make([]string, 0, len(names))
	for n := range names {
		args = append(args, n)
		marks = append(marks, "?")
	}
	args = append(args, now.Add(-reconcileAfter).UTC())
	pick := `SELECT id FROM payments
		WHERE provider IN (` + strings.Join(marks, ", ") + `) AND status = 'PENDING' AND origin = 'PURCHASE'
		AND (provider_ref = '' OR failure_reason IS NOT NULL) AND updated_at <= ?
		ORDER BY updated_at LIMIT 1`
	if s.dialect == dialect.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`UPDATE payments SET updated_at = ? WHERE id = (`+pick+`) RETURNING id`), args...)
	if err != nil {
		return "", fmt.Errorf("claiming a stale payment: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return "", rows.Err()
	}
	var id gid.ID
	if err := rows.Scan(&id); err != nil {
		return "", fmt.Errorf("claiming a stale payment: %w", err)
	}
	return id, rows.Close()
}

// reconcilePayment asks the provider about one stale payment and records
// its answer; a payment the provider never got fails after reconcileGiveUp.
func (s *Service) reconcilePayment(ctx context.Context, id gid.ID, now time.Time) error {
	pay, err := s.loadPayment(ctx, id)
	if err != nil {
		return err
	}
	if !stuck(pay) {
		return nil
	}
	res, found, err := s.askProvider(ctx, pay, false)
	switch {
	case err != nil:
		return err
	case found:
		_, err := s.recordCharge(ctx, pay, res)
		if err == nil {
			s.log.InfoContext(ctx, "payment reconciled", "payment", id, "provider", pay.Provider, "status", res.Status)
		}
		return err
	case pay.ProviderRef == "" && now.Sub(pay.CreatedAt) >= reconcileGiveUp:
		reason := fmt.Sprintf("%s never got the charge: nothing was charged", pay.Provider)
		s.log.WarnContext(ctx, "payment failed: the provider never got it", "payment", id, "provider", pay.Provider)
		return s.FailPayment(ctx, id, "", reason)
	}
	return nil // not yet: the next look, after reconcileAfter
}

// ReconcilePayments reconciles stale payments now, whatever the time of
// the last look (an operator's command, tests); it returns how many it
// looked at.
func (s *Service) ReconcilePayments(ctx context.Context) (int, error) {
	s.sweepMu.Lock()
	s.lastSweep = time.Time{}
	s.sweepMu.Unlock()
	return s.reconcileStale(System(ctx))
}

// askVault answers for a one-time top-up with a saved card: a vault's charge
// is idempotent on our payment id, so charging again is asking what became of
// the first (Stripe answers the first PaymentIntent for the same key).
func (s *Service) askVault(ctx context.Context, pay *ent.Payment) (ChargeResult, bool, error) {
	c, err := s.db.Card.Get(System(ctx), *pay.CardID)
	if ent.IsNotFound(err) {
		// The card was removed: its charge may still have gone through, so
		// nothing is concluded here; the provider's webhook, or the
		// reconciler's give-up deadline, decides.
		return ChargeResult{}, false, nil
	}
	if err != nil {
		return ChargeResult{}, false, fmt.Errorf("loading card of payment %s: %w", pay.ID, err)
	}
	if c.Provider != s.vault.Name() {
		return ChargeResult{}, false, fmt.Errorf("payment %s was made with a card kept by %s, which is not configured", pay.ID, c.Provider)
	}
	price, err := minorOf(pay.Amount, pay.Currency)
	if err != nil {
		return ChargeResult{}, false, err
	}
	res, err := s.vault.ChargeCard(ctx, CardCharge{
		ChargeRequest: ChargeRequest{PaymentID: pay.ID, Method: pay.Method.String(), Amount: price, Currency: pay.Currency, Description: "one-time top-up"},
		CustomerRef:   c.CustomerRef, CardRef: c.Ref,
	})
	if err != nil {
		return res, false, fmt.Errorf("asking %s about payment %s: %w", c.Provider, pay.ID, err)
	}
	return res, true, nil
}
