package credits

import (
	"context"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/events"
	"creditgate/ledger"
)

// The domain decides what moves and why; package ledger writes it (Post)
// and runs every money mutation on its one path (ledger.Run). Here the
// service gives the ledger its database, its clock and its hooks: what a
// movement calls for (auto top-up, alerts), where events go, who is told of
// money moved, and how the ledger's refusals read.
func (s *Service) newLedger() *ledger.Ledger {
	return ledger.New(ledger.Config{
		DB: s.db, Dialect: s.dialect, Log: s.log,
		Clock: s.clock,
		Hooks: ledger.Hooks{
			Moved: s.moved, // refunds.go: pays what is owed, then queueTriggered
			Publish: func(e events.Event) {
				if b := s.broker; b != nil {
					b.Publish(e)
				}
			},
			Committed: func(b *events.Balance) { s.balances.committed(b) },
			Money: func(kind posting.Kind, cur string, amount int64) {
				if obs := s.moneyMoved; obs != nil {
					obs(kind, cur, amount)
				}
			},
			Refuse:      func(r *ledger.Refusal) error { return newErr(Code(r.Code), "%s", r.Message) },
			NothingDone: nothingDone,
		},
	})
}

// run is ledger.Run on the service's ledger.
func run[A any](ctx context.Context, s *Service, m ledger.Mutation[A]) (A, error) {
	return ledger.Run(ctx, s.ledger, m)
}

// SetDebitLanes sets how many lanes (queues, each running one transaction
// at a time) debits are spread over; n < 1 keeps the default.
func (s *Service) SetDebitLanes(n int) { s.ledger.SetDebitLanes(n) }

// rebind turns ? placeholders into PostgreSQL's $n.
func (s *Service) rebind(q string) string { return s.ledger.Rebind(q) }

// post writes e in tx (ledger.Post), by the viewer unless e names its actor.
func (s *Service) post(ctx context.Context, tx *ledger.Tx, e ledger.Entry) ([]*ent.Posting, error) {
	if e.Actor == "" {
		e.Actor = actorOf(ctx)
	}
	return s.ledger.Post(ctx, tx, e)
}

// actorOf is who is acting in ctx: the viewer's sub ("apikey:<id>" for a
// key), or "system" for jobs and webhooks, which have no viewer.
func actorOf(ctx context.Context) string {
	if v, ok := auth.FromContext(ctx); ok && v != nil && v.UserID != "" {
		return v.UserID
	}
	return ledger.System
}
