package ledger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"creditgate/gid"
)

// A COMMIT whose answer was lost (the connection dropped after the server
// got it) may have committed. Telling the client it failed would make one
// without an idempotency key pay again; telling it "nothing done" could be
// a lie. So after such a failure the mutation looks for a row its
// transaction wrote, by an id it chose before (the idempotency record, the
// posting, the payment, the request): found, the work committed and the
// answer is the values already in hand; not found, the answer stays the
// error (INTERNAL), never UNAVAILABLE.

// landedTimeout bounds the look-up after a COMMIT of unknown outcome.
const landedTimeout = 5 * time.Second

// landed says whether the transaction that failed with err committed all
// the same: it must have been a commit of unknown outcome, and a row it
// wrote must now be there, found by k's claim (the row id is this
// attempt's own) or else by the ids of o, each of a row the work made. A
// read that fails leaves the outcome unknown: false.
func (l *Ledger) landed(ctx context.Context, err error, k *key, o Outcome) bool {
	if !isCommitUnknown(err) {
		return false
	}
	// The answer matters even if the caller gave up, but a database that
	// stalls must not hold the caller past its timeout for good.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), landedTimeout)
	defer cancel()
	var table string
	var id gid.ID
	switch {
	case k != nil && k.id != "":
		table, id = "idempotency_keys", k.id
	case o.Transaction != "":
		table, id = "postings", o.Transaction
	case o.Payment != "":
		table, id = "payments", o.Payment
	case o.Request != "":
		table, id = "credit_requests", o.Request
	case o.Hold != "":
		table, id = "holds", o.Hold
	default:
		return false
	}
	ok, rerr := l.rowExists(ctx, table, id)
	if rerr != nil {
		l.log.ErrorContext(ctx, "commit of unknown outcome: looking for its row failed", "table", table, "id", id, "commit_error", err, "error", rerr)
		return false
	}
	if ok {
		l.log.WarnContext(ctx, "commit reported an error but committed", "table", table, "id", id, "commit_error", err)
	} else {
		l.log.ErrorContext(ctx, "commit failed: its row is not there", "table", table, "id", id, "commit_error", err)
	}
	return ok
}

// rowExists looks for the row id of table, outside any tenant scope.
func (l *Ledger) rowExists(ctx context.Context, table string, id gid.ID) (bool, error) {
	rows, err := l.db.QueryContext(ctx, l.Rebind(`SELECT 1 FROM `+table+` WHERE id = ?`), id)
	if err != nil {
		return false, fmt.Errorf("looking for %s %s: %w", table, id, err)
	}
	found := rows.Next()
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, fmt.Errorf("looking for %s %s: %w", table, id, err)
	}
	return found, nil
}

// batchLanded says whether a batch of debits whose COMMIT failed with err
// committed all the same: one transaction, so the row of any request that
// succeeded in it answers for all.
func (l *Ledger) batchLanded(ctx context.Context, err error, live []*debitCall) bool {
	for _, c := range live {
		if c.ok {
			return l.landed(ctx, err, c.key, c.out)
		}
	}
	return false
}
