package graph

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"creditgate/credits"
	"creditgate/ent"
	"creditgate/gid"
)

// TestHistoryPlanCompiles: which documents get a prepared plan (the
// answers themselves are compared with the executor's in
// server/plan_test.go).
func TestHistoryPlanCompiles(t *testing.T) {
	for doc, want := range map[string]bool{
		`{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`:                                                                                                      true,
		`query H($n: Int) { h: history(first: $n) { __typename totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id kind reference variant quantity actor reason currency } } } }`: true,
		`{ history { edges { node { id account { id } } } } }`:                                                                                                                                       false, // I/O field
		`{ history { edges { node { id reversedBy { id } } } } }`:                                                                                                                                    false,
		`{ history { edges { node { ... on CreditTransaction { id } } } } }`:                                                                                                                         false, // fragment
		`{ history { edges { node { id @include(if: true) } } } }`:                                                                                                                                   false, // directive
		`{ history { edges { node { id id } } } }`:                                                                                                                                                   false, // repeated alias
		`{ history { totalCount } balance { available } }`:                                                                                                                                           false, // two root fields
		`{ balance { available } }`:                                                                                                                                                                  false,
		`mutation { payInvoiceWithCredit(input: {invoiceId: "x"}) { transaction { id } } }`:                                                                                                          false,
	} {
		q, errs := gqlparser.LoadQuery(parsedSchema, doc)
		if errs != nil {
			t.Fatalf("%s: %v", doc, errs)
		}
		if got := compileHistory(q.Operations[0]) != nil; got != want {
			t.Errorf("%s: plan %v, want %v", doc, got, want)
		}
	}
	// What each plan has its page read for (the executor, when the plan
	// leaves an answer to it, writes the same fields).
	summary, detail := credits.HistorySummary, credits.HistoryDetail
	for doc, want := range map[string]credits.HistoryUse{
		`{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`:           {Columns: summary, NoTotal: true, NoCursors: true},
		`{ history { totalCount pageInfo { endCursor } edges { cursor node { __typename currency } } } }`: {Columns: summary},
		`{ history(type: OUT) { edges { node { id kind } } } }`:                                           {Columns: detail, NoTotal: true, NoCursors: true},
		`{ history { edges { node { quantity } } } }`:                                                     {Columns: detail, NoTotal: true, NoCursors: true},
		`{ history { n: totalCount edges { node { amount reason } } } }`:                                  {Columns: detail, NoCursors: true},
		`{ history { pageInfo { hasNextPage } edges { node { id } } } }`:                                  {Columns: summary, NoTotal: true, NoCursors: true},
		`{ history { pageInfo { startCursor } edges { node { id } } } }`:                                  {Columns: summary, NoTotal: true},
		`{ history { edges { c: cursor } } }`:                                                             {Columns: summary, NoTotal: true},
	} {
		q, errs := gqlparser.LoadQuery(parsedSchema, doc)
		if errs != nil {
			t.Fatalf("%s: %v", doc, errs)
		}
		if p := compileHistory(q.Operations[0]); p == nil || p.use != want {
			t.Errorf("%s: plan %+v, want %+v", doc, p, want)
		}
	}
	if _, ok := fieldRoles("history"); !ok {
		t.Error("history's @hasRole not found in the schema")
	}
}

// TestBalancePlanCompiles: which balance documents get a prepared plan
// (answers compared in server/plan_test.go).
func TestBalancePlanCompiles(t *testing.T) {
	s, ok := newPlannedSchema(NewExecutableSchema(Config{}), 10).(*plannedSchema)
	if !ok {
		t.Fatal("no planned schema: a planned root field's @hasRole is not found in the schema")
	}
	for doc, want := range map[string]bool{
		`{ balance { available } }`: true,
		`query B($c: String) { b: balance(currency: $c) { __typename currency available held total owed updatedAt } }`: true,
		`{ balances { currency available } }`:              true,
		`{ balance { available account { id } } }`:         false, // I/O field
		`{ balance { available runway { daysLeft } } }`:    false,
		`{ balance { available @include(if: true) } }`:     false, // directive
		`{ balance { ... on Balance { available } } }`:     false, // fragment
		`{ balance { a: available a: available } }`:        false, // repeated alias
		`{ balance { available } balances { available } }`: false, // two root fields
		`{ balance @include(if: true) { available } }`:     false,
		`{ viewer { role } }`:                              false, // not a planned field
		`{ history(first: 1) { edges { node { id } } } }`:  true,
	} {
		q, errs := gqlparser.LoadQuery(parsedSchema, doc)
		if errs != nil {
			t.Fatalf("%s: %v", doc, errs)
		}
		if got := s.compile(q.Operations[0]) != nil; got != want {
			t.Errorf("%s: plan %v, want %v", doc, got, want)
		}
	}
}

// TestPlanQuotesAsMarshalers: the plan writes IDs, amounts, enums and
// instants itself; each must be what their marshalers write, escapes
// included.
func TestPlanQuotesAsMarshalers(t *testing.T) {
	for _, s := range []string{"", "pst_0fjt87jx9t06rgddrxg1yn7n7m", "12.50", "OUT", `a"b`, `a\b`, "tab\there", "é", "\x7f", "\xff", "line\n"} {
		var got, want bytes.Buffer
		quoted(&got, s)
		gid.ID(s).MarshalGQL(&want)
		if got.String() != want.String() {
			t.Errorf("quoted(%q) = %s, want %s", s, got.String(), want.String())
		}
	}
	for _, tm := range []time.Time{
		time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 9, 0, 0, 568000000, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2026, 3, 1, 9, 0, 0, 1000, time.FixedZone("", 2*3600)),
		{},
	} {
		var want bytes.Buffer
		graphql.MarshalTime(tm).MarshalGQL(&want)
		var buf bytes.Buffer
		buf.WriteString("x")
		quotedTime(&buf, tm)
		var other strings.Builder // not the plan's buffer
		quotedTime(&other, tm)
		if buf.String() != "x"+want.String() || other.String() != want.String() {
			t.Errorf("quotedTime(%v) = %s and %s, want %s", tm, buf.String()[1:], other.String(), want.String())
		}
	}
}

// A transaction's amount is shown without its sign for every int64, the
// most negative one included (whose -a is itself), by the plan's writer
// as by the executor's marshaler.
func TestAmountWithoutSign(t *testing.T) {
	for _, c := range []struct {
		amount int64
		want   string
	}{{-12_500000, `"12.50"`}, {12_500000, `"12.50"`}, {math.MinInt64, `"9223372036854.775808"`}, {math.MaxInt64, `"9223372036854.775807"`}} {
		p := &ent.Posting{Amount: c.amount, Currency: "USD"}
		var buf bytes.Buffer
		writeAmount(&buf, p) // the plan's buffer: formatted in place
		var other strings.Builder
		writeAmount(&other, p) // any other writer: the marshaler
		var marshaled bytes.Buffer
		p.DecimalAmount().MarshalGQL(&marshaled)
		if buf.String() != c.want || other.String() != c.want || marshaled.String() != c.want {
			t.Errorf("amount %d: plan %s, other writer %s, marshaler %s; want %s", c.amount, buf.String(), other.String(), marshaled.String(), c.want)
		}
	}
}
