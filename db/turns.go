package db

// First come, first served at the pool.
//
// When every connection of the pool is busy, database/sql queues the
// callers that want one and hands a freed connection to a RANDOM one of
// them (its connRequests set). Under a steady overload (64 clients reading
// history pages through 24 connections, a read waiting ~7 ms for a
// connection on average) that stretches the tail: a read can lose the
// draw many times in a row while later ones pass it. With W waiting, the
// chance to lose k draws is (1-1/W)^k, so one read in a hundred waits
// about 4.6 times the mean.
//
// Statements on the pool (not in a transaction) therefore take a turn
// first: one of as many turns as the pool has connections, handed out in
// the order they were asked for. A statement with a turn finds a free
// connection (but for those that transactions hold), and keeps its turn
// while it keeps the connection: a query's until its rows are closed
// (guard.go wraps them), an Exec's until it returns. A freed turn goes
// straight to the oldest waiter, as a freed connection went to a random
// one: no turn waits on another goroutine being scheduled.
//
// Transactions take no turn: one may read on the pool while it holds a
// connection, and must not queue behind readers that wait for that
// connection. They compete with readers in database/sql's queue as before.
// Only PostgreSQL pools (guarded) take turns: an unguarded driver's rows
// cannot say when they are closed.

import (
	"context"
	"database/sql/driver"
	"sync"
	"sync/atomic"
)

// turns is a first-come-first-served counting semaphore.
type turns struct {
	mu      sync.Mutex
	free    int     // turns nobody holds
	waiting []*turn // queued, oldest first
}

func newTurns(n int) *turns { return &turns{free: n} }

// turn is one caller's place. ready is closed when the turn is handed to
// it; done says it was given back (a turn is given back once); kept says
// rows hold it (keepTurn), to be given back when they are closed.
type turn struct {
	q     *turns
	ready chan struct{}
	done  atomic.Bool
	kept  atomic.Bool
}

type turnKey struct{}

// take waits for a turn, in the order callers came, or until ctx is done.
// The returned context carries the turn to the driver (keepTurn). The
// caller gives it back with give, unless rows kept it.
func (q *turns) take(ctx context.Context) (context.Context, *turn, error) {
	t := &turn{q: q}
	q.mu.Lock()
	if q.free > 0 && len(q.waiting) == 0 {
		q.free--
		q.mu.Unlock()
		return context.WithValue(ctx, turnKey{}, t), t, nil
	}
	t.ready = make(chan struct{})
	q.waiting = append(q.waiting, t)
	q.mu.Unlock()
	select {
	case <-t.ready:
		return context.WithValue(ctx, turnKey{}, t), t, nil
	case <-ctx.Done():
		q.mu.Lock()
		for i, w := range q.waiting {
			if w == t {
				q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
				q.mu.Unlock()
				return ctx, nil, ctx.Err()
			}
		}
		q.mu.Unlock()
		// Handed to us as ctx ended: pass it on.
		t.give()
		return ctx, nil, ctx.Err()
	}
}

// give hands the turn to the oldest waiter, or frees it; only the first
// call of a turn does.
func (t *turn) give() {
	if t == nil || t.done.Swap(true) {
		return
	}
	q := t.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiting) == 0 {
		q.free++
		return
	}
	next := q.waiting[0]
	q.waiting[0] = nil
	q.waiting = q.waiting[1:]
	if len(q.waiting) == 0 {
		q.waiting = nil // a fresh array next time, not one sliced ever further
	}
	close(next.ready)
}

// release gives the turn back unless rows kept it (the statement returned).
func (t *turn) release() {
	if t != nil && !t.kept.Load() {
		t.give()
	}
}

// pqRows is what lib/pq's rows implement, which database/sql looks for.
type pqRows interface {
	driver.Rows
	driver.RowsNextResultSet
	driver.RowsColumnTypeScanType
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypePrecisionScale
}

// keepTurn makes rows, returned for a pool statement that holds a turn
// (ctx carries it), keep the turn until they are closed: until then the
// statement keeps its connection.
func keepTurn(ctx context.Context, rows driver.Rows) driver.Rows {
	t, _ := ctx.Value(turnKey{}).(*turn)
	r, ok := rows.(pqRows)
	if t == nil || !ok || t.kept.Swap(true) {
		return rows // the turn goes back when the statement returns
	}
	return &turnRows{pqRows: r, t: t}
}

// turnRows are rows that hold their statement's turn.
type turnRows struct {
	pqRows
	t *turn
}

func (r *turnRows) Close() error {
	err := r.pqRows.Close()
	r.t.give()
	return err
}

// turnRows still answer what database/sql asks lib/pq's rows.
var _ pqRows = (*turnRows)(nil)
