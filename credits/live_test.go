package credits_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/events"
)

// A change committed while a subscription is being set up (it has joined
// the broker, it has not yet read where the balance stands) reaches the
// subscriber: the subscriber read the balance before it subscribed, so the
// change is news to it. The portal once kept showing the balance of before
// a hold made in that moment.
func TestChangeMadeWhileSubscribingIsDelivered(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			watchers := map[string]func(w *world, ctx context.Context, acc *ent.Account) (<-chan *ent.Balance, error){
				"balanceUpdated": func(w *world, ctx context.Context, acc *ent.Account) (<-chan *ent.Balance, error) {
					return w.svc.WatchBalance(ctx, &acc.ID, nil, nil)
				},
				"agencyBalanceUpdated": func(w *world, ctx context.Context, _ *ent.Account) (<-chan *ent.Balance, error) {
					return w.svc.WatchAgencyBalances(ctx, &w.agency.ID, nil)
				},
			}
			for name, watch := range watchers {
				t.Run(name, func(t *testing.T) {
					w := newWorld(t, kind)
					if w.db.Dialect == "postgres" {
						w.listening(t, "livetest_")
					} else {
						w.svc.UseBroker(events.NewBroker())
					}
					acc := w.client("Acme")
					w.fund(acc, "10")

					var once sync.Once
					w.svc.SetSubscribed(func() { once.Do(func() { w.hold(acc, "2.50", 600) }) })
					ctx, cancel := context.WithCancel(w.sys())
					defer cancel()
					ch, err := watch(w, ctx, acc)
					w.check(err)
					deadline := time.After(5 * time.Second)
					for {
						select {
						case b := <-ch:
							if b.AccountID != acc.ID {
								continue // the pool's, for the agency's subscriber
							}
							if b.Available != 750*cent || b.Held != 250*cent {
								t.Fatalf("delivered available %d, held %d; want the hold's 7.50 and 2.50", b.Available, b.Held)
							}
							return
						case <-deadline:
							t.Fatal("the hold made while subscribing was never delivered")
						}
					}
				})
			}
		})
	}
}
