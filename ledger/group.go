package ledger

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sort"
	"strconv"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/gid"
)

// Group commit for hot balances.
//
// A debit locks its balance row from its UPDATE until COMMIT, so debits of
// one balance run one transaction at a time, each paying for its own round
// trips and its own COMMIT. Concurrent debits of the same (account,
// currency) in this process are therefore queued: while one transaction
// runs, the requests that arrive wait, and when it ends the first of them
// leads them all (up to maxBatch) through ONE transaction, then COMMITs
// once and answers each caller with its own result. A request that fails
// (INSUFFICIENT_CREDITS, ALREADY_PAID, a replayed idempotency key, any
// error) undoes only its own work; the others still commit, each with its
// own posting, running balance, idempotency record and notification. For
// that each request runs in its own SAVEPOINT; but a savepoint costs a
// round trip per request and most batches have no failure, so a batch
// first runs without them, and only if a request fails is that transaction
// rolled back and the batch run again with them (and the lane's next batch
// too, since failures come in runs). If the
// COMMIT fails, nothing of the batch is written and every request that had
// succeeded in it gets the error. A lone request runs at once in its own
// transaction, without savepoints: no latency is added when nobody waits.
//
// Every debit still goes through Post inside the request's work, with a Tx
// of the request's own over the batch's transaction: what the request
// announces or asks to run after COMMIT is held there, and made known only
// if the batch commits with the request's work.

// maxBatch bounds a batch. PostgreSQL keeps the ids of up to 64
// subtransactions per backend in shared memory; past that every snapshot
// taken anywhere gets slower, so a batch stays below it.
const maxBatch = 48

// batchTimeout bounds a batch's transaction: it runs on behalf of several
// callers, so no single caller's context may cancel it.
const batchTimeout = 30 * time.Second

// Lanes: debits are queued by lane, a hash of the balance, so that all
// debits of one balance share a queue (and a batch), and debits of other
// balances in the same lane ride along: one COMMIT (one WAL flush, one
// turn of PostgreSQL's commit-time NOTIFY lock) then serves a whole batch
// of a busy gateway, not only of a hot account. Lanes hold disjoint sets of
// balances, and a batch takes its balance locks in account order (the same
// order as Post), so batches never deadlock with each other or with other
// movements.
//
// One lane by default: its batches are pipelined (lead), so one lane
// keeps the cores busy, and the fewer the lanes the bigger the batches. In
// process on PostgreSQL (BenchmarkPayInvoiceSpread, 32 callers over 1,000
// accounts, three rounds each), pipelined batches on one lane cost 230–310
// µs of PostgreSQL CPU and 110–150 µs of the gateway's per payment, against
// 460–480 and 220–230 on four lanes unpipelined, in no more time a
// payment; two lanes pipelined cost 450–480 and 180–200. More lanes bound
// what a batch stuck on a balance lock (another movement of one of its
// balances) holds up to a share of the debits.
const defaultLanes = 1

// SetDebitLanes sets how many lanes (queues, each running its batches in
// turn, the next one starting as the one before commits) debits are
// spread over; n < 1 keeps the default.
func (l *Ledger) SetDebitLanes(n int) {
	if n >= 1 {
		l.lanes = n
	}
}

// lane is the queue of an account's debits (all its currencies).
func (l *Ledger) lane(acc gid.ID) int {
	h := fnv.New32a()
	h.Write([]byte(acc))
	return int(h.Sum32() % uint32(l.lanes))
}

// hotQueue holds the debits waiting for a lane while a transaction on
// it runs; busy and pending are guarded by Ledger.hotMu. A lane keeps its
// queue once made (there are only as many as lanes).
type hotQueue struct {
	busy    bool
	pending []*debitCall
	// failed: the lane's last batch had a failure, so the next one runs
	// with savepoints at once. Guarded by hotMu too: a lane's batches
	// overlap (lead).
	failed bool
}

// debitCall is one request's debit: its work and, once answered, its result.
type debitCall struct {
	acc  gid.ID
	ctx  context.Context
	key  *key
	work work

	out  Outcome
	err  error
	ok   bool          // the work succeeded (committed unless err is set after)
	held *Tx           // the request's own Tx in the batch: what waits for COMMIT
	lead []*debitCall  // set when this call must lead the next batch
	done chan struct{} // closed when answered or told to lead
}

// debit runs w (which must debit acc through Post) at most once per
// idempotency key k, grouped with concurrent debits of the same balance.
// Like once, it returns (prior outcome, true, nil) on a replay.
func (l *Ledger) debit(ctx context.Context, acc gid.ID, k *key, w work) (Outcome, bool, error) {
	c := &debitCall{acc: acc, ctx: ctx, key: k, work: w, done: make(chan struct{})}
	hk := l.lane(acc)
	l.hotMu.Lock()
	q := l.queueOf(hk)
	if !q.busy {
		q.busy = true
		l.hotMu.Unlock()
		l.lead(q, []*debitCall{c})
	} else {
		q.pending = append(q.pending, c)
		l.hotMu.Unlock()
		select {
		case <-c.done:
		case <-ctx.Done():
			// Given up while queued: gone unless a batch has taken it
			// (then its answer comes by the batch's deadline, the latest of
			// its callers', at most batchTimeout).
			if l.withdraw(q, c) {
				return Outcome{}, false, ctx.Err()
			}
			<-c.done
		}
		if c.lead != nil {
			l.lead(q, c.lead)
		}
	}
	var r *replayed
	if errors.As(c.err, &r) {
		o, err := l.prior(ctx, k)
		return o, true, err
	}
	return c.out, false, c.err
}

// withdraw takes c out of q's queue if no batch has taken it yet.
func (l *Ledger) withdraw(q *hotQueue, c *debitCall) bool {
	l.hotMu.Lock()
	defer l.hotMu.Unlock()
	if i := slices.Index(q.pending, c); i >= 0 {
		q.pending = slices.Delete(q.pending, i, i+1)
		return true
	}
	return false
}

// lead runs batch (batch[0] is the caller's own request), hands the queue
// to the next batch's leader, then answers the others.
//
// Pipelined: on PostgreSQL the queue is handed on as soon as the batch's
// work is all sent and only its COMMIT is left, so the next batch runs its
// statements while this one waits for its WAL flush, instead of after it:
// a lane keeps both cores busy with its batches, and a few lanes make big
// batches (fewer transactions, statements and plans per debit) without
// leaving the machine idle between them. Two batches of one lane may then
// be in flight at once; a balance they share is locked by the first until
// its COMMIT, and the second's lock waits for it (and reads what it
// left), taken in account order as ever, so neither order nor the balance
// check changes.
func (l *Ledger) lead(q *hotQueue, batch []*debitCall) {
	handed := false
	handOff := func() {
		if !handed {
			handed = true
			l.handOff(q)
		}
	}
	l.runBatch(q, batch, handOff)
	handOff() // a batch that failed, or ran on SQLite
	for i, c := range batch {
		if i > 0 {
			close(c.done)
		}
	}
}

// handOff gives the lane's queue to the next batch's leader, or marks the
// lane idle.
func (l *Ledger) handOff(q *hotQueue) {
	l.hotMu.Lock()
	var next []*debitCall
	if n := min(len(q.pending), maxBatch); n > 0 {
		next = append([]*debitCall(nil), q.pending[:n]...)
		q.pending = append(q.pending[:0:0], q.pending[n:]...)
	} else {
		q.busy = false // kept: there are at most as many queues as lanes
	}
	l.hotMu.Unlock()
	if next != nil {
		next[0].lead = next
		close(next[0].done)
	}
}

// runBatch runs the calls in one transaction and sets each call's result;
// on PostgreSQL it calls handOff once the work is sent and only the
// COMMIT is left.
func (l *Ledger) runBatch(q *hotQueue, batch []*debitCall, handOff func()) {
	live := make([]*debitCall, 0, len(batch))
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err // given up before its batch started: dropped
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	if l.test.onBatch != nil {
		l.test.onBatch(len(live))
	}

	multi := len(live) > 1
	// Balance locks in account order; one balance's debits keep their
	// order of arrival.
	sort.SliceStable(live, func(i, j int) bool { return live[i].acc < live[j].acc })
	ctx := live[0].ctx // a lone request's transaction is its own to cancel
	if multi {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), batchDeadline(live))
		defer cancel()
	}
	// The lane's next batch may start while this one commits (lead).
	var committing func()
	if l.dialect == dialect.Postgres {
		committing = handOff
	}
	inTx := func(fn func(tx *Tx) error) error { return l.inTx(ctx, fn, committing) }
	l.hotMu.Lock()
	failed := q.failed
	l.hotMu.Unlock()
	var err error
	switch {
	case !multi:
		// Its own transaction: what it holds is the transaction's.
		c := live[0]
		err = inTx(func(tx *Tx) error {
			o, err := l.onceIn(c.ctx, tx, c.key, c.work)
			if err != nil {
				c.err = err
				return err
			}
			c.out, c.ok = o, true
			return nil
		})
	case failed:
		err = inTx(func(tx *Tx) error { return l.batchWork(ctx, tx, live, true) })
	case l.dialect == dialect.Postgres:
		// Set-based (setbatch.go); a request that fails or does anything
		// unusual sends the batch back to the request-by-request path.
		err = inTx(func(tx *Tx) error { return l.setWork(ctx, tx, live) })
		if errors.Is(err, errNeedSavepoints) || errors.Is(err, errUnusual) {
			savepoints := errors.Is(err, errNeedSavepoints)
			for _, c := range live {
				c.out, c.err, c.ok, c.held = Outcome{}, nil, false, nil
			}
			err = inTx(func(tx *Tx) error { return l.batchWork(ctx, tx, live, savepoints) })
			if !savepoints && errors.Is(err, errNeedSavepoints) {
				for _, c := range live {
					c.out, c.err, c.ok, c.held = Outcome{}, nil, false, nil
				}
				err = inTx(func(tx *Tx) error { return l.batchWork(ctx, tx, live, true) })
			}
		}
	default:
		// Without savepoints first: a round trip less for every request.
		// If one fails, the transaction is rolled back and the batch runs
		// again with a savepoint each, so that each failure undoes only its
		// own work.
		err = inTx(func(tx *Tx) error { return l.batchWork(ctx, tx, live, false) })
		if errors.Is(err, errNeedSavepoints) {
			for _, c := range live {
				c.out, c.err, c.ok, c.held = Outcome{}, nil, false, nil
			}
			err = inTx(func(tx *Tx) error { return l.batchWork(ctx, tx, live, true) })
		}
	}
	if multi {
		// The next batch of this lane starts with savepoints if this one
		// had a failure: failures come in runs (a balance running dry).
		failed := slices.ContainsFunc(live, func(c *debitCall) bool { return c.err != nil })
		l.hotMu.Lock() // the lane's next leader may be running already
		q.failed = failed
		l.hotMu.Unlock()
	}
	if err != nil && l.batchLanded(ctx, err, live) {
		err = nil // the COMMIT's answer was lost, not the batch (commit.go)
	}
	if err == nil {
		for _, c := range live {
			if c.ok && c.held != nil {
				for _, f := range c.held.after {
					f()
				}
			}
		}
		return
	}
	// Nothing of the batch was written: every request that had succeeded
	// (or replayed a key, perhaps claimed in this very batch) gets the error.
	var r *replayed
	for _, c := range live {
		if c.ok || c.err == nil || (multi && errors.As(c.err, &r)) {
			c.ok, c.err = false, err
		}
	}
}

// batchDeadline: a batch works for its callers, so it ends when the last
// of them gives up (a stalled database must not hold a lane past every
// caller's timeout), and after batchTimeout at most.
func batchDeadline(live []*debitCall) time.Time {
	return callersDeadline(live, func(c *debitCall) context.Context { return c.ctx })
}

// callersDeadline is when work done for calls ends: when the last of
// their contexts does, and after batchTimeout at most.
func callersDeadline[C any](calls []C, ctxOf func(C) context.Context) time.Time {
	end := time.Now().Add(batchTimeout)
	var last time.Time
	for _, c := range calls {
		d, ok := ctxOf(c).Deadline()
		if !ok {
			return end
		}
		if d.After(last) {
			last = d
		}
	}
	if last.Before(end) {
		return last
	}
	return end
}

// errNeedSavepoints ends a batch run without savepoints when a request in
// it fails.
var errNeedSavepoints = errors.New("a request of the batch failed: run it again with savepoints")

// batchWork runs a batch's requests in tx, in order, each with a Tx of its
// own over tx's transaction. With savepoints each request runs in its own,
// and one that fails rolls back to it and leaves the others be; without,
// the first failure ends the work with errNeedSavepoints, and tx must be
// rolled back. The events of the requests that succeeded are announced
// with tx; their after-commit calls wait in each call (runBatch).
func (l *Ledger) batchWork(ctx context.Context, tx *Tx, live []*debitCall, savepoints bool) error {
	if l.test.onBatchRun != nil {
		l.test.onBatchRun(savepoints)
	}
	for i, c := range live {
		if c.ctx.Err() != nil && i > 0 {
			c.err = c.ctx.Err() // gave up while earlier requests ran: dropped
			continue
		}
		// The request's own values (viewer, scope) without its
		// cancellation: a cancelled statement would abort the batch's
		// transaction, not only this request.
		wctx := context.WithoutCancel(c.ctx)
		rtx := &Tx{Tx: tx.Tx}
		sp := "debit_" + strconv.Itoa(i)
		if savepoints {
			if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
				return fmt.Errorf("batch savepoint: %w", err)
			}
		}
		l.enter(rtx)
		o, err := l.onceIn(wctx, rtx, c.key, c.work)
		l.enter(tx)
		if err != nil {
			c.err = err
			if !savepoints {
				return errNeedSavepoints
			}
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); rerr != nil {
				return fmt.Errorf("batch rollback to savepoint: %w", rerr)
			}
			continue
		}
		c.out, c.ok, c.held = o, true, rtx
		tx.Announce(rtx.events...)
		tx.rows = append(tx.rows, rtx.rows...) // written before COMMIT
		rtx.rows = nil
	}
	return nil
}

// queueOf returns the lane's queue, made on first use; hotMu must be held.
func (l *Ledger) queueOf(lane int) *hotQueue {
	q := l.hot[lane]
	if q == nil {
		q = &hotQueue{}
		l.hot[lane] = q
	}
	return q
}
