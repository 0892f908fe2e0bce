package credits_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/posting"
)

// TestHistoryRowsAsEntReadsThem: a history page is read by hand-written
// SQL; each row must hold every field ent would have read (nullable ones
// null or set alike), through the client's own fast path, an admin's
// general path and a direction filter, on both databases; read for fewer
// columns (WithHistoryUse), the fields of those columns and nothing else.
func TestHistoryRowsAsEntReadsThem(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newLedgerWorld(t, kind, date(2026, 3, 1, 9))
			w.fund(w.acc, "100")
			w.buy(3)
			out := w.adjust(false, "2.5")
			w.adjust(true, "1")
			w.reverse(out)
			w.buy(1)

			want, err := w.db.Client.Posting.Query().Where(posting.AccountID(w.acc.ID)).Order(ent.Desc(posting.FieldSeq)).All(w.sys())
			w.check(err)
			first := 100
			own := w.as(auth.RoleClientOwner, "owner", w.acc.ID)
			pages := map[string][]*ent.Posting{}
			p, err := w.svc.HistoryOf(own, nil, nil, nil, credits.PageArgs{First: &first})
			w.check(err)
			pages["own"] = p.Items
			p, err = w.svc.HistoryOf(w.admin("admin"), &w.acc.ID, nil, nil, credits.PageArgs{First: &first})
			w.check(err)
			pages["admin"] = p.Items
			out2 := credits.Out
			p, err = w.svc.HistoryOf(own, nil, nil, &out2, credits.PageArgs{First: &first})
			w.check(err)
			pages["out"] = p.Items
			columns := map[string]credits.HistoryColumns{}
			for _, c := range []credits.HistoryColumns{credits.HistorySummary, credits.HistoryDetail} {
				name := fmt.Sprintf("own, columns %d", c)
				p, err = w.svc.HistoryOf(credits.WithHistoryUse(own, credits.HistoryUse{Columns: c}), nil, nil, nil, credits.PageArgs{First: &first})
				w.check(err)
				pages[name], columns[name] = p.Items, c
				name = fmt.Sprintf("admin out, columns %d", c)
				p, err = w.svc.HistoryOf(credits.WithHistoryUse(w.admin("admin"), credits.HistoryUse{Columns: c}), &w.acc.ID, nil, &out2, credits.PageArgs{First: &first})
				w.check(err)
				pages[name], columns[name] = p.Items, c
			}

			var debits []*ent.Posting
			for _, r := range want {
				if r.Amount < 0 {
					debits = append(debits, r)
				}
			}
			for name, got := range pages {
				exp := want
				if name == "out" || strings.HasPrefix(name, "admin out") {
					exp = debits
				}
				if len(got) != len(exp) || len(exp) < 3 {
					t.Fatalf("%s: %d rows, want %d", name, len(got), len(exp))
				}
				for i := range exp {
					if g, e := rowOf(got[i]), narrowed(rowOf(exp[i]), columns[name]); g != e {
						t.Errorf("%s row %d:\n got %+v\nwant %+v", name, i, g, e)
					}
					if got[i].Edges.Account == nil || got[i].Edges.Account.ID != w.acc.ID {
						t.Errorf("%s row %d: account edge not set", name, i)
					}
				}
			}
		})
	}
}

// postingRow is a posting's columns, pointers dereferenced ("<nil>" for
// a null).
type postingRow struct {
	ID, Journal, Agency, Account, Book, Kind, Reference, Currency, Actor string
	Amount                                                               int64
	Created                                                              time.Time
	RB, Seq, Qty, Service, Variant, Hold, Reason, Reverses, Payment      string
}

func rowOf(p *ent.Posting) postingRow {
	return postingRow{ID: string(p.ID), Journal: string(p.JournalID), Agency: string(p.AgencyID), Account: show(p.AccountID),
		Book: p.Book, Kind: string(p.Kind), Reference: p.Reference, Currency: p.Currency, Actor: p.Actor, Amount: p.Amount,
		Created: p.CreatedAt.UTC(), RB: show(p.RunningBalance), Seq: show(p.Seq), Qty: show(p.Quantity),
		Service: show(p.ServiceID), Variant: show(p.Variant), Hold: show(p.HoldID), Reason: show(p.Reason),
		Reverses: show(p.ReversesID), Payment: show(p.PaymentID)}
}

// narrowed is r as a page read for cols holds it: the fields of other
// columns zero.
func narrowed(r postingRow, cols credits.HistoryColumns) postingRow {
	if cols == credits.HistoryAll {
		return r
	}
	n := postingRow{ID: r.ID, Agency: r.Agency, Account: r.Account, Currency: r.Currency, Amount: r.Amount, Created: r.Created,
		RB: r.RB, Seq: r.Seq, Qty: "<nil>", Service: "<nil>", Variant: "<nil>", Hold: "<nil>", Reason: "<nil>", Reverses: "<nil>", Payment: "<nil>"}
	if cols == credits.HistoryDetail {
		n.Kind, n.Reference, n.Actor, n.Variant, n.Qty, n.Reason = r.Kind, r.Reference, r.Actor, r.Variant, r.Qty, r.Reason
	}
	return n
}

func show[T any](v *T) string {
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprint(*v)
}

// TestHistoryPagesKnowWhetherMoreFollow: an unfiltered page reads only
// its own rows and says whether a next page exists from the balance's
// sequence (gapless); at every page size, on the client's own path (kept
// balance) and an admin's (balance read), walking the cursors must visit
// each posting once, newest first, with hasNext false exactly on the last
// page, as the filtered path (one row read past the page) says it.
func TestHistoryPagesKnowWhetherMoreFollow(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newLedgerWorld(t, kind, date(2026, 3, 1, 9))
			w.fund(w.acc, "100")
			for range 5 {
				w.buy(1)
			}
			const n = 6 // the top-up and five purchases
			own := w.as(auth.RoleClientOwner, "owner", w.acc.ID)
			for _, who := range []struct {
				name string
				walk func(first int, after *string) *credits.Page[*ent.Posting]
			}{
				{"own", func(first int, after *string) *credits.Page[*ent.Posting] {
					p, err := w.svc.HistoryOf(own, nil, nil, nil, credits.PageArgs{First: &first, After: after})
					w.check(err)
					return p
				}},
				{"admin", func(first int, after *string) *credits.Page[*ent.Posting] {
					p, err := w.svc.HistoryOf(w.admin("admin"), &w.acc.ID, nil, nil, credits.PageArgs{First: &first, After: after})
					w.check(err)
					return p
				}},
			} {
				for first := 0; first <= n+1; first++ {
					p := who.walk(first, nil)
					if want := first < n; p.HasNext != want || len(p.Items) != min(first, n) {
						t.Fatalf("%s, first %d: %d rows, hasNext %v; want %d, %v", who.name, first, len(p.Items), p.HasNext, min(first, n), want)
					}
					if first == 0 {
						continue
					}
					seq := int64(n)
					for page := 0; ; page++ {
						for _, r := range p.Items {
							if *r.Seq != seq {
								t.Fatalf("%s, first %d, page %d: seq %d, want %d", who.name, first, page, *r.Seq, seq)
							}
							seq--
						}
						if want := seq > 0; p.HasNext != want {
							t.Fatalf("%s, first %d, page %d: hasNext %v with %d rows left", who.name, first, page, p.HasNext, seq)
						}
						if !p.HasNext {
							break
						}
						p = who.walk(first, &p.Cursors[len(p.Cursors)-1])
					}
					if seq != 0 {
						t.Fatalf("%s, first %d: %d rows never shown", who.name, first, seq)
					}
				}
			}
		})
	}
}
