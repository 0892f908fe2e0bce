package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/money"
)

// Set-based batches of debits (PostgreSQL). A batch of the debit lanes run
// request by request costs each request its ledger statement one after
// the other while the balance rows are locked. Run set-based, the batch
// instead locks and reads its accounts' balances once, at its first
// posting; each request's work then runs as ever, but its Post only
// decides in memory, in order, whether the balance covers the debit,
// giving the posting its running balance and sequence; and ONE statement
// at the end writes every balance's final value (announced as every move
// is), every journal, posting and link, and the rows that rode along.
// Each request keeps its own posting, running balance, idempotency record,
// answer and after-commit calls, and the Moved hook is told of each move
// as Post tells it. Anything unusual (a credit, a hold, two balances in
// one entry, a balance move of its own, another account than the batch's)
// gives the batch back to the request-by-request path; so does a request
// that fails, as a batch without savepoints does.

// errUnusual: a request of a set-based batch does what only the
// request-by-request path does.
var errUnusual = errors.New("ledger: not a plain debit: run the batch request by request")

// setBatch is a set-based batch's state: the balances it locked, as its
// requests' debits leave them, and what the final statement writes.
type setBatch struct {
	accs     []string // the accounts whose balances it locks, in order
	locked   bool
	balances map[string]*setBalance // by account/currency
	order    []string               // the keys of balances, in lock order

	journals, jAgencies []string
	postings            [20]pgArray // by column of postingColumns (addPosting)
	links               []*setLinks

	calls []*debitCall          // the batch's requests, for their gates
	gates map[string]*gateState // by gate name (gate.go)
}

// setLinks are the Links of a set-based batch to one table that set the
// same columns: one UPDATE of one array per column.
type setLinks struct {
	table     string
	also      []Column // the columns' names and types (the first link's)
	ids, tids []string // the rows, and the transactions they are set to
	values    [][]any  // by column of also
}

type setBalance struct {
	acc                    *ent.Account
	cur                    string
	available, held, owed  int64
	seq, version           int64
	topupBelow, alertBelow sql.NullInt64
	alertLow               bool
	moved                  bool
	updated                time.Time
}

// setWork runs the batch's requests in tx set-based; a request that fails
// ends it with errNeedSavepoints, anything unusual with errUnusual (tx
// must then be rolled back).
func (l *Ledger) setWork(ctx context.Context, tx *Tx, live []*debitCall) error {
	if l.test.onBatchRun != nil {
		l.test.onBatchRun(false)
	}
	st := &setBatch{balances: map[string]*setBalance{}, calls: live}
	for _, c := range live { // in account order already
		if n := len(st.accs); n == 0 || st.accs[n-1] != string(c.acc) {
			st.accs = append(st.accs, string(c.acc))
		}
	}
	for i, c := range live {
		if c.ctx.Err() != nil && i > 0 {
			c.err = c.ctx.Err() // gave up while earlier requests ran: dropped
			continue
		}
		rtx := &Tx{Tx: tx.Tx, set: st}
		l.enter(rtx)
		o, err := l.onceIn(context.WithoutCancel(c.ctx), rtx, c.key, c.work)
		l.enter(tx)
		if errors.Is(err, errUnusual) {
			return err
		}
		if err != nil {
			c.err = err
			return errNeedSavepoints
		}
		c.out, c.ok, c.held = o, true, rtx
		tx.Announce(rtx.events...)
		tx.rows = append(tx.rows, rtx.rows...)
		rtx.rows = nil
	}
	if st.untakenGates() {
		return errUnusual // a row marked for a request that did not run its work
	}
	return l.writeSet(ctx, tx, st)
}

// lock locks and reads the balances of the batch's accounts, in (account,
// currency) order as every movement takes them.
func (l *Ledger) lockSet(ctx context.Context, tx *Tx, st *setBatch) error {
	st.locked = true
	rows, err := tx.QueryContext(ctx, `
		SELECT account_id, currency, available, held, owed, seq, version, topup_below, alert_below, alert_low
		FROM balances WHERE account_id = ANY($1::varchar[]) ORDER BY account_id, currency FOR UPDATE`, pq.Array(st.accs))
	if err != nil {
		return fmt.Errorf("ledger: locking balances: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var acc string
		b := &setBalance{}
		if err := rows.Scan(&acc, &b.cur, &b.available, &b.held, &b.owed, &b.seq, &b.version, &b.topupBelow, &b.alertBelow, &b.alertLow); err != nil {
			return fmt.Errorf("ledger: reading balances: %w", err)
		}
		k := acc + "/" + b.cur
		st.balances[k] = b
		st.order = append(st.order, k)
	}
	return rows.Close()
}

// postSet is Post's move and write of one balance's debit in a set-based
// batch: decided here, written by writeSet.
func (l *Ledger) postSet(ctx context.Context, tx *Tx, e Entry, ps []*ent.Posting, acc int, sh shift, now time.Time) (Moved, error) {
	st := tx.set
	lg := e.Legs[acc]
	if sh.avail >= 0 || sh.held != 0 || !sh.posting || e.Hold != nil {
		return Moved{}, errUnusual
	}
	if !st.locked {
		if err := l.lockSet(ctx, tx, st); err != nil {
			return Moved{}, err
		}
	}
	b := st.balances[string(lg.Account.ID)+"/"+e.Currency]
	if b == nil {
		known := false
		for _, a := range st.accs {
			known = known || a == string(lg.Account.ID)
		}
		if !known {
			return Moved{}, errUnusual // not locked by the batch
		}
		// No row: nothing to spend, as moveAndWrite finds.
		return Moved{}, l.refuse(Insufficient, "the balance does not cover %s", string(money.Format(-sh.avail, e.Currency))+" "+e.Currency)
	}
	if b.available < -sh.avail {
		return Moved{}, l.refuse(Insufficient, "the balance does not cover %s", string(money.Format(-sh.avail, e.Currency))+" "+e.Currency)
	}
	b.acc = lg.Account
	b.available += sh.avail
	b.seq++
	b.version++
	b.moved, b.updated = true, now
	total := b.available + b.held
	ps[acc].RunningBalance, ps[acc].Seq = &total, ptr(b.seq)

	jid := gid.New(gid.Journal)
	st.journals, st.jAgencies = append(st.journals, string(jid)), append(st.jAgencies, string(e.AgencyID))
	for _, p := range ps {
		p.JournalID = jid
		st.addPosting(p, jid, now)
	}
	if e.Link != nil {
		st.link(e.Link, ps[0].ID)
	}
	return Moved{Balance: b.available, Seq: b.seq, Held: b.held, Version: b.version,
		TopupBelow: b.topupBelow, AlertBelow: b.alertBelow, AlertLow: b.alertLow, owed: b.owed}, nil
}

// addPosting adds p to the batch's postings: what arrayOf writes of
// postingValues(p, jid, now) and p's running balance and sequence (NULL
// without a running balance), column by column, without boxing each value
// into an interface and converting it back.
func (st *setBatch) addPosting(p *ent.Posting, jid gid.ID, now time.Time) {
	c := &st.postings
	c[0].str(string(p.ID))
	c[1].timestamp(now)
	c[2].str(string(jid))
	c[3].str(string(p.AgencyID))
	optStr(&c[4], p.AccountID)
	c[5].str(p.Book)
	c[6].str(string(p.Kind))
	c[7].str(p.Reference)
	c[8].str(p.Currency)
	c[9].int(p.Amount)
	optStr(&c[10], p.ServiceID)
	optStr(&c[11], p.Variant)
	if p.Quantity != nil {
		c[12].int(int64(*p.Quantity))
	} else {
		c[12].null()
	}
	optStr(&c[13], p.HoldID)
	c[14].str(p.Actor)
	optStr(&c[15], p.Reason)
	optStr(&c[16], p.ReversesID)
	optStr(&c[17], p.PaymentID)
	if p.RunningBalance != nil {
		c[18].int(*p.RunningBalance)
		c[19].int(*p.Seq)
	} else {
		c[18].null()
		c[19].null()
	}
}

// optStr adds *v to a, or NULL if v is nil.
func optStr[S ~string](a *pgArray, v *S) {
	if v == nil {
		a.null()
		return
	}
	a.str(string(*v))
}

// link adds lk (set to the transaction tid) to the batch's links.
func (st *setBatch) link(lk *Link, tid gid.ID) {
	var g *setLinks
	for _, o := range st.links {
		if o.table == lk.Table && slices.EqualFunc(o.also, lk.Also, func(a, b Column) bool { return a.Name == b.Name && a.Type == b.Type }) {
			g = o
			break
		}
	}
	if g == nil {
		g = &setLinks{table: lk.Table, also: lk.Also, values: make([][]any, len(lk.Also))}
		st.links = append(st.links, g)
	}
	g.ids, g.tids = append(g.ids, string(lk.ID)), append(g.tids, string(tid))
	for i, c := range lk.Also {
		g.values[i] = append(g.values[i], c.Value)
	}
}

// postingTypes are the PostgreSQL array types of postingColumns.
var postingTypes = [20]string{"varchar", "timestamptz", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar", "varchar", "bigint",
	"varchar", "varchar", "bigint", "varchar", "varchar", "varchar", "varchar", "varchar", "bigint", "bigint"}

// writeSet writes what the batch's requests decided in one statement:
// the balances' final values (announced), the journals, the postings, the
// links and the rows that rode along.
func (l *Ledger) writeSet(ctx context.Context, tx *Tx, st *setBatch) error {
	if len(st.journals) == 0 {
		return nil // no posting (every request replayed): the rows go before COMMIT
	}
	var bAccs, bCurs []string
	var bAvail, bSeq, bVersion []int64
	var updated time.Time
	for _, k := range st.order {
		b := st.balances[k]
		if !b.moved {
			continue
		}
		bAccs, bCurs = append(bAccs, string(b.acc.ID)), append(bCurs, b.cur)
		bAvail, bSeq, bVersion = append(bAvail, b.available), append(bSeq, b.seq), append(bVersion, b.version)
		if b.updated.After(updated) {
			updated = b.updated
		}
	}
	args := []any{updated, pq.Array(bAccs), pq.Array(bCurs), pq.Array(bAvail), pq.Array(bSeq), pq.Array(bVersion),
		updated, pq.Array(st.journals), pq.Array(st.jAgencies)}
	var q strings.Builder
	q.WriteString(`WITH u AS (
			UPDATE balances SET available = v.av, seq = v.sq, version = v.vr, updated_at = ?
			FROM unnest(?::varchar[], ?::varchar[], ?::bigint[], ?::bigint[], ?::bigint[]) AS v(ac, cu, av, sq, vr)
			WHERE balances.account_id = v.ac AND balances.currency = v.cu
			RETURNING pg_notify('` + events.Channel + `', ` + events.BalanceSQL + `)),
		j AS (INSERT INTO journals (id, created_at, agency_id)
			SELECT x.id, ?::timestamptz, x.ag FROM unnest(?::varchar[], ?::varchar[]) AS x(id, ag)),
		p AS (INSERT INTO postings (` + postingColumns + `) SELECT * FROM unnest(`)
	for n := range st.postings {
		if n > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?::" + postingTypes[n] + "[]")
		args = append(args, st.postings[n].text())
	}
	q.WriteString("))")
	for n, g := range st.links {
		set, arrays, names := "transaction_id = x.t", "?::varchar[], ?::varchar[]", "id, t"
		args = append(args, pq.Array(g.ids), pq.Array(g.tids))
		for i, c := range g.also {
			set += fmt.Sprintf(", %s = x.a%d", c.Name, i)
			arrays += ", ?::" + c.Type + "[]"
			names += fmt.Sprintf(", a%d", i)
			args = append(args, arrayOf(c.Type, g.values[i]))
		}
		fmt.Fprintf(&q, `, l%d AS (UPDATE %s SET %s FROM unnest(%s) AS x(%s) WHERE %s.id = x.id)`, n, g.table, set, arrays, names, g.table)
	}
	ctes, rargs := rideCTEs(tx)
	q.WriteString(ctes)
	args = append(args, rargs...)
	q.WriteString(` SELECT count(*) FROM u`)
	rows, err := tx.QueryContext(ctx, l.Rebind(q.String()), args...)
	if err != nil {
		return fmt.Errorf("ledger: writing a batch of %d debits: %w", len(st.journals), err)
	}
	var moved int
	if rows.Next() {
		err = rows.Scan(&moved)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("ledger: writing a batch of %d debits: %w", len(st.journals), err)
	}
	if moved != len(bAccs) {
		return fmt.Errorf("ledger: a batch moved %d balances of %d", moved, len(bAccs))
	}
	return nil
}

// arrayOf is vs (postingValues' values, nil for NULL) as an array
// parameter of type typ: what pq.Array sent for them as sql.NullInt64
// (bigint: an int64 or int, anything else NULL) or sql.NullString (any
// other type: a string, an id, a time in UTC with its offset, a Stringer,
// anything else as fmt.Sprint writes it).
func arrayOf(typ string, vs []any) string {
	var a pgArray
	if typ == "bigint" {
		a.b.Grow(2 + 12*len(vs))
		for _, v := range vs {
			switch x := v.(type) {
			case int64:
				a.int(x)
			case int:
				a.int(int64(x))
			default:
				a.null()
			}
		}
		return a.text()
	}
	a.b.Grow(2 + 32*len(vs))
	for _, v := range vs {
		switch x := v.(type) {
		case string:
			a.str(x)
		case gid.ID:
			a.str(string(x))
		case time.Time:
			a.timestamp(x)
		case fmt.Stringer:
			a.str(x.String())
		case nil:
			a.null()
		default:
			a.str(fmt.Sprint(x))
		}
	}
	return a.text()
}
