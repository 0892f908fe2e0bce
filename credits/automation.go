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
	"creditgate/ent/alertrule"
	"creditgate/ent/balance"
	"creditgate/ent/card"
	"creditgate/ent/job"
	"creditgate/ent/topuprule"
	"creditgate/gid"
	"creditgate/money"
)

// Automation tunes auto top-up and alerts; the zero value is replaced by
// DefaultAutomation.
type Automation struct {
	DeclineBackoff time.Duration    // after a declined top-up, wait this long before trying again
	MaxDeclines    int              // pause the rule after this many declines in a row
	RunawayCount   int              // this many top-ups of one balance ...
	RunawayWindow  time.Duration    // ... within this window pause the rule: something spends in a loop
	AlertEvery     time.Duration    // while low, one alert email per this period
	JobLease       time.Duration    // a RUNNING job not finished within this was abandoned (crash)
	Clock          func() time.Time // nil: time.Now; tests move it to cross back-offs and days
}

// DefaultAutomation is what real systems settled on: an hour between tries
// on a declined card, three declines pause the rule, three top-ups within ten
// minutes look like a runaway, one alert email a day.
var DefaultAutomation = Automation{
	DeclineBackoff: time.Hour,
	MaxDeclines:    3,
	RunawayCount:   3,
	RunawayWindow:  10 * time.Minute,
	AlertEvery:     24 * time.Hour,
	JobLease:       5 * time.Minute,
}

// Mailer sends an email (package mail over SMTP, or to the log).
type Mailer interface {
	Send(ctx context.Context, e Email) error
}

// Email is a plain-text message.
type Email struct {
	To      string
	Subject string
	Text    string
}

// UseVault sets where cards are kept (the sandbox by default).
func (s *Service) UseVault(v CardVault) { s.vault = traceVault(v) }

// UseMailer sets how alert emails leave (the log by default).
func (s *Service) UseMailer(m Mailer) { s.mailer = m }

// Configure replaces the automation settings; zero fields keep the defaults.
func (s *Service) Configure(a Automation) {
	d := DefaultAutomation
	if a.DeclineBackoff > 0 {
		d.DeclineBackoff = a.DeclineBackoff
	}
	if a.MaxDeclines > 0 {
		d.MaxDeclines = a.MaxDeclines
	}
	if a.RunawayCount > 0 {
		d.RunawayCount = a.RunawayCount
	}
	if a.RunawayWindow > 0 {
		d.RunawayWindow = a.RunawayWindow
	}
	if a.AlertEvery > 0 {
		d.AlertEvery = a.AlertEvery
	}
	if a.JobLease > 0 {
		d.JobLease = a.JobLease
	}
	d.Clock = a.Clock
	s.auto = d
}

// rolesThatConfigure may set up low-balance alerts: the account's owner,
// its agency, the operator.
var rolesThatConfigure = []auth.Role{auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin}

// rolesThatCharge may add cards and have them charged (auto top-up, one-time
// top-up): the owner, and the operator acting as support; never the agency.
var rolesThatCharge = []auth.Role{auth.RoleClientOwner, auth.RoleSystemAdmin}

// ------------------------------------------------------------------ cards

// StartCardSetup begins saving a card for the account: the browser confirms
// the answer's client secret with the provider, then calls AddCard.
func (s *Service) StartCardSetup(ctx context.Context, accountID *gid.ID) (CardSetup, error) {
	if _, err := requireRole(ctx, rolesThatCharge...); err != nil {
		return CardSetup{}, err
	}
	acc, err := s.clientAccount(ctx, accountID)
	if err != nil {
		return CardSetup{}, err
	}
	setup, err := s.vault.SetupCard(ctx, CardSetupRequest{AccountID: acc.ID, CustomerRef: deref(acc.PaymentCustomer), Name: acc.Name})
	if err != nil {
		return CardSetup{}, fmt.Errorf("starting card setup with %s: %w", s.vault.Name(), err)
	}
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if err := s.rememberCustomer(ctx, tx, acc, setup.CustomerRef); err != nil {
			return err
		}
		return s.audit(ctx, tx, Audit{Action: "startCardSetup", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: acc.ID,
			Summary: fmt.Sprintf("started saving a card for %s with %s", acc.ID, s.vault.Name())})
	})
	if err != nil {
		return CardSetup{}, err
	}
	return setup, nil
}

// AddCard saves a confirmed payment method on the account.
func (s *Service) AddCard(ctx context.Context, accountID *gid.ID, paymentMethodRef string) (*ent.Card, error) {
	if _, err := requireRole(ctx, rolesThatCharge...); err != nil {
		return nil, err
	}
	acc, err := s.clientAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	ref := strings.TrimSpace(paymentMethodRef)
	if ref == "" || len([]rune(ref)) > 255 {
		return nil, badInput("paymentMethodId is required (at most 255 characters)")
	}
	saved, err := s.vault.SaveCard(ctx, SaveCardRequest{AccountID: acc.ID, CustomerRef: deref(acc.PaymentCustomer), PaymentMethodRef: ref, Name: acc.Name})
	if err != nil {
		if CodeOf(err) == CodeBadInput {
			return nil, err
		}
		return nil, fmt.Errorf("saving card with %s: %w", s.vault.Name(), err)
	}
	sys := System(ctx)
	onFile := func(tx *ent.Tx) (*ent.Card, error) {
		c, err := tx.Card.Query().Where(card.AccountID(acc.ID), card.Provider(s.vault.Name()), card.Ref(saved.Ref)).Only(sys)
		if ent.IsNotFound(err) {
			return nil, nil
		}
		return c, err
	}
	var c *ent.Card
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if err := s.rememberCustomer(ctx, tx, acc, saved.CustomerRef); err != nil {
			return err
		}
		// Saving the same card twice answers the card already on file, and
		// changes nothing.
		if c, err = onFile(tx); err != nil || c != nil {
			return err
		}
		err = tx.Card.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).SetProvider(s.vault.Name()).
			SetRef(saved.Ref).SetCustomerRef(saved.CustomerRef).SetBrand(saved.Brand).SetLast4(saved.Last4).
			SetExpMonth(saved.ExpMonth).SetExpYear(saved.ExpYear).
			OnConflictColumns(card.FieldAccountID, card.FieldProvider, card.FieldRef).DoNothing().Exec(sys)
		inserted := err == nil // PostgreSQL: no row when a concurrent save won
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("saving card: %w", err)
		}
		if c, err = onFile(tx); err != nil || c == nil || !inserted {
			return errors.Join(err, nilCard(c))
		}
		return s.audit(ctx, tx, Audit{Action: "addCard", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: c.ID,
			Summary: fmt.Sprintf("saved card %s (%s) for %s", c.ID, c.Brand, acc.ID)})
	})
	if err != nil {
		return nil, err
	}
	return c.Unwrap(), nil
}

func nilCard(c *ent.Card) error {
	if c == nil {
		return errors.New("the card saved is not on file")
	}
	return nil
}

// RemoveCard detaches a card. Auto top-up rules that charged it are paused,
// with the reason, rather than left pointing at nothing.
func (s *Service) RemoveCard(ctx context.Context, id gid.ID) error {
	if _, err := requireRole(ctx, rolesThatCharge...); err != nil {
		return err
	}
	c, err := s.db.Card.Query().Where(card.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return notFound("card")
	}
	if err != nil {
		return fmt.Errorf("loading card: %w", err)
	}
	if c.Provider == s.vault.Name() {
		if err := s.vault.RemoveCard(ctx, c.Ref); err != nil {
			return fmt.Errorf("removing card with %s: %w", c.Provider, err)
		}
	}
	sys := System(ctx)
	return s.inTx(sys, func(tx *ent.Tx) error {
		summary := fmt.Sprintf("removed card %s (%s) of %s", c.ID, c.Brand, c.AccountID)
		rules, err := tx.TopUpRule.Query().Where(topuprule.CardID(id)).All(sys)
		if err != nil {
			return fmt.Errorf("loading rules of card: %w", err)
		}
		for _, r := range rules {
			if err := s.pauseRule(sys, tx, r, "the card it charged was removed"); err != nil {
				return err
			}
			if err := tx.TopUpRule.UpdateOneID(r.ID).ClearCardID().Exec(sys); err != nil {
				return fmt.Errorf("unlinking card: %w", err)
			}
		}
		if len(rules) > 0 {
			summary += fmt.Sprintf("; paused %d auto top-up rule(s) that charged it", len(rules))
		}
		if err := tx.Card.DeleteOneID(id).Exec(sys); err != nil {
			return err
		}
		return s.audit(ctx, tx, Audit{Action: "removeCard", AgencyID: c.AgencyID, AccountID: c.AccountID, TargetID: c.ID, Summary: summary})
	})
}

// Cards lists the cards on file of an account.
func (s *Service) Cards(ctx context.Context, acc *ent.Account) ([]*ent.Card, error) {
	return s.db.Card.Query().Where(card.AccountID(acc.ID)).Order(ent.Asc(card.FieldCreatedAt), ent.Asc(card.FieldID)).All(ctx)
}

func (s *Service) clientAccount(ctx context.Context, id *gid.ID) (*ent.Account, error) {
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	if acc.Kind != "CLIENT" {
		return nil, badInput("cards, auto top-up and alerts belong to client accounts")
	}
	return acc, nil
}

func (s *Service) rememberCustomer(ctx context.Context, tx *ent.Tx, acc *ent.Account, ref string) error {
	if ref == "" || deref(acc.PaymentCustomer) == ref {
		return nil
	}
	if err := tx.Account.UpdateOneID(acc.ID).SetPaymentCustomer(ref).Exec(System(ctx)); err != nil {
		return fmt.Errorf("recording payment customer: %w", err)
	}
	return nil
}

// ------------------------------------------------------------ auto top-up

// TopUpSettings describes setAutoTopUp.
type TopUpSettings struct {
	AccountID  *gid.ID
	Currency   *string
	Enabled    bool
	Threshold  money.Decimal
	Mode       topuprule.Mode
	Amount     money.Decimal
	CardID     gid.ID
	MonthlyCap *money.Decimal
}

// SetAutoTopUp creates or replaces the account's rule for a currency.
// Saving a rule clears a pause and the decline count: the owner has looked
// at it. If the balance is already below the threshold, a top-up is queued
// at once.
func (s *Service) SetAutoTopUp(ctx context.Context, in TopUpSettings) (*ent.TopUpRule, error) {
	// Auto top-up charges a saved card: the owner's decision alone.
	if _, err := requireRole(ctx, rolesThatCharge...); err != nil {
		return nil, err
	}
	v, acc, cur, threshold, err := s.ruleTarget(ctx, in.AccountID, in.Currency, in.Threshold)
	if err != nil {
		return nil, err
	}
	amount, err := parsePrice("amount", in.Amount, cur)
	if err != nil {
		return nil, err
	}
	if topuprule.ModeValidator(in.Mode) != nil {
		return nil, badInput("mode %q is not supported", in.Mode)
	}
	if in.Mode == topuprule.ModeTOP_UP_TO && amount <= threshold {
		return nil, badInput("amount: topping up to %s would not lift the balance above the threshold %s", fmtAmount(amount, cur), fmtAmount(threshold, cur))
	}
	var monthlyCap *int64
	if in.MonthlyCap != nil {
		c, err := parsePrice("monthlyCap", *in.MonthlyCap, cur)
		if err != nil {
			return nil, err
		}
		monthlyCap = &c
	}
	c, err := s.db.Card.Query().Where(card.ID(in.CardID), card.AccountID(acc.ID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("card")
	}
	if err != nil {
		return nil, fmt.Errorf("loading card: %w", err)
	}
	sys := System(ctx)
	var id gid.ID
	err = s.inTx(sys, func(tx *ent.Tx) error {
		id, err = tx.TopUpRule.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).SetCurrency(cur).
			SetEnabled(in.Enabled).SetThreshold(threshold).SetMode(in.Mode).SetAmount(amount).SetCardID(c.ID).
			SetNillableMonthlyCap(monthlyCap).SetUpdatedBy(v.UserID).
			OnConflictColumns(topuprule.FieldAccountID, topuprule.FieldCurrency).
			Update(func(u *ent.TopUpRuleUpsert) {
				u.UpdateEnabled().UpdateThreshold().UpdateMode().UpdateAmount().UpdateCardID().UpdateUpdatedBy().
					ClearPausedAt().ClearPauseReason().ClearRetryAfter().SetConsecutiveFailures(0).
					SetUpdatedAt(s.clock().UTC())
				if monthlyCap == nil {
					u.ClearMonthlyCap()
				} else {
					u.UpdateMonthlyCap()
				}
			}).ID(sys)
		if err != nil {
			return fmt.Errorf("saving auto top-up: %w", err)
		}
		var arm *int64
		if in.Enabled {
			arm = &threshold
		}
		err = s.armBalance(sys, tx, acc, cur, func(u *ent.BalanceUpsert) {
			if arm == nil {
				u.ClearTopupBelow()
			} else {
				u.SetTopupBelow(*arm)
			}
		}, arm != nil, job.KindTOPUP)
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, Audit{Action: "setAutoTopUp", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: id,
			Summary: topUpSummary(in.Enabled, in.Mode, threshold, amount, monthlyCap, cur, c.ID)})
	})
	if err != nil {
		return nil, err
	}
	return s.db.TopUpRule.Query().Where(topuprule.ID(id)).WithCard().Only(ctx)
}

// ruleTarget resolves what a rule is set on: who sets it (a role that may
// configure), the client account, the currency and the threshold in minor
// units.
func (s *Service) ruleTarget(ctx context.Context, accountID *gid.ID, currency *string, threshold money.Decimal) (*auth.Viewer, *ent.Account, string, int64, error) {
	v, err := requireRole(ctx, rolesThatConfigure...)
	if err != nil {
		return nil, nil, "", 0, err
	}
	acc, err := s.clientAccount(ctx, accountID)
	if err != nil {
		return nil, nil, "", 0, err
	}
	cur, err := currencyFor(acc.Edges.Agency, currency)
	if err != nil {
		return nil, nil, "", 0, badInput("currency: %v", err)
	}
	minor, err := parseAmount("threshold", threshold, cur)
	if err != nil {
		return nil, nil, "", 0, err
	}
	return v, acc, cur, minor, nil
}

// AutoTopUps lists an account's rules.
func (s *Service) AutoTopUps(ctx context.Context, acc *ent.Account) ([]*ent.TopUpRule, error) {
	return s.db.TopUpRule.Query().Where(topuprule.AccountID(acc.ID)).WithCard().Order(ent.Asc(topuprule.FieldCurrency)).All(ctx)
}

// TopUpSpentThisMonth sums the auto top-ups of the rule's balance charged
// (or being charged) since the start of this month, UTC: what the monthly cap
// counts.
func (s *Service) TopUpSpentThisMonth(ctx context.Context, r *ent.TopUpRule) (int64, error) {
	return s.topUpSpentSince(System(ctx), s.db, r, monthStart(s.clock()))
}

// pauseRule stops a rule and disarms its trigger, recording why where the
// owner sees it.
func (s *Service) pauseRule(ctx context.Context, tx *ent.Tx, r *ent.TopUpRule, reason string) error {
	now := s.clock().UTC()
	if err := tx.TopUpRule.UpdateOneID(r.ID).SetPausedAt(now).SetPauseReason(reason).
		SetLastFailureReason(reason).SetLastFailureAt(now).Exec(ctx); err != nil {
		return fmt.Errorf("pausing auto top-up: %w", err)
	}
	if err := s.emit(ctx, tx, Event{Type: "autotopup.paused", AgencyID: r.AgencyID, AccountID: r.AccountID,
		Data: map[string]any{"ruleId": r.ID, "currency": r.Currency, "reason": reason}}); err != nil {
		return err
	}
	return tx.Balance.Update().Where(balance.AccountID(r.AccountID), balance.Currency(r.Currency)).
		ClearTopupBelow().Exec(ctx)
}

// ---------------------------------------------------------------- alerts

// AlertSettings describes setLowBalanceAlert.
type AlertSettings struct {
	AccountID *gid.ID
	Currency  *string
	Enabled   bool
	Threshold money.Decimal
	Email     string
}

// SetLowBalanceAlert creates or replaces the account's alert for a currency.
// A changed rule starts afresh (state OK); if the balance is already below
// the threshold, the first email is queued at once.
func (s *Service) SetLowBalanceAlert(ctx context.Context, in AlertSettings) (*ent.AlertRule, error) {
	v, acc, cur, threshold, err := s.ruleTarget(ctx, in.AccountID, in.Currency, in.Threshold)
	if err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(strings.TrimSpace(in.Email))
	if err != nil || len(addr.Address) > 254 || strings.ContainsAny(addr.Address, "\r\n") {
		return nil, badInput("email: %q is not an email address", in.Email)
	}
	sys := System(ctx)
	var id gid.ID
	err = s.inTx(sys, func(tx *ent.Tx) error {
		id, err = tx.AlertRule.Create().SetAgencyID(acc.AgencyID).SetAccountID(acc.ID).SetCurrency(cur).
			SetEnabled(in.Enabled).SetThreshold(threshold).SetEmail(addr.Address).SetUpdatedBy(v.UserID).
			OnConflictColumns(alertrule.FieldAccountID, alertrule.FieldCurrency).
			Update(func(u *ent.AlertRuleUpsert) {
				u.UpdateEnabled().UpdateThreshold().UpdateEmail().UpdateUpdatedBy().
					SetState(alertrule.StateOK).ClearLowSince().ClearLastSentAt().ClearRecoveredAt().
					SetUpdatedAt(s.clock().UTC())
			}).ID(sys)
		if err != nil {
			return fmt.Errorf("saving low-balance alert: %w", err)
		}
		err = s.armBalance(sys, tx, acc, cur, func(u *ent.BalanceUpsert) {
			u.SetAlertLow(false)
			if in.Enabled {
				u.SetAlertBelow(threshold)
			} else {
				u.ClearAlertBelow()
			}
		}, in.Enabled, job.KindALERT)
		if err != nil {
			return err
		}
		summary := fmt.Sprintf("set low-balance alert of %s below %s", acc.ID, fmtAmount(threshold, cur))
		if !in.Enabled {
			summary = fmt.Sprintf("turned off the low-balance alert of %s in %s", acc.ID, cur)
		}
		return s.audit(ctx, tx, Audit{Action: "setLowBalanceAlert", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: id, Summary: summary})
	})
	if err != nil {
		return nil, err
	}
	return s.db.AlertRule.Get(ctx, id)
}

// LowBalanceAlerts lists an account's alerts.
func (s *Service) LowBalanceAlerts(ctx context.Context, acc *ent.Account) ([]*ent.AlertRule, error) {
	return s.db.AlertRule.Query().Where(alertrule.AccountID(acc.ID)).Order(ent.Asc(alertrule.FieldCurrency)).All(ctx)
}

// armBalance copies a rule's trigger onto the balance row (creating an
// empty one: a rule may come before the first credit) and, when the balance
// is already below it, queues the job at once.
func (s *Service) armBalance(ctx context.Context, tx *ent.Tx, acc *ent.Account, cur string, set func(*ent.BalanceUpsert), armed bool, kind job.Kind) error {
	err := tx.Balance.Create().SetAccountID(acc.ID).SetAgencyID(acc.AgencyID).SetCurrency(cur).
		SetUpdatedAt(s.clock().UTC()).
		OnConflictColumns(balance.FieldAccountID, balance.FieldCurrency).
		Update(set).Exec(ctx)
	if err != nil {
		return fmt.Errorf("arming balance: %w", err)
	}
	if !armed {
		return nil
	}
	b, err := tx.Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency(cur)).Only(ctx)
	if err != nil {
		return fmt.Errorf("reading balance: %w", err)
	}
	below := b.TopupBelow
	if kind == job.KindALERT {
		below = b.AlertBelow
	}
	if below != nil && b.Available < *below {
		// Saving a top-up rule is the owner's answer to a decline (a new
		// card, or the same one after calling the bank): a top-up waiting
		// out the declined card's back-off is brought forward to now.
		return s.queueJob(ctx, tx, kind, acc, cur, s.clock(), kind == job.KindTOPUP)
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// TopUpStatus is where a rule stands: ACTIVE, BACKING_OFF, PAUSED or DISABLED.
func (s *Service) TopUpStatus(r *ent.TopUpRule) string {
	switch {
	case !r.Enabled:
		return "DISABLED"
	case r.PausedAt != nil:
		return "PAUSED"
	case r.RetryAfter != nil && s.clock().Before(*r.RetryAfter):
		return "BACKING_OFF"
	default:
		return "ACTIVE"
	}
}

// TopUpCard is the card a rule charges, in the viewer's scope.
func (s *Service) TopUpCard(ctx context.Context, r *ent.TopUpRule) (*ent.Card, error) {
	if r.Edges.Card != nil || r.CardID == nil {
		return r.Edges.Card, nil
	}
	c, err := s.db.Card.Query().Where(card.ID(*r.CardID)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return c, err
}

// VaultName names the provider that keeps cards.
func (s *Service) VaultName() string { return s.vault.Name() }

// topUpSummary says what a saved auto top-up rule does, in a line.
func topUpSummary(enabled bool, mode topuprule.Mode, threshold, amount int64, monthlyCap *int64, cur string, cardID gid.ID) string {
	if !enabled {
		return fmt.Sprintf("turned auto top-up in %s off", cur)
	}
	what := "add " + string(money.Format(amount, cur))
	if mode == topuprule.ModeTOP_UP_TO {
		what = "to " + string(money.Format(amount, cur))
	}
	out := fmt.Sprintf("set auto top-up below %s %s with card %s", fmtAmount(threshold, cur), what, cardID)
	if monthlyCap != nil {
		out += fmt.Sprintf(", at most %s a month", fmtAmount(*monthlyCap, cur))
	}
	return out
}
