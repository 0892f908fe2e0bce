package credits

import (
	"context"
	"creditgate/money"
	"database/sql"
	"fmt"
	"math"
	"time"

	"creditgate/ent"
	"creditgate/ent/balance"
	"creditgate/ent/payment"
	"creditgate/ent/topuprule"
	"creditgate/ledger"
)

// runTopUp charges the rule's card for one top-up. In three steps, so the
// provider is never called inside a database transaction and a crash at any
// point is recoverable: (1) decide and record a PENDING payment on the job;
// (2) charge off-session with the payment's id as idempotency key (a retry
// after a crash repeats the same charge, which the provider answers once);
// (3) settle or fail the payment and update the rule.
func (s *Service) runTopUp(ctx context.Context, j *ent.Job) (jobResult, error) {
	var (
		rule *ent.TopUpRule
		pay  *ent.Payment
		res  *jobResult
	)
	// (1), on the path of every money mutation: the payment it records is
	// the row that tells whether a COMMIT of unknown outcome landed.
	start := func(tx *ent.Tx) error {
		var err error
		rule, err = tx.TopUpRule.Query().
			Where(topuprule.AccountID(j.AccountID), topuprule.Currency(j.Currency)).WithCard().Only(ctx)
		if ent.IsNotFound(err) {
			res = ptr(done("no auto top-up rule"))
			return nil
		}
		if err != nil {
			return fmt.Errorf("loading auto top-up: %w", err)
		}
		if j.PaymentID != nil { // a retry: charge the same payment again
			pay, err = tx.Payment.Get(ctx, *j.PaymentID)
			if err != nil {
				return fmt.Errorf("loading top-up payment: %w", err)
			}
			return nil
		}
		now := s.clock()
		switch {
		case !rule.Enabled:
			res = ptr(done("auto top-up is off"))
			return nil
		case rule.PausedAt != nil:
			res = ptr(done("auto top-up is paused"))
			return nil
		case rule.Edges.Card == nil:
			res = ptr(done("auto top-up has no card"))
			return nil
		case rule.RetryAfter != nil && now.Before(*rule.RetryAfter):
			res = &jobResult{runAt: *rule.RetryAfter, outcome: "waiting after a declined charge or the monthly cap"}
			return nil
		}
		var available int64
		b, err := tx.Balance.Query().Where(balance.AccountID(j.AccountID), balance.Currency(j.Currency)).Only(ctx)
		switch {
		case err == nil:
			available = b.Available
		case !ent.IsNotFound(err):
			return fmt.Errorf("reading balance: %w", err)
		}
		if available >= rule.Threshold {
			res = ptr(done("the balance is back above the threshold"))
			return nil
		}
		amount := rule.Amount
		if rule.Mode == topuprule.ModeTOP_UP_TO {
			// A balance with finer digits than the currency's (usage at
			// fractions of a cent) is topped up to the next whole minor
			// unit: a provider charges nothing smaller.
			if amount, err = money.CeilMinor(rule.Amount-available, rule.Currency); err != nil {
				res = ptr(done("the balance cannot hold the top-up"))
				return nil
			}
		}
		if available > math.MaxInt64-amount {
			res = ptr(done("the balance cannot hold the top-up"))
			return nil
		}
		recent, err := tx.Payment.Query().Where(payment.AccountID(j.AccountID), payment.Currency(j.Currency),
			payment.OriginEQ(payment.OriginAUTO_TOPUP), payment.StatusNEQ(payment.StatusFAILED),
			payment.CreatedAtGTE(now.Add(-s.auto.RunawayWindow).UTC())).Count(ctx)
		if err != nil {
			return fmt.Errorf("counting recent top-ups: %w", err)
		}
		if recent >= s.auto.RunawayCount {
			reason := fmt.Sprintf("paused: %d top-ups within %s; something may be spending in a loop", recent, s.auto.RunawayWindow)
			s.log.ErrorContext(ctx, "auto top-up runaway", "account", j.AccountID, "currency", j.Currency, "top_ups", recent, "window", s.auto.RunawayWindow)
			res = ptr(done(reason))
			if err := s.pauseRule(ctx, tx, rule, reason); err != nil {
				return err
			}
			return s.audit(ctx, tx, topUpAudit(rule, "auto top-up "+reason))
		}
		if rule.MonthlyCap != nil {
			spent, err := s.topUpSpentSince(ctx, tx.Client(), rule, monthStart(now))
			if err != nil {
				return err
			}
			if spent+amount > *rule.MonthlyCap {
				next := monthStart(now).AddDate(0, 1, 0)
				reason := fmt.Sprintf("monthly cap of %s reached (%s topped up this month); next try %s",
					fmtAmount(*rule.MonthlyCap, rule.Currency), fmtAmount(spent, rule.Currency), next.Format("2006-01-02"))
				res = &jobResult{runAt: next, outcome: reason}
				if err := tx.TopUpRule.UpdateOneID(rule.ID).SetRetryAfter(next).
					SetLastFailureReason(reason).SetLastFailureAt(now.UTC()).Exec(ctx); err != nil {
					return err
				}
				return s.audit(ctx, tx, topUpAudit(rule, "auto top-up held back: "+reason))
			}
		}
		pay, err = tx.Payment.Create().SetAgencyID(rule.AgencyID).SetAccountID(rule.AccountID).
			SetProvider(rule.Edges.Card.Provider).SetMethod(payment.MethodCARD).SetOrigin(payment.OriginAUTO_TOPUP).
			SetCardID(rule.Edges.Card.ID).SetAmount(amount).SetCredits(amount).SetCurrency(rule.Currency).
			// On the clock the runaway and monthly-cap checks above count by.
			SetCreatedAt(now.UTC()).SetUpdatedAt(now.UTC()).Save(ctx)
		if err != nil {
			return fmt.Errorf("recording top-up payment: %w", err)
		}
		if err := tx.Job.UpdateOneID(j.ID).SetPaymentID(pay.ID).Exec(ctx); err != nil {
			return err
		}
		// The credit itself is audited where the payment settles.
		a := topUpAudit(rule, fmt.Sprintf("auto top-up: charging %s to card %s (payment %s), balance %s below %s",
			fmtAmount(amount, rule.Currency), rule.Edges.Card.ID, pay.ID, fmtAmount(available, rule.Currency), fmtAmount(rule.Threshold, rule.Currency)))
		a.TargetID = pay.ID
		return s.audit(ctx, tx, a)
	}
	_, err := run(ctx, s, ledger.Mutation[struct{}]{
		Op: "autoTopUp",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, struct{}, error) {
			rule, pay, res = nil, nil, nil
			err := start(tx.Tx)
			var o ledger.Outcome
			if pay != nil && j.PaymentID == nil {
				o.Payment = pay.ID
			}
			return o, struct{}{}, err
		},
	})
	if err != nil || res != nil {
		return deref0(res), err
	}
	if pay.Status == payment.StatusPENDING && pay.ProviderRef != "" {
		// The provider is still processing the charge: its webhook
		// settles or fails the payment; look again later.
		return jobResult{runAt: s.clock().Add(time.Minute), outcome: "awaiting the provider's confirmation"}, nil
	}
	if pay.Status == payment.StatusPENDING {
		if err := s.chargeTopUp(ctx, rule, pay); err != nil {
			return jobResult{}, err
		}
		if pay, err = s.db.Payment.Get(ctx, pay.ID); err != nil {
			return jobResult{}, fmt.Errorf("loading top-up payment: %w", err)
		}
		if pay.Status == payment.StatusPENDING {
			return jobResult{runAt: s.clock().Add(time.Minute), outcome: "awaiting the provider's confirmation"}, nil
		}
	}
	if pay.Status == payment.StatusSUCCEEDED {
		err := s.db.TopUpRule.UpdateOneID(rule.ID).SetConsecutiveFailures(0).ClearRetryAfter().
			SetLastTopupAt(s.clock().UTC()).Exec(ctx)
		if err != nil {
			return jobResult{}, fmt.Errorf("recording top-up: %w", err)
		}
		return done("topped up " + fmtAmount(pay.Credits, pay.Currency)), nil
	}
	return s.topUpDeclined(ctx, rule, deref(pay.FailureReason))
}

// chargeTopUp charges the saved card and settles or fails the payment. An
// error means the outcome is unknown: the payment stays PENDING and the job
// retries the same charge.
func (s *Service) chargeTopUp(ctx context.Context, rule *ent.TopUpRule, pay *ent.Payment) error {
	c := rule.Edges.Card
	if c == nil || pay.CardID == nil || c.ID != *pay.CardID {
		return s.FailPayment(ctx, pay.ID, "", "the card was removed before it was charged")
	}
	if c.Provider != s.vault.Name() {
		return s.FailPayment(ctx, pay.ID, "", fmt.Sprintf("the card is kept by %s, which is not configured", c.Provider))
	}
	price, err := minorOf(pay.Amount, pay.Currency)
	if err != nil {
		return s.FailPayment(ctx, pay.ID, "", err.Error())
	}
	r, err := s.vault.ChargeCard(ctx, CardCharge{
		ChargeRequest: ChargeRequest{PaymentID: pay.ID, Method: payment.MethodCARD.String(), Amount: price,
			Currency: pay.Currency, Description: "auto top-up"},
		CustomerRef: c.CustomerRef, CardRef: c.Ref,
	})
	if err != nil {
		return fmt.Errorf("charging card with %s: %w", c.Provider, err)
	}
	switch r.Status {
	case ChargeSucceeded:
		return s.SettlePayment(ctx, pay.ID, r.ProviderRef)
	case ChargeRequiresAction:
		// Off-session, nobody can act: the provider is processing the
		// charge (a vault answers a needed authentication as ChargeFailed).
		// Its webhook settles or fails the payment; the job waits for that.
		if r.ProviderRef == "" {
			return fmt.Errorf("%s answered an off-session charge with no reference", c.Provider)
		}
		if err := s.db.Payment.UpdateOneID(pay.ID).SetProviderRef(r.ProviderRef).Exec(ctx); err != nil {
			return fmt.Errorf("recording provider reference: %w", err)
		}
		return nil
	default:
		reason := r.FailureReason
		if reason == "" {
			reason = "the card was declined"
		}
		return s.FailPayment(ctx, pay.ID, r.ProviderRef, reason)
	}
}

// topUpDeclined backs off after a declined charge and pauses the rule after
// MaxDeclines in a row, recording the reason where the owner sees it.
func (s *Service) topUpDeclined(ctx context.Context, rule *ent.TopUpRule, reason string) (jobResult, error) {
	now := s.clock()
	failures := rule.ConsecutiveFailures + 1
	var res jobResult
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		upd := tx.TopUpRule.UpdateOneID(rule.ID).SetConsecutiveFailures(failures).
			SetLastFailureReason(reason).SetLastFailureAt(now.UTC())
		if err := s.emit(ctx, tx, Event{Type: "topup.failed", AgencyID: rule.AgencyID, AccountID: rule.AccountID,
			Data: map[string]any{"ruleId": rule.ID, "currency": rule.Currency, "amount": dec(rule.Amount, rule.Currency),
				"reason": reason, "consecutiveFailures": failures}}); err != nil {
			return err
		}
		if failures >= s.auto.MaxDeclines {
			res = done(fmt.Sprintf("declined %d times in a row: paused", failures))
			if err := upd.Exec(ctx); err != nil {
				return fmt.Errorf("recording decline: %w", err)
			}
			paused := fmt.Sprintf("paused after %d declined charges in a row; last: %s", failures, reason)
			if err := s.pauseRule(ctx, tx, rule, paused); err != nil {
				return err
			}
			return s.audit(ctx, tx, topUpAudit(rule, "auto top-up "+paused))
		}
		retry := now.Add(s.auto.DeclineBackoff)
		res = jobResult{runAt: retry, clearPayment: true, outcome: "declined: " + reason}
		if err := upd.SetRetryAfter(retry.UTC()).Exec(ctx); err != nil {
			return fmt.Errorf("recording decline: %w", err)
		}
		return s.audit(ctx, tx, topUpAudit(rule, fmt.Sprintf("auto top-up declined (%d in a row): %s; next try %s",
			failures, reason, retry.UTC().Format(time.RFC3339))))
	})
	return res, err
}

// topUpSpentSince sums the rule's balance's auto top-ups not FAILED since t.
func (s *Service) topUpSpentSince(ctx context.Context, db *ent.Client, r *ent.TopUpRule, t time.Time) (int64, error) {
	var sums []struct {
		Sum sql.NullInt64 `json:"sum"`
	}
	err := db.Payment.Query().Where(payment.AccountID(r.AccountID), payment.Currency(r.Currency),
		payment.OriginEQ(payment.OriginAUTO_TOPUP), payment.StatusNEQ(payment.StatusFAILED),
		payment.CreatedAtGTE(t.UTC())).
		Aggregate(ent.As(ent.Sum(payment.FieldAmount), "sum")).Scan(ctx, &sums)
	if err != nil {
		return 0, fmt.Errorf("summing this month's top-ups: %w", err)
	}
	if len(sums) == 0 {
		return 0, nil
	}
	return sums[0].Sum.Int64, nil
}

// topUpAudit is an audit event of the auto top-up job about rule (actor
// "system": the job has no viewer).
func topUpAudit(rule *ent.TopUpRule, summary string) Audit {
	return Audit{Action: "autoTopUp", AgencyID: rule.AgencyID, AccountID: rule.AccountID, TargetID: rule.ID, Summary: summary}
}

func ptr[T any](v T) *T { return &v }

func deref0[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
