package credits

import (
	"context"
	"time"

	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/gid"
)

// Statement is one balance's month: opening, in, out, closing (micro-units).
type Statement struct {
	Account          *ent.Account
	Currency         string
	Month            string // YYYY-MM, UTC
	From, To         time.Time
	Opening, In, Out int64
	Closing          int64
	TransactionCount int
}

// StatementOf is the monthly statement of an account's balance in cur.
func (s *Service) StatementOf(ctx context.Context, accountID *gid.ID, cur *string, month string) (*Statement, error) {
	return nil, newErr(CodeInternal, "statements are not built yet")
}

// StatementDocumentURL is a fresh link to st's printable page.
func (s *Service) StatementDocumentURL(ctx context.Context, st *Statement) (string, error) {
	return "", newErr(CodeInternal, "statements are not built yet")
}

// Runway is how long a balance lasts at its recent spending.
type Runway struct {
	Currency          string
	AverageDailySpend int64 // micro-units per day
	DaysLeft          int
	RunsOutAt         time.Time
}

// RunwayOf is b's runway, or nil when nothing was spent in the window.
func (s *Service) RunwayOf(ctx context.Context, b *ent.Balance) (*Runway, error) {
	return nil, nil
}

// HistoryFilter narrows history beyond its direction.
type HistoryFilter struct {
	Direction *Direction
	From, To  *time.Time // [From, To)
	Kinds     []posting.Kind
}

// HistoryWhere is history narrowed by f.
func (s *Service) HistoryWhere(ctx context.Context, id *gid.ID, cur *string, f HistoryFilter, page PageArgs) (*Page[*ent.Posting], error) {
	if f.From != nil || f.To != nil || len(f.Kinds) > 0 {
		return nil, newErr(CodeInternal, "history filters are not built yet")
	}
	return s.HistoryOf(ctx, id, cur, f.Direction, page)
}
