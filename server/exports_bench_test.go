package main

import (
	"bufio"
	"context"
	"net/http"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/gid"
)

// exportRows is how many postings BenchmarkHistoryExportCSV exports.
const exportRows = 1_000_000

// BenchmarkHistoryExportCSV exports 1,000,000 transactions of one balance
// through the whole gateway (HTTP, JWT, domain, PostgreSQL) and reports
// the gateway's peak heap while it streams (runtime/metrics, sampled every
// 2 ms), which must stay under 50 MiB: the export holds one batch, never
// the rows. The rows are made by one INSERT ... SELECT generate_series
// that keeps the running-balance chain (and the balance row) exact. Run:
//
//	./scripts/with-postgres.sh go test ./server -run '^$' -bench BenchmarkHistoryExportCSV -benchtime 1x
func BenchmarkHistoryExportCSV(b *testing.B) {
	a := newAPI(b, "postgres")
	a.fund(a.fx.A1, "1") // the balance row and seq 1
	ctx := context.Background()
	// Odd rows buy 3.00, even rows spend 1.00: after row g (seq g+1) the
	// balance is 1.00 + 3.00·ceil(g/2) − 1.00·floor(g/2).
	jid := gid.New(gid.Journal)
	if _, err := a.db.SQL.ExecContext(ctx, `INSERT INTO journals (id, created_at, agency_id) VALUES ($1, now(), $2)`, jid, a.fx.AgencyA); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	_, err := a.db.SQL.ExecContext(ctx, `
		INSERT INTO postings (id, created_at, journal_id, agency_id, account_id, book, kind, reference, currency, amount, actor, running_balance, seq)
		SELECT 'txn_bench' || g, now() + g * interval '1 millisecond', $1, $2, $3, '',
			CASE WHEN g % 2 = 1 THEN 'PURCHASE' ELSE 'USAGE' END,
			CASE WHEN g % 1000 = 0 THEN '=cmd|calc' ELSE 'ref ' || g END,
			'USD',
			CASE WHEN g % 2 = 1 THEN 3000000 ELSE -1000000 END,
			'system',
			1000000 + 3000000 * ((g + 1) / 2) - 1000000 * (g / 2),
			g + 1
		FROM generate_series(1, $4::bigint) g`, jid, a.fx.AgencyA, a.fx.A1, exportRows)
	if err != nil {
		b.Fatal(err)
	}
	final := int64(1000000 + 3000000*((exportRows+1)/2) - 1000000*(exportRows/2))
	if _, err := a.db.SQL.ExecContext(ctx, `UPDATE balances SET seq = $1, available = $2 WHERE account_id = $3 AND currency = 'USD'`,
		exportRows+1, final, a.fx.A1); err != nil {
		b.Fatal(err)
	}
	if _, err := a.db.SQL.ExecContext(ctx, `ANALYZE postings`); err != nil {
		b.Fatal(err)
	}
	b.Logf("inserted %d postings in %s", exportRows, time.Since(start).Round(time.Millisecond))
	tok := a.owner()

	var peak uint64
	for b.Loop() {
		runtime.GC()
		var maxHeap atomic.Uint64
		stop, sampled := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sampled)
			s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				metrics.Read(s)
				if v := s[0].Value.Uint64(); v > maxHeap.Load() {
					maxHeap.Store(v)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/exports/history.csv", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		lines := 0
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines++
		}
		resp.Body.Close()
		close(stop)
		<-sampled
		if err := sc.Err(); err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("export: %d %v", resp.StatusCode, err)
		}
		if lines != exportRows+2 { // the header and the funding row
			b.Fatalf("%d lines, want %d", lines, exportRows+2)
		}
		peak = max(peak, maxHeap.Load())
	}
	mib := float64(peak) / (1 << 20)
	b.ReportMetric(mib, "peak-heap-MiB")
	b.ReportMetric(float64(exportRows), "rows")
	if mib >= 50 {
		b.Fatalf("peak heap %.1f MiB while exporting %d rows: want under 50 MiB", mib, exportRows)
	}
}
