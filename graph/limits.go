package graph

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"creditgate/credits"
	"creditgate/ent/creditrequest"
	"creditgate/ent/invoice"
	"creditgate/ent/posting"
	"creditgate/enums"
	"creditgate/gid"
	"creditgate/reqid"
)

// Limits bound what one operation may cost the gateway. A zero field takes
// its default; a negative one turns that limit off (tests, benchmarks).
// Every refusal is a GraphQL error with extensions.code, decided before
// anything runs.
type Limits struct {
	MaxDepth      int // nested selections; 0: 12 (introspection's ofType chains are free)
	MaxComplexity int // objects an operation may ask for (scalars are free), a connection costing first × its selection; 0: 2000
	MaxFields     int // fields and aliases, fragments expanded; 0: 500
	MaxTokens     int // lexer tokens in one document; 0: 15000
	// Timeout bounds each query and mutation (not subscriptions); 0: 10 s.
	// The resolvers' context is cancelled, so a waiting database call
	// returns and a mutation's transaction rolls back.
	Timeout        time.Duration
	APQCacheSize   int // automatic persisted queries kept (LRU); 0: 1000
	QueryCacheSize int // parsed and validated documents kept (LRU); 0: 1000
	RateLimit      RateLimit
}

const (
	defaultMaxDepth       = 12
	defaultMaxComplexity  = 2000
	defaultMaxFields      = 500
	defaultMaxTokens      = 15000
	defaultTimeout        = 10 * time.Second
	defaultAPQCacheSize   = 1000
	defaultQueryCacheSize = 1000
)

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxDepth, defaultMaxDepth)
	def(&l.MaxComplexity, defaultMaxComplexity)
	def(&l.MaxFields, defaultMaxFields)
	def(&l.MaxTokens, defaultMaxTokens)
	def(&l.APQCacheSize, defaultAPQCacheSize)
	def(&l.QueryCacheSize, defaultQueryCacheSize)
	if l.Timeout == 0 {
		l.Timeout = defaultTimeout
	}
	l.RateLimit = l.RateLimit.withDefaults()
	return l
}

// useLimits installs the limits on srv, cheapest refusal first: the token
// limit while parsing, then persisted queries, shape (depth and field
// count, which also bounds the work of what follows), NUL characters in
// string inputs, complexity, the rate limit (so refused operations spend
// no tokens), and the timeout. (requireViewer comes before them all.)
func useLimits(srv *handler.Server, l Limits, introspection bool, log *slog.Logger) {
	if l.MaxTokens > 0 {
		srv.SetParserTokenLimit(l.MaxTokens)
	}
	var parsed graphql.Cache[*ast.QueryDocument]
	if l.QueryCacheSize > 0 {
		parsed = lru.New[*ast.QueryDocument](l.QueryCacheSize)
		srv.SetQueryCache(parsed)
	}
	if l.APQCacheSize > 0 {
		srv.Use(persistedQueries{extension.AutomaticPersistedQuery{Cache: lru.New[string](l.APQCacheSize)}})
	}
	srv.Use(documentGuard{maxFields: l.MaxFields, maxTokens: l.MaxTokens, noIntrospection: !introspection, parsed: parsed})
	srv.Use(shapeLimit{maxDepth: l.MaxDepth, maxFields: l.MaxFields})
	srv.Use(nulInputs{}) // not a limit, but a refusal that must spend no rate-limit tokens
	if l.MaxComplexity > 0 {
		srv.Use(complexityLimit{extension.FixedComplexityLimit(l.MaxComplexity, complexity.WithFixedScalarValue(0))})
	}
	if rl := newRateLimiter(l.RateLimit); rl != nil {
		srv.Use(rl)
	}
	if l.Timeout > 0 {
		srv.Use(operationTimeout{d: l.Timeout, log: log, boxed: l.Timeout})
	}
}

// badInput is a refusal of the whole operation, made before it runs.
func badInput(format string, args ...any) *gqlerror.Error {
	err := gqlerror.Errorf(format, args...)
	errcode.Set(err, string(credits.CodeBadInput))
	return err
}

// ---------------------------------------------------------------- complexity

// The cost model counts objects, not scalars (as GitHub's and Shopify's
// do): a scalar or enum field is free (WithFixedScalarValue(0) in
// useLimits), every object field costs 1 plus its selection, and a
// connection costs first times its selection, so nesting one list inside
// another multiplies, as it does in the database. A page of 100 with the
// fields the portal and the dashboard show, nested one level (a request's
// transaction and its account), costs about 600; a list inside a list of
// 100 costs tens of thousands.
//
// complexityRoot gives connections their real cost: a page of first items
// (20 when first is omitted) costs first times its selection, and at least
// first (each item is an object fetched, even when only totalCount is
// selected beside it).
func complexityRoot() ComplexityRoot {
	var c ComplexityRoot
	c.Query.History = func(child int, _ *gid.ID, _ *string, _ *enums.TransactionType, first *int, _ *string, _, _ *time.Time, _ []posting.Kind) int {
		return pageCost(child, first)
	}
	c.Query.Requests = func(child int, _ *gid.ID, _ *creditrequest.Status, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Query.Invoices = func(child int, _ *gid.ID, _ *invoice.Status, first *int, _ *string) int {
		return pageCost(child, first)
	}
	c.Agency.Accounts = func(child int, first *int, _ *string) int {
		return pageCost(child, first)
	}
	return c
}

// defaultPageSize mirrors the domain's default page (credits.PageArgs).
const defaultPageSize = 20

// pageCost is 1 plus first × child (child at least 1). first is clamped to
// the page-size bound: a larger first is refused by the resolver with its
// own message, and a huge one must not overflow.
func pageCost(child int, first *int) int {
	n := defaultPageSize
	if first != nil {
		n = min(max(*first, 1), credits.MaxPageSize)
	}
	child = max(child, 1)
	if child > (math.MaxInt32-1)/n {
		return math.MaxInt32
	}
	return 1 + n*child
}

// complexityLimit is gqlgen's complexity limit answering in the contract's
// code (gqlgen says COMPLEXITY_LIMIT_EXCEEDED).
type complexityLimit struct{ *extension.ComplexityLimit }

func (c complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	err := c.ComplexityLimit.MutateOperationContext(ctx, opCtx)
	if err != nil {
		errcode.Set(err, string(credits.CodeBadInput))
	}
	return err
}

// ---------------------------------------------------------------- persisted queries

// persistedQueries is gqlgen's automatic persisted queries. An unknown
// hash keeps gqlgen's PersistedQueryNotFound / PERSISTED_QUERY_NOT_FOUND,
// which is what APQ clients (Apollo, urql) react to by resending the query;
// its other refusals (a hash that does not match, bad extension data)
// become BAD_USER_INPUT instead of having no code.
type persistedQueries struct {
	extension.AutomaticPersistedQuery
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if p.known(ctx, params) {
		return nil
	}
	err := p.AutomaticPersistedQuery.MutateOperationParameters(ctx, params)
	if err != nil {
		if _, ok := err.Extensions["code"]; !ok {
			errcode.Set(err, string(credits.CodeBadInput))
		}
	}
	return err
}

// known serves the common case, a version 1 hash alone that the cache
// knows, without gqlgen's generic decoding of the extension (a tenth of a
// small mutation's CPU); anything else takes gqlgen's path, errors included.
func (p persistedQueries) known(ctx context.Context, params *graphql.RawParams) bool {
	ext, ok := params.Extensions["persistedQuery"].(map[string]any)
	if !ok || params.Query != "" {
		return false
	}
	hash, ok := ext["sha256Hash"].(string)
	if !ok {
		return false
	}
	switch v := ext["version"].(type) {
	case json.Number:
		if v != "1" {
			return false
		}
	case float64:
		if v != 1 {
			return false
		}
	default:
		return false
	}
	q, ok := p.Cache.Get(ctx, hash)
	if !ok {
		return false
	}
	params.Query = q
	graphql.GetOperationContext(ctx).Stats.SetExtension("APQ", &extension.ApqStats{Hash: hash})
	return true
}

// ---------------------------------------------------------------- depth and breadth

// shapeLimit refuses operations nested deeper than maxDepth or selecting
// more than maxFields fields (every alias and every use of a fragment
// counts). It measures in time linear in the document, whatever the
// fragments do, so it runs before gqlgen's complexity walk, which expands
// fragments without memoizing them.
type shapeLimit struct{ maxDepth, maxFields int }

func (shapeLimit) ExtensionName() string                   { return "ShapeLimit" }
func (shapeLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (s shapeLimit) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	m := measureShape(opCtx.Operation.SelectionSet)
	switch {
	case s.maxDepth > 0 && m.depth > s.maxDepth:
		return badInput("query depth %d exceeds the limit of %d", m.depth, s.maxDepth)
	case s.maxFields > 0 && m.fields > s.maxFields:
		return badInput("the operation selects %d fields (aliases and fragment uses count), more than the limit of %d", m.fields, s.maxFields)
	}
	return nil
}

type shape struct{ depth, fields int }

type fragmentKey struct {
	name  string
	intro bool
}

type shapeWalker struct{ memo map[fragmentKey]shape }

func measureShape(set ast.SelectionSet) shape {
	w := shapeWalker{memo: map[fragmentKey]shape{}}
	return w.selectionSet(set, false)
}

// selectionSet measures set; intro says it is inside __schema or __type,
// whose ofType chains (GraphiQL nests nine) do not count as depth.
func (w shapeWalker) selectionSet(set ast.SelectionSet, intro bool) shape {
	var s shape
	add := func(c shape) {
		s.depth = max(s.depth, c.depth)
		s.fields = satAdd(s.fields, c.fields)
	}
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			inIntro := intro || x.Name == "__schema" || x.Name == "__type"
			c := w.selectionSet(x.SelectionSet, inIntro)
			if !(intro && x.Name == "ofType") {
				c.depth++
			}
			c.fields = satAdd(c.fields, 1)
			add(c)
		case *ast.InlineFragment:
			add(w.selectionSet(x.SelectionSet, intro))
		case *ast.FragmentSpread:
			if x.Definition == nil {
				continue
			}
			k := fragmentKey{x.Name, intro}
			c, ok := w.memo[k]
			if !ok {
				c = w.selectionSet(x.Definition.SelectionSet, intro)
				w.memo[k] = c
			}
			add(c)
		}
	}
	return s
}

// rootFields counts the root fields an operation runs (aliases count,
// __typename does not), each fragment measured once.
func rootFields(set ast.SelectionSet, memo map[string]int) int {
	n := 0
	for _, sel := range set {
		switch x := sel.(type) {
		case *ast.Field:
			if x.Name != "__typename" {
				n = satAdd(n, 1)
			}
		case *ast.InlineFragment:
			n = satAdd(n, rootFields(x.SelectionSet, memo))
		case *ast.FragmentSpread:
			if x.Definition == nil {
				continue
			}
			c, ok := memo[x.Name]
			if !ok {
				c = rootFields(x.Definition.SelectionSet, memo)
				memo[x.Name] = c
			}
			n = satAdd(n, c)
		}
	}
	return n
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

// ---------------------------------------------------------------- timeout

// errOperationTimeout is the cause of a context cancelled by the timeout.
var errOperationTimeout = errors.New("operation timed out")

// operationTimeout gives each query and mutation a deadline. Subscriptions
// live as long as their connection and are bounded elsewhere.
type operationTimeout struct {
	d   time.Duration
	log *slog.Logger
	// boxed is d as the context value timeoutError reads, made once: a
	// duration put into a context is boxed, an allocation per operation.
	boxed any
}

func (operationTimeout) ExtensionName() string                   { return "OperationTimeout" }
func (operationTimeout) Validate(graphql.ExecutableSchema) error { return nil }

func (t operationTimeout) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil || opCtx.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, t.d, errOperationTimeout)
	ctx = context.WithValue(ctx, timeoutKey{}, t.boxed)
	responses := next(ctx)
	// A query or mutation answers once; a transport that asks again gets
	// the end of the stream either way.
	answered := false
	return func(ctx context.Context) *graphql.Response {
		defer cancel()
		resp := responses(ctx)
		if answered || !errors.Is(context.Cause(ctx), errOperationTimeout) {
			return resp
		}
		answered = true
		t.log.WarnContext(ctx, "operation timed out", "operation", opCtx.OperationName,
			"type", string(opCtx.Operation.Operation), "timeout_ms", t.d.Milliseconds(), "request_id", reqid.FromContext(ctx))
		if resp == nil {
			// gqlgen answers nothing at all when the context is done
			// before execution starts.
			resp = &graphql.Response{Errors: gqlerror.List{timeoutError(ctx)}}
		}
		return resp
	}
}

type timeoutKey struct{}

// presentLimits wraps the error presenter: an internal error caused by the
// operation's deadline says so (still INTERNAL: it is no fault of the
// input), instead of looking like an unexplained failure; and every
// RATE_LIMITED says when to retry, as the contract wants, even the
// domain's (a connection's subscription cap: after closing one).
func presentLimits(next graphql.ErrorPresenterFunc) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if !errors.Is(context.Cause(ctx), errOperationTimeout) || credits.CodeOf(err) != credits.CodeInternal {
			gerr := next(ctx, err)
			if gerr != nil && gerr.Extensions["code"] == string(credits.CodeRateLimited) && gerr.Extensions["retryAfter"] == nil {
				gerr.Extensions["retryAfter"] = 1
			}
			return gerr
		}
		if gerr, ok := errors.AsType[*gqlerror.Error](err); ok && gerr.Extensions["code"] != nil {
			return next(ctx, err) // already presented
		}
		gerr := timeoutError(ctx)
		gerr.Path = graphql.GetPath(ctx)
		return gerr
	}
}

// timeoutError is the answer of an operation cut short by its deadline.
func timeoutError(ctx context.Context) *gqlerror.Error {
	d, _ := ctx.Value(timeoutKey{}).(time.Duration)
	id := reqid.FromContext(ctx)
	err := gqlerror.Errorf("the operation did not finish within %s and was cancelled (request id %s)", d, id)
	errcode.Set(err, string(credits.CodeInternal))
	err.Extensions["requestId"] = id
	return err
}
