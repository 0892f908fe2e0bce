package credits

import (
	"context"
	"fmt"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/gid"
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
func (s *Service) audit(ctx context.Context, tx *ent.Tx, a Audit) error {
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

// truncate keeps the first n characters of s.
func truncate(s string, n int) string {
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
// system admins everything.
func (s *Service) AuditLog(ctx context.Context, f AuditFilter, page PageArgs) (*Page[*ent.AuditEvent], error) {
	return nil, newErr(CodeInternal, "auditLog is not built yet")
}
