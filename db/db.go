// Package db opens the database: PostgreSQL through lib/pq when given a
// postgres:// URL, else an embedded SQLite file, so a newcomer needs nothing
// installed. Both are migrated on open.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"    // PostgreSQL driver
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"creditgate/ent"
)

// DefaultSQLitePath is where the gateway keeps its data without DATABASE_URL.
const DefaultSQLitePath = "./data/creditgate.db"

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int // 0: a default that suits the dialect

	// PostgreSQL only (guard.go): a zero field takes its default, a
	// negative one turns its measure off. A setting already in the URL wins
	// over the first two.
	StatementTimeout time.Duration // server-side statement_timeout
	IdleInTxTimeout  time.Duration // server-side idle_in_transaction_session_timeout
	StallProbeAfter  time.Duration // a read waiting this long has its backend checked
	TCPUserTimeout   time.Duration // TCP_USER_TIMEOUT (Linux), with keep-alives
}

// Defaults of Options.
const (
	// Nothing in the gateway waits longer for a statement (a batch of
	// debits has 30 s); a lost client's statement ends by then.
	DefaultStatementTimeout = 30 * time.Second
	// A transaction whose client is gone (or stalled) releases its row
	// locks by then even if nobody terminates it.
	DefaultIdleInTxTimeout = 15 * time.Second
	// Reads are answered in milliseconds; one waiting 2 s is worth a look.
	DefaultStallProbeAfter = 2 * time.Second
	// Sent data unacknowledged this long ends the connection.
	DefaultTCPUserTimeout = 20 * time.Second
)

// deadlineGrace is added to a context's deadline on the socket: on a
// healthy server lib/pq's cancel request gets its answer back within it.
const deadlineGrace = 500 * time.Millisecond

// DB is an open, migrated database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	DSN     string // what Open was given (PostgreSQL: for the event listener)

	guard *guard     // PostgreSQL: the connections' watchdog
	stmts *stmtCache // the pool's prepared statements and turns (turns.go)
}

// Close closes the database.
func (d *DB) Close() error {
	if d.guard != nil {
		d.guard.close()
	}
	return d.Client.Close()
}

// Ready reports whether the database can make progress: a ping within ctx
// answers, and no connection has waited past the watchdog's probe time for
// an answer without the server being seen at work on it.
func (d *DB) Ready(ctx context.Context) error {
	if d.guard != nil && d.guard.probeAfter > 0 {
		if n := d.guard.stuck(); n > 0 {
			return fmt.Errorf("%d database connection(s) waiting over %s for an answer the server is not seen working on", n, d.guard.probeAfter)
		}
	}
	return d.SQL.PingContext(ctx)
}

// StalledConns is how many connections the watchdog has found dead.
func (d *DB) StalledConns() int64 {
	if d.guard == nil {
		return 0
	}
	return d.guard.dead.Load()
}

// Open connects to dsn (postgres://… or a SQLite file path; "" means
// DefaultSQLitePath) and migrates the schema. The tenant scope is the
// domain's: credits.New installs it on the client.
func Open(ctx context.Context, dsn string, opt Options) (*DB, error) {
	var (
		d   *DB
		err error
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		d, err = openPostgres(dsn, opt)
	} else {
		d, err = openSQLite(dsn, opt)
	}
	if err != nil {
		return nil, err
	}
	d.DSN = dsn
	if err := d.Client.Schema.Create(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrating the %s schema: %w", d.Dialect, err)
	}
	if err := scaleAmounts(ctx, d.SQL, d.Dialect); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrating the %s schema: %w", d.Dialect, err)
	}
	if err := setFillfactors(ctx, d.SQL, d.Dialect); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrating the %s schema: %w", d.Dialect, err)
	}
	return d, nil
}

// balancesFillfactor: a balance's row is updated in place all day (on
// every payment and usage event), so its pages are filled only so far,
// and a row's new version fits on its own page: an update that changes no
// indexed column then writes no index entry (a HOT update). On full pages
// a third to a half of the bench's balance updates wrote a new entry in
// both of the balances' indexes.
const balancesFillfactor = "fillfactor=80"

// setFillfactors sets balancesFillfactor on PostgreSQL (ent's migration
// has no word for it) where not set yet: it applies to pages filled from
// then on.
func setFillfactors(ctx context.Context, db *sql.DB, dialectName string) error {
	if dialectName != dialect.Postgres {
		return nil
	}
	var set bool
	if err := db.QueryRowContext(ctx, `SELECT $1 = ANY(COALESCE(reloptions, '{}')) FROM pg_class WHERE oid = to_regclass('balances')`,
		balancesFillfactor).Scan(&set); err != nil {
		return fmt.Errorf("reading balances' storage options: %w", err)
	}
	if !set {
		if _, err := db.ExecContext(ctx, `ALTER TABLE balances SET (`+balancesFillfactor+`)`); err != nil {
			return fmt.Errorf("setting balances' fillfactor: %w", err)
		}
	}
	return nil
}

func openPostgres(dsn string, opt Options) (*DB, error) {
	pc, err := pq.NewConnector(withServerTimeouts(withBinaryParameters(dsn), opt))
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL: %w", err)
	}
	g := &guard{
		grace: deadlineGrace, connectTimeout: 10 * time.Second,
		probeAfter: or(opt.StallProbeAfter, DefaultStallProbeAfter),
		log:        slog.Default(), conns: map[*watchedConn]struct{}{},
	}
	if g.probeAfter > 0 {
		g.tick = max(g.probeAfter/4, 50*time.Millisecond)
		g.stop, g.done = make(chan struct{}), make(chan struct{})
	}
	d := &dialer{g: g}
	if ut := or(opt.TCPUserTimeout, DefaultTCPUserTimeout); ut > 0 {
		d.nd.KeepAliveConfig = net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 5 * time.Second, Count: 3}
		d.nd.Control = userTimeout(ut)
	}
	pc.Dialer(d)
	k := &connector{pq: pc, g: g}
	sqldb := sql.OpenDB(k)
	// Size the pool so idle connections stay open: reconnecting per request
	// costs more than the transaction itself.
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 32
	}
	sqldb.SetMaxOpenConns(n)
	sqldb.SetMaxIdleConns(n)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL at %s: %w", redact(dsn), err)
	}
	if g.probeAfter > 0 {
		// The watchdog's own connection, opened when needed: a stalled
		// pool must not be where it waits.
		g.probe = sql.OpenDB(k)
		// A new connection per look (looks are rare): never one left on
		// the path that died.
		g.probe.SetMaxOpenConns(1)
		g.probe.SetMaxIdleConns(0)
		go g.run()
	}
	// Statements on the pool take turns, one a connection (turns.go): the
	// guard's rows say when one gives its connection back.
	out := newDB(sqldb, dialect.Postgres, n)
	out.guard = g
	return out, nil
}

// or is d, or def if d is zero; a negative d means off (0).
func or(d, def time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d == 0:
		return def
	}
	return d
}

// withServerTimeouts sets statement_timeout and
// idle_in_transaction_session_timeout for each connection (startup
// parameters), unless the URL sets them.
func withServerTimeouts(dsn string, opt Options) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	for _, p := range []struct {
		name string
		d    time.Duration
	}{
		{"statement_timeout", or(opt.StatementTimeout, DefaultStatementTimeout)},
		{"idle_in_transaction_session_timeout", or(opt.IdleInTxTimeout, DefaultIdleInTxTimeout)},
	} {
		if q.Get(p.name) == "" && p.d > 0 {
			q.Set(p.name, strconv.FormatInt(p.d.Milliseconds(), 10))
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withBinaryParameters asks lib/pq to send a one-shot statement's
// arguments with the statement (Parse, Bind, Execute in one round trip)
// instead of preparing it first (two round trips), unless the URL says
// otherwise.
func withBinaryParameters(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	if q.Get("binary_parameters") != "" {
		return dsn
	}
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String()
}

func openSQLite(path string, opt Options) (*DB, error) {
	if path == "" {
		path = DefaultSQLitePath
	}
	path = strings.TrimPrefix(path, "sqlite://")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
	}
	// Foreign keys on (ent's migration needs them), WAL so readers never wait
	// for the writer, and BEGIN IMMEDIATE so that writers queue on the
	// database lock (busy_timeout) instead of failing on lock upgrade.
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening SQLite at %s: %w", path, err)
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 8
	}
	sqldb.SetMaxOpenConns(n)
	if err := sqldb.Ping(); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("opening SQLite at %s: %w", path, err)
	}
	return newDB(sqldb, dialect.SQLite, 0), nil
}

// newDB wraps the pool; turns > 0: its statements take turns (turns.go).
func newDB(sqldb *sql.DB, name string, turns int) *DB {
	drv := newPreparingDriver(name, sqldb, turns)
	return &DB{Client: ent.NewClient(ent.Driver(drv)), SQL: sqldb, Dialect: name, stmts: drv.stmts}
}

// NewClient wraps an already-open driver (tests use it to count queries).
func NewClient(drv dialect.Driver) *ent.Client {
	return ent.NewClient(ent.Driver(drv))
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}
