package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/ent/posting"
	"creditgate/ledger"
)

// PostAll calls that arrive while the groups in flight run wait, and then
// go through ONE transaction together, each answered with its own
// debits; a group whose transaction fails (here one call's then) runs its
// calls again one by one, so that only that call fails.
func TestPostAllGroupsWaitingCalls(t *testing.T) {
	b := newBook(t, "postgres")
	if b.d.Dialect != "postgres" {
		t.Skip("set-based on PostgreSQL only")
	}
	ctx := auth.NewContext(context.Background(), &auth.Viewer{UserID: "u", Role: auth.RoleSystemAdmin})
	if _, err := b.spend(ctx, nil, 10_000_000, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	debit := func() []ledger.Debit {
		n++
		return []ledger.Debit{{Op: "use", Key: fmt.Sprintf("k%d", n), Scope: "test", Input: n, Entry: ledger.Entry{
			Kind: posting.KindUSAGE, Reference: "use", Currency: "USD", AgencyID: b.acc.AgencyID,
			Legs: []ledger.Leg{{Account: b.acc, Amount: -1_000}, {Book: ledger.Revenue, Amount: 1_000}}}}}
	}
	for _, failing := range []bool{false, true} {
		t.Run(fmt.Sprintf("failing %t", failing), func(t *testing.T) {
			release := make(chan struct{})
			var wg sync.WaitGroup
			// Two calls hold both groups in flight until released.
			for range 2 {
				ds := debit()
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := b.l.PostAll(ctx, ds, func(context.Context, *ledger.Tx, []ledger.DebitResult) error {
						<-release
						return nil
					})
					if res[0].Err != nil {
						t.Error(res[0].Err)
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			var mu sync.Mutex
			txs := map[*ledger.Tx][]int{}
			results := make([][]ledger.DebitResult, 3)
			for i := range results {
				ds := debit()
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = b.l.PostAll(ctx, ds, func(_ context.Context, tx *ledger.Tx, _ []ledger.DebitResult) error {
						mu.Lock()
						txs[tx] = append(txs[tx], i)
						mu.Unlock()
						if failing && i == 1 {
							return errors.New("this call's own failure")
						}
						return nil
					})
				}()
			}
			time.Sleep(100 * time.Millisecond) // all three wait
			close(release)
			wg.Wait()
			for i, res := range results {
				if failed := res[0].Err != nil; failed != (failing && i == 1) {
					t.Errorf("call %d: %v", i, res[0].Err)
				}
				if res[0].Err == nil && res[0].Posting == nil {
					t.Errorf("call %d: no posting", i)
				}
			}
			if failing {
				// The failing call ran in the group (whose then stopped at
				// it), then alone: twice; the others' debits still landed.
				runs := 0
				for _, calls := range txs {
					for _, c := range calls {
						if c == 1 {
							runs++
						}
					}
				}
				if runs != 2 {
					t.Errorf("the failing call ran %d times, want in its group then alone: %v", runs, txs)
				}
				return
			}
			grouped := false
			for _, calls := range txs {
				grouped = grouped || len(calls) == 3
			}
			if !grouped {
				t.Errorf("the waiting calls ran in %d transactions, not one together: %v", len(txs), txs)
			}
		})
	}
	// 10.00 funded; 5 + 4 debits of 0.001 written.
	if got := b.available(); got != 10_000_000-9*1_000 {
		t.Errorf("balance %d, want %d", got, 10_000_000-9*1_000)
	}
}
