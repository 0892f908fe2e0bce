package credits_test

import (
	"testing"

	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/topuprule"
)

// Auto top-up and low-balance alerts follow from usage exactly as from
// purchases: a call of usage that takes the balance below the rule's
// threshold queues the top-up in its own transaction.
func TestUsageTriggersAutoTopUp(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("sms sender")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			sms := a.service("SMS", "0.0075")
			events := make([]credits.UsageEvent, 2000) // 15.00
			for i := range events {
				events[i] = credits.UsageEvent{AccountID: acc.ID, ServiceID: sms.ID, IdempotencyKey: "u" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))}
			}
			for _, batch := range [][]credits.UsageEvent{events[:1000], events[1000:]} {
				res, err := a.svc.RecordUsage(a.admin("ops"), batch)
				a.check(err)
				for _, r := range res {
					if r.Err != nil {
						t.Fatalf("event %s: %v", r.IdempotencyKey, r.Err)
					}
				}
			}
			if got := a.available(acc); got != 500*cent {
				t.Fatalf("balance after 2,000 x 0.0075: %d, want 5.00", got)
			}
			if a.jobsInFlight(acc) != 1 {
				t.Fatalf("no top-up queued by usage crossing the threshold")
			}
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want the top-up", n)
			}
			if got := a.available(acc); got != 5500*cent {
				t.Errorf("balance %d, want 55.00 after the top-up", got)
			}
			a.verify()
		})
	}
}
