package credits

import (
	"context"
	"strings"
	"sync"
	"weak"

	"entgo.io/ent/dialect/sql"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/intercept"
	"creditgate/gid"
	"creditgate/tenancy"
)

// Tenant scope lives here and only here: one interceptor is installed on
// the ent client (New does it), so every read of every entity (lists,
// node(id:), edges) is narrowed to what the viewer may see, whichever code
// path issues it. A resolver cannot forget it, because it never gets an
// unscoped client; an entity cannot be forgotten either, because the
// interceptor narrows each by the tenancy its schema declares
// (ent.Tenancy, from the tenancy mixins of ent/schema), and reads of an
// entity that declares none are the system's only. Hand-written SQL reads
// narrow by the same rule through scopeSQL.
//
//	client roles:  their own account (services and packages: their agency's)
//	agency_admin:  everything of their agency
//	service:       everything of their agency; every agency's without one
//	               (a platform-wide key); what it may read at all is
//	               gated by role and scope (requireScope)
//	system_admin:  everything
//
// Entities read by staff only (tenancy.Scope.Staff: API keys) are
// NOT_FOUND to client roles and services; a row of such an entity without
// an agency (a platform-wide key) matches no agency, so only system admins
// see it.
//
// Internal work (the ledger, verification, demo data) runs under System.

type systemKey struct{}

// System marks ctx as the gateway's own work, outside any viewer's scope.
func System(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

func isSystem(ctx context.Context) bool {
	b, _ := ctx.Value(systemKey{}).(bool)
	return b
}

// scopeOf answers (agencyID, accountID, all). all is true for the system and
// system admins; accountID is set for client roles.
func scopeOf(ctx context.Context) (gid.ID, gid.ID, bool, error) {
	if isSystem(ctx) {
		return "", "", true, nil
	}
	v, ok := auth.FromContext(ctx)
	if !ok {
		return "", "", false, newErr(CodeUnauthenticated, "missing bearer token")
	}
	switch {
	case v.Role == auth.RoleSystemAdmin:
		return "", "", true, nil
	case v.Role == auth.RoleService && v.AgencyID == "":
		return "", "", true, nil // a platform-wide service
	case v.IsClient():
		return gid.ID(v.AgencyID), gid.ID(v.AccountID), false, nil
	default:
		return gid.ID(v.AgencyID), "", false, nil
	}
}

// InstallScope installs the scope filter on every entity of client, once
// however often it is called (New calls it).
func InstallScope(client *ent.Client) {
	scopedMu.Lock()
	defer scopedMu.Unlock()
	key := weak.Make(client)
	if _, done := scoped[key]; done {
		return
	}
	scoped[key] = struct{}{}
	client.Intercept(intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		return narrow(ctx, ent.Tenancy[q.Type()], func(column string, id gid.ID) {
			q.WhereP(sql.FieldEQ(column, id))
		})
	}))
}

var (
	scopedMu sync.Mutex
	scoped   = map[weak.Pointer[ent.Client]]struct{}{} // clients InstallScope has seen
)

// narrow applies the viewer's scope to a read of an entity of tenancy t:
// it calls eq for each column the rows must match (an agency admin gets the
// rows of its agency, a client those of its own account or, for the
// agency's catalogue, its agency's). A system-only entity is NOT_FOUND to
// every viewer.
func narrow(ctx context.Context, t tenancy.Scope, eq func(column string, id gid.ID)) error {
	if t.SystemOnly() {
		return systemOnly(ctx)
	}
	ag, acc, all, err := scopeOf(ctx)
	if err != nil {
		return err
	}
	if t.Staff && !isStaff(ctx) {
		return notFound("object")
	}
	if all {
		return nil
	}
	eq(t.Agency, ag)
	if acc != "" && t.Account != "" {
		eq(t.Account, acc)
	}
	return nil
}

// isStaff says whether the viewer is an agency admin, a system admin or
// the system itself.
func isStaff(ctx context.Context) bool {
	if isSystem(ctx) {
		return true
	}
	v, ok := auth.FromContext(ctx)
	return ok && (v.Role == auth.RoleAgencyAdmin || v.Role == auth.RoleSystemAdmin)
}

func systemOnly(ctx context.Context) error {
	if isSystem(ctx) {
		return nil
	}
	return notFound("object")
}

// scopeSQL is the scope rule for hand-written SQL: the condition that
// narrows the rows of entity typ's table, read as alias, to the viewer's,
// exactly as the interceptor narrows typ's queries, and its arguments in
// the order of its placeholders. It is "TRUE" when the viewer sees all.
func scopeSQL(ctx context.Context, typ, alias string) (string, []any, error) {
	var (
		conds []string
		args  []any
	)
	err := narrow(ctx, ent.Tenancy[typ], func(column string, id gid.ID) {
		conds = append(conds, alias+"."+column+" = ?")
		args = append(args, id)
	})
	if err != nil {
		return "", nil, err
	}
	if len(conds) == 0 {
		return "TRUE", nil, nil
	}
	return strings.Join(conds, " AND "), args, nil
}

// inScope is the scope rule for a row kept in memory: it applies the
// viewer's scope (narrow) to a row of entity typ whose tenant columns col
// gives: visible says whether the viewer's read would
// find it; ok is false when that cannot be told here (a column col does
// not give, or the viewer has no scope at all), and the database decides.
func inScope(ctx context.Context, typ string, col func(string) (gid.ID, bool)) (visible, ok bool) {
	visible, ok = true, true
	err := narrow(ctx, ent.Tenancy[typ], func(column string, id gid.ID) {
		v, known := col(column)
		if !known {
			ok = false
		}
		if v != id {
			visible = false
		}
	})
	if err != nil {
		return false, false
	}
	return visible, ok
}

// rawQuery is hand-written SQL built in order, with its arguments.
type rawQuery struct {
	text strings.Builder
	args []any
	err  error
}

// add appends text and the arguments of its placeholders.
func (q *rawQuery) add(text string, args ...any) *rawQuery {
	q.text.WriteString(text)
	q.args = append(q.args, args...)
	return q
}

// scope appends the condition that narrows entity typ's table, read as
// alias, to the viewer (scopeSQL); its error is the query's.
func (q *rawQuery) scope(ctx context.Context, typ, alias string) *rawQuery {
	cond, args, err := scopeSQL(ctx, typ, alias)
	if err != nil && q.err == nil {
		q.err = err
	}
	return q.add(cond, args...)
}

// ownAccount says whether the viewer reads its own account, the one-query
// fast path of a client (ownBalance, ownAccountService): its scope is one
// account (scopeOf) and id is nil or that account.
func ownAccount(ctx context.Context, id *gid.ID) bool {
	_, acc, all, err := scopeOf(ctx)
	return err == nil && !all && acc != "" && (id == nil || *id == acc)
}
