package ledger

import "creditgate/gid"

// testHooks are set only by tests (through the domain's export_test.go).
type testHooks struct {
	// beforeCommit fails a transaction after all its writes and just
	// before COMMIT, to prove a failure there leaves no trace.
	beforeCommit func() error
	// commitLost fails a transaction after its COMMIT succeeded, as a
	// connection that drops before the answer arrives.
	commitLost func() error
	onBatch    func(size int)        // called as each batch of debits starts
	onBatchRun func(savepoints bool) // called as each run of a batch's work starts
}

// SetBeforeCommit injects a failure just before COMMIT (tests only).
func (l *Ledger) SetBeforeCommit(f func() error) { l.test.beforeCommit = f }

// SetCommitLost fails every transaction after its COMMIT succeeded, as a
// connection dropping before the answer (tests only).
func (l *Ledger) SetCommitLost(f func() error) { l.test.commitLost = f }

// SetOnBatch observes the size of each batch of debits as it starts (tests only).
func (l *Ledger) SetOnBatch(f func(size int)) { l.test.onBatch = f }

// SetOnBatchRun observes each run of a batch's work: whether it uses
// savepoints (tests only).
func (l *Ledger) SetOnBatchRun(f func(savepoints bool)) { l.test.onBatchRun = f }

// HoldDebits makes debits of acc (and of its lane) queue as if a
// transaction on the balance were running: waiting says how many are
// queued, release hands them on as one batch (tests only).
func (l *Ledger) HoldDebits(acc gid.ID) (waiting func() int, release func()) {
	hk := l.lane(acc)
	l.hotMu.Lock()
	q := l.queueOf(hk)
	q.busy = true
	l.hotMu.Unlock()
	waiting = func() int {
		l.hotMu.Lock()
		defer l.hotMu.Unlock()
		return len(q.pending)
	}
	return waiting, func() { l.lead(q, nil) }
}
