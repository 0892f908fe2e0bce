package credits

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/job"
	"creditgate/gid"
	"creditgate/ledger"
)

// Jobs are rows queued in the same transaction as the change that calls for
// them, so none is lost to a crash, and claimed by any gateway instance:
// PostgreSQL hands each due job to one worker with FOR UPDATE SKIP LOCKED;
// SQLite has one writer at a time anyway. A unique index allows one job of a
// kind per balance in flight, which is what keeps two top-ups of one balance
// from ever running together.

// queueTriggered queues what a balance movement calls for, from the triggers
// the balance row returned with the movement (ledger.Moved): a debit ending
// below the auto top-up threshold queues a top-up; crossing the alert
// threshold downwards queues the alert, upwards (while alerted) the recovery.
// It is the ledger's Moved hook: it runs in the movement's transaction.
func (s *Service) queueTriggered(ctx context.Context, tx *ledger.Tx, acc *ent.Account, cur string, amount int64, m ledger.Moved) error {
	now := s.clock()
	if amount < 0 && m.Balance <= 0 && m.Balance-amount > 0 {
		// The debit that emptied it (only a debit from above zero: a
		// balance at zero that stays there is not depleted again).
		if err := s.emitBalance(ctx, tx.Tx, "balance.depleted", acc.AgencyID, acc.ID, cur, m.Balance, nil); err != nil {
			return err
		}
	}
	if amount < 0 && m.TopupBelow.Valid && m.Balance < m.TopupBelow.Int64 {
		if err := s.queueJob(ctx, tx.Tx, job.KindTOPUP, acc, cur, now, false); err != nil {
			return err
		}
	}
	if !m.AlertBelow.Valid {
		return nil
	}
	switch low := m.Balance < m.AlertBelow.Int64; {
	case low && !m.AlertLow:
		return s.queueJob(ctx, tx.Tx, job.KindALERT, acc, cur, now, false)
	case !low && m.AlertLow:
		// A daily reminder may be waiting for tomorrow: bring it forward so
		// the alert shows RECOVERED now.
		return s.queueJob(ctx, tx.Tx, job.KindALERT, acc, cur, now, true)
	}
	return nil
}

// queueJob inserts a job unless one of its kind is already in flight for the
// balance; with sooner, a waiting one is brought forward to runAt instead.
func (s *Service) queueJob(ctx context.Context, tx *ent.Tx, kind job.Kind, acc *ent.Account, cur string, runAt time.Time, sooner bool) error {
	q := `INSERT INTO jobs (id, kind, agency_id, account_id, currency, status, run_at, attempts, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'QUEUED', ?, 0, ?, ?) `
	if sooner {
		q += `ON CONFLICT (kind, account_id, currency) WHERE status IN ('QUEUED', 'RUNNING')
			DO UPDATE SET run_at = excluded.run_at WHERE jobs.status = 'QUEUED' AND jobs.run_at > excluded.run_at`
	} else {
		q += `ON CONFLICT DO NOTHING`
	}
	now := s.clock().UTC()
	if _, err := tx.ExecContext(ctx, s.rebind(q), gid.New(gid.Job), kind.String(), acc.AgencyID, acc.ID, cur, runAt.UTC(), now, now); err != nil {
		return fmt.Errorf("queueing %s job: %w", kind, err)
	}
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.wakeWorkers()
			}
			return err
		})
	})
	return nil
}

// wakeWorkers tells this instance's workers a job is due now; other
// instances find it when they next poll.
func (s *Service) wakeWorkers() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// RunWorker claims and runs due jobs until ctx ends, polling every poll and
// waking at once when this instance queues a job. Any number of workers, in
// any number of instances, may run side by side.
func (s *Service) RunWorker(ctx context.Context, name string, poll time.Duration) {
	for {
		n, err := s.RunDueJobs(ctx, name)
		if err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "job worker", "worker", name, "error", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-time.After(poll):
		}
	}
}

// RunDueJobs runs jobs until none is due and returns how many it ran. A job
// that fails is rescheduled with a back-off; the error of the last failure
// is returned after the others have run.
func (s *Service) RunDueJobs(ctx context.Context, worker string) (int, error) {
	ctx = System(ctx)
	var (
		n       int
		lastErr error
	)
	for ctx.Err() == nil {
		j, err := s.claimJob(ctx, worker)
		if err != nil {
			return n, err
		}
		if j == nil {
			break
		}
		n++
		if err := s.runJob(ctx, j, worker); err != nil {
			lastErr = err
		}
	}
	// Stale instant payments are claimed and reconciled like jobs
	// (reconcile.go); they do not count as jobs run.
	if _, err := s.reconcileStale(ctx); err != nil {
		lastErr = errors.Join(lastErr, err)
	}
	// Expired holds are released, each claimed like a job (holds.go);
	// every poll, so within a poll interval of their expiry.
	if _, err := s.ExpireHolds(ctx); err != nil {
		lastErr = errors.Join(lastErr, err)
	}
	// The outbox: events become deliveries, due deliveries are sent
	// (outbox.go); likewise not counted.
	if err := s.runWebhooks(ctx); err != nil {
		lastErr = errors.Join(lastErr, err)
	}
	return n, lastErr
}

// claimJob takes the next due job (or one whose worker's lease ran out: it
// crashed), or answers nil.
func (s *Service) claimJob(ctx context.Context, worker string) (*ent.Job, error) {
	now := s.clock().UTC()
	pick := `SELECT id FROM jobs
		WHERE (status = 'QUEUED' AND run_at <= ?) OR (status = 'RUNNING' AND locked_until < ?)
		ORDER BY run_at LIMIT 1`
	if s.dialect == dialect.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	q := `UPDATE jobs SET status = 'RUNNING', attempts = attempts + 1, locked_by = ?, locked_until = ?, updated_at = ?
		WHERE id = (` + pick + `) RETURNING id`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), worker, now.Add(s.auto.JobLease), now, now, now)
	if err != nil {
		return nil, fmt.Errorf("claiming a job: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var id gid.ID
	if err := rows.Scan(&id); err != nil {
		return nil, fmt.Errorf("claiming a job: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return s.db.Job.Get(ctx, id)
}

// jobResult is what a job asks for when it ends: done, or run again at.
type jobResult struct {
	done    bool
	runAt   time.Time
	outcome string
	// clearPayment forgets the job's payment: the next attempt is a new
	// charge (after a decline), not a retry of the same one.
	clearPayment bool
}

func done(outcome string) jobResult { return jobResult{done: true, outcome: outcome} }

func (s *Service) runJob(ctx context.Context, j *ent.Job, worker string) error {
	var (
		res jobResult
		err error
	)
	switch j.Kind {
	case job.KindTOPUP:
		res, err = s.runTopUp(ctx, j)
	case job.KindALERT:
		res, err = s.runAlert(ctx, j)
	case job.KindINVOICE_MAIL:
		res, err = s.runInvoiceMail(ctx, j)
	default:
		res = done("unknown job kind")
	}
	if err != nil {
		// Unknown outcome (provider or mail server unreachable, database
		// error): try again later, keeping the payment so a retried charge
		// reuses its idempotency key.
		backoff := min(time.Minute<<min(j.Attempts, 6), time.Hour)
		res = jobResult{runAt: s.clock().Add(backoff), outcome: "error: " + err.Error()}
		s.log.WarnContext(ctx, "job failed; retrying", "job", j.ID, "kind", j.Kind, "attempt", j.Attempts, "retry_in_ms", backoff.Milliseconds(), "error", err)
	}
	if next := s.clock().Add(time.Second); !res.done && res.runAt.Before(next) {
		// Never straight back into the queue: a job that keeps asking to run
		// now must not spin a worker.
		res.runAt = next
	}
	upd := s.db.Job.Update().Where(job.ID(j.ID), job.StatusEQ(job.StatusRUNNING), job.LockedBy(worker)).
		SetOutcome(truncate(res.outcome, 500)).ClearLockedUntil().ClearLockedBy()
	if res.done {
		upd.SetStatus(job.StatusDONE)
	} else {
		upd.SetStatus(job.StatusQUEUED).SetRunAt(res.runAt.UTC())
		if res.clearPayment {
			upd.ClearPaymentID().SetAttempts(0)
		}
	}
	n, uerr := upd.Save(ctx)
	if uerr != nil {
		return errors.Join(err, fmt.Errorf("finishing job %s: %w", j.ID, uerr))
	}
	if n == 0 {
		// Our lease ran out and another worker took the job over; its
		// charge reuses the same payment (idempotency key), so nothing is
		// charged twice.
		s.log.WarnContext(ctx, "job taken over by another worker", "job", j.ID)
	}
	return err
}

// clock is the time jobs and rules are judged by, in microseconds: what
// PostgreSQL keeps. A finer time compared in Go with one rounded by the
// database would disagree about whether a back-off has ended.
func (s *Service) clock() time.Time {
	now := time.Now
	if s.auto.Clock != nil {
		now = s.auto.Clock
	}
	return now().Truncate(time.Microsecond)
}

func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
