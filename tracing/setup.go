package tracing

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// DefaultServiceName is service.name when OTEL_SERVICE_NAME is unset.
const DefaultServiceName = "creditgate"

// Config is the tracing part of the environment. Endpoint "" is off.
type Config struct {
	// Endpoint is where spans go, by OTLP over HTTP (protobuf): the full
	// URL, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else
	// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces" (the collector's base
	// URL, as the OpenTelemetry specification reads it).
	Endpoint    string
	ServiceName string // OTEL_SERVICE_NAME, default "creditgate"
	Version     string // service.version (the build's version stamp)
}

// Enabled reports whether spans are exported.
func (c Config) Enabled() bool { return c.Endpoint != "" }

// ConfigFromEnv reads the OpenTelemetry variables through getenv and
// reports every problem. OTEL_SDK_DISABLED=true turns tracing off whatever
// the endpoint. The exporter's other standard variables
// (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, _COMPRESSION, ...) and the
// sampler's (OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG) are read by the
// SDK itself from the process environment.
func ConfigFromEnv(getenv func(string) string) (Config, []string) {
	c := Config{ServiceName: strings.TrimSpace(getenv("OTEL_SERVICE_NAME"))}
	if c.ServiceName == "" {
		c.ServiceName = DefaultServiceName
	}
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") {
		return c, nil
	}
	name, raw := "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
	full := raw != ""
	if !full {
		name, raw = "OTEL_EXPORTER_OTLP_ENDPOINT", strings.TrimSpace(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"))
	}
	if raw == "" {
		return c, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, []string{fmt.Sprintf("%s=%q: want the collector's http(s) URL (OTLP over HTTP, e.g. http://localhost:4318)", name, raw)}
	}
	if !full {
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	}
	c.Endpoint = u.String()
	return c, nil
}

// Setup makes the tracer provider that exports to c.Endpoint in batches
// (nil when tracing is off). Shut it down on exit: it flushes the spans
// still buffered.
func Setup(ctx context.Context, c Config) (*sdktrace.TracerProvider, error) {
	if !c.Enabled() {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", c.ServiceName)}
	if c.Version != "" {
		attrs = append(attrs, attribute.String("service.version", c.Version))
	}
	// Later options win: OTEL_RESOURCE_ATTRIBUTES, then our service name.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithFromEnv(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	// No WithSampler: the SDK reads OTEL_TRACES_SAMPLER (default
	// parentbased_always_on: a sampled traceparent is followed).
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}
