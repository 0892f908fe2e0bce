package db

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"entgo.io/ent/dialect"

	"creditgate/money"
)

// Credit amounts were int64 minor units of their currency (cents for USD)
// until they became micro-units (6 fraction digits in every currency, so an
// SMS can cost 0.0075). A database made before keeps its amounts in minor
// units; scaleAmounts converts it in place, once, in one transaction: every
// amount column times its row currency's factor (10,000 for USD, 1,000,000
// for JPY). A marker row in creditgate_meta says it is done; the marker is
// inserted in the same transaction, so two instances starting together
// convert once (PostgreSQL makes the second's insert wait for the first's
// COMMIT, then do nothing; SQLite has one writer).

// amountColumns are the credit amounts, by table; each table has a currency
// column naming the row's currency.
var amountColumns = []struct {
	table   string
	columns []string
}{
	{"balances", []string{"available", "topup_below", "alert_below"}},
	{"postings", []string{"amount", "running_balance"}},
	{"payments", []string{"amount", "credits"}},
	{"credit_requests", []string{"amount"}},
	{"invoices", []string{"amount"}},
	{"services", []string{"price"}},
	{"credit_packages", []string{"credits", "price"}},
	{"top_up_rules", []string{"threshold", "amount", "monthly_cap"}},
	{"alert_rules", []string{"threshold"}},
}

const amountScaleMarker = "amount_scale"

// scaleAmounts brings amounts to micro-units if this database has not been.
func scaleAmounts(ctx context.Context, db *sql.DB, dialectName string) (err error) {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS creditgate_meta (name VARCHAR(100) PRIMARY KEY, value VARCHAR(200) NOT NULL)`); err != nil {
		return fmt.Errorf("creating creditgate_meta: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("scaling amounts: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, rebind(dialectName, `INSERT INTO creditgate_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`),
		amountScaleMarker, fmt.Sprint(money.Scale))
	if err != nil {
		return fmt.Errorf("marking the amount scale: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		// Done before (or by another instance just now).
		return tx.Commit()
	}
	// A database without agencies has no amounts at all: a new one.
	var agencies int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM agencies`).Scan(&agencies); err != nil {
		return fmt.Errorf("scaling amounts: %w", err)
	}
	if agencies > 0 {
		if err := scaleAll(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func scaleAll(ctx context.Context, tx *sql.Tx) error {
	factor := factorSQL()
	for _, t := range amountColumns {
		// A value the factor would carry past int64 stops the migration
		// with nothing changed (SQLite would silently turn it into a float).
		var tooLarge []string
		for _, c := range t.columns {
			tooLarge = append(tooLarge, fmt.Sprintf("ABS(%s) > %d / %s", c, int64(math.MaxInt64), factor))
		}
		var n int
		q := fmt.Sprintf(`SELECT COUNT(*) FROM %s WHERE %s`, t.table, strings.Join(tooLarge, " OR "))
		if err := tx.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("scaling %s: %w", t.table, err)
		}
		if n > 0 {
			return fmt.Errorf("scaling %s: %d row(s) hold amounts too large for 6 fraction digits; nothing was changed", t.table, n)
		}
		var sets []string
		for _, c := range t.columns {
			sets = append(sets, fmt.Sprintf("%s = %s * %s", c, c, factor))
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET %s`, t.table, strings.Join(sets, ", "))); err != nil {
			return fmt.Errorf("scaling %s: %w", t.table, err)
		}
	}
	return nil
}

// factorSQL is a row's micro-units per minor unit of its currency, as SQL.
func factorSQL() string {
	var b strings.Builder
	b.WriteString("(CASE currency")
	for _, c := range money.Codes() {
		if f := money.MinorFactor(c); f != money.MinorFactor("USD") {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", c, f)
		}
	}
	fmt.Fprintf(&b, " ELSE %d END)", money.MinorFactor("USD"))
	return b.String()
}

// rebind numbers ? placeholders for PostgreSQL.
func rebind(dialectName, q string) string {
	if dialectName != dialect.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
