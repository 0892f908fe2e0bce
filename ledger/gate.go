package ledger

import (
	"context"
	"fmt"
)

// Gates of set-based batches. A debit's work often starts with one
// conditional statement of its own before its Post: paying an invoice
// first turns it PAID (in a set-based batch the gate only locks it, and
// the ledger's statement turns it PAID with its link: Link.Also). Run
// request by request, a batch of such debits pays that statement's round
// trip once per request while the balance row
// is locked, which is most of what a hot account's batch waits on. A
// mutation that names its Gate lets the first request of a set-based batch
// reaching Tx.Gated run the statement once for every request of the batch
// that names the same gate, in one set-based statement; each request then
// takes its own row from what that statement returned.
//
// The statement's conditions stay each request's own (its gate value
// carries them), and it runs in the batch's transaction, so what it marks
// is kept only if the batch commits. A request whose row is missing runs
// its statement alone, which says why (and sends the batch request by
// request, as any failing request does). Every row marked must be taken by
// its own request before the batch writes: a request that replayed its key
// or gave up while queued never takes its row, and the batch then goes
// request by request (errUnusual), so nothing is marked without the work
// that belongs to it.

// Gate is what a mutation tells the other requests of its set-based batch.
type Gate struct {
	Name  string // requests share a gate's statement when they name the same gate
	Key   string // the row the request's statement concerns (an invoice id)
	Value any    // the statement's arguments for this request (ids, the viewer's scope)
}

type gateKey struct{}

func withGate(ctx context.Context, g *Gate) context.Context {
	if g == nil {
		return ctx
	}
	return context.WithValue(ctx, gateKey{}, g)
}

func gateOf(ctx context.Context) *Gate {
	g, _ := ctx.Value(gateKey{}).(*Gate)
	return g
}

// gateState is one gate's statement in one set-based batch: the rows it
// returned by key, until their requests take them.
type gateState struct {
	rows map[string]any
}

// Gated returns the row of key (the request's own Gate.Key) from the
// set-based statement of the gate named name: mark runs once per
// set-based batch, with the gate values of the batch's requests naming it
// (this one's included), and returns the rows it marked by key. ok is
// false outside a set-based batch, when this request is alone in naming
// the gate, or when mark did not return its row: the caller then runs its
// own statement.
func (tx *Tx) Gated(name, key string, mark func(values []any) (map[string]any, error)) (row any, ok bool, err error) {
	st := tx.set
	if st == nil {
		return nil, false, nil
	}
	gs := st.gates[name]
	if gs == nil {
		var values []any
		seen := map[string]bool{}
		for _, c := range st.calls {
			cg := gateOf(c.ctx)
			if cg == nil || cg.Name != name || c.ctx.Err() != nil {
				continue
			}
			if seen[cg.Key] {
				// Two requests of the batch for one row: neither is
				// marked here; each runs its own statement, in turn.
				values = nil
				break
			}
			seen[cg.Key] = true
			values = append(values, cg.Value)
		}
		gs = &gateState{}
		if st.gates == nil {
			st.gates = map[string]*gateState{}
		}
		st.gates[name] = gs
		if len(values) > 1 {
			rows, err := mark(values)
			if err != nil {
				return nil, false, fmt.Errorf("ledger: gate %s of a batch of %d: %w", name, len(values), err)
			}
			gs.rows = rows
		}
	}
	row, ok = gs.rows[key]
	if ok {
		delete(gs.rows, key) // taken: once
	}
	return row, ok, nil
}

// untakenGates reports whether a gate of st marked a row that no request
// took.
func (st *setBatch) untakenGates() bool {
	for _, gs := range st.gates {
		if len(gs.rows) > 0 {
			return true
		}
	}
	return false
}
