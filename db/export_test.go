package db

// AmountColumns exposes the credit amount columns to the migration test.
func AmountColumns() map[string][]string {
	out := map[string][]string{}
	for _, t := range amountColumns {
		out[t.table] = t.columns
	}
	return out
}

// QueuedTurns is how many statements wait for their turn at d's pool
// (turns.go), behind the one whose turn it is.
func QueuedTurns(d *DB) int {
	q := d.stmts.turns
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

// SetTurns makes d's pool statements take n turns (turns.go), or none
// for n = 0, for comparisons; not while statements run.
func SetTurns(d *DB, n int) {
	d.stmts.turns = nil
	if n > 0 {
		d.stmts.turns = newTurns(n)
	}
}

// FreeTurns is how many of d's pool turns nobody holds.
func FreeTurns(d *DB) int {
	free, _ := d.stmts.turns.state()
	return free
}
