package graph

import (
	"context"
	"errors"

	"creditgate/ent"
	"creditgate/gid"
)

// agencyBalanceUpdated streams every balance change of an agency.
func (r *subscriptionResolver) agencyBalanceUpdated(ctx context.Context, agencyID *gid.ID) (<-chan *ent.Balance, error) {
	return nil, errors.New("agencyBalanceUpdated is not built yet")
}

// agencyUpdated streams an agency after each change of its settings.
func (r *subscriptionResolver) agencyUpdated(ctx context.Context, agencyID *gid.ID) (<-chan *ent.Agency, error) {
	return nil, errors.New("agencyUpdated is not built yet")
}
