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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"creditgate/credits"
	"creditgate/ent"
	"creditgate/events"
)

// BenchmarkRecordUsage is recordUsage in process on PostgreSQL, as the
// bench's usage scenarios send it (one event a call from 32 callers; 100
// events a call over consecutive accounts from 8), without HTTP and
// GraphQL: the CPU one call costs this process (go-µs/op) and the
// PostgreSQL backends of its pool and listener (pg-µs/op, from /proc, so
// other work on a shared server does not count), and its statements.
//
//	go test ./credits -run '^$' -bench RecordUsage -benchtime 3000x
func BenchmarkRecordUsage(b *testing.B) {
	for _, c := range []struct {
		name            string
		events, callers int
	}{{"single", 1, 32}, {"batch", 100, 8}} {
		b.Run(c.name, func(b *testing.B) {
			w := newWorld(b, "postgres")
			if w.db.Dialect != "postgres" {
				b.Skip("PostgreSQL only")
			}
			broker := events.NewBroker()
			w.svc.UseBroker(broker)
			ctx, cancel := context.WithCancel(context.Background())
			ready, done := make(chan struct{}), make(chan struct{})
			u, _ := url.Parse(w.db.DSN)
			q := u.Query()
			q.Set("application_name", "usagebench_"+q.Get("search_path"))
			u.RawQuery = q.Encode()
			go func() {
				defer close(done)
				_ = events.Listen(ctx, u.String(), broker, w.svc.Resync, slog.New(slog.NewTextHandler(io.Discard, nil)), ready)
			}()
			<-ready
			b.Cleanup(func() { cancel(); <-done })

			sms := w.usageService()
			accs := make([]*ent.Account, 400)
			for i := range accs {
				accs[i] = w.client(fmt.Sprintf("c%d", i))
				w.fund(accs[i], "1000")
			}
			ctxs := w.admin("ops")
			var next, keys atomic.Int64
			call := func() {
				first := int(next.Add(int64(c.events))) - c.events
				evs := make([]credits.UsageEvent, c.events)
				for i := range evs {
					evs[i] = credits.UsageEvent{AccountID: accs[(first+i)%len(accs)].ID, ServiceID: sms.ID,
						IdempotencyKey: "k" + strconv.FormatInt(keys.Add(1), 10)}
				}
				res, err := w.svc.RecordUsage(ctxs, evs)
				if err != nil {
					b.Error(err)
					return
				}
				for _, r := range res {
					if r.Err != nil {
						b.Error(r.Err)
					}
				}
			}
			// Warm: the pool's connections, what memory keeps.
			for range 2 * len(accs) / c.events {
				call()
			}
			pids := backends(b, w, "usagebench_")
			pg0, go0 := pgCPU(pids), selfCPU()
			b.ResetTimer()
			var wg sync.WaitGroup
			var n atomic.Int64
			for range c.callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for n.Add(1) <= int64(b.N) {
						call()
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(pgCPU(pids)-pg0)/float64(b.N), "pg-µs/op")
			b.ReportMetric(float64(selfCPU()-go0)/float64(b.N), "go-µs/op")
		})
	}
}

func (w *world) usageService() *ent.Service {
	w.t.Helper()
	svc, err := w.svc.CreateService(w.sys(), credits.NewService{AgencyID: &w.agency.ID, Name: "SMS", Price: "0.0075", CreditEligible: true})
	w.check(err)
	return svc
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
