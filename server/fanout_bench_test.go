package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"creditgate/auth"
	"creditgate/ent"
	"creditgate/ent/account"
	"creditgate/gid"
	"creditgate/money"
)

// Fan-out workload.
const (
	fanoutRate    = 200  // changes per second, paced by a ticker
	fanoutChanges = 1000 // changes per b.Loop iteration (5 s at fanoutRate)
	fanoutReserve = 256  // descriptors the server needs besides its sockets
)

// BenchmarkFanout measures live balance delivery to many subscribers: one
// in-process gateway on PostgreSQL (newAPI: httptest server, one event
// listener), N client accounts of agency A, and one graphql-transport-ws
// socket per account (each with its own token subject, because of the
// per-subject socket cap) subscribed to balanceUpdated of its own account.
//
// The WebSocket clients run in a CHILD PROCESS (this test binary re-run as
// TestFanoutClients), so that the benchmark process holds only the server
// side of every socket: its heap and descriptors are the gateway's, and
// the two sides do not share one descriptor limit (N sockets need N
// descriptors on each side).
//
// Setup, done once per sub-benchmark and not timed: create the accounts
// (bulk insert through ent), open and subscribe all N sockets, wait until
// the broker has N balance subscriptions. Each b.Loop iteration is then one
// round of fanoutChanges allocations of 0.01 from the agency pool to a
// random subscribed account, made one at a time through the domain service
// (credits.Service.AllocateCredits, as an agency admin) and paced at
// fanoutRate per second by a ticker (a change that takes longer than the
// tick delays the next: "changes/s" is the rate achieved). With
// -benchtime 1x, or the default 1s, that is exactly one round, and ns/op is
// the duration of that round (about fanoutChanges/fanoutRate seconds); the
// figures that matter are the metrics:
//
//   - p50-ms, p99-ms, max-ms: delivery latency of each change, from the
//     moment AllocateCredits returned (its transaction committed; the event
//     is sent by PostgreSQL on COMMIT) to the moment the subscriber's client
//     read the message off its socket (wall clock, both processes on this
//     machine). An event may be read before the call has returned, which
//     gives a negative sample; they are kept as they are.
//   - call-p50-ms, call-p99-ms: the same from just before the call, i.e.
//     including the mutation itself (an upper bound, never negative).
//   - lost: changes whose event (matched by account and resulting balance)
//     did not arrive within 10 s of the end of the round; 0 is expected.
//   - server-B/sub: the benchmark process's HeapInuse + StackInuse, after
//     two GCs, once all N subscriptions are registered, minus the same
//     figure before the first socket was opened, divided by N. It is the
//     gateway's per-subscriber memory in the Go heap and goroutine stacks:
//     the accepted connection, net/http and coder/websocket state and
//     buffers, gqlgen's connection and operation, the resolver's and the
//     broker's subscription (with its buffered channel), and every goroutine
//     those run. It does NOT include kernel socket buffers, nor the clients.
//   - heap-B/sub, stack-B/sub: its two parts.
//   - client-B/sub: the same figure measured in the client process, for
//     reference (a minimal client: one coder/websocket conn and one reading
//     goroutine per subscriber).
//   - subscribe-s: how long opening and subscribing all N sockets took.
//
// The soft RLIMIT_NOFILE is raised to the hard limit (syscall.Setrlimit) in
// both processes; a size that needs more than the hard limit allows
// (N + fanoutReserve descriptors) is skipped with the reason, as are the
// sizes above 1000 under -short; fanoutSizes adds the largest size the
// hard limit allows when 20000 does not fit.
func BenchmarkFanout(b *testing.B) {
	for _, n := range fanoutSizes() {
		b.Run(fmt.Sprintf("subs=%d", n), func(b *testing.B) {
			if testing.Short() && n > 1000 {
				b.Skip("-short: only the 1000-subscriber size")
			}
			if cur, max := raiseNoFile(); uint64(n+fanoutReserve) > cur {
				b.Skipf("needs %d file descriptors; RLIMIT_NOFILE is %d (hard limit %d) and may not be raised here", n+fanoutReserve, cur, max)
			}
			benchFanout(b, n)
		})
	}
}

// fanoutSizes are 1000, 10000 and 20000 subscribers and, where the hard
// descriptor limit allows more than 10000 but not 20000, the largest
// multiple of 1000 it allows (hard limit minus fanoutReserve, rounded
// down): with a hard limit of 20000 (which not even root may raise in some
// containers) that is 19000, the figure nearest 20000 this machine can give.
func fanoutSizes() []int {
	sizes := []int{1000, 10000, 20000}
	if _, hard := raiseNoFile(); hard > fanoutReserve && hard < 1<<31 {
		if m := int(hard-fanoutReserve) / 1000 * 1000; m > 10000 && m < 20000 {
			sizes = []int{1000, 10000, m, 20000}
		}
	}
	return sizes
}

// raiseNoFile lifts the soft descriptor limit to the hard limit and
// returns both.
func raiseNoFile() (cur, max uint64) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, 0
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r)
		_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r)
	}
	return r.Cur, r.Max
}

// memInUse is the heap and stack in use after two full collections.
func memInUse() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

type fanoutEvent struct {
	idx   int
	avail string
	at    time.Time
}

// fanoutChild is the client process as the benchmark sees it.
type fanoutChild struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	output *syncBuffer // its stdout and stderr, for failures
	ready  chan struct{}
	exited chan struct{}

	mu     sync.Mutex
	events []fanoutEvent
	errs   []string
	mem    [2]int64 // client heap, stack deltas
}

func benchFanout(b *testing.B, n int) {
	a := newAPI(b, "postgres")
	ctx := sys()

	// N client accounts of agency A, inserted in bulk.
	accs := make([]gid.ID, 0, n)
	for len(accs) < n {
		batch := make([]*ent.AccountCreate, 0, 1000)
		for i := len(accs); i < n && len(batch) < cap(batch); i++ {
			batch = append(batch, a.db.Client.Account.Create().SetAgencyID(a.fx.AgencyA).SetName(fmt.Sprintf("Fan-out %d", i)).SetKind(account.KindCLIENT))
		}
		created, err := a.db.Client.Account.CreateBulk(batch...).Save(ctx)
		if err != nil {
			b.Fatalf("creating accounts: %v", err)
		}
		for _, acc := range created {
			accs = append(accs, acc.ID)
		}
	}
	list := b.TempDir() + "/accounts"
	var sb strings.Builder
	for _, acc := range accs {
		fmt.Fprintf(&sb, "%s %s\n", a.fx.AgencyA, acc)
	}
	if err := os.WriteFile(list, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}

	heap0, stack0 := memInUse()
	start := time.Now()
	child := startFanoutClients(b, a.srv.URL, list)
	select {
	case <-child.ready:
	case <-child.exited:
		b.Fatalf("client process exited before subscribing everything:\n%s", child.output)
	case <-time.After(5 * time.Minute):
		b.Fatalf("client process not ready after 5 minutes:\n%s", child.output)
	}
	// The child is ready when every socket is acknowledged and its subscribe
	// sent; the server registers subscriptions asynchronously.
	deadline := time.Now().Add(time.Minute)
	for {
		if subs, _ := a.broker.Counts(); subs >= n {
			break
		}
		if time.Now().After(deadline) {
			subs, _ := a.broker.Counts()
			b.Fatalf("%d of %d balance subscriptions registered after a minute; client errors: %v", subs, n, child.errors())
		}
		time.Sleep(10 * time.Millisecond)
	}
	subscribeTime := time.Since(start)
	heap1, stack1 := memInUse()
	writeFanoutProfiles(b, n)

	admin := auth.NewContext(context.Background(), &auth.Viewer{UserID: "fanout-admin", Role: auth.RoleAgencyAdmin, AgencyID: string(a.fx.AgencyA)})
	type change struct {
		idx         int
		avail       string
		called, ret time.Time
	}
	var changes []change
	var spent time.Duration
	amount := moneyDecimal("0.01")
	for b.Loop() {
		roundStart := time.Now()
		tick := time.NewTicker(time.Second / fanoutRate)
		for range fanoutChanges {
			<-tick.C
			i := rand.IntN(n)
			called := time.Now()
			res, err := a.svc.AllocateCredits(admin, accs[i], amount, nil, nil, nil)
			ret := time.Now()
			if err != nil {
				b.Fatalf("allocating to %s: %v", accs[i], err)
			}
			changes = append(changes, change{i, string(money.Format(res.Balance.Available, res.Balance.Currency)), called, ret})
		}
		tick.Stop()
		spent += time.Since(roundStart)
	}
	b.StopTimer()

	// Wait for the events (bounded), then match each change to its event.
	deadline = time.Now().Add(10 * time.Second)
	for child.count() < len(changes) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	type key struct {
		idx   int
		avail string
	}
	child.mu.Lock()
	got := make(map[key]time.Time, len(child.events))
	for _, e := range child.events {
		got[key{e.idx, e.avail}] = e.at
	}
	extra := len(child.events) - len(got)
	errs := slices.Clone(child.errs)
	child.mu.Unlock()
	if len(errs) > 0 {
		b.Errorf("client errors (%d), first: %s", len(errs), errs[0])
	}
	if extra > 0 {
		b.Errorf("%d duplicate events", extra)
	}
	var lat, fromCall []float64
	lost := 0
	for _, c := range changes {
		at, ok := got[key{c.idx, c.avail}]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, float64(at.Sub(c.ret))/float64(time.Millisecond))
		fromCall = append(fromCall, float64(at.Sub(c.called))/float64(time.Millisecond))
	}
	if len(lat) == 0 {
		b.Fatalf("no event of %d changes arrived", len(changes))
	}
	slices.Sort(lat)
	slices.Sort(fromCall)
	pct := func(s []float64, p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	b.ReportMetric(lat[len(lat)-1], "max-ms")
	b.ReportMetric(pct(fromCall, 0.50), "call-p50-ms")
	b.ReportMetric(pct(fromCall, 0.99), "call-p99-ms")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(float64(len(changes))/spent.Seconds(), "changes/s")
	heapPer := (float64(heap1) - float64(heap0)) / float64(n)
	stackPer := (float64(stack1) - float64(stack0)) / float64(n)
	b.ReportMetric(heapPer, "heap-B/sub")
	b.ReportMetric(stackPer, "stack-B/sub")
	b.ReportMetric(heapPer+stackPer, "server-B/sub")
	child.mu.Lock()
	b.ReportMetric(float64(child.mem[0]+child.mem[1])/float64(n), "client-B/sub")
	child.mu.Unlock()
	b.ReportMetric(subscribeTime.Seconds(), "subscribe-s")
	if lost > 0 {
		b.Errorf("%d of %d changes never reached their subscriber", lost, len(changes))
	}
}

// startFanoutClients re-runs this test binary as the client process. Its
// output protocol, one line each on descriptor 3:
//
//	ready                           every socket acknowledged and subscribed
//	mem HEAP STACK                  its heap and stack growth for the sockets
//	ev INDEX AVAILABLE UNIXNANO     an event read by subscriber INDEX
//	err TEXT                        anything unexpected
//
// It exits when its stdin is closed, which the benchmark's cleanup does.
func startFanoutClients(b *testing.B, url, list string) *fanoutChild {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	c := &fanoutChild{output: &syncBuffer{}, ready: make(chan struct{}), exited: make(chan struct{})}
	c.cmd = exec.Command(exe, "-test.run=^TestFanoutClients$", "-test.count=1", "-test.timeout=0")
	c.cmd.Env = append(os.Environ(), fanoutListEnv+"="+list, fanoutURLEnv+"="+url)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
	c.cmd.ExtraFiles = []*os.File{pw}
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pw.Close()
	go func() { _ = c.cmd.Wait(); close(c.exited) }()
	b.Cleanup(func() {
		c.stdin.Close()
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	})
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 0 {
				continue
			}
			c.mu.Lock()
			switch f[0] {
			case "ready":
				close(c.ready)
			case "mem":
				c.mem[0], _ = strconv.ParseInt(f[1], 10, 64)
				c.mem[1], _ = strconv.ParseInt(f[2], 10, 64)
			case "ev":
				idx, _ := strconv.Atoi(f[1])
				ns, _ := strconv.ParseInt(f[3], 10, 64)
				c.events = append(c.events, fanoutEvent{idx, f[2], time.Unix(0, ns)})
			default:
				c.errs = append(c.errs, sc.Text())
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *fanoutChild) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

func (c *fanoutChild) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.errs)
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// writeFanoutProfiles writes the gateway's heap and goroutine profiles,
// taken when server-B/sub is measured, to $CREDITGATE_FANOUT_PROFILE (a
// directory) as heap-N.pprof and goroutine-N.txt, if it is set.
func writeFanoutProfiles(b *testing.B, n int) {
	dir := os.Getenv(fanoutProfileEnv)
	if dir == "" {
		return
	}
	for name, debug := range map[string]int{"heap": 0, "goroutine": 1} {
		ext := ".pprof"
		if debug > 0 {
			ext = ".txt"
		}
		f, err := os.Create(fmt.Sprintf("%s/%s-%d%s", dir, name, n, ext))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.Lookup(name).WriteTo(f, debug); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

const (
	fanoutProfileEnv = "CREDITGATE_FANOUT_PROFILE"
	fanoutListEnv    = "CREDITGATE_FANOUT_ACCOUNTS"
	fanoutURLEnv     = "CREDITGATE_FANOUT_URL"
)

// TestFanoutClients is BenchmarkFanout's client process; it skips unless
// the benchmark started it. It opens one graphql-transport-ws socket per
// line of the accounts file (agency and account id), each with its own
// client-owner token, subscribes each to its account's balance, and reports
// on descriptor 3 (see startFanoutClients) until stdin is closed.
func TestFanoutClients(t *testing.T) {
	list, url := os.Getenv(fanoutListEnv), os.Getenv(fanoutURLEnv)
	if list == "" || url == "" {
		t.Skip("the client process of BenchmarkFanout")
	}
	raiseNoFile()
	raw, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(raw))
	n := len(lines) / 2

	out := make(chan string, 4096)
	report := os.NewFile(3, "report")
	go func() {
		w := bufio.NewWriter(report)
		for line := range out {
			w.WriteString(line)
			w.WriteByte('\n')
			if len(out) == 0 {
				w.Flush()
			}
		}
		w.Flush()
	}()

	heap0, stack0 := memInUse()
	var (
		closing atomic.Bool
		conns   = make([]*websocket.Conn, n)
		next    atomic.Int64
		wg      sync.WaitGroup
		failed  atomic.Bool
	)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() {
					return
				}
				conn, err := fanoutDial(client, url, lines[2*i], lines[2*i+1], i)
				if err != nil {
					failed.Store(true)
					out <- fmt.Sprintf("err socket %d: %v", i, err)
					return
				}
				conns[i] = conn
				go fanoutRead(conn, i, out, &closing)
			}
		}()
	}
	wg.Wait()
	if !failed.Load() {
		heap1, stack1 := memInUse()
		out <- "ready"
		out <- fmt.Sprintf("mem %d %d", int64(heap1)-int64(heap0), int64(stack1)-int64(stack0))
	}
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
	closing.Store(true)
	for _, c := range conns {
		if c != nil {
			c.CloseNow()
		}
	}
	// Readers may still be sending; the channel is left open and the
	// process ends with the test.
	time.Sleep(50 * time.Millisecond)
}

// fanoutDial opens, initialises and subscribes subscriber i.
func fanoutDial(client *http.Client, url, agency, acc string, i int) (*websocket.Conn, error) {
	tok, err := auth.NewToken(testSecret, auth.RoleClientOwner, "fanout-"+strconv.Itoa(i), agency, acc, 2*time.Hour)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/graphql", &websocket.DialOptions{
		HTTPClient:   client,
		Subprotocols: []string{protoTransportWS},
		HTTPHeader:   http.Header{"Origin": []string{url}},
	})
	if err != nil {
		return nil, err
	}
	write := func(m wsMsg) error {
		b, _ := json.Marshal(m)
		return conn.Write(ctx, websocket.MessageText, b)
	}
	if err := write(wsMsg{Type: "connection_init", Payload: mustJSON(map[string]string{"Authorization": "Bearer " + tok})}); err != nil {
		return nil, err
	}
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m wsMsg
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		if m.Type == "connection_ack" {
			break
		}
		if m.Type != "ping" && m.Type != "ka" {
			return nil, fmt.Errorf("answer to connection_init: %s", data)
		}
	}
	if err := write(wsMsg{ID: "1", Type: "subscribe", Payload: mustJSON(map[string]any{"query": balanceSub})}); err != nil {
		return nil, err
	}
	return conn, nil
}

// fanoutRead reports every balance subscriber i reads, stamped as soon as
// the message is read, and answers pings.
func fanoutRead(conn *websocket.Conn, i int, out chan<- string, closing *atomic.Bool) {
	for {
		_, data, err := conn.Read(context.Background())
		at := time.Now().UnixNano()
		if err != nil {
			if !closing.Load() {
				out <- fmt.Sprintf("err socket %d read: %v", i, err)
			}
			return
		}
		var m struct {
			Type    string
			Payload struct {
				Data   *balanceEvent
				Errors json.RawMessage
			}
		}
		if err := json.Unmarshal(data, &m); err != nil {
			out <- fmt.Sprintf("err socket %d: %v", i, err)
			continue
		}
		switch {
		case m.Type == "ping":
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = conn.Write(ctx, websocket.MessageText, []byte(`{"type":"pong"}`))
			cancel()
		case m.Type == "next" && m.Payload.Data != nil:
			out <- fmt.Sprintf("ev %d %s %d", i, m.Payload.Data.BalanceUpdated.Available, at)
		case m.Type == "pong":
		default:
			out <- fmt.Sprintf("err socket %d: %s", i, data)
		}
	}
}
