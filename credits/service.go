// Package credits is the domain: who may do what with prepaid credits, and
// every movement of money. Resolvers, webhooks and jobs call it; it never
// knows about GraphQL.
package credits

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/posting"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// Service owns every rule of the credits domain.
type Service struct {
	db      *ent.Client
	dialect string // entgo.io/ent/dialect name: Postgres or SQLite
	log     *slog.Logger
	// providers by payment method (CARD, PAYPAL); the sandbox by default.
	providers map[string]Provider
	broker    *events.Broker // local subscribers; nil: nobody listens here
	balances  *balanceCache  // balancecache.go: balances in memory; nil: none (no broker)
	ledger    *ledger.Ledger // every write of money (engine.go)
	vault     CardVault      // where cards are kept; the sandbox by default
	mailer    Mailer         // alert emails; the log by default
	auto      Automation
	wake      chan struct{} // a job was queued in this instance
	// afterCharge, set only by tests, fails a purchase after the payment
	// row committed and the provider answered, before it is settled: the
	// process dying there.
	afterCharge func(payment gid.ID) error
	// subscribed, set only by tests, runs when a balance subscription has
	// joined the broker, before it reads where the balance stands.
	subscribed func()
	sweepMu    sync.Mutex
	lastSweep  time.Time // reconcile.go: when this instance last looked for stale payments

	moneyMoved MoneyObserver // told of each committed movement; nil: nobody
	keyHooks   keyHooks      // told of revoked API keys (apikeys.go)
	links      invoiceLinks  // signs invoice document links (invoicedoc.go)
	webhooks   webhookState  // outbound webhooks (outbox.go)
	agencyFeed agencyFeed    // re-reads agencies for agencyUpdated (agencylive.go)
	usage      usageCache    // accounts and services recordUsage looks up (usagecache.go)
}

// MoneyObserver is told of each movement of money once it has committed:
// its kind, currency and the amount that moved, in micro-units.
type MoneyObserver func(kind posting.Kind, currency string, amount int64)

// ObserveMoney makes every committed movement known to f (metrics): the
// mutations', the webhooks' and the jobs' alike, and never a replay.
func (s *Service) ObserveMoney(f MoneyObserver) { s.moneyMoved = f }

// UseProvider routes a payment method (CARD or PAYPAL) to p.
func (s *Service) UseProvider(method string, p Provider) { s.providers[method] = traceProvider(p) }

// New returns the domain service over db. It installs the tenant scope on
// the client (InstallScope): every read through it, the service's or
// anyone else's, is narrowed to the viewer in ctx from then on.
func New(db *ent.Client, dialectName string, log *slog.Logger) *Service {
	InstallScope(db)
	if log == nil {
		log = slog.Default()
	}
	s := &Service{
		db: db, dialect: dialectName, log: log, providers: map[string]Provider{},
		vault: traceVault(Sandbox{}), mailer: logMailer{log}, auto: DefaultAutomation, wake: make(chan struct{}, 1),
	}
	s.ledger = s.newLedger()
	return s
}

// DB exposes the client for wiring (health checks, verification).
func (s *Service) DB() *ent.Client { return s.db }

func viewerOf(ctx context.Context) (*auth.Viewer, error) {
	v, ok := auth.FromContext(ctx)
	if !ok {
		return nil, newErr(CodeUnauthenticated, "missing bearer token")
	}
	return v, nil
}

// requireRole is the domain's own check of the permission matrix; the API
// gates the same operations with @hasRole, but webhooks and jobs call the
// domain directly.
func requireRole(ctx context.Context, roles ...auth.Role) (*auth.Viewer, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if v.Role == r {
			return v, nil
		}
	}
	return nil, forbidden()
}

// Viewer returns the authenticated viewer.
func (s *Service) Viewer(ctx context.Context) (*auth.Viewer, error) { return viewerOf(ctx) }

// Account resolves the account an operation is about: the one named (in the
// viewer's scope, else NOT_FOUND) or the viewer's own: the account_id claim
// for client roles, the agency pool for an agency admin. A system admin must
// name one. The agency is loaded with it.
func (s *Service) Account(ctx context.Context, id *gid.ID) (*ent.Account, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.Account.Query().WithAgency()
	switch {
	case id != nil:
		q.Where(account.ID(*id))
	case v.IsClient():
		q.Where(account.ID(gid.ID(v.AccountID)))
	case v.Role == auth.RoleAgencyAdmin:
		q.Where(account.AgencyID(gid.ID(v.AgencyID)), account.KindEQ(account.KindAGENCY))
	case v.Role == auth.RoleService:
		return nil, badInput("accountId is required for a service")
	default:
		return nil, badInput("accountId is required for a system admin")
	}
	a, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("account")
	}
	if err != nil {
		return nil, fmt.Errorf("loading account: %w", err)
	}
	return a, nil
}

// currencyFor validates cur, or falls back to the agency's default.
func currencyFor(ag *ent.Agency, cur *string) (string, error) {
	if cur == nil {
		return ag.DefaultCurrency, nil
	}
	return money.NormalizeCurrency(*cur)
}

func fmtAmount(micro int64, cur string) string {
	return string(money.Format(micro, cur)) + " " + cur
}

// parseAmount parses a positive credit amount in cur to micro-units (at
// most 6 fraction digits); field names the input.
func parseAmount(field string, d money.Decimal, cur string) (int64, error) {
	n, err := money.Parse(d, cur)
	if err != nil {
		return 0, badInput("%s: %v", field, err)
	}
	return n, nil
}

// parsePrice parses money that is paid through a payment provider (at most
// the currency's fraction digits) to micro-units; field names the input.
func parsePrice(field string, d money.Decimal, cur string) (int64, error) {
	n, err := money.ParsePrice(d, cur)
	if err != nil {
		return 0, badInput("%s: %v", field, err)
	}
	return n, nil
}

// minorOf is a provider's amount for micro-units that came in through
// parsePrice or were rounded up with money.CeilMinor.
func minorOf(micro int64, cur string) (int64, error) {
	minor, ok := money.ToMinor(micro, cur)
	if !ok {
		return 0, fmt.Errorf("%s has finer digits than %s can be charged in", fmtAmount(micro, cur), cur)
	}
	return minor, nil
}

func cleanName(field, name string, max int) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", badInput("%s must not be empty", field)
	case len([]rune(name)) > max:
		return "", badInput("%s is longer than %d characters", field, max)
	}
	return name, nil
}

// inTx runs fn in one database transaction of the ledger (ledger.InTx):
// all of it commits or nothing, and a failed COMMIT is of unknown outcome.
func (s *Service) inTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	return s.ledger.InTx(ctx, func(tx *ledger.Tx) error { return fn(tx.Tx) })
}

// logMailer writes emails to the log: the development default.
type logMailer struct{ log *slog.Logger }

func (m logMailer) Send(ctx context.Context, e Email) error {
	m.log.InfoContext(ctx, "email (no SMTP_URL configured)", "to", e.To, "subject", e.Subject, "text", e.Text)
	return nil
}
