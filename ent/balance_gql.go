package ent

// Hand-written (not generated): GraphQL views of a balance that gqlgen
// binds as plain methods (gqlgen.yml), as posting_gql.go does for a
// posting: no resolver, and one definition for the executor and for the
// prepared plans (graph/plan.go).

import "creditgate/money"

// DecimalAvailable is what the account may spend now: total less held.
func (_m *Balance) DecimalAvailable() money.Decimal {
	return money.Format(_m.Available, _m.Currency)
}

// DecimalHeld is what active holds set aside.
func (_m *Balance) DecimalHeld() money.Decimal {
	return money.Format(_m.Held, _m.Currency)
}

// DecimalTotal is what the ledger holds: available and held.
func (_m *Balance) DecimalTotal() money.Decimal {
	return money.Format(_m.Available+_m.Held, _m.Currency)
}

// DecimalOwed is what refunds and disputes could not take back.
func (_m *Balance) DecimalOwed() money.Decimal {
	return money.Format(_m.Owed, _m.Currency)
}
