package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/trace"

	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/tracing"
)

// Tx is a transaction of the ledger: the ent transaction, and what waits
// for its COMMIT (events to announce, calls to make). A request inside a
// batch of debits (group.go) has a Tx of its own over the batch's
// transaction: what it holds is announced and called only if the batch
// commits with the request's work.
type Tx struct {
	*ent.Tx
	events []events.Event
	after  []func()
	// balances: the balance each posting (or hold move) left, by its id.
	balances map[gid.ID]*ent.Balance
	latest   map[string]*ent.Balance // the newest of those per account/currency
	rows     []Row                   // held for the next statement (ride.go)
	set      *setBatch               // the set-based batch it is a request of (setbatch.go)
}

// BalanceAfter is the balance the posting (or the hold move) of id left in
// this transaction, without a query: available, held and total as they
// were right after it; nil when this transaction made no such move.
func (tx *Tx) BalanceAfter(id gid.ID) *ent.Balance {
	b := tx.balances[id]
	if b == nil {
		return nil
	}
	c := *b
	return &c
}

// Announce makes evs known when tx commits, never before and never if it
// (or, in a batch, the request's work) rolls back: on PostgreSQL by
// pg_notify inside the transaction, just before COMMIT (delivered on
// COMMIT, in commit order); on SQLite through Hooks.Publish right after it.
func (tx *Tx) Announce(evs ...events.Event) { tx.events = append(tx.events, evs...) }

// AfterCommit runs f once tx has committed, never if it rolls back.
func (tx *Tx) AfterCommit(f func()) { tx.after = append(tx.after, f) }

// commitUnknown is a failed COMMIT: its outcome is unknown.
type commitUnknown struct{ err error }

func (e *commitUnknown) Error() string { return "committing: " + e.err.Error() }
func (e *commitUnknown) Unwrap() error { return e.err }

func isCommitUnknown(err error) bool {
	var cu *commitUnknown
	return errors.As(err, &cu)
}

// InTx runs fn in one database transaction: all of it commits or nothing.
// A transaction that could not start, or whose connection failed before
// COMMIT, did nothing (Hooks.NothingDone); a failed COMMIT is a commit of
// unknown outcome: it may have committed all the same, and Run finds out
// (landed) before it answers. What fn announced is announced with the
// COMMIT; what it asked to run after it runs once it has committed.
func (l *Ledger) InTx(ctx context.Context, fn func(tx *Tx) error) (err error) {
	return l.inTx(ctx, fn, nil)
}

// inTx is InTx; committing, when set, is called once the transaction's
// work is done and only the rows held for it and its COMMIT are left (a
// lane hands its queue on then: group.go).
func (l *Ledger) inTx(ctx context.Context, fn func(tx *Tx) error, committing func()) (err error) {
	ctx, span := tracing.Start(ctx, "db.transaction", trace.SpanKindClient) // tracing.go
	defer func() { l.endTxSpan(span, err) }()
	etx, err := l.db.Tx(ctx)
	if err != nil {
		return l.nothingDone(fmt.Errorf("starting transaction: %w", err))
	}
	defer func() {
		if v := recover(); v != nil {
			_ = etx.Rollback()
			panic(v)
		}
		if err != nil {
			_ = etx.Rollback()
		}
	}()
	tx := &Tx{Tx: etx}
	l.enter(tx)
	err = fn(tx)
	l.leave(tx)
	if err != nil {
		return l.nothingDone(err)
	}
	if committing != nil {
		committing()
	}
	if l.test.beforeCommit != nil {
		if err = l.test.beforeCommit(); err != nil {
			return err
		}
	}
	sqlite := l.dialect == dialect.SQLite
	if !sqlite {
		// Inside the transaction: PostgreSQL delivers these only on
		// COMMIT, in commit order. The rows still held go with them.
		if err = l.flushRows(ctx, tx); err != nil {
			return l.nothingDone(err)
		}
	}
	if sqlite {
		// Held across COMMIT and the publishes: events stay in commit order.
		l.publishMu.Lock()
	}
	err = etx.Commit()
	if sqlite {
		if err == nil && l.hooks.Publish != nil {
			for _, e := range tx.events {
				l.hooks.Publish(e)
			}
		}
		l.publishMu.Unlock()
	}
	if err != nil {
		return &commitUnknown{err}
	}
	for _, f := range tx.after {
		f()
	}
	if l.test.commitLost != nil {
		if err := l.test.commitLost(); err != nil {
			return &commitUnknown{err}
		}
	}
	return nil
}

// notifySelect announces evs: a SELECT of pg_notify calls ("SELECT 1"
// for none) and its arguments.
func notifySelect(evs []events.Event) (string, []any) {
	if len(evs) == 0 {
		return "SELECT 1", nil
	}
	var q strings.Builder
	args := make([]any, 0, 2*len(evs))
	q.WriteString("SELECT ")
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("pg_notify(?, ?)")
		args = append(args, events.Channel, e.Encode())
	}
	return q.String(), args
}
