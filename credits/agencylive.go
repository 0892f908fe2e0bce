package credits

import (
	"context"
	"fmt"
	"sync"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/agency"
	"creditgate/ent/balance"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/ledger"
)

// agencyBalanceBuffer is how many balance changes an agency-wide
// subscriber may lag. When it is full the queue keeps the newest change of
// each balance (all a dashboard shows), so changes are lost only when more
// balances than this changed while the client did not read.
const agencyBalanceBuffer = 1024

// WatchAgencyBalances streams every balance change of every account of an
// agency (agency admins: their own; system admins: the one named), in
// commit order per balance, on one subscription. wake is as for
// WatchBalance.
func (s *Service) WatchAgencyBalances(ctx context.Context, agencyID *gid.ID, wake func()) (<-chan *ent.Balance, error) {
	if s.broker == nil {
		return nil, fmt.Errorf("live updates are not configured")
	}
	ag, err := s.agencyFor(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	if wake == nil {
		wake = func() {}
	}
	out := make(chan *ent.Balance, agencyBalanceBuffer)
	// push runs under the subscription's lock: it is out's only sender, so
	// refilling out after draining it never blocks.
	push := func(v *ent.Balance) {
		select {
		case out <- v:
			wake()
			return
		default:
		}
		var queued []*ent.Balance
	drain:
		for {
			select {
			case q := <-out:
				queued = append(queued, q)
			default:
				break drain
			}
		}
		queued = newestPerBalance(append(queued, v))
		if over := len(queued) - cap(out); over > 0 {
			queued = queued[over:]
		}
		for _, q := range queued {
			out <- q
		}
		wake()
	}
	sub := s.broker.SubscribeAgencyBalances(ag.ID, func(b *events.Balance) {
		// The account is resolved, if asked for, in the subscriber's scope.
		push(entBalance(b))
	})
	if s.subscribed != nil {
		s.subscribed()
	}
	// Subscribe first, then read the current versions: changes from those
	// versions on are delivered, older ones skipped (as WatchBalance, and
	// for the same reason the current versions themselves too).
	var rows []struct {
		AccountID gid.ID `json:"account_id"`
		Currency  string `json:"currency"`
		Version   int64  `json:"version"`
	}
	err = s.db.Balance.Query().Where(balance.AgencyID(ag.ID)).
		Select(balance.FieldAccountID, balance.FieldCurrency, balance.FieldVersion).
		Scan(System(ctx), &rows)
	if err != nil {
		s.broker.UnsubscribeAgency(sub)
		return nil, fmt.Errorf("reading the agency's balances: %w", err)
	}
	known := make([]events.Balance, len(rows))
	for i, r := range rows {
		known[i] = events.Balance{AccountID: r.AccountID, Currency: r.Currency, Version: r.Version - 1}
	}
	sub.SkipBalances(known, func() {
		current := make(map[string]int64, len(known))
		for _, k := range known {
			current[string(k.AccountID)+" "+k.Currency] = k.Version // the version read, less one
		}
		redeliverNewer(out, func(v *ent.Balance) bool { return v.Version > current[string(v.AccountID)+" "+v.Currency] }, push)
	})
	context.AfterFunc(ctx, func() {
		s.broker.UnsubscribeAgency(sub) // no delivery after it returns
		close(out)
		wake()
	})
	return out, nil
}

// newestPerBalance keeps, in order, the last (newest) change of each
// balance in bs.
func newestPerBalance(bs []*ent.Balance) []*ent.Balance {
	type key struct {
		account  gid.ID
		currency string
	}
	last := make(map[key]int, len(bs))
	for i, b := range bs {
		last[key{b.AccountID, b.Currency}] = i
	}
	out := bs[:0]
	for i, b := range bs {
		if last[key{b.AccountID, b.Currency}] == i {
			out = append(out, b)
		}
	}
	return out
}

// WatchAgency streams an agency (default: the viewer's; another agency is
// NOT_FOUND but to system admins) after each committed change of its
// settings. wake is as for WatchBalance.
func (s *Service) WatchAgency(ctx context.Context, agencyID *gid.ID, wake func()) (<-chan *ent.Agency, error) {
	if s.broker == nil {
		return nil, fmt.Errorf("live updates are not configured")
	}
	if _, err := requireRole(ctx, auth.RoleClient, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	ag, err := s.Agency(ctx, agencyID)
	if err != nil {
		return nil, err
	}
	if wake == nil {
		wake = func() {}
	}
	out := make(chan *ent.Agency, 1)
	var mu sync.Mutex
	closed := false
	push := func(a *ent.Agency) {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return
		}
		select { // only the newest state matters
		case <-out:
		default:
		}
		out <- a
		wake()
	}
	sub := s.broker.SubscribeAgency(ag.ID, func() { s.agencyChanged(ag.ID, push) })
	context.AfterFunc(ctx, func() {
		s.broker.UnsubscribeAgency(sub)
		mu.Lock()
		closed = true
		close(out)
		mu.Unlock()
		wake()
	})
	return out, nil
}

// agencyFeed re-reads agencies whose settings changed for their local
// subscribers: off the publisher's goroutine (which must not block), once
// per agency however many subscribe to it, and by one goroutine at a time,
// so that a subscriber never gets an older state after a newer one.
type agencyFeed struct {
	mu      sync.Mutex
	wants   []agencyWant
	running bool
}

type agencyWant struct {
	agency gid.ID
	push   func(*ent.Agency)
}

// agencyChanged queues a re-read of agency for push; it never blocks.
func (s *Service) agencyChanged(agency gid.ID, push func(*ent.Agency)) {
	f := &s.agencyFeed
	f.mu.Lock()
	defer f.mu.Unlock()
	f.wants = append(f.wants, agencyWant{agency, push})
	if !f.running {
		f.running = true
		go s.feedAgencies()
	}
}

func (s *Service) feedAgencies() {
	f := &s.agencyFeed
	for {
		f.mu.Lock()
		wants := f.wants
		f.wants = nil
		if len(wants) == 0 {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		read := map[gid.ID]*ent.Agency{}
		for _, w := range wants {
			ag, ok := read[w.agency]
			if !ok {
				ag = s.readAgency(w.agency)
				read[w.agency] = ag
			}
			if ag != nil {
				c := *ag // each subscriber's own
				w.push(&c)
			}
		}
	}
}

func (s *Service) readAgency(id gid.ID) *ent.Agency {
	ctx, cancel := context.WithTimeout(System(context.Background()), 10*time.Second)
	defer cancel()
	ag, err := s.db.Agency.Query().Where(agency.ID(id)).Only(ctx)
	if err != nil {
		s.log.Warn("re-reading an agency for its subscribers", "agency", id, "error", err)
		return nil
	}
	return ag
}

// inTxSettings is inTx for a change of agency's settings: when changed, it
// is announced with the COMMIT (on PostgreSQL by pg_notify inside the
// transaction, heard by every instance; on SQLite right after it), and
// agencyUpdated's subscribers re-read the agency.
func (s *Service) inTxSettings(ctx context.Context, ag gid.ID, changed bool, fn func(tx *ent.Tx) error) error {
	return s.ledger.InTx(ctx, func(tx *ledger.Tx) error {
		if err := fn(tx.Tx); err != nil {
			return err
		}
		if changed {
			tx.Announce(events.Event{Agency: &events.Agency{AgencyID: ag}})
			// This instance forgets the agency at COMMIT, not when its own
			// notification comes back: a read right after the change (the
			// switch, then canBuyCredits) must see it.
			tx.AfterCommit(func() {
				if c := s.balances; c != nil {
					c.FollowAgency(ag)
				}
			})
		}
		return nil
	})
}

// resyncAgencies re-reads, after a lost connection, what agency-wide
// subscribers watch: every balance of their agencies, and their settings.
func (s *Service) resyncAgencies(ctx context.Context) error {
	balances, settings := s.broker.WatchedAgencies()
	for _, ag := range balances {
		bs, err := s.db.Balance.Query().Where(balance.AgencyID(ag)).All(ctx)
		if err != nil {
			return err
		}
		for _, b := range bs {
			s.broker.Publish(events.Event{Balance: eventBalance(b)})
		}
	}
	for _, ag := range settings {
		s.broker.Publish(events.Event{Agency: &events.Agency{AgencyID: ag}})
	}
	return nil
}
