package credits

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"creditgate/ent"
	"creditgate/ent/intercept"
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
	Items []T
	// Cursors are the items' cursors, one each; nil when the caller said
	// it writes none (HistoryUse.NoCursors).
	Cursors     []string
	HasNext     bool
	HasPrevious bool
	Total       int
}

// keyset is one list paged on a key of its rows (K), in the list's order.
type keyset[T, K any] struct {
	// count is the list's totalCount.
	count func(ctx context.Context) (int, error)
	// fetch reads up to n rows in the list's order, those past after when
	// it is not nil.
	fetch func(ctx context.Context, after *K, n int) ([]T, error)
	// key is a row's position in the list.
	key func(T) K
	// more, when set, says without reading whether rows follow the first
	// limit past after (a list whose keys run without gaps knows it from
	// its bounds); fetch is then asked for limit rows, not one more.
	more func(after *K, limit int) bool
	// noCursors: the caller writes no cursor, so none is made (a
	// history page's are 100 allocations).
	noCursors bool
}

// paginate answers one page of every list of the API: it validates first
// (BAD_USER_INPUT past MaxPageSize) and after (BAD_USER_INPUT when it is no
// cursor of cursors), counts the list, reads one row more than the page
// holds to learn whether a next page exists (unless the list knows it:
// keyset.more), and gives each row its cursor.
func paginate[T, K any](ctx context.Context, page PageArgs, cursors cursorKind[K], l keyset[T, K]) (*Page[T], error) {
	limit, err := page.limit()
	if err != nil {
		return nil, err
	}
	var after *K
	if page.After != nil {
		k, err := cursors.decode(*page.After)
		if err != nil {
			return nil, err
		}
		after = &k
	}
	total, err := l.count(ctx)
	if err != nil {
		return nil, err
	}
	var (
		rows []T
		more bool
	)
	if l.more != nil {
		if rows, err = l.fetch(ctx, after, limit); err != nil {
			return nil, err
		}
		more = l.more(after, limit)
	} else {
		if rows, err = l.fetch(ctx, after, limit+1); err != nil {
			return nil, err
		}
		rows, more = trim(rows, limit)
	}
	p := &Page[T]{Items: rows, HasNext: more, HasPrevious: page.After != nil, Total: total}
	if !l.noCursors {
		p.Cursors = make([]string, len(rows))
		for i, r := range rows {
			p.Cursors[i] = cursors.encode(l.key(r))
		}
	}
	return p, nil
}

// trim cuts the extra row fetched to learn whether a next page exists.
func trim[T any](items []T, limit int) ([]T, bool) {
	if len(items) > limit {
		return items[:limit], true
	}
	return items, false
}

// Cursors are opaque to clients: base64 of the keyset position behind a tag
// letter, so clients cannot build them and we can change them.
type cursorKind[K any] struct {
	tag    byte
	format func(K) string
	parse  func(string) (K, bool)
}

func (c cursorKind[K]) encode(k K) string {
	var buf [48]byte // on the stack: every row of a page has a cursor
	return base64.RawURLEncoding.EncodeToString(append(append(buf[:0], c.tag), c.format(k)...))
}

func (c cursorKind[K]) decode(s string) (K, error) {
	var k K
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2 || b[0] != c.tag {
		return k, badInput("after: malformed cursor")
	}
	k, ok := c.parse(string(b[1:]))
	if !ok {
		return k, badInput("after: malformed cursor")
	}
	return k, nil
}

// seqCursors are positions in a balance's sequence of postings.
var seqCursors = cursorKind[int64]{
	tag:    's',
	format: func(seq int64) string { return strconv.FormatInt(seq, 10) },
	parse: func(s string) (int64, bool) {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	},
}

// createdKey is a row's position in a list ordered on (created_at, id).
type createdKey struct {
	at time.Time
	id gid.ID
}

var createdCursors = cursorKind[createdKey]{
	tag:    't',
	format: func(k createdKey) string { return fmt.Sprintf("%d|%s", k.at.UnixNano(), k.id) },
	parse: func(s string) (createdKey, bool) {
		ns, id, ok := strings.Cut(s, "|")
		n, err := strconv.ParseInt(ns, 10, 64)
		return createdKey{time.Unix(0, n).UTC(), gid.ID(id)}, ok && err == nil
	},
}

// createdQuery is an ent query of rows with created_at and id.
type createdQuery[Q, T any] interface {
	Clone() Q
	Count(context.Context) (int, error)
	All(context.Context) ([]T, error)
}

// byCreated is the keyset of the rows of q on (created_at, id): newest
// first when desc, else oldest first. what names the rows in errors.
func byCreated[T any, Q createdQuery[Q, T]](q Q, desc bool, what string, key func(T) createdKey) keyset[T, createdKey] {
	const createdAt, id = "created_at", "id"
	order, past := ent.Asc(createdAt, id), sql.FieldGT
	if desc {
		order, past = ent.Desc(createdAt, id), sql.FieldLT
	}
	return keyset[T, createdKey]{
		count: func(ctx context.Context) (int, error) {
			n, err := q.Clone().Count(ctx)
			if err != nil {
				return 0, fmt.Errorf("counting %s: %w", what, err)
			}
			return n, nil
		},
		fetch: func(ctx context.Context, after *createdKey, n int) ([]T, error) {
			iq, err := intercept.NewQuery(q)
			if err != nil {
				return nil, err
			}
			if after != nil {
				iq.WhereP(sql.OrPredicates(past(createdAt, after.at),
					sql.AndPredicates(sql.FieldEQ(createdAt, after.at), past(id, after.id))))
			}
			iq.Order(order)
			iq.Limit(n)
			rows, err := q.All(ctx)
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", what, err)
			}
			return rows, nil
		},
		key: key,
	}
}
