package ledger

import (
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/lib/pq"

	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/gid"
)

// textArray writes what pq.Array sends for the same strings: quotes,
// backslashes, braces, commas, spaces, the empty string, non-ASCII.
func TestTextArrayIsPQs(t *testing.T) {
	for _, ss := range [][]string{
		{},
		{""},
		{"usg_01", "usage|ag_1"},
		{`a"b`, `c\d`, `\"`, `{x,y}`, " lead", "NULL", "é✓", `{"t":"pst_1"}`},
		{`\`, `"`, `""`, `x\`, `"x`, `a\\b""c`},
	} {
		v, err := pq.StringArray(ss).Value()
		if err != nil {
			t.Fatal(err)
		}
		if got := textArray(ss); got != v.(string) {
			t.Errorf("textArray(%q) = %s, want %s", ss, got, v)
		}
	}
}

// outcomeOf writes what json.Marshal writes for the same Outcome: a
// claimed key's record is read back with json.Unmarshal.
func TestOutcomeOfIsJSONs(t *testing.T) {
	for _, id := range []gid.ID{"", gid.New(gid.Posting), "txn_1", `a"b`, `c\d`, "<&>", "é", "\x01", "\u2028"} {
		want, err := json.Marshal(Outcome{Transaction: id})
		if err != nil {
			t.Fatal(err)
		}
		if got := outcomeOf(id); got != string(want) {
			t.Errorf("outcomeOf(%q) = %s, want %s", id, got, want)
		}
	}
}

// arrayOf writes what pq.Array sent for the same values as sql.NullString
// and sql.NullInt64 (its old way), NULLs, escapes and times included.
func TestArrayOfIsPQs(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 891230000, time.FixedZone("x", 3600))
	for _, c := range []struct {
		typ string
		vs  []any
	}{
		{"varchar", nil},
		{"bigint", nil},
		{"varchar", []any{"a", gid.ID("pst_1"), nil, "", `a"b\c`, "NULL", "é,{x}"}},
		{"timestamptz", []any{at, at.Add(-time.Hour), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), nil}},
		{"varchar", []any{posting.KindINVOICE_PAYMENT, 7, int64(-3), true, 1.5}},
		{"bigint", []any{int64(0), int64(-9223372036854775808), 42, nil, "12", int32(5)}},
	} {
		want, err := oldArrayOf(c.typ, c.vs).Value()
		if err != nil {
			t.Fatal(err)
		}
		if got := arrayOf(c.typ, c.vs); got != want.(string) {
			t.Errorf("arrayOf(%s, %v) = %s, want %s", c.typ, c.vs, got, want)
		}
	}
}

// oldArrayOf is how arrayOf was written, through pq.Array.
func oldArrayOf(typ string, vs []any) driver.Valuer {
	if typ == "bigint" {
		a := make([]sql.NullInt64, len(vs))
		for i, v := range vs {
			switch x := v.(type) {
			case int64:
				a[i] = sql.NullInt64{Int64: x, Valid: true}
			case int:
				a[i] = sql.NullInt64{Int64: int64(x), Valid: true}
			}
		}
		return pq.Array(a)
	}
	a := make([]sql.NullString, len(vs))
	for i, v := range vs {
		switch x := v.(type) {
		case string:
			a[i] = sql.NullString{String: x, Valid: true}
		case gid.ID:
			a[i] = sql.NullString{String: string(x), Valid: true}
		case time.Time:
			a[i] = sql.NullString{String: x.UTC().Format("2006-01-02 15:04:05.999999") + "+00", Valid: true}
		case fmt.Stringer:
			a[i] = sql.NullString{String: x.String(), Valid: true}
		case nil:
		default:
			a[i] = sql.NullString{String: fmt.Sprint(x), Valid: true}
		}
	}
	return pq.Array(a)
}

// A set-based batch's postings are written as arrayOf writes their
// postingValues, running balance and sequence: NULLs and escapes included.
func TestAddPostingIsArrayOf(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 891230000, time.FixedZone("x", -7200))
	acc, svc, hold, rev, pay := gid.ID("acc_1"), gid.ID("svc_\"1"), gid.ID("hld_1"), gid.ID("pst_0"), gid.ID("pay_1")
	variant, reason, qty := `v\1`, "a reason, {quoted}", 3
	rb, seq := int64(-5), int64(9)
	ps := []*ent.Posting{
		{ID: "pst_1", AgencyID: "ag_1", AccountID: &acc, Kind: posting.KindINVOICE_PAYMENT, Reference: "P-1", Currency: "USD", Amount: -10_000,
			Actor: "u1", RunningBalance: &rb, Seq: &seq},
		{ID: "pst_2", AgencyID: "ag_1", Book: "revenue", Kind: posting.KindINVOICE_PAYMENT, Reference: "", Currency: "USD", Amount: 10_000, Actor: "system"},
		{ID: "pst_3", AgencyID: "ag_2", AccountID: &acc, Kind: posting.KindINVOICE_PAYMENT, Reference: `r"\`, Currency: "EUR", Amount: 0,
			ServiceID: &svc, Variant: &variant, Quantity: &qty, HoldID: &hold, Actor: "apikey:k", Reason: &reason, ReversesID: &rev, PaymentID: &pay},
	}
	st := &setBatch{}
	var cols [20][]any
	for i, p := range ps {
		jid := gid.ID("jnl_" + strconv.Itoa(i))
		st.addPosting(p, jid, now)
		var r, s any
		if p.RunningBalance != nil {
			r, s = *p.RunningBalance, *p.Seq
		}
		for n, v := range append(postingValues(p, jid, now), r, s) {
			cols[n] = append(cols[n], v)
		}
	}
	for n := range cols {
		if got, want := st.postings[n].text(), arrayOf(postingTypes[n], cols[n]); got != want {
			t.Errorf("column %d: %s, want %s", n, got, want)
		}
	}
}
