package main

import (
	"bytes"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"creditgate/credits"
)

// invoiceDocument serves GET /invoices/{id}/document?exp=&sig=: the
// printable invoice, for whoever holds the link (no token: it is e-mailed
// to whoever pays). A bad or foreign signature is 404 and an expired link
// 410, neither saying whether the invoice exists.
func invoiceDocument(svc *credits.Service, log *slog.Logger) http.Handler {
	return signedDocument(log, "invoice", invoicePage, func(r *http.Request) (any, error) {
		q := r.URL.Query()
		return svc.InvoiceDocumentFor(r.Context(), r.PathValue("id"), q.Get("exp"), q.Get("sig"))
	})
}

// signedDocument serves a printable page whose link is its credential
// (invoices, statements): load checks the link and reads what page shows.
func signedDocument(log *slog.Logger, what string, page *template.Template, load func(*http.Request) (any, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The link is the credential: keep it out of caches and referrers.
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Robots-Tag", "noindex")
		doc, err := load(r)
		switch {
		case errors.Is(err, credits.ErrLinkInvalid):
			http.Error(w, "no such "+what+" document", http.StatusNotFound)
			return
		case errors.Is(err, credits.ErrLinkExpired):
			http.Error(w, "this "+what+" link has expired: ask for a new one", http.StatusGone)
			return
		case err != nil:
			log.ErrorContext(r.Context(), what+" document", "error", err)
			http.Error(w, "the "+what+" cannot be shown now; try again later", http.StatusServiceUnavailable)
			return
		}
		var b bytes.Buffer
		if err := page.Execute(&b, doc); err != nil {
			log.ErrorContext(r.Context(), what+" document: rendering", "error", err)
			http.Error(w, "the "+what+" cannot be shown", http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(b.Bytes())
	})
}

var invoicePage = template.Must(template.New("invoice").Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 January 2006") },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Invoice {{.Number}}</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; color: #111; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
  header { display: flex; justify-content: space-between; align-items: baseline; border-bottom: 2px solid #111; margin-bottom: 1.5rem; }
  h1 { font-size: 1.6rem; margin: 0; }
  .status { font-weight: 600; letter-spacing: .05em; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  th { text-align: left; font-weight: 500; color: #555; width: 12rem; padding: .3rem 0; vertical-align: top; }
  td { padding: .3rem 0; }
  .amount { font-size: 1.4rem; font-weight: 600; }
  pre { font: inherit; white-space: pre-wrap; margin: 0; }
  @media print {
    body { margin: 0; max-width: none; font-size: 12pt; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<header>
  <h1>Invoice {{.Number}}</h1>
  <span class="status">{{.Status}}</span>
</header>
<table>
  <tr><th>From</th><td>{{.AgencyName}}</td></tr>
  <tr><th>To</th><td>{{.AccountName}}</td></tr>
  <tr><th>Issued</th><td>{{date .IssuedAt}}</td></tr>
  {{with .DueAt}}<tr><th>Due</th><td>{{date .}}</td></tr>{{end}}
  {{with .PaidAt}}<tr><th>Paid</th><td>{{date .}}</td></tr>{{end}}
  <tr><th>{{if eq .Kind "CREDIT_TOPUP"}}Prepaid credits{{else}}Amount{{end}}</th><td class="amount">{{.Amount}} {{.Currency}}</td></tr>
  <tr><th>Currency</th><td>{{.Currency}}</td></tr>
  {{with .VoidReason}}<tr><th>Void</th><td>{{.}}</td></tr>{{end}}
</table>
{{with .BankDetails}}<h2>Bank details</h2>
<pre>{{.}}</pre>{{end}}
</body>
</html>
`))
