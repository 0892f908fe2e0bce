package events

import (
	"strconv"
	"testing"

	"creditgate/gid"
)

// An agency-wide subscription gets its agency's balances only, each balance
// in version order (a repeat or an older one, as a resync publishes, is
// dropped), versions it already read are skipped, settings changes reach
// SubscribeAgency only, and nothing after UnsubscribeAgency.
func TestAgencySub(t *testing.T) {
	b := NewBroker()
	var got []Balance
	bal := b.SubscribeAgencyBalances("agy_a", func(x *Balance) { got = append(got, *x) })
	changes := 0
	set := b.SubscribeAgency("agy_a", func() { changes++ })
	per := b.SubscribeBalance("acc_1", "USD", 0)
	bal.SkipBalances([]Balance{{AccountID: "acc_2", Currency: "USD", Version: 5}}, nil)

	pub := func(acc, agency, cur string, v int64) {
		b.Publish(Event{Balance: &Balance{AccountID: gid.ID(acc), AgencyID: gid.ID(agency), Currency: cur, Version: v}})
	}
	pub("acc_1", "agy_a", "USD", 1)
	pub("acc_1", "agy_a", "EUR", 1) // another balance of the same account
	pub("acc_b", "agy_b", "USD", 1) // another agency
	pub("acc_1", "agy_a", "USD", 1) // a repeat
	pub("acc_2", "agy_a", "USD", 5) // already read
	pub("acc_2", "agy_a", "USD", 6)
	pub("acc_1", "agy_a", "USD", 3)
	pub("acc_1", "agy_a", "USD", 2) // older than delivered
	want := []string{"acc_1 USD 1", "acc_1 EUR 1", "acc_2 USD 6", "acc_1 USD 3"}
	if len(got) != len(want) {
		t.Fatalf("delivered %+v, want %v", got, want)
	}
	for i, g := range got {
		if s := string(g.AccountID) + " " + g.Currency + " " + strconv.FormatInt(g.Version, 10); s != want[i] {
			t.Fatalf("delivery %d: %s, want %s (all: %+v)", i, s, want[i], got)
		}
	}
	if n := len(per.C()); n != 2 { // acc_1 USD 1 and 3 (the repeat and the older dropped; EUR is not its currency)
		t.Fatalf("the per-account subscription queued %d, want 2 (unchanged by agency subscriptions)", n)
	}
	if changes != 0 {
		t.Fatalf("balances told the settings subscriber %d times", changes)
	}
	b.Publish(Event{Agency: &Agency{AgencyID: "agy_b"}})
	b.Publish(Event{Agency: &Agency{AgencyID: "agy_a"}})
	if changes != 1 || len(got) != len(want) {
		t.Fatalf("after agency events: %d changes (want 1), %d balances (want %d)", changes, len(got), len(want))
	}
	if balances, settings := b.AgencyCounts(); balances != 1 || settings != 1 {
		t.Fatalf("AgencyCounts = %d, %d", balances, settings)
	}
	if wb, ws := b.WatchedAgencies(); len(wb) != 1 || len(ws) != 1 || wb[0] != "agy_a" || ws[0] != "agy_a" {
		t.Fatalf("WatchedAgencies = %v, %v", wb, ws)
	}
	b.UnsubscribeAgency(bal)
	b.UnsubscribeAgency(set)
	pub("acc_1", "agy_a", "USD", 9)
	b.Publish(Event{Agency: &Agency{AgencyID: "agy_a"}})
	if changes != 1 || len(got) != len(want) {
		t.Fatalf("delivered after UnsubscribeAgency: %d changes, %d balances", changes, len(got))
	}
	if balances, settings := b.AgencyCounts(); balances+settings != 0 {
		t.Fatalf("AgencyCounts after unsubscribing = %d, %d", balances, settings)
	}
}
