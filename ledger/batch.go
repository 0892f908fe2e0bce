package ledger

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

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
// transaction of four statements on PostgreSQL, whatever its size:
//
//  1. claim every key at once (INSERT … ON CONFLICT DO NOTHING RETURNING),
//     each with its record already written (the id its debit's posting
//     will have): a key not claimed was used before (or by an earlier
//     event of the call): it is a replay, answered from its record after
//     COMMIT;
//  2. lock the balances of the claimed debits, in (account, currency)
//     order like every movement, and read them (SELECT … FOR UPDATE);
//  3. decide each debit in the given order, here: covered, it takes its
//     running balance and sequence; not covered, it is refused, its key
//     is given back, and nothing moves for it;
//  4. write it all in ONE statement: the balances' new values (announced
//     with pg_notify as every balance move is), a journal and two postings
//     per debit, and the refused debits' keys deleted.
//
// The balance rows stay locked from step 2 to COMMIT, so a concurrent
// movement of the same balance waits, as it would for a batch of the
// debit lanes. Triggers (auto top-up, alerts) are told once per balance,
// with its final state. On SQLite (one writer) PostAll is RunAll's path.

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

// PostAll posts ds set-based (see above); on SQLite one by one. then,
// when given, runs in the set-based transaction once its debits are
// decided (res: Posting set for a debit written, Err for one refused) and
// if any is written, just before the statement that writes them: what the
// call records of itself (the audit log) rides along in that statement
// (RideAlong). SQLite has no such transaction (each debit runs on its
// own), then is never called: a caller that needs it there runs the
// debits itself.
func (l *Ledger) PostAll(ctx context.Context, ds []Debit, then func(ctx context.Context, tx *Tx, res []DebitResult) error) []DebitResult {
	if l.dialect != dialect.Postgres {
		return l.postEach(ctx, ds)
	}
	res := make([]DebitResult, len(ds))
	ids := newIDSeq()
	keys := make([]*key, len(ds))
	txIDs := make([]gid.ID, len(ds)) // each debit's account posting, chosen now: its key's record
	var claim []int                  // the debits that try to claim their key
	for i := range ds {
		d := &ds[i]
		e := d.Entry
		if len(e.Legs) != 2 || e.Legs[0].Account == nil || e.Legs[1].Account != nil ||
			e.Legs[0].Book != "" || e.Legs[0].Amount >= 0 || e.Legs[0].Amount+e.Legs[1].Amount != 0 || e.Hold != nil || e.Link != nil {
			res[i].Err = fmt.Errorf("ledger: PostAll: debit %d is not one account's debit to a book", i)
			continue
		}
		k, err := l.newKey(ctx, &d.Key, d.Op, d.Input, d.Scope)
		if err != nil {
			res[i].Err = err
			continue
		}
		k.id = ids.next(gid.Idempotency)
		keys[i], txIDs[i] = k, ids.next(gid.Posting)
		claim = append(claim, i)
	}
	if len(claim) == 0 {
		return res
	}
	claimed := map[gid.ID]bool{}
	var accepted []int
	err := l.InTx(ctx, func(tx *Tx) error {
		var err error
		claimed, err = l.claimAll(ctx, tx, keys, txIDs, claim)
		if err != nil {
			return err
		}
		accepted, err = l.writeDebits(ctx, tx, ds, keys, txIDs, ids, res, claim, claimed, then)
		return err
	})
	if err != nil && len(accepted) > 0 && l.landed(ctx, err, keys[accepted[0]], Outcome{}) {
		err = nil // the COMMIT's answer was lost, not the work (commit.go)
	}
	for _, i := range claim {
		k := keys[i]
		switch {
		case !claimed[k.id]:
			// Used before: its record, after COMMIT (a key claimed by a
			// concurrent call was waited for by the INSERT).
			o, perr := l.prior(ctx, k)
			res[i] = DebitResult{Replayed: perr == nil, Outcome: o, Err: perr}
		case err != nil && res[i].Err == nil:
			res[i] = DebitResult{Err: err} // nothing of the call committed
		}
	}
	return res
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

// claimAll claims the keys of the debits claim names in one statement, each
// with its record already written (the transaction id chosen for it: a
// refused debit's key is deleted again by writeDebits, all in the same
// transaction), and returns the ids it inserted.
func (l *Ledger) claimAll(ctx context.Context, tx *Tx, keys []*key, txIDs []gid.ID, claim []int) (map[gid.ID]bool, error) {
	ids, scopes, ks, hashes, results := make([]string, len(claim)), make([]string, len(claim)), make([]string, len(claim)), make([]string, len(claim)), make([]string, len(claim))
	for j, i := range claim {
		k := keys[i]
		out, _ := json.Marshal(Outcome{Transaction: txIDs[i]})
		ids[j], scopes[j], ks[j], hashes[j], results[j] = string(k.id), k.scope, k.key, k.hash, string(out)
	}
	rows, err := tx.QueryContext(ctx, `
		INSERT INTO idempotency_keys (id, scope, "key", request_hash, result, created_at)
		SELECT u.id, u.scope, u.k, u.h, u.r, $6 FROM unnest($1::varchar[], $2::varchar[], $3::varchar[], $4::varchar[], $5::text[]) WITH ORDINALITY AS u(id, scope, k, h, r, n)
		ORDER BY u.n
		ON CONFLICT (scope, "key") DO NOTHING
		RETURNING id`, pq.Array(ids), pq.Array(scopes), pq.Array(ks), pq.Array(hashes), pq.Array(results), l.now())
	if err != nil {
		return nil, fmt.Errorf("claiming idempotency keys: %w", err)
	}
	defer rows.Close()
	claimed := make(map[gid.ID]bool, len(claim))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("claiming idempotency keys: %w", err)
		}
		claimed[gid.ID(id)] = true
	}
	return claimed, rows.Err()
}

// batchBalance is a balance locked by debitAll, as its debits leave it.
type batchBalance struct {
	acc                    *ent.Account
	cur                    string
	available, held        int64
	seq, version           int64
	topupBelow, alertBelow sql.NullInt64
	alertLow               bool
	moved                  int64 // the sum of its debits (negative)
}

// writeDebits locks the claimed debits' balances, decides each debit in
// order and writes them all in one statement, with the rows that ride
// along (then's audit event); it returns the accepted debits' indexes.
func (l *Ledger) writeDebits(ctx context.Context, tx *Tx, ds []Debit, keys []*key, txIDs []gid.ID, ids *idSeq, res []DebitResult,
	claim []int, claimed map[gid.ID]bool, then func(context.Context, *Tx, []DebitResult) error) ([]int, error) {
	type bk struct {
		acc gid.ID
		cur string
	}
	bals := map[bk]*batchBalance{}
	var accs, curs []string
	for _, i := range claim {
		if !claimed[keys[i].id] {
			continue
		}
		e := ds[i].Entry
		b := bk{e.Legs[0].Account.ID, e.Currency}
		if bals[b] == nil {
			bals[b] = &batchBalance{acc: e.Legs[0].Account, cur: e.Currency}
			accs, curs = append(accs, string(b.acc)), append(curs, b.cur)
		}
	}
	if len(bals) == 0 {
		return nil, nil
	}
	found := map[bk]bool{}
	rows, err := tx.QueryContext(ctx, `
		SELECT account_id, currency, available, held, seq, version, topup_below, alert_below, alert_low
		FROM balances WHERE (account_id, currency) IN (SELECT * FROM unnest($1::varchar[], $2::varchar[]))
		ORDER BY account_id, currency FOR UPDATE`, pq.Array(accs), pq.Array(curs))
	if err != nil {
		return nil, fmt.Errorf("ledger: locking balances: %w", err)
	}
	for rows.Next() {
		var acc, cur string
		var b batchBalance
		if err := rows.Scan(&acc, &cur, &b.available, &b.held, &b.seq, &b.version, &b.topupBelow, &b.alertBelow, &b.alertLow); err != nil {
			rows.Close()
			return nil, fmt.Errorf("ledger: reading balances: %w", err)
		}
		k := bk{gid.ID(acc), cur}
		if t := bals[k]; t != nil {
			b.acc, b.cur = t.acc, t.cur
			*t = b
			found[k] = true
		}
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("ledger: reading balances: %w", err)
	}

	now := l.now()
	// One row per accepted debit: its journal and both postings are made
	// of it in SQL (the book's leg mirrors the account's), and NULLs are
	// "" or 0 here (a quantity is at least 1), so every array is a plain
	// one, cheap to encode.
	var (
		accepted                                []int
		refused                                 []string
		xIDs, xBookIDs, xJournals, xAgencies    []string
		xAccounts, xBooks, xKinds, xRefs, xCurs []string
		xServices, xVariants, xActors           []string
		xAmounts, xQuantities, xRunning, xSeqs  []int64
	)
	for _, i := range claim {
		k := keys[i]
		if !claimed[k.id] {
			continue
		}
		e := ds[i].Entry
		b := bals[bk{e.Legs[0].Account.ID, e.Currency}]
		amount := -e.Legs[0].Amount
		if !found[bk{b.acc.ID, b.cur}] || b.available < amount {
			res[i].Err = l.refuse(Insufficient, "the balance does not cover %s %s", fmtMicro(amount, e.Currency), e.Currency)
			refused = append(refused, string(k.id))
			continue
		}
		b.available -= amount
		b.seq++
		b.version++
		b.moved -= amount
		jid := ids.next(gid.Journal)
		total := b.available + b.held
		p := &ent.Posting{
			ID: txIDs[i], CreatedAt: now, JournalID: jid, AgencyID: e.AgencyID, AccountID: &b.acc.ID,
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
		res[i].Posting = p
		accepted = append(accepted, i)
	}

	var bAccs, bCurs []string
	var bAvail, bSeq, bVersion []int64
	for k, b := range bals {
		if b.moved == 0 {
			continue
		}
		bAccs, bCurs = append(bAccs, string(k.acc)), append(bCurs, k.cur)
		bAvail, bSeq, bVersion = append(bAvail, b.available), append(bSeq, b.seq), append(bVersion, b.version)
	}
	args := []any{now, pq.Array(bAccs), pq.Array(bCurs), pq.Array(bAvail), pq.Array(bSeq), pq.Array(bVersion),
		pq.Array(xIDs), pq.Array(xBookIDs), pq.Array(xJournals), pq.Array(xAgencies), pq.Array(xAccounts), pq.Array(xBooks),
		pq.Array(xKinds), pq.Array(xRefs), pq.Array(xCurs), pq.Array(xAmounts), pq.Array(xServices), pq.Array(xVariants),
		pq.Array(xQuantities), pq.Array(xRunning), pq.Array(xSeqs), pq.Array(xActors), pq.Array(refused)}
	if then != nil && len(accepted) > 0 {
		if err := then(ctx, tx, res); err != nil {
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
	_, err = tx.ExecContext(ctx, `
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
	// with its final state; the money they moved, after COMMIT.
	type kc struct {
		kind posting.Kind
		cur  string
	}
	kinds := map[bk]posting.Kind{}
	for _, i := range accepted {
		e := ds[i].Entry
		kinds[bk{e.Legs[0].Account.ID, e.Currency}] = e.Kind
	}
	moved := map[kc]int64{}
	for k, b := range bals {
		if b.moved == 0 {
			continue
		}
		m := Moved{Balance: b.available, Seq: b.seq, Held: b.held, Version: b.version,
			TopupBelow: b.topupBelow, AlertBelow: b.alertBelow, AlertLow: b.alertLow}
		if err := l.moved(ctx, tx, b.acc, b.cur, b.moved, m); err != nil {
			return nil, err
		}
		moved[kc{kinds[k], b.cur}] -= b.moved
	}
	if obs := l.hooks.Money; obs != nil && len(moved) > 0 {
		tx.AfterCommit(func() {
			for k, amount := range moved {
				obs(k.kind, k.cur, amount)
			}
		})
	}
	return accepted, nil
}

func ptr[T any](v T) *T { return &v }

// idSeq hands out a batch's ids: a random one per prefix, then its
// successors (its last characters count up), so that a batch's journals,
// postings and keys sit side by side in their primary keys' indexes
// instead of on as many random pages: a batch of 100 debits touches and
// dirties a few leaf pages of each, not hundreds. The random part left
// (21 characters, 105 bits) keeps them unique.
type idSeq struct {
	base map[string]string
	n    int
}

func newIDSeq() *idSeq { return &idSeq{base: map[string]string{}} }

// idDigits is gid's alphabet, in ascending order.
const idDigits = "0123456789abcdefghjkmnpqrstvwxyz"

func (s *idSeq) next(prefix string) gid.ID {
	b, ok := s.base[prefix]
	if !ok {
		b = string(gid.New(prefix))
		s.base[prefix] = b
	}
	s.n++
	// Four characters before the last (which gid's encoding fills only in
	// part): up to 32^4 ids a batch, in ascending order.
	id := []byte(b)
	for i, n := len(id)-2, s.n; i >= len(id)-5; i, n = i-1, n/32 {
		id[i] = idDigits[n%32]
	}
	return gid.ID(id)
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
