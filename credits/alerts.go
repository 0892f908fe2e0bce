package credits

import (
	"context"
	"fmt"
	"strings"

	"creditgate/ent"
	"creditgate/ent/alertrule"
	"creditgate/ent/balance"
)

// runAlert emails the owner when the balance is below the alert threshold,
// at most once per AlertEvery while it stays low (the job re-queues itself
// for the next reminder), and records RECOVERED when it is back up. The
// email goes out before the state is saved: a crash in between sends it
// twice rather than never.
func (s *Service) runAlert(ctx context.Context, j *ent.Job) (jobResult, error) {
	rule, err := s.db.AlertRule.Query().Where(alertrule.AccountID(j.AccountID), alertrule.Currency(j.Currency)).
		WithAccount().Only(ctx)
	if ent.IsNotFound(err) {
		return done("no alert rule"), nil
	}
	if err != nil {
		return jobResult{}, fmt.Errorf("loading alert: %w", err)
	}
	if !rule.Enabled {
		return done("alert is off"), nil
	}
	available, err := s.available(ctx, j)
	if err != nil {
		return jobResult{}, err
	}
	now := s.clock()
	if available >= rule.Threshold {
		if rule.State != alertrule.StateLOW {
			return done("balance not low"), nil
		}
		err := s.inTx(ctx, func(tx *ent.Tx) error {
			if err := tx.AlertRule.UpdateOneID(rule.ID).SetState(alertrule.StateRECOVERED).SetRecoveredAt(now.UTC()).Exec(ctx); err != nil {
				return fmt.Errorf("recording recovery: %w", err)
			}
			if err := s.emitBalance(ctx, tx, "balance.recovered", rule.AgencyID, rule.AccountID, rule.Currency, available,
				map[string]any{"threshold": dec(rule.Threshold, rule.Currency)}); err != nil {
				return err
			}
			return tx.Balance.Update().Where(balance.AccountID(j.AccountID), balance.Currency(j.Currency)).SetAlertLow(false).Exec(ctx)
		})
		return done("recovered"), err
	}
	if rule.State == alertrule.StateLOW && rule.LastSentAt != nil && now.Before(rule.LastSentAt.Add(s.auto.AlertEvery)) {
		return jobResult{runAt: rule.LastSentAt.Add(s.auto.AlertEvery), outcome: "already alerted today"}, nil
	}
	if err := s.mailer.Send(ctx, lowBalanceEmail(rule, available, s.runwayOfBalance(ctx, j.AccountID, j.Currency))); err != nil {
		return jobResult{}, fmt.Errorf("sending low-balance email: %w", err)
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		upd := tx.AlertRule.UpdateOneID(rule.ID).SetState(alertrule.StateLOW).SetLastSentAt(now.UTC()).ClearRecoveredAt()
		if rule.State != alertrule.StateLOW {
			upd.SetLowSince(now.UTC())
			// The state changes: told once, not with each daily reminder.
			if err := s.emitBalance(ctx, tx, "balance.low", rule.AgencyID, rule.AccountID, rule.Currency, available,
				map[string]any{"threshold": dec(rule.Threshold, rule.Currency)}); err != nil {
				return err
			}
		}
		if err := upd.Exec(ctx); err != nil {
			return fmt.Errorf("recording alert: %w", err)
		}
		return tx.Balance.Update().Where(balance.AccountID(j.AccountID), balance.Currency(j.Currency)).SetAlertLow(true).Exec(ctx)
	})
	if err != nil {
		return jobResult{}, err
	}
	// A credit that landed while the email was on its way found alert_low
	// still false and queued nothing: look again in a moment, not tomorrow.
	if after, err := s.available(ctx, j); err == nil && after >= rule.Threshold {
		return jobResult{runAt: now, outcome: "emailed; balance already back up"}, nil
	}
	return jobResult{runAt: now.Add(s.auto.AlertEvery), outcome: "emailed " + rule.Email}, nil
}

func (s *Service) available(ctx context.Context, j *ent.Job) (int64, error) {
	b, err := s.db.Balance.Query().Where(balance.AccountID(j.AccountID), balance.Currency(j.Currency)).Only(ctx)
	if ent.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading balance: %w", err)
	}
	return b.Available, nil
}

// lowBalanceEmail says how long the balance lasts at the current usage
// when that is known (rw not nil).
func lowBalanceEmail(r *ent.AlertRule, available int64, rw *Runway) Email {
	name := "your account"
	if r.Edges.Account != nil {
		name = r.Edges.Account.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "The %s credit balance of %s is %s, below your alert threshold of %s.\n\n",
		r.Currency, name, fmtAmount(available, r.Currency), fmtAmount(r.Threshold, r.Currency))
	if rw != nil {
		fmt.Fprintf(&b, "That is %s (until about %s).\n\n", rw.words(), rw.RunsOutAt.Format("2 January 2006"))
	}
	b.WriteString("Buy credits or turn on auto top-up in your portal to keep your services running.\n\n")
	b.WriteString("You receive this email at most once a day while the balance stays low.\n")
	return Email{
		To:      r.Email,
		Subject: fmt.Sprintf("Low credit balance: %s left on %s", fmtAmount(available, r.Currency), name),
		Text:    b.String(),
	}
}
