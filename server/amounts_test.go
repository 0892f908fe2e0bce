package main

// Fine amounts, through the API on both databases: credit amounts are exact
// to 6 fraction digits (an SMS at 0.0075), provider money to the currency's
// own digits, and output shows the currency's digits and more only when the
// amount has them.

import (
	"testing"

	"creditgate/credits"
	"creditgate/money"
)

func TestFineAmounts(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		sms, err := a.svc.CreateService(sys(), credits.NewService{AgencyID: &f.AgencyA, Name: "SMS US", Price: "0.0075", CreditEligible: true})
		if err != nil {
			t.Fatal(err)
		}
		a.fund(f.A1, "10")
		before := a.balance(f.A1)
		for range 3 {
			d := authzOK(t, authzCall(t, a, a.owner(), authzMService, map[string]any{"s": sms.ID, "q": 1}))
			authzWant(t, "amount", authzGet(d, "buyServiceWithCredit.transaction.amount"), "0.0075")
		}
		after := a.balance(f.A1)
		b, err := money.Parse(money.Decimal(before), "USD")
		if err != nil {
			t.Fatal(err)
		}
		want := money.Format(b-3*7500, "USD")
		if after != string(want) || !endsWith(after, ".9775") {
			t.Errorf("balance after 3 SMS at 0.0075: %s, want %s (exactly 0.0225 less than %s)", after, want, before)
		}
		// The history chains on the fine amounts.
		var h struct {
			History struct {
				Edges []struct {
					Node struct{ Amount, RunningBalance string }
				}
			}
		}
		a.gql(a.owner(), `{ history(first: 1) { edges { node { amount runningBalance } } } }`, nil).decode(t, &h)
		if n := h.History.Edges[0].Node; n.Amount != "0.0075" || n.RunningBalance != after {
			t.Errorf("newest row: %+v, want 0.0075 and %s", n, after)
		}
		// A service bought in a quantity: price x quantity, exactly.
		d := authzOK(t, authzCall(t, a, a.owner(), authzMService, map[string]any{"s": sms.ID, "q": 7}))
		authzWant(t, "7 x 0.0075", authzGet(d, "buyServiceWithCredit.transaction.amount"), "0.0525")

		// Refused: a seventh fraction digit anywhere, and provider money
		// finer than the currency; nothing changes.
		dutyRefused(t, a, a.agencyAdmin(), authzMAllocate, map[string]any{"to": f.A1, "amt": "0.0000001"}, "BAD_USER_INPUT")
		dutyRefused(t, a, a.owner(), dutyMBuy, map[string]any{"amt": "10.001", "m": "CARD"}, "BAD_USER_INPUT")
		dutyRefused(t, a, a.owner(), dutyMBuy, map[string]any{"amt": "10.001", "m": "BANK_TRANSFER"}, "BAD_USER_INPUT")
		// ... while a fine allocation is exact.
		d = authzOK(t, authzCall(t, a, a.agencyAdmin(), authzMAllocate, map[string]any{"to": f.A2, "amt": "0.000001"}))
		authzWant(t, "allocation", authzGet(d, "allocateCredits.balance.available"), "0.000001")
		a.verifyLedger(t)
	})
}

func endsWith(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
