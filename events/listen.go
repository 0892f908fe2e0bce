package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/lib/pq"
)

// Resync re-reads the current state of what local subscribers watch and
// publishes it; the listener calls it after a reconnect, when notifications
// may have been missed.
type Resync func(ctx context.Context) error

// Listen holds one PostgreSQL connection listening on Channel and publishes
// every notification to b until ctx ends. pq.Listener reconnects on its own;
// a nil notification marks a reconnect, after which resync runs so that no
// subscriber keeps a stale balance. ready is closed once listening.
//
// The broker's followers are told the stream is down from the start until
// LISTEN holds, from the moment the connection is found lost, and up again
// once the reconnect's nil notification is read and resync has run: what
// they keep from the stream is then only what they heard after it.
func Listen(ctx context.Context, dsn string, b *Broker, resync Resync, log *slog.Logger, ready chan<- struct{}) error {
	b.StreamDown()
	defer b.StreamDown()
	l := pq.NewListener(dsn, 50*time.Millisecond, 5*time.Second, func(ev pq.ListenerEventType, err error) {
		if ev == pq.ListenerEventDisconnected || ev == pq.ListenerEventConnectionAttemptFailed {
			b.StreamDown()
		}
		if err != nil {
			log.Warn("event listener connection", "event", ev, "error", err)
		}
	})
	defer l.Close()
	if err := l.Listen(Channel); err != nil {
		return err
	}
	b.StreamUp()
	if ready != nil {
		close(ready)
	}
	// One ticker, not a timer per notification: a usage call announces a
	// balance per event, and time.After in the loop made and dropped a
	// timer for each. A ping every 90 s, busy or not, costs one round trip.
	ping := time.NewTicker(90 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			if n == nil {
				b.StreamDown()  // pq may reconnect before its callback ran
				b.Reconnected() // revoked API keys may have gone unheard
				if err := resync(ctx); err != nil {
					log.Warn("re-reading balances after reconnect", "error", err)
				}
				b.StreamUp()
				continue
			}
			e, err := Decode(n.Extra)
			if err != nil {
				log.Warn("undecodable event", "error", err)
				continue
			}
			b.Publish(e)
		case <-ping.C:
			// A ping detects a dead connection that would otherwise stay silent.
			go func() { _ = l.Ping() }()
		}
	}
}
