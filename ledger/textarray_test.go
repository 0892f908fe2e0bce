package ledger

import (
	"encoding/json"
	"testing"

	"github.com/lib/pq"

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
