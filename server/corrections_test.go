package main

import (
	"context"
	"testing"

	"creditgate/credits"
	"creditgate/ent/auditevent"
	"creditgate/gid"
)

// Corrections through the API: adjustBalance, reclaimCredits,
// reverseTransaction and voidInvoice, each on both databases, with its
// refusals leaving the whole database as it was.

const (
	corrAdjust = `mutation($a: ID!, $t: TransactionType!, $amt: Decimal!, $r: String!, $k: String) {
		adjustBalance(input: {accountId: $a, type: $t, amount: $amt, reason: $r, idempotencyKey: $k}) {
			transaction { id kind type amount runningBalance reason actor }
			balance { available }
		} }`
	corrReclaim = `mutation($a: ID!, $amt: Decimal!, $r: String, $k: String) {
		reclaimCredits(input: {fromAccountId: $a, amount: $amt, reason: $r, idempotencyKey: $k}) {
			transaction { id kind type amount reason actor }
			balance { available }
			poolBalance { available }
		} }`
	corrReverse = `mutation($id: ID!, $r: String!, $k: String) {
		reverseTransaction(input: {transactionId: $id, reason: $r, idempotencyKey: $k}) {
			transaction { id kind type amount reason actor reverses { id kind } }
			balance { available }
			invoice { id status paidAt }
		} }`
	corrVoid = `mutation($id: ID!, $r: String!) {
		voidInvoice(input: {invoiceId: $id, reason: $r}) { id status voidReason } }`
	corrHistory = `query($a: ID!) { history(accountId: $a, first: 20) { edges { node {
		id kind type amount reason actor reverses { id } reversedBy { id } } } } }`
)

type corrTxn struct {
	ID, Kind, Type, Amount, RunningBalance, Actor string
	Reason                                        *string
	Reverses, ReversedBy                          *struct{ ID, Kind string }
}

type corrPayload struct {
	Transaction corrTxn
	Balance     struct{ Available string }
	PoolBalance *struct{ Available string }
	Invoice     *struct {
		ID, Status string
		PaidAt     *string
	}
}

// corrAudits counts the audit events of action, read directly.
func corrAudits(t *testing.T, a *testAPI, action string) int {
	t.Helper()
	n, err := a.svc.DB().AuditEvent.Query().Where(auditevent.Action(action)).Count(credits.System(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// corrRefused sends a mutation that must be refused with code and change
// nothing at all.
func corrRefused(t *testing.T, a *testAPI, token, query string, vars map[string]any, code, what string) {
	t.Helper()
	before := snapshot(t, a)
	wantRefused(t, a.gql(token, query, vars), code, what)
	wantUnchanged(t, a, before, what)
}

// corrHistoryOf is acc's history (newest first), read by a system admin.
func corrHistoryOf(t *testing.T, a *testAPI, acc gid.ID) []corrTxn {
	t.Helper()
	var out struct {
		History struct{ Edges []struct{ Node corrTxn } }
	}
	a.gql(a.sysAdmin(), corrHistory, map[string]any{"a": acc}).decode(t, &out)
	var ts []corrTxn
	for _, e := range out.History.Edges {
		ts = append(ts, e.Node)
	}
	return ts
}

func TestCorrectionAdjustBalance(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "100")
		vars := func(acc gid.ID, typ, amt, reason string, key any) map[string]any {
			return map[string]any{"a": acc, "t": typ, "amt": amt, "r": reason, "k": key}
		}
		var in struct{ AdjustBalance corrPayload }
		a.gql(a.agencyAdmin(), corrAdjust, vars(a.fx.A1, "IN", "5", "  goodwill credit ", "adj-1")).decode(t, &in)
		got := in.AdjustBalance
		if got.Transaction.Kind != "ADJUSTMENT" || got.Transaction.Type != "IN" || got.Transaction.Amount != "5.00" ||
			got.Balance.Available != "105.00" || got.Transaction.Reason == nil || *got.Transaction.Reason != "goodwill credit" ||
			got.Transaction.Actor != "user-agency_admin" {
			t.Fatalf("adjust IN: %+v", got)
		}
		// A retry with the same key and input answers the first result.
		var again struct{ AdjustBalance corrPayload }
		a.gql(a.agencyAdmin(), corrAdjust, vars(a.fx.A1, "IN", "5", "goodwill credit", "adj-1")).decode(t, &again)
		if again.AdjustBalance.Transaction.ID != got.Transaction.ID || a.balance(a.fx.A1) != "105.00" {
			t.Fatalf("replay answered %s (balance %s), want %s and 105.00", again.AdjustBalance.Transaction.ID, a.balance(a.fx.A1), got.Transaction.ID)
		}
		corrRefused(t, a, a.agencyAdmin(), corrAdjust, vars(a.fx.A1, "IN", "6", "goodwill credit", "adj-1"), "CONFLICT", "same key, other input")

		var out struct{ AdjustBalance corrPayload }
		a.gql(a.agencyAdmin(), corrAdjust, vars(a.fx.A1, "OUT", "5.5", "double credit", nil)).decode(t, &out)
		if out.AdjustBalance.Transaction.Type != "OUT" || out.AdjustBalance.Balance.Available != "99.50" {
			t.Fatalf("adjust OUT: %+v", out.AdjustBalance)
		}
		// The platform corrects an agency's pool.
		var pool struct{ AdjustBalance corrPayload }
		a.gql(a.sysAdmin(), corrAdjust, vars(a.fx.PoolA, "IN", "0.000001", "rounding", nil)).decode(t, &pool)
		if pool.AdjustBalance.Balance.Available != "1000.000001" {
			t.Fatalf("pool adjusted to %s", pool.AdjustBalance.Balance.Available)
		}

		h := corrHistoryOf(t, a, a.fx.A1)
		if len(h) < 2 || h[0].Reason == nil || *h[0].Reason != "double credit" || h[0].Actor != "user-agency_admin" ||
			h[1].Reason == nil || *h[1].Reason != "goodwill credit" {
			t.Fatalf("history does not show the reasons and actor: %+v", h)
		}

		for _, c := range []struct {
			what, token, code string
			vars              map[string]any
		}{
			{"OUT beyond the balance", a.agencyAdmin(), "INSUFFICIENT_CREDITS", vars(a.fx.A1, "OUT", "99.51", "too much", nil)},
			{"an agency admin adjusting its own pool", a.agencyAdmin(), "FORBIDDEN", vars(a.fx.PoolA, "IN", "1", "self-service", nil)},
			{"a client", a.client(), "FORBIDDEN", vars(a.fx.A1, "IN", "1", "me", nil)},
			{"a client owner", a.owner(), "FORBIDDEN", vars(a.fx.A1, "IN", "1", "me", nil)},
			{"another agency's account", a.agencyAdmin(), "NOT_FOUND", vars(a.fx.B1, "IN", "1", "theirs", nil)},
			{"an empty reason", a.agencyAdmin(), "BAD_USER_INPUT", vars(a.fx.A1, "IN", "1", "   ", nil)},
			{"a zero amount", a.agencyAdmin(), "BAD_USER_INPUT", vars(a.fx.A1, "IN", "0", "zero", nil)},
			{"a negative amount", a.agencyAdmin(), "BAD_USER_INPUT", vars(a.fx.A1, "OUT", "-1", "negative", nil)},
		} {
			corrRefused(t, a, c.token, corrAdjust, c.vars, c.code, c.what)
		}
		if n := corrAudits(t, a, "adjustBalance"); n != 3 {
			t.Fatalf("%d adjustBalance audit events, want 3 (one per adjustment, none for the replay or refusals)", n)
		}
		a.verifyLedger(t)
	})
}

func TestCorrectionReclaimCredits(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		a.gql(a.agencyAdmin(), `mutation($to: ID!){ allocateCredits(input:{toAccountId: $to, amount: "50"}) { transaction { id } } }`,
			map[string]any{"to": a.fx.A1}).decode(t, &struct{}{})
		vars := func(acc gid.ID, amt string, reason, key any) map[string]any {
			return map[string]any{"a": acc, "amt": amt, "r": reason, "k": key}
		}
		var rc struct{ ReclaimCredits corrPayload }
		a.gql(a.agencyAdmin(), corrReclaim, vars(a.fx.A1, "20", "over-allocated", "rc-1")).decode(t, &rc)
		got := rc.ReclaimCredits
		if got.Transaction.Kind != "ALLOCATION" || got.Transaction.Type != "OUT" || got.Transaction.Amount != "20.00" ||
			got.Balance.Available != "30.00" || got.PoolBalance == nil || got.PoolBalance.Available != "970.00" ||
			got.Transaction.Reason == nil || *got.Transaction.Reason != "over-allocated" {
			t.Fatalf("reclaim: %+v", got)
		}
		var again struct{ ReclaimCredits corrPayload }
		a.gql(a.agencyAdmin(), corrReclaim, vars(a.fx.A1, "20", "over-allocated", "rc-1")).decode(t, &again)
		if again.ReclaimCredits.Transaction.ID != got.Transaction.ID || again.ReclaimCredits.PoolBalance.Available != "970.00" {
			t.Fatalf("replay: %+v, want %s", again.ReclaimCredits, got.Transaction.ID)
		}
		// Without a reason, by a system admin.
		var plain struct{ ReclaimCredits corrPayload }
		a.gql(a.sysAdmin(), corrReclaim, vars(a.fx.A1, "10", nil, nil)).decode(t, &plain)
		if plain.ReclaimCredits.Balance.Available != "20.00" || plain.ReclaimCredits.Transaction.Reason != nil {
			t.Fatalf("reclaim without a reason: %+v", plain.ReclaimCredits)
		}
		for _, c := range []struct {
			what, token, code string
			vars              map[string]any
		}{
			{"same key, other input", a.agencyAdmin(), "CONFLICT", vars(a.fx.A1, "21", "over-allocated", "rc-1")},
			{"more than available", a.agencyAdmin(), "INSUFFICIENT_CREDITS", vars(a.fx.A1, "20.01", nil, nil)},
			{"from the pool", a.agencyAdmin(), "BAD_USER_INPUT", vars(a.fx.PoolA, "1", nil, nil)},
			{"another agency's account", a.agencyAdmin(), "NOT_FOUND", vars(a.fx.B1, "1", nil, nil)},
			{"a client owner", a.owner(), "FORBIDDEN", vars(a.fx.A1, "1", nil, nil)},
			{"a zero amount", a.agencyAdmin(), "BAD_USER_INPUT", vars(a.fx.A1, "0", nil, nil)},
		} {
			corrRefused(t, a, c.token, corrReclaim, c.vars, c.code, c.what)
		}
		if n := corrAudits(t, a, "reclaimCredits"); n != 2 {
			t.Fatalf("%d reclaimCredits audit events, want 2", n)
		}
		a.verifyLedger(t)
	})
}

func TestCorrectionReverseTransaction(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		a.fund(a.fx.A1, "200")
		a.fund(a.fx.B1, "10")
		var pay struct {
			PayInvoiceWithCredit struct{ Transaction struct{ ID string } }
		}
		a.gql(a.owner(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { transaction { id } } }`,
			map[string]any{"i": a.fx.InvoiceA1}).decode(t, &pay)
		payment := pay.PayInvoiceWithCredit.Transaction.ID
		if a.balance(a.fx.A1) != "80.00" {
			t.Fatalf("after paying: %s", a.balance(a.fx.A1))
		}
		vars := func(id any, reason string, key any) map[string]any {
			return map[string]any{"id": id, "r": reason, "k": key}
		}
		var rv struct{ ReverseTransaction corrPayload }
		a.gql(a.agencyAdmin(), corrReverse, vars(payment, "charged twice", "rv-1")).decode(t, &rv)
		got := rv.ReverseTransaction
		if got.Transaction.Kind != "REVERSAL" || got.Transaction.Type != "IN" || got.Transaction.Amount != "120.00" ||
			got.Transaction.Reason == nil || *got.Transaction.Reason != "charged twice" || got.Transaction.Actor != "user-agency_admin" ||
			got.Transaction.Reverses == nil || got.Transaction.Reverses.ID != payment || got.Transaction.Reverses.Kind != "INVOICE_PAYMENT" ||
			got.Balance.Available != "200.00" {
			t.Fatalf("reversal: %+v", got)
		}
		if got.Invoice == nil || got.Invoice.ID != string(a.fx.InvoiceA1) || got.Invoice.Status != "OPEN" || got.Invoice.PaidAt != nil {
			t.Fatalf("the invoice is not open again: %+v", got.Invoice)
		}
		var again struct{ ReverseTransaction corrPayload }
		a.gql(a.agencyAdmin(), corrReverse, vars(payment, "charged twice", "rv-1")).decode(t, &again)
		if again.ReverseTransaction.Transaction.ID != got.Transaction.ID {
			t.Fatalf("replay answered %s, want %s", again.ReverseTransaction.Transaction.ID, got.Transaction.ID)
		}

		// History links both ways.
		links := map[string]corrTxn{}
		for _, tx := range corrHistoryOf(t, a, a.fx.A1) {
			links[tx.ID] = tx
		}
		if p := links[payment]; p.ReversedBy == nil || p.ReversedBy.ID != got.Transaction.ID || p.Reverses != nil {
			t.Fatalf("the payment in history: %+v", p)
		}
		if r := links[got.Transaction.ID]; r.Reverses == nil || r.Reverses.ID != payment || r.ReversedBy != nil ||
			r.Reason == nil || *r.Reason != "charged twice" {
			t.Fatalf("the reversal in history: %+v", r)
		}
		// The owner reads the link on its own account too.
		var node struct {
			Node struct{ ReversedBy *struct{ ID string } }
		}
		a.gql(a.owner(), `query($id: ID!){ node(id: $id) { ... on CreditTransaction { reversedBy { id } } } }`,
			map[string]any{"id": payment}).decode(t, &node)
		if node.Node.ReversedBy == nil || node.Node.ReversedBy.ID != got.Transaction.ID {
			t.Fatalf("node(payment).reversedBy = %+v", node.Node.ReversedBy)
		}

		purchaseOf := func(acc gid.ID) string {
			for _, tx := range corrHistoryOf(t, a, acc) {
				if tx.Kind == "PURCHASE" {
					return tx.ID
				}
			}
			t.Fatalf("no purchase on %s", acc)
			return ""
		}
		// An allocation the client account no longer covers.
		var al struct {
			AllocateCredits struct{ Transaction struct{ ID string } }
		}
		a.gql(a.agencyAdmin(), `mutation($to: ID!){ allocateCredits(input:{toAccountId: $to, amount: "10"}) { transaction { id } } }`,
			map[string]any{"to": a.fx.A2}).decode(t, &al)
		a.gql(a.agencyAdmin(), corrReclaim, map[string]any{"a": a.fx.A2, "amt": "5"}).decode(t, &struct{}{})

		for _, c := range []struct {
			what, token, code string
			vars              map[string]any
		}{
			{"reversing twice", a.agencyAdmin(), "CONFLICT", vars(payment, "again", nil)},
			{"reversing twice with another key", a.sysAdmin(), "CONFLICT", vars(payment, "again", "rv-2")},
			{"reversing a reversal", a.agencyAdmin(), "BAD_USER_INPUT", vars(got.Transaction.ID, "undo", nil)},
			{"reversing a purchase", a.agencyAdmin(), "BAD_USER_INPUT", vars(purchaseOf(a.fx.A1), "refund", nil)},
			{"a credit not covered", a.agencyAdmin(), "INSUFFICIENT_CREDITS", vars(al.AllocateCredits.Transaction.ID, "wrong client", nil)},
			{"a client owner", a.owner(), "FORBIDDEN", vars(al.AllocateCredits.Transaction.ID, "mine", nil)},
			{"a client", a.client(), "FORBIDDEN", vars(al.AllocateCredits.Transaction.ID, "mine", nil)},
			{"another agency's transaction", a.agencyAdmin(), "NOT_FOUND", vars(purchaseOf(a.fx.B1), "theirs", nil)},
			{"an empty reason", a.agencyAdmin(), "BAD_USER_INPUT", vars(al.AllocateCredits.Transaction.ID, "", nil)},
		} {
			corrRefused(t, a, c.token, corrReverse, c.vars, c.code, c.what)
		}
		if n := corrAudits(t, a, "reverseTransaction"); n != 1 {
			t.Fatalf("%d reverseTransaction audit events, want 1", n)
		}
		a.verifyLedger(t)
	})
}

func TestCorrectionVoidInvoice(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		var v struct {
			VoidInvoice struct {
				ID, Status string
				VoidReason *string
			}
		}
		a.gql(a.agencyAdmin(), corrVoid, map[string]any{"id": a.fx.InvoiceA1b, "r": " issued in error "}).decode(t, &v)
		if v.VoidInvoice.Status != "VOID" || v.VoidInvoice.VoidReason == nil || *v.VoidInvoice.VoidReason != "issued in error" {
			t.Fatalf("void: %+v", v.VoidInvoice)
		}
		a.fund(a.fx.A1, "200")
		var pay struct {
			PayInvoiceWithCredit struct{ Transaction struct{ ID string } }
		}
		a.gql(a.owner(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId: $i}) { transaction { id } } }`,
			map[string]any{"i": a.fx.InvoiceA1}).decode(t, &pay)
		for _, c := range []struct {
			what, token, code string
			id                gid.ID
			reason            string
		}{
			{"voiding twice", a.agencyAdmin(), "CONFLICT", a.fx.InvoiceA1b, "again"},
			{"a paid invoice", a.sysAdmin(), "CONFLICT", a.fx.InvoiceA1, "paid"},
			{"another agency's invoice", a.agencyAdmin(), "NOT_FOUND", a.fx.InvoiceB1, "theirs"},
			{"a client owner", a.owner(), "FORBIDDEN", a.fx.InvoiceA1, "mine"},
			{"an empty reason", a.agencyAdmin(), "BAD_USER_INPUT", a.fx.InvoiceA1, " "},
		} {
			corrRefused(t, a, c.token, corrVoid, map[string]any{"id": c.id, "r": c.reason}, c.code, c.what)
		}
		// Once its payment is reversed, the invoice can be voided.
		a.gql(a.agencyAdmin(), corrReverse, map[string]any{"id": pay.PayInvoiceWithCredit.Transaction.ID, "r": "wrong invoice"}).decode(t, &struct{}{})
		a.gql(a.agencyAdmin(), corrVoid, map[string]any{"id": a.fx.InvoiceA1, "r": "wrong invoice"}).decode(t, &v)
		if v.VoidInvoice.Status != "VOID" || a.balance(a.fx.A1) != "200.00" {
			t.Fatalf("void after reversal: %+v, balance %s", v.VoidInvoice, a.balance(a.fx.A1))
		}
		if n := corrAudits(t, a, "voidInvoice"); n != 2 {
			t.Fatalf("%d voidInvoice audit events, want 2", n)
		}
		a.verifyLedger(t)
	})
}
