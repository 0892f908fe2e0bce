package tracing_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"creditgate/reqid"
	"creditgate/tracing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestTracingConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		endpoint string
		service  string
		problem  string
	}{
		{name: "off", env: nil, service: "creditgate"},
		{name: "base URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, endpoint: "http://collector:4318/v1/traces", service: "creditgate"},
		{name: "base URL with path", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel.example.com/otlp/", "OTEL_SERVICE_NAME": "gw-eu"}, endpoint: "https://otel.example.com/otlp/v1/traces", service: "gw-eu"},
		{name: "traces URL as given", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/custom"}, endpoint: "http://b:4318/custom", service: "creditgate"},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_SDK_DISABLED": "true"}, service: "creditgate"},
		{name: "not a URL", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, service: "creditgate", problem: "OTEL_EXPORTER_OTLP_ENDPOINT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, problems := tracing.ConfigFromEnv(env(tc.env))
			if tc.problem != "" {
				if len(problems) != 1 || !strings.Contains(problems[0], tc.problem) {
					t.Fatalf("problems = %q, want one naming %s", problems, tc.problem)
				}
				return
			}
			if len(problems) > 0 {
				t.Fatalf("problems: %q", problems)
			}
			if c.Endpoint != tc.endpoint || c.ServiceName != tc.service || c.Enabled() != (tc.endpoint != "") {
				t.Errorf("config = %+v, want endpoint %q service %q", c, tc.endpoint, tc.service)
			}
		})
	}
}

// Off: Start hands back its context and a span that records nothing,
// without allocating; the middleware is not even installed.
func TestTracingOffRecordsNothingAndAllocatesNothing(t *testing.T) {
	ctx := reqid.NewContext(context.Background(), "r1")
	if tracing.Enabled(ctx) {
		t.Fatal("enabled without a tracer")
	}
	boom := errors.New("boom")
	allocs := testing.AllocsPerRun(1000, func() {
		c, span := tracing.Start(ctx, "db.transaction", trace.SpanKindClient)
		if c != ctx || span.IsRecording() {
			t.Fatal("off: Start changed the context or records")
		}
		tracing.End(span, boom)
	})
	if allocs != 0 {
		t.Errorf("Start+End allocate %v times per call with tracing off, want 0", allocs)
	}
	h := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if got := tracing.Middleware(nil)(h); got == nil || tracing.WithTracer(ctx, nil) != ctx {
		t.Error("off: the middleware or WithTracer changed something")
	}
}

// On: a traceparent becomes the parent, the request id is stamped, an
// error is the span's status.
func TestTracingMiddlewareSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	h := reqid.Middleware(tracing.Middleware(tp)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, span := tracing.Start(r.Context(), "outer", trace.SpanKindServer)
		_, inner := tracing.Start(ctx, "inner", trace.SpanKindInternal)
		tracing.End(inner, errors.New("boom"))
		tracing.End(span, nil)
	})))
	req := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	spans := rec.Ended()
	if len(spans) != 2 {
		t.Fatalf("%d spans, want 2", len(spans))
	}
	inner, outer := spans[0], spans[1]
	if outer.Parent().TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || outer.Parent().SpanID().String() != "00f067aa0ba902b7" || !outer.Parent().IsRemote() {
		t.Errorf("outer's parent = %v, want the traceparent", outer.Parent())
	}
	if inner.Parent().SpanID() != outer.SpanContext().SpanID() {
		t.Error("inner is not outer's child")
	}
	if inner.Status().Code != codes.Error || inner.Status().Description != "boom" {
		t.Errorf("inner status = %+v", inner.Status())
	}
	id := w.Header().Get("X-Request-Id")
	for _, s := range spans {
		if got := attr(s, string(tracing.RequestIDKey)); got != id || id == "" {
			t.Errorf("%s: request id %q, want %q", s.Name(), got, id)
		}
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// Setup exports by OTLP over HTTP to OTEL_EXPORTER_OTLP_ENDPOINT +
// /v1/traces, under the configured service name.
func TestTracingSetupExportsOTLP(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []*coltracepb.ExportTraceServiceRequest
		path string
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			t.Errorf("collector: %v", err)
		}
		mu.Lock()
		got, path = append(got, &req), r.URL.Path
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()
	cfg, problems := tracing.ConfigFromEnv(env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_SERVICE_NAME": "creditgate-test",
	}))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	tp, err := tracing.Setup(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tracing.Start(tracing.WithTracer(context.Background(), tp), "db.transaction", trace.SpanKindClient)
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil { // flushes
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || path != "/v1/traces" {
		t.Fatalf("collector got %d exports at %q", len(got), path)
	}
	rs := got[0].ResourceSpans[0]
	service := ""
	for _, kv := range rs.Resource.Attributes {
		if kv.Key == "service.name" {
			service = kv.Value.GetStringValue()
		}
	}
	if service != "creditgate-test" || rs.ScopeSpans[0].Spans[0].Name != "db.transaction" {
		t.Errorf("exported service %q, span %q", service, rs.ScopeSpans[0].Spans[0].Name)
	}
	if tp, err := tracing.Setup(context.Background(), tracing.Config{}); tp != nil || err != nil {
		t.Errorf("Setup off = %v, %v; want nil, nil", tp, err)
	}
}
