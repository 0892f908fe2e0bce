package db_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent/topuprule"
	"creditgate/money"
)

// A database made before amounts had 6 fraction digits holds minor units
// (cents); opening it converts every amount in one transaction, once, and
// the ledger verifies after it.
func TestAmountsMigrateFromMinorUnits(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			d := dbtest.Open(t, kind)
			svc := credits.New(d.Client, d.Dialect, nil)
			oldWorld(t, svc)
			want := amounts(t, d)
			verify(t, svc)

			// The previous version's database: minor units, no marker.
			for table, cols := range db.AmountColumns() {
				var sets []string
				for _, c := range cols {
					sets = append(sets, fmt.Sprintf("%s = %s / (CASE currency WHEN 'JPY' THEN 1000000 ELSE 10000 END)", c, c))
				}
				if _, err := d.SQL.ExecContext(ctx, fmt.Sprintf("UPDATE %s SET %s", table, strings.Join(sets, ", "))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := d.SQL.ExecContext(ctx, `DELETE FROM creditgate_meta`); err != nil {
				t.Fatal(err)
			}
			if got := amounts(t, d); got == want {
				t.Fatal("the simulated old database has the new amounts")
			}

			for round := range 2 { // the second open finds the marker and changes nothing
				again, err := db.Open(ctx, d.DSN, db.Options{})
				if err != nil {
					t.Fatalf("open %d: %v", round, err)
				}
				credits.InstallScope(again.Client)
				if got := amounts(t, again); got != want {
					t.Fatalf("open %d: amounts after the migration differ:\n%s\nwant\n%s", round, got, want)
				}
				verify(t, credits.New(again.Client, again.Dialect, nil))
				again.Close()
			}
		})
	}
}

// oldWorld makes data the previous version could hold: whole cents (and
// whole yen), in every table with an amount.
func oldWorld(t *testing.T, svc *credits.Service) {
	t.Helper()
	sys := auth.NewContext(context.Background(), &auth.Viewer{UserID: "sys", Role: auth.RoleSystemAdmin})
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	d := func(s string) *money.Decimal { v := money.Decimal(s); return &v }
	for _, cur := range []string{"USD", "JPY"} {
		ag, err := svc.CreateAgency(sys, credits.NewAgency{Name: "Agency " + cur, DefaultCurrency: cur, CreditPaymentsEnabled: true})
		check(err)
		acc, err := svc.CreateAccount(sys, &ag.ID, "Client "+cur)
		check(err)
		owner := auth.NewContext(context.Background(), &auth.Viewer{UserID: "owner", Role: auth.RoleClientOwner, AgencyID: string(ag.ID), AccountID: string(acc.ID)})
		_, err = svc.BuyCredits(sys, credits.BuyCredits{AccountID: &acc.ID, Amount: d("1200"), Method: "CARD"})
		check(err)
		_, err = svc.BuyCredits(sys, credits.BuyCredits{AccountID: &acc.ID, Amount: d("300"), Method: "BANK_TRANSFER"})
		check(err)
		inv, err := svc.CreateInvoice(sys, credits.NewInvoice{AccountID: acc.ID, Number: "INV-" + cur, Amount: "120", CreditEligible: true})
		check(err)
		_, err = svc.PayInvoiceWithCredit(owner, inv.ID, nil)
		check(err)
		sms, err := svc.CreateService(sys, credits.NewService{AgencyID: &ag.ID, Name: "SMS", Price: "5", CreditEligible: true})
		check(err)
		_, err = svc.BuyServiceWithCredit(owner, sms.ID, nil, 3, nil)
		check(err)
		_, err = svc.CreateCreditPackage(sys, credits.NewCreditPackage{AgencyID: &ag.ID, Name: "Pack", Credits: "110", Price: "100"})
		check(err)
		c, err := svc.AddCard(owner, nil, "pm_card_visa")
		check(err)
		_, err = svc.SetAutoTopUp(owner, credits.TopUpSettings{Enabled: true, Threshold: "10", Amount: "50", Mode: topuprule.ModeFIXED, CardID: c.ID, MonthlyCap: d("500")})
		check(err)
		_, err = svc.SetLowBalanceAlert(owner, credits.AlertSettings{Enabled: true, Threshold: "20", Email: "owner@example.com"})
		check(err)
	}
}

// amounts renders every amount column of every row, by table and id.
func amounts(t *testing.T, d *db.DB) string {
	t.Helper()
	cols := db.AmountColumns()
	var b strings.Builder
	for _, table := range slices.Sorted(maps.Keys(cols)) {
		order := make([]string, len(cols[table])+1)
		for i := range order {
			order[i] = fmt.Sprint(i + 1)
		}
		q := fmt.Sprintf("SELECT currency, %s FROM %s ORDER BY %s", strings.Join(cols[table], ", "), table, strings.Join(order, ", "))
		rows, err := d.SQL.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals := make([]any, len(cols[table])+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

func verify(t *testing.T, svc *credits.Service) {
	t.Helper()
	var out bytes.Buffer
	if err := svc.Verify(context.Background(), &out); err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
}
