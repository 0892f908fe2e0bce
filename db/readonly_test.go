package db

import "testing"

// Only statements that read may be sent again on another connection after
// theirs failed: a write, or a read with effects, may have happened.
func TestReadOnly(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT id FROM accounts WHERE id = $1":        true,
		"  select 1":                                   true,
		"SELECT pg_notify('creditgate', 'x')":          false,
		"SELECT nextval('s')":                          false,
		"UPDATE balances SET available = 0":            false,
		"WITH b AS (UPDATE balances SET x=1) SELECT 1": false,
		"INSERT INTO jobs (id) VALUES ($1)":            false,
		"SELECT id FROM jobs FOR UPDATE SKIP LOCKED":   true,
		"":    false,
		"SEL": false,
	} {
		if got := readOnly(q); got != want {
			t.Errorf("readOnly(%q) = %v, want %v", q, got, want)
		}
	}
}
