package credits

import (
	"time"

	"creditgate/gid"
)

// SetBeforeCommit injects a failure just before COMMIT (tests only).
func (s *Service) SetBeforeCommit(f func() error) { s.ledger.SetBeforeCommit(f) }

// SetCommitLost fails every transaction after its COMMIT succeeded, as a
// connection dropping before the answer (tests only).
func (s *Service) SetCommitLost(f func() error) { s.ledger.SetCommitLost(f) }

// SetAfterCharge fails a purchase after its provider answered, before the
// answer is recorded: the process dying there (tests only).
func (s *Service) SetAfterCharge(f func(payment gid.ID) error) { s.afterCharge = f }

// SetSubscribed runs f in each balance subscription (WatchBalance,
// WatchAgencyBalances) once it has joined the broker, before it reads where
// the balances stand (tests only).
func (s *Service) SetSubscribed(f func()) { s.subscribed = f }

// SetClock moves the service's clock, the ledger's too (tests only).
func (s *Service) SetClock(now func() time.Time) { s.auto.Clock = now }

// SetOnBatch observes the size of each batch of debits as it starts.
func (s *Service) SetOnBatch(f func(size int)) { s.ledger.SetOnBatch(f) }

// SetOnBatchRun observes each run of a batch's work: whether it uses
// savepoints.
func (s *Service) SetOnBatchRun(f func(savepoints bool)) { s.ledger.SetOnBatchRun(f) }

// HoldDebits makes debits of acc (and of its lane) queue as if a transaction on the
// balance were running: waiting says how many are queued, release hands
// them on as one batch.
func (s *Service) HoldDebits(acc gid.ID) (waiting func() int, release func()) {
	return s.ledger.HoldDebits(acc)
}
