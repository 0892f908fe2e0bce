package events

import (
	"slices"
	"sync"

	"creditgate/gid"
)

// AgencySub receives what happens in one agency: every balance change of
// its accounts (SubscribeAgencyBalances) or each change of its settings
// (SubscribeAgency). One subscription stands for what would otherwise be
// one per account, so it remembers the newest version delivered of each
// balance: a repeat or an older one (a resync's) is dropped, and every
// balance arrives in commit order.
type AgencySub struct {
	agency   gid.ID
	mu       sync.Mutex
	balance  func(*Balance) // SubscribeAgencyBalances
	changed  func()         // SubscribeAgency
	versions map[balanceKey]int64
	closed   bool
}

type balanceKey struct {
	account  gid.ID
	currency string
}

// SubscribeAgencyBalances watches every balance of every account of agency.
// deliver runs in the publisher's goroutine, under the subscription's lock,
// must not block, and is never called again once UnsubscribeAgency has
// returned.
func (b *Broker) SubscribeAgencyBalances(agency gid.ID, deliver func(*Balance)) *AgencySub {
	s := &AgencySub{agency: agency, balance: deliver, versions: map[balanceKey]int64{}}
	b.addAgency(s)
	return s
}

// SubscribeAgency watches the settings of agency: changed is called (as
// deliver above) after each committed change; the subscriber re-reads the
// agency.
func (b *Broker) SubscribeAgency(agency gid.ID, changed func()) *AgencySub {
	s := &AgencySub{agency: agency, changed: changed}
	b.addAgency(s)
	return s
}

func (b *Broker) addAgency(s *AgencySub) {
	b.mu.Lock()
	if b.agencies == nil {
		b.agencies = map[gid.ID][]*AgencySub{}
	}
	b.agencies[s.agency] = append(b.agencies[s.agency], s)
	b.mu.Unlock()
}

// UnsubscribeAgency stops s.
func (b *Broker) UnsubscribeAgency(s *AgencySub) {
	b.mu.Lock()
	subs := b.agencies[s.agency]
	if i := slices.Index(subs, s); i >= 0 {
		last := len(subs) - 1
		subs[i], subs[last] = subs[last], nil
		if last == 0 {
			delete(b.agencies, s.agency)
		} else {
			b.agencies[s.agency] = subs[:last]
		}
	}
	b.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// SkipBalances marks the versions of known (read by the subscriber after
// subscribing) as delivered, and runs then (if not nil) under the
// subscription's lock, so no delivery interleaves.
func (s *AgencySub) SkipBalances(known []Balance, then func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range known {
		key := balanceKey{k.AccountID, k.Currency}
		s.versions[key] = max(s.versions[key], k.Version)
	}
	if then != nil {
		then()
	}
}

func (s *AgencySub) offerBalance(b *Balance) {
	if s.balance == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := balanceKey{b.AccountID, b.Currency}
	if s.closed || b.Version <= s.versions[key] {
		return
	}
	s.versions[key] = b.Version
	s.balance(b)
}

func (s *AgencySub) offerChange() {
	if s.changed == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.changed()
	}
}

// WatchedAgencies lists the agencies with local subscribers to their
// balances and to their settings, for re-reading them after a lost
// connection.
func (b *Broker) WatchedAgencies() (balances, settings []gid.ID) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for ag, subs := range b.agencies {
		if slices.ContainsFunc(subs, func(s *AgencySub) bool { return s.balance != nil }) {
			balances = append(balances, ag)
		}
		if slices.ContainsFunc(subs, func(s *AgencySub) bool { return s.changed != nil }) {
			settings = append(settings, ag)
		}
	}
	return balances, settings
}

// AgencyCounts reports the number of local agency-wide balance and
// settings subscriptions (for tests).
func (b *Broker) AgencyCounts() (balances, settings int) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	for _, subs := range b.agencies {
		for _, s := range subs {
			if s.balance != nil {
				balances++
			} else {
				settings++
			}
		}
	}
	return balances, settings
}
