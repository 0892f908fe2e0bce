package main

import (
	"testing"
)

// What a client's own history page costs the database: ONE statement, the
// page's rows, once its balance is kept in memory (the page ends at the
// balance's seq, which bounds it as the database's row would). Nothing
// else is read: no count (the balance's seq is it), no probe for a next
// page beyond the page's own statement, no account or scope lookup. A
// payment through the same instance is on the next page at once. A
// filtered page is counted only when its totalCount is asked.
func TestHistoryPageStatements(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "100")
		for range 59 {
			if _, err := a.svc.BuyServiceWithCredit(sys(), fx.SMS, &fx.A1, 1, nil); err != nil {
				t.Fatal(err)
			}
		}
		api, counter := rdCountingAPI(t, a)
		// The counting service follows the stream a's listener feeds, from
		// now on: every change is heard.
		api.svc.UseBroker(a.broker)
		a.broker.StreamUp()

		const q = `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`
		tok := a.client()
		page := func() (first string, statements int64) {
			t.Helper()
			var out struct {
				History struct {
					Edges []struct {
						Node struct{ ID, Type, Amount, RunningBalance, CreatedAt string }
					}
				}
			}
			counter.reset()
			rdQuery(t, api, tok, q, nil, &out)
			if len(out.History.Edges) != 50 {
				t.Fatalf("%d edges, want 50", len(out.History.Edges))
			}
			return out.History.Edges[0].Node.RunningBalance, counter.total()
		}
		page() // the first read keeps the balance
		top, n := page()
		if n != 1 {
			t.Errorf("a page: %d statements, want 1:\n%s", n, counter.statements())
		}

		var sink any
		rdQuery(t, api, tok, `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId:$s, quantity: 1}) { transaction { id } } }`,
			map[string]any{"s": fx.SMS}, &sink)
		after, n := page()
		if after == top {
			t.Errorf("the page after a purchase through this instance still starts at running balance %s", top)
		}
		if n != 1 {
			t.Errorf("a page after a purchase: %d statements, want 1:\n%s", n, counter.statements())
		}
		if n == 0 {
			t.Fatal("the counting driver saw no statement: the test is not measuring anything")
		}

		// A filtered page needs the account (kept) and its rows, and a
		// count only when totalCount is asked.
		for _, c := range []struct {
			query string
			want  int64
		}{
			{`{ history(type: OUT, first: 50) { edges { node { id amount } } } }`, 1},
			{`{ history(type: OUT, first: 50) { totalCount edges { node { id amount } } } }`, 2},
			{`{ history(kind: [SERVICE_PURCHASE], first: 50) { edges { node { id kind } } } }`, 1},
		} {
			var out struct {
				History struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
			}
			counter.reset()
			rdQuery(t, api, tok, c.query, nil, &out)
			if len(out.History.Edges) != 50 {
				t.Errorf("%s: %d edges, want 50", c.query, len(out.History.Edges))
			}
			if n := counter.total(); n != c.want {
				t.Errorf("%s: %d statements, want %d:\n%s", c.query, n, c.want, counter.statements())
			}
			if c.want == 2 && out.History.TotalCount != 60 {
				t.Errorf("%s: totalCount %d, want 60", c.query, out.History.TotalCount)
			}
		}
	})
}
