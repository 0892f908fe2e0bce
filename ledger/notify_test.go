package ledger_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"creditgate/events"
)

// events.BalanceSQL, evaluated by PostgreSQL, is the object
// json_build_object makes of the same row (the payload's first form),
// strings that need escaping included, and Decode reads it as
// encoding/json does.
func TestBalanceSQLIsJSON(t *testing.T) {
	b := newBook(t, "postgres")
	if b.d.Dialect != "postgres" {
		t.Skip("PostgreSQL only")
	}
	ctx := context.Background()
	rows, err := b.d.SQL.QueryContext(ctx, `
		WITH r (account_id, agency_id, currency, available, held, owed, seq, version, updated_at) AS (VALUES
			('acc_5k2mabcdefghijklmnopqrstuv', 'agy_5k2mabcdefghijklmnopqrstuv', 'USD', 123456789::bigint, 250000::bigint, 0::bigint,
				42::bigint, 43::bigint, '2026-12-06 00:21:39.904064+00'::timestamptz),
			('a"b\c', e'line\nbreak\ttab', 'é€', '-9223372036854775808'::bigint, '9223372036854775807'::bigint, -1::bigint,
				0::bigint, 1::bigint, '2026-12-06 00:21:39+05:30'::timestamptz))
		SELECT `+events.BalanceSQL+`, json_build_object('b', json_build_object('a', account_id, 'g', agency_id, 'c', currency,
			'v', available, 'h', held, 'o', owed, 's', seq, 'n', version, 't', updated_at))::text FROM r`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		var got, want string
		if err := rows.Scan(&got, &want); err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		if err := json.Unmarshal([]byte(want), &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("BalanceSQL wrote %s, json_build_object %s", got, want)
		}
		var e events.Event
		if err := json.Unmarshal([]byte(got), &e); err != nil {
			t.Fatal(err)
		}
		d, err := events.Decode(got)
		if err != nil || d.Balance == nil || !d.Balance.UpdatedAt.Equal(e.Balance.UpdatedAt) {
			t.Fatalf("Decode(%s): %+v, %v", got, d.Balance, err)
		}
		db, eb := *d.Balance, *e.Balance
		db.UpdatedAt = eb.UpdatedAt
		if db != eb {
			t.Fatalf("Decode(%s) = %+v, encoding/json %+v", got, db, eb)
		}
	}
	if err := rows.Err(); err != nil || n != 2 {
		t.Fatalf("%d rows, %v", n, err)
	}
}
