package main

import (
	"testing"
)

// What a client's own history page costs the database: ONE statement, the
// page's rows, once its balance is kept in memory (the page ends at the
// balance's seq, which bounds it as the database's row would). Nothing
// else is read: no count (the balance's seq is it), no probe for a next
// page beyond the page's own statement, no account or scope lookup. A
// payment through the same instance is on the next page at once.
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
	})
}
