package db

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// maxPrepared bounds the statements kept prepared (per pool, each prepared
// lazily on every connection that runs it). ent builds a few statements
// whose text varies with their input (IN lists, bulk inserts); past the
// bound a statement simply runs unprepared.
const maxPrepared = 256

// preparingDriver is ent's SQL driver with every data statement prepared
// once per connection and reused: PostgreSQL parses and plans it once, and
// each execution is one round trip (Bind, Execute, Sync) instead of two
// (lib/pq sends Parse/Describe and then Bind/Execute for a one-shot
// statement with arguments). Statements without arguments (BEGIN, COMMIT,
// SAVEPOINT) go through the simple query protocol as before.
type preparingDriver struct {
	*entsql.Driver
	db    *sql.DB
	stmts *stmtCache
}

// newPreparingDriver wraps db; turns > 0: its pool statements take turns,
// that many at once (turns.go).
func newPreparingDriver(name string, db *sql.DB, turns int) *preparingDriver {
	c := &stmtCache{db: db, m: map[string]*sql.Stmt{}}
	if turns > 0 {
		c.turns = newTurns(turns)
	}
	return &preparingDriver{
		Driver: entsql.NewDriver(name, entsql.Conn{ExecQuerier: poolQuerier{c}}),
		db:     db,
		stmts:  c,
	}
}

// DB returns the underlying pool.
func (d *preparingDriver) DB() *sql.DB { return d.db }

// Tx starts a transaction.
func (d *preparingDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

// BeginTx starts a transaction with options.
func (d *preparingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: txQuerier{tx, d.stmts}}, Tx: tx}, nil
}

// Close closes the prepared statements and the pool.
func (d *preparingDriver) Close() error {
	d.stmts.close()
	return d.db.Close()
}

// stmtCache holds the pool's prepared statements by SQL text, and the
// pool's turns.
type stmtCache struct {
	db *sql.DB
	// turns: statements on the pool are served first come, first served
	// (turns.go); nil: as database/sql serves them (unguarded drivers).
	turns  *turns
	mu     sync.RWMutex
	m      map[string]*sql.Stmt // nil value: being prepared or not preparable
	closed bool
}

// preparable: data statements with arguments.
func preparable(query string, args []any) bool {
	if len(args) == 0 {
		return false
	}
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return false
	}
	switch strings.ToUpper(q[:4]) {
	case "SELE", "INSE", "UPDA", "DELE", "WITH":
		return true
	}
	return false
}

// get returns the statement for query once it is prepared. On first use
// it returns nil (the caller runs the statement unprepared) and prepares it
// in the background: preparing needs a connection of the pool, and a caller
// that holds one (a transaction) must never wait for a second.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[query]
	c.mu.RUnlock()
	if ok {
		return st // nil while it is being prepared, or if it cannot be
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[query]; ok || len(c.m) >= maxPrepared || c.closed {
		return c.m[query]
	}
	c.m[query] = nil // being prepared
	go c.prepare(query)
	return nil
}

func (c *stmtCache) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Prepared on the pool: database/sql prepares it again, lazily, on
	// each connection that runs it, and remembers it there.
	st, err := c.db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		// Left nil: it runs unprepared, which reports any error itself.
	case c.closed:
		_ = st.Close()
	default:
		c.m[query] = st
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, st := range c.m {
		if st != nil {
			_ = st.Close()
		}
	}
}

// poolQuerier runs statements on the pool, prepared where it can.
type poolQuerier struct{ c *stmtCache }

func (p poolQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, t, err := p.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer t.release()
	if preparable(query, args) {
		if st := p.c.get(query); st != nil {
			return st.ExecContext(ctx, args...)
		}
	}
	return p.c.db.ExecContext(ctx, query, args...)
}

func (p poolQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx, t, err := p.turn(ctx)
	if err != nil {
		return nil, err
	}
	defer t.release()
	if preparable(query, args) {
		if st := p.c.get(query); st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return p.c.db.QueryContext(ctx, query, args...)
}

// turn waits for the statement's turn at the pool (turns.go), where the
// pool takes turns.
func (p poolQuerier) turn(ctx context.Context) (context.Context, *turn, error) {
	if p.c.turns == nil {
		return ctx, nil, nil
	}
	return p.c.turns.take(ctx)
}

// txQuerier runs statements in a transaction, prepared where it can: the
// pool's statement, bound to the transaction's connection (database/sql
// reuses the one already prepared there).
type txQuerier struct {
	tx *sql.Tx
	c  *stmtCache
}

func (t txQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if preparable(query, args) {
		if st := t.c.get(query); st != nil {
			return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t txQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if preparable(query, args) {
		if st := t.c.get(query); st != nil {
			return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		}
	}
	return t.tx.QueryContext(ctx, query, args...)
}
