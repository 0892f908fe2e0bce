package credits_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"testing"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/ent/migrate"
)

// systemTables hold tenant columns but are the gateway's own bookkeeping:
// no viewer reads them, only work under credits.System does.
var systemTables = []string{"journals", "idempotency_keys", "jobs", "webhook_events"}

// staffTables are read by agency staff only (tenancy.Scope.Staff): client
// roles and services get NOT_FOUND before any SQL, whatever their agency.
var staffTables = []string{"api_keys", "audit_events", "webhook_endpoints", "webhook_deliveries"}

// serviceAll is a platform-wide service (an API key without agency): it
// reads every agency's rows, within its scopes.
const serviceAll = auth.Role("service (platform-wide)")

// TestEveryTenantTableIsScoped reads every table of the schema through a
// client carrying the scope, as each kind of viewer, and looks at the SQL:
// a table with agency_id must be narrowed on it, one with account_id must
// be narrowed to a client's account, and a table of systemTables must be
// refused to every viewer. A new entity that holds tenant columns without
// its tenancy mixin (ent/schema/mixin.go) fails here.
func TestEveryTenantTableIsScoped(t *testing.T) {
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec))
	credits.InstallScope(client)
	credits.InstallScope(client) // idempotent: still one filter per column
	const agencyID, accountID = "agy_scope_test", "acc_scope_test"
	ctx := context.Background()
	as := func(role auth.Role) context.Context {
		v := &auth.Viewer{Role: role}
		if role == serviceAll {
			v.Role = auth.RoleService
		} else if role != auth.RoleSystemAdmin {
			v.AgencyID = agencyID
		}
		if role == auth.RoleClient || role == auth.RoleClientOwner {
			v.AccountID = accountID
		}
		return auth.NewContext(ctx, v)
	}
	read := func(ctx context.Context, table string) (*recorded, error) {
		rec.queries = nil
		_, err := client.Noder(ctx, "x_0000", ent.WithFixedNodeType(table))
		if !errors.Is(err, errRecorded) && len(rec.queries) > 0 {
			t.Fatalf("%s: read answered %v after SQL", table, err)
		}
		switch len(rec.queries) {
		case 0:
			return nil, err
		case 1:
			return &rec.queries[0], nil
		default:
			t.Fatalf("%s: one read issued %d statements", table, len(rec.queries))
			return nil, nil
		}
	}

	for _, name := range systemTables {
		if !slices.ContainsFunc(migrate.Tables, func(tb *schema.Table) bool { return tb.Name == name }) {
			t.Errorf("systemTables names %s, which the schema does not have", name)
		}
	}
	for _, table := range migrate.Tables {
		t.Run(table.Name, func(t *testing.T) {
			has := func(col string) bool {
				return slices.ContainsFunc(table.Columns, func(c *schema.Column) bool { return c.Name == col })
			}
			if slices.Contains(systemTables, table.Name) {
				for _, role := range []auth.Role{auth.RoleClient, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin} {
					if q, err := read(as(role), table.Name); q != nil || credits.CodeOf(err) != credits.CodeNotFound {
						t.Errorf("as %s: a system-only table answered %v (SQL: %v), want NOT_FOUND before any SQL", role, err, q)
					}
				}
				if q, err := read(credits.System(ctx), table.Name); q == nil {
					t.Errorf("as the system: not read (%v)", err)
				}
				return
			}
			if !has("agency_id") && !has("account_id") && table.Name != "agencies" {
				return // no tenant's rows (entities that declare none are refused to viewers)
			}
			if q, err := read(ctx, table.Name); q != nil || credits.CodeOf(err) != credits.CodeUnauthenticated {
				t.Errorf("without a viewer: answered %v (SQL: %v), want UNAUTHENTICATED before any SQL", err, q)
			}
			staff := slices.Contains(staffTables, table.Name)
			for _, role := range []auth.Role{auth.RoleClient, auth.RoleClientOwner, auth.RoleAgencyAdmin, auth.RoleSystemAdmin, auth.RoleService, serviceAll} {
				q, err := read(as(role), table.Name)
				if staff && role != auth.RoleAgencyAdmin && role != auth.RoleSystemAdmin {
					if q != nil || credits.CodeOf(err) != credits.CodeNotFound {
						t.Errorf("as %s: a staff-only table answered %v (SQL: %v), want NOT_FOUND before any SQL", role, err, q)
					}
					continue
				}
				if q == nil {
					t.Errorf("as %s: not read (%v): a tenant table needs its tenancy mixin (ent/schema/mixin.go), an internal one a place in systemTables", role, err)
					continue
				}
				client := role == auth.RoleClient || role == auth.RoleClientOwner
				all := role == auth.RoleSystemAdmin || role == serviceAll
				want := map[string]string{}
				if !all {
					switch {
					case has("agency_id"):
						want["agency_id"] = agencyID
					case table.Name == "agencies":
						want["id"] = agencyID
					}
					if client && has("account_id") {
						want["account_id"] = accountID
					}
					if client && table.Name == "accounts" {
						want["id"] = accountID
					}
				}
				for col, v := range want {
					if !q.filters(table.Name, col, v) {
						t.Errorf("as %s: not narrowed on %s = %s:\n%s %v", role, col, v, q.query, q.args)
					}
				}
				if all && len(q.args) != 1 {
					t.Errorf("as %s: narrowed, want every row:\n%s %v", role, q.query, q.args)
				}
				if n := len(q.args); !all && n != 1+len(want) {
					t.Errorf("as %s: %d arguments, want the id and %d filters (no filter twice):\n%s %v", role, n, len(want), q.query, q.args)
				}
			}
		})
	}
}

var errRecorded = errors.New("recorded")

type recorded struct {
	query string
	args  []any
}

func (r *recorded) String() string { return fmt.Sprint(r.query, r.args) }

// filters says whether the statement narrows table on col = v.
func (r *recorded) filters(table, col, v string) bool {
	re := regexp.MustCompile(`"` + table + `"\."` + col + `" = \$(\d+)`)
	for _, m := range re.FindAllStringSubmatch(r.query, -1) {
		var i int
		fmt.Sscan(m[1], &i)
		if i >= 1 && i <= len(r.args) && fmt.Sprint(r.args[i-1]) == v {
			return true
		}
	}
	return false
}

// recorder is a PostgreSQL driver that records each statement and answers
// none.
type recorder struct{ queries []recorded }

func (r *recorder) Exec(context.Context, string, any, any) error { return errRecorded }
func (r *recorder) Query(_ context.Context, query string, args, _ any) error {
	a, _ := args.([]any)
	r.queries = append(r.queries, recorded{query, a})
	return errRecorded
}
func (r *recorder) Tx(context.Context) (dialect.Tx, error) { return nil, errRecorded }
func (r *recorder) Close() error                           { return nil }
func (r *recorder) Dialect() string                        { return dialect.Postgres }
