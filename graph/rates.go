package graph

import (
	"context"
	"sync"

	"creditgate/credits"
	"creditgate/ent"
	"creditgate/graph/model"
	"creditgate/money"
)

// rateCard is Service.rates: the default rate first, then the variants by
// name. The rates share one lazy read of what the account can spend, so a
// card of any length costs one balance read for its estimatedUnitsLeft
// (and none when that is not asked for). The services list loads every
// card in one query (credits.Services); a lone service loads its own.
func (r *Resolver) rateCard(ctx context.Context, svc *ent.Service) ([]*model.ServiceRate, error) {
	card, err := r.Credits.RateCard(ctx, svc)
	if err != nil {
		return nil, err
	}
	var (
		once  sync.Once
		spend credits.Spendable
		fail  error
	)
	spendable := func(ctx context.Context) (credits.Spendable, error) {
		once.Do(func() {
			var acc *ent.Account
			if acc, fail = r.offerAccount(ctx); fail == nil {
				spend, fail = r.Credits.Spendable(ctx, svc, acc)
			}
		})
		return spend, fail
	}
	out := make([]*model.ServiceRate, len(card))
	for i, rate := range card {
		out[i] = &model.ServiceRate{
			Variant: rate.Variant,
			Price:   money.Format(rate.Price, svc.Currency),
			Units: func(ctx context.Context) (int, error) {
				sp, err := spendable(ctx)
				if err != nil {
					return 0, err
				}
				return sp.At(rate.Price).UnitsLeft, nil
			},
		}
	}
	return out, nil
}
