package credits

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/alertrule"
	"creditgate/ent/balance"
	"creditgate/ent/card"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/intercept"
	"creditgate/ent/invoice"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/ent/service"
	"creditgate/ent/topuprule"
	"creditgate/gid"
)

// Tenant scope lives here and only here: these interceptors are installed on
// the ent client, so every read of every entity (lists, node(id:), edges)
// is narrowed to what the viewer may see, whichever code path issues it. A
// resolver cannot forget it, because it never gets an unscoped client.
//
//	client roles:  their own account (services and packages: their agency's)
//	agency_admin:  everything of their agency
//	system_admin:  everything
//
// Internal work (the ledger, verification, demo data) runs under System.

type systemKey struct{}

// System marks ctx as the gateway's own work, outside any viewer's scope.
func System(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

func isSystem(ctx context.Context) bool {
	b, _ := ctx.Value(systemKey{}).(bool)
	return b
}

// scopeOf answers (agencyID, accountID, all). all is true for the system and
// system admins; accountID is set for client roles.
func scopeOf(ctx context.Context) (gid.ID, gid.ID, bool, error) {
	if isSystem(ctx) {
		return "", "", true, nil
	}
	v, ok := auth.FromContext(ctx)
	if !ok {
		return "", "", false, newErr(CodeUnauthenticated, "missing bearer token")
	}
	switch {
	case v.Role == auth.RoleSystemAdmin:
		return "", "", true, nil
	case v.IsClient():
		return gid.ID(v.AgencyID), gid.ID(v.AccountID), false, nil
	default:
		return gid.ID(v.AgencyID), "", false, nil
	}
}

// InstallScope installs the scope filters on every entity of client.
func InstallScope(client *ent.Client) {
	client.Agency.Intercept(intercept.TraverseAgency(func(ctx context.Context, q *ent.AgencyQuery) error {
		ag, _, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(agency.ID(ag))
		}
		return err
	}))
	client.Account.Intercept(intercept.TraverseAccount(ofTenant[*ent.AccountQuery](account.AgencyID, account.ID)))
	client.Balance.Intercept(intercept.TraverseBalance(ofTenant[*ent.BalanceQuery](balance.AgencyID, balance.AccountID)))
	client.Posting.Intercept(intercept.TraversePosting(ofTenant[*ent.PostingQuery](posting.AgencyID, posting.AccountID)))
	client.CreditRequest.Intercept(intercept.TraverseCreditRequest(ofTenant[*ent.CreditRequestQuery](creditrequest.AgencyID, creditrequest.AccountID)))
	client.Invoice.Intercept(intercept.TraverseInvoice(ofTenant[*ent.InvoiceQuery](invoice.AgencyID, invoice.AccountID)))
	client.Payment.Intercept(intercept.TraversePayment(ofTenant[*ent.PaymentQuery](payment.AgencyID, payment.AccountID)))
	client.Card.Intercept(intercept.TraverseCard(ofTenant[*ent.CardQuery](card.AgencyID, card.AccountID)))
	client.TopUpRule.Intercept(intercept.TraverseTopUpRule(ofTenant[*ent.TopUpRuleQuery](topuprule.AgencyID, topuprule.AccountID)))
	client.AlertRule.Intercept(intercept.TraverseAlertRule(ofTenant[*ent.AlertRuleQuery](alertrule.AgencyID, alertrule.AccountID)))
	// Services and packages are the agency's catalogue: every client sees it.
	client.Service.Intercept(intercept.TraverseService(ofAgency[*ent.ServiceQuery](service.AgencyID)))
	client.CreditPackage.Intercept(intercept.TraverseCreditPackage(ofAgency[*ent.CreditPackageQuery](creditpackage.AgencyID)))
	// The journal, idempotency records and jobs are internal bookkeeping.
	client.Journal.Intercept(intercept.TraverseJournal(func(ctx context.Context, _ *ent.JournalQuery) error {
		return systemOnly(ctx)
	}))
	client.IdempotencyKey.Intercept(intercept.TraverseIdempotencyKey(func(ctx context.Context, _ *ent.IdempotencyKeyQuery) error {
		return systemOnly(ctx)
	}))
	client.Job.Intercept(intercept.TraverseJob(func(ctx context.Context, _ *ent.JobQuery) error {
		return systemOnly(ctx)
	}))
}

// ofTenant narrows an entity owned by an account of an agency: an agency
// admin sees their agency's, a client only their own account's.
func ofTenant[Q interface{ Where(...P) Q }, P ~func(*sql.Selector)](agencyIs, accountIs func(gid.ID) P) func(context.Context, Q) error {
	return func(ctx context.Context, q Q) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(agencyIs(ag))
			if acc != "" {
				q.Where(accountIs(acc))
			}
		}
		return err
	}
}

// ofAgency narrows an entity every account of the agency may see.
func ofAgency[Q interface{ Where(...P) Q }, P ~func(*sql.Selector)](agencyIs func(gid.ID) P) func(context.Context, Q) error {
	return func(ctx context.Context, q Q) error {
		ag, _, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(agencyIs(ag))
		}
		return err
	}
}

func systemOnly(ctx context.Context) error {
	if isSystem(ctx) {
		return nil
	}
	return notFound("object")
}
