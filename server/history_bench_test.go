package main

import (
	"testing"
)

// BenchmarkHistoryHTTP reads a 50-row history page through the whole
// in-process stack (HTTP, JWT, GraphQL, domain, PostgreSQL), one request at
// a time; for profiling (-cpuprofile, -benchmem). The load generator in
// bench/ is the real measurement against the ceiling.
func BenchmarkHistoryHTTP(b *testing.B) {
	a := newAPI(b, "postgres")
	for range 60 {
		a.fund(a.fx.A1, "1")
	}
	const q = `{ history(first: 50) { edges { node { id type amount runningBalance createdAt } } } }`
	tok := a.client()
	b.ReportAllocs()
	for b.Loop() {
		if r := a.gql(tok, q, nil); len(r.Errors) > 0 {
			b.Fatalf("history: %v", r.Errors)
		}
	}
}
