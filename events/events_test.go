package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The payload the ledger builds in SQL (BalanceSQL) is what Decode reads:
// every field of Balance has a key and a column, no two share one, and an
// object built from BalanceSQL's keys with each column's value decodes to
// the balance. That PostgreSQL evaluates it to the same object as
// json_build_object, escapes included, is ledger's TestBalanceSQLIsJSON.
func TestBalanceSQLIsTheWireFormat(t *testing.T) {
	want := Balance{AccountID: "acc_1", AgencyID: "agy_1", Currency: "USD", Available: 12_345_678, Held: 250_000, Owed: 1_500_000, Seq: 9, Version: 11,
		UpdatedAt: time.Date(2026, 12, 4, 10, 11, 12, 345678000, time.UTC)}
	row := map[string]any{ // a balances row, as to_json renders its columns
		"account_id": "acc_1", "agency_id": "agy_1", "currency": "USD", "available": 12_345_678, "held": 250_000, "owed": 1_500_000, "seq": 9, "version": 11,
		"updated_at": "2026-12-04T10:11:12.345678+00:00",
	}
	keys, cols := map[string]bool{}, map[string]bool{}
	obj := map[string]any{}
	for _, f := range balanceWire() {
		if f.key == "" || f.col == "" || keys[f.key] || cols[f.col] {
			t.Fatalf("field %+v: a key and a column of its own, each", f)
		}
		keys[f.key], cols[f.col] = true, true
		v, ok := row[f.col]
		if !ok {
			t.Fatalf("column %q is not a column of balances", f.col)
		}
		obj[f.key] = v
		if !strings.Contains(BalanceSQL, `"`+f.key+`":' || coalesce(`) || !strings.Contains(BalanceSQL, "("+f.col+")::text") && !strings.Contains(BalanceSQL, "("+f.col+"::text") {
			t.Fatalf("BalanceSQL %q lacks %+v", BalanceSQL, f)
		}
	}
	body, _ := json.Marshal(map[string]any{"b": obj})
	e, err := Decode(string(body))
	if err != nil || e.Balance == nil || !e.Balance.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("decoding %s: %+v, %v", body, e.Balance, err)
	}
	got := *e.Balance
	got.UpdatedAt = want.UpdatedAt
	if got != want {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	if !strings.HasPrefix(BalanceSQL, `'{"b":{"a":' || `) || !strings.HasSuffix(BalanceSQL, ` || '}}'`) {
		t.Fatalf("BalanceSQL = %q", BalanceSQL)
	}
	// And Go's own encoding is the same object.
	var back Event
	if err := json.Unmarshal([]byte(Event{Balance: &want}.Encode()), &back); err != nil || *back.Balance != want {
		t.Fatalf("round trip: %+v, %v", back.Balance, err)
	}
}
