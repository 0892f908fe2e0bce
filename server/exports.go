package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/ent/posting"
	"creditgate/gid"
	"creditgate/money"
)

// exportBatch is how many postings the CSV export holds at a time: its
// memory is this, whatever the number of rows.
const exportBatch = 5000

var exportHeader = []string{"date", "type", "kind", "reference", "amount", "running balance", "currency", "transaction id", "actor", "reason"}

// exportHistory serves GET /exports/history.csv?accountId=&currency=&from=
// &to=&kind=: an account's transactions in one currency, oldest first, as
// CSV, streamed batch by batch. The bearer token is checked as for GraphQL
// (a JWT, or an API key with BALANCES_READ) and the scope is the domain's:
// another tenant's account is 404, as if it did not exist. Refusals come
// before the first byte, as JSON in the GraphQL errors' shape.
func exportHistory(svc *credits.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		w.Header().Set("Cache-Control", "no-store")
		if _, ok := auth.FromContext(ctx); !ok {
			msg := "missing bearer token"
			if err := auth.ErrorFromContext(ctx); err != nil {
				msg = err.Error()
			}
			exportRefused(w, &credits.Error{Code: credits.CodeUnauthenticated, Message: msg})
			return
		}
		id, cur, f, err := exportArgs(r)
		if err != nil {
			exportRefused(w, err)
			return
		}
		x, err := svc.OpenHistoryExport(ctx, id, cur, f)
		if err != nil {
			if credits.CodeOf(err) == credits.CodeInternal {
				log.ErrorContext(ctx, "history export", "error", err)
			}
			exportRefused(w, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="history-`+string(x.Account.ID)+"-"+x.Currency+`.csv"`)
		cw := csv.NewWriter(w)
		flush := func() error {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			return http.NewResponseController(w).Flush()
		}
		_ = cw.Write(exportHeader)
		row := make([]string, len(exportHeader))
		err = x.Each(ctx, exportBatch, func(ps []*ent.Posting) error {
			for _, p := range ps {
				exportRow(row, p)
				if err := cw.Write(row); err != nil {
					return err
				}
			}
			return flush()
		})
		if err == nil {
			err = flush()
		}
		if err != nil {
			// The status is sent: cut the connection so the client sees a
			// broken download, never a short file that looks whole.
			if ctx.Err() == nil {
				log.ErrorContext(ctx, "history export interrupted", "error", err)
			}
			panic(http.ErrAbortHandler)
		}
	})
}

// exportRow fills row with p's cells.
func exportRow(row []string, p *ent.Posting) {
	typ := "IN"
	if p.Amount < 0 {
		typ = "OUT"
	}
	row[0] = p.CreatedAt.UTC().Format(time.RFC3339Nano)
	row[1] = typ
	row[2] = p.Kind.String()
	row[3] = cell(p.Reference)
	row[4] = string(money.Format(p.Amount, p.Currency)) // signed: the column sums to the change
	row[5] = ""
	if p.RunningBalance != nil {
		row[5] = string(money.Format(*p.RunningBalance, p.Currency))
	}
	row[6] = p.Currency
	row[7] = string(p.ID)
	row[8] = cell(p.Actor)
	row[9] = ""
	if p.Reason != nil {
		row[9] = cell(*p.Reason)
	}
}

// cell defuses text a spreadsheet would run as a formula (CSV injection,
// as OWASP recommends): a cell starting with = + - @ (or a tab or carriage
// return) is prefixed with a single quote. Amounts are numbers and left
// alone.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// exportArgs reads the query: accountId and currency as in history, from
// and to as RFC 3339 instants (or dates, UTC midnight), kind repeated or
// comma-separated.
func exportArgs(r *http.Request) (*gid.ID, *string, credits.HistoryFilter, error) {
	q := r.URL.Query()
	var (
		id  *gid.ID
		cur *string
		f   credits.HistoryFilter
	)
	if v := q.Get("accountId"); v != "" {
		a := gid.ID(v)
		id = &a
	}
	if v := q.Get("currency"); v != "" {
		cur = &v
	}
	for _, name := range []string{"from", "to"} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return nil, nil, f, &credits.Error{Code: credits.CodeBadInput, Message: name + ": want an RFC 3339 time (2026-03-01T00:00:00Z) or a date (2026-03-01)"}
			}
		}
		if name == "from" {
			f.From = &t
		} else {
			f.To = &t
		}
	}
	for _, v := range q["kind"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				f.Kinds = append(f.Kinds, posting.Kind(k))
			}
		}
	}
	if v := q.Get("type"); v != "" {
		d := credits.Direction(v)
		if d != credits.In && d != credits.Out {
			return nil, nil, f, &credits.Error{Code: credits.CodeBadInput, Message: "type: IN or OUT"}
		}
		f.Direction = &d
	}
	return id, cur, f, nil
}

// exportRefused answers err as JSON in the shape of a GraphQL error, with
// the HTTP status of its code.
func exportRefused(w http.ResponseWriter, err error) {
	code := credits.CodeOf(err)
	msg := "internal error"
	var e *credits.Error
	if errors.As(err, &e) && code != credits.CodeInternal {
		msg = e.Message
	}
	status := http.StatusInternalServerError
	switch code {
	case credits.CodeUnauthenticated:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", "Bearer")
	case credits.CodeForbidden:
		status = http.StatusForbidden
	case credits.CodeNotFound:
		status = http.StatusNotFound
	case credits.CodeBadInput:
		status = http.StatusBadRequest
	case credits.CodeUnavailable:
		status = http.StatusServiceUnavailable
		if e != nil && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message": msg, "extensions": map[string]any{"code": code},
	}}})
}

// statementDocument serves GET /statements/{accountId}/document?currency=
// &month=&exp=&sig=: the printable monthly statement, by signed link (no
// token), as invoiceDocument.
func statementDocument(svc *credits.Service, log *slog.Logger) http.Handler {
	return signedDocument(log, "statement", statementPage, func(r *http.Request) (any, error) {
		q := r.URL.Query()
		return svc.StatementDocumentFor(r.Context(), r.PathValue("accountId"), q.Get("currency"), q.Get("month"), q.Get("exp"), q.Get("sig"))
	})
}

var statementPage = template.Must(template.New("statement").Funcs(template.FuncMap{
	"date":  func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") },
	"last":  func(t time.Time) string { return t.Add(-time.Nanosecond).UTC().Format("2 January 2006") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Statement {{.Month}} · {{.AccountName}}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; color: #111; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
  header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 2px solid #111; margin-bottom: 1rem; }
  h1 { font-size: 1.5rem; margin: 0; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  .summary th { text-align: left; font-weight: 500; color: #555; width: 12rem; padding: .25rem 0; }
  .summary td { padding: .25rem 0; font-variant-numeric: tabular-nums; }
  .rows th, .rows td { border-bottom: 1px solid #ddd; padding: .3rem .4rem; text-align: left; vertical-align: top; }
  .rows th { font-weight: 600; font-size: .85rem; color: #444; }
  .num { text-align: right !important; font-variant-numeric: tabular-nums; white-space: nowrap; }
  .note { color: #555; font-size: .9rem; }
  @media print {
    body { margin: 0; max-width: none; font-size: 10pt; }
    .rows thead { display: table-header-group; }
    .rows tr { break-inside: avoid; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1>Statement {{.Month}}</h1>
  <span>{{.AccountName}} · {{.Currency}}</span>
</header>
<table class="summary">
  <tr><th>From</th><td>{{.AgencyName}}</td></tr>
  <tr><th>Account</th><td>{{.AccountName}}</td></tr>
  <tr><th>Period</th><td>{{date .From}} to {{last .To}} (UTC)</td></tr>
  <tr><th>Opening balance</th><td>{{.Opening}} {{.Currency}}</td></tr>
  <tr><th>Credits in</th><td>{{.In}} {{.Currency}}</td></tr>
  <tr><th>Credits out</th><td>{{.Out}} {{.Currency}}</td></tr>
  <tr><th>Closing balance</th><td><strong>{{.Closing}} {{.Currency}}</strong></td></tr>
  <tr><th>Transactions</th><td>{{.Count}}</td></tr>
</table>
{{if .Rows}}<table class="rows">
<thead><tr><th>Date (UTC)</th><th>Kind</th><th>Reference</th><th class="num">In</th><th class="num">Out</th><th class="num">Balance</th><th>Transaction</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{stamp .At}}</td><td>{{.Kind}}</td><td>{{.Reference}}{{with .Reason}}<br><span class="note">{{.}}</span>{{end}}</td><td class="num">{{.In}}</td><td class="num">{{.Out}}</td><td class="num">{{.Running}}</td><td class="note">{{.TransactionID}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p class="note">No transactions this month.</p>{{end}}
{{if .More}}<p class="note">{{.More}} more transactions are not listed here: download them all as CSV from the portal (or <code>GET {{.ExportPath}}</code> with your token).</p>{{end}}
</body>
</html>
`))
