package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"creditgate/graph"
)

// Trace and parent span ids of the caller's traceparent in these tests.
const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	callerSpan  = "00f067aa0ba902b7"
)

// newTracedAPI is newAPI with tracing on, recording into rec.
func newTracedAPI(t *testing.T, rec *tracetest.SpanRecorder) *testAPI {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return newAPIWith(t, "postgres", Config{
		Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4,
		GraphQL: graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}},
		Tracer:  tp,
	})
}

// tracedGQL POSTs a GraphQL request with a traceparent ("" for none) and
// returns the answer and its request id.
func (a *testAPI) tracedGQL(token, traceparent, query string, vars map[string]any) (gqlResponse, string) {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("response %d: %s", resp.StatusCode, raw)
	}
	return out, resp.Header.Get("X-Request-Id")
}

func spanAttr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// spansOf are the ended spans stamped with request id.
func spansOf(rec *tracetest.SpanRecorder, id string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if spanAttr(s, "creditgate.request_id") == id {
			out = append(out, s)
		}
	}
	return out
}

func named(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// one is the operation's span: exactly one, with its type, name and outcome.
func opSpan(t *testing.T, spans []sdktrace.ReadOnlySpan, name, typ, op, outcome string) sdktrace.ReadOnlySpan {
	t.Helper()
	ops := named(spans, name)
	if len(ops) != 1 {
		t.Fatalf("%d spans named %q among %d of the request, want 1", len(ops), name, len(spans))
	}
	s := ops[0]
	if got := [3]string{spanAttr(s, "graphql.operation.type"), spanAttr(s, "graphql.operation.name"), spanAttr(s, "creditgate.outcome")}; got != [3]string{typ, op, outcome} {
		t.Errorf("%s: type, name, outcome = %q, want %q", name, got, [3]string{typ, op, outcome})
	}
	return s
}

// childrenOf checks that each span is a child of parent, in its trace.
func childrenOf(t *testing.T, parent sdktrace.ReadOnlySpan, spans []sdktrace.ReadOnlySpan, what string) {
	t.Helper()
	if len(spans) == 0 {
		t.Errorf("no %s span", what)
	}
	for _, s := range spans {
		if s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("%s span %q is not a child of %q", what, s.Name(), parent.Name())
		}
	}
}

// A payment through the API: its operation's span (name, type, outcome)
// under the caller's traceparent, the database transaction as its child,
// a refusal's code as the outcome; a card purchase has its provider call's
// span; every span carries the request id.
func TestTracingPaymentSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	a := newTracedAPI(t, rec)
	a.fund(a.fx.A1, "200") // as the system, outside any request: no spans
	if n := len(rec.Ended()); n != 0 {
		t.Fatalf("%d spans before any request", n)
	}
	const pay = `mutation Pay($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { transaction { id } } }`
	parent := "00-" + callerTrace + "-" + callerSpan + "-01"

	t.Run("pay invoice", func(t *testing.T) {
		r, id := a.tracedGQL(a.owner(), parent, pay, map[string]any{"i": a.fx.InvoiceA1})
		r.decode(t, &struct{}{})
		spans := spansOf(rec, id)
		op := opSpan(t, spans, "mutation Pay", "mutation", "Pay", "ok")
		if p := op.Parent(); p.TraceID().String() != callerTrace || p.SpanID().String() != callerSpan || !p.IsRemote() {
			t.Errorf("operation's parent = %s/%s, want the traceparent's %s/%s", p.TraceID(), p.SpanID(), callerTrace, callerSpan)
		}
		txs := named(spans, "db.transaction")
		childrenOf(t, op, txs, "transaction")
		for _, tx := range txs {
			if spanAttr(tx, "db.system.name") != "postgresql" || spanAttr(tx, "creditgate.tx.outcome") != "commit" {
				t.Errorf("transaction span attributes: %v", tx.Attributes())
			}
		}
	})

	t.Run("refused", func(t *testing.T) {
		r, id := a.tracedGQL(a.owner(), "", pay, map[string]any{"i": a.fx.InvoiceA1})
		if r.code() != "ALREADY_PAID" {
			t.Fatalf("second payment: %+v", r.Errors)
		}
		op := opSpan(t, spansOf(rec, id), "mutation Pay", "mutation", "Pay", "ALREADY_PAID")
		if op.Parent().IsValid() {
			t.Error("no traceparent, yet the operation has a parent")
		}
		r, id = a.tracedGQL("", "", pay, map[string]any{"i": a.fx.InvoiceA1})
		if r.code() != "UNAUTHENTICATED" {
			t.Fatalf("without a token: %+v", r.Errors)
		}
		opSpan(t, spansOf(rec, id), "mutation Pay", "mutation", "Pay", "UNAUTHENTICATED")
	})

	t.Run("buy by card", func(t *testing.T) {
		r, id := a.tracedGQL(a.owner(), parent, `mutation Buy { buyCredits(input:{amount:"50", method:CARD, idempotencyKey:"trace-buy-1"}) { status } }`, nil)
		var out struct{ BuyCredits struct{ Status string } }
		r.decode(t, &out)
		if out.BuyCredits.Status != "COMPLETED" {
			t.Fatalf("status %s", out.BuyCredits.Status)
		}
		spans := spansOf(rec, id)
		op := opSpan(t, spans, "mutation Buy", "mutation", "Buy", "ok")
		childrenOf(t, op, named(spans, "db.transaction"), "transaction")
		charges := named(spans, "payment.charge")
		childrenOf(t, op, charges, "provider call")
		for _, c := range charges {
			if spanAttr(c, "creditgate.provider") != "sandbox" || spanAttr(c, "creditgate.charge.status") != "succeeded" || spanAttr(c, "creditgate.payment_id") == "" {
				t.Errorf("provider call span attributes: %v", c.Attributes())
			}
		}
	})
}

// Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): a payment with a
// traceparent records nothing, not even through OpenTelemetry's global
// provider.
func TestTracingOffRecordsNoSpan(t *testing.T) {
	cfg, err := loadConfig(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Tracing.Enabled() || cfg.Tracer != nil {
		t.Fatalf("tracing on without OTEL_EXPORTER_OTLP_ENDPOINT: %+v", cfg.Tracing)
	}
	rec := tracetest.NewSpanRecorder()
	global := otel.GetTracerProvider()
	otel.SetTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	t.Cleanup(func() { otel.SetTracerProvider(global) })

	a := newAPI(t, "postgres")
	a.fund(a.fx.A1, "200")
	r, _ := a.tracedGQL(a.owner(), "00-"+callerTrace+"-"+callerSpan+"-01",
		`mutation Pay($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { transaction { id } } }`, map[string]any{"i": a.fx.InvoiceA1})
	r.decode(t, &struct{}{})
	a.gql(a.owner(), `mutation { buyCredits(input:{amount:"5", method:CARD}) { status } }`, nil).decode(t, &struct{}{})
	if n := len(rec.Started()); n != 0 {
		t.Errorf("tracing off recorded %d spans", n)
	}
}
