package credits

import (
	"context"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/agency"
	"creditgate/ent/balance"
	"creditgate/ent/creditpackage"
	"creditgate/ent/creditrequest"
	"creditgate/ent/intercept"
	"creditgate/ent/invoice"
	"creditgate/ent/payment"
	"creditgate/ent/posting"
	"creditgate/ent/service"
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
	client.Account.Intercept(intercept.TraverseAccount(func(ctx context.Context, q *ent.AccountQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(account.AgencyID(ag))
			if acc != "" {
				q.Where(account.ID(acc))
			}
		}
		return err
	}))
	client.Balance.Intercept(intercept.TraverseBalance(func(ctx context.Context, q *ent.BalanceQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(balance.AgencyID(ag))
			if acc != "" {
				q.Where(balance.AccountID(acc))
			}
		}
		return err
	}))
	client.Posting.Intercept(intercept.TraversePosting(func(ctx context.Context, q *ent.PostingQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(posting.AgencyID(ag))
			if acc != "" {
				q.Where(posting.AccountID(acc))
			}
		}
		return err
	}))
	client.CreditRequest.Intercept(intercept.TraverseCreditRequest(func(ctx context.Context, q *ent.CreditRequestQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(creditrequest.AgencyID(ag))
			if acc != "" {
				q.Where(creditrequest.AccountID(acc))
			}
		}
		return err
	}))
	client.Invoice.Intercept(intercept.TraverseInvoice(func(ctx context.Context, q *ent.InvoiceQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(invoice.AgencyID(ag))
			if acc != "" {
				q.Where(invoice.AccountID(acc))
			}
		}
		return err
	}))
	client.Payment.Intercept(intercept.TraversePayment(func(ctx context.Context, q *ent.PaymentQuery) error {
		ag, acc, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(payment.AgencyID(ag))
			if acc != "" {
				q.Where(payment.AccountID(acc))
			}
		}
		return err
	}))
	client.Service.Intercept(intercept.TraverseService(func(ctx context.Context, q *ent.ServiceQuery) error {
		ag, _, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(service.AgencyID(ag))
		}
		return err
	}))
	client.CreditPackage.Intercept(intercept.TraverseCreditPackage(func(ctx context.Context, q *ent.CreditPackageQuery) error {
		ag, _, all, err := scopeOf(ctx)
		if err == nil && !all {
			q.Where(creditpackage.AgencyID(ag))
		}
		return err
	}))
	// The journal and idempotency records are internal bookkeeping.
	client.Journal.Intercept(intercept.TraverseJournal(func(ctx context.Context, _ *ent.JournalQuery) error {
		return systemOnly(ctx)
	}))
	client.IdempotencyKey.Intercept(intercept.TraverseIdempotencyKey(func(ctx context.Context, _ *ent.IdempotencyKeyQuery) error {
		return systemOnly(ctx)
	}))
}

func systemOnly(ctx context.Context) error {
	if isSystem(ctx) {
		return nil
	}
	return notFound("object")
}
