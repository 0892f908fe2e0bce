package ledger

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/events"
)

// What a balance owes: a refund or dispute made at the provider takes its
// credits back with a REFUND of what available covers, and the rest is
// recorded as owed (balances.owed, never negative). The next credit into
// the balance pays it off first (Moved.Owed tells the domain of it).
//
// owed is not part of the running-balance chain: the chain records what
// the balance holds, and a debt is not a negative balance. Every credit
// is posted in full and a second posting in the same transaction takes
// what it pays off, so each posting's running balance stays the total
// right after it and the chain verifies as it always did.

// Lock locks the balance of acc in cur until COMMIT and reads its
// available and owed (found=false: the balance never moved). What the
// caller then decides from them (how much a REFUND may take) holds until
// it commits.
func (l *Ledger) Lock(ctx context.Context, tx *Tx, acc *ent.Account, cur string) (available, owed int64, found bool, err error) {
	rows, err := tx.QueryContext(ctx, l.Rebind(`
		UPDATE balances SET owed = owed WHERE account_id = ? AND currency = ?
		RETURNING available, owed`), acc.ID, cur)
	if err != nil {
		return 0, 0, false, fmt.Errorf("ledger: locking balance of %s: %w", acc.ID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return 0, 0, false, rows.Err()
	}
	if err := rows.Scan(&available, &owed); err != nil {
		return 0, 0, false, fmt.Errorf("ledger: reading balance of %s: %w", acc.ID, err)
	}
	return available, owed, true, rows.Close()
}

// ErrOwedNegative is an Owe that would take owed below zero.
var ErrOwedNegative = errors.New("ledger: owed would go below zero")

// Owe changes what the balance of acc in cur owes by delta (positive: a
// refund it could not cover; negative: paid off), never below zero. It is
// a change of the row like any other: its version counts it and it is
// announced, so live updates and every instance's memory of the balance
// show what it owes.
func (l *Ledger) Owe(ctx context.Context, tx *Tx, acc *ent.Account, cur string, delta int64) error {
	now := l.now()
	q := `UPDATE balances SET owed = owed + ?, version = version + 1, updated_at = ?
		WHERE account_id = ? AND currency = ? AND owed + ? >= 0
		RETURNING available, held, seq, version, owed`
	if l.dialect == dialect.Postgres {
		q += `, pg_notify('` + events.Channel + `', ` + events.BalanceSQL + `)`
	}
	rows, err := tx.QueryContext(ctx, l.Rebind(q), delta, now, acc.ID, cur, delta)
	if err != nil {
		return fmt.Errorf("ledger: recording owed of %s: %w", acc.ID, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("ledger: recording owed of %s: %w", acc.ID, err)
		}
		return ErrOwedNegative
	}
	var m Moved
	dest := []any{&m.Balance, &m.Held, &m.Seq, &m.Version, &m.owed}
	if l.dialect == dialect.Postgres {
		dest = append(dest, new(any))
	}
	if err := rows.Scan(dest...); err != nil {
		return fmt.Errorf("ledger: recording owed of %s: %w", acc.ID, err)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("ledger: recording owed of %s: %w", acc.ID, err)
	}
	l.after(tx, "", acc, cur, m, now)
	return nil
}
