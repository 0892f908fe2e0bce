package main

import (
	"context"
	"log/slog"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel"

	"creditgate/tracing"
)

// setupTracing makes cfg.Tracer from cfg.Tracing when OTEL_EXPORTER_OTLP_ENDPOINT
// is set (package tracing) and returns what flushes and stops it on exit;
// off, cfg.Tracer stays nil and nothing is installed.
func setupTracing(ctx context.Context, cfg *Config, log *slog.Logger) (stop func(), err error) {
	if !cfg.Tracing.Enabled() {
		return func() {}, nil
	}
	tc := cfg.Tracing
	tc.Version = readBuildInfo(debug.ReadBuildInfo).Version
	tp, err := tracing.Setup(ctx, tc)
	if err != nil {
		return nil, err
	}
	// The exporter reports failed exports here (a collector down): logged,
	// never fatal.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed", "error", err)
	}))
	cfg.Tracer = tp
	log.Info("tracing on", "endpoint", tc.Endpoint, "service", tc.ServiceName)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tp.Shutdown(ctx); err != nil {
			log.Warn("tracing: flushing spans on exit failed", "error", err)
		}
	}, nil
}
