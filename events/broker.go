package events

import (
	"errors"
	"slices"
	"sync"

	"creditgate/gid"
)

// Per-subscriber buffers are bounded so that one slow client never stalls
// the others or grows memory: a balance subscriber that falls behind loses
// its oldest pending balances (the newest is what matters, and every event
// carries the whole state); a request subscriber that falls behind is
// closed with ErrSlowConsumer.
const (
	balanceBuffer = 64
	requestBuffer = 64
)

// ErrSlowConsumer ends a subscription that could not keep up.
var ErrSlowConsumer = errors.New("subscription closed: the client did not keep up with events")

// Broker fans events out to local subscribers. Publish never blocks.
type Broker struct {
	mu       sync.RWMutex
	balances map[gid.ID][]*BalanceSub // usually one or two per account: a slice costs less than a map
	requests map[*RequestSub]struct{}
	keys     []func(gid.ID)          // told of revoked API keys (OnKeyRevoked)
	agencies map[gid.ID][]*AgencySub // agency.go: agency-wide subscribers, apart so that the per-account path stays as it was
	webhooks []func()                // told of changed webhook endpoints (OnWebhooksChanged)
	services []func()                // told of changed services (OnServicesChanged)
	follow   []Follower              // told of every change and of the stream's state (Follow)
}

// Follower keeps state of its own current from the stream of changes
// (a cache of balances). Its methods run in the publisher's goroutine,
// under the broker's read lock, and must not block.
type Follower interface {
	// FollowBalance is every balance published, a resync's included.
	FollowBalance(*Balance)
	// FollowAgency is every change of an agency's settings.
	FollowAgency(agency gid.ID)
	// FollowStream says the stream stopped (up false: changes may go
	// unheard from now on) or is back (up true: changes made while it
	// was away were not heard; from now on they are, in commit order).
	FollowStream(up bool)
}

// Follow registers f.
func (b *Broker) Follow(f Follower) {
	b.mu.Lock()
	b.follow = append(b.follow, f)
	b.mu.Unlock()
}

// StreamDown tells followers that changes may go unheard (the listener
// lost its connection, or has none yet).
func (b *Broker) StreamDown() { b.stream(false) }

// StreamUp tells followers that every change is heard again, from a point
// after which nothing is missed.
func (b *Broker) StreamUp() { b.stream(true) }

func (b *Broker) stream(up bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, f := range b.follow {
		f.FollowStream(up)
	}
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{balances: map[gid.ID][]*BalanceSub{}, requests: map[*RequestSub]struct{}{}}
}

// BalanceSub receives one account's balances in one currency, in commit order.
type BalanceSub struct {
	account  gid.ID
	currency string
	mu       sync.Mutex
	lastSeq  int64
	ch       chan *Balance // never reassigned: C may be read without the lock; nil with deliver
	deliver  func(*Balance)
	closed   bool
}

// C delivers balances; it is closed by Unsubscribe.
func (s *BalanceSub) C() <-chan *Balance { return s.ch }

// offer queues b unless it is not newer than what was already queued; when
// the buffer is full it drops the oldest queued balance.
func (s *BalanceSub) offer(b *Balance) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Currency != s.currency || b.Version <= s.lastSeq || s.closed {
		return
	}
	s.lastSeq = b.Version
	if s.deliver != nil {
		s.deliver(b)
		return
	}
	for {
		select {
		case s.ch <- b:
			return
		default:
			select {
			case <-s.ch:
			default:
			}
		}
	}
}

// SubscribeBalance watches account's balance in currency. lastSeq is the
// version (Balance.Version) already known to the caller: older events are
// not delivered.
func (b *Broker) SubscribeBalance(account gid.ID, currency string, lastSeq int64) *BalanceSub {
	s := &BalanceSub{account: account, currency: currency, lastSeq: lastSeq, ch: make(chan *Balance, balanceBuffer)}
	b.addBalance(s)
	return s
}

// SubscribeBalanceFunc is SubscribeBalance delivering through deliver
// instead of a channel: deliver runs in the publisher's goroutine, under
// the subscription's lock, must not block, and is never called again once
// UnsubscribeBalance has returned. It spares the subscriber a goroutine
// that would only forward from one channel to another.
func (b *Broker) SubscribeBalanceFunc(account gid.ID, currency string, lastSeq int64, deliver func(*Balance)) *BalanceSub {
	s := &BalanceSub{account: account, currency: currency, lastSeq: lastSeq, deliver: deliver}
	b.addBalance(s)
	return s
}

func (b *Broker) addBalance(s *BalanceSub) {
	b.mu.Lock()
	b.balances[s.account] = append(b.balances[s.account], s)
	b.mu.Unlock()
}

// Skip raises the sequence below which changes are not delivered, and runs
// then (if not nil) under the subscription's lock, so no delivery interleaves.
func (s *BalanceSub) Skip(seq int64, then func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq = max(s.lastSeq, seq)
	if then != nil {
		then()
	}
}

// UnsubscribeBalance stops s and closes its channel.
func (b *Broker) UnsubscribeBalance(s *BalanceSub) {
	b.mu.Lock()
	subs := b.balances[s.account]
	if i := slices.Index(subs, s); i >= 0 {
		last := len(subs) - 1
		subs[i], subs[last] = subs[last], nil
		if last == 0 {
			delete(b.balances, s.account)
		} else {
			b.balances[s.account] = subs[:last]
		}
	}
	b.mu.Unlock()
	s.mu.Lock()
	if !s.closed {
		if s.ch != nil {
			close(s.ch)
		}
		s.closed = true
	}
	s.mu.Unlock()
}

// RequestSub receives credit-request changes that pass its filter.
type RequestSub struct {
	filter func(*Request) bool
	mu     sync.Mutex
	ch     chan *Request // never reassigned: C may be read without the lock
	closed bool
	err    error
}

// C delivers request events; it is closed by Unsubscribe or on overflow.
func (s *RequestSub) C() <-chan *Request { return s.ch }

// Err says why C was closed by the broker (nil after Unsubscribe).
func (s *RequestSub) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// SubscribeRequests watches credit requests for which filter is true.
func (b *Broker) SubscribeRequests(filter func(*Request) bool) *RequestSub {
	s := &RequestSub{filter: filter, ch: make(chan *Request, requestBuffer)}
	b.mu.Lock()
	b.requests[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// UnsubscribeRequests stops s.
func (b *Broker) UnsubscribeRequests(s *RequestSub) {
	b.mu.Lock()
	delete(b.requests, s)
	b.mu.Unlock()
	s.close(nil)
}

func (s *RequestSub) close(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		close(s.ch)
		s.closed, s.err = true, err
	}
}

func (s *RequestSub) offer(r *Request) (overflow bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case s.ch <- r:
		return false
	default:
		return true
	}
}

// OnKeyRevoked registers f, called with the id of every API key revoked on
// any instance, and with "" after the listener lost its connection, when
// revocations may have been missed (forget every key). f must not block.
func (b *Broker) OnKeyRevoked(f func(id gid.ID)) {
	b.mu.Lock()
	b.keys = append(b.keys, f)
	b.mu.Unlock()
}

// Reconnected tells those interested that events may have been missed.
func (b *Broker) Reconnected() {
	b.mu.RLock()
	keys, hooks := b.keys, b.webhooks
	b.mu.RUnlock()
	for _, f := range keys {
		f("")
	}
	for _, f := range hooks {
		f()
	}
}

// OnWebhooksChanged registers f, called when webhook endpoints changed on
// any instance, and after the listener lost its connection (a change may
// have been missed). f must not block.
func (b *Broker) OnWebhooksChanged(f func()) {
	b.mu.Lock()
	b.webhooks = append(b.webhooks, f)
	b.mu.Unlock()
}

// OnServicesChanged registers f, called when a service or its rate card
// changed on any instance (what may have gone unheard while the listener
// was away, a Follower learns from FollowStream). f must not block.
func (b *Broker) OnServicesChanged(f func()) {
	b.mu.Lock()
	b.services = append(b.services, f)
	b.mu.Unlock()
}

// Publish delivers e to every matching local subscriber.
func (b *Broker) Publish(e Event) {
	var slow []*RequestSub
	b.mu.RLock()
	if e.Webhooks != nil {
		for _, f := range b.webhooks {
			f()
		}
	}
	if e.Services != nil {
		for _, f := range b.services {
			f()
		}
	}
	if e.Key != nil && e.Key.KeyID != "" {
		for _, f := range b.keys {
			f(e.Key.KeyID)
		}
	}
	for _, f := range b.follow {
		if e.Balance != nil {
			f.FollowBalance(e.Balance)
		}
		if e.Agency != nil {
			f.FollowAgency(e.Agency.AgencyID)
		}
	}
	if e.Balance != nil {
		for _, s := range b.balances[e.Balance.AccountID] {
			s.offer(e.Balance)
		}
		if len(b.agencies) > 0 {
			for _, s := range b.agencies[e.Balance.AgencyID] {
				s.offerBalance(e.Balance)
			}
		}
	}
	if e.Agency != nil {
		for _, s := range b.agencies[e.Agency.AgencyID] {
			s.offerChange()
		}
	}
	if e.Request != nil {
		for s := range b.requests {
			if s.filter(e.Request) && s.offer(e.Request) {
				slow = append(slow, s)
			}
		}
	}
	b.mu.RUnlock()
	for _, s := range slow {
		b.mu.Lock()
		delete(b.requests, s)
		b.mu.Unlock()
		s.close(ErrSlowConsumer)
	}
}

// Watched lists the (account, currency) pairs with local subscribers, for
// re-reading current state after a lost connection.
func (b *Broker) Watched() map[gid.ID][]string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make(map[gid.ID][]string, len(b.balances))
	for acc, subs := range b.balances {
		seen := map[string]bool{}
		for _, s := range subs {
			if !seen[s.currency] {
				seen[s.currency] = true
				out[acc] = append(out[acc], s.currency)
			}
		}
	}
	return out
}

// Counts reports the number of local subscriptions (for metrics and tests).
func (b *Broker) Counts() (balances, requests int) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, subs := range b.balances {
		balances += len(subs)
	}
	return balances, len(b.requests)
}
