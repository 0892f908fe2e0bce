package ledger

import (
	"strconv"
	"strings"
	"time"
)

// pgArray is a PostgreSQL array literal being written, element by
// element, for a parameter cast to an array type: the text pq.Array sends
// for the same values ({"a",NULL,"b\"c"} for strings, {1,NULL,2} for
// integers), written into one buffer. pq.Array of anything but a slice of
// strings or integers reflects over every element, boxes it and converts
// it again (for a set-based batch of payments, two fifths of the
// allocations of a payment).
type pgArray struct {
	b strings.Builder
	n int
}

// elem starts the next element.
func (a *pgArray) elem() {
	if a.n == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
	a.n++
}

// str adds s, quoted: a double quote or a backslash is escaped by a
// backslash (a byte loop, not strings.IndexAny, which builds its set of
// bytes on every call).
func (a *pgArray) str(s string) {
	a.elem()
	a.b.WriteByte('"')
	start := 0
	for j := 0; j < len(s); j++ {
		if c := s[j]; c == '"' || c == '\\' {
			a.b.WriteString(s[start:j])
			a.b.WriteByte('\\')
			a.b.WriteByte(c)
			start = j + 1
		}
	}
	a.b.WriteString(s[start:])
	a.b.WriteByte('"')
}

// null adds a NULL.
func (a *pgArray) null() {
	a.elem()
	a.b.WriteString("NULL")
}

// int adds v, unquoted.
func (a *pgArray) int(v int64) {
	a.elem()
	var buf [20]byte
	a.b.Write(strconv.AppendInt(buf[:0], v, 10))
}

// timestamp adds t as arrayOf writes a time: in UTC, with an explicit
// +00 offset, quoted (the text has nothing to escape).
func (a *pgArray) timestamp(t time.Time) {
	a.elem()
	var buf [40]byte
	b := append(buf[:0], '"')
	b = t.UTC().AppendFormat(b, "2006-01-02 15:04:05.999999")
	a.b.Write(append(b, `+00"`...))
}

// text is the literal; a has no more elements after it.
func (a *pgArray) text() string {
	if a.n == 0 {
		return "{}"
	}
	a.b.WriteByte('}')
	return a.b.String()
}
