package credits

import (
	"context"
	"fmt"
	"strings"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/creditrequest"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/ledger"
)

// Review is the answer to approveRequest and rejectRequest.
type Review struct {
	Request *ent.CreditRequest
	Balance *ent.Balance
}

// counterBook is where the credits of an approved request come from.
func counterBook(m creditrequest.Method) string {
	if m == creditrequest.MethodPOSTPAID {
		return ledger.Receivables
	}
	return ledger.Clearing + strings.ToLower(m.String())
}

// ApproveRequest accepts a PENDING request and credits the account in the
// same transaction. The status change is a conditional update, so of two
// admins approving at once exactly one wins; the other gets CONFLICT.
func (s *Service) ApproveRequest(ctx context.Context, id gid.ID) (*Review, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*Review]{
		Op: "approveRequest",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Review, error) {
			req, err := s.reviewable(ctx, tx.Tx, v, id)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			req, t, err := s.accept(ctx, tx, req, v.UserID)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "approveRequest", AgencyID: req.AgencyID, AccountID: req.AccountID, TargetID: req.ID,
				Summary: fmt.Sprintf("approved %s %s by %s", req.ID, fmtAmount(req.Amount, req.Currency), req.Method)}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: t.ID}, &Review{Request: req, Balance: balanceLeft(tx, t)}, nil
		},
	})
}

// accept turns a PENDING request ACCEPTED, reviewed by reviewer, and credits
// its account from the method's counter-book, in tx; its invoice turns PAID
// with it, except a post-paid one's (paid when the agency is). req's
// account must be loaded; the answer is the request as it now stands, with
// its transaction.
func (s *Service) accept(ctx context.Context, tx *ledger.Tx, req *ent.CreditRequest, reviewer string) (*ent.CreditRequest, *ent.Posting, error) {
	return s.acceptFrom(ctx, tx, req, reviewer, counterBook(req.Method), nil)
}

// acceptFrom is accept crediting from book; pay is the provider payment
// that paid the request's invoice (payInvoice), if one did.
func (s *Service) acceptFrom(ctx context.Context, tx *ledger.Tx, req *ent.CreditRequest, reviewer, book string, pay *gid.ID) (*ent.CreditRequest, *ent.Posting, error) {
	now := s.clock().UTC()
	n, err := tx.CreditRequest.Update().
		Where(creditrequest.ID(req.ID), creditrequest.StatusEQ(creditrequest.StatusPENDING)).
		SetStatus(creditrequest.StatusACCEPTED).SetReviewedAt(now).SetReviewedBy(reviewer).
		SetPaid(req.Method != creditrequest.MethodPOSTPAID).Save(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("accepting request: %w", err)
	}
	if n == 0 {
		return nil, nil, alreadyReviewed()
	}
	ref := req.Method.String()
	if req.Reference != nil {
		ref += " " + *req.Reference
	}
	e := ledger.Entry{
		Kind: posting.KindREQUEST_APPROVED, Reference: ref, Currency: req.Currency, AgencyID: req.AgencyID,
		Legs: []ledger.Leg{
			{Account: req.Edges.Account, Amount: req.Amount},
			{Book: book, Amount: -req.Amount},
		},
	}
	if pay != nil {
		e.PaymentID = *pay
	}
	ps, err := s.post(ctx, tx, e)
	if err != nil {
		return nil, nil, err
	}
	if err := tx.CreditRequest.Update().Where(creditrequest.ID(req.ID)).SetTransactionID(ps[0].ID).Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("linking request transaction: %w", err)
	}
	if req.Method != creditrequest.MethodPOSTPAID {
		if err := s.topupInvoicePaid(ctx, tx.Tx, req.ID, pay); err != nil {
			return nil, nil, err
		}
	}
	acc := req.Edges.Account
	if req, err = tx.CreditRequest.Get(ctx, req.ID); err != nil {
		return nil, nil, err
	}
	req.Edges.Account = acc
	tx.Announce(requestEvent(req))
	if err := s.emitRequest(ctx, tx.Tx, "request.reviewed", req); err != nil {
		return nil, nil, err
	}
	req = req.Unwrap()
	req.Edges.Transaction = ps[0]
	return req, ps[0], nil
}

// RejectRequest declines a PENDING request with a reason; nothing is credited.
func (s *Service) RejectRequest(ctx context.Context, id gid.ID, reason *string) (*Review, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	var why string
	if reason != nil {
		why = strings.TrimSpace(*reason)
		if len([]rune(why)) > 1000 {
			return nil, badInput("reason is longer than 1000 characters")
		}
	}
	return run(ctx, s, ledger.Mutation[*Review]{
		Op: "rejectRequest",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Review, error) {
			req, err := s.reviewable(ctx, tx.Tx, v, id)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			upd := tx.CreditRequest.Update().
				Where(creditrequest.ID(id), creditrequest.StatusEQ(creditrequest.StatusPENDING)).
				SetStatus(creditrequest.StatusREJECTED).SetReviewedAt(s.clock().UTC()).SetReviewedBy(v.UserID)
			if why != "" {
				upd.SetRejectionReason(why)
			}
			n, err := upd.Save(ctx)
			if err != nil {
				return ledger.Outcome{}, nil, fmt.Errorf("rejecting request: %w", err)
			}
			if n == 0 {
				return ledger.Outcome{}, nil, alreadyReviewed()
			}
			if err := s.topupInvoiceVoid(ctx, tx.Tx, id, why); err != nil {
				return ledger.Outcome{}, nil, err
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "rejectRequest", AgencyID: req.AgencyID, AccountID: req.AccountID, TargetID: id,
				Summary: fmt.Sprintf("rejected %s %s: %s", id, fmtAmount(req.Amount, req.Currency), why)}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			acc := req.Edges.Account
			if req, err = tx.CreditRequest.Get(ctx, id); err != nil {
				return ledger.Outcome{}, nil, err
			}
			req.Edges.Account = acc
			tx.Announce(requestEvent(req))
			if err := s.emitRequest(ctx, tx.Tx, "request.reviewed", req); err != nil {
				return ledger.Outcome{}, nil, err
			}
			// Nothing moved: no row of its own tells whether a COMMIT of
			// unknown outcome landed (the outcome is empty).
			return ledger.Outcome{}, &Review{Request: req.Unwrap()}, nil
		},
		Then: s.reviewBalance,
	})
}

// MarkRequestPaid settles an accepted post-paid request: the agency got its
// money, so the receivable is cleared and the request reads paid.
func (s *Service) MarkRequestPaid(ctx context.Context, id gid.ID) (*Review, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	return run(ctx, s, ledger.Mutation[*Review]{
		Op: "markRequestPaid",
		Work: func(ctx context.Context, tx *ledger.Tx) (ledger.Outcome, *Review, error) {
			req, err := s.requestInScope(ctx, tx.Tx, id)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			// What an agency owes the platform is settled by the platform.
			if req.Edges.Account.Kind == account.KindAGENCY && v.Role != auth.RoleSystemAdmin {
				return ledger.Outcome{}, nil, newErr(CodeForbidden, "an agency's own credit request is settled by the platform")
			}
			t, err := s.settlePostpaid(ctx, tx, req, ledger.Clearing+"postpaid", nil)
			if err != nil {
				return ledger.Outcome{}, nil, err
			}
			if t == nil {
				return ledger.Outcome{}, nil, newErr(CodeConflict, "only an accepted, unpaid post-paid request can be marked paid")
			}
			if err := s.audit(ctx, tx.Tx, Audit{Action: "markRequestPaid", AgencyID: req.AgencyID, AccountID: req.AccountID, TargetID: id,
				Summary: fmt.Sprintf("marked %s paid: %s", id, fmtAmount(req.Amount, req.Currency))}); err != nil {
				return ledger.Outcome{}, nil, err
			}
			return ledger.Outcome{Transaction: t.ID}, &Review{Request: req.Unwrap()}, nil
		},
		Then: s.reviewBalance,
	})
}

// reviewBalance completes a review's answer, once it has committed, with
// the balance of the request's account as it is now.
func (s *Service) reviewBalance(ctx context.Context, r *Review) (*Review, error) {
	bal, err := s.balanceIn(ctx, r.Request.Edges.Account, r.Request.Currency)
	if err != nil {
		return nil, err
	}
	r.Balance = bal
	return r, nil
}

func (s *Service) requestInScope(ctx context.Context, tx *ent.Tx, id gid.ID) (*ent.CreditRequest, error) {
	req, err := tx.CreditRequest.Query().Where(creditrequest.ID(id)).
		WithAccount(func(q *ent.AccountQuery) { q.WithAgency() }).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, notFound("credit request")
	}
	if err != nil {
		return nil, fmt.Errorf("loading credit request: %w", err)
	}
	return req, nil
}

// reviewable loads a request in the viewer's scope that v may review (see
// mayReview); one already reviewed is CONFLICT (the conditional update is
// what decides under a race).
func (s *Service) reviewable(ctx context.Context, tx *ent.Tx, v *auth.Viewer, id gid.ID) (*ent.CreditRequest, error) {
	req, err := s.requestInScope(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if err := mayReview(v, req); err != nil {
		return nil, err
	}
	if req.Status != creditrequest.StatusPENDING {
		return nil, alreadyReviewed()
	}
	return req, nil
}

func alreadyReviewed() *Error {
	return newErr(CodeConflict, "this request was already reviewed")
}

// balanceLeft is the balance a posting of tx left (available, held and
// total), without another query (ledger.Tx.BalanceAfter).
func balanceLeft(tx *ledger.Tx, p *ent.Posting) *ent.Balance {
	b := tx.BalanceAfter(p.ID)
	if b == nil { // not posted in tx: a bug, but an answer all the same
		b = &ent.Balance{AccountID: *p.AccountID, AgencyID: p.AgencyID, Currency: p.Currency,
			Available: *p.RunningBalance, Seq: *p.Seq, UpdatedAt: p.CreatedAt}
	}
	b.Edges.Account = p.Edges.Account
	return b
}
