package gid

import (
	"testing"
)

// An id is its prefix, "_" and its random bytes in enc, as it always was
// written: ids already stored are compared as text.
func TestFromBytesIsConcatenation(t *testing.T) {
	for _, b := range [][16]byte{{}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}} {
		for _, prefix := range []string{Posting, Idempotency, ""} {
			want := prefix + "_" + enc.EncodeToString(b[:])
			if got := fromBytes(prefix, &b); string(got) != want {
				t.Errorf("fromBytes(%q, %x) = %q, want %q", prefix, b, got, want)
			}
		}
	}
	id := New(Posting)
	if id.Prefix() != Posting {
		t.Errorf("New(%q) = %q: prefix %q", Posting, id, id.Prefix())
	}
}
