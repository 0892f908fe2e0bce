package credits

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"slices"
	"strings"
	"time"

	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/balance"
	"creditgate/ent/posting"
	"creditgate/ent/predicate"
	"creditgate/gid"
	"creditgate/money"
)

// Statements, exports and runway read a balance's postings by ranges of its
// sequence numbers. Seqs run 1..n without gaps and in the order of time on
// each balance, so "the postings before t" is a seq, found by a binary
// search on the (account_id, currency, seq) index: a time window is a seq
// range, and every read below is a range scan of that index (or of
// (account_id, currency, kind, seq) for a kind).

// seqBeforeSQL is the seq of the last posting of (account, currency)
// created before t (0 if none): a binary search over the seqs 0..the
// balance's, one index lookup per step, in one statement. Its arguments
// are account, currency, t, t, account, currency.
const seqBeforeSQL = `WITH RECURSIVE bs(lo, hi) AS (
	SELECT CAST(0 AS BIGINT), COALESCE((SELECT seq FROM balances WHERE account_id = ? AND currency = ?), CAST(0 AS BIGINT))
	UNION ALL
	SELECT CASE WHEN p.created_at < ? THEN (bs.lo + bs.hi + 1) / 2 ELSE bs.lo END,
		CASE WHEN p.created_at < ? THEN bs.hi ELSE (bs.lo + bs.hi + 1) / 2 - 1 END
	FROM bs JOIN postings p ON p.account_id = ? AND p.currency = ? AND p.seq = (bs.lo + bs.hi + 1) / 2
	WHERE bs.lo < bs.hi
)`

func seqBeforeArgs(acc gid.ID, cur string, t time.Time) []any {
	t = t.UTC()
	return []any{acc, cur, t, t, acc, cur}
}

// seqBefore runs seqBeforeSQL.
func (s *Service) seqBefore(ctx context.Context, acc gid.ID, cur string, t time.Time) (int64, error) {
	var seq int64
	err := s.queryRow(ctx, (seqBeforeSQL + ` SELECT MIN(hi) FROM bs`), seqBeforeArgs(acc, cur, t)...).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("finding the postings before %s: %w", t.Format(time.RFC3339), err)
	}
	return seq, nil
}

// queryRow runs the SQL text q (with ? placeholders) and scans its one row.
func (s *Service) queryRow(ctx context.Context, q string, args ...any) *scanner {
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	return &scanner{rows: rows, err: err}
}

type scanner struct {
	rows interface {
		Next() bool
		Scan(...any) error
		Err() error
		Close() error
	}
	err error
}

func (r *scanner) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	return r.rows.Close()
}

// seqRange is the window [from, to) of acc's postings in cur as the seq
// range (lo, hi]; an absent bound is the balance's start or end.
func (s *Service) seqRange(ctx context.Context, acc *ent.Account, cur string, from, to *time.Time) (lo, hi int64, err error) {
	if from != nil {
		if lo, err = s.seqBefore(ctx, acc.ID, cur, *from); err != nil {
			return 0, 0, err
		}
	}
	if to != nil {
		hi, err = s.seqBefore(ctx, acc.ID, cur, *to)
	} else {
		var b *ent.Balance
		if b, err = s.balanceIn(ctx, acc, cur); err == nil {
			hi = b.Seq
		}
	}
	return lo, max(lo, hi), err
}

// HistoryFilter narrows history beyond its direction.
type HistoryFilter struct {
	Direction *Direction
	From, To  *time.Time // [From, To)
	Kinds     []posting.Kind
}

func (f HistoryFilter) narrows() bool { return f.From != nil || f.To != nil || len(f.Kinds) > 0 }

// check refuses a window that ends before it starts and kinds that do not
// exist, and drops repeated kinds.
func (f *HistoryFilter) check() error {
	if f.From != nil && f.To != nil && !f.To.After(*f.From) {
		return badInput("to must be after from")
	}
	for _, k := range f.Kinds {
		if err := posting.KindValidator(k); err != nil {
			return badInput("kind: unknown transaction kind %q", k)
		}
	}
	f.Kinds = slices.Compact(slices.Sorted(slices.Values(f.Kinds))) // a copy: the caller's stays as it was
	return nil
}

// where is f's predicates on acc's postings in cur within (lo, hi],
// besides the kinds.
func (f HistoryFilter) where(acc gid.ID, cur string, lo, hi int64) []predicate.Posting {
	w := []predicate.Posting{posting.AccountID(acc), posting.Currency(cur), posting.SeqGT(lo), posting.SeqLTE(hi)}
	if f.Direction != nil {
		if *f.Direction == In {
			w = append(w, posting.AmountGT(0))
		} else {
			w = append(w, posting.AmountLT(0))
		}
	}
	return w
}

// HistoryWhere is history narrowed by f. A page is a bounded number of
// statements: the window's seq range (a binary search per bound), the
// count (unless the caller does not use it: HistoryUse), and one range
// scan (per kind, on the kind index: the newest n of each kind, merged).
func (s *Service) HistoryWhere(ctx context.Context, id *gid.ID, cur *string, f HistoryFilter, page PageArgs) (*Page[*ent.Posting], error) {
	if !f.narrows() {
		return s.HistoryOf(ctx, id, cur, f.Direction, page)
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	acc, c, err := s.historyAccount(ctx, id, cur)
	if err != nil {
		return nil, err
	}
	if _, err := page.limit(); err != nil { // before any work
		return nil, err
	}
	lo, hi, err := s.seqRange(ctx, acc, c, f.From, f.To)
	if err != nil {
		return nil, err
	}
	exact := f.Direction == nil && len(f.Kinds) == 0
	p, err := paginate(ctx, page, seqCursors, keyset[*ent.Posting, int64]{
		count: func(ctx context.Context) (int, error) {
			if exact {
				return int(hi - lo), nil
			}
			if historyUseOf(ctx).NoTotal {
				return 0, nil
			}
			q := s.db.Posting.Query().Where(f.where(acc.ID, c, lo, hi)...)
			if len(f.Kinds) > 0 {
				q.Where(posting.KindIn(f.Kinds...))
			}
			n, err := q.Count(ctx)
			if err != nil {
				return 0, fmt.Errorf("counting history: %w", err)
			}
			return n, nil
		},
		fetch: func(ctx context.Context, before *int64, n int) ([]*ent.Posting, error) {
			top := hi
			if before != nil {
				top = min(top, *before-1)
			}
			if top <= lo {
				return nil, nil
			}
			where := f.where(acc.ID, c, lo, top)
			if exact {
				where = append(where, posting.SeqGT(top-int64(n)))
			}
			if len(f.Kinds) == 0 {
				return s.postings(ctx, where, n)
			}
			var rows []*ent.Posting
			for _, k := range f.Kinds {
				r, err := s.postings(ctx, append(where, posting.KindEQ(k)), n)
				if err != nil {
					return nil, err
				}
				rows = append(rows, r...)
			}
			slices.SortFunc(rows, func(a, b *ent.Posting) int { return cmp.Compare(*b.Seq, *a.Seq) })
			return rows[:min(n, len(rows))], nil
		},
		key:       func(r *ent.Posting) int64 { return *r.Seq },
		noCursors: historyUseOf(ctx).NoCursors,
	})
	if err != nil {
		return nil, err
	}
	for _, r := range p.Items {
		r.Edges.Account = acc
	}
	return p, nil
}

// historyAccount is the account whose history is read and the currency
// (cur, or its agency's default): a client's own from memory when kept
// there (ownBalanceKept), else from the database.
func (s *Service) historyAccount(ctx context.Context, id *gid.ID, cur *string) (*ent.Account, string, error) {
	if acc, b, ok, err := s.ownBalanceKept(ctx, id, cur); ok {
		if err != nil {
			return nil, "", err
		}
		return acc, b.Currency, nil
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, "", err
	}
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, "", badInput("currency: %v", err)
	}
	return acc, c, nil
}

// postings reads up to n postings matching where, newest first.
func (s *Service) postings(ctx context.Context, where []predicate.Posting, n int) ([]*ent.Posting, error) {
	rows, err := s.db.Posting.Query().Where(where...).Order(ent.Desc(posting.FieldSeq)).Limit(n).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing history: %w", err)
	}
	return rows, nil
}

// ---------------------------------------------------------------- export

// HistoryExport is a window of one balance's history, read in batches,
// oldest first, for the CSV export.
type HistoryExport struct {
	s        *Service
	Account  *ent.Account
	Currency string
	filter   HistoryFilter
	lo, hi   int64
}

// OpenHistoryExport checks the viewer may read the account's history (the
// roles of history, and SERVICE with BALANCES_READ) and fixes the window:
// postings committed later are not in it.
func (s *Service) OpenHistoryExport(ctx context.Context, id *gid.ID, cur *string, f HistoryFilter) (*HistoryExport, error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	if err := f.check(); err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	lo, hi, err := s.seqRange(ctx, acc, c, f.From, f.To)
	if err != nil {
		return nil, err
	}
	return &HistoryExport{s: s, Account: acc, Currency: c, filter: f, lo: lo, hi: hi}, nil
}

// Each hands fn the window's postings, oldest first, batch at a time (one
// range scan each); fn must not keep the slice.
func (e *HistoryExport) Each(ctx context.Context, batch int, fn func([]*ent.Posting) error) error {
	for last := e.lo; last < e.hi; {
		top := e.hi
		if len(e.filter.Kinds) == 0 && e.filter.Direction == nil {
			top = min(top, last+int64(batch)) // an exact seq range
		}
		q := e.s.db.Posting.Query().Where(e.filter.where(e.Account.ID, e.Currency, last, top)...)
		if len(e.filter.Kinds) > 0 {
			q.Where(posting.KindIn(e.filter.Kinds...))
		}
		rows, err := q.Order(ent.Asc(posting.FieldSeq)).Limit(batch).All(ctx)
		if err != nil {
			return fmt.Errorf("exporting history: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := fn(rows); err != nil {
			return err
		}
		last = *rows[len(rows)-1].Seq
	}
	return nil
}

// ---------------------------------------------------------------- statements

// Statement is one balance's month: opening, in, out, closing (micro-units).
type Statement struct {
	Account          *ent.Account
	Currency         string
	Month            string // YYYY-MM, UTC
	From, To         time.Time
	Opening, In, Out int64
	Closing          int64
	TransactionCount int
	lo, hi           int64 // the month's seqs: (lo, hi]
}

// parseMonth is the first instant of month (YYYY-MM, UTC).
func parseMonth(month string) (time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil || len(month) != 7 {
		return time.Time{}, badInput("month: want YYYY-MM, e.g. 2026-03")
	}
	return t.UTC(), nil
}

// StatementOf is the monthly statement of an account's balance in cur.
func (s *Service) StatementOf(ctx context.Context, accountID *gid.ID, cur *string, month string) (*Statement, error) {
	from, err := parseMonth(month)
	if err != nil {
		return nil, err
	}
	if from.After(s.clock()) {
		return nil, badInput("month: %s has not begun", month)
	}
	acc, err := s.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	c, err := currencyFor(acc.Edges.Agency, cur)
	if err != nil {
		return nil, badInput("currency: %v", err)
	}
	return s.statement(ctx, acc, c, from)
}

// statement sums the month from..+1 of acc's balance in cur in three
// statements: the two bounds, then the sums with the running balances at
// both ends. The chain must agree with the sums; if it does not, the
// ledger is broken and no figure is given.
func (s *Service) statement(ctx context.Context, acc *ent.Account, cur string, from time.Time) (*Statement, error) {
	to := from.AddDate(0, 1, 0)
	lo, hi, err := s.seqRange(ctx, acc, cur, &from, &to)
	if err != nil {
		return nil, err
	}
	st := &Statement{Account: acc, Currency: cur, Month: from.Format("2006-01"), From: from, To: to, lo: lo, hi: hi}
	var count int64
	err = s.queryRow(ctx, (`
		SELECT COALESCE(SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END), 0),
			COUNT(*),
			COALESCE((SELECT running_balance FROM postings WHERE account_id = ? AND currency = ? AND seq = ?), 0),
			COALESCE((SELECT running_balance FROM postings WHERE account_id = ? AND currency = ? AND seq = ?), 0)
		FROM postings WHERE account_id = ? AND currency = ? AND seq > ? AND seq <= ?`),
		acc.ID, cur, lo, acc.ID, cur, hi, acc.ID, cur, lo, hi).
		Scan(&st.In, &st.Out, &count, &st.Opening, &st.Closing)
	if err != nil {
		return nil, fmt.Errorf("summing statement: %w", err)
	}
	st.TransactionCount = int(count)
	if st.Opening+st.In-st.Out != st.Closing || count != hi-lo {
		s.log.ErrorContext(ctx, "statement does not match the ledger", "account", acc.ID, "currency", cur, "month", st.Month,
			"opening", st.Opening, "in", st.In, "out", st.Out, "closing", st.Closing, "count", count, "seqs", hi-lo)
		return nil, newErr(CodeInternal, "the statement does not match the ledger")
	}
	return st, nil
}

const statementDocumentLink = "statement-document"

func statementSubject(acc gid.ID, cur, month string) string {
	return string(acc) + "\x00" + cur + "\x00" + month
}

// StatementDocumentURL is a fresh link to st's printable page.
func (s *Service) StatementDocumentURL(ctx context.Context, st *Statement) (string, error) {
	return s.signedLink(statementDocumentLink, statementSubject(st.Account.ID, st.Currency, st.Month),
		"/statements/"+url.PathEscape(string(st.Account.ID))+"/document",
		url.Values{"currency": {st.Currency}, "month": {st.Month}})
}

// StatementDocumentRows bounds the printable statement; the CSV export has
// every row.
const StatementDocumentRows = 1000

// StatementDocument is what the printable statement shows.
type StatementDocument struct {
	AgencyName, AccountName string
	Currency, Month         string
	From, To                time.Time
	Opening, In, Out        string
	Closing                 string
	Count                   int
	Rows                    []StatementRow // oldest first, at most StatementDocumentRows
	More                    int            // rows left out
	ExportPath              string         // the CSV export of the month (needs a token)
}

// StatementRow is one transaction of the printable statement.
type StatementRow struct {
	At                   time.Time
	Type, Kind           string
	Reference            string
	In, Out, Running     string
	TransactionID, Actor string
	Reason               string
}

// StatementDocumentFor checks a statement link (as InvoiceDocumentFor) and
// returns the page: ErrLinkInvalid for a bad signature or an account gone,
// ErrLinkExpired for a genuine link past its expiry.
func (s *Service) StatementDocumentFor(ctx context.Context, accountID, cur, month, exp, sig string) (*StatementDocument, error) {
	if err := s.checkLink(statementDocumentLink, statementSubject(gid.ID(accountID), cur, month), exp, sig); err != nil {
		return nil, err
	}
	from, err := parseMonth(month)
	if err != nil {
		return nil, ErrLinkInvalid
	}
	ctx = System(ctx) // the signature names the account
	acc, err := s.db.Account.Query().Where(account.ID(gid.ID(accountID))).WithAgency().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrLinkInvalid
	}
	if err != nil {
		return nil, fmt.Errorf("loading account: %w", err)
	}
	st, err := s.statement(ctx, acc, cur, from)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Posting.Query().
		Where(posting.AccountID(acc.ID), posting.Currency(cur), posting.SeqGT(st.lo), posting.SeqLTE(st.hi)).
		Order(ent.Asc(posting.FieldSeq)).Limit(StatementDocumentRows).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing statement: %w", err)
	}
	f := func(m int64) string { return string(money.Format(m, cur)) }
	d := &StatementDocument{
		AgencyName: acc.Edges.Agency.Name, AccountName: acc.Name, Currency: cur, Month: st.Month,
		From: st.From, To: st.To, Opening: f(st.Opening), In: f(st.In), Out: f(st.Out), Closing: f(st.Closing),
		Count: st.TransactionCount, More: st.TransactionCount - len(rows),
		ExportPath: "/exports/history.csv?" + url.Values{"accountId": {accountID}, "currency": {cur},
			"from": {st.From.Format(time.RFC3339)}, "to": {st.To.Format(time.RFC3339)}}.Encode(),
	}
	for _, p := range rows {
		r := StatementRow{At: p.CreatedAt.UTC(), Type: "IN", Kind: p.Kind.String(), Reference: p.Reference,
			TransactionID: string(p.ID), Actor: p.Actor}
		if p.Amount < 0 {
			r.Type, r.Out = "OUT", f(-p.Amount)
		} else {
			r.In = f(p.Amount)
		}
		if p.RunningBalance != nil {
			r.Running = f(*p.RunningBalance)
		}
		if p.Reason != nil {
			r.Reason = *p.Reason
		}
		d.Rows = append(d.Rows, r)
	}
	return d, nil
}

// ---------------------------------------------------------------- runway

// Runway is how long a balance lasts at its recent spending.
type Runway struct {
	Currency          string
	AverageDailySpend int64 // micro-units per day
	DaysLeft          int
	RunsOutAt         time.Time
}

// RunwayWindow is how far back runway averages spending.
const RunwayWindow = 30

// spendKinds are the OUT postings that spend credits (not the agency
// taking them back, not refunds).
var spendKinds = []posting.Kind{posting.KindUSAGE, posting.KindSERVICE_PURCHASE, posting.KindINVOICE_PAYMENT}

// RunwayOf is b's runway, or nil when nothing was spent in the window: one
// statement, the window's start found by index (seqBeforeSQL) and the
// spending summed over the range after it, less the reversals of spending
// in it.
func (s *Service) RunwayOf(ctx context.Context, b *ent.Balance) (*Runway, error) {
	if b.Seq == 0 {
		return nil, nil // it never moved
	}
	now := s.clock()
	kinds := make([]string, len(spendKinds))
	args := seqBeforeArgs(b.AccountID, b.Currency, now.AddDate(0, 0, -RunwayWindow))
	args = append(args, b.AccountID, b.Currency)
	for i, k := range spendKinds {
		kinds[i] = "'" + k.String() + "'" // constants
	}
	in := strings.Join(kinds, ", ")
	var net int64
	err := s.queryRow(ctx, (seqBeforeSQL + `
		SELECT COALESCE(SUM(p.amount), 0) FROM postings p LEFT JOIN postings r ON r.id = p.reverses_id
		WHERE p.account_id = ? AND p.currency = ? AND p.seq > (SELECT MIN(hi) FROM bs)
			AND (p.kind IN (` + in + `) OR (p.kind = 'REVERSAL' AND r.kind IN (` + in + `)))`), args...).Scan(&net)
	if err != nil {
		return nil, fmt.Errorf("summing spending: %w", err)
	}
	return runway(b.Currency, b.Available, -net, now), nil
}

// runwayOfBalance is RunwayOf the balance (acc, cur) for messages: nil
// when unknown, a failure included (the message goes without it).
func (s *Service) runwayOfBalance(ctx context.Context, acc gid.ID, cur string) *Runway {
	b, err := s.db.Balance.Query().Where(balance.AccountID(acc), balance.Currency(cur)).Only(ctx)
	if err != nil {
		return nil
	}
	rw, err := s.RunwayOf(ctx, b)
	if err != nil {
		s.log.WarnContext(ctx, "runway for a message", "account", acc, "error", err)
		return nil
	}
	return rw
}

// runway is the runway of available at spent per RunwayWindow days, from
// now; nil when nothing was spent. Exact: available×window/spent days,
// in 128 bits.
func runway(cur string, available, spent int64, now time.Time) *Runway {
	if spent <= 0 {
		return nil
	}
	r := &Runway{Currency: cur, AverageDailySpend: spent / RunwayWindow}
	avail := new(big.Int).Mul(big.NewInt(max(available, 0)), big.NewInt(RunwayWindow))
	days := new(big.Int).Quo(avail, big.NewInt(spent))
	r.DaysLeft = int(min(days.Int64(), math.MaxInt32))
	if !days.IsInt64() {
		r.DaysLeft = math.MaxInt32
	}
	// available/spent × window days, in seconds.
	secs := new(big.Int).Quo(new(big.Int).Mul(avail, big.NewInt(86400)), big.NewInt(spent))
	const maxSecs = 100 * 365 * 86400 // a century: beyond, "never" in practice
	if !secs.IsInt64() || secs.Int64() > maxSecs {
		secs.SetInt64(maxSecs)
	}
	r.RunsOutAt = now.Add(time.Duration(secs.Int64()) * time.Second).UTC()
	return r
}

// words is "about N days left ..." for messages, "" when unknown.
func (r *Runway) words() string {
	if r == nil {
		return ""
	}
	if r.DaysLeft == 1 {
		return "about 1 day left at your current usage"
	}
	return fmt.Sprintf("about %d days left at your current usage", r.DaysLeft)
}
