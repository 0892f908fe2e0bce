package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/money"
)

const postingColumns = `id, created_at, journal_id, agency_id, account_id, book, kind, reference, currency, amount, service_id, variant, quantity, hold_id, actor, reason, reverses_id, payment_id, running_balance, seq`

// postingValues are p's values for postingColumns but the last two
// (running_balance, seq), which the caller adds.
func postingValues(p *ent.Posting, jid gid.ID, now time.Time) []any {
	var account, service, variant, quantity, hold, reason, reverses, payment any // NULL unless set
	if p.AccountID != nil {
		account = *p.AccountID
	}
	if p.ServiceID != nil {
		service = *p.ServiceID
	}
	if p.Variant != nil {
		variant = *p.Variant
	}
	if p.Quantity != nil {
		quantity = *p.Quantity
	}
	if p.HoldID != nil {
		hold = *p.HoldID
	}
	if p.Reason != nil {
		reason = *p.Reason
	}
	if p.ReversesID != nil {
		reverses = *p.ReversesID
	}
	if p.PaymentID != nil {
		payment = *p.PaymentID
	}
	return []any{p.ID, now, jid, p.AgencyID, account, p.Book, string(p.Kind), p.Reference, p.Currency, p.Amount, service, variant, quantity, hold,
		p.Actor, reason, reverses, payment}
}

// writeJournal inserts the journal of ps, its postings and e.Link: one
// statement on PostgreSQL (data-modifying CTEs; the foreign keys are
// checked at the end of the statement), one each on SQLite.
func (l *Ledger) writeJournal(ctx context.Context, tx *Tx, e Entry, ps []*ent.Posting, now time.Time) error {
	jid := gid.New(gid.Journal)
	jargs := []any{jid, now, e.AgencyID}
	var vals strings.Builder
	pargs := make([]any, 0, 20*len(ps))
	for i, p := range ps {
		p.JournalID = jid
		if i > 0 {
			vals.WriteString(", ")
		}
		vals.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
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
	if e.Link != nil {
		set, also := linkSet(e.Link)
		linkSQL = `UPDATE ` + e.Link.Table + ` SET ` + set + ` WHERE id = ?`
		largs = append(append([]any{ps[0].ID}, also...), e.Link.ID)
	}
	if l.dialect == dialect.Postgres {
		ctes, rargs := rideCTEs(tx)
		q := `WITH j AS (` + journal + `)` + ctes
		args := append(append(jargs, rargs...), pargs...)
		if linkSQL != "" {
			q += `, p AS (` + postings + `) ` + linkSQL
			args = append(args, largs...)
		} else {
			q += ` ` + postings
		}
		if _, err := tx.ExecContext(ctx, l.Rebind(q), args...); err != nil {
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

// moveAndWrite is Post's one statement on PostgreSQL for a movement of one
// balance, whose posting is ps[acc]: the balance move as a CTE, then the
// journal, the postings (that one with the running balance and sequence
// the move returned) and e.Link, each written from the move's row, so a
// debit the balance does not cover writes nothing at all. The foreign keys
// are checked at the end of the statement. Parameters are cast because a
// SELECT list gives them no type of its own.
func (l *Ledger) moveAndWrite(ctx context.Context, tx *Tx, e Entry, ps []*ent.Posting, acc int, sh shift, now time.Time) (Moved, error) {
	lg := e.Legs[acc]
	move, args := l.balanceMove(lg.Account, e.Currency, sh, now)
	jid := gid.New(gid.Journal)
	var q strings.Builder
	q.WriteString(`WITH b AS (` + move + `),
		j AS (INSERT INTO journals (id, created_at, agency_id) SELECT ?::varchar, ?::timestamptz, ?::varchar FROM b),
		p AS (INSERT INTO postings (` + postingColumns + `) `)
	args = append(args, jid, now, e.AgencyID)
	for i, p := range ps {
		p.JournalID = jid
		if i > 0 {
			q.WriteString(` UNION ALL `)
		}
		balance := `NULL::bigint, NULL::bigint`
		if i == acc {
			balance = `b.available + b.held, b.seq` // the running balance is the total
		}
		q.WriteString(`SELECT ?::varchar, ?::timestamptz, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::bigint, ?::varchar, ?::varchar, ?::bigint, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ?::varchar, ` + balance + ` FROM b`)
		args = append(args, postingValues(p, jid, now)...)
	}
	q.WriteString(`)`)
	ctes, rargs := rideCTEs(tx)
	q.WriteString(ctes)
	args = append(args, rargs...)
	if e.Link != nil {
		set, also := linkSet(e.Link)
		q.WriteString(`, l AS (UPDATE ` + e.Link.Table + ` SET ` + set + ` WHERE id = ? AND EXISTS (SELECT 1 FROM b))`)
		args = append(append(append(args, ps[0].ID), also...), e.Link.ID)
	}
	q.WriteString(` SELECT * FROM b`)
	rows, err := tx.QueryContext(ctx, l.Rebind(q.String()), args...)
	if err != nil {
		return Moved{}, fmt.Errorf("ledger: writing %s entry: %w", e.Kind, err)
	}
	m, err := l.scanMoved(rows, lg.Account, e.Currency, sh)
	if err != nil {
		return m, err
	}
	total := m.Balance + m.Held
	ps[acc].RunningBalance, ps[acc].Seq = &total, &m.Seq
	return m, nil
}

// linkSet is the SET list of lk's UPDATE, transaction_id's placeholder
// first, and the values of the columns it also sets (lk.Also).
func linkSet(lk *Link) (string, []any) {
	set := "transaction_id = ?"
	var args []any
	for _, c := range lk.Also {
		set += ", " + c.Name + " = ?"
		args = append(args, c.Value)
	}
	return set, args
}

// shift is what one statement does to a balance: available and held
// change by avail and held, and a movement of the ledger (posting) counts
// in seq. A posting's leg shifts available by its amount; a capture takes
// its amount out of held (and a final one releases the rest to
// available); a hold moves credits from available to held, a release or
// expiry back. Neither available nor held may go below zero: the
// statement is conditional on both.
type shift struct {
	avail, held int64
	posting     bool
}

// moveBalance shifts the account's balance in cur in one statement and
// returns the balance and sequence after it. A credit creates the row on
// first use; a debit never does (no row means nothing to spend). Every
// balance write is balanceMove's statement, here or inside moveAndWrite's,
// batched debits (group.go) included, each inside its request's work.
func (l *Ledger) moveBalance(ctx context.Context, tx *Tx, acc *ent.Account, cur string, sh shift, now time.Time) (Moved, error) {
	if tx.set != nil {
		return Moved{}, errUnusual // a set-based batch moves its balances at its end
	}
	query, args := l.balanceMove(acc, cur, sh, now)
	rows, err := tx.QueryContext(ctx, l.Rebind(query), args...)
	if err != nil {
		return Moved{}, fmt.Errorf("ledger: moving balance of %s: %w", acc.ID, err)
	}
	return l.scanMoved(rows, acc, cur, sh)
}

// balanceMove is the statement that moves the balance, returning the
// columns scanMoved reads (and, on PostgreSQL, announcing the new balance).
func (l *Ledger) balanceMove(acc *ent.Account, cur string, sh shift, now time.Time) (query string, args []any) {
	const returning = `
			RETURNING available, seq, topup_below, alert_below, alert_low, held, version, owed`
	if sh.avail < 0 || sh.held != 0 {
		seq := `seq`
		if sh.posting {
			seq = `seq + 1`
		}
		if sh.held == 0 {
			query = `UPDATE balances SET available = available + ?, seq = ` + seq + `, version = version + 1, updated_at = ?
			WHERE account_id = ? AND currency = ? AND available >= ?` + returning
			args = []any{sh.avail, now, acc.ID, cur, -sh.avail}
		} else {
			query = `UPDATE balances SET available = available + ?, held = held + ?, seq = ` + seq + `, version = version + 1, updated_at = ?
			WHERE account_id = ? AND currency = ? AND available >= ? AND held >= ?` + returning
			args = []any{sh.avail, sh.held, now, acc.ID, cur, max(-sh.avail, 0), max(-sh.held, 0)}
		}
	} else {
		amount := sh.avail
		// The overflow guard matters on SQLite, which would silently turn an
		// overflowing integer into a float.
		// The total (available + held) is what must fit.
		query = `INSERT INTO balances (id, account_id, agency_id, currency, available, seq, version, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, 1, ?)
			ON CONFLICT (account_id, currency) DO UPDATE
			SET available = balances.available + excluded.available, seq = balances.seq + 1, version = balances.version + 1, updated_at = excluded.updated_at
			WHERE balances.available + balances.held <= ` + strconv.FormatInt(math.MaxInt64, 10) + ` - excluded.available` + returning
		args = []any{gid.New(gid.Balance), acc.ID, acc.AgencyID, cur, amount, now}
	}
	if l.dialect == dialect.Postgres {
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
func (l *Ledger) scanMoved(rows *sql.Rows, acc *ent.Account, cur string, sh shift) (Moved, error) {
	var m Moved
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return m, fmt.Errorf("ledger: moving balance of %s: %w", acc.ID, err)
		}
		switch {
		case sh.avail < 0:
			return m, l.refuse(Insufficient, "the balance does not cover %s", string(money.Format(-sh.avail, cur))+" "+cur)
		case sh.held < 0:
			return m, l.refuse(Insufficient, "the held credits do not cover %s", string(money.Format(-sh.held, cur))+" "+cur)
		}
		return m, l.refuse(BadInput, "the balance would exceed the largest amount this currency can hold")
	}
	var owed int64
	dest := []any{&m.Balance, &m.Seq, &m.TopupBelow, &m.AlertBelow, &m.AlertLow, &m.Held, &m.Version, &owed}
	if l.dialect == dialect.Postgres {
		dest = append(dest, new(any))
	}
	if err := rows.Scan(dest...); err != nil {
		return m, fmt.Errorf("ledger: reading balance of %s: %w", acc.ID, err)
	}
	m.owed = owed
	if sh.posting && sh.avail > 0 && sh.held == 0 {
		m.Owed = owed // a credit of the ledger pays it off; a hold's release does not
	}
	return m, rows.Close()
}

// rebound remembers Rebind's answers: our statements come in a few shapes
// (their values are arguments), built afresh for each call, and a ledger
// statement is long. Bounded all the same, in case a caller ever builds
// statements of unbounded variety.
var (
	rebound  sync.Map // statement with ? → with $n
	nRebound atomic.Int32
)

const maxRebound = 512

// Rebind turns ? placeholders into PostgreSQL's $n (the domain's raw
// statements use it too).
func (l *Ledger) Rebind(q string) string {
	if l.dialect != dialect.Postgres {
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
