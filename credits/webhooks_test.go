package credits_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/topuprule"
	"creditgate/ent/webhookdelivery"
	"creditgate/money"
)

// hookReceiver is an endpoint that checks every signature with its own
// implementation of the Standard Webhooks scheme (HMAC-SHA256 over
// "msgid.timestamp.body" with the base64-decoded secret minus whsec_,
// base64 std, "v1," prefix) and records what arrives.
type hookReceiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret atomic.Value // string
	fail   atomic.Int32 // answer 500 to this many requests first
	delay  time.Duration
	onHit  func() // runs while a request is being answered

	mu       sync.Mutex
	msgs     []hookMsg
	inflight map[string]int
	overlaps int
}

type hookMsg struct {
	ID, Type string
	Data     map[string]any
	Status   int
}

func newReceiver(t testing.TB) *hookReceiver {
	r := &hookReceiver{t: t, inflight: map[string]int{}}
	r.secret.Store("")
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func signedBy(secret, id, ts string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil || len(key) < 24 {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	return slices.Contains(strings.Fields(header), want)
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id := req.Header.Get("webhook-id")
	if !signedBy(r.secret.Load().(string), id, req.Header.Get("webhook-timestamp"), body, req.Header.Get("webhook-signature")) ||
		req.Header.Get("content-type") != "application/json" || !strings.HasPrefix(id, "msg_") {
		r.t.Errorf("bad signature or headers: %v", req.Header)
		w.WriteHeader(400)
		return
	}
	var ev struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		r.t.Errorf("body %s: %v", body, err)
	}
	if _, err := time.Parse(time.RFC3339, ev.Timestamp); err != nil {
		r.t.Errorf("timestamp %q: %v", ev.Timestamp, err)
	}
	r.mu.Lock()
	r.inflight[id]++
	if r.inflight[id] > 1 {
		r.overlaps++
	}
	r.mu.Unlock()
	if r.onHit != nil {
		r.onHit()
	}
	time.Sleep(r.delay)
	status := 204
	if r.fail.Add(-1) >= 0 {
		status = 500
	}
	r.mu.Lock()
	r.inflight[id]--
	r.msgs = append(r.msgs, hookMsg{ID: id, Type: ev.Type, Data: ev.Data, Status: status})
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *hookReceiver) received() []hookMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// types are the event types received with a 2xx.
func (r *hookReceiver) types() map[string]int {
	out := map[string]int{}
	for _, m := range r.received() {
		if m.Status < 300 {
			out[m.Type]++
		}
	}
	return out
}

// hooked is an automation world sending webhooks to a receiver.
type hooked struct {
	*auto
	rcv *hookReceiver
	ep  *ent.WebhookEndpoint
}

func newHooked(t *testing.T, kind string, events ...string) *hooked {
	a := newAuto(t, kind)
	a.svc.UseWebhooks(credits.WebhookOptions{AllowPrivate: true})
	h := &hooked{auto: a, rcv: newReceiver(t)}
	made, err := a.svc.CreateWebhookEndpoint(a.admin("admin"), credits.NewWebhookEndpoint{URL: h.rcv.srv.URL + "/hooks", Events: events})
	a.check(err)
	h.rcv.secret.Store(made.Secret)
	h.ep = made.Endpoint
	return h
}

func (h *hooked) deliveries() []*ent.WebhookDelivery {
	h.t.Helper()
	ds, err := h.svc.DB().WebhookDelivery.Query().Order(ent.Asc(webhookdelivery.FieldCreatedAt)).All(h.sys())
	h.check(err)
	return ds
}

// Every event type arrives, signed, when its feature runs.
func TestWebhookEventsOfEveryFeature(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHooked(t, kind)
			acc := h.client("acme")
			owner := h.owner(acc)
			// payment.succeeded
			h.fund(acc, "100")
			// request.created, invoice.issued; request.reviewed, invoice.paid
			amt := money.Decimal("50")
			p, err := h.svc.BuyCredits(owner, credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER", Reference: ptrTo("BT-1")})
			h.check(err)
			_, err = h.svc.ApproveRequest(h.admin("admin"), p.Request.ID)
			h.check(err)
			// payment.refunded
			pay, err := h.svc.DB().Payment.Query().All(h.sys())
			h.check(err)
			part := money.Decimal("10")
			_, err = h.svc.RefundPayment(h.sys(), credits.Refund{PaymentID: pay[len(pay)-1].ID, Amount: &part, Reason: ptrTo("test")})
			h.check(err)
			// hold.expired
			ttl := 60
			hd := money.Decimal("5")
			_, err = h.svc.CreateHold(h.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: &hd, ExpiresInSeconds: &ttl})
			h.check(err)
			h.clock.advance(2 * time.Minute)
			h.runJobs()
			// balance.low, then balance.depleted, then balance.recovered
			_, err = h.svc.SetLowBalanceAlert(owner, credits.AlertSettings{Enabled: true, Threshold: "20", Email: "owner@example.com"})
			h.check(err)
			h.check(h.spend(acc, string(money.Format(h.available(acc)-10*cent, "USD"))))
			h.runJobs()
			h.check(h.spend(acc, "0.10"))
			h.fund(acc, "100")
			h.runJobs()
			// topup.failed (declined three times), autotopup.paused; topup.succeeded
			dec := h.client("declines")
			h.fund(dec, "20")
			h.rule(dec, h.card(dec, "pm_card_chargeDeclined"), "10", "50", topuprule.ModeFIXED)
			h.check(h.spend(dec, "15"))
			for range 3 {
				h.runJobs()
				h.clock.advance(2 * time.Hour)
			}
			ok := h.client("tops up")
			h.fund(ok, "20")
			h.rule(ok, h.card(ok, "pm_card_visa"), "10", "50", topuprule.ModeFIXED)
			h.check(h.spend(ok, "15"))
			h.runJobs()
			h.runJobs()

			got := h.rcv.types()
			for _, typ := range credits.WebhookEventTypes {
				if got[typ] == 0 {
					t.Errorf("no %s event arrived (got %v)", typ, got)
				}
			}
			for _, m := range h.rcv.received() {
				if m.Data["agencyId"] != string(h.agency.ID) {
					t.Errorf("%s: agencyId %v", m.Type, m.Data["agencyId"])
				}
				if m.Type == "payment.refunded" && (m.Data["refundAmount"] != "10.00" || m.Data["currency"] != "USD") {
					t.Errorf("payment.refunded data %v", m.Data)
				}
			}
			for _, d := range h.deliveries() {
				if d.Status != webhookdelivery.StatusSUCCEEDED || d.Attempts != 1 || d.ResponseCode == nil || *d.ResponseCode != 204 || d.LatencyMs == nil {
					t.Errorf("delivery %s (%s): %s after %d attempts, code %v", d.ID, d.EventType, d.Status, d.Attempts, d.ResponseCode)
				}
			}
			h.verify()
		})
	}
}

func ptrTo[T any](v T) *T { return &v }

// An endpoint that wants some events gets only those, and no outbox row is
// written for events nobody wants once the cache knows it.
func TestWebhookEventFilter(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHooked(t, kind, "request.created")
			acc := h.client("acme")
			amt := money.Decimal("5")
			for range 2 {
				_, err := h.svc.BuyCredits(h.owner(acc), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
				h.check(err)
				time.Sleep(100 * time.Millisecond) // the cache is read in the background
			}
			h.runJobs()
			if got := h.rcv.types(); len(got) != 1 || got["request.created"] != 2 {
				t.Fatalf("received %v, want 2 request.created", got)
			}
			n, err := h.svc.DB().WebhookEvent.Query().Count(credits.System(context.Background()))
			h.check(err)
			if n != 3 { // both requests, and the first invoice.issued (the cache not read yet)
				t.Fatalf("%d outbox rows, want 3", n)
			}
		})
	}
}

// A receiver failing 5 times gets the event again with the same
// webhook-id until it accepts it; then never again.
func TestWebhookRetriesKeepTheMessageID(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHooked(t, kind, "request.created")
			h.rcv.fail.Store(5)
			amt := money.Decimal("5")
			_, err := h.svc.BuyCredits(h.owner(h.client("acme")), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			h.check(err)
			h.runJobs()
			for i := 0; i < 10; i++ {
				ds := h.deliveries()
				if len(ds) != 1 {
					t.Fatalf("%d deliveries", len(ds))
				}
				d := ds[0]
				if d.Status == webhookdelivery.StatusSUCCEEDED {
					break
				}
				if d.NextAttemptAt == nil || d.Error == nil || d.ResponseCode == nil || *d.ResponseCode != 500 {
					t.Fatalf("failed attempt not recorded: %+v", d)
				}
				// Nothing is sent before the back-off ends (at least 1 s).
				h.runJobs()
				if n := len(h.rcv.received()); n != d.Attempts {
					t.Fatalf("%d requests after %d attempts", n, d.Attempts)
				}
				h.clock.advance(time.Hour)
				h.runJobs()
			}
			msgs := h.rcv.received()
			if len(msgs) != 6 {
				t.Fatalf("%d requests, want 6", len(msgs))
			}
			for _, m := range msgs {
				if m.ID != msgs[0].ID {
					t.Fatalf("webhook-id changed: %s then %s", msgs[0].ID, m.ID)
				}
			}
			d := h.deliveries()[0]
			if d.Status != webhookdelivery.StatusSUCCEEDED || d.Attempts != 6 || d.MessageID != msgs[0].ID || d.Error != nil || d.NextAttemptAt != nil {
				t.Fatalf("delivery %+v", d)
			}
			h.clock.advance(24 * time.Hour)
			h.runJobs()
			if len(h.rcv.received()) != 6 {
				t.Fatal("sent again after it succeeded")
			}
			// redeliverWebhook: once more, now, with the same id.
			again, err := h.svc.RedeliverWebhook(h.admin("admin"), d.ID)
			h.check(err)
			if again.Status != webhookdelivery.StatusPENDING {
				t.Fatalf("redelivered: %s", again.Status)
			}
			h.runJobs()
			if msgs := h.rcv.received(); len(msgs) != 7 || msgs[6].ID != d.MessageID {
				t.Fatalf("redelivery: %d requests", len(msgs))
			}
		})
	}
}

// A worker that dies after claiming a delivery, or in the middle of
// sending it, loses nothing: its lease lapses and another worker sends
// the same message.
func TestWebhookCrashedWorkerLosesNothing(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHooked(t, kind, "request.created")
			amt := money.Decimal("5")
			acc := h.client("acme")
			_, err := h.svc.BuyCredits(h.owner(acc), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			h.check(err)
			// Dies right after the claim.
			h.svc.SetWebhookAfterClaim(func(*ent.WebhookDelivery) error { return errors.New("crash") })
			h.runJobs()
			h.svc.SetWebhookAfterClaim(nil)
			h.runJobs()
			if n := len(h.rcv.received()); n != 0 {
				t.Fatalf("%d requests while the claim holds", n)
			}
			h.clock.advance(2 * time.Minute)
			h.runJobs()
			if got := h.rcv.types(); got["request.created"] != 1 {
				t.Fatalf("after the lease lapsed: %v", got)
			}
			// Dies while the receiver is answering: the request is cut.
			_, err = h.svc.BuyCredits(h.owner(acc), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			h.check(err)
			ctx, cancel := context.WithCancel(context.Background())
			h.rcv.onHit = cancel
			_, _ = h.svc.RunDueJobs(ctx, "doomed")
			h.rcv.onHit = nil
			h.runJobs()
			h.clock.advance(2 * time.Minute)
			h.runJobs()
			ds := h.deliveries()
			if len(ds) != 2 {
				t.Fatalf("%d deliveries", len(ds))
			}
			last := ds[1]
			if last.Status != webhookdelivery.StatusSUCCEEDED || last.Attempts != 2 {
				t.Fatalf("cut delivery: %s after %d attempts", last.Status, last.Attempts)
			}
			var ids []string
			for _, m := range h.rcv.received() {
				if m.ID == last.MessageID {
					ids = append(ids, m.ID)
				}
			}
			if len(ids) != 2 {
				t.Fatalf("the cut message arrived %d times, want 2 (cut, then again)", len(ids))
			}
		})
	}
}

// Two gateway instances over one PostgreSQL database, two workers each,
// never send one delivery twice at once, nor twice at all when the
// receiver accepts it at once.
func TestWebhookTwoInstancesNeverDoubleSend(t *testing.T) {
	h := newHooked(t, "postgres", "request.created", "invoice.issued")
	h.rcv.delay = 20 * time.Millisecond
	acc := h.client("acme")
	amt := money.Decimal("1")
	for range 20 {
		_, err := h.svc.BuyCredits(h.owner(acc), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
		h.check(err)
	}
	other := credits.New(h.db.Client, h.db.Dialect, nil)
	other.UseWebhooks(credits.WebhookOptions{AllowPrivate: true})
	other.SetClock(h.clock.now)
	var wg sync.WaitGroup
	for i, s := range []*credits.Service{h.svc, other, h.svc, other} {
		wg.Go(func() {
			for range 3 {
				if _, err := s.RunDueJobs(context.Background(), "w"+string(rune('0'+i))); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	h.runJobs()
	msgs := h.rcv.received()
	seen := map[string]int{}
	for _, m := range msgs {
		seen[m.ID]++
	}
	if len(msgs) != 40 || len(seen) != 40 || h.rcv.overlaps != 0 {
		t.Fatalf("%d requests of %d messages (want 40 once each), %d overlapping", len(msgs), len(seen), h.rcv.overlaps)
	}
	for _, d := range h.deliveries() {
		if d.Status != webhookdelivery.StatusSUCCEEDED || d.Attempts != 1 {
			t.Fatalf("delivery %s: %s after %d attempts", d.ID, d.Status, d.Attempts)
		}
	}
}

// After 3 days of failures the delivery is FAILED, the endpoint disabled
// with the reason, and the agency's billing address told once.
func TestWebhookGivesUpAfterThreeDays(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			h := newHooked(t, kind, "request.created")
			h.check(h.svc.DB().Account.UpdateOneID(h.pool.ID).SetBillingEmail("billing@agency.example").Exec(h.sys()))
			h.rcv.fail.Store(1 << 20)
			amt := money.Decimal("5")
			_, err := h.svc.BuyCredits(h.owner(h.client("acme")), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			h.check(err)
			for range 80 {
				h.runJobs()
				h.clock.advance(time.Hour)
			}
			h.runJobs()
			d := h.deliveries()[0]
			if d.Status != webhookdelivery.StatusFAILED || d.NextAttemptAt != nil || d.Attempts < 10 {
				t.Fatalf("delivery %s after %d attempts", d.Status, d.Attempts)
			}
			ep, err := h.svc.DB().WebhookEndpoint.Get(h.sys(), h.ep.ID)
			h.check(err)
			if ep.Enabled || ep.DisabledReason == nil || !strings.Contains(*ep.DisabledReason, "3 days") {
				t.Fatalf("endpoint enabled %v, reason %v", ep.Enabled, ep.DisabledReason)
			}
			var told []credits.Email
			for _, e := range h.mailer.sent {
				if e.To == "billing@agency.example" {
					told = append(told, e)
				}
			}
			if len(told) != 1 || !strings.Contains(told[0].Text, ep.URL) {
				t.Fatalf("emails to the agency: %+v", told)
			}
			// Disabled: nothing more is dispatched to it, and redelivery waits
			// until it is on again.
			if _, err := h.svc.RedeliverWebhook(h.admin("admin"), d.ID); codeOf(err) != credits.CodeNotEligible {
				t.Fatalf("redeliver to a disabled endpoint: %v", err)
			}
			n := len(h.rcv.received())
			_, err = h.svc.BuyCredits(h.owner(h.client("globex")), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			h.check(err)
			h.runJobs()
			if len(h.rcv.received()) != n || len(h.deliveries()) != 1 {
				t.Fatal("a disabled endpoint got an event")
			}
		})
	}
}

type mapResolver struct {
	mu sync.Mutex
	m  map[string]string
}

func (r *mapResolver) set(host, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[host] = addr
}

func (r *mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.m[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	return []netip.Addr{netip.MustParseAddr(a)}, nil
}

// In production mode endpoints at loopback, the metadata address and a
// name resolving to a private address are refused when made, and a name
// that resolves to a private address by the time of delivery is not sent
// to (DNS rebinding).
func TestWebhookSSRF(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			res := &mapResolver{m: map[string]string{"hooks.example.com": "93.184.216.34", "internal.example": "10.1.2.3"}}
			a.svc.UseWebhooks(credits.WebhookOptions{RequireHTTPS: true, Resolver: res})
			admin := a.admin("admin")
			for _, u := range []string{
				"https://127.0.0.1/hooks", "https://169.254.169.254/latest/meta-data", "https://internal.example/hooks",
				"https://localhost/hooks", "https://[::1]/", "http://hooks.example.com/hooks", "https://user:pw@hooks.example.com/",
			} {
				if _, err := a.svc.CreateWebhookEndpoint(admin, credits.NewWebhookEndpoint{URL: u}); codeOf(err) != credits.CodeBadInput {
					t.Errorf("%s: %v, want BAD_USER_INPUT", u, err)
				}
			}
			made, err := a.svc.CreateWebhookEndpoint(admin, credits.NewWebhookEndpoint{URL: "https://hooks.example.com/hooks", Events: []string{"request.created"}})
			a.check(err)
			if _, err := a.svc.UpdateWebhookEndpoint(admin, credits.WebhookEndpointUpdate{EndpointID: made.Endpoint.ID, URL: ptrTo("https://169.254.169.254/")}); codeOf(err) != credits.CodeBadInput {
				t.Errorf("update to the metadata address: %v", err)
			}
			res.set("hooks.example.com", "127.0.0.1")
			amt := money.Decimal("5")
			_, err = a.svc.BuyCredits(a.owner(a.client("acme")), credits.BuyCredits{Amount: &amt, Method: "BANK_TRANSFER"})
			a.check(err)
			a.runJobs()
			ds, err := a.svc.DB().WebhookDelivery.Query().All(a.sys())
			a.check(err)
			if len(ds) != 1 || ds[0].Error == nil || !strings.Contains(*ds[0].Error, "refused address") || ds[0].ResponseCode != nil {
				t.Fatalf("delivery to a rebound name: %+v", ds)
			}
		})
	}
}

// Endpoints are agency admins' (their agency's) and system admins' (any,
// or platform-wide); client roles and services are FORBIDDEN, another
// agency's endpoint NOT_FOUND. The secret is shown once.
func TestWebhookEndpointRoles(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			a := newAuto(t, kind)
			a.svc.UseWebhooks(credits.WebhookOptions{AllowPrivate: true})
			acc := a.client("acme")
			in := credits.NewWebhookEndpoint{URL: "http://127.0.0.1:9/hooks"}
			for _, ctx := range []context.Context{a.owner(acc), a.as(auth.RoleClient, "u", acc.ID), a.as(auth.RoleService, "apikey:x", "")} {
				if _, err := a.svc.CreateWebhookEndpoint(ctx, in); codeOf(err) != credits.CodeForbidden {
					t.Errorf("create: %v, want FORBIDDEN", err)
				}
			}
			made, err := a.svc.CreateWebhookEndpoint(a.admin("admin"), in)
			a.check(err)
			if !strings.HasPrefix(made.Secret, "whsec_") || !strings.HasPrefix(made.Secret, made.Endpoint.SecretPrefix) || made.Endpoint.AgencyID == nil {
				t.Fatalf("made %+v", made.Endpoint)
			}
			platform, err := a.svc.CreateWebhookEndpoint(a.sys(), in)
			a.check(err)
			if platform.Endpoint.AgencyID != nil {
				t.Fatal("a system admin's endpoint without an agency is not platform-wide")
			}
			other := auth.NewContext(context.Background(), &auth.Viewer{UserID: "other", Role: auth.RoleAgencyAdmin, AgencyID: "agc_other"})
			if _, err := a.svc.RotateWebhookSecret(other, made.Endpoint.ID); codeOf(err) != credits.CodeNotFound {
				t.Errorf("another agency's rotate: %v", err)
			}
			if _, err := a.svc.UpdateWebhookEndpoint(a.admin("admin"), credits.WebhookEndpointUpdate{EndpointID: platform.Endpoint.ID, Enabled: ptrTo(false)}); codeOf(err) != credits.CodeNotFound {
				t.Errorf("an agency admin disabling a platform-wide endpoint: %v", err)
			}
			p, err := a.svc.WebhookEndpoints(a.admin("admin"), nil, credits.PageArgs{})
			a.check(err)
			if p.Total != 1 || p.Items[0].ID != made.Endpoint.ID {
				t.Fatalf("agency admin lists %d endpoints", p.Total)
			}
			if p, err = a.svc.WebhookEndpoints(a.sys(), nil, credits.PageArgs{}); err != nil || p.Total != 2 {
				t.Fatalf("system admin lists %v: %v", p, err)
			}
			rot, err := a.svc.RotateWebhookSecret(a.admin("admin"), made.Endpoint.ID)
			a.check(err)
			if rot.Secret == made.Secret || rot.Endpoint.SecretPrefix == made.Endpoint.SecretPrefix {
				t.Fatal("rotation kept the secret")
			}
			a.verify()
		})
	}
}
