package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/golang-jwt/jwt/v5"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/graph"
)

var testSecret = []byte("test-secret-0123456789-0123456789-abcdef")

// testAPI is a real gateway (routes, auth, GraphQL, domain) over a fresh
// database, served by httptest.
type testAPI struct {
	t   testing.TB
	srv *httptest.Server
	svc *credits.Service
	db  *db.DB
	fx  *fixture

	broker  *events.Broker
	resyncs *atomic.Int32 // listener reconnects that re-read balances
}

// fixture: agency A (funded pool, clients A1 and A2, services, packages,
// invoices) and agency B (client B1), so every test has a foreign tenant.
type fixture struct {
	AgencyA, PoolA, A1, A2 gid.ID
	AgencyB, PoolB, B1     gid.ID
	SMS, Support           gid.ID // A's services: SMS 0.05 eligible, Support 80.00 not eligible
	ServiceB               gid.ID
	PackageA, PackageB     gid.ID
	InvoiceA1, InvoiceA1b  gid.ID // open, eligible: 120.00 and 30.00
	InvoiceB1              gid.ID
}

func newAPI(t testing.TB, kind string) *testAPI {
	t.Helper()
	return newAPIWith(t, kind, Config{
		Introspect: true, MaxConnsPerToken: 3, MaxSubsPerConn: 4,
		// Tests send mutations far faster than any client; limits_test.go
		// tests the rate limits with small ones of its own.
		GraphQL: graph.Limits{RateLimit: graph.RateLimit{SubjectRate: -1, IPRate: -1}},
	})
}

// newAPIWith is newAPI with cfg.
func newAPIWith(t testing.TB, kind string, cfg Config) *testAPI {
	t.Helper()
	d := dbtest.Open(t, kind)
	// The gateway's warnings and errors are shown when the test fails: an
	// answer's "internal error (request id …)" says nothing more.
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t.Cleanup(func() {
		if t.Failed() && logs.String() != "" {
			t.Logf("the gateway's warnings and errors:\n%s", logs.String())
		}
	})
	svc := credits.New(d.Client, d.Dialect, log)
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	broker := events.NewBroker()
	svc.UseBroker(broker)
	a := &testAPI{t: t, svc: svc, db: d, broker: broker, resyncs: new(atomic.Int32)}
	if d.Dialect == dialect.Postgres {
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			resync := func(ctx context.Context) error {
				a.resyncs.Add(1)
				return svc.Resync(ctx)
			}
			if err := events.Listen(ctx, listenerDSN(t, d.DSN), broker, resync, log, ready); err != nil {
				t.Errorf("event listener: %v", err)
			}
		}()
		<-ready
		t.Cleanup(func() { cancel(); <-done })
	}
	sockets := graph.NewSockets()
	srv := httptest.NewServer(routes(cfg, d, svc, verifier, sockets, log))
	t.Cleanup(func() { sockets.CloseAll(); srv.Close() })
	a.srv = srv
	a.fx = a.seed()
	return a
}

// sys is a context acting as a system admin, for setting up fixtures.
func sys() context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{UserID: "test-setup", Role: auth.RoleSystemAdmin})
}

// reviewer is a second system admin, for reviewing requests that sys()
// submitted: nobody reviews their own.
func reviewer() context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{UserID: "test-reviewer", Role: auth.RoleSystemAdmin})
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture: %v", err)
		}
		return v
	}
}

func (a *testAPI) seed() *fixture {
	t, s, ctx := a.t, a.svc, sys()
	agency := must[*ent.Agency](t)
	acct := must[*ent.Account](t)
	service := must[*ent.Service](t)
	pkg := must[*ent.CreditPackage](t)
	inv := must[*ent.Invoice](t)
	f := &fixture{}
	agA := agency(s.CreateAgency(ctx, credits.NewAgency{Name: "Agency A", DefaultCurrency: "USD", CreditPaymentsEnabled: true}))
	agB := agency(s.CreateAgency(ctx, credits.NewAgency{Name: "Agency B", DefaultCurrency: "USD", CreditPaymentsEnabled: true}))
	f.AgencyA, f.AgencyB = agA.ID, agB.ID
	f.PoolA = acct(s.PoolAccount(ctx, agA)).ID
	f.PoolB = acct(s.PoolAccount(ctx, agB)).ID
	f.A1 = acct(s.CreateAccount(ctx, &agA.ID, "Client A1")).ID
	f.A2 = acct(s.CreateAccount(ctx, &agA.ID, "Client A2")).ID
	f.B1 = acct(s.CreateAccount(ctx, &agB.ID, "Client B1")).ID
	f.SMS = service(s.CreateService(ctx, credits.NewService{AgencyID: &agA.ID, Name: "SMS", Price: "0.05", CreditEligible: true})).ID
	f.Support = service(s.CreateService(ctx, credits.NewService{AgencyID: &agA.ID, Name: "Support hour", Price: "80", CreditEligible: false})).ID
	f.ServiceB = service(s.CreateService(ctx, credits.NewService{AgencyID: &agB.ID, Name: "SMS B", Price: "0.10", CreditEligible: true})).ID
	f.PackageA = pkg(s.CreateCreditPackage(ctx, credits.NewCreditPackage{AgencyID: &agA.ID, Name: "Starter", Credits: "110", Price: "100"})).ID
	f.PackageB = pkg(s.CreateCreditPackage(ctx, credits.NewCreditPackage{AgencyID: &agB.ID, Name: "B pack", Credits: "50", Price: "50"})).ID
	f.InvoiceA1 = inv(s.CreateInvoice(ctx, credits.NewInvoice{AccountID: f.A1, Number: "A1-001", Amount: "120", CreditEligible: true})).ID
	f.InvoiceA1b = inv(s.CreateInvoice(ctx, credits.NewInvoice{AccountID: f.A1, Number: "A1-002", Amount: "30", CreditEligible: true})).ID
	f.InvoiceB1 = inv(s.CreateInvoice(ctx, credits.NewInvoice{AccountID: f.B1, Number: "B1-001", Amount: "10", CreditEligible: true})).ID
	a.fund(f.PoolA, "1000")
	a.fund(f.PoolB, "1000")
	return f
}

// fund credits an account through the sandbox card provider.
func (a *testAPI) fund(acc gid.ID, amount string) {
	a.t.Helper()
	d := moneyDecimal(amount)
	if _, err := a.svc.BuyCredits(sys(), credits.BuyCredits{AccountID: &acc, Amount: &d, Method: "CARD"}); err != nil {
		a.t.Fatalf("funding %s: %v", acc, err)
	}
}

// token signs a token for role; agency and account may be "".
func (a *testAPI) token(role auth.Role, agency, account gid.ID) string {
	a.t.Helper()
	tok, err := auth.NewToken(testSecret, role, "user-"+string(role), string(agency), string(account), time.Hour)
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// Tokens of each role, scoped to agency A (and client A1).
func (a *testAPI) sysAdmin() string    { return a.token(auth.RoleSystemAdmin, "", "") }
func (a *testAPI) agencyAdmin() string { return a.token(auth.RoleAgencyAdmin, a.fx.AgencyA, "") }
func (a *testAPI) owner() string       { return a.token(auth.RoleClientOwner, a.fx.AgencyA, a.fx.A1) }
func (a *testAPI) client() string      { return a.token(auth.RoleClient, a.fx.AgencyA, a.fx.A1) }

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

// code is the first error's extensions.code, or "".
func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// decode unmarshals data into v, failing the test on errors.
func (r gqlResponse) decode(t testing.TB, v any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if err := json.Unmarshal(r.Data, v); err != nil {
		t.Fatalf("decoding %s: %v", r.Data, err)
	}
}

// gql POSTs a GraphQL request with token ("" for none).
func (a *testAPI) gql(token, query string, vars map[string]any) gqlResponse {
	a.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return a.send(req)
}

func (a *testAPI) send(req *http.Request) gqlResponse {
	a.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("request: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out gqlResponse
	out.Status = resp.StatusCode
	if err := json.Unmarshal(raw, &out); err != nil && !strings.Contains(resp.Header.Get("Content-Type"), "text") {
		a.t.Fatalf("response %d is not JSON: %s", resp.StatusCode, raw)
	}
	return out
}

// balance reads an account's USD balance as the system admin.
func (a *testAPI) balance(acc gid.ID) string {
	a.t.Helper()
	var out struct{ Balance struct{ Available string } }
	a.gql(a.sysAdmin(), `query($a: ID!){ balance(accountId: $a) { available } }`, map[string]any{"a": acc}).decode(a.t, &out)
	return out.Balance.Available
}

// eachDB runs fn against a fresh API on every database kind.
func eachDB(t *testing.T, fn func(t *testing.T, a *testAPI)) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) { fn(t, newAPI(t, kind)) })
	}
}

func jwtTime(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }

// listenerDSN names the test's listener connection, so a test can find
// (and kill) exactly its own listener in pg_stat_activity.
func listenerDSN(t testing.TB, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", "listener_"+q.Get("search_path"))
	u.RawQuery = q.Encode()
	return u.String()
}
