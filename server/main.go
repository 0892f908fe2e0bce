// Command server is the creditgate gateway.
//
//	server          serve the API (the default)
//	server verify   check every ledger invariant over the whole database
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/events"
	"creditgate/graph"
	"creditgate/graphiql"
	"creditgate/reqid"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: bad configuration:\n%v\n", err)
		return 2
	}
	log := newLogger(cfg, stderr)
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
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	if cfg.Production {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

func openDB(ctx context.Context, cfg Config) (*db.DB, error) {
	dsn := cfg.DatabaseURL
	if dsn == "" {
		dsn = cfg.SQLitePath
	}
	return db.Open(ctx, dsn, db.Options{MaxOpenConns: cfg.DBMaxConns})
}

func serve(ctx context.Context, cfg Config, log *slog.Logger, stdout io.Writer) error {
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
		if err := printDemo(ctx, svc, []byte(cfg.JWTSecret), cfg.DevSecretSet, base, stdout); err != nil {
			return fmt.Errorf("loading demo data: %w", err)
		}
	}

	sockets := graph.NewSockets()
	srv := &http.Server{
		Handler:           routes(cfg, database, svc, verifier, sockets, log),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Info("creditgate listening", "url", base, "database", database.Dialect)
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

func routes(cfg Config, database *db.DB, svc *credits.Service, verifier *auth.Verifier, sockets *graph.Sockets, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	gql := graph.NewHandler(svc, graph.Options{
		Logger: log, Introspection: cfg.Introspect,
		Live: graph.LiveOptions{
			Verifier: verifier, OriginPatterns: cfg.Origins,
			MaxConnsPerToken: cfg.MaxConnsPerToken, MaxSubsPerConn: cfg.MaxSubsPerConn,
			Sockets: sockets,
		},
	})
	mux.Handle("/graphql", verifier.Middleware(gql))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := database.SQL.PingContext(ctx); err != nil {
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
	return reqid.Middleware(mux)
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
