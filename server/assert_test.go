package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"creditgate/ent/migrate"
)

// The assertions the server tests share: a request refused with a code
// (wantRefused and its stricter variants), and a database a refused
// operation left as it was (snapshot, wantUnchanged).

// leakFragments are fragments that would betray internals in a message.
var leakFragments = []string{"SQL", "pq:", "sqlite", "SQLITE", ".go:", "ent:", "goroutine", "panic"}

// leaks lists what is wrong with r's errors whatever the outcome: an error
// without extensions.code, a message with internals in it, a stack trace.
func leaks(r gqlResponse) []string {
	var out []string
	for _, e := range r.Errors {
		for _, bad := range leakFragments {
			if strings.Contains(e.Message, bad) {
				out = append(out, fmt.Sprintf("error message leaks internals (%q): %q", bad, e.Message))
			}
		}
		if c, ok := e.Extensions["code"].(string); !ok || c == "" {
			out = append(out, fmt.Sprintf("error without extensions.code: %+v", e))
		}
		if _, ok := e.Extensions["stacktrace"]; ok {
			out = append(out, fmt.Sprintf("error carries a stack trace: %+v", e))
		}
	}
	return out
}

// wantNoLeak asserts that every error of r carries a code and no internals.
func wantNoLeak(t testing.TB, r gqlResponse) {
	t.Helper()
	for _, p := range leaks(r) {
		t.Error(p)
	}
}

// refusal is what a refused request must look like.
type refusal struct {
	code   string
	data   refusedData
	saying string // a fragment of the first error's message
}

// refusedData is what a refusal may answer as data.
type refusedData int

const (
	nullFields    refusedData = iota // null, omitted, or every root field null
	nullOrOmitted                    // no data object at all
	explicitNull                     // "data": null exactly
)

// problems lists how r falls short of w.
func (w refusal) problems(r gqlResponse) []string {
	if len(r.Errors) == 0 {
		return []string{"no error: the request succeeded"}
	}
	var out []string
	for _, e := range r.Errors {
		if c, _ := e.Extensions["code"].(string); c != w.code {
			out = append(out, fmt.Sprintf("an error is %q, want every error %s: %q", c, w.code, e.Message))
		}
	}
	out = append(out, leaks(r)...)
	if w.saying != "" && !strings.Contains(r.Errors[0].Message, w.saying) {
		out = append(out, fmt.Sprintf("message %q, want it to mention %q", r.Errors[0].Message, w.saying))
	}
	switch {
	case w.data == explicitNull:
		if string(r.Data) != "null" {
			out = append(out, fmt.Sprintf("answered data %q, want \"data\": null (not a null field inside data, not data omitted)", r.Data))
		}
	case len(r.Data) == 0 || string(r.Data) == "null":
	case w.data == nullOrOmitted:
		out = append(out, fmt.Sprintf("answered data %s, want none (null or omitted)", r.Data))
	default:
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(r.Data, &fields); err != nil {
			out = append(out, fmt.Sprintf("data %s is not an object: %v", r.Data, err))
		}
		for field, v := range fields {
			if string(v) != "null" {
				out = append(out, fmt.Sprintf("refused request still answered data: %s = %s", field, v))
			}
		}
	}
	return out
}

// check fails t, now, when r is not the refusal w; what labels it.
func (w refusal) check(t testing.TB, r gqlResponse, what []string) {
	t.Helper()
	p := w.problems(r)
	if len(p) == 0 {
		return
	}
	label := strings.Join(what, " ")
	if label != "" {
		label += ": "
	}
	t.Fatalf("%swant refused with %s, but:\n\t%s\nerrors %+v\ndata %s", label, w.code, strings.Join(p, "\n\t"), r.Errors, r.Data)
}

// wantRefused asserts that r was refused with code: at least one error,
// every error with that code, none leaking internals, and no data
// answered (data null or omitted, or every root field in it null). what,
// if given, labels a failure.
func wantRefused(t testing.TB, r gqlResponse, code string, what ...string) {
	t.Helper()
	refusal{code: code}.check(t, r, what)
}

// wantRefusedEarly is wantRefused for a refusal made before execution,
// which answers an explicit "data": null.
func wantRefusedEarly(t testing.TB, r gqlResponse, code string, what ...string) {
	t.Helper()
	refusal{code: code, data: explicitNull}.check(t, r, what)
}

// wantRefusedNoData is wantRefused for a refusal made before GraphQL ran
// (by the HTTP layer), which answers no data object at all: "data" null or
// omitted.
func wantRefusedNoData(t testing.TB, r gqlResponse, code string, what ...string) {
	t.Helper()
	refusal{code: code, data: nullOrOmitted}.check(t, r, what)
}

// wantRefusedSaying is wantRefusedEarly whose first error's message also
// mentions part.
func wantRefusedSaying(t testing.TB, r gqlResponse, code, part string, what ...string) {
	t.Helper()
	refusal{code: code, data: explicitNull, saying: part}.check(t, r, what)
}

// response is a subscription's payload as a gqlResponse, for the
// assertions above.
func (r result) response() gqlResponse { return gqlResponse{Data: r.Data, Errors: r.Errors} }

// snapshot renders every row of every table, every column: two equal
// snapshots mean the database did not change at all.
func snapshot(t testing.TB, a *testAPI) string {
	t.Helper()
	var b strings.Builder
	for _, tbl := range migrate.Tables {
		rows, err := a.db.SQL.Query(`SELECT * FROM ` + tbl.Name + ` ORDER BY 1`)
		if err != nil {
			t.Fatalf("snapshot of %s: %v", tbl.Name, err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatalf("snapshot of %s: %v", tbl.Name, err)
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("snapshot of %s: %v", tbl.Name, err)
			}
			fmt.Fprintf(&b, "%s:", tbl.Name)
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("snapshot of %s: %v", tbl.Name, err)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("snapshot of %s: %v", tbl.Name, err)
		}
	}
	// Every test seeds the fixture: a snapshot without it read the wrong
	// database.
	for _, tbl := range []string{"agencies:", "accounts:", "balances:", "services:", "invoices:"} {
		if !strings.Contains(b.String(), tbl) {
			t.Fatalf("the snapshot sees no %s rows: wrong database?", strings.TrimSuffix(tbl, ":"))
		}
	}
	return b.String()
}

// wantUnchanged asserts that the database is still as snapshot before
// rendered it, and names the rows that differ; what, if given, labels a
// failure.
func wantUnchanged(t testing.TB, a *testAPI, before string, what ...string) {
	t.Helper()
	after := snapshot(t, a)
	if after == before {
		return
	}
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	var diff []string
	for _, l := range bl {
		if !slices.Contains(al, l) {
			diff = append(diff, "- "+l)
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			diff = append(diff, "+ "+l)
		}
	}
	label := strings.Join(what, " ")
	if label == "" {
		label = "a refused operation"
	}
	t.Fatalf("%s changed the database:\n%s", label, strings.Join(diff, "\n"))
}
