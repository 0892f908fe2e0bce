package credits_test

import (
	"fmt"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/ent/hold"
	"creditgate/gid"
	"creditgate/money"
)

func dec(s string) *money.Decimal { d := money.Decimal(s); return &d }

// hold creates a hold of amount on acc as a system admin.
func (w *world) hold(acc *ent.Account, amount string, ttl int) *ent.Hold {
	w.t.Helper()
	r, err := w.svc.CreateHold(w.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: dec(amount), ExpiresInSeconds: &ttl})
	w.check(err)
	return r.Hold
}

// balanceOf is acc's USD balance (available, held).
func (w *world) balanceOf(acc *ent.Account) *ent.Balance {
	w.t.Helper()
	acc.Edges.Agency = w.agency
	b, err := w.svc.Balance(w.sys(), acc, nil)
	w.check(err)
	return b
}

func (w *world) holdNow(id gid.ID) *ent.Hold {
	w.t.Helper()
	h, err := w.svc.DB().Hold.Get(credits.System(w.sys()), id)
	w.check(err)
	return h
}

func wantBalance(t *testing.T, b *ent.Balance, avail, held int64) {
	t.Helper()
	if b.Available != avail || b.Held != held {
		t.Fatalf("balance: available %d held %d, want %d and %d", b.Available, b.Held, avail, held)
	}
}

func wantCode(t *testing.T, err error, code credits.Code) {
	t.Helper()
	if codeOf(err) != code {
		t.Fatalf("got %v (%s), want %s", err, codeOf(err), code)
	}
}

// A hold moves credits from available to held; captures are USAGE
// transactions whose running balance is the total; a final capture
// releases the rest; refusals change nothing.
func TestHoldLifecycle(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("a")
			w.fund(acc, "10")
			r, err := w.svc.CreateHold(w.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: dec("4"), IdempotencyKey: new(string)})
			wantCode(t, err, credits.CodeBadInput) // an empty key
			key := "h-1"
			r, err = w.svc.CreateHold(w.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: dec("4"), IdempotencyKey: &key})
			w.check(err)
			wantBalance(t, r.Balance, 6_000_000, 4_000_000)
			again, err := w.svc.CreateHold(w.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: dec("4"), IdempotencyKey: &key})
			w.check(err)
			if again.Hold.ID != r.Hold.ID {
				t.Fatalf("replay made another hold")
			}
			wantBalance(t, w.balanceOf(acc), 6_000_000, 4_000_000)

			// Refusals: more than available, capture more than remains,
			// client roles.
			_, err = w.svc.CreateHold(w.sys(), credits.NewHoldInput{AccountID: acc.ID, Amount: dec("6.000001")})
			wantCode(t, err, credits.CodeInsufficientCredits)
			_, err = w.svc.CaptureHold(w.sys(), r.Hold.ID, dec("4.01"), nil, nil, nil)
			wantCode(t, err, credits.CodeInsufficientCredits)
			_, err = w.svc.CreateHold(w.as(auth.RoleClientOwner, "o", acc.ID), credits.NewHoldInput{AccountID: acc.ID, Amount: dec("1")})
			wantCode(t, err, credits.CodeForbidden)
			_, err = w.svc.ReleaseHold(w.as(auth.RoleClient, "u", acc.ID), r.Hold.ID)
			wantCode(t, err, credits.CodeForbidden)
			svcNoScope := auth.NewContext(t.Context(), &auth.Viewer{UserID: "apikey:k", Role: auth.RoleService, AgencyID: string(w.agency.ID), Scopes: []auth.Scope{auth.ScopeUsageWrite}})
			_, err = w.svc.CaptureHold(svcNoScope, r.Hold.ID, dec("1"), nil, nil, nil)
			wantCode(t, err, credits.CodeForbidden)
			wantBalance(t, w.balanceOf(acc), 6_000_000, 4_000_000)
			if n := w.historyLen(acc); n != 1 {
				t.Fatalf("history has %d rows, want 1 (the purchase)", n)
			}

			// A partial capture by a service, then a final one.
			svcCtx := auth.NewContext(t.Context(), &auth.Viewer{UserID: "apikey:k", Role: auth.RoleService, AgencyID: string(w.agency.ID), Scopes: []auth.Scope{auth.ScopeHoldsWrite}})
			no := false
			c, err := w.svc.CaptureHold(svcCtx, r.Hold.ID, dec("1.5"), &no, nil, nil)
			w.check(err)
			wantBalance(t, c.Balance, 6_000_000, 2_500_000)
			if *c.Transaction.RunningBalance != 8_500_000 || c.Transaction.Amount != -1_500_000 || c.Hold.Captured != 1_500_000 || c.Hold.Status != hold.StatusACTIVE {
				t.Fatalf("partial capture: %+v, hold %+v", c.Transaction, c.Hold)
			}
			c, err = w.svc.CaptureHold(svcCtx, r.Hold.ID, dec("1"), nil, nil, nil)
			w.check(err)
			wantBalance(t, c.Balance, 7_500_000, 0)
			if *c.Transaction.RunningBalance != 7_500_000 || c.Hold.Status != hold.StatusCAPTURED || c.Hold.Captured != 2_500_000 {
				t.Fatalf("final capture: %+v, hold %+v", c.Transaction, c.Hold)
			}
			_, err = w.svc.CaptureHold(svcCtx, r.Hold.ID, dec("0.1"), nil, nil, nil)
			wantCode(t, err, credits.CodeConflict)
			_, err = w.svc.ReleaseHold(svcCtx, r.Hold.ID)
			wantCode(t, err, credits.CodeConflict)

			// Release gives the rest back; a service of another agency
			// sees nothing.
			h2 := w.hold(acc, "2", 3600)
			other := auth.NewContext(t.Context(), &auth.Viewer{UserID: "apikey:x", Role: auth.RoleService, AgencyID: "agy_other", Scopes: auth.AllScopes})
			_, err = w.svc.ReleaseHold(other, h2.ID)
			wantCode(t, err, credits.CodeNotFound)
			rel, err := w.svc.ReleaseHold(w.admin("adm"), h2.ID)
			w.check(err)
			wantBalance(t, rel.Balance, 7_500_000, 0)
			if rel.Hold.Status != hold.StatusRELEASED {
				t.Fatalf("released hold is %s", rel.Hold.Status)
			}
			if n := w.historyLen(acc); n != 3 {
				t.Fatalf("history has %d rows, want 3 (purchase and two captures)", n)
			}
			p, err := w.svc.Holds(w.as(auth.RoleClient, "u", acc.ID), nil, nil, credits.PageArgs{})
			w.check(err)
			if p.Total != 2 || p.Items[0].ID != h2.ID {
				t.Fatalf("holds: %d, first %v", p.Total, p.Items)
			}
			w.verify()
		})
	}
}

// A hold on an account funded for it blocks a payment that would need the
// held credits; once released, the payment goes through.
func TestHoldBlocksPayment(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("a")
			w.fund(acc, "10")
			h := w.hold(acc, "8", 3600)
			inv := w.invoice(acc, "INV-1", "5")
			_, err := w.svc.PayInvoiceWithCredit(w.sys(), inv.ID, nil)
			wantCode(t, err, credits.CodeInsufficientCredits)
			wantBalance(t, w.balanceOf(acc), 2_000_000, 8_000_000)
			w.verify()
			_, err = w.svc.ReleaseHold(w.sys(), h.ID)
			w.check(err)
			pay, err := w.svc.PayInvoiceWithCredit(w.sys(), inv.ID, nil)
			w.check(err)
			wantBalance(t, pay.Balance, 5_000_000, 0)
			w.verify()
		})
	}
}

// 50 concurrent captures of one hold never take more than it holds.
func TestRaceCapturesOneHold(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("a")
			w.fund(acc, "20")
			h := w.hold(acc, "10", 3600) // 20 captures of 0.50 fit
			no := false
			errs := race(50, func(i int) error {
				_, err := w.svc.CaptureHold(w.sys(), h.ID, dec("0.5"), &no, nil, nil)
				return err
			})
			got := count(errs)
			if got[""] != 20 || got[credits.CodeInsufficientCredits] != 30 {
				t.Fatalf("captures: %v, want 20 ok and 30 INSUFFICIENT_CREDITS", got)
			}
			if hn := w.holdNow(h.ID); hn.Captured != 10_000_000 || hn.Status != hold.StatusACTIVE {
				t.Fatalf("hold: %+v", hn)
			}
			wantBalance(t, w.balanceOf(acc), 10_000_000, 0)
			w.verify()
		})
	}
}

// A release racing a final capture: exactly one wins, and the balance is
// what that one leaves.
func TestRaceReleaseAndCapture(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			acc := w.client("a")
			w.fund(acc, "10")
			for round := range 10 {
				h := w.hold(acc, "1", 3600)
				before := w.balanceOf(acc)
				errs := race(2, func(i int) error {
					var err error
					if i == 0 {
						_, err = w.svc.CaptureHold(w.sys(), h.ID, dec("0.25"), nil, nil, nil)
					} else {
						_, err = w.svc.ReleaseHold(w.sys(), h.ID)
					}
					return err
				})
				got := count(errs)
				if got[""] != 1 || got[credits.CodeConflict] != 1 {
					t.Fatalf("round %d: %v, want one success and one CONFLICT", round, got)
				}
				after := w.balanceOf(acc)
				switch hn := w.holdNow(h.ID); hn.Status {
				case hold.StatusCAPTURED:
					wantBalance(t, after, before.Available+750_000, 0)
				case hold.StatusRELEASED:
					wantBalance(t, after, before.Available+1_000_000, 0)
				default:
					t.Fatalf("round %d: hold is %s", round, hn.Status)
				}
			}
			w.verify()
		})
	}
}

// Expiry on two instances racing a final capture: the hold ends once,
// captured or expired, and its credits are released at most once.
func TestRaceExpiryAndCapture(t *testing.T) {
	for _, kind := range dbtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			w := newWorld(t, kind)
			other := credits.New(w.svc.DB(), w.db.Dialect, nil) // a second gateway instance
			acc := w.client("a")
			w.fund(acc, "10")
			now := time.Now()
			clock := func() time.Time { return now }
			w.svc.SetClock(clock)
			other.SetClock(clock)
			var holds []*ent.Hold
			for range 10 {
				holds = append(holds, w.hold(acc, "0.5", 60))
			}
			now = now.Add(61 * time.Second) // all are due
			expired := make([]int, 2)
			errs := race(12, func(i int) error {
				switch {
				case i < 10:
					_, err := w.svc.CaptureHold(w.sys(), holds[i].ID, dec("0.1"), nil, nil, nil)
					return err
				default:
					n, err := []*credits.Service{w.svc, other}[i-10].ExpireHolds(t.Context())
					expired[i-10] = n
					return err
				}
			})
			captured := 0
			for i, err := range errs {
				switch {
				case err == nil && i < 10:
					captured++
				case i < 10 && codeOf(err) == credits.CodeConflict:
				case err != nil:
					t.Fatalf("racer %d: %v", i, err)
				}
			}
			if captured+expired[0]+expired[1] != 10 {
				t.Fatalf("%d captured, %v expired: want 10 in all", captured, expired)
			}
			// Every hold ended once: 0.10 spent per capture, the rest back.
			wantBalance(t, w.balanceOf(acc), 10_000_000-int64(captured)*100_000, 0)
			if n, err := other.ExpireHolds(t.Context()); n != 0 || err != nil {
				t.Fatalf("a second sweep expired %d (%v)", n, err)
			}
			w.verify()
			fmt.Fprintf(testWriter{t}, "%d captured, %v expired\n", captured, expired)
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }
