package ledger

import (
	"context"
	"errors"
	"fmt"
	"sync"

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
	// Scope, optional, is whose keys Key is among; "" is the viewer's own
	// (role, user, agency, account). Usage names the caller's agency: a
	// service's retries may come through another of its keys.
	Scope string
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
	// Gate, optional, lets a set-based batch run the statement the work
	// starts with once for all its requests naming the same gate (gate.go):
	// the work asks for its row with Tx.Gated.
	Gate *Gate
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
	k, err := l.newKey(ctx, m.Key, m.Op, m.Input, m.Scope)
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
		o, replay, err = l.debit(withGate(ctx, m.Gate), m.Debit, k, w)
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

// RunAll runs many mutations that each debit an account (Debit set) as
// Run would, one by one all-or-nothing, but queued on their accounts'
// lanes all at once and in the given order, so that they share
// transactions (up to a batch each) instead of paying a COMMIT apiece:
// what a batch of metered usage needs. Mutations of one account run in the
// given order. The answers and errors come back in the given order; Then is
// not supported.
func RunAll[A any](ctx context.Context, l *Ledger, ms []Mutation[A]) ([]A, []error) {
	answers, errs := make([]A, len(ms)), make([]error, len(ms))
	calls := make([]*debitCall, len(ms))
	byLane := map[int][]*debitCall{}
	var lanes []int
	for i, m := range ms {
		if m.Debit == "" {
			errs[i] = fmt.Errorf("ledger: RunAll: mutation %d debits no account", i)
			continue
		}
		k, err := l.newKey(ctx, m.Key, m.Op, m.Input, m.Scope)
		if err != nil {
			errs[i] = err
			continue
		}
		i, work := i, m.Work
		c := &debitCall{acc: m.Debit, ctx: ctx, key: k, done: make(chan struct{}),
			work: func(ctx context.Context, tx *Tx) (Outcome, error) {
				o, a, err := work(ctx, tx)
				answers[i] = a
				return o, err
			}}
		calls[i] = c
		lane := l.lane(m.Debit)
		if _, ok := byLane[lane]; !ok {
			lanes = append(lanes, lane)
		}
		byLane[lane] = append(byLane[lane], c)
	}
	var wg sync.WaitGroup
	for _, lane := range lanes {
		wg.Add(1)
		go func(lane int, cs []*debitCall) {
			defer wg.Done()
			l.debitAll(lane, cs)
		}(lane, byLane[lane])
	}
	wg.Wait()
	for i, c := range calls {
		if c == nil {
			continue
		}
		var r *replayed
		switch {
		case errors.As(c.err, &r):
			o, err := l.prior(ctx, c.key)
			if err == nil {
				answers[i], err = ms[i].Replay(ctx, o)
			}
			if err != nil {
				var zero A
				answers[i] = zero
			}
			errs[i] = err
		case c.err != nil:
			var zero A
			answers[i], errs[i] = zero, c.err
		}
	}
	return answers, errs
}

// debitAll queues calls on lane in their order and sees them all answered:
// it leads the first batch if the lane is idle, and every later batch that
// is handed to one of its calls (as debit does for one call).
func (l *Ledger) debitAll(lane int, calls []*debitCall) {
	l.hotMu.Lock()
	q := l.queueOf(lane)
	var first []*debitCall
	if !q.busy {
		q.busy = true
		n := min(len(calls), maxBatch)
		first = calls[:n]
		q.pending = append(q.pending, calls[n:]...)
	} else {
		q.pending = append(q.pending, calls...)
	}
	l.hotMu.Unlock()
	answered := 0
	if first != nil {
		l.lead(q, first) // answers first[1:]; first[0] is answered when it returns
		answered = len(first)
	}
	for _, c := range calls[answered:] {
		<-c.done
		if c.lead != nil {
			l.lead(q, c.lead)
		}
	}
}
