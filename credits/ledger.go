package credits

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
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
}

// post writes e inside tx: for each account leg, in a fixed order (so two
// movements never deadlock), it moves the balance with a single conditional
// statement that returns the new balance and sequence (a debit that would go
// below zero matches no row: INSUFFICIENT_CREDITS, and the CHECK constraint
// backs it up); then the journal and its postings, each account posting with
// its running balance. Nothing is read first and written later, so there is
// no read-modify-write race; the caller commits it with its business change.
// It returns the postings in the order of e.legs.
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
	// The journal first: it needs no lock, so the balance rows stay locked
	// for as few round trips as possible (postings, business change, COMMIT).
	j, err := tx.Journal.Create().SetAgencyID(e.agencyID).SetCreatedAt(now).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: writing journal: %w", err)
	}
	after := make(map[int]moved, len(order))
	for _, i := range order {
		l := e.legs[i]
		m, err := s.moveBalance(ctx, tx, l.account, e.currency, l.amount, now)
		if err != nil {
			return nil, err
		}
		if err := s.queueTriggered(ctx, tx, l.account, e.currency, l.amount, m); err != nil {
			return nil, err
		}
		after[i] = m
	}

	creates := make([]*ent.PostingCreate, len(e.legs))
	for i, l := range e.legs {
		c := tx.Posting.Create().SetJournalID(j.ID).SetAgencyID(e.agencyID).SetKind(e.kind).
			SetReference(e.reference).SetCurrency(e.currency).SetAmount(l.amount).SetCreatedAt(now)
		if l.account != nil {
			m := after[i]
			c.SetAccountID(l.account.ID).SetRunningBalance(m.balance).SetSeq(m.seq)
		} else {
			c.SetBook(l.book)
		}
		creates[i] = c
	}
	ps, err := tx.Posting.CreateBulk(creates...).Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("ledger: writing postings: %w", err)
	}
	var evs []events.Event
	for i, l := range e.legs {
		ps[i].Edges.Account = l.account
		if l.account != nil && s.dialect != dialect.Postgres { // PostgreSQL: announced by moveBalance
			m := after[i]
			evs = append(evs, events.Event{Balance: &events.Balance{
				AccountID: l.account.ID, AgencyID: l.account.AgencyID, Currency: e.currency,
				Available: m.balance, Seq: m.seq, UpdatedAt: now,
			}})
		}
	}
	s.announce(tx, evs...)
	return ps, nil
}

// moved is a balance right after a movement, with the triggers its row
// carries (see queueTriggered).
type moved struct {
	balance, seq           int64
	topupBelow, alertBelow sql.NullInt64
	alertLow               bool
}

// moveBalance adds amount to the account's balance in cur in one statement
// and returns the balance and sequence after it. A credit creates the row on
// first use; a debit never does (no row means nothing to spend).
func (s *Service) moveBalance(ctx context.Context, tx *ent.Tx, acc *ent.Account, cur string, amount int64, now time.Time) (moved, error) {
	var m moved
	var (
		query string
		args  []any
	)
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
		query += `, pg_notify('` + events.Channel + `', json_build_object('b', json_build_object(
			'a', account_id, 'g', agency_id, 'c', currency, 'v', available, 's', seq, 't', updated_at))::text)`
	}
	rows, err := tx.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return m, fmt.Errorf("ledger: moving balance of %s: %w", acc.ID, err)
	}
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

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Service) rebind(q string) string {
	if s.dialect != dialect.Postgres {
		return q
	}
	var b strings.Builder
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
