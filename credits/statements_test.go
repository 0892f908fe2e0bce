package credits_test

import (
	"fmt"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/money"
)

// ledgerWorld is a world whose clock the test moves, and what it posted.
type ledgerWorld struct {
	*world
	now  time.Time
	acc  *ent.Account
	svc1 *ent.Service // 1.25 a unit
}

func newLedgerWorld(t *testing.T, kind string, start time.Time) *ledgerWorld {
	w := &ledgerWorld{world: newWorld(t, kind), now: start}
	w.svc.SetClock(func() time.Time { return w.now })
	w.acc = w.client("Statements client")
	w.acc.Edges.Agency = w.agency
	w.svc1 = w.service("SMS pack", "1.25")
	return w
}

func (w *ledgerWorld) buy(qty int) *ent.Posting {
	w.t.Helper()
	p, err := w.svc.BuyServiceWithCredit(w.as(auth.RoleClientOwner, "owner", w.acc.ID), w.svc1.ID, nil, qty, nil)
	w.check(err)
	return p.Transaction
}

func (w *ledgerWorld) adjust(in bool, amount string) *ent.Posting {
	w.t.Helper()
	c, err := w.svc.AdjustBalance(w.admin("admin"), credits.Adjustment{AccountID: w.acc.ID, In: in, Amount: money.Decimal(amount), Reason: "test"})
	w.check(err)
	return c.Transaction
}

func (w *ledgerWorld) reverse(p *ent.Posting) {
	w.t.Helper()
	_, err := w.svc.ReverseTransaction(w.admin("admin"), p.ID, "refund of a mistake", nil)
	w.check(err)
}

// total is the account's balance (available + held) now.
func (w *ledgerWorld) total() int64 {
	w.t.Helper()
	b, err := w.svc.Balance(w.sys(), w.acc, nil)
	w.check(err)
	return b.Available + b.Held
}

func (w *ledgerWorld) history(f credits.HistoryFilter, first int, after *string) *credits.Page[*ent.Posting] {
	w.t.Helper()
	p, err := w.svc.HistoryWhere(w.sys(), &w.acc.ID, nil, f, credits.PageArgs{First: &first, After: after})
	w.check(err)
	return p
}

// walk pages through history under f, `first` at a time, and returns every
// row in order, checking totalCount on every page.
func (w *ledgerWorld) walk(f credits.HistoryFilter, first int) []*ent.Posting {
	w.t.Helper()
	var all []*ent.Posting
	var after *string
	total := -1
	for range 100 {
		p := w.history(f, first, after)
		if total >= 0 && p.Total != total {
			w.t.Fatalf("totalCount changed between pages: %d then %d", total, p.Total)
		}
		total = p.Total
		all = append(all, p.Items...)
		if !p.HasNext {
			if len(all) != total {
				w.t.Fatalf("walked %d rows, totalCount %d", len(all), total)
			}
			return all
		}
		after = &p.Cursors[len(p.Cursors)-1]
	}
	w.t.Fatal("history does not end")
	return nil
}

func date(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

// TestStatementsHistoryFiltersOverThreeMonths: three months of generated
// history; each month's statement closes at balance.total at the month's
// end and the next opens there; in and out match what was posted;
// history's from/to/kind filters page through exactly the right rows.
func TestStatementsHistoryFiltersOverThreeMonths(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newLedgerWorld(t, kind, date(2026, 1, 1, 0))
			type month struct {
				in, out int64
				n       int
				start   int64 // balance.total when the month began
			}
			var months [4]month
			months[0].start = w.total()
			var spent []*ent.Posting
			var all int
			// Each month: a purchase, spending every few days, an adjustment.
			for m := range 3 {
				mm := &months[m]
				w.now = date(2026, time.January+time.Month(m), 1, 0)
				if m > 0 {
					mm.start = w.total()
				}
				w.now = w.now.Add(3 * time.Hour)
				w.fund(w.acc, "100")
				mm.in += 100_000_000
				for d := 2; d < 28; d += 3 {
					w.now = date(2026, time.January+time.Month(m), d, 10+m)
					spent = append(spent, w.buy(d%4+1))
					mm.out += int64(d%4+1) * 1_250_000
					mm.n++
				}
				w.now = date(2026, time.January+time.Month(m), 28, 12)
				if m == 1 {
					w.reverse(spent[len(spent)-2]) // a REVERSAL: IN
					mm.in += -spent[len(spent)-2].Amount
					mm.n++
				}
				w.adjust(false, "2.5")
				mm.out += 2_500_000
				mm.n += 2 // the purchase and the adjustment
				all += mm.n
			}
			w.now = date(2026, 4, 1, 0)
			months[3].start = w.total()
			w.now = date(2026, 4, 2, 8)

			var prevClosing int64
			for m := range 3 {
				name := fmt.Sprintf("2026-%02d", m+1)
				st, err := w.svc.StatementOf(w.sys(), &w.acc.ID, nil, name)
				w.check(err)
				want := months[m]
				if st.Opening != want.start || st.Closing != months[m+1].start {
					t.Errorf("%s: opening %d closing %d, want %d and balance.total at the month's end %d", name, st.Opening, st.Closing, want.start, months[m+1].start)
				}
				if st.Opening != prevClosing {
					t.Errorf("%s opens at %d, the previous month closed at %d", name, st.Opening, prevClosing)
				}
				if st.In != want.in || st.Out != want.out || st.TransactionCount != want.n {
					t.Errorf("%s: in %d out %d count %d, want %d %d %d", name, st.In, st.Out, st.TransactionCount, want.in, want.out, want.n)
				}
				if !st.From.Equal(date(2026, time.January+time.Month(m), 1, 0)) || !st.To.Equal(st.From.AddDate(0, 1, 0)) {
					t.Errorf("%s: period %s..%s", name, st.From, st.To)
				}
				prevClosing = st.Closing

				// history over the month: the same rows the statement counts.
				from, to := st.From, st.To
				rows := w.walk(credits.HistoryFilter{From: &from, To: &to}, 4)
				if len(rows) != want.n {
					t.Errorf("%s: history from/to has %d rows, want %d", name, len(rows), want.n)
				}
				for i, r := range rows {
					if r.CreatedAt.Before(from) || !r.CreatedAt.Before(to) {
						t.Errorf("%s: row at %s outside the window", name, r.CreatedAt)
					}
					if i > 0 && *r.Seq >= *rows[i-1].Seq {
						t.Errorf("%s: rows not newest first", name)
					}
				}
			}
			// An empty future-less month before any posting: zero, zero.
			st, err := w.svc.StatementOf(w.sys(), &w.acc.ID, nil, "2025-12")
			w.check(err)
			if st.Opening != 0 || st.Closing != 0 || st.TransactionCount != 0 {
				t.Errorf("2025-12: %+v, want an empty statement", st)
			}
			// The current month is allowed; the next is not.
			if _, err := w.svc.StatementOf(w.sys(), &w.acc.ID, nil, "2026-04"); err != nil {
				t.Errorf("the current month: %v", err)
			}
			for _, bad := range []string{"2026-05", "2026-4", "2026-13", "April", "2026-04-01", ""} {
				if _, err := w.svc.StatementOf(w.sys(), &w.acc.ID, nil, bad); codeOf(err) != credits.CodeBadInput {
					t.Errorf("month %q: %v, want BAD_USER_INPUT", bad, err)
				}
			}

			// Filters: from only, to only, kinds, kinds with a window and a
			// direction, paging across filtered pages.
			feb, mar := date(2026, 2, 1, 0), date(2026, 3, 1, 0)
			if n := len(w.walk(credits.HistoryFilter{From: &feb}, 7)); n != months[1].n+months[2].n {
				t.Errorf("from February: %d rows, want %d", n, months[1].n+months[2].n)
			}
			if n := len(w.walk(credits.HistoryFilter{To: &feb}, 100)); n != months[0].n {
				t.Errorf("to February: %d rows, want %d", n, months[0].n)
			}
			sp := w.walk(credits.HistoryFilter{Kinds: []posting.Kind{posting.KindSERVICE_PURCHASE}}, 4)
			if len(sp) != len(spent) {
				t.Errorf("kind SERVICE_PURCHASE: %d rows, want %d", len(sp), len(spent))
			}
			two := w.walk(credits.HistoryFilter{Kinds: []posting.Kind{posting.KindREVERSAL, posting.KindADJUSTMENT, posting.KindREVERSAL}, From: &feb, To: &mar}, 1)
			if len(two) != 2 || two[0].Kind != posting.KindADJUSTMENT || two[1].Kind != posting.KindREVERSAL {
				t.Errorf("kinds REVERSAL, ADJUSTMENT in February: %v", kinds(two))
			}
			in := credits.In
			ins := w.walk(credits.HistoryFilter{Direction: &in, Kinds: []posting.Kind{posting.KindADJUSTMENT, posting.KindPURCHASE}}, 2)
			if len(ins) != 3 {
				t.Errorf("IN purchases and adjustments: %v, want the 3 purchases", kinds(ins))
			}
			mixed := w.walk(credits.HistoryFilter{Kinds: []posting.Kind{posting.KindPURCHASE, posting.KindSERVICE_PURCHASE}, From: &feb}, 3)
			if len(mixed) != 2+2*9 {
				t.Errorf("purchases and service purchases since February: %d", len(mixed))
			}
			for i := 1; i < len(mixed); i++ {
				if *mixed[i].Seq >= *mixed[i-1].Seq {
					t.Fatalf("merged kinds out of order: %v", kinds(mixed))
				}
			}
			quiet, quieter := date(2026, 3, 29, 0), date(2026, 3, 31, 0)
			if n := len(w.walk(credits.HistoryFilter{From: &quiet, To: &quieter}, 5)); n != 0 {
				t.Errorf("a window without postings: %d rows", n)
			}
			for name, f := range map[string]credits.HistoryFilter{
				"to before from": {From: &mar, To: &feb},
				"to equal from":  {From: &feb, To: &feb},
				"unknown kind":   {Kinds: []posting.Kind{"GIFT"}},
			} {
				first := 5
				_, err := w.svc.HistoryWhere(w.sys(), &w.acc.ID, nil, f, credits.PageArgs{First: &first})
				if codeOf(err) != credits.CodeBadInput {
					t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
				}
			}
			if all != w.historyLen(w.acc) {
				t.Errorf("posted %d, history holds %d", all, w.historyLen(w.acc))
			}
			w.verify()
		})
	}
}

func kinds(ps []*ent.Posting) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Kind.String())
	}
	return out
}

// TestRunway: null without spending; then the numbers for a known
// pattern: spending in the last 30 days counts, less its reversals;
// spending before the window, adjustments and purchases do not.
func TestRunway(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newLedgerWorld(t, kind, date(2026, 3, 1, 9))
			runway := func() *credits.Runway {
				t.Helper()
				b, err := w.svc.Balance(w.sys(), w.acc, nil)
				w.check(err)
				r, err := w.svc.RunwayOf(w.sys(), b)
				w.check(err)
				return r
			}
			if r := runway(); r != nil {
				t.Fatalf("a balance that never moved: %+v", r)
			}
			w.fund(w.acc, "500")
			w.adjust(false, "10") // not spending
			if r := runway(); r != nil {
				t.Fatalf("no spending yet: %+v", r)
			}
			w.buy(8) // 10.00 on 1 March: out of the window by April
			w.now = date(2026, 4, 1, 10)
			if r := runway(); r != nil {
				t.Fatalf("the only spending is 31 days old: %+v", r)
			}
			// 20 days of 3 units (3.75) a day: 75.00; one day reversed.
			var last *ent.Posting
			for d := range 20 {
				w.now = date(2026, 4, 2+d, 10)
				last = w.buy(3)
			}
			w.reverse(last)
			w.now = date(2026, 4, 25, 12)
			r := runway()
			if r == nil {
				t.Fatal("no runway after 20 days of spending")
			}
			b, err := w.svc.Balance(w.sys(), w.acc, nil)
			w.check(err)
			spent := int64(19 * 3_750_000) // 71.25 over 30 days
			if b.Available != 500_000_000-10_000_000-10_000_000-spent {
				t.Fatalf("available %d", b.Available)
			}
			if r.AverageDailySpend != spent/30 { // 2.375 a day
				t.Errorf("average %d, want %d", r.AverageDailySpend, spent/30)
			}
			wantDays := int(b.Available * 30 / spent) // 408.75 / 2.375 = 172.1
			if r.DaysLeft != wantDays || wantDays != 172 {
				t.Errorf("days left %d, want %d", r.DaysLeft, wantDays)
			}
			wantAt := w.now.Add(time.Duration(b.Available*30*86400/spent) * time.Second)
			if !r.RunsOutAt.Equal(wantAt) {
				t.Errorf("runs out at %s, want %s", r.RunsOutAt, wantAt)
			}
			w.verify()
		})
	}
}
