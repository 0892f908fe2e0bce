package credits_test

import (
	"context"
	"fmt"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/credits"
	"creditgate/ent"
)

// BenchmarkRecordUsage is recordUsage in process on PostgreSQL, as the
// bench's usage scenarios send it (one event a call from 32 callers; 100
// events a call over consecutive accounts from 8), without HTTP and
// GraphQL: the CPU one call costs this process (go-µs/op) and the
// PostgreSQL backends of its pool and listener (pg-µs/op, from /proc, so
// other work on a shared server does not count), and its statements; and
// the latency of a call (p50-ms, p99-ms), where the wait for the group in
// flight shows.
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
			w.listening(b, "usagebench_")

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
			report := cpuMeter(b, w, "usagebench_")
			b.ResetTimer()
			var wg sync.WaitGroup
			var n atomic.Int64
			lat := make([][]time.Duration, c.callers) // each caller's calls' latencies
			for i := range c.callers {
				wg.Add(1)
				// Labelled, so that a -cpuprofile can be narrowed to the
				// timed calls (and the groups they lead) with -tagfocus
				// bench=usage, leaving out the accounts' setup and the
				// warm-up.
				go pprof.Do(context.Background(), pprof.Labels("bench", "usage"), func(context.Context) {
					defer wg.Done()
					for n.Add(1) <= int64(b.N) {
						t0 := time.Now()
						call()
						lat[i] = append(lat[i], time.Since(t0))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			report()
			all := slices.Concat(lat...)
			slices.Sort(all)
			b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

func (w *world) usageService() *ent.Service {
	w.t.Helper()
	svc, err := w.svc.CreateService(w.sys(), credits.NewService{AgencyID: &w.agency.ID, Name: "SMS", Price: "0.0075", CreditEligible: true})
	w.check(err)
	return svc
}
