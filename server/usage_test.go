package main

// Metered usage through the API on both databases: recordUsage charges
// rate x quantity per event, each event on its own, in input order, once
// per idempotency key, and never below zero however the calls race.

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/money"
)

const usageM = `mutation($ev: [UsageEventInput!]!) {
	recordUsage(input: {events: $ev}) {
		recorded refused
		results { idempotencyKey replayed error { code message }
			transaction { id kind type amount runningBalance variant quantity service { id } } }
	} }`

type usageAnswer struct {
	RecordUsage struct {
		Recorded, Refused int
		Results           []struct {
			IdempotencyKey string
			Replayed       bool
			Error          *struct{ Code, Message string }
			Transaction    *struct {
				ID, Kind, Type, Amount, RunningBalance string
				Variant                                *string
				Quantity                               *int
				Service                                *struct{ ID string }
			}
		}
	}
}

func usageEvent(acc, svc gid.ID, key string, extra map[string]any) map[string]any {
	ev := map[string]any{"accountId": acc, "serviceId": svc, "idempotencyKey": key}
	for k, v := range extra {
		ev[k] = v
	}
	return ev
}

func recordUsage(t testing.TB, a *testAPI, token string, events []map[string]any) usageAnswer {
	t.Helper()
	var out usageAnswer
	r := a.gql(token, usageM, map[string]any{"ev": events})
	if len(r.Errors) > 0 {
		t.Fatalf("recordUsage: %+v", r.Errors)
	}
	r.decode(t, &out)
	return out
}

// smsService is an SMS service of agency A with destination rates.
func smsService(t testing.TB, a *testAPI, price string, eligible bool) *ent.Service {
	t.Helper()
	svc, err := a.svc.CreateService(sys(), credits.NewService{AgencyID: &a.fx.AgencyA, Name: "SMS " + price, Price: money.Decimal(price), CreditEligible: eligible})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.SetServiceRates(sys(), credits.ServiceRates{ServiceID: svc.ID, Rates: []credits.RateInput{
		{Variant: "US", Price: "0.0075"}, {Variant: "SG", Price: "0.035"},
	}}); err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestRecordUsage(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		sms := smsService(t, a, "0.01", true)
		closed := smsService(t, a, "0.02", false)
		a.fund(f.A1, "1")
		key := keyOf(a, f.AgencyA, auth.ScopeUsageWrite)
		events := []map[string]any{
			usageEvent(f.A1, sms.ID, "e1", map[string]any{"variant": "US", "quantity": 3, "reference": "campaign 42"}),
			usageEvent(f.A1, sms.ID, "e2", map[string]any{"variant": "SG"}),
			usageEvent(f.A1, sms.ID, "e3", map[string]any{"variant": "ZZ"}), // unknown: the default rate
			usageEvent(f.A1, closed.ID, "e4", nil),                          // not eligible
			usageEvent(f.B1, sms.ID, "e5", nil),                             // another agency's account
			usageEvent(f.A1, sms.ID, "e6", map[string]any{"quantity": 0}),   // no units
			usageEvent(f.A1, sms.ID, "e7", map[string]any{"quantity": 1000000}),
		}
		before := a.balance(f.A1)
		got := recordUsage(t, a, key, events)
		u := got.RecordUsage
		if u.Recorded != 3 || u.Refused != 4 || len(u.Results) != len(events) {
			t.Fatalf("recorded %d refused %d of %d results", u.Recorded, u.Refused, len(u.Results))
		}
		wantCodes := []string{"", "", "", "NOT_ELIGIBLE", "NOT_FOUND", "BAD_USER_INPUT", "INSUFFICIENT_CREDITS"}
		wantAmounts := []string{"0.0225", "0.035", "0.01"}
		wantVariants := []any{"US", "SG", nil}
		for i, r := range u.Results {
			if r.IdempotencyKey != fmt.Sprintf("e%d", i+1) {
				t.Errorf("result %d answers key %q: not in input order", i, r.IdempotencyKey)
			}
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if code != wantCodes[i] {
				t.Errorf("event %d: code %q, want %q", i+1, code, wantCodes[i])
			}
			if i < 3 {
				tr := r.Transaction
				if tr == nil || tr.Kind != "USAGE" || tr.Type != "OUT" || tr.Amount != wantAmounts[i] || tr.Service == nil || tr.Service.ID != string(sms.ID) {
					t.Fatalf("event %d: transaction %+v", i+1, tr)
				}
				var v any
				if tr.Variant != nil {
					v = *tr.Variant
				}
				if v != wantVariants[i] {
					t.Errorf("event %d: variant %v, want %v", i+1, v, wantVariants[i])
				}
			} else if r.Transaction != nil {
				t.Errorf("refused event %d has a transaction", i+1)
			}
		}
		if q := u.Results[0].Transaction.Quantity; q == nil || *q != 3 {
			t.Errorf("quantity %v, want 3", q)
		}
		b, _ := money.Parse(money.Decimal(before), "USD")
		if got, want := a.balance(f.A1), string(money.Format(b-22500-35000-10000, "USD")); got != want {
			t.Errorf("balance %s, want %s", got, want)
		}
		// The history shows the caller's reference.
		var h struct {
			History struct {
				Edges []struct {
					Node struct{ Reference, Kind string }
				}
			}
		}
		a.gql(a.owner(), `{ history(first: 3) { edges { node { reference kind } } } }`, nil).decode(t, &h)
		if n := h.History.Edges[2].Node; n.Reference != "campaign 42" || n.Kind != "USAGE" {
			t.Errorf("oldest usage row %+v, want campaign 42", n)
		}

		// The same call again: every recorded event replayed, nothing moved.
		snap := snapshot(t, a)
		again := recordUsage(t, a, key, events[:3])
		for i, r := range again.RecordUsage.Results {
			if !r.Replayed || r.Transaction == nil || r.Transaction.ID != u.Results[i].Transaction.ID {
				t.Errorf("replay %d: %+v", i, r)
			}
		}
		wantUnchanged(t, a, snap, "a replayed usage call")
		// The same key with other input is CONFLICT for that event.
		conflict := recordUsage(t, a, key, []map[string]any{usageEvent(f.A1, sms.ID, "e1", map[string]any{"variant": "SG"})})
		if r := conflict.RecordUsage.Results[0]; r.Error == nil || r.Error.Code != "CONFLICT" {
			t.Errorf("key reused with other input: %+v", r)
		}

		// Who may record: not clients; not a key without USAGE_WRITE.
		ev := []map[string]any{usageEvent(f.A1, sms.ID, "x1", nil)}
		for name, tok := range map[string]string{
			"client": a.client(), "owner": a.owner(),
			"key without USAGE_WRITE": keyOf(a, f.AgencyA, auth.ScopeBalancesRead),
		} {
			snap := snapshot(t, a)
			wantRefused(t, a.gql(tok, usageM, map[string]any{"ev": ev}), "FORBIDDEN", name)
			wantUnchanged(t, a, snap, name)
		}
		// Too many events, or none.
		many := make([]map[string]any, 1001)
		for i := range many {
			many[i] = usageEvent(f.A1, sms.ID, fmt.Sprintf("m%d", i), nil)
		}
		wantRefused(t, a.gql(key, usageM, map[string]any{"ev": many}), "BAD_USER_INPUT", "1001 events")
		wantRefused(t, a.gql(key, usageM, map[string]any{"ev": []any{}}), "BAD_USER_INPUT", "no events")
		a.verifyLedger(t)
	})
}

// 200 racers on one account funded for exactly 50 events: 50 recorded,
// 150 INSUFFICIENT_CREDITS, the balance exactly 0.
func TestUsageRaceOneAccount(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		sms := smsService(t, a, "0.01", true)
		a.fund(f.A2, "0.50")
		key := keyOf(a, f.AgencyA, auth.ScopeUsageWrite)
		var mu sync.Mutex
		codes := map[string]int{}
		var wg sync.WaitGroup
		for i := range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out usageAnswer
				r := a.gql(key, usageM, map[string]any{"ev": []map[string]any{usageEvent(f.A2, sms.ID, fmt.Sprintf("race-%d", i), nil)}})
				code := "?"
				if len(r.Errors) == 0 && r.decodeErr(&out) == nil && len(out.RecordUsage.Results) == 1 {
					code = ""
					if e := out.RecordUsage.Results[0].Error; e != nil {
						code = e.Code
					}
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		if codes[""] != 50 || codes["INSUFFICIENT_CREDITS"] != 150 {
			t.Fatalf("outcomes %v, want 50 recorded and 150 INSUFFICIENT_CREDITS", codes)
		}
		if got := a.balance(f.A2); got != "0.00" {
			t.Errorf("balance %s, want 0.00", got)
		}
		a.verifyLedger(t)
	})
}

// One batch of 1,000 events on an account that covers the first 300: those
// are recorded, the rest refused, in order; the same batch sent twice at
// once moves each event once and both answers name the same transactions.
func TestUsageBatch(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		sms := smsService(t, a, "0.01", true)
		a.fund(f.A2, "3")
		key := keyOf(a, f.AgencyA, auth.ScopeUsageWrite)
		events := make([]map[string]any, 1000)
		for i := range events {
			events[i] = usageEvent(f.A2, sms.ID, fmt.Sprintf("batch-%04d", i), nil)
		}
		var answers [2]usageAnswer
		var wg sync.WaitGroup
		for c := range answers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := a.gql(key, usageM, map[string]any{"ev": events})
				if len(r.Errors) == 0 {
					_ = r.decodeErr(&answers[c])
				}
			}()
		}
		wg.Wait()
		for c, ans := range answers {
			res := ans.RecordUsage.Results
			if len(res) != 1000 {
				t.Fatalf("call %d: %d results", c, len(res))
			}
			for i, r := range res {
				covered := i < 300
				if covered != (r.Error == nil) || (!covered && r.Error.Code != "INSUFFICIENT_CREDITS") {
					t.Fatalf("call %d event %d: %+v (covered %t)", c, i, r.Error, covered)
				}
				if covered && (r.Transaction == nil || r.Transaction.ID != answers[0].RecordUsage.Results[i].Transaction.ID) {
					t.Fatalf("event %d: the two calls name different transactions", i)
				}
			}
		}
		if got := a.balance(f.A2); got != "0.00" {
			t.Errorf("balance %s, want 0.00", got)
		}
		var h struct{ History struct{ TotalCount int } }
		a.gql(a.sysAdmin(), `query($a: ID){ history(accountId: $a) { totalCount } }`, map[string]any{"a": f.A2}).decode(t, &h)
		if h.History.TotalCount != 301 { // the funding and 300 events
			t.Errorf("history has %d rows, want 301", h.History.TotalCount)
		}
		a.verifyLedger(t)
	})
}

// decodeErr unmarshals data into v, for goroutines that must not fail the
// test themselves.
func (r gqlResponse) decodeErr(v any) error { return json.Unmarshal(r.Data, v) }

// Usage charged to a hold is a partial capture of it: what it set aside
// pays, beyond its remainder the event is INSUFFICIENT_CREDITS, and once the
// hold is released the event is CONFLICT.
func TestUsageChargedToAHold(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		sms := smsService(t, a, "0.01", true)
		a.fund(f.A2, "1")
		key := keyOf(a, f.AgencyA, auth.ScopeUsageWrite, auth.ScopeHoldsWrite)
		var h struct {
			CreateHold struct{ Hold struct{ ID string } }
		}
		a.gql(key, `mutation($a: ID!){ createHold(input:{accountId: $a, amount: "0.05", currency: "USD"}) { hold { id } } }`,
			map[string]any{"a": f.A2}).decode(t, &h)
		hold := h.CreateHold.Hold.ID
		ev := func(k string, qty int) map[string]any {
			return usageEvent(f.A2, sms.ID, k, map[string]any{"quantity": qty, "holdId": hold})
		}
		got := recordUsage(t, a, key, []map[string]any{ev("h1", 2), ev("h2", 2), ev("h3", 2), ev("h4", 1)})
		want := []string{"", "", "INSUFFICIENT_CREDITS", ""}
		for i, r := range got.RecordUsage.Results {
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if code != want[i] {
				t.Errorf("event %d: %q, want %q", i, code, want[i])
			}
		}
		var b struct {
			Balance struct{ Available, Held, Total string }
		}
		a.gql(a.sysAdmin(), `query($a: ID){ balance(accountId: $a) { available held total } }`, map[string]any{"a": f.A2}).decode(t, &b)
		if b.Balance.Available != "0.95" || b.Balance.Held != "0.00" || b.Balance.Total != "0.95" {
			t.Errorf("balance after 0.05 captured in full: %+v", b.Balance)
		}
		// Another hold, released: usage charged to it is CONFLICT.
		a.gql(key, `mutation($a: ID!){ createHold(input:{accountId: $a, amount: "0.10", currency: "USD"}) { hold { id } } }`,
			map[string]any{"a": f.A2}).decode(t, &h)
		a.gql(key, `mutation($h: ID!){ releaseHold(input:{holdId: $h}) { hold { status } } }`, map[string]any{"h": h.CreateHold.Hold.ID}).decode(t, &struct{}{})
		hold = h.CreateHold.Hold.ID
		snap := snapshot(t, a)
		got = recordUsage(t, a, key, []map[string]any{ev("h5", 1)})
		if r := got.RecordUsage.Results[0]; r.Error == nil || r.Error.Code != "CONFLICT" {
			t.Errorf("usage on a released hold: %+v", r)
		}
		wantUnchanged(t, a, snap, "usage on a released hold")
		a.verifyLedger(t)
	})
}
