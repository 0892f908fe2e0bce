package demo

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent/service"
)

// The demo loads once (a second Load changes nothing), with the SMS rate
// cards, in USD and in SGD, and a ledger that verifies.
func TestLoadRateCards(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			d := dbtest.Open(t, kind)
			svc := credits.New(d.Client, d.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))
			ctx := context.Background()
			f, err := Load(ctx, svc)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Load(ctx, svc); err != nil {
				t.Fatalf("second load: %v", err)
			}
			sys := credits.System(ctx)
			svcs, err := svc.DB().Service.Query().Where(service.AgencyID(f.AgencyID)).Order(service.ByName()).All(sys)
			if err != nil {
				t.Fatal(err)
			}
			owner := auth.NewContext(ctx, &auth.Viewer{UserID: "demo-acme-owner", Role: auth.RoleClientOwner, AgencyID: string(f.AgencyID), AccountID: string(f.AcmeID)})
			found := map[string]bool{}
			for _, s := range svcs {
				card, err := svc.RateCard(owner, s)
				if err != nil {
					t.Fatal(err)
				}
				switch s.Name {
				case SMSService:
					found[s.Name] = true
					if s.Unit != "SMS" || s.Currency != "USD" || len(card) != 7 || card[0].Price != s.Price {
						t.Errorf("SMS: unit %q, %s, %d rates %v", s.Unit, s.Currency, len(card), card)
					}
					sg, err := svc.ServiceAvailabilityAt(owner, s, nil, ptr("SG"))
					if err != nil || !sg.Available || sg.UnitsLeft != 13114 { // 459.00 / 0.035
						t.Errorf("SMS to SG for Acme: %+v %v, want 13114 units", sg, err)
					}
				case "SMS (Singapore sender)":
					found[s.Name] = true
					if s.Currency != "SGD" || len(card) != 4 {
						t.Errorf("SGD SMS: %s, %d rates", s.Currency, len(card))
					}
					my, err := svc.ServiceAvailabilityAt(owner, s, nil, ptr("MY"))
					if err != nil || my.UnitsLeft != 1666 { // 100.00 SGD / 0.06
						t.Errorf("SGD SMS to MY for Acme: %+v %v, want 1666 units", my, err)
					}
				}
			}
			if len(found) != 2 {
				t.Fatalf("rate-card services found: %v", found)
			}
			if err := svc.Verify(sys, io.Discard); err != nil {
				t.Fatalf("verify: %v", err)
			}
		})
	}
}
