package main

// Rate cards (usage.graphql): setServiceRates, Service.unit and
// Service.rates, and estimatedUnitsLeft / buyWithCredit at a variant's
// rate, through the API on both databases. Helpers are prefixed rate.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"creditgate/credits"
	"creditgate/ent/servicerate"
	"creditgate/gid"
)

const (
	rateMSet = `mutation($s: ID!, $u: String, $r: [ServiceRateInput!]!) {
		setServiceRates(input: {serviceId: $s, unit: $u, rates: $r}) {
			id price unit currency rates { variant price } } }`
	rateQServices = `query($a: ID) { services(accountId: $a) {
		id name price unit
		rates { variant price estimatedUnitsLeft }
		estimatedUnitsLeft
		us: estimatedUnitsLeft(variant: "US")
		sg: estimatedUnitsLeft(variant: "SG")
		unknown: estimatedUnitsLeft(variant: "XX")
		buyWithCredit { available reason }
		buySG: buyWithCredit(variant: "SG") { available reason }
		buyXL: buyWithCredit(variant: "XL") { available reason }
		unitsXL: estimatedUnitsLeft(variant: " XL ")
	} }`
)

type rateLine struct {
	Variant, Price     string
	EstimatedUnitsLeft int
}

type rateService struct {
	ID, Name, Price, Unit, Currency string
	Rates                           []rateLine
	EstimatedUnitsLeft              int
	US, SG, Unknown, UnitsXL        int
	BuyWithCredit, BuySG, BuyXL     struct {
		Available bool
		Reason    *string
	}
}

// rateCard is a setServiceRates "rates" argument.
func rateCard(pairs ...string) []map[string]any {
	out := []map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"variant": pairs[i], "price": pairs[i+1]})
	}
	return out
}

// rateSet calls setServiceRates as token and returns the service answered.
func rateSet(t *testing.T, a *testAPI, token string, svc gid.ID, unit any, rates []map[string]any) rateService {
	t.Helper()
	var out struct{ SetServiceRates rateService }
	a.gql(token, rateMSet, map[string]any{"s": svc, "u": unit, "r": rates}).decode(t, &out)
	return out.SetServiceRates
}

// rateServices lists the services as token (for account acc, "" for the
// viewer's own), by id.
func rateServices(t *testing.T, a *testAPI, token string, acc gid.ID) map[string]rateService {
	t.Helper()
	vars := map[string]any{}
	if acc != "" {
		vars["a"] = acc
	}
	var out struct{ Services []rateService }
	a.gql(token, rateQServices, vars).decode(t, &out)
	m := map[string]rateService{}
	for _, s := range out.Services {
		m[s.ID] = s
	}
	return m
}

func rateWantLines(t *testing.T, what string, got []rateLine, want ...string) {
	t.Helper()
	var g []string
	for _, l := range got {
		g = append(g, l.Variant+"="+l.Price)
	}
	if strings.Join(g, " ") != strings.Join(want, " ") {
		t.Fatalf("%s: rates %v, want %v", what, g, want)
	}
}

func TestServiceRates(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx

		// A new service has the default unit and a card of its default rate.
		fresh := rateServices(t, a, a.client(), "")[string(f.SMS)]
		if fresh.Unit != "unit" || fresh.Price != "0.05" {
			t.Fatalf("a new service: unit %q price %q, want \"unit\" and 0.05", fresh.Unit, fresh.Price)
		}
		rateWantLines(t, "a new service", fresh.Rates, "=0.05")

		// The agency admin sets the card: names trimmed, listed by name
		// after the default rate, which sets the price.
		got := rateSet(t, a, a.agencyAdmin(), f.SMS, " SMS ", rateCard(
			" US ", "0.0075", "SG", "0.0350", "", "0.02", "GB", "0.04", "XL", "1.5"))
		if got.Unit != "SMS" || got.Price != "0.02" || got.Currency != "USD" {
			t.Fatalf("setServiceRates answered unit %q price %q currency %q, want SMS 0.02 USD", got.Unit, got.Price, got.Currency)
		}
		rateWantLines(t, "setServiceRates", got.Rates, "=0.02", "GB=0.04", "SG=0.035", "US=0.0075", "XL=1.50")

		// What A1 sees, from a balance of 1.00 USD.
		a.fund(f.A1, "1")
		check := func(t *testing.T, s rateService) {
			t.Helper()
			rateWantLines(t, "services", s.Rates, "=0.02", "GB=0.04", "SG=0.035", "US=0.0075", "XL=1.50")
			if s.Rates[0].Price != s.Price {
				t.Errorf("the default rate %s is not the price %s", s.Rates[0].Price, s.Price)
			}
			units := map[string]int{}
			for _, l := range s.Rates {
				units[l.Variant] = l.EstimatedUnitsLeft
			}
			want := map[string]int{"": 50, "GB": 25, "SG": 28, "US": 133, "XL": 0}
			for v, n := range want {
				if units[v] != n {
					t.Errorf("rates[%q].estimatedUnitsLeft = %d, want %d", v, units[v], n)
				}
			}
			if s.EstimatedUnitsLeft != 50 || s.US != 133 || s.SG != 28 || s.Unknown != 50 || s.UnitsXL != 0 {
				t.Errorf("estimatedUnitsLeft: default %d, US %d, SG %d, unknown %d, XL %d; want 50 133 28 50 0",
					s.EstimatedUnitsLeft, s.US, s.SG, s.Unknown, s.UnitsXL)
			}
			if !s.BuyWithCredit.Available || !s.BuySG.Available {
				t.Errorf("buyWithCredit: default %+v, SG %+v; want both available", s.BuyWithCredit, s.BuySG)
			}
			if s.BuyXL.Available || s.BuyXL.Reason == nil || *s.BuyXL.Reason != "INSUFFICIENT_CREDITS" {
				t.Errorf("buyWithCredit(variant: XL) at 1.50 with 1.00: %+v, want INSUFFICIENT_CREDITS", s.BuyXL)
			}
		}
		t.Run("client", func(t *testing.T) { check(t, rateServices(t, a, a.client(), "")[string(f.SMS)]) })
		t.Run("agency_admin_for_A1", func(t *testing.T) { check(t, rateServices(t, a, a.agencyAdmin(), f.A1)[string(f.SMS)]) })
		t.Run("node", func(t *testing.T) {
			var out struct{ Node rateService }
			a.gql(a.client(), `query($id: ID!){ node(id: $id) { ... on Service { unit rates { variant price estimatedUnitsLeft } } } }`,
				map[string]any{"id": f.SMS}).decode(t, &out)
			rateWantLines(t, "node", out.Node.Rates, "=0.02", "GB=0.04", "SG=0.035", "US=0.0075", "XL=1.50")
			if out.Node.Unit != "SMS" || out.Node.Rates[3].EstimatedUnitsLeft != 133 {
				t.Errorf("node: unit %q, US units %d; want SMS, 133", out.Node.Unit, out.Node.Rates[3].EstimatedUnitsLeft)
			}
		})
		// The other services are untouched.
		if s := rateServices(t, a, a.client(), "")[string(f.Support)]; s.Unit != "unit" || len(s.Rates) != 1 {
			t.Errorf("Support: unit %q, %d rates; want the default", s.Unit, len(s.Rates))
		}

		// A system admin replaces the variants; without a "" rate the price
		// stays, without a unit the unit stays.
		got = rateSet(t, a, a.sysAdmin(), f.SMS, nil, rateCard("US", "0.008"))
		rateWantLines(t, "replaced", got.Rates, "=0.02", "US=0.008")
		if got.Unit != "SMS" {
			t.Errorf("unit %q after a replacement without one, want SMS", got.Unit)
		}
		n, err := a.svc.DB().ServiceRate.Query().Where(servicerate.ServiceID(f.SMS)).Count(credits.System(context.Background()))
		if err != nil || n != 1 {
			t.Fatalf("%d rate rows after the replacement (%v), want 1", n, err)
		}
		// An empty card removes every variant.
		got = rateSet(t, a, a.agencyAdmin(), f.SMS, nil, rateCard())
		rateWantLines(t, "emptied", got.Rates, "=0.02")

		// The limit is inclusive.
		many := []map[string]any{}
		for i := range credits.MaxRateVariants {
			many = append(many, map[string]any{"variant": fmt.Sprintf("V%03d", i), "price": "0.000001"})
		}
		got = rateSet(t, a, a.agencyAdmin(), f.SMS, nil, many)
		if len(got.Rates) != credits.MaxRateVariants+1 || got.Rates[1].Variant != "V000" || got.Rates[1].Price != "0.000001" {
			t.Fatalf("%d variants: answered %d rates, first %+v", credits.MaxRateVariants, len(got.Rates), got.Rates[1])
		}
		// And the portal's list answers them at one balance read.
		if s := rateServices(t, a, a.client(), "")[string(f.SMS)]; len(s.Rates) != credits.MaxRateVariants+1 || s.Rates[1].EstimatedUnitsLeft != 1000000 {
			t.Fatalf("services: %d rates, V000 units %d; want %d and 1000000", len(s.Rates), s.Rates[1].EstimatedUnitsLeft, credits.MaxRateVariants+1)
		}
	})
}

func TestServiceRatesRefused(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		rateSet(t, a, a.agencyAdmin(), f.SMS, "SMS", rateCard("US", "0.0075", "SG", "0.035"))
		tooMany := []map[string]any{}
		for i := range credits.MaxRateVariants + 1 {
			tooMany = append(tooMany, map[string]any{"variant": fmt.Sprintf("V%03d", i), "price": "1"})
		}
		cases := []struct {
			name  string
			token string
			svc   gid.ID
			unit  any
			rates []map[string]any
			code  string
		}{
			{"negative_price", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0.01", "GB", "-1"), "BAD_USER_INPUT"},
			{"zero_price", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0"), "BAD_USER_INPUT"},
			{"seven_fraction_digits", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0.0000001"), "BAD_USER_INPUT"},
			{"not_a_number", a.agencyAdmin(), f.SMS, nil, rateCard("US", "1e3"), "BAD_USER_INPUT"},
			{"bad_default_price", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0.01", "", "abc"), "BAD_USER_INPUT"},
			{"duplicate_variant", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0.01", "SG", "0.02", "US", "0.03"), "BAD_USER_INPUT"},
			{"duplicate_after_trimming", a.agencyAdmin(), f.SMS, nil, rateCard("US", "0.01", " US ", "0.03"), "BAD_USER_INPUT"},
			{"duplicate_default", a.agencyAdmin(), f.SMS, nil, rateCard("", "0.01", "  ", "0.03"), "BAD_USER_INPUT"},
			{"variant_too_long", a.agencyAdmin(), f.SMS, nil, rateCard(strings.Repeat("x", 33), "0.01"), "BAD_USER_INPUT"},
			{"variant_control_character", a.agencyAdmin(), f.SMS, nil, rateCard("U\tS", "0.01"), "BAD_USER_INPUT"},
			{"too_many_variants", a.agencyAdmin(), f.SMS, nil, tooMany, "BAD_USER_INPUT"},
			{"empty_unit", a.agencyAdmin(), f.SMS, "  ", rateCard("US", "0.01"), "BAD_USER_INPUT"},
			{"unit_too_long", a.agencyAdmin(), f.SMS, strings.Repeat("u", 33), rateCard("US", "0.01"), "BAD_USER_INPUT"},
			{"foreign_agency", a.agencyAdmin(), f.ServiceB, "SMS", rateCard("US", "0.01"), "NOT_FOUND"},
			{"unknown_service", a.agencyAdmin(), gid.New(gid.Service), "SMS", rateCard("US", "0.01"), "NOT_FOUND"},
			{"not_a_service", a.agencyAdmin(), f.A1, "SMS", rateCard("US", "0.01"), "NOT_FOUND"},
			{"client", a.client(), f.SMS, "SMS", rateCard("US", "0.01"), "FORBIDDEN"},
			{"client_owner", a.owner(), f.SMS, "SMS", rateCard("US", "0.01"), "FORBIDDEN"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := snapshot(t, a)
				r := a.gql(c.token, rateMSet, map[string]any{"s": c.svc, "u": c.unit, "r": c.rates})
				wantRefused(t, r, c.code)
				wantUnchanged(t, a, before)
			})
		}
		// The card is still the one set first.
		s := rateServices(t, a, a.client(), "")[string(f.SMS)]
		rateWantLines(t, "after the refusals", s.Rates, "=0.05", "SG=0.035", "US=0.0075")
	})
}

// Concurrent replacements of one card: each is whole, the last one wins,
// and none fails.
func TestServiceRatesConcurrent(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				card := rateCard("", fmt.Sprintf("0.0%d", i+1), "US", fmt.Sprintf("0.00%d", i+1), "SG", fmt.Sprintf("0.1%d", i+1))
				tok := a.agencyAdmin()
				r := authzAt(a, t).gql(tok, rateMSet, map[string]any{"s": f.SMS, "r": card})
				if len(r.Errors) > 0 {
					errs <- fmt.Sprintf("replacement %d: %+v", i, r.Errors)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		s := rateServices(t, a, a.client(), "")[string(f.SMS)]
		if len(s.Rates) != 3 {
			t.Fatalf("after %d replacements: %+v, want one whole card of 3 rates", n, s.Rates)
		}
		var i int
		if _, err := fmt.Sscanf(s.Rates[0].Price, "0.0%d", &i); err != nil {
			t.Fatalf("default rate %q: %v", s.Rates[0].Price, err)
		}
		rateWantLines(t, "the winning card", s.Rates,
			fmt.Sprintf("=0.0%d", i), fmt.Sprintf("SG=0.1%d", i), fmt.Sprintf("US=0.00%d", i))
	})
}

// The services list loads every rate card in one query: the statements of
// the portal's services query do not grow with services or rates.
func TestServiceRatesQueryCount(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		a.fund(f.A1, "10")
		api, counter := rdCountingAPI(t, a)
		q := `{ services { id unit price rates { variant price estimatedUnitsLeft } estimatedUnitsLeft } }`
		count := func() int64 {
			t.Helper()
			counter.reset()
			var out struct{ Services []rateService }
			rdQuery(t, api, a.client(), q, nil, &out)
			return counter.total()
		}
		count() // the first request also admits the token: not what is measured
		base := count()
		rateSet(t, a, a.agencyAdmin(), f.SMS, "SMS", rateCard("US", "0.0075", "SG", "0.035", "GB", "0.04"))
		rateSet(t, a, a.agencyAdmin(), f.Support, "hour", rateCard("weekend", "120", "night", "160"))
		withRates := count()
		if withRates != base {
			t.Fatalf("services: %d statements without rate cards, %d with two cards of 3 and 2 variants: a query per service or rate?\n%s",
				base, withRates, counter.statements())
		}
		t.Logf("services with rate cards: %d statements", withRates)
	})
}
