package credits

import (
	"context"
	"fmt"
	"sync"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/events"
	"creditgate/gid"
)

// What recordUsage looks up on every call, kept in memory: a service
// sending one event a call would otherwise pay three reads (the account,
// the service, its rate card) for one debit.
//
//   - Accounts: only what never changes of one (its id, its agency, its
//     kind: all immutable, and accounts are never deleted), so what is kept
//     is never stale and needs no invalidation. Whether the viewer may
//     charge it is decided here by the same rule the scope interceptor
//     applies to the database's read (narrow), on those columns. The
//     account's other fields are not kept: an answer's transaction leaves
//     its account edge unset, and the resolver reads it if asked.
//   - Services with their rate cards: they change (setServiceRates), so
//     they are kept only while this instance hears every change. A change
//     makes the instance that commits it forget them at COMMIT, and every
//     other instance when its notification arrives (PostgreSQL, by
//     pg_notify in the change's transaction): a call there may charge the
//     old rate for as long as a notification takes, as it would if it had
//     run just before the change. While the listener is down, or before it
//     ever listened, nothing kept is used and nothing is kept; when it is
//     back, everything kept before is forgotten. A read begun before a
//     forget is not kept after it (gen).
type usageCache struct {
	mu       sync.Mutex
	up       bool   // every change of a service is heard: kept services may be used
	gen      uint64 // counts forgets of services
	services map[gid.ID]*ent.Service
	accounts map[gid.ID]accountIdentity
}

// accountIdentity is what never changes of an account.
type accountIdentity struct {
	agency gid.ID
	kind   account.Kind
}

// Bounds of the cache: past them an arbitrary entry makes room.
const (
	usageCacheAccounts = 100_000
	usageCacheServices = 4_096
)

// start (re)starts the cache's services, kept from now on if up. On SQLite (one process) this instance
// makes every change itself, so its services are kept from the start; on
// PostgreSQL only once b's stream is up (followServices). Without a broker
// on PostgreSQL no service is ever kept: another instance's change would go
// unheard.
func (c *usageCache) start(up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.up = up
	c.gen++
	c.services = nil
}

// followServices makes the cache hear b: changes of services, and the
// stream's state.
func (s *Service) followServices(b *events.Broker) {
	s.usage.start(s.dialect != dialect.Postgres)
	b.Follow(&s.usage)
	b.OnServicesChanged(s.usage.forgetServices)
}

// FollowBalance, FollowAgency: a balance or an agency's settings say
// nothing of services.
func (c *usageCache) FollowBalance(*events.Balance) {}
func (c *usageCache) FollowAgency(gid.ID)           {}

// FollowStream: while down, changes may go unheard; once up again, some
// may have been.
func (c *usageCache) FollowStream(up bool) { c.start(up) }

// forgetServices forgets every service kept, and any read in flight.
func (c *usageCache) forgetServices() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.services = nil
}

// servicesGen is the generation a read of services begins in: keepServices
// keeps what it read only if nothing was forgotten since.
func (c *usageCache) servicesGen() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen, c.up
}

// service is the kept service id, with its rate card, if the viewer may
// see it; known is false when it is not kept (or the rule could not be
// applied here): the database answers. The service is shared: read only.
func (c *usageCache) service(ctx context.Context, id gid.ID) (svc *ent.Service, known bool) {
	c.mu.Lock()
	if c.up {
		svc = c.services[id]
	}
	c.mu.Unlock()
	if svc == nil {
		return nil, false
	}
	visible, ok := inScope(ctx, ent.TypeService, func(col string) (gid.ID, bool) {
		if col == "agency_id" {
			return svc.AgencyID, true
		}
		return "", false
	})
	if !ok {
		return nil, false
	}
	if !visible {
		return nil, true
	}
	return svc, true
}

// keepServices keeps svcs (their rate cards loaded), read in generation
// gen.
func (c *usageCache) keepServices(gen uint64, svcs []*ent.Service) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.up || c.gen != gen {
		return
	}
	if c.services == nil {
		c.services = map[gid.ID]*ent.Service{}
	}
	for _, svc := range svcs {
		if !ratesLoaded(svc) {
			continue
		}
		makeRoom(c.services, usageCacheServices)
		c.services[svc.ID] = svc
	}
}

// account is the account id, with only what never changes of it, if the
// viewer may charge it; known is false when it is not kept.
func (c *usageCache) account(ctx context.Context, id gid.ID) (acc *ent.Account, known bool) {
	c.mu.Lock()
	a, kept := c.accounts[id]
	c.mu.Unlock()
	if !kept {
		return nil, false
	}
	visible, ok := inScope(ctx, ent.TypeAccount, func(col string) (gid.ID, bool) {
		switch col {
		case "agency_id":
			return a.agency, true
		case "id":
			return id, true
		}
		return "", false
	})
	if !ok {
		return nil, false
	}
	if !visible {
		return nil, true
	}
	return &ent.Account{ID: id, AgencyID: a.agency, Kind: a.kind}, true
}

// keepAccounts keeps what never changes of accs.
func (c *usageCache) keepAccounts(accs []*ent.Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accounts == nil {
		c.accounts = map[gid.ID]accountIdentity{}
	}
	for _, a := range accs {
		if _, kept := c.accounts[a.ID]; !kept {
			makeRoom(c.accounts, usageCacheAccounts)
			c.accounts[a.ID] = accountIdentity{agency: a.AgencyID, kind: a.Kind}
		}
	}
}

// makeRoom deletes an arbitrary entry of m when it holds max.
func makeRoom[V any](m map[gid.ID]V, max int) {
	if len(m) < max {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

// servicesChanged makes every instance forget the services it keeps once
// tx commits: this one at once (also when the COMMIT's outcome is
// unknown: a read costs little), the others by pg_notify.
func (s *Service) servicesChanged(ctx context.Context, tx *ent.Tx) error {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			s.usage.forgetServices()
			return err
		})
	})
	if s.dialect != dialect.Postgres {
		return nil
	}
	ev := events.Event{Services: &struct{}{}}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", events.Channel, ev.Encode()); err != nil {
		return fmt.Errorf("announcing the change of a service: %w", err)
	}
	return nil
}
