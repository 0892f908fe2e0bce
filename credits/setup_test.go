package credits_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/gid"
	"creditgate/money"
)

// cent is one US cent in micro-units, the unit of every credit amount inside.
const cent = 10_000

// world is one agency with a pool and client accounts, on a fresh database.
type world struct {
	t      testing.TB
	svc    *credits.Service
	db     *db.DB
	agency *ent.Agency
	pool   *ent.Account
}

func newWorld(t testing.TB, kind string) *world {
	t.Helper()
	d := dbtest.Open(t, kind)
	svc := credits.New(d.Client, d.Dialect, nil)
	w := &world{t: t, svc: svc, db: d}
	ag, err := svc.CreateAgency(w.sys(), credits.NewAgency{Name: "Agency", DefaultCurrency: "USD", CreditPaymentsEnabled: true})
	w.check(err)
	w.agency = ag
	w.pool, err = svc.PoolAccount(w.sys(), ag)
	w.check(err)
	return w
}

func (w *world) check(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) sys() context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{UserID: "sys", Role: auth.RoleSystemAdmin})
}

// as acts as a user of the world's agency; account may be "".
func (w *world) as(role auth.Role, user string, account gid.ID) context.Context {
	return auth.NewContext(context.Background(), &auth.Viewer{
		UserID: user, Role: role, AgencyID: string(w.agency.ID), AccountID: string(account),
	})
}

func (w *world) admin(user string) context.Context { return w.as(auth.RoleAgencyAdmin, user, "") }

func (w *world) client(name string) *ent.Account {
	w.t.Helper()
	acc, err := w.svc.CreateAccount(w.sys(), &w.agency.ID, name)
	w.check(err)
	return acc
}

// fund credits acc with amount through the sandbox card provider.
func (w *world) fund(acc *ent.Account, amount string) {
	w.t.Helper()
	d := money.Decimal(amount)
	_, err := w.svc.BuyCredits(w.sys(), credits.BuyCredits{AccountID: &acc.ID, Amount: &d, Method: "CARD"})
	w.check(err)
}

func (w *world) invoice(acc *ent.Account, number, amount string) *ent.Invoice {
	w.t.Helper()
	inv, err := w.svc.CreateInvoice(w.sys(), credits.NewInvoice{AccountID: acc.ID, Number: number, Amount: money.Decimal(amount), CreditEligible: true})
	w.check(err)
	return inv
}

func (w *world) service(name, price string) *ent.Service {
	w.t.Helper()
	svc, err := w.svc.CreateService(w.sys(), credits.NewService{AgencyID: &w.agency.ID, Name: name, Price: money.Decimal(price), CreditEligible: true})
	w.check(err)
	return svc
}

// available is acc's USD balance in minor units.
func (w *world) available(acc *ent.Account) int64 {
	w.t.Helper()
	acc.Edges.Agency = w.agency
	b, err := w.svc.Balance(w.sys(), acc, nil)
	w.check(err)
	return b.Available
}

// verify fails the test if any ledger invariant is broken.
func (w *world) verify() {
	w.t.Helper()
	var out bytes.Buffer
	if err := w.svc.Verify(context.Background(), &out); err != nil {
		w.t.Fatalf("verify: %v\n%s", err, out.String())
	}
}

// historyLen counts acc's transactions.
func (w *world) historyLen(acc *ent.Account) int {
	w.t.Helper()
	acc.Edges.Agency = w.agency
	p, err := w.svc.History(w.sys(), acc, nil, nil, credits.PageArgs{})
	w.check(err)
	return p.Total
}

func codeOf(err error) credits.Code { return credits.CodeOf(err) }

// tally counts outcomes by code ("" for success).
type tally map[credits.Code]int

func (t tally) String() string { return fmt.Sprint(map[credits.Code]int(t)) }

var errInjected = errors.New("injected failure")
