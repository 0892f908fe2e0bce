package events

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// pgPayload is a balance change as PostgreSQL's json_build_object wrote it
// (BalanceSQL's form before it was concatenated), copied from psql; what
// BalanceSQL writes now is compact (the second seed), read the same.
const pgPayload = `{"b" : {"a" : "acc_5k2mabcdefghijklmnopqrstuv", "g" : "agy_5k2mabcdefghijklmnopqrstuv", "c" : "USD", "v" : 123456789, "h" : 250000, "o" : 0, "s" : 42, "n" : 43, "t" : "2026-12-06T00:21:39.904064+00:00"}}`

// decodeSeeds are payloads around the fast path's edges: each is either
// read by decodeBalance exactly as encoding/json reads it, or left to it.
var decodeSeeds = []string{
	pgPayload,
	`{"b":{"a":"acc_1","g":"agy_1","c":"USD","v":-5,"h":0,"o":1500000,"s":9,"n":11,"t":"2026-12-04T10:11:12.345678Z"}}`,
	` { "b" : { "a" : "acc_1" , "n" : 1 } } `,
	"{\"b\":\t{\"a\":\n\"acc_1\",\r\"v\":0}}",
	`{"b":{"a":"acc_1","a":"acc_2"}}`,         // the last duplicate wins, as in encoding/json
	`{"b":{"A":"acc_1"}}`,                     // encoding/json folds case
	`{"b":{"a":"acc_1","x":1}}`,               // an unknown key
	`{"b":{"a":"acc\u005f1"}}`,                // an escape
	`{"b":{"a":"acc_é"}}`,                     // non-ASCII
	`{"b":{"v":01}}`,                          // a leading zero: an error
	`{"b":{"v":1.0}}`,                         // a fraction: an error
	`{"b":{"v":1e3}}`,                         // an exponent: an error
	`{"b":{"v":-}}`,                           // no digits
	`{"b":{"v":9223372036854775808}}`,         // overflows int64
	`{"b":{"v":-9223372036854775808}}`,        // fits
	`{"b":{"v":null}}`,                        // null leaves zero
	`{"b":{"t":"2026-12-04 10:11:12Z"}}`,      // not RFC 3339
	`{"b":{"t":"2026-12-04T10:11:12+00:00"}}`, // no fraction
	`{"b":{"t":"2026-12-04T24:11:12Z"}}`,      // hour 24
	`{"b":{}}`,                                // no member
	`{"b":{"a":"acc_1",}}`,                    // a trailing comma
	`{"b":{"a":"acc_1"}} x`,                   // trailing bytes
	`{"b":{"a":"acc_1"}`,                      // cut short
	`{"b":null}`,                              // no balance
	`{"q":{"r":"req_1","a":"acc_1","g":"agy_1","st":"APPROVED"}}`, // another event
	`{"b":{"a":"acc_1"},"k":{"k":"key_1"}}`,                       // two events
	`{"w":{}}`,
	``,
}

// decodeBalance answers only what encoding/json answers the same.
func checkDecodeBalance(t *testing.T, s string) {
	b, ok := decodeBalance(s)
	if !ok {
		return
	}
	var e Event
	if err := json.Unmarshal([]byte(s), &e); err != nil {
		t.Fatalf("%q: decoded by the fast path, but encoding/json says %v", s, err)
	}
	if !reflect.DeepEqual(e, Event{Balance: b}) {
		t.Fatalf("%q: fast path %+v, encoding/json %+v", s, *b, e)
	}
}

func TestDecodeBalanceAsJSON(t *testing.T) {
	for _, s := range decodeSeeds {
		checkDecodeBalance(t, s)
	}
	// What the ledger (PostgreSQL's spacing) and Encode (Go's) write takes
	// the fast path, whole.
	want := &Balance{AccountID: "acc_5k2mabcdefghijklmnopqrstuv", AgencyID: "agy_5k2mabcdefghijklmnopqrstuv", Currency: "USD",
		Available: 123456789, Held: 250000, Seq: 42, Version: 43, UpdatedAt: time.Date(2026, 12, 6, 0, 21, 39, 904064000, time.UTC)}
	for _, s := range []string{pgPayload, Event{Balance: want}.Encode()} {
		b, ok := decodeBalance(s)
		if !ok {
			t.Fatalf("%s: not read by the fast path", s)
		}
		if !b.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("%s: updated at %v, want %v", s, b.UpdatedAt, want.UpdatedAt)
		}
		got := *b
		got.UpdatedAt = want.UpdatedAt
		if got != *want {
			t.Fatalf("%s: %+v, want %+v", s, got, *want)
		}
	}
	// Left to encoding/json, an error stays an error and other events decode.
	for _, s := range []string{`{"b":{"v":1.0}}`, `{"b":{"a":"acc_1"}} x`} {
		if _, err := Decode(s); err == nil {
			t.Fatalf("%q: decoded without an error", s)
		}
	}
	if e, err := Decode(`{"b":{"A":"acc_1"}}`); err != nil || e.Balance == nil || e.Balance.AccountID != "acc_1" {
		t.Fatalf("case-folded key: %+v, %v", e, err)
	}
	if e, err := Decode(`{"k":{"k":"key_1"}}`); err != nil || e.Key == nil || e.Key.KeyID != "key_1" || e.Balance != nil {
		t.Fatalf("key revoked: %+v, %v", e, err)
	}
}

func FuzzDecodeBalance(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add(s)
	}
	f.Fuzz(checkDecodeBalance)
}

func BenchmarkDecodeBalance(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if e, err := Decode(pgPayload); err != nil || e.Balance == nil {
			b.Fatal(e, err)
		}
	}
}
