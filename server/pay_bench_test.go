package main

import (
	"fmt"
	"sync/atomic"
	"testing"

	"creditgate/credits"
	"creditgate/gid"
	"creditgate/money"
)

// BenchmarkPayInvoiceHTTP pays invoices through the whole in-process stack
// (HTTP, JWT, GraphQL, domain, PostgreSQL), spread over accounts; for
// profiling (-cpuprofile). The load generator in bench/ is the real
// measurement against the ceiling.
func BenchmarkPayInvoiceHTTP(b *testing.B) {
	a := newAPI(b, "postgres")
	const accounts = 64
	type inv struct {
		id    gid.ID
		token string
	}
	var invs []inv
	for i := range accounts {
		acc, err := a.svc.CreateAccount(sys(), &a.fx.AgencyA, fmt.Sprint("bench ", i))
		if err != nil {
			b.Fatal(err)
		}
		a.fund(acc.ID, "1000")
		tok := a.token("client", a.fx.AgencyA, acc.ID)
		for j := range b.N/accounts + 1 {
			in, err := a.svc.CreateInvoice(sys(), credits.NewInvoice{AccountID: acc.ID, Number: fmt.Sprint(i, "-", j), Amount: money.Decimal("0.01"), CreditEligible: true})
			if err != nil {
				b.Fatal(err)
			}
			invs = append(invs, inv{in.ID, tok})
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			r := a.gql(invs[i].token, `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { transaction { id } } }`, map[string]any{"i": invs[i].id})
			if len(r.Errors) > 0 {
				b.Errorf("pay: %v", r.Errors)
				return
			}
		}
	})
}
