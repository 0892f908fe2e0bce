package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/graph"
)

// cli runs `creditgate args…` in-process with env as the whole environment.
func cli(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCLIOperatorPath goes from an empty database to a first request with
// the CLI alone, on each database: create-agency, create-account, token,
// then GraphQL requests through the gateway's routes with those tokens.
func TestCLIOperatorPath(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			var env map[string]string
			var dsn string
			switch kind {
			case "postgres":
				dsn = dbtest.NewPostgresSchema(t)
				env = map[string]string{"DATABASE_URL": dsn}
			default:
				dsn = filepath.Join(t.TempDir(), "cli.db")
				env = map[string]string{"SQLITE_PATH": dsn}
			}
			env["JWT_SECRET"] = string(testSecret)
			env["LOG_LEVEL"] = "warn"

			code, out, errOut := cli(t, env, "admin", "create-agency", "--name", "Contoso Agency", "--currency", "eur")
			if code != 0 {
				t.Fatalf("create-agency: exit %d\n%s", code, errOut)
			}
			agencyID := gid.ID(strings.TrimSpace(out))
			if !strings.HasPrefix(string(agencyID), gid.Agency+"_") || !strings.Contains(errOut, `created agency "Contoso Agency" (EUR`) {
				t.Fatalf("create-agency printed %q / %q", out, errOut)
			}
			code, out, errOut = cli(t, env, "admin", "create-account", "--agency", string(agencyID), "--name", "Fabrikam")
			if code != 0 {
				t.Fatalf("create-account: exit %d\n%s", code, errOut)
			}
			accountID := gid.ID(strings.TrimSpace(out))
			if !strings.HasPrefix(string(accountID), gid.Account+"_") {
				t.Fatalf("create-account printed %q", out)
			}
			// An agency that does not exist: refused, nothing created.
			if code, _, errOut := cli(t, env, "admin", "create-account", "--agency", "agy_0000000000000000000000000", "--name", "Ghost"); code != 1 || errOut == "" {
				t.Errorf("create-account for a missing agency: exit %d, %q", code, errOut)
			}

			// An API key of the agency, for a back-end service: the secret
			// alone on stdout, shown once.
			code, out, errOut = cli(t, env, "admin", "create-api-key", "--agency", string(agencyID), "--name", "SMS sender", "--scopes", "balances_read")
			if code != 0 {
				t.Fatalf("create-api-key: exit %d\n%s", code, errOut)
			}
			apiSecret := strings.TrimSpace(out)
			if !strings.HasPrefix(apiSecret, "cgk_") || !strings.Contains(errOut, "created API key") || strings.Contains(errOut, apiSecret) {
				t.Fatalf("create-api-key printed %q / %q", out, errOut)
			}
			if code, _, _ := cli(t, env, "admin", "create-api-key", "--name", "x", "--scopes", "NOPE"); code != 1 {
				t.Errorf("create-api-key with an unknown scope: exit %d, want 1", code)
			}

			// The gateway over the same database, as serve builds it.
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			database, err := openDB(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer database.Close()
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			svc := credits.New(database.Client, database.Dialect, log)
			verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(routes(Config{Introspect: true}, database, svc, verifier, graph.NewSockets(), log))
			defer srv.Close()
			a := &testAPI{t: t, srv: srv, svc: svc, db: database}

			// The agency exists, in the domain's eyes, with its pool.
			sysCtx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "test", Role: auth.RoleSystemAdmin})
			page, err := svc.AgencyAccounts(sysCtx, mustAgency(t, svc, sysCtx, agencyID), credits.PageArgs{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, acc := range page.Items {
				names = append(names, acc.Name)
			}
			if len(names) != 2 || !strings.Contains(strings.Join(names, ","), "Fabrikam") {
				t.Errorf("agency's accounts: %q; want its pool and Fabrikam", names)
			}

			// The key reads the agency's balances through the API.
			var kb struct {
				Balance struct{ Available string }
			}
			a.gql(apiSecret, `query($a: ID!){ balance(accountId: $a) { available } }`, map[string]any{"a": accountID}).decode(t, &kb)
			if kb.Balance.Available != "0.00" {
				t.Errorf("the CLI's API key read balance %q, want 0.00", kb.Balance.Available)
			}

			token := func(args ...string) string {
				t.Helper()
				code, out, errOut := cli(t, env, append([]string{"token"}, args...)...)
				if code != 0 {
					t.Fatalf("token %q: exit %d\n%s", args, code, errOut)
				}
				return strings.TrimSpace(out)
			}
			owner := token("--role", "client_owner", "--agency", string(agencyID), "--account", string(accountID), "--ttl", "10m", "--sub", "fabrikam-owner")
			v, err := verifier.FromHeader("Bearer " + owner)
			if err != nil {
				t.Fatalf("the minted token does not verify: %v", err)
			}
			if v.UserID != "fabrikam-owner" || v.Role != auth.RoleClientOwner || v.AgencyID != string(agencyID) || v.AccountID != string(accountID) {
				t.Errorf("token's viewer: %+v", v)
			}
			var bal struct {
				Balance struct{ Available, Currency string }
			}
			a.gql(owner, `{ balance { available currency } }`, nil).decode(t, &bal)
			if bal.Balance.Currency != "EUR" || bal.Balance.Available != "0.00" {
				t.Errorf("owner's balance: %+v; want 0.00 EUR", bal.Balance)
			}
			admin := token("--role", "agency_admin", "--agency", string(agencyID))
			var ag struct{ Agency struct{ Name string } }
			a.gql(admin, `{ agency { name } }`, nil).decode(t, &ag)
			if ag.Agency.Name != "Contoso Agency" {
				t.Errorf("agency admin sees agency %q", ag.Agency.Name)
			}
			sysTok := token("--role", "system_admin")
			var viaSys struct{ Balance struct{ Currency string } }
			a.gql(sysTok, `query($a: ID!) { balance(accountId: $a) { currency } }`, map[string]any{"a": accountID}).decode(t, &viaSys)
			if viaSys.Balance.Currency != "EUR" {
				t.Errorf("system admin reads %+v", viaSys)
			}
			// A client token for another agency's account is not honoured.
			code, out, _ = cli(t, env, "admin", "create-agency", "--name", "Other")
			if code != 0 {
				t.Fatal("second agency")
			}
			stray := token("--role", "client", "--agency", strings.TrimSpace(out), "--account", string(accountID))
			if r := a.gql(stray, `{ balance { available } }`, nil); r.code() != "UNAUTHENTICATED" {
				t.Errorf("a client token naming another agency's account: %+v; want UNAUTHENTICATED", r.Errors)
			}
		})
	}
}

func mustAgency(t *testing.T, svc *credits.Service, ctx context.Context, id gid.ID) *ent.Agency {
	t.Helper()
	ag, err := svc.DB().Agency.Get(ctx, id)
	if err != nil {
		t.Fatalf("agency %s: %v", id, err)
	}
	return ag
}

// TestCLITokenRefusals: bad flags, production, JWKS.
func TestCLITokenRefusals(t *testing.T) {
	strong := "k8#Qz2!vR9@mW4$tY7^pL1&xN6*bC3(hJ5)" // 35 bytes, varied
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no role", nil, []string{"token"}, 2, "--role"},
		{"unknown role", nil, []string{"token", "--role", "root"}, 2, "--role"},
		{"agency role without agency", nil, []string{"token", "--role", "agency_admin"}, 2, "--agency is required"},
		{"client without account", nil, []string{"token", "--role", "client", "--agency", "agy_x"}, 2, "--account is required"},
		{"ttl too long", nil, []string{"token", "--role", "system_admin", "--ttl", "1000h"}, 2, "--ttl"},
		{"production", map[string]string{"APP_ENV": "production", "JWT_SECRET": strong}, []string{"token", "--role", "system_admin"}, 1, "refused in production"},
		{"jwks", map[string]string{"JWT_JWKS_URL": "https://idp.example.com/jwks"}, []string{"token", "--role", "system_admin"}, 1, "JWT_JWKS_URL"},
		{"bad configuration", map[string]string{"APP_ENV": "staging"}, []string{"token", "--role", "system_admin"}, 2, "bad configuration"},
		{"stray argument", nil, []string{"token", "--role", "system_admin", "extra"}, 2, "unexpected argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, tc.env, tc.args...)
			if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d, no token, %q", code, out, errOut, tc.code, tc.want)
			}
		})
	}
	// Issuer and audience, when the gateway checks them, are in the token.
	env := map[string]string{"JWT_SECRET": string(testSecret), "JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "creditgate"}
	code, out, errOut := cli(t, env, "token", "--role", "system_admin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret, Issuer: env["JWT_ISSUER"], Audience: env["JWT_AUDIENCE"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.FromHeader("Bearer " + strings.TrimSpace(out)); err != nil {
		t.Errorf("token with JWT_ISSUER and JWT_AUDIENCE does not verify: %v", err)
	}
	// Without JWT_SECRET: the development secret, said so on stderr.
	code, out, errOut = cli(t, nil, "token", "--role", "system_admin")
	if code != 0 || !strings.Contains(errOut, "development secret") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	dev, _ := auth.NewVerifier(context.Background(), auth.Config{Secret: []byte(devSecret)})
	if _, err := dev.FromHeader("Bearer " + strings.TrimSpace(out)); err != nil {
		t.Errorf("development token does not verify with the development secret: %v", err)
	}
}

// TestCLIAdminUsage: missing flags and unknown commands are usage errors
// (exit 2) that touch no database.
func TestCLIAdminUsage(t *testing.T) {
	env := map[string]string{"SQLITE_PATH": filepath.Join(t.TempDir(), "never", "made.db")}
	for _, args := range [][]string{
		{"admin"},
		{"admin", "drop-everything"},
		{"admin", "create-agency"},
		{"admin", "create-agency", "--name", " "},
		{"admin", "create-account", "--name", "x"},
		{"admin", "create-account", "--agency", "agy_x"},
		{"admin", "create-agency", "--bogus"},
		{"frobnicate"},
	} {
		if code, out, errOut := cli(t, env, args...); code != 2 || out != "" || errOut == "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and a message", args, code, out, errOut)
		}
	}
	code, _, errOut := cli(t, env, "admin", "create-agency", "--name", "Bad", "--currency", "dollars")
	if code != 1 || !strings.Contains(errOut, "defaultCurrency") {
		t.Errorf("bad currency: exit %d, %q", code, errOut)
	}
}

func TestCLIHelpAndVersion(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "help"} {
		code, out, _ := cli(t, nil, arg)
		for _, want := range []string{"serve", "verify", "version", "healthcheck", "admin create-agency", "admin create-account", "token --role"} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("%s: exit %d, missing %q in:\n%s", arg, code, want, out)
			}
		}
	}
	// version needs no configuration, even a broken one.
	code, out, errOut := cli(t, map[string]string{"APP_ENV": "nonsense"}, "version")
	if code != 0 || !strings.HasPrefix(out, "creditgate ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: exit %d, %q %q", code, out, errOut)
	}
}

func TestVersionFallbacks(t *testing.T) {
	stamped := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.1.1-0.20261205-abcdef"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abcdef0123"}, {Key: "vcs.time", Value: "2026-12-05T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, true
	}
	b := readBuildInfo(stamped)
	if b.Version != "v0.1.1-0.20261205-abcdef" || b.Commit != "abcdef0123+dirty" || b.Date != "2026-12-05T10:00:00Z" || b.GoVersion != "go1.26.8" {
		t.Errorf("from build info: %+v", b)
	}
	b = readBuildInfo(func() (*debug.BuildInfo, bool) { return nil, false })
	if b.Version != "(devel)" || b.Commit != "unknown" || b.Date != "unknown" || !strings.HasPrefix(b.GoVersion, "go") {
		t.Errorf("nothing known: %+v", b)
	}
	version, commit, date = "v9.9.9", "feedbeef", "2026-01-01T00:00:00Z"
	defer func() { version, commit, date = "", "", "" }()
	if b := readBuildInfo(stamped); b.Version != "v9.9.9" || b.Commit != "feedbeef" || b.Date != "2026-01-01T00:00:00Z" {
		t.Errorf("-ldflags must win: %+v", b)
	}
}

func TestCLIHealthURL(t *testing.T) {
	for in, want := range map[string]string{
		":8080":          "http://127.0.0.1:8080/healthz",
		"0.0.0.0:9000":   "http://127.0.0.1:9000/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"10.1.2.3:8080":  "http://10.1.2.3:8080/healthz",
		"localhost:8081": "http://localhost:8081/healthz",
	} {
		if got, err := healthURL(in); err != nil || got != want {
			t.Errorf("healthURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := healthURL("8080"); err == nil {
		t.Error("healthURL(8080): want an error")
	}
}
