// Package demo loads the demo data that `make run` starts with: an agency
// with a funded pool, two client accounts with some history, open invoices,
// per-unit services (an SMS rate card by destination, in USD and in SGD)
// and credit packages. Everything goes through the domain,
// so the demo ledger obeys the same rules (and passes verify).
package demo

import (
	"context"
	"fmt"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/ent"
	"creditgate/ent/agency"
	"creditgate/ent/creditrequest"
	"creditgate/ent/service"
	"creditgate/gid"
	"creditgate/money"
)

// AgencyName identifies the demo agency; its presence means "already loaded".
const AgencyName = "Northwind Partners"

// Fixture names the demo objects that tokens point at.
type Fixture struct {
	AgencyID  gid.ID
	PoolID    gid.ID
	AcmeID    gid.ID
	GlobexID  gid.ID
	CreatedAt time.Time
}

// Load creates the demo data once and returns its ids.
func Load(ctx context.Context, svc *credits.Service) (*Fixture, error) {
	sys := auth.NewContext(ctx, &auth.Viewer{UserID: "demo-loader", Role: auth.RoleSystemAdmin})
	if ag, err := svc.DB().Agency.Query().Where(agency.Name(AgencyName)).Only(sys); err == nil {
		f, err := fixtureOf(sys, svc, ag)
		if err != nil {
			return nil, err
		}
		// A demo loaded before rate cards existed gets them now.
		return f, rateCards(sys, svc, f)
	} else if !ent.IsNotFound(err) {
		return nil, err
	}
	ag, err := svc.CreateAgency(sys, credits.NewAgency{Name: AgencyName, DefaultCurrency: "USD", CreditPaymentsEnabled: true})
	if err != nil {
		return nil, err
	}
	pool, err := svc.PoolAccount(sys, ag)
	if err != nil {
		return nil, err
	}
	steps := []func() error{}
	var acme, globex *ent.Account
	d := func(s string) *money.Decimal { v := money.Decimal(s); return &v }
	steps = append(steps,
		func() error { // the agency buys credits for its pool
			_, err := svc.BuyCredits(sys, credits.BuyCredits{AccountID: &pool.ID, Amount: d("10000"), Method: creditrequest.MethodCARD, Reference: ptr("pool funding")})
			return err
		},
		func() (err error) { acme, err = svc.CreateAccount(sys, &ag.ID, "Acme Coffee"); return },
		func() (err error) { globex, err = svc.CreateAccount(sys, &ag.ID, "Globex Retail"); return },
		func() error {
			_, err := svc.AllocateCredits(sys, acme.ID, "500", nil, ptr("welcome credits"), nil)
			return err
		},
		func() error {
			_, err := svc.AllocateCredits(sys, globex.ID, "250", nil, ptr("welcome credits"), nil)
			return err
		},
	)
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	sms, err := svc.CreateService(sys, credits.NewService{AgencyID: &ag.ID, Name: "SMS message", Price: "0.05", CreditEligible: true})
	if err != nil {
		return nil, err
	}
	for _, s := range []credits.NewService{
		{AgencyID: &ag.ID, Name: "Email campaign", Price: "25", CreditEligible: true},
		{AgencyID: &ag.ID, Name: "Priority support hour", Price: "80", CreditEligible: false},
	} {
		if _, err := svc.CreateService(sys, s); err != nil {
			return nil, err
		}
	}
	for _, p := range []credits.NewCreditPackage{
		{AgencyID: &ag.ID, Name: "Starter", Credits: "100", Price: "100"},
		{AgencyID: &ag.ID, Name: "Growth", Credits: "550", Price: "500"},
		{AgencyID: &ag.ID, Name: "Scale", Credits: "1200", Price: "1000"},
	} {
		if _, err := svc.CreateCreditPackage(sys, p); err != nil {
			return nil, err
		}
	}
	paid, err := svc.CreateInvoice(sys, credits.NewInvoice{AccountID: acme.ID, Number: "INV-1000", Amount: "40", CreditEligible: true})
	if err != nil {
		return nil, err
	}
	for _, inv := range []credits.NewInvoice{
		{AccountID: acme.ID, Number: "INV-1001", Amount: "120", CreditEligible: true},
		{AccountID: acme.ID, Number: "INV-1002", Amount: "75.50", CreditEligible: true},
		{AccountID: acme.ID, Number: "INV-1003", Amount: "60", CreditEligible: false},
		{AccountID: globex.ID, Number: "INV-2001", Amount: "300", CreditEligible: true},
	} {
		if _, err := svc.CreateInvoice(sys, inv); err != nil {
			return nil, err
		}
	}
	if _, err := svc.PayInvoiceWithCredit(sys, paid.ID, nil); err != nil {
		return nil, err
	}
	if _, err := svc.BuyServiceWithCredit(sys, sms.ID, &acme.ID, 20, nil); err != nil {
		return nil, err
	}
	if _, err := svc.BuyCredits(sys, credits.BuyCredits{AccountID: &acme.ID, Amount: d("200"), Method: creditrequest.MethodBANK_TRANSFER, Reference: ptr("BT-7781")}); err != nil {
		return nil, err
	}
	f, err := fixtureOf(sys, svc, ag)
	if err != nil {
		return nil, err
	}
	return f, rateCards(sys, svc, f)
}

// SMSService names the demo's service with a rate card by destination.
const SMSService = "SMS"

// rateCards adds, once, the SMS service priced by destination in USD, and
// one in SGD that Acme Coffee holds SGD credits for (the pool buys them and
// allocates some): the portal shows both cards with their units left.
func rateCards(ctx context.Context, svc *credits.Service, f *Fixture) error {
	done, err := svc.DB().Service.Query().Where(service.AgencyID(f.AgencyID), service.Name(SMSService)).Exist(ctx)
	if err != nil || done {
		return err
	}
	cards := []struct {
		name, price, currency string
		rates                 []credits.RateInput
	}{
		{SMSService, "0.0100", "USD", []credits.RateInput{
			{Variant: "US", Price: "0.0075"}, {Variant: "SG", Price: "0.0350"}, {Variant: "GB", Price: "0.0400"},
			{Variant: "DE", Price: "0.0850"}, {Variant: "IN", Price: "0.0025"}, {Variant: "BR", Price: "0.0200"},
		}},
		{"SMS (Singapore sender)", "0.0450", "SGD", []credits.RateInput{
			{Variant: "SG", Price: "0.0420"}, {Variant: "MY", Price: "0.0600"}, {Variant: "ID", Price: "0.0550"},
		}},
	}
	for _, c := range cards {
		s, err := svc.CreateService(ctx, credits.NewService{AgencyID: &f.AgencyID, Name: c.name, Price: money.Decimal(c.price), Currency: ptr(c.currency), CreditEligible: true})
		if err != nil {
			return err
		}
		if _, err := svc.SetServiceRates(ctx, credits.ServiceRates{ServiceID: s.ID, Unit: ptr("SMS"), Rates: c.rates}); err != nil {
			return err
		}
	}
	amount := money.Decimal("1000")
	if _, err := svc.BuyCredits(ctx, credits.BuyCredits{AccountID: &f.PoolID, Amount: &amount, Currency: ptr("SGD"), Method: creditrequest.MethodCARD, Reference: ptr("pool funding (SGD)")}); err != nil {
		return err
	}
	_, err = svc.AllocateCredits(ctx, f.AcmeID, "100", ptr("SGD"), ptr("welcome credits (SGD)"), nil)
	return err
}

func fixtureOf(ctx context.Context, svc *credits.Service, ag *ent.Agency) (*Fixture, error) {
	f := &Fixture{AgencyID: ag.ID, CreatedAt: ag.CreatedAt}
	pool, err := svc.PoolAccount(ctx, ag)
	if err != nil {
		return nil, err
	}
	f.PoolID = pool.ID
	page, err := svc.AgencyAccounts(ctx, ag, credits.PageArgs{})
	if err != nil {
		return nil, err
	}
	for _, a := range page.Items {
		switch a.Name {
		case "Acme Coffee":
			f.AcmeID = a.ID
		case "Globex Retail":
			f.GlobexID = a.ID
		}
	}
	if f.AcmeID == "" || f.GlobexID == "" {
		return nil, fmt.Errorf("demo agency %q exists but its client accounts are missing", AgencyName)
	}
	return f, nil
}

// Token is a ready-to-paste bearer token for one demo user.
type Token struct {
	Who   string
	Role  auth.Role
	Token string
}

// Tokens signs one token per role for the fixture.
func Tokens(f *Fixture, secret []byte, ttl time.Duration) ([]Token, error) {
	users := []struct {
		who, user      string
		role           auth.Role
		agency, acount gid.ID
	}{
		{"system admin", "demo-sysadmin", auth.RoleSystemAdmin, "", ""},
		{"agency admin (Northwind Partners)", "demo-agency-admin", auth.RoleAgencyAdmin, f.AgencyID, ""},
		{"client owner (Acme Coffee)", "demo-acme-owner", auth.RoleClientOwner, f.AgencyID, f.AcmeID},
		{"client (Acme Coffee)", "demo-acme-user", auth.RoleClient, f.AgencyID, f.AcmeID},
		{"client owner (Globex Retail)", "demo-globex-owner", auth.RoleClientOwner, f.AgencyID, f.GlobexID},
	}
	out := make([]Token, 0, len(users))
	for _, u := range users {
		tok, err := auth.NewToken(secret, u.role, u.user, string(u.agency), string(u.acount), ttl)
		if err != nil {
			return nil, err
		}
		out = append(out, Token{Who: u.who, Role: u.role, Token: tok})
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
