package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"github.com/lib/pq"

	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/money"
)

// Set-based debits: metered usage arrives in calls of up to a thousand
// events, each an independent all-or-nothing debit of one account to a book
// with its own idempotency key. Posted one by one (RunAll) each costs its
// claim, move and record statements; PostAll does a whole call in one
// transaction of two statements on PostgreSQL (BEGIN and COMMIT aside),
// whatever its size:
//
//  1. claim every key at once (INSERT … ON CONFLICT DO NOTHING RETURNING),
//     each with its record already written (the id its debit's posting
//     will have): a key not claimed was used before (or by an earlier
//     event of the call): it is a replay, answered from its record after
//     COMMIT; and, in the same statement, lock the debits' balances, in
//     (account, currency) order like every movement, and read them
//     (SELECT … FOR UPDATE);
//  2. decide each debit in the given order, here: covered, it takes its
//     running balance and sequence; not covered, it is refused, its key
//     is given back, and nothing moves for it;
//  3. write it all in ONE statement: the balances' new values (announced
//     with pg_notify as every balance move is), a journal and two postings
//     per debit, and the refused debits' keys deleted.
//
// The balance rows stay locked from step 1 to COMMIT, so a concurrent
// movement of the same balance waits, as it would for a batch of the
// debit lanes. Triggers (auto top-up, alerts) are told once per balance,
// with its final state. On SQLite (one writer) PostAll is RunAll's path.
//
// Concurrent calls share transactions (group commit): a call runs at once
// while fewer than postRunners groups are in flight; otherwise it waits,
// and when a group ends the calls waiting go through ONE transaction
// together, each keeping its own results (and its own audit event, through
// then). A service sending one event per call thereby pays a share of
// four round trips per event instead of a transaction's worth; a group
// whose transaction fails runs its calls again one by one, so that one
// call's failure is never another's.

// postRunners is how many groups of PostAll calls run at once (each one
// transaction); postGroupDebits bounds a group's debits (a bigger call runs
// alone). Big calls are grouped too: 8 callers of 100 events each, in
// process on PostgreSQL, cost 9,340 µs of PostgreSQL CPU a call each in a
// transaction of its own, 6,515 µs in groups (BenchmarkRecordUsage).
const (
	postRunners     = 2
	postGroupDebits = 1000
)

// Debit is one debit of PostAll: Entry has two legs, the account's
// (negative) first and a book's; Key is required.
type Debit struct {
	Op    string
	Key   string
	Scope string
	Input any
	Entry Entry
}

// DebitResult is one debit's outcome, in the order of the debits.
type DebitResult struct {
	Posting  *ent.Posting // the account's posting, on a first run
	Replayed bool         // the key was used before: Outcome names its transaction
	Outcome  Outcome
	Err      error // refused or failed: nothing moved for it
}

// postCall is one PostAll call, waiting for its group or in it.
type postCall struct {
	ctx   context.Context
	ds    []Debit
	then  func(ctx context.Context, tx *Tx, res []DebitResult) error
	res   []DebitResult
	keys  []*key
	txIDs []gid.ID // each debit's account posting, chosen before: its key's record
	claim []int    // the debits that try to claim their key

	// Set by the group that ran it: the keys it inserted (nil when the
	// claim never answered) and the transaction's error.
	claimed map[gid.ID]bool
	err     error
	lead    []*postCall   // set when this call must lead the next group
	done    chan struct{} // closed when answered or told to lead

	detached context.Context // ctx without its cancellation (detachedCtx)
}

// detachedCtx is c's context without its cancellation, made once per call
// (by the group that runs it): what its then and the Moved hooks of the
// balances it moves first run in.
func (c *postCall) detachedCtx() context.Context {
	if c.detached == nil {
		c.detached = context.WithoutCancel(c.ctx)
	}
	return c.detached
}

// postQueue holds the PostAll calls waiting for a group.
type postQueue struct {
	mu      sync.Mutex
	running int
	pending []*postCall
}

// PostAll posts ds set-based (see above); on SQLite one by one. then,
// when given, runs in the set-based transaction once its debits are
// decided (res: Posting set for a debit written, Err for one refused) and
// if any is written, just before the statement that writes them: what the
// call records of itself (the audit log) rides along in that statement
// (RideAlong). SQLite has no such transaction (each debit runs on its
// own), then is never called: a caller that needs it there runs the
// debits itself. The transaction may be shared with other calls: then
// must not depend on anything of the transaction but its own debits.
func (l *Ledger) PostAll(ctx context.Context, ds []Debit, then func(ctx context.Context, tx *Tx, res []DebitResult) error) []DebitResult {
	if l.dialect != dialect.Postgres {
		return l.postEach(ctx, ds)
	}
	c := &postCall{ctx: ctx, ds: ds, then: then, res: make([]DebitResult, len(ds)), keys: make([]*key, len(ds)),
		txIDs: make([]gid.ID, len(ds)), done: make(chan struct{})}
	ids := newIDSeq()
	for i := range ds {
		d := &ds[i]
		e := d.Entry
		if len(e.Legs) != 2 || e.Legs[0].Account == nil || e.Legs[1].Account != nil ||
			e.Legs[0].Book != "" || e.Legs[0].Amount >= 0 || e.Legs[0].Amount+e.Legs[1].Amount != 0 || e.Hold != nil || e.Link != nil {
			c.res[i].Err = fmt.Errorf("ledger: PostAll: debit %d is not one account's debit to a book", i)
			continue
		}
		k, err := l.newKey(ctx, &d.Key, d.Op, d.Input, d.Scope)
		if err != nil {
			c.res[i].Err = err
			continue
		}
		k.id = ids.next(gid.Idempotency)
		c.keys[i], c.txIDs[i] = k, ids.next(gid.Posting)
		c.claim = append(c.claim, i)
	}
	if len(c.claim) == 0 {
		return c.res
	}
	l.postQueued(c)
	for _, i := range c.claim {
		k := c.keys[i]
		switch {
		case c.claimed == nil:
			c.res[i] = DebitResult{Err: c.err} // the claim never answered: nothing done
		case !c.claimed[k.id]:
			// Used before: its record, after COMMIT (a key claimed by a
			// concurrent transaction was waited for by the INSERT).
			o, perr := l.prior(ctx, k)
			c.res[i] = DebitResult{Replayed: perr == nil, Outcome: o, Err: perr}
		case c.err != nil && c.res[i].Err == nil:
			c.res[i] = DebitResult{Err: c.err} // nothing of the call committed
		}
	}
	return c.res
}

// postQueued runs c in a group: at once when fewer than postRunners are
// in flight, else in the group formed when one of them ends.
func (l *Ledger) postQueued(c *postCall) {
	q := &l.posts
	q.mu.Lock()
	if q.running < postRunners {
		q.running++
		q.mu.Unlock()
		l.leadPosts(q, []*postCall{c})
		return
	}
	q.pending = append(q.pending, c)
	q.mu.Unlock()
	select {
	case <-c.done:
	case <-c.ctx.Done():
		q.mu.Lock()
		i := slices.Index(q.pending, c)
		if i >= 0 {
			q.pending = slices.Delete(q.pending, i, i+1)
		}
		q.mu.Unlock()
		if i >= 0 {
			c.err = c.ctx.Err() // gone before a group took it
			return
		}
		<-c.done
	}
	if c.lead != nil {
		l.leadPosts(q, c.lead)
	}
}

// leadPosts runs group (group[0] is the caller's own call), hands the
// queue to the next group's leader, then answers the others.
func (l *Ledger) leadPosts(q *postQueue, group []*postCall) {
	l.runPosts(group)
	q.mu.Lock()
	next := q.nextGroup()
	if next == nil {
		q.running--
	}
	q.mu.Unlock()
	if next != nil {
		next[0].lead = next
		close(next[0].done)
	}
	for _, c := range group[1:] {
		close(c.done)
	}
}

// nextGroup takes the next group out of the pending calls, in their order:
// up to postGroupDebits debits (the first call whatever its size), and no
// two calls claiming the same key, which stays for a later group: a
// transaction of its own would wait for the first to end, then claim the
// key if the first was refused and gave it back, where in the same claim
// it would find it taken and answer a replay of nothing. q.mu is held.
func (q *postQueue) nextGroup() []*postCall {
	if len(q.pending) == 0 {
		return nil
	}
	var group, rest []*postCall
	n := 0
	keys := map[[2]string]bool{}
	for _, c := range q.pending {
		if len(group) > 0 && (n+len(c.claim) > postGroupDebits || claimsAny(c, keys)) {
			rest = append(rest, c)
			continue
		}
		group = append(group, c)
		n += len(c.claim)
		for _, i := range c.claim {
			keys[[2]string{c.keys[i].scope, c.keys[i].key}] = true
		}
	}
	q.pending = rest
	return group
}

func claimsAny(c *postCall, keys map[[2]string]bool) bool {
	for _, i := range c.claim {
		if keys[[2]string{c.keys[i].scope, c.keys[i].key}] {
			return true
		}
	}
	return false
}

// postItem is one debit of a group, pointing into its call.
type postItem struct {
	d    *Debit
	key  *key
	txID gid.ID
	res  *DebitResult
	call *postCall
}

// runPosts runs a group's calls in one transaction and sets each call's
// outcome.
func (l *Ledger) runPosts(group []*postCall) {
	live := make([]*postCall, 0, len(group))
	for _, c := range group {
		if err := c.ctx.Err(); err != nil {
			c.err = err // given up before its group started: dropped
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	ctx := live[0].ctx // a lone call's transaction is its own to cancel
	if len(live) > 1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), postDeadline(live))
		defer cancel()
	}
	var items []*postItem
	for _, c := range live {
		for _, i := range c.claim {
			items = append(items, &postItem{d: &c.ds[i], key: c.keys[i], txID: c.txIDs[i], res: &c.res[i], call: c})
		}
	}
	var (
		claimed  map[gid.ID]bool
		accepted []*postItem
	)
	err := l.InTx(ctx, func(tx *Tx) error {
		var (
			bals map[acctCur]*batchBalance
			err  error
		)
		if claimed, bals, err = l.claimAndLock(ctx, tx, items); err != nil {
			claimed = nil
			return err
		}
		accepted, err = l.writeDebits(ctx, tx, items, claimed, bals)
		return err
	})
	if err != nil && len(accepted) > 0 && l.landed(ctx, err, accepted[0].key, Outcome{}) {
		err = nil // the COMMIT's answer was lost, not the work (commit.go)
	}
	if err != nil && len(live) > 1 && !isCommitUnknown(err) {
		// Nothing of the group was written: each call again on its own,
		// so that what failed fails only its own call.
		for _, c := range live {
			for _, i := range c.claim {
				c.res[i] = DebitResult{}
			}
			l.runPosts([]*postCall{c})
		}
		return
	}
	for _, c := range live {
		c.claimed, c.err = claimed, err
	}
}

// postDeadline: a group works for its callers, so it ends when the last of
// them gives up, and after batchTimeout at most (as a batch of debits).
func postDeadline(live []*postCall) time.Time {
	return callersDeadline(live, func(c *postCall) context.Context { return c.ctx })
}

// postEach is PostAll one debit at a time, through the debit lanes.
func (l *Ledger) postEach(ctx context.Context, ds []Debit) []DebitResult {
	ms := make([]Mutation[*ent.Posting], len(ds))
	replayed := make([]bool, len(ds))
	outcomes := make([]Outcome, len(ds))
	for i, d := range ds {
		i, e := i, d.Entry
		key := d.Key
		ms[i] = Mutation[*ent.Posting]{
			Op: d.Op, Key: &key, Scope: d.Scope, Input: d.Input, Debit: e.Legs[0].Account.ID,
			Work: func(ctx context.Context, tx *Tx) (Outcome, *ent.Posting, error) {
				ps, err := l.Post(ctx, tx, e)
				if err != nil {
					return Outcome{}, nil, err
				}
				return Outcome{Transaction: ps[0].ID}, ps[0], nil
			},
			Replay: func(_ context.Context, o Outcome) (*ent.Posting, error) {
				replayed[i], outcomes[i] = true, o
				return nil, nil
			},
		}
	}
	answers, errs := RunAll(ctx, l, ms)
	res := make([]DebitResult, len(ds))
	for i := range ds {
		res[i] = DebitResult{Posting: answers[i], Replayed: replayed[i], Outcome: outcomes[i], Err: errs[i]}
	}
	return res
}

// acctCur names a balance.
type acctCur struct {
	acc gid.ID
	cur string
}

// batchBalance is a balance locked by claimAndLock, as its debits leave it.
type batchBalance struct {
	acc                    *ent.Account
	cur                    string
	found                  bool // its row exists (locked)
	available, held, owed  int64
	seq, version           int64
	topupBelow, alertBelow sql.NullInt64
	alertLow               bool
	moved                  int64           // the sum of its debits (negative)
	ctx                    context.Context // of the first call that moved it: the Moved hook's
	kind                   posting.Kind
}

// claimAndLock claims the items' keys, each with its record already
// written (the transaction id chosen for it: a refused debit's key is
// deleted again by writeDebits, all in the same transaction), and locks
// and reads their balances, in one statement: the ids it inserted and the
// balances. The keys go in (scope, key) order, so two claims that share
// keys wait for each other instead of deadlocking; an event's duplicate
// later in the same claim still finds the earlier one's key (a replay).
func (l *Ledger) claimAndLock(ctx context.Context, tx *Tx, items []*postItem) (map[gid.ID]bool, map[acctCur]*batchBalance, error) {
	n := len(items)
	ids, scopes, ks, hashes, results := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	bals := make(map[acctCur]*batchBalance, n)
	accs, curs := make([]string, 0, n), make([]string, 0, n)
	for j, it := range items {
		k := it.key
		ids[j], scopes[j], ks[j], hashes[j], results[j] = string(k.id), k.scope, k.key, k.hash, outcomeOf(it.txID)
		e := it.d.Entry
		b := acctCur{e.Legs[0].Account.ID, e.Currency}
		if bals[b] == nil {
			bals[b] = &batchBalance{acc: e.Legs[0].Account, cur: e.Currency}
			accs, curs = append(accs, string(b.acc)), append(curs, b.cur)
		}
	}
	rows, err := tx.QueryContext(ctx, `
		WITH k AS (
			INSERT INTO idempotency_keys (id, scope, "key", request_hash, result, created_at)
			SELECT u.id, u.scope, u.k, u.h, u.r, $6 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[]) WITH ORDINALITY AS u(id, scope, k, h, r, n)
			ORDER BY u.scope, u.k, u.n
			ON CONFLICT (scope, "key") DO NOTHING
			RETURNING id),
		b AS (
			SELECT account_id, currency, available, held, owed, seq, version, topup_below, alert_below, alert_low
			FROM balances WHERE (account_id, currency) IN (SELECT * FROM unnest($7::varchar[], $8::varchar[]))
			ORDER BY account_id, currency FOR UPDATE)
		SELECT id, NULL, 0, 0, 0, 0, 0, NULL, NULL, false FROM k
		UNION ALL
		SELECT account_id, currency, available, held, owed, seq, version, topup_below, alert_below, alert_low FROM b`,
		textArray(ids), textArray(scopes), textArray(ks), textArray(hashes), textArray(results), l.now(), textArray(accs), textArray(curs))
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: claiming keys and locking balances: %w", err)
	}
	defer rows.Close()
	claimed := make(map[gid.ID]bool, n)
	// The scan's targets, once: declared in the loop they escape (Scan
	// takes their addresses), one batchBalance allocated per row.
	var (
		id  string
		cur sql.NullString
		b   batchBalance
	)
	for rows.Next() {
		b = batchBalance{}
		if err := rows.Scan(&id, &cur, &b.available, &b.held, &b.owed, &b.seq, &b.version, &b.topupBelow, &b.alertBelow, &b.alertLow); err != nil {
			return nil, nil, fmt.Errorf("ledger: claiming keys and locking balances: %w", err)
		}
		if !cur.Valid {
			claimed[gid.ID(id)] = true
			continue
		}
		if t := bals[acctCur{gid.ID(id), cur.String}]; t != nil {
			b.acc, b.cur, b.found = t.acc, t.cur, true
			*t = b
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, fmt.Errorf("ledger: claiming keys and locking balances: %w", err)
	}
	return claimed, bals, nil
}

// writeDebits decides each claimed debit in order and writes them all in
// one statement, with the rows that ride along (each call's then: its
// audit event); it returns the accepted debits.
func (l *Ledger) writeDebits(ctx context.Context, tx *Tx, items []*postItem, claimed map[gid.ID]bool, bals map[acctCur]*batchBalance) ([]*postItem, error) {
	now := l.now()
	ids := newIDSeq()
	// One row per accepted debit: its journal and both postings are made
	// of it in SQL (the book's leg mirrors the account's), and NULLs are
	// "" or 0 here (a quantity is at least 1), so every array is a plain
	// one, cheap to encode.
	// Each array is sized for every item at once (one allocation each
	// instead of a growing one's eight for a hundred debits).
	n := len(items)
	strs := func() []string { return make([]string, 0, n) }
	ints := func() []int64 { return make([]int64, 0, n) }
	var (
		accepted                                = make([]*postItem, 0, n)
		refused                                 []string
		xIDs, xBookIDs, xJournals, xAgencies    = strs(), strs(), strs(), strs()
		xAccounts, xBooks, xKinds, xRefs, xCurs = strs(), strs(), strs(), strs(), strs()
		xServices, xVariants, xActors           = strs(), strs(), strs()
		xAmounts, xQuantities, xRunning, xSeqs  = ints(), ints(), ints(), ints()
	)
	decided := false
	for _, it := range items {
		k := it.key
		if !claimed[k.id] {
			continue
		}
		decided = true
		e := it.d.Entry
		b := bals[acctCur{e.Legs[0].Account.ID, e.Currency}]
		amount := -e.Legs[0].Amount
		if !b.found || b.available < amount {
			it.res.Err = l.refuse(Insufficient, "the balance does not cover %s %s", fmtMicro(amount, e.Currency), e.Currency)
			refused = append(refused, string(k.id))
			continue
		}
		b.available -= amount
		b.seq++
		b.version++
		b.moved -= amount
		if b.ctx == nil {
			b.ctx, b.kind = it.call.detachedCtx(), e.Kind
		}
		jid := ids.next(gid.Journal)
		total := b.available + b.held
		p := &ent.Posting{
			ID: it.txID, CreatedAt: now, JournalID: jid, AgencyID: e.AgencyID, AccountID: &b.acc.ID,
			Kind: e.Kind, Reference: e.Reference, Currency: e.Currency, Amount: -amount, Actor: actorOf(e),
			RunningBalance: &total, Seq: ptr(b.seq),
		}
		p.Edges.Account = b.acc
		var service, variant string
		var quantity int64
		if d := e.Detail; d != nil {
			p.ServiceID, p.Quantity = nonEmpty(d.ServiceID), &d.Quantity
			service, variant, quantity = string(d.ServiceID), d.Variant, int64(d.Quantity)
			if d.Variant != "" {
				p.Variant = &d.Variant
			}
		}
		xIDs, xBookIDs, xJournals, xAgencies = append(xIDs, string(p.ID)), append(xBookIDs, string(ids.next(gid.Posting))), append(xJournals, string(jid)), append(xAgencies, string(e.AgencyID))
		xAccounts, xBooks, xKinds = append(xAccounts, string(b.acc.ID)), append(xBooks, e.Legs[1].Book), append(xKinds, string(e.Kind))
		xRefs, xCurs, xActors = append(xRefs, e.Reference), append(xCurs, e.Currency), append(xActors, p.Actor)
		xServices, xVariants = append(xServices, service), append(xVariants, variant)
		xAmounts, xQuantities, xRunning, xSeqs = append(xAmounts, amount), append(xQuantities, quantity), append(xRunning, total), append(xSeqs, b.seq)
		it.res.Posting = p
		accepted = append(accepted, it)
	}
	if !decided {
		return nil, nil // every key replayed: nothing to write
	}

	// The balances in lock order, so that what follows is told of them
	// in an order that does not depend on map iteration.
	moved := make([]*batchBalance, 0, len(bals))
	for _, b := range bals {
		if b.moved != 0 {
			moved = append(moved, b)
		}
	}
	slices.SortFunc(moved, func(a, b *batchBalance) int {
		if c := strings.Compare(string(a.acc.ID), string(b.acc.ID)); c != 0 {
			return c
		}
		return strings.Compare(a.cur, b.cur)
	})
	bAccs, bCurs := make([]string, 0, len(moved)), make([]string, 0, len(moved))
	bAvail, bSeq, bVersion := make([]int64, 0, len(moved)), make([]int64, 0, len(moved)), make([]int64, 0, len(moved))
	for _, b := range moved {
		bAccs, bCurs = append(bAccs, string(b.acc.ID)), append(bCurs, b.cur)
		bAvail, bSeq, bVersion = append(bAvail, b.available), append(bSeq, b.seq), append(bVersion, b.version)
	}
	args := []any{now, textArray(bAccs), textArray(bCurs), pq.Array(bAvail), pq.Array(bSeq), pq.Array(bVersion),
		textArray(xIDs), textArray(xBookIDs), textArray(xJournals), textArray(xAgencies), textArray(xAccounts), textArray(xBooks),
		textArray(xKinds), textArray(xRefs), textArray(xCurs), pq.Array(xAmounts), textArray(xServices), textArray(xVariants),
		pq.Array(xQuantities), pq.Array(xRunning), pq.Array(xSeqs), textArray(xActors), textArray(refused)}
	// Each call that writes a debit records itself (then), in its own
	// context and with its own results only.
	for i, it := range accepted {
		c := it.call
		if c.then == nil || (i > 0 && accepted[i-1].call == c) {
			continue
		}
		if err := c.then(c.detachedCtx(), tx, c.res); err != nil {
			return nil, err
		}
	}
	// What then wrote through RideAlong (ride.go) goes in this statement,
	// its placeholders numbered after ours.
	ride, rargs := rideCTEs(tx)
	for _, a := range rargs {
		args = append(args, a)
		ride = strings.Replace(ride, "?", "$"+strconv.Itoa(len(args)), 1)
	}
	_, err := tx.ExecContext(ctx, `
		WITH u AS (
			UPDATE balances SET available = v.av, seq = v.sq, version = v.vr, updated_at = $1
			FROM unnest($2::varchar[], $3::varchar[], $4::bigint[], $5::bigint[], $6::bigint[]) AS v(ac, cu, av, sq, vr)
			WHERE balances.account_id = v.ac AND balances.currency = v.cu
			RETURNING pg_notify('`+events.Channel+`', `+events.BalanceSQL+`)),
		x AS (SELECT * FROM unnest($7::varchar[], $8::varchar[], $9::varchar[], $10::varchar[], $11::varchar[], $12::varchar[],
				$13::varchar[], $14::varchar[], $15::varchar[], $16::bigint[], $17::varchar[], $18::varchar[], $19::bigint[],
				$20::bigint[], $21::bigint[], $22::varchar[])
			AS x(id, bid, jid, ag, acc, book, kind, ref, cur, amt, svc, var, qty, run, seq, actor)),
		j AS (INSERT INTO journals (id, created_at, agency_id) SELECT x.jid, $1, x.ag FROM x),
		p AS (INSERT INTO postings (`+postingColumns+`)
			SELECT x.id, $1, x.jid, x.ag, x.acc, '', x.kind, x.ref, x.cur, -x.amt, NULLIF(x.svc, ''), NULLIF(x.var, ''), NULLIF(x.qty, 0),
				NULL, x.actor, NULL, NULL, NULL, x.run, x.seq FROM x
			UNION ALL
			SELECT x.bid, $1, x.jid, x.ag, NULL, x.book, x.kind, x.ref, x.cur, x.amt, NULL, NULL, NULL,
				NULL, x.actor, NULL, NULL, NULL, NULL, NULL FROM x),
		d AS (DELETE FROM idempotency_keys WHERE id = ANY($23::varchar[]))`+ride+`
		SELECT count(*) FROM u`, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: writing a batch of %d debits: %w", len(accepted), err)
	}
	// What the movements call for (auto top-up, alerts), once per balance
	// with its final state; the balances left, for Hooks.Committed (this
	// instance's memory of balances) after COMMIT; the money they moved.
	type kc struct {
		kind posting.Kind
		cur  string
	}
	movedMoney := map[kc]int64{}
	for _, b := range moved {
		m := Moved{Balance: b.available, Seq: b.seq, Held: b.held, Version: b.version,
			TopupBelow: b.topupBelow, AlertBelow: b.alertBelow, AlertLow: b.alertLow, owed: b.owed}
		if err := l.moved(b.ctx, tx, b.acc, b.cur, b.moved, m); err != nil {
			return nil, err
		}
		l.after(tx, "", b.acc, b.cur, m, now)
		movedMoney[kc{b.kind, b.cur}] -= b.moved
	}
	if obs := l.hooks.Money; obs != nil && len(movedMoney) > 0 {
		tx.AfterCommit(func() {
			for k, amount := range movedMoney {
				obs(k.kind, k.cur, amount)
			}
		})
	}
	return accepted, nil
}

func ptr[T any](v T) *T { return &v }

// outcomeOf is Outcome{Transaction: id} as json.Marshal writes it, without
// reflection (one per debit of a batch); an id with a byte JSON would
// escape (never one of gid's) goes through json.Marshal.
func outcomeOf(id gid.ID) string {
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(Outcome{Transaction: id})
			return string(out)
		}
	}
	if id == "" {
		return "{}"
	}
	return `{"t":"` + string(id) + `"}`
}

// textArray is ss as a PostgreSQL array literal, for a parameter cast to
// an array of text: what pq.Array(ss) sends, written into one buffer
// (pq copies every element into a slice of its own first, and grows its
// buffer as it goes: a third of what encoding a batch cost). No element
// is NULL.
func textArray(ss []string) string {
	n := 2
	for _, s := range ss {
		n += len(s) + 3
	}
	var a pgArray
	a.b.Grow(n)
	for _, s := range ss {
		a.str(s)
	}
	return a.text()
}

// idSeq hands out a batch's ids: a random one per prefix, then its
// successors (its last characters count up), so that a batch's journals,
// postings and keys sit side by side in their primary keys' indexes
// instead of on as many random pages: a batch of 100 debits touches and
// dirties a few leaf pages of each, not hundreds. The random part left
// (21 characters, 105 bits) keeps them unique.
type idSeq struct {
	// The bases by prefix: a batch uses two prefixes, found in a few
	// comparisons without a map to allocate (more go to more).
	prefixes, bases [4]string
	kept            int
	more            map[string]string
	n               int
}

func newIDSeq() *idSeq { return &idSeq{} }

// base is prefix's random base, made on its first use.
func (s *idSeq) base(prefix string) string {
	for i := range s.kept {
		if s.prefixes[i] == prefix {
			return s.bases[i]
		}
	}
	if b, ok := s.more[prefix]; ok {
		return b
	}
	b := string(gid.New(prefix))
	if s.kept < len(s.prefixes) {
		s.prefixes[s.kept], s.bases[s.kept] = prefix, b
		s.kept++
		return b
	}
	if s.more == nil {
		s.more = map[string]string{}
	}
	s.more[prefix] = b
	return b
}

// idDigits is gid's alphabet, in ascending order.
const idDigits = "0123456789abcdefghjkmnpqrstvwxyz"

func (s *idSeq) next(prefix string) gid.ID {
	b := s.base(prefix)
	s.n++
	// Four characters before the last (which gid's encoding fills only in
	// part): up to 32^4 ids a batch, in ascending order. Written into a
	// Builder, whose String does not copy: one allocation per id.
	var id strings.Builder
	id.Grow(len(b))
	id.WriteString(b[:len(b)-5])
	n := s.n
	for i := 3; i >= 0; i-- {
		id.WriteByte(idDigits[(n>>(5*i))%32])
	}
	id.WriteByte(b[len(b)-1])
	return gid.ID(id.String())
}

// actorOf is who caused e (Entry.Actor), "system" when unsaid.
func actorOf(e Entry) string {
	if e.Actor == "" {
		return System
	}
	return e.Actor
}

// fmtMicro renders micro-units for a refusal's message.
func fmtMicro(micro int64, cur string) string { return string(money.Format(micro, cur)) }
