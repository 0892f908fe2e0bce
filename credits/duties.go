package credits

import (
	"context"
	"fmt"
	"sync"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/creditrequest"
	"creditgate/gid"
)

// Separation of duties lives here: who may buy credits for an account, who
// may review a credit request, and who may charge a saved card. Each rule is
// written once and answered both in advance (Account.canBuyCredits) and by
// the mutation that it guards.
//
//	buying:    owners of the account (not while their agency has turned credit
//	           payments off), agency admins (pool included), system admins;
//	           plain client users never.
//	a card:    charged only on its owner's instruction (or a system admin's,
//	           acting as support); agency admins read cards and rules.
//	reviewing: never by the request's submitter; a pool's request is the
//	           agency asking the platform for credit, so only a system admin
//	           reviews (and settles) it.

// ReasonRoleNotAllowed is an availability reason, not an error code: the
// viewer's role may not do this here. The mutation answers FORBIDDEN.
const ReasonRoleNotAllowed Code = "ROLE_NOT_ALLOWED"

// buyGate is the one rule for buyCredits: "" when v may buy credits for acc
// now (withCard: by charging one of its saved cards), else the reason.
// acc's agency must be loaded.
func buyGate(v *auth.Viewer, acc *ent.Account, withCard bool) Code {
	switch v.Role {
	case auth.RoleClientOwner:
		if !acc.Edges.Agency.CreditPaymentsEnabled {
			return CodeCreditPaymentsDisabled
		}
		return ""
	case auth.RoleAgencyAdmin:
		if withCard {
			return ReasonRoleNotAllowed
		}
		return ""
	case auth.RoleSystemAdmin:
		return ""
	default:
		return ReasonRoleNotAllowed
	}
}

// mayBuy is buyGate as the mutation's error.
func mayBuy(v *auth.Viewer, acc *ent.Account, withCard bool) error {
	switch code := buyGate(v, acc, withCard); code {
	case "":
		return nil
	case ReasonRoleNotAllowed:
		if withCard {
			return newErr(CodeForbidden, "a saved card is charged only on its owner's instruction")
		}
		return forbidden()
	default:
		return unavailable(code)
	}
}

// CanBuyCredits says whether the viewer may buy credits for acc now, and why
// not: what the portal shows "Buy credits" from.
func (s *Service) CanBuyCredits(ctx context.Context, acc *ent.Account) (Availability, error) {
	v, err := viewerOf(ctx)
	if err != nil {
		return Availability{}, err
	}
	if acc.Edges.Agency == nil {
		ag, err := s.db.Agency.Query().Where(agency.ID(acc.AgencyID)).Only(ctx)
		if err != nil {
			return Availability{}, fmt.Errorf("loading agency: %w", err)
		}
		acc.Edges.Agency = ag
	}
	if code := buyGate(v, acc, false); code != "" {
		return Availability{Reason: code}, nil
	}
	return Availability{Available: true}, nil
}

// mayReview refuses a review the viewer may not make: their own request, or
// a pool's request unless they are a system admin. req's account must be
// loaded.
func mayReview(v *auth.Viewer, req *ent.CreditRequest) error {
	if req.RequestedBy == v.UserID {
		return newErr(CodeForbidden, "nobody reviews a credit request they submitted")
	}
	if req.Edges.Account.Kind == account.KindAGENCY && v.Role != auth.RoleSystemAdmin {
		return newErr(CodeForbidden, "an agency's own credit request is reviewed by the platform")
	}
	return nil
}

// acceptsAtOnce says whether a manual purchase is accepted as it is made: an
// agency admin's POSTPAID purchase for one of its client accounts is the
// agency extending its own credit line, with nobody above it to ask.
func acceptsAtOnce(v *auth.Viewer, acc *ent.Account, m creditrequest.Method) bool {
	return v.Role == auth.RoleAgencyAdmin && m == creditrequest.MethodPOSTPAID && acc.Kind == account.KindCLIENT
}

// Admission checks what a token's signature cannot: that a client token's
// account_id names a client account of its agency_id (not the agency's pool,
// not another agency's account). Accounts never change agency or kind, so a
// positive answer is remembered for the life of the process.
type Admission struct {
	db   *ent.Client
	seen sync.Map // "agency/account" of admitted client accounts
}

// Admission returns the check to install on the token verifier.
func (s *Service) Admission() *Admission { return &Admission{db: s.db} }

// Admit answers nil when the viewer may act, else why not.
func (a *Admission) Admit(ctx context.Context, v *auth.Viewer) error {
	if !v.IsClient() {
		return nil
	}
	key := v.AgencyID + "/" + v.AccountID
	if _, ok := a.seen.Load(key); ok {
		return nil
	}
	n, err := a.db.Account.Query().Where(account.ID(gid.ID(v.AccountID)),
		account.AgencyID(gid.ID(v.AgencyID)), account.KindEQ(account.KindCLIENT)).Count(System(ctx))
	if err != nil {
		return fmt.Errorf("checking the token's account: %w", err)
	}
	if n == 0 {
		return auth.Refuse("account_id must name a client account of the token's agency")
	}
	a.seen.Store(key, struct{}{})
	return nil
}
