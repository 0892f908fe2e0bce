package graph

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"

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

// Close codes the graphql-ws client does not retry in a loop.
const (
	closeForbidden       = 4403
	closeTooManyRequests = 4429
)

// connKey carries a socket's subscription counter in its context.
type connKey struct{}

type connState struct {
	subs   atomic.Int32
	max    int32
	viewer *auth.Viewer
	cancel context.CancelFunc
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

// relay releases the subscription slot when the stream ends: when the
// operation's context ends (the client completed the subscription or left,
// or the stream closed and the transport finished the operation).
func relay[T any](ctx context.Context, ch <-chan T, err error, release func()) (<-chan T, error) {
	if err != nil {
		release()
		return nil, err
	}
	// No goroutine per subscription for this: the transports cancel the
	// operation's context when the stream ends, whichever side ends it.
	context.AfterFunc(ctx, release)
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
	defer s.mu.Unlock()
	for st := range s.open {
		st.cancel()
	}
}

// websocketTransport authenticates a socket from its connection_init
// payload ({"Authorization": "Bearer <jwt>"}), refuses a bad token with
// close code 4403 (which graphql-ws clients do not retry in a tight loop),
// and closes the socket when the token expires.
func websocketTransport(opt LiveOptions) transport.Websocket {
	if opt.MaxConnsPerToken <= 0 {
		opt.MaxConnsPerToken = 10
	}
	if opt.MaxSubsPerConn <= 0 {
		opt.MaxSubsPerConn = 20
	}
	if opt.Sockets == nil {
		opt.Sockets = NewSockets()
	}
	return transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{OriginPatterns: opt.OriginPatterns},
		},
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      20 * time.Second,
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if opt.Verifier == nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, errors.New("authentication is not configured")
			}
			v, err := opt.Verifier.FromHeader(p.Authorization())
			if err != nil {
				return transport.WithWebsocketCloseCode(ctx, closeForbidden), nil, err
			}
			// The socket lives as long as its token: at expiry gqlgen closes
			// it, telling the client why.
			st := &connState{max: int32(opt.MaxSubsPerConn), viewer: v}
			if !opt.Sockets.acquire(st, opt.MaxConnsPerToken) {
				return transport.WithWebsocketCloseCode(ctx, closeTooManyRequests), nil, errors.New("too many open connections for this token")
			}
			ctx, st.cancel = context.WithDeadline(auth.NewContext(ctx, v), v.ExpiresAt)
			ctx = context.WithValue(ctx, connKey{}, st)
			ctx = transport.AppendCloseReason(ctx, "token expired or server shutting down")
			return ctx, nil, nil
		},
		CloseFunc: func(ctx context.Context, _ int) {
			if st, ok := ctx.Value(connKey{}).(*connState); ok {
				st.cancel()
				opt.Sockets.release(st)
			}
		},
	}
}
