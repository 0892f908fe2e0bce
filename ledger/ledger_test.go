package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/balance"
	"creditgate/ent/posting"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/ledger"
)

// book is a ledger over a fresh database of kind with one client account,
// recording what its hooks are told.
type book struct {
	t   *testing.T
	d   *db.DB
	l   *ledger.Ledger
	acc *ent.Account
	now time.Time

	mu     sync.Mutex
	moved  []ledger.Moved
	money  int64
	events []events.Event
}

func newBook(t *testing.T, kind string) *book {
	b := &book{t: t, d: dbtest.Open(t, kind), now: time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)}
	ctx := context.Background()
	ag, err := b.d.Client.Agency.Create().SetName("A").SetDefaultCurrency("USD").SetCreditPaymentsEnabled(true).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.acc, err = b.d.Client.Account.Create().SetAgencyID(ag.ID).SetName("client").SetKind(account.KindCLIENT).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b.l = ledger.New(ledger.Config{
		DB: b.d.Client, Dialect: b.d.Dialect,
		Clock: func() time.Time { return b.now },
		Hooks: ledger.Hooks{
			Moved: func(_ context.Context, _ *ledger.Tx, _ *ent.Account, _ string, _ int64, m ledger.Moved) error {
				b.moved = append(b.moved, m)
				return nil
			},
			Money: func(_ posting.Kind, _ string, amount int64) {
				b.mu.Lock()
				defer b.mu.Unlock()
				b.money += amount
			},
			Publish: func(e events.Event) { b.events = append(b.events, e) },
		},
	})
	return b
}

// spend is a mutation moving amount between the account and revenue
// (amount < 0 debits the account), answering its posting's id.
func (b *book) spend(ctx context.Context, key *string, amount int64, debit bool) (string, error) {
	m := ledger.Mutation[string]{
		Op: "spend", Key: key, Input: amount,
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, string, error) {
			ps, err := b.l.Post(ctx, tx, ledger.Entry{
				Kind: posting.KindSERVICE_PURCHASE, Reference: "test", Currency: "USD", AgencyID: b.acc.AgencyID,
				Legs: []ledger.Leg{{Account: b.acc, Amount: amount}, {Book: ledger.Revenue, Amount: -amount}},
			})
			if err != nil {
				return ledger.Outcome{}, "", err
			}
			return ledger.Outcome{Transaction: ps[0].ID}, string(ps[0].ID), nil
		},
		Replay: func(_ context.Context, o ledger.Outcome) (string, error) {
			return "replay " + string(o.Transaction), nil
		},
	}
	if debit {
		m.Debit = b.acc.ID
	}
	return ledger.Run(ctx, b.l, m)
}

func (b *book) available() int64 {
	b.t.Helper()
	bal, err := b.d.Client.Balance.Query().Where(balance.AccountID(b.acc.ID)).Only(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	return bal.Available
}

func (b *book) postings() int {
	b.t.Helper()
	n, err := b.d.Client.Posting.Query().Count(context.Background())
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// The one path: a credit and a debit move the balance with the
// injected clock; a debit the balance does not cover is refused and writes
// nothing; a key answers its first outcome (Replay) and moves nothing
// again, and CONFLICT with another input; only committed movements reach
// the hooks; an unbalanced entry is refused before any statement.
func TestRunPostsOnceAndRefuses(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			b := newBook(t, kind)
			ctx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "u", Role: auth.RoleClientOwner, AccountID: string(b.acc.ID)})
			if _, err := b.spend(ctx, nil, 10_000_000, false); err != nil {
				t.Fatal(err)
			}
			key := "k1"
			first, err := b.spend(ctx, &key, -2_500_000, true)
			if err != nil {
				t.Fatal(err)
			}
			again, err := b.spend(ctx, &key, -2_500_000, true)
			if err != nil || again != "replay "+first {
				t.Fatalf("replay answered %q, %v; want the replay of %s", again, err, first)
			}
			var r *ledger.Refusal
			if _, err := b.spend(ctx, &key, -1, true); !errors.As(err, &r) || r.Code != ledger.Conflict {
				t.Fatalf("key reused with another input: %v", err)
			}
			if _, err := b.spend(ctx, nil, -7_500_001, true); !errors.As(err, &r) || r.Code != ledger.Insufficient {
				t.Fatalf("overdraft: %v", err)
			}
			if got := b.available(); got != 7_500_000 {
				t.Fatalf("balance %d, want 7500000", got)
			}
			if n := b.postings(); n != 4 {
				t.Fatalf("%d postings, want 4", n)
			}
			if b.money != 12_500_000 || len(b.moved) != 2 || b.moved[1].Balance != 7_500_000 || b.moved[1].Seq != 2 {
				t.Fatalf("hooks told money %d, moved %+v", b.money, b.moved)
			}
			p, err := b.d.Client.Posting.Query().Where(posting.ID(gidOf(first))).Only(context.Background())
			if err != nil || !p.CreatedAt.Equal(b.now.Truncate(time.Microsecond)) {
				t.Fatalf("posting at %v (%v), want the ledger's clock %v", p.CreatedAt, err, b.now)
			}
			if kind == "sqlite" && len(b.events) != 2 {
				t.Fatalf("published %d balance events, want 2", len(b.events))
			}
			err = b.l.InTx(ctx, func(tx *ledger.Tx) error {
				_, err := b.l.Post(ctx, tx, ledger.Entry{Kind: posting.KindALLOCATION, Currency: "USD", AgencyID: b.acc.AgencyID,
					Legs: []ledger.Leg{{Account: b.acc, Amount: 1}, {Book: ledger.Revenue, Amount: 1}}})
				return err
			})
			if err == nil || b.postings() != 4 {
				t.Fatalf("unbalanced entry: %v", err)
			}
		})
	}
}

func gidOf(s string) gid.ID { return gid.ID(s) }
