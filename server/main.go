// Command server is the creditgate gateway.
//
//	creditgate          serve the API (the default)
//	creditgate verify   check every ledger invariant over the whole database
//	creditgate --help   the other commands: version, healthcheck, admin, token (cli.go)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/events"
	"creditgate/graph"
	"creditgate/graphiql"
	"creditgate/httpx"
	"creditgate/logwriter"
	"creditgate/mail"
	"creditgate/reqid"
	"creditgate/tracing"
	"creditgate/web"
)

// defaultGCPercent is the gateway's GOGC unless the environment sets one.
// Its live heap is small (tens of MB) and nearly all its garbage lives for
// one request, so at Go's default of 100 it collected many times a second
// under load: a fifth of its CPU on a cached balance read. 400 trades a
// few hundred MB at most for that CPU.
const defaultGCPercent = 400

// logFlushEvery bounds how long a log record waits in memory.
const logFlushEvery = 100 * time.Millisecond

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if code, handled := runCLI(ctx, args, getenv, stdout, stderr); handled { // cli.go
		return code
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: bad configuration:\n%v\n", err)
		return 2
	}
	// Records are written in batches, every logFlushEvery at the latest:
	// a line per request written alone cost more than formatting it.
	logs := logwriter.New(stderr, logFlushEvery)
	log := newLogger(cfg, logs)
	cmd := "serve"
	if len(args) > 0 {
		cmd = args[0]
	}
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, stdout)
	case "verify":
		err = verify(ctx, cfg, stdout)
	default:
		err = fmt.Errorf("unknown command %q: use serve or verify", cmd)
	}
	_ = logs.Close() // before anything else writes to stderr
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: %v\n", err)
		return 1
	}
	return 0
}

// newLogger logs JSON in production and text in development, at
// cfg.LogLevel, stamping request_id on every record logged with a
// request's context.
func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opt := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opt)
	if cfg.Production {
		h = slog.NewJSONHandler(w, opt)
	}
	return slog.New(httpx.RequestIDHandler(h))
}

func openDB(ctx context.Context, cfg Config) (*db.DB, error) {
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = cfg.SQLitePath
	}
	return db.Open(ctx, dsn, db.Options{
		MaxOpenConns:     cfg.DBMaxConns,
		StatementTimeout: cfg.DBStatementTimeout, IdleInTxTimeout: cfg.DBIdleInTxTimeout,
		StallProbeAfter: cfg.DBStallProbe, TCPUserTimeout: cfg.DBTCPUserTimeout,
	})
}

func serve(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
	stopTracing, err := setupTracing(ctx, &cfg, log) // tracing.go
	if err != nil {
		return err
	}
	defer stopTracing()
	ctx = tracing.WithTracer(ctx, cfg.Tracer) // the jobs' spans; requests get theirs from the middleware
	database, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer database.Close()
	verifier, err := auth.NewVerifier(ctx, auth.Config{
		Secret: []byte(cfg.JWTSecret), JWKSURL: cfg.JWKSURL,
		Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience,
	})
	if err != nil {
		return fmt.Errorf("configuring JWT verification: %w", err)
	}
	svc := credits.New(database.Client, database.Dialect, log)
	sender, err := mail.FromURL(cfg.SMTPURL, cfg.MailFrom, log)
	if err != nil {
		return fmt.Errorf("SMTP_URL: %w", err)
	}
	svc.UseMailer(mailer{sender})
	svc.SetDebitLanes(cfg.DebitLanes)
	broker := events.NewBroker()
	svc.UseBroker(broker)
	if database.Dialect == dialect.Postgres {
		// One listener per instance hears every commit of every instance.
		ready := make(chan struct{})
		listenErr := make(chan error, 1)
		go func() { listenErr <- events.Listen(ctx, cfg.DatabaseURL, broker, svc.Resync, log, ready) }()
		select {
		case <-ready:
		case err := <-listenErr:
			return fmt.Errorf("listening for events: %w", err)
		}
	}

	// Workers claim due jobs (auto top-ups, alert emails) from the database:
	// any number of instances share them.
	host, _ := os.Hostname()
	for i := range cfg.JobWorkers {
		go svc.RunWorker(ctx, fmt.Sprintf("%s-%d-%d", host, os.Getpid(), i), cfg.JobPoll)
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.ListenAddr, err)
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + displayAddr(ln.Addr())
	}
	if cfg.DevSecretSet {
		log.Warn("JWT_SECRET is not set: using the development secret; never do this in production")
	}
	if cfg.Demo {
		if cfg.DemoUsers, err = printDemo(ctx, svc, []byte(cfg.JWTSecret), cfg.DevSecretSet, base, cfg.WebUI, stdout); err != nil {
			return fmt.Errorf("loading demo data: %w", err)
		}
	}

	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	sockets := graph.NewSockets()
	srv := newHTTPServer(routes(cfg, database, svc, verifier, sockets, log))
	log.Info("creditgate listening", "url", base, "database", database.Dialect)
	if cfg.WebUI {
		log.Info("web pages", "portal", base+"/portal/", "dashboard", base+"/dashboard/")
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests, closing sockets")
	sockets.CloseAll()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}

// mailer sends the domain's emails through package mail.
type mailer struct{ mail.Sender }

func (m mailer) Send(ctx context.Context, e credits.Email) error {
	return m.Sender.Send(ctx, mail.Message{To: []string{e.To}, Subject: e.Subject, Text: e.Text})
}

// newHTTPServer is the gateway's http.Server around h, with its timeouts.
//
// ReadHeaderTimeout and ReadTimeout bound a slow client (slowloris) while it
// sends its request: the headers, then the headers and body. They do not
// reach long-lived streams: net/http lifts the read deadline once the body
// has been read (Server-Sent Events) and for a hijacked connection
// (WebSocket); TestHTTPStreamsOutliveReadTimeout holds it to that.
//
// No WriteTimeout: it is a deadline on writing the whole response, set when
// the request arrives and never lifted, so it would cut every subscription
// stream (SSE) when it passes. Queries and mutations are bounded instead
// by the GraphQL operation timeout (graph.Limits), idle keep-alive
// connections by IdleTimeout, sockets by their token's expiry; a client
// that reads an ordinary (small) response very slowly holds only its own
// goroutine, and the proxy in front of a production gateway bounds that.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func routes(cfg Config, database *db.DB, svc *credits.Service, verifier *auth.Verifier, sockets *graph.Sockets, log *slog.Logger) http.Handler {
	// reg is this gateway's Prometheus registry, served at GET /metrics: Go
	// runtime, process, connection pool (go_sql_*{db_name="creditgate"})
	// and HTTP (creditgate_http_*) metrics. A fresh registry per routes()
	// keeps test servers apart.
	reg := prometheus.NewRegistry()
	// A client token is honoured only for a client account of its agency.
	verifier.Admit(svc.Admission())
	// API keys: looked up in the database, dropped from the cache when
	// revoked on any instance.
	verifier.UseKeys(svc.KeyStore())
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(database.SQL, "creditgate"),
	)
	mux := http.NewServeMux()
	gql := graph.NewHandler(svc, graph.Options{
		Logger: log, Introspection: cfg.Introspect,
		Live: graph.LiveOptions{
			Verifier: verifier, OriginPatterns: cfg.Origins,
			MaxConnsPerToken: cfg.MaxConnsPerToken, MaxSubsPerConn: cfg.MaxSubsPerConn,
			Sockets: sockets,
		},
		Limits:  cfg.GraphQL,
		Metrics: graph.NewMetrics(reg),
		Tracing: cfg.Tracer != nil,
	})
	mux.Handle("/graphql", httpx.GraphQLGuard(graph.WithClientIP(verifier.Middleware(gql), cfg.TrustedProxies...)))
	// Providers' signed webhooks; an unconfigured provider's route is 404.
	pay := usePayments(cfg.Payments, svc, log)
	if pay.stripeHook != nil {
		mux.Handle("POST /webhooks/stripe", pay.stripeHook)
	}
	if pay.paypalHook != nil {
		mux.Handle("POST /webhooks/paypal", pay.paypalHook)
	}
	// Outbound webhooks: https only in production; private and loopback
	// addresses only when WEBHOOK_ALLOW_PRIVATE says so.
	svc.UseWebhooks(credits.WebhookOptions{RequireHTTPS: cfg.Production, AllowPrivate: cfg.WebhookAllowPrivate, Resolver: cfg.WebhookResolver})
	// Printable invoices, by signed link (no token).
	svc.UseInvoiceLinks([]byte(cfg.InvoiceLinkSecret), cfg.InvoiceLinkTTL, cfg.PublicURL)
	mux.Handle("GET /invoices/{id}/document", invoiceDocument(svc, log))
	// Statements: the printable page by signed link (the same signing as
	// invoices); the CSV export with a bearer token, as GraphQL.
	mux.Handle("GET /statements/{accountId}/document", statementDocument(svc, log))
	mux.Handle("GET /exports/history.csv", verifier.Middleware(exportHistory(svc, log)))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry: reg, ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := database.Ready(ctx); err != nil {
			log.WarnContext(ctx, "readiness check failed", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "database unavailable\n")
			return
		}
		_, _ = io.WriteString(w, "ok\n")
	})
	if !cfg.Production {
		ui := graphiql.Handler("creditgate", "/graphql")
		mux.Handle("GET /{$}", ui)
		mux.Handle("/graphiql/assets/", ui)
	}
	if cfg.WebUI {
		pages := web.Handler(web.Options{DemoUsers: cfg.DemoUsers, EmbedOrigins: cfg.WebEmbedOrigins, StripePublishableKey: cfg.Payments.StripePublishableKey})
		for _, p := range web.Routes {
			mux.Handle(p, pages)
		}
	}
	return httpx.Chain(mux,
		reqid.Middleware,               // outermost: every log line and error names the request
		tracing.Middleware(cfg.Tracer), // the tracer and the caller's traceparent; nil: off, not installed
		httpx.AccessLog(httpx.AccessLogOptions{
			Logger:     log,
			Routes:     append([]string{"/graphql", "/healthz", "/readyz", "/metrics", "/webhooks/stripe", "/webhooks/paypal", "/exports/history.csv", "/", graphiql.AssetsPrefix}, web.Routes...),
			Quiet:      []string{"/healthz", "/readyz", "/metrics"},
			Registerer: reg,
		}),
		httpx.SecurityHeaders(cfg.Production),
		httpx.CORS(cfg.CORSOrigins),
		httpx.BodyLimit(cfg.MaxBodyBytes),
	)
}

func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || tcp.IP.IsUnspecified() {
		if ok {
			return fmt.Sprintf("localhost:%d", tcp.Port)
		}
	}
	return a.String()
}

// servePprof serves the runtime profiles on addr, apart from the API.
func servePprof(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	log.Info("pprof listening", "addr", addr)
	if err := http.ListenAndServe(addr, mux); err != nil {
		log.Warn("pprof listener stopped", "error", err)
	}
}
