package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The ceiling: the least SQL each request must do (a write as one
// transaction), run by pgbench against tables of the same shape in the same
// database. Account 1 is the hot one; it starts with 50 postings, so the
// history ceiling reads a full page even when no write ran before it.
// Every wallet starts with its funding's journal, postings and key, as the
// gateway's accounts do: on empty tables, the statistics VACUUM (ANALYZE)
// gathers before a scenario (settle) let each pgbench backend plan its
// foreign-key checks as scans of a table that then grows under them, and
// usage-batch's first ceiling round ran at a third of its pace, with a
// p99 over a second.
const ceilingTables = `
CREATE TABLE bench_wallets (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0),
  held bigint NOT NULL DEFAULT 0 CHECK (held >= 0));
CREATE TABLE bench_ledger (id bigserial PRIMARY KEY, account_id int NOT NULL, amount bigint NOT NULL,
  running_balance bigint NOT NULL, created_at timestamptz NOT NULL);
CREATE INDEX ON bench_ledger (account_id, id);
CREATE TABLE bench_holds (id bigserial PRIMARY KEY, account_id int NOT NULL, amount bigint NOT NULL,
  captured bigint NOT NULL, status text NOT NULL, created_at timestamptz NOT NULL, expires_at timestamptz NOT NULL);
CREATE INDEX ON bench_holds (expires_at) WHERE status = 'ACTIVE';
CREATE TABLE bench_invoices (id int PRIMARY KEY, status text NOT NULL, paid_at timestamptz);
CREATE TABLE bench_keys (id bigserial PRIMARY KEY, scope text NOT NULL, k text NOT NULL, result text NOT NULL,
  created_at timestamptz NOT NULL, UNIQUE (scope, k));
CREATE TABLE bench_journals (id text PRIMARY KEY, created_at timestamptz NOT NULL);
CREATE TABLE bench_postings (id text PRIMARY KEY, journal_id text NOT NULL REFERENCES bench_journals,
  account_id int REFERENCES bench_wallets, amount bigint NOT NULL, running_balance bigint, created_at timestamptz NOT NULL);
CREATE INDEX ON bench_postings (account_id, id);
INSERT INTO bench_wallets SELECT g, 1000000000000 FROM generate_series(1, %[1]d) g;
INSERT INTO bench_invoices SELECT g, 'OPEN', NULL FROM generate_series(1, %[1]d * 4) g;
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at)
  SELECT 1, 20000000000, 20000000000 * g, now() FROM generate_series(1, 50) g;
INSERT INTO bench_keys (scope, k, result, created_at) SELECT 'seed', g::text, '{"t":"txn"}', now() FROM generate_series(1, %[1]d) g;
INSERT INTO bench_journals SELECT 'seed' || g, now() FROM generate_series(1, %[1]d) g;
INSERT INTO bench_postings (id, journal_id, account_id, amount, running_balance, created_at)
  SELECT 'seed-a' || g, 'seed' || g, g, 1000000000000, 1000000000000, now() FROM generate_series(1, %[1]d) g
  UNION ALL SELECT 'seed-b' || g, 'seed' || g, NULL, -1000000000000, NULL, now() FROM generate_series(1, %[1]d) g;
`

// ceilingScripts are formatted with the account (a pgbench expression) and
// the number of invoices.
var ceilingScripts = map[string]string{
	// Conditional debit with RETURNING, the posting with its running
	// balance, the invoice turning paid.
	"pay": `
\set acct %[1]s
\set inv random(1, %[2]d)
BEGIN;
UPDATE bench_wallets SET balance = balance - 1 WHERE id = :acct AND balance >= 1 RETURNING balance AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
UPDATE bench_invoices SET status = 'PAID', paid_at = now() WHERE id = :inv;
END;
`,
	// The same without an invoice: metered usage.
	"service": `
\set acct %[1]s
BEGIN;
UPDATE bench_wallets SET balance = balance - 1 WHERE id = :acct AND balance >= 1 RETURNING balance AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
`,
	// A batch of metered usage, the same set-based statements as the
	// gateway's (ledger/batch.go) on tables of the same shape: 100 keys
	// claimed in one INSERT; 100 consecutive wallets locked in id order
	// (concurrent batches overlap); then one statement debiting them
	// (announcing each), with a journal and two postings per debit.
	"usage-batch": `
\set acct random(1, greatest(1, %[3]d - 100))
BEGIN;
INSERT INTO bench_keys (scope, k, result, created_at) SELECT 'bench', md5(random()::text || g), '{"t":"txn"}', now()
  FROM generate_series(1, 100) g ON CONFLICT (scope, k) DO NOTHING RETURNING id;
SELECT id, balance FROM bench_wallets WHERE id BETWEEN :acct AND :acct + 99 ORDER BY id FOR UPDATE;
WITH d AS (UPDATE bench_wallets w SET balance = w.balance - 1 WHERE w.id BETWEEN :acct AND :acct + 99 AND w.balance >= 1
    RETURNING w.id, w.balance, pg_notify('bench_events', w.id::text || ' ' || w.balance::text)),
  e AS (SELECT id, balance, md5(random()::text || id) AS jid FROM d),
  j AS (INSERT INTO bench_journals (id, created_at) SELECT jid, now() FROM e),
  p AS (INSERT INTO bench_postings (id, journal_id, account_id, amount, running_balance, created_at)
    SELECT md5(random()::text || jid || 'a'), jid, id, -1, balance, now() FROM e
    UNION ALL SELECT md5(random()::text || jid || 'b'), jid, NULL, 1, NULL, now() FROM e)
SELECT count(*) FROM e;
END;
`,
	// A hold's lifecycle (balance is available, balance + held the
	// total the postings chain on), as 6 transactions: the hold set aside
	// (available to held) and written; 4 partial captures, each growing
	// the hold's captured under its condition, taking the wallet's held
	// and writing the posting; a final capture that also ends the hold and
	// gives its rest back to available. Amounts in cents: holds 6,
	// captures 1, releases 1.
	"hold": `
\set acct %[1]s
BEGIN;
UPDATE bench_wallets SET balance = balance - 6, held = held + 6 WHERE id = :acct AND balance >= 6;
INSERT INTO bench_holds (account_id, amount, captured, status, created_at, expires_at)
  VALUES (:acct, 6, 0, 'ACTIVE', now(), now() + interval '1 hour') RETURNING id AS hold \gset
END;
BEGIN;
UPDATE bench_holds SET captured = captured + 1 WHERE id = :hold AND status = 'ACTIVE' AND amount - captured >= 1;
UPDATE bench_wallets SET held = held - 1 WHERE id = :acct RETURNING balance + held AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
BEGIN;
UPDATE bench_holds SET captured = captured + 1 WHERE id = :hold AND status = 'ACTIVE' AND amount - captured >= 1;
UPDATE bench_wallets SET held = held - 1 WHERE id = :acct RETURNING balance + held AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
BEGIN;
UPDATE bench_holds SET captured = captured + 1 WHERE id = :hold AND status = 'ACTIVE' AND amount - captured >= 1;
UPDATE bench_wallets SET held = held - 1 WHERE id = :acct RETURNING balance + held AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
BEGIN;
UPDATE bench_holds SET captured = captured + 1 WHERE id = :hold AND status = 'ACTIVE' AND amount - captured >= 1;
UPDATE bench_wallets SET held = held - 1 WHERE id = :acct RETURNING balance + held AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
BEGIN;
UPDATE bench_holds SET captured = captured + 1, status = 'CAPTURED' WHERE id = :hold AND status = 'ACTIVE' AND amount - captured >= 1
  RETURNING amount - captured AS rest \gset
UPDATE bench_wallets SET balance = balance + :rest, held = held - 1 - :rest WHERE id = :acct RETURNING balance + held AS bal \gset
INSERT INTO bench_ledger (account_id, amount, running_balance, created_at) VALUES (:acct, -1, :bal, now());
END;
`,
	// One wallet's balance.
	"balance": `
\set acct %[1]s
SELECT balance FROM bench_wallets WHERE id = :acct;
`,
	// One account's newest 50 postings.
	"history": `
\set acct %[1]s
SELECT id, amount, running_balance, created_at FROM bench_ledger WHERE account_id = :acct ORDER BY id DESC LIMIT 50;
`,
}

func (e *env) seedCeiling(ctx context.Context, accounts int) error {
	_, err := e.sql.ExecContext(ctx, fmt.Sprintf(ceilingTables, accounts))
	return err
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// ceilingResult is one pgbench run.
type ceilingResult struct {
	tps      float64
	n        int // transactions logged
	p50, p99 time.Duration
	cpu      cpuUse // client is pgbench itself
}

// pgbench runs the scenario's ceiling script, logging every transaction
// to read its latencies.
func (e *env) pgbench(ctx context.Context, sc scenario, clients int, d time.Duration) (ceilingResult, error) {
	var r ceilingResult
	acct := fmt.Sprintf("random(1, %d)", len(e.spread))
	if sc.hot {
		acct = "1"
	}
	script := filepath.Join(e.tmp, sc.ceiling+".sql")
	if err := os.WriteFile(script, []byte(fmt.Sprintf(ceilingScripts[sc.ceiling], acct, len(e.spread)*4, len(e.spread))), 0o644); err != nil {
		return r, err
	}
	logs := filepath.Join(e.tmp, "pgbench_log")
	secs := max(1, int(d.Round(time.Second).Seconds()))
	cmd := exec.CommandContext(ctx, "pgbench", "-n", "-M", "prepared", "-c", strconv.Itoa(clients),
		"-j", strconv.Itoa(min(clients, 2)), "-T", strconv.Itoa(secs), "-l", "--log-prefix="+logs, "-f", script, e.dsn)
	pids := postgresPIDs()
	cpu := sampleCPU(0)
	out, err := cmd.CombinedOutput()
	awaitBackendsGone(benchDB, pids, 5*time.Second) // see awaitBackendsGone
	r.cpu = cpu.since(0)
	if cmd.ProcessState != nil {
		r.cpu.client = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return r, fmt.Errorf("pgbench: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("pgbench printed no tps:\n%s", out)
	}
	if r.tps, err = strconv.ParseFloat(string(m[1]), 64); err != nil {
		return r, err
	}
	lat, n, err := pgbenchLatencies(logs)
	if err != nil {
		return r, err
	}
	r.n, r.p50, r.p99 = n, percentile(lat, 0.50), percentile(lat, 0.99)
	return r, nil
}

// pgbenchLatencies reads and removes the per-transaction logs (one file per
// thread, lines "client_id transaction_no time_us script_no time_epoch
// time_us_fraction"). It returns the latencies, sorted, and the number of
// transactions. Each client's first transaction is counted but its latency
// left out: it runs on a backend that has just started and prepares the
// statements, while the gateway's pool is warm.
func pgbenchLatencies(prefix string) (lat []time.Duration, n int, err error) {
	files, err := filepath.Glob(prefix + ".*")
	if err != nil || len(files) == 0 {
		return nil, 0, fmt.Errorf("pgbench wrote no transaction log (%v)", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		os.Remove(f)
		if err != nil {
			return nil, 0, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 {
				continue
			}
			n++
			if fields[1] == "1" {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				return nil, 0, fmt.Errorf("%s: %q: %w", f, line, err)
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
	}
	slices.Sort(lat)
	return lat, n, nil
}
