package main

// Separation of duties, through the API on both databases: nobody reviews
// their own credit request, the platform reviews the agencies', an agency's
// POSTPAID purchase for a client is its own credit line, a saved card is
// charged only on its owner's word, and the credit-payments switch means
// what the portal shows. Every refusal leaves the whole database unchanged.

import (
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/gid"
)

const (
	dutyMBuy = `mutation($a: ID, $amt: Decimal!, $m: PaymentMethod!, $c: ID, $k: String){
		buyCredits(input:{accountId: $a, amount: $amt, method: $m, cardId: $c, idempotencyKey: $k}) {
			status transaction { id amount } payment { status }
			request { id status paid submittedBy reviewedBy transaction { id } }
			balance { available } } }`
	dutyMApprove  = `mutation($r: ID!){ approveRequest(input:{requestId: $r}) { request { status submittedBy reviewedBy } balance { available } } }`
	dutyMReject   = `mutation($r: ID!){ rejectRequest(input:{requestId: $r, reason: "no"}) { request { status } } }`
	dutyMMarkPaid = `mutation($r: ID!){ markRequestPaid(input:{requestId: $r}) { request { paid } } }`
	dutyQCanBuy   = `query($a: ID){ balance(accountId: $a) { account { canBuyCredits { available reason } } } }`
)

// dutyToken signs a token for a named user of role.
func dutyToken(t testing.TB, role auth.Role, user string, agency, account gid.ID) string {
	t.Helper()
	tok, err := auth.NewToken(testSecret, role, user, string(agency), string(account), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dutyRefused asserts that doc as token answers code and changes nothing.
func dutyRefused(t *testing.T, a *testAPI, token, doc string, vars map[string]any, code string) {
	t.Helper()
	before := snapshot(t, a)
	wantRefused(t, authzCall(t, a, token, doc, vars), code)
	wantUnchanged(t, a, before)
}

func TestDutiesReviewingRequests(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		alice := dutyToken(t, auth.RoleAgencyAdmin, "alice", f.AgencyA, "")
		bob := dutyToken(t, auth.RoleAgencyAdmin, "bob", f.AgencyA, "")
		root := dutyToken(t, auth.RoleSystemAdmin, "root", "", "")
		ops := dutyToken(t, auth.RoleSystemAdmin, "ops", "", "")
		owner := a.owner()

		// A client's request: its agency reviews it, and says who asked.
		d := authzOK(t, authzCall(t, a, owner, dutyMBuy, map[string]any{"amt": "7", "m": "BANK_TRANSFER"}))
		clientReq := authzGet(d, "buyCredits.request.id")
		authzWant(t, "submittedBy", authzGet(d, "buyCredits.request.submittedBy"), "user-client_owner")
		d = authzOK(t, authzCall(t, a, alice, dutyMApprove, map[string]any{"r": clientReq}))
		authzWant(t, "status", authzGet(d, "approveRequest.request.status"), "ACCEPTED")
		authzWant(t, "reviewedBy", authzGet(d, "approveRequest.request.reviewedBy"), "alice")

		// The agency asking for credit on its pool: no agency admin reviews
		// it, not its submitter and not a colleague; the platform does.
		d = authzOK(t, authzCall(t, a, alice, dutyMBuy, map[string]any{"amt": "500", "m": "BANK_TRANSFER"}))
		authzWant(t, "status", authzGet(d, "buyCredits.status"), "PENDING_APPROVAL")
		poolReq := authzGet(d, "buyCredits.request.id")
		for _, tok := range []string{alice, bob} {
			dutyRefused(t, a, tok, dutyMApprove, map[string]any{"r": poolReq}, "FORBIDDEN")
			dutyRefused(t, a, tok, dutyMReject, map[string]any{"r": poolReq}, "FORBIDDEN")
		}
		pool := a.balance(f.PoolA)
		d = authzOK(t, authzCall(t, a, root, dutyMApprove, map[string]any{"r": poolReq}))
		authzWant(t, "reviewedBy", authzGet(d, "approveRequest.request.reviewedBy"), "root")
		authzWant(t, "submittedBy", authzGet(d, "approveRequest.request.submittedBy"), "alice")
		if got := a.balance(f.PoolA); authzMinor(t, got) != authzMinor(t, pool)+50000 {
			t.Errorf("pool after approval = %s, want %s + 500.00", got, pool)
		}

		// A system admin's own request waits for another system admin.
		d = authzOK(t, authzCall(t, a, root, dutyMBuy, map[string]any{"a": f.A1, "amt": "9", "m": "CRYPTO"}))
		rootReq := authzGet(d, "buyCredits.request.id")
		dutyRefused(t, a, root, dutyMApprove, map[string]any{"r": rootReq}, "FORBIDDEN")
		dutyRefused(t, a, root, dutyMReject, map[string]any{"r": rootReq}, "FORBIDDEN")
		authzOK(t, authzCall(t, a, ops, dutyMReject, map[string]any{"r": rootReq}))

		// A pool's post-paid credit is the platform's to approve and settle.
		d = authzOK(t, authzCall(t, a, alice, dutyMBuy, map[string]any{"amt": "40", "m": "POSTPAID"}))
		authzWant(t, "status", authzGet(d, "buyCredits.status"), "PENDING_APPROVAL")
		postReq := authzGet(d, "buyCredits.request.id")
		dutyRefused(t, a, bob, dutyMApprove, map[string]any{"r": postReq}, "FORBIDDEN")
		authzOK(t, authzCall(t, a, ops, dutyMApprove, map[string]any{"r": postReq}))
		dutyRefused(t, a, bob, dutyMMarkPaid, map[string]any{"r": postReq}, "FORBIDDEN")
		d = authzOK(t, authzCall(t, a, root, dutyMMarkPaid, map[string]any{"r": postReq}))
		authzWant(t, "paid", authzGet(d, "markRequestPaid.request.paid"), true)
		a.verifyLedger(t)
	})
}

// An agency admin's POSTPAID purchase for a client account is accepted at
// once as the agency's own credit line: credited in the same transaction,
// reviewed by its creator, unpaid until settled; a retry moves nothing.
func TestDutiesAgencyPostpaidIsItsCreditLine(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		alice := dutyToken(t, auth.RoleAgencyAdmin, "alice", f.AgencyA, "")
		before := authzMinor(t, a.balance(f.A1))
		vars := map[string]any{"a": f.A1, "amt": "40", "m": "POSTPAID", "k": "credit-line-1"}
		d := authzOK(t, authzCall(t, a, alice, dutyMBuy, vars))
		authzWant(t, "status", authzGet(d, "buyCredits.status"), "COMPLETED")
		authzWant(t, "request.status", authzGet(d, "buyCredits.request.status"), "ACCEPTED")
		authzWant(t, "request.paid", authzGet(d, "buyCredits.request.paid"), false)
		authzWant(t, "request.submittedBy", authzGet(d, "buyCredits.request.submittedBy"), "alice")
		authzWant(t, "request.reviewedBy", authzGet(d, "buyCredits.request.reviewedBy"), "alice")
		authzWant(t, "transaction.amount", authzGet(d, "buyCredits.transaction.amount"), "40.00")
		tx := authzGet(d, "buyCredits.transaction.id")
		authzWant(t, "request.transaction", authzGet(d, "buyCredits.request.transaction.id"), tx)
		if got := authzMinor(t, authzGet(d, "buyCredits.balance.available")); got != before+4000 {
			t.Errorf("balance = %d, want %d", got, before+4000)
		}
		// The same key again: the first answer, nothing moved.
		snap := snapshot(t, a)
		again := authzOK(t, authzCall(t, a, alice, dutyMBuy, vars))
		authzWant(t, "replayed transaction", authzGet(again, "buyCredits.transaction.id"), tx)
		wantUnchanged(t, a, snap, "a replayed purchase")
		// Its settlement is the agency's own business.
		d = authzOK(t, authzCall(t, a, alice, dutyMMarkPaid, map[string]any{"r": authzGet(d, "buyCredits.request.id")}))
		authzWant(t, "paid", authzGet(d, "markRequestPaid.request.paid"), true)
		a.verifyLedger(t)
	})
}

// A saved card is charged on its owner's instruction only (or a system
// admin's, as support): a one-time top-up with cardId, declined cards answer
// FAILED with nothing credited, and agency admins read but never charge.
func TestDutiesSavedCards(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		visa := authzCard(t, a, f.A1, "pm_card_visa")
		declined := authzCard(t, a, f.A1, "pm_card_chargeDeclined")
		cardA2 := authzCard(t, a, f.A2, "pm_card_visa")
		buy := func(c gid.ID, m string) map[string]any {
			return map[string]any{"a": f.A1, "amt": "25", "m": m, "c": c}
		}

		dutyRefused(t, a, a.agencyAdmin(), dutyMBuy, buy(visa, "CARD"), "FORBIDDEN")
		dutyRefused(t, a, a.client(), dutyMBuy, buy(visa, "CARD"), "FORBIDDEN")
		dutyRefused(t, a, a.agencyAdmin(), authzMSetTopUp, map[string]any{"a": f.A1, "c": visa}, "FORBIDDEN")
		dutyRefused(t, a, a.agencyAdmin(), authzMAddCard, map[string]any{"a": f.A1, "pm": "pm_card_visa"}, "FORBIDDEN")
		dutyRefused(t, a, a.owner(), dutyMBuy, buy(visa, "PAYPAL"), "BAD_USER_INPUT")
		dutyRefused(t, a, a.owner(), dutyMBuy, buy(visa, "BANK_TRANSFER"), "BAD_USER_INPUT")
		dutyRefused(t, a, a.owner(), dutyMBuy, buy(cardA2, "CARD"), "NOT_FOUND")

		// Agency admins see the cards and rules, and set alerts.
		d := authzOK(t, authzCall(t, a, a.agencyAdmin(), authzQCards, map[string]any{"a": f.A1}))
		if ids := authzStrings(d, "cards", "id"); len(ids) != 2 {
			t.Errorf("agency admin sees cards %v, want the 2 of A1", ids)
		}
		authzOK(t, authzCall(t, a, a.agencyAdmin(), authzMSetAlert, map[string]any{"a": f.A1}))

		before := authzMinor(t, a.balance(f.A1))
		d = authzOK(t, authzCall(t, a, a.owner(), dutyMBuy, buy(visa, "CARD")))
		authzWant(t, "status", authzGet(d, "buyCredits.status"), "COMPLETED")
		authzWant(t, "payment.status", authzGet(d, "buyCredits.payment.status"), "SUCCEEDED")
		authzWant(t, "transaction.amount", authzGet(d, "buyCredits.transaction.amount"), "25.00")
		if got := authzMinor(t, a.balance(f.A1)); got != before+2500 {
			t.Fatalf("balance after a one-time top-up = %d, want %d", got, before+2500)
		}

		d = authzOK(t, authzCall(t, a, a.owner(), dutyMBuy, buy(declined, "CARD")))
		authzWant(t, "status", authzGet(d, "buyCredits.status"), "FAILED")
		authzWant(t, "transaction", authzGet(d, "buyCredits.transaction"), nil)
		if got := authzMinor(t, a.balance(f.A1)); got != before+2500 {
			t.Fatalf("a declined card credited: balance %d, want %d", got, before+2500)
		}

		d = authzOK(t, authzCall(t, a, a.sysAdmin(), dutyMBuy, buy(visa, "CARD")))
		authzWant(t, "system admin's top-up", authzGet(d, "buyCredits.status"), "COMPLETED")
		a.verifyLedger(t)
	})
}

// While an agency's credit payments are off its clients can neither buy nor
// spend credits; canBuyCredits says so in advance, per viewer.
func TestDutiesCreditPaymentsSwitch(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "50")
		canBuy := func(token string, acc gid.ID) (any, any) {
			t.Helper()
			d := authzOK(t, authzCall(t, a, token, dutyQCanBuy, map[string]any{"a": acc}))
			return authzGet(d, "balance.account.canBuyCredits.available"), authzGet(d, "balance.account.canBuyCredits.reason")
		}
		type want struct {
			ok     bool
			reason any
		}
		expect := func(on bool) map[string]want {
			owner := want{true, nil}
			if !on {
				owner = want{false, "CREDIT_PAYMENTS_DISABLED"}
			}
			return map[string]want{
				"client": {false, "ROLE_NOT_ALLOWED"}, "client_owner": owner,
				"agency_admin": {true, nil}, "system_admin": {true, nil},
			}
		}
		tokens := map[string]string{"client": a.client(), "client_owner": a.owner(), "agency_admin": a.agencyAdmin(), "system_admin": a.sysAdmin()}
		for _, on := range []bool{true, false} {
			authzOK(t, authzCall(t, a, a.agencyAdmin(), authzMSettings, map[string]any{"on": on}))
			for role, w := range expect(on) {
				ok, reason := canBuy(tokens[role], f.A1)
				if ok != w.ok || reason != w.reason {
					t.Errorf("payments on=%t, %s: canBuyCredits = %v %v, want %v %v", on, role, ok, reason, w.ok, w.reason)
				}
			}
		}
		// Off: the owner neither buys nor spends; the agency still can.
		dutyRefused(t, a, a.owner(), dutyMBuy, map[string]any{"amt": "10", "m": "CARD"}, "CREDIT_PAYMENTS_DISABLED")
		dutyRefused(t, a, a.owner(), dutyMBuy, map[string]any{"amt": "10", "m": "BANK_TRANSFER"}, "CREDIT_PAYMENTS_DISABLED")
		dutyRefused(t, a, a.owner(), authzMPay, map[string]any{"i": f.InvoiceA1b}, "CREDIT_PAYMENTS_DISABLED")
		dutyRefused(t, a, a.owner(), authzMService, map[string]any{"s": f.SMS, "q": 1}, "CREDIT_PAYMENTS_DISABLED")
		authzOK(t, authzCall(t, a, a.agencyAdmin(), dutyMBuy, map[string]any{"amt": "10", "m": "CARD"}))
		a.verifyLedger(t)
	})
}

// A client token is honoured only for a client account of its own agency:
// naming the agency's pool, another agency's account or no account at all
// is UNAUTHENTICATED, for reads and for money alike.
func TestDutiesClientTokenNamesAClientAccount(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		for name, acc := range map[string]gid.ID{"pool": f.PoolA, "foreign": f.B1, "ghost": gid.New(f.A1.Prefix())} {
			for _, role := range []auth.Role{auth.RoleClient, auth.RoleClientOwner} {
				tok := dutyToken(t, role, "mallory", f.AgencyA, acc)
				t.Run(name+"/"+string(role), func(t *testing.T) {
					dutyRefused(t, a, tok, authzQBalance, nil, "UNAUTHENTICATED")
					dutyRefused(t, a, tok, authzMService, map[string]any{"s": f.SMS, "q": 1}, "UNAUTHENTICATED")
					dutyRefused(t, a, tok, dutyMBuy, map[string]any{"amt": "1", "m": "CARD"}, "UNAUTHENTICATED")
				})
			}
		}
		authzOK(t, authzCall(t, a, a.client(), authzQBalance, nil))
	})
}
