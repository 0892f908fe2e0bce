package graph

import (
	"context"
	"errors"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/auth"
	"creditgate/credits"
)

// eventStreams holds a subscription served over Server-Sent Events to the
// WebSocket's rules: each stream counts against its token subject's cap of
// open connections (the same count as sockets, MaxConnsPerToken), and the
// stream ends when its token expires, after an UNAUTHENTICATED event saying
// so. A stream past the cap is refused before it starts: RATE_LIMITED with
// retryAfter, and "data": null. Sockets.CloseAll (shutdown) ends the streams
// too.
type eventStreams struct {
	sockets *Sockets
	max     int
}

// eventStreams is the SSE counterpart of the transport's limits.
func (t *wsTransport) eventStreams() eventStreams {
	return eventStreams{sockets: t.opt.Sockets, max: t.opt.MaxConnsPerToken}
}

var (
	errTokenExpired   = errors.New("token expired")
	errServerShutdown = errors.New("server shutting down")
)

func (eventStreams) ExtensionName() string                   { return "EventStreams" }
func (eventStreams) Validate(graphql.ExecutableSchema) error { return nil }

func (s eventStreams) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil || opCtx.Operation.Operation != ast.Subscription || wsOpFrom(ctx) != nil {
		return next(ctx) // not a stream, or a WebSocket's (the socket is counted and swept)
	}
	v, ok := auth.FromContext(ctx)
	if !ok {
		return next(ctx) // requireViewer has refused it
	}
	ctx, cancel := context.WithCancelCause(ctx)
	if !v.ExpiresAt.IsZero() {
		var stop context.CancelFunc
		ctx, stop = context.WithDeadlineCause(ctx, v.ExpiresAt, errTokenExpired)
		context.AfterFunc(ctx, stop)
	}
	st := &connState{viewer: v, cancel: func() { cancel(errServerShutdown) }}
	if !s.sockets.acquire(st, s.max) {
		cancel(nil)
		err := gqlerror.Errorf("too many open connections for this token (at most %d WebSockets and event streams): close one first", s.max)
		errcode.Set(err, string(credits.CodeRateLimited))
		err.Extensions["retryAfter"] = 1
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{err}})
	}
	// The slot is freed whenever the stream ends: the client left (the
	// request's context), the token expired, the server shuts down, or
	// the stream closed.
	context.AfterFunc(ctx, func() { s.sockets.release(st) })
	responses := next(ctx)
	var mu sync.Mutex
	ended := false
	return func(rctx context.Context) *graphql.Response {
		mu.Lock()
		done := ended
		mu.Unlock()
		if done {
			return nil
		}
		resp := responses(rctx)
		if resp != nil {
			return resp
		}
		mu.Lock()
		ended = true
		mu.Unlock()
		cause := context.Cause(ctx)
		cancel(nil)
		if errors.Is(cause, errTokenExpired) {
			err := gqlerror.Errorf("token expired: reconnect with a fresh one")
			errcode.Set(err, string(credits.CodeUnauthenticated))
			return &graphql.Response{Errors: gqlerror.List{err}}
		}
		return nil
	}
}
