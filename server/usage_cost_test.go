package main

import (
	"fmt"
	"strings"
	"testing"

	"creditgate/auth"
	"creditgate/gid"
)

// usageCostM is the benchmark's call: the outcome of each event, no
// transaction's fields (each is a resolver of its own).
const usageCostM = `mutation($ev: [UsageEventInput!]!) { recordUsage(input: {events: $ev}) { recorded refused results { error { code } } } }`

// What a recordUsage call costs the database, in statements (BEGIN and
// COMMIT aside): a few whatever its size, on PostgreSQL. A lone event goes
// the payment's way (its key, one ledger statement, the key's record, its
// audit event riding along before COMMIT); a batch is set-based (keys,
// balances locked, one statement writing everything with the audit event).
func TestUsageStatementsPerCall(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		if a.db.Dialect != "postgres" {
			t.Skip("SQLite runs usage event by event")
		}
		f := a.fx
		sms := smsService(t, a, "0.01", true)
		accs := []gid.ID{f.A1, f.A2}
		for _, acc := range accs {
			a.fund(acc, "100")
		}
		key := keyOf(a, f.AgencyA, auth.ScopeUsageWrite)
		api, counter := rdCountingAPI(t, a)
		n := 0
		call := func(events int) (int64, string) {
			t.Helper()
			evs := make([]map[string]any, events)
			for i := range evs {
				n++
				evs[i] = usageEvent(accs[i%len(accs)], sms.ID, fmt.Sprintf("cost-%d", n), nil)
			}
			counter.reset()
			var out usageAnswer
			r := api.gql(key, usageCostM, map[string]any{"ev": evs})
			if len(r.Errors) > 0 {
				t.Fatalf("recordUsage: %+v", r.Errors)
			}
			r.decode(t, &out)
			if out.RecordUsage.Recorded != events {
				t.Fatalf("%d events: %+v", events, out.RecordUsage)
			}
			return counter.total(), counter.statements()
		}
		call(1) // the first request also looks the key up: not what is measured
		for _, c := range []struct{ events, max int }{{1, 6}, {100, 6}} {
			got, stmts := call(c.events)
			t.Logf("%d events: %d statements:\n%s", c.events, got, stmts)
			if got > int64(c.max) {
				t.Errorf("%d events: %d statements, want at most %d", c.events, got, c.max)
			}
			if strings.Count(stmts, "INSERT INTO \"audit_events\"") > 0 {
				t.Errorf("%d events: the audit event has a statement of its own", c.events)
			}
		}
		a.verifyLedger(t)
	})
}
