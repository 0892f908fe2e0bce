package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/graph/model"
)

// Small translations between the domain and the GraphQL models.

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func pageInfo[T any](p *credits.Page[T]) *model.PageInfo {
	pi := &model.PageInfo{HasNextPage: p.HasNext, HasPreviousPage: p.HasPrevious}
	if n := len(p.Cursors); n > 0 {
		pi.StartCursor, pi.EndCursor = &p.Cursors[0], &p.Cursors[n-1]
	}
	return pi
}

// cursorAt is the cursor of p's item i: "" when p has none because its
// reader said it writes none (credits.HistoryUse.NoCursors).
func cursorAt[T any](p *credits.Page[T], i int) string {
	if p.Cursors == nil {
		return ""
	}
	return p.Cursors[i]
}

func availability(a credits.Availability) *model.CreditAvailability {
	out := &model.CreditAvailability{Available: a.Available}
	if a.Reason != "" {
		reason := model.CreditUnavailableReason(a.Reason)
		out.Reason = &reason
	}
	return out
}

var roles = map[auth.Role]model.Role{
	auth.RoleClient:      model.RoleClient,
	auth.RoleClientOwner: model.RoleClientOwner,
	auth.RoleAgencyAdmin: model.RoleAgencyAdmin,
	auth.RoleSystemAdmin: model.RoleSystemAdmin,
	auth.RoleService:     model.RoleService,
}

func roleOf(r auth.Role) model.Role { return roles[r] }

// withAgency makes sure the account's agency is loaded (balances default to
// its currency) without a query when the parent already loaded it.
func (r *Resolver) withAgency(ctx context.Context, acc *ent.Account) (*ent.Account, error) {
	if acc.Edges.Agency != nil {
		return acc, nil
	}
	ag, err := acc.QueryAgency().Only(ctx)
	if err != nil {
		return nil, err
	}
	acc.Edges.Agency = ag
	return acc, nil
}

// serviceOffer answers for the account the enclosing services(accountId:)
// named, else for the viewer's own account, at the rate of variant (nil:
// the default rate).
func (r *Resolver) serviceOffer(ctx context.Context, svc *ent.Service, variant *string) (credits.ServiceOffer, error) {
	acc, err := r.offerAccount(ctx)
	if err != nil {
		return credits.ServiceOffer{}, err
	}
	return r.Credits.ServiceAvailabilityAt(ctx, svc, acc, variant)
}

// offerAccount is the account the enclosing services(accountId:) named,
// or nil for the viewer's own.
func (r *Resolver) offerAccount(ctx context.Context) (*ent.Account, error) {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Field.Field == nil || fc.Field.Name != "services" || fc.Object != "Query" {
			continue
		}
		if id, ok := fc.Args["accountId"].(*gid.ID); ok && id != nil {
			return r.Credits.Account(ctx, id)
		}
		break
	}
	return nil, nil
}

func review(rv *credits.Review, err error) (*model.CreditRequestPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CreditRequestPayload{Request: rv.Request, Balance: rv.Balance}, nil
}

func correction(c *credits.Correction, err error) (*model.CorrectionPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.CorrectionPayload{Transaction: c.Transaction, Balance: c.Balance, PoolBalance: c.PoolBalance,
		Payment: c.Payment, Invoice: c.Invoice}, nil
}

// Webhook event types travel as Standard Webhooks names ("balance.low"):
// the enum value lower-cased, its first underscore a dot.
func wireEvents(ts []model.WebhookEventType) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = strings.Replace(strings.ToLower(string(t)), "_", ".", 1)
	}
	return out
}

func eventTypeOf(wire string) model.WebhookEventType {
	return model.WebhookEventType(strings.ToUpper(strings.Replace(wire, ".", "_", 1)))
}

func webhookSecret(w *credits.WebhookSecret, err error) (*model.WebhookSecretPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.WebhookSecretPayload{Endpoint: w.Endpoint, Secret: w.Secret}, nil
}
