package ledger

import (
	"testing"

	"github.com/lib/pq"
)

// textArray writes what pq.Array sends for the same strings: quotes,
// backslashes, braces, commas, spaces, the empty string, non-ASCII.
func TestTextArrayIsPQs(t *testing.T) {
	for _, ss := range [][]string{
		{},
		{""},
		{"usg_01", "usage|ag_1"},
		{`a"b`, `c\d`, `\"`, `{x,y}`, " lead", "NULL", "é✓", `{"t":"pst_1"}`},
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
