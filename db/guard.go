package db

// Dead connections to PostgreSQL.
//
// lib/pq reads without a deadline and ignores the context in BEGIN and
// COMMIT, so a connection whose packets stop arriving (a proxy or NAT that
// forgets it, a network that black-holes it, without a RST) blocks its
// goroutine for good, holding whatever it held: a debit lane, a pool slot.
// Each connection of the pool is therefore guarded three ways:
//
//   - Deadlines: every call into the driver sets the socket's deadline to
//     the call's context deadline plus a small grace (a context without a
//     deadline clears it). The operation timeout then holds even in BEGIN,
//     COMMIT and half-read results, where lib/pq would wait forever: the read
//     fails, lib/pq marks the connection bad and the pool drops it. Setting
//     a deadline is a timer update in Go's poller, not a system call, and is
//     skipped when it does not change.
//   - A watchdog: a read that has waited longer than StallProbeAfter has its
//     backend looked up in pg_stat_activity over a fresh connection. If the
//     backend is idle (it never got the request, or answered long ago) or
//     gone, the answer will never come: the backend is terminated (so that
//     the row locks of its transaction go at once) and the read fails.
//     Every connection opened before then is presumed to share the dead
//     path and is replaced at its next use rather than tried. A backend
//     still working (a long query, a lock wait) is left alone.
//   - TCP: keep-alives and, on Linux, TCP_USER_TIMEOUT, for a peer that stops
//     acknowledging (a host gone, a cable cut); they cannot see a proxy that
//     still acknowledges, which the watchdog does.
//
// Server-side statement_timeout and idle_in_transaction_session_timeout
// bound what a lost client leaves behind in PostgreSQL (db.go).

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"
)

// epoch anchors mono: a monotonic clock as one int64, for atomics.
var epoch = time.Now()

func mono() int64 { return int64(time.Since(epoch)) }

// errStalled is the read error of a connection the watchdog found dead.
var errStalled = errors.New("database connection stalled: its backend is idle but no answer arrived")

// past is a deadline that has passed: blocked reads and writes fail at once.
var past = time.Unix(1, 0)

// guard watches the connections of one pool.
type guard struct {
	grace          time.Duration // added to a context's deadline
	connectTimeout time.Duration // the handshake of a connection opened without a deadline
	probeAfter     time.Duration // <= 0: no watchdog
	tick           time.Duration
	log            *slog.Logger

	mu       sync.Mutex
	conns    map[*watchedConn]struct{}
	suspects []*watchedConn // failed by a deadline: was the path dead? (check)

	flushed atomic.Int64 // mono: connections born before it are replaced
	dead    atomic.Int64 // connections found dead so far

	probe *sql.DB // the watchdog's own connection (through the same guard)
	stop  chan struct{}
	done  chan struct{}
}

func (g *guard) add(c *watchedConn) {
	g.mu.Lock()
	g.conns[c] = struct{}{}
	g.mu.Unlock()
}

// suspect remembers a connection that failed by its deadline: once it is
// closed, a backend still there and idle means the close never reached the
// server, so neither would anything else on that path.
func (g *guard) suspect(c *watchedConn) {
	g.mu.Lock()
	if g.stop != nil && len(g.suspects) < 1024 {
		g.suspects = append(g.suspects, c)
	}
	g.mu.Unlock()
}

func (g *guard) forget(c *watchedConn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// watchedConn is a connection's socket, which records when a read is
// pending so that the watchdog can find reads that wait too long.
type watchedConn struct {
	net.Conn
	g    *guard
	born int64 // mono

	reading atomic.Int64 // mono start of the pending Read; 0: none
	okUntil atomic.Int64 // mono: a probe saw its backend at work; trusted until then
	broken  atomic.Bool  // a read or write failed, or the watchdog killed it
	killed  atomic.Bool
	closed  atomic.Int64 // mono time of Close; 0: open

	// Only the connection's user (one goroutine at a time, under
	// database/sql's lock) touches these.
	dl      time.Time // the deadline set on the socket
	pid     int64     // backend; 0: unknown, not watched
	started int64     // backend_start in microseconds since 1970, to tell a reused pid
}

func (c *watchedConn) Read(b []byte) (int, error) {
	if c.killed.Load() {
		return 0, &net.OpError{Op: "read", Net: "tcp", Addr: c.RemoteAddr(), Err: errStalled}
	}
	c.reading.Store(mono())
	n, err := c.Conn.Read(b)
	c.reading.Store(0)
	if err != nil {
		c.broken.Store(true)
		switch {
		case c.killed.Load():
			err = &net.OpError{Op: "read", Net: "tcp", Addr: c.RemoteAddr(), Err: errStalled}
		case errors.Is(err, os.ErrDeadlineExceeded) && c.pid != 0:
			c.g.suspect(c)
		}
	}
	return n, err
}

func (c *watchedConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err != nil {
		c.broken.Store(true)
	}
	return n, err
}

func (c *watchedConn) Close() error {
	c.g.forget(c)
	c.closed.CompareAndSwap(0, mono())
	return c.Conn.Close()
}

// setDeadline sets the socket's deadline if it changes.
func (c *watchedConn) setDeadline(d time.Time) {
	if !d.Equal(c.dl) {
		c.dl = d
		_ = c.Conn.SetDeadline(d)
	}
}

// arm bounds the socket's next reads and writes by ctx's deadline, plus the
// grace that lets a cancelled query's answer arrive on a healthy server.
func (c *watchedConn) arm(ctx context.Context) {
	var d time.Time
	if dl, ok := ctx.Deadline(); ok {
		d = dl.Add(c.g.grace)
	}
	c.setDeadline(d)
}

// condemned: the connection must not be used again.
func (c *watchedConn) condemned() bool {
	return c.broken.Load() || c.born < c.g.flushed.Load()
}

// kill fails the connection's pending and future reads.
func (c *watchedConn) kill() {
	c.killed.Store(true)
	c.broken.Store(true)
	_ = c.Conn.SetDeadline(past)
}

// dialer opens guarded sockets for lib/pq.
type dialer struct {
	nd net.Dialer
	g  *guard
}

type slotKey struct{}

func (d *dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d *dialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

// cancelTimeout bounds a cancel request (a healthy server answers one in
// milliseconds).
const cancelTimeout = 500 * time.Millisecond

// DialContext dials with keep-alives and the user timeout. The handshake
// that follows is bounded by ctx's deadline, else by connectTimeout (lib/pq
// reads it without one). A connection of the pool (its Connect put a slot in
// ctx) is watched; others (lib/pq's cancel requests) are only bounded.
func (d *dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	slot, _ := ctx.Value(slotKey{}).(**watchedConn)
	if slot == nil {
		// A cancel request: lib/pq makes a cancelled prepared statement's
		// caller wait for it (up to 10 s), so it gets cancelTimeout.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cancelTimeout)
		defer cancel()
	}
	nc, err := d.nd.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	dl, ok := ctx.Deadline()
	if !ok {
		dl = time.Now().Add(d.g.connectTimeout)
	}
	if slot == nil {
		_ = nc.SetDeadline(dl)
		return nc, nil
	}
	w := &watchedConn{Conn: nc, g: d.g, born: mono()}
	w.setDeadline(dl)
	*slot = w
	return w, nil
}

// connector opens guarded lib/pq connections.
type connector struct {
	pq *pq.Connector
	g  *guard
}

func (k *connector) Driver() driver.Driver { return k.pq.Driver() }

// pqConn is what a lib/pq connection implements.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

func (k *connector) Connect(ctx context.Context) (driver.Conn, error) {
	var nc *watchedConn
	dc, err := k.pq.Connect(context.WithValue(ctx, slotKey{}, &nc))
	if err != nil {
		return nil, err
	}
	c, ok := dc.(pqConn)
	if !ok || nc == nil {
		_ = dc.Close()
		return nil, fmt.Errorf("db: unexpected lib/pq connection %T", dc)
	}
	gc := &guardConn{c: c, nc: nc}
	if k.g.probeAfter > 0 {
		// The backend's identity, for the watchdog.
		if err := gc.identify(ctx); err != nil {
			_ = gc.Close()
			return nil, err
		}
		k.g.add(nc)
	}
	nc.arm(ctx)
	return gc, nil
}

// identify reads the connection's backend pid and start.
func (gc *guardConn) identify(ctx context.Context) error {
	// Opened for a pool statement, the connection's own query does not
	// take that statement's turn (turns.go) with it.
	ctx = context.WithValue(ctx, turnKey{}, (*turn)(nil))
	rows, err := gc.QueryContext(ctx, `SELECT pid, (extract(epoch FROM backend_start) * 1000000)::int8
		FROM pg_stat_activity WHERE pid = pg_backend_pid()`, nil)
	if err != nil {
		return fmt.Errorf("db: reading the backend pid: %w", err)
	}
	defer rows.Close()
	v := make([]driver.Value, 2)
	if err := rows.Next(v); err != nil {
		return nil // not visible (a pooler?): deadlines only
	}
	pid, _ := v[0].(int64)
	started, _ := v[1].(int64)
	gc.nc.pid, gc.nc.started = pid, started
	return nil
}

// guardConn is a lib/pq connection whose every call arms its socket's
// deadline from the call's context; the rows of a pool statement keep its
// turn until they are closed (turns.go). It is its own driver.Tx (as lib/pq's
// is), and remembers the transaction's context for COMMIT and ROLLBACK.
type guardConn struct {
	c     pqConn
	nc    *watchedConn
	tx    driver.Tx
	txCtx context.Context
}

func (gc *guardConn) Prepare(query string) (driver.Stmt, error) {
	return gc.PrepareContext(context.Background(), query)
}

func (gc *guardConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	gc.nc.arm(ctx)
	st, err := gc.c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ps, ok := st.(pqStmt)
	if !ok {
		return st, nil
	}
	return &guardStmt{st: ps, nc: gc.nc}, nil
}

// Close never waits long on a dead socket (lib/pq sends Terminate).
func (gc *guardConn) Close() error {
	if gc.nc.condemned() {
		gc.nc.setDeadline(past)
	} else {
		gc.nc.setDeadline(time.Now().Add(time.Second))
	}
	return gc.c.Close()
}

func (gc *guardConn) Begin() (driver.Tx, error) {
	return gc.BeginTx(context.Background(), driver.TxOptions{})
}

func (gc *guardConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	gc.nc.arm(ctx)
	tx, err := gc.c.BeginTx(ctx, opts)
	if err != nil {
		if gc.nc.broken.Load() && ctx.Err() == nil {
			// The connection failed, not BEGIN: nothing was done (a
			// transaction it began dies with the backend), so the pool
			// tries another connection, as for a reset one.
			return nil, driver.ErrBadConn
		}
		return nil, err
	}
	gc.tx, gc.txCtx = tx, ctx
	return gc, nil
}

func (gc *guardConn) Commit() error {
	return gc.endTx().Commit()
}

func (gc *guardConn) Rollback() error {
	return gc.endTx().Rollback()
}

// endTx arms the deadline of the transaction's context for its end.
func (gc *guardConn) endTx() driver.Tx {
	tx, ctx := gc.tx, gc.txCtx
	gc.tx, gc.txCtx = nil, nil
	if ctx != nil {
		gc.nc.arm(ctx)
	}
	return tx
}

func (gc *guardConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	gc.nc.arm(ctx)
	return gc.c.ExecContext(ctx, query, args)
}

func (gc *guardConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	gc.nc.arm(ctx)
	rows, err := gc.c.QueryContext(ctx, query, args)
	rows = keepTurn(ctx, rows)
	if err != nil && gc.tx == nil && gc.nc.broken.Load() && ctx.Err() == nil && readOnly(query) {
		// The connection failed under a read outside any transaction (an
		// idle one reset by the peer just before the pool handed it out,
		// before ResetSession's peek could see it): reading again on
		// another connection changes nothing, so the pool does, as for a
		// reset one.
		return nil, driver.ErrBadConn
	}
	return rows, err
}

// readOnly reports whether query only reads: a SELECT that calls none of
// the functions with effects our statements use (pg_notify, sequences).
func readOnly(query string) bool {
	q := strings.TrimSpace(query)
	if len(q) < 6 || !strings.EqualFold(q[:6], "SELECT") {
		return false
	}
	l := strings.ToLower(q)
	return !strings.Contains(l, "pg_notify") && !strings.Contains(l, "nextval") && !strings.Contains(l, "setval")
}

func (gc *guardConn) Ping(ctx context.Context) error {
	gc.nc.arm(ctx)
	return gc.c.Ping(ctx)
}

// ResetSession runs as database/sql takes an idle connection from the pool:
// a connection that is condemned, or whose peer has gone, is replaced before
// any query is sent on it (ErrBadConn makes database/sql use another).
func (gc *guardConn) ResetSession(ctx context.Context) error {
	if gc.nc.condemned() || peerGone(gc.nc.Conn) {
		gc.nc.broken.Store(true)
		return driver.ErrBadConn
	}
	return gc.c.ResetSession(ctx)
}

func (gc *guardConn) IsValid() bool { return !gc.nc.condemned() && gc.c.IsValid() }

func (gc *guardConn) CheckNamedValue(nv *driver.NamedValue) error { return gc.c.CheckNamedValue(nv) }

// pqStmt is what a lib/pq prepared statement implements.
type pqStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// guardStmt arms its connection's deadline like guardConn.
type guardStmt struct {
	st pqStmt
	nc *watchedConn
}

// Close waits a second at most (lib/pq waits for the server's answer).
func (s *guardStmt) Close() error {
	if s.nc.condemned() {
		s.nc.setDeadline(past)
	} else {
		s.nc.setDeadline(time.Now().Add(time.Second))
	}
	return s.st.Close()
}

func (s *guardStmt) NumInput() int { return s.st.NumInput() }

//lint:ignore SA1019 required by driver.Stmt
func (s *guardStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.nc.setDeadline(time.Time{})
	return s.st.Exec(args) //nolint:staticcheck
}

//lint:ignore SA1019 required by driver.Stmt
func (s *guardStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.nc.setDeadline(time.Time{})
	return s.st.Query(args) //nolint:staticcheck
}

func (s *guardStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	s.nc.arm(ctx)
	return s.st.ExecContext(ctx, args)
}

func (s *guardStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	s.nc.arm(ctx)
	rows, err := s.st.QueryContext(ctx, args)
	return keepTurn(ctx, rows), err
}

// run is the watchdog's loop.
func (g *guard) run() {
	defer close(g.done)
	t := time.NewTicker(g.tick)
	defer t.Stop()
	for {
		select {
		case <-g.stop:
			return
		case <-t.C:
			g.check()
		}
	}
}

func (g *guard) close() {
	if g.stop != nil {
		close(g.stop)
		<-g.done
		_ = g.probe.Close()
	}
}

// check probes the backends of the reads that have waited too long, and
// of the connections closed after a deadline.
func (g *guard) check() {
	g.checkSuspects()
	now := mono()
	after := int64(g.probeAfter)
	// Just after a dead connection was found, the others opened before it
	// likely share its path: their reads are looked at after a tick.
	flushed := g.flushed.Load()
	recent := flushed != 0 && now-flushed < 2*after
	var cands []*watchedConn
	var stamps []int64
	g.mu.Lock()
	for c := range g.conns {
		wait := after
		if recent && c.born < flushed {
			wait = int64(g.tick)
		}
		if r := c.reading.Load(); r != 0 && now-r >= wait && c.okUntil.Load() < now+int64(g.tick) && !c.killed.Load() {
			cands = append(cands, c)
			stamps = append(stamps, r)
		}
	}
	g.mu.Unlock()
	if len(cands) == 0 {
		return
	}
	pids := make([]int64, len(cands))
	starts := make([]int64, len(cands))
	for i, c := range cands {
		// Written once by Connect before the connection was added.
		pids[i], starts[i] = c.pid, c.started
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(g.probeAfter, 2*time.Second))
	defer cancel()
	// For each: is the backend there, is it running a statement (or
	// waiting on a lock), and has it been idle long enough that an answer
	// it sent would have arrived.
	rows, err := g.probe.QueryContext(ctx, `
		SELECT c.pid, a.pid IS NOT NULL,
			COALESCE(a.state NOT IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'), false),
			COALESCE(clock_timestamp() - a.state_change >= $3 * interval '1 microsecond', false)
		FROM unnest($1::int8[], $2::int8[]) AS c(pid, started)
		LEFT JOIN pg_stat_activity a ON a.pid = c.pid
			AND (extract(epoch FROM a.backend_start) * 1000000)::int8 = c.started`,
		pq.Array(pids), pq.Array(starts), int64(g.probeAfter/2/time.Microsecond))
	if err != nil {
		g.log.Warn("database watchdog: cannot look up the backends of stalled reads", "reads", len(cands), "error", err)
		return
	}
	type verdict struct{ alive, active, idleLong bool }
	seen := map[int64]verdict{}
	for rows.Next() {
		var pid int64
		var v verdict
		if err := rows.Scan(&pid, &v.alive, &v.active, &v.idleLong); err != nil {
			rows.Close()
			return
		}
		seen[pid] = v
	}
	if err := rows.Close(); err != nil || rows.Err() != nil {
		return
	}
	var terminate, terminateStarts []int64
	found := false
	for i, c := range cands {
		v, ok := seen[c.pid]
		switch {
		case !ok:
			continue
		case v.active:
			c.okUntil.Store(mono() + after)
			continue
		case v.alive && !v.idleLong:
			continue // idle a moment ago: its answer may be on the way; next tick
		}
		if c.reading.Load() != stamps[i] {
			continue // the answer came after all
		}
		found = true
		blocked := time.Duration(mono() - stamps[i])
		g.dead.Add(1)
		g.log.Warn("database connection stalled: its backend is idle, closing it and replacing the pool's older connections",
			"pid", c.pid, "blocked_ms", blocked.Milliseconds(), "backend_alive", v.alive)
		if v.alive {
			terminate, terminateStarts = append(terminate, c.pid), append(terminateStarts, c.started)
		}
		c.kill()
	}
	if !found {
		return
	}
	// Connections opened before now are replaced at their next use.
	defer g.flushed.Store(mono())
	if len(terminate) > 0 {
		// Its transaction's row locks go now, not at the server's
		// idle_in_transaction_session_timeout. Only a backend still idle:
		// one that has picked up work since is left alone.
		_, err := g.probe.ExecContext(ctx, `SELECT pg_terminate_backend(a.pid)
			FROM unnest($1::int8[], $2::int8[]) AS c(pid, started)
			JOIN pg_stat_activity a ON a.pid = c.pid
				AND (extract(epoch FROM a.backend_start) * 1000000)::int8 = c.started
			WHERE a.state IN ('idle', 'idle in transaction', 'idle in transaction (aborted)')`,
			pq.Array(terminate), pq.Array(terminateStarts))
		if err != nil {
			g.log.Warn("database watchdog: cannot terminate stalled backends", "pids", terminate, "error", err)
		}
	}
}

// suspectLinger: a suspect's backend is looked at once the connection has
// been closed this long (a healthy server's backend is gone by then).
const suspectLinger = 300 * time.Millisecond

// checkSuspects looks for the backends of connections that failed by a
// deadline and are closed: one still there and idle never heard the close,
// so the path is dead; it is terminated, and the pool's older connections
// are replaced at their next use.
func (g *guard) checkSuspects() {
	now := mono()
	var ready []*watchedConn
	g.mu.Lock()
	keep := g.suspects[:0]
	for _, c := range g.suspects {
		closed := c.closed.Load()
		switch {
		case closed != 0 && now-closed >= int64(suspectLinger):
			ready = append(ready, c)
		case now-c.born > int64(time.Hour) || (closed != 0 && now-closed > int64(time.Minute)):
			// not closed for long, or never looked at: dropped
		default:
			keep = append(keep, c)
		}
	}
	g.suspects = keep
	g.mu.Unlock()
	if len(ready) == 0 {
		return
	}
	pids := make([]int64, len(ready))
	starts := make([]int64, len(ready))
	for i, c := range ready {
		pids[i], starts[i] = c.pid, c.started
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(g.probeAfter, 2*time.Second))
	defer cancel()
	var n int
	err := g.probe.QueryRowContext(ctx, `WITH dead AS (
			SELECT a.pid FROM unnest($1::int8[], $2::int8[]) AS c(pid, started)
			JOIN pg_stat_activity a ON a.pid = c.pid
				AND (extract(epoch FROM a.backend_start) * 1000000)::int8 = c.started
			WHERE a.state IN ('idle', 'idle in transaction', 'idle in transaction (aborted)'))
		SELECT count(pg_terminate_backend(pid)) FROM dead`,
		pq.Array(pids), pq.Array(starts)).Scan(&n)
	if err != nil {
		// Unreachable: looked at again next tick.
		g.mu.Lock()
		g.suspects = append(g.suspects, ready...)
		g.mu.Unlock()
		return
	}
	if n > 0 {
		g.dead.Add(int64(n))
		g.log.Warn("database connections timed out on a dead path (their backends never saw them close): terminated them, replacing the pool's older connections", "count", n)
		g.flushed.Store(mono())
	}
}

// stuck counts the reads that have waited past the probe's time with no
// sign from the server that it is working on them.
func (g *guard) stuck() int {
	now := mono()
	limit := int64(g.probeAfter + g.tick)
	n := 0
	g.mu.Lock()
	defer g.mu.Unlock()
	for c := range g.conns {
		if r := c.reading.Load(); r != 0 && now-r >= limit && c.okUntil.Load() < now {
			n++
		}
	}
	return n
}
