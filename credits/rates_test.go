package credits_test

import (
	"testing"

	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/service"
	"creditgate/money"
)

// RateOf and RateIn, the rate look-up the usage path charges by: a
// variant's rate, the default rate (the price) for "" and for a variant
// the card lacks, names trimmed; from loaded rates without a query, or
// read when not loaded.
func TestRateOf(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			ctx := w.admin("rates-admin")
			svc, err := w.svc.CreateService(ctx, credits.NewService{Name: "SMS", Price: "0.01", CreditEligible: true})
			w.check(err)
			_, err = w.svc.SetServiceRates(ctx, credits.ServiceRates{ServiceID: svc.ID, Rates: []credits.RateInput{
				{Variant: "US", Price: "0.0075"}, {Variant: " SG ", Price: "0.035"},
			}})
			w.check(err)
			micro := func(d string) int64 {
				n, err := money.Parse(money.Decimal(d), "USD")
				w.check(err)
				return n
			}
			want := map[string]int64{"": micro("0.01"), "  ": micro("0.01"), "US": micro("0.0075"), " US": micro("0.0075"),
				"SG": micro("0.035"), "XX": micro("0.01"), "us": micro("0.01")}

			// Not loaded: RateIn says so (but for the default), RateOf reads.
			bare, err := w.svc.DB().Service.Get(ctx, svc.ID)
			w.check(err)
			if _, ok := credits.RateIn(bare, "US"); ok {
				t.Error("RateIn answers from rates that were not loaded")
			}
			if p, ok := credits.RateIn(bare, ""); !ok || p != micro("0.01") {
				t.Errorf("RateIn(default) = %d %v, want the price", p, ok)
			}
			for v, p := range want {
				if got, err := w.svc.RateOf(ctx, bare, v); err != nil || got != p {
					t.Errorf("RateOf(%q), not loaded = %d %v, want %d", v, got, err, p)
				}
			}

			// Loaded for many services in one query.
			all, err := w.svc.DB().Service.Query().Where(service.AgencyID(w.agency.ID)).All(ctx)
			w.check(err)
			w.check(w.svc.LoadRates(ctx, all...))
			for v, p := range want {
				got, ok := credits.RateIn(all[0], v)
				if !ok || got != p {
					t.Errorf("RateIn(%q), loaded = %d %v, want %d", v, got, ok, p)
				}
			}
			card, err := w.svc.RateCard(ctx, all[0])
			w.check(err)
			if len(card) != 3 || card[0].Variant != "" || card[1].Variant != "SG" || card[2].Variant != "US" {
				t.Errorf("RateCard = %+v, want the default, SG, US", card)
			}
		})
	}
}
