package credits

import (
	"context"
	"fmt"
	"testing"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
)

func cacheBal(acc gid.ID, cur string, version, avail int64) *events.Balance {
	return &events.Balance{AccountID: acc, AgencyID: "agy_1", Currency: cur, Available: avail, Seq: version, Version: version}
}

func wantKept(t *testing.T, c *balanceCache, acc gid.ID, cur string, version, avail int64) {
	t.Helper()
	b, ok := c.balance(acc, cur)
	if !ok || b.Version != version || b.Available != avail {
		t.Fatalf("kept %s %s: %+v (%v), want version %d available %d", acc, cur, b, ok, version, avail)
	}
}

func wantMiss(t *testing.T, c *balanceCache, acc gid.ID, cur string) {
	t.Helper()
	if b, ok := c.balance(acc, cur); ok {
		t.Fatalf("kept %s %s: %+v, want nothing", acc, cur, b)
	}
}

// The rules of the cache, whatever order things arrive in: an older value
// never replaces a newer one; a read's row is kept only if the stream did
// not go down (or come back) and the account was not evicted meanwhile;
// nothing is answered while the stream is down; a mutation's balance only
// replaces a kept currency; agency settings are forgotten on any change.
func TestBalanceCacheRules(t *testing.T) {
	c := newBalanceCache(false, 100)
	if f := c.begin("acc_1"); f.e != nil {
		t.Fatal("a read began while the stream is down may keep what it reads")
	}
	c.FollowStream(true)

	// Read, then an event newer than the row, then the row: the event stays.
	f := c.begin("acc_1")
	c.FollowBalance(cacheBal("acc_1", "USD", 5, 500))
	c.keep(f, nil, entBalance(cacheBal("acc_1", "USD", 4, 400)))
	wantKept(t, c, "acc_1", "USD", 5, 500)
	// Older events and mutation answers change nothing; newer ones do.
	c.FollowBalance(cacheBal("acc_1", "USD", 3, 300))
	c.committed(cacheBal("acc_1", "USD", 4, 400))
	wantKept(t, c, "acc_1", "USD", 5, 500)
	c.committed(cacheBal("acc_1", "USD", 6, 600))
	wantKept(t, c, "acc_1", "USD", 6, 600)
	c.FollowBalance(cacheBal("acc_1", "USD", 7, 700))
	wantKept(t, c, "acc_1", "USD", 7, 700)

	// A currency heard on the stream is added to a kept account; a
	// mutation's balance of a currency not kept is not (it may be older
	// than one heard before the account entered).
	c.committed(cacheBal("acc_1", "EUR", 2, 20))
	wantMiss(t, c, "acc_1", "EUR")
	c.FollowBalance(cacheBal("acc_1", "EUR", 3, 30))
	wantKept(t, c, "acc_1", "EUR", 3, 30)
	// Changes of accounts not kept are dropped.
	c.FollowBalance(cacheBal("acc_2", "USD", 9, 900))
	wantMiss(t, c, "acc_2", "USD")
	// A balance that never moved (version 0) is not kept: an alert rule
	// may create its row unannounced.
	f = c.begin("acc_2")
	c.keep(f, nil, entBalance(cacheBal("acc_2", "USD", 0, 0)))
	wantMiss(t, c, "acc_2", "USD")

	// The stream goes down: nothing is answered, a read that began before
	// keeps nothing, even once it is back (changes went unheard).
	f = c.begin("acc_3")
	c.FollowStream(false)
	wantMiss(t, c, "acc_1", "USD")
	c.FollowBalance(cacheBal("acc_1", "USD", 8, 800))
	c.FollowStream(true)
	wantMiss(t, c, "acc_1", "USD")
	c.keep(f, nil, entBalance(cacheBal("acc_3", "USD", 1, 100)))
	wantMiss(t, c, "acc_3", "USD")

	// A read whose account was forgotten (or evicted) meanwhile keeps nothing.
	f = c.begin("acc_4")
	c.forget("acc_4")
	c.keep(f, nil, entBalance(cacheBal("acc_4", "USD", 1, 100)))
	wantMiss(t, c, "acc_4", "USD")

	// The account and agency of a client's own read: kept, answered as
	// copies, and forgotten when any agency's settings change.
	acc := &ent.Account{ID: "acc_5", AgencyID: "agy_1", Name: "Five"}
	acc.Edges.Agency = &ent.Agency{ID: "agy_1", DefaultCurrency: "USD"}
	f = c.begin("acc_5")
	c.keep(f, acc, entBalance(cacheBal("acc_5", "USD", 2, 200)))
	got, b, ok := c.own("acc_5", "agy_1", nil)
	if !ok || b.Available != 200 || got.Name != "Five" || got.Edges.Agency.DefaultCurrency != "USD" {
		t.Fatalf("own: %+v %+v %v", got, b, ok)
	}
	got.Edges.Agency.DefaultCurrency = "XXX"
	if _, _, ok := c.own("acc_5", "agy_2", nil); ok {
		t.Fatal("an account answered to a viewer of another agency")
	}
	if _, b, ok := c.own("acc_5", "agy_1", nil); !ok || b.Currency != "USD" {
		t.Fatalf("an answer's copy changed what is kept: %+v %v", b, ok)
	}
	c.FollowAgency("agy_9")
	if _, _, ok := c.own("acc_5", "agy_1", nil); ok {
		t.Fatal("an agency kept across a settings change")
	}
	wantKept(t, c, "acc_5", "USD", 2, 200) // its balances stay
}

// The cache holds at most its size, evicting what was not read lately.
func TestBalanceCacheBounded(t *testing.T) {
	c := newBalanceCache(true, 50)
	for i := range 500 {
		acc := gid.ID(fmt.Sprintf("acc_%d", i))
		f := c.begin(acc)
		c.keep(f, nil, entBalance(cacheBal(acc, "USD", 1, int64(i))))
		c.balance("acc_0", "USD") // read all along: it stays
	}
	if n := len(c.accounts); n > 50 {
		t.Fatalf("%d accounts kept, at most 50", n)
	}
	wantKept(t, c, "acc_0", "USD", 1, 0)
	wantKept(t, c, "acc_499", "USD", 1, 499)
}

// A hit is answered only to a viewer the database's read would answer.
func TestBalanceCacheVisible(t *testing.T) {
	as := func(v auth.Viewer) context.Context { return auth.NewContext(context.Background(), &v) }
	cases := []struct {
		ctx  context.Context
		want bool
	}{
		{System(context.Background()), true},
		{as(auth.Viewer{Role: auth.RoleSystemAdmin}), true},
		{as(auth.Viewer{Role: auth.RoleAgencyAdmin, AgencyID: "agy_1"}), true},
		{as(auth.Viewer{Role: auth.RoleAgencyAdmin, AgencyID: "agy_2"}), false},
		{as(auth.Viewer{Role: auth.RoleClientOwner, AgencyID: "agy_1", AccountID: "acc_1"}), true},
		{as(auth.Viewer{Role: auth.RoleClientOwner, AgencyID: "agy_1", AccountID: "acc_2"}), false},
		{as(auth.Viewer{Role: auth.RoleClientOwner, AgencyID: "agy_2", AccountID: "acc_1"}), false},
		{context.Background(), false},
	}
	for i, tc := range cases {
		if got := visible(tc.ctx, "agy_1", "acc_1"); got != tc.want {
			t.Errorf("case %d: visible %v, want %v", i, got, tc.want)
		}
	}
}
