package credits

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/balance"
	"creditgate/ent/creditrequest"
	"creditgate/events"
	"creditgate/gid"
)

// UseBroker makes the service deliver committed changes to local
// subscribers through b. On PostgreSQL the broker is fed by events.Listen
// (every instance, this one included, hears every commit); on SQLite, which
// has one process, the service publishes to it right after COMMIT.
// The broker also tells the outbox when webhook endpoints changed on
// another instance.
func (s *Service) UseBroker(b *events.Broker) {
	s.broker = b
	// SQLite has one process, which publishes every change itself: the
	// stream is up from the start. PostgreSQL's is up once Listen listens.
	s.balances = newBalanceCache(s.dialect != dialect.Postgres, balanceCacheAccounts)
	b.Follow(s.balances)
	b.OnWebhooksChanged(func() { s.hooks().cache.invalidate() })
	s.followServices(b)
}

func requestEvent(r *ent.CreditRequest) events.Event {
	return events.Event{Request: &events.Request{
		RequestID: r.ID, AccountID: r.AccountID, AgencyID: r.AgencyID, Status: r.Status.String(),
	}}
}

// WatchBalance streams the balance of an account in the viewer's scope
// (NOT_FOUND otherwise) after every change, in commit order, until ctx ends.
// wake, if not nil, is called after each balance is queued on the channel
// and once it is closed (which happens only after ctx ends); it runs in the
// publisher's goroutine and must not block. It lets a transport deliver
// without a goroutine waiting on every channel.
func (s *Service) WatchBalance(ctx context.Context, accountID *gid.ID, cur *string, wake func()) (<-chan *ent.Balance, error) {
	if s.broker == nil {
		return nil, fmt.Errorf("live updates are not configured")
	}
	acc, err := s.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	// Subscribe first, then read the current version: changes from that
	// version on are delivered, older ones skipped (a late notification of
	// a change before it is no news). The current version itself is
	// delivered too: the change that made it may have committed after the
	// subscription began and before the read, and the subscriber's own
	// read of the balance came before it subscribed, so that change may be
	// news to it (skipping it lost it: the portal kept showing the balance
	// of before a hold). At worst the subscriber is told again what it
	// knows. Changes
	// are handed over by the broker's publisher itself (no goroutine per
	// subscription); a subscriber that falls behind by more than the buffer
	// loses the oldest undelivered balances, never the newest.
	out := make(chan *ent.Balance, balanceBuffer)
	if wake == nil {
		wake = func() {}
	}
	push := func(v *ent.Balance) {
		for {
			select {
			case out <- v:
				wake()
				return
			default:
				select {
				case <-out:
				default:
				}
			}
		}
	}
	sub := s.broker.SubscribeBalanceFunc(acc.ID, c, 0, func(b *events.Balance) {
		v := entBalance(b)
		v.Edges.Account = acc
		push(v)
	})
	if s.subscribed != nil {
		s.subscribed()
	}
	current, err := s.balanceIn(ctx, acc, c)
	if err != nil {
		s.broker.UnsubscribeBalance(sub)
		return nil, err
	}
	sub.Skip(current.Version-1, func() {
		redeliverNewer(out, func(v *ent.Balance) bool { return v.Version >= current.Version }, push)
	})
	context.AfterFunc(ctx, func() {
		s.broker.UnsubscribeBalance(sub) // no delivery after it returns
		close(out)
		wake()
	})
	return out, nil
}

// redeliverNewer empties out and pushes back, in order, the changes that
// newer keeps: the rest are older than what the subscription just read.
func redeliverNewer(out chan *ent.Balance, newer func(*ent.Balance) bool, push func(*ent.Balance)) {
	var keep []*ent.Balance
drain:
	for {
		select {
		case v := <-out:
			if newer(v) {
				keep = append(keep, v)
			}
		default:
			break drain
		}
	}
	for _, v := range keep {
		push(v)
	}
}

// balanceBuffer is how many balance changes a slow subscriber may lag.
const balanceBuffer = 16

// WatchRequests streams every change to a credit request the viewer may
// see (agency admins: their agency's; clients: their account's; system
// admins: all), optionally only those now in status.
func (s *Service) WatchRequests(ctx context.Context, status *creditrequest.Status) (<-chan *ent.CreditRequest, error) {
	if s.broker == nil {
		return nil, fmt.Errorf("live updates are not configured")
	}
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	filter := func(r *events.Request) bool {
		if status != nil && r.Status != status.String() {
			return false
		}
		switch {
		case v.Role == auth.RoleSystemAdmin:
			return true
		case v.IsClient():
			return string(r.AccountID) == v.AccountID
		default:
			return string(r.AgencyID) == v.AgencyID
		}
	}
	sub := s.broker.SubscribeRequests(filter)
	out := make(chan *ent.CreditRequest, 1)
	go func() {
		defer close(out)
		defer s.broker.UnsubscribeRequests(sub)
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C():
				if !ok {
					if err := sub.Err(); err != nil {
						s.log.WarnContext(ctx, "closing request subscription", "error", err)
					}
					return
				}
				// Re-read in the subscriber's own scope: the event says what
				// changed, the database says what the viewer may see of it.
				r, err := s.db.CreditRequest.Query().Where(creditrequest.ID(e.RequestID)).
					WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).WithTransaction().Only(ctx)
				if err != nil {
					continue
				}
				select {
				case out <- r:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out, nil
}

// Resync publishes the current balance of everything local subscribers
// watch; the PostgreSQL listener calls it after reconnecting, since
// notifications sent while it was away are lost.
func (s *Service) Resync(ctx context.Context) error {
	ctx = System(ctx)
	for acc, curs := range s.broker.Watched() {
		bs, err := s.db.Balance.Query().Where(balance.AccountID(acc), balance.CurrencyIn(curs...)).All(ctx)
		if err != nil {
			return err
		}
		for _, b := range bs {
			s.broker.Publish(events.Event{Balance: eventBalance(b)})
		}
	}
	return s.resyncAgencies(ctx)
}
