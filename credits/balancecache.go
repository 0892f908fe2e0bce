package credits

import (
	"context"
	"sync"
	"sync/atomic"

	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
)

// Balances from memory. Every instance hears every committed balance
// change (events: NOTIFY on PostgreSQL, the local publish on SQLite), each
// carrying the whole balance and its version, so an instance can answer
// balance reads from what it heard instead of asking the database.
//
// The cache keeps, per account, the balances read or heard since the
// account entered it, each replaced only by a higher version (an older
// value never replaces a newer one, whichever arrives first: a read's
// row, a notification, the balance a mutation of this instance left).
// An account enters on a read that missed, BEFORE that read's query: a
// change heard from then on is applied, and the query's row, once back,
// is kept only if newer. So what is kept is never older than the newest
// change heard. Changes heard for accounts not kept are dropped.
//
// While the stream is down (the listener's connection lost, or not yet
// made) nothing is kept or answered: reads go to the database. When it
// comes back, what was kept is dropped (changes made meanwhile went
// unheard), and reads that began before are not kept either (epoch).
//
// It holds at most balanceCacheAccounts accounts (about 700 bytes each
// with one currency: ~15 MB), evicting one not read lately (second
// chance) to admit another. It is below the tenancy checks: a hit is
// answered only to a viewer whose scope the database's read would have
// let see it (visible). Spending never reads it: money moves only by the
// ledger's conditional statements.
const balanceCacheAccounts = 20_000

type balanceCache struct {
	mu       sync.RWMutex
	live     bool   // the stream is up: what is kept is current
	epoch    uint64 // bumped when the stream goes down or comes back
	settings uint64 // bumped by any agency settings change: kept agencies are stale
	max      int
	accounts map[gid.ID]*cachedAccount
}

// cachedAccount is what is kept of one account.
type cachedAccount struct {
	// own is the account and its agency as the client's own read builds
	// them (ownBalance), read while settings was ownGen; nil: not kept.
	own    *ent.Account
	ownGen uint64
	bals   []events.Balance // one per currency, each of version ≥ 1
	used   atomic.Bool      // read since the eviction hand last passed
}

func newBalanceCache(live bool, max int) *balanceCache {
	return &balanceCache{live: live, max: max, accounts: map[gid.ID]*cachedAccount{}}
}

func (e *cachedAccount) find(cur string) int {
	for i := range e.bals {
		if e.bals[i].Currency == cur {
			return i
		}
	}
	return -1
}

// put keeps b unless what is kept of its currency is as new; add false
// only replaces a kept currency.
func (e *cachedAccount) put(b *events.Balance, add bool) {
	if i := e.find(b.Currency); i >= 0 {
		if b.Version > e.bals[i].Version {
			e.bals[i] = *b
		}
	} else if add && b.Version > 0 {
		e.bals = append(e.bals, *b)
	}
}

// FollowBalance applies a change heard on the stream. Heard in commit
// order, it is the newest of its balance so far: a currency the account
// had not kept is added.
func (c *balanceCache) FollowBalance(b *events.Balance) {
	c.mu.Lock()
	if e := c.accounts[b.AccountID]; e != nil && c.live {
		e.put(b, true)
	}
	c.mu.Unlock()
}

// FollowAgency forgets the agencies kept: one changed its settings (its
// default currency, whether credits pay).
func (c *balanceCache) FollowAgency(gid.ID) {
	c.mu.Lock()
	c.settings++
	c.mu.Unlock()
}

// FollowStream drops everything kept, both when the stream stops and when
// it is back.
func (c *balanceCache) FollowStream(up bool) {
	c.mu.Lock()
	c.live = up
	c.epoch++
	clear(c.accounts)
	c.mu.Unlock()
}

// committed applies the balance a mutation of this instance left, right
// after its COMMIT: the next read here shows at least what it answered. It
// only replaces a kept currency: one not kept may have changed since in a
// way this instance heard before the account entered.
func (c *balanceCache) committed(b *events.Balance) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if e := c.accounts[b.AccountID]; e != nil && c.live {
		e.put(b, false)
	}
	c.mu.Unlock()
}

// forget drops what is kept of the account, as eviction does. Nothing in
// the domain calls it since usage batches hand their balances over
// (Hooks.Committed); the cache's test uses it to drop an account while a
// read of it is in flight.
func (c *balanceCache) forget(acc gid.ID) {
	if c == nil {
		return
	}
	c.mu.Lock()
	delete(c.accounts, acc)
	c.mu.Unlock()
}

// balance is the kept balance of acc in cur.
func (c *balanceCache) balance(acc gid.ID, cur string) (events.Balance, bool) {
	if c == nil {
		return events.Balance{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.accounts[acc]
	if e == nil || !c.live {
		return events.Balance{}, false
	}
	i := e.find(cur)
	if i < 0 {
		return events.Balance{}, false
	}
	e.used.Store(true)
	return e.bals[i], true
}

// own is the kept account acc with its agency, if its agency is agency,
// and its balance in cur (nil: the agency's default currency).
func (c *balanceCache) own(acc, agency gid.ID, cur *string) (*ent.Account, events.Balance, bool) {
	if c == nil {
		return nil, events.Balance{}, false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	e := c.accounts[acc]
	if e == nil || !c.live || e.own == nil || e.ownGen != c.settings || e.own.AgencyID != agency {
		return nil, events.Balance{}, false
	}
	want := e.own.Edges.Agency.DefaultCurrency
	if cur != nil {
		want = *cur
	}
	i := e.find(want)
	if i < 0 {
		return nil, events.Balance{}, false
	}
	e.used.Store(true)
	a, ag := *e.own, *e.own.Edges.Agency // each answer its own copies
	a.Edges = ent.AccountEdges{Agency: &ag}
	return &a, e.bals[i], true
}

// fill is a read's right to keep what it reads (begin).
type fill struct {
	e               *cachedAccount // nil: keep nothing
	epoch, settings uint64
}

// begin enters acc, if not kept, before its read's query: the changes
// heard from now on are applied to it.
func (c *balanceCache) begin(acc gid.ID) fill {
	if c == nil {
		return fill{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.live {
		return fill{}
	}
	e := c.accounts[acc]
	if e == nil {
		c.evict()
		e = &cachedAccount{}
		c.accounts[acc] = e
	}
	return fill{e: e, epoch: c.epoch, settings: c.settings}
}

// evict makes room for one account: the first one not read since the
// hand last passed it (map order is random: a cheap clock).
func (c *balanceCache) evict() {
	for len(c.accounts) >= c.max {
		for id, e := range c.accounts {
			if !e.used.Swap(false) {
				delete(c.accounts, id)
				break
			}
		}
	}
}

// keep stores what the read of f found: balances (each of version ≥ 1)
// and, when not nil, the account with its agency, unless the stream went
// down or came back since begin, or the account was evicted meanwhile.
func (c *balanceCache) keep(f fill, own *ent.Account, bs ...*ent.Balance) {
	if f.e == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.epoch != c.epoch || !c.live {
		return
	}
	for _, b := range bs {
		if c.accounts[b.AccountID] != f.e {
			return
		}
		f.e.put(eventBalance(b), true)
	}
	if own != nil && f.settings == c.settings && c.accounts[own.ID] == f.e {
		a, ag := *own, *own.Edges.Agency
		a.Edges = ent.AccountEdges{Agency: &ag}
		f.e.own, f.e.ownGen = &a, f.settings
	}
}

// visible says whether the viewer's scope lets it read the balance of
// account acc of agency ag: the rule the database's read applies (narrow,
// for balances).
func visible(ctx context.Context, ag, acc gid.ID) bool {
	v, ok := inScope(ctx, ent.TypeBalance, func(column string) (gid.ID, bool) {
		switch column {
		case "agency_id":
			return ag, true
		case "account_id":
			return acc, true
		}
		return "", false
	})
	return v && ok
}

// eventBalance is b as a notification carries it.
func eventBalance(b *ent.Balance) *events.Balance {
	return &events.Balance{AccountID: b.AccountID, AgencyID: b.AgencyID, Currency: b.Currency,
		Available: b.Available, Held: b.Held, Owed: b.Owed, Seq: b.Seq, Version: b.Version, UpdatedAt: b.UpdatedAt}
}

// entBalance is the balance a notification carries.
func entBalance(b *events.Balance) *ent.Balance {
	return &ent.Balance{AccountID: b.AccountID, AgencyID: b.AgencyID, Currency: b.Currency,
		Available: b.Available, Held: b.Held, Owed: b.Owed, Seq: b.Seq, Version: b.Version, UpdatedAt: b.UpdatedAt}
}
