package credits

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"creditgate/gid"
)

// MaxPageSize bounds every list; larger requests are BAD_USER_INPUT.
const (
	MaxPageSize     = 100
	defaultPageSize = 20
)

// PageArgs are Relay forward-pagination arguments.
type PageArgs struct {
	First *int
	After *string
}

func (p PageArgs) limit() (int, error) {
	if p.First == nil {
		return defaultPageSize, nil
	}
	switch n := *p.First; {
	case n < 0:
		return 0, badInput("first must not be negative")
	case n > MaxPageSize:
		return 0, badInput("first must be at most %d", MaxPageSize)
	default:
		return n, nil
	}
}

// Page is one page of a list, newest first unless said otherwise.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNext     bool
	HasPrevious bool
	Total       int
}

// Cursors are opaque to clients: base64 of the keyset position, so clients
// cannot build them and we can change them.

func seqCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s" + strconv.FormatInt(seq, 10)))
}

func parseSeqCursor(c string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 's' {
		return 0, badInput("after: malformed cursor")
	}
	n, err := strconv.ParseInt(string(b[1:]), 10, 64)
	if err != nil {
		return 0, badInput("after: malformed cursor")
	}
	return n, nil
}

func timeCursor(t time.Time, id gid.ID) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "t%d|%s", t.UnixNano(), id))
}

func parseTimeCursor(c string) (time.Time, gid.ID, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 't' {
		return time.Time{}, "", badInput("after: malformed cursor")
	}
	ns, id, ok := strings.Cut(string(b[1:]), "|")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil {
		return time.Time{}, "", badInput("after: malformed cursor")
	}
	return time.Unix(0, n).UTC(), gid.ID(id), nil
}

// trim cuts the extra row fetched to learn whether a next page exists.
func trim[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}
