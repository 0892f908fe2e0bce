package graph

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/ast"

	"creditgate/ent/posting"
	"creditgate/metrics"
)

// Metrics are the GraphQL layer's Prometheus metrics. A nil *Metrics
// records nothing.
type Metrics struct {
	operations    *prometheus.CounterVec   // operation, type, outcome
	duration      *prometheus.HistogramVec // type
	moneyMoved    *prometheus.CounterVec   // kind, currency
	subscriptions *prometheus.GaugeVec     // type

	names *nameSet
	// The counter of each operation name, type and outcome seen, and the
	// histogram of each type: bounded as the vectors are (names by
	// nameSet, types and codes are closed sets).
	series    *metrics.Children[operationKey, prometheus.Counter]
	durations *metrics.Children[string, prometheus.Observer]
}

type operationKey struct{ name, typ, outcome string }

// NewMetrics creates the metrics and registers them with reg. Registering
// twice with one registry reuses the metrics already there.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditgate_graphql_operations_total",
			Help: "GraphQL operations answered, by operation name, type and outcome (\"ok\" or the first error's code).",
		}, []string{"operation", "type", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "creditgate_graphql_operation_seconds",
			Help:    "Time from receiving a query or mutation to its answer.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
		moneyMoved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "creditgate_money_moved_micro_total",
			Help: "Credits moved onto or off balances (by mutations, payment webhooks and auto top-ups), in micro-units (millionths) of the currency, by transaction kind.",
		}, []string{"kind", "currency"}),
		subscriptions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "creditgate_subscriptions_open",
			Help: "Subscriptions open now, by subscription field.",
		}, []string{"type"}),
		names: &nameSet{max: maxOperationNames, seen: map[string]struct{}{}},
	}
	m.operations = metrics.Register(reg, m.operations)
	m.duration = metrics.Register(reg, m.duration)
	m.moneyMoved = metrics.Register(reg, m.moneyMoved)
	m.subscriptions = metrics.Register(reg, m.subscriptions)
	m.series = metrics.NewChildren(func(k operationKey) prometheus.Counter {
		return m.operations.WithLabelValues(k.name, k.typ, k.outcome)
	})
	m.durations = metrics.NewChildren(func(typ string) prometheus.Observer {
		return m.duration.WithLabelValues(typ)
	})
	return m
}

// countOperation counts an answered operation and, with d >= 0, its duration.
func (m *Metrics) countOperation(name, typ, outcome string, d time.Duration) {
	m.series.Of(operationKey{name, typ, outcome}).Inc()
	if d >= 0 {
		m.durations.Of(typ).Observe(d.Seconds())
	}
}

// use installs the hooks that feed the metrics.
func (m *Metrics) use(srv *handler.Server) {
	if m == nil {
		return
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// Only subscriptions look the metrics up (subscriptionOpened): a
		// query or mutation does not carry them, one allocation less each.
		if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Subscription {
			return next(ctx)
		}
		return next(context.WithValue(ctx, metricsKey{}, m))
	})
	srv.AroundResponses(m.observeResponse)
}

// observeMoney counts what the domain moved (mutations, webhooks and jobs).
func (m *Metrics) observeMoney(kind posting.Kind, currency string, amount int64) {
	m.moneyMoved.WithLabelValues(string(kind), currency).Add(float64(amount))
}

// ---------------------------------------------------------------- operations

// Operation names come from clients: the first maxOperationNames distinct
// well-formed names get their own series, later ones count as "other", so
// a client cannot grow the series without bound.
const maxOperationNames = 200

type nameSet struct {
	mu   sync.Mutex
	max  int
	seen map[string]struct{}
}

func (s *nameSet) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if !wellFormedName(name) {
		return "other"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.seen[name]; ok {
		return name
	}
	if len(s.seen) >= s.max {
		return "other"
	}
	s.seen[name] = struct{}{}
	return name
}

func wellFormedName(s string) bool {
	if len(s) > 64 {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// metricsState marks an operation already counted (a subscription answers
// many times; it counts once, by its first answer).
type metricsState struct{}

const metricsStats = "CreditgateMetrics"

func (m *Metrics) observeResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || !graphql.HasOperationContext(ctx) {
		return resp
	}
	opCtx := graphql.GetOperationContext(ctx)
	typ, name := "unknown", opCtx.OperationName // unknown: the document did not parse
	if opCtx.Operation != nil {
		typ, name = string(opCtx.Operation.Operation), opCtx.Operation.Name
	}
	if typ == string(ast.Subscription) {
		if opCtx.Stats.GetExtension(metricsStats) != nil {
			return resp
		}
		opCtx.Stats.SetExtension(metricsStats, metricsState{})
	}
	outcome := "ok"
	if len(resp.Errors) > 0 {
		outcome = "INTERNAL"
		if c, ok := resp.Errors[0].Extensions["code"].(string); ok {
			outcome = c
		}
	}
	d := time.Duration(-1) // none
	if typ != string(ast.Subscription) && !opCtx.Stats.OperationStart.IsZero() {
		d = time.Since(opCtx.Stats.OperationStart)
	}
	m.countOperation(m.names.label(name), typ, outcome, d)
	return resp
}

// ---------------------------------------------------------------- subscriptions

type metricsKey struct{}

func metricsFrom(ctx context.Context) *Metrics {
	m, _ := ctx.Value(metricsKey{}).(*Metrics)
	return m
}

// subscriptionOpened counts an open subscription of the resolving field
// until the returned func is called.
func (m *Metrics) subscriptionOpened(ctx context.Context) func() {
	if m == nil {
		return func() {}
	}
	typ := "unknown"
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		typ = fc.Field.Name
	}
	g := m.subscriptions.WithLabelValues(typ)
	g.Inc()
	return g.Dec
}
