package credits_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/topuprule"
	"creditgate/events"
	"creditgate/gid"
	"creditgate/money"
)

// Auto top-up and low-balance alerts follow from usage exactly as from
// purchases: a call of usage that takes the balance below the rule's
// threshold queues the top-up in its own transaction.
func TestUsageTriggersAutoTopUp(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			acc := a.client("sms sender")
			a.fund(acc, "20")
			a.rule(acc, a.card(acc, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			sms := a.service("SMS", "0.0075")
			events := make([]credits.UsageEvent, 2000) // 15.00
			for i := range events {
				events[i] = credits.UsageEvent{AccountID: acc.ID, ServiceID: sms.ID, IdempotencyKey: "u" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))}
			}
			for _, batch := range [][]credits.UsageEvent{events[:1000], events[1000:]} {
				res, err := a.svc.RecordUsage(a.admin("ops"), batch)
				a.check(err)
				for _, r := range res {
					if r.Err != nil {
						t.Fatalf("event %s: %v", r.IdempotencyKey, r.Err)
					}
				}
			}
			if got := a.available(acc); got != 500*cent {
				t.Fatalf("balance after 2,000 x 0.0075: %d, want 5.00", got)
			}
			if a.jobsInFlight(acc) != 1 {
				t.Fatalf("no top-up queued by usage crossing the threshold")
			}
			if n := a.runJobs(); n != 1 {
				t.Fatalf("ran %d jobs, want the top-up", n)
			}
			if got := a.available(acc); got != 5500*cent {
				t.Errorf("balance %d, want 55.00 after the top-up", got)
			}
			a.verify()
		})
	}
}

// live gives svc a broker, fed on PostgreSQL by a listener of its own (as
// every gateway instance has), so that what it keeps in memory is used.
func live(t *testing.T, w *world, svc *credits.Service) *events.Broker {
	t.Helper()
	b := events.NewBroker()
	svc.UseBroker(b)
	if w.db.Dialect != "postgres" {
		return b
	}
	u, err := url.Parse(w.db.DSN)
	w.check(err)
	q := u.Query()
	q.Set("application_name", fmt.Sprintf("listener_%s_%p", q.Get("search_path"), svc))
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		if err := events.Listen(ctx, u.String(), b, svc.Resync, slog.New(slog.NewTextHandler(io.Discard, nil)), ready); err != nil {
			t.Errorf("listener: %v", err)
		}
	}()
	<-ready
	t.Cleanup(func() { cancel(); <-done })
	return b
}

// charge records one event of svc on acc through s and answers what it
// took, in micro-units.
func charge(t *testing.T, w *world, s *credits.Service, ctx context.Context, acc, svc gid.ID, variant string) (int64, *credits.Error) {
	t.Helper()
	ev := credits.UsageEvent{AccountID: acc, ServiceID: svc, IdempotencyKey: string(gid.New("test"))}
	if variant != "" {
		ev.Variant = &variant
	}
	res, err := s.RecordUsage(ctx, []credits.UsageEvent{ev})
	w.check(err)
	if res[0].Err != nil {
		return 0, res[0].Err
	}
	return -res[0].Transaction.Amount, nil
}

func setRates(w *world, svc *ent.Service, def, sg string) {
	w.t.Helper()
	_, err := w.svc.SetServiceRates(w.admin("ops"), credits.ServiceRates{ServiceID: svc.ID,
		Rates: []credits.RateInput{{Variant: "", Price: money.Decimal(def)}, {Variant: "SG", Price: money.Decimal(sg)}}})
	w.check(err)
}

// The instance that changes a rate card charges the new rates from the
// next call on, though it kept the service and its card in memory.
func TestUsageRateChangeSeenAtOnce(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			b := live(t, w, w.svc)
			heard := make(chan struct{}, 4)
			b.OnServicesChanged(func() {
				select {
				case heard <- struct{}{}:
				default:
				}
			})
			acc := w.client("sender")
			w.fund(acc, "10")
			sms := w.service("SMS", "0.01")
			setRates(w, sms, "0.01", "0.03")
			if kind == "postgres" {
				// The change's own notification makes every instance,
				// this one included, forget the services it keeps: let
				// it arrive before the calls that keep them.
				select {
				case <-heard:
				case <-time.After(10 * time.Second):
					t.Fatal("the rate change was never announced")
				}
			}
			ops := w.admin("ops")
			for _, c := range []struct {
				variant string
				want    int64
			}{{"", cent}, {"SG", 3 * cent}} {
				if got, e := charge(t, w, w.svc, ops, acc.ID, sms.ID, c.variant); e != nil || got != c.want {
					t.Fatalf("variant %q: charged %d (%v), want %d", c.variant, got, e, c.want)
				}
			}
			if svc, a := w.svc.UsageKept(sms.ID, acc.ID); !svc || !a {
				t.Fatalf("not kept in memory after a call: service %t, account %t", svc, a)
			}
			setRates(w, sms, "0.02", "0.05")
			for _, c := range []struct {
				variant string
				want    int64
			}{{"", 2 * cent}, {"SG", 5 * cent}} {
				if got, e := charge(t, w, w.svc, ops, acc.ID, sms.ID, c.variant); e != nil || got != c.want {
					t.Errorf("after the change, variant %q: charged %d (%v), want %d", c.variant, got, e, c.want)
				}
			}
			w.verify()
		})
	}
}

// What memory keeps answers only in the caller's scope, as the database's
// read would: another agency's account and service, kept from that
// agency's own calls, are NOT_FOUND.
func TestUsageKeptInScope(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			live(t, w, w.svc)
			accA := w.client("a")
			w.fund(accA, "10")
			smsA := w.service("SMS", "0.01")
			agB, err := w.svc.CreateAgency(w.sys(), credits.NewAgency{Name: "B", DefaultCurrency: "USD", CreditPaymentsEnabled: true})
			w.check(err)
			accB, err := w.svc.CreateAccount(w.sys(), &agB.ID, "b")
			w.check(err)
			d := money.Decimal("10")
			_, err = w.svc.BuyCredits(w.sys(), credits.BuyCredits{AccountID: &accB.ID, Amount: &d, Method: "CARD"})
			w.check(err)
			smsB, err := w.svc.CreateService(w.sys(), credits.NewService{AgencyID: &agB.ID, Name: "SMS", Price: "0.01", CreditEligible: true})
			w.check(err)
			opsA := w.admin("ops")
			opsB := auth.NewContext(context.Background(), &auth.Viewer{UserID: "ops-b", Role: auth.RoleAgencyAdmin, AgencyID: string(agB.ID)})
			for _, c := range []struct {
				ctx      context.Context
				acc, svc gid.ID
			}{{opsA, accA.ID, smsA.ID}, {opsB, accB.ID, smsB.ID}} {
				if _, e := charge(t, w, w.svc, c.ctx, c.acc, c.svc, ""); e != nil {
					t.Fatalf("own agency: %v", e)
				}
				if svc, a := w.svc.UsageKept(c.svc, c.acc); !svc || !a {
					t.Fatalf("not kept in memory after a call: service %t, account %t", svc, a)
				}
			}
			for name, c := range map[string]struct {
				acc, svc gid.ID
			}{"B's account": {accB.ID, smsA.ID}, "B's service": {accA.ID, smsB.ID}, "B's account and service": {accB.ID, smsB.ID}} {
				if _, e := charge(t, w, w.svc, opsA, c.acc, c.svc, ""); e == nil || e.Code != credits.CodeNotFound {
					t.Errorf("A's admin charging %s: %v, want NOT_FOUND", name, e)
				}
			}
			// The operator sees every agency's.
			if _, e := charge(t, w, w.svc, w.sys(), accB.ID, smsB.ID, ""); e != nil {
				t.Errorf("system admin: %v", e)
			}
			w.verify()
		})
	}
}

// Another instance forgets a service when its change is announced, and
// keeps nothing while its listener is down: a change made meanwhile is
// charged at once.
func TestUsageRateChangeOnAnotherInstance(t *testing.T) {
	w := newWorld(t, "postgres")
	if w.db.Dialect != "postgres" {
		t.Skip("PostgreSQL only: SQLite has one process")
	}
	live(t, w, w.svc)
	other := credits.New(w.db.Client, w.db.Dialect, nil)
	b := live(t, w, other)
	acc := w.client("sender")
	w.fund(acc, "10")
	sms := w.service("SMS", "0.01")
	ops := w.admin("ops")
	if got, e := charge(t, w, other, ops, acc.ID, sms.ID, ""); e != nil || got != cent {
		t.Fatalf("charged %d (%v), want 0.01", got, e)
	}
	if svc, _ := other.UsageKept(sms.ID, acc.ID); !svc {
		t.Fatal("the service is not kept after a call")
	}
	setRates(w, sms, "0.02", "0.05")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if svc, _ := other.UsageKept(sms.ID, acc.ID); !svc {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the other instance still keeps the service 5 s after its change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got, e := charge(t, w, other, ops, acc.ID, sms.ID, ""); e != nil || got != 2*cent {
		t.Fatalf("after the change: charged %d (%v), want 0.02", got, e)
	}

	b.StreamDown() // as when its listener loses the connection
	if got, e := charge(t, w, other, ops, acc.ID, sms.ID, ""); e != nil || got != 2*cent {
		t.Fatalf("stream down: charged %d (%v), want 0.02", got, e)
	}
	if svc, _ := other.UsageKept(sms.ID, acc.ID); svc {
		t.Fatal("a service is kept while changes may go unheard")
	}
	setRates(w, sms, "0.03", "0.05")
	if got, e := charge(t, w, other, ops, acc.ID, sms.ID, ""); e != nil || got != 3*cent {
		t.Errorf("stream down, right after a change: charged %d (%v), want 0.03", got, e)
	}
	b.StreamUp()
	w.verify()
}
