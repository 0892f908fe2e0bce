package main

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/gid"
	"creditgate/graph"
)

// ---------------------------------------------------------------- helpers

// rdCheckCodes fails the test when an error lacks extensions.code or is
// INTERNAL: every failure these tests provoke is a client error.
func rdCheckCodes(t testing.TB, r gqlResponse) {
	t.Helper()
	for _, e := range r.Errors {
		c, ok := e.Extensions["code"].(string)
		if !ok || c == "" {
			t.Fatalf("error without extensions.code: %+v", e)
		}
		if c == string(credits.CodeInternal) {
			t.Fatalf("unexpected INTERNAL error: %+v", e)
		}
	}
}

// rdQuery runs a query that must succeed and decodes its data into v.
func rdQuery(t testing.TB, a *testAPI, token, query string, vars map[string]any, v any) {
	t.Helper()
	r := a.gql(token, query, vars)
	rdCheckCodes(t, r)
	r.decode(t, v)
}

// rdMinor parses an API Decimal to minor units exactly (no floats), and
// checks that it has exactly digits fraction digits, as the contract says
// every output amount does.
func rdMinor(t testing.TB, s string, digits int) int64 {
	t.Helper()
	intPart, frac, hasDot := strings.Cut(s, ".")
	if hasDot != (digits > 0) || len(frac) != digits {
		t.Fatalf("amount %q does not have exactly %d fraction digits", s, digits)
	}
	for _, part := range []string{intPart, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				t.Fatalf("amount %q is not a plain decimal", s)
			}
		}
	}
	if intPart == "" {
		t.Fatalf("amount %q has no integer part", s)
	}
	n, err := strconv.ParseInt(intPart+frac, 10, 64)
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return n
}

type rdTxn struct {
	ID             string
	Type           string
	Kind           string
	Amount         string
	Currency       string
	RunningBalance string
	Reference      string
	Account        struct{ ID string }
}

type rdPageInfo struct {
	HasNextPage     bool
	HasPreviousPage bool
	StartCursor     *string
	EndCursor       *string
}

type rdHistory struct {
	TotalCount int
	PageInfo   rdPageInfo
	Edges      []struct {
		Cursor string
		Node   rdTxn
	}
}

const rdHistoryQuery = `query($a: ID, $cur: String, $type: TransactionType, $first: Int, $after: String) {
	history(accountId: $a, currency: $cur, type: $type, first: $first, after: $after) {
		totalCount
		pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
		edges { cursor node { id type kind amount currency runningBalance reference account { id } } }
	}
}`

// rdWalkHistory pages through history(first: size) to the end, checking the
// page invariants, and returns every transaction newest first.
func rdWalkHistory(t testing.TB, a *testAPI, token string, vars map[string]any, size int) (all []rdTxn, total int) {
	t.Helper()
	var after any
	for page := 0; ; page++ {
		if page > 50 {
			t.Fatal("history paging does not end")
		}
		v := map[string]any{"first": size, "after": after}
		for k, x := range vars {
			v[k] = x
		}
		var out struct{ History rdHistory }
		rdQuery(t, a, token, rdHistoryQuery, v, &out)
		h := out.History
		if page == 0 {
			total = h.TotalCount
		} else if h.TotalCount != total {
			t.Fatalf("totalCount changed between pages: %d then %d", total, h.TotalCount)
		}
		if len(h.Edges) > size {
			t.Fatalf("page %d has %d edges, more than first: %d", page, len(h.Edges), size)
		}
		if h.PageInfo.HasPreviousPage != (page > 0) {
			t.Fatalf("page %d: hasPreviousPage = %v", page, h.PageInfo.HasPreviousPage)
		}
		for _, e := range h.Edges {
			if e.Cursor == "" {
				t.Fatalf("page %d: empty cursor on %s", page, e.Node.ID)
			}
			all = append(all, e.Node)
		}
		wantNext := len(all) < total
		if h.PageInfo.HasNextPage != wantNext {
			t.Fatalf("page %d: hasNextPage = %v after %d of %d", page, h.PageInfo.HasNextPage, len(all), total)
		}
		if n := len(h.Edges); n > 0 {
			if h.PageInfo.EndCursor == nil || *h.PageInfo.EndCursor != h.Edges[n-1].Cursor ||
				h.PageInfo.StartCursor == nil || *h.PageInfo.StartCursor != h.Edges[0].Cursor {
				t.Fatalf("page %d: start/end cursors do not match the edges: %+v", page, h.PageInfo)
			}
		}
		if !h.PageInfo.HasNextPage {
			break
		}
		if len(h.Edges) == 0 {
			t.Fatalf("page %d is empty but hasNextPage is true", page)
		}
		after = *h.PageInfo.EndCursor
	}
	if len(all) != total {
		t.Fatalf("paged %d transactions, totalCount says %d", len(all), total)
	}
	seen := map[string]bool{}
	for _, x := range all {
		if seen[x.ID] {
			t.Fatalf("transaction %s appears twice while paging", x.ID)
		}
		seen[x.ID] = true
	}
	return all, total
}

// rdCheckChain checks the ledger rule on a full history (newest first):
// runningBalance(newer) = runningBalance(older) ± amount(newer), the oldest
// starts from zero, and the newest equals the balance.
func rdCheckChain(t testing.TB, txns []rdTxn, digits int, available string) {
	t.Helper()
	if len(txns) == 0 {
		t.Fatal("empty history")
	}
	signed := func(x rdTxn) int64 {
		n := rdMinor(t, x.Amount, digits)
		if n <= 0 {
			t.Fatalf("transaction %s amount %q is not positive", x.ID, x.Amount)
		}
		switch x.Type {
		case "IN":
			return n
		case "OUT":
			return -n
		}
		t.Fatalf("transaction %s has type %q", x.ID, x.Type)
		return 0
	}
	for i := 0; i+1 < len(txns); i++ {
		newer, older := txns[i], txns[i+1]
		want := rdMinor(t, older.RunningBalance, digits) + signed(newer)
		if got := rdMinor(t, newer.RunningBalance, digits); got != want {
			t.Fatalf("runningBalance of %s (%s %s %s) = %s, want %d minor units after %s",
				newer.ID, newer.Kind, newer.Type, newer.Amount, newer.RunningBalance, want, older.RunningBalance)
		}
	}
	oldest := txns[len(txns)-1]
	if rdMinor(t, oldest.RunningBalance, digits) != signed(oldest) {
		t.Fatalf("oldest transaction %+v does not start from a zero balance", oldest)
	}
	if txns[0].RunningBalance != available {
		t.Fatalf("newest runningBalance %s != balance.available %s", txns[0].RunningBalance, available)
	}
}

// ---------------------------------------------------------------- history

func TestHistoryRunningBalances(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "200")

		// A mix of OUT and IN movements through the API.
		var pay struct {
			PayInvoiceWithCredit struct{ Transaction rdTxn }
		}
		payQ := `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { transaction { id type kind amount runningBalance } } }`
		rdQuery(t, a, a.client(), payQ, map[string]any{"i": fx.InvoiceA1b}, &pay)
		if tx := pay.PayInvoiceWithCredit.Transaction; tx.Amount != "30.00" || tx.RunningBalance != "170.00" || tx.Type != "OUT" {
			t.Fatalf("invoice payment: %+v", tx)
		}
		buyQ := `mutation($s: ID!, $q: Int){ buyServiceWithCredit(input:{serviceId:$s, quantity:$q}) {
			transaction { id type kind amount runningBalance } balance { available } } }`
		var buy struct {
			BuyServiceWithCredit struct {
				Transaction rdTxn
				Balance     struct{ Available string }
			}
		}
		rdQuery(t, a, a.client(), buyQ, map[string]any{"s": fx.SMS, "q": 7}, &buy)
		if b := buy.BuyServiceWithCredit; b.Transaction.Amount != "0.35" || b.Balance.Available != "169.65" ||
			b.Transaction.RunningBalance != "169.65" || b.Transaction.Kind != "SERVICE_PURCHASE" {
			t.Fatalf("service purchase x7: %+v", b)
		}
		var alloc struct {
			AllocateCredits struct {
				Transaction rdTxn
				Balance     struct{ Available string }
				PoolBalance struct{ Available string }
			}
		}
		rdQuery(t, a, a.agencyAdmin(), `mutation($to: ID!){ allocateCredits(input:{toAccountId:$to, amount:"12.34", reference:"bonus"}) {
			transaction { id type kind amount runningBalance reference account { id } } balance { available } poolBalance { available } } }`,
			map[string]any{"to": fx.A1}, &alloc)
		if al := alloc.AllocateCredits; al.Transaction.Type != "IN" || al.Transaction.Kind != "ALLOCATION" ||
			al.Transaction.Amount != "12.34" || al.Balance.Available != "181.99" || al.PoolBalance.Available != "987.66" ||
			al.Transaction.Account.ID != string(fx.A1) || al.Transaction.Reference != "bonus" {
			t.Fatalf("allocation: %+v", al)
		}
		rdQuery(t, a, a.client(), buyQ, map[string]any{"s": fx.SMS, "q": nil}, &buy) // default quantity 1
		if b := buy.BuyServiceWithCredit; b.Transaction.Amount != "0.05" || b.Balance.Available != "181.94" {
			t.Fatalf("service purchase x1: %+v", b)
		}
		rdQuery(t, a, a.client(), payQ, map[string]any{"i": fx.InvoiceA1}, &pay)

		var bal struct {
			Balance struct{ Currency, Available string }
		}
		rdQuery(t, a, a.client(), `{ balance { currency available } }`, nil, &bal)
		if bal.Balance.Available != "61.94" || bal.Balance.Currency != "USD" {
			t.Fatalf("balance = %+v, want 61.94 USD", bal.Balance)
		}

		// The whole history, two at a time, as the client and as an admin.
		all, total := rdWalkHistory(t, a, a.client(), nil, 2)
		if total != 6 {
			t.Fatalf("totalCount = %d, want 6", total)
		}
		wantKinds := []string{"INVOICE_PAYMENT", "SERVICE_PURCHASE", "ALLOCATION", "SERVICE_PURCHASE", "INVOICE_PAYMENT", "PURCHASE"}
		wantAmounts := []string{"120.00", "0.05", "12.34", "0.35", "30.00", "200.00"}
		for i, x := range all {
			if x.Kind != wantKinds[i] || x.Amount != wantAmounts[i] || x.Currency != "USD" || x.Account.ID != string(fx.A1) {
				t.Fatalf("history[%d] = %+v, want %s %s on A1 (newest first)", i, x, wantKinds[i], wantAmounts[i])
			}
		}
		rdCheckChain(t, all, 2, bal.Balance.Available)
		adminAll, _ := rdWalkHistory(t, a, a.agencyAdmin(), map[string]any{"a": fx.A1}, 4)
		if len(adminAll) != 6 || adminAll[0].ID != all[0].ID || adminAll[5].ID != all[5].ID {
			t.Fatalf("agency admin sees a different history of A1: %+v", adminAll)
		}

		// The pool's own history chains too.
		poolAll, _ := rdWalkHistory(t, a, a.agencyAdmin(), nil, 2)
		if len(poolAll) != 2 || poolAll[0].Kind != "ALLOCATION" || poolAll[0].Type != "OUT" {
			t.Fatalf("pool history: %+v", poolAll)
		}
		rdCheckChain(t, poolAll, 2, "987.66")

		// Filters by direction.
		for _, dir := range []string{"IN", "OUT"} {
			got, n := rdWalkHistory(t, a, a.client(), map[string]any{"type": dir}, 2)
			want := map[string]int{"IN": 2, "OUT": 4}[dir]
			if n != want || len(got) != want {
				t.Fatalf("history(type: %s) has %d (totalCount %d), want %d", dir, len(got), n, want)
			}
			for _, x := range got {
				if x.Type != dir {
					t.Fatalf("history(type: %s) returned %+v", dir, x)
				}
			}
		}

		// A currency the account never moved in: empty, and a zero balance.
		var eur struct {
			History rdHistory
			Balance struct{ Currency, Available string }
		}
		rdQuery(t, a, a.client(), `{ history(currency: "EUR", first: 2) {
			totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } }
			balance(currency: "EUR") { currency available } }`, nil, &eur)
		if eur.History.TotalCount != 0 || len(eur.History.Edges) != 0 || eur.History.PageInfo.HasNextPage ||
			eur.History.PageInfo.EndCursor != nil {
			t.Fatalf("EUR history is not empty: %+v", eur.History)
		}
		if eur.Balance.Currency != "EUR" || eur.Balance.Available != "0.00" {
			t.Fatalf("EUR balance = %+v, want 0.00 EUR", eur.Balance)
		}

		// JPY has no fraction digits, on every output.
		var ag struct {
			CreateAgency struct {
				ID, DefaultCurrency string
				PoolAccount         struct {
					ID      string
					Kind    string
					Balance struct{ Currency, Available string }
				}
			}
		}
		rdQuery(t, a, a.sysAdmin(), `mutation { createAgency(input:{name:"Tokyo", defaultCurrency:"JPY"}) {
			id defaultCurrency poolAccount { id kind balance { currency available } } } }`, nil, &ag)
		jp := ag.CreateAgency
		if jp.DefaultCurrency != "JPY" || jp.PoolAccount.Kind != "AGENCY" ||
			jp.PoolAccount.Balance.Currency != "JPY" || jp.PoolAccount.Balance.Available != "0" {
			t.Fatalf("new JPY agency: %+v, want a pool balance of \"0\" JPY", jp)
		}
		buyCredits := `mutation($a: ID!, $amt: Decimal!){ buyCredits(input:{accountId:$a, amount:$amt, method:CARD}) {
			status transaction { amount currency runningBalance } balance { currency available } } }`
		var bought struct {
			BuyCredits struct {
				Status      string
				Transaction rdTxn
				Balance     struct{ Currency, Available string }
			}
		}
		rdQuery(t, a, a.sysAdmin(), buyCredits, map[string]any{"a": jp.PoolAccount.ID, "amt": "1200"}, &bought)
		if b := bought.BuyCredits; b.Status != "COMPLETED" || b.Transaction.Amount != "1200" ||
			b.Transaction.RunningBalance != "1200" || b.Balance.Available != "1200" || b.Balance.Currency != "JPY" {
			t.Fatalf("JPY purchase: %+v", b)
		}
		wantRefused(t, a.gql(a.sysAdmin(), buyCredits, map[string]any{"a": jp.PoolAccount.ID, "amt": "1.5"}), "BAD_USER_INPUT")
		jpAdmin := a.token(auth.RoleAgencyAdmin, gid.ID(jp.ID), "")
		jpAll, _ := rdWalkHistory(t, a, jpAdmin, nil, 2)
		rdCheckChain(t, jpAll, 0, "1200")
		var jpBal struct {
			Balances []struct{ Currency, Available string }
		}
		rdQuery(t, a, jpAdmin, `{ balances { currency available } }`, nil, &jpBal)
		if len(jpBal.Balances) != 1 || jpBal.Balances[0].Currency != "JPY" || jpBal.Balances[0].Available != "1200" {
			t.Fatalf("JPY balances: %+v", jpBal.Balances)
		}
	})
}

// ---------------------------------------------------------------- defaults

func TestReadDefaults(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "1")

		// balance / balances without accountId.
		type balance struct {
			Currency, Available string
			Account             struct{ ID, Kind string }
		}
		var b struct {
			Balance  balance
			Balances []balance
		}
		balQ := `{ balance { currency available account { id kind } } balances { currency available account { id kind } } }`
		rdQuery(t, a, a.client(), balQ, nil, &b)
		if b.Balance.Account.ID != string(fx.A1) || b.Balance.Available != "1.00" || b.Balance.Currency != "USD" ||
			len(b.Balances) != 1 || b.Balances[0].Account.ID != string(fx.A1) || b.Balances[0].Available != "1.00" {
			t.Fatalf("client's default balance: %+v", b)
		}
		rdQuery(t, a, a.agencyAdmin(), balQ, nil, &b)
		if b.Balance.Account.ID != string(fx.PoolA) || b.Balance.Account.Kind != "AGENCY" || b.Balance.Available != "1000.00" ||
			len(b.Balances) != 1 || b.Balances[0].Account.ID != string(fx.PoolA) {
			t.Fatalf("agency admin's default balance: %+v", b)
		}
		wantRefused(t, a.gql(a.sysAdmin(), `{ balance { available } }`, nil), "BAD_USER_INPUT")
		wantRefused(t, a.gql(a.sysAdmin(), `{ balances { available } }`, nil), "BAD_USER_INPUT")
		wantRefused(t, a.gql(a.sysAdmin(), `{ history { totalCount } }`, nil), "BAD_USER_INPUT")
		rdQuery(t, a, a.sysAdmin(), `query($a: ID){ balance(accountId: $a) { currency available account { id kind } } }`,
			map[string]any{"a": fx.B1}, &b)
		if b.Balance.Account.ID != string(fx.B1) || b.Balance.Available != "0.00" {
			t.Fatalf("system admin's balance of B1: %+v", b.Balance)
		}

		// requests and invoices without accountId.
		req := `mutation($a: ID, $amt: Decimal!){ buyCredits(input:{accountId:$a, amount:$amt, method:BANK_TRANSFER}) { status } }`
		var st struct{ BuyCredits struct{ Status string } }
		rdQuery(t, a, a.owner(), req, map[string]any{"amt": "5"}, &st)
		rdQuery(t, a, a.agencyAdmin(), req, map[string]any{"a": fx.A2, "amt": "6"}, &st)
		rdQuery(t, a, a.sysAdmin(), req, map[string]any{"a": fx.B1, "amt": "7"}, &st)
		if st.BuyCredits.Status != "PENDING_APPROVAL" {
			t.Fatalf("bank transfer: %+v", st)
		}
		var inv struct{ CreateInvoice struct{ ID string } }
		rdQuery(t, a, a.agencyAdmin(), `mutation($a: ID!){ createInvoice(input:{accountId:$a, number:"A2-001", amount:"5"}) { id } }`,
			map[string]any{"a": fx.A2}, &inv)

		listQ := `{ requests { totalCount edges { node { amount account { id } } } }
			invoices { totalCount edges { node { number account { id } } } } }`
		type lists struct {
			Requests struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Amount  string
						Account struct{ ID string }
					}
				}
			}
			Invoices struct {
				TotalCount int
				Edges      []struct {
					Node struct {
						Number  string
						Account struct{ ID string }
					}
				}
			}
		}
		accountsOf := func(l lists) (reqs, invs map[string]int) {
			reqs, invs = map[string]int{}, map[string]int{}
			for _, e := range l.Requests.Edges {
				reqs[e.Node.Account.ID]++
			}
			for _, e := range l.Invoices.Edges {
				invs[e.Node.Account.ID]++
			}
			return reqs, invs
		}
		var l lists
		rdQuery(t, a, a.agencyAdmin(), listQ, nil, &l)
		reqs, invs := accountsOf(l)
		if l.Requests.TotalCount != 2 || len(reqs) != 2 || reqs[string(fx.A1)] != 1 || reqs[string(fx.A2)] != 1 {
			t.Fatalf("agency admin's requests: %+v", l.Requests)
		}
		// Each bank transfer above issued its CREDIT_TOPUP invoice too.
		if l.Invoices.TotalCount != 5 || invs[string(fx.A1)] != 3 || invs[string(fx.A2)] != 2 || invs[string(fx.B1)] != 0 {
			t.Fatalf("agency admin's invoices: %+v", l.Invoices)
		}
		rdQuery(t, a, a.client(), listQ, nil, &l)
		reqs, invs = accountsOf(l)
		if l.Requests.TotalCount != 1 || reqs[string(fx.A1)] != 1 || len(reqs) != 1 ||
			l.Invoices.TotalCount != 3 || invs[string(fx.A1)] != 3 || len(invs) != 1 {
			t.Fatalf("client's requests and invoices: %+v", l)
		}
		rdQuery(t, a, a.sysAdmin(), listQ, nil, &l)
		if l.Requests.TotalCount != 3 || l.Invoices.TotalCount != 7 {
			t.Fatalf("system admin's requests and invoices: %+v", l)
		}
		// A client naming another account of its agency gets NOT_FOUND.
		wantRefused(t, a.gql(a.client(), `query($a: ID){ invoices(accountId: $a) { totalCount } }`, map[string]any{"a": fx.A2}), "NOT_FOUND")

		// services: availability and units for the viewer's account.
		type svc struct {
			ID, Name, Price, Currency string
			CreditEligible            bool
			BuyWithCredit             struct {
				Available bool
				Reason    *string
			}
			EstimatedUnitsLeft int
		}
		svcQ := `query($a: ID){ services(accountId: $a) { id name price currency creditEligible buyWithCredit { available reason } estimatedUnitsLeft } }`
		services := func(token string, acc any) map[string]svc {
			t.Helper()
			var out struct{ Services []svc }
			rdQuery(t, a, token, svcQ, map[string]any{"a": acc}, &out)
			m := map[string]svc{}
			for _, s := range out.Services {
				m[s.ID] = s
			}
			return m
		}
		reason := func(s svc) string {
			if s.BuyWithCredit.Reason == nil {
				return ""
			}
			return *s.BuyWithCredit.Reason
		}
		m := services(a.client(), nil)
		sms, support := m[string(fx.SMS)], m[string(fx.Support)]
		if len(m) != 2 || sms.Price != "0.05" || !sms.BuyWithCredit.Available || reason(sms) != "" || sms.EstimatedUnitsLeft != 20 {
			t.Fatalf("client's services: %+v", m)
		}
		if support.CreditEligible || support.BuyWithCredit.Available || reason(support) != "NOT_ELIGIBLE" || support.Price != "80.00" {
			t.Fatalf("non-eligible service: %+v", support)
		}
		// An agency admin naming A2 (balance zero) sees A2's position.
		m = services(a.agencyAdmin(), fx.A2)
		if s := m[string(fx.SMS)]; s.BuyWithCredit.Available || reason(s) != "INSUFFICIENT_CREDITS" || s.EstimatedUnitsLeft != 0 {
			t.Fatalf("SMS for empty A2: %+v", s)
		}
		// The agency admin's default is the pool: 1000.00 / 0.05.
		m = services(a.agencyAdmin(), nil)
		if s := m[string(fx.SMS)]; !s.BuyWithCredit.Available || s.EstimatedUnitsLeft != 20000 {
			t.Fatalf("SMS for the pool: %+v", s)
		}

		// invoice.payWithCredit reasons.
		invQ := `query($i: ID!){ node(id: $i) { ... on Invoice { status amount payWithCredit { available reason } } } }`
		type invAvail struct {
			Node struct {
				Status, Amount string
				PayWithCredit  struct {
					Available bool
					Reason    *string
				}
			}
		}
		invReason := func(id gid.ID) (bool, string) {
			t.Helper()
			var out invAvail
			rdQuery(t, a, a.client(), invQ, map[string]any{"i": id}, &out)
			r := ""
			if out.Node.PayWithCredit.Reason != nil {
				r = *out.Node.PayWithCredit.Reason
			}
			return out.Node.PayWithCredit.Available, r
		}
		if ok, r := invReason(fx.InvoiceA1b); ok || r != "INSUFFICIENT_CREDITS" {
			t.Fatalf("30.00 invoice with 1.00: available=%v reason=%q", ok, r)
		}
		a.fund(fx.A1, "29")
		if ok, r := invReason(fx.InvoiceA1b); !ok || r != "" {
			t.Fatalf("30.00 invoice with 30.00: available=%v reason=%q", ok, r)
		}
		var paid struct {
			PayInvoiceWithCredit struct{ Balance struct{ Available string } }
		}
		rdQuery(t, a, a.client(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { balance { available } } }`,
			map[string]any{"i": fx.InvoiceA1b}, &paid)
		if paid.PayInvoiceWithCredit.Balance.Available != "0.00" {
			t.Fatalf("after paying: %+v", paid)
		}
		if ok, r := invReason(fx.InvoiceA1b); ok || r != "ALREADY_PAID" {
			t.Fatalf("paid invoice: available=%v reason=%q", ok, r)
		}
		var notEligible struct{ CreateInvoice struct{ ID string } }
		rdQuery(t, a, a.agencyAdmin(), `mutation($a: ID!){ createInvoice(input:{accountId:$a, number:"A1-NE", amount:"1", creditEligible:false}) { id } }`,
			map[string]any{"a": fx.A1}, &notEligible)
		if ok, r := invReason(gid.ID(notEligible.CreateInvoice.ID)); ok || r != "NOT_ELIGIBLE" {
			t.Fatalf("non-eligible invoice: available=%v reason=%q", ok, r)
		}

		// Credit payments turned off.
		var upd struct {
			UpdateAgencySettings struct{ CreditPaymentsEnabled bool }
		}
		rdQuery(t, a, a.agencyAdmin(), `mutation { updateAgencySettings(input:{creditPaymentsEnabled:false}) { creditPaymentsEnabled } }`, nil, &upd)
		if upd.UpdateAgencySettings.CreditPaymentsEnabled {
			t.Fatal("updateAgencySettings did not turn credit payments off")
		}
		a.fund(fx.A1, "10")
		m = services(a.client(), nil)
		if s := m[string(fx.SMS)]; s.BuyWithCredit.Available || reason(s) != "CREDIT_PAYMENTS_DISABLED" {
			t.Fatalf("SMS with credit payments off: %+v", s)
		}
		if ok, r := invReason(fx.InvoiceA1); ok || r != "CREDIT_PAYMENTS_DISABLED" {
			t.Fatalf("invoice with credit payments off: available=%v reason=%q", ok, r)
		}
		// Agency B is untouched.
		var bView struct{ Services []svc }
		bClient := a.token(auth.RoleClient, fx.AgencyB, fx.B1)
		a.fund(fx.B1, "1")
		rdQuery(t, a, bClient, `{ services { id buyWithCredit { available reason } estimatedUnitsLeft } }`, nil, &bView)
		if len(bView.Services) != 1 || bView.Services[0].ID != string(fx.ServiceB) || !bView.Services[0].BuyWithCredit.Available ||
			bView.Services[0].EstimatedUnitsLeft != 10 {
			t.Fatalf("agency B's services: %+v", bView.Services)
		}

		// creditPackages default to the agency's currency.
		var pk struct{ CreateCreditPackage struct{ ID, Currency string } }
		rdQuery(t, a, a.agencyAdmin(), `mutation { createCreditPackage(input:{name:"Euro pack", credits:"10", price:"9", currency:"EUR"}) { id currency } }`, nil, &pk)
		if pk.CreateCreditPackage.Currency != "EUR" {
			t.Fatalf("EUR package: %+v", pk)
		}
		type pkgs struct {
			CreditPackages []struct{ ID, Name, Credits, Price, Currency string }
		}
		var p pkgs
		rdQuery(t, a, a.client(), `{ creditPackages { id name credits price currency } }`, nil, &p)
		if len(p.CreditPackages) != 1 || p.CreditPackages[0].ID != string(fx.PackageA) || p.CreditPackages[0].Currency != "USD" ||
			p.CreditPackages[0].Credits != "110.00" || p.CreditPackages[0].Price != "100.00" {
			t.Fatalf("client's default packages: %+v", p)
		}
		rdQuery(t, a, a.agencyAdmin(), `{ creditPackages(currency: "EUR") { id name credits price currency } }`, nil, &p)
		if len(p.CreditPackages) != 1 || p.CreditPackages[0].ID != pk.CreateCreditPackage.ID || p.CreditPackages[0].Price != "9.00" {
			t.Fatalf("agency admin's EUR packages: %+v", p)
		}

		// agency { poolAccount accounts } with paging.
		accQ := `query($after: String){ agency { id name poolAccount { id kind }
			accounts(first: 1, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id kind } } } } }`
		var seen []string
		var after any
		for page := 0; page < 10; page++ {
			var out struct {
				Agency struct {
					ID, Name    string
					PoolAccount struct{ ID, Kind string }
					Accounts    struct {
						TotalCount int
						PageInfo   rdPageInfo
						Edges      []struct {
							Cursor string
							Node   struct{ ID, Kind string }
						}
					}
				}
			}
			rdQuery(t, a, a.agencyAdmin(), accQ, map[string]any{"after": after}, &out)
			ag := out.Agency
			if ag.ID != string(fx.AgencyA) || ag.PoolAccount.ID != string(fx.PoolA) || ag.PoolAccount.Kind != "AGENCY" {
				t.Fatalf("agency: %+v", ag)
			}
			if ag.Accounts.TotalCount != 3 || len(ag.Accounts.Edges) != 1 || ag.Accounts.PageInfo.HasPreviousPage != (page > 0) {
				t.Fatalf("accounts page %d: %+v", page, ag.Accounts)
			}
			seen = append(seen, ag.Accounts.Edges[0].Node.ID)
			if ag.Accounts.PageInfo.HasNextPage != (len(seen) < 3) {
				t.Fatalf("accounts page %d: hasNextPage = %v after %d of 3", page, ag.Accounts.PageInfo.HasNextPage, len(seen))
			}
			if !ag.Accounts.PageInfo.HasNextPage {
				break
			}
			after = *ag.Accounts.PageInfo.EndCursor
		}
		got := map[string]bool{}
		for _, id := range seen {
			got[id] = true
		}
		if len(seen) != 3 || !got[string(fx.PoolA)] || !got[string(fx.A1)] || !got[string(fx.A2)] {
			t.Fatalf("paged accounts %v, want pool, A1 and A2 once each", seen)
		}
		wantRefused(t, a.gql(a.sysAdmin(), `{ agency { id } }`, nil), "BAD_USER_INPUT")
		wantRefused(t, a.gql(a.agencyAdmin(), `query($id: ID){ agency(id: $id) { id } }`, map[string]any{"id": fx.AgencyB}), "NOT_FOUND")

		// viewer for each role.
		type viewer struct {
			UserID, Role string
			Agency       *struct{ ID string }
			Account      *struct{ ID, Kind string }
		}
		viewerQ := `{ viewer { userId role agency { id } account { id kind } } }`
		for _, c := range []struct {
			token, role, userID string
			agency, account     gid.ID
			kind                string
		}{
			{a.client(), "CLIENT", "user-client", fx.AgencyA, fx.A1, "CLIENT"},
			{a.owner(), "CLIENT_OWNER", "user-client_owner", fx.AgencyA, fx.A1, "CLIENT"},
			{a.agencyAdmin(), "AGENCY_ADMIN", "user-agency_admin", fx.AgencyA, fx.PoolA, "AGENCY"},
			{a.sysAdmin(), "SYSTEM_ADMIN", "user-system_admin", "", "", ""},
		} {
			var out struct{ Viewer viewer }
			rdQuery(t, a, c.token, viewerQ, nil, &out)
			v := out.Viewer
			if v.Role != c.role || v.UserID != c.userID {
				t.Fatalf("viewer as %s: %+v", c.role, v)
			}
			if c.agency == "" {
				if v.Agency != nil || v.Account != nil {
					t.Fatalf("system admin's viewer has an agency or account: %+v", v)
				}
				continue
			}
			if v.Agency == nil || v.Agency.ID != string(c.agency) || v.Account == nil || v.Account.ID != string(c.account) || v.Account.Kind != c.kind {
				t.Fatalf("viewer as %s: %+v", c.role, v)
			}
		}
		wantRefused(t, a.gql(a.sysAdmin(), `{ services { id } }`, nil), "BAD_USER_INPUT")

		// Every default follows the agency's defaultCurrency when it changes.
		var cur struct {
			UpdateAgencySettings struct{ DefaultCurrency string }
		}
		rdQuery(t, a, a.agencyAdmin(), `mutation { updateAgencySettings(input:{defaultCurrency:"eur"}) { defaultCurrency } }`, nil, &cur)
		if cur.UpdateAgencySettings.DefaultCurrency != "EUR" {
			t.Fatalf("defaultCurrency = %q, want EUR", cur.UpdateAgencySettings.DefaultCurrency)
		}
		var eur struct {
			Balance        struct{ Currency, Available string }
			Balances       []struct{ Currency, Available string }
			History        struct{ TotalCount int }
			CreditPackages []struct{ ID string }
		}
		rdQuery(t, a, a.client(), `{ balance { currency available } balances { currency available } history { totalCount } creditPackages { id } }`, nil, &eur)
		byCur := map[string]string{}
		for _, b := range eur.Balances {
			byCur[b.Currency] = b.Available
		}
		if eur.Balance.Currency != "EUR" || eur.Balance.Available != "0.00" || eur.History.TotalCount != 0 ||
			len(byCur) != 2 || byCur["EUR"] != "0.00" || byCur["USD"] != "10.00" ||
			len(eur.CreditPackages) != 1 || eur.CreditPackages[0].ID != pk.CreateCreditPackage.ID {
			t.Fatalf("reads after switching to EUR: %+v", eur)
		}
	})
}

// ---------------------------------------------------------------- N+1

// rdCounter counts the statements a driver sends to the database.
type rdCounter struct {
	queries, execs atomic.Int64
	mu             sync.Mutex
	log            []string
}

func (c *rdCounter) note(kind, q string) {
	c.mu.Lock()
	c.log = append(c.log, kind+": "+q)
	c.mu.Unlock()
}

func (c *rdCounter) reset() {
	c.queries.Store(0)
	c.execs.Store(0)
	c.mu.Lock()
	c.log = nil
	c.mu.Unlock()
}

func (c *rdCounter) total() int64 { return c.queries.Load() + c.execs.Load() }

func (c *rdCounter) statements() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.log, "\n")
}

// rdCountingDriver is a dialect.Driver that counts every statement,
// including the raw QueryContext/ExecContext the ledger uses.
type rdCountingDriver struct {
	drv *entsql.Driver
	c   *rdCounter
}

var _ dialect.Driver = (*rdCountingDriver)(nil)

func (d *rdCountingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.c.execs.Add(1)
	d.c.note("exec", query)
	return d.drv.Exec(ctx, query, args, v)
}

func (d *rdCountingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.c.queries.Add(1)
	d.c.note("query", query)
	return d.drv.Query(ctx, query, args, v)
}

func (d *rdCountingDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	d.c.execs.Add(1)
	d.c.note("exec", query)
	return d.drv.ExecContext(ctx, query, args...)
}

func (d *rdCountingDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	d.c.queries.Add(1)
	d.c.note("query", query)
	return d.drv.QueryContext(ctx, query, args...)
}

func (d *rdCountingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.drv.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &rdCountingTx{tx: tx.(*entsql.Tx), c: d.c}, nil
}

func (d *rdCountingDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.drv.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &rdCountingTx{tx: tx.(*entsql.Tx), c: d.c}, nil
}

// Close leaves the shared *sql.DB to the harness.
func (d *rdCountingDriver) Close() error { return nil }

func (d *rdCountingDriver) Dialect() string { return d.drv.Dialect() }

type rdCountingTx struct {
	tx *entsql.Tx
	c  *rdCounter
}

func (t *rdCountingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.c.execs.Add(1)
	t.c.note("exec", query)
	return t.tx.Exec(ctx, query, args, v)
}

func (t *rdCountingTx) Query(ctx context.Context, query string, args, v any) error {
	t.c.queries.Add(1)
	t.c.note("query", query)
	return t.tx.Query(ctx, query, args, v)
}

func (t *rdCountingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.c.execs.Add(1)
	t.c.note("exec", query)
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *rdCountingTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.c.queries.Add(1)
	t.c.note("query", query)
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *rdCountingTx) Commit() error   { return t.tx.Commit() }
func (t *rdCountingTx) Rollback() error { return t.tx.Rollback() }

// rdCountingAPI serves the real routes over a client whose driver counts
// statements, on the same database as a.
func rdCountingAPI(t *testing.T, a *testAPI) (*testAPI, *rdCounter) {
	t.Helper()
	c := &rdCounter{}
	drv := &rdCountingDriver{drv: entsql.OpenDB(a.db.Dialect, a.db.SQL), c: c}
	d := &db.DB{Client: db.NewClient(drv), SQL: a.db.SQL, Dialect: a.db.Dialect}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := credits.New(d.Client, d.Dialect, log)
	verifier, err := auth.NewVerifier(context.Background(), auth.Config{Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(routes(Config{}, d, svc, verifier, graph.NewSockets(), log))
	t.Cleanup(srv.Close)
	return &testAPI{t: t, srv: srv, svc: svc, db: d, fx: a.fx}, c
}

func TestQueryCountHistoryPage(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		ctx := sys()
		move := func(acc gid.ID, n int) {
			t.Helper()
			a.fund(acc, "100")
			for i := 1; i < n; i++ {
				if _, err := a.svc.BuyServiceWithCredit(ctx, fx.SMS, &acc, 1, nil); err != nil {
					t.Fatalf("movement %d on %s: %v", i, acc, err)
				}
			}
		}
		move(fx.A1, 5)
		move(fx.A2, 60)

		api, counter := rdCountingAPI(t, a)
		q := `query($a: ID, $first: Int) { history(accountId: $a, first: $first) {
			totalCount pageInfo { hasNextPage endCursor }
			edges { cursor node { id type kind amount currency runningBalance reference createdAt
				account { id name kind agency { id name defaultCurrency } } } } } }`
		count := func(token string, acc gid.ID, first, wantEdges, wantTotal int) int64 {
			t.Helper()
			var out struct {
				History struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							Type, Kind, Amount string
							Account            struct {
								ID, Name string
								Agency   struct{ ID, Name string }
							}
						}
					}
				}
			}
			counter.reset()
			rdQuery(t, api, token, q, map[string]any{"a": acc, "first": first}, &out)
			n := counter.total()
			h := out.History
			if len(h.Edges) != wantEdges || h.TotalCount != wantTotal {
				t.Fatalf("history(%s, first: %d): %d edges, totalCount %d; want %d and %d", acc, first, len(h.Edges), h.TotalCount, wantEdges, wantTotal)
			}
			for _, e := range h.Edges {
				if e.Node.Account.ID != string(acc) || e.Node.Account.Agency.ID != string(fx.AgencyA) ||
					e.Node.Account.Agency.Name != "Agency A" || e.Node.Account.Name == "" {
					t.Fatalf("node account: %+v", e.Node)
				}
			}
			if n == 0 {
				t.Fatal("the counting driver saw no statement: the test is not measuring anything")
			}
			t.Logf("history(first: %d) on %s: %d statements", first, acc, n)
			return n
		}
		for _, role := range []struct {
			name  string
			token string
		}{{"agency admin", a.agencyAdmin()}, {"system admin", a.sysAdmin()}} {
			small := count(role.token, fx.A1, 5, 5, 5)
			stmts := counter.statements()
			large := count(role.token, fx.A2, 50, 50, 60)
			sameAccount := count(role.token, fx.A2, 5, 5, 60)
			if small != large || sameAccount != large {
				t.Fatalf("%s: %d statements for 5 rows, %d for 50 rows (%d for 5 rows of the same account): N+1\n5 rows:\n%s\n50 rows:\n%s",
					role.name, small, large, sameAccount, stmts, counter.statements())
			}
			if large > 8 {
				t.Fatalf("%s: %d statements for one page of history, want at most 8:\n%s", role.name, large, counter.statements())
			}
		}
		// A client reading its own history: the same bound.
		c := count(a.client(), fx.A1, 5, 5, 5)
		if c > 8 {
			t.Fatalf("client: %d statements for one page of history:\n%s", c, counter.statements())
		}
	})
}
