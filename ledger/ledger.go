// Package ledger writes every movement of money, and nothing else writes
// balances, journals, postings or idempotency records. The domain (package
// credits) decides what moves and why; it describes each money mutation on
// the one path (Run: claim the idempotency key, run the work, grouped with
// other debits of a hot balance or alone, record, replay, the check of a
// COMMIT of unknown outcome, metrics and announcements), and inside the
// work posts balanced entries with Post.
package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sort"
	"sync"
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
	Revenue     = "revenue"     // the agency earned it: invoices and services paid with credits
	Receivables = "receivables" // credit granted on a post-paid arrangement, owed to the agency
	Clearing    = "clearing:"   // + provider or method: money received from outside
)

// System is the actor of what no person or key did: jobs, webhooks.
const System = "system"

// Leg is one side of a movement: an account (with a balance) or a book.
type Leg struct {
	Account *ent.Account
	Book    string
	Amount  int64 // micro-units: positive credits the account (IN), negative debits it (OUT)
}

// Entry is a balanced movement of money in one currency.
type Entry struct {
	Kind      posting.Kind
	Reference string
	Currency  string
	AgencyID  gid.ID
	Legs      []Leg
	Link      *Link   // optional: set transaction_id there to the first posting
	Detail    *Detail // optional: what was bought, on the account legs' postings
	// Hold, optional, makes the entry a capture of that hold (hold.go):
	// its one account leg is taken from the hold's remainder, out of the
	// balance's held credits, not from available; the postings' HoldID is
	// set from it.
	Hold *Capture
	// Actor is who caused it: a user's sub, "apikey:<id>" or "system"
	// ("": system). Reason says why (corrections). Both go on every
	// posting of the entry.
	Actor, Reason string
	// Reverses, optional, is the posting this entry undoes (REVERSAL): the
	// entry's first account leg's posting names it, and a unique index
	// makes a second reversal of it fail.
	Reverses gid.ID
	// PaymentID, optional, is the provider payment behind it (PURCHASE,
	// AUTO_TOPUP, REFUND), on its account legs' postings.
	PaymentID gid.ID
	// ID, optional, is the id of the first leg's posting (the transaction),
	// chosen by a caller that names it before posting: the audit event
	// that rides along with the entry's statement.
	ID gid.ID
}

// Detail says what a USAGE or SERVICE_PURCHASE bought.
type Detail struct {
	ServiceID gid.ID
	Variant   string // "": the default rate
	Quantity  int
	HoldID    gid.ID // a capture: the hold it was charged to (set from Entry.Hold)
}

// Link names a row whose transaction_id is set to an entry's first posting
// in the statement that writes the entry.
type Link struct {
	Table string // "invoices"
	ID    gid.ID
	// Also, optional, are more columns the same UPDATE sets: an invoice
	// its payment's gate only locked turns PAID there, so the row gets one
	// new version (and its indexes one entry each), not two (sql.go).
	Also []Column
}

// Column is a column a Link's UPDATE also sets, with its PostgreSQL type
// ("varchar", "timestamptz", "bigint"), as in Row.Types.
type Column struct {
	Name, Type string
	Value      any
}

// Moved is a balance right after a movement, with the triggers its row
// carries (auto top-up and alert thresholds), for Hooks.Moved.
type Moved struct {
	Balance, Seq           int64 // Balance is available (what triggers watch)
	Held, Version          int64 // total = Balance + Held, the running balance
	TopupBelow, AlertBelow sql.NullInt64
	AlertLow               bool
	// Owed, told only of a posting that credits the balance, is what the
	// balance owes (refunds and disputes it could not cover): the domain
	// pays it off first from that credit, in the same transaction.
	Owed int64
	owed int64 // what the row owes after any move: for BalanceAfter and announcements
}

// Hooks are what the domain is told by the ledger, and how it words the
// ledger's refusals. Every field may be nil.
type Hooks struct {
	// Moved is called inside the transaction after each balance moves, with
	// the row's triggers: the domain queues what the movement calls for
	// (auto top-up, alerts) in the same transaction.
	Moved func(ctx context.Context, tx *Tx, acc *ent.Account, cur string, amount int64, m Moved) error
	// Publish delivers an event to this process's subscribers right after
	// COMMIT, in commit order (SQLite; PostgreSQL delivers by NOTIFY).
	Publish func(events.Event)
	// Committed is told, right after COMMIT and before the work answers,
	// of each balance the transaction left, on both databases: this
	// instance's memory of balances never shows less than an answer did,
	// without waiting for the notification.
	Committed func(*events.Balance)
	// Money is told of each committed movement: its kind, currency and the
	// amount that moved, in micro-units (metrics); never of a replay.
	Money func(kind posting.Kind, currency string, amount int64)
	// Refuse turns a refusal of the ledger into the domain's error.
	Refuse func(*Refusal) error
	// NothingDone marks an error met before anything committed (the domain
	// tells UNAVAILABLE from other failures).
	NothingDone func(error) error
}

// Refusal is a movement or an idempotency key the ledger refuses. Code is
// the API's code for it.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Codes of refusals.
const (
	Insufficient    = "INSUFFICIENT_CREDITS"
	BadInput        = "BAD_USER_INPUT"
	Conflict        = "CONFLICT"
	Unauthenticated = "UNAUTHENTICATED"
)

// Config is what a Ledger is made of.
type Config struct {
	DB      *ent.Client
	Dialect string // entgo.io/ent/dialect name: Postgres or SQLite
	Log     *slog.Logger
	// Clock is the time of every posting, balance and key: the domain's
	// clock (its tests move it). Nil: time.Now.
	Clock func() time.Time
	Hooks Hooks
}

// Ledger posts movements of money over one database.
type Ledger struct {
	db        *ent.Client
	dialect   string
	log       *slog.Logger
	clock     func() time.Time
	hooks     Hooks
	publishMu sync.Mutex // SQLite: keeps local publishes in commit order
	open      sync.Map   // *ent.Tx → the *Tx whose work runs in it (ride.go)

	hotMu sync.Mutex
	hot   map[int]*hotQueue // debits waiting, by lane (group.go)
	lanes int

	posts postQueue // PostAll calls waiting for a group (batch.go)

	test testHooks // testhooks.go
}

// New returns a ledger over c.DB.
func New(c Config) *Ledger {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return &Ledger{db: c.DB, dialect: c.Dialect, log: c.Log, clock: c.Clock, hooks: c.Hooks,
		hot: map[int]*hotQueue{}, lanes: defaultLanes}
}

func (l *Ledger) refuse(code, format string, args ...any) error {
	r := &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
	if l.hooks.Refuse != nil {
		return l.hooks.Refuse(r)
	}
	return r
}

func (l *Ledger) nothingDone(err error) error {
	if l.hooks.NothingDone != nil {
		return l.hooks.NothingDone(err)
	}
	return err
}

// Post writes e inside tx: for each account leg, in a fixed order (so two
// movements never deadlock), it moves the balance with a single conditional
// statement that returns the new balance and sequence (a debit that would go
// below zero matches no row: INSUFFICIENT_CREDITS, and the CHECK constraint
// backs it up); then the journal and its postings, each account posting with
// its running balance, in one statement on PostgreSQL (with e.Link, if any).
// Nothing is read first and written later, so there is no read-modify-write
// race; the caller commits it with its business change. The balance rows
// stay locked from their update to COMMIT. On PostgreSQL a movement of one
// balance is a single statement (moveAndWrite), one of two balances three.
// It returns the postings in the order of e.Legs; they are built here, not
// read back, so their account edge is the leg's account (nil for books).
func (l *Ledger) Post(ctx context.Context, tx *Tx, e Entry) ([]*ent.Posting, error) {
	var sum int64
	for _, lg := range e.Legs {
		if lg.Amount == 0 {
			return nil, fmt.Errorf("ledger: zero leg in %s entry", e.Kind)
		}
		sum += lg.Amount
	}
	if sum != 0 || len(e.Legs) < 2 {
		return nil, fmt.Errorf("ledger: unbalanced %s entry (sum %d, %d legs)", e.Kind, sum, len(e.Legs))
	}
	order := make([]int, 0, len(e.Legs))
	for i, lg := range e.Legs {
		if lg.Account != nil {
			order = append(order, i)
		}
	}
	if len(order) > 1 { // sort.Slice allocates even for one
		sort.Slice(order, func(a, b int) bool { return e.Legs[order[a]].Account.ID < e.Legs[order[b]].Account.ID })
	}

	now := l.now()
	// Each account leg's move: its amount out of (or into) available, or,
	// for a capture, out of held with the rest released if final.
	shifts := make([]shift, len(e.Legs))
	for i, lg := range e.Legs {
		shifts[i] = shift{avail: lg.Amount, posting: true}
	}
	if e.Hold != nil && tx.set != nil {
		return nil, errUnusual
	}
	if e.Hold != nil {
		if err := l.capture(ctx, tx, e, order, shifts, now); err != nil {
			return nil, err
		}
	} else if e.Detail != nil && e.Detail.HoldID != "" {
		return nil, fmt.Errorf("ledger: a capture names its hold in Entry.Hold, which moves it")
	}
	moves := make([]Moved, len(e.Legs))
	ps := make([]*ent.Posting, len(e.Legs))
	actor := actorOf(e)
	reverses := e.Reverses
	// The postings share one copy of the reason: a pointer into e would
	// move every Entry to the heap.
	var reason *string
	if e.Reason != "" {
		r := e.Reason
		reason = &r
	}
	for i, lg := range e.Legs {
		id := e.ID
		if i > 0 || id == "" {
			id = gid.New(gid.Posting)
		}
		p := &ent.Posting{
			ID: id, CreatedAt: now, AgencyID: e.AgencyID, Book: lg.Book, Kind: e.Kind,
			Reference: e.Reference, Currency: e.Currency, Amount: lg.Amount, Actor: actor,
		}
		p.Reason = reason
		if lg.Account != nil {
			p.AccountID = &lg.Account.ID
			p.Edges.Account = lg.Account
			p.PaymentID = nonEmpty(e.PaymentID)
			if reverses != "" {
				p.ReversesID, reverses = nonEmpty(reverses), "" // a copy: &reverses would read "" once cleared
			}
			if d := e.Detail; d != nil {
				p.ServiceID, p.Quantity = nonEmpty(d.ServiceID), &d.Quantity
				if d.Variant != "" {
					p.Variant = &d.Variant
				}
				p.HoldID = nonEmpty(d.HoldID)
			}
			if e.Hold != nil {
				p.HoldID = &e.Hold.ID
			}
		}
		ps[i] = p
	}
	if l.dialect == dialect.Postgres && len(order) == 1 {
		// One balance (every movement but allocations): its move, the
		// journal, the postings and the link in ONE statement.
		i := order[0]
		lg := e.Legs[i]
		var m Moved
		var err error
		if tx.set != nil {
			m, err = l.postSet(ctx, tx, e, ps, i, shifts[i], now)
		} else {
			m, err = l.moveAndWrite(ctx, tx, e, ps, i, shifts[i], now)
		}
		if err != nil {
			return nil, err
		}
		moves[i] = m
		if err := l.moved(ctx, tx, lg.Account, e.Currency, shifts[i].avail, m); err != nil {
			return nil, err
		}
	} else {
		if tx.set != nil {
			return nil, errUnusual
		}
		for _, i := range order {
			lg := e.Legs[i]
			m, err := l.moveBalance(ctx, tx, lg.Account, e.Currency, shifts[i], now)
			if err != nil {
				return nil, err
			}
			moves[i] = m
			if err := l.moved(ctx, tx, lg.Account, e.Currency, shifts[i].avail, m); err != nil {
				return nil, err
			}
			total := m.Balance + m.Held
			ps[i].RunningBalance, ps[i].Seq = &total, &m.Seq
		}
		if err := l.writeJournal(ctx, tx, e, ps, now); err != nil {
			return nil, err
		}
	}
	for i, lg := range e.Legs {
		if lg.Account != nil {
			l.after(tx, ps[i].ID, lg.Account, e.Currency, moves[i], now)
		}
	}
	if obs := l.hooks.Money; obs != nil {
		var moved int64
		for _, lg := range e.Legs {
			moved += max(lg.Amount, 0)
		}
		kind, cur := e.Kind, e.Currency // not e: as above
		tx.AfterCommit(func() { obs(kind, cur, moved) })
	}
	return ps, nil
}

// now is the clock in microseconds, UTC: what PostgreSQL keeps.
func (l *Ledger) now() time.Time { return l.clock().UTC().Truncate(time.Microsecond) }

func (l *Ledger) moved(ctx context.Context, tx *Tx, acc *ent.Account, cur string, amount int64, m Moved) error {
	if l.hooks.Moved == nil {
		return nil
	}
	return l.hooks.Moved(ctx, tx, acc, cur, amount, m)
}

func nonEmpty(id gid.ID) *gid.ID {
	if id == "" {
		return nil
	}
	return &id
}

// after keeps the balance a move left for BalanceAfter under key (a
// posting's or a hold's id; "": none), on SQLite announces it (PostgreSQL
// announces it in the move's own statement), and tells Hooks.Committed of
// it once committed.
func (l *Ledger) after(tx *Tx, key gid.ID, acc *ent.Account, cur string, m Moved, now time.Time) {
	if tx.balances == nil {
		tx.balances = map[gid.ID]*ent.Balance{}
	}
	// A movement made from inside the Moved hook (paying what is owed out
	// of a credit) ran after this one but was recorded first: the balance
	// this transaction leaves is the newer one, already announced.
	bk := string(acc.ID) + "/" + cur
	if prev := tx.latest[bk]; prev != nil && prev.Version > m.Version {
		if key != "" {
			tx.balances[key] = prev
		}
		return
	}
	b := &ent.Balance{
		AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: cur,
		Available: m.Balance, Held: m.Held, Owed: m.owed, Seq: m.Seq, Version: m.Version, UpdatedAt: now,
	}
	b.Edges.Account = acc
	if key != "" {
		tx.balances[key] = b
	}
	if tx.latest == nil {
		tx.latest = map[string]*ent.Balance{}
	}
	tx.latest[bk] = b
	ev := &events.Balance{
		AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: cur,
		Available: m.Balance, Held: m.Held, Owed: m.owed, Seq: m.Seq, Version: m.Version, UpdatedAt: now,
	}
	if l.dialect != dialect.Postgres {
		tx.Announce(events.Event{Balance: ev})
	}
	if f := l.hooks.Committed; f != nil {
		tx.AfterCommit(func() { f(ev) })
	}
}
