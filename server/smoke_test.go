package main

import (
	"testing"

	"creditgate/money"
)

func moneyDecimal(s string) money.Decimal { return money.Decimal(s) }

func TestSmokeReadsAndPays(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "200")
		var out struct {
			PayInvoiceWithCredit struct {
				Invoice     struct{ Status string }
				Transaction struct{ Type, Amount, RunningBalance string }
				Balance     struct{ Available string }
			}
		}
		a.gql(a.client(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) {
			invoice { status } transaction { type amount runningBalance } balance { available } } }`,
			map[string]any{"i": a.fx.InvoiceA1}).decode(t, &out)
		p := out.PayInvoiceWithCredit
		if p.Invoice.Status != "PAID" || p.Transaction.Type != "OUT" || p.Transaction.Amount != "120.00" ||
			p.Transaction.RunningBalance != "80.00" || p.Balance.Available != "80.00" {
			t.Fatalf("unexpected payment: %+v", p)
		}
		if got := a.balance(a.fx.A1); got != "80.00" {
			t.Fatalf("balance after payment = %s, want 80.00", got)
		}
	})
}
