package ledger

import (
	"context"

	"creditgate/gid"
)

// Mutation describes one money mutation for Run, the one path every money
// mutation takes: what fingerprints it, where it runs, what it does and how
// its answer is rebuilt. A is the mutation's answer.
type Mutation[A any] struct {
	// Op and Input fingerprint the mutation under Key, the client's
	// idempotency key (nil: none, and the mutation is never replayed). A
	// key used again with another input is CONFLICT.
	Op    string
	Key   *string
	Input any
	// Debit, when set, is the account the work debits: the mutation is
	// queued on its lane and may share a transaction with concurrent debits
	// (group.go). Otherwise it runs in a transaction of its own.
	Debit gid.ID
	// Work runs inside the transaction (in a batch: possibly more than
	// once, and the last run counts) and moves money through Post. It
	// returns the ids to store under the key (they also find its rows after
	// a COMMIT of unknown outcome) and the answer, built from the values in
	// hand: it is answered once the work has committed.
	Work func(ctx context.Context, tx *Tx) (Outcome, A, error)
	// Replay rebuilds the answer from the outcome stored under the key by
	// an earlier run; needed only with a Key.
	Replay func(ctx context.Context, o Outcome) (A, error)
	// Then, optional, continues a first run once its work has committed
	// (never a replay): a provider's charge after its payment is recorded.
	Then func(ctx context.Context, a A) (A, error)
}

// Run is the one path of a money mutation: it validates and claims the
// idempotency key in the mutation's transaction, runs the work (grouped on
// the debited account's lane, or alone), records the outcome under the
// key, and commits; a key used before answers Replay instead, with nothing
// done. A COMMIT of unknown outcome is looked into: if the work's rows are
// there it committed, and the answer is Work's. The movements the work
// posted are announced with the COMMIT and reported to Hooks.Money after
// it, never on a replay or a rollback.
func Run[A any](ctx context.Context, l *Ledger, m Mutation[A]) (A, error) {
	var zero, answer A
	k, err := l.newKey(ctx, m.Key, m.Op, m.Input)
	if err != nil {
		return zero, err
	}
	w := func(ctx context.Context, tx *Tx) (Outcome, error) {
		o, a, err := m.Work(ctx, tx)
		answer = a
		return o, err
	}
	var (
		o      Outcome
		replay bool
	)
	if m.Debit != "" {
		o, replay, err = l.debit(ctx, m.Debit, k, w)
	} else {
		o, replay, err = l.once(ctx, k, w)
	}
	switch {
	case err != nil:
		return zero, err
	case replay:
		return m.Replay(ctx, o)
	case m.Then != nil:
		return m.Then(ctx, answer)
	}
	return answer, nil
}
