package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/money"
)

// TestBalanceCacheTwoInstances: two gateway processes on PostgreSQL, each
// answering balance reads from memory (credits/balancecache.go). 1,000
// random changes of one account go through A, one after the other, while
// clients read it on B. Every total the account goes through is distinct,
// so a total read names the change that left it: no client on B ever
// reads a change older than one it read before, and a read on A right
// after A's own mutation shows at least what the mutation answered.
// Halfway, B's listener connection is killed (pg_terminate_backend) and
// changes are made while it is away; once they stop, B must answer the
// last of them (its memory was dropped, not served stale), and after the
// run every read on B answers the final balance.
func TestBalanceCacheTwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and starts two processes")
	}
	t.Setenv("RATE_LIMIT_SUBJECT", "off") // 1,000 mutations as fast as they go
	t.Setenv("RATE_LIMIT_IP", "off")
	bin := e2eBuild(t)
	dsn := dbtest.NewPostgresSchema(t)
	d, err := db.Open(context.Background(), dsn, db.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	h := &testAPI{t: t, db: d, svc: credits.New(d.Client, d.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	h.fx = h.seed()
	f := h.fx
	cent := must[*ent.Service](t)(h.svc.CreateService(sys(), credits.NewService{AgencyID: &f.AgencyA, Name: "Cent", Price: "0.01", CreditEligible: true})).ID

	// B's connections carry a name of their own: its listener is the one
	// of them running LISTEN.
	app := fmt.Sprintf("cachetest_b_%d", time.Now().UnixNano())
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	instA := e2eStart(t, bin, dsn, "A")
	instB := e2eStart(t, bin, u.String(), "B")
	if instA == nil || instB == nil {
		t.FailNow()
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("instance A stderr:\n%s", instA.log())
			t.Logf("instance B stderr:\n%s", instB.log())
		}
	})

	owner := e2eToken(t, auth.RoleClientOwner, "cache-owner", f.AgencyA, f.A1)
	admin := h.agencyAdmin()
	const ownRead = `{ balance { available total } }`
	adminRead := `{ balance(accountId: "` + string(f.A1) + `") { available total } }`

	// index maps each total the account goes through to the change that
	// left it (0: before the first).
	var mu sync.Mutex
	index := map[int64]int{}
	read := func(in *e2eInstance, token, query string) (int64, int) {
		t.Helper()
		var out struct {
			Balance struct{ Available, Total string }
		}
		in.gql(t, token, query, nil).decode(t, &out)
		total := micro(t, out.Balance.Total)
		if micro(t, out.Balance.Available) != total {
			t.Fatalf("available %s, total %s: no hold was made", out.Balance.Available, out.Balance.Total)
		}
		mu.Lock()
		k, ok := index[total]
		mu.Unlock()
		if !ok {
			t.Errorf("%s read a total %s the account never had", in.name, out.Balance.Total)
		}
		return total, k
	}
	var first struct{ Balance struct{ Total string } }
	instA.gql(t, owner, ownRead, nil).decode(t, &first)
	start := micro(t, first.Balance.Total)
	index[start] = 0

	// Readers on B, each checking its own reads never go back.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for r := range 4 {
		token, query := owner, ownRead // the client's own path
		if r%2 == 1 {
			token, query = admin, adminRead // account, then balanceIn
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				_, k := read(instB, token, query)
				if k < last {
					t.Errorf("reader %d on B read change %d after change %d", r, k, last)
					return
				}
				last = k
				reads.Add(1)
			}
		}()
	}

	// The writer: a random credit (allocated from the pool) or debit (a
	// service bought), never to a total seen before.
	total, seen := start, map[int64]bool{start: true}
	change := func(k int) {
		t.Helper()
		var delta int64
		for {
			if rand.IntN(2) == 0 || total < 50*10_000 {
				delta = int64(1+rand.IntN(100)) * 10_000 // 0.01 to 1.00
			} else {
				delta = -int64(1+rand.IntN(50)) * 10_000
			}
			if !seen[total+delta] {
				break
			}
		}
		seen[total+delta] = true
		mu.Lock()
		index[total+delta] = k
		mu.Unlock()
		var answered string
		if delta > 0 {
			var out struct {
				AllocateCredits struct{ Balance struct{ Total string } }
			}
			instA.gql(t, admin, `mutation($a: ID!, $x: Decimal!){ allocateCredits(input:{toAccountId:$a, amount:$x}) { balance { total } } }`,
				map[string]any{"a": f.A1, "x": money.Format(delta, "USD")}).decode(t, &out)
			answered = out.AllocateCredits.Balance.Total
		} else {
			var out struct {
				BuyServiceWithCredit struct{ Balance struct{ Total string } }
			}
			instA.gql(t, owner, `mutation($s: ID!, $q: Int!){ buyServiceWithCredit(input:{serviceId:$s, quantity:$q}) { balance { total } } }`,
				map[string]any{"s": cent, "q": -delta / 10_000}).decode(t, &out)
			answered = out.BuyServiceWithCredit.Balance.Total
		}
		total += delta
		if got := micro(t, answered); got != total {
			t.Fatalf("change %d answered %s, want %d micro", k, answered, total)
		}
		// A reads its own writes: from memory, at least this change.
		for _, r := range [][2]string{{owner, ownRead}, {admin, adminRead}} {
			if _, got := read(instA, r[0], r[1]); got < k {
				t.Fatalf("A read change %d right after answering change %d", got, k)
			}
		}
	}
	// away kills B's listener connection again and again (each reconnect
	// takes a few ms; it is killed within about one) while A makes n
	// changes, so that B misses most of their notifications, the last one
	// likely among them. Once the changes and the kills stop, B has nothing
	// more to hear: only a memory dropped on reconnect (not served stale)
	// answers the last change.
	k := 0
	away := func(n int) {
		t.Helper()
		done := make(chan struct{})
		var kills atomic.Int64
		var storm sync.WaitGroup
		storm.Add(1)
		go func() {
			defer storm.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				var killed int64
				if err := d.SQL.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
					WHERE application_name = $1 AND query LIKE 'LISTEN%'`, app).Scan(&killed); err != nil {
					t.Errorf("terminating B's listener: %v", err)
					return
				}
				kills.Add(killed)
				time.Sleep(time.Millisecond)
			}
		}()
		for range n {
			k++
			change(k)
		}
		time.Sleep(50 * time.Millisecond)
		close(done)
		storm.Wait()
		if kills.Load() == 0 {
			t.Fatal("B's listener was never found to kill")
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _ := read(instB, owner, ownRead)
			if got == total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B still answers %d micro 10 s after its listener was killed, want %d", got, total)
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond) // the listener is back by now
		for range 20 {
			for _, r := range [][2]string{{owner, ownRead}, {admin, adminRead}} {
				if got, _ := read(instB, r[0], r[1]); got != total {
					t.Fatalf("B answered %d micro after its listener came back, want %d", got, total)
				}
			}
		}
		t.Logf("after change %d: B's listener killed %d times", k, kills.Load())
	}
	const changes = 1000
	for _, at := range []int{300, 500, 700} {
		for k < at {
			k++
			change(k)
		}
		away(10)
	}
	for k < changes {
		k++
		change(k)
	}
	close(stop)
	readers.Wait()
	// Within the notification latency every read on B is the final balance.
	deadline := time.Now().Add(2 * time.Second)
	for _, r := range [][2]string{{owner, ownRead}, {admin, adminRead}} {
		for {
			got, _ := read(instB, r[0], r[1])
			if got == total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("B answers %d micro, the final balance is %d", got, total)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	t.Logf("%d changes through A, %d reads on B", changes, reads.Load())
	if reads.Load() < 100 {
		t.Fatalf("only %d reads on B: the readers did not run alongside", reads.Load())
	}
	verifyLedger(t, h)
}

// micro parses a decimal amount (zero included) into micro-units.
func micro(t *testing.T, s string) int64 {
	t.Helper()
	r := new(big.Rat).Mul(e2eAmount(t, s), big.NewRat(1_000_000, 1))
	if !r.IsInt() {
		t.Fatalf("amount %q: more than 6 fraction digits", s)
	}
	return r.Num().Int64()
}

// TestBalanceCacheOneInstance: on each database (SQLite publishes changes
// itself, PostgreSQL through its listener), one instance answers balance
// reads from memory while one writer changes the balance: every read
// right after a mutation shows exactly what it answered (the only
// writer), readers alongside never go back, and the scope is the
// database's: another agency's admin and another client still get
// NOT_FOUND for the account once it is kept.
func TestBalanceCacheOneInstance(t *testing.T) {
	eachDB(t, func(t *testing.T, a *testAPI) {
		f := a.fx
		cent := must[*ent.Service](t)(a.svc.CreateService(sys(), credits.NewService{AgencyID: &f.AgencyA, Name: "Cent", Price: "0.01", CreditEligible: true})).ID
		owner, admin := a.owner(), a.agencyAdmin()
		const ownRead = `{ balance { available total owed } }`
		adminRead := `{ balance(accountId: "` + string(f.A1) + `") { available total owed } }`
		var mu sync.Mutex
		index := map[int64]int{}
		read := func(token, query string) (int64, int) {
			t.Helper()
			var out struct {
				Balance struct{ Available, Total, Owed string }
			}
			a.gql(token, query, nil).decode(t, &out)
			total := micro(t, out.Balance.Total)
			if out.Balance.Owed != "0.00" || micro(t, out.Balance.Available) != total {
				t.Errorf("balance %+v: nothing held or owed", out.Balance)
			}
			mu.Lock()
			defer mu.Unlock()
			k, ok := index[total]
			if !ok {
				t.Errorf("read a total %s the account never had", out.Balance.Total)
			}
			return total, k
		}
		var first struct{ Balance struct{ Total string } }
		a.gql(owner, ownRead, nil).decode(t, &first)
		total := micro(t, first.Balance.Total)
		index[total] = 0

		stop := make(chan struct{})
		var readers sync.WaitGroup
		for r, q := range [][2]string{{owner, ownRead}, {admin, adminRead}} {
			readers.Add(1)
			go func() {
				defer readers.Done()
				last := 0
				for {
					select {
					case <-stop:
						return
					default:
					}
					if _, k := read(q[0], q[1]); k < last {
						t.Errorf("reader %d read change %d after change %d", r, k, last)
						return
					} else {
						last = k
					}
				}
			}()
		}
		seen := map[int64]bool{total: true}
		for k := 1; k <= 150; k++ {
			var delta int64
			for {
				if k%2 == 0 || total < 50*10_000 {
					delta = int64(1+rand.IntN(100)) * 10_000
				} else {
					delta = -int64(1+rand.IntN(50)) * 10_000
				}
				if !seen[total+delta] {
					break
				}
			}
			seen[total+delta] = true
			mu.Lock()
			index[total+delta] = k
			mu.Unlock()
			if delta > 0 {
				a.gql(admin, `mutation($a: ID!, $x: Decimal!){ allocateCredits(input:{toAccountId:$a, amount:$x}) { balance { total } } }`,
					map[string]any{"a": f.A1, "x": money.Format(delta, "USD")}).decode(t, &struct{}{})
			} else {
				a.gql(owner, `mutation($s: ID!, $q: Int!){ buyServiceWithCredit(input:{serviceId:$s, quantity:$q}) { balance { total } } }`,
					map[string]any{"s": cent, "q": -delta / 10_000}).decode(t, &struct{}{})
			}
			total += delta
			for _, q := range [][2]string{{owner, ownRead}, {admin, adminRead}} {
				if got, _ := read(q[0], q[1]); got != total {
					t.Fatalf("change %d: read %d micro right after it answered %d", k, got, total)
				}
			}
		}
		close(stop)
		readers.Wait()

		// Kept now, and still NOT_FOUND to those who may not see it.
		for name, token := range map[string]string{
			"another agency's admin":  a.token(auth.RoleAgencyAdmin, f.AgencyB, ""),
			"another client":          a.token(auth.RoleClientOwner, f.AgencyB, f.B1),
			"a client of A1's agency": a.token(auth.RoleClientOwner, f.AgencyA, f.A2),
		} {
			if code := a.gql(token, adminRead, nil).code(); code != "NOT_FOUND" {
				t.Errorf("%s reading A1's balance: %q, want NOT_FOUND", name, code)
			}
		}
		// A token naming A1 under another agency is not A1's client (the
		// gateway refuses such a token before any read).
		if code := a.gql(a.token(auth.RoleClientOwner, f.AgencyB, f.A1), ownRead, nil).code(); code != "NOT_FOUND" && code != "UNAUTHENTICATED" {
			t.Errorf("A1 under agency B reading its own balance: %q, want it refused", code)
		}
		verifyLedger(t, a)
	})
}
