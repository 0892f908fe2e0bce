package credits_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"creditgate/events"
)

// What the in-process benchmarks of the write paths (PayInvoiceSpread,
// RecordUsage) share: a listener like the gateway's, and the CPU of this
// process and of its own PostgreSQL backends, read from /proc so that
// other work on a shared server does not count.

// listening gives w's service a broker fed by a listener of its own, as
// the gateway runs (balance notifications are decoded and fanned out),
// named app so that backends finds its backend.
func (w *world) listening(b testing.TB, app string) {
	b.Helper()
	broker := events.NewBroker()
	w.svc.UseBroker(broker)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	u, _ := url.Parse(w.db.DSN)
	q := u.Query()
	q.Set("application_name", app+q.Get("search_path"))
	u.RawQuery = q.Encode()
	go func() {
		defer close(done)
		_ = events.Listen(ctx, u.String(), broker, w.svc.Resync, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
	}()
	<-ready
	b.Cleanup(func() { cancel(); <-done })
}

// cpuMeter starts counting; report then gives the CPU per op since, of
// the pool's and the listener's backends (pg-µs/op) and of this process
// (go-µs/op).
func cpuMeter(b *testing.B, w *world, app string) (report func()) {
	pids := backends(b, w, app)
	pg0, go0 := pgCPU(pids), selfCPU()
	return func() {
		b.ReportMetric(float64(pgCPU(pids)-pg0)/float64(b.N), "pg-µs/op")
		b.ReportMetric(float64(selfCPU()-go0)/float64(b.N), "go-µs/op")
	}
}

// backends are the pids of the pool's PostgreSQL backends (every
// connection held at once, each asked its pid) and of the listener, whose
// application_name begins with app.
func backends(b *testing.B, w *world, app string) []int {
	b.Helper()
	ctx := context.Background()
	var pids []int
	conns := make([]interface{ Close() error }, 0, 32)
	for range 32 {
		c, err := w.db.SQL.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var pid int
		if err := c.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	rows, err := w.db.SQL.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1", app+"%")
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// pgCPU is the CPU time, in µs, the processes have used (user + system).
func pgCPU(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += (ut + st) * 10_000 // clock ticks of 10 ms
	}
	return total
}

// selfCPU is this process's CPU time, in µs.
func selfCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano()/1000 + ru.Stime.Nano()/1000
}
