package graph

import (
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/graph/model"
)

// holdPayload is the answer of createHold, captureHold and releaseHold.
func holdPayload(r *credits.HoldResult, err error) (*model.HoldPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.HoldPayload{Hold: r.Hold, Transaction: r.Transaction, Balance: r.Balance}, nil
}

// holdConnection is a page of holds.
func holdConnection(p *credits.Page[*ent.Hold], err error) (*model.HoldConnection, error) {
	if err != nil {
		return nil, err
	}
	c := &model.HoldConnection{PageInfo: pageInfo(p), TotalCount: p.Total, Edges: make([]*model.HoldEdge, len(p.Items))}
	for i, n := range p.Items {
		c.Edges[i] = &model.HoldEdge{Cursor: p.Cursors[i], Node: n}
	}
	return c, nil
}
