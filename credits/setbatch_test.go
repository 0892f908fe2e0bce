package credits_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/auditevent"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/gid"
)

// A batch of plain debits of one balance (payments and purchases) runs in
// one pass without savepoints (set-based on PostgreSQL): each request gets
// its own posting, with the running balance its place in the batch gives
// it, its own answer (the balance it left), its invoice linked, its key's
// record and exactly one audit event; a replayed key in a later batch
// answers the same transaction and writes nothing.
func TestBatchOfPlainDebits(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "100")
			sms := w.service("SMS", "2")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)
			var runs []bool
			w.svc.SetOnBatchRun(func(savepoints bool) { runs = append(runs, savepoints) })

			const n = 6
			invs := make([]*ent.Invoice, n)
			keys := make([]*string, n)
			rs := make([]result, n)
			left := make([]int64, n) // the balance each answer says it left
			// A second early: PostgreSQL keeps microseconds.
			start := time.Now().Add(-time.Second)
			b := newBatch(t, w, acc)
			for i := range n {
				keys[i] = ptr(fmt.Sprintf("k-%d", i))
				i := i
				if i%2 == 0 {
					invs[i] = w.invoice(acc, fmt.Sprintf("INV-%d", i), "3")
					b.add(&rs[i], func() (gid.ID, error) {
						p, err := w.svc.PayInvoiceWithCredit(ctx, invs[i].ID, keys[i])
						if err != nil {
							return "", err
						}
						left[i] = p.Balance.Available
						return p.Transaction.ID, nil
					})
				} else {
					b.add(&rs[i], func() (gid.ID, error) {
						p, err := w.svc.BuyServiceWithCredit(ctx, sms.ID, nil, 1, keys[i])
						if err != nil {
							return "", err
						}
						left[i] = p.Balance.Available
						return p.Transaction.ID, nil
					})
				}
			}
			b.run()
			if !slices.Equal(runs, []bool{false}) {
				t.Fatalf("runs with savepoints %v, want one run without", runs)
			}
			// 100 - 3 - 2 - 3 - 2 - 3 - 2, in the order of the batch.
			want := int64(100 * 1_000_000)
			seen := map[gid.ID]bool{}
			for i, r := range rs {
				if r.err != nil {
					t.Fatalf("request %d: %v", i, r.err)
				}
				if seen[r.tx] {
					t.Fatalf("request %d: transaction %s answered twice", i, r.tx)
				}
				seen[r.tx] = true
				if i%2 == 0 {
					want -= 3_000_000
				} else {
					want -= 2_000_000
				}
				p, err := w.db.Client.Posting.Query().Where(posting.ID(r.tx)).Only(w.sys())
				w.check(err)
				if p.RunningBalance == nil || *p.RunningBalance != want || left[i] != want {
					t.Fatalf("request %d: running balance %v, answer %d, want %d", i, p.RunningBalance, left[i], want)
				}
				if invs[i] != nil {
					inv, err := w.db.Client.Invoice.Query().Where(invoice.ID(invs[i].ID)).Only(w.sys())
					w.check(err)
					if inv.Status != invoice.StatusPAID || inv.TransactionID == nil || *inv.TransactionID != r.tx {
						t.Fatalf("invoice %d: %s, transaction %v, want PAID by %s", i, inv.Status, inv.TransactionID, r.tx)
					}
					// Paid when the batch ran: set with the link on PostgreSQL
					// (Link.Also), by its own UPDATE on SQLite.
					if inv.PaidAt == nil || inv.PaidAt.Before(start) || inv.PaidAt.After(time.Now()) {
						t.Fatalf("invoice %d: paid at %v, want between %v and now", i, inv.PaidAt, start)
					}
				}
			}
			if got := w.available(acc); got != want {
				t.Fatalf("balance %d, want %d", got, want)
			}
			audits := func() int {
				c, err := w.db.Client.AuditEvent.Query().Where(auditevent.ActionIn("payInvoiceWithCredit", "buyServiceWithCredit")).Count(w.sys())
				w.check(err)
				return c
			}
			if got := audits(); got != n {
				t.Fatalf("%d audit events, want %d", got, n)
			}
			// On PostgreSQL they rode along as one array per column
			// (ledger.Row.Types): each has what a lone request writes.
			evs, err := w.db.Client.AuditEvent.Query().Where(auditevent.ActionIn("payInvoiceWithCredit", "buyServiceWithCredit")).All(w.sys())
			w.check(err)
			for _, e := range evs {
				if e.AgencyID == nil || *e.AgencyID != w.agency.ID || e.AccountID == nil || *e.AccountID != acc.ID ||
					e.Actor == "" || e.Role == nil || *e.Role == "" || e.Summary == "" || time.Since(e.CreatedAt).Abs() > time.Minute {
					t.Fatalf("audit event %+v: want the agency, the account, an actor, a role, a summary and the time of now", e)
				}
			}

			// Replays of two keys beside a new debit: same transactions, nothing more written.
			var again [3]result
			b = newBatch(t, w, acc)
			b.add(&again[0], w.payFn(ctx, invs[0], keys[0]))
			b.add(&again[1], w.buyFn(ctx, sms, 1, keys[1]))
			b.add(&again[2], w.buyFn(ctx, sms, 1, ptr("k-new")))
			b.run()
			if again[0].err != nil || again[0].tx != rs[0].tx || again[1].err != nil || again[1].tx != rs[1].tx || again[2].err != nil {
				t.Fatalf("replays: %+v, want %s and %s, and a new one", again, rs[0].tx, rs[1].tx)
			}
			if got := w.available(acc); got != want-2_000_000 {
				t.Fatalf("balance after the replays %d, want %d", got, want-2_000_000)
			}
			if got := audits(); got != n+1 {
				t.Fatalf("%d audit events after the replays, want %d", got, n+1)
			}
			if got := w.historyLen(acc); got != n+2 { // funding, n, the new one
				t.Fatalf("history has %d transactions, want %d", got, n+2)
			}
			w.verify()
		})
	}
}

func ptr[T any](v T) *T { return &v }

// The invoices of a set-based batch of payments are turned PAID by one
// statement (ledger/gate.go); nothing may be marked without the debit that
// belongs to it. Two payments of one invoice in a batch: one pays, the
// other is refused, and the balance moves once. A replayed key whose
// invoice was reopened by a reversal, beside new payments: the replay
// answers its old transaction and its invoice stays OPEN (not PAID
// without a debit); the new payments pay their own invoices.
func TestBatchInvoiceGate(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("hot")
			w.fund(acc, "100")
			ctx := w.as(auth.RoleClientOwner, "owner", acc.ID)

			// Two payments of one invoice, and one of another.
			twice, other := w.invoice(acc, "INV-TWICE", "5"), w.invoice(acc, "INV-OTHER", "7")
			var rs [3]result
			b := newBatch(t, w, acc)
			b.add(&rs[0], w.payFn(ctx, twice, nil))
			b.add(&rs[1], w.payFn(ctx, twice, nil))
			b.add(&rs[2], w.payFn(ctx, other, ptr("k-other")))
			b.run()
			paid := 0
			for _, r := range rs[:2] {
				if r.err == nil {
					paid++
				}
			}
			if paid != 1 || rs[2].err != nil {
				t.Fatalf("payments of one invoice twice and another: %+v, want one of the first two and the third", rs)
			}
			if got := w.available(acc); got != 88_000_000 {
				t.Fatalf("balance %d, want 88.000000 (100 - 5 - 7)", got)
			}

			// Reopen the other invoice by reversing its payment, then
			// replay its key in a batch beside two new payments.
			if _, err := w.svc.ReverseTransaction(w.admin("admin"), rs[2].tx, "paid by mistake", nil); err != nil {
				t.Fatal(err)
			}
			reopened, err := w.db.Client.Invoice.Query().Where(invoice.ID(other.ID)).Only(w.sys())
			w.check(err)
			if reopened.Status != invoice.StatusOPEN {
				t.Fatalf("the reversed payment's invoice is %s, want OPEN", reopened.Status)
			}
			// A clean batch first: a lane whose last batch had a failure
			// runs its next one request by request.
			x, y := w.invoice(acc, "INV-X", "1"), w.invoice(acc, "INV-Y", "1")
			var clean [2]result
			b = newBatch(t, w, acc)
			b.add(&clean[0], w.payFn(ctx, x, nil))
			b.add(&clean[1], w.payFn(ctx, y, nil))
			b.run()
			if clean[0].err != nil || clean[1].err != nil {
				t.Fatalf("a clean batch: %+v", clean)
			}
			var runs []bool
			w.svc.SetOnBatchRun(func(savepoints bool) { runs = append(runs, savepoints) })
			a, c := w.invoice(acc, "INV-A", "1"), w.invoice(acc, "INV-C", "2")
			var again [3]result
			b = newBatch(t, w, acc)
			b.add(&again[0], w.payFn(ctx, a, nil))
			b.add(&again[1], w.payFn(ctx, other, ptr("k-other")))
			b.add(&again[2], w.payFn(ctx, c, nil))
			b.run()
			if again[0].err != nil || again[2].err != nil || again[1].err != nil || again[1].tx != rs[2].tx {
				t.Fatalf("a replay beside two payments: %+v, want the replay to answer %s", again, rs[2].tx)
			}
			st, err := w.db.Client.Invoice.Query().Where(invoice.ID(other.ID)).Only(w.sys())
			w.check(err)
			if st.Status != invoice.StatusOPEN {
				t.Fatalf("the replayed payment's reopened invoice is %s, want OPEN: marked without a debit", st.Status)
			}
			for _, inv := range []*ent.Invoice{a, c} {
				got, err := w.db.Client.Invoice.Query().Where(invoice.ID(inv.ID)).Only(w.sys())
				w.check(err)
				if got.Status != invoice.StatusPAID {
					t.Fatalf("invoice %s is %s, want PAID", inv.Number, got.Status)
				}
			}
			if got := w.available(acc); got != 90_000_000 { // 88 + 7 back - 1 - 1 - 1 - 2
				t.Fatalf("balance %d, want 90.000000", got)
			}
			if kind == "postgres" && (len(runs) < 2 || runs[0]) {
				// Set-based first; the replay's untaken invoice sends it
				// request by request.
				t.Fatalf("batch runs with savepoints %v, want a set-based run and then another", runs)
			}
			w.verify()
		})
	}
}
