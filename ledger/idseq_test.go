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
	// Each prefix keeps its own base, however many a batch uses.
	prefixes := []string{gid.Posting, gid.Journal, gid.Idempotency, gid.AuditEvent, gid.Hold, gid.Job}
	bases := map[string]gid.ID{}
	for range 3 {
		for _, p := range prefixes {
			id := s.next(p)
			if id.Prefix() != p {
				t.Fatalf("%s: not a %s id", id, p)
			}
			f, ok := bases[p]
			if !ok {
				bases[p] = id
				continue
			}
			if id[:len(id)-5] != f[:len(f)-5] || id <= f {
				t.Fatalf("%s after %s: not the same sequence", id, f)
			}
		}
	}
}
