package credits

import (
	"context"
	"fmt"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/hold"
	"creditgate/ent/posting"
	"creditgate/ent/service"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/money"
)

// Holds set credits aside for a service that will charge them later (a
// campaign, an OTP in flight): createHold moves them from available to
// held, captures are USAGE transactions taken from the hold, and a final
// capture, releaseHold or expiry gives the rest back. Every hold move is
// the ledger's (ledger/hold.go) on the one path of a money mutation (Run);
// the rules, who may and how much, are here.

// Who creates, captures and releases holds (a SERVICE viewer also needs
// ScopeHoldsWrite); client roles are FORBIDDEN.
var holders = []auth.Role{auth.RoleService, auth.RoleAgencyAdmin, auth.RoleSystemAdmin}

const (
	defaultHoldTTL = time.Hour
	minHoldTTL     = time.Minute
	maxHoldTTL     = 30 * 24 * time.Hour
)

// HoldResult is the answer to createHold, captureHold and releaseHold.
type HoldResult struct {
	Hold        *ent.Hold
	Transaction *ent.Posting // captureHold: the USAGE transaction
	Balance     *ent.Balance
}

// NewHoldInput describes createHold: an amount (with a currency, default
// the agency's), or a service's rate x quantity.
type NewHoldInput struct {
	AccountID        gid.ID
	Amount           *money.Decimal
	Currency         *string
	ServiceID        *gid.ID
	Variant          *string
	Quantity         *int
	Reference        *string
	ExpiresInSeconds *int
	IdempotencyKey   *string
}

// CreateHold sets credits of the account aside: INSUFFICIENT_CREDITS when
// its available balance does not cover them.
func (s *Service) CreateHold(ctx context.Context, in NewHoldInput) (*HoldResult, error) {
	v, err := s.holdWriter(ctx)
	if err != nil {
		return nil, err
	}
	ttl := defaultHoldTTL
	if in.ExpiresInSeconds != nil {
		ttl = time.Duration(*in.ExpiresInSeconds) * time.Second
		if ttl < minHoldTTL || ttl > maxHoldTTL {
			return nil, badInput("expiresInSeconds must be 60 to %d", int(maxHoldTTL/time.Second))
		}
	}
	ref, err := holdReference(in.Reference)
	if err != nil {
		return nil, err
	}
	acc, err := s.Account(ctx, &in.AccountID)
	if err != nil {
		return nil, nothingDone(err)
	}
	h := ledger.NewHold{ID: gid.New(gid.Hold), Account: acc, Reference: ref, CreatedBy: v.UserID}
	switch {
	case (in.Amount == nil) == (in.ServiceID == nil):
		return nil, badInput("give either amount or serviceId")
	case in.Amount != nil:
		if in.Quantity != nil || in.Variant != nil {
			return nil, badInput("quantity and variant go with serviceId")
		}
		if h.Currency, err = currencyFor(acc.Edges.Agency, in.Currency); err != nil {
			return nil, badInput("currency: %v", err)
		}
		if h.Amount, err = parseAmount("amount", *in.Amount, h.Currency); err != nil {
			return nil, err
		}
	default:
		if in.Currency != nil {
			return nil, badInput("currency goes with amount (a service charges in its own)")
		}
		svc, err := s.db.Service.Query().Where(service.ID(*in.ServiceID), service.AgencyID(acc.AgencyID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, notFound("service")
		}
		if err != nil {
			return nil, nothingDone(fmt.Errorf("loading service: %w", err))
		}
		if !svc.CreditEligible {
			return nil, unavailable(CodeNotEligible)
		}
		h.Quantity = 1
		if in.Quantity != nil {
			h.Quantity = *in.Quantity
		}
		if h.Quantity < 1 {
			return nil, badInput("quantity must be at least 1")
		}
		if in.Variant != nil {
			h.Variant = NormalizeVariant(*in.Variant)
		}
		price, err := s.RateOf(ctx, svc, h.Variant)
		if err != nil {
			return nil, nothingDone(err)
		}
		if h.Amount, err = money.MulQuantity(price, int64(h.Quantity)); err != nil {
			return nil, badInput("quantity: %v", err)
		}
		h.ServiceID, h.Currency = svc.ID, svc.Currency
	}
	if h.Amount <= 0 {
		return nil, badInput("the amount to hold must be positive")
	}
	h.ExpiresAt = s.clock().Add(ttl).UTC()
	return run(ctx, s, ledger.Mutation[*HoldResult]{
		Op: "createHold", Key: in.IdempotencyKey,
		Input: struct {
			A          gid.ID
			Amount     int64
			Cur        string
			S          gid.ID
			V          string
			Q          int
			Ref        string
			TTLSeconds int64
		}{acc.ID, h.Amount, h.Currency, h.ServiceID, h.Variant, h.Quantity, ref, int64(ttl / time.Second)},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *HoldResult, error) {
			made, err := s.ledger.CreateHold(ctx, tx, h)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "createHold", AgencyID: acc.AgencyID, AccountID: acc.ID, TargetID: made.ID,
				Summary: fmt.Sprintf("held %s of %s until %s", fmtAmount(h.Amount, h.Currency), acc.ID, h.ExpiresAt.Format(time.RFC3339))}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			bal := tx.BalanceAfter(made.ID)
			bal.Edges.Account = acc
			return ledger.Outcome{Hold: made.ID}, &HoldResult{Hold: made, Balance: bal}, nil
		},
		Replay: s.holdOutcome,
	})
}

// CaptureHold charges amount (default: all that remains) from the hold as
// a USAGE transaction; final (the default) releases the rest and ends it
// CAPTURED. CONFLICT when the hold is not ACTIVE, INSUFFICIENT_CREDITS when
// its remainder does not cover amount.
func (s *Service) CaptureHold(ctx context.Context, id gid.ID, amount *money.Decimal, final *bool, reference *string, idemKey *string) (*HoldResult, error) {
	if _, err := s.holdWriter(ctx); err != nil {
		return nil, err
	}
	h, err := s.holdToWrite(ctx, id)
	if err != nil {
		return nil, err
	}
	fin := final == nil || *final
	ref := h.Reference
	if reference != nil {
		if ref, err = holdReference(reference); err != nil {
			return nil, err
		}
	}
	if ref == "" {
		ref = "hold " + string(h.ID)
	}
	// Without an amount, all that remains now; a capture that races it
	// makes this one INSUFFICIENT_CREDITS, never more than the hold.
	x := h.Amount - h.Captured
	if amount != nil {
		if x, err = parseAmount("amount", *amount, h.Currency); err != nil {
			return nil, err
		}
	}
	if x <= 0 {
		return nil, badInput("nothing to capture: the amount must be positive (release the hold to end it)")
	}
	acc := &ent.Account{ID: h.AccountID, AgencyID: h.AgencyID}
	return run(ctx, s, ledger.Mutation[*HoldResult]{
		Op: "captureHold", Key: idemKey,
		Input: struct {
			H      gid.ID
			Amount int64
			Final  bool
			Ref    string
		}{h.ID, x, fin, ref},
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *HoldResult, error) {
			e := ledger.Entry{
				Kind: posting.KindUSAGE, Reference: ref, Currency: h.Currency, AgencyID: h.AgencyID,
				Legs: []ledger.Leg{
					{Account: acc, Amount: -x},
					{Book: ledger.Revenue, Amount: x},
				},
				Hold: &ledger.Capture{ID: h.ID, Final: fin},
			}
			ps, err := s.post(ctx, tx, e)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			after, err := tx.Hold.Get(ctx, h.ID) // locked by the capture: as it left it
			if err != nil {
				return ledger.Outcome{}, nil, fmt.Errorf("reading hold: %w", err)
			}
			t := ps[0]
			summary := fmt.Sprintf("captured %s of hold %s as %s", fmtAmount(x, h.Currency), h.ID, t.ID)
			if fin {
				summary += " (final)"
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "captureHold", AgencyID: h.AgencyID, AccountID: h.AccountID, TargetID: h.ID,
				Summary: summary}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			t.Edges.Account = nil // loaded through the domain if asked for
			return ledger.Outcome{Transaction: t.ID, Hold: h.ID},
				&HoldResult{Hold: after, Transaction: t, Balance: balanceLeft(tx, t)}, nil
		},
		Replay: s.holdOutcome,
	})
}

// ReleaseHold gives what remains of the hold back to available and ends it
// RELEASED; CONFLICT when it is not ACTIVE.
func (s *Service) ReleaseHold(ctx context.Context, id gid.ID) (*HoldResult, error) {
	if _, err := s.holdWriter(ctx); err != nil {
		return nil, err
	}
	h, err := s.holdToWrite(ctx, id)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*HoldResult]{
		Op: "releaseHold",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *HoldResult, error) {
			ended, err := s.ledger.EndHold(ctx, tx, h.ID)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			out, err := s.holdAnswer(ctx, tx, ended.ID, nil)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{}, out, s.audit(ctx, tx.Tx, Audit{Action: "releaseHold", AgencyID: h.AgencyID, AccountID: h.AccountID,
				TargetID: h.ID, Summary: fmt.Sprintf("released hold %s: %s given back", h.ID, fmtAmount(ended.Amount-ended.Captured, h.Currency))})
		},
	})
}

// holdAnswer is the hold id and the balance it left in tx (read when the
// move gave nothing back), for an answer.
func (s *Service) holdAnswer(ctx context.Context, tx *ledger.Tx, id gid.ID, t *ent.Posting) (*HoldResult, error) {
	h, err := tx.Hold.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reading hold: %w", err)
	}
	bal := tx.BalanceAfter(id)
	if bal == nil {
		if bal, err = s.balanceIn(ctx, &ent.Account{ID: h.AccountID, AgencyID: h.AgencyID}, h.Currency); err != nil {
			return nil, err
		}
	}
	bal.Edges.Account = nil
	return &HoldResult{Hold: h, Transaction: t, Balance: bal}, nil
}

// holdOutcome rebuilds an answer from a replayed key: the hold and the
// capture's transaction as they are, and the balance now.
func (s *Service) holdOutcome(ctx context.Context, o ledger.Outcome) (*HoldResult, error) {
	h, err := s.db.Hold.Get(ctx, o.Hold)
	if err != nil {
		return nil, fmt.Errorf("loading hold: %w", err)
	}
	out := &HoldResult{Hold: h}
	if o.Transaction != "" {
		if out.Transaction, err = s.db.Posting.Get(ctx, o.Transaction); err != nil {
			return nil, fmt.Errorf("loading transaction: %w", err)
		}
	}
	out.Balance, err = s.balanceIn(ctx, &ent.Account{ID: h.AccountID, AgencyID: h.AgencyID}, h.Currency)
	return out, err
}

// holdWriter checks that the viewer may write holds.
func (s *Service) holdWriter(ctx context.Context) (*auth.Viewer, error) {
	v, err := requireRole(ctx, holders...)
	if err != nil {
		return nil, err
	}
	if err := requireScope(ctx, ScopeHoldsWrite); err != nil {
		return nil, err
	}
	return v, nil
}

// holdToWrite reads the hold in the viewer's scope (NOT_FOUND otherwise);
// CONFLICT when it is no longer ACTIVE (the ledger checks it again, in the
// statement that changes it).
func (s *Service) holdToWrite(ctx context.Context, id gid.ID) (*ent.Hold, error) {
	h, err := s.db.Hold.Query().Where(hold.ID(id)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("hold")
	}
	if err != nil {
		return nil, nothingDone(fmt.Errorf("loading hold: %w", err))
	}
	if h.Status != hold.StatusACTIVE {
		return nil, newErr(CodeConflict, "the hold is %s, not active", h.Status)
	}
	return h, nil
}

func holdReference(r *string) (string, error) {
	if r == nil {
		return "", nil
	}
	if len([]rune(*r)) > 500 {
		return "", badInput("reference is longer than 500 characters")
	}
	return *r, nil
}

// Holds lists holds, newest first: of the account named (client roles:
// their own), else every hold the viewer may see; optionally only those in
// status. A SERVICE viewer needs ScopeBalancesRead.
func (s *Service) Holds(ctx context.Context, accountID *gid.ID, status *hold.Status, page PageArgs) (*Page[*ent.Hold], error) {
	if err := requireScope(ctx, ScopeBalancesRead); err != nil {
		return nil, err
	}
	acc, err := s.listAccount(ctx, accountID)
	if err != nil {
		return nil, err
	}
	q := s.db.Hold.Query().Where(listFilter(acc, status, hold.AccountID, hold.StatusEQ)...)
	return paginate(ctx, page, createdCursors, byCreated(q, true, "holds",
		func(r *ent.Hold) createdKey { return createdKey{r.CreatedAt, r.ID} }))
}

// HoldCaptures are the hold's captures (its USAGE transactions), oldest
// first.
func (s *Service) HoldCaptures(ctx context.Context, h *ent.Hold) ([]*ent.Posting, error) {
	ps, err := s.db.Posting.Query().Where(posting.HoldID(h.ID), posting.AccountIDNotNil()).
		Order(ent.Asc(posting.FieldSeq)).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing captures: %w", err)
	}
	return ps, nil
}

// ExpireHolds releases every ACTIVE hold whose expiry has passed, one
// transaction each, and returns how many it ended. Each is claimed in the
// statement that ends it (SKIP LOCKED on PostgreSQL, under the condition
// that it is still ACTIVE), so any number of instances may sweep at once
// and a hold expires once, or is captured or released instead.
func (s *Service) ExpireHolds(ctx context.Context) (int, error) {
	ctx = System(ctx)
	n := 0
	for ctx.Err() == nil {
		h, err := run(ctx, s, ledger.Mutation[*ent.Hold]{
			Op: "expireHold",
			Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *ent.Hold, error) {
				h, err := s.ledger.ExpireHold(ctx, tx, s.clock())
				if err != nil || h == nil {
					return ledger.Outcome{}, h, err
				}
				if err := s.emit(ctx, tx.Tx, Event{Type: "hold.expired", AgencyID: h.AgencyID, AccountID: h.AccountID, Data: map[string]any{
					"holdId": h.ID, "reference": h.Reference, "currency": h.Currency, "amount": dec(h.Amount, h.Currency),
					"captured": dec(h.Captured, h.Currency), "released": dec(h.Amount-h.Captured, h.Currency)}}); err != nil {
					return ledger.Outcome{}, h, err
				}
				return ledger.Outcome{}, h, s.audit(ctx, tx.Tx, Audit{Action: "holdExpired", AgencyID: h.AgencyID, AccountID: h.AccountID,
					TargetID: h.ID, Summary: fmt.Sprintf("hold %s expired: %s given back", h.ID, fmtAmount(h.Amount-h.Captured, h.Currency))})
			},
		})
		if err != nil || h == nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// checkHolds is verify's check of the holds: each balance's held is the sum
// of its ACTIVE holds' remainders; a hold's captured is within its amount
// and is the sum of its captures (USAGE transactions of its account and
// currency); no capture was made after its hold ended (RELEASED, EXPIRED,
// or a final capture).
func (s *Service) checkHolds(ctx context.Context) (int, error) {
	for _, q := range []string{`
		SELECT 'balance of ' || b.account_id || ' in ' || b.currency || ' holds ' || CAST(b.held AS TEXT) ||
		       ' but its active holds keep ' || CAST(COALESCE(h.rest, 0) AS TEXT)
		FROM balances b LEFT JOIN (
			SELECT account_id, currency, SUM(amount - captured) AS rest FROM holds WHERE status = 'ACTIVE'
			GROUP BY account_id, currency) h ON h.account_id = b.account_id AND h.currency = b.currency
		WHERE b.held <> COALESCE(h.rest, 0)
		UNION ALL
		SELECT 'active hold ' || h.id || ' has no balance row'
		FROM holds h LEFT JOIN balances b ON b.account_id = h.account_id AND b.currency = h.currency
		WHERE h.status = 'ACTIVE' AND b.id IS NULL`, `
		SELECT 'hold ' || id || ' captured ' || CAST(captured AS TEXT) || ' of ' || CAST(amount AS TEXT)
		FROM holds WHERE amount <= 0 OR captured < 0 OR captured > amount`, `
		SELECT 'hold ' || h.id || ' captured ' || CAST(h.captured AS TEXT) || ' but its captures sum to ' ||
		       CAST(COALESCE(-SUM(p.amount), 0) AS TEXT)
		FROM holds h LEFT JOIN postings p ON p.hold_id = h.id AND p.account_id IS NOT NULL
		GROUP BY h.id, h.captured HAVING h.captured <> COALESCE(-SUM(p.amount), 0)`, `
		SELECT 'transaction ' || p.id || ' captures hold ' || p.hold_id || ' ' ||
		       CASE WHEN h.id IS NULL THEN 'that does not exist'
		            WHEN p.created_at > h.updated_at AND h.status <> 'ACTIVE' THEN 'after it ended ' || h.status
		            ELSE 'of another account, currency or kind' END
		FROM postings p LEFT JOIN holds h ON h.id = p.hold_id
		WHERE p.hold_id IS NOT NULL AND p.account_id IS NOT NULL AND (h.id IS NULL
		   OR (p.created_at > h.updated_at AND h.status <> 'ACTIVE')
		   OR p.account_id <> h.account_id OR p.currency <> h.currency OR p.kind <> 'USAGE' OR p.amount >= 0)`,
	} {
		if err := s.firstViolation(ctx, q); err != nil {
			return 0, err
		}
	}
	return s.count(ctx, `SELECT COUNT(*) FROM holds`)
}

// HoldRemaining is what a hold still keeps aside: amount - captured while
// ACTIVE, else nothing.
func HoldRemaining(h *ent.Hold) int64 {
	if h.Status != hold.StatusACTIVE {
		return 0
	}
	return h.Amount - h.Captured
}

// HoldOf is the hold a capture was charged to, in the viewer's scope; nil
// for any other transaction.
func (s *Service) HoldOf(ctx context.Context, p *ent.Posting) (*ent.Hold, error) {
	if p.HoldID == nil {
		return nil, nil
	}
	h, err := s.db.Hold.Get(ctx, *p.HoldID)
	if ent.IsNotFound(err) {
		return nil, notFound("hold")
	}
	if err != nil {
		return nil, fmt.Errorf("loading hold: %w", err)
	}
	return h, nil
}
