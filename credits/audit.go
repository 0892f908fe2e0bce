package credits

import (
	"context"
	"fmt"
	"time"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/auditevent"
	"creditgate/gid"
	"creditgate/ledger"
	"creditgate/reqid"
)

// The audit log: every state change appends one AuditEvent in the
// transaction that makes it, so an event exists exactly when its change
// committed: a refused or failed attempt rolls its event back with it, and
// a replayed idempotent mutation (whose work does not run again) writes
// none. Who acted (actor, role), the request id and the client's address
// come from the context; what was done is said by the caller.

// Audit is what a change says of itself.
type Audit struct {
	// Action is the mutation or job: "approveRequest", "autoTopUp",
	// "stripeWebhook".
	Action string
	// AgencyID and AccountID are whose it is ("": none, e.g. a
	// platform-wide change).
	AgencyID, AccountID gid.ID
	// TargetID is what was acted on: the request, invoice, transaction,
	// rule ...
	TargetID gid.ID
	// Summary says it in a line: "approved req_… 200.00 USD".
	Summary string
}

// audit appends a's event inside tx, by the viewer of ctx (or the system).
// In a ledger transaction on PostgreSQL the event rides along with the
// ledger's next statement (ledger.RideAlong): no round trip of its own.
func (s *Service) audit(ctx context.Context, tx *ent.Tx, a Audit) error {
	if s.ledger.RideAlong(tx, auditRow(ctx, s.clock().UTC(), a)) {
		return nil
	}
	c := tx.AuditEvent.Create().
		SetCreatedAt(s.clock().UTC()).
		SetActor(actorOf(ctx)).
		SetAction(a.Action).
		SetSummary(truncate(a.Summary, 1000))
	if v, ok := auth.FromContext(ctx); ok {
		c.SetRole(string(v.Role))
	}
	if a.AgencyID != "" {
		c.SetAgencyID(a.AgencyID)
	}
	if a.AccountID != "" {
		c.SetAccountID(a.AccountID)
	}
	if a.TargetID != "" {
		c.SetTargetID(a.TargetID)
	}
	if id := reqid.FromContext(ctx); id != "" {
		c.SetRequestID(id)
	}
	if addr := reqid.ClientAddress(ctx); addr != "" {
		c.SetClientAddress(addr)
	}
	if err := c.Exec(ctx); err != nil {
		return fmt.Errorf("writing audit event %s: %w", a.Action, err)
	}
	return nil
}

// auditColumns are auditRow's columns, shared by every row (the ledger
// only reads them).
var auditColumns = []string{auditevent.FieldID, auditevent.FieldCreatedAt, auditevent.FieldActor, auditevent.FieldRole, auditevent.FieldAction,
	auditevent.FieldAgencyID, auditevent.FieldAccountID, auditevent.FieldTargetID, auditevent.FieldRequestID,
	auditevent.FieldClientAddress, auditevent.FieldSummary}

// auditTypes are auditRow's columns' PostgreSQL types (ledger.Row.Types).
var auditTypes = []string{"varchar", "timestamptz", "varchar", "varchar", "varchar",
	"varchar", "varchar", "varchar", "varchar", "varchar", "varchar"}

// auditRow is a's event as a row, as audit's Create writes it.
func auditRow(ctx context.Context, now time.Time, a Audit) ledger.Row {
	var role, agencyID, accountID, targetID, requestID, addr any // NULL unless set
	actor := ledger.System                                       // actorOf(ctx), from the same look-up
	if v, ok := auth.FromContext(ctx); ok {
		role = string(v.Role)
		if v.UserID != "" {
			actor = v.UserID
		}
	}
	if a.AgencyID != "" {
		agencyID = string(a.AgencyID)
	}
	if a.AccountID != "" {
		accountID = string(a.AccountID)
	}
	if a.TargetID != "" {
		targetID = string(a.TargetID)
	}
	if id := reqid.FromContext(ctx); id != "" {
		requestID = id
	}
	if ad := reqid.ClientAddress(ctx); ad != "" {
		addr = ad
	}
	return ledger.Row{
		Table:   auditevent.Table,
		Columns: auditColumns,
		Values: []any{string(gid.New(gid.AuditEvent)), now, actor, role, a.Action,
			agencyID, accountID, targetID, requestID, addr, truncate(a.Summary, 1000)},
		Types: auditTypes,
	}
}

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s // no more characters than bytes: no []rune to make
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// AuditFilter narrows auditLog.
type AuditFilter struct {
	AgencyID, AccountID *gid.ID
	Action              *string
}

// AuditLog lists audit events newest first: agency admins their agency's,
// system admins everything. Naming an agency or account outside the
// viewer's scope is NOT_FOUND, as for the other lists (apiKeys, requests).
func (s *Service) AuditLog(ctx context.Context, f AuditFilter, page PageArgs) (*Page[*ent.AuditEvent], error) {
	// The table is staff-only (tenancy Staff) already; the explicit check
	// makes the refusal FORBIDDEN rather than an empty page.
	if _, err := requireRole(ctx, auth.RoleAgencyAdmin, auth.RoleSystemAdmin); err != nil {
		return nil, err
	}
	q := s.db.AuditEvent.Query()
	if f.AgencyID != nil {
		ag, err := s.Agency(ctx, f.AgencyID)
		if err != nil {
			return nil, err
		}
		q.Where(auditevent.AgencyID(ag.ID))
	}
	if f.AccountID != nil {
		acc, err := s.Account(ctx, f.AccountID)
		if err != nil {
			return nil, err
		}
		q.Where(auditevent.AccountID(acc.ID))
	}
	if f.Action != nil {
		q.Where(auditevent.Action(*f.Action))
	}
	return paginate(ctx, page, createdCursors, byCreated(q, true, "audit events",
		func(e *ent.AuditEvent) createdKey { return createdKey{e.CreatedAt, e.ID} }))
}
