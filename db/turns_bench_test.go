package db_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/db"
	"creditgate/dbtest"
)

// BenchmarkPoolReadTail: 64 readers through a pool of 24 connections,
// each read as a history page is served (some CPU before, a 50-row read,
// some CPU after while its connection is free again), alternating every
// quarter second between turns (first come, first served) and database/sql's
// random hand-off, so that both see the same machine; it reports each
// mode's reads per second and p50/p99 latency, of the whole read and of
// its query (turn, connection and answer). Run with -benchtime 1x.
func BenchmarkPoolReadTail(b *testing.B) {
	d := dbtest.OpenWith(b, "postgres", db.Options{MaxOpenConns: 24})
	ctx := context.Background()
	if _, err := d.SQL.ExecContext(ctx, `CREATE TABLE tail_t AS SELECT g AS seq, g * 1000 AS amount, now() AS at FROM generate_series(1, 1000) g`); err != nil {
		b.Fatal(err)
	}
	spin := func(d time.Duration) { // CPU work, as the gateway's per request
		for end := time.Now().Add(d); time.Now().Before(end); {
		}
	}
	read := func() (time.Duration, error) {
		t0 := time.Now()
		rows, err := d.Client.QueryContext(ctx, `SELECT seq, amount, at::text FROM tail_t WHERE seq > $1 AND seq <= $2 ORDER BY seq DESC`, 950, 1000)
		if err != nil {
			return 0, err
		}
		wait := time.Since(t0) // the turn, the connection and the query's answer
		defer rows.Close()
		var (
			seq, amount int64
			at          string
		)
		for rows.Next() {
			if err := rows.Scan(&seq, &amount, &at); err != nil {
				return 0, err
			}
		}
		return wait, rows.Err()
	}
	const readers, slice, slices_ = 64, 250 * time.Millisecond, 40
	lat, waits := map[bool][]time.Duration{}, map[bool][]time.Duration{}
	took := map[bool]time.Duration{}
	for range b.N {
		for i := range slices_ {
			fifo := i%2 == 0
			turns := 0
			if fifo {
				turns = 24
			}
			db.SetTurns(d, turns)
			var (
				mu   sync.Mutex
				wg   sync.WaitGroup
				stop atomic.Bool
			)
			start := time.Now()
			for range readers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var mine, waited []time.Duration
					for !stop.Load() {
						t0 := time.Now()
						spin(40 * time.Microsecond)
						w, err := read()
						if err != nil {
							b.Error(err)
							return
						}
						spin(60 * time.Microsecond)
						mine, waited = append(mine, time.Since(t0)), append(waited, w)
					}
					mu.Lock()
					lat[fifo], waits[fifo] = append(lat[fifo], mine...), append(waits[fifo], waited...)
					mu.Unlock()
				}()
			}
			time.Sleep(slice)
			stop.Store(true)
			wg.Wait()
			took[fifo] += time.Since(start)
		}
	}
	for _, fifo := range []bool{true, false} {
		l := lat[fifo]
		slices.Sort(l)
		name := "random"
		if fifo {
			name = "fifo"
		}
		b.ReportMetric(float64(len(l))/took[fifo].Seconds(), name+"-reads/s")
		b.ReportMetric(float64(l[len(l)/2].Microseconds())/1000, name+"-p50-ms")
		b.ReportMetric(float64(l[len(l)*99/100].Microseconds())/1000, name+"-p99-ms")
		w := waits[fifo]
		slices.Sort(w)
		b.ReportMetric(float64(w[len(w)/2].Microseconds())/1000, name+"-query-p50-ms")
		b.ReportMetric(float64(w[len(w)*99/100].Microseconds())/1000, name+"-query-p99-ms")
	}
}
