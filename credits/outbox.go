package credits

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"

	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/ent/webhookdelivery"
	"creditgate/ent/webhookendpoint"
	"creditgate/ent/webhookevent"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/webhook"
)

// The outbox. emit writes an event in the transaction of the change it
// tells of, so a crash neither loses nor invents one. Any instance's job
// workers then dispatch it (one delivery per enabled endpoint that wants
// it, made once by the unique (event, endpoint)) and send the deliveries,
// each claimed like a job (FOR UPDATE SKIP LOCKED on PostgreSQL, with a
// lease a crashed worker's claim lapses from), outside any transaction:
// at least once, retried with exponential back-off and full jitter for 3
// days, then FAILED and the endpoint disabled with an email to the agency.

const (
	webhookRetryFor   = 72 * time.Hour
	webhookFirstRetry = 5 * time.Second
	webhookMaxRetry   = time.Hour
	// webhookLease outlasts one attempt (webhook.Timeout) by far: a claim
	// older than this belongs to a worker that died.
	webhookLease = webhook.Timeout + 50*time.Second
	// webhookBatch deliveries are sent side by side per worker round, so a
	// slow endpoint holds up neither the others nor the worker's jobs for
	// longer than one timeout.
	webhookBatch = 8
	// webhookCacheAge bounds how stale the endpoints cache may be.
	webhookCacheAge = 5 * time.Second
)

// Event is what emit records: the type's wire name, whose it is, and the
// body's data (ids, amounts as decimal strings with their currency).
type Event struct {
	Type      string
	AgencyID  gid.ID
	AccountID gid.ID
	Data      map[string]any
}

// webhookState is the service's webhook machinery.
type webhookState struct {
	sender atomic.Pointer[webhook.Sender]
	cache  endpointCache
	// afterClaim, set by tests, runs after a delivery is claimed; an error
	// abandons the claim there, as a worker that died would.
	afterClaim func(d *ent.WebhookDelivery) error
}

func (s *Service) hooks() *webhookState { return &s.webhooks }

func (w *webhookState) guard() webhook.Guard { return w.send().Guard() }

func (w *webhookState) send() *webhook.Sender {
	if sn := w.sender.Load(); sn != nil {
		return sn
	}
	w.sender.CompareAndSwap(nil, webhook.NewSender(webhook.Guard{}))
	return w.sender.Load()
}

// emit records e in tx when an enabled endpoint may want it.
func (s *Service) emit(ctx context.Context, tx *ent.Tx, e Event) error {
	if !s.wanted(e.AgencyID, e.Type) {
		return nil
	}
	return s.emitWanted(ctx, tx, e)
}

// wanted tells whether an enabled endpoint may want events of type typ of
// the agency: a caller whose event's data costs something to build asks
// first, then calls emitWanted.
func (s *Service) wanted(agency gid.ID, typ string) bool {
	return s.hooks().cache.wants(s, agency, typ)
}

// emitWanted is emit for an event already found wanted.
func (s *Service) emitWanted(ctx context.Context, tx *ent.Tx, e Event) error {
	now := s.clock().UTC()
	data := make(map[string]any, len(e.Data)+2)
	if e.AgencyID != "" {
		data["agencyId"] = e.AgencyID
	}
	if e.AccountID != "" {
		data["accountId"] = e.AccountID
	}
	for k, v := range e.Data {
		data[k] = v
	}
	body, err := json.Marshal(struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}{e.Type, now.Format(time.RFC3339Nano), data})
	if err != nil {
		return fmt.Errorf("encoding %s event: %w", e.Type, err)
	}
	var agencyID, accountID any // NULL unless set
	if e.AgencyID != "" {
		agencyID = string(e.AgencyID)
	}
	if e.AccountID != "" {
		accountID = string(e.AccountID)
	}
	// In a ledger transaction on PostgreSQL the row rides along with the
	// ledger's next statement (ledger.RideAlong).
	if !s.ledger.RideAlong(tx, ledger.Row{Table: webhookevent.Table,
		Columns: []string{webhookevent.FieldID, webhookevent.FieldCreatedAt, webhookevent.FieldType, webhookevent.FieldPayload,
			webhookevent.FieldAgencyID, webhookevent.FieldAccountID},
		Values: []any{string(gid.New(gid.WebhookEvent)), now, e.Type, string(body), agencyID, accountID},
		Types:  []string{"varchar", "timestamptz", "varchar", "text", "varchar", "varchar"}}) {
		c := tx.WebhookEvent.Create().SetID(gid.New(gid.WebhookEvent)).SetCreatedAt(now).SetType(e.Type).SetPayload(string(body))
		if e.AgencyID != "" {
			c.SetAgencyID(e.AgencyID)
		}
		if e.AccountID != "" {
			c.SetAccountID(e.AccountID)
		}
		if err := c.Exec(ctx); err != nil {
			return fmt.Errorf("recording %s event: %w", e.Type, err)
		}
	}
	tx.OnCommit(wakeOnCommit(s))
	return nil
}

func wakeOnCommit(s *Service) ent.CommitHook {
	return func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.wakeWorkers()
			}
			return err
		})
	}
}

// endpointCache knows which events the enabled endpoints want, per agency
// ("" for platform-wide ones), so that emit skips the insert on hot paths
// (payments, usage) when nobody listens. It is read on first use, again
// after every change (this instance's at commit, the others' by
// pg_notify, and everything after the listener reconnects), and whenever
// it is older than webhookCacheAge.
//
// Stale is harmless in one direction and bounded in the other: an
// endpoint disabled or narrowed meanwhile only costs a row the dispatcher
// drops (it matches against the database, not the cache); an endpoint
// added or widened on another instance whose announcement was lost is
// missed for at most webhookCacheAge. While no fresh copy is at hand emit
// writes the row: unknown means wanted.
type endpointCache struct {
	mu         sync.Mutex
	at         time.Time // when read; zero: never, or invalidated
	gen        uint64    // bumped by invalidate: a read begun before is not fresh
	refreshing bool
	wantsOf    map[gid.ID][]string // agency ("" platform) -> events; an empty list: all
}

func (c *endpointCache) wants(s *Service, agency gid.ID, typ string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) > webhookCacheAge {
		c.refreshLocked(s)
		return true
	}
	for _, ag := range []gid.ID{agency, ""} {
		evs, ok := c.wantsOf[ag]
		if ok && (len(evs) == 0 || slices.Contains(evs, typ)) {
			return true
		}
	}
	return false
}

func (c *endpointCache) invalidate() {
	c.mu.Lock()
	c.gen++
	c.at = time.Time{}
	c.mu.Unlock()
}

// refreshLocked reads the endpoints in the background: never inside the
// caller's transaction (on SQLite a second connection would wait for it).
func (c *endpointCache) refreshLocked(s *Service) {
	if c.refreshing {
		return
	}
	c.refreshing = true
	gen := c.gen
	go func() {
		ctx, cancel := context.WithTimeout(System(context.Background()), 10*time.Second)
		defer cancel()
		eps, err := s.db.WebhookEndpoint.Query().Where(webhookendpoint.Enabled(true)).
			Select(webhookendpoint.FieldAgencyID, webhookendpoint.FieldEvents).All(ctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.refreshing = false
		if err != nil {
			s.log.Warn("reading webhook endpoints", "error", err)
			return
		}
		m := map[gid.ID][]string{}
		for _, ep := range eps {
			ag := gid.ID("")
			if ep.AgencyID != nil {
				ag = *ep.AgencyID
			}
			if old, ok := m[ag]; ok && len(old) == 0 {
				continue // already everything
			}
			if len(ep.Events) == 0 {
				m[ag] = []string{}
			} else {
				m[ag] = append(m[ag], ep.Events...)
			}
		}
		c.wantsOf = m
		if gen == c.gen {
			c.at = time.Now()
		}
	}()
}

// ---------------------------------------------------------------- dispatch

// runWebhooks dispatches the outbox and sends due deliveries until none is
// left (bounded per call, so jobs get their turn).
func (s *Service) runWebhooks(ctx context.Context) error {
	var errs []error
	for range 100 {
		n, err := s.dispatchWebhooks(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		sent, err := s.sendWebhooks(ctx)
		if err != nil {
			errs = append(errs, err)
		}
		if n == 0 && sent == 0 || ctx.Err() != nil || err != nil {
			break
		}
	}
	return errors.Join(errs...)
}

// dispatchWebhooks turns one batch of undispatched events into deliveries.
func (s *Service) dispatchWebhooks(ctx context.Context) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		pick := `SELECT id, agency_id, type, payload, created_at FROM webhook_events
			WHERE dispatched_at IS NULL ORDER BY created_at LIMIT 100`
		if s.dialect == dialect.Postgres {
			pick += ` FOR UPDATE SKIP LOCKED`
		}
		rows, err := tx.QueryContext(ctx, pick)
		if err != nil {
			return fmt.Errorf("reading the outbox: %w", err)
		}
		var evs []*ent.WebhookEvent
		for rows.Next() {
			e := &ent.WebhookEvent{}
			var ag *string
			if err := rows.Scan(&e.ID, &ag, &e.Type, &e.Payload, &e.CreatedAt); err != nil {
				rows.Close()
				return fmt.Errorf("reading the outbox: %w", err)
			}
			if ag != nil {
				e.AgencyID = (*gid.ID)(ag)
			}
			evs = append(evs, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(evs) == 0 {
			return err
		}
		eps, err := tx.WebhookEndpoint.Query().Where(webhookendpoint.Enabled(true)).All(ctx)
		if err != nil {
			return fmt.Errorf("reading webhook endpoints: %w", err)
		}
		now := s.clock().UTC()
		ins := s.rebind(`INSERT INTO webhook_deliveries (id, created_at, agency_id, endpoint_id, event_id, message_id,
			event_type, payload, status, attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?)
			ON CONFLICT (event_id, endpoint_id) DO NOTHING`)
		ids := make([]any, 0, len(evs))
		for _, e := range evs {
			for _, ep := range eps {
				if !endpointWants(ep, e) {
					continue
				}
				id := gid.New(gid.WebhookDelivery)
				msg := "msg_" + string(id)[len(gid.WebhookDelivery)+1:]
				if _, err := tx.ExecContext(ctx, ins, id, now, ep.AgencyID, ep.ID, e.ID, msg, e.Type, e.Payload, now); err != nil {
					return fmt.Errorf("making a delivery of %s: %w", e.ID, err)
				}
			}
			ids = append(ids, e.ID)
		}
		n = len(evs)
		q := `UPDATE webhook_events SET dispatched_at = ? WHERE id IN (?` + repeat(", ?", len(ids)-1) + `)`
		if _, err := tx.ExecContext(ctx, s.rebind(q), append([]any{now}, ids...)...); err != nil {
			return fmt.Errorf("marking events dispatched: %w", err)
		}
		return nil
	})
	return n, err
}

// endpointWants: the endpoint is the event's agency's or platform-wide,
// wants its type, and existed when it happened (a new endpoint is not sent
// the past).
func endpointWants(ep *ent.WebhookEndpoint, e *ent.WebhookEvent) bool {
	if ep.AgencyID != nil && (e.AgencyID == nil || *ep.AgencyID != *e.AgencyID) {
		return false
	}
	if len(ep.Events) > 0 && !slices.Contains(ep.Events, e.Type) {
		return false
	}
	return !ep.CreatedAt.After(e.CreatedAt)
}

func repeat(s string, n int) string {
	out := ""
	for range n {
		out += s
	}
	return out
}

// ---------------------------------------------------------------- send

// sendWebhooks claims up to webhookBatch due deliveries and makes one
// attempt at each, side by side; it answers how many it claimed.
func (s *Service) sendWebhooks(ctx context.Context) (int, error) {
	var claimed []*ent.WebhookDelivery
	for len(claimed) < webhookBatch {
		d, err := s.claimDelivery(ctx)
		if err != nil {
			return len(claimed), err
		}
		if d == nil {
			break
		}
		if f := s.hooks().afterClaim; f != nil {
			if err := f(d); err != nil {
				continue // abandoned: the lease lapses, another worker retries
			}
		}
		claimed = append(claimed, d)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, d := range claimed {
		wg.Go(func() {
			if err := s.attemptDelivery(ctx, d); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(claimed), errors.Join(errs...)
}

// claimDelivery takes the next due delivery (or one whose worker's lease
// ran out), counting the attempt, or answers nil.
func (s *Service) claimDelivery(ctx context.Context) (*ent.WebhookDelivery, error) {
	now := s.clock().UTC()
	pick := `SELECT id FROM webhook_deliveries
		WHERE status = 'PENDING' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
		ORDER BY next_attempt_at LIMIT 1`
	if s.dialect == dialect.Postgres {
		pick += ` FOR UPDATE SKIP LOCKED`
	}
	q := `UPDATE webhook_deliveries SET attempts = attempts + 1, locked_until = ?, last_attempt_at = ?
		WHERE id = (` + pick + `) RETURNING id`
	rows, err := s.db.QueryContext(ctx, s.rebind(q), now.Add(webhookLease), now, now, now)
	if err != nil {
		return nil, fmt.Errorf("claiming a webhook delivery: %w", err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	var id gid.ID
	if err := rows.Scan(&id); err != nil {
		return nil, fmt.Errorf("claiming a webhook delivery: %w", err)
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	return s.db.WebhookDelivery.Query().Where(webhookdelivery.ID(id)).WithEndpoint().Only(ctx)
}

// attemptDelivery sends d once, with no transaction open, and records
// what came of it, unless its claim was lost meanwhile (the lease ran out
// and another worker took it: its attempt counts).
func (s *Service) attemptDelivery(ctx context.Context, d *ent.WebhookDelivery) error {
	ep := d.Edges.Endpoint
	var res webhook.Result
	if ep.Enabled {
		res = s.hooks().send().Send(ctx, webhook.Message{
			URL: ep.URL, ID: d.MessageID, Secret: ep.Secret, Timestamp: s.clock(), Body: []byte(d.Payload),
		})
	} else {
		res.Err = errors.New("endpoint disabled")
	}
	if ctx.Err() != nil {
		return ctx.Err() // the worker is stopping: the claim lapses, the next one retries
	}
	now := s.clock().UTC()
	var (
		giveUp  bool
		disable bool
		mailTo  string
	)
	err := s.inTx(ctx, func(tx *ent.Tx) error {
		u := tx.WebhookDelivery.Update().Where(webhookdelivery.ID(d.ID), webhookdelivery.Attempts(d.Attempts),
			webhookdelivery.StatusEQ(webhookdelivery.StatusPENDING)).
			SetLastAttemptAt(now).ClearLockedUntil().SetLatencyMs(int(res.Latency.Milliseconds()))
		if res.Code != 0 {
			u.SetResponseCode(res.Code)
		} else {
			u.ClearResponseCode()
		}
		switch {
		case res.Err == nil:
			u.SetStatus(webhookdelivery.StatusSUCCEEDED).ClearNextAttemptAt().ClearError()
		case ep.Enabled && now.Before(d.CreatedAt.Add(webhookRetryFor)):
			u.SetNextAttemptAt(now.Add(webhookBackoff(d.Attempts))).SetError(truncate(res.Err.Error(), 1000))
		default:
			giveUp = true
			u.SetStatus(webhookdelivery.StatusFAILED).ClearNextAttemptAt().SetError(truncate(res.Err.Error(), 1000))
		}
		n, err := u.Save(ctx)
		if err != nil || n == 0 || !giveUp || !ep.Enabled {
			return err
		}
		// Given up after 3 days: the endpoint is disabled unless it
		// accepted something else within them (then it is this delivery
		// that fails, not the endpoint; e.g. a late redelivery).
		ok, err := tx.WebhookDelivery.Query().Where(webhookdelivery.EndpointID(ep.ID),
			webhookdelivery.StatusEQ(webhookdelivery.StatusSUCCEEDED), webhookdelivery.LastAttemptAtGT(now.Add(-webhookRetryFor))).Exist(ctx)
		if err != nil || ok {
			return err
		}
		disable = true
		reason := fmt.Sprintf("deliveries failed for 3 days (last: %s)", truncate(res.Err.Error(), 300))
		if err := tx.WebhookEndpoint.UpdateOneID(ep.ID).SetEnabled(false).SetDisabledReason(reason).Exec(ctx); err != nil {
			return fmt.Errorf("disabling webhook endpoint: %w", err)
		}
		if err := s.failPending(ctx, tx, ep.ID, "endpoint disabled: "+reason); err != nil {
			return err
		}
		a := Audit{Action: "webhookEndpointDisabled", TargetID: ep.ID, Summary: fmt.Sprintf("disabled webhook endpoint %s: %s", ep.ID, reason)}
		if ep.AgencyID != nil {
			a.AgencyID = *ep.AgencyID
			if mailTo, err = s.agencyBillingEmail(ctx, tx, *ep.AgencyID); err != nil {
				return err
			}
		}
		if err := s.audit(ctx, tx, a); err != nil {
			return err
		}
		return s.endpointsChanged(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("recording webhook delivery %s: %w", d.ID, err)
	}
	if disable {
		s.log.WarnContext(ctx, "webhook endpoint disabled after 3 days of failures", "endpoint", ep.ID, "error", res.Err)
		if mailTo != "" {
			// Once, best effort: the endpoint's state and the audit log
			// say it too.
			if err := s.mailer.Send(ctx, endpointDisabledEmail(ep, mailTo, res.Err)); err != nil {
				s.log.WarnContext(ctx, "emailing a disabled webhook endpoint", "endpoint", ep.ID, "error", err)
			}
		}
	}
	return nil
}

// webhookBackoff is the wait after the attempt-th failure: full jitter over
// 5 s doubling per attempt, capped at an hour.
func webhookBackoff(attempt int) time.Duration {
	d := webhookMaxRetry
	if attempt <= 20 {
		d = min(webhookFirstRetry<<max(attempt-1, 0), webhookMaxRetry)
	}
	return time.Second + rand.N(d)
}

// failPending ends the endpoint's pending deliveries.
func (s *Service) failPending(ctx context.Context, tx *ent.Tx, ep gid.ID, why string) error {
	err := tx.WebhookDelivery.Update().Where(webhookdelivery.EndpointID(ep), webhookdelivery.StatusEQ(webhookdelivery.StatusPENDING)).
		SetStatus(webhookdelivery.StatusFAILED).ClearNextAttemptAt().SetError(truncate(why, 1000)).Exec(ctx)
	if err != nil {
		return fmt.Errorf("failing pending deliveries: %w", err)
	}
	return nil
}

// agencyBillingEmail is where an agency is written to about its
// endpoints: its pool account's billing e-mail (the agency's own invoices
// go there too; its admins are not in the database). "": none set.
func (s *Service) agencyBillingEmail(ctx context.Context, tx *ent.Tx, ag gid.ID) (string, error) {
	pool, err := tx.Account.Query().Where(account.AgencyID(ag), account.KindEQ(account.KindAGENCY)).Only(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("loading the agency's pool: %w", err)
	}
	return deref(pool.BillingEmail), nil
}

func endpointDisabledEmail(ep *ent.WebhookEndpoint, to string, cause error) Email {
	return Email{
		To:      to,
		Subject: "Webhook endpoint disabled: " + truncate(ep.URL, 100),
		Text: fmt.Sprintf("Deliveries to your webhook endpoint %s (%s) failed for 3 days, so it was disabled.\n\n"+
			"Last error: %v\n\nFix the receiver, turn the endpoint back on, and redeliver the failed events from its delivery log.\n",
			ep.URL, ep.ID, cause),
	}
}
