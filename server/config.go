package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"creditgate/credits"
	"creditgate/graph"
	"creditgate/httpx"
	"creditgate/mail"
	"creditgate/tracing"
	"creditgate/web"
	"creditgate/webhook"
)

// devSecret signs tokens in development when JWT_SECRET is unset; production
// refuses to start without a real key.
const devSecret = "creditgate-development-secret-do-not-use-in-production"

// Config is everything the gateway reads from its environment.
type Config struct {
	ListenAddr   string
	DatabaseURL  string
	SQLitePath   string
	JWTSecret    string
	JWKSURL      string
	JWTIssuer    string
	JWTAudience  string
	Production   bool
	Demo         bool
	DBMaxConns   int
	PublicURL    string
	Introspect   bool
	DevSecretSet bool // JWTSecret fell back to devSecret
	// Origins allowed to open cross-origin WebSockets (host patterns).
	Origins []string
	// CORSOrigins are the same origins in full (scheme://host[:port], one
	// "*" wildcard allowed, or "*"), for cross-origin HTTP requests.
	CORSOrigins      []string
	MaxConnsPerToken int
	MaxSubsPerConn   int
	// MaxBodyBytes caps request bodies (413 above it); 0 means
	// httpx.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	LogLevel     slog.Level
	// JobWorkers run auto top-ups and alert emails in this instance (0:
	// none; another instance must run them); each polls every JobPoll.
	JobWorkers int
	JobPoll    time.Duration
	// SMTPURL sends alert emails (smtp:// or smtps://); empty: to the log.
	SMTPURL  string
	MailFrom string
	// InvoiceLinkSecret signs the links to invoice documents (random at
	// start when unset: links then last as long as the process, and every
	// instance needs the same one); InvoiceLinkTTL is how long one works.
	InvoiceLinkSecret string
	InvoiceLinkTTL    time.Duration
	// WebhookAllowPrivate lets outbound webhooks reach loopback, private
	// and link-local addresses (WEBHOOK_ALLOW_PRIVATE; development and
	// tests); refused otherwise (SSRF).
	WebhookAllowPrivate bool
	// WebhookResolver looks up endpoints' hosts; nil: the system's. Set by
	// tests only.
	WebhookResolver webhook.Resolver
	// GraphQL limits: depth, complexity, fields, timeout, persisted
	// queries, mutation rate limits; zero fields take graph's defaults.
	GraphQL graph.Limits
	// Payments: Stripe and PayPal (payments.go).
	Payments PaymentsConfig
	// WebUI serves the portal and the dashboard (package web): on by
	// default in development, off in production unless WEB_UI=on.
	WebUI bool
	// WebEmbedOrigins may frame the pages and hand them a token by
	// postMessage (WEB_EMBED_ORIGINS).
	WebEmbedOrigins []string
	// DemoUsers are offered by the pages' sign-in picker; set by serve in
	// demo mode with the development secret, never from the environment.
	DemoUsers []web.DemoUser
	// PprofAddr, when set, serves net/http/pprof on its own listener (for
	// profiling under load; never on the public address).
	PprofAddr string
	// DebitLanes: queues of grouped debits (credits.SetDebitLanes); 0: the default.
	DebitLanes int
	// PostgreSQL's dead-connection measures (db.Options): 0 takes the
	// default, negative ("off") turns one off.
	DBStatementTimeout time.Duration
	DBIdleInTxTimeout  time.Duration
	DBStallProbe       time.Duration
	DBTCPUserTimeout   time.Duration
	// TrustedProxies (TRUSTED_PROXIES: CIDRs or addresses) are the peers
	// whose X-Forwarded-For (or Forwarded) names the client for the
	// per-address rate limit; none: the peer is the client.
	TrustedProxies []netip.Prefix
	// Tracing: OpenTelemetry spans by OTLP over HTTP when
	// OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing.ConfigFromEnv); off otherwise.
	Tracing tracing.Config
	// Tracer is the provider serve made from Tracing (nil: off); set by
	// serve (and tests), never from the environment.
	Tracer trace.TracerProvider
}

// loadConfig reads the environment through getenv and reports every
// problem at once, one line each.
func loadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		ListenAddr:  or(getenv("LISTEN_ADDR"), ":8080"),
		DatabaseURL: getenv("DATABASE_URL"),
		SQLitePath:  or(getenv("SQLITE_PATH"), "./data/creditgate.db"),
		JWTSecret:   getenv("JWT_SECRET"),
		JWKSURL:     getenv("JWT_JWKS_URL"),
		JWTIssuer:   getenv("JWT_ISSUER"),
		JWTAudience: getenv("JWT_AUDIENCE"),
		PublicURL:   getenv("PUBLIC_URL"),
		PprofAddr:   getenv("PPROF_ADDR"),
	}
	var problems []string
	switch env := or(getenv("APP_ENV"), "development"); env {
	case "production":
		c.Production = true
	case "development", "test":
	default:
		problems = append(problems, fmt.Sprintf("APP_ENV=%q: use development or production", env))
	}
	var err error
	if c.Demo, err = boolEnv(getenv, "DEMO", false); err != nil {
		problems = append(problems, err.Error())
	}
	if c.WebhookAllowPrivate, err = boolEnv(getenv, "WEBHOOK_ALLOW_PRIVATE", false); err != nil {
		problems = append(problems, err.Error())
	}
	if c.Introspect, err = boolEnv(getenv, "GRAPHQL_INTROSPECTION", !c.Production); err != nil {
		problems = append(problems, err.Error())
	}
	if v := getenv("DEBIT_LANES"); v != "" {
		if c.DebitLanes, err = strconv.Atoi(v); err != nil || c.DebitLanes < 1 {
			problems = append(problems, fmt.Sprintf("DEBIT_LANES=%q: want a positive integer", v))
		}
	}
	if v := getenv("DB_MAX_CONNS"); v != "" {
		if c.DBMaxConns, err = strconv.Atoi(v); err != nil || c.DBMaxConns < 1 {
			problems = append(problems, fmt.Sprintf("DB_MAX_CONNS=%q: want a positive integer", v))
		}
	}
	c.TrustedProxies, problems = loadTrustedProxies(getenv("TRUSTED_PROXIES"), problems)
	for _, it := range []struct {
		name string
		dst  *time.Duration
	}{
		{"DB_STATEMENT_TIMEOUT", &c.DBStatementTimeout},
		{"DB_IDLE_IN_TX_TIMEOUT", &c.DBIdleInTxTimeout},
		{"DB_STALL_PROBE", &c.DBStallProbe},
		{"DB_TCP_USER_TIMEOUT", &c.DBTCPUserTimeout},
	} {
		switch v := getenv(it.name); {
		case v == "":
		case v == "off":
			*it.dst = -1
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d < 100*time.Millisecond {
				problems = append(problems, fmt.Sprintf("%s=%q: want a duration of at least 100ms, e.g. 5s, or off", it.name, v))
			}
			*it.dst = d
		}
	}
	if v := getenv("CORS_ORIGINS"); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o == "" {
				continue
			}
			if !validOrigin(o) {
				problems = append(problems, fmt.Sprintf("CORS_ORIGINS entry %q: want an origin such as https://app.example.com (one * wildcard allowed), or *", o))
				continue
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
			// coder/websocket matches hosts, not URLs.
			o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
			c.Origins = append(c.Origins, o)
		}
	}
	c.MaxBodyBytes = httpx.DefaultMaxBodyBytes
	if v := getenv("MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < minBodyBytes || n > maxBodyBytes {
			problems = append(problems, fmt.Sprintf("MAX_BODY_BYTES=%q: want a number of bytes from %d to %d", v, minBodyBytes, maxBodyBytes))
		} else {
			c.MaxBodyBytes = n
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			problems = append(problems, fmt.Sprintf("LOG_LEVEL=%q: use debug, info, warn or error", v))
		}
	}
	for name, dst := range map[string]*int{"WS_MAX_CONNS_PER_TOKEN": &c.MaxConnsPerToken, "WS_MAX_SUBSCRIPTIONS_PER_CONN": &c.MaxSubsPerConn} {
		if v := getenv(name); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 1 {
				problems = append(problems, fmt.Sprintf("%s=%q: want a positive integer", name, v))
			} else {
				*dst = n
			}
		}
	}
	c.JobWorkers, c.JobPoll = 1, time.Second
	c.SMTPURL, c.MailFrom = getenv("SMTP_URL"), or(getenv("MAIL_FROM"), mail.DefaultFrom)
	if v := getenv("JOB_WORKERS"); v != "" {
		if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 64 {
			problems = append(problems, fmt.Sprintf("JOB_WORKERS=%q: want 0 to 64", v))
		} else {
			c.JobWorkers = n
		}
	}
	c.InvoiceLinkSecret, c.InvoiceLinkTTL = getenv("INVOICE_LINK_SECRET"), credits.DefaultInvoiceLinkTTL
	if c.InvoiceLinkSecret != "" && len(c.InvoiceLinkSecret) < 32 {
		problems = append(problems, "INVOICE_LINK_SECRET: want at least 32 characters")
	}
	if v := getenv("INVOICE_LINK_TTL"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < time.Minute || d > 366*24*time.Hour {
			problems = append(problems, fmt.Sprintf("INVOICE_LINK_TTL=%q: want a duration from 1m to 8784h, e.g. 168h", v))
		} else {
			c.InvoiceLinkTTL = d
		}
	}
	if v := getenv("JOB_POLL"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < 10*time.Millisecond {
			problems = append(problems, fmt.Sprintf("JOB_POLL=%q: want a duration of at least 10ms, e.g. 1s", v))
		} else {
			c.JobPoll = d
		}
	}
	problems = append(problems, loadLimits(getenv, &c.GraphQL)...)
	var payProblems []string
	c.Payments, payProblems = loadPayments(getenv, c.Production)
	problems = append(problems, payProblems...)
	problems = append(problems, loadWeb(getenv, &c)...)
	var traceProblems []string
	c.Tracing, traceProblems = tracing.ConfigFromEnv(getenv)
	problems = append(problems, traceProblems...)
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		problems = append(problems, "DATABASE_URL: want a postgres:// URL (unset it to use the embedded SQLite file)")
	}
	switch {
	case c.JWTSecret != "" && c.JWKSURL != "":
		problems = append(problems, "JWT_SECRET and JWT_JWKS_URL are both set: choose one")
	case c.JWKSURL != "":
	case c.JWTSecret == "" && c.Production:
		problems = append(problems, "JWT_SECRET or JWT_JWKS_URL is required in production")
	case c.JWTSecret == "":
		c.JWTSecret, c.DevSecretSet = devSecret, true
	case c.Production && (len(c.JWTSecret) < 32 || c.JWTSecret == devSecret || distinctBytes(c.JWTSecret) < 10):
		problems = append(problems, "JWT_SECRET is too weak for production: use at least 32 random bytes")
	}
	if c.Production && c.JWKSURL != "" && !strings.HasPrefix(c.JWKSURL, "https://") {
		problems = append(problems, "JWT_JWKS_URL must be an https:// URL in production")
	}
	if c.Demo && c.Production {
		problems = append(problems, "DEMO=1 is refused in production")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
}

// Bounds of MAX_BODY_BYTES: a GraphQL request needs a few kilobytes; more
// than 64 MiB per request is a denial of service waiting to happen.
const (
	minBodyBytes = 1 << 10
	maxBodyBytes = 64 << 20
)

// validOrigin accepts "*" or scheme://host[:port] with an http or https
// scheme, no path, and at most one "*" in the host ("https://*.example.com").
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || (scheme != "http" && scheme != "https") || host == "" || strings.Count(host, "*") > 1 {
		return false
	}
	for _, c := range host {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune(".-:[]*", c):
		default:
			return false
		}
	}
	return true
}

// distinctBytes counts the different bytes in s: a long secret made of a
// few repeated characters ("aaaa…", "changeme-changeme-…") is still weak.
func distinctBytes(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// loadTrustedProxies reads TRUSTED_PROXIES: comma-separated CIDRs
// (10.0.0.0/8, fd00::/8) or single addresses.
func loadTrustedProxies(v string, problems []string) ([]netip.Prefix, []string) {
	var out []netip.Prefix
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e == "" {
			continue
		}
		p, err := netip.ParsePrefix(e)
		if err != nil {
			ip, ipErr := netip.ParseAddr(e)
			if ipErr != nil || ip.Zone() != "" {
				problems = append(problems, fmt.Sprintf("TRUSTED_PROXIES entry %q: want a CIDR such as 10.0.0.0/8 or an address", e))
				continue
			}
			ip = ip.Unmap()
			p = netip.PrefixFrom(ip, ip.BitLen())
		}
		if p.Addr().Is4In6() { // ::ffff:10.0.0.0/104: the peer's address is unmapped before matching
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		out = append(out, p.Masked())
	}
	return out, problems
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func boolEnv(getenv func(string) string, name string, def bool) (bool, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false", name, v)
	}
	return b, nil
}

// loadLimits reads the GraphQL limits; "off" turns one off, unset keeps the
// default (see graph.Limits).
func loadLimits(getenv func(string) string, l *graph.Limits) []string {
	var problems []string
	ints := []struct {
		name string
		dst  *int
	}{
		{"GRAPHQL_MAX_DEPTH", &l.MaxDepth},
		{"GRAPHQL_MAX_COMPLEXITY", &l.MaxComplexity},
		{"GRAPHQL_MAX_FIELDS", &l.MaxFields},
	}
	for _, it := range ints {
		switch v := getenv(it.name); {
		case v == "":
		case v == "off":
			*it.dst = -1
		default:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				problems = append(problems, fmt.Sprintf("%s=%q: want a positive integer or off", it.name, v))
			}
			*it.dst = n
		}
	}
	if v := getenv("GRAPHQL_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("GRAPHQL_TIMEOUT=%q: want a duration such as 10s", v))
		}
		l.Timeout = d
	}
	rates := []struct {
		name  string
		rate  *float64
		burst *int
	}{
		{"RATE_LIMIT_SUBJECT", &l.RateLimit.SubjectRate, &l.RateLimit.SubjectBurst},
		{"RATE_LIMIT_IP", &l.RateLimit.IPRate, &l.RateLimit.IPBurst},
		{"RATE_LIMIT_SERVICE", &l.RateLimit.ServiceRate, &l.RateLimit.ServiceBurst},
	}
	for _, r := range rates {
		switch v := getenv(r.name); {
		case v == "":
		case v == "off":
			*r.rate = -1
		default:
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || n <= 0 {
				problems = append(problems, fmt.Sprintf("%s=%q: want mutations per second (burst twice that) or off", r.name, v))
			}
			*r.rate, *r.burst = n, int(2*n)+1
		}
	}
	// A service's burst may be set on its own: back-ends send in bursts.
	if v := getenv("RATE_LIMIT_SERVICE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			problems = append(problems, fmt.Sprintf("RATE_LIMIT_SERVICE_BURST=%q: want a positive integer", v))
		}
		l.RateLimit.ServiceBurst = n
	}
	return problems
}

// loadWeb reads WEB_UI (on, off, or a boolean; default on outside
// production) and WEB_EMBED_ORIGINS (exact origins, no wildcards: each may
// frame the pages and post them a token).
func loadWeb(getenv func(string) string, c *Config) []string {
	var problems []string
	switch v := strings.ToLower(getenv("WEB_UI")); v {
	case "":
		c.WebUI = !c.Production
	case "on":
		c.WebUI = true
	case "off":
		c.WebUI = false
	default:
		b, err := strconv.ParseBool(v)
		if err != nil {
			problems = append(problems, fmt.Sprintf("WEB_UI=%q: use on or off", v))
		}
		c.WebUI = b
	}
	for _, o := range strings.Split(getenv("WEB_EMBED_ORIGINS"), ",") {
		if o = strings.TrimSuffix(strings.TrimSpace(o), "/"); o == "" {
			continue
		}
		if !validOrigin(o) || strings.Contains(o, "*") {
			problems = append(problems, fmt.Sprintf("WEB_EMBED_ORIGINS entry %q: want an exact origin such as https://app.example.com (no wildcards)", o))
			continue
		}
		c.WebEmbedOrigins = append(c.WebEmbedOrigins, o)
	}
	return problems
}
