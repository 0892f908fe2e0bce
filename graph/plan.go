package graph

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"creditgate/credits"
	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/enums"
	"creditgate/gid"
	"creditgate/graph/model"
	"creditgate/money"
)

// A history page costs gqlgen's executor a field context, a context value,
// a boxed result and a marshaler per field, plus a goroutine per edge
// (every list of objects is marshalled concurrently): about 1 µs a field,
// 350 fields for a page of 50 with 5 fields each, more than the page's
// SQL. A balance read has only two fields, but the executor's field sets,
// contexts and closures are then a third of the GraphQL part of a read
// served from the balance cache. A document that asks one of the planned
// root fields (history, balance, balances) for plain fields only (no
// field that does I/O, no fragment, no directive) is answered by a
// prepared plan instead: the root field still goes through the executor
// (arguments, @hasRole, the resolver, errors, the root field
// interceptors), and only the marshalling of its value is a writer
// compiled once per document. Anything else takes gqlgen's generated
// path, unchanged.

// plannedSchema is the generated schema with prepared plans.
type plannedSchema struct {
	graphql.ExecutableSchema
	es    *executableSchema
	roles map[string][]model.Role // the planned root fields' @hasRole
	plans graphql.Cache[*plan]    // by document text; nil: no plan
}

// plannedFields are the root fields a plan can answer.
var plannedFields = []string{"history", "balance", "balances"}

func newPlannedSchema(es graphql.ExecutableSchema, cacheSize int) graphql.ExecutableSchema {
	gen, ok := es.(*executableSchema)
	if !ok || cacheSize <= 0 {
		return es
	}
	roles := map[string][]model.Role{}
	for _, name := range plannedFields {
		r, ok := fieldRoles(name)
		if !ok {
			return es
		}
		roles[name] = r
	}
	return &plannedSchema{ExecutableSchema: es, es: gen, roles: roles, plans: lru.New[*plan](cacheSize)}
}

// fieldRoles is the roles of Query.name's @hasRole in the schema.
func fieldRoles(name string) ([]model.Role, bool) {
	f := parsedSchema.Query.Fields.ForName(name)
	if f == nil {
		return nil, false
	}
	d := f.Directives.ForName("hasRole")
	if d == nil || d.Arguments.ForName("roles") == nil {
		return nil, false
	}
	var roles []model.Role
	for _, c := range d.Arguments.ForName("roles").Value.Children {
		r := model.Role(c.Value.Raw)
		if !r.IsValid() {
			return nil, false
		}
		roles = append(roles, r)
	}
	return roles, len(roles) > 0
}

func (s *plannedSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	p := s.plan(ctx, opCtx)
	if p == nil {
		return s.ExecutableSchema.Exec(ctx)
	}
	ec := newExecutionContext(opCtx, s.es, nil)
	answered := false
	return func(ctx context.Context) *graphql.Response {
		if answered {
			return nil
		}
		answered = true
		var buf bytes.Buffer
		buf.Grow(int(p.size.Load())) // answers to one document are much alike: one allocation, not a doubling series
		s.run(ctx, ec, p).MarshalGQL(&buf)
		p.size.Store(int64(buf.Len()))
		return &graphql.Response{Data: buf.Bytes()}
	}
}

// plan is the operation's plan, compiled on first use; nil when it has
// none.
func (s *plannedSchema) plan(ctx context.Context, opCtx *graphql.OperationContext) *plan {
	op := opCtx.Operation
	if op == nil || op.Operation != ast.Query || opCtx.RawQuery == "" {
		return nil
	}
	k := opCtx.RawQuery + "\x00" + opCtx.OperationName
	p, ok := s.plans.Get(ctx, k)
	if !ok || (p != nil && p.op != op) { // new, or parsed again since
		p = s.compile(op)
		s.plans.Add(ctx, k, p)
	}
	return p
}

// plan answers one operation whose only root field is a planned one with
// plain fields.
type plan struct {
	op      *ast.OperationDefinition
	field   *ast.Field
	rootKey []byte // {"alias":
	// resolve is the generated _Query_<field> with the plan's writer as
	// the value's marshaller
	resolve func(ctx context.Context, ec *executionContext, field graphql.CollectedField) graphql.Marshaler
	size    atomic.Int64 // the length of its last answer
}

// compile is op's plan, or nil when op is not a query of one planned
// root field with plain fields.
func (s *plannedSchema) compile(op *ast.OperationDefinition) *plan {
	if len(op.SelectionSet) != 1 {
		return nil
	}
	f, ok := op.SelectionSet[0].(*ast.Field)
	if !ok || len(f.Directives) > 0 {
		return nil
	}
	p := &plan{op: op, field: f, rootKey: append([]byte{'{'}, key(f.Alias, true)...)}
	switch f.Name {
	case "history":
		if h := compileHistory(op); h != nil {
			p.resolve = s.history(h)
		}
	case "balance", "balances":
		if b := compileBalance(f.SelectionSet); b != nil {
			p.resolve = s.balance(f.Name, b)
		}
	}
	if p.resolve == nil {
		return nil
	}
	return p
}

// run is the generated _Query for the one root field.
func (s *plannedSchema) run(ctx context.Context, ec *executionContext, p *plan) graphql.Marshaler {
	field := graphql.CollectedField{Field: p.field, Selections: p.field.SelectionSet}
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query"})
	ctx = graphql.WithRootFieldContext(ctx, &graphql.RootFieldContext{Object: field.Name, Field: field})
	res := ec.OperationContext.RootResolverMiddleware(ctx, func(ctx context.Context) (res graphql.Marshaler) {
		defer func() {
			if r := recover(); r != nil {
				ec.Error(ctx, ec.Recover(ctx, r))
				res = graphql.Null
			}
		}()
		return p.resolve(ctx, ec, field)
	})
	if res == graphql.Null {
		return graphql.Null // a non-null root field failed: data is null
	}
	return graphql.WriterFunc(func(w io.Writer) {
		w.Write(p.rootKey)
		res.MarshalGQL(w)
		w.Write(closeBrace)
	})
}

// planHasRole is the generated code's @hasRole on a root field, with its
// roles read once from the schema rather than unmarshalled per call.
func planHasRole(ec *executionContext, roles []model.Role) func(ctx context.Context, next graphql.Resolver) graphql.Resolver {
	return func(ctx context.Context, next graphql.Resolver) graphql.Resolver {
		return func(ctx context.Context) (any, error) {
			if ec.Directives.HasRole == nil {
				return nil, errors.New("directive hasRole is not implemented")
			}
			return ec.Directives.HasRole(ctx, nil, next, roles)
		}
	}
}

// history is _Query_history with h's writer.
func (s *plannedSchema) history(h *historyPlan) func(context.Context, *executionContext, graphql.CollectedField) graphql.Marshaler {
	roles := s.roles["history"]
	return func(ctx context.Context, ec *executionContext, field graphql.CollectedField) graphql.Marshaler {
		return graphql.ResolveField(ctx, ec.OperationContext, field,
			ec.fieldContext_Query_history,
			func(ctx context.Context) (any, error) {
				fc := graphql.GetFieldContext(ctx)
				ctx = credits.WithHistoryUse(ctx, h.use)
				return ec.Resolvers.Query().History(ctx, fc.Args["accountId"].(*gid.ID), fc.Args["currency"].(*string),
					fc.Args["type"].(*enums.TransactionType), fc.Args["first"].(*int), fc.Args["after"].(*string),
					fc.Args["from"].(*time.Time), fc.Args["to"].(*time.Time), fc.Args["kind"].([]posting.Kind))
			},
			planHasRole(ec, roles),
			func(ctx context.Context, sel ast.SelectionSet, v *model.CreditTransactionConnection) graphql.Marshaler {
				if !h.fits(v) {
					return ec.marshalNCreditTransactionConnection2ᚖcreditgateᚋgraphᚋmodelᚐCreditTransactionConnection(ctx, sel, v)
				}
				return graphql.WriterFunc(func(w io.Writer) { h.conn.write(w, v) })
			},
			true, true)
	}
}

// balance is _Query_balance or _Query_balances with b's writer.
func (s *plannedSchema) balance(name string, b *balancePlan) func(context.Context, *executionContext, graphql.CollectedField) graphql.Marshaler {
	roles := s.roles[name]
	if name == "balances" {
		return func(ctx context.Context, ec *executionContext, field graphql.CollectedField) graphql.Marshaler {
			return graphql.ResolveField(ctx, ec.OperationContext, field,
				ec.fieldContext_Query_balances,
				func(ctx context.Context) (any, error) {
					fc := graphql.GetFieldContext(ctx)
					return ec.Resolvers.Query().Balances(ctx, fc.Args["accountId"].(*gid.ID))
				},
				planHasRole(ec, roles),
				func(ctx context.Context, sel ast.SelectionSet, v []*ent.Balance) graphql.Marshaler {
					for _, one := range v {
						if !b.fits(one) {
							return ec.marshalNBalance2ᚕᚖcreditgateᚋentᚐBalanceᚄ(ctx, sel, v)
						}
					}
					return graphql.WriterFunc(func(w io.Writer) {
						w.Write(openBracket)
						for i, one := range v {
							if i > 0 {
								w.Write(comma)
							}
							b.obj.write(w, one)
						}
						w.Write(closeBracket)
					})
				},
				true, true)
		}
	}
	return func(ctx context.Context, ec *executionContext, field graphql.CollectedField) graphql.Marshaler {
		return graphql.ResolveField(ctx, ec.OperationContext, field,
			ec.fieldContext_Query_balance,
			func(ctx context.Context) (any, error) {
				fc := graphql.GetFieldContext(ctx)
				return ec.Resolvers.Query().Balance(ctx, fc.Args["accountId"].(*gid.ID), fc.Args["currency"].(*string))
			},
			planHasRole(ec, roles),
			func(ctx context.Context, sel ast.SelectionSet, v *ent.Balance) graphql.Marshaler {
				if !b.fits(v) {
					return ec.marshalNBalance2ᚖcreditgateᚋentᚐBalance(ctx, sel, v)
				}
				return graphql.WriterFunc(func(w io.Writer) { b.obj.write(w, v) })
			},
			true, true)
	}
}

var closeBrace = []byte{'}'}

// ---------------------------------------------------------------- plans

// balancePlan writes a balance's plain fields.
type balancePlan struct {
	obj            object[*ent.Balance]
	needsUpdatedAt bool // updatedAt is Time!: a zero one is the executor's error to write
}

func (b *balancePlan) fits(v *ent.Balance) bool {
	return v != nil && !(b.needsUpdatedAt && v.UpdatedAt.IsZero())
}

// compileBalance is the plan of a Balance selection set, or nil when it
// has anything but plain fields (account and runway do I/O).
func compileBalance(set ast.SelectionSet) *balancePlan {
	type B = *ent.Balance
	b := &balancePlan{}
	decimal := func(d func(B) money.Decimal) func(*ast.Field) (func(io.Writer, B), bool) {
		return leaf(func(w io.Writer, v B) { quoted(w, string(d(v))) })
	}
	obj, ok := compileObject(set, map[string]func(*ast.Field) (func(io.Writer, B), bool){
		"__typename": typename[B]("Balance"),
		"currency":   leaf(func(w io.Writer, v B) { graphql.MarshalString(v.Currency).MarshalGQL(w) }),
		"available":  decimal(B.DecimalAvailable),
		"held":       decimal(B.DecimalHeld),
		"total":      decimal(B.DecimalTotal),
		"owed":       decimal(B.DecimalOwed),
		"updatedAt": func(f *ast.Field) (func(io.Writer, B), bool) {
			b.needsUpdatedAt = true
			return func(w io.Writer, v B) { quotedTime(w, v.UpdatedAt) }, len(f.SelectionSet) == 0
		},
	})
	if !ok {
		return nil
	}
	b.obj = obj
	return b
}

// historyPlan writes a history page's plain fields.
type historyPlan struct {
	conn object[*model.CreditTransactionConnection]
	// what the executor would refuse as null in a non-null field; the
	// plan leaves those answers to it
	needsPageInfo, needsCreatedAt bool
	// what of the page the plan writes: the columns of its transactions'
	// fields (all are columns), and whether the total; the executor, when
	// the plan leaves an answer to it (fits), writes the same selection
	use credits.HistoryUse
}

// fits says whether the plan writes v exactly as the executor would: no
// null where the schema forbids one.
func (p *historyPlan) fits(v *model.CreditTransactionConnection) bool {
	if v == nil || (p.needsPageInfo && v.PageInfo == nil) {
		return false
	}
	for _, e := range v.Edges {
		if e == nil || e.Node == nil || (p.needsCreatedAt && e.Node.CreatedAt.IsZero()) {
			return false
		}
	}
	return true
}

// member is one field of an object: its key (with the comma before it
// when it is not the first) and how to write its value.
type member[T any] struct {
	key   []byte
	write func(w io.Writer, v T)
}

type object[T any] []member[T]

func (o object[T]) write(w io.Writer, v T) {
	w.Write(openBrace)
	for _, m := range o {
		w.Write(m.key)
		m.write(w, v)
	}
	w.Write(closeBrace)
}

var openBrace = []byte{'{'}

// compileHistory is op's history plan, or nil when op is not a query of
// history alone with plain fields.
func compileHistory(op *ast.OperationDefinition) *historyPlan {
	if len(op.SelectionSet) != 1 {
		return nil
	}
	f, ok := op.SelectionSet[0].(*ast.Field)
	if !ok || f.Name != "history" || len(f.Directives) > 0 {
		return nil
	}
	p := &historyPlan{use: credits.HistoryUse{Columns: credits.HistorySummary, NoTotal: true, NoCursors: true}}
	conn, ok := compileObject(f.SelectionSet, connFields(p))
	if !ok {
		return nil
	}
	p.conn = conn
	return p
}

// compileObject builds the writer of set from the plain fields of its
// type (fields); false when set has anything else or repeats an alias.
func compileObject[T any](set ast.SelectionSet, fields map[string]func(*ast.Field) (func(io.Writer, T), bool)) (object[T], bool) {
	var o object[T]
	seen := map[string]bool{}
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok || len(f.Directives) > 0 || len(f.Arguments) > 0 || seen[f.Alias] {
			return nil, false
		}
		seen[f.Alias] = true
		mk, ok := fields[f.Name]
		if !ok {
			return nil, false
		}
		write, ok := mk(f)
		if !ok {
			return nil, false
		}
		o = append(o, member[T]{key: key(f.Alias, len(o) == 0), write: write})
	}
	return o, len(o) > 0
}

// key is `"alias":` as gqlgen writes it, after a comma unless first.
func key(alias string, first bool) []byte {
	var b bytes.Buffer
	if !first {
		b.WriteByte(',')
	}
	graphql.MarshalString(alias).MarshalGQL(&b)
	b.WriteByte(':')
	return b.Bytes()
}

// leaf makes a field without a selection set.
func leaf[T any](write func(io.Writer, T)) func(*ast.Field) (func(io.Writer, T), bool) {
	return func(f *ast.Field) (func(io.Writer, T), bool) { return write, len(f.SelectionSet) == 0 }
}

func typename[T any](name string) func(*ast.Field) (func(io.Writer, T), bool) {
	var b bytes.Buffer
	graphql.MarshalString(name).MarshalGQL(&b)
	lit := b.Bytes()
	return leaf(func(w io.Writer, _ T) { w.Write(lit) })
}

var (
	null                      = []byte("null")
	openBracket, closeBracket = []byte{'['}, []byte{']'}
	comma, quote              = []byte{','}, []byte{'"'}
)

// quoted writes s as strconv.Quote does (the marshalers of IDs, amounts
// and enums write their values so), without its allocation when s is
// printable ASCII with nothing to escape, as those values are.
func quoted(w io.Writer, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			io.WriteString(w, strconv.Quote(s))
			return
		}
	}
	w.Write(quote)
	io.WriteString(w, s)
	w.Write(quote)
}

// quotedTime writes t as graphql.MarshalTime does, formatted in place
// when w is the plan's buffer (RFC 3339 is printable ASCII).
func quotedTime(w io.Writer, t time.Time) {
	buf, ok := w.(*bytes.Buffer)
	switch {
	case t.IsZero():
		w.Write(null)
	case ok:
		b := append(buf.AvailableBuffer(), '"')
		b = t.AppendFormat(b, time.RFC3339Nano)
		buf.Write(append(b, '"'))
	default:
		graphql.MarshalTime(t).MarshalGQL(w)
	}
}

// quotedAmount writes money.Format(micro, cur) quoted, as the Decimal
// marshaler does.
func quotedAmount(w io.Writer, micro int64, cur string) {
	quotedDecimal(w, func(b []byte) []byte { return money.AppendFormat(b, micro, cur) })
}

// writeAmount writes t.DecimalAmount() as its marshaler does: the amount
// without its sign.
func writeAmount(w io.Writer, t *ent.Posting) {
	quotedDecimal(w, func(b []byte) []byte { return money.AppendFormatMagnitude(b, t.Amount, t.Currency) })
}

// quotedDecimal writes the amount text appendTo appends, quoted as the
// Decimal marshaler does, formatted in place when w is the plan's buffer
// (two amounts a row were four to six strings each).
func quotedDecimal(w io.Writer, appendTo func([]byte) []byte) {
	buf, ok := w.(*bytes.Buffer)
	if !ok {
		money.Decimal(appendTo(nil)).MarshalGQL(w)
		return
	}
	b := append(buf.AvailableBuffer(), '"')
	b = appendTo(b)
	buf.Write(append(b, '"'))
}

// writeRunningBalance writes t.DecimalRunningBalance() as its marshaler
// does: zero when the posting has none.
func writeRunningBalance(w io.Writer, t *ent.Posting) {
	var rb int64
	if t.RunningBalance != nil {
		rb = *t.RunningBalance
	}
	quotedAmount(w, rb, t.Currency)
}

func optString(w io.Writer, s *string) {
	if s == nil {
		w.Write(null)
		return
	}
	graphql.MarshalString(*s).MarshalGQL(w)
}

func connFields(p *historyPlan) map[string]func(*ast.Field) (func(io.Writer, *model.CreditTransactionConnection), bool) {
	type C = *model.CreditTransactionConnection
	return map[string]func(*ast.Field) (func(io.Writer, C), bool){
		"__typename": typename[C]("CreditTransactionConnection"),
		"totalCount": func(f *ast.Field) (func(io.Writer, C), bool) {
			p.use.NoTotal = false
			return func(w io.Writer, c C) { graphql.MarshalInt(c.TotalCount).MarshalGQL(w) }, len(f.SelectionSet) == 0
		},
		"pageInfo": func(f *ast.Field) (func(io.Writer, C), bool) {
			o, ok := compileObject(f.SelectionSet, pageInfoFields(p))
			p.needsPageInfo = true
			return func(w io.Writer, c C) { o.write(w, c.PageInfo) }, ok
		},
		"edges": func(f *ast.Field) (func(io.Writer, C), bool) {
			o, ok := compileObject(f.SelectionSet, edgeFields(p))
			return func(w io.Writer, c C) {
				w.Write(openBracket)
				for i, e := range c.Edges {
					if i > 0 {
						w.Write(comma)
					}
					o.write(w, e)
				}
				w.Write(closeBracket)
			}, ok
		},
	}
}

// pageInfoFields are PageInfo's fields; a cursor among them makes the
// plan's page have cursors.
func pageInfoFields(p *historyPlan) map[string]func(*ast.Field) (func(io.Writer, *model.PageInfo), bool) {
	type I = *model.PageInfo
	return map[string]func(*ast.Field) (func(io.Writer, I), bool){
		"__typename":      typename[I]("PageInfo"),
		"hasNextPage":     leaf(func(w io.Writer, i I) { graphql.MarshalBoolean(i.HasNextPage).MarshalGQL(w) }),
		"hasPreviousPage": leaf(func(w io.Writer, i I) { graphql.MarshalBoolean(i.HasPreviousPage).MarshalGQL(w) }),
		"startCursor":     cursorField(p, func(w io.Writer, i I) { optString(w, i.StartCursor) }),
		"endCursor":       cursorField(p, func(w io.Writer, i I) { optString(w, i.EndCursor) }),
	}
}

// cursorField makes a field that writes a cursor: the plan's page is read
// with its cursors.
func cursorField[T any](p *historyPlan, write func(io.Writer, T)) func(*ast.Field) (func(io.Writer, T), bool) {
	return func(f *ast.Field) (func(io.Writer, T), bool) {
		p.use.NoCursors = false
		return write, len(f.SelectionSet) == 0
	}
}

func edgeFields(p *historyPlan) map[string]func(*ast.Field) (func(io.Writer, *model.CreditTransactionEdge), bool) {
	type E = *model.CreditTransactionEdge
	return map[string]func(*ast.Field) (func(io.Writer, E), bool){
		"__typename": typename[E]("CreditTransactionEdge"),
		"cursor":     cursorField(p, func(w io.Writer, e E) { graphql.MarshalString(e.Cursor).MarshalGQL(w) }),
		"node": func(f *ast.Field) (func(io.Writer, E), bool) {
			o, ok := compileObject(f.SelectionSet, transactionFields(p))
			return func(w io.Writer, e E) { o.write(w, e.Node) }, ok
		},
	}
}

// transactionFields are CreditTransaction's fields that need no I/O: the
// posting's columns and its model methods (ent/posting_gql.go). Those
// beyond credits.HistorySummary's columns make the plan read
// credits.HistoryDetail's.
func transactionFields(p *historyPlan) map[string]func(*ast.Field) (func(io.Writer, *ent.Posting), bool) {
	type P = *ent.Posting
	detail := func(write func(io.Writer, P)) func(*ast.Field) (func(io.Writer, P), bool) {
		return func(f *ast.Field) (func(io.Writer, P), bool) {
			p.use.Columns = credits.HistoryDetail
			return write, len(f.SelectionSet) == 0
		}
	}
	return map[string]func(*ast.Field) (func(io.Writer, P), bool){
		"__typename": typename[P]("CreditTransaction"),
		"id":         leaf(func(w io.Writer, t P) { quoted(w, string(t.ID)) }),
		"createdAt": func(f *ast.Field) (func(io.Writer, P), bool) {
			p.needsCreatedAt = true
			return func(w io.Writer, t P) { quotedTime(w, t.CreatedAt) }, len(f.SelectionSet) == 0
		},
		"type":           leaf(func(w io.Writer, t P) { quoted(w, string(t.Direction())) }),
		"amount":         leaf(writeAmount),
		"currency":       leaf(func(w io.Writer, t P) { graphql.MarshalString(t.Currency).MarshalGQL(w) }),
		"runningBalance": leaf(writeRunningBalance),
		"kind":           detail(func(w io.Writer, t P) { quoted(w, string(t.Kind)) }),
		"reference":      detail(func(w io.Writer, t P) { graphql.MarshalString(t.Reference).MarshalGQL(w) }),
		"variant":        detail(func(w io.Writer, t P) { optString(w, t.Variant) }),
		"reason":         detail(func(w io.Writer, t P) { optString(w, t.Reason) }),
		"actor":          detail(func(w io.Writer, t P) { graphql.MarshalString(t.Actor).MarshalGQL(w) }),
		"quantity": detail(func(w io.Writer, t P) {
			if t.Quantity == nil {
				w.Write(null)
				return
			}
			graphql.MarshalInt(*t.Quantity).MarshalGQL(w)
		}),
	}
}
