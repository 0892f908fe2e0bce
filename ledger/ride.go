package ledger

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"

	"creditgate/ent"
)

// Rows that ride along. What a money mutation records of itself (its
// audit event, an outbox row) would cost a statement, and a round trip
// while the balance row is locked, of its own. On PostgreSQL such a row is
// instead held by the ledger's transaction and inserted by a CTE of the
// next ledger statement (moveAndWrite, writeJournal), or of the statement
// that announces the events just before COMMIT when no posting follows.
// It is written exactly when the work it belongs to commits: a request of
// a batch that fails drops its rows with its own Tx.

// Row is one row to insert.
type Row struct {
	Table   string
	Columns []string
	Values  []any // in the order of Columns; nil is NULL
	// Types are the columns' PostgreSQL types ("varchar", "timestamptz",
	// "bigint"), in the order of Columns. The rows of a table go in as one
	// array per column, so the statement's text is the same whatever the
	// batch's size, and each connection plans it once, not once per size
	// (as a VALUES list, a batch's write statement was planned anew on
	// almost every call).
	Types []string
}

// RideAlong holds r in the ledger transaction whose ent transaction is etx,
// to be inserted with its next statement; false when there is none (not a
// ledger transaction, or SQLite, or r without its Types): the caller
// inserts r itself.
func (l *Ledger) RideAlong(etx *ent.Tx, r Row) bool {
	if l.dialect != dialect.Postgres || len(r.Columns) != len(r.Values) || len(r.Columns) != len(r.Types) {
		return false
	}
	v, ok := l.open.Load(etx)
	if !ok {
		return false
	}
	tx := v.(*Tx)
	tx.rows = append(tx.rows, r)
	return true
}

// enter makes tx the ledger transaction RideAlong finds for its ent
// transaction (a batch's request, in turn); leave forgets it.
func (l *Ledger) enter(tx *Tx) {
	if l.dialect == dialect.Postgres {
		l.open.Store(tx.Tx, tx)
	}
}

func (l *Ledger) leave(tx *Tx) {
	if l.dialect == dialect.Postgres {
		l.open.Delete(tx.Tx)
	}
}

// rideCTEs takes tx's held rows as CTEs for a statement: ", r0 AS (INSERT
// ...), ..." with their arguments. Rows of the same table, columns and
// types are one INSERT of one array per column.
func rideCTEs(tx *Tx) (string, []any) {
	if len(tx.rows) == 0 {
		return "", nil
	}
	rows := tx.rows
	tx.rows = nil
	var q strings.Builder
	var args []any
	done := make([]bool, len(rows))
	n := 0
	for i, r := range rows {
		if done[i] {
			continue
		}
		var group []Row
		for j := i; j < len(rows); j++ {
			if o := rows[j]; !done[j] && o.Table == r.Table && slices.Equal(o.Columns, r.Columns) && slices.Equal(o.Types, r.Types) {
				done[j] = true
				group = append(group, o)
			}
		}
		fmt.Fprintf(&q, `, r%d AS (INSERT INTO %s (%s) SELECT * FROM unnest(`, n, r.Table, strings.Join(r.Columns, ", "))
		n++
		for c, typ := range r.Types {
			vs := make([]any, len(group))
			for k, o := range group {
				vs[k] = o.Values[c]
			}
			if c > 0 {
				q.WriteString(", ")
			}
			q.WriteString("?::" + typ + "[]")
			args = append(args, arrayOf(typ, vs))
		}
		q.WriteString("))")
	}
	return q.String(), args
}

// flushRows writes tx's held rows, with the events to announce if any, in
// one statement (PostgreSQL, just before COMMIT).
func (l *Ledger) flushRows(ctx context.Context, tx *Tx) error {
	if len(tx.rows) == 0 && len(tx.events) == 0 {
		return nil
	}
	ctes, args := rideCTEs(tx)
	sel, nargs := notifySelect(tx.events)
	q := sel
	if ctes != "" {
		q = "WITH " + strings.TrimPrefix(ctes, ", ") + " " + sel
	}
	if _, err := tx.ExecContext(ctx, l.Rebind(q), append(args, nargs...)...); err != nil {
		return fmt.Errorf("writing before commit: %w", err)
	}
	return nil
}
