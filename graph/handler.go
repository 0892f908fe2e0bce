package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/graph/model"
	"creditgate/reqid"
)

// Options configure the GraphQL handler.
type Options struct {
	Logger        *slog.Logger
	Introspection bool
	Live          LiveOptions
	Limits        Limits   // depth, complexity, fields, timeout, persisted queries, rate limits; zero: defaults
	Metrics       *Metrics // nil: no metrics
	Tracing       bool     // a span per operation (tracing.go); the tracer comes with each request's context
}

// NewHandler returns the GraphQL endpoint over svc. Only the transports we
// mean to serve are added: WebSocket and Server-Sent Events for
// subscriptions, JSON POST, and GET for queries (gqlgen's GET refuses
// mutations). No multipart or form transports: they would make
// mutations reachable by cross-site form posts.
func NewHandler(svc *credits.Service, opt Options) *handler.Server {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	limits := opt.Limits.withDefaults()
	srv := handler.New(withoutInputMaps(newPlannedSchema(NewExecutableSchema(Config{
		Resolvers:  &Resolver{Credits: svc},
		Directives: DirectiveRoot{HasRole: hasRole},
		Complexity: complexityRoot(),
	}), limits.QueryCacheSize))) // exec.go
	ws := newWSTransport(opt.Live)
	srv.AddTransport(ws)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.SSE{}) // before POST: it takes POSTs that accept text/event-stream
	srv.AddTransport(postTransport{})
	if opt.Introspection {
		srv.Use(extension.Introspection{})
	}
	if opt.Tracing {
		useTracing(srv) // first: its span covers every answer, refusals included
	}
	opt.Metrics.use(srv) // first: it sees every answer, refusals included
	if opt.Metrics != nil {
		svc.ObserveMoney(opt.Metrics.observeMoney)
	}
	srv.Use(requireViewer{}) // before the limits: without a token, nothing runs
	useLimits(srv, limits, opt.Introspection, log)
	srv.Use(ws.eventStreams()) // SSE streams: the sockets' per-token cap and expiry
	srv.SetErrorPresenter(presentLimits(presenter(log)))
	srv.SetRecoverFunc(func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(v), "request_id", reqid.FromContext(ctx), "stack", string(debug.Stack()))
		return errors.New("panic in resolver")
	})
	return srv
}

// hasRole gates an operation to the roles the schema lists.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, allowed []model.Role) (any, error) {
	v, ok := auth.FromContext(ctx)
	if !ok {
		return nil, &credits.Error{Code: credits.CodeUnauthenticated, Message: "missing bearer token"}
	}
	for _, r := range allowed {
		if roleOf(v.Role) == r {
			return next(ctx)
		}
	}
	return nil, &credits.Error{Code: credits.CodeForbidden, Message: "your role may not perform this operation"}
}

// presenter is the one place where errors become the contract's shape:
// every error carries extensions.code, and nothing internal (SQL, stack,
// file names) reaches the client. Unexpected errors are logged with the
// request id, which is all the client sees of them.
func presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		// Parse and validation errors made by gqlgen carry their own code.
		if _, ok := gerr.Extensions["code"]; ok && gerr.Err == nil {
			return gerr
		}
		code := credits.CodeOf(err)
		var de *credits.Error
		switch {
		case errors.As(err, &de):
			gerr.Message = de.Message
		case code == credits.CodeInternal:
			id := reqid.FromContext(ctx)
			log.ErrorContext(ctx, "internal error", "error", err, "request_id", id, "path", gerr.Path.String())
			gerr.Message = "internal error (request id " + id + ")"
			gerr.Extensions["requestId"] = id
		}
		gerr.Extensions["code"] = string(code)
		if code == credits.CodeUnavailable {
			// Nothing was done: safe to retry, after this many seconds.
			gerr.Extensions["retryAfter"] = credits.RetryAfter(err)
			log.WarnContext(ctx, "unavailable", "error", err, "request_id", reqid.FromContext(ctx), "path", gerr.Path.String())
		}
		return gerr
	}
}
