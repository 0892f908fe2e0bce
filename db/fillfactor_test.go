package db_test

import (
	"context"
	"testing"

	"creditgate/db"
	"creditgate/dbtest"
)

// Balances' pages keep room for their rows' next versions on PostgreSQL
// from the first open on, and an open sets the fillfactor again where it
// is missing (a database made before it, here one whose setting was reset).
func TestBalancesFillfactor(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t, "postgres")
	reloptions := func() string {
		t.Helper()
		var s string
		if err := d.SQL.QueryRowContext(ctx, `SELECT COALESCE(array_to_string(reloptions, ','), '') FROM pg_class WHERE oid = to_regclass('balances')`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if got := reloptions(); got != "fillfactor=80" {
		t.Fatalf("balances' options after the first open: %q, want fillfactor=80", got)
	}
	if _, err := d.SQL.ExecContext(ctx, `ALTER TABLE balances RESET (fillfactor)`); err != nil {
		t.Fatal(err)
	}
	for round := range 2 {
		again, err := db.Open(ctx, d.DSN, db.Options{})
		if err != nil {
			t.Fatalf("open %d: %v", round, err)
		}
		again.Close()
		if got := reloptions(); got != "fillfactor=80" {
			t.Fatalf("balances' options after open %d: %q, want fillfactor=80", round, got)
		}
	}
}
