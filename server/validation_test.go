package main

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"creditgate/gid"
)

const (
	valInvoiceQ = `mutation($a: ID!, $n: String!, $amt: Decimal!, $cur: String) {
		createInvoice(input:{accountId:$a, number:$n, amount:$amt, currency:$cur}) { id number amount currency } }`
	valAllocateQ = `mutation($to: ID!, $amt: Decimal!, $cur: String) {
		allocateCredits(input:{toAccountId:$to, amount:$amt, currency:$cur}) {
			transaction { amount currency } balance { currency available } poolBalance { available } } }`
	valBuyQ = `mutation($amt: Decimal!, $cur: String) {
		buyCredits(input:{amount:$amt, currency:$cur, method:CARD}) {
			status transaction { amount currency } balance { currency available } } }`
)

func TestValidationDecimal(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		admin, owner := a.agencyAdmin(), a.owner()
		before := snapshot(t, a)
		n := 0
		number := func() string { n++; return fmt.Sprintf("V-%03d", n) }

		bad := []any{
			"-1", "0", "0.00", "1e3", "1E3", "1.0000001", "0.0000001", "NaN", "Infinity", "", " 12", "12 ", "+12",
			"12.", ".5", "12.5.1", "1,5", "0x10", "١٢", "12_000",
			"9223372036854.775808",          // one micro-unit past int64
			"100000000000000000000",         // far past int64
			"99999999999999999999999999.99", // and more
			12, 12.5, true, []any{"12"}, map[string]any{"v": "12"},
		}
		for _, amt := range bad {
			what := fmt.Sprintf("amount %#v", amt)
			wantRefused(t, a.gql(admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": amt}), "BAD_USER_INPUT", "createInvoice "+what)
			wantRefused(t, a.gql(admin, valAllocateQ, map[string]any{"to": fx.A1, "amt": amt}), "BAD_USER_INPUT", "allocateCredits "+what)
			wantRefused(t, a.gql(owner, valBuyQ, map[string]any{"amt": amt}), "BAD_USER_INPUT", "buyCredits "+what)
		}
		// Money paid through a provider (an invoice, a purchase) has no more
		// fraction digits than its currency; a credit amount (an
		// allocation) may have up to 6.
		for _, amt := range []string{"1.005", "1.000", "10.001"} {
			what := fmt.Sprintf("amount %q", amt)
			wantRefused(t, a.gql(admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": amt}), "BAD_USER_INPUT", "createInvoice "+what)
			wantRefused(t, a.gql(owner, valBuyQ, map[string]any{"amt": amt}), "BAD_USER_INPUT", "buyCredits "+what)
		}
		// JSON numbers written inline in the document, not as variables.
		for _, lit := range []string{"12", "12.5", "-1", "1e3"} {
			wantRefused(t, a.gql(admin, `mutation($a: ID!){ createInvoice(input:{accountId:$a, number:"INLINE", amount:`+lit+`}) { id } }`,
				map[string]any{"a": fx.A1}), "BAD_USER_INPUT", "inline createInvoice amount "+lit)
			wantRefused(t, a.gql(admin, `mutation($a: ID!){ allocateCredits(input:{toAccountId:$a, amount:`+lit+`}) { transaction { id } } }`,
				map[string]any{"a": fx.A1}), "BAD_USER_INPUT", "inline allocateCredits amount "+lit)
			wantRefused(t, a.gql(owner, `mutation { buyCredits(input:{amount:`+lit+`, method:CARD}) { status } }`, nil),
				"BAD_USER_INPUT", "inline buyCredits amount "+lit)
		}
		// Fraction digits follow the currency: JPY has none, BHD has three.
		for _, c := range []struct{ amt, cur string }{{"1.5", "JPY"}, {"1.0", "JPY"}, {"1.0005", "BHD"}} {
			what := c.amt + " " + c.cur
			wantRefused(t, a.gql(admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": c.amt, "cur": c.cur}), "BAD_USER_INPUT", "createInvoice "+what)
			wantRefused(t, a.gql(owner, valBuyQ, map[string]any{"amt": c.amt, "cur": c.cur}), "BAD_USER_INPUT", "buyCredits "+what)
		}
		// Malformed currencies.
		for _, cur := range []string{"XYZ", "US", "", "USDD", " USD", "US$", "usd ", "XAU"} {
			what := fmt.Sprintf("currency %q", cur)
			wantRefused(t, a.gql(admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": "12", "cur": cur}), "BAD_USER_INPUT", "createInvoice "+what)
			wantRefused(t, a.gql(admin, valAllocateQ, map[string]any{"to": fx.A1, "amt": "12", "cur": cur}), "BAD_USER_INPUT", "allocateCredits "+what)
			wantRefused(t, a.gql(owner, valBuyQ, map[string]any{"amt": "12", "cur": cur}), "BAD_USER_INPUT", "buyCredits "+what)
			wantRefused(t, a.gql(owner, `query($c: String){ balance(currency: $c) { available } }`, map[string]any{"c": cur}), "BAD_USER_INPUT", "balance "+what)
			wantRefused(t, a.gql(owner, `query($c: String){ history(currency: $c) { totalCount } }`, map[string]any{"c": cur}), "BAD_USER_INPUT", "history "+what)
			wantRefused(t, a.gql(owner, `query($c: String){ creditPackages(currency: $c) { id } }`, map[string]any{"c": cur}), "BAD_USER_INPUT", "creditPackages "+what)
		}
		wantUnchanged(t, a, before, "refused amounts and currencies")

		// Accepted shapes, read back with exactly two fraction digits.
		accepted := []struct{ in, out string }{{"12", "12.00"}, {"12.5", "12.50"}, {"12.50", "12.50"}, {"0.01", "0.01"}}
		poolMinor := rdMinor(t, a.balance(fx.PoolA), 2)
		var a2Minor, ownMinor int64
		for _, c := range accepted {
			var inv struct {
				CreateInvoice struct{ ID, Number, Amount, Currency string }
			}
			num := number()
			rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": num, "amt": c.in}, &inv)
			if inv.CreateInvoice.Amount != c.out || inv.CreateInvoice.Currency != "USD" || inv.CreateInvoice.Number != num {
				t.Fatalf("createInvoice %q: %+v, want %s USD", c.in, inv.CreateInvoice, c.out)
			}
			var node struct{ Node struct{ Amount string } }
			rdQuery(t, a, a.client(), `query($i: ID!){ node(id: $i) { ... on Invoice { amount } } }`, map[string]any{"i": inv.CreateInvoice.ID}, &node)
			if node.Node.Amount != c.out {
				t.Fatalf("invoice %q reads back as %q, want %q", c.in, node.Node.Amount, c.out)
			}

			var al struct {
				AllocateCredits struct {
					Transaction struct{ Amount, Currency string }
					Balance     struct{ Currency, Available string }
					PoolBalance struct{ Available string }
				}
			}
			rdQuery(t, a, admin, valAllocateQ, map[string]any{"to": fx.A2, "amt": c.in}, &al)
			m := rdMinor(t, c.out, 2)
			poolMinor -= m
			a2Minor += m
			if al.AllocateCredits.Transaction.Amount != c.out || rdMinor(t, al.AllocateCredits.Balance.Available, 2) != a2Minor ||
				rdMinor(t, al.AllocateCredits.PoolBalance.Available, 2) != poolMinor {
				t.Fatalf("allocateCredits %q: %+v", c.in, al.AllocateCredits)
			}

			var buy struct {
				BuyCredits struct {
					Status      string
					Transaction struct{ Amount, Currency string }
					Balance     struct{ Currency, Available string }
				}
			}
			rdQuery(t, a, owner, valBuyQ, map[string]any{"amt": c.in}, &buy)
			ownMinor += m
			if buy.BuyCredits.Status != "COMPLETED" || buy.BuyCredits.Transaction.Amount != c.out ||
				rdMinor(t, buy.BuyCredits.Balance.Available, 2) != ownMinor {
				t.Fatalf("buyCredits %q: %+v", c.in, buy.BuyCredits)
			}
		}
		// The largest amount in whole cents that int64 micro-units hold is
		// accepted as input.
		var big struct{ CreateInvoice struct{ Amount string } }
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": "9223372036854.77"}, &big)
		if big.CreateInvoice.Amount != "9223372036854.77" {
			t.Fatalf("largest amount reads back as %q", big.CreateInvoice.Amount)
		}
		// Three fraction digits in BHD, none in JPY.
		var bhd struct {
			CreateInvoice struct{ Amount, Currency string }
		}
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": "1.5", "cur": "BHD"}, &bhd)
		if bhd.CreateInvoice.Amount != "1.500" || bhd.CreateInvoice.Currency != "BHD" {
			t.Fatalf("BHD invoice: %+v", bhd.CreateInvoice)
		}
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": "1200", "cur": "JPY"}, &bhd)
		if bhd.CreateInvoice.Amount != "1200" || bhd.CreateInvoice.Currency != "JPY" {
			t.Fatalf("JPY invoice: %+v", bhd.CreateInvoice)
		}

		// A lower-case currency is accepted and normalised, everywhere.
		var low struct {
			CreateInvoice struct{ Amount, Currency string }
		}
		rdQuery(t, a, admin, valInvoiceQ, map[string]any{"a": fx.A1, "n": number(), "amt": "3", "cur": "eur"}, &low)
		if low.CreateInvoice.Currency != "EUR" || low.CreateInvoice.Amount != "3.00" {
			t.Fatalf("createInvoice in \"eur\": %+v", low.CreateInvoice)
		}
		var lowBuy struct {
			BuyCredits struct {
				Transaction struct{ Currency string }
				Balance     struct{ Currency, Available string }
			}
		}
		rdQuery(t, a, owner, valBuyQ, map[string]any{"amt": "4", "cur": "eUr"}, &lowBuy)
		if lowBuy.BuyCredits.Transaction.Currency != "EUR" || lowBuy.BuyCredits.Balance.Currency != "EUR" || lowBuy.BuyCredits.Balance.Available != "4.00" {
			t.Fatalf("buyCredits in \"eUr\": %+v", lowBuy.BuyCredits)
		}
		var lowRead struct {
			Balance  struct{ Currency, Available string }
			History  struct{ TotalCount int }
			Balances []struct{ Currency, Available string }
		}
		rdQuery(t, a, owner, `{ balance(currency: "eur") { currency available } history(currency: "eur") { totalCount } balances { currency available } }`, nil, &lowRead)
		if lowRead.Balance.Currency != "EUR" || lowRead.Balance.Available != "4.00" || lowRead.History.TotalCount != 1 {
			t.Fatalf("reads in \"eur\": %+v", lowRead)
		}
		cur := map[string]string{}
		for _, b := range lowRead.Balances {
			cur[b.Currency] = b.Available
		}
		if len(cur) != 2 || cur["EUR"] != "4.00" || rdMinor(t, cur["USD"], 2) != ownMinor {
			t.Fatalf("balances: %+v", lowRead.Balances)
		}
	})
}

func TestValidationPaging(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "10")
		a.fund(fx.A1, "20")

		// A real cursor of each kind, to try on the other lists.
		var h struct {
			History  struct{ PageInfo rdPageInfo }
			Invoices struct{ PageInfo rdPageInfo }
		}
		rdQuery(t, a, a.client(), `{ history(first: 1) { pageInfo { hasNextPage endCursor } } invoices(first: 1) { pageInfo { hasNextPage endCursor } } }`, nil, &h)
		if h.History.PageInfo.EndCursor == nil || !h.History.PageInfo.HasNextPage || h.Invoices.PageInfo.EndCursor == nil {
			t.Fatalf("first pages: %+v", h)
		}
		seqCursor, timeCursor := *h.History.PageInfo.EndCursor, *h.Invoices.PageInfo.EndCursor

		lists := []struct {
			name, query string
			token       string
			cursor      string // a valid cursor of this list
			otherCursor string // a cursor of another list
		}{
			{"history", `query($f: Int, $after: String){ history(first: $f, after: $after) { totalCount edges { cursor } } }`, a.client(), seqCursor, timeCursor},
			{"requests", `query($f: Int, $after: String){ requests(first: $f, after: $after) { totalCount edges { cursor } } }`, a.agencyAdmin(), timeCursor, seqCursor},
			{"invoices", `query($f: Int, $after: String){ invoices(first: $f, after: $after) { totalCount edges { cursor } } }`, a.client(), timeCursor, seqCursor},
			{"agency.accounts", `query($f: Int, $after: String){ agency { accounts(first: $f, after: $after) { totalCount edges { cursor } } } }`, a.agencyAdmin(), timeCursor, seqCursor},
		}
		garbage := []string{"garbage", "!!!", "", "s", "dA", "c2FiYw", "czk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "dHh8"}
		for _, l := range lists {
			for _, f := range []int{101, 1000, -1, -100} {
				wantRefused(t, a.gql(l.token, l.query, map[string]any{"f": f}), "BAD_USER_INPUT", fmt.Sprintf("%s(first: %d)", l.name, f))
			}
			for _, c := range garbage {
				wantRefused(t, a.gql(l.token, l.query, map[string]any{"f": 10, "after": c}), "BAD_USER_INPUT", fmt.Sprintf("%s(after: %q)", l.name, c))
			}
			wantRefused(t, a.gql(l.token, l.query, map[string]any{"f": 10, "after": l.otherCursor}), "BAD_USER_INPUT", l.name+" with another list's cursor")
			for _, f := range []any{100, 1, nil} {
				r := a.gql(l.token, l.query, map[string]any{"f": f})
				rdCheckCodes(t, r)
				if len(r.Errors) > 0 {
					t.Fatalf("%s(first: %v): %+v", l.name, f, r.Errors)
				}
			}
			r := a.gql(l.token, l.query, map[string]any{"f": 100, "after": l.cursor})
			rdCheckCodes(t, r)
			if len(r.Errors) > 0 {
				t.Fatalf("%s with a valid cursor: %+v", l.name, r.Errors)
			}
		}

		// first: 100 returns everything, first: 1 one edge.
		var all struct {
			History struct {
				TotalCount int
				Edges      []struct{ Cursor string }
				PageInfo   rdPageInfo
			}
		}
		rdQuery(t, a, a.client(), `{ history(first: 100) { totalCount edges { cursor } pageInfo { hasNextPage } } }`, nil, &all)
		if all.History.TotalCount != 2 || len(all.History.Edges) != 2 || all.History.PageInfo.HasNextPage {
			t.Fatalf("history(first: 100): %+v", all.History)
		}
		// Walking the time-keyed lists two at a time visits every item once.
		want := map[string]bool{string(fx.InvoiceA1): true, string(fx.InvoiceA1b): true}
		for i := range 5 {
			var inv struct{ CreateInvoice struct{ ID string } }
			rdQuery(t, a, a.agencyAdmin(), `mutation($a: ID!, $n: String!){ createInvoice(input:{accountId:$a, number:$n, amount:"1"}) { id } }`,
				map[string]any{"a": fx.A2, "n": fmt.Sprintf("P-%d", i)}, &inv)
			want[inv.CreateInvoice.ID] = true
		}
		for i := range 3 {
			var req struct {
				BuyCredits struct {
					Status  string
					Request struct{ Invoice struct{ ID string } }
				}
			}
			rdQuery(t, a, a.agencyAdmin(), `mutation($a: ID!, $amt: Decimal!){ buyCredits(input:{accountId:$a, amount:$amt, method:CRYPTO}) { status request { invoice { id } } } }`,
				map[string]any{"a": fx.A1, "amt": fmt.Sprint(i + 1)}, &req)
			want[req.BuyCredits.Request.Invoice.ID] = true // its CREDIT_TOPUP invoice
		}
		walk := func(field string, wantTotal int) map[string]bool {
			t.Helper()
			seen := map[string]bool{}
			var after any
			for page := 0; ; page++ {
				if page > 10 {
					t.Fatalf("%s paging does not end", field)
				}
				var out map[string]struct {
					TotalCount int
					PageInfo   rdPageInfo
					Edges      []struct{ Node struct{ ID string } }
				}
				rdQuery(t, a, a.agencyAdmin(), `query($after: String){ `+field+`(first: 2, after: $after) {
					totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { node { id } } } }`,
					map[string]any{"after": after}, &out)
				c := out[field]
				if c.TotalCount != wantTotal || len(c.Edges) > 2 {
					t.Fatalf("%s page %d: %+v", field, page, c)
				}
				for _, e := range c.Edges {
					if seen[e.Node.ID] {
						t.Fatalf("%s: %s seen twice", field, e.Node.ID)
					}
					seen[e.Node.ID] = true
				}
				if c.PageInfo.HasNextPage != (len(seen) < wantTotal) {
					t.Fatalf("%s page %d: hasNextPage %v after %d of %d", field, page, c.PageInfo.HasNextPage, len(seen), wantTotal)
				}
				if !c.PageInfo.HasNextPage {
					return seen
				}
				after = *c.PageInfo.EndCursor
			}
		}
		if seen := walk("invoices", 10); len(seen) != len(want) {
			t.Fatalf("paged invoices %v, want %v", seen, want)
		} else {
			for id := range want {
				if !seen[id] {
					t.Fatalf("invoice %s missed while paging", id)
				}
			}
		}
		if seen := walk("requests", 3); len(seen) != 3 {
			t.Fatalf("paged requests: %v", seen)
		}

		// Page size is checked before anything else touches the page.
		wantRefused(t, a.gql(a.client(), `{ history(first: 101, after: "garbage") { totalCount } }`, nil), "BAD_USER_INPUT", "first 101 with a garbage cursor")
	})
}

func TestValidationMutations(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		fx := a.fx
		a.fund(fx.A1, "100")
		admin, owner, sysAdmin := a.agencyAdmin(), a.owner(), a.sysAdmin()
		before := snapshot(t, a)

		// buyCredits: exactly one of packageId and amount.
		buy := `mutation($p: ID, $amt: Decimal, $m: PaymentMethod!){ buyCredits(input:{packageId:$p, amount:$amt, method:$m}) { status } }`
		for _, m := range []string{"CARD", "BANK_TRANSFER"} {
			wantRefused(t, a.gql(owner, buy, map[string]any{"p": fx.PackageA, "amt": "10", "m": m}), "BAD_USER_INPUT", "buyCredits with package and amount "+m)
			wantRefused(t, a.gql(owner, buy, map[string]any{"m": m}), "BAD_USER_INPUT", "buyCredits with neither "+m)
		}
		// Another agency's package is not found, whatever else is wrong.
		wantRefused(t, a.gql(owner, buy, map[string]any{"p": fx.PackageB, "m": "CARD"}), "NOT_FOUND", "buyCredits with B's package")

		// buyServiceWithCredit: quantity at least 1, and price × quantity fits.
		svcQ := `mutation($s: ID!, $q: Int){ buyServiceWithCredit(input:{serviceId:$s, quantity:$q}) { transaction { amount } } }`
		for _, q := range []any{0, -1, -2147483648} {
			wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": fx.SMS, "q": q}), "BAD_USER_INPUT", fmt.Sprintf("quantity %v", q))
		}
		wantRefused(t, a.gql(a.client(), `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId:$s, quantity:0}) { transaction { amount } } }`,
			map[string]any{"s": fx.SMS}), "BAD_USER_INPUT", "inline quantity 0")
		wantUnchanged(t, a, before, "refused purchases")
		var pricey struct{ CreateService struct{ ID, Price string } }
		rdQuery(t, a, admin, `mutation { createService(input:{name:"Gold", price:"9223372036854.775807"}) { id price } }`, nil, &pricey)
		if pricey.CreateService.Price != "9223372036854.775807" {
			t.Fatalf("largest price reads back as %q", pricey.CreateService.Price)
		}
		before = snapshot(t, a) // with the Gold service
		wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": pricey.CreateService.ID, "q": 2}), "BAD_USER_INPUT", "price × 2 overflowing int64")
		wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": pricey.CreateService.ID, "q": 2147483647}), "BAD_USER_INPUT", "price × max int32 overflowing int64")
		// Within int64 it is a plain lack of credits.
		wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": pricey.CreateService.ID, "q": 1}), "INSUFFICIENT_CREDITS", "largest price × 1")
		wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": fx.SMS, "q": 2147483647}), "INSUFFICIENT_CREDITS", "SMS × max int32")
		// Huge quantities (gqlgen accepts 64-bit Ints) overflow price × quantity.
		for _, q := range []any{int64(1) << 62, int64(math.MaxInt64)} {
			wantRefused(t, a.gql(a.client(), svcQ, map[string]any{"s": fx.SMS, "q": q}), "BAD_USER_INPUT", fmt.Sprintf("quantity %v", q))
		}
		wantUnchanged(t, a, before, "refused purchases")

		// createInvoice: unique number per agency, client accounts only.
		inv := `mutation($a: ID!, $n: String!){ createInvoice(input:{accountId:$a, number:$n, amount:"5"}) { id number } }`
		wantRefused(t, a.gql(admin, inv, map[string]any{"a": fx.A2, "n": "A1-001"}), "CONFLICT", "duplicate invoice number in the agency")
		wantRefused(t, a.gql(admin, inv, map[string]any{"a": fx.A1, "n": " A1-002 "}), "CONFLICT", "duplicate invoice number with spaces")
		wantRefused(t, a.gql(sysAdmin, inv, map[string]any{"a": fx.A2, "n": "A1-001"}), "CONFLICT", "duplicate invoice number as system admin")
		wantRefused(t, a.gql(admin, inv, map[string]any{"a": fx.PoolA, "n": "POOL-1"}), "BAD_USER_INPUT", "invoice on the pool")
		wantRefused(t, a.gql(sysAdmin, inv, map[string]any{"a": fx.PoolB, "n": "POOL-1"}), "BAD_USER_INPUT", "invoice on B's pool")
		wantRefused(t, a.gql(admin, inv, map[string]any{"a": fx.B1, "n": "X-1"}), "NOT_FOUND", "invoice on another agency's account")
		for _, n := range []string{"", "   ", "\t\n", strings.Repeat("x", 101)} {
			wantRefused(t, a.gql(admin, inv, map[string]any{"a": fx.A1, "n": n}), "BAD_USER_INPUT", fmt.Sprintf("invoice number %q", n))
		}
		wantUnchanged(t, a, before, "refused invoices")
		// The same number in another agency is fine.
		var other struct{ CreateInvoice struct{ ID, Number string } }
		rdQuery(t, a, sysAdmin, inv, map[string]any{"a": fx.B1, "n": "A1-001"}, &other)
		if other.CreateInvoice.Number != "A1-001" {
			t.Fatalf("invoice A1-001 in agency B: %+v", other)
		}

		// Empty and over-long names.
		for _, name := range []string{"", "  ", strings.Repeat("n", 201)} {
			vars := map[string]any{"n": name, "ag": fx.AgencyA}
			wantRefused(t, a.gql(sysAdmin, `mutation($n: String!){ createAgency(input:{name:$n}) { id } }`, vars), "BAD_USER_INPUT", fmt.Sprintf("agency name %q", name))
			wantRefused(t, a.gql(admin, `mutation($n: String!){ createAccount(input:{name:$n}) { id } }`, vars), "BAD_USER_INPUT", fmt.Sprintf("account name %q", name))
			wantRefused(t, a.gql(sysAdmin, `mutation($n: String!, $ag: ID){ createAccount(input:{agencyId:$ag, name:$n}) { id } }`, vars), "BAD_USER_INPUT", fmt.Sprintf("account name %q (system admin)", name))
			wantRefused(t, a.gql(admin, `mutation($n: String!){ createService(input:{name:$n, price:"1"}) { id } }`, vars), "BAD_USER_INPUT", fmt.Sprintf("service name %q", name))
			wantRefused(t, a.gql(admin, `mutation($n: String!){ createCreditPackage(input:{name:$n, credits:"1", price:"1"}) { id } }`, vars), "BAD_USER_INPUT", fmt.Sprintf("package name %q", name))
		}
		var counts struct {
			Agency struct {
				Accounts struct{ TotalCount int }
			}
			Services       []struct{ ID string }
			CreditPackages []struct{ ID string }
		}
		rdQuery(t, a, admin, `{ agency { accounts { totalCount } } services { id } creditPackages { id } }`, nil, &counts)
		if counts.Agency.Accounts.TotalCount != 3 || len(counts.Services) != 3 || len(counts.CreditPackages) != 1 {
			t.Fatalf("refused creations left something behind: %+v", counts)
		}
		// Names are trimmed when accepted.
		var acc struct{ CreateAccount struct{ Name string } }
		rdQuery(t, a, admin, `mutation { createAccount(input:{name:"  Client A3 "}) { name } }`, nil, &acc)
		if acc.CreateAccount.Name != "Client A3" {
			t.Fatalf("account name = %q, want it trimmed", acc.CreateAccount.Name)
		}

		// idempotencyKey: 1 to 200 characters, on every money-moving mutation.
		before = snapshot(t, a)
		keyed := []struct {
			name, query, token string
			vars               map[string]any
		}{
			{"buyCredits", `mutation($k: String){ buyCredits(input:{amount:"1", method:CARD, idempotencyKey:$k}) { status } }`, owner, nil},
			{"buyCredits request", `mutation($k: String){ buyCredits(input:{amount:"1", method:BANK_TRANSFER, idempotencyKey:$k}) { status } }`, owner, nil},
			{"payInvoiceWithCredit", `mutation($k: String, $i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i, idempotencyKey:$k}) { invoice { status } } }`, a.client(), map[string]any{"i": fx.InvoiceA1b}},
			{"buyServiceWithCredit", `mutation($k: String, $s: ID!){ buyServiceWithCredit(input:{serviceId:$s, idempotencyKey:$k}) { transaction { id } } }`, a.client(), map[string]any{"s": fx.SMS}},
			{"allocateCredits", `mutation($k: String, $to: ID!){ allocateCredits(input:{toAccountId:$to, amount:"1", idempotencyKey:$k}) { transaction { id } } }`, admin, map[string]any{"to": fx.A1}},
		}
		for _, m := range keyed {
			for _, k := range []string{strings.Repeat("k", 201), "", "   "} {
				vars := map[string]any{"k": k}
				for n, v := range m.vars {
					vars[n] = v
				}
				wantRefused(t, a.gql(m.token, m.query, vars), "BAD_USER_INPUT", fmt.Sprintf("%s with a %d-byte key", m.name, len(k)))
			}
		}
		wantUnchanged(t, a, before, "refused idempotency keys")
		// 200 characters is accepted, and a retry replays.
		k200 := strings.Repeat("k", 200)
		var first, second struct {
			AllocateCredits struct{ Transaction struct{ ID string } }
		}
		rdQuery(t, a, admin, keyed[4].query, map[string]any{"k": k200, "to": fx.A1}, &first)
		rdQuery(t, a, admin, keyed[4].query, map[string]any{"k": k200, "to": fx.A1}, &second)
		if first.AllocateCredits.Transaction.ID == "" || first.AllocateCredits.Transaction.ID != second.AllocateCredits.Transaction.ID {
			t.Fatalf("200-character key: %+v then %+v", first, second)
		}
		wantRefused(t, a.gql(admin, `mutation($k: String, $to: ID!){ allocateCredits(input:{toAccountId:$to, amount:"2", idempotencyKey:$k}) { transaction { id } } }`,
			map[string]any{"k": k200, "to": fx.A1}), "CONFLICT", "the same key with another amount")
		if got := a.balance(fx.A1); got != "101.00" {
			t.Fatalf("A1 after one keyed allocation of 1.00 = %s, want 101.00", got)
		}

		// Unknown and malformed ids are NOT_FOUND, not INTERNAL.
		for _, id := range []string{"", "nope", string(gid.New(gid.Invoice)), string(fx.InvoiceB1)} {
			wantRefused(t, a.gql(a.client(), `mutation($i: ID!){ payInvoiceWithCredit(input:{invoiceId:$i}) { invoice { id } } }`, map[string]any{"i": id}),
				"NOT_FOUND", fmt.Sprintf("paying invoice %q", id))
		}

		// A credit that would push a balance past int64 micro-units is
		// BAD_USER_INPUT and leaves nothing behind: no transaction, no
		// payment, no balance change.
		const max = "9223372036854.77"
		var big struct {
			BuyCredits struct {
				Status  string
				Balance struct{ Available string }
			}
		}
		rdQuery(t, a, sysAdmin, `mutation($a: ID!, $amt: Decimal!){ buyCredits(input:{accountId:$a, amount:$amt, method:CARD}) { status balance { available } } }`,
			map[string]any{"a": fx.A2, "amt": max}, &big)
		if big.BuyCredits.Status != "COMPLETED" || big.BuyCredits.Balance.Available != max {
			t.Fatalf("buying the largest amount: %+v", big)
		}
		full := snapshot(t, a)
		wantRefused(t, a.gql(sysAdmin, `mutation($a: ID!){ allocateCredits(input:{toAccountId:$a, amount:"0.01"}) { transaction { id } } }`,
			map[string]any{"a": fx.A2}), "BAD_USER_INPUT", "allocating past the largest balance")
		wantUnchanged(t, a, full, "an overflowing allocation")
		for _, m := range []string{"CARD", "PAYPAL"} {
			wantRefused(t, a.gql(sysAdmin, `mutation($a: ID!, $m: PaymentMethod!){ buyCredits(input:{accountId:$a, amount:"0.01", method:$m}) { status } }`,
				map[string]any{"a": fx.A2, "m": m}), "BAD_USER_INPUT", "buying past the largest balance with "+m)
			if got := a.balance(fx.A2); got != max {
				t.Fatalf("A2 = %s after a refused %s purchase, want %s", got, m, max)
			}
		}
		// The refusal must come before the provider is charged: a payment
		// left behind means the payer was charged (the sandbox always
		// succeeds) for credits that never land.
		if after := snapshot(t, a); after != full {
			q := `SELECT method, status, amount, provider_ref FROM payments WHERE account_id = ? AND amount = 1`
			if a.db.Dialect == "postgres" {
				q = strings.Replace(q, "?", "$1", 1)
			}
			rows, err := a.db.SQL.Query(q, string(fx.A2))
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var left []string
			for rows.Next() {
				var method, status, ref string
				var amount int64
				if err := rows.Scan(&method, &status, &amount, &ref); err != nil {
					t.Fatal(err)
				}
				left = append(left, fmt.Sprintf("%s %s amount=%d provider_ref=%q", method, status, amount, ref))
			}
			t.Errorf("refused overflowing purchases changed the database:\nbefore %+v\nafter  %+v\npayments left behind: %v", full, after, left)
		}

	})
}
