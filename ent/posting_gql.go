package ent

// Hand-written (not generated): GraphQL views of a posting that gqlgen
// binds as plain methods (gqlgen.yml), so a page of history costs no
// resolver goroutine per row and field.

import (
	"creditgate/enums"
	"creditgate/money"
)

// Direction is the transaction's type: OUT for a debit, IN for a credit.
func (_m *Posting) Direction() enums.TransactionType {
	if _m.Amount < 0 {
		return enums.TransactionTypeOut
	}
	return enums.TransactionTypeIn
}

// DecimalAmount is the amount without its sign (the type says the direction).
func (_m *Posting) DecimalAmount() money.Decimal {
	return money.FormatMagnitude(_m.Amount, _m.Currency)
}

// DecimalRunningBalance is the account's balance right after the posting.
func (_m *Posting) DecimalRunningBalance() money.Decimal {
	var rb int64
	if _m.RunningBalance != nil {
		rb = *_m.RunningBalance
	}
	return money.Format(rb, _m.Currency)
}
