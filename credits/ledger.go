package credits

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/events"
	"creditgate/gid"
)

// Counter-accounts: the other side of every movement. They are books of
// postings without a balance row, so they are never locked and no two
// client accounts ever wait for each other through them.
const (
	bookRevenue     = "revenue"     // the agency earned it: invoices and services paid with credits
	bookReceivables = "receivables" // credit granted on a post-paid arrangement, owed to the agency
	bookClearing    = "clearing:"   // + provider or method: money received from outside
)

// leg is one side of a movement: an account (with a balance) or a book.
type leg struct {
	account *ent.Account
	book    string
	amount  int64 // positive credits the account (IN), negative debits it (OUT)
}

// entry is a balanced movement of money in one currency.
type entry struct {
	kind      posting.Kind
	reference string
	currency  string
	agencyID  gid.ID
	legs      []leg
	link      *link // optional: set transaction_id there to the first posting
}

// post writes e inside tx: for each account leg, in a fixed order (so two
// movements never deadlock), it moves the balance with a single conditional
// statement that returns the new balance and sequence (a debit that would go
// below zero matches no row: INSUFFICIENT_CREDITS, and the CHECK constraint
// backs it up); then the journal and its postings, each account posting with
// its running balance, in one statement on PostgreSQL (with e.link, if any).
// Nothing is read first and written later, so there is no read-modify-write
// race; the caller commits it with its business change. The balance rows
// stay locked from their update to COMMIT. On PostgreSQL a movement of one
// balance is a single statement (moveAndWrite), one of two balances three.
// It returns the postings in the order of e.legs; they are built here, not
// read back, so their account edge is the leg's account (nil for books).
func (s *Service) post(ctx context.Context, tx *ent.Tx, e entry) ([]*ent.Posting, error) {
	var sum int64
	for _, l := range e.legs {
		if l.amount == 0 {
			return nil, fmt.Errorf("ledger: zero leg in %s entry", e.kind)
		}
		sum += l.amount
	}
	if sum != 0 || len(e.legs) < 2 {
		return nil, fmt.Errorf("ledger: unbalanced %s entry (sum %d, %d legs)", e.kind, sum, len(e.legs))
	}
	order := make([]int, 0, len(e.legs))
	for i, l := range e.legs {
		if l.account != nil {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return e.legs[order[a]].account.ID < e.legs[order[b]].account.ID })

	now := time.Now().UTC()
	ps := make([]*ent.Posting, len(e.legs))
	for i, l := range e.legs {
		p := &ent.Posting{
			ID: gid.New(gid.Posting), CreatedAt: now, AgencyID: e.agencyID, Book: l.book, Kind: e.kind,
			Reference: e.reference, Currency: e.currency, Amount: l.amount,
		}
		if l.account != nil {
			p.AccountID = &l.account.ID
			p.Edges.Account = l.account
		}
		ps[i] = p
	}
	if s.dialect == dialect.Postgres && len(order) == 1 {
		// One balance (every movement but allocations): its move, the
		// journal, the postings and the link in ONE statement.
		i := order[0]
		l := e.legs[i]
		m, err := s.moveAndWrite(ctx, tx, e, ps, i, now)
		if err != nil {
			return nil, err
		}
		if err := s.queueTriggered(ctx, tx, l.account, e.currency, l.amount, m); err != nil {
			return nil, err
		}
	} else {
		for _, i := range order {
			l := e.legs[i]
			m, err := s.moveBalance(ctx, tx, l.account, e.currency, l.amount, now)
			if err != nil {
				return nil, err
			}
			if err := s.queueTriggered(ctx, tx, l.account, e.currency, l.amount, m); err != nil {
				return nil, err
			}
			ps[i].RunningBalance, ps[i].Seq = &m.balance, &m.seq
		}
		if err := s.writeJournal(ctx, tx, e, ps, now); err != nil {
			return nil, err
		}
	}
	var evs []events.Event
	for i, l := range e.legs {
		if l.account != nil && s.dialect != dialect.Postgres { // PostgreSQL: announced by moveBalance
			evs = append(evs, events.Event{Balance: &events.Balance{
				AccountID: l.account.ID, AgencyID: l.account.AgencyID, Currency: e.currency,
				Available: *ps[i].RunningBalance, Seq: *ps[i].Seq, UpdatedAt: now,
			}})
		}
	}
	s.announce(ctx, tx, evs...)
	if obs := s.moneyMoved; obs != nil {
		var moved int64
		for _, l := range e.legs {
			moved += max(l.amount, 0)
		}
		s.afterCommit(ctx, tx, func() { obs(e.kind, e.currency, moved) })
	}
	return ps, nil
}

// moved is a balance right after a movement, with the triggers its row
// carries (see queueTriggered).
type moved struct {
	balance, seq           int64
	topupBelow, alertBelow sql.NullInt64
	alertLow               bool
}

// link names a row whose transaction_id is set to an entry's first posting
// in the statement that writes the entry.
type link struct {
	table string // "invoices"
	id    gid.ID
}

const postingColumns = `id, created_at, journal_id, agency_id, account_id, book, kind, reference, currency, amount, running_balance, seq`

// postingValues are p's values for postingColumns but the last two
// (running_balance, seq), which the caller adds.
func postingValues(p *ent.Posting, jid gid.ID, now time.Time) []any {
	var account any // NULL for a book's posting
	if p.AccountID != nil {
		account = *p.AccountID
	}
	return []any{p.ID, now, jid, p.AgencyID, account, p.Book, string(p.Kind), p.Reference, p.Currency, p.Amount}
}

// writeJournal inserts the journal of ps, its postings and e.link: one
// statement on PostgreSQL (data-modifying CTEs; the foreign keys are
// checked at the end of the statement), one each on SQLite.
func (s *Service) writeJournal(ctx context.Context, tx *ent.Tx, e entry, ps []*ent.Posting, now time.Time) error {
	jid := gid.New(gid.Journal)
	jargs := []any{jid, now, e.agencyID}
	var vals strings.Builder
	pargs := make([]any, 0, 12*len(ps))
	for i, p := range ps {
		p.JournalID = jid
		if i > 0 {
			vals.WriteString(", ")
		}
		vals.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		var rb, seq any
		if p.RunningBalance != nil {
			rb, seq = *p.RunningBalance, *p.Seq
		}
		pargs = append(append(pargs, postingValues(p, jid, now)...), rb, seq)
	}
	const journal = `INSERT INTO journals (id, created_at, agency_id) VALUES (?, ?, ?)`
	postings := `INSERT INTO postings (` + postingColumns + `) VALUES ` + vals.String()
	var linkSQL string
	var largs []any
	if e.link != nil {
		linkSQL = `UPDATE ` + e.link.table + ` SET transaction_id = ? WHERE id = ?`
		largs = []any{ps[0].ID, e.link.id}
	}
	if s.dialect == dialect.Postgres {
		q := `WITH j AS (` + journal + `)`
		args := append(jargs, pargs...)
		if linkSQL != "" {
			q += `, p AS (` + postings + `) ` + linkSQL
			args = append(args, largs...)
		} else {
			q += ` ` + postings
		}
		if _, err := tx.ExecContext(ctx, s.rebind(q), args...); err != nil {
			return fmt.Errorf("ledger: writing journal: %w", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, journal, jargs...); err != nil {
		return fmt.Errorf("ledger: writing journal: %w", err)
	}
	if _, err := tx.ExecContext(ctx, postings, pargs...); err != nil {
		return fmt.Errorf("ledger: writing postings: %w", err)
	}
	if linkSQL != "" {
		if _, err := tx.ExecContext(ctx, linkSQL, largs...); err != nil {
			return fmt.Errorf("ledger: linking transaction: %w", err)
		}
	}
	return nil
}

// moveAndWrite is post's one statement on PostgreSQL for a movement of one
// balance, whose posting is ps[acc]: the balance move as a CTE, then the
// journal, the postings (that one with the running balance and sequence
// the move returned) and e.link, each written from the move's row, so a
// debit the balance does not cover writes nothing at all. The foreign keys
// are checked at the end of the statement. Parameters are cast because a
// SELECT list gives them no type of its own.
func (s *Service) moveAndWrite(ctx context.Context, tx *ent.Tx, e entry, ps []*ent.Posting, acc int, now time.Time) (moved, error) {
	l := e.legs[acc]
	move, args := s.balanceMove(l.account, e.currency, l.amount, now)
	jid := gid.New(gid.Journal)
	var q strings.Builder
	q.WriteString(`WITH b AS (` + move + `),
		j AS (INSERT INTO journals (id, created_at, agency_id) SELECT ?::varchar, ?::timestamptz, ?::varchar FROM b),
		p AS (INSERT INTO postings (` + postingColumns + `) `)
	args = append(args, jid, now, e.agencyID)
	for i, p := range ps {
		p.JournalID = jid
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		balance := `NULL::bigint, NULL::bigint`
		if i == acc {
			balance = `b.available, b.seq`
		}
		q.WriteString(`SELECT ?::varchar, ?::timestamptz, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::bigint, ` + balance + ` FROM b`)
		args = append(args, postingValues(p, jid, now)...)
	}
	q.WriteString(`)`)
	if e.link != nil {
		q.WriteString(`, l AS (UPDATE ` + e.link.table + ` SET transaction_id = ? WHERE id = ? AND EXISTS (SELECT 1 FROM b))`)
		args = append(args, ps[0].ID, e.link.id)
	}
	q.WriteString(` SELECT * FROM b`)
	rows, err := tx.QueryContext(ctx, s.rebind(q.String()), args...)
	if err != nil {
		return moved{}, fmt.Errorf("ledger: writing %s entry: %w", e.kind, err)
	}
	m, err := s.scanMoved(rows, l.account, e.currency, l.amount)
	if err != nil {
		return m, err
	}
	ps[acc].RunningBalance, ps[acc].Seq = &m.balance, &m.seq
	return m, nil
}

// moveBalance adds amount to the account's balance in cur in one statement
// and returns the balance and sequence after it. A credit creates the row on
// first use; a debit never does (no row means nothing to spend). Every
// balance write is balanceMove's statement, here or inside moveAndWrite's,
// batched debits (group.go) included, each inside its request's work.
func (s *Service) moveBalance(ctx context.Context, tx *ent.Tx, acc *ent.Account, cur string, amount int64, now time.Time) (moved, error) {
	query, args := s.balanceMove(acc, cur, amount, now)
	rows, err := tx.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return moved{}, fmt.Errorf("ledger: moving balance of %s: %w", acc.ID, err)
	}
	return s.scanMoved(rows, acc, cur, amount)
}

// balanceMove is the statement that moves the balance, returning the
// columns scanMoved reads (and, on PostgreSQL, announcing the new balance).
func (s *Service) balanceMove(acc *ent.Account, cur string, amount int64, now time.Time) (query string, args []any) {
	if amount < 0 {
		query = `UPDATE balances SET available = available + ?, seq = seq + 1, updated_at = ?
			WHERE account_id = ? AND currency = ? AND available >= ?
			RETURNING available, seq, topup_below, alert_below, alert_low`
		args = []any{amount, now, acc.ID, cur, -amount}
	} else {
		// The overflow guard matters on SQLite, which would silently turn an
		// overflowing integer into a float.
		query = `INSERT INTO balances (id, account_id, agency_id, currency, available, seq, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?)
			ON CONFLICT (account_id, currency) DO UPDATE
			SET available = balances.available + excluded.available, seq = balances.seq + 1, updated_at = excluded.updated_at
			WHERE balances.available <= ` + strconv.FormatInt(math.MaxInt64, 10) + ` - excluded.available
			RETURNING available, seq, topup_below, alert_below, alert_low`
		args = []any{gid.New(gid.Balance), acc.ID, acc.AgencyID, cur, amount, now}
	}
	if s.dialect == dialect.Postgres {
		// Announce the new balance in the same statement: a NOTIFY is
		// delivered only if the transaction commits, and this saves a round
		// trip while the row is locked.
		// The payload is events.Balance's wire format (events.BalanceSQL).
		query += `, pg_notify('` + events.Channel + `', ` + events.BalanceSQL + `)`
	}
	return query, args
}

// scanMoved reads the balance a move returned; no row is a debit the
// balance does not cover (or a credit it cannot hold).
func (s *Service) scanMoved(rows *sql.Rows, acc *ent.Account, cur string, amount int64) (moved, error) {
	var m moved
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return m, fmt.Errorf("ledger: moving balance of %s: %w", acc.ID, err)
		}
		if amount < 0 {
			return m, newErr(CodeInsufficientCredits, "the balance does not cover %s", fmtAmount(-amount, cur))
		}
		return m, badInput("the balance would exceed the largest amount this currency can hold")
	}
	dest := []any{&m.balance, &m.seq, &m.topupBelow, &m.alertBelow, &m.alertLow}
	if s.dialect == dialect.Postgres {
		dest = append(dest, new(any))
	}
	if err := rows.Scan(dest...); err != nil {
		return m, fmt.Errorf("ledger: reading balance of %s: %w", acc.ID, err)
	}
	return m, rows.Close()
}

// rebound remembers rebind's answers: our statements come in a few shapes
// (their values are arguments), built afresh for each call, and a ledger
// statement is long. Bounded all the same, in case a caller ever builds
// statements of unbounded variety.
var (
	rebound  sync.Map // statement with ? → with $n
	nRebound atomic.Int32
)

const maxRebound = 512

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Service) rebind(q string) string {
	if s.dialect != dialect.Postgres {
		return q
	}
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	r := numberPlaceholders(q)
	if nRebound.Add(1) <= maxRebound {
		rebound.Store(q, r)
	}
	return r
}

func numberPlaceholders(q string) string {
	var b strings.Builder
	b.Grow(len(q) + len(q)/8)
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
