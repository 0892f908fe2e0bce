package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/hold"
	"creditgate/gid"
	"creditgate/money"
)

// Holds. A hold sets credits of a balance aside: available goes down and
// held up by its amount, in the balance's one conditional statement (so a
// hold can never overdraw, and a debit of available never spends held
// credits); the total (available + held), what the postings' running
// balances chain on, does not move, and no posting is written. A capture
// is a posting (Post with Entry.Hold) whose account leg comes out of held;
// a final capture, a release or expiry gives the rest back to available.
// A hold's row changes only with its balance, here, under a condition on
// its status, so of two racing changes of one hold the second finds it no
// longer ACTIVE (or its remainder spent) and does nothing. Locks are taken
// hold first, then balance, by every hold move.

// NewHold is a hold to create.
type NewHold struct {
	ID        gid.ID // chosen by the caller (it finds the row after a COMMIT of unknown outcome)
	Account   *ent.Account
	Currency  string
	Amount    int64 // micro-units, > 0
	Reference string
	ExpiresAt time.Time
	ServiceID gid.ID // optional: sized as a service's rate x quantity
	Variant   string
	Quantity  int
	CreatedBy string
}

// Capture makes an entry a capture of hold ID (Entry.Hold); Final releases
// what remains of it and ends it CAPTURED.
type Capture struct {
	ID    gid.ID
	Final bool
}

// HoldEnd is how a hold stops being ACTIVE without a final capture.
type HoldEnd string

const (
	Released HoldEnd = HoldEnd(hold.StatusRELEASED)
	Expired  HoldEnd = HoldEnd(hold.StatusEXPIRED)
)

// CreateHold sets h.Amount aside in tx: INSUFFICIENT_CREDITS when available
// does not cover it. The balance it left is tx.BalanceAfter(h.ID).
func (l *Ledger) CreateHold(ctx context.Context, tx *Tx, h NewHold) (*ent.Hold, error) {
	if h.Amount <= 0 {
		return nil, fmt.Errorf("ledger: hold of %d", h.Amount)
	}
	now := l.now()
	m, err := l.moveBalance(ctx, tx, h.Account, h.Currency, shift{avail: -h.Amount, held: h.Amount}, now)
	if err != nil {
		return nil, err
	}
	c := tx.Hold.Create().SetID(h.ID).SetCreatedAt(now).SetUpdatedAt(now).
		SetAgencyID(h.Account.AgencyID).SetAccountID(h.Account.ID).SetCurrency(h.Currency).
		SetAmount(h.Amount).SetReference(h.Reference).SetExpiresAt(h.ExpiresAt.UTC()).SetCreatedBy(h.CreatedBy)
	if h.ServiceID != "" {
		c.SetServiceID(h.ServiceID).SetQuantity(h.Quantity)
		if h.Variant != "" {
			c.SetVariant(h.Variant)
		}
	}
	made, err := c.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: writing hold: %w", err)
	}
	if err := l.moved(ctx, tx, h.Account, h.Currency, -h.Amount, m); err != nil {
		return nil, err
	}
	l.after(tx, made.ID, h.Account, h.Currency, m, now)
	return made, nil
}

// EndHold ends the ACTIVE hold id (RELEASED), giving what remains of it
// back to available; CONFLICT when it is not ACTIVE. The balance it left is
// tx.BalanceAfter(id) (nil when nothing remained to give back).
func (l *Ledger) EndHold(ctx context.Context, tx *Tx, id gid.ID) (*ent.Hold, error) {
	h, err := l.endHold(ctx, tx, Released, `id = ?`, id)
	if err == nil && h == nil {
		err = l.refuse(Conflict, "the hold is not active")
	}
	return h, err
}

// ExpireHold ends one ACTIVE hold whose expiry is not after now (EXPIRED),
// giving its rest back: the one claimed with SKIP LOCKED on PostgreSQL,
// so every instance may sweep at once and each hold expires once. It
// answers nil when no hold is due.
func (l *Ledger) ExpireHold(ctx context.Context, tx *Tx, now time.Time) (*ent.Hold, error) {
	pick := `SELECT id FROM holds WHERE status = 'ACTIVE' AND expires_at <= ? ORDER BY expires_at LIMIT 1`
	if l.dialect == dialect.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	return l.endHold(ctx, tx, Expired, `id = (`+pick+`)`, now.UTC())
}

// endHold turns the ACTIVE hold matched by where (one at most) to end and
// moves its remainder back to available: nil when none matched.
func (l *Ledger) endHold(ctx context.Context, tx *Tx, end HoldEnd, where string, args ...any) (*ent.Hold, error) {
	now := l.now()
	rows, err := tx.QueryContext(ctx, l.Rebind(`UPDATE holds SET status = ?, updated_at = ?
		WHERE `+where+` AND status = 'ACTIVE'
		RETURNING id, agency_id, account_id, currency, amount, captured`), append([]any{string(end), now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("ledger: ending hold: %w", err)
	}
	h := &ent.Hold{Status: hold.Status(end), UpdatedAt: now}
	found := rows.Next()
	if found {
		err = rows.Scan(&h.ID, &h.AgencyID, &h.AccountID, &h.Currency, &h.Amount, &h.Captured)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("ledger: ending hold: %w", err)
	}
	if !found {
		return nil, nil
	}
	if rest := h.Amount - h.Captured; rest > 0 {
		acc := &ent.Account{ID: h.AccountID, AgencyID: h.AgencyID}
		m, err := l.moveBalance(ctx, tx, acc, h.Currency, shift{avail: rest, held: -rest}, now)
		if err != nil {
			return nil, err
		}
		if err := l.moved(ctx, tx, acc, h.Currency, rest, m); err != nil {
			return nil, err
		}
		l.after(tx, h.ID, acc, h.Currency, m, now)
	}
	return h, nil
}

// capture takes the amount of e's one account leg from hold e.Hold: the
// hold's captured grows (and a final capture ends it CAPTURED) under the
// condition that it is ACTIVE and its remainder covers the amount, then
// the leg's shift is set to come out of held, with the rest released to
// available when final. CONFLICT when the hold is not ACTIVE,
// INSUFFICIENT_CREDITS when its remainder is short.
func (l *Ledger) capture(ctx context.Context, tx *Tx, e Entry, order []int, shifts []shift, now time.Time) error {
	if len(order) != 1 || e.Legs[order[0]].Amount >= 0 {
		return fmt.Errorf("ledger: a capture debits one account")
	}
	i := order[0]
	acc, x := e.Legs[i].Account, -e.Legs[i].Amount
	rows, err := tx.QueryContext(ctx, l.Rebind(`UPDATE holds SET captured = captured + ?,
			status = CASE WHEN ? THEN 'CAPTURED' ELSE status END, updated_at = ?
		WHERE id = ? AND account_id = ? AND currency = ? AND status = 'ACTIVE' AND amount - captured >= ?
		RETURNING amount - captured`), x, e.Hold.Final, now, e.Hold.ID, acc.ID, e.Currency, x)
	if err != nil {
		return fmt.Errorf("ledger: capturing hold: %w", err)
	}
	var rest int64
	found := rows.Next()
	if found {
		err = rows.Scan(&rest)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("ledger: capturing hold: %w", err)
	}
	if !found {
		h, err := tx.Hold.Query().Where(hold.ID(e.Hold.ID), hold.AccountID(acc.ID), hold.Currency(e.Currency)).Only(ctx)
		switch {
		case ent.IsNotFound(err):
			return fmt.Errorf("ledger: capture of hold %s: no such hold of %s in %s", e.Hold.ID, acc.ID, e.Currency)
		case err != nil:
			return fmt.Errorf("ledger: reading hold: %w", err)
		case h.Status != hold.StatusACTIVE:
			return l.refuse(Conflict, "the hold is %s, not active", h.Status)
		}
		return l.refuse(Insufficient, "the hold's remainder %s does not cover %s",
			fmtMoney(h.Amount-h.Captured, e.Currency), fmtMoney(x, e.Currency))
	}
	release := int64(0)
	if e.Hold.Final {
		release = rest
	}
	shifts[i] = shift{avail: release, held: -x - release, posting: true}
	return nil
}

func fmtMoney(micro int64, cur string) string { return string(money.Format(micro, cur)) + " " + cur }
