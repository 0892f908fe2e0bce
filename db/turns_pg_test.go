package db_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"creditgate/db"
	"creditgate/dbtest"
)

// Reads on a busy pool are served in the order they came (turns.go), not
// in database/sql's random order: with the pool's one connection held,
// twenty reads queue one after another; once it is freed they run, and
// answer, in that order. (Without the turns, all twenty would wait in
// database/sql's queue and a freed connection would go to any of them:
// tried, they answered as 14 9 19 8 4 ...)
func TestPoolReadsAreServedInOrder(t *testing.T) {
	d := dbtest.OpenWith(t, "postgres", db.Options{MaxOpenConns: 1})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hold, err := d.SQL.Conn(ctx) // the pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var (
		mu    sync.Mutex
		order []int
		wg    sync.WaitGroup
	)
	waits := d.SQL.Stats().WaitCount
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rows, err := d.Client.QueryContext(ctx, `SELECT $1::int8`, i)
			if err != nil {
				t.Error(err)
				return
			}
			defer rows.Close()
			var v int64
			if !rows.Next() || rows.Scan(&v) != nil || v != int64(i) {
				t.Errorf("read %d: got %d, %v", i, v, rows.Err())
			}
			mu.Lock()
			order = append(order, i) // before rows.Close frees the connection
			mu.Unlock()
		}()
		for end := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			// The first waits for the connection in database/sql's queue,
			// the rest for their turn behind it.
			if i == 0 && d.SQL.Stats().WaitCount > waits || i > 0 && db.QueuedTurns(d) == i {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("read %d never queued", i)
			}
		}
	}
	if err := hold.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("reads answered in the order %v", order)
		}
	}
	if len(order) != n {
		t.Fatalf("%d of %d reads answered", len(order), n)
	}
	// Every turn came back: rows give theirs when closed, an Exec (and a
	// read that failed) when it returns.
	if _, err := d.Client.ExecContext(ctx, `SELECT $1::int8`, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Client.QueryContext(ctx, `SELECT nope`); err == nil {
		t.Fatal("a bad read did not fail")
	}
	if free := db.FreeTurns(d); free != 1 {
		t.Fatalf("%d turns free after the reads, want 1", free)
	}
}
