package credits_test

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"creditgate/auth"
	"creditgate/ent"
)

// BenchmarkPayInvoiceSpread is payInvoiceWithCredit in process on
// PostgreSQL as the bench's pay-spread scenario sends it (32 clients, each
// paying its own invoices, over many accounts), without HTTP and GraphQL:
// the CPU one payment costs this process (go-µs/op) and the PostgreSQL
// backends of its pool and listener (pg-µs/op, from /proc, so other work
// on a shared server does not count).
//
//	go test ./credits -run '^$' -bench PayInvoiceSpread -benchtime 3000x
//
// PAYBENCH_LANES=n runs it on n debit lanes (the gateway's DEBIT_LANES).
func BenchmarkPayInvoiceSpread(b *testing.B) {
	const accounts, callers = 1000, 32
	w := newWorld(b, "postgres")
	if w.db.Dialect != "postgres" {
		b.Skip("PostgreSQL only")
	}
	if n, err := strconv.Atoi(os.Getenv("PAYBENCH_LANES")); err == nil {
		w.svc.SetDebitLanes(n) // to compare lanes (DEBIT_LANES)
	}
	w.listening(b, "paybench_")

	accs := make([]*ent.Account, accounts)
	for i := range accs {
		accs[i] = w.client(fmt.Sprintf("c%d", i))
		w.fund(accs[i], "100")
	}
	// Invoices of 0.01, round-robin over the accounts: the warm-up's and
	// the run's.
	warm := 2 * callers
	total := warm + b.N
	sys := w.sys()
	var invs []*ent.Invoice
	for len(invs) < total {
		batch := make([]*ent.InvoiceCreate, 0, 2000)
		for i := len(invs); i < min(total, len(invs)+2000); i++ {
			acc := accs[i%accounts]
			batch = append(batch, w.db.Client.Invoice.Create().SetAgencyID(w.agency.ID).SetAccountID(acc.ID).
				SetNumber(fmt.Sprintf("P-%d", i)).SetAmount(10_000).SetCurrency("USD"))
		}
		got, err := w.db.Client.Invoice.CreateBulk(batch...).Save(sys)
		w.check(err)
		invs = append(invs, got...)
	}
	ctxs := make([]context.Context, accounts)
	for i, acc := range accs {
		ctxs[i] = w.as(auth.RoleClient, "u"+string(acc.ID), acc.ID)
	}
	var next atomic.Int64
	pay := func() {
		i := int(next.Add(1)) - 1
		if _, err := w.svc.PayInvoiceWithCredit(ctxs[i%accounts], invs[i].ID, nil); err != nil {
			b.Error(err)
		}
	}
	run := func(n int) {
		var wg sync.WaitGroup
		var started atomic.Int64
		for range callers {
			wg.Add(1)
			// Labelled, so that a -cpuprofile can be narrowed to the
			// callers (and the batches they lead) with -tagfocus bench=pay,
			// leaving out the accounts' and invoices' setup.
			go pprof.Do(context.Background(), pprof.Labels("bench", "pay"), func(context.Context) {
				defer wg.Done()
				for started.Add(1) <= int64(n) {
					pay()
				}
			})
		}
		wg.Wait()
	}
	run(warm) // the pool's connections, what memory keeps
	report := cpuMeter(b, w, "paybench_")
	b.ResetTimer()
	run(b.N)
	b.StopTimer()
	report()
	w.verify()
}
