// Package db opens the database: PostgreSQL through lib/pq when given a
// postgres:// URL, else an embedded SQLite file, so a newcomer needs nothing
// installed. Both are migrated on open.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/lib/pq"  // PostgreSQL driver
	_ "modernc.org/sqlite" // pure-Go SQLite driver, registered as "sqlite"

	"creditgate/credits"
	"creditgate/ent"
)

// DefaultSQLitePath is where the gateway keeps its data without DATABASE_URL.
const DefaultSQLitePath = "./data/creditgate.db"

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int // 0: a default that suits the dialect
}

// DB is an open, migrated database.
type DB struct {
	Client  *ent.Client
	SQL     *sql.DB
	Dialect string
	DSN     string // what Open was given (PostgreSQL: for the event listener)
}

// Close closes the database.
func (d *DB) Close() error { return d.Client.Close() }

// Open connects to dsn (postgres://… or a SQLite file path; "" means
// DefaultSQLitePath), migrates the schema and installs the tenant scope.
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
	return d, nil
}

func openPostgres(dsn string, opt Options) (*DB, error) {
	sqldb, err := sql.Open("postgres", withBinaryParameters(dsn))
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL: %w", err)
	}
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
	return newDB(sqldb, dialect.Postgres), nil
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
	return newDB(sqldb, dialect.SQLite), nil
}

func newDB(sqldb *sql.DB, name string) *DB {
	client := ent.NewClient(ent.Driver(newPreparingDriver(name, sqldb)))
	credits.InstallScope(client)
	return &DB{Client: client, SQL: sqldb, Dialect: name}
}

// NewClient wraps an already-open driver (tests use it to count queries).
func NewClient(drv dialect.Driver) *ent.Client {
	client := ent.NewClient(ent.Driver(drv))
	credits.InstallScope(client)
	return client
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the configured URL"
	}
	return u.Redacted()
}
