package db_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"creditgate/db"
	"creditgate/dbtest"
)

// openProxied opens the test PostgreSQL server through a proxy that can stall.
func openProxied(t *testing.T, opt db.Options) (*db.DB, *dbtest.Proxy) {
	t.Helper()
	p := dbtest.NewProxy(t, dbtest.PostgresURL())
	d, err := db.Open(context.Background(), p.URL(dbtest.NewPostgresSchema(t)), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, p
}

// A transaction whose connection stalls (the proxy stops forwarding, no
// RST) is found dead within seconds though nothing bounds its context: its
// COMMIT fails, its backend is terminated so that its row lock goes at
// once (not at idle_in_transaction_session_timeout), and the pool goes on
// with new connections.
func TestStalledConnectionIsFoundAndItsLocksGo(t *testing.T) {
	d, p := openProxied(t, db.Options{MaxOpenConns: 8})
	ctx := context.Background()
	if _, err := d.SQL.ExecContext(ctx, `CREATE TABLE stall_t (id int PRIMARY KEY, n int NOT NULL); INSERT INTO stall_t VALUES (1, 0)`); err != nil {
		t.Fatal(err)
	}
	tx1, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx1.ExecContext(ctx, `UPDATE stall_t SET n = n + 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	p.StallExisting()
	start := time.Now()
	commitErr := make(chan error, 1)
	go func() { commitErr <- tx1.Commit() }()

	// Another transaction, without a deadline either: its BEGIN may take a
	// dead idle connection (found dead like tx1's, then retried on a new
	// one); its UPDATE waits for tx1's row lock (the backend is active:
	// left alone) until tx1's backend is terminated.
	tx2, err := d.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("BEGIN while the old connections stall: %v", err)
	}
	if _, err := tx2.ExecContext(ctx, `UPDATE stall_t SET n = n + 10 WHERE id = 1`); err != nil {
		t.Fatalf("update behind the stalled transaction: %v", err)
	}
	if err := tx2.Commit(); err != nil {
		t.Fatal(err)
	}
	unlocked := time.Since(start)
	var err1 error
	select {
	case err1 = <-commitErr:
	case <-time.After(10 * time.Second):
		t.Fatal("COMMIT on the stalled connection still waiting after 10 s")
	}
	found := time.Since(start)
	if err1 == nil || !strings.Contains(err1.Error(), "stalled") {
		t.Fatalf("COMMIT on the stalled connection: %v, want the watchdog's error", err1)
	}
	t.Logf("stalled COMMIT failed after %v (%v); the row lock went after %v", found.Round(time.Millisecond), err1, unlocked.Round(time.Millisecond))
	if unlocked > 4*time.Second || found > 4*time.Second {
		t.Errorf("found after %v, lock released after %v: want within 4 s (probe after %v)", found, unlocked, db.DefaultStallProbeAfter)
	}
	var n int
	if err := d.SQL.QueryRowContext(ctx, `SELECT n FROM stall_t WHERE id = 1`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 10 {
		t.Fatalf("n = %d, want 10: the stalled transaction's COMMIT never reached the server, so it rolled back", n)
	}
	if d.StalledConns() < 1 {
		t.Fatalf("StalledConns = %d", d.StalledConns())
	}
	if err := d.Ready(ctx); err != nil {
		t.Fatalf("Ready after recovery: %v", err)
	}
}

// While the database stalls entirely (old and new connections accepted but
// never answered), every call returns within its context's deadline plus a
// small margin, and Ready fails; once new connections work again the pool
// replaces its dead ones and Ready passes.
func TestDeadlinesHoldWhileTheDatabaseStalls(t *testing.T) {
	d, p := openProxied(t, db.Options{MaxOpenConns: 8})
	ctx := context.Background()
	// Some idle connections, and a prepared statement on them.
	conns := make([]*sql.Conn, 4)
	for i := range conns {
		c, err := d.SQL.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
	}
	st, err := d.SQL.PrepareContext(ctx, `SELECT $1::int + 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, c := range conns {
		tx, err := c.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.StmtContext(ctx, st).QueryRowContext(ctx, 1).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	p.StallAll()
	const timeout = time.Second
	const margin = 1200 * time.Millisecond // the grace on the socket, lib/pq's cancel request
	calls := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"prepared query", func(ctx context.Context) error {
			var n int
			return st.QueryRowContext(ctx, 1).Scan(&n)
		}},
		{"BEGIN", func(ctx context.Context) error {
			tx, err := d.SQL.BeginTx(ctx, nil)
			if err == nil {
				tx.Rollback()
			}
			return err
		}},
		{"query", func(ctx context.Context) error {
			_, err := d.SQL.ExecContext(ctx, `SELECT 1`)
			return err
		}},
		{"Ready", d.Ready},
	}
	for _, c := range calls {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		start := time.Now()
		err := c.run(ctx)
		took := time.Since(start)
		cancel()
		t.Logf("%s while stalled: %v after %v", c.name, err, took.Round(time.Millisecond))
		if err == nil {
			t.Errorf("%s succeeded through a stalled proxy", c.name)
		}
		if took > timeout+margin {
			t.Errorf("%s took %v, want at most %v + %v", c.name, took, timeout, margin)
		}
	}
	// A fresh connection of the pool, opened while stalled, with no deadline:
	// its handshake is bounded too (not tested here: 10 s).

	p.Heal()
	start := time.Now()
	for {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := d.Ready(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("still not ready 10 s after the network healed: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ready %v after the network healed", time.Since(start).Round(time.Millisecond))
	if _, err := d.SQL.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
}

// Reset connections fail at once and the pool reconnects.
func TestDroppedConnectionsReconnect(t *testing.T) {
	d, p := openProxied(t, db.Options{MaxOpenConns: 4})
	ctx := context.Background()
	if _, err := d.SQL.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	p.Drop()
	start := time.Now()
	if _, err := d.SQL.ExecContext(ctx, `SELECT 1`); err != nil {
		var op *net.OpError
		t.Fatalf("after a reset: %v (net error: %v)", err, errors.As(err, &op))
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("reconnect took %v", took)
	}
}
