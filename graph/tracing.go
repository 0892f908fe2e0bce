package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/vektah/gqlparser/v2/ast"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"creditgate/credits"
	"creditgate/tracing"
)

// Span attributes of an operation (OpenTelemetry's GraphQL conventions).
const (
	opNameKey = attribute.Key("graphql.operation.name")
	opTypeKey = attribute.Key("graphql.operation.type")
)

// tracedKey marks a context whose operation has its span (or, a
// subscription, is not traced): the response hook leaves it alone.
type tracedKey struct{}

// useTracing installs a span per query and mutation, from receiving it to
// its answer, named "<type> <name>" and carrying the outcome ("ok" or the
// first error's code, as the error presenter decided it). Its resolvers'
// spans (database transactions, provider calls) are its children; its
// parent is the caller's traceparent, if any. Operations refused before
// they run (unparsable, invalid, no token) get a span too. Subscriptions
// are not traced: they live as long as their stream.
//
// Installed only when tracing is on; the tracer comes with the request's
// context (tracing.Middleware).
func useTracing(srv *handler.Server) {
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		typ, name := operationOf(ctx)
		if typ == string(ast.Subscription) || !tracing.Enabled(ctx) {
			return next(context.WithValue(ctx, tracedKey{}, true))
		}
		ctx, span := tracing.Start(context.WithValue(ctx, tracedKey{}, true), spanName(typ, name), trace.SpanKindServer)
		span.SetAttributes(opTypeKey.String(typ), opNameKey.String(name))
		h := next(ctx)
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			endOperation(span, resp)
			return resp
		}
	})
	srv.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		if ctx.Value(tracedKey{}) != nil || !tracing.Enabled(ctx) {
			return next(ctx)
		}
		// Refused before it ran: DispatchError's answer.
		typ, name := operationOf(ctx)
		ctx, span := tracing.Start(ctx, spanName(typ, name), trace.SpanKindServer)
		span.SetAttributes(opTypeKey.String(typ), opNameKey.String(name))
		resp := next(ctx)
		endOperation(span, resp)
		return resp
	})
}

// operationOf is the operation's type and name; "unknown" type when the
// document did not parse.
func operationOf(ctx context.Context) (typ, name string) {
	if !graphql.HasOperationContext(ctx) {
		return "unknown", ""
	}
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil {
		return "unknown", opCtx.OperationName
	}
	return string(opCtx.Operation.Operation), opCtx.Operation.Name
}

// spanName is "<type> <name>", or the type alone for an anonymous or
// ill-formed name (names come from clients).
func spanName(typ, name string) string {
	if name == "" || !wellFormedName(name) {
		return "graphql " + typ
	}
	return typ + " " + name
}

// endOperation records the outcome and ends span. Refusals (the client's
// doing) leave the status unset; INTERNAL and UNAVAILABLE are errors.
func endOperation(span trace.Span, resp *graphql.Response) {
	outcome := "ok"
	if resp != nil && len(resp.Errors) > 0 {
		outcome = string(credits.CodeInternal)
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			outcome = c
		}
		span.SetAttributes(attribute.Int("graphql.errors", len(resp.Errors)))
	}
	span.SetAttributes(tracing.OutcomeKey.String(outcome))
	if outcome == string(credits.CodeInternal) || outcome == string(credits.CodeUnavailable) {
		span.SetStatus(codes.Error, outcome)
	}
	span.End()
}
