package graph

import (
	"context"

	"creditgate/ent"
	"creditgate/gid"
)

// agencyBalanceUpdated streams every balance change of an agency. It is
// served as balanceUpdated is (the socket's cap, the shared delivery pool,
// the token's expiry and revocation).
func (r *subscriptionResolver) agencyBalanceUpdated(ctx context.Context, agencyID *gid.ID) (<-chan *ent.Balance, error) {
	release, err := acquireSubscription(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := r.Credits.WatchAgencyBalances(ctx, agencyID, liveWake(ctx))
	return relay(ctx, ch, err, release)
}

// agencyUpdated streams an agency after each change of its settings.
func (r *subscriptionResolver) agencyUpdated(ctx context.Context, agencyID *gid.ID) (<-chan *ent.Agency, error) {
	release, err := acquireSubscription(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := r.Credits.WatchAgency(ctx, agencyID, liveWake(ctx))
	return relay(ctx, ch, err, release)
}
