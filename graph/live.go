package graph

import (
	"context"
	"sync"
	"sync/atomic"

	"creditgate/auth"
	"creditgate/credits"
)

// LiveOptions configure subscriptions over WebSocket.
type LiveOptions struct {
	Verifier *auth.Verifier
	// OriginPatterns allow cross-origin WebSocket upgrades (host patterns,
	// e.g. "app.example.com"); same-origin is always allowed.
	OriginPatterns   []string
	MaxConnsPerToken int // open sockets per token subject; 0: 10
	MaxSubsPerConn   int // subscriptions per socket; 0: 20
	Sockets          *Sockets
}

// connKey carries a socket's subscription counter in its context.
type connKey struct{}

type connState struct {
	subs   atomic.Int32
	max    int32
	viewer *auth.Viewer
	cancel func() // closes the socket
}

// acquireSubscription counts a subscription against its socket's cap (SSE
// has one subscription per request) and in the open-subscriptions gauge.
func acquireSubscription(ctx context.Context) (func(), error) {
	st, ok := ctx.Value(connKey{}).(*connState)
	if ok && st.subs.Add(1) > st.max {
		st.subs.Add(-1)
		return nil, &credits.Error{Code: credits.CodeRateLimited, Message: "too many subscriptions on this connection"}
	}
	closed := metricsFrom(ctx).subscriptionOpened(ctx)
	var once sync.Once
	return func() {
		once.Do(func() {
			if ok {
				st.subs.Add(-1)
			}
			closed()
		})
	}, nil
}

// liveWake is, for a subscription served by the WebSocket transport, the
// function its stream calls after buffering a value (it never blocks):
// the transport then delivers from a shared pool instead of keeping a
// goroutine waiting on the channel. Elsewhere (SSE) it is nil. A stream
// given a wake function must close its channel only after ctx ends.
func liveWake(ctx context.Context) func() {
	op := wsOpFrom(ctx)
	if op == nil {
		return nil
	}
	op.woken = true
	return op.wake
}

// relay releases the subscription slot when the stream ends: when the
// operation's context ends (the client completed the subscription or left,
// or the stream closed and the transport finished the operation). For a
// stream that liveWake wakes, it tells the transport how to see that a
// value is waiting.
func relay[T any](ctx context.Context, ch <-chan T, err error, release func()) (<-chan T, error) {
	if err != nil {
		release()
		return nil, err
	}
	// No goroutine per subscription for this: the transports cancel the
	// operation's context when the stream ends, whichever side ends it.
	context.AfterFunc(ctx, release)
	if op := wsOpFrom(ctx); op != nil && op.woken {
		op.ready = func() bool { return len(ch) > 0 }
	}
	return ch, nil
}

// Sockets tracks open WebSockets: how many each token subject holds, and
// how to close them all when the server shuts down (srv.Shutdown does not
// wait for hijacked connections, and cancelling every request's context
// would also abort in-flight mutations).
type Sockets struct {
	mu    sync.Mutex
	count map[string]int
	open  map[*connState]struct{}
}

// NewSockets returns an empty registry.
func NewSockets() *Sockets {
	return &Sockets{count: map[string]int{}, open: map[*connState]struct{}{}}
}

func (s *Sockets) acquire(st *connState, max int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := st.viewer.UserID
	if s.count[sub] >= max {
		return false
	}
	s.count[sub]++
	s.open[st] = struct{}{}
	return true
}

func (s *Sockets) release(st *connState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.open[st]; !ok {
		return
	}
	delete(s.open, st)
	sub := st.viewer.UserID
	if s.count[sub]--; s.count[sub] <= 0 {
		delete(s.count, sub)
	}
}

// CloseAll closes every open socket, telling clients why.
func (s *Sockets) CloseAll() {
	s.mu.Lock()
	open := make([]*connState, 0, len(s.open))
	for st := range s.open {
		open = append(open, st)
	}
	s.mu.Unlock()
	for _, st := range open {
		st.cancel()
	}
}
