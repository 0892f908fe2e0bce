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
)

// Review is the answer to approveRequest and rejectRequest.
type Review struct {
	Request *ent.CreditRequest
	Balance *ent.Balance
}

// counterBook is where the credits of an approved request come from.
func counterBook(m creditrequest.Method) string {
	if m == creditrequest.MethodPOSTPAID {
		return bookReceivables
	}
	return bookClearing + strings.ToLower(m.String())
}

// ApproveRequest accepts a PENDING request and credits the account in the
// same transaction. The status change is a conditional update, so of two
// admins approving at once exactly one wins; the other gets CONFLICT.
func (s *Service) ApproveRequest(ctx context.Context, id gid.ID) (*Review, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	var (
		req *ent.CreditRequest
		tr  *ent.Posting
	)
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if req, err = s.reviewable(ctx, tx, v, id); err != nil {
			return err
		}
		req, tr, err = s.accept(ctx, tx, req, v.UserID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Review{Request: req, Balance: balanceAfter(tr)}, nil
}

// accept turns a PENDING request ACCEPTED, reviewed by reviewer, and credits
// its account from the method's counter-book, in tx. req's account must be
// loaded; the answer is the request as it now stands, with its transaction.
func (s *Service) accept(ctx context.Context, tx *ent.Tx, req *ent.CreditRequest, reviewer string) (*ent.CreditRequest, *ent.Posting, error) {
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
	ps, err := s.post(ctx, tx, entry{
		kind: posting.KindREQUEST_APPROVED, reference: ref, currency: req.Currency, agencyID: req.AgencyID,
		legs: []leg{
			{account: req.Edges.Account, amount: req.Amount},
			{book: counterBook(req.Method), amount: -req.Amount},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	if err := tx.CreditRequest.Update().Where(creditrequest.ID(req.ID)).SetTransactionID(ps[0].ID).Exec(ctx); err != nil {
		return nil, nil, fmt.Errorf("linking request transaction: %w", err)
	}
	acc := req.Edges.Account
	if req, err = tx.CreditRequest.Get(ctx, req.ID); err != nil {
		return nil, nil, err
	}
	req.Edges.Account = acc
	s.announce(ctx, tx, requestEvent(req))
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
	var req *ent.CreditRequest
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		if req, err = s.reviewable(ctx, tx, v, id); err != nil {
			return err
		}
		upd := tx.CreditRequest.Update().
			Where(creditrequest.ID(id), creditrequest.StatusEQ(creditrequest.StatusPENDING)).
			SetStatus(creditrequest.StatusREJECTED).SetReviewedAt(s.clock().UTC()).SetReviewedBy(v.UserID)
		if why != "" {
			upd.SetRejectionReason(why)
		}
		n, err := upd.Save(ctx)
		if err != nil {
			return fmt.Errorf("rejecting request: %w", err)
		}
		if n == 0 {
			return alreadyReviewed()
		}
		acc := req.Edges.Account
		req, err = tx.CreditRequest.Get(ctx, id)
		if err != nil {
			return err
		}
		req.Edges.Account = acc
		s.announce(ctx, tx, requestEvent(req))
		return nil
	})
	if err != nil {
		return nil, err
	}
	req = req.Unwrap()
	bal, err := s.balanceIn(ctx, req.Edges.Account, req.Currency)
	if err != nil {
		return nil, err
	}
	return &Review{Request: req, Balance: bal}, nil
}

// MarkRequestPaid settles an accepted post-paid request: the agency got its
// money, so the receivable is cleared and the request reads paid.
func (s *Service) MarkRequestPaid(ctx context.Context, id gid.ID) (*Review, error) {
	v, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin)
	if err != nil {
		return nil, err
	}
	var req *ent.CreditRequest
	err = s.inTx(ctx, func(tx *ent.Tx) error {
		var err error
		if req, err = s.requestInScope(ctx, tx, id); err != nil {
			return err
		}
		// What an agency owes the platform is settled by the platform.
		if req.Edges.Account.Kind == account.KindAGENCY && v.Role != auth.RoleSystemAdmin {
			return newErr(CodeForbidden, "an agency's own credit request is settled by the platform")
		}
		n, err := tx.CreditRequest.Update().Where(
			creditrequest.ID(id), creditrequest.StatusEQ(creditrequest.StatusACCEPTED),
			creditrequest.MethodEQ(creditrequest.MethodPOSTPAID), creditrequest.Paid(false),
		).SetPaid(true).Save(ctx)
		if err != nil {
			return fmt.Errorf("settling request: %w", err)
		}
		if n == 0 {
			return newErr(CodeConflict, "only an accepted, unpaid post-paid request can be marked paid")
		}
		_, err = s.post(ctx, tx, entry{
			kind: posting.KindSETTLEMENT, reference: "settled " + string(id), currency: req.Currency, agencyID: req.AgencyID,
			legs: []leg{
				{book: bookReceivables, amount: req.Amount},
				{book: bookClearing + "postpaid", amount: -req.Amount},
			},
		})
		req.Paid = true
		s.announce(ctx, tx, requestEvent(req))
		return err
	})
	if err != nil {
		return nil, err
	}
	req = req.Unwrap()
	bal, err := s.balanceIn(ctx, req.Edges.Account, req.Currency)
	if err != nil {
		return nil, err
	}
	return &Review{Request: req, Balance: bal}, nil
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

// balanceAfter is the balance a posting left, without another query.
func balanceAfter(p *ent.Posting) *ent.Balance {
	return &ent.Balance{
		AccountID: *p.AccountID, AgencyID: p.AgencyID, Currency: p.Currency,
		Available: *p.RunningBalance, Seq: *p.Seq, UpdatedAt: p.CreatedAt,
		Edges: ent.BalanceEdges{Account: p.Edges.Account},
	}
}
