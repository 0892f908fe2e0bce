package httpx

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"creditgate/metrics"

	"creditgate/reqid"
)

// AccessLogOptions configure AccessLog.
type AccessLogOptions struct {
	Logger *slog.Logger
	// Routes are the paths the gateway serves: an exact path, or a prefix
	// ending in "/". They label the metrics (anything else is "other", so
	// scanners cannot blow up the label set) and the log names the path.
	Routes []string
	// Quiet paths (health checks, scrapes) are logged at Debug, not Info.
	Quiet []string
	// Registerer receives the HTTP metrics; nil records none.
	Registerer prometheus.Registerer
}

// AccessLog logs one line per request (method, path, status, duration_ms,
// bytes, and request_id through RequestIDHandler) at Info, 5xx at Warn and
// quiet paths at Debug, and records the creditgate_http_* metrics:
//
//	creditgate_http_requests_total{method,route,code}
//	creditgate_http_request_duration_seconds{method,route}
//	creditgate_http_requests_in_flight
//
// Long-lived requests (WebSocket, Server-Sent Events) are logged and
// measured when they end. The response writer it passes on still flushes,
// hijacks and unwraps (http.ResponseController) like the original.
func AccessLog(opt AccessLogOptions) func(http.Handler) http.Handler {
	log := opt.Logger
	if log == nil {
		log = slog.Default()
	}
	m := newHTTPMetrics(opt.Registerer)
	quiet := map[string]bool{}
	for _, p := range opt.Quiet {
		quiet[p] = true
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// One allocation per request: the recorder carries what end
			// needs (it was a closure, a sync.Once and a second closure
			// around it, each allocated per request).
			rec := &recorder{ResponseWriter: w, accessEntry: accessEntry{
				start: time.Now(), log: log, m: m, quiet: quiet,
				route: routeOf(opt.Routes, r.URL.Path), method: methodLabel(r.Method),
				rawMethod: r.Method, path: r.URL.Path, ctx: r.Context(),
			}}
			if m != nil {
				m.inFlight.Inc()
			}
			returned := false
			defer func() {
				switch {
				case !returned:
					// A panic is unwinding (net/http logs it and drops the
					// connection); count it as a 500.
					rec.finish(http.StatusInternalServerError, rec.bytes)
				case !rec.detached:
					rec.finish(rec.statusCode(), rec.bytes)
				}
				if rec.detached {
					// Its owner calls finish; nothing writes to the
					// response any more.
					rec.ResponseWriter = nil
				}
			}()
			next.ServeHTTP(rec, r)
			returned = true
		})
	}
}

// finish logs and measures the request, once: when the handler returns
// or, for a detached connection, when its owner says it ended (from
// another goroutine, hence the atomic flag). It uses nothing of the
// response writer, which a detached connection's owner may have dropped.
func (rec *recorder) finish(status int, bytes int64) {
	if !rec.ended.CompareAndSwap(false, true) {
		return
	}
	d := time.Since(rec.start)
	if m := rec.m; m != nil {
		m.inFlight.Dec()
		m.observe(rec.method, rec.route, status, d)
	}
	level := slog.LevelInfo
	switch {
	case rec.quiet[rec.path]:
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelWarn
	}
	h := rec.log.Handler()
	if !h.Enabled(rec.ctx, level) {
		return
	}
	// The record goes to the handler directly: Logger.LogAttrs would
	// take the caller's program counter (runtime.Callers, about 1% of a
	// cached balance read) for a source that is always this line, and no
	// handler here writes sources.
	r := slog.NewRecord(time.Now(), level, "http request", 0)
	r.AddAttrs(
		slog.String("method", rec.rawMethod),
		slog.String("path", rec.path),
		slog.Int("status", status),
		slog.Float64("duration_ms", Millis(d)),
		slog.Int64("bytes", bytes),
	)
	_ = h.Handle(rec.ctx, r)
}

// Detach is for a handler that keeps its hijacked connection after it
// returns (a WebSocket served by a goroutine of its own): the request is
// then logged and measured (duration, in flight) when the returned func is
// called, once the connection has ended, instead of when the handler
// returns. Call it before returning. Without AccessLog it does nothing.
func Detach(w http.ResponseWriter) (ended func()) {
	for {
		switch x := w.(type) {
		case *recorder:
			// AccessLog drops the recorder's response writer, which
			// holds net/http's connection buffers, when the handler
			// returns; the func keeps only the recorder.
			x.detached = true
			status, bytes := x.statusCode(), x.bytes
			return func() { x.finish(status, bytes) }
		case interface{ Unwrap() http.ResponseWriter }:
			w = x.Unwrap()
		default:
			return func() {}
		}
	}
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// series are the counter and histogram of each method, route and
	// status seen. Methods and routes are closed sets (methodLabel,
	// routeOf) and a status has three digits, as in the vectors themselves.
	series *metrics.Children[seriesKey, series]
}

type seriesKey struct {
	method, route string
	status        int
}

type series struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// observe counts a request and its duration.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	s := m.series.Of(seriesKey{method, route, status})
	s.requests.Inc()
	s.duration.Observe(d.Seconds())
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	if reg == nil {
		return nil
	}
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "creditgate", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "creditgate", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from the request's arrival to the end of its response (WebSocket and SSE: the stream's life).",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "creditgate", Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served, open WebSocket and SSE streams included.",
		}),
	}
	m.requests = metrics.Register(reg, m.requests)
	m.duration = metrics.Register(reg, m.duration)
	m.inFlight = metrics.Register(reg, m.inFlight)
	m.series = metrics.NewChildren(func(k seriesKey) series {
		return series{
			requests: m.requests.WithLabelValues(k.method, k.route, strconv.Itoa(k.status)),
			duration: m.duration.WithLabelValues(k.method, k.route),
		}
	})
	return m
}

func routeOf(routes []string, path string) string {
	for _, p := range routes {
		if path == p || (strings.HasSuffix(p, "/") && p != "/" && strings.HasPrefix(path, p)) {
			return p
		}
	}
	return "other"
}

func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodPost, http.MethodOptions, http.MethodHead,
		http.MethodPut, http.MethodPatch, http.MethodDelete:
		return m
	}
	return "OTHER"
}

// recorder remembers the status and size of a response, and what its
// access log line and metrics need.
type recorder struct {
	http.ResponseWriter
	status   int
	bytes    int64
	detached bool        // by the handler's goroutine
	ended    atomic.Bool // finish has run
	accessEntry
}

// accessEntry is what a request's log line and metrics need besides its
// status and size.
type accessEntry struct {
	start                          time.Time
	log                            *slog.Logger
	m                              *httpMetrics
	quiet                          map[string]bool
	route, method, rawMethod, path string
	ctx                            context.Context
}

func (r *recorder) WriteHeader(code int) {
	// 1xx but 101 are interim responses; the final status comes later.
	if r.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) statusCode() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// Flush keeps Server-Sent Events streaming (gqlgen asserts http.Flusher).
func (r *recorder) Flush() {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

// Hijack keeps WebSocket upgrades working.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil && r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the connection's deadlines.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// RequestIDHandler wraps h so that each record logged with a context that
// carries a request id (reqid.Middleware) gets a request_id attribute,
// unless the record already names one. (On a logger made with WithGroup,
// the attribute lands in that group, like any other.)
func RequestIDHandler(h slog.Handler) slog.Handler {
	return &requestIDHandler{h: h, id: reqid.FromContext}
}

type requestIDHandler struct {
	h  slog.Handler
	id func(context.Context) string
}

func (h *requestIDHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.h.Enabled(ctx, l)
}

func (h *requestIDHandler) Handle(ctx context.Context, rec slog.Record) error {
	if ctx != nil {
		if id := h.id(ctx); id != "" {
			has := false
			rec.Attrs(func(a slog.Attr) bool {
				has = a.Key == "request_id"
				return !has
			})
			if !has {
				rec = rec.Clone()
				rec.AddAttrs(slog.String("request_id", id))
			}
		}
	}
	return h.h.Handle(ctx, rec)
}

func (h *requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &requestIDHandler{h: h.h.WithAttrs(as), id: h.id}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{h: h.h.WithGroup(name), id: h.id}
}

// Millis is d in milliseconds, to the microsecond, for log attributes:
// durations are logged as numbers with the unit in the key (duration_ms),
// which log processors can sum and compare without parsing "1.5ms".
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
