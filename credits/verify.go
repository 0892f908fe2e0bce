package credits

import (
	"context"
	"database/sql"
	"fmt"
	"io"
)

// Verify checks every invariant of the ledger over the whole database and
// writes what it checked to w. It stops at the first violation and returns
// an error naming it. It reads with plain SQL, outside any tenant scope.
func (s *Service) Verify(ctx context.Context, w io.Writer) error {
	ctx = System(ctx)
	checks := []struct {
		name string
		run  func(context.Context) (int, error)
	}{
		{"every journal has two or more postings summing to zero per currency", s.checkJournals},
		{"running balances chain exactly per account and currency", s.checkChains},
		{"each balance's total (available + held) equals its newest running balance", s.checkBalances},
		{"no balance or running balance is negative", s.checkNonNegative},
		{"each accepted request has exactly one IN transaction of its amount", s.checkRequests},
		{"each paid invoice has exactly one OUT transaction of its amount", s.checkInvoices},
		{"each settled payment has exactly one IN transaction of its credits", s.checkPayments},
		{"each CREDIT_TOPUP invoice is PAID exactly when its request is accepted and paid, VOID only when rejected", s.checkTopupInvoices},
		{"each balance's held equals its active holds' remainders; captures stay within their holds", s.checkHolds},
		{"refunds: refunded within the amount, owed never negative, every REFUND links its payment, and per balance owed equals the credits refunds were due less the REFUNDs taken", s.checkRefunds},
		{"each reversal undoes one existing posting of its account and currency, once", s.checkReversals},
		{"no reversed invoice payment still pays its invoice", s.checkReversedInvoices},
	}
	for _, c := range checks {
		n, err := c.run(ctx)
		if err != nil {
			fmt.Fprintf(w, "FAIL  %s: %v\n", c.name, err)
			return fmt.Errorf("verify: %s: %w", c.name, err)
		}
		fmt.Fprintf(w, "ok    %s (%d checked)\n", c.name, n)
	}
	return nil
}

func (s *Service) rows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.rebind(q), args...)
}

// count returns the number of rows of a counting query.
func (s *Service) count(ctx context.Context, q string) (int, error) {
	rows, err := s.rows(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// firstViolation runs q, which selects violations as one text column, and
// returns the first as an error.
func (s *Service) firstViolation(ctx context.Context, q string) error {
	rows, err := s.rows(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var what string
		if err := rows.Scan(&what); err != nil {
			return err
		}
		return fmt.Errorf("%s", what)
	}
	return rows.Err()
}

func (s *Service) checkJournals(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'journal ' || journal_id || ' in ' || currency || ' sums to ' || CAST(SUM(amount) AS TEXT)
		FROM postings GROUP BY journal_id, currency HAVING SUM(amount) <> 0`)
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'journal ' || j.id || ' has ' || CAST(COUNT(p.id) AS TEXT) || ' postings'
			FROM journals j LEFT JOIN postings p ON p.journal_id = j.id
			GROUP BY j.id HAVING COUNT(p.id) < 2`)
	}
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM journals`)
}

func (s *Service) checkChains(ctx context.Context) (int, error) {
	rows, err := s.rows(ctx, `
		SELECT id, account_id, currency, seq, amount, running_balance,
		       LAG(seq) OVER w, LAG(running_balance) OVER w
		FROM postings WHERE account_id IS NOT NULL
		WINDOW w AS (PARTITION BY account_id, currency ORDER BY seq)`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id, acc, cur         string
			seq, amount, running sql.NullInt64
			prevSeq, prevRunning sql.NullInt64
		)
		if err := rows.Scan(&id, &acc, &cur, &seq, &amount, &running, &prevSeq, &prevRunning); err != nil {
			return n, err
		}
		n++
		switch {
		case !seq.Valid || !running.Valid:
			return n, fmt.Errorf("posting %s on %s has no sequence or running balance", id, acc)
		case !prevSeq.Valid && (seq.Int64 != 1 || running.Int64 != amount.Int64):
			return n, fmt.Errorf("first posting %s of %s %s: seq %d, running %d, amount %d", id, acc, cur, seq.Int64, running.Int64, amount.Int64)
		case prevSeq.Valid && seq.Int64 != prevSeq.Int64+1:
			return n, fmt.Errorf("posting %s of %s %s: seq %d follows %d", id, acc, cur, seq.Int64, prevSeq.Int64)
		case prevSeq.Valid && running.Int64 != prevRunning.Int64+amount.Int64:
			return n, fmt.Errorf("posting %s of %s %s: running %d != %d + %d", id, acc, cur, running.Int64, prevRunning.Int64, amount.Int64)
		}
	}
	return n, rows.Err()
}

func (s *Service) checkBalances(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'balance of ' || b.account_id || ' in ' || b.currency || ' totals ' || CAST(b.available + b.held AS TEXT) ||
		       ' but its newest running balance is ' || COALESCE(CAST(p.running_balance AS TEXT), 'missing')
		FROM balances b
		LEFT JOIN postings p ON p.account_id = b.account_id AND p.currency = b.currency AND p.seq = b.seq
		WHERE (b.seq = 0 AND b.available + b.held <> 0)
		   OR (b.seq > 0 AND (p.id IS NULL OR p.running_balance <> b.available + b.held))
		   OR EXISTS (SELECT 1 FROM postings q WHERE q.account_id = b.account_id AND q.currency = b.currency AND q.seq > b.seq)`)
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'postings of ' || p.account_id || ' in ' || p.currency || ' have no balance row'
			FROM postings p LEFT JOIN balances b ON b.account_id = p.account_id AND b.currency = p.currency
			WHERE p.account_id IS NOT NULL AND b.id IS NULL`)
	}
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM balances`)
}

func (s *Service) checkNonNegative(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'balance of ' || account_id || ' in ' || currency || ' is negative' FROM balances WHERE available < 0 OR held < 0
		UNION ALL
		SELECT 'posting ' || id || ' has a negative running balance' FROM postings WHERE running_balance < 0`)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM postings WHERE account_id IS NOT NULL`)
}

// linked checks one business table whose rows point at their transaction.
func (s *Service) linked(ctx context.Context, table, done, sign, amountCol, kinds string) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT '`+table+` ' || t.id || ' has no matching transaction'
		FROM `+table+` t LEFT JOIN postings p ON p.id = t.transaction_id
		WHERE `+done+` AND (p.id IS NULL OR p.account_id <> t.account_id OR p.amount <> `+sign+`t.`+amountCol+`
		      OR p.currency <> t.currency OR p.kind NOT IN (`+kinds+`))`)
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'transaction ' || transaction_id || ' is claimed by several `+table+`'
			FROM `+table+` WHERE transaction_id IS NOT NULL GROUP BY transaction_id HAVING COUNT(*) > 1`)
	}
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT '`+table+` ' || id || ' has a transaction but is not done'
			FROM `+table+` t WHERE transaction_id IS NOT NULL AND NOT (`+done+`)`)
	}
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM `+table+` t WHERE `+done)
}

func (s *Service) checkRequests(ctx context.Context) (int, error) {
	return s.linked(ctx, "credit_requests", "t.status = 'ACCEPTED'", "", "amount", "'REQUEST_APPROVED'")
}

func (s *Service) checkInvoices(ctx context.Context) (int, error) {
	// A CHARGE invoice paid with credits carries its transaction; one paid
	// online (payment_id) or a CREDIT_TOPUP one (its request carries the
	// credit) has none: checkTopupInvoices.
	return s.linked(ctx, "invoices", "t.status = 'PAID' AND t.kind = 'CHARGE' AND t.payment_id IS NULL", "-", "amount", "'INVOICE_PAYMENT'")
}

func (s *Service) checkPayments(ctx context.Context) (int, error) {
	// A payment of an invoice credits through its request (REQUEST_APPROVED)
	// or, paying a CHARGE invoice or a post-paid debt, credits nothing
	// (checkTopupInvoices).
	return s.linked(ctx, "payments", "t.status = 'SUCCEEDED' AND (t.origin <> 'INVOICE' OR t.transaction_id IS NOT NULL)", "", "credits", "'PURCHASE','AUTO_TOPUP','REQUEST_APPROVED'")
}

// checkReversals: the posting a REVERSAL names (reverses_id) exists, on
// the same account and currency, with the opposite amount; each REVERSAL
// journal names exactly one; and no journal is reversed twice (the unique
// index covers one posting; a journal's other leg is checked here).
func (s *Service) checkReversals(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'posting ' || r.id || ' reverses ' || r.reverses_id || ', which ' ||
		       CASE WHEN o.id IS NULL THEN 'does not exist' ELSE 'is not its opposite' END
		FROM postings r LEFT JOIN postings o ON o.id = r.reverses_id
		WHERE r.reverses_id IS NOT NULL AND (o.id IS NULL OR r.kind <> 'REVERSAL' OR o.account_id IS NULL
		      OR r.account_id IS NULL OR o.account_id <> r.account_id OR o.currency <> r.currency OR o.amount <> -r.amount)`)
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'reversal journal ' || journal_id || ' names ' || CAST(COUNT(reverses_id) AS TEXT) || ' reversed postings'
			FROM postings WHERE kind = 'REVERSAL' GROUP BY journal_id HAVING COUNT(reverses_id) <> 1`)
	}
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'posting ' || reverses_id || ' is reversed ' || CAST(COUNT(*) AS TEXT) || ' times'
			FROM postings WHERE reverses_id IS NOT NULL GROUP BY reverses_id HAVING COUNT(*) > 1`)
	}
	if err == nil {
		err = s.firstViolation(ctx, `
			SELECT 'journal ' || o.journal_id || ' is reversed ' || CAST(COUNT(*) AS TEXT) || ' times'
			FROM postings r JOIN postings o ON o.id = r.reverses_id GROUP BY o.journal_id HAVING COUNT(*) > 1`)
	}
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM postings WHERE reverses_id IS NOT NULL`)
}

// checkReversedInvoices: reversing an invoice payment reopens its invoice,
// so no PAID invoice is paid by a reversed transaction.
func (s *Service) checkReversedInvoices(ctx context.Context) (int, error) {
	err := s.firstViolation(ctx, `
		SELECT 'invoice ' || i.id || ' is PAID by ' || i.transaction_id || ', which was reversed'
		FROM invoices i JOIN postings r ON r.reverses_id = i.transaction_id
		WHERE i.status = 'PAID'`)
	if err != nil {
		return 0, err
	}
	return s.count(ctx, `SELECT COUNT(*) FROM postings r JOIN postings o ON o.id = r.reverses_id WHERE o.kind = 'INVOICE_PAYMENT'`)
}
