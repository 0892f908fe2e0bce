package credits_test

import (
	"context"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/topuprule"
)

// After a decline, the owner changes the card and saves the rule: the
// top-up runs at once, not when the declined card's back-off ends.
func TestSavingTheRuleRetriesAtOnce(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("changes card")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_chargeDeclined"), "10", "50", topuprule.ModeFIXED)
			a.check(a.spend(acc, "15"))
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want the declined top-up", n)
			}
			if r := a.topUpRule(acc); r.RetryAfter == nil || !r.RetryAfter.After(a.clock.now().Add(30*time.Minute)) {
				t.Fatalf("no back-off after the decline: %+v", r)
			}
			a.clock.advance(time.Minute)
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			a.clock.advance(time.Minute)
			if n := a.runJobs(); n != 1 {
				t.Fatalf("a minute after saving, ran %d jobs; want the top-up", n)
			}
			if got := a.available(acc); got != (500+5000)*cent {
				t.Errorf("balance %d, want 5500: topped up with the new card", got)
			}
			if r := a.topUpRule(acc); r.ConsecutiveFailures != 0 || r.RetryAfter != nil {
				t.Errorf("rule after the good charge: %+v", r)
			}
			a.verify()
		})
	}
}

// The credit-payments switch withdraws an offer from the portal; auto
// top-up goes on while it is off.
func TestAutoTopUpIgnoresCreditPaymentsSwitch(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("switched off")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			a.check(a.spend(acc, "15"))
			off := false
			_, err := a.svc.UpdateAgencySettings(a.sys(), &a.agency.ID, credits.AgencySettings{CreditPaymentsEnabled: &off})
			a.check(err)
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want the top-up", n)
			}
			if got := a.available(acc); got != 5500*cent {
				t.Errorf("balance %d, want 5500", got)
			}
			a.verify()
		})
	}
}

// Admission refuses client tokens that name anything but a client account
// of their own agency, and admits the right ones.
func TestAdmission(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			mine := w.client("mine")
			other, err := w.svc.CreateAgency(w.sys(), credits.NewAgency{Name: "Other", DefaultCurrency: "USD"})
			w.check(err)
			theirs, err := w.svc.CreateAccount(w.sys(), &other.ID, "theirs")
			w.check(err)
			adm := w.svc.Admission()
			viewer := func(role auth.Role, account string) *auth.Viewer {
				return &auth.Viewer{UserID: "u", Role: role, AgencyID: string(w.agency.ID), AccountID: account}
			}
			for name, c := range map[string]struct {
				v  *auth.Viewer
				ok bool
			}{
				"own client account":    {viewer(auth.RoleClient, string(mine.ID)), true},
				"owner of it":           {viewer(auth.RoleClientOwner, string(mine.ID)), true},
				"the agency's pool":     {viewer(auth.RoleClientOwner, string(w.pool.ID)), false},
				"another agency's":      {viewer(auth.RoleClient, string(theirs.ID)), false},
				"no such account":       {viewer(auth.RoleClient, "acc_nosuch"), false},
				"agency admin, no acct": {viewer(auth.RoleAgencyAdmin, ""), true},
			} {
				for range 2 { // the second answer may come from memory
					err := adm.Admit(context.Background(), c.v)
					if c.ok && err != nil {
						t.Errorf("%s: refused: %v", name, err)
					}
					if !c.ok && codeOf(err) != credits.CodeUnauthenticated {
						t.Errorf("%s: got %v, want UNAUTHENTICATED", name, err)
					}
				}
			}
		})
	}
}
