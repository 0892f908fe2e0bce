package credits_test

import (
	"fmt"
	"slices"
	"testing"

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
