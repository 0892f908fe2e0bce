package credits

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"entgo.io/ent/dialect"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/balance"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/ent/predicate"
	"creditgate/ent/service"
	"creditgate/gid"
)

// Balance returns the account's balance in cur (default: the agency's
// currency). A balance that never moved is zero, not an error.
func (s *Service) Balance(ctx context.Context, acc *ent.Account, cur *string) (*ent.Balance, error) {
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	return s.balanceIn(ctx, acc, c)
}

// balanceIn is the balance of acc in cur: from memory when kept there
// (balancecache.go) and the viewer may read it, else from the database.
func (s *Service) balanceIn(ctx context.Context, acc *ent.Account, cur string) (*ent.Balance, error) {
	if k, ok := s.balances.balance(acc.ID, cur); ok && visible(ctx, k.AgencyID, k.AccountID) {
		b := entBalance(&k)
		b.Edges.Account = acc
		return b, nil
	}
	f := s.balances.begin(acc.ID)
	b, err := s.db.Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency(cur)).Only(ctx)
	if ent.IsNotFound(err) {
		b = &ent.Balance{AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: cur, UpdatedAt: acc.CreatedAt}
	} else if err != nil {
		return nil, fmt.Errorf("loading balance: %w", err)
	} else {
		s.balances.keep(f, nil, b)
	}
	b.Edges.Account = acc
	return b, nil
}

// Balances lists the account's balances, one per currency, always including
// the agency's default currency.
func (s *Service) Balances(ctx context.Context, acc *ent.Account) ([]*ent.Balance, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	// The list itself is the database's: an alert or auto top-up rule may
	// add an empty balance row unannounced. What it reads is kept.
	f := s.balances.begin(acc.ID)
	bs, err := s.db.Balance.Query().Where(balance.AccountID(acc.ID)).Order(ent.Asc(balance.FieldCurrency)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing balances: %w", err)
	}
	s.balances.keep(f, nil, bs...)
	hasDefault := false
	for _, b := range bs {
		b.Edges.Account = acc
		hasDefault = hasDefault || b.Currency == acc.Edges.Agency.DefaultCurrency
	}
	if !hasDefault {
		b, _ := s.balanceIn(ctx, acc, acc.Edges.Agency.DefaultCurrency)
		if b != nil {
			bs = append([]*ent.Balance{b}, bs...)
		}
	}
	return bs, nil
}

// Direction filters history by IN or OUT.
type Direction string

const (
	In  Direction = "IN"
	Out Direction = "OUT"
)

// History is the account's transactions in one currency, newest first, each
// with its running balance. It pages on the balance's sequence number, so a
// page is one indexed range scan.
func (s *Service) History(ctx context.Context, acc *ent.Account, cur *string, dir *Direction, page PageArgs) (*Page[*ent.Posting], error) {
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	return s.history(ctx, acc, c, dir, page, nil)
}

// history is History in currency c; b, when given, is the balance already
// read (it bounds the page when dir is nil).
func (s *Service) history(ctx context.Context, acc *ent.Account, c string, dir *Direction, page PageArgs, b *ent.Balance) (*Page[*ent.Posting], error) {
	where := []predicate.Posting{posting.AccountID(acc.ID), posting.Currency(c)}
	if dir != nil {
		if *dir == In {
			where = append(where, posting.AmountGT(0))
		} else {
			where = append(where, posting.AmountLT(0))
		}
	}
	// Unfiltered, the rows below a page's last are seq 1 up to it (no
	// gaps, verify checks it): a next page exists when the page ends above
	// seq 1, and no row past the page is read to find out. (count, which
	// runs first, has read b.)
	var more func(before *int64, limit int) bool
	if dir == nil {
		more = func(before *int64, limit int) bool { return unfilteredTop(b, before)-int64(limit) > 0 }
	}
	p, err := paginate(ctx, page, seqCursors, keyset[*ent.Posting, int64]{
		count: func(ctx context.Context) (int, error) {
			if dir != nil {
				if historyUseOf(ctx).NoTotal {
					return 0, nil
				}
				n, err := s.db.Posting.Query().Where(where...).Count(ctx)
				if err != nil {
					return 0, fmt.Errorf("counting history: %w", err)
				}
				return n, nil
			}
			// Sequence numbers run 1..seq without gaps on each balance, so
			// the count is the balance's seq.
			if b == nil {
				var err error
				if b, err = s.balanceIn(ctx, acc, c); err != nil {
					return 0, err
				}
			}
			return int(b.Seq), nil
		},
		// The cursor is a seq: a page is the rows with a lower one.
		fetch: func(ctx context.Context, before *int64, n int) ([]*ent.Posting, error) {
			if dir == nil {
				// A page is an exact seq range: one short index range
				// whatever the planner believes about a busy account.
				top := unfilteredTop(b, before)
				return s.historyRows(ctx, acc, c, nil, top-int64(n), top, n)
			}
			top := int64(math.MaxInt64)
			if before != nil {
				top = *before - 1
			}
			return s.historyRows(ctx, acc, c, dir, math.MinInt64, top, n)
		},
		key:       func(r *ent.Posting) int64 { return *r.Seq },
		more:      more,
		noCursors: historyUseOf(ctx).NoCursors,
	})
	if err != nil {
		return nil, err
	}
	for _, r := range p.Items {
		r.Edges.Account = acc // every row is on acc: no query per row
	}
	return p, nil
}

// unfilteredTop is the seq of the newest posting of balance b on the page
// after cursor before (nil: the first page).
func unfilteredTop(b *ent.Balance, before *int64) int64 {
	if before != nil {
		return min(b.Seq, *before-1)
	}
	return b.Seq
}

// HistoryColumns says which fields of its transactions the reader of a
// history page will use (HistoryUse): a page read for fewer is narrower on
// the wire and cheaper to decode, and the fields it leaves out are zero. A
// few fixed sets, not any subset, so that each is one prepared statement
// per connection however many documents ask for pages.
type HistoryColumns uint8

const (
	// HistoryAll is every column, as ent reads a posting (the default).
	HistoryAll HistoryColumns = iota
	// HistorySummary is the id, createdAt, amount and runningBalance
	// (and the seq, each row's cursor); type is the amount's sign.
	HistorySummary
	// HistoryDetail adds kind, reference, actor, variant, quantity and
	// reason to the summary: every field of a transaction that is not a
	// link to another object.
	HistoryDetail
)

// HistoryUse is what the reader of a history page will use of it: a page
// read for less costs less. The zero value is everything.
type HistoryUse struct {
	Columns HistoryColumns // the fields of its transactions
	// NoTotal: totalCount is not asked, so a filtered page is not counted
	// (Page.Total is 0); an unfiltered one's is its balance's seq, free.
	NoTotal bool
	// NoCursors: no cursor is asked (neither an edge's nor pageInfo's
	// start or end), so the page has none (Page.Cursors is nil).
	NoCursors bool
}

type historyUseKey struct{}

// WithHistoryUse tells the history reads under ctx what their caller
// uses: it promises not to read the rest (fields outside u.Columns are
// zero, the total is 0 with u.NoTotal), nor to hand the page to anything
// that might.
func WithHistoryUse(ctx context.Context, u HistoryUse) context.Context {
	return context.WithValue(ctx, historyUseKey{}, u)
}

func historyUseOf(ctx context.Context) HistoryUse {
	u, _ := ctx.Value(historyUseKey{}).(HistoryUse)
	return u
}

// historySelect is the select list of each set of columns; each is a
// prefix of the next, and of historyRow.dest's order.
var historySelect = [...]string{
	HistorySummary: `p.id, p.created_at, p.amount, p.running_balance, p.seq`,
	HistoryDetail:  `p.id, p.created_at, p.amount, p.running_balance, p.seq, p.kind, p.reference, p.actor, p.variant, p.quantity, p.reason`,
	HistoryAll: `p.id, p.created_at, p.amount, p.running_balance, p.seq, p.kind, p.reference, p.actor, p.variant, p.quantity, p.reason,
		p.journal_id, p.book, p.service_id, p.hold_id, p.reverses_id, p.payment_id`,
}

// historySelectText is historySelect with created_at read as text, on
// PostgreSQL: parsePGTime reads it for a fraction of lib/pq's cost.
var historySelectText = func() (out [len(historySelect)]string) {
	for i, cols := range historySelect {
		out[i] = strings.Replace(cols, "p.created_at", "p.created_at::text", 1)
	}
	return out
}()

// historyRows reads up to n of acc's postings in currency c with a seq in
// (lo, hi], newest first, only credits or debits when dir says so, with
// the columns the caller said it uses (WithHistoryUse; all of them
// otherwise). It is the hot path of every history page: hand-written SQL
// narrowed by the viewer's scope (scopeSQL, as the interceptor would), the
// columns a transaction's fields use and nothing else, scanned by hand
// into one allocation for the page (ent's scan allocates a holder per
// column and row).
func (s *Service) historyRows(ctx context.Context, acc *ent.Account, c string, dir *Direction, lo, hi int64, n int) ([]*ent.Posting, error) {
	cols, sel := historyUseOf(ctx).Columns, historySelect
	pg := s.dialect == dialect.Postgres
	if pg {
		sel = historySelectText
	}
	q := new(rawQuery).add(`SELECT `+sel[cols]+`
		FROM postings p WHERE p.account_id = ? AND p.currency = ? AND p.seq > ? AND p.seq <= ?`, acc.ID, c, lo, hi)
	if dir != nil {
		if *dir == In {
			q.add(` AND p.amount > 0`)
		} else {
			q.add(` AND p.amount < 0`)
		}
	}
	q.add(` AND `).scope(ctx, ent.TypePosting, "p").add(` ORDER BY p.seq DESC LIMIT ?`, n)
	if q.err != nil {
		return nil, q.err
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q.text.String()), q.args...)
	if err != nil {
		return nil, fmt.Errorf("listing history: %w", err)
	}
	defer rows.Close()
	size := min(n, 128)
	if span := uint64(hi) - uint64(lo); span < uint64(size) { // (lo, hi] holds at most hi-lo rows (unsigned: no overflow for lo = MinInt64)
		size = int(span)
	}
	page := make([]historyRow, 0, size)
	h := historyScan{createdText: pg}
	for rows.Next() {
		page = append(page, historyRow{})
		r := &page[len(page)-1]
		if err := rows.Scan(h.dest(r, cols)...); err != nil {
			return nil, fmt.Errorf("reading history: %w", err)
		}
		if err := h.into(r); err != nil {
			return nil, fmt.Errorf("reading history: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing history: %w", err)
	}
	// The rows stay where they are from here on: each posting's optional
	// fields point into its row.
	out := make([]*ent.Posting, len(page))
	for i := range page {
		out[i] = page[i].posting(acc, c)
	}
	return out, rows.Close()
}

// historyRow is one posting as historyRows reads it; the posting, its
// account id and its optional values share the row's memory.
type historyRow struct {
	ent.Posting
	account, service, hold, reverses, payment gid.ID
	runningBalance, seq                       int64
	variant, reason                           string
	quantity                                  int
	set                                       optionals
}

// optionals says which of a row's optional columns were not null.
type optionals uint16

const (
	colRunningBalance optionals = 1 << iota
	colSeq
	colQuantity
	colService
	colHold
	colReverses
	colPayment
	colVariant
	colReason
)

// historyScan holds the nullable columns of the row being scanned, one
// for the page: a row keeps their values, not the holders.
type historyScan struct {
	rb, seq, qty                        sql.NullInt64
	svc, hold, variant, reason, rev, pm sql.NullString
	// createdText: created_at is read as text (historySelectText) into
	// created, reused from row to row.
	createdText bool
	created     sql.RawBytes
	d           []any
}

// dest is where r's columns of cols go, in historySelect's order.
func (h *historyScan) dest(r *historyRow, cols HistoryColumns) []any {
	*h = historyScan{createdText: h.createdText, created: h.created[:0], d: h.d[:0]}
	p := &r.Posting
	var created any = &p.CreatedAt
	if h.createdText {
		created = &h.created
	}
	h.d = append(h.d, &p.ID, created, &p.Amount, &h.rb, &h.seq)
	if cols == HistorySummary {
		return h.d
	}
	h.d = append(h.d, &p.Kind, &p.Reference, &p.Actor, &h.variant, &h.qty, &h.reason)
	if cols == HistoryDetail {
		return h.d
	}
	h.d = append(h.d, &p.JournalID, &p.Book, &h.svc, &h.hold, &h.rev, &h.pm)
	return h.d
}

// into copies the nullable columns scanned into r, and parses its
// created_at when it was read as text.
func (h *historyScan) into(r *historyRow) error {
	if h.createdText {
		t, err := parsePGTime(h.created)
		if err != nil {
			return fmt.Errorf("created_at: %w", err)
		}
		r.CreatedAt = t
	}
	has := func(valid bool, o optionals) {
		if valid {
			r.set |= o
		}
	}
	r.runningBalance, r.seq, r.quantity = h.rb.Int64, h.seq.Int64, int(h.qty.Int64)
	has(h.rb.Valid, colRunningBalance)
	has(h.seq.Valid, colSeq)
	has(h.qty.Valid, colQuantity)
	r.service, r.hold, r.reverses, r.payment = gid.ID(h.svc.String), gid.ID(h.hold.String), gid.ID(h.rev.String), gid.ID(h.pm.String)
	has(h.svc.Valid, colService)
	has(h.hold.Valid, colHold)
	has(h.rev.Valid, colReverses)
	has(h.pm.Valid, colPayment)
	r.variant, r.reason = h.variant.String, h.reason.String
	has(h.variant.Valid, colVariant)
	has(h.reason.Valid, colReason)
	return nil
}

// posting finishes the row as acc's posting in c: its optional fields
// point into the row, so r must not move afterwards.
func (r *historyRow) posting(acc *ent.Account, c string) *ent.Posting {
	p := &r.Posting
	p.CreatedAt = p.CreatedAt.UTC()
	p.AgencyID, p.Currency = acc.AgencyID, c
	r.account = acc.ID
	p.AccountID = &r.account
	p.RunningBalance = opt(r.set&colRunningBalance != 0, &r.runningBalance)
	p.Seq = opt(r.set&colSeq != 0, &r.seq)
	p.Quantity = opt(r.set&colQuantity != 0, &r.quantity)
	p.ServiceID = opt(r.set&colService != 0, &r.service)
	p.HoldID = opt(r.set&colHold != 0, &r.hold)
	p.ReversesID = opt(r.set&colReverses != 0, &r.reverses)
	p.PaymentID = opt(r.set&colPayment != 0, &r.payment)
	p.Variant = opt(r.set&colVariant != 0, &r.variant)
	p.Reason = opt(r.set&colReason != 0, &r.reason)
	return p
}

// opt is v when set, else nil.
func opt[T any](set bool, v *T) *T {
	if !set {
		return nil
	}
	return v
}

// listAccount resolves the optional accountId of the requests and invoices
// lists: when omitted, client roles get their account, an agency admin every
// account of the agency, a system admin everything (scope does the rest).
func (s *Service) listAccount(ctx context.Context, id *gid.ID) (*ent.Account, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	if id == nil && !v.IsClient() {
		return nil, nil
	}
	return s.Account(ctx, id)
}

// Requests lists credit requests, newest first.
func (s *Service) Requests(ctx context.Context, accountID *gid.ID, status *creditrequest.Status, page PageArgs) (*Page[*ent.CreditRequest], error) {
	acc, err := s.listAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	q := s.db.CreditRequest.Query().Where(listFilter(acc, status, creditrequest.AccountID, creditrequest.StatusEQ)...).
		WithAccount(withAgency).WithTransaction()
	return paginate(ctx, page, createdCursors, byCreated(q, true, "requests",
		func(r *ent.CreditRequest) createdKey { return createdKey{r.CreatedAt, r.ID} }))
}

// listFilter narrows the requests or invoices to acc and status, each when
// given.
func listFilter[P, S any](acc *ent.Account, status *S, accountIs func(gid.ID) P, statusIs func(S) P) []P {
	var where []P
	if acc != nil {
		where = append(where, accountIs(acc.ID))
	}
	if status != nil {
		where = append(where, statusIs(*status))
	}
	return where
}

func withAgency(q *ent.AccountQuery) { q.WithAgency() }

// Invoices lists invoices, newest first.
func (s *Service) Invoices(ctx context.Context, accountID *gid.ID, status *invoice.Status, page PageArgs) (*Page[*ent.Invoice], error) {
	acc, err := s.listAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	q := s.db.Invoice.Query().Where(listFilter(acc, status, invoice.AccountID, invoice.StatusEQ)...).
		WithAccount(withAgency).WithTransaction()
	return paginate(ctx, page, createdCursors, byCreated(q, true, "invoices",
		func(r *ent.Invoice) createdKey { return createdKey{r.CreatedAt, r.ID} }))
}

// Services lists the services of the account's agency, with their rate
// cards (one query for all of them).
func (s *Service) Services(ctx context.Context, acc *ent.Account) ([]*ent.Service, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	svcs, err := s.db.Service.Query().Where(service.AgencyID(acc.AgencyID)).WithRates(RatesOrdered).
		Order(ent.Asc(service.FieldCreatedAt), ent.Asc(service.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	for _, sv := range svcs {
		sv.Edges.Agency = acc.Edges.Agency
		sortRates(sv.Edges.Rates)
	}
	return svcs, nil
}

// CreditPackages lists the packages the viewer's agency offers in cur
// (default: the agency's currency), cheapest first.
func (s *Service) CreditPackages(ctx context.Context, cur *string) ([]*ent.CreditPackage, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	q := s.db.CreditPackage.Query()
	switch {
	case cur != nil:
		c, err := currencyFor(nil, cur)
		if err != nil {
			return nil, badInput("currency: %v", err)
		}
		q.Where(creditpackage.Currency(c))
	case v.Role != auth.RoleSystemAdmin:
		ag, err := s.db.Agency.Get(ctx, gid.ID(v.AgencyID))
		if err != nil {
			return nil, notFound("agency")
		}
		q.Where(creditpackage.Currency(ag.DefaultCurrency))
	}
	pkgs, err := q.Order(ent.Asc(creditpackage.FieldPrice), ent.Asc(creditpackage.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing packages: %w", err)
	}
	return pkgs, nil
}

// Agency returns the named agency, or the viewer's.
func (s *Service) Agency(ctx context.Context, id *gid.ID) (*ent.Agency, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return nil, err
	}
	want := gid.ID(v.AgencyID)
	if id != nil {
		want = *id
	} else if v.Role == auth.RoleSystemAdmin {
		return nil, badInput("id is required for a system admin")
	}
	ag, err := s.db.Agency.Query().Where(agency.ID(want)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("agency")
	}
	if err != nil {
		return nil, fmt.Errorf("loading agency: %w", err)
	}
	return ag, nil
}

// PoolAccount returns the agency's own pool account.
func (s *Service) PoolAccount(ctx context.Context, ag *ent.Agency) (*ent.Account, error) {
	acc, err := s.db.Account.Query().Where(account.AgencyID(ag.ID), account.KindEQ(account.KindAGENCY)).Only(ctx)
	if ent.IsNotFound(err) { // clients see their agency, not its pool
		return nil, notFound("account")
	}
	if err != nil {
		return nil, fmt.Errorf("loading pool of agency %s: %w", ag.ID, err)
	}
	acc.Edges.Agency = ag
	return acc, nil
}

// AgencyAccounts lists the agency's accounts (pool included) oldest first.
func (s *Service) AgencyAccounts(ctx context.Context, ag *ent.Agency, page PageArgs) (*Page[*ent.Account], error) {
	q := s.db.Account.Query().Where(account.AgencyID(ag.ID))
	p, err := paginate(ctx, page, createdCursors, byCreated(q, false, "accounts",
		func(r *ent.Account) createdKey { return createdKey{r.CreatedAt, r.ID} }))
	if err != nil {
		return nil, err
	}
	for _, r := range p.Items {
		r.Edges.Agency = ag
	}
	return p, nil
}

// Node loads any object the API exposes as a Node, within the viewer's
// scope; anything else is NOT_FOUND.
func (s *Service) Node(ctx context.Context, id gid.ID) (any, error) {
	var (
		n   any
		err error
	)
	switch id.Prefix() {
	case gid.Agency:
		n, err = s.db.Agency.Get(ctx, id)
	case gid.Account:
		n, err = s.db.Account.Query().Where(account.ID(id)).WithAgency().Only(ctx)
	case gid.Posting:
		n, err = s.db.Posting.Query().Where(posting.ID(id), posting.AccountIDNotNil()).Only(ctx)
	case gid.CreditRequest:
		n, err = s.db.CreditRequest.Get(ctx, id)
	case gid.Invoice:
		n, err = s.db.Invoice.Get(ctx, id)
	case gid.Service:
		n, err = s.db.Service.Get(ctx, id)
	case gid.CreditPackage:
		n, err = s.db.CreditPackage.Get(ctx, id)
	case gid.Hold:
		n, err = s.db.Hold.Get(ctx, id)
	case gid.APIKey: // staff only (the tenancy's Staff rule)
		n, err = s.db.APIKey.Get(ctx, id)
	case gid.AuditEvent: // staff only, like API keys
		n, err = s.db.AuditEvent.Get(ctx, id)
	case gid.WebhookEndpoint: // staff only, like API keys
		n, err = s.db.WebhookEndpoint.Get(ctx, id)
	case gid.WebhookDelivery:
		n, err = s.db.WebhookDelivery.Get(ctx, id)
	case gid.Payment:
		n, err = s.db.Payment.Query().Where(payment.ID(id)).Only(ctx)
	case gid.Card, gid.TopUpRule, gid.AlertRule:
		// Settings of the account: its owner's, like the fields that list them.
		if _, rerr := requireRole(ctx, rolesThatConfigure...); rerr != nil {
			return nil, notFound("object")
		}
		switch id.Prefix() {
		case gid.Card:
			n, err = s.db.Card.Get(ctx, id)
		case gid.TopUpRule:
			n, err = s.db.TopUpRule.Get(ctx, id)
		default:
			n, err = s.db.AlertRule.Get(ctx, id)
		}
	default:
		return nil, notFound("object")
	}
	if ent.IsNotFound(err) {
		return nil, notFound("object")
	}
	if err != nil {
		return nil, fmt.Errorf("loading node: %w", err)
	}
	return n, nil
}

// Availability says whether credits can pay for something, and why not.
type Availability struct {
	Available bool
	Reason    Code // empty when available
}

// InvoiceAvailability applies the same rule as PayInvoiceWithCredit, in the
// same order, so the portal offers exactly what would succeed.
func (s *Service) InvoiceAvailability(ctx context.Context, inv *ent.Invoice) (Availability, error) {
	acc, err := inv.Edges.AccountOrErr()
	if err != nil {
		if acc, err = s.db.Account.Query().Where(account.ID(inv.AccountID)).WithAgency().Only(ctx); err != nil {
			return Availability{}, fmt.Errorf("loading invoice account: %w", err)
		}
	}
	ag, err := acc.Edges.AgencyOrErr()
	if err != nil {
		if ag, err = acc.QueryAgency().Only(ctx); err != nil {
			return Availability{}, fmt.Errorf("loading agency: %w", err)
		}
	}
	if reason := invoiceGate(ag, inv); reason != "" {
		return Availability{Reason: reason}, nil
	}
	b, err := s.balanceIn(ctx, acc, inv.Currency)
	if err != nil {
		return Availability{}, err
	}
	if b.Available < inv.Amount {
		return Availability{Reason: CodeInsufficientCredits}, nil
	}
	return Availability{Available: true}, nil
}

func invoiceGate(ag *ent.Agency, inv *ent.Invoice) Code {
	switch {
	case !ag.CreditPaymentsEnabled:
		return CodeCreditPaymentsDisabled
	case !inv.CreditEligible:
		return CodeNotEligible
	case inv.Status != invoice.StatusOPEN:
		return CodeAlreadyPaid
	}
	return ""
}

func serviceGate(ag *ent.Agency, svc *ent.Service) Code {
	switch {
	case !ag.CreditPaymentsEnabled:
		return CodeCreditPaymentsDisabled
	case !svc.CreditEligible:
		return CodeNotEligible
	}
	return ""
}

// ServiceOffer is what the portal shows next to a service for one account.
type ServiceOffer struct {
	Availability
	UnitsLeft int // whole units the balance still pays for
}

// ServiceAvailability answers for acc, or for the viewer's own account when
// acc is nil (a system admin without an account gets NOT_ELIGIBLE), at the
// service's default rate (rates.go: ServiceAvailabilityAt for a variant).
func (s *Service) ServiceAvailability(ctx context.Context, svc *ent.Service, acc *ent.Account) (ServiceOffer, error) {
	return s.ServiceAvailabilityAt(ctx, svc, acc, nil)
}

// ownBalance is Account(ctx, id) and its balance in cur (default: the
// agency's currency) in ONE query, for the commonest read of all: a
// client reading its own account (id nil or its own). ok is false for any
// other viewer or account: the caller takes the general path. Every table
// it reads is narrowed to the viewer by the interceptors' rule (scopeSQL):
// for accounts, that is the viewer's own account, the row wanted. The
// account and agency are built from the row; their edges are resolved
// through the domain, never through ent.
func (s *Service) ownBalance(ctx context.Context, id *gid.ID, cur *string) (acc *ent.Account, b *ent.Balance, ok bool, err error) {
	if !ownAccount(ctx, id) {
		return nil, nil, false, nil
	}
	var want any // NULL: the agency's default currency
	if cur != nil {
		c, err := currencyFor(nil, cur)
		if err != nil {
			return nil, nil, false, nil // the general path says which error comes first
		}
		want = c
	}
	_, me, _, _ := scopeOf(ctx)
	f := s.balances.begin(me) // before the query: changes heard from now on are kept
	q := ownQuery(ctx, `COALESCE(?, ag.default_currency), b.id, b.available, b.held, b.owed, b.seq, b.version, b.updated_at`, want).add(`
		LEFT JOIN balances b ON b.account_id = a.id AND b.currency = COALESCE(?, ag.default_currency) AND `, want).scope(ctx, ent.TypeBalance, "b")
	var (
		currency  string
		bid       sql.NullString
		avail     sql.NullInt64
		held      sql.NullInt64
		owed      sql.NullInt64
		seq       sql.NullInt64
		version   sql.NullInt64
		updatedAt sql.NullTime
	)
	acc, err = s.ownRow(ctx, q, "balance", &currency, &bid, &avail, &held, &owed, &seq, &version, &updatedAt)
	if err != nil {
		return nil, nil, true, err
	}
	b = &ent.Balance{AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: currency, UpdatedAt: acc.CreatedAt}
	if bid.Valid {
		b.ID, b.Available, b.Held, b.Owed, b.Seq, b.Version, b.UpdatedAt = gid.ID(bid.String), avail.Int64, held.Int64, owed.Int64, seq.Int64, version.Int64, updatedAt.Time.UTC()
		s.balances.keep(f, acc, b)
	} else {
		s.balances.keep(f, acc)
	}
	b.Edges.Account = acc
	return acc, b, true, nil
}

// ownBalanceKept is ownBalance answered from memory when the account, its
// agency and the balance are kept there (balancecache.go), for the
// viewer's own account of its own agency: what ownBalance's query, narrowed
// by scopeSQL, would have found.
func (s *Service) ownBalanceKept(ctx context.Context, id *gid.ID, cur *string) (acc *ent.Account, b *ent.Balance, ok bool, err error) {
	if ownAccount(ctx, id) {
		ag, me, _, _ := scopeOf(ctx)
		var want *string
		if cur != nil {
			c, err := currencyFor(nil, cur)
			if err != nil {
				return s.ownBalance(ctx, id, cur)
			}
			want = &c
		}
		if acc, k, hit := s.balances.own(me, ag, want); hit {
			b = entBalance(&k)
			b.Edges.Account = acc
			return acc, b, true, nil
		}
	}
	return s.ownBalance(ctx, id, cur)
}

// BalanceOf is the balance query: the account named (or the viewer's) in
// cur (default: the agency's currency).
func (s *Service) BalanceOf(ctx context.Context, id *gid.ID, cur *string) (*ent.Balance, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	if _, b, ok, err := s.ownBalanceKept(ctx, id, cur); ok {
		return b, err
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Balance(ctx, acc, cur)
}

// HistoryOf is the history query: the account named (or the viewer's);
// see History.
func (s *Service) HistoryOf(ctx context.Context, id *gid.ID, cur *string, dir *Direction, page PageArgs) (*Page[*ent.Posting], error) {
	// An unfiltered page ends at the balance's seq, so a balance kept in
	// memory bounds it as well as the database's row would: it shows what
	// the balance read shows, under the same staleness rule (the general
	// path's balanceIn does the same); a filtered page needs only the
	// account.
	if acc, b, ok, err := s.ownBalanceKept(ctx, id, cur); ok {
		if err != nil {
			return nil, err
		}
		return s.history(ctx, acc, b.Currency, dir, page, b)
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.History(ctx, acc, cur, dir, page)
}

// ownAccountService is Account(ctx, id) and the agency's service svcID in
// one query, for a client spending from its own account (id nil or its
// own); ok is false otherwise (the caller takes the general path). As in
// ownBalance, every table is narrowed by scopeSQL and the entities are
// built from the row.
func (s *Service) ownAccountService(ctx context.Context, id *gid.ID, svcID gid.ID) (acc *ent.Account, svc *ent.Service, ok bool, err error) {
	if !ownAccount(ctx, id) {
		return nil, nil, false, nil
	}
	q := ownQuery(ctx, `sv.id, sv.created_at, sv.name, sv.price, sv.currency, sv.credit_eligible`).add(`
		LEFT JOIN services sv ON sv.id = ? AND sv.agency_id = a.agency_id AND `, svcID).scope(ctx, ent.TypeService, "sv")
	var (
		sid, name, cur sql.NullString
		created        sql.NullTime
		price          sql.NullInt64
		eligible       sql.NullBool
	)
	acc, err = s.ownRow(ctx, q, "account", &sid, &created, &name, &price, &cur, &eligible)
	if err != nil {
		return nil, nil, true, err
	}
	ag := acc.Edges.Agency
	if !sid.Valid {
		return nil, nil, true, notFound("service")
	}
	svc = &ent.Service{ID: gid.ID(sid.String), CreatedAt: created.Time.UTC(), AgencyID: ag.ID, Name: name.String,
		Price: price.Int64, Currency: cur.String, CreditEligible: eligible.Bool}
	svc.Edges.Agency = ag
	return acc, svc, true, nil
}

// ownQuery starts the one-query read of the viewer's own account and its
// agency (accounts a, agencies ag) with more columns; the caller joins
// what those come from, and ownRow reads it.
func ownQuery(ctx context.Context, columns string, args ...any) *rawQuery {
	return new(rawQuery).add(`
		SELECT a.id, a.agency_id, a.created_at, a.name, a.kind, ag.created_at, ag.name, ag.default_currency, ag.credit_payments_enabled,
			`+columns+`
		FROM accounts a JOIN agencies ag ON ag.id = a.agency_id AND `, args...).scope(ctx, ent.TypeAgency, "ag")
}

// ownRow narrows q to the viewer's account (scopeSQL: for accounts, that is
// the viewer's own, the row wanted), reads its one row and builds the
// account and agency from it, scanning the other columns into dest. what
// names the read in errors.
func (s *Service) ownRow(ctx context.Context, q *rawQuery, what string, dest ...any) (*ent.Account, error) {
	q.add(`
		WHERE `).scope(ctx, ent.TypeAccount, "a")
	if q.err != nil {
		return nil, q.err
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(q.text.String()), q.args...)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", what, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("loading %s: %w", what, err)
		}
		return nil, notFound("account")
	}
	acc, ag := &ent.Account{}, &ent.Agency{}
	if err := rows.Scan(append([]any{&acc.ID, &acc.AgencyID, &acc.CreatedAt, &acc.Name, &acc.Kind,
		&ag.CreatedAt, &ag.Name, &ag.DefaultCurrency, &ag.CreditPaymentsEnabled}, dest...)...); err != nil {
		return nil, fmt.Errorf("reading %s: %w", what, err)
	}
	ag.ID = acc.AgencyID
	acc.CreatedAt, ag.CreatedAt = acc.CreatedAt.UTC(), ag.CreatedAt.UTC()
	acc.Edges.Agency = ag
	return acc, rows.Close()
}
