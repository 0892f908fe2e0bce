// Package tracing is the gateway's OpenTelemetry tracing: a span per GraphQL
// operation (graph), per database transaction (ledger) and per payment
// provider call (credits), each carrying the request id (reqid).
//
// Tracing is on when the server was given a tracer provider (Setup, from
// OTEL_EXPORTER_OTLP_ENDPOINT): Middleware then puts its tracer into each
// request's context, with the trace context of an incoming traceparent
// header (W3C) as the parent. Start finds the tracer there. Off, no context
// carries a tracer and Start returns its context and a no-op span without
// allocating: the hot path pays one context lookup.
package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"creditgate/reqid"
)

// ScopeName names the gateway's tracer (the instrumentation scope).
const ScopeName = "creditgate"

// Attribute keys of the gateway's own span attributes.
const (
	RequestIDKey = attribute.Key("creditgate.request_id") // reqid of the HTTP request
	OutcomeKey   = attribute.Key("creditgate.outcome")    // "ok" or the error's code
)

type tracerKey struct{}

// noSpan is what Start answers when tracing is off: an interface value
// made once, so returning it allocates nothing.
var noSpan trace.Span = noop.Span{}

// propagator reads the W3C traceparent and tracestate headers.
var propagator = propagation.TraceContext{}

// WithTracer returns ctx carrying tp's tracer: Start records spans under
// it (background work such as the job workers; requests get theirs from
// Middleware). A nil tp returns ctx unchanged: tracing off.
func WithTracer(ctx context.Context, tp trace.TracerProvider) context.Context {
	if tp == nil {
		return ctx
	}
	return context.WithValue(ctx, tracerKey{}, tp.Tracer(ScopeName))
}

// Enabled reports whether spans started with ctx are recorded (a tracer
// is in ctx; the sampler may still drop them).
func Enabled(ctx context.Context) bool {
	_, ok := ctx.Value(tracerKey{}).(trace.Tracer)
	return ok
}

// Middleware puts tp's tracer into each request's context, after taking
// the caller's trace context from traceparent (and tracestate), which
// becomes the parent of the request's spans. A nil tp (tracing off)
// returns the handler unchanged.
func Middleware(tp trace.TracerProvider) func(http.Handler) http.Handler {
	if tp == nil {
		return func(next http.Handler) http.Handler { return next }
	}
	tr := tp.Tracer(ScopeName)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
			ctx = context.WithValue(ctx, tracerKey{}, tr)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Start begins a span named name of kind under ctx's span, stamped with
// the request id. Tracing off, it returns ctx and a no-op span and
// allocates nothing; callers set further attributes only when
// span.IsRecording(), so that they allocate nothing either.
func Start(ctx context.Context, name string, kind trace.SpanKind) (context.Context, trace.Span) {
	tr, ok := ctx.Value(tracerKey{}).(trace.Tracer)
	if !ok {
		return ctx, noSpan
	}
	ctx, span := tr.Start(ctx, name, trace.WithSpanKind(kind))
	if id := reqid.FromContext(ctx); id != "" && span.IsRecording() {
		span.SetAttributes(RequestIDKey.String(id))
	}
	return ctx, span
}

// End ends span, first recording err (when not nil) as its error.
func End(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
