package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/gid"
)

// usage is `creditgate --help`.
const usage = `creditgate: a GraphQL backend-for-frontend for prepaid credits.

Usage:
  creditgate [command] [flags]

Commands:
  serve            serve the API (the default when no command is given)
  verify           check every ledger invariant over the whole database
  version          print the version, commit, build date and Go version
  healthcheck      GET /healthz of the gateway listening on LISTEN_ADDR (or --url);
                   exit 0 when it answers 200 (the container's HEALTHCHECK: no shell, no curl)
  admin create-agency  --name NAME [--currency USD] [--credit-payments=true]
                   create an agency and its credit pool; prints the agency's id
  admin create-account --agency AGENCY_ID --name NAME
                   create a client account of the agency; prints the account's id
  admin create-api-key --name NAME [--agency AGENCY_ID] [--scopes USAGE_WRITE,HOLDS_WRITE,BALANCES_READ]
                   create an API key for a back-end service (of the agency, or
                   platform-wide without --agency); prints the secret, shown once
  token --role ROLE [--agency AGENCY_ID] [--account ACCOUNT_ID] [--ttl 1h] [--sub SUBJECT]
                   print a development JWT signed with JWT_SECRET (HS256); refused
                   when APP_ENV=production or JWT_JWKS_URL is set. ROLE is one of
                   client, client_owner, agency_admin, system_admin; every role but
                   system_admin needs --agency, client roles also --account
  help             this text

Every command reads the gateway's configuration from the environment
(DATABASE_URL, or SQLITE_PATH for the embedded SQLite file; JWT_SECRET,
JWT_ISSUER, JWT_AUDIENCE, APP_ENV, ...: see the README's Configuration).
The admin commands go through the domain as a system admin, as the API
would, on the database DATABASE_URL names (migrated first, as at start-up).

Exit status: 0 success, 1 failure, 2 bad usage or configuration.
`

// cliUser is the subject the admin commands act as.
const cliUser = "creditgate-cli"

// runCLI runs the commands other than serve and verify (which run() keeps);
// handled is false for those two.
func runCLI(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (code int, handled bool) {
	if len(args) == 0 {
		return 0, false
	}
	switch args[0] {
	case "serve", "verify":
		return 0, false
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0, true
	case "version", "-version", "--version":
		printVersion(stdout)
		return 0, true
	case "healthcheck":
		return cliHealthcheck(ctx, args[1:], getenv, stdout, stderr), true
	case "admin":
		return cliAdmin(ctx, args[1:], getenv, stdout, stderr), true
	case "token":
		return cliToken(args[1:], getenv, stdout, stderr), true
	default:
		fmt.Fprintf(stderr, "creditgate: unknown command %q\n\n%s", args[0], usage)
		return 2, true
	}
}

// parseFlags parses args into fs; -h prints the command's flags (exit 0).
func parseFlags(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "creditgate %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// cliConfig loads the configuration as serve does.
func cliConfig(getenv func(string) string, stderr io.Writer) (Config, bool) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: bad configuration:\n%v\n", err)
		return cfg, false
	}
	return cfg, true
}

func cliAdmin(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "creditgate admin: want a subcommand: create-agency, create-account, create-api-key\n\n%s", usage)
		return 2
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
	var run func(ctx context.Context, svc *credits.Service) (gid.ID, string, error)
	switch sub {
	case "create-agency":
		name := fs.String("name", "", "the agency's name (required)")
		currency := fs.String("currency", "USD", "its default currency (ISO 4217)")
		payments := fs.Bool("credit-payments", true, "whether its clients may buy and spend credits")
		run = func(ctx context.Context, svc *credits.Service) (gid.ID, string, error) {
			ag, err := svc.CreateAgency(ctx, credits.NewAgency{Name: *name, DefaultCurrency: *currency, CreditPaymentsEnabled: *payments})
			if err != nil {
				return "", "", err
			}
			pool, err := svc.PoolAccount(ctx, ag)
			if err != nil {
				return "", "", err
			}
			return ag.ID, fmt.Sprintf("created agency %q (%s, credit payments %s), pool account %s",
				ag.Name, ag.DefaultCurrency, onOff(ag.CreditPaymentsEnabled), pool.ID), nil
		}
		if code, ok := parseFlags(fs, args, stderr); !ok {
			return code
		}
		if strings.TrimSpace(*name) == "" {
			fmt.Fprintln(stderr, "creditgate admin create-agency: --name is required")
			return 2
		}
	case "create-account":
		agency := fs.String("agency", "", "the agency's id (agy_…, required)")
		name := fs.String("name", "", "the account's name (required)")
		run = func(ctx context.Context, svc *credits.Service) (gid.ID, string, error) {
			id := gid.ID(*agency)
			acc, err := svc.CreateAccount(ctx, &id, *name)
			if err != nil {
				return "", "", err
			}
			return acc.ID, fmt.Sprintf("created client account %q of agency %s", acc.Name, id), nil
		}
		if code, ok := parseFlags(fs, args, stderr); !ok {
			return code
		}
		if *agency == "" || strings.TrimSpace(*name) == "" {
			fmt.Fprintln(stderr, "creditgate admin create-account: --agency and --name are required")
			return 2
		}
	case "create-api-key":
		agency := fs.String("agency", "", "the agency's id (agy_…); omitted: a platform-wide key")
		name := fs.String("name", "", "what the key is for (required)")
		scopes := fs.String("scopes", "USAGE_WRITE,HOLDS_WRITE,BALANCES_READ", "comma-separated scopes")
		run = func(ctx context.Context, svc *credits.Service) (gid.ID, string, error) {
			in := credits.NewAPIKey{Name: *name}
			if *agency != "" {
				id := gid.ID(*agency)
				in.AgencyID = &id
			}
			for _, sc := range strings.Split(*scopes, ",") {
				if sc = strings.TrimSpace(sc); sc != "" {
					in.Scopes = append(in.Scopes, auth.Scope(strings.ToUpper(sc)))
				}
			}
			key, secret, err := svc.CreateAPIKey(ctx, in)
			if err != nil {
				return "", "", err
			}
			// stdout gets the secret: it exists nowhere else.
			return gid.ID(secret), fmt.Sprintf("created API key %s %q (prefix %s); its secret is printed once, below", key.ID, key.Name, key.Prefix), nil
		}
		if code, ok := parseFlags(fs, args, stderr); !ok {
			return code
		}
		if strings.TrimSpace(*name) == "" {
			fmt.Fprintln(stderr, "creditgate admin create-api-key: --name is required")
			return 2
		}
	default:
		fmt.Fprintf(stderr, "creditgate admin: unknown subcommand %q: use create-agency, create-account or create-api-key\n", sub)
		return 2
	}
	cfg, ok := cliConfig(getenv, stderr)
	if !ok {
		return 2
	}
	database, err := openDB(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate: %v\n", err)
		return 1
	}
	defer database.Close()
	svc := credits.New(database.Client, database.Dialect, newLogger(cfg, stderr))
	sys := auth.NewContext(ctx, &auth.Viewer{UserID: cliUser, Role: auth.RoleSystemAdmin})
	id, msg, err := run(sys, svc)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate admin %s: %v\n", sub, err)
		return 1
	}
	fmt.Fprintln(stderr, msg)
	fmt.Fprintln(stdout, id) // stdout holds the id alone, for scripts
	return 0
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// maxTokenTTL bounds `creditgate token --ttl`: these are tokens for
// development and first steps, not for services (API keys are).
const maxTokenTTL = 30 * 24 * time.Hour

func cliToken(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	role := fs.String("role", "", "client, client_owner, agency_admin or system_admin (required)")
	agency := fs.String("agency", "", "agency id (agy_…): every role but system_admin")
	account := fs.String("account", "", "client account id (acc_…): client and client_owner")
	ttl := fs.Duration("ttl", time.Hour, "lifetime, up to 720h")
	sub := fs.String("sub", "", "subject (user id); default cli-<role>")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	r := auth.Role(*role)
	var problems []string
	switch {
	case !r.Valid():
		problems = append(problems, "--role: want client, client_owner, agency_admin or system_admin")
	case r != auth.RoleSystemAdmin && *agency == "":
		problems = append(problems, "--agency is required for role "+*role)
	case (r == auth.RoleClient || r == auth.RoleClientOwner) && *account == "":
		problems = append(problems, "--account is required for role "+*role)
	}
	if *ttl <= 0 || *ttl > maxTokenTTL {
		problems = append(problems, "--ttl: want a duration from 1s to 720h")
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "creditgate token: %s\n", strings.Join(problems, "\ncreditgate token: "))
		return 2
	}
	cfg, ok := cliConfig(getenv, stderr)
	if !ok {
		return 2
	}
	switch {
	case cfg.Production:
		fmt.Fprintln(stderr, "creditgate token: refused in production (APP_ENV=production): tokens come from your identity provider")
		return 1
	case cfg.JWKSURL != "":
		fmt.Fprintln(stderr, "creditgate token: JWT_JWKS_URL is set, so the gateway verifies your identity provider's tokens; it cannot mint them")
		return 1
	}
	if *sub == "" {
		*sub = "cli-" + *role
	}
	now := time.Now()
	c := auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject: *sub, Issuer: cfg.JWTIssuer,
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(*ttl)),
		},
		Role: r, AgencyID: *agency, AccountID: *account,
	}
	if cfg.JWTAudience != "" {
		c.Audience = jwt.ClaimStrings{cfg.JWTAudience}
	}
	tok, err := auth.SignHS256([]byte(cfg.JWTSecret), c)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate token: %v\n", err)
		return 1
	}
	if cfg.DevSecretSet {
		fmt.Fprintln(stderr, "creditgate token: JWT_SECRET is not set: signed with the development secret (valid only for a gateway that also runs without JWT_SECRET)")
	}
	fmt.Fprintln(stdout, tok)
	return 0
}

// cliHealthcheck asks the local gateway's /healthz, for the container's
// HEALTHCHECK (distroless has no shell or curl).
func cliHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	url := fs.String("url", "", "the URL to GET (default: http://127.0.0.1:<port of LISTEN_ADDR>/healthz)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if code, ok := parseFlags(fs, args, stderr); !ok {
		return code
	}
	if *url == "" {
		u, err := healthURL(or(getenv("LISTEN_ADDR"), ":8080"))
		if err != nil {
			fmt.Fprintf(stderr, "creditgate healthcheck: %v\n", err)
			return 2
		}
		*url = u
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate healthcheck: %v\n", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "creditgate healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "creditgate healthcheck: %s answered %s\n", *url, resp.Status)
		return 1
	}
	fmt.Fprintf(stdout, "ok (%s)\n", *url)
	return 0
}

// healthURL is /healthz on the loopback address of listen (LISTEN_ADDR):
// ":8080" and "0.0.0.0:8080" become 127.0.0.1:8080, "[::]:8080" [::1]:8080.
func healthURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("LISTEN_ADDR=%q: %v", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
