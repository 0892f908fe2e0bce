package ledger

import (
	"testing"

	"creditgate/gid"
)

// A batch's ids share the random base but for four characters before the
// last, count up in ascending order (their indexes' pages side by side),
// and never repeat.
func TestIDSeqAscends(t *testing.T) {
	s := newIDSeq()
	first := s.next(gid.Posting)
	prev := first
	for range 40_000 {
		id := s.next(gid.Posting)
		if len(id) != len(first) || id[:len(id)-5] != first[:len(first)-5] || id[len(id)-1] != first[len(first)-1] {
			t.Fatalf("%s is not %s's sequence", id, first)
		}
		if id <= prev {
			t.Fatalf("%s after %s: not ascending", id, prev)
		}
		prev = id
	}
	if j := s.next(gid.Journal); j.Prefix() != gid.Journal {
		t.Fatalf("%s: a journal's id with another prefix", j)
	}
}
