package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// The ceiling: the least SQL each write must do, as one transaction, run by
// pgbench against tables of the same shape in the same database.
const ceilingTables = `
CREATE TABLE bench_wallets (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE bench_ledger (id bigserial PRIMARY KEY, account_id int NOT NULL, amount bigint NOT NULL,
  running_balance bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX ON bench_ledger (account_id, id);
CREATE TABLE bench_invoices (id int PRIMARY KEY, status text NOT NULL, paid_at timestamptz);
INSERT INTO bench_wallets SELECT g, 1000000000000 FROM generate_series(1, %[1]d) g;
INSERT INTO bench_invoices SELECT g, 'OPEN', NULL FROM generate_series(1, %[1]d * 4) g;
`

var ceilingScripts = map[string]string{
	// Conditional debit with RETURNING, the posting with its running
	// balance, the invoice turning paid.
	"pay": `
\set acct %s
\set inv random(1, %d)
BEGIN;
UPDATE bench_wallets SET balance = balance - 1 WHERE id = :acct AND balance >= 1 RETURNING balance AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
UPDATE bench_invoices SET status = 'PAID', paid_at = now() WHERE id = :inv;
END;
`,
	// The same without an invoice: metered usage.
	"service": `
\set acct %s
\set inv random(1, %d)
BEGIN;
UPDATE bench_wallets SET balance = balance - 1 WHERE id = :acct AND balance >= 1 RETURNING balance AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
`,
}

func (e *env) seedCeiling(ctx context.Context, accounts int) error {
	_, err := e.sql.ExecContext(ctx, fmt.Sprintf(ceilingTables, accounts))
	return err
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs the scenario's ceiling script and returns its tx/s.
func (e *env) pgbench(ctx context.Context, sc scenario, clients int, d time.Duration) (float64, error) {
	acct := fmt.Sprintf("random(1, %d)", len(e.spread))
	if sc.hot {
		acct = "1"
	}
	script := filepath.Join(e.tmp, sc.ceiling+".sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(ceilingScripts[sc.ceiling], acct, len(e.spread)*4)), 0o644); err != nil {
		return 0, err
	}
	secs := max(1, int(d.Round(time.Second).Seconds()))
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(clients, 2)), "-T", strconv.Itoa(secs), "-f", script, e.dsn)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
