package credits

import (
	"context"
	"errors"
	"fmt"
)

// checkRefunds: a payment's refunds take back creditsFor(refunded) of its
// credits, as REFUNDs (net of the REVERSALs that gave them back) or as
// owed on its balance; so per payment the REFUNDs never took more than
// that, and per balance owed is exactly what its payments' refunds are
// still due. (owed is kept per balance, not per payment: which payment a
// payoff is linked to is the oldest one still due, which the sums check.)
func (s *Service) checkRefunds(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'payment ' || id || ' refunded ' || CAST(refunded AS TEXT) || ' of ' || CAST(amount AS TEXT)
		FROM payments WHERE refunded < 0 OR refunded > amount
		UNION ALL
		SELECT 'balance of ' || account_id || ' in ' || currency || ' owes ' || CAST(owed AS TEXT) FROM balances WHERE owed < 0
		UNION ALL
		SELECT 'REFUND ' || p.id || ' links no payment of its account and currency'
		FROM postings p LEFT JOIN payments y ON y.id = p.payment_id
		WHERE p.kind = 'REFUND' AND p.account_id IS NOT NULL
		  AND (y.id IS NULL OR y.account_id <> p.account_id OR y.currency <> p.currency)`)
	if err != nil {
		return 0, err
	}
	taken := map[string]int64{}
	rows, err := s.rows(ctx, refundTakenSQL+` GROUP BY q.payment_id`)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var (
			id string
			n  int64
		)
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return 0, err
		}
		taken[id] = n
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	due := map[string]int64{} // by account/currency: what is still owed
	rows, err = s.rows(ctx, `SELECT id, account_id, currency, amount, credits, refunded FROM payments WHERE refunded > 0`)
	if err != nil {
		return 0, err
	}
	n := 0
	for rows.Next() {
		var (
			id, acc, cur             string
			amount, credits, refunds int64
		)
		if err := rows.Scan(&id, &acc, &cur, &amount, &credits, &refunds); err != nil {
			rows.Close()
			return n, err
		}
		n++
		d := creditsFor(credits, amount, refunds)
		if taken[id] > d || taken[id] < 0 {
			rows.Close()
			return n, fmt.Errorf("payment %s: its REFUNDs took %d credits, its refunds are due %d", id, taken[id], d)
		}
		due[acc+"/"+cur] += d - taken[id]
		delete(taken, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return n, err
	}
	for id, t := range taken {
		if t != 0 {
			return n, fmt.Errorf("payment %s: its REFUNDs took %d credits but nothing is refunded", id, t)
		}
	}
	rows, err = s.rows(ctx, `SELECT account_id, currency, owed FROM balances WHERE owed <> 0`)
	if err != nil {
		return n, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			acc, cur string
			owed     int64
		)
		if err := rows.Scan(&acc, &cur, &owed); err != nil {
			return n, err
		}
		if due[acc+"/"+cur] != owed {
			return n, fmt.Errorf("balance of %s in %s owes %d, its payments' refunds are still due %d", acc, cur, owed, due[acc+"/"+cur])
		}
		delete(due, acc+"/"+cur)
	}
	for k, d := range due {
		if d != 0 {
			return n, fmt.Errorf("balance %s owes nothing, its payments' refunds are still due %d", k, d)
		}
	}
	return n, rows.Err()
}
