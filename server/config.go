package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	Origins          []string
	MaxConnsPerToken int
	MaxSubsPerConn   int
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
	if c.Introspect, err = boolEnv(getenv, "GRAPHQL_INTROSPECTION", !c.Production); err != nil {
		problems = append(problems, err.Error())
	}
	if v := getenv("DB_MAX_CONNS"); v != "" {
		if c.DBMaxConns, err = strconv.Atoi(v); err != nil || c.DBMaxConns < 1 {
			problems = append(problems, fmt.Sprintf("DB_MAX_CONNS=%q: want a positive integer", v))
		}
	}
	if v := getenv("CORS_ORIGINS"); v != "" {
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimSpace(o); o != "" {
				// coder/websocket matches hosts, not URLs.
				o = strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://")
				c.Origins = append(c.Origins, o)
			}
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
	case c.Production && (len(c.JWTSecret) < 32 || c.JWTSecret == devSecret):
		problems = append(problems, "JWT_SECRET is too weak for production: use at least 32 random bytes")
	}
	if c.Demo && c.Production {
		problems = append(problems, "DEMO=1 is refused in production")
	}
	if len(problems) > 0 {
		return c, errors.New(strings.Join(problems, "\n"))
	}
	return c, nil
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
