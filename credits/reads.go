package credits

import (
	"context"
	"database/sql"
	"fmt"
	"math"

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

func (s *Service) balanceIn(ctx context.Context, acc *ent.Account, cur string) (*ent.Balance, error) {
	b, err := s.db.Balance.Query().Where(balance.AccountID(acc.ID), balance.Currency(cur)).Only(ctx)
	if ent.IsNotFound(err) {
		b = &ent.Balance{AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: cur, UpdatedAt: acc.CreatedAt}
	} else if err != nil {
		return nil, fmt.Errorf("loading balance: %w", err)
	}
	b.Edges.Account = acc
	return b, nil
}

// Balances lists the account's balances, one per currency, always including
// the agency's default currency.
func (s *Service) Balances(ctx context.Context, acc *ent.Account) ([]*ent.Balance, error) {
	bs, err := s.db.Balance.Query().Where(balance.AccountID(acc.ID)).Order(ent.Asc(balance.FieldCurrency)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing balances: %w", err)
	}
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
	limit, err := page.limit()
	if err != nil {
		return nil, err
	}
	where := []predicate.Posting{posting.AccountID(acc.ID), posting.Currency(c)}
	if dir != nil {
		if *dir == In {
			where = append(where, posting.AmountGT(0))
		} else {
			where = append(where, posting.AmountLT(0))
		}
	}
	var before *int64 // the cursor: rows with a lower seq
	if page.After != nil {
		seq, err := parseSeqCursor(*page.After)
		if err != nil {
			return nil, err
		}
		before = &seq
	}
	q := s.db.Posting.Query().Where(where...)
	var total int
	if dir == nil {
		// Sequence numbers run 1..seq without gaps on each balance, so the
		// count is the balance's seq, and a page is an exact seq range: one
		// short index range whatever the planner believes about a busy account.
		if b == nil {
			if b, err = s.balanceIn(ctx, acc, c); err != nil {
				return nil, err
			}
		}
		total = int(b.Seq)
		top := b.Seq
		if before != nil {
			top = min(top, *before-1)
		}
		q.Where(posting.SeqLTE(top), posting.SeqGT(top-int64(limit)-1))
	} else {
		if total, err = s.db.Posting.Query().Where(where...).Count(ctx); err != nil {
			return nil, fmt.Errorf("counting history: %w", err)
		}
		if before != nil {
			q.Where(posting.SeqLT(*before))
		}
	}
	rows, err := q.Order(ent.Desc(posting.FieldSeq)).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing history: %w", err)
	}
	rows, more := trim(rows, limit)
	p := &Page[*ent.Posting]{Items: rows, HasNext: more, HasPrevious: page.After != nil, Total: total}
	for _, r := range rows {
		r.Edges.Account = acc // every row is on acc: no query per row
		p.Cursors = append(p.Cursors, seqCursor(*r.Seq))
	}
	return p, nil
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
	limit, err := page.limit()
	if err != nil {
		return nil, err
	}
	var where []predicate.CreditRequest
	if acc != nil {
		where = append(where, creditrequest.AccountID(acc.ID))
	}
	if status != nil {
		where = append(where, creditrequest.StatusEQ(*status))
	}
	total, err := s.db.CreditRequest.Query().Where(where...).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting requests: %w", err)
	}
	q := s.db.CreditRequest.Query().Where(where...).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).
		WithTransaction()
	if page.After != nil {
		t, id, err := parseTimeCursor(*page.After)
		if err != nil {
			return nil, err
		}
		q.Where(creditrequest.Or(creditrequest.CreatedAtLT(t), creditrequest.And(creditrequest.CreatedAt(t), creditrequest.IDLT(id))))
	}
	rows, err := q.Order(ent.Desc(creditrequest.FieldCreatedAt), ent.Desc(creditrequest.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing requests: %w", err)
	}
	rows, more := trim(rows, limit)
	p := &Page[*ent.CreditRequest]{Items: rows, HasNext: more, HasPrevious: page.After != nil, Total: total}
	for _, r := range rows {
		p.Cursors = append(p.Cursors, timeCursor(r.CreatedAt, r.ID))
	}
	return p, nil
}

// Invoices lists invoices, newest first.
func (s *Service) Invoices(ctx context.Context, accountID *gid.ID, status *invoice.Status, page PageArgs) (*Page[*ent.Invoice], error) {
	acc, err := s.listAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	limit, err := page.limit()
	if err != nil {
		return nil, err
	}
	var where []predicate.Invoice
	if acc != nil {
		where = append(where, invoice.AccountID(acc.ID))
	}
	if status != nil {
		where = append(where, invoice.StatusEQ(*status))
	}
	total, err := s.db.Invoice.Query().Where(where...).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting invoices: %w", err)
	}
	q := s.db.Invoice.Query().Where(where...).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).
		WithTransaction()
	if page.After != nil {
		t, id, err := parseTimeCursor(*page.After)
		if err != nil {
			return nil, err
		}
		q.Where(invoice.Or(invoice.CreatedAtLT(t), invoice.And(invoice.CreatedAt(t), invoice.IDLT(id))))
	}
	rows, err := q.Order(ent.Desc(invoice.FieldCreatedAt), ent.Desc(invoice.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing invoices: %w", err)
	}
	rows, more := trim(rows, limit)
	p := &Page[*ent.Invoice]{Items: rows, HasNext: more, HasPrevious: page.After != nil, Total: total}
	for _, r := range rows {
		p.Cursors = append(p.Cursors, timeCursor(r.CreatedAt, r.ID))
	}
	return p, nil
}

// Services lists the services of the account's agency.
func (s *Service) Services(ctx context.Context, acc *ent.Account) ([]*ent.Service, error) {
	svcs, err := s.db.Service.Query().Where(service.AgencyID(acc.AgencyID)).
		Order(ent.Asc(service.FieldCreatedAt), ent.Asc(service.FieldID)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing services: %w", err)
	}
	for _, sv := range svcs {
		sv.Edges.Agency = acc.Edges.Agency
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
	limit, err := page.limit()
	if err != nil {
		return nil, err
	}
	total, err := s.db.Account.Query().Where(account.AgencyID(ag.ID)).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting accounts: %w", err)
	}
	q := s.db.Account.Query().Where(account.AgencyID(ag.ID))
	if page.After != nil {
		t, id, err := parseTimeCursor(*page.After)
		if err != nil {
			return nil, err
		}
		q.Where(account.Or(account.CreatedAtGT(t), account.And(account.CreatedAt(t), account.IDGT(id))))
	}
	rows, err := q.Order(ent.Asc(account.FieldCreatedAt), ent.Asc(account.FieldID)).Limit(limit + 1).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	rows, more := trim(rows, limit)
	p := &Page[*ent.Account]{Items: rows, HasNext: more, HasPrevious: page.After != nil, Total: total}
	for _, r := range rows {
		r.Edges.Agency = ag
		p.Cursors = append(p.Cursors, timeCursor(r.CreatedAt, r.ID))
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
// acc is nil (a system admin without an account gets NOT_ELIGIBLE).
func (s *Service) ServiceAvailability(ctx context.Context, svc *ent.Service, acc *ent.Account) (ServiceOffer, error) {
	if acc == nil {
		var err error
		acc, err = s.Account(ctx, nil)
		if CodeOf(err) == CodeBadInput {
			return ServiceOffer{Availability: Availability{Reason: CodeNotEligible}}, nil
		}
		if err != nil {
			return ServiceOffer{}, err
		}
	}
	if acc.AgencyID != svc.AgencyID {
		return ServiceOffer{Availability: Availability{Reason: CodeNotEligible}}, nil
	}
	if reason := serviceGate(acc.Edges.Agency, svc); reason != "" {
		return ServiceOffer{Availability: Availability{Reason: reason}}, nil
	}
	b, err := s.balanceIn(ctx, acc, svc.Currency)
	if err != nil {
		return ServiceOffer{}, err
	}
	units := int64(math.MaxInt32)
	if svc.Price > 0 {
		units = min(b.Available/svc.Price, math.MaxInt32)
	}
	if b.Available < svc.Price {
		return ServiceOffer{Availability: Availability{Reason: CodeInsufficientCredits}}, nil
	}
	return ServiceOffer{Availability: Availability{Available: true}, UnitsLeft: int(units)}, nil
}

// ownBalance is Account(ctx, id) and its balance in cur (default: the
// agency's currency) in ONE query, for the commonest read of all: a
// client reading its own account (id nil or its own). ok is false for any
// other viewer or account: the caller takes the general path. The account
// and agency are built from the row (the scope is the token's account and
// agency, as the interceptors would apply); their edges are resolved
// through the domain, never through ent.
func (s *Service) ownBalance(ctx context.Context, id *gid.ID, cur *string) (acc *ent.Account, b *ent.Balance, ok bool, err error) {
	v, err := viewerOf(ctx)
	if err != nil || !v.IsClient() || isSystem(ctx) || (id != nil && string(*id) != v.AccountID) {
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
	rows, err := s.db.QueryContext(ctx, s.rebind(`
		SELECT a.created_at, a.name, a.kind, ag.created_at, ag.name, ag.default_currency, ag.credit_payments_enabled,
			COALESCE(?, ag.default_currency), b.id, b.available, b.seq, b.updated_at
		FROM accounts a JOIN agencies ag ON ag.id = a.agency_id
		LEFT JOIN balances b ON b.account_id = a.id AND b.currency = COALESCE(?, ag.default_currency)
		WHERE a.id = ? AND a.agency_id = ?`), want, want, v.AccountID, v.AgencyID)
	if err != nil {
		return nil, nil, true, fmt.Errorf("loading balance: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, nil, true, fmt.Errorf("loading balance: %w", err)
		}
		return nil, nil, true, notFound("account")
	}
	acc = &ent.Account{ID: gid.ID(v.AccountID), AgencyID: gid.ID(v.AgencyID)}
	ag := &ent.Agency{ID: gid.ID(v.AgencyID)}
	var (
		currency  string
		bid       sql.NullString
		avail     sql.NullInt64
		seq       sql.NullInt64
		updatedAt sql.NullTime
	)
	if err := rows.Scan(&acc.CreatedAt, &acc.Name, &acc.Kind, &ag.CreatedAt, &ag.Name, &ag.DefaultCurrency, &ag.CreditPaymentsEnabled,
		&currency, &bid, &avail, &seq, &updatedAt); err != nil {
		return nil, nil, true, fmt.Errorf("reading balance: %w", err)
	}
	acc.CreatedAt, ag.CreatedAt = acc.CreatedAt.UTC(), ag.CreatedAt.UTC()
	acc.Edges.Agency = ag
	b = &ent.Balance{AccountID: acc.ID, AgencyID: acc.AgencyID, Currency: currency, UpdatedAt: acc.CreatedAt}
	if bid.Valid {
		b.ID, b.Available, b.Seq, b.UpdatedAt = gid.ID(bid.String), avail.Int64, seq.Int64, updatedAt.Time.UTC()
	}
	b.Edges.Account = acc
	return acc, b, true, rows.Close()
}

// BalanceOf is the balance query: the account named (or the viewer's) in
// cur (default: the agency's currency).
func (s *Service) BalanceOf(ctx context.Context, id *gid.ID, cur *string) (*ent.Balance, error) {
	if _, b, ok, err := s.ownBalance(ctx, id, cur); ok {
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
	if dir == nil {
		if acc, b, ok, err := s.ownBalance(ctx, id, cur); ok {
			if err != nil {
				return nil, err
			}
			return s.history(ctx, acc, b.Currency, dir, page, b)
		}
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
// ownBalance, the entities are built from the row.
func (s *Service) ownAccountService(ctx context.Context, id *gid.ID, svcID gid.ID) (acc *ent.Account, svc *ent.Service, ok bool, err error) {
	v, err := viewerOf(ctx)
	if err != nil || !v.IsClient() || isSystem(ctx) || (id != nil && string(*id) != v.AccountID) {
		return nil, nil, false, nil
	}
	rows, err := s.db.QueryContext(ctx, s.rebind(`
		SELECT a.created_at, a.name, a.kind, ag.created_at, ag.name, ag.default_currency, ag.credit_payments_enabled,
			sv.id, sv.created_at, sv.name, sv.price, sv.currency, sv.credit_eligible
		FROM accounts a JOIN agencies ag ON ag.id = a.agency_id
		LEFT JOIN services sv ON sv.id = ? AND sv.agency_id = a.agency_id
		WHERE a.id = ? AND a.agency_id = ?`), svcID, v.AccountID, v.AgencyID)
	if err != nil {
		return nil, nil, true, fmt.Errorf("loading account: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, nil, true, fmt.Errorf("loading account: %w", err)
		}
		return nil, nil, true, notFound("account")
	}
	acc = &ent.Account{ID: gid.ID(v.AccountID), AgencyID: gid.ID(v.AgencyID)}
	ag := &ent.Agency{ID: gid.ID(v.AgencyID)}
	var (
		sid, name, cur sql.NullString
		created        sql.NullTime
		price          sql.NullInt64
		eligible       sql.NullBool
	)
	if err := rows.Scan(&acc.CreatedAt, &acc.Name, &acc.Kind, &ag.CreatedAt, &ag.Name, &ag.DefaultCurrency, &ag.CreditPaymentsEnabled,
		&sid, &created, &name, &price, &cur, &eligible); err != nil {
		return nil, nil, true, fmt.Errorf("reading account: %w", err)
	}
	acc.CreatedAt, ag.CreatedAt = acc.CreatedAt.UTC(), ag.CreatedAt.UTC()
	acc.Edges.Agency = ag
	if !sid.Valid {
		return nil, nil, true, notFound("service")
	}
	svc = &ent.Service{ID: gid.ID(sid.String), CreatedAt: created.Time.UTC(), AgencyID: ag.ID, Name: name.String,
		Price: price.Int64, Currency: cur.String, CreditEligible: eligible.Bool}
	svc.Edges.Agency = ag
	return acc, svc, true, rows.Close()
}
