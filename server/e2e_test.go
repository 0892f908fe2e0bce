package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"creditgate/auth"
	"creditgate/credits"
	"creditgate/db"
	"creditgate/dbtest"
	"creditgate/ent"
	"creditgate/events"
	"creditgate/gid"
)

// TestE2ETwoInstances runs two real gateway processes (the binary built
// from this package) on one PostgreSQL schema and checks that what is
// committed through instance A reaches subscribers of instance B: one
// event within a second, then 100 rapid changes complete and in commit
// order, then credit requests (only the subscriber's agency's).
// e2eTwoInstances builds the gateway and starts two processes of it on one
// new PostgreSQL schema, seeded in-process with the harness's fixture
// (agency A with a funded pool and client A1, agency B with client B1).
// Both start concurrently: the schema is already migrated, so their
// start-up migrations have nothing to do.
func e2eTwoInstances(t *testing.T) (*testAPI, *e2eInstance, *e2eInstance) {
	t.Helper()
	bin := e2eBuild(t)
	dsn := dbtest.NewPostgresSchema(t)
	d, err := db.Open(context.Background(), dsn, db.Options{})
	if err != nil {
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() { d.Close() })
	h := &testAPI{t: t, db: d, svc: credits.New(d.Client, d.Dialect, slog.New(slog.NewTextHandler(io.Discard, nil)))}
	h.fx = h.seed()
	var instA, instB *e2eInstance
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); instA = e2eStart(t, bin, dsn, "A") }()
	go func() { defer wg.Done(); instB = e2eStart(t, bin, dsn, "B") }()
	wg.Wait()
	if instA == nil || instB == nil {
		t.FailNow() // e2eStart reported why
	}
	return h, instA, instB
}

func TestE2ETwoInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gateway and starts two processes")
	}
	h, instA, instB := e2eTwoInstances(t)
	f := h.fx
	cent := must[*ent.Service](t)(h.svc.CreateService(sys(), credits.NewService{AgencyID: &f.AgencyA, Name: "Cent", Price: "0.01", CreditEligible: true})).ID
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("instance A stderr:\n%s", instA.log())
			t.Logf("instance B stderr:\n%s", instB.log())
		}
	})
	t.Logf("A at %s, B at %s", instA.url, instB.url)

	owner := e2eToken(t, auth.RoleClientOwner, "e2e-owner-a1", f.AgencyA, f.A1)
	admin := h.agencyAdmin()

	// Subscribers on B: the owner of A1 watches its balance, the agency
	// admin watches A's credit requests (opened now, used last).
	sub, err := dialWS(t, instB.url, protoTransportWS, owner)
	if err != nil {
		t.Fatalf("dialing B: %v", err)
	}
	sub.subscribe("bal", balanceSub, nil)
	dash, err := dialWS(t, instB.url, protoTransportWS, admin)
	if err != nil {
		t.Fatalf("dialing B as agency admin: %v", err)
	}
	dash.subscribe("req", `subscription { creditRequestUpdated { id status amount reference account { id name } } }`, nil)

	allocate := func(amount string) (string, time.Time) {
		t.Helper()
		var out struct {
			AllocateCredits struct {
				Balance struct {
					Available string
					Account   struct{ ID string }
				}
			}
		}
		instA.gql(t, admin, `mutation($a: ID!, $x: Decimal!){ allocateCredits(input:{toAccountId:$a, amount:$x}) { balance { available account { id } } } }`,
			map[string]any{"a": f.A1, "x": amount}).decode(t, &out)
		done := time.Now()
		if got := out.AllocateCredits.Balance.Account.ID; got != string(f.A1) {
			t.Fatalf("allocateCredits answered the balance of %s, want %s", got, f.A1)
		}
		return out.AllocateCredits.Balance.Available, done
	}
	// next is B's next balance event; it fails the test on errors.
	next := func(timeout time.Duration) (balanceEvent, error) {
		t.Helper()
		r, err := sub.receive("bal", timeout)
		if err != nil {
			return balanceEvent{}, err
		}
		var ev balanceEvent
		if len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil {
			t.Fatalf("balance event: %s %+v", r.Data, r.Errors)
		}
		if ev.BalanceUpdated.Account.ID != string(f.A1) || ev.BalanceUpdated.Currency != "USD" {
			t.Fatalf("event for %s %s, want %s USD", ev.BalanceUpdated.Account.ID, ev.BalanceUpdated.Currency, f.A1)
		}
		return ev, nil
	}

	// 1. The subscription is registered asynchronously on B after the
	// subscribe message, and nothing observable says when: probe with small
	// allocations until one is delivered (then every earlier one has been
	// delivered or skipped, since events come in commit order).
	live := false
	for probe := 1; probe <= 25 && !live; probe++ {
		want, _ := allocate("0.01")
		for {
			ev, err := next(200 * time.Millisecond)
			if err == errTimeout {
				break
			} else if err != nil {
				t.Fatalf("probe %d: %v", probe, err)
			}
			if ev.BalanceUpdated.Available == want {
				live = true
				t.Logf("subscription on B live after %d probe(s)", probe)
				break
			}
		}
	}
	if !live {
		t.Fatal("no balance event reached B after 25 probes (5 s)")
	}

	// 2. One change through A reaches B within a second, with the balance
	// the mutation returned.
	want, committed := allocate("5")
	ev, err := next(time.Until(committed.Add(time.Second)))
	if err != nil {
		t.Fatalf("the allocation committed on A did not reach B within 1 s: %v", err)
	}
	if got := ev.BalanceUpdated.Available; got != want {
		t.Fatalf("B received balance %s, A's mutation returned %s", got, want)
	}
	t.Logf("A -> B: received %v after A's response", time.Since(committed))

	// 3. 100 changes, one after the other as fast as they go, spending
	// 0.01 each as one of five owners of the account (so that the
	// per-user mutation rate limit is not what this measures): B receives
	// every one, in commit order.
	const rapid = 100
	owners := make([]string, 5)
	for i := range owners {
		owners[i] = e2eToken(t, auth.RoleClientOwner, fmt.Sprintf("e2e-owner-a1-%d", i), f.AgencyA, f.A1)
	}
	wants := make([]string, rapid)
	start := time.Now()
	for i := range wants {
		var out struct {
			BuyServiceWithCredit struct{ Balance struct{ Available string } }
		}
		instA.gql(t, owners[i%len(owners)], `mutation($s: ID!){ buyServiceWithCredit(input:{serviceId:$s, quantity:1}) { balance { available } } }`,
			map[string]any{"s": cent}).decode(t, &out)
		wants[i] = out.BuyServiceWithCredit.Balance.Available
	}
	fired := time.Since(start)
	prev := e2eAmount(t, want)
	for i, w := range wants {
		ev, err := next(5 * time.Second)
		if err != nil {
			t.Fatalf("rapid change %d/%d (balance %s) never reached B: %v", i+1, rapid, w, err)
		}
		got := ev.BalanceUpdated.Available
		if got != w {
			t.Fatalf("rapid event %d: balance %s, want %s (the %d-th commit's); events lost or out of order", i+1, got, w, i+1)
		}
		if v := e2eAmount(t, got); v.Cmp(prev) >= 0 {
			t.Fatalf("rapid event %d: balance %s does not decrease from %s", i+1, got, prev.FloatString(2))
		} else {
			prev = v
		}
	}
	t.Logf("%d changes fired through A in %v, all received by B %v after the first was sent", rapid, fired, time.Since(start))
	if r, err := sub.receive("bal", 300*time.Millisecond); err != errTimeout {
		t.Fatalf("an extra balance event after the %d changes: %s %v", rapid, r.Data, err)
	}
	if bal := instB.balance(t, h.sysAdmin(), f.A1); bal != wants[rapid-1] {
		t.Fatalf("B reads balance %s, want %s", bal, wants[rapid-1])
	}

	// 4. Credit requests: a bank transfer requested through A reaches
	// agency A's dashboard on B; agency B's request does not.
	ownerB := e2eToken(t, auth.RoleClientOwner, "e2e-owner-b1", f.AgencyB, f.B1)
	instA.gql(t, ownerB, `mutation { buyCredits(input:{amount:"9", method:BANK_TRANSFER, reference:"E2E-B"}) { status } }`, nil).decode(t, &struct{}{})
	var created struct {
		BuyCredits struct {
			Status  string
			Request struct{ ID string }
		}
	}
	instA.gql(t, owner, `mutation { buyCredits(input:{amount:"12.5", method:BANK_TRANSFER, reference:"E2E-1"}) { status request { id } } }`, nil).decode(t, &created)
	reqCommitted := time.Now()
	id := created.BuyCredits.Request.ID
	if created.BuyCredits.Status != "PENDING_APPROVAL" || id == "" {
		t.Fatalf("bank transfer: status %s, request %q", created.BuyCredits.Status, id)
	}
	type reqEvent struct {
		CreditRequestUpdated struct {
			ID, Status, Amount, Reference string
			Account                       struct{ ID, Name string }
		}
	}
	receiveReq := func(what string) reqEvent {
		t.Helper()
		r, err := dash.receive("req", 2*time.Second)
		var ev reqEvent
		if err != nil || len(r.Errors) > 0 || json.Unmarshal(r.Data, &ev) != nil {
			t.Fatalf("%s: %s %+v %v", what, r.Data, r.Errors, err)
		}
		return ev
	}
	got := receiveReq("the request created on A").CreditRequestUpdated
	if got.ID != id || got.Status != "PENDING" || got.Amount != "12.50" || got.Reference != "E2E-1" || got.Account.ID != string(f.A1) || got.Account.Name != "Client A1" {
		t.Fatalf("B's dashboard received %+v, want request %s PENDING 12.50 E2E-1 of Client A1 (and never agency B's)", got, id)
	}
	t.Logf("request A -> B in %v", time.Since(reqCommitted))
	instA.gql(t, admin, `mutation($r: ID!) { approveRequest(input:{requestId:$r}) { request { status } } }`, map[string]any{"r": id}).decode(t, &struct{}{})
	if got := receiveReq("the approval made on A").CreditRequestUpdated; got.ID != id || got.Status != "ACCEPTED" {
		t.Fatalf("after approval B received %+v, want %s ACCEPTED", got, id)
	}
	// The approval credited A1: that reaches the balance subscriber too.
	if ev, err := next(2 * time.Second); err != nil || e2eAmount(t, ev.BalanceUpdated.Available).Cmp(new(big.Rat).Add(prev, big.NewRat(25, 2))) != 0 {
		t.Fatalf("balance after approval: %+v %v, want %s + 12.50", ev, err, prev.FloatString(2))
	}

	instA.alive(t)
	instB.alive(t)
	if n := instA.retries.Load(); n > 0 {
		t.Logf("%d requests to A were rate limited and sent again", n)
	}
}

// e2eInstance is one gateway process.
type e2eInstance struct {
	name   string
	url    string
	cmd    *exec.Cmd
	stderr *e2eLog
	exited chan struct{} // closed when the process has exited
	err    error         // cmd.Wait's, once exited is closed

	retries atomic.Int32 // requests sent again after RATE_LIMITED
}

// e2eLog collects a process's stderr and finds the listening URL in it.
type e2eLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	url   string
	found chan struct{}
}

var listeningRE = regexp.MustCompile(`msg="creditgate listening" url=(http://127\.0\.0\.1:\d+)`)

func (l *e2eLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.url == "" {
		if m := listeningRE.FindSubmatch(l.buf.Bytes()); m != nil {
			l.url = string(m[1])
			close(l.found)
		}
	}
	return len(p), nil
}

func (l *e2eLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (in *e2eInstance) log() string { return in.stderr.String() }

// e2eBuild builds the gateway once per test binary run.
func e2eBuild(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "creditgate")
	// go test puts its own GOROOT/bin first on the PATH.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = "." // the server package: the test's working directory
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the gateway in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// e2eStart starts the gateway on dsn with a random local port and waits
// for its "creditgate listening" line. The process is killed when the test
// ends. It reports failures with t.Errorf and returns nil (it runs off the
// test goroutine).
func e2eStart(t *testing.T, bin, dsn, name string) *e2eInstance {
	in := &e2eInstance{name: name, stderr: &e2eLog{found: make(chan struct{})}, exited: make(chan struct{})}
	in.cmd = exec.Command(bin)
	in.cmd.Env = append(os.Environ(),
		"LISTEN_ADDR=127.0.0.1:0",
		"DATABASE_URL="+dsn,
		"JWT_SECRET="+string(testSecret),
		"JWT_JWKS_URL=", "PUBLIC_URL=", "APP_ENV=test", "DEMO=false",
		"WS_MAX_CONNS_PER_TOKEN=", "WS_MAX_SUBSCRIPTIONS_PER_CONN=", "DB_MAX_CONNS=",
	)
	in.cmd.Stdout = io.Discard
	in.cmd.Stderr = in.stderr
	if err := in.cmd.Start(); err != nil {
		t.Errorf("starting instance %s: %v", name, err)
		return nil
	}
	go func() { in.err = in.cmd.Wait(); close(in.exited) }()
	t.Cleanup(func() {
		_ = in.cmd.Process.Kill()
		<-in.exited
	})
	select {
	case <-in.stderr.found:
		in.url = in.stderr.url
		return in
	case <-in.exited:
		t.Errorf("instance %s exited before listening (%v); stderr:\n%s", name, in.err, in.log())
	case <-time.After(15 * time.Second):
		t.Errorf("instance %s not listening after 15 s; stderr:\n%s", name, in.log())
	}
	return nil
}

// alive fails the test if the process has exited.
func (in *e2eInstance) alive(t *testing.T) {
	t.Helper()
	select {
	case <-in.exited:
		t.Fatalf("instance %s exited early (%v); stderr:\n%s", in.name, in.err, in.log())
	default:
	}
}

// gql POSTs a GraphQL request to the instance. A request refused with
// RATE_LIMITED (refused before anything ran) is sent again after its
// retryAfter, as a well-behaved client would, a few times at most.
func (in *e2eInstance) gql(t *testing.T, token, query string, vars map[string]any) gqlResponse {
	t.Helper()
	for attempt := 1; ; attempt++ {
		in.alive(t)
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		req, _ := http.NewRequest(http.MethodPost, in.url+"/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		r := (&testAPI{t: t}).send(req)
		if r.code() != "RATE_LIMITED" || attempt == 5 {
			return r
		}
		secs, _ := r.Errors[0].Extensions["retryAfter"].(float64)
		in.retries.Add(1)
		time.Sleep(time.Duration(min(max(secs, 0.05), 2) * float64(time.Second)))
	}
}

func (in *e2eInstance) balance(t *testing.T, token string, acc gid.ID) string {
	t.Helper()
	var out struct{ Balance struct{ Available string } }
	in.gql(t, token, `query($a: ID!){ balance(accountId: $a) { available } }`, map[string]any{"a": acc}).decode(t, &out)
	return out.Balance.Available
}

// e2eToken signs a token with its own subject (the per-subject socket cap
// counts sockets per user id).
func e2eToken(t *testing.T, role auth.Role, user string, agency, account gid.ID) string {
	t.Helper()
	tok, err := auth.NewToken(testSecret, role, user, string(agency), string(account), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func e2eAmount(t *testing.T, s string) *big.Rat {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("not a decimal: %q", s)
	}
	return r
}

// TestLiveCompleteUnderLoadReleasesSlot: a client that completes its
// subscriptions one at a time while the account keeps changing must get
// its subscription slot back every time, and closing the socket must leave
// no goroutine behind. The changes are published straight to the broker,
// as the listener does for commits, so that the stream is busy when the
// client completes.
//
// It guards against a bug found with it: graph.relay (graph/live.go)
// forwarded with a bare `out <- v`; once the operation's context is
// cancelled gqlgen stops reading out, so a relay holding a value blocked
// forever and never called release. Each such relay leaked a goroutine
// (and the subscription's state) for the life of the process, and its slot
// on the socket: after MaxSubsPerConn unlucky completes the socket refused
// every subscription with RATE_LIMITED though none was open. relay must
// give up sending when ctx ends.
func TestLiveCompleteUnderLoadReleasesSlot(t *testing.T) {
	a := newAPI(t, "sqlite") // MaxSubsPerConn 4
	before := relayGoroutines()
	c, err := dialWS(t, a.srv.URL, protoTransportWS, a.owner())
	if err != nil {
		t.Fatal(err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for seq := int64(1 << 40); ; seq++ {
			select {
			case <-stop:
				return
			default:
			}
			a.broker.Publish(events.Event{Balance: &events.Balance{AccountID: a.fx.A1, AgencyID: a.fx.AgencyA, Currency: "USD", Available: seq, Seq: seq, Version: seq, UpdatedAt: time.Now()}})
			time.Sleep(20 * time.Microsecond)
		}
	}()
	const cycles = 40
	made := cycles
	for i := range cycles {
		id := fmt.Sprint("s", i)
		c.subscribe(id, balanceSub, nil)
		r, err := c.receive(id, 5*time.Second)
		if err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
		if len(r.Errors) > 0 {
			made = i + 1
			t.Errorf("subscription %d refused with %s (%s), though the %d before it were all completed: their slots leaked",
				i, r.code(), r.Errors[0].Message, i)
			break
		}
		c.send(wsMsg{ID: id, Type: "complete"})
	}
	close(stop)
	<-stopped
	c.conn.Close(websocket.StatusNormalClosure, "")
	deadline := time.Now().Add(3 * time.Second)
	for relayGoroutines() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := relayGoroutines() - before; n > 0 {
		t.Errorf("%d graph.relay goroutines still blocked 3 s after the socket closed (of %d subscriptions)", n, made)
	}
}

func (r result) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// relayGoroutines counts the goroutines running graph.relay's forwarder.
func relayGoroutines() int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, "\ncreditgate/graph.relay[") {
			n++
		}
	}
	return n
}
