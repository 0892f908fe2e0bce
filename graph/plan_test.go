package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
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
	if _, ok := fieldRoles("history"); !ok {
		t.Error("history's @hasRole not found in the schema")
	}
}
