// Package dbtest gives tests a fresh, migrated database of each kind: a
// private schema on the real PostgreSQL server (TEST_DATABASE_URL, default
// the local `test` database) and a SQLite file in a temp directory. It never
// skips PostgreSQL: if the server does not answer, the test fails with the fix.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"

	_ "github.com/lib/pq"

	"creditgate/db"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Kinds are the databases every database test runs on.
var Kinds = []string{"postgres", "sqlite"}

// PostgresURL is the server the tests use.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

func adminDB() (*sql.DB, error) {
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("postgres", PostgresURL())
		if adminErr == nil {
			adminErr = admin.Ping()
		}
	})
	return admin, adminErr
}

// Open returns a fresh migrated database of kind ("postgres" or "sqlite"),
// dropped when the test ends.
func Open(t testing.TB, kind string) *db.DB {
	t.Helper()
	return OpenWith(t, kind, db.Options{})
}

// OpenWith is Open with pool options.
func OpenWith(t testing.TB, kind string, opt db.Options) *db.DB {
	t.Helper()
	ctx := context.Background()
	var dsn string
	switch kind {
	case "postgres":
		dsn = NewPostgresSchema(t)
	case "sqlite":
		dsn = filepath.Join(t.TempDir(), "test.db")
	default:
		t.Fatalf("dbtest: unknown database kind %q", kind)
	}
	d, err := db.Open(ctx, dsn, opt)
	if err != nil {
		t.Fatalf("dbtest: opening %s: %v", kind, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// NewPostgresSchema creates a private schema and returns a URL whose
// connections use it; the schema is dropped when the test ends.
func NewPostgresSchema(t testing.TB) string {
	t.Helper()
	adm, err := adminDB()
	if err != nil {
		t.Fatalf("PostgreSQL at %s does not answer (%v). Start it with:\n"+
			"  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or point TEST_DATABASE_URL at a server.", redact(PostgresURL()), err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "cg_test_" + hex.EncodeToString(b[:])
	if _, err := adm.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("dbtest: creating schema: %v", err)
	}
	t.Cleanup(func() { _, _ = adm.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(PostgresURL())
	if err != nil {
		t.Fatalf("dbtest: TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Each runs fn as a subtest on every kind of database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, kind := range Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, Open(t, kind)) })
	}
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "TEST_DATABASE_URL"
	}
	return u.Redacted()
}
